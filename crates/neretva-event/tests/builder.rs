//! `EventBuilder` makes the same events as `Event`'s setters, whatever the order of the calls.

use neretva_event::{Event, EventBuilder, FieldId, Report, Value};
use proptest::prelude::*;

/// One call, made on an `Event` and on an `EventBuilder` alike.
#[derive(Clone, Debug)]
enum Op {
    SetId(&'static str, &'static str),
    SetValue(&'static str, Value),
    Prepared(&'static str, &'static str),
    Remove(&'static str),
    Raw(&'static str),
    Stamp,
}

const FIELDS: [&str; 9] = [
    "source.ip",
    "source.port",
    "source.geolocation.cc",
    "protocol.transport",
    "classification.type",
    "feed.name",
    "time.source",
    "extra",
    "source.fqdn",
];

const TEXTS: [&str; 16] = [
    "",
    "-",
    "N/A",
    " - ",
    "192.0.2.1",
    "2001:DB8::1",
    "443",
    "at",
    "UDP",
    "x y",
    "2026-03-01 16:55:42",
    "Example.AT.",
    "{\"a\": 1, \"b\": [1, 2]}",
    "{\"\": 1}",
    "not json",
    "vulnerable-system",
];

/// Member names: the first three are named to the builder in advance.
const MEMBERS: [&str; 6] = ["extra.a", "extra.tag", "extra.naics", "extra.b", "extra.zz", "extra."];

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        proptest::sample::select(&TEXTS[..]).prop_map(Value::str),
        (-5i64..70_000).prop_map(Value::Int),
        prop_oneof![Just(f64::INFINITY), Just(8.67), Just(-0.5)].prop_map(Value::Float),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Ip("192.0.2.7".parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])))),
        Just(Value::Json(Box::new(serde_json::json!({"k": "v"})))),
        Just(Value::Json(Box::new(serde_json::json!([1])))),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let field = proptest::sample::select(&FIELDS[..]);
    let name = prop_oneof![field.clone(), proptest::sample::select(&MEMBERS[..])];
    let text = proptest::sample::select(&TEXTS[..]);
    prop_oneof![
        (field.clone(), text.clone()).prop_map(|(f, t)| Op::SetId(f, t)),
        (name.clone(), value()).prop_map(|(n, v)| Op::SetValue(n, v)),
        (field.clone(), text.clone()).prop_map(|(f, t)| Op::Prepared(f, t)),
        field.prop_map(Op::Remove),
        text.prop_map(Op::Raw),
        Just(Op::Stamp),
    ]
}

fn report() -> Report {
    let mut report = Report::new("Feed", None, Vec::new());
    report.feed_code = Some("code".to_owned());
    report.feed_accuracy = Some(90.0);
    report
}

/// Applies the calls to an event and a builder; every call must succeed or fail alike.
fn run(ops: &[Op], builder: &mut EventBuilder) -> (Event, Event) {
    let report = report();
    let mut event = Event::new();
    for op in ops {
        let (on_event, on_builder) = match op {
            Op::SetId(field, text) => {
                let id = FieldId::from_name(field).unwrap_or(FieldId::EXTRA);
                (event.set_id(id, text), builder.set_id(id, text))
            }
            Op::SetValue(name, value) => {
                let on_event = event.set_value(name, value.clone());
                let on_builder = match builder.member_slot(name) {
                    Some(slot) => builder.set_member(slot, value.clone()),
                    None => builder.set_value(name, value.clone()),
                };
                (on_event, on_builder)
            }
            Op::Prepared(field, text) => {
                let id = FieldId::from_name(field).unwrap_or(FieldId::EXTRA);
                match Event::prepare(id, text) {
                    Ok(prepared) => (event.set_prepared(&prepared), builder.set_prepared(&prepared)),
                    Err(e) => (Err(e.clone()), Err(e)),
                }
            }
            Op::Remove(field) => {
                let id = FieldId::from_name(field).unwrap_or(FieldId::EXTRA);
                event.remove_id(id);
                builder.remove_id(id);
                (Ok(()), Ok(()))
            }
            Op::Raw(text) => {
                event.set_raw(text.as_bytes());
                builder.set_raw(text.as_bytes());
                (Ok(()), Ok(()))
            }
            Op::Stamp => {
                report.stamp(&mut event);
                builder.stamp(&report);
                (Ok(()), Ok(()))
            }
        };
        assert_eq!(on_event, on_builder, "{op:?}");
        assert_eq!(event.get_id(FieldId::FEED_NAME), builder.get_id(FieldId::FEED_NAME));
    }
    (event, builder.build())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn builder_makes_what_the_setters_make(
        first in proptest::collection::vec(op(), 0..24),
        second in proptest::collection::vec(op(), 0..24),
    ) {
        let mut builder = EventBuilder::new(MEMBERS[..3].iter().copied());
        let (event, built) = run(&first, &mut builder);
        prop_assert_eq!(&event, &built);
        prop_assert_eq!(event.iter().count(), built.len());
        // The builder is empty after `build`, so the next event starts afresh.
        let (event, built) = run(&second, &mut builder);
        prop_assert_eq!(event, built);
    }
}

#[test]
fn a_builder_names_only_valid_members_and_clears_to_empty() {
    let mut builder = EventBuilder::new(["extra.b", "extra.a", "extra.b", "extra.", "source.ip", "extra"]);
    assert!(builder.member_slot("extra.a").is_some());
    assert!(builder.member_slot("extra.b").is_some());
    assert_ne!(builder.member_slot("extra.a"), builder.member_slot("extra.b"));
    assert_eq!(builder.member_slot("extra."), None);
    assert_eq!(builder.member_slot("source.ip"), None);
    assert_eq!(builder.member_slot("extra"), None);

    let slot = builder.member_slot("extra.b").unwrap_or_else(|| unreachable!());
    builder.set_member(slot, Value::Int(1)).unwrap_or_else(|e| panic!("{e}"));
    builder.set_id(FieldId::SOURCE_IP, "192.0.2.1").unwrap_or_else(|e| panic!("{e}"));
    builder.set_value("extra.c", Value::str("x")).unwrap_or_else(|e| panic!("{e}"));
    builder.clear();
    assert!(builder.build().is_empty());

    builder.set_value("extra.c", Value::str("x")).unwrap_or_else(|e| panic!("{e}"));
    builder.set_member(slot, Value::Int(1)).unwrap_or_else(|e| panic!("{e}"));
    builder.set_value("extra.a", Value::Bool(true)).unwrap_or_else(|e| panic!("{e}"));
    let event = builder.build();
    let names: Vec<&str> = event.iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["extra.a", "extra.b", "extra.c"]);
    assert!(builder.build().is_empty());
}
