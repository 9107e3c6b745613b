//! The matcher on data-driven cases: the reference matcher's own test suite as recorded from
//! running it (`test_data/matcher/reference_cases.json`), and cases of our own
//! (`test_data/matcher/cases.json`) for what the reference does not test or does differently.

use std::path::PathBuf;

use neretva_stix::matcher::{Matcher, Observations};
use neretva_stix::pattern::Pattern;
use serde_json::Value;

fn data(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/matcher").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `match`, `nomatch`, `parse_error` or `matcher_error`, with the error's text.
fn outcome(pattern: &str, observations: &Value) -> (String, String) {
    let pattern = match Pattern::parse(pattern) {
        Ok(pattern) => pattern,
        Err(error) => return ("parse_error".to_owned(), error.to_string()),
    };
    let result = Matcher::new(&pattern)
        .and_then(|matcher| Observations::from_json(observations).and_then(|obs| matcher.matches(&obs)));
    match result {
        Ok(true) => ("match".to_owned(), String::new()),
        Ok(false) => ("nomatch".to_owned(), String::new()),
        Err(error) => ("matcher_error".to_owned(), error.to_string()),
    }
}

#[track_caller]
fn run(file: &str, expected_count: usize) {
    let data = data(file);
    let sets = &data["observation_sets"];
    let cases = data["cases"].as_array().unwrap();
    assert_eq!(cases.len(), expected_count);
    let mut failures = Vec::new();
    for case in cases {
        let pattern = case["pattern"].as_str().unwrap();
        let observations = &sets[case["observations"].as_str().unwrap()];
        assert!(!observations.is_null(), "{pattern}: unknown observation set");
        let (actual, detail) = outcome(pattern, observations);
        if actual != case["expected"].as_str().unwrap() {
            failures.push(format!(
                "{} {pattern:?}: expected {}, got {actual} {detail}",
                case["test"], case["expected"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_reference_test_suite_agrees() {
    run("reference_cases.json", 411);
}

#[test]
fn our_cases_agree() {
    run("cases.json", 97);
}
