//! Events move between Neretva and a real IntelMQ 3.5.0 in both directions unchanged.
//!
//! Runs when `NERETVA_TEST_INTELMQ_PYTHON` names a Python with IntelMQ 3.5.0 installed (CI's
//! `.ci/run` sets it), and then fails on any difference. The events are every event of the
//! feed parsers' data-driven cases (`neretva-feeds/test_data/*/*/{ok,err}/*.expected`, which
//! that crate's tests keep equal to what the parsers produce) and every value of the
//! sanitiser table (`test_data/sanitize_cases.txt`) that Neretva accepts, one field per event,
//! so every harmonisation type is covered with good and odd inputs.
//!
//! Each event is written with [`to_intelmq_line`] and read by `tests/intelmq/check_events.py`
//! as an IntelMQ bot reads a message (`MessageFactory.unserialize` with IntelMQ's own
//! harmonisation). IntelMQ must accept every event, find every value valid without
//! sanitising it, and hold exactly the values Neretva wrote. IntelMQ's own serialisation of
//! each event is then read back with [`from_line`] and must give the same line.

// A test: a failed read or an unexpected report is a failure; the summary line is its output.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;

use neretva_event::Event;
use neretva_event::intelmq_json::{from_line, to_intelmq_line};

mod support;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `.expected` files under `dir`, at any depth, in a stable order.
fn expected_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            expected_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "expected") {
            out.push(path);
        }
    }
}

/// (where the event came from, the event).
fn events() -> Vec<(String, Event)> {
    let mut events = Vec::new();
    let mut files = Vec::new();
    expected_files(&manifest_dir().join("../neretva-feeds/test_data"), &mut files);
    assert!(files.len() > 50, "the feed parsers' cases are missing: {} files", files.len());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Events first, then `--- errors` and the lines Neretva refused.
        for (index, line) in text.lines().enumerate().take_while(|(_, line)| !line.starts_with("--- ")) {
            if !line.starts_with('{') {
                continue;
            }
            let event = from_line(line).unwrap_or_else(|e| panic!("{}:{}: {e:?}", file.display(), index + 1));
            events.push((format!("{}:{}", file.display(), index + 1), event));
        }
    }
    let cases = std::fs::read_to_string(manifest_dir().join("test_data/sanitize_cases.txt")).unwrap();
    for (index, line) in cases.lines().enumerate() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (field, input) = line.split_once('\t').expect("field<TAB>input");
        let mut event = Event::new();
        if event.set(field, &support::decode_escapes(input)).is_ok() && !event.is_empty() {
            events.push((format!("sanitize_cases.txt:{} {field}", index + 1), event));
        }
    }
    events
}

#[test]
fn intelmq_reads_what_neretva_writes_and_back() {
    let Some(python) = std::env::var_os("NERETVA_TEST_INTELMQ_PYTHON") else { return };
    let events = events();
    let lines: Vec<String> = events.iter().map(|(_, event)| to_intelmq_line(event)).collect();
    let dir = std::env::temp_dir().join(format!("neretva-intelmq-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("events.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let script = manifest_dir().join("../../tests/intelmq/check_events.py");
    let output = Command::new(python).arg(script).arg(&input).output().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(output.status.success(), "check_events.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["checked"], lines.len(), "IntelMQ read every line");

    let mut problems = Vec::new();
    let origin = |item: &serde_json::Value| {
        let line = item["line"].as_u64().unwrap() as usize;
        format!("{} ({})", events[line - 1].0, lines[line - 1])
    };
    for item in report["rejected"].as_array().unwrap() {
        problems.push(format!("IntelMQ rejects {}: {}", origin(item), item["error"]));
    }
    for item in report["not_strict"].as_array().unwrap() {
        problems.push(format!(
            "IntelMQ finds {} valid only after sanitising: {}",
            item["field"],
            origin(item)
        ));
    }
    for item in report["changed"].as_array().unwrap() {
        problems.push(format!(
            "IntelMQ holds {} = {} where Neretva wrote {}: {}",
            item["field"],
            item["intelmq"],
            item["ours"],
            origin(item)
        ));
    }
    let serialized = report["serialized"].as_array().unwrap();
    assert_eq!(serialized.len(), lines.len());
    for (index, theirs) in serialized.iter().enumerate() {
        let theirs = theirs.as_str().unwrap();
        if theirs.is_empty() {
            continue; // rejected, reported above
        }
        match from_line(theirs) {
            Ok(event) if to_intelmq_line(&event) == lines[index] => {}
            Ok(event) => problems.push(format!(
                "IntelMQ's line reads back differently: {}\n  ours:   {}\n  theirs: {theirs}\n  back:   {}",
                events[index].0,
                lines[index],
                to_intelmq_line(&event)
            )),
            Err(e) => problems.push(format!("Neretva refuses IntelMQ's line {theirs}: {e:?}")),
        }
    }
    assert!(
        problems.is_empty(),
        "{} events, {} problems:\n{}",
        lines.len(),
        problems.len(),
        problems.join("\n")
    );
    println!("{} events read by IntelMQ 3.5.0 and back, all unchanged", lines.len());
}
