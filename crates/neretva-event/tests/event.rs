//! The `Event` API: setting, reading, ordering, typed values, errors, hashes.

use std::net::IpAddr;

use expect_test::expect;
use neretva_event::intelmq_json::to_line;
use neretva_event::{Event, FieldId, Value, ValueError, field_spec, fields, format_time, parse_time};

#[test]
fn set_get_contains_remove_len() {
    let mut event = Event::new();
    assert!(event.is_empty());
    event.set("source.ip", " 192.0.2.1 ").expect("ip");
    event.set("source.port", "443").expect("port");
    event.set("extra.tag", "smb").expect("extra");
    assert_eq!(event.len(), 3);
    assert_eq!(event.get("source.ip"), Some(&Value::Ip("192.0.2.1".parse().expect("ip"))));
    assert_eq!(event.get("source.port").and_then(Value::as_int), Some(443));
    assert_eq!(event.get_str("extra.tag"), Some("smb"));
    assert!(event.contains("extra"));
    assert!(event.contains("extra.tag"));
    assert!(!event.contains("extra.other"));
    assert!(!event.contains("destination.ip"));
    assert_eq!(event.get("extra"), None);
    // Overwrite.
    event.set("source.port", "8080").expect("port");
    assert_eq!(event.get("source.port"), Some(&Value::Int(8080)));
    // Ignored values remove, as IntelMQ's add(..., overwrite=True).
    for ignored in ["", "-", "N/A"] {
        event.set("source.port", "1").expect("port");
        event.set("source.port", ignored).expect("ignored");
        assert!(!event.contains("source.port"), "{ignored:?}");
    }
    assert_eq!(event.remove("source.ip"), Some(Value::Ip("192.0.2.1".parse().expect("ip"))));
    assert_eq!(event.remove("source.ip"), None);
    assert_eq!(event.remove("extra"), Some(Value::Json(Box::new(serde_json::json!({"tag": "smb"})))));
    assert!(event.is_empty());
    assert_eq!(event.remove("no.such.field"), None);
}

#[test]
fn iter_is_alphabetical_with_extras_in_place() {
    let mut event = Event::new();
    for (name, value) in [
        ("time.source", "2016-11-10"),
        ("extra.zz", "last extra"),
        ("classification.type", "scanner"),
        ("feed.name", "Feed"),
        ("extra.a.b", "nested key"),
        ("extra.a", "first extra"),
        ("event_hash", "AB"),
        ("source.ip", "192.0.2.1"),
        ("destination.port", "1"),
    ] {
        event.set(name, value).expect(name);
    }
    let names: Vec<&str> = event.iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "classification.type",
            "destination.port",
            "event_hash",
            "extra.a",
            "extra.a.b",
            "extra.zz",
            "feed.name",
            "source.ip",
            "time.source"
        ]
    );
    let parts: Vec<(FieldId, Option<&str>)> = event.iter_parts().map(|(id, key, _)| (id, key)).collect();
    assert_eq!(parts[3], (FieldId::EXTRA, Some("a")));
    let extras: Vec<&str> = event.extra().map(|(key, _)| key).collect();
    assert_eq!(extras, ["a", "a.b", "zz"]);
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
}

#[test]
fn set_json_types() {
    let mut event = Event::new();
    event.set_json("source.asn", serde_json::json!(64512)).expect("asn");
    event.set_json("source.port", serde_json::json!("25")).expect("port as text");
    event.set_json("destination.port", serde_json::json!(80.0)).expect("integral float");
    event.set_json("source.geolocation.latitude", serde_json::json!(52)).expect("int for float");
    event.set_json("source.tor_node", serde_json::json!(false)).expect("bool");
    event.set_json("destination.tor_node", serde_json::json!(1)).expect("1 for bool");
    event.set_json("comment", serde_json::json!(12.5)).expect("number for string");
    event.set_json("output", serde_json::json!({"b": [1, 2.5], "a": null})).expect("output");
    event
        .set_json(
            "extra",
            serde_json::json!({"n": 1, "f": 1.5, "s": "x", "b": true, "l": [1], "o": {"k": "v"}, "e": ""}),
        )
        .expect("extra dict");
    event.set_json("extra.null", serde_json::Value::Null).expect("null extra");
    event.set_json("extra.big", serde_json::json!(18_446_744_073_709_551_615_u64)).expect("u64");
    expect![[r#"{"comment": "12.5", "destination.port": 80, "destination.tor_node": true, "extra.b": true, "extra.big": 18446744073709551615, "extra.e": "", "extra.f": 1.5, "extra.l": [1], "extra.n": 1, "extra.o": {"k": "v"}, "extra.s": "x", "output": "{\"a\": null, \"b\": [1, 2.5]}", "source.asn": 64512, "source.geolocation.latitude": 52.0, "source.port": 25, "source.tor_node": false}"#]]
        .assert_eq(&to_line(&event));

    let errors: Vec<String> = [
        ("source.ip", serde_json::json!(5)),
        ("source.port", serde_json::json!(1.5)),
        ("source.port", serde_json::json!(true)),
        ("source.port", serde_json::json!([1])),
        ("source.asn", serde_json::json!(0)),
        ("source.geolocation.latitude", serde_json::json!("north")),
        ("feed.accuracy", serde_json::json!(101)),
        ("source.tor_node", serde_json::json!(2)),
        ("time.source", serde_json::json!(1_478_736_000)),
        ("extra", serde_json::json!([1, 2])),
        ("extra", serde_json::json!("not json")),
        ("raw", serde_json::json!("not base64!")),
        ("comment", serde_json::json!({"a": 1})),
        ("source.nope", serde_json::json!("x")),
    ]
    .into_iter()
    .map(|(name, value)| Event::new().set_json(name, value).expect_err(name).to_string())
    .collect();
    expect![[r#"
        source.ip: "5" is not an IP address
        source.port: "1.5" is not an integer
        source.port: "true" is not an integer
        source.port: "[1]" is not an integer
        source.asn: "0" is not an AS number (1 to 4294967295)
        source.geolocation.latitude: "north" is not a number
        feed.accuracy: "101" is not between 0 and 100
        source.tor_node: "2" is not a boolean
        time.source: "1478736000" is not a date and time
        extra: "[1,2]" is not a JSON object
        extra: "not json" is not valid JSON: expected ident at line 1 column 2
        raw: "not base64!" is not valid base64
        comment: "{\"a\":1}" is not a string
        source.nope: "x" is for an unknown field (not in IntelMQ's harmonisation)"#]]
    .assert_eq(&errors.join("\n"));
}

#[test]
fn set_value_validates_and_converts() {
    let mut event = Event::new();
    let ip: IpAddr = "198.51.100.7".parse().expect("ip");
    event.set_value("source.ip", Value::Ip(ip)).expect("ip");
    event.set_value("source.network", Value::str("198.51.100.7/24")).expect("str is sanitised");
    event.set_value("source.geolocation.longitude", Value::Int(13)).expect("int to float");
    event.set_value("source.port", Value::Float(443.0)).expect("integral float to int");
    event.set_value("classification.type", Value::str("C&C")).expect("alias");
    let local = time::macros::datetime!(2020-01-02 03:04:05.123456789 +02:00);
    event.set_value("time.source", Value::Time(local)).expect("time");
    event.set_value("raw", Value::str("aGVsbG8=")).expect("base64 text");
    event.set_value("extra.when", Value::Time(local)).expect("extra time as text");
    event.set_value("extra.obj", Value::Json(Box::new(serde_json::json!({"x": 1})))).expect("extra json");
    expect![[r#"{"classification.type": "c2-server", "extra.obj": {"x": 1}, "extra.when": "2020-01-02T01:04:05.123456+00:00", "raw": "aGVsbG8=", "source.geolocation.longitude": 13.0, "source.ip": "198.51.100.7", "source.network": "198.51.100.0/24", "source.port": 443, "time.source": "2020-01-02T01:04:05.123456+00:00"}"#]]
        .assert_eq(&to_line(&event));
    assert_eq!(event.raw(), Some(b"hello".to_vec()));

    let errors: Vec<String> = [
        ("source.ip", Value::Ip("0.0.0.0".parse().expect("ip"))),
        ("source.ip", Value::Int(1)),
        ("source.port", Value::Float(1.5)),
        ("source.geolocation.latitude", Value::Float(f64::NAN)),
        ("feed.accuracy", Value::Float(-0.5)),
        ("source.asn", Value::Int(1 << 40)),
        ("time.source", Value::Bool(true)),
        ("raw", Value::str("***")),
        ("source.tor_node", Value::Json(Box::new(serde_json::json!("yes")))),
        ("extra.bad", Value::Float(f64::INFINITY)),
    ]
    .into_iter()
    .map(|(name, value)| Event::new().set_value(name, value).expect_err(name).to_string())
    .collect();
    expect![[r#"
        source.ip: "0.0.0.0" is the unspecified address 0.0.0.0
        source.ip: "1" is not a value of type IPAddress
        source.port: "1.5" is not an integer
        source.geolocation.latitude: "NaN" is not a finite number
        feed.accuracy: "-0.5" is not between 0 and 100
        source.asn: "1099511627776" is not an AS number (1 to 4294967295)
        time.source: "true" is not a value of type DateTime
        raw: "***" is not valid base64
        source.tor_node: "yes" is not a boolean (true or false)
        extra.bad: "inf" is not a finite number"#]]
    .assert_eq(&errors.join("\n"));
}

#[test]
fn raw_is_base64() {
    let mut event = Event::new();
    event.set("raw", "line,with,data\n").expect("raw text");
    assert_eq!(event.get_str("raw"), Some("bGluZSx3aXRoLGRhdGEK"));
    event.set_raw(&[0, 159, 146, 150]);
    assert_eq!(event.get_str("raw"), Some("AJ+Slg=="));
    assert_eq!(event.raw(), Some(vec![0, 159, 146, 150]));
}

#[test]
fn extra_as_a_whole() {
    let mut event = Event::new();
    event.set("extra", r#"{"a": 1, "b": {"c": [true]}}"#).expect("extra text");
    event.set("extra.c", "text").expect("member");
    assert_eq!(event.extra_json(), Some(serde_json::json!({"a": 1, "b": {"c": [true]}, "c": "text"})));
    assert_eq!(event.get("extra.a"), Some(&Value::Int(1)));
    // Setting the whole dictionary adds members; ignored values clear it.
    event.set("extra", "-").expect("clear");
    assert!(!event.contains("extra"));
    assert!(event.set("extra", "[1]").is_err());
    assert!(event.set("extra", r#"{"": 1}"#).is_err());
    assert!(event.set("extra.", "x").is_err());
}

#[test]
fn value_error_display_and_truncation() {
    let long = "x".repeat(1000);
    let e = Event::new().set("source.ip", &long).expect_err("bad ip");
    assert_eq!(e.field, "source.ip");
    assert_eq!(e.value.chars().count(), 200);
    assert_eq!(e.reason, "is not an IP address");
    let e = Event::new().set("source.ip", "300.1.1.1").expect_err("bad ip");
    assert_eq!(e.to_string(), r#"source.ip: "300.1.1.1" is not an IP address"#);
    assert_eq!(e.value_and_reason(), r#""300.1.1.1" is not an IP address"#);
    let multibyte = "é".repeat(300);
    let e = ValueError::new("comment", &multibyte, "is odd");
    assert_eq!(e.value.chars().count(), 200);
}

#[test]
fn float_repr_matches_python() {
    // test_data/float_repr.txt: f64 bits and Python's repr(), from data/python_reference.py.
    let mut count = 0;
    for line in include_str!("../test_data/float_repr.txt").lines() {
        if line.starts_with('#') {
            continue;
        }
        let (bits, repr) = line.split_once('\t').expect("bits<TAB>repr");
        let x = f64::from_bits(u64::from_str_radix(bits, 16).expect("hex"));
        assert_eq!(Value::Float(x).to_string(), repr, "bits {bits}");
        let mut event = Event::new();
        event.set_value("source.geolocation.latitude", Value::Float(x)).expect("finite");
        let line = to_line(&event);
        assert_eq!(line, format!("{{\"source.geolocation.latitude\": {repr}}}"));
        // And it reads back to the same bits.
        let back = neretva_event::intelmq_json::from_line(&line).expect("line");
        assert_eq!(back, event);
        count += 1;
    }
    assert!(count > 500, "{count}");
}

#[test]
fn value_display_forms() {
    assert_eq!(Value::Bool(true).to_string(), "true");
    assert_eq!(Value::Int(-3).to_string(), "-3");
    let t = time::macros::datetime!(2016-11-10 0:00 UTC);
    assert_eq!(Value::Time(t).to_string(), "2016-11-10T00:00:00+00:00");
    assert_eq!(
        format_time(time::macros::datetime!(2016-11-10 1:00:00.5 +01:00)),
        "2016-11-10T00:00:00.500000+00:00"
    );
    assert_eq!(
        Value::Json(Box::new(serde_json::json!({"b": 1, "a": [1, "x"]}))).to_string(),
        r#"{"a": [1, "x"], "b": 1}"#
    );
    assert_eq!(Value::Float(52.0).to_json(), serde_json::json!(52.0));
    assert_eq!(Value::Ip("2001:db8::1".parse().expect("ip")).to_json(), serde_json::json!("2001:db8::1"));
    assert_eq!(
        parse_time("Thu, 10 Nov 2016 12:34:56 +0100").map(format_time),
        Some("2016-11-10T11:34:56+00:00".to_owned())
    );
}

#[test]
fn month_and_weekday_names() {
    use neretva_event::{is_weekday_name, month_from_name};
    let months: Vec<Option<u8>> =
        ["Jan", "january", "SEP", "Sept", "sept.", "December", "dec.", "Janu", "", "13"]
            .into_iter()
            .map(month_from_name)
            .collect();
    assert_eq!(months, [Some(1), Some(1), Some(9), Some(9), Some(9), Some(12), Some(12), None, None, None]);
    let weekdays: Vec<bool> =
        ["Mon", "friday", "SUN", "Thurs", "", "monday."].into_iter().map(is_weekday_name).collect();
    assert_eq!(weekdays, [true, true, true, false, false, false]);
}

#[test]
fn event_hash_matches_intelmq() {
    // Python: IntelMQ's Message.hash() of this event:
    // >>> ev = {"classification.type": "scanner", "extra.flag": True, "extra.n": 2,
    // ...       "extra.nested": {"a": [1, None]}, "feed.accuracy": 100.0, "source.ip": "192.0.2.1",
    // ...       "source.port": 22, "comment": "it's \"quoted\"\n", "time.observation": "2015-01-01T00:00:00+00:00"}
    // >>> h = hashlib.sha256()
    // >>> for k, v in sorted(ev.items()):
    // ...     if k == "time.observation": continue
    // ...     h.update(k.encode()); h.update(b"\xc0"); h.update(repr(v).encode()); h.update(b"\xc0")
    // >>> h.hexdigest()
    let line = r#"{"classification.type": "scanner", "extra.flag": true, "extra.n": 2, "extra.nested": {"a": [1, null]}, "feed.accuracy": 100.0, "source.ip": "192.0.2.1", "source.port": 22, "comment": "it's \"quoted\"\n", "time.observation": "2015-01-01T00:00:00+00:00"}"#;
    let event = neretva_event::intelmq_json::from_line(line).expect("line");
    expect!["179e60a31f1e09449cc918a7fda73509cd709cb92d7985e433025fafde92838c"]
        .assert_eq(&event.event_hash());
    // time.observation does not count.
    let mut other = event.clone();
    other.set("time.observation", "2020-01-01").expect("time");
    assert_eq!(other.event_hash(), event.event_hash());
    other.set("source.port", "23").expect("port");
    assert_ne!(other.event_hash(), event.event_hash());
}

#[test]
fn every_field_accepts_a_typical_value() {
    let typical = |name: &str| -> &'static str {
        match field_spec(name).expect("field").ty {
            neretva_event::FieldType::ASN => "AS3320",
            neretva_event::FieldType::Accuracy => "90",
            neretva_event::FieldType::Base64 => "raw data",
            neretva_event::FieldType::Boolean => "true",
            neretva_event::FieldType::ClassificationTaxonomy => "malicious-code",
            neretva_event::FieldType::ClassificationType => "infected-system",
            neretva_event::FieldType::DateTime => "2016-11-10T00:00:00Z",
            neretva_event::FieldType::FQDN => "example.com",
            neretva_event::FieldType::Float => "1.5",
            neretva_event::FieldType::IPAddress => "192.0.2.1",
            neretva_event::FieldType::IPNetwork => "192.0.2.0/24",
            neretva_event::FieldType::Integer => "42",
            neretva_event::FieldType::JSON => "{\"a\": 1}",
            neretva_event::FieldType::JSONDict => "{\"a\": 1}",
            neretva_event::FieldType::Registry => "ripe",
            neretva_event::FieldType::TLP => "amber",
            neretva_event::FieldType::URL => "http://example.com/",
            neretva_event::FieldType::String
            | neretva_event::FieldType::LowercaseString
            | neretva_event::FieldType::UppercaseString => match name {
                "event_hash" => "ABCDEF",
                "misp.attribute_uuid" | "misp.event_uuid" => "5a6e0f5b-1234-4abc-8def-0123456789ab",
                "protocol.transport" => "tcp",
                "severity" => "high",
                n if n.ends_with(".cc") || n.ends_with("_cc") => "at",
                _ => "value",
            },
        }
    };
    let mut event = Event::new();
    for spec in fields() {
        event.set(spec.name, typical(spec.name)).unwrap_or_else(|e| panic!("{e}"));
    }
    // 88 fields plus one extra member.
    assert_eq!(event.len(), 89);
    let line = to_line(&event);
    assert_eq!(neretva_event::intelmq_json::from_line(&line).expect("line"), event);
}

#[test]
fn a_prepared_field_sets_what_set_id_sets() {
    let cases = [
        (FieldId::CLASSIFICATION_TYPE, "vulnerable-system"),
        (FieldId::FEED_NAME, "  DNS-Open-Resolvers "),
        (FieldId::PROTOCOL_APPLICATION, "DNS"),
        (FieldId::SOURCE_FQDN, "Host.Example.AT."),
        (FieldId::FEED_NAME, "N/A"),
        (FieldId::EXTRA, r#"{"a": 1}"#),
    ];
    for (id, text) in cases {
        let mut by_set = Event::new();
        by_set.set("feed.name", "before").unwrap();
        let mut by_prepared = by_set.clone();
        by_set.set_id(id, text).unwrap();
        by_prepared.set_prepared(&Event::prepare(id, text).unwrap()).unwrap();
        assert_eq!(by_prepared, by_set, "{} = {text:?}", id.name());
    }
    let error = Event::prepare(FieldId::CLASSIFICATION_TYPE, "no-such-type").unwrap_err();
    assert_eq!(
        error.to_string(),
        Event::new().set_id(FieldId::CLASSIFICATION_TYPE, "no-such-type").unwrap_err().to_string()
    );
}

#[test]
fn an_integer_is_held_to_its_length_in_characters() {
    let mut event = Event::new();
    for (text, ok) in [
        ("0", true),
        ("99999", true),
        ("100000", false),
        ("-9999", true),
        ("-10000", false),
        ("+00053", true),
    ] {
        let result = event.set("source.port", text);
        assert_eq!(result.is_ok(), ok, "{text}: {result:?}");
    }
    let error = event.set("source.port", "123456").expect_err("too long");
    assert_eq!(error.to_string(), "source.port: \"123456\" is too long (6 characters, at most 5)");
}
