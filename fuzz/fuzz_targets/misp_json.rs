//! MISP JSON: reading arbitrary bytes never panics; every problem has a path; what is imported
//! exports and reads back as the same events.

#![no_main]

use libfuzzer_sys::fuzz_target;
use neretva_intel::misp::{ImportContext, Limits, export_events, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let context = ImportContext { now: time::OffsetDateTime::UNIX_EPOCH, default_org: None };
    let limits = Limits { max_bytes: 1 << 20, max_events: 100, max_attributes: 1000, max_depth: 16, max_problems: 100 };
    let Ok(imported) = parse(text, &context, &limits) else { return };
    assert!(imported.problems.iter().all(|problem| !problem.path.is_empty()));
    let again = parse(&export_events(&imported.events).to_string(), &context, &Limits::default()).expect("an export reads back");
    assert!(again.problems.is_empty(), "{:?}", again.problems);
    assert_eq!(again.events, imported.events);
});
