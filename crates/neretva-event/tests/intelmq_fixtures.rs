//! Runs over every event in IntelMQ 3.5.0's parser test fixtures
//! (`test_data/intelmq-fixtures/parsers/<provider>/*.json`): each expected
//! and observed event must be accepted by `from_line` and written back by
//! `to_line` exactly, value for value and type for type, which shows that
//! the canonical forms here are IntelMQ's. Every input report must be
//! readable by `Report::from_intelmq`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use neretva_event::intelmq_json::{from_line, to_line, to_line_typed};
use neretva_event::{Report, compare};

fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/intelmq-fixtures/parsers");
    let mut files = Vec::new();
    for provider in std::fs::read_dir(&root).expect("fixture directory") {
        let provider = provider.expect("entry").path();
        if !provider.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&provider).expect("provider directory") {
            let file = file.expect("entry").path();
            if file.extension().is_some_and(|e| e == "json") {
                files.push(file);
            }
        }
    }
    files.sort();
    files
}

/// Fixture values that cannot round-trip because IntelMQ is inconsistent:
/// (file, field, value in the fixture, value IntelMQ really writes).
///
/// IntelMQ's test harness (`assertMessageEqual`) never compares
/// `time.observation`, so the test authors' expected values were never
/// checked: these three are not in IntelMQ's canonical form, and IntelMQ's
/// own observed output for the same runs holds the UTC form written here.
const KNOWN_INCONSISTENT: &[(&str, &str, &str, &str)] = &[
    (
        "ioc_extractor/test_parser.json",
        "time.observation",
        "2015-09-14T12:00:00+02:00",
        "2015-09-14T10:00:00+00:00",
    ),
    (
        "key_value/test_parser.json",
        "time.observation",
        "2020-09-11T10:40:18+02:00",
        "2020-09-11T08:40:18+00:00",
    ),
    (
        "n6/test_parser.json",
        "time.observation",
        "2015-11-17T12:17:27.043452Z",
        "2015-11-17T12:17:27.043452+00:00",
    ),
];

/// The known inconsistency for this file, field and fixture value.
fn known(file: &str, field: &str, value: &serde_json::Value) -> Option<&'static str> {
    KNOWN_INCONSISTENT
        .iter()
        .find(|(f, k, v, _)| file.ends_with(f) && *k == field && value.as_str() == Some(*v))
        .map(|(_, _, _, written)| *written)
}

/// Python's outputs for every fixture event (`data/python_reference.py`):
/// (file, event) → (SHA-256 of `json.dumps(...)`, IntelMQ's `hash()` or "-").
fn python_reference() -> HashMap<(String, String), (String, String)> {
    let text = include_str!("../test_data/python_dumps.txt");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let parts: Vec<&str> = line.split('\t').collect();
            assert_eq!(parts.len(), 4, "{line}");
            ((parts[0].to_owned(), parts[1].to_owned()), (parts[2].to_owned(), parts[3].to_owned()))
        })
        .collect()
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

struct Tally {
    reference: HashMap<(String, String), (String, String)>,
    python_lines: usize,
    python_hashes: usize,
    events: usize,
    known: usize,
    reports: usize,
    failures: Vec<String>,
}

fn check_event(tally: &mut Tally, file: &str, what: &str, expected: &serde_json::Value) {
    tally.events += 1;
    let line = serde_json::to_string(expected).expect("serialise");
    let event = match from_line(&line) {
        Ok(event) => event,
        Err(errors) => {
            for e in errors {
                tally.failures.push(format!("{file} {what}: rejected: {e}"));
            }
            return;
        }
    };
    let mut without_type = expected.clone();
    if let Some(map) = without_type.as_object_mut() {
        map.remove("__type");
    }
    let written = to_line(&event);
    let reparsed: serde_json::Value = serde_json::from_str(&written).expect("own output is JSON");
    // Strict equality: 52 and 52.0 differ here, as they do in IntelMQ's text.
    if reparsed != without_type {
        let map = without_type.as_object().expect("object");
        for (key, value) in map {
            let wrote = reparsed.get(key);
            if let Some(written) = known(file, key, value) {
                tally.known += 1;
                assert_eq!(wrote, Some(&serde_json::json!(written)), "{file} {what}");
                continue;
            }
            if wrote != Some(value) {
                tally
                    .failures
                    .push(format!("{file} {what}: {key}: expected {value}, wrote {:?}", reparsed.get(key)));
            }
        }
    }
    // The text is exactly Python's json.dumps(..., ensure_ascii=False,
    // sort_keys=True), IntelMQ's to_json(), and the hash is IntelMQ's hash().
    let (line_sha, intelmq_hash) = tally
        .reference
        .get(&(file.to_owned(), what.to_owned()))
        .cloned()
        .unwrap_or_else(|| panic!("no Python reference for {file} {what}"));
    if sha256_hex(&written) == line_sha {
        tally.python_lines += 1;
    } else {
        tally.failures.push(format!("{file} {what}: line differs from Python's: {written}"));
    }
    if intelmq_hash != "-" {
        if event.event_hash() == intelmq_hash {
            tally.python_hashes += 1;
        } else {
            tally.failures.push(format!("{file} {what}: event_hash differs from IntelMQ's"));
        }
    }
    let typed = to_line_typed(&event, "Event");
    let typed_back: serde_json::Value = serde_json::from_str(&typed).expect("typed JSON");
    assert_eq!(typed_back.get("__type"), Some(&serde_json::json!("Event")));
    let differences = compare(expected, &event, true);
    if !differences.is_empty() {
        tally.failures.push(format!("{file} {what}: compare: {differences:?}"));
    }
    // Reading our own line gives the same event.
    let again = from_line(&written).expect("own line");
    assert_eq!(again, event, "{file} {what}: second round trip");
}

#[test]
fn every_fixture_event_round_trips() {
    let mut tally = Tally {
        reference: python_reference(),
        python_lines: 0,
        python_hashes: 0,
        events: 0,
        known: 0,
        reports: 0,
        failures: Vec::new(),
    };
    let mut asserted = 0;
    let files = fixture_files();
    assert!(files.len() >= 50, "fixtures missing: {}", files.len());
    for path in &files {
        let file =
            path.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or(path).display().to_string();
        let text = std::fs::read_to_string(path).expect("read fixture");
        let fixture: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
        let cases = fixture["cases"].as_array().expect("cases");
        for (c, case) in cases.iter().enumerate() {
            for (r, run) in case["runs"].as_array().expect("runs").iter().enumerate() {
                for (i, input) in run["input"].as_array().expect("input").iter().enumerate() {
                    if input.get("__type").and_then(|t| t.as_str()) != Some("Report") {
                        continue;
                    }
                    tally.reports += 1;
                    if let Err(errors) = Report::from_intelmq(input) {
                        tally.failures.push(format!("{file} case {c} run {r} input {i}: {errors:?}"));
                    }
                }
                for (m, message) in run["asserted_messages"].as_array().expect("asserted").iter().enumerate()
                {
                    asserted += 1;
                    let what = format!("case {c} run {r} asserted {m}");
                    check_event(&mut tally, &file, &what, &message["expected"]);
                }
                if let Some(queues) = run["observed_output"].as_object() {
                    for (queue, events) in queues {
                        for (m, event) in events.as_array().expect("queue").iter().enumerate() {
                            if event.get("__type").and_then(|t| t.as_str()) != Some("Event") {
                                continue;
                            }
                            let what = format!("case {c} run {r} observed {queue} {m}");
                            check_event(&mut tally, &file, &what, event);
                        }
                    }
                }
            }
        }
    }
    assert!(
        tally.failures.is_empty(),
        "{} of {} events failed:\n{}",
        tally.failures.len(),
        tally.events,
        tally.failures.join("\n")
    );
    assert_eq!(asserted, 191);
    // 191 asserted and 753 observed events; 114 input reports.
    assert_eq!((tally.events, tally.reports), (944, 114));
    assert_eq!(tally.python_lines, 944);
    assert_eq!(tally.python_hashes, 944);
    // 5 + 9 + 3 asserted events carry the three inconsistent values.
    assert_eq!(tally.known, 17);
}
