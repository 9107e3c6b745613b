//! Table-driven sanitiser tests: `test_data/sanitize_cases.txt` holds
//! `field<TAB>input` lines for every field type with good and bad values;
//! `test_data/sanitize_cases.expected` the canonical value (with its
//! variant) or the error. Re-bless with `UPDATE_EXPECT=1` and review.

use std::fmt::Write as _;

use neretva_event::{Event, Value};

mod support;
use support::decode_escapes;

fn variant(value: &Value) -> &'static str {
    match value {
        Value::Str(_) => "Str",
        Value::Int(_) => "Int",
        Value::Float(_) => "Float",
        Value::Bool(_) => "Bool",
        Value::Ip(_) => "Ip",
        Value::Network(_) => "Network",
        Value::Time(_) => "Time",
        Value::Json(_) => "Json",
    }
}

#[test]
fn sanitiser_table() {
    let cases = include_str!("../test_data/sanitize_cases.txt");
    let mut out = String::new();
    for line in cases.lines() {
        if line.starts_with('#') || line.is_empty() {
            let _ = writeln!(out, "{line}");
            continue;
        }
        let (field, input) = line.split_once('\t').expect("field<TAB>input");
        let input = decode_escapes(input);
        let mut event = Event::new();
        let result = event.set(field, &input);
        let shown = match result {
            Err(e) => format!("error: {e}"),
            Ok(()) => match event.get(field) {
                None => "(ignored)".to_owned(),
                Some(value) => {
                    // The value must also be accepted as it is written (idempotence).
                    let mut again = Event::new();
                    if let Value::Str(text) = value
                        && field != "raw"
                        && field != "output"
                    {
                        again.set(field, text).expect("canonical text is accepted");
                        assert_eq!(again.get(field), Some(value), "{field} {input:?}");
                    }
                    again.set_value(field, value.clone()).expect("set_value of a canonical value");
                    assert_eq!(again.get(field), Some(value), "{field} {input:?} set_value");
                    let mut json_event = Event::new();
                    json_event.set_json(field, value.to_json()).expect("set_json of a canonical value");
                    assert_eq!(json_event.get(field), Some(value), "{field} {input:?} set_json");
                    format!("{} {value}", variant(value))
                }
            },
        };
        let _ = writeln!(out, "{field}\t{input:?} => {shown}");
    }
    expect_test::expect_file!["../test_data/sanitize_cases.expected"].assert_eq(&out);
}
