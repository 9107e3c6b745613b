//! Sources end to end, hermetically: decompression with limits, an HTTP server on 127.0.0.1
//! written by hand, and a polled directory, ingesting into a real SQLite store.

// The helpers fail their test loudly, like the tests themselves.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use neretva_model::lookup::ConstituencyIndex;
use neretva_pipeline::sources::{self, DecompressLimits, HttpSource, HttpSourceConfig, SourceError};
use neretva_pipeline::{Pipeline, PipelineConfig};
use neretva_store::Store;
use neretva_store_sqlite::SqliteStore;
use support::{
    bzip2, eventually, gzip, ips, processed, reports, run_sources, scan_dns, skip_interval, stop_sources, zip,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

const MIB: u64 = 1024 * 1024;

/// A single gzip member inflating to `mib` MiB of zeros, built without materialising them: one
/// deflated MiB of zeros ending in a full flush (which makes it independent of what came before)
/// repeated, then the final block. Its CRC and size are wrong on purpose: a decompressor reading
/// to the end would fail on them rather than on the size limit.
fn gzip_bomb(mib: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let zeros = vec![0u8; 1 << 20];
    let mut compress = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(1 << 16);
    compress.compress_vec(&zeros, &mut block, FlushCompress::Full).unwrap();
    assert_eq!(compress.total_in(), 1 << 20, "the whole MiB went into one block");
    let mut end = Vec::with_capacity(64);
    compress.compress_vec(&[], &mut end, FlushCompress::Finish).unwrap();
    let mut stream = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    for _ in 0..mib {
        stream.extend_from_slice(&block);
    }
    stream.extend_from_slice(&end);
    stream.extend_from_slice(&[0; 8]);
    stream
}

fn error_text<T: std::fmt::Debug>(result: Result<T, SourceError>) -> String {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn gzip_bzip2_and_zip_are_unpacked_and_plain_data_passes() {
    let limits = DecompressLimits::new(MIB);
    let csv = scan_dns(&ips(1, 3));

    let out = sources::decompress("2026-11-27-scan_dns-bih-geo.csv.gz", gzip(&csv), &limits).unwrap();
    assert_eq!(out, vec![("2026-11-27-scan_dns-bih-geo.csv".to_owned(), csv.clone())]);
    // Detected by its magic bytes whatever its name says.
    let out = sources::decompress("download", gzip(&csv), &limits).unwrap();
    assert_eq!(out, vec![("download".to_owned(), csv.clone())]);

    let out = sources::decompress("x.csv.bz2", bzip2(&csv), &limits).unwrap();
    assert_eq!(out, vec![("x.csv".to_owned(), csv.clone())]);

    let archive = zip(&[("a.csv", &csv), ("sub/", b""), ("sub/b.csv", b"b\n"), ("empty.csv", b"")]);
    let out = sources::decompress("reports.zip", archive, &limits).unwrap();
    let names: Vec<&str> = out.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["a.csv", "sub/b.csv", "empty.csv"]);
    assert_eq!(out[0].1, csv);
    assert_eq!(out[1].1, b"b\n");

    let out = sources::decompress("x.csv", csv.clone(), &limits).unwrap();
    assert_eq!(out, vec![("x.csv".to_owned(), csv)]);

    // A file named like an archive that is not one is an error naming it.
    let text = error_text(sources::decompress("x.csv.gz", b"a,b\n".to_vec(), &limits));
    assert!(text.starts_with("x.csv.gz: cannot decompress gzip data"), "{text}");
    let text = error_text(sources::decompress("x.zip", b"a,b\n".to_vec(), &limits));
    assert!(text.starts_with("x.zip: cannot decompress zip data"), "{text}");
}

#[test]
fn a_gzip_bomb_is_stopped_at_the_limit() {
    // 1 GiB of zeros in about a megabyte.
    let bomb = gzip_bomb(1024);
    assert!(bomb.len() < 8 * MIB as usize, "{}", bomb.len());
    let started = std::time::Instant::now();
    let text = error_text(sources::decompress("bomb.csv.gz", bomb, &DecompressLimits::new(MIB)));
    assert_eq!(
        text,
        "bomb.csv.gz: more than 1048576 bytes, over the report size limit (pipeline.limits.max_report_bytes)"
    );
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());

    // Within the limit, the same construction inflates (up to its wrong checksum), which shows
    // that the limit, not the end of the stream, stopped the bomb above.
    let text = error_text(sources::decompress("small.gz", gzip_bomb(2), &DecompressLimits::new(4 * MIB)));
    assert!(text.starts_with("small.gz: cannot decompress gzip data"), "{text}");
}

#[test]
fn zip_archives_with_too_many_entries_bombs_or_too_much_in_total_are_refused() {
    let limits = DecompressLimits::new(MIB);
    let names: Vec<String> = (0..1001).map(|i| format!("{i}.csv")).collect();
    let members: Vec<(&str, &[u8])> = names.iter().map(|name| (name.as_str(), &b"x\n"[..])).collect();
    let text = error_text(sources::decompress("many.zip", zip(&members), &limits));
    assert_eq!(text, "many.zip: the archive has 1001 entries, over the limit of 1000");
    // 1000 is fine.
    assert_eq!(sources::decompress("many.zip", zip(&members[..1000]), &limits).unwrap().len(), 1000);

    // 16 MiB of zeros deflate about 1000 to 1.
    let zeros = vec![0u8; 16 * MIB as usize];
    let bomb = zip(&[("ok.csv", b"a\n"), ("zeros.csv", &zeros)]);
    let text = error_text(sources::decompress("bomb.zip", bomb, &DecompressLimits::new(64 * MIB)));
    assert_eq!(
        text,
        "bomb.zip: member \"zeros.csv\" is compressed more than 200 to 1, refused as a decompression bomb"
    );

    // Each member within the report limit, but more than the archive's total.
    let text_member: Vec<u8> =
        (0..600_000u32).map(|i| b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8).collect();
    let archive = zip(&[("a.csv", &text_member), ("b.csv", &text_member)]);
    let limits = DecompressLimits { max_total_bytes: MIB, ..DecompressLimits::new(MIB) };
    let text = error_text(sources::decompress("total.zip", archive.clone(), &limits));
    assert_eq!(
        text,
        "total.zip: the archive's members hold more than 1048576 bytes in total, over its limit"
    );
    // A member over the report limit names the member.
    let text = error_text(sources::decompress("total.zip", archive, &DecompressLimits::new(500_000)));
    assert!(text.starts_with("total.zip/a.csv: more than 500000 bytes"), "{text}");
}

#[test]
fn source_configuration_is_checked() {
    let config: PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [
            {"name": "a", "parser": "shadowserver", "source": {"kind": "http", "url": "ftp://example.org/x", "interval_minutes": 0, "timeout_seconds": 0, "headers": {"Bad Name": "v", "X-Key": "line\nbreak"}, "file_name": "../x.csv"}},
            {"name": "b", "parser": "shadowserver", "source": {"kind": "http", "url": "not a url"}},
            {"name": "c", "parser": "shadowserver", "source": {"kind": "directory", "path": "", "pattern": "a/*.csv", "poll_seconds": 0, "done_dir": ""}},
            {"name": "d", "parser": "shadowserver", "source": {"kind": "directory", "path": "/in", "done_dir": "/in"}},
            {"name": "e", "parser": "shadowserver", "source": {"kind": "file", "path": ""}},
            {"name": "f", "parser": "shadowserver", "source": {"kind": "http", "url": "https://dl.example.org/x.csv?key=1", "headers": {"X-Key": "secret"}}},
            {"name": "g", "parser": "shadowserver", "source": {"kind": "directory", "path": "/in", "pattern": "*.csv"}},
            {"name": "h", "parser": "shadowserver", "source": {"kind": "misp-feed", "url": "https://feeds.example/osint/"}},
            {"name": "i", "parser": "shadowserver", "source": {"kind": "http", "url": "https://feeds.example/x.csv", "password": "p"}},
            {"name": "j", "parser": "shadowserver", "source": {"kind": "http", "url": "https://feeds.example/x.csv", "username": "a:b", "password": "p"}},
        ],
    }))
    .unwrap();
    let errors = config.check();
    let expected = [
        "pipeline.feeds[0] (a): source.url: the scheme must be http or https, not \"ftp\"",
        "pipeline.feeds[0] (a): source.interval_minutes: must be at least 1",
        "pipeline.feeds[0] (a): source.timeout_seconds: must be at least 1",
        "pipeline.feeds[0] (a): source.headers: \"Bad Name\" is not a valid header name",
        "pipeline.feeds[0] (a): source.headers: the value of \"X-Key\" is not a valid header value",
        "pipeline.feeds[0] (a): source.file_name: \"../x.csv\" must be a file name, without '/'",
        "pipeline.feeds[1] (b): source.url: not a valid URL: relative URL without a base",
        "pipeline.feeds[2] (c): source.path: must not be empty",
        "pipeline.feeds[2] (c): source.pattern: \"a/*.csv\" must be a file name pattern such as \"*.csv\"",
        "pipeline.feeds[2] (c): source.poll_seconds: must be at least 1",
        "pipeline.feeds[2] (c): source.done_dir: must not be empty",
        "pipeline.feeds[3] (d): source.done_dir: must not be the watched directory",
        "pipeline.feeds[4] (e): source.path: must not be empty",
        "pipeline.feeds[7] (h): a misp-feed source brings MISP events, which the parser \"misp-feed\" reads, not \"shadowserver\"",
        "pipeline.feeds[8] (i): source.password: needs source.username",
        "pipeline.feeds[9] (j): source.username: must not be empty or hold ':' or control characters",
    ];
    assert_eq!(errors, expected);
    // Defaults, and header values kept out of debug output.
    let Some(sources::SourceConfig::Http(http)) = &config.feeds[5].source else { panic!() };
    assert_eq!((http.interval_minutes, http.timeout_seconds), (60, 60));
    let debug = format!("{:?}", config.feeds[5]);
    assert!(!debug.contains("secret") && !debug.contains("key=1") && debug.contains("X-Key"), "{debug}");
    let debug = format!("{:?}", config.feeds[9]);
    assert!(debug.contains("a:b") && !debug.contains("\"p\""), "the password stays out: {debug}");
    let Some(sources::SourceConfig::Directory(directory)) = &config.feeds[6].source else { panic!() };
    assert_eq!((directory.poll_seconds, directory.done_dir.as_ref()), (30, None));

    for (source, message) in [
        (serde_json::json!({"kind": "ftp", "url": "x"}), "unknown variant `ftp`"),
        (serde_json::json!({"kind": "file", "path": "/x", "colour": 1}), "unknown field `colour`"),
        (serde_json::json!({"kind": "http"}), "missing field `url`"),
    ] {
        let result: Result<PipelineConfig, _> = serde_json::from_value(serde_json::json!({
            "feeds": [{"name": "a", "parser": "shadowserver", "source": source}],
        }));
        let error = result.unwrap_err().to_string();
        assert!(error.contains(message), "{error}");
    }
}

/// One canned HTTP/1.1 response.
#[derive(Clone)]
struct Reply {
    status: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// Instead of the body: this many zeros without a `Content-Length`, until the client hangs up.
    stream: Option<u64>,
    /// Instead of answering: wait this long.
    stall: Option<Duration>,
}

impl Reply {
    fn new(status: &'static str, body: Vec<u8>) -> Reply {
        Reply { status, headers: Vec::new(), body, stream: None, stall: None }
    }

    fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// A server on 127.0.0.1 answering one connection at a time with the next reply (404 when
/// none is left), recording each request (head and body) and, for streamed replies, the bytes
/// written before the client hung up.
struct Server {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    streamed: Arc<AtomicU64>,
    stream_done: Arc<AtomicBool>,
}

impl Server {
    async fn start(replies: Vec<Reply>) -> Server {
        Server::start_with(|_| replies).await
    }

    /// Starts a server whose replies may refer to its own address.
    async fn start_with(replies: impl FnOnce(SocketAddr) -> Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let replies = replies(address);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let streamed = Arc::new(AtomicU64::new(0));
        let stream_done = Arc::new(AtomicBool::new(false));
        let server = Server {
            address,
            requests: Arc::clone(&requests),
            streamed: Arc::clone(&streamed),
            stream_done: Arc::clone(&stream_done),
        };
        tokio::spawn(async move {
            let mut replies = replies.into_iter();
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                // The body, as long as the request's Content-Length says.
                let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let length = text
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|value| value.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                let body_start =
                    head.windows(4).position(|window| window == b"\r\n\r\n").map_or(head.len(), |at| at + 4);
                while head.len() < body_start + length {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                requests.lock().unwrap().push(String::from_utf8_lossy(&head).into_owned());
                let reply = replies.next().unwrap_or_else(|| Reply::new("404 Not Found", Vec::new()));
                if let Some(stall) = reply.stall {
                    tokio::time::sleep(stall).await;
                    continue;
                }
                let mut response = format!("HTTP/1.1 {}\r\nConnection: close\r\n", reply.status);
                for (name, value) in &reply.headers {
                    response.push_str(&format!("{name}: {value}\r\n"));
                }
                if reply.stream.is_none() {
                    response.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
                }
                response.push_str("\r\n");
                let _ = socket.write_all(response.as_bytes()).await;
                match reply.stream {
                    None => {
                        let _ = socket.write_all(&reply.body).await;
                    }
                    Some(total) => {
                        let chunk = vec![0u8; 64 * 1024];
                        while streamed.load(Ordering::SeqCst) < total {
                            if socket.write_all(&chunk).await.is_err() {
                                break;
                            }
                            streamed.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                        }
                        stream_done.store(true, Ordering::SeqCst);
                    }
                }
                let _ = socket.shutdown().await;
            }
        });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn http_config(url: String) -> HttpSourceConfig {
    HttpSourceConfig {
        url,
        interval_minutes: 1,
        timeout_seconds: 5,
        headers: Default::default(),
        file_name: None,
        ca_file: None,
        username: None,
        password: None,
    }
}

async fn store() -> Arc<SqliteStore> {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    store.migrate().await.unwrap();
    store
}

async fn index_of(store: &SqliteStore) -> sources::IndexFn {
    let index = Arc::new(ConstituencyIndex::build(&store.list_assets(None).await.unwrap()));
    Arc::new(move || Arc::clone(&index))
}

#[tokio::test]
async fn http_sources_poll_with_conditional_requests_and_decompress() {
    let first = scan_dns(&ips(1, 3));
    let second = scan_dns(&ips(10, 2));
    let server = Server::start(vec![
        Reply::new("200 OK", first)
            .header("ETag", "\"v1\"")
            .header("Last-Modified", "Fri, 27 Nov 2026 10:00:00 GMT")
            .header("Content-Disposition", "attachment; filename=\"2026-11-27-scan_dns-bih-geo.csv\""),
        Reply::new("304 Not Modified", Vec::new()).header("ETag", "\"v1\""),
        Reply::new("200 OK", gzip(&second)).header("ETag", "\"v2\""),
        // After the restart.
        Reply::new("503 Service Unavailable", Vec::new()),
    ])
    .await;
    let config: PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [{"name": "shadowserver-dns", "parser": "shadowserver", "parser_options": {"report_type": "scan_dns"},
                   "source": {"kind": "http", "url": server.url("/reports/download?key=secret"), "interval_minutes": 1,
                              "headers": {"X-Api-Key": "k-123"}, "username": "cymru", "password": "Lozinka-1"}}],
    }))
    .unwrap();
    let pipeline = Arc::new(Pipeline::build(&config, None).unwrap());
    let store = store().await;
    let (stop, shutdown) = watch::channel(false);
    let handles = sources::run(
        pipeline,
        config.feeds.clone(),
        DecompressLimits::from(&config.limits),
        Arc::clone(&store) as Arc<dyn Store>,
        index_of(&store).await,
        shutdown,
    );
    assert_eq!(handles.len(), 1);

    // The first poll runs at once.
    eventually("the first report is processed", || processed(&store, 1)).await;
    let first_report = &reports(&store).await[0];
    let base = server.url("/reports/download");
    assert_eq!(first_report.source, format!("url:{base}?…#2026-11-27-scan_dns-bih-geo.csv"));
    assert_eq!(first_report.counts.events, 3);
    let request = server.requests()[0].to_ascii_lowercase();
    assert!(request.starts_with("get /reports/download?key=secret http/1.1"), "{request}");
    assert!(request.contains("x-api-key: k-123") && !request.contains("if-none-match"), "{request}");
    assert!(!request.contains("accept-encoding"), "{request}");
    // HTTP Basic credentials, as Team Cymru's CAP feed wants them.
    assert!(request.contains("\r\nauthorization: basic y3ltcnu6tg96aw5rys0x\r\n"), "{request}");

    // A minute later: a conditional request, answered 304; nothing new.
    skip_interval().await;
    eventually("the second request", || async { server.requests().len() == 2 }).await;
    let request = server.requests()[1].to_ascii_lowercase();
    assert!(
        request.contains("if-none-match: \"v1\"") && request.contains("authorization: basic"),
        "{request}"
    );
    assert!(request.contains("if-modified-since: fri, 27 nov 2026 10:00:00 gmt"), "{request}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(reports(&store).await.len(), 1);

    // Another minute: a gzipped body, named after the URL's last segment.
    skip_interval().await;
    eventually("the second report is processed", || processed(&store, 2)).await;
    let second_report = &reports(&store).await[1];
    assert_eq!(second_report.source, format!("url:{base}?…#download"));
    assert_eq!(second_report.counts.events, 2);
    assert_eq!(store.report_data(second_report.id).await.unwrap(), Some(second));
    // The new validators are saved with the source's state at once.
    eventually("the source's state is saved", || async {
        store.source_record("shadowserver-dns").await.unwrap().is_some_and(|saved| saved.state.contains("v2"))
    })
    .await;
    let saved = store.source_record("shadowserver-dns").await.unwrap().unwrap();
    assert_eq!(saved.kind, "http");
    assert!(!saved.state.contains("secret") && !saved.state.contains("Lozinka"), "{}", saved.state);
    stop_sources(stop, handles).await;

    // After a restart the source asks only for what changed since the saved download, and
    // still knows when it last worked while its first poll fails.
    let pipeline = Arc::new(Pipeline::build(&config, None).unwrap());
    let (stop, shutdown) = watch::channel(false);
    let handles = run_sources(&pipeline, &config, &store, shutdown);
    eventually("the request after the restart", || async { server.requests().len() == 4 }).await;
    let request = server.requests()[3].to_ascii_lowercase();
    assert!(request.contains("if-none-match: \"v2\""), "{request}");
    let status = pipeline.source_status();
    eventually("the failed poll", || async { status.get("shadowserver-dns").unwrap().failing_polls == 1 })
        .await;
    let restarted = status.get("shadowserver-dns").unwrap();
    assert_eq!((restarted.reports, restarted.errors), (0, 1));
    assert!(restarted.last_success.is_some_and(|at| Some(at) < restarted.started_at), "{restarted:?}");
    // The failure is saved at once.
    eventually("the failure is saved", || async {
        store
            .source_record("shadowserver-dns")
            .await
            .unwrap()
            .is_some_and(|saved| saved.state.contains("503"))
    })
    .await;
    assert_eq!(reports(&store).await.len(), 2);
    stop_sources(stop, handles).await;
}

#[tokio::test]
async fn downloads_over_the_limit_are_aborted() {
    let limit = 256 * 1024;
    // Announced too large: refused before reading the body.
    let server = Server::start(vec![Reply::new("200 OK", vec![b'x'; limit as usize + 1])]).await;
    let source = HttpSource::new(&http_config(server.url("/big.csv")), limit).unwrap();
    let text = error_text(source.poll().await);
    let url = server.url("/big.csv");
    assert_eq!(
        text,
        format!(
            "{url}: download aborted after 262144 bytes, over the report size limit (pipeline.limits.max_report_bytes)"
        )
    );

    // Streamed without a length: aborted while reading, long before the server is done.
    let total = 256 * MIB;
    let mut reply = Reply::new("200 OK", Vec::new());
    reply.stream = Some(total);
    let server = Server::start(vec![reply]).await;
    let source = HttpSource::new(&http_config(server.url("/stream.csv")), limit).unwrap();
    let text = error_text(source.poll().await);
    assert!(text.ends_with("download aborted after 262144 bytes, over the report size limit (pipeline.limits.max_report_bytes)"), "{text}");
    eventually("the server notices", || async { server.stream_done.load(Ordering::SeqCst) }).await;
    let streamed = server.streamed.load(Ordering::SeqCst);
    assert!(streamed < total / 4, "the server wrote {streamed} bytes");

    // Errors name the URL (without its query) and say what went wrong.
    let server = Server::start(vec![Reply::new("500 Internal Server Error", Vec::new())]).await;
    let source = HttpSource::new(&http_config(server.url("/x?key=secret")), limit).unwrap();
    assert_eq!(error_text(source.poll().await), format!("{}: the server answered 500", server.url("/x?…")));

    let mut stall = Reply::new("200 OK", Vec::new());
    stall.stall = Some(Duration::from_secs(30));
    let server = Server::start(vec![stall]).await;
    let source =
        HttpSource::new(&HttpSourceConfig { timeout_seconds: 1, ..http_config(server.url("/slow")) }, limit)
            .unwrap();
    assert_eq!(error_text(source.poll().await), format!("{}: timed out after 1 second", server.url("/slow")));
}

#[tokio::test]
async fn redirects_are_followed_up_to_five() {
    let csv = scan_dns(&ips(1, 1));
    // Five redirects, then the report; then six redirects.
    let server = Server::start_with(|address| {
        let redirect = |to: &str| {
            Reply::new("302 Found", Vec::new()).header("Location", &format!("http://{address}{to}"))
        };
        let mut replies: Vec<Reply> = (1..=5).map(|i| redirect(&format!("/hop/{i}"))).collect();
        replies.push(Reply::new("200 OK", csv.clone()));
        replies.extend((1..=6).map(|i| redirect(&format!("/again/{i}"))));
        replies
    })
    .await;

    let source = HttpSource::new(&http_config(server.url("/start")), MIB).unwrap();
    let download = source.poll().await.unwrap().unwrap();
    assert_eq!((download.name.as_str(), download.data), ("5", csv));
    let text = error_text(source.poll().await);
    assert!(
        text.starts_with(&format!("{}: ", server.url("/start"))) && text.contains("too many redirects"),
        "{text}"
    );
    assert_eq!(server.requests().len(), 12);
}

#[tokio::test]
async fn the_shadowserver_reports_api_is_listed_with_signed_requests_and_new_reports_downloaded() {
    use hmac::Mac;
    let listing = |entries: &[(&str, &str, &str)]| {
        let entries: Vec<serde_json::Value> = entries
            .iter()
            .map(|(id, kind, file)| {
                serde_json::json!({"report": "bih@shadowserver.org", "id": id, "type": kind, "file": file, "timestamp": "2026-11-29"})
            })
            .collect();
        Reply::new("200 OK", serde_json::to_vec(&entries).unwrap()).header("Content-Type", "application/json")
    };
    let dns = ("dns1", "scan_dns", "2026-11-29-scan_dns-bih-geo.csv");
    let smb = ("smb1", "scan_smb", "2026-11-29-scan_smb-bih-geo.csv");
    let dns2 = ("dns2", "scan_dns", "2026-11-30-scan_dns-bih-geo.csv");
    let server = Server::start(vec![
        // First poll: two reports listed, one of a type not asked for.
        listing(&[dns, smb]),
        Reply::new("200 OK", scan_dns(&ips(1, 3))),
        // Second poll: the first again and a new one, served gzipped.
        listing(&[dns, dns2]),
        Reply::new("200 OK", gzip(&scan_dns(&ips(20, 2)))),
        // After a restart: a refusal, then nothing new.
        Reply::new("200 OK", br#"{"error": "Invalid HMAC"}"#.to_vec()),
        listing(&[dns, dns2]),
    ])
    .await;
    let config: PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [{"name": "shadowserver", "parser": "shadowserver",
                   "source": {"kind": "shadowserver-api", "api_key": "key-123", "secret": "s3cret", "reports": ["bosnia-herzegovina"],
                              "types": ["scan_dns"], "days": 1, "interval_minutes": 1,
                              "api_url": server.url("/api2"), "download_url": server.url("/dl/")}}],
    }))
    .unwrap();
    assert!(config.check().is_empty(), "{:?}", config.check());
    let pipeline = Arc::new(Pipeline::build(&config, None).unwrap());
    let store = store().await;
    let start = |shutdown| run_sources(&pipeline, &config, &store, shutdown);
    let (stop, shutdown) = watch::channel(false);
    let handles = start(shutdown);

    eventually("the first report is processed", || processed(&store, 1)).await;
    let first = &reports(&store).await[0];
    assert_eq!(first.source, "shadowserver-api:dns1#2026-11-29-scan_dns-bih-geo.csv");
    assert_eq!(first.counts.events, 3, "the parser took the report type from the file name");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "the listing and one download: {requests:#?}");
    let (head, body) = requests[0].split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("POST /api2/reports/list HTTP/1.1"), "{head}");
    let today = time::OffsetDateTime::now_utc().date();
    let expected = format!(
        r#"{{"apikey":"key-123","date":"{}:{today}","reports":["bosnia-herzegovina"]}}"#,
        today - time::Duration::days(1)
    );
    assert_eq!(body, expected);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(body.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    assert!(head.to_ascii_lowercase().contains(&format!("\r\nhmac2: {signature}\r\n")), "{head}");
    assert!(!head.contains("s3cret") && !body.contains("s3cret"), "the secret is never sent");
    assert!(requests[1].starts_with("GET /dl/dns1 HTTP/1.1"), "{}", requests[1]);
    let state = pipeline.source_status().get("shadowserver").unwrap();
    assert_eq!((state.kind.as_str(), state.reports, state.errors), ("shadowserver-api", 1, 0));
    assert!(state.last_success.is_some() && state.last_error.is_none(), "{state:?}");

    // A minute later only the new report is downloaded.
    skip_interval().await;
    eventually("the second report is processed", || processed(&store, 2)).await;
    let second = &reports(&store).await[1];
    assert_eq!(second.source, "shadowserver-api:dns2#2026-11-30-scan_dns-bih-geo.csv");
    assert_eq!(second.counts.events, 2);
    let requests = server.requests();
    assert_eq!(requests.len(), 4, "{requests:#?}");
    assert!(requests[3].starts_with("GET /dl/dns2 HTTP/1.1"), "{}", requests[3]);
    stop_sources(stop, handles).await;

    // After a restart a refused listing shows as the source's failure (its last success is the
    // one saved before the restart); at the next poll the stored reports say what was
    // processed: the listing, no download.
    let (stop, shutdown) = watch::channel(false);
    let handles = start(shutdown);
    let failing =
        || async { pipeline.source_status().get("shadowserver").is_some_and(|s| s.failing_polls == 1) };
    eventually("the refused listing is recorded", failing).await;
    let state = pipeline.source_status().get("shadowserver").unwrap();
    let refused =
        format!("{}: the API answered with an error: Invalid HMAC", server.url("/api2/reports/list"));
    assert_eq!((state.last_error.as_deref(), state.reports), (Some(refused.as_str()), 0));
    assert!(state.last_success.is_some_and(|at| Some(at) < state.started_at), "{state:?}");
    skip_interval().await;
    let recovered = || async {
        pipeline.source_status().get("shadowserver").is_some_and(|s| s.last_success > s.started_at)
    };
    eventually("the next listing succeeds", recovered).await;
    assert_eq!(pipeline.source_status().get("shadowserver").unwrap().failing_polls, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.requests().len(), 6, "{:#?}", server.requests());
    assert_eq!(reports(&store).await.len(), 2);
    stop_sources(stop, handles).await;
}

/// A published MISP event as a feed serves it, with one `ip-dst` attribute for IDS per address.
fn misp_event(uuid: &str, timestamp: i64, addresses: &[&str]) -> Vec<u8> {
    let attributes: Vec<serde_json::Value> = addresses
        .iter()
        .enumerate()
        .map(|(index, address)| {
            serde_json::json!({"uuid": format!("{}-{index:04}-4000-8000-000000000000", &uuid[..8]), "type": "ip-dst",
                               "category": "Network activity", "value": address, "to_ids": true,
                               "timestamp": timestamp.to_string()})
        })
        .collect();
    let event = serde_json::json!({"Event": {"uuid": uuid, "info": "C2 servers", "date": "2026-11-29",
        "timestamp": timestamp.to_string(), "published": true, "Orgc": {"name": "CIRCL"},
        "Tag": [{"name": "tlp:clear"}], "Attribute": attributes}});
    serde_json::to_vec(&event).unwrap()
}

#[tokio::test]
async fn misp_feeds_are_fetched_by_their_manifest_new_and_changed_events_only() {
    const A: &str = "6a0f8e2c-1d4b-4e5f-8a9b-0c1d2e3f4a01";
    const B: &str = "6a0f8e2c-1d4b-4e5f-8a9b-0c1d2e3f4a02";
    const OLD: &str = "6a0f8e2c-1d4b-4e5f-8a9b-0c1d2e3f4a03";
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (a1, a2, b, old) = (now - 86_400, now - 3_600, now - 2 * 86_400, now - 400 * 86_400);
    let manifest = |entries: &[(&str, i64)], etag: &str| {
        let mut object = serde_json::Map::new();
        for (uuid, timestamp) in entries {
            object.insert(
                (*uuid).to_owned(),
                serde_json::json!({"info": "C2 servers", "timestamp": timestamp.to_string()}),
            );
        }
        object.insert("../../etc/passwd".to_owned(), serde_json::json!({"timestamp": "1"}));
        Reply::new("200 OK", serde_json::to_vec(&object).unwrap()).header("ETag", etag)
    };
    let server = Server::start(vec![
        // First poll: three events, one too old; one event per poll (max_events = 1), oldest first.
        manifest(&[(A, a1), (B, b), (OLD, old)], "\"v1\""),
        Reply::new("200 OK", misp_event(B, b, &["198.51.100.1"])),
        // Second poll: the manifest is unchanged; the event left over comes now.
        Reply::new("304 Not Modified", Vec::new()),
        Reply::new("200 OK", misp_event(A, a1, &["198.51.100.2", "198.51.100.3"])),
        // Third poll: A changed (a new attribute); only A is fetched again.
        manifest(&[(A, a2), (B, b), (OLD, old)], "\"v2\""),
        Reply::new("200 OK", misp_event(A, a2, &["198.51.100.2", "198.51.100.3", "198.51.100.4"])),
        // After a restart: the same manifest, and nothing to fetch.
        manifest(&[(A, a2), (B, b), (OLD, old)], "\"v2\""),
    ])
    .await;
    let config: PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [{"name": "circl-osint", "parser": "misp-feed",
                   "source": {"kind": "misp-feed", "url": server.url("/feed"), "interval_minutes": 1,
                              "max_events": 1, "headers": {"Authorization": "feed-key"}}}],
    }))
    .unwrap();
    assert!(config.check().is_empty(), "{:?}", config.check());
    let pipeline = Arc::new(Pipeline::build(&config, None).unwrap());
    let store = store().await;
    let start = |shutdown| run_sources(&pipeline, &config, &store, shutdown);
    let (stop, shutdown) = watch::channel(false);
    let handles = start(shutdown);

    eventually("the oldest event is processed", || processed(&store, 1)).await;
    skip_interval().await;
    eventually("the event left over is processed", || processed(&store, 2)).await;
    skip_interval().await;
    eventually("the changed event is processed again", || processed(&store, 3)).await;
    let stored = reports(&store).await;
    let sources: Vec<&str> = stored.iter().map(|report| report.source.as_str()).collect();
    assert_eq!(
        sources,
        [
            format!("misp-feed:{B}@{b}#{B}.json"),
            format!("misp-feed:{A}@{a1}#{A}.json"),
            format!("misp-feed:{A}@{a2}#{A}.json")
        ]
    );
    let events: Vec<u64> = stored.iter().map(|report| report.counts.events).collect();
    assert_eq!(events, [1, 2, 3], "one event per attribute for IDS");
    let requests = server.requests();
    assert_eq!(requests.len(), 6, "{requests:#?}");
    let lines: Vec<&str> = requests.iter().map(|request| request.lines().next().unwrap()).collect();
    assert_eq!(
        lines,
        [
            "GET /feed/manifest.json HTTP/1.1".to_owned(),
            format!("GET /feed/{B}.json HTTP/1.1"),
            "GET /feed/manifest.json HTTP/1.1".to_owned(),
            format!("GET /feed/{A}.json HTTP/1.1"),
            "GET /feed/manifest.json HTTP/1.1".to_owned(),
            format!("GET /feed/{A}.json HTTP/1.1"),
        ]
    );
    let heads: Vec<String> = requests.iter().map(|request| request.to_ascii_lowercase()).collect();
    assert!(!heads[0].contains("if-none-match") && heads[2].contains("\r\nif-none-match: \"v1\"\r\n"));
    assert!(heads.iter().all(|head| head.contains("\r\nauthorization: feed-key\r\n")), "{heads:#?}");
    let state = pipeline.source_status().get("circl-osint").unwrap();
    assert_eq!((state.kind.as_str(), state.reports, state.errors), ("misp-feed", 3, 0));
    stop_sources(stop, handles).await;

    // After a restart, the stored reports say what was processed: the manifest, no download.
    let (stop, shutdown) = watch::channel(false);
    let handles = start(shutdown);
    let recovered =
        || async { pipeline.source_status().get("circl-osint").is_some_and(|s| s.last_success.is_some()) };
    eventually("the manifest is read again", recovered).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.requests().len(), 7, "{:#?}", server.requests());
    assert!(!server.requests()[6].to_ascii_lowercase().contains("if-none-match"));
    assert_eq!(reports(&store).await.len(), 3);
    stop_sources(stop, handles).await;
}

#[tokio::test]
async fn https_downloads_trust_the_configured_ca_or_else_the_system() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = temp_dir("tls");
    support::certificates(&dir);
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&std::fs::read(dir.join("server.pem")).unwrap())
            .map(Result::unwrap)
            .collect();
    let key = PrivateKeyDer::from_pem_slice(&std::fs::read(dir.join("server.key")).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let csv = scan_dns(&ips(1, 2));
    let body = csv.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            // A client that does not trust the certificate ends the handshake.
            let Ok(mut tls) = acceptor.accept(socket).await else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && tls.read(&mut byte).await.is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let reply =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = tls.write_all(reply.as_bytes()).await;
            let _ = tls.write_all(&body).await;
            let _ = tls.shutdown().await;
        }
    });
    let url = format!("https://127.0.0.1:{port}/2026-11-27-scan_dns-bih-geo.csv");
    let trusting = HttpSourceConfig { ca_file: Some(dir.join("ca.pem")), ..http_config(url.clone()) };
    let download = HttpSource::new(&trusting, MIB).unwrap().poll().await.unwrap().unwrap();
    assert_eq!((download.name.as_str(), download.data), ("2026-11-27-scan_dns-bih-geo.csv", csv));
    let text = error_text(HttpSource::new(&http_config(url.clone()), MIB).unwrap().poll().await);
    assert!(text.contains("invalid peer certificate"), "{text}");
    let missing = HttpSourceConfig { ca_file: Some(dir.join("missing.pem")), ..http_config(url) };
    let text = error_text(HttpSource::new(&missing, MIB));
    assert!(text.contains("source.ca_file") && text.contains("cannot read"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neretva-sources-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn directories_are_polled_and_files_read_once() {
    let dir = temp_dir("directory");
    let (inbox, done) = (dir.join("inbox"), dir.join("done"));
    std::fs::create_dir_all(&inbox).unwrap();
    let partner = dir.join("2026-11-26-scan_dns-bih-geo.csv.bz2");
    std::fs::write(&partner, bzip2(&scan_dns(&ips(100, 4)))).unwrap();

    std::fs::write(inbox.join("2026-11-27-scan_dns-bih-geo.csv"), scan_dns(&ips(1, 3))).unwrap();
    std::fs::write(inbox.join("2026-11-28-scan_dns-bih-geo.csv.gz"), gzip(&scan_dns(&ips(10, 2)))).unwrap();
    let member_a = scan_dns(&ips(20, 1));
    let member_b = scan_dns(&ips(30, 2));
    std::fs::write(
        inbox.join("2026-11-29-scan_dns.zip"),
        zip(&[
            ("2026-11-29-scan_dns-bih-geo.csv", &member_a),
            ("sub/2026-11-30-scan_dns-bih-geo.csv", &member_b),
        ]),
    )
    .unwrap();
    std::fs::write(inbox.join("2026-12-01-scan_dns-bih-geo.csv.gz"), gzip_bomb(64)).unwrap();
    std::fs::write(inbox.join("notes.txt"), "not a report").unwrap();
    std::fs::write(inbox.join(".2026-12-02-scan_dns-bih-geo.csv"), "being uploaded").unwrap();

    // No report type: Shadowserver's parser reads it from each report's file name.
    let config: PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [
            {"name": "shadowserver", "parser": "shadowserver",
             "source": {"kind": "directory", "path": inbox, "pattern": "*scan_*", "poll_seconds": 1, "done_dir": done}},
            {"name": "partner", "parser": "shadowserver", "source": {"kind": "file", "path": partner}},
            {"name": "manual", "parser": "shadowserver"},
        ],
        "limits": {"max_report_bytes": MIB},
    }))
    .unwrap();
    assert!(config.check().is_empty(), "{:?}", config.check());
    let pipeline = Arc::new(Pipeline::build(&config, None).unwrap());
    let store = store().await;
    let (stop, shutdown) = watch::channel(false);
    let handles = sources::run(
        pipeline,
        config.feeds.clone(),
        DecompressLimits::from(&config.limits),
        Arc::clone(&store) as Arc<dyn Store>,
        index_of(&store).await,
        shutdown,
    );
    assert_eq!(handles.len(), 2, "feeds without a source get no task");

    eventually("five reports are processed", || processed(&store, 5)).await;
    eventually("the processed files are moved", || async { names_in(&done).len() == 3 }).await;
    let mut seen: Vec<(String, String, u64)> = reports(&store)
        .await
        .into_iter()
        .map(|report| (report.feed, report.source, report.counts.events))
        .collect();
    seen.sort();
    let at = |name: &str| inbox.join(name).display().to_string();
    let mut expected = vec![
        ("partner".to_owned(), format!("file:{}/2026-11-26-scan_dns-bih-geo.csv", partner.display()), 4),
        ("shadowserver".to_owned(), format!("file:{}", at("2026-11-27-scan_dns-bih-geo.csv")), 3),
        (
            "shadowserver".to_owned(),
            format!("file:{}/2026-11-28-scan_dns-bih-geo.csv", at("2026-11-28-scan_dns-bih-geo.csv.gz")),
            2,
        ),
        (
            "shadowserver".to_owned(),
            format!("file:{}/2026-11-29-scan_dns-bih-geo.csv", at("2026-11-29-scan_dns.zip")),
            1,
        ),
        (
            "shadowserver".to_owned(),
            format!("file:{}/sub/2026-11-30-scan_dns-bih-geo.csv", at("2026-11-29-scan_dns.zip")),
            2,
        ),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(
        names_in(&done),
        ["2026-11-27-scan_dns-bih-geo.csv", "2026-11-28-scan_dns-bih-geo.csv.gz", "2026-11-29-scan_dns.zip"]
    );
    // The bomb was refused and stays, like the files not matching or hidden.
    assert_eq!(
        names_in(&inbox),
        [".2026-12-02-scan_dns-bih-geo.csv", "2026-12-01-scan_dns-bih-geo.csv.gz", "notes.txt"]
    );
    // The file source read its file once and left it.
    assert!(partner.exists());

    // A file dropped while running is picked up; its name may repeat a processed one.
    std::fs::write(inbox.join("2026-11-27-scan_dns-bih-geo.csv"), scan_dns(&ips(40, 5))).unwrap();
    eventually("the new file is processed", || processed(&store, 6)).await;
    eventually("the new file is moved", || async { names_in(&done).len() == 4 }).await;
    assert!(done.join("2026-11-27-scan_dns-bih-geo.csv.1").exists());
    assert_eq!(reports(&store).await[5].counts.events, 5);

    stop_sources(stop, handles).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn directories_without_done_dir_leave_files_and_read_them_again_when_changed() {
    let dir = temp_dir("remember");
    let path = dir.join("2026-11-27-scan_dns-bih-geo.csv");
    std::fs::write(&path, scan_dns(&ips(1, 2))).unwrap();
    let config: PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [{"name": "shadowserver", "parser": "shadowserver",
                   "source": {"kind": "directory", "path": dir, "poll_seconds": 1}}],
    }))
    .unwrap();
    let pipeline = Arc::new(Pipeline::build(&config, None).unwrap());
    let store = store().await;
    let (stop, shutdown) = watch::channel(false);
    let handles = sources::run(
        pipeline,
        config.feeds.clone(),
        DecompressLimits::from(&config.limits),
        Arc::clone(&store) as Arc<dyn Store>,
        index_of(&store).await,
        shutdown,
    );
    eventually("the file is processed", || processed(&store, 1)).await;
    assert!(path.exists());
    // Rewritten in place (another size): read again once it is stable.
    std::fs::write(&path, scan_dns(&ips(10, 3))).unwrap();
    eventually("the changed file is processed", || processed(&store, 2)).await;
    assert_eq!(reports(&store).await[1].counts.events, 3);
    stop_sources(stop, handles).await;

    // After a restart the stored reports say which files were read since they last changed:
    // only the new one is read (a file read again would count as a report of the source).
    std::fs::write(dir.join("2026-11-28-scan_dns-bih-geo.csv"), scan_dns(&ips(20, 1))).unwrap();
    let pipeline = Arc::new(Pipeline::build(&config, None).unwrap());
    let (stop, shutdown) = watch::channel(false);
    let handles = run_sources(&pipeline, &config, &store, shutdown);
    eventually("the new file is processed", || processed(&store, 3)).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let state = pipeline.source_status().get("shadowserver").unwrap();
    assert_eq!(state.reports, 1, "only the new file was read: {state:?}");
    stop_sources(stop, handles).await;
    let _ = std::fs::remove_dir_all(&dir);
}
