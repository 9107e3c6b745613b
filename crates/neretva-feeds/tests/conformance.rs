//! IntelMQ 3.5.0's own parser test cases for the block-list and generic parsers, run against
//! Neretva's parsers.
//!
//! The fixtures are in `test_data/intelmq/<provider>/*.json`, one folder per provider of
//! this group ([`PROVIDERS`]). For every run of every case the fixture's bot class is mapped
//! to a Neretva parser ([`parser_for`]; generic parsers are built from the run's
//! `parameters`), each `input` report is read with [`Report::from_intelmq`] and parsed, and
//! every `asserted_messages[].expected` event is compared field by field with
//! [`neretva_event::compare`] (`raw` included when `compare_raw`, and then also
//! `ParsedEvent::raw`). IntelMQ's `observed_output` (everything the bot emitted, asserted or
//! not) is compared too, and so is the number of events. Every difference is printed; the
//! test fails on any difference that [`EXCEPTIONS`] does not list with its reason, on any
//! parse error of a fixture line that [`PARSE_ERRORS`] does not list, and on a listed
//! exception or parse error that no longer occurs.
//!
//! Provenance: `alienvault`, `bambenek`, `danger_rulez`, `fraunhofer`, `generic`, `json`,
//! `key_value` and `vxvault` are copies of the shared reference `fixtures/parsers/`. The
//! reference lacks the modules of the other providers (`blocklistde`, `ci_army`, `cymru`,
//! `dataplane`, `dshield`, `openphish`, `spamhaus`) although its inventory
//! lists them; those files were recorded by running the same IntelMQ 3.5.0 test modules with
//! `tests/support/intelmq_capture.py`, which reproduces the shared fixtures exactly, and
//! say so in their `provenance` key. Their case, message and event counts match the
//! inventory.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use neretva_feeds::parsers::{generic, lists, otx};
use neretva_feeds::{FeedParser, Parsed, Report};

/// The providers whose fixtures this test runs.
const PROVIDERS: &[&str] = &[
    "alienvault",
    "bambenek",
    "blocklistde",
    "ci_army",
    "cymru",
    "danger_rulez",
    "dataplane",
    "dshield",
    "fraunhofer",
    "generic",
    "json",
    "key_value",
    "malwarepatrol",
    "openphish",
    "spamhaus",
    "surbl",
    "vxvault",
];

/// Bot classes found in these providers' fixtures that no parser of this group replaces.
const NOT_OURS: &[(&str, &str)] = &[];

/// Deliberate differences from IntelMQ: (test name suffix, queue position or `None` for
/// any, the difference's start, reason). Each is also documented in the parser's module; the
/// others are shown by the cases in `test_data/{lists,generic,otx}`.
const EXCEPTIONS: &[(&str, Option<usize>, &str, &str)] = &[
    (
        "alienvault.test_parser_otx.TestAlienVaultOTXParserBot.test_event",
        None,
        "extra.adversary:",
        "deliberate: an empty `adversary` is left out of extra; IntelMQ writes it as \"\" but drops \
         it when it reads its own event back",
    ),
    (
        "alienvault.test_parser_otx.TestAlienVaultOTXParserBot.test_event",
        None,
        "time.source:",
        "deliberate: `created` read as it is (in whole seconds); IntelMQ cuts four characters off it, \
     so `2016-11-03T20:15:44` becomes 20:01:00",
    ),
];

/// Every line of a fixture Neretva reports as bad: (test name suffix, line, reason). An
/// unlisted parse error fails the test, so no fixture line is dropped unnoticed.
const PARSE_ERRORS: &[(&str, u64, &str)] = &[
    (
        "dataplane.test_parser.TestDataplaneParserBot.test_ssh_client",
        68,
        "a line with one `  |  ` separator; IntelMQ fails it too (the test allows one error)",
    ),
    (
        "generic.test_parser_csv_invalid_values.TestGenericCsvParserBot.test_invalid_value",
        4,
        "`.` in the required column source.fqdn; IntelMQ fails it too (the test's point)",
    ),
    (
        "dshield.test_parser_asn.TestDShieldASNParserBot.test_event",
        1,
        "deliberate: the test file's HTML licence comment has fewer than six columns; \
         IntelMQ skips such lines silently, Neretva reports them",
    ),
    ("dshield.test_parser_asn.TestDShieldASNParserBot.test_event", 2, "as line 1"),
    ("dshield.test_parser_asn.TestDShieldASNParserBot.test_event", 4, "as line 1"),
    ("dshield.test_parser_asn.TestDShieldASNParserBot.test_event", 5, "as line 1"),
];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/intelmq")
}

enum Mapped {
    Ours(Box<dyn FeedParser>),
    NotOurs(&'static str),
}

/// The Neretva parser replacing an IntelMQ bot class, built from the run's parameters.
fn parser_for(bot: &str, parameters: &serde_json::Value) -> Result<Mapped, String> {
    let class = bot.rsplit('.').next().unwrap_or(bot);
    let no_parameters = || {
        if parameters.as_object().is_none_or(|p| p.is_empty()) {
            Ok(())
        } else {
            Err(format!("{class} takes no parameters, got {parameters}"))
        }
    };
    let parser: Box<dyn FeedParser> = match class {
        "SpamhausDropParserBot" => Box::new(lists::SpamhausDrop),
        "SurblParserBot" => Box::new(lists::Surbl),
        "DansParserBot" => Box::new(lists::MalwarePatrol),
        "SpamhausCERTParserBot" => Box::new(lists::SpamhausCert),
        "BlockListDEParserBot" => Box::new(lists::BlocklistDe),
        "CIArmyParserBot" => Box::new(lists::CiArmy),
        "DshieldBlockParserBot" => Box::new(lists::DshieldBlock),
        "DShieldASNParserBot" => Box::new(lists::DshieldAsn),
        "DataplaneParserBot" => Box::new(lists::Dataplane),
        "OpenPhishParserBot" => Box::new(lists::OpenPhish),
        "OpenPhishCommercialParserBot" => Box::new(lists::OpenPhishCommercial),
        "BambenekParserBot" => Box::new(lists::Bambenek),
        "AlienVaultParserBot" => Box::new(lists::AlienVault),
        "AlienVaultOTXParserBot" => Box::new(otx::OtxParser),
        "CymruCAPProgramParserBot" => Box::new(lists::CymruCap),
        "CymruFullBogonsParserBot" => Box::new(lists::CymruFullBogons),
        "BruteForceBlockerParserBot" => Box::new(lists::DangerRulez),
        "FraunhoferDGAParserBot" => Box::new(lists::FraunhoferDga),
        "VXVaultParserBot" => Box::new(lists::VxVault),
        "GenericCsvParserBot" | "JSONParserBot" | "KeyValueParserBot" => {
            let name = match class {
                "JSONParserBot" => "intelmq-json",
                "KeyValueParserBot" => "key-value",
                _ => "generic-csv",
            };
            return match generic::configured(name, parameters) {
                Some(Ok(parser)) => Ok(Mapped::Ours(parser)),
                Some(Err(errors)) => Err(format!("{name} parameters {parameters}: {errors:?}")),
                None => Err(format!("{name} is not configurable")),
            };
        }
        other => {
            return match NOT_OURS.iter().find(|(name, _)| *name == other) {
                Some((_, reason)) => Ok(Mapped::NotOurs(reason)),
                None => Err(format!("unknown bot class {bot}: map it in parser_for or list it in NOT_OURS")),
            };
        }
    };
    no_parameters()?;
    Ok(Mapped::Ours(parser))
}

fn fixture_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for provider in PROVIDERS {
        let Ok(entries) = std::fs::read_dir(data_dir().join(provider)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The differences of one run, each prefixed with the queue position it concerns, and
/// its parse errors.
fn check_run(
    parser: &dyn FeedParser,
    run: &serde_json::Value,
) -> (Vec<(Option<usize>, String)>, Vec<neretva_feeds::ParseError>) {
    let mut differences = Vec::new();
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for input in run["input"].as_array().into_iter().flatten() {
        let report = match Report::from_intelmq(input) {
            Ok(report) => report,
            Err(problems) => {
                differences.push((None, format!("input report: {problems:?}")));
                continue;
            }
        };
        let Parsed { events: parsed_events, errors: parsed_errors, .. } = parser.parse(&report);
        events.extend(parsed_events);
        errors.extend(parsed_errors);
    }
    for asserted in run["asserted_messages"].as_array().into_iter().flatten() {
        let position = asserted["queue_pos"].as_u64().unwrap_or(0) as usize;
        let path = asserted["path"].as_str().unwrap_or("_default");
        if path != "_default" {
            differences.push((Some(position), format!("asserted on queue {path:?}")));
            continue;
        }
        let compare_raw = asserted["compare_raw"].as_bool().unwrap_or(true);
        let expected = &asserted["expected"];
        let Some(actual) = events.get(position) else {
            differences.push((Some(position), "missing: no event at this position".to_owned()));
            continue;
        };
        for difference in neretva_event::compare(expected, &actual.event, compare_raw) {
            differences.push((Some(position), difference));
        }
        if compare_raw {
            let ours = base64::engine::general_purpose::STANDARD.encode(actual.raw.as_bytes());
            if expected["raw"].as_str() != Some(ours.as_str()) {
                differences.push((
                    Some(position),
                    format!(
                        "ParsedEvent.raw: base64 {ours} differs from the expected raw {}",
                        expected["raw"]
                    ),
                ));
            }
        }
    }
    let observed = run["observed_output"]["_default"].as_array().cloned().unwrap_or_default();
    if observed.len() != events.len() {
        differences.push((
            None,
            format!("count: IntelMQ emitted {} events, Neretva {}", observed.len(), events.len()),
        ));
    }
    for (position, (expected, actual)) in observed.iter().zip(&events).enumerate() {
        for difference in neretva_event::compare(expected, &actual.event, true) {
            differences.push((Some(position), format!("observed: {difference}")));
        }
    }
    (differences, errors)
}

/// A difference cut to a readable length.
fn shorten(text: &str) -> String {
    const MAX: usize = 400;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// The listed exception a difference is, if any; one listed for a field covers both the asserted
/// and the observed event's difference in it.
fn exception(test: &str, position: Option<usize>, difference: &str) -> Option<usize> {
    let field_difference = difference.strip_prefix("observed: ").unwrap_or(difference);
    EXCEPTIONS.iter().position(|(name, at, start, _)| {
        test.ends_with(name) && (at.is_none() || *at == position) && field_difference.starts_with(start)
    })
}

#[test]
fn intelmq_fixtures() {
    let files = fixture_files();
    assert!(!files.is_empty(), "no fixtures under {}", data_dir().display());
    let mut failures = Vec::new();
    let mut used_exceptions = vec![false; EXCEPTIONS.len()];
    let mut used_parse_errors = vec![false; PARSE_ERRORS.len()];
    let (mut passed, mut failed, mut not_ours, mut messages) = (0, 0, 0, 0);
    for file in &files {
        let name = file.strip_prefix(data_dir()).unwrap_or(file).display().to_string();
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let fixture: serde_json::Value = match serde_json::from_str(&text) {
            Ok(fixture) => fixture,
            Err(error) => {
                failures.push(format!("{name}: not JSON: {error}"));
                continue;
            }
        };
        for case in fixture["cases"].as_array().into_iter().flatten() {
            let test = case["test"].as_str().unwrap_or("?");
            for (index, run) in case["runs"].as_array().into_iter().flatten().enumerate() {
                let bot = run["bot"].as_str().unwrap_or("?");
                let parser = match parser_for(bot, &run["parameters"]) {
                    Ok(Mapped::Ours(parser)) => parser,
                    Ok(Mapped::NotOurs(reason)) => {
                        eprintln!("not ours: {name} {test}: {bot}: {reason}");
                        not_ours += 1;
                        continue;
                    }
                    Err(error) => {
                        failures.push(format!("{name} {test} run {index}: {error}"));
                        failed += 1;
                        continue;
                    }
                };
                messages += run["asserted_messages"].as_array().map_or(0, Vec::len);
                let mut run_failed = false;
                let (differences, errors) = check_run(parser.as_ref(), run);
                for error in errors {
                    let listed = PARSE_ERRORS
                        .iter()
                        .position(|(name, line, _)| test.ends_with(name) && *line == error.line);
                    match listed {
                        Some(listed) => {
                            used_parse_errors[listed] = true;
                            eprintln!(
                                "listed parse error: {name} {test}: {error} ({})",
                                PARSE_ERRORS[listed].2
                            );
                        }
                        None => {
                            run_failed = true;
                            failures
                                .push(format!("{name} {test} run {index}: unlisted parse error: {error}"));
                        }
                    }
                }
                for (position, difference) in differences {
                    let at = position.map_or_else(String::new, |p| format!(" #{p}"));
                    match exception(test, position, &difference) {
                        Some(listed) => {
                            used_exceptions[listed] = true;
                            eprintln!(
                                "known difference: {name} {test}{at}: {difference} ({})",
                                EXCEPTIONS[listed].3
                            );
                        }
                        None => {
                            run_failed = true;
                            failures.push(format!(
                                "{name} {test} run {index}{at} [{}]: {}",
                                parser.name(),
                                shorten(&difference)
                            ));
                        }
                    }
                }
                if run_failed {
                    failed += 1;
                } else {
                    passed += 1;
                }
            }
        }
    }
    for (listed, used) in used_exceptions.iter().enumerate() {
        if !used {
            failures.push(format!("stale exception (no longer differs): {:?}", EXCEPTIONS[listed]));
        }
    }
    for (listed, used) in used_parse_errors.iter().enumerate() {
        if !used {
            failures
                .push(format!("stale parse error entry (no longer reported): {:?}", PARSE_ERRORS[listed]));
        }
    }
    eprintln!(
        "IntelMQ fixtures: {} files, {passed} runs passed, {failed} failed, {not_ours} not ours, \
         {messages} asserted messages",
        files.len()
    );
    for failure in &failures {
        eprintln!("FAIL {failure}");
    }
    assert!(failures.is_empty(), "{} differences from IntelMQ", failures.len());
}
