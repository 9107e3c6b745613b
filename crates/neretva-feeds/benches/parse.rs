//! Parser throughput: Shadowserver `scan_dns` reports of 100,000 and 1,000,000 lines.
//!
//! `cargo bench -p neretva-feeds --bench parse`; `bench/feeds.sh` runs it beside IntelMQ.

use divan::counter::ItemsCount;
use neretva_feeds::parsers::shadowserver::ShadowserverParser;
use neretva_feeds::{FeedParser, Report};

fn main() {
    divan::main();
}

/// A `scan_dns` report in Shadowserver's CSV layout, deterministic.
fn scan_dns(lines: usize) -> Report {
    let mut raw = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\
         \"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    for i in 0..lines {
        raw.push_str(&format!(
            "\"2024-05-01 00:{:02}:{:02}\",\"medium\",\"10.{}.{}.{}\",\"udp\",\"53\",\"host{i}.example.ba\",\
             \"openresolver\",\"64500\",\"BA\",\"SARAJEVO\",\"SARAJEVO\",\"517311\",\"ptr\",\"Communications\",\
             \"9.11.4\",\"42.5\"\n",
            (i / 60) % 60,
            i % 60,
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
    }
    let observed =
        time::OffsetDateTime::from_unix_timestamp(1_714_521_600).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let mut report = Report::new("", Some(observed), raw.into_bytes());
    report
        .extra
        .push(("file_name".to_owned(), serde_json::Value::String("2024-05-01-scan_dns-bih-geo.csv".into())));
    report
}

#[divan::bench(args = [100_000, 1_000_000], sample_count = 5, sample_size = 1)]
fn shadowserver_scan_dns(bencher: divan::Bencher<'_, '_>, lines: usize) {
    let parser = ShadowserverParser::new();
    let report = scan_dns(lines);
    bencher.counter(ItemsCount::new(lines)).bench(|| {
        let parsed = parser.parse(&report);
        assert_eq!(parsed.events.len(), lines);
        parsed
    });
}
