//! Times the store side of an ingestion: `dedup_check` and `insert_events` in the pipeline's
//! batches, on a fresh database file, with events read from a JSON-lines fixture.
//!
//! `cargo run --release -p neretva-store-sqlite --example ingest_bench -- EVENTS.jsonl REPORT DB`
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;
use std::time::Instant;

use neretva_store::Store;
use neretva_store::feeds::{DedupKey, NewEvent, NewReport, ReportCounts};
use neretva_store_sqlite::SqliteStore;
use uuid::Uuid;

fn ts(micros: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).unwrap()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (events_path, report_path, db) = (&args[1], &args[2], Path::new(&args[3]));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let report_id = Uuid::now_v7();
    let now = time::OffsetDateTime::now_utc();
    let events: Vec<NewEvent> = std::fs::read_to_string(events_path)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = |name: &str| v[name].as_str().map(str::to_owned);
            NewEvent {
                id: Uuid::now_v7(),
                report_id,
                feed: "shadowserver".into(),
                line: v["line"].as_u64().unwrap(),
                raw: text("raw").unwrap(),
                time_observation: ts(v["to"].as_i64().unwrap()),
                time_source: v["ts"].as_i64().map(ts),
                taxonomy: text("tax"),
                classification_type: text("typ"),
                source_ip: text("sip").filter(|s| !s.is_empty()).map(|hex| {
                    let n = u128::from_str_radix(&hex, 16).unwrap();
                    IpAddr::V6(Ipv6Addr::from(n)).to_canonical()
                }),
                source_asn: v["asn"].as_u64().map(|asn| asn as u32),
                source_fqdn: text("fqdn"),
                destination_ip: None,
                org_ids: Vec::new(),
                json: text("json").unwrap(),
            }
        })
        .collect();
    let keys: Vec<DedupKey> = events
        .iter()
        .map(|_| DedupKey {
            key: format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
            seen_at: now,
            report_id,
        })
        .collect();
    let data = std::fs::read(report_path).unwrap();
    let start = Instant::now();
    let store = SqliteStore::open(db).unwrap();
    store.migrate().await.unwrap();
    if let Ok(sql) = std::env::var("BENCH_SQL") {
        store.execute_raw(&sql).await.unwrap();
    }
    let report = NewReport {
        id: report_id,
        feed: "shadowserver".into(),
        parser: "shadowserver".into(),
        source: report_path.clone(),
        received_at: now,
        sha256: format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        data,
    };
    store.store_report(&report).await.unwrap();
    let stored = start.elapsed();
    let (mut dedup, mut insert) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for (events, keys) in events.chunks(9_040).zip(keys.chunks(9_040)) {
        let t = Instant::now();
        let flags = store.dedup_check(keys, now - time::Duration::hours(24)).await.unwrap();
        assert!(flags.iter().all(|dup| !dup));
        dedup += t.elapsed();
        let t = Instant::now();
        store.insert_events(events).await.unwrap();
        insert += t.elapsed();
    }
    let counts = ReportCounts { records: 100_000, events: events.len() as u64, ..ReportCounts::default() };
    store.finish_report(report_id, counts, &[], None, now).await.unwrap();
    let t = Instant::now();
    drop(store);
    let close = t.elapsed();
    let size = std::fs::metadata(db).unwrap().len();
    println!(
        "report {:.3} s, dedup {:.3} s, insert {:.3} s, close {:.3} s, total {:.3} s; {} events, {} bytes, {:.0} B/event",
        stored.as_secs_f64(),
        dedup.as_secs_f64(),
        insert.as_secs_f64(),
        close.as_secs_f64(),
        start.elapsed().as_secs_f64(),
        events.len(),
        size,
        (size - report.data.len() as u64) as f64 / events.len() as f64
    );
}
