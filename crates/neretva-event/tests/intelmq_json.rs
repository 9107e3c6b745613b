//! IntelMQ JSON lines: round trips, hostile input, the streaming reader,
//! and property tests that nothing panics.

use expect_test::expect;
use neretva_event::intelmq_json::{
    MAX_LINE_BYTES, MAX_NESTING, from_line, read_lines, stored_line, to_intelmq_line, to_line, to_line_typed,
};
use neretva_event::{Event, FieldType, fields};
use proptest::prelude::*;

fn errors_of(line: &str) -> String {
    match from_line(line) {
        Ok(event) => format!("accepted: {}", to_line(&event)),
        Err(errors) => errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
    }
}

#[test]
fn tlp_2_labels_are_written_as_intelmq_accepts_them() {
    let line = |tlp: &str, extra: &str| {
        let event =
            from_line(&format!(r#"{{"source.ip": "192.0.2.1", {extra}"tlp": "{tlp}"}}"#)).expect("line");
        format!("{}\n{}", to_line(&event), to_intelmq_line(&event))
    };
    expect![[r#"
        {"source.ip": "192.0.2.1", "tlp": "CLEAR"}
        {"source.ip": "192.0.2.1", "tlp": "WHITE"}"#]]
    .assert_eq(&line("TLP:CLEAR", ""));
    // Never looser than the source's label; the label itself is kept beside it.
    expect![[r#"
        {"source.ip": "192.0.2.1", "tlp": "AMBER+STRICT"}
        {"extra.tlp": "AMBER+STRICT", "source.ip": "192.0.2.1", "tlp": "RED"}"#]]
    .assert_eq(&line("amber+strict", ""));
    expect![[r#"
        {"extra.tlp": "x", "source.ip": "192.0.2.1", "tlp": "AMBER+STRICT"}
        {"extra.tlp": "x", "source.ip": "192.0.2.1", "tlp": "RED"}"#]]
    .assert_eq(&line("AMBER+STRICT", r#""extra.tlp": "x", "#));
    for tlp in ["WHITE", "GREEN", "AMBER", "RED"] {
        let event = from_line(&format!(r#"{{"tlp": "{tlp}"}}"#)).expect("line");
        assert_eq!(to_intelmq_line(&event), to_line(&event));
    }
    // Read back, the strict label stays RED.
    let written = to_intelmq_line(&from_line(r#"{"tlp": "AMBER+STRICT"}"#).expect("line"));
    assert_eq!(
        from_line(&written).expect("back").get("tlp").map(ToString::to_string).as_deref(),
        Some("RED")
    );
}

#[test]
fn stored_events_are_written_with_their_raw_line_and_never_left_out() {
    // As stored: no `raw` in the object; the report line beside it.
    let (line, problems) =
        stored_line(r#"{"source.ip": "192.0.2.1", "tlp": "CLEAR"}"#, b"2026-11-27,192.0.2.1");
    assert!(problems.is_empty());
    expect![[r#"{"raw": "MjAyNi0xMS0yNywxOTIuMC4yLjE=", "source.ip": "192.0.2.1", "tlp": "WHITE"}"#]]
        .assert_eq(&line);
    // Fields IntelMQ's types refuse: the stored object with `raw`, and what is wrong with it.
    let (line, problems) = stored_line(r#"{"source.ip": "192.0.2.300", "feed.name": "old"}"#, b"x");
    expect![[r#"{"feed.name":"old","raw":"eA==","source.ip":"192.0.2.300"}"#]].assert_eq(&line);
    assert_eq!(problems.len(), 1, "{problems:?}");
    // Not even an object: the raw line alone.
    let (line, problems) = stored_line("[1]", b"x");
    assert_eq!((line.as_str(), problems.is_empty()), (r#"{"raw":"eA=="}"#, false));
}

#[test]
fn round_trip_is_identical() {
    let line = r#"{"__type": "Event", "classification.taxonomy": "vulnerable", "classification.type": "vulnerable-system", "extra.list": [1, 2.5, "x"], "extra.smb_implant": false, "extra.tag": "smb", "feed.accuracy": 100.0, "feed.name": "Test-Accessible-SMB", "raw": "InRpbWVzdGFtcCI=", "source.asn": 64512, "source.geolocation.latitude": 43.8563, "source.ip": "192.168.0.1", "source.network": "192.168.0.0/16", "source.port": 445, "source.reverse_dns": "node01.example.com", "source.tor_node": true, "time.observation": "2015-01-01T00:00:00+00:00", "time.source": "2010-02-10T00:00:00.250000+00:00"}"#;
    let event = from_line(line).expect("line");
    let typed = to_line_typed(&event, "Event");
    assert_eq!(typed, line);
    let untyped = to_line(&event);
    assert_eq!(untyped, line.replacen(r#""__type": "Event", "#, "", 1));
    assert_eq!(from_line(&untyped).expect("again"), event);
    assert_eq!(to_line(&Event::new()), "{}");
}

#[test]
fn non_ascii_and_escapes_as_python_writes_them() {
    let mut event = Event::new();
    event.set("comment", "Sarajevo – Mostar \"quoted\" \\ tab\tend").expect("comment");
    event.set("extra.ключ", "значение\u{1}").expect("extra");
    expect![[r#"{"comment": "Sarajevo – Mostar \"quoted\" \\ tab\tend", "extra.ключ": "значение\u0001"}"#]]
        .assert_eq(&to_line(&event));
    assert_eq!(from_line(&to_line(&event)).expect("line"), event);
}

#[test]
fn every_bad_field_is_reported() {
    expect![[r#"
        __type: "\"Report\"" is not "Event"
        destination.port: "x" is not an integer
        foo: "1" is for an unknown field (not in IntelMQ's harmonisation)
        source.ip: "300.1.1.1" is not an IP address
        time.source: "never" is not a date and time"#]]
    .assert_eq(&errors_of(
        r#"{"__type": "Report", "source.ip": "300.1.1.1", "destination.port": "x", "foo": 1, "time.source": "never", "comment": "fine"}"#,
    ));
}

#[test]
fn hostile_lines_are_refused_without_panicking() {
    let deep = format!("{{\"extra.x\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let just_deep_enough =
        format!("{{\"extra.x\": {}1{}}}", "[".repeat(MAX_NESTING - 1), "]".repeat(MAX_NESTING - 1));
    let huge = format!("{{\"comment\": \"{}\"}}", "a".repeat(MAX_LINE_BYTES));
    let cases = [
        deep.as_str(),
        "[]",
        "42",
        "null",
        "\"text\"",
        "{",
        "{\"source.ip\": }",
        "",
        "{\"extra\": 5}",
        "{\"extra\": {\"a\": {\"b\": 1}}}",
        "{\"source.ip\": [\"192.0.2.1\"]}",
        "{\"source.ip\": {\"v\": 4}}",
        "{\"source.port\": 1e400}",
        "{\"source.port\": -0}",
        "{\"comment\": \"\\ud800\"}",
        "{\"raw\": 5}",
        "{\"time.source\": \"\"}",
        "{\"__type\": 1}",
        "{\"source.ip\": \"192.0.2.1\", \"source.ip\": \"192.0.2.2\"}",
    ];
    let mut out: Vec<String> = cases
        .iter()
        .map(|line| {
            let shown: String = line.chars().take(40).collect();
            format!("{shown} => {}", errors_of(line))
        })
        .collect();
    out.push(format!("huge => {}", errors_of(&huge)));
    assert!(from_line(&just_deep_enough).is_ok());
    expect![[r#"
        {"extra.x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[ => (line): "{\"extra.x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" is nested deeper than 32 levels
        [] => (line): "[]" is not a JSON object
        42 => (line): "42" is not a JSON object
        null => (line): "null" is not a JSON object
        "text" => (line): "\"text\"" is not a JSON object
        { => (line): "{" is not valid JSON: EOF while parsing an object at line 1 column 1
        {"source.ip": } => (line): "{\"source.ip\": }" is not valid JSON: expected value at line 1 column 15
         => (line): "" is not valid JSON: EOF while parsing a value at line 1 column 0
        {"extra": 5} => extra: "5" is not a JSON object
        {"extra": {"a": {"b": 1}}} => accepted: {"extra.a": {"b": 1}}
        {"source.ip": ["192.0.2.1"]} => source.ip: "[\"192.0.2.1\"]" is not an IP address
        {"source.ip": {"v": 4}} => source.ip: "{\"v\":4}" is not an IP address
        {"source.port": 1e400} => (line): "{\"source.port\": 1e400}" is not valid JSON: number out of range at line 1 column 21
        {"source.port": -0} => accepted: {"source.port": 0}
        {"comment": "\ud800"} => (line): "{\"comment\": \"\\ud800\"}" is not valid JSON: unexpected end of hex escape at line 1 column 20
        {"raw": 5} => raw: "5" is not a string
        {"time.source": ""} => accepted: {}
        {"__type": 1} => __type: "1" is not "Event"
        {"source.ip": "192.0.2.1", "source.ip":  => accepted: {"source.ip": "192.0.2.2"}
        huge => (line): "{\"comment\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" is longer than 1 MiB"#]]
    .assert_eq(&out.join("\n"));
}

#[test]
fn many_members_in_any_order_are_fast() {
    let members: Vec<String> = (0..40_000).rev().map(|i| format!("\"extra.k{i:05}\": {i}")).collect();
    let line = format!("{{{}}}", members.join(", "));
    assert!(line.len() < MAX_LINE_BYTES);
    let started = std::time::Instant::now();
    let event = from_line(&line).expect("line");
    assert_eq!(event.len(), 40_000);
    assert_eq!(event.iter().next().map(|(name, _)| name), Some("extra.k00000"));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn read_lines_never_stops() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"source.ip\": \"192.0.2.1\"}\r\n");
    input.extend_from_slice(b"\n   \n");
    input.extend_from_slice(b"{\"source.ip\": \"bad\", \"source.port\": \"bad\"}\n");
    input.extend_from_slice(b"not json\n");
    input.extend_from_slice(b"{\"comment\": \"\xff\xfe\"}\n");
    input.extend_from_slice(b"{\"source.port\": 53}");
    let (events, errors) = read_lines(&input);
    let lines: Vec<u64> = events.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [1, 7]);
    assert_eq!(to_line(&events[1].1), "{\"source.port\": 53}");
    let shown: Vec<String> = errors
        .iter()
        .map(|(line, errs)| {
            let texts: Vec<String> = errs.iter().map(ToString::to_string).collect();
            format!("{line}: {}", texts.join("; "))
        })
        .collect();
    expect![[r#"
        4: source.ip: "bad" is not an IP address; source.port: "bad" is not an integer
        5: (line): "not json" is not valid JSON: expected ident at line 1 column 2
        6: (line): "{\"comment\": \"��\"}" is not valid UTF-8"#]]
    .assert_eq(&shown.join("\n"));
    assert_eq!(read_lines(b""), (Vec::new(), Vec::new()));
}

/// Text values that stress the sanitisers.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,40}",
        "[0-9a-fA-F:./%\\[\\]-]{0,45}",
        "[0-9 :TZ+.-]{0,35}",
        "(hxxps?|https?|file|ftp)://[a-z0-9.:/\\[\\]?#-]{0,30}",
        "[A-Za-z ,0-9:+-]{0,40}",
        "[\\PC]{0,20}\\.[a-zA-Z\u{80}-\u{2fff}]{0,10}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn from_line_never_panics(line in any::<String>()) {
        let _ = from_line(&line);
    }

    #[test]
    fn from_line_of_json_like_text_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("{".to_owned()), Just("}".to_owned()), Just("[".to_owned()), Just("]".to_owned()),
                Just(",".to_owned()), Just(":".to_owned()), Just("\"source.ip\"".to_owned()),
                Just("\"extra.x\"".to_owned()), Just("\"raw\"".to_owned()), Just("\"extra\"".to_owned()),
                Just("null".to_owned()), Just("true".to_owned()), Just("1e999".to_owned()),
                Just("-1".to_owned()), Just("\"\\u0000\"".to_owned()), "\"[ -~]{0,10}\"",
            ],
            0..60,
        )
    ) {
        let line = parts.concat();
        let _ = from_line(&line);
        let _ = read_lines(line.as_bytes());
    }

    #[test]
    fn set_never_panics_and_canonical_values_are_stable(
        index in 0..fields().len(),
        text in hostile_text(),
    ) {
        let spec = &fields()[index];
        let mut event = Event::new();
        if event.set(spec.name, &text).is_ok()
            && let Some(value) = event.get(spec.name).cloned()
        {
            // The JSON line round-trips.
            let line = to_line(&event);
            let back = from_line(&line);
            prop_assert_eq!(back.as_ref().ok(), Some(&event), "line {}", line);
            // Writing the canonical text again gives the same value.
            if !matches!(spec.ty, FieldType::Base64 | FieldType::JSON) {
                let mut again = Event::new();
                prop_assert!(again.set(spec.name, &value.to_string()).is_ok(), "{}", value);
                prop_assert_eq!(again.get(spec.name), Some(&value));
            }
        }
        let _ = event.set_json(spec.name, serde_json::Value::String(text.clone()));
        let _ = event.set_value(spec.name, neretva_event::Value::Str(text.into()));
    }

    #[test]
    fn events_round_trip(
        values in proptest::collection::vec((0..fields().len(), hostile_text()), 0..20),
        extras in proptest::collection::vec(("[a-z_][a-z0-9_.]{0,8}", any::<String>(), any::<i64>(), any::<f64>()), 0..5),
    ) {
        let mut event = Event::new();
        for (index, text) in values {
            let _ = event.set(fields()[index].name, &text);
        }
        for (key, text, int, float) in extras {
            event.set(&format!("extra.{key}"), &text).ok();
            event.set_json(&format!("extra.{key}_n"), serde_json::json!(int)).ok();
            if float.is_finite() {
                event.set_json(&format!("extra.{key}_f"), serde_json::json!(float)).ok();
            }
        }
        let line = to_line(&event);
        let back = from_line(&line);
        prop_assert_eq!(back.as_ref().ok(), Some(&event), "line {}", line);
        let typed = to_line_typed(&event, "Event");
        prop_assert_eq!(from_line(&typed).ok(), Some(event));
    }
}
