//! Comparing events with IntelMQ's expected events (test fixtures).

use std::collections::BTreeMap;

use crate::event::Event;

/// The differences between an expected event in IntelMQ's JSON form (a test
/// fixture's `expected`) and an actual event, one readable line each, in key
/// order; empty when they are equal.
///
/// As IntelMQ's test harness (`assertMessageEqual`), `__type` and
/// `time.observation` are ignored (IntelMQ's fixtures hold stale or
/// non-canonical observation times), and `raw` unless `compare_raw`.
/// Numbers compare by value (`1` equals `1.0`, as in Python).
pub fn compare(expected: &serde_json::Value, actual: &Event, compare_raw: bool) -> Vec<String> {
    let Some(expected) = expected.as_object() else {
        return vec![format!("expected event is not a JSON object: {expected}")];
    };
    let skip = |key: &str| key == "__type" || key == "time.observation" || (!compare_raw && key == "raw");
    let actual: BTreeMap<&str, serde_json::Value> =
        actual.iter().filter(|(key, _)| !skip(key)).map(|(key, value)| (key, value.to_json())).collect();
    let mut keys: Vec<&str> =
        expected.keys().map(String::as_str).chain(actual.keys().copied()).filter(|key| !skip(key)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut differences = Vec::new();
    for key in keys {
        match (expected.get(key), actual.get(key)) {
            (Some(e), Some(a)) if json_equal(e, a) => {}
            (Some(e), Some(a)) => differences.push(format!("{key}: expected {e}, got {a}")),
            (Some(e), None) => differences.push(format!("{key}: expected {e}, missing")),
            (None, Some(a)) => differences.push(format!("{key}: not expected, got {a}")),
            (None, None) => {}
        }
    }
    differences
}

/// JSON equality with numbers compared by value.
pub(crate) fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (J::Array(x), J::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b)),
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}
