//! The pipeline end to end on a real SQLite store: store raw, parse, route, rules, dedup, store.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use neretva_model::lookup::ConstituencyIndex;
use neretva_model::org::{EntityType, OrganisationFields};
use neretva_model::{Timestamp, Uuid};
use neretva_pipeline::process::Context;
use neretva_pipeline::{IngestOptions, Pipeline, PipelineConfig};
use neretva_store::feeds::{EventQuery, ReportStatus};
use neretva_store::{Actor, Store};
use neretva_store_sqlite::SqliteStore;

/// A Shadowserver `scan_dns` report; the lines in `bad_lines` (1-based, counting the header) have
/// a bad IP.
fn scan_dns(ips: &[String], bad_lines: &[usize]) -> Vec<u8> {
    let mut raw = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    for (index, ip) in ips.iter().enumerate() {
        let ip = if bad_lines.contains(&(index + 2)) { "300.1.2.3" } else { ip.as_str() };
        raw.push_str(&format!(
            "\"2026-11-27 10:00:00\",\"medium\",\"{ip}\",\"udp\",\"53\",\"\",\"openresolver\",\"64500\",\"BA\",\"SARAJEVO\",\"SARAJEVO\",\"517311\",\"\",\"Communications\",\"9.11.4\",\"42.5\"\n"
        ));
    }
    raw.into_bytes()
}

fn ips(network: u8, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("192.0.2.{}", usize::from(network) + i)).collect()
}

fn org(name: &str, short_name: &str) -> OrganisationFields {
    OrganisationFields {
        name: name.into(),
        short_name: short_name.into(),
        address: None,
        country: "BA".into(),
        sector: Some("energy".into()),
        subsector: None,
        entity_type: EntityType::Essential,
        authority_level: "State".into(),
        parent_id: None,
    }
}

struct Fixture {
    store: Arc<SqliteStore>,
    index: ConstituencyIndex,
    a: Uuid,
    b: Uuid,
    dir: std::path::PathBuf,
}

async fn fixture(name: &str) -> Fixture {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    store.migrate().await.unwrap();
    let actor = Actor("test".into());
    let a = store.create_org(&actor, &org("Elektro A", "EP-A")).await.unwrap();
    let b = store.create_org(&actor, &org("Elektro B", "EP-B")).await.unwrap();
    for (org_id, net) in [(a.id, "192.0.2.0/26"), (b.id, "192.0.2.64/26")] {
        let value = neretva_model::asset::AssetValue::guess(net).unwrap();
        store.add_asset(&actor, org_id, &value, None).await.unwrap();
    }
    let index = ConstituencyIndex::build(&store.list_assets(None).await.unwrap());
    let dir = std::env::temp_dir().join(format!("neretva-pipeline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Fixture { store, index, a: a.id, b: b.id, dir }
}

fn config(dir: &std::path::Path) -> PipelineConfig {
    let toml = serde_json::json!({
        "feeds": [{"name": "shadowserver-dns", "parser": "shadowserver", "provider": "Shadowserver",
                   "parser_options": {"report_type": "scan_dns"}}],
        "rules": [{"name": "drop the lab", "when": [{"field": "source.ip", "in_cidr": ["192.0.2.250/31"]}], "action": "drop"}],
        "sinks": [{"kind": "jsonl", "path": dir.join("events.jsonl")}],
    });
    serde_json::from_value(toml).unwrap()
}

fn now() -> Timestamp {
    time::OffsetDateTime::now_utc()
}

#[tokio::test]
async fn reports_become_routed_deduplicated_stored_events() {
    let f = fixture("main").await;
    let pipeline = Pipeline::build(&config(&f.dir), None).unwrap();
    let context = Context { store: f.store.as_ref(), index: &f.index, now: now() };

    // 10 addresses of A, 10 of B, 2 in the lab range the rules drop, one bad line.
    let mut addresses = ips(0, 10);
    addresses.extend(ips(64, 10));
    addresses.extend(["192.0.2.250".to_owned(), "192.0.2.251".to_owned()]);
    let data = scan_dns(&addresses, &[5]);
    let outcome = pipeline
        .ingest(
            &context,
            "shadowserver-dns",
            "file:/drop/2026-11-27-scan_dns-bih-geo.csv",
            data.clone(),
            IngestOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.counts.records, 22);
    assert_eq!(outcome.counts.errors, 1);
    assert_eq!(outcome.errors[0].line, 5, "{:?}", outcome.errors);
    assert_eq!(outcome.counts.dropped, 2);
    assert_eq!(outcome.counts.events, 19);
    assert_eq!(outcome.per_org.get(&f.a), Some(&9));
    assert_eq!(outcome.per_org.get(&f.b), Some(&10));
    let report = outcome.report.unwrap();
    assert_eq!(report.status, ReportStatus::Parsed);
    let errors = f.store.report_errors(report.id, 100).await.unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].raw.contains("300.1.2.3"));

    // Stored events carry report, line, raw line and routing; a constituent filter finds its own.
    let for_b = f
        .store
        .query_events(&EventQuery { org_ids: Some(vec![f.b]), limit: 100, ..EventQuery::default() })
        .await
        .unwrap();
    assert_eq!(for_b.len(), 10);
    let one = &for_b[0].event;
    assert_eq!(one.report_id, report.id);
    assert!(one.raw.contains("openresolver") && one.line >= 2);
    assert_eq!(one.taxonomy.as_deref(), Some("vulnerable"));
    assert!(
        one.json.contains("\"feed.name\": \"shadowserver-dns\"") && !one.json.contains("\"raw\""),
        "{}",
        one.json
    );

    // The same bytes again: stored once, not processed again.
    let again = pipeline
        .ingest(
            &context,
            "shadowserver-dns",
            "file:/drop/2026-11-27-scan_dns-bih-geo.csv",
            data,
            IngestOptions::default(),
        )
        .await
        .unwrap();
    assert!(again.already_stored);

    // A new report repeating five of A's addresses, one of them the bad line's (never stored):
    // four duplicates within the window.
    let mut next = ips(0, 5);
    next.extend(ips(100, 3));
    let outcome = pipeline
        .ingest(
            &context,
            "shadowserver-dns",
            "file:/drop/2026-11-28-scan_dns-bih-geo.csv",
            scan_dns(&next, &[]),
            IngestOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.counts.duplicates, 4);
    assert_eq!(outcome.counts.events, 4);

    // Re-parsing the first report replaces its events and does not call them duplicates.
    let reparsed = pipeline.reparse(&context, report.id).await.unwrap();
    assert_eq!((reparsed.counts.events, reparsed.counts.duplicates, reparsed.counts.errors), (19, 0, 1));
    let all = f.store.query_events(&EventQuery { limit: 1000, ..EventQuery::default() }).await.unwrap();
    assert_eq!(all.len(), 23);

    // Once the report's data is purged (report retention), it cannot be re-parsed; its events stay.
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    assert_eq!(f.store.purge_report_data(soon).await.unwrap(), 2);
    let error = pipeline.reparse(&context, report.id).await.unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "report {}: its raw data was purged (pipeline.report_retention_days), so it cannot be parsed again",
            report.id
        )
    );
    let all = f.store.query_events(&EventQuery { limit: 1000, ..EventQuery::default() }).await.unwrap();
    assert_eq!(all.len(), 23);

    // The JSON-lines sink got every stored event as IntelMQ JSON.
    let lines = std::fs::read_to_string(f.dir.join("events.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 19 + 4 + 19);
    for line in lines.lines() {
        neretva_event::intelmq_json::from_line(line).unwrap();
    }
    let _ = std::fs::remove_dir_all(&f.dir);
}

/// A report of several parser chunks and more than one stored batch, with bad lines in the first
/// chunk, on chunk and batch boundaries and last: the same counts, errors (in line order) and
/// stored events with a sink (events kept until stored) and without (events dropped early).
#[tokio::test]
async fn large_reports_cross_chunks_and_batches_without_losing_events_or_errors() {
    // 9,000 addresses outside the constituency but the first 64 (A's network).
    let addresses: Vec<String> = (0..9_000u32)
        .map(|i| if i < 64 { format!("192.0.2.{i}") } else { format!("198.18.{}.{}", i / 256, i % 256) })
        .collect();
    let chunk = neretva_feeds::CHUNK_RECORDS;
    // Line numbers count the header as line 1: record i is on line i + 2.
    let bad = [3, chunk + 1, chunk + 2, 4_096 + 1, 4_096 + 2, 8_192 + 7, 9_000 + 1];
    let data = scan_dns(&addresses, &bad);
    for with_sink in [false, true] {
        let f = fixture(if with_sink { "large-sink" } else { "large" }).await;
        let mut config = config(&f.dir);
        if !with_sink {
            config.sinks.clear();
        }
        let pipeline = Pipeline::build(&config, None).unwrap();
        let context = Context { store: f.store.as_ref(), index: &f.index, now: now() };
        let outcome = pipeline
            .ingest(
                &context,
                "shadowserver-dns",
                "file:big-scan_dns.csv",
                data.clone(),
                IngestOptions::default(),
            )
            .await
            .unwrap();
        let good = 9_000 - bad.len() as u64;
        assert_eq!(outcome.counts.records, 9_000);
        assert_eq!((outcome.counts.events, outcome.counts.errors, outcome.counts.dropped), (good, 7, 0));
        let lines: Vec<u64> = outcome.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, bad.iter().map(|&l| l as u64).collect::<Vec<_>>());
        // A's 64 addresses, one of them on the bad line 3.
        assert_eq!(outcome.per_org.get(&f.a), Some(&63));
        let report = outcome.report.unwrap();
        assert_eq!((report.counts.events, report.counts.errors), (good, 7));
        let stored = f.store.report_errors(report.id, 100).await.unwrap();
        assert_eq!(stored.iter().map(|e| e.line).collect::<Vec<_>>(), lines);
        let events =
            f.store.query_events(&EventQuery { limit: 10_000, ..EventQuery::default() }).await.unwrap();
        assert_eq!(events.len() as u64, good);
        let mut stored_lines: Vec<u64> = events.iter().map(|e| e.event.line).collect();
        stored_lines.sort_unstable();
        stored_lines.dedup();
        assert_eq!(stored_lines.len() as u64, good);
        assert!(stored_lines.iter().all(|line| !lines.contains(line)));
        assert!(events.iter().all(|e| e.event.raw.contains("openresolver")));
        let sunk = std::fs::read_to_string(f.dir.join("events.jsonl")).unwrap_or_default();
        assert_eq!(sunk.lines().count() as u64, if with_sink { good } else { 0 });
        let _ = std::fs::remove_dir_all(&f.dir);
    }
}

#[tokio::test]
async fn a_store_that_fails_half_way_ends_the_report_with_its_error() {
    // A store on a file, with a trigger that refuses events past line 5,000: the second of five
    // batches fails, the third waits in the channel, the fourth is handed over after the failure.
    let dir = std::env::temp_dir().join(format!("neretva-pipeline-store-fails-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("neretva.db");
    let store = SqliteStore::open(&path).unwrap();
    store.migrate().await.unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.line > 5000
             BEGIN SELECT RAISE(ABORT, 'the disk is full'); END",
        )
        .unwrap();
    let addresses: Vec<String> = (0..20_000u32).map(|i| format!("198.18.{}.{}", i / 256, i % 256)).collect();
    let mut config = config(&dir);
    config.sinks.clear();
    let pipeline = Pipeline::build(&config, None).unwrap();
    let index = ConstituencyIndex::build(&[]);
    let context = Context { store: &store, index: &index, now: now() };
    let ingest = pipeline.ingest(
        &context,
        "shadowserver-dns",
        "file:big-scan_dns.csv",
        scan_dns(&addresses, &[]),
        IngestOptions::default(),
    );
    let error = tokio::time::timeout(std::time::Duration::from_secs(60), ingest)
        .await
        .expect("the report ends instead of waiting for the failed store")
        .unwrap_err();
    assert!(error.to_string().contains("the disk is full"), "{error}");
    // The first batch stays; the failed one left nothing.
    let events = store.query_events(&EventQuery { limit: 10_000, ..EventQuery::default() }).await.unwrap();
    assert_eq!(events.len(), 4_096);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn dry_runs_store_nothing_and_return_events() {
    let f = fixture("dry").await;
    let pipeline = Pipeline::build(&config(&f.dir), None).unwrap();
    let context = Context { store: f.store.as_ref(), index: &f.index, now: now() };
    let mut addresses = ips(0, 3);
    addresses.push("192.0.2.1".to_owned());
    let outcome = pipeline
        .ingest(
            &context,
            "shadowserver-dns",
            "file:x-scan_dns.csv",
            scan_dns(&addresses, &[]),
            IngestOptions { dry_run: true, keep_events: true },
        )
        .await
        .unwrap();
    assert!(outcome.report.is_none());
    assert_eq!((outcome.counts.events, outcome.counts.duplicates), (3, 1));
    assert_eq!(outcome.events.len(), 3);
    assert!(outcome.events[0].raw().is_some(), "printed events carry IntelMQ's raw field");
    let stored = f.store.query_events(&EventQuery { limit: 10, ..EventQuery::default() }).await.unwrap();
    assert!(stored.is_empty());
    assert!(
        f.store
            .list_reports(&neretva_store::feeds::ReportQuery { limit: 10, ..Default::default() })
            .await
            .unwrap()
            .is_empty()
    );
    let _ = std::fs::remove_dir_all(&f.dir);
}

#[test]
fn configuration_errors_are_all_reported() {
    let config: PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [
            {"name": "x", "parser": "no-such-parser"},
            {"name": "x", "parser": "shadowserver", "parser_options": {"report_type": "nope", "colour": 1}},
        ],
        "dedup": {"fields": ["source.nothing"]},
    }))
    .unwrap();
    let errors = Pipeline::build(&config, None).unwrap_err();
    let text = errors.join("\n");
    for expected in [
        "unknown parser \"no-such-parser\"",
        "another feed has the same name",
        "unknown field \"source.nothing\"",
        "unknown Shadowserver report type \"nope\"",
        "unknown option \"colour\"",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

/// A webhook receiver on 127.0.0.1 that answers 500 once, then 200, and keeps every body.
async fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let mut request = Vec::new();
            let mut buffer = [0u8; 65536];
            loop {
                let n = stream.read(&mut buffer).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        if !first {
                            seen.lock().unwrap().push(body.to_owned());
                        }
                        break;
                    }
                }
            }
            let status = if first { "500 Internal Server Error" } else { "200 OK" };
            first = false;
            let _ = stream
                .write_all(
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
                )
                .await;
        }
    });
    (url, bodies)
}

#[tokio::test]
async fn webhook_sinks_receive_batches_and_retry() {
    let f = fixture("webhook").await;
    let (url, bodies) = receiver().await;
    let config: PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [{"name": "dns", "parser": "shadowserver", "parser_options": {"report_type": "scan_dns"}}],
        "sinks": [{"kind": "webhook", "url": url, "batch": 2, "headers": {"Authorization": "Bearer x"}}],
    }))
    .unwrap();
    let pipeline = Pipeline::build(&config, None).unwrap();
    let context = Context { store: f.store.as_ref(), index: &f.index, now: now() };
    let outcome = pipeline
        .ingest(&context, "dns", "file:x-scan_dns.csv", scan_dns(&ips(0, 3), &[]), IngestOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome.counts.events, 3);
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "two batches, the first after one retry: {bodies:?}");
    let first: Vec<serde_json::Value> = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0]["classification.type"], "vulnerable-system");
    let _ = std::fs::remove_dir_all(&f.dir);
}
