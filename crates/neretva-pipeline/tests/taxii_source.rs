//! The TAXII source against the OASIS reference server, medallion, on 127.0.0.1.
//!
//! Runs when `NERETVA_TEST_PYTHON` names a Python whose environment has medallion installed
//! (CI's `.ci/run` sets it up), and then fails on any problem.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use neretva_model::lookup::ConstituencyIndex;
use neretva_pipeline::sources::{self, DecompressLimits};
use neretva_pipeline::{Pipeline, PipelineConfig};
use neretva_store::Store;
use neretva_store_sqlite::SqliteStore;
use serde_json::json;
use support::{eventually, processed, reports, stop_sources};
use tokio::sync::watch;

const COLLECTION: &str = "5f3e2a4b-8c1d-4e6f-9a0b-1c2d3e4f5a6b";

/// A medallion server, stopped when dropped.
struct Medallion {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn indicator(n: u32, created: &str) -> serde_json::Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": created,
        "modified": created,
        "name": format!("C2 server {n}"),
        "indicator_types": ["malicious-activity"],
        "pattern": format!("[ipv4-addr:value = '198.51.{}.{}']", n / 250, n % 250 + 1),
        "pattern_type": "stix",
        "valid_from": created,
    })
}

/// Starts medallion with `count` indicators added one millisecond apart.
fn start_medallion(python: &std::ffi::OsStr, count: u32) -> Medallion {
    let dir = std::env::temp_dir().join(format!("neretva-medallion-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let objects: Vec<serde_json::Value> =
        (0..count).map(|n| indicator(n, "2025-06-01T00:00:00.000Z")).collect();
    let manifest: Vec<serde_json::Value> = (0..count)
        .map(|n| {
            json!({
                "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
                "date_added": format!("2025-06-01T00:00:{:02}.{:03}000Z", n / 1000, n % 1000),
                "version": "2025-06-01T00:00:00.000Z",
                "media_type": "application/stix+json;version=2.1",
            })
        })
        .collect();
    let root = format!("http://127.0.0.1:{port}/");
    let data = json!({
        "/discovery": {"title": "test", "default": format!("{root}api1/"), "api_roots": [format!("{root}api1/")]},
        "api1": {
            "information": {"title": "api1", "versions": ["application/taxii+json;version=2.1"], "max_content_length": 10_485_760},
            "status": [],
            "collections": [{
                "id": COLLECTION, "title": "indicators", "can_read": true, "can_write": true,
                "media_types": ["application/stix+json;version=2.1"], "objects": objects, "manifest": manifest,
            }],
        },
    });
    std::fs::write(dir.join("data.json"), data.to_string()).unwrap();
    let config = json!({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": dir.join("data.json")},
        "users": {"reader": "R3ader-pass"},
        "taxii": {"max_page_size": 100},
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let medallion = PathBuf::from(python).parent().unwrap().join("medallion");
    let child = Command::new(medallion)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--log-level", "ERROR"])
        .arg(dir.join("config.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("medallion, beside NERETVA_TEST_PYTHON");
    Medallion { child, port, _dir: TempDir(dir) }
}

fn run(
    config: &PipelineConfig,
    store: &Arc<SqliteStore>,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let pipeline = Arc::new(Pipeline::build(config, None).unwrap());
    let index = Arc::new(ConstituencyIndex::build(&[]));
    sources::run(
        pipeline,
        config.feeds.clone(),
        DecompressLimits::from(&config.limits),
        Arc::clone(store) as Arc<dyn Store>,
        Arc::new(move || Arc::clone(&index)),
        shutdown,
    )
}

#[tokio::test]
async fn a_taxii_collection_is_polled_incrementally_and_resumed_after_a_restart() {
    let Some(python) = std::env::var_os("NERETVA_TEST_PYTHON") else { return };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = start_medallion(&python, 250);
    let base = format!("http://127.0.0.1:{}/api1/collections/{COLLECTION}/", server.port);
    let http = reqwest::Client::new();
    eventually("medallion answers", || async {
        http.get(&base)
            .basic_auth("reader", Some("R3ader-pass"))
            .header("Accept", "application/taxii+json;version=2.1")
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;

    let config: PipelineConfig = serde_json::from_value(json!({
        "feeds": [{"name": "partner-taxii", "parser": "stix-indicators",
                   "source": {"kind": "taxii", "collection_url": base, "username": "reader", "password": "R3ader-pass",
                              "page_size": 100, "interval_minutes": 1}}],
    }))
    .unwrap();
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    store.migrate().await.unwrap();

    // The first poll reads the collection in pages of 100: three reports, 250 events.
    let (stopper, shutdown) = watch::channel(false);
    let handles = run(&config, &store, shutdown);
    eventually("three pages are processed", || processed(&store, 3)).await;
    let first = reports(&store).await;
    assert_eq!(first.iter().map(|r| r.counts.events).collect::<Vec<_>>(), [100, 100, 50]);
    assert_eq!(first.last().unwrap().source, format!("taxii:{base}#added_after=2025-06-01T00:00:00.249000Z"));
    stop_sources(stopper, handles).await;

    // Five indicators are added; after a restart only they are fetched.
    let added: Vec<serde_json::Value> =
        (1000..1005).map(|n| indicator(n, "2026-11-29T00:00:00.000Z")).collect();
    let reply = http
        .post(format!("{base}objects/"))
        .basic_auth("reader", Some("R3ader-pass"))
        .header("Content-Type", "application/taxii+json;version=2.1")
        .header("Accept", "application/taxii+json;version=2.1")
        .body(json!({"objects": added}).to_string())
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success(), "{}", reply.text().await.unwrap());

    let (stopper, shutdown) = watch::channel(false);
    let handles = run(&config, &store, shutdown);
    eventually("the added objects are processed", || processed(&store, 4)).await;
    let fourth = &reports(&store).await[3];
    assert_eq!(fourth.counts.events, 5);
    assert!(fourth.source.starts_with(&format!("taxii:{base}#added_after=2026-")), "{}", fourth.source);
    let events = store
        .query_events(&neretva_store::feeds::EventQuery { limit: 1000, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(events.len(), 255);
    assert!(
        events.iter().any(|e| e.event.json.contains("198.51.4.5")),
        "indicator 1004's address is 198.51.4.5"
    );
    stop_sources(stopper, handles).await;

    // Nothing new: another restart stores nothing more.
    let (stopper, shutdown) = watch::channel(false);
    let handles = run(&config, &store, shutdown);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(reports(&store).await.len(), 4);
    stop_sources(stopper, handles).await;
}
