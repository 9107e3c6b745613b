//! Sinks besides the event store: files of IntelMQ JSON lines or CSV, and webhooks.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use neretva_event::Event;
use neretva_model::text::{CsvStyle, csv_line};

use crate::config::SinkConfig;

/// The columns of a CSV of events when none are chosen: those of the events API's CSV export
/// and of `neretva ingest --output csv`.
pub const CSV_FIELDS: &[&str] = &[
    "time.source",
    "time.observation",
    "classification.taxonomy",
    "classification.type",
    "classification.identifier",
    "source.ip",
    "source.port",
    "source.asn",
    "source.network",
    "source.fqdn",
    "source.url",
    "source.geolocation.cc",
    "destination.ip",
    "destination.port",
    "destination.fqdn",
    "protocol.transport",
    "protocol.application",
    "malware.name",
    "event_description.text",
    "feed.name",
    "tlp",
];

/// One CSV line of an event: its values of `fields` (an `extra.*` member as JSON, a missing
/// field empty).
pub fn csv_row<S: AsRef<str>>(event: &Event, fields: &[S], style: CsvStyle) -> String {
    let values: Vec<String> = fields
        .iter()
        .map(|field| event.get(field.as_ref()).map(ToString::to_string).unwrap_or_default())
        .collect();
    csv_line(values, style)
}

/// A configured sink.
#[derive(Debug)]
pub enum Sink {
    File(FileSink),
    Webhook(WebhookSink),
}

impl Sink {
    pub fn open(config: &SinkConfig) -> Result<Sink, String> {
        match config {
            SinkConfig::Webhook { .. } => WebhookSink::new(config).map(Sink::Webhook),
            _ => FileSink::open(config).map(Sink::File).map_err(|error| format!("cannot open: {error}")),
        }
    }

    /// Writes a batch; a file error is returned, a webhook failure is logged and counted (the
    /// events are stored already, and a receiver being down must not stop the feeds).
    pub async fn write(&self, feed: &str, events: &[&Event]) -> std::io::Result<()> {
        match self {
            Sink::File(sink) => sink.write(events),
            Sink::Webhook(sink) => {
                sink.send(feed, events).await;
                Ok(())
            }
        }
    }
}

/// POSTs events as a JSON array, in batches, retrying twice with back-off.
#[derive(Debug)]
pub struct WebhookSink {
    client: reqwest::Client,
    url: reqwest::Url,
    headers: reqwest::header::HeaderMap,
    batch: usize,
}

impl WebhookSink {
    fn new(config: &SinkConfig) -> Result<WebhookSink, String> {
        let SinkConfig::Webhook { url, headers, batch, timeout_seconds } = config else {
            return Err("not a webhook".into());
        };
        let url = reqwest::Url::parse(url).map_err(|error| format!("webhook url {url:?}: {error}"))?;
        let mut header_map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("{name:?} is not a valid header name"))?;
            let mut value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| format!("the value of {name:?} is not a valid header value"))?;
            value.set_sensitive(true);
            header_map.insert(name, value);
        }
        let tls = crate::sources::http::tls_config(&url)?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(timeout_seconds.unwrap_or(30).max(1)))
            .user_agent(concat!("neretva/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("webhook client: {error}"))?;
        Ok(WebhookSink { client, url, headers: header_map, batch: batch.unwrap_or(1000).max(1) })
    }

    async fn send(&self, feed: &str, events: &[&Event]) {
        for chunk in events.chunks(self.batch) {
            let mut body = String::from("[");
            for (index, event) in chunk.iter().enumerate() {
                if index > 0 {
                    body.push(',');
                }
                body.push_str(&neretva_event::intelmq_json::to_intelmq_line(event));
            }
            body.push(']');
            let mut delay = std::time::Duration::from_millis(500);
            let mut attempt = 0;
            loop {
                attempt += 1;
                let result = self
                    .client
                    .post(self.url.clone())
                    .headers(self.headers.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let failure = match result {
                    Ok(response) if response.status().is_success() => None,
                    Ok(response) => Some(format!("HTTP {}", response.status())),
                    Err(error) => Some(error.without_url().to_string()),
                };
                let Some(failure) = failure else {
                    metrics::counter!("neretva_pipeline_sent_total", "feed" => feed.to_owned(), "component" => "webhook")
                        .increment(chunk.len() as u64);
                    break;
                };
                if attempt >= 3 {
                    tracing::warn!(feed, url = %self.url.origin().ascii_serialization(), error = %failure, events = chunk.len(), "Webhook delivery failed.");
                    metrics::counter!("neretva_pipeline_errors_total", "feed" => feed.to_owned(), "component" => "webhook")
                        .increment(chunk.len() as u64);
                    break;
                }
                tokio::time::sleep(delay).await;
                delay *= 4;
            }
        }
    }
}

/// A file sink; writes are serialised by a mutex.
#[derive(Debug)]
pub struct FileSink {
    kind: FileKind,
    writer: Mutex<BufWriter<File>>,
}

#[derive(Debug)]
enum FileKind {
    Jsonl,
    Csv(Vec<String>),
}

impl FileSink {
    /// Opens (appends to) the sink's file; a new CSV file gets a header.
    pub fn open(config: &SinkConfig) -> std::io::Result<FileSink> {
        let (path, kind): (&Path, FileKind) = match config {
            SinkConfig::Jsonl { path } => (path, FileKind::Jsonl),
            SinkConfig::Csv { path, fields } => (path, FileKind::Csv(fields.clone())),
            SinkConfig::Webhook { .. } => {
                return Err(std::io::Error::other("a webhook is not a file sink"));
            }
        };
        let fresh = !path.exists() || std::fs::metadata(path)?.len() == 0;
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let mut writer = BufWriter::new(file);
        if let (true, FileKind::Csv(fields)) = (fresh, &kind) {
            writer.write_all(csv_line(fields, CsvStyle::Data).as_bytes())?;
        }
        Ok(FileSink { kind, writer: Mutex::new(writer) })
    }

    /// Writes a batch of events.
    pub fn write(&self, events: &[&Event]) -> std::io::Result<()> {
        let Ok(mut writer) = self.writer.lock() else {
            return Err(std::io::Error::other("sink writer poisoned"));
        };
        for event in events {
            let line = match &self.kind {
                FileKind::Jsonl => {
                    let mut line = neretva_event::intelmq_json::to_intelmq_line(event);
                    line.push('\n');
                    line
                }
                FileKind::Csv(fields) => csv_row(event, fields, CsvStyle::Data),
            };
            writer.write_all(line.as_bytes())?;
        }
        writer.flush()
    }
}
