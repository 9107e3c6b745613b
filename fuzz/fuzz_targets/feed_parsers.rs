//! Every feed parser on arbitrary bytes: the first byte picks the parser, the rest is the report.
//! A parser must never panic, whatever the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use neretva_feeds::Report;

fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else { return };
    let parsers = neretva_feeds::parsers();
    let parser = &parsers[usize::from(*selector) % parsers.len()];
    let mut report = Report::new(parser.name(), Some(time::OffsetDateTime::UNIX_EPOCH), body.to_vec());
    // Shadowserver needs a report type; give it one of the common ones.
    report.extra.push(("file_name".to_owned(), serde_json::Value::String("2026-01-01-scan_dns-ba-geo.csv".into())));
    let parsed = parser.parse(&report);
    for error in &parsed.errors {
        assert!(error.line <= body.len() as u64 + 1);
    }
});
