//! IntelMQ 3.5.0's own test cases for the taxonomy, filter, format_field and deduplicator experts
//! (copies of the shared reference's `fixtures/experts/` in `test_data/intelmq/experts/`), run
//! against Neretva's classification (`Event::classify`), rules and deduplication key. The
//! format_field expert's parameters become one rule without conditions that strips, replaces and
//! splits as they say (`replace_count` 1 when not given, as in IntelMQ). The deduplicator's
//! `filter_type`/`filter_keys` become the key's fields (`dedupe::KeyFields`, configured as
//! `[pipeline.dedup] fields` or `ignore_fields`), `bypass` turns deduplication off, and the
//! events IntelMQ's tests put into the cache before the run (`DEDUP_SEEDS`; the fixtures record
//! only the run) are seen first.
//!
//! Each run's filter-expert parameters are written as rules the way the rules module documents it
//! (`not_before`/`not_after` → drop rules with `before`/`after` on `time.source`,
//! `filter_key`/`filter_value` → `equals`, `filter_regex` → `regex` (`match` anchored at the
//! start), `filter_action` → `drop` or `keep`); every input event goes through them with
//! the current time as the processing time (as IntelMQ's tests run), and the events left are
//! compared field by field with IntelMQ's asserted and observed output on its default path.
//! IntelMQ's filter expert also sends copies to the paths `filter_match`, `filter_no_match` and
//! `action_other`, and filters reports; Neretva's rules keep or drop events, so only the default
//! path of event inputs is compared (`NOT_COMPARED`).

// What was compared and what was not is the test's report.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};

use neretva_event::{Event, intelmq_json};
use neretva_pipeline::transforms::dedupe::{self, KeyFields};
use neretva_pipeline::transforms::rules::{
    self, ConditionConfig, ReplaceConfig, RuleConfig, SplitConfig, Verdict,
};

/// Runs whose input is not an event: IntelMQ's filter expert filters reports too.
const NOT_COMPARED: &[(&str, &str)] = &[(
    "filter/test_report.json",
    "IntelMQ's filter expert filters reports as well as events; Neretva's rules apply to events",
)];

/// What IntelMQ's deduplicator tests put into the cache before the run, by test name: the event
/// whose hash they store.
const DEDUP_SEEDS: &[(&str, &str)] = &[
    (
        "test_suppress",
        r#"{"classification.identifier": "zeus", "source.ip": "192.0.2.1", "time.observation": "2015-01-01T13:37:00+00:00"}"#,
    ),
    ("test_whitelist_suppress", r#"{"source.ip": "127.0.0.8"}"#),
    ("test_bypass", r#"{"source.ip": "127.0.0.8"}"#),
];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/intelmq/experts")
}

fn condition(field: &str) -> ConditionConfig {
    ConditionConfig { field: field.to_owned(), ..ConditionConfig::default() }
}

fn rule(name: &str, when: Vec<ConditionConfig>, action: Option<&str>) -> RuleConfig {
    RuleConfig { name: name.to_owned(), when, action: action.map(str::to_owned), ..RuleConfig::default() }
}

/// A parameter's text, or None when it is absent or empty (IntelMQ ignores empty parameters).
fn text(parameters: &serde_json::Value, key: &str) -> Option<String> {
    match parameters.get(key)? {
        serde_json::Value::String(text) if text.is_empty() => None,
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The filter expert's parameters as rules.
fn filter_rules(parameters: &serde_json::Value) -> Vec<RuleConfig> {
    let mut configs = Vec::new();
    if let Some(bound) = text(parameters, "not_before") {
        let mut when = condition("time.source");
        when.before = Some(bound);
        configs.push(rule("not_before", vec![when], Some("drop")));
    }
    if let Some(bound) = text(parameters, "not_after") {
        let mut when = condition("time.source");
        when.after = Some(bound);
        configs.push(rule("not_after", vec![when], Some("drop")));
    }
    if let Some(key) = text(parameters, "filter_key") {
        // IntelMQ compares with an empty filter_value too.
        let value = text(parameters, "filter_value").unwrap_or_default();
        let mut when = condition(&key);
        match text(parameters, "filter_regex").as_deref() {
            Some("search") => when.regex = Some(value),
            Some("match") => when.regex = Some(format!("^(?:{value})")),
            _ => when.equals = Some(value),
        }
        let action = text(parameters, "filter_action").unwrap_or_else(|| "drop".to_owned());
        configs.push(rule("filter", vec![when], Some(&action)));
    }
    configs
}

/// The deduplicator's key fields, or None with `bypass`.
fn dedup_fields(parameters: &serde_json::Value) -> Option<KeyFields> {
    if parameters.get("bypass").and_then(serde_json::Value::as_bool) == Some(true) {
        return None;
    }
    let keys: Vec<String> = text(parameters, "filter_keys")
        .unwrap_or_default()
        .split(',')
        .map(|key| key.trim().to_owned())
        .filter(|key| !key.is_empty())
        .collect();
    Some(match text(parameters, "filter_type").as_deref() {
        Some("whitelist") => KeyFields::Only(keys),
        _ => KeyFields::AllBut(keys),
    })
}

/// The format_field expert's parameters as one rule.
fn format_field_rules(parameters: &serde_json::Value) -> Vec<RuleConfig> {
    let mut config = rule("format_field", Vec::new(), None);
    if let Some(columns) = text(parameters, "strip_columns") {
        config.strip = columns.split(',').map(|column| column.trim().to_owned()).collect();
        config.strip_chars = text(parameters, "strip_chars");
    }
    if let Some(field) = text(parameters, "replace_column") {
        let count = parameters.get("replace_count").and_then(serde_json::Value::as_u64).unwrap_or(1);
        config.replace.push(ReplaceConfig {
            field,
            old: text(parameters, "old_value").unwrap_or_default(),
            new: text(parameters, "new_value").unwrap_or_default(),
            count: usize::try_from(count).ok(),
        });
    }
    if let Some(field) = text(parameters, "split_column") {
        config.split.push(SplitConfig { field, separator: text(parameters, "split_separator") });
    }
    vec![config]
}

#[test]
fn intelmq_expert_fixtures() {
    let mut files = Vec::new();
    for expert in ["taxonomy", "filter", "format_field", "deduplicator"] {
        for entry in std::fs::read_dir(data_dir().join(expert)).expect("fixture folder").flatten() {
            if entry.path().extension().is_some_and(|e| e == "json") {
                files.push((expert, entry.path()));
            }
        }
    }
    files.sort();
    let mut failures = Vec::new();
    let (mut runs, mut compared) = (0, 0);
    for (expert, path) in &files {
        let file = format!("{expert}/{}", path.file_name().unwrap_or_default().to_string_lossy());
        if let Some((_, reason)) = NOT_COMPARED.iter().find(|(f, _)| *f == file) {
            println!("{file}: not compared: {reason}");
            continue;
        }
        let fixture: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).expect("read fixture")).expect("fixture JSON");
        for case in fixture["cases"].as_array().expect("cases") {
            let test = case["test"].as_str().unwrap_or("?");
            for run in case["runs"].as_array().expect("runs") {
                runs += 1;
                let configs = match *expert {
                    "format_field" => format_field_rules(&run["parameters"]),
                    "filter" => filter_rules(&run["parameters"]),
                    _ => Vec::new(),
                };
                let key_fields =
                    (*expert == "deduplicator").then(|| dedup_fields(&run["parameters"])).flatten();
                let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
                if let (Some(fields), Some((_, seed))) =
                    (&key_fields, DEDUP_SEEDS.iter().find(|(name, _)| test.ends_with(name)))
                {
                    let seed = intelmq_json::from_line(seed).expect("seed event");
                    seen.insert(dedupe::key(&seed, fields));
                }
                let compiled = rules::compile(&configs)
                    .unwrap_or_else(|errors| panic!("{file} {test}: rules do not compile: {errors:?}"));
                // Relative bounds count back from the processing time: now, as in IntelMQ's tests.
                let now = time::OffsetDateTime::now_utc();
                let mut passed: Vec<Event> = Vec::new();
                for input in run["input"].as_array().expect("input") {
                    let line = serde_json::to_string(input).expect("input JSON");
                    let mut event = intelmq_json::from_line(&line)
                        .unwrap_or_else(|errors| panic!("{file} {test}: bad input event: {errors:?}"));
                    if *expert == "taxonomy" {
                        event.classify();
                    }
                    if rules::apply(&compiled, &mut event, now) != Verdict::Keep {
                        continue;
                    }
                    if let Some(fields) = &key_fields
                        && !seen.insert(dedupe::key(&event, fields))
                    {
                        continue;
                    }
                    passed.push(event);
                }
                let observed = run["observed_output"]["_default"].as_array().cloned().unwrap_or_default();
                if observed.len() != passed.len() {
                    failures.push(format!(
                        "{file} {test}: IntelMQ passed {} events, Neretva {}",
                        observed.len(),
                        passed.len()
                    ));
                }
                let asserted = run["asserted_messages"].as_array().into_iter().flatten();
                let default_path =
                    asserted.filter(|m| m["path"].as_str().unwrap_or("_default") == "_default").map(|m| {
                        (
                            m["queue_pos"].as_u64().unwrap_or(0) as usize,
                            &m["expected"],
                            m["compare_raw"].as_bool(),
                        )
                    });
                let observed = observed.iter().enumerate().map(|(i, e)| (i, e, Some(true)));
                for (position, expected, compare_raw) in default_path.chain(observed) {
                    compared += 1;
                    match passed.get(position) {
                        Some(actual) => {
                            for difference in
                                neretva_event::compare(expected, actual, compare_raw.unwrap_or(true))
                            {
                                failures.push(format!("{file} {test} event {position}: {difference}"));
                            }
                        }
                        None => failures.push(format!("{file} {test}: no event at position {position}")),
                    }
                }
            }
        }
    }
    println!("{runs} runs, {compared} events compared");
    assert!(runs >= 22, "the fixtures hold at least 22 runs, found {runs}");
    assert!(failures.is_empty(), "differences from IntelMQ:\n{}", failures.join("\n"));
}
