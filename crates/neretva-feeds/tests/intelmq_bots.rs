//! Neretva's own parser cases give the events IntelMQ 3.5.0's own parser bots give.
//!
//! Runs when `NERETVA_TEST_INTELMQ_PYTHON` names a Python with IntelMQ 3.5.0 installed (CI's
//! `.ci/run` sets it), and then fails on any difference. IntelMQ's fixtures pin its behaviour
//! on IntelMQ's inputs; this runs IntelMQ on Neretva's: every `ok` case of the block-list,
//! Shadowserver, Feodo Tracker, PhishTank, Microsoft CTIP and Bing URLs, n6, Zone-H, Have I
//! Been Pwned, CZ.NIC HaaS, Turris greylist, ESET, key-value and IntelMQ JSON parsers
//! (`test_data/<group>/<parser>/ok/*`) goes through the matching IntelMQ bot in IntelMQ's own
//! bot test harness (`tests/intelmq/run_parsers.py`), and its events must equal the case's
//! expected events field by field, in order (`time.observation` and `feed.name` aside: IntelMQ
//! stamps the time of the run, and the case's report names its feed). [`EXTENSIONS`] lists the
//! cases IntelMQ cannot parse at all, with the reason; each must still differ. `err` cases are
//! not compared: there Neretva keeps the good lines of a report IntelMQ drops as a whole, as the
//! parsers' module docs say.
//!
//! IntelMQ's harness refuses to run as root; the script answers that check itself (see there).

// A test: a failed read or an unexpected answer is a failure; the summary line is its output.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value, json};

/// Neretva's parser (the case directory) and the IntelMQ bot module it replaces.
const BOTS: &[(&str, &str)] = &[
    ("lists/alienvault", "alienvault.parser"),
    ("lists/bambenek", "bambenek.parser"),
    ("lists/blocklistde", "blocklistde.parser"),
    ("lists/ci-army", "ci_army.parser"),
    ("lists/cymru-cap", "cymru.parser_cap_program"),
    ("lists/cymru-full-bogons", "cymru.parser_full_bogons"),
    ("lists/danger-rulez", "danger_rulez.parser"),
    ("lists/dataplane", "dataplane.parser"),
    ("lists/dshield-asn", "dshield.parser_asn"),
    ("lists/dshield-block", "dshield.parser_block"),
    ("lists/openphish", "openphish.parser"),
    ("lists/openphish-commercial", "openphish.parser_commercial"),
    ("lists/spamhaus-cert", "spamhaus.parser_cert"),
    ("lists/spamhaus-drop", "spamhaus.parser_drop"),
    ("lists/surbl", "surbl.parser"),
    ("lists/malwarepatrol", "malwarepatrol.parser_dansguardian"),
    ("lists/fraunhofer-dga", "fraunhofer.parser_dga"),
    ("lists/vxvault", "vxvault.parser"),
    ("shadowserver/shadowserver", "shadowserver.parser"),
    ("abusech/abusech-feodotracker", "abusech.parser_feodotracker"),
    ("phishtank/phishtank", "phishtank.parser"),
    ("microsoft/microsoft-ctip", "microsoft.parser_ctip"),
    ("microsoft/microsoft-bingmurls", "microsoft.parser_bingmurls"),
    ("n6/n6", "n6.parser_n6stomp"),
    ("zoneh/zoneh", "zoneh.parser"),
    ("cert_eu/cert-eu", "cert_eu.parser_csv"),
    ("shodan/shodan", "shodan.parser"),
    ("anubisnetworks/anubisnetworks", "anubisnetworks.parser"),
    ("certstream/certstream", "calidog.parser_certstream"),
    ("otx/alienvault-otx", "alienvault.parser_otx"),
    ("hibp/hibp-callback", "hibp.parser_callback"),
    ("cznic/cznic-haas", "cznic.parser_haas"),
    ("cznic/cznic-proki", "cznic.parser_proki"),
    ("cznic/turris-greylist", "turris.parser"),
    ("eset/eset", "eset.parser"),
    ("generic/intelmq-json", "json.parser"),
    ("generic/key-value", "key_value.parser"),
];

/// Cases of what Neretva reads and IntelMQ 3.5.0 cannot: (case path under `test_data`, reason).
const EXTENSIONS: &[(&str, &str)] = &[
    (
        "certstream/certstream/ok/0002_stream.jsonl",
        "IntelMQ reads one message per report, fails wildcard names and heartbeats",
    ),
    (
        "anubisnetworks/anubisnetworks/ok/0002_stream.jsonl",
        "IntelMQ reads one event per report, not JSON lines",
    ),
    (
        "shodan/shodan/ok/0002_stream.jsonl",
        "IntelMQ reads one banner per report, not JSON lines; it sends a certificate's `O` to `.c`",
    ),
    (
        "otx/alienvault-otx/ok/0002_api_page.json",
        "the API's page object; IntelMQ misreads `created` without milliseconds and writes an empty \
         `adversary`",
    ),
    (
        "cert_eu/cert-eu/ok/0002_unmapped_columns.csv",
        "IntelMQ fails rows with `threat type`, `ns1`, `ns2`, `response` or `recent`",
    ),
    ("lists/bambenek/ok/0003_c2_domains_high.txt", "IntelMQ knows only its nine exact feed URLs"),
    ("lists/cymru-cap/ok/0002_old_format.txt", "IntelMQ fails old-format `spreaders` lines"),
    ("lists/spamhaus-drop/ok/0003_drop_v4_json.txt", "Spamhaus's JSON lists of 2024 are unknown to IntelMQ"),
    ("lists/spamhaus-drop/ok/0004_unknown_url_crlf.txt", "IntelMQ knows only its five exact feed URLs"),
    ("abusech/abusech-feodotracker/ok/0002_ipblocklist.csv", "IntelMQ reads the JSON block list only"),
    ("phishtank/phishtank/ok/0002_online_valid.csv", "IntelMQ reads PhishTank's JSON dump only"),
    (
        "microsoft/microsoft-ctip/ok/0003_azure_in_a_list.json",
        "IntelMQ fails Azure records in a JSON list (it reads only Interflow records there)",
    ),
    (
        "n6/n6/ok/0001_stomp_message.json",
        "IntelMQ also sends the message's event without an address after one per address",
    ),
    ("n6/n6/ok/0002_rest_api_list.json", "IntelMQ reads one n6 message per report, not a list"),
];

/// Fields left out of the comparison.
const IGNORED: &[&str] = &["time.observation", "feed.name", "__type"];

fn test_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

fn comparable(event: &Value) -> Value {
    let mut fields: Map<String, Value> = event.as_object().unwrap().clone();
    fields.retain(|name, _| !IGNORED.contains(&name.as_str()));
    Value::Object(fields)
}

/// The events of a case's `.expected` file (before `--- errors`).
fn expected_events(case: &Path) -> Vec<Value> {
    let mut path = case.as_os_str().to_owned();
    path.push(".expected");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .take_while(|line| !line.starts_with("--- "))
        .filter(|line| line.starts_with('{'))
        .map(|line| comparable(&serde_json::from_str(line).unwrap()))
        .collect()
}

fn repository_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// A scratch directory for one IntelMQ run, with IntelMQ's root directory holding the
/// Shadowserver schema Neretva embeds where IntelMQ's bot looks for it.
struct Scratch {
    dir: PathBuf,
    python: std::ffi::OsString,
}

impl Scratch {
    fn new(name: &str, python: std::ffi::OsString) -> Scratch {
        let dir = std::env::temp_dir().join(format!("neretva-intelmq-{name}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("reports")).unwrap();
        std::fs::create_dir_all(dir.join("root/var/lib/bots")).unwrap();
        std::fs::copy(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/shadowserver-intelmq.json"),
            dir.join("root/var/lib/bots/shadowserver-schema.json"),
        )
        .unwrap();
        Scratch { dir, python }
    }

    /// Runs a script of `tests/intelmq/` with IntelMQ's Python in the scratch directory; its
    /// standard output.
    fn python(&self, script: &str, args: &[&Path]) -> Vec<u8> {
        let output = Command::new(&self.python)
            .arg(repository_file(&format!("tests/intelmq/{script}")))
            .args(args)
            .env("INTELMQ_ROOT_DIR", self.dir.join("root"))
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "{script} failed: {}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    }

    /// Runs `tests/intelmq/run_parsers.py` on the manifest; what each bot emitted, by id.
    fn run_bots(&self, manifest: &[Value]) -> Value {
        let manifest_path = self.dir.join("manifest.json");
        std::fs::write(&manifest_path, serde_json::to_vec(manifest).unwrap()).unwrap();
        let output_path = self.dir.join("output.json");
        self.python("run_parsers.py", &[&manifest_path, &output_path]);
        serde_json::from_slice(&std::fs::read(&output_path).unwrap()).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The differences between Neretva's events and IntelMQ's, field by field.
fn differences(ours: &[Value], theirs: &[Value]) -> String {
    let mut text = format!("{} events, IntelMQ {}", ours.len(), theirs.len());
    for (index, (a, b)) in ours.iter().zip(theirs).enumerate() {
        for (field, value) in a.as_object().unwrap() {
            if b.get(field) != Some(value) {
                text.push_str(&format!("\n  event {index}: {field}: {value} / IntelMQ {:?}", b.get(field)));
            }
        }
        for (field, value) in b.as_object().unwrap() {
            if a.get(field).is_none() {
                text.push_str(&format!("\n  event {index}: {field}: only IntelMQ, {value}"));
            }
        }
    }
    text
}

/// The bots these cases run are the ones the library names for its parsers
/// (`neretva_feeds::INTELMQ_BOTS`, which `neretva feeds list` shows).
#[test]
fn the_bots_run_are_the_ones_the_parsers_replace() {
    for (dir, bot) in BOTS {
        let parser = dir.rsplit('/').next().unwrap();
        assert_eq!(neretva_feeds::intelmq_bot(parser), Some(*bot), "{dir}");
    }
}

#[test]
fn intelmq_bots_agree_with_the_parser_cases() {
    let Some(python) = std::env::var_os("NERETVA_TEST_INTELMQ_PYTHON") else { return };
    let scratch = Scratch::new("bots", python);
    let work = &scratch.dir;

    let mut manifest = Vec::new();
    let mut cases = Vec::new();
    for (dir, bot) in BOTS {
        let mut files: Vec<PathBuf> = std::fs::read_dir(test_data().join(dir).join("ok"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext != "expected"))
            .collect();
        files.sort();
        for file in files {
            let name = file.strip_prefix(test_data()).unwrap().to_string_lossy().into_owned();
            let mut data = std::fs::read(&file).unwrap();
            let mut report = Map::new();
            // The registered `intelmq-json` parser reads lines; `@config` gives IntelMQ's own
            // parameters (`splitlines`, `multiple_events`).
            let mut parameters =
                if *dir == "generic/intelmq-json" { json!({"splitlines": true}) } else { json!({}) };
            // Cases start with `@key value` lines of report metadata.
            while data.first() == Some(&b'@') {
                let end = data.iter().position(|&b| b == b'\n').map_or(data.len(), |i| i + 1);
                let line = String::from_utf8(data[1..end].to_vec()).unwrap();
                let (key, value) = line.trim_end().split_once(' ').unwrap_or((line.trim_end(), ""));
                match key {
                    "feed.url" => {
                        report.insert(key.to_owned(), json!(value));
                    }
                    "config" => parameters = serde_json::from_str(value).unwrap(),
                    _ => {}
                }
                data.drain(..end);
            }
            if dir.starts_with("eset") {
                // IntelMQ's ESET collector names the feed; Neretva's cases let the parser tell it
                // from the objects, and their names say which it is.
                let urls = file.to_string_lossy().contains("_urls");
                let feed = if urls { "ei.urls (json)" } else { "ei.domains v2 (json)" };
                report.insert("extra.eset_feed".to_owned(), json!(feed));
            }
            if dir.starts_with("anubisnetworks") {
                // IntelMQ's bot needs the stream's URL (it cuts the key off); Neretva's does not.
                report.insert("feed.url".to_owned(), json!("https://prod.cyberfeed.net/stream?key=secret"));
            }
            if dir.starts_with("shadowserver") {
                // As the parser's own cases name the report: `0001_scan_dns.csv` is `scan_dns`.
                let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
                let kind = stem.split_once('_').map_or(stem.as_str(), |(_, rest)| rest).to_owned();
                report.insert("extra.file_name".to_owned(), json!(format!("2024-05-01-{kind}.csv")));
            }
            let raw = work.join("reports").join(cases.len().to_string());
            std::fs::write(&raw, &data).unwrap();
            manifest.push(json!({
                "id": name,
                "bot": format!("intelmq.bots.parsers.{bot}"),
                "file": raw,
                "report": report,
                "parameters": parameters,
            }));
            cases.push((name, file));
        }
    }
    assert!(cases.len() > 30, "the parser cases are missing: {}", cases.len());
    let results = scratch.run_bots(&manifest);

    let mut problems = Vec::new();
    let mut same = 0;
    for (name, file) in &cases {
        let result = &results[name];
        let theirs: Vec<Value> = result["events"].as_array().unwrap().iter().map(comparable).collect();
        let ours = expected_events(file);
        let extension = EXTENSIONS.iter().find(|(case, _)| case == name);
        match (ours == theirs, extension) {
            (true, None) => same += 1,
            (true, Some((_, reason))) => {
                problems.push(format!("{name}: listed as an extension ({reason}), but IntelMQ agrees now"))
            }
            (false, Some(_)) => {}
            (false, None) => {
                let mut text = format!("{name}: {}", differences(&ours, &theirs));
                for error in result["errors"].as_array().into_iter().flatten().take(3) {
                    text.push_str(&format!("\n  IntelMQ: {error}"));
                }
                problems.push(text);
            }
        }
    }
    assert!(problems.is_empty(), "{} differences:\n{}", problems.len(), problems.join("\n"));
    println!("{same} cases give IntelMQ 3.5.0's events; {} are Neretva's extensions", EXTENSIONS.len());
}

/// Every report type of the embedded Shadowserver schema, one synthetic row each
/// (`tests/intelmq/shadowserver_rows.py`: plausible values by conversion, field type and column
/// name), gives IntelMQ's event field by field.
#[test]
fn every_shadowserver_report_type_gives_intelmq_events() {
    let Some(python) = std::env::var_os("NERETVA_TEST_INTELMQ_PYTHON") else { return };
    let scratch = Scratch::new("shadowserver", python);
    let reports = scratch.dir.join("reports");
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/shadowserver-intelmq.json");
    scratch.python("shadowserver_rows.py", &[&schema, &reports]);
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&reports).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 170, "one report per report type: {}", files.len());
    let name_of = |file: &Path| file.file_name().unwrap().to_string_lossy().into_owned();
    let manifest: Vec<Value> = files
        .iter()
        .map(|file| {
            json!({
                "id": name_of(file),
                "bot": "intelmq.bots.parsers.shadowserver.parser",
                "file": file,
                "report": {"extra.file_name": name_of(file)},
            })
        })
        .collect();
    let results = scratch.run_bots(&manifest);
    let parser = neretva_feeds::parser("shadowserver").unwrap();
    let mut problems = Vec::new();
    let mut with_events = 0;
    for file in &files {
        let name = name_of(file);
        let mut report = neretva_feeds::Report::new("", None, std::fs::read(file).unwrap());
        report.extra.push(("file_name".to_owned(), json!(name)));
        let parsed = parser.parse(&report);
        let ours: Vec<Value> = parsed
            .events
            .iter()
            .map(|event| {
                comparable(
                    &serde_json::from_str(&neretva_event::intelmq_json::to_line(&event.event)).unwrap(),
                )
            })
            .collect();
        let theirs: Vec<Value> =
            results[&name]["events"].as_array().unwrap().iter().map(comparable).collect();
        if ours != theirs {
            problems.push(format!("{name}: {}", differences(&ours, &theirs)));
        }
        with_events += usize::from(!ours.is_empty());
    }
    assert!(problems.is_empty(), "{} report types differ:\n{}", problems.len(), problems.join("\n"));
    // The rows are plausible enough that (nearly) every type yields its event on both sides.
    assert!(
        with_events + 5 >= files.len(),
        "only {with_events} of {} report types gave an event",
        files.len()
    );
    println!(
        "{} Shadowserver report types give IntelMQ 3.5.0's events ({with_events} with an event)",
        files.len()
    );
}
