//! Temporary: measures insert_events throughput.
#![allow(clippy::print_stdout, clippy::unwrap_used)]
use std::net::IpAddr;
use std::time::Instant;

use neretva_store::Store;
use neretva_store::feeds::{EventQuery, NewEvent, NewReport};
use uuid::Uuid;

fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
}

fn events(report: Uuid, n: usize, seed: u64) -> Vec<NewEvent> {
    let mut x = seed | 1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let orgs: Vec<Uuid> = (0..500).map(|i| Uuid::from_u128(0x1000 + i)).collect();
    let now = time::OffsetDateTime::now_utc();
    (0..n).map(|i| {
        let r = rnd();
        let ip = IpAddr::from([(r >> 8) as u8 | 1, (r >> 16) as u8, (r >> 24) as u8, (r >> 32) as u8]);
        let norgs = if std::env::var("BENCH_NOORGS").is_ok() { 0 } else { (r % 3) as usize };
        let json = format!(r#"{{"feed.name": "shadowserver-scan-ntp", "feed.provider": "Shadowserver", "feed.accuracy": 100.0, "time.source": "2026-11-28T12:00:00+00:00", "time.observation": "2026-11-28T12:00:05+00:00", "source.ip": "{ip}", "source.port": {}, "source.asn": {}, "source.geolocation.cc": "BA", "source.geolocation.city": "Sarajevo", "source.reverse_dns": "host-{i}.dynamic.example.ba", "protocol.transport": "udp", "protocol.application": "ntp", "classification.taxonomy": "vulnerable", "classification.type": "vulnerable-system", "classification.identifier": "ntp-monitor", "extra.response_size": 4680, "extra.naics": 517311, "extra.sector": "Communications, Service Provider, and Hosting Service", "raw": "InRpbWVzdGFtcCIsImlwIiwicHJvdG9jb2wiLCJwb3J0IiwiaG9zdG5hbWUiLCJwYWNrZXRzIiwic2l6ZSIsImFzbiIsImdlbyIsInJlZ2lvbiIsImNpdHki"}}"#, r % 65536, 64500 + r % 100);
        NewEvent {
            id: Uuid::now_v7(),
            report_id: report,
            feed: "shadowserver-scan-ntp".into(),
            line: i as u64 + 2,
            raw: format!("\"2026-11-28 12:00:00\",\"{ip}\",\"udp\",123,\"host-{i}.dynamic.example.ba\",2,4680,{},\"BA\",\"SARAJEVO\",\"SARAJEVO\"", 64500 + r % 100),
            time_observation: now,
            time_source: Some(now - time::Duration::seconds(5)),
            taxonomy: Some("vulnerable".into()),
            classification_type: Some("vulnerable-system".into()),
            source_ip: Some(ip),
            source_asn: Some(64500 + (r % 100) as u32),
            source_fqdn: Some(format!("host-{i}.dynamic.example.ba")),
            destination_ip: None,
            org_ids: (0..norgs).map(|k| orgs[((r >> (40 + k * 8)) % 500) as usize]).collect(),
            json,
        }
    }).collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let batch: usize = args.get(1).map(|a| a.parse().unwrap()).unwrap_or(100_000);
    let reports: usize = args.get(2).map(|a| a.parse().unwrap()).unwrap_or(5);
    let schema = format!("bench_{}", Uuid::new_v4().simple());
    let (admin, conn) =
        tokio_postgres::connect("postgres://postgres@127.0.0.1:5432/test", tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(conn);
    admin.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    let url = format!("postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}");
    let store = neretva_store_postgres::PostgresStore::connect(&url).await.unwrap();
    if let Ok(sql) = std::env::var("BENCH_PRE") {
        store.execute_raw(&sql).await.unwrap();
    }
    store.migrate().await.unwrap();
    if let Ok(sql) = std::env::var("BENCH_SQL") {
        store.execute_raw(&sql).await.unwrap();
    }
    let mut total = 0usize;
    let mut elapsed = 0.0;
    for r in 0..reports {
        let report = NewReport {
            id: Uuid::now_v7(),
            feed: "x".into(),
            parser: "p".into(),
            source: "s".into(),
            received_at: time::OffsetDateTime::now_utc(),
            sha256: format!("{r:064}"),
            data: vec![b'x'; 10_000_000],
        };
        let t = Instant::now();
        store.store_report(&report).await.unwrap();
        let store_s = t.elapsed().as_secs_f64();
        let evs = events(report.id, 100_000, r as u64 + 7);
        let bytes: usize = evs.iter().map(|e| e.json.len() + e.raw.len()).sum();
        let t = Instant::now();
        let c = cpu();
        for chunk in evs.chunks(batch) {
            store.insert_events(chunk).await.unwrap();
        }
        let s = t.elapsed().as_secs_f64();
        let c = cpu() - c;
        println!("  cpu {c:.2}s = {:.0}/s of cpu", evs.len() as f64 / c);
        total += evs.len();
        elapsed += s;
        println!(
            "report {r}: store_report 10MB {store_s:.3}s; 100k events ({} MB) in batches of {batch}: {s:.3}s = {:.0}/s",
            bytes / 1_000_000,
            evs.len() as f64 / s
        );
    }
    println!("total {total} events, {:.0}/s", total as f64 / elapsed);
    let t = Instant::now();
    let q = store
        .query_events(&EventQuery {
            network: Some("10.0.0.0/8".parse().unwrap()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    println!("network query {} rows {:.3}s", q.len(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    let q = store
        .query_events(&EventQuery {
            org_ids: Some(vec![Uuid::from_u128(0x1000 + 7)]),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    println!("org query {} rows {:.3}s", q.len(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    let q = store
        .query_events(&EventQuery { text: Some("host-99999.".into()), limit: 100, ..Default::default() })
        .await
        .unwrap();
    println!("text query {} rows {:.3}s", q.len(), t.elapsed().as_secs_f64());
    if std::env::var("BENCH_NO_PURGE").is_err() {
        let t = Instant::now();
        let n = store.purge_events(time::OffsetDateTime::now_utc() + time::Duration::hours(1)).await.unwrap();
        println!("purge {n} {:.3}s", t.elapsed().as_secs_f64());
    }
    drop(store);
    if std::env::var("BENCH_KEEP").is_ok() {
        println!("kept {schema}");
    } else {
        admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
    }
}
