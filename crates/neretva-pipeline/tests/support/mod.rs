//! Helpers shared by the pipeline's integration tests: reports to feed in, archives, and
//! waiting for sources that run on their own tasks.

// Each test file uses its own share of these.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use neretva_model::lookup::ConstituencyIndex;
use neretva_pipeline::sources::{self, DecompressLimits};
use neretva_pipeline::{Pipeline, PipelineConfig};
use neretva_store::Store;
use neretva_store::feeds::{ReportInfo, ReportQuery, ReportStatus};
use neretva_store_sqlite::SqliteStore;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A Shadowserver `scan_dns` report with one line per address.
pub(crate) fn scan_dns(ips: &[impl AsRef<str>]) -> Vec<u8> {
    let mut raw = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    for ip in ips {
        raw.push_str(&format!(
            "\"2026-11-27 10:00:00\",\"medium\",\"{}\",\"udp\",\"53\",\"\",\"openresolver\",\"64500\",\"BA\",\"SARAJEVO\",\"SARAJEVO\",\"517311\",\"\",\"Communications\",\"9.11.4\",\"42.5\"\n",
            ip.as_ref()
        ));
    }
    raw.into_bytes()
}

/// `count` addresses of 192.0.2.0/24 from `.first` on.
pub(crate) fn ips(first: u8, count: u8) -> Vec<String> {
    (first..first + count).map(|i| format!("192.0.2.{i}")).collect()
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

pub(crate) fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A zip archive of the given members (deflated); names ending in `/` are directories.
pub(crate) fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        if name.ends_with('/') {
            writer.add_directory(*name, options).unwrap();
        } else {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
    }
    writer.finish().unwrap().into_inner()
}

/// Waits (in real time) until `condition` holds, for up to twenty seconds.
pub(crate) async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..400 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Every stored report, oldest first.
pub(crate) async fn reports(store: &SqliteStore) -> Vec<ReportInfo> {
    let mut reports =
        store.list_reports(&ReportQuery { limit: 100, ..ReportQuery::default() }).await.unwrap();
    reports.reverse();
    reports
}

/// Whether exactly `count` reports are stored and all of them are processed
/// (a report is stored before it is parsed; its counts are final afterwards).
pub(crate) async fn processed(store: &SqliteStore, count: usize) -> bool {
    let all = reports(store).await;
    all.len() == count && all.iter().all(|report| report.status != ReportStatus::Received)
}

/// Lets the paused clock jump over a one-minute polling interval, then runs in real time again.
pub(crate) async fn skip_interval() {
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(61)).await;
    tokio::time::resume();
}

/// Runs the sources of `config`'s feeds through `pipeline` into `store`, with an empty
/// constituency.
pub(crate) fn run_sources(
    pipeline: &Arc<Pipeline>,
    config: &PipelineConfig,
    store: &Arc<SqliteStore>,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    sources::run(
        Arc::clone(pipeline),
        config.feeds.clone(),
        DecompressLimits::from(&config.limits),
        Arc::clone(store) as Arc<dyn Store>,
        Arc::new(|| Arc::new(ConstituencyIndex::default())),
        shutdown,
    )
}

/// Stops the sources and waits until each task has ended.
pub(crate) async fn stop_sources(stop: watch::Sender<bool>, handles: Vec<JoinHandle<()>>) {
    stop.send(true).unwrap();
    for handle in handles {
        tokio::time::timeout(Duration::from_secs(10), handle).await.unwrap().unwrap();
    }
}

/// A certificate authority (`ca.pem`) and the server's certificate for 127.0.0.1 and localhost
/// (`server.pem`, `server.key`) it signed, made with `openssl` in `dir`.
pub(crate) fn certificates(dir: &std::path::Path) {
    let openssl = |args: &[&str]| {
        let output = std::process::Command::new("openssl").args(args).current_dir(dir).output().unwrap();
        assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2"];
    ca.extend(ec);
    ca.extend(["-subj", "/CN=Neretva test CA", "-addext", "basicConstraints=critical,CA:TRUE"]);
    ca.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(&ca);
    let mut request = vec!["req", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"];
    request.extend(ec);
    openssl(&request);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}
