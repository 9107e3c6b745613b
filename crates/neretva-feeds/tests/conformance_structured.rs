//! IntelMQ 3.5.0's own test cases for the structured-feed parsers (Shadowserver, abuse.ch,
//! PhishTank, MISP, Microsoft CTIP, n6, Zone-H, CERT-EU, Shodan, AnubisNetworks, CertStream, Have I Been Pwned, CZ.NIC HaaS and
//! Proki, the Turris greylist, ESET, STIX), run against Neretva's parsers (AlienVault OTX's fixture is run
//! with the lists' in `conformance.rs`, beside the reputation list's).
//!
//! The fixtures are copies of `fixtures/parsers/<provider>/*.json` in `test_data/intelmq/`.
//! Each run's `input` reports are parsed with [`Report::from_intelmq`] by the parser mapped to
//! the fixture's bot class (with the bot's `parameters`), and every `asserted_messages[].expected`
//! event is compared field by field with [`neretva_event::compare`] (`raw` when `compare_raw`).
//! IntelMQ's `observed_output` (everything the bot emitted, asserted or not) is compared as well.
//! Every difference is printed and fails the test unless [`EXCEPTIONS`] lists it with a reason.
//!
//! The reference copy lacks four modules its inventory lists: `abusech/test_parser_feodotracker`,
//! `phishtank/test_parser`, `shadowserver/test_report_switch` and `shadowserver/test_report_telnet`.
//! Those were recorded by running the same IntelMQ 3.5.0 test modules with
//! `tests/support/intelmq_capture.py` and say so in their `provenance` key; their case, message
//! and event counts match the inventory. IntelMQ has no STIX parser and no test of the other
//! abuse.ch formats; Neretva's own cases in `test_data/<group>/` cover those parsers.

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};

use neretva_feeds::parsers::abusech::FeodoTrackerParser;
use neretva_feeds::parsers::anubisnetworks::AnubisNetworksParser;
use neretva_feeds::parsers::cert_eu::CertEuParser;
use neretva_feeds::parsers::certstream::CertStreamParser;
use neretva_feeds::parsers::cznic::{HaasParser, ProkiParser, TurrisGreylistParser};
use neretva_feeds::parsers::eset::EsetParser;
use neretva_feeds::parsers::hibp::HibpCallbackParser;
use neretva_feeds::parsers::microsoft::{BingMurlsParser, CtipParser};
use neretva_feeds::parsers::misp_feed::MispFeedParser;
use neretva_feeds::parsers::n6::N6Parser;
use neretva_feeds::parsers::phishtank::PhishTankParser;
use neretva_feeds::parsers::shadowserver::ShadowserverParser;
use neretva_feeds::parsers::shodan::ShodanParser;
use neretva_feeds::parsers::zoneh::ZoneHParser;
use neretva_feeds::{FeedParser, Report};

mod support {
    pub(crate) mod invariants;
}

/// Deliberate differences: (fixture file, test name suffix, field or `*`, reason).
const EXCEPTIONS: &[(&str, &str, &str, &str)] = &[
    (
        "n6/test_parser.json",
        "test_blacklist",
        "*",
        "IntelMQ's bot also sends the event without an address after the address's (its `for … else` \
         always runs); Neretva sends one event per address",
    ),
    ("n6/test_parser.json", "test_event", "*", "as test_blacklist"),
];

/// Parser options that differ from Neretva's defaults for a fixture, with the reason.
const PARSER_CHOICES: &[(&str, &str)] = &[
    (
        "MISPParserBot",
        "MispFeedParser::intelmq_compatible(): Neretva's default emits only to_ids attributes and \
         maps more types, objects, rsit and tlp tags; IntelMQ emits every attribute of a supported \
         category and type (the fixture's attribute has to_ids false)",
    ),
    (
        "ShadowserverParserBot",
        "ShadowserverParser::from_schema_json(test_data/intelmq/shadowserver/schema.json.test): \
         IntelMQ's tests run with its test schema (no schema downloaded), reconstructed here",
    ),
];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/intelmq")
}

fn parser_for(bot: &str, parameters: &serde_json::Value) -> Option<Box<dyn FeedParser>> {
    let class = bot.rsplit('.').next().unwrap_or(bot);
    match class {
        "ShadowserverParserBot" => {
            let schema = std::fs::read(data_dir().join("shadowserver/schema.json.test")).ok()?;
            let parser = ShadowserverParser::from_schema_json(&schema)
                .unwrap_or_else(|errors| panic!("test schema: {errors:?}"))
                .with_intelmq_parameters(parameters);
            Some(Box::new(parser))
        }
        "MISPParserBot" => Some(Box::new(MispFeedParser::intelmq_compatible())),
        "AnubisNetworksParserBot" => {
            Some(Box::new(AnubisNetworksParser::default().with_intelmq_parameters(parameters)))
        }
        "CertStreamParserBot" => Some(Box::new(CertStreamParser)),
        "ShodanParserBot" => Some(Box::new(ShodanParser::default().with_intelmq_parameters(parameters))),
        "AbusechFeodoTrackerParserBot" => Some(Box::new(FeodoTrackerParser)),
        "PhishTankParserBot" => Some(Box::new(PhishTankParser)),
        "N6StompParserBot" => Some(Box::new(N6Parser)),
        "MicrosoftBingMurlsParserBot" => Some(Box::new(BingMurlsParser)),
        "ZoneHParserBot" => Some(Box::new(ZoneHParser)),
        "CertEUCSVParserBot" => Some(Box::new(CertEuParser)),
        "HIBPCallbackParserBot" => Some(Box::new(HibpCallbackParser)),
        "CZNICHaasParserBot" => Some(Box::new(HaasParser)),
        "CZNICProkiParserBot" => Some(Box::new(ProkiParser)),
        "ESETParserBot" => Some(Box::new(EsetParser::default())),
        "TurrisGreylistParserBot" => Some(Box::new(TurrisGreylistParser)),
        "MicrosoftCTIPParserBot" => Some(Box::new(CtipParser::default().with_intelmq_parameters(parameters))),
        _ => None,
    }
}

fn is_exception(file: &str, test: &str, difference: &str) -> Option<&'static str> {
    EXCEPTIONS.iter().find_map(|(f, t, field, reason)| {
        (*f == file && test.ends_with(t) && (*field == "*" || difference.starts_with(&format!("{field}:"))))
            .then_some(*reason)
    })
}

#[test]
fn intelmq_fixtures() {
    for (class, reason) in PARSER_CHOICES {
        println!("parser choice for {class}: {reason}");
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for provider in [
        "shadowserver",
        "abusech",
        "phishtank",
        "misp",
        "microsoft",
        "n6",
        "zoneh",
        "cert_eu",
        "shodan",
        "anubisnetworks",
        "calidog",
        "hibp",
        "cznic",
        "turris",
        "eset",
    ] {
        let Ok(entries) = std::fs::read_dir(data_dir().join(provider)) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no fixtures found");
    let mut failures = Vec::new();
    let (mut runs, mut asserted, mut observed) = (0, 0, 0);
    for path in &files {
        let file = format!(
            "{}/{}",
            path.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy()).unwrap_or_default(),
            path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
        );
        let fixture: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).expect("read fixture")).expect("fixture JSON");
        for case in fixture["cases"].as_array().expect("cases") {
            let test = case["test"].as_str().unwrap_or("?");
            for run in case["runs"].as_array().expect("runs") {
                let bot = run["bot"].as_str().unwrap_or("?");
                let parameters = &run["parameters"];
                let Some(parser) = parser_for(bot, parameters) else {
                    failures.push(format!("{file} {test}: no Neretva parser for {bot}"));
                    continue;
                };
                runs += 1;
                let mut events = Vec::new();
                let mut errors = Vec::new();
                for input in run["input"].as_array().expect("input") {
                    let report = Report::from_intelmq(input)
                        .unwrap_or_else(|e| panic!("{file} {test}: bad input report: {e:?}"));
                    let parsed = parser.parse(&report);
                    events.extend(parsed.events);
                    errors.extend(parsed.errors);
                }
                for e in &errors {
                    println!("{file} {test}: parse error (as IntelMQ logs one): {e}");
                }
                let mut report_differences = |what: &str, index: usize, differences: Vec<String>| {
                    for difference in differences {
                        match is_exception(&file, test, &difference) {
                            Some(reason) => {
                                println!("{file} {test} {what} {index}: {difference} (exception: {reason})")
                            }
                            None => failures.push(format!("{file} {test} {what} {index}: {difference}")),
                        }
                    }
                };
                for message in run["asserted_messages"].as_array().expect("asserted_messages") {
                    asserted += 1;
                    let index = message["queue_pos"].as_u64().unwrap_or(0) as usize;
                    let compare_raw = message["compare_raw"].as_bool().unwrap_or(true);
                    let differences = match events.get(index) {
                        Some(actual) => {
                            neretva_event::compare(&message["expected"], &actual.event, compare_raw)
                        }
                        None => vec![format!("no event at position {index} (got {})", events.len())],
                    };
                    report_differences("asserted", index, differences);
                }
                let outputs = run["observed_output"]["_default"].as_array().cloned().unwrap_or_default();
                if outputs.len() != events.len() {
                    report_differences(
                        "observed",
                        0,
                        vec![format!("IntelMQ emitted {} events, Neretva {}", outputs.len(), events.len())],
                    );
                }
                for (index, (expected, actual)) in outputs.iter().zip(&events).enumerate() {
                    observed += 1;
                    report_differences(
                        "observed",
                        index,
                        neretva_event::compare(expected, &actual.event, true),
                    );
                }
            }
        }
    }
    println!(
        "{} fixture files, {runs} runs, {asserted} asserted and {observed} observed events compared",
        files.len()
    );
    for failure in &failures {
        println!("FAIL {failure}");
    }
    assert!(failures.is_empty(), "{} differences from IntelMQ", failures.len());
}

// ---------------------------------------------------------------------------------------------
// Neretva's own data-driven cases: `test_data/<group>/<parser>/{ok,err}/NNNN_name.<ext>` with the
// expected output in `NNNN_name.<ext>.expected` (re-bless with `UPDATE_EXPECT=1`): the events as
// IntelMQ JSON lines, then `--- errors` and one error per line, then the record count. Cases in
// `ok/` must have no errors, cases in `err/` at least one. For the Shadowserver parser the report's
// file name is `2024-05-01-<name>.csv`, so `0001_scan_dns-broken.csv` is a `scan_dns` report.

const GROUPS: &[&str] = &[
    "shadowserver",
    "abusech",
    "phishtank",
    "misp_feed",
    "microsoft",
    "n6",
    "zoneh",
    "cert_eu",
    "shodan",
    "anubisnetworks",
    "certstream",
    "hibp",
    "cznic",
    "eset",
    "otx",
    "stix_indicators",
];

fn observation_time() -> time::OffsetDateTime {
    time::macros::datetime!(2024-05-10 00:00:00 UTC)
}

fn case_report(parser: &str, path: &Path) -> Report {
    let raw = std::fs::read(path).expect("read case");
    let mut report =
        Report::new(if parser == "shadowserver" { "" } else { parser }, Some(observation_time()), raw);
    if parser == "anubisnetworks" {
        // The stream's URL with its key, which the parser cuts off.
        report.feed_url = Some("https://prod.cyberfeed.net/stream?key=secret".to_owned());
    }
    if parser == "shadowserver" {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let name = stem.split_once('_').map_or(stem.as_str(), |(_, rest)| rest).to_owned();
        report
            .extra
            .push(("file_name".to_owned(), serde_json::Value::String(format!("2024-05-01-{name}.csv"))));
    }
    report
}

fn render(parsed: &neretva_feeds::Parsed) -> String {
    let mut out = String::new();
    for event in &parsed.events {
        out.push_str(&neretva_event::intelmq_json::to_line(&event.event));
        out.push('\n');
    }
    out.push_str("--- errors\n");
    for error in &parsed.errors {
        out.push_str(&error.to_string());
        out.push('\n');
    }
    out.push_str(&format!(
        "--- {} records, {} events, {} errors\n",
        parsed.records,
        parsed.events.len(),
        parsed.errors.len()
    ));
    out
}

fn case_files() -> Vec<(String, PathBuf, bool)> {
    case_files_of(GROUPS)
}

/// The data-driven cases of `groups`: (parser, input file, whether it is an `ok` case), sorted
/// by file.
fn case_files_of(groups: &[&str]) -> Vec<(String, PathBuf, bool)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut cases = Vec::new();
    for group in groups {
        let Ok(parsers) = std::fs::read_dir(root.join(group)) else { continue };
        for parser_dir in parsers.flatten() {
            let parser = parser_dir.file_name().to_string_lossy().into_owned();
            for (kind, is_ok) in [("ok", true), ("err", false)] {
                let Ok(entries) = std::fs::read_dir(parser_dir.path().join(kind)) else { continue };
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.extension().is_some_and(|e| e != "expected") {
                        cases.push((parser.clone(), path, is_ok));
                    }
                }
            }
        }
    }
    cases.sort_by(|a, b| a.1.cmp(&b.1));
    cases
}

#[test]
fn data_driven_cases() {
    let cases = case_files();
    assert!(cases.len() >= 30, "expected the data-driven cases, found {}", cases.len());
    let mut problems = Vec::new();
    for (parser_name, path, is_ok) in &cases {
        let parser = neretva_feeds::parser(parser_name).unwrap_or_else(|| panic!("no parser {parser_name}"));
        let parsed = parser.parse(&case_report(parser_name, path));
        if *is_ok && !parsed.errors.is_empty() {
            problems.push(format!("{}: unexpected errors: {:?}", path.display(), parsed.errors));
        }
        if !*is_ok && parsed.errors.is_empty() {
            problems.push(format!("{}: no error", path.display()));
        }
        let mut expected = path.clone().into_os_string();
        expected.push(".expected");
        expect_test::expect_file![PathBuf::from(expected)].assert_eq(&render(&parsed));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_structured_parser_is_registered() {
    for name in [
        "shadowserver",
        "abusech-feodotracker",
        "abusech-urlhaus",
        "abusech-threatfox",
        "phishtank",
        "microsoft-ctip",
        "microsoft-bingmurls",
        "n6",
        "zoneh",
        "cert-eu",
        "shodan",
        "anubisnetworks",
        "certstream",
        "alienvault-otx",
        "hibp-callback",
        "cznic-haas",
        "cznic-proki",
        "turris-greylist",
        "eset",
        "misp-feed",
        "misp-feed-csv",
        "stix-indicators",
    ] {
        let parser = neretva_feeds::parser(name).unwrap_or_else(|| panic!("{name} is not registered"));
        assert!(!parser.description().is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Shadowserver schema coverage.

#[test]
fn embedded_schema_has_every_report_type() {
    let schema: serde_json::Value =
        serde_json::from_str(neretva_feeds::parsers::shadowserver::EMBEDDED_SCHEMA).expect("schema JSON");
    let in_file = schema.as_object().expect("object").keys().filter(|k| !k.starts_with('_')).count();
    let types = neretva_feeds::parsers::shadowserver::shadowserver_report_types();
    assert_eq!(types.len(), in_file);
    assert_eq!(types.len(), 170, "the embedded schema of 2026-03-24 has 170 report types");
    assert!(types.contains(&"scan_dns") && types.contains(&"event4_sinkhole_http"));
    let parser = ShadowserverParser::new();
    assert_eq!(parser.report_types().len(), in_file);
    assert_eq!(parser.schema_date(), Some("2026-03-24T15:31:20Z"));
    assert!(parser.schema_warnings().is_empty(), "{:?}", parser.schema_warnings());
}

#[test]
fn every_schema_function_is_implemented() {
    let schema: serde_json::Value =
        serde_json::from_str(neretva_feeds::parsers::shadowserver::EMBEDDED_SCHEMA).expect("schema JSON");
    let mut names = std::collections::BTreeSet::new();
    for (key, report) in schema.as_object().expect("object") {
        if key.starts_with('_') {
            continue;
        }
        for section in ["required_fields", "optional_fields"] {
            for item in report[section].as_array().into_iter().flatten() {
                if let Some(name) = item.get(2).and_then(|n| n.as_str()) {
                    names.insert(name.to_owned());
                }
            }
        }
    }
    assert!(names.len() >= 18, "{names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| neretva_feeds::parsers::shadowserver::Conversion::from_name(name).is_none())
        .collect();
    assert!(missing.is_empty(), "conversion functions named in the schema but not implemented: {missing:?}");
}

#[test]
fn schema_loader_reports_every_problem() {
    let errors = ShadowserverParser::from_schema_json(
        br#"{"a": {"feed_name": "A", "file_name": "a", "required_fields": [["source.ip", "ip", "no_such_function"]],
                   "optional_fields": [["x"], ["extra.", "y", 5]], "constant_fields": {}},
             "b": {"file_name": "a", "required_fields": []}}"#,
    )
    .expect_err("broken schema");
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(ShadowserverParser::from_schema_json(b"[]").is_err());
    assert!(ShadowserverParser::from_schema_json(b"not json").is_err());
}

#[test]
fn report_type_detection() {
    use neretva_feeds::parsers::shadowserver::report_name_from_file_name as name;
    assert_eq!(name("2019-01-01-scan_dns-bosnia-geo.csv"), Some("scan_dns"));
    assert_eq!(name("scan_dns.csv"), Some("scan_dns"));
    assert_eq!(name("2024-05-01-event4_sinkhole_http.csv"), Some("event4_sinkhole_http"));
    assert_eq!(name("2020.wrong-filename.csv"), None);
    assert_eq!(name("2019-01-01-scan_dns.txt"), None);
    // Configured report types: key, file name or feed name.
    let raw = b"\"timestamp\",\"ip\",\"port\"\n\"2024-05-01 00:00:00\",\"192.0.2.1\",\"53\"\n".to_vec();
    let report = Report::new("whatever", Some(observation_time()), raw);
    for configured in ["scan_dns", "DNS-Open-Resolvers"] {
        let parsed = ShadowserverParser::new().with_report_type(configured).parse(&report);
        assert_eq!((parsed.events.len(), parsed.errors.len()), (1, 0), "{configured}");
        assert_eq!(parsed.events[0].event.get_str("feed.name"), Some("whatever"));
    }
    let parsed = ShadowserverParser::new().with_report_type("scan_dns").with_overwrite(true).parse(&report);
    assert_eq!(parsed.events[0].event.get_str("feed.name"), Some("DNS-Open-Resolvers"));
    // feed.code naming a report type.
    let mut by_code = report.clone();
    by_code.feed_code = Some("scan_dns".to_owned());
    assert_eq!(ShadowserverParser::new().parse(&by_code).events.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Property tests: every parser keeps `support::invariants` (no panic, errors within the report,
// events that read back from IntelMQ JSON, chunks that add up to the whole), whatever the input.

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    /// The data-driven cases of a parser, of this file's groups and of the list and generic
    /// parsers (whose cases `conformance.rs` runs).
    fn samples(parser: &str) -> Vec<Vec<u8>> {
        let groups: Vec<&str> = GROUPS.iter().copied().chain(["lists", "generic"]).collect();
        case_files_of(&groups)
            .into_iter()
            .filter(|(name, _, _)| name == parser)
            .filter_map(|(_, path, _)| std::fs::read(path).ok())
            .collect()
    }

    fn run(parser: &str, input: Vec<u8>) {
        let parser_impl = neretva_feeds::parser(parser).expect("parser");
        let mut report = Report::new("proptest", Some(observation_time()), input);
        if parser == "shadowserver" {
            report
                .extra
                .push(("file_name".to_owned(), serde_json::Value::String("2024-05-01-scan_dns.csv".into())));
        }
        support::invariants::check(parser_impl.as_ref(), &report);
    }

    /// A sample with some bytes replaced, inserted or removed.
    fn mutated(parser: &'static str) -> impl Strategy<Value = Vec<u8>> {
        let samples = samples(parser);
        let count = samples.len().max(1);
        (0..count, proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 0..12)).prop_map(
            move |(index, edits)| {
                let mut bytes = samples.get(index).cloned().unwrap_or_default();
                for (at, byte, kind) in edits {
                    let at = if bytes.is_empty() { 0 } else { at % (bytes.len() + 1) };
                    match kind {
                        0 if at < bytes.len() => bytes[at] = byte,
                        1 => bytes.insert(at, byte),
                        _ if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        _ => {}
                    }
                }
                bytes
            },
        )
    }

    macro_rules! parser_props {
        ($($test:ident => $parser:literal,)*) => {
            proptest! {
                #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
                $(
                    #[test]
                    fn $test(arbitrary in proptest::collection::vec(any::<u8>(), 0..512), sample in mutated($parser)) {
                        run($parser, arbitrary);
                        run($parser, sample);
                    }
                )*
            }
        };
    }

    parser_props! {
        shadowserver => "shadowserver",
        feodotracker => "abusech-feodotracker",
        urlhaus => "abusech-urlhaus",
        threatfox => "abusech-threatfox",
        phishtank => "phishtank",
        microsoft_ctip => "microsoft-ctip",
        microsoft_bingmurls => "microsoft-bingmurls",
        n6 => "n6",
        zoneh => "zoneh",
        cert_eu => "cert-eu",
        shodan => "shodan",
        anubisnetworks => "anubisnetworks",
        certstream => "certstream",
        surbl => "surbl",
        malwarepatrol => "malwarepatrol",
        alienvault_otx => "alienvault-otx",
        hibp_callback => "hibp-callback",
        cznic_haas => "cznic-haas",
        cznic_proki => "cznic-proki",
        turris_greylist => "turris-greylist",
        eset => "eset",
        misp_feed => "misp-feed",
        misp_feed_csv => "misp-feed-csv",
        stix_indicators => "stix-indicators",
        alienvault => "alienvault",
        bambenek => "bambenek",
        blocklistde => "blocklistde",
        ci_army => "ci-army",
        cymru_cap => "cymru-cap",
        cymru_full_bogons => "cymru-full-bogons",
        danger_rulez => "danger-rulez",
        fraunhofer_dga => "fraunhofer-dga",
        vxvault => "vxvault",
        dataplane => "dataplane",
        dshield_asn => "dshield-asn",
        dshield_block => "dshield-block",
        generic_csv => "generic-csv",
        generic_json => "generic-json",
        intelmq_json => "intelmq-json",
        openphish => "openphish",
        openphish_commercial => "openphish-commercial",
        spamhaus_cert => "spamhaus-cert",
        spamhaus_drop => "spamhaus-drop",
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn stix_patterns(pattern in "[\\[\\]()a-z0-9:.' =_-]{0,80}") {
            let bundle = serde_json::json!({"type": "bundle", "objects": [
                {"type": "indicator", "id": "indicator--1", "pattern": pattern, "pattern_type": "stix"}
            ]});
            run("stix-indicators", bundle.to_string().into_bytes());
        }
    }
}

/// Chunked parsing gives the same events and errors as whole-report parsing, whatever the chunk
/// size; only IntelMQ's `raw` field is left to the caller.
#[test]
fn shadowserver_chunks_match_the_whole_report() {
    let mut raw = String::from("\"timestamp\",\"ip\",\"port\",\"tag\"\n");
    for i in 0..23 {
        let ip = if i == 7 { "bad-ip".to_owned() } else { format!("192.0.2.{i}") };
        raw.push_str(&format!("\"2026-11-27 10:00:{i:02}\",\"{ip}\",\"53\",\"openresolver\"\n"));
    }
    let mut report = Report::new("", Some(observation_time()), raw.into_bytes());
    report
        .extra
        .push(("file_name".to_owned(), serde_json::Value::String("2026-11-27-scan_dns-ba-geo.csv".into())));
    let parser = ShadowserverParser::new();
    let whole = parser.parse(&report);
    assert_eq!((whole.records, whole.events.len(), whole.errors.len()), (23, 22, 1));
    for size in [1, 3, 22, 1000] {
        let chunks: Vec<_> = parser.parse_chunks(&report, size).collect();
        assert_eq!(chunks.len(), 23usize.div_ceil(size), "chunk size {size}");
        let events: Vec<_> = chunks.iter().flat_map(|chunk| chunk.events.iter()).collect();
        let errors: Vec<_> = chunks.iter().flat_map(|chunk| chunk.errors.iter()).collect();
        assert_eq!(chunks.iter().map(|c| c.records).sum::<u64>(), 23);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, whole.errors[0].line);
        assert_eq!(events.len(), whole.events.len());
        for (chunked, complete) in events.iter().zip(&whole.events) {
            let mut expected = complete.event.clone();
            expected.remove("raw");
            assert_eq!(
                neretva_event::intelmq_json::to_line(&chunked.event),
                neretva_event::intelmq_json::to_line(&expected)
            );
            assert_eq!(chunked.line, complete.line);
            assert!(complete.raw.ends_with(&chunked.raw), "{:?} / {:?}", chunked.raw, complete.raw);
        }
    }
}
