//! Sources: what brings reports into the pipeline while `neretva serve` runs.
//!
//! A feed with a `source` gets one task from [`run`]:
//!
//! - `directory`: every `poll_seconds`, files matching `pattern` are read once their size and
//!   modification time are the same as at the previous poll (so files still being written are
//!   left alone), then moved to `done_dir` if there is one, or else remembered in memory by
//!   name, size and modification time, and after a restart by the feed's stored reports (a file
//!   whose report was received after its last change is not read again).
//! - `http`: every `interval_minutes`, a conditional GET (`If-None-Match`,
//!   `If-Modified-Since`); `304 Not Modified` means nothing new.
//! - `file`: read once at start.
//! - `taxii`: every `interval_minutes`, the objects added to a TAXII 2.1 collection since the
//!   last page processed, page by page ([`taxii`]).
//! - `shadowserver-api`: every `interval_minutes`, the Shadowserver Reports API's signed list
//!   of the last days' reports, and a download of each new one ([`shadowserver_api`]).
//! - `imap`: every `interval_minutes`, the attachments of a mailbox's unseen messages
//!   ([`imap`]).
//! - `misp-feed`: every `interval_minutes`, a MISP feed's manifest, and a download of each new
//!   or changed event file ([`misp_feed`]).
//!
//! Every file and download is decompressed with limits ([`decompress`]: gzip, bzip2, zip, tar) and
//! each resulting report goes to [`Pipeline::ingest`]. A failing poll is logged and retried at
//! the next interval; it never stops another feed.
//!
//! The source stored with each report says where it came from: `file:<path>` for a file read
//! as it is; `file:<path>/<name>` for report `<name>` decompressed from the file at `<path>`
//! (a gzip or bzip2 file, or a member of a zip archive), so the parser sees `<name>` as the
//! report's file name (Shadowserver detects its report type from it); and `url:<url>#<name>`
//! for a download, where `<url>` has neither its query nor credentials, which may hold keys;
//! `taxii:<collection>#added_after=<time>` for a page of a TAXII collection; and
//! `shadowserver-api:<id>#<file>` for a report of the Shadowserver Reports API; and
//! `imap://<host>/<folder>;UIDVALIDITY=<v>/;UID=<uid>#<file>` for an e-mail attachment; and
//! `misp-feed:<uuid>@<timestamp>#<uuid>.json` for an event of a MISP feed.
//!
//! Metrics (through the `metrics` facade): `neretva_source_reports_total{feed,source}` counts
//! reports ingested, `neretva_source_errors_total{feed,source}` failed polls, reads and
//! ingestions, and `neretva_source_bytes_total{feed}` the bytes read or downloaded, before
//! decompression; `source` is the source's kind (`directory`, `http`, `file`, `taxii`,
//! `shadowserver-api`, `imap` or `misp-feed`).

mod decompress;
mod directory;
pub(crate) mod http;
pub mod imap;
pub mod misp_feed;
pub mod shadowserver_api;
mod status;
pub(crate) mod untar;
pub use http::tls_config;
pub mod taxii;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use neretva_model::Uuid;
use neretva_model::lookup::ConstituencyIndex;
use neretva_store::Store;
use neretva_store::feeds::SourceRecord;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use crate::sources::decompress::{
    DecompressLimits, MAX_COMPRESSION_RATIO, MAX_ZIP_ENTRIES, ZIP_TOTAL_FACTOR, decompress,
};
pub use crate::sources::directory::{matches_pattern, read_reports, report_source};
pub use crate::sources::http::{Download, HttpSource, Validators, redact_url};
pub use crate::sources::imap::{ImapSourceConfig, ImapTls};
pub use crate::sources::misp_feed::MispFeedSourceConfig;
pub use crate::sources::shadowserver_api::ShadowserverApiConfig;
pub use crate::sources::status::{
    KeptValidators, Lasting, LeftMessages, MAX_LEFT_MESSAGES, SAVE_EVERY, SourceState, SourceStatus,
};
pub use crate::sources::taxii::TaxiiSourceConfig;

use crate::config::FeedConfig;
use crate::process::{Context, IngestOptions, Outcome, Pipeline, PipelineError};

/// Where a feed's reports come from while `neretva serve` runs (`[pipeline.feeds.source]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SourceConfig {
    /// A directory polled for new files.
    Directory(DirectorySourceConfig),
    /// A URL polled with conditional GET requests.
    Http(HttpSourceConfig),
    /// A file read once at start.
    File(FileSourceConfig),
    /// A TAXII 2.1 collection polled for objects added since the last poll.
    Taxii(TaxiiSourceConfig),
    /// The Shadowserver Reports API polled for new reports.
    #[serde(rename = "shadowserver-api")]
    ShadowserverApi(ShadowserverApiConfig),
    /// A mailbox whose unseen messages carry reports as attachments.
    Imap(ImapSourceConfig),
    /// A MISP feed's manifest polled for new and changed events.
    #[serde(rename = "misp-feed")]
    MispFeed(MispFeedSourceConfig),
}

/// `kind = "directory"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySourceConfig {
    pub path: PathBuf,
    /// A file name pattern where `*` matches any characters and `?` one, e.g. `"*.csv"`; every
    /// file by default. Names starting with a dot are never read.
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// Processed files are moved here; without it they stay and are remembered in memory, and
    /// after a restart by the feed's stored reports.
    #[serde(default)]
    pub done_dir: Option<PathBuf>,
}

/// `kind = "http"`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSourceConfig {
    /// An `http` or `https` URL.
    pub url: String,
    #[serde(default = "default_interval_minutes")]
    pub interval_minutes: u64,
    /// For the whole request, body included.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// Request headers, e.g. an API key. Their values are never logged.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The report's file name (Shadowserver detects its report type from it); by default the
    /// name of the response's `Content-Disposition`, or else the URL's last path segment.
    #[serde(default)]
    pub file_name: Option<String>,
    /// A PEM file of the certificate authorities to trust instead of the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// HTTP Basic credentials (feeds such as Team Cymru's CAP); the password is never logged.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// `kind = "file"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    pub path: PathBuf,
}

fn default_poll_seconds() -> u64 {
    30
}

fn default_interval_minutes() -> u64 {
    60
}

fn default_timeout_seconds() -> u64 {
    60
}

impl std::fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceConfig::Directory(config) => f.debug_tuple("Directory").field(config).finish(),
            SourceConfig::Http(config) => f.debug_tuple("Http").field(config).finish(),
            SourceConfig::File(config) => f.debug_tuple("File").field(config).finish(),
            SourceConfig::Taxii(config) => f.debug_tuple("Taxii").field(config).finish(),
            SourceConfig::ShadowserverApi(config) => f.debug_tuple("ShadowserverApi").field(config).finish(),
            SourceConfig::Imap(config) => f.debug_tuple("Imap").field(config).finish(),
            SourceConfig::MispFeed(config) => f.debug_tuple("MispFeed").field(config).finish(),
        }
    }
}

impl std::fmt::Debug for HttpSourceConfig {
    // Header values may be keys: only their names are shown, and the URL without its query.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url =
            reqwest::Url::parse(&self.url).map_or_else(|_| "<invalid>".to_owned(), |url| redact_url(&url));
        f.debug_struct("HttpSourceConfig")
            .field("url", &url)
            .field("interval_minutes", &self.interval_minutes)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("file_name", &self.file_name)
            .field("ca_file", &self.ca_file)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .finish()
    }
}

impl HttpSourceConfig {
    /// Every problem found without IO, each starting with its key (the `misp-feed` source's
    /// client settings are checked as these).
    pub(crate) fn check(&self) -> Vec<String> {
        let mut errors = Vec::new();
        http::check_url("source.url", &self.url, &mut errors);
        if self.interval_minutes == 0 {
            errors.push("source.interval_minutes: must be at least 1".to_owned());
        }
        if self.timeout_seconds == 0 {
            errors.push("source.timeout_seconds: must be at least 1".to_owned());
        }
        http::check_headers(&self.headers, &mut errors);
        http::check_credentials(self.username.as_deref(), self.password.as_deref(), &mut errors);
        if self.ca_file.as_ref().is_some_and(|path| path.as_os_str().is_empty()) {
            errors.push("source.ca_file: must not be empty".to_owned());
        }
        if let Some(file_name) = &self.file_name
            && (file_name.trim().is_empty() || file_name.contains(['/', '\\']))
        {
            errors.push(format!("source.file_name: {file_name:?} must be a file name, without '/'"));
        }
        errors
    }
}

impl SourceConfig {
    /// The source's kind as configured, also the `source` label of its metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceConfig::Directory(_) => "directory",
            SourceConfig::Http(_) => "http",
            SourceConfig::File(_) => "file",
            SourceConfig::Taxii(_) => "taxii",
            SourceConfig::ShadowserverApi(_) => "shadowserver-api",
            SourceConfig::Imap(_) => "imap",
            SourceConfig::MispFeed(_) => "misp-feed",
        }
    }

    /// Checks what can be checked without IO; returns every problem, each starting with the
    /// key it is about (`source.url: ...`).
    pub fn check(&self) -> Vec<String> {
        let mut errors = Vec::new();
        match self {
            SourceConfig::Directory(config) => {
                if config.path.as_os_str().is_empty() {
                    errors.push("source.path: must not be empty".to_owned());
                }
                if let Some(pattern) = &config.pattern
                    && (pattern.is_empty() || pattern.contains(['/', '\\']))
                {
                    errors.push(format!(
                        "source.pattern: {pattern:?} must be a file name pattern such as \"*.csv\""
                    ));
                }
                if config.poll_seconds == 0 {
                    errors.push("source.poll_seconds: must be at least 1".to_owned());
                }
                if let Some(done_dir) = &config.done_dir {
                    if done_dir.as_os_str().is_empty() {
                        errors.push("source.done_dir: must not be empty".to_owned());
                    } else if *done_dir == config.path {
                        errors.push("source.done_dir: must not be the watched directory".to_owned());
                    }
                }
            }
            SourceConfig::Http(config) => errors.extend(config.check()),
            SourceConfig::File(config) => {
                if config.path.as_os_str().is_empty() {
                    errors.push("source.path: must not be empty".to_owned());
                }
            }
            SourceConfig::Taxii(config) => errors.extend(config.check()),
            SourceConfig::ShadowserverApi(config) => errors.extend(config.check()),
            SourceConfig::Imap(config) => errors.extend(config.check()),
            SourceConfig::MispFeed(config) => errors.extend(config.check()),
        }
        errors
    }
}

/// Why a source could not bring a report in.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{name}: more than {limit} bytes, over the report size limit (pipeline.limits.max_report_bytes)")]
    TooLarge { name: String, limit: u64 },
    #[error("{name}: the archive's members hold more than {limit} bytes in total, over its limit")]
    ArchiveTooLarge { name: String, limit: u64 },
    #[error("{name}: the archive has {entries} entries, over the limit of {limit}")]
    TooManyEntries { name: String, entries: u64, limit: usize },
    #[error(
        "{name}: member {member:?} is compressed more than {limit} to 1, refused as a decompression bomb"
    )]
    CompressionRatio { name: String, member: String, limit: u64 },
    #[error("{name}: cannot decompress {format} data: {detail}")]
    Corrupt { name: String, format: &'static str, detail: String },
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot move {from} to {to}: {source}")]
    Move { from: String, to: String, source: std::io::Error },
    #[error(
        "{url}: download aborted after {limit} bytes, over the report size limit (pipeline.limits.max_report_bytes)"
    )]
    DownloadTooLarge { url: String, limit: u64 },
    #[error("{url}: {detail}")]
    Http { url: String, detail: String },
    #[error("{url}: the server answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: cannot set up the HTTP client: {detail}")]
    Client { url: String, detail: String },
    #[error("{name}: {detail}")]
    Task { name: String, detail: String },
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

impl SourceError {
    /// Whether trying again later may succeed (an IO, network or store failure), as opposed
    /// to a report that will fail the same way every time (too large, corrupt).
    pub fn is_transient(&self) -> bool {
        match self {
            SourceError::Read { .. }
            | SourceError::Move { .. }
            | SourceError::Http { .. }
            | SourceError::Status { .. }
            | SourceError::Client { .. }
            | SourceError::Task { .. } => true,
            SourceError::Pipeline(error) => matches!(error, PipelineError::Store(_) | PipelineError::Sink(_)),
            SourceError::TooLarge { .. }
            | SourceError::ArchiveTooLarge { .. }
            | SourceError::TooManyEntries { .. }
            | SourceError::CompressionRatio { .. }
            | SourceError::Corrupt { .. }
            | SourceError::DownloadTooLarge { .. } => false,
        }
    }
}

/// The current constituency index, asked for at every ingestion so registry changes apply.
pub type IndexFn = Arc<dyn Fn() -> Arc<ConstituencyIndex> + Send + Sync>;

/// Called with the id of every report a source stored with new events, after it was processed:
/// the place for work that follows ingestion (matching the events to open incidents).
pub type AfterReportFn =
    Arc<dyn Fn(Uuid) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync>;

/// Starts one task per feed with a source and returns their handles. The tasks stop promptly
/// when `shutdown` turns true (or its sender is dropped); an ingestion interrupted that way
/// is processed again from the start next time, as the pipeline does after a restart.
///
/// Must be called within a Tokio runtime.
pub fn run(
    pipeline: Arc<Pipeline>,
    feeds: Vec<FeedConfig>,
    limits: DecompressLimits,
    store: Arc<dyn Store>,
    index: IndexFn,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    run_with(pipeline, feeds, limits, store, index, None, shutdown)
}

/// [`run`], calling `after` with every report stored with new events.
pub fn run_with(
    pipeline: Arc<Pipeline>,
    feeds: Vec<FeedConfig>,
    limits: DecompressLimits,
    store: Arc<dyn Store>,
    index: IndexFn,
    after: Option<AfterReportFn>,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    for feed in feeds {
        let Some(source) = feed.source else { continue };
        let ingester = Ingester {
            pipeline: Arc::clone(&pipeline),
            store: Arc::clone(&store),
            index: Arc::clone(&index),
            after: after.clone(),
            feed: feed.name,
            kind: source.kind(),
            once: false,
        };
        handles.push(tokio::spawn(source_task(ingester, source, limits, shutdown.clone())));
    }
    handles
}

/// Looks at one feed's source once, as `neretva serve` would at its next poll, storing what it
/// brings; returns what the source did. `None` when the feed has no source.
pub async fn poll_once(
    pipeline: Arc<Pipeline>,
    feed: FeedConfig,
    limits: DecompressLimits,
    store: Arc<dyn Store>,
    index: IndexFn,
    after: Option<AfterReportFn>,
) -> Option<SourceState> {
    let source = feed.source?;
    let ingester = Ingester {
        pipeline: Arc::clone(&pipeline),
        store,
        index,
        after,
        feed: feed.name.clone(),
        kind: source.kind(),
        once: true,
    };
    // Never shut down: the one poll runs to its end.
    let (_keep, shutdown) = watch::channel(false);
    source_task(ingester, source, limits, shutdown).await;
    pipeline.source_status().get(&feed.name)
}

/// The task of one feed's source.
async fn source_task(
    ingester: Ingester,
    source: SourceConfig,
    limits: DecompressLimits,
    shutdown: watch::Receiver<bool>,
) {
    tracing::info!(feed = %ingester.feed, source = ingester.kind, "Feed source started.");
    let restored = ingester.saved_state().await;
    ingester.pipeline.source_status().started(
        &ingester.feed,
        ingester.kind,
        time::OffsetDateTime::now_utc(),
        restored,
    );
    match source {
        SourceConfig::Directory(config) => {
            directory::watch_directory(ingester, config, limits, shutdown).await
        }
        SourceConfig::Http(config) => http::poll_url(ingester, config, limits, shutdown).await,
        SourceConfig::File(config) => directory::read_file_once(ingester, config, limits, shutdown).await,
        SourceConfig::Taxii(config) => {
            taxii::poll_taxii(ingester, config, limits.max_report_bytes, shutdown).await;
        }
        SourceConfig::ShadowserverApi(config) => {
            shadowserver_api::poll_shadowserver_api(ingester, config, limits, shutdown).await;
        }
        SourceConfig::Imap(config) => imap::poll_imap(ingester, config, limits, shutdown).await,
        SourceConfig::MispFeed(config) => {
            misp_feed::poll_misp_feed(ingester, config, limits.max_report_bytes, shutdown).await;
        }
    }
}

/// Completes once `shutdown` is true or its sender is gone.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// A source looked at on a schedule: each call is one poll, whose failures it reports to
/// [`Ingester::failed`].
trait Polled: Send {
    fn poll(&mut self, ingester: &Ingester) -> impl std::future::Future<Output = ()> + Send;

    /// Before the first poll: takes up where the feed's stored reports say the source was.
    fn resume(&mut self, _ingester: &Ingester) -> impl std::future::Future<Output = ()> + Send {
        std::future::ready(())
    }

    /// Completes when the source has something new before its next scheduled poll (a mailbox
    /// waiting in `IDLE`); never by default.
    fn changed(&mut self, _ingester: &Ingester) -> impl std::future::Future<Output = ()> + Send {
        std::future::pending()
    }

    /// A poll asked for by someone ([`SourceStatus::wake`]); the same as a scheduled one unless
    /// the source needs more to bring in what is there.
    fn poll_now(&mut self, ingester: &Ingester) -> impl std::future::Future<Output = ()> + Send {
        self.poll(ingester)
    }
}

/// Polls `source` at once and then every `period` until shut down (a poll under way is
/// dropped then), or only once for [`poll_once`]; each poll ends with [`Ingester::polled`].
async fn poll_every(
    ingester: Ingester,
    period: std::time::Duration,
    mut source: impl Polled,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let waker = ingester.pipeline.source_status().waker(&ingester.feed);
    tokio::select! {
        biased;
        () = stopped(&mut shutdown) => return,
        () = source.resume(&ingester) => {}
    }
    loop {
        // Asked for (`woken`), or the source says something came in (`changed`).
        let (woken, changed) = tokio::select! {
            biased;
            () = stopped(&mut shutdown) => return,
            _ = interval.tick() => (false, false),
            () = waker.notified() => (true, false),
            () = source.changed(&ingester) => (false, true),
        };
        if woken {
            tracing::info!(feed = %ingester.feed, source = ingester.kind, "Looking at the source now, as asked.");
        }
        if woken || changed {
            // The next scheduled poll is a whole period after this one.
            interval.reset();
        }
        tokio::select! {
            biased;
            () = stopped(&mut shutdown) => return,
            // `neretva feeds fetch`'s one poll is asked for too.
            () = async {
                if woken || ingester.once { source.poll_now(&ingester).await } else { source.poll(&ingester).await }
            } => ingester.polled().await,
        }
        if ingester.once {
            return;
        }
    }
}

/// `minutes` as a polling period, at least one minute.
fn minutes(minutes: u64) -> std::time::Duration {
    std::time::Duration::from_secs(minutes.max(1).saturating_mul(60))
}

/// A source that could be set up, or `None` after recording why not as a failed poll.
async fn set_up<T>(ingester: &Ingester, source: Result<T, SourceError>) -> Option<T> {
    match source {
        Ok(source) => Some(source),
        Err(error) => {
            ingester.failed(&error);
            ingester.polled().await;
            None
        }
    }
}

/// What every source task needs to ingest a report and account for it.
#[derive(Clone)]
pub(crate) struct Ingester {
    pipeline: Arc<Pipeline>,
    store: Arc<dyn Store>,
    index: IndexFn,
    after: Option<AfterReportFn>,
    feed: String,
    kind: &'static str,
    /// One poll only ([`poll_once`]).
    once: bool,
}

impl Ingester {
    /// Ingests one report and logs and counts the outcome.
    async fn ingest(&self, source: &str, data: Vec<u8>) -> Result<Outcome, SourceError> {
        let index = (self.index)();
        let context =
            Context { store: self.store.as_ref(), index: &index, now: time::OffsetDateTime::now_utc() };
        match self.pipeline.ingest(&context, &self.feed, source, data, IngestOptions::default()).await {
            Ok(outcome) => {
                metrics::counter!("neretva_source_reports_total", "feed" => self.feed.clone(), "source" => self.kind)
                    .increment(1);
                self.pipeline.source_status().report(&self.feed);
                let report = outcome.report.as_ref().map(|report| report.id.to_string()).unwrap_or_default();
                if outcome.already_stored {
                    tracing::info!(feed = %self.feed, source, report, "Report already stored; not processed again.");
                } else {
                    tracing::info!(
                        feed = %self.feed,
                        source,
                        report,
                        records = outcome.counts.records,
                        events = outcome.counts.events,
                        errors = outcome.counts.errors,
                        duplicates = outcome.counts.duplicates,
                        dropped = outcome.counts.dropped,
                        "Report ingested."
                    );
                    if let (Some(after), Some(report)) = (&self.after, &outcome.report)
                        && outcome.counts.events > 0
                    {
                        after(report.id).await;
                    }
                }
                Ok(outcome)
            }
            Err(error) => Err(SourceError::Pipeline(error)),
        }
    }

    /// The sources of the feed's stored reports, newest first, for a source that keeps its
    /// position in them: at most `max` reports, and no further page once one reaches back
    /// before `since`.
    async fn stored_sources(
        &self,
        max: usize,
        since: Option<time::OffsetDateTime>,
    ) -> Result<Vec<String>, neretva_store::StoreError> {
        let reports = self.stored_reports(max, since).await?;
        Ok(reports.into_iter().map(|report| report.source).collect())
    }

    /// The feed's stored reports as [`Ingester::stored_sources`] pages through them.
    async fn stored_reports(
        &self,
        max: usize,
        since: Option<time::OffsetDateTime>,
    ) -> Result<Vec<neretva_store::feeds::ReportInfo>, neretva_store::StoreError> {
        const PAGE: u32 = 1_000;
        let mut query =
            neretva_store::feeds::ReportQuery { feed: Some(self.feed.clone()), before: None, limit: PAGE };
        let mut found = Vec::new();
        while found.len() < max {
            let reports = self.store.list_reports(&query).await?;
            let last = reports.last().map(|report| (report.id, report.received_at));
            let full = reports.len() == PAGE as usize;
            found.extend(reports);
            match last {
                Some((id, received_at)) if full && since.is_none_or(|since| received_at >= since) => {
                    query.before = Some(id);
                }
                _ => break,
            }
        }
        Ok(found)
    }

    /// Counts bytes read or downloaded, before decompression.
    fn received(&self, bytes: usize) {
        metrics::counter!("neretva_source_bytes_total", "feed" => self.feed.clone()).increment(bytes as u64);
    }

    /// Logs and counts a failure.
    fn failed(&self, error: &SourceError) {
        metrics::counter!("neretva_source_errors_total", "feed" => self.feed.clone(), "source" => self.kind)
            .increment(1);
        tracing::warn!(feed = %self.feed, source = self.kind, error = %error, "Feed source failed.");
        self.pipeline.source_status().failed(&self.feed, error.to_string(), time::OffsetDateTime::now_utc());
    }

    /// Ends a poll of the source: failed if anything failed since the last poll ended. Saves
    /// what outlives the process when [`SourceStatus`] says it is due; a failed save is logged
    /// (the source itself worked) and tried again after the next poll.
    async fn polled(&self) {
        let now = time::OffsetDateTime::now_utc();
        let status = self.pipeline.source_status();
        status.polled(&self.feed, now);
        let Some(lasting) = status.to_save(&self.feed, now) else { return };
        let saved = match serde_json::to_string(&lasting) {
            Ok(state) => {
                let record = SourceRecord {
                    feed: self.feed.clone(),
                    kind: self.kind.to_owned(),
                    state,
                    saved_at: now,
                };
                self.store.save_source_record(&record).await.map_err(|error| error.to_string())
            }
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = saved {
            tracing::warn!(feed = %self.feed, source = self.kind, %error, "Cannot save the source's state.");
            status.save_failed(&self.feed);
        }
    }

    /// What the feed's source saved in its last run, unless it was another kind of source then;
    /// a state that cannot be read is logged and left behind (the source starts afresh).
    async fn saved_state(&self) -> Option<(Lasting, time::OffsetDateTime)> {
        let record = match self.store.source_record(&self.feed).await {
            Ok(record) => record?,
            Err(error) => {
                tracing::warn!(feed = %self.feed, source = self.kind, %error, "Cannot read the source's saved state.");
                return None;
            }
        };
        if record.kind != self.kind {
            return None;
        }
        match serde_json::from_str(&record.state) {
            Ok(lasting) => Some((lasting, record.saved_at)),
            Err(error) => {
                tracing::warn!(feed = %self.feed, source = self.kind, %error, "The source's saved state is not readable; starting afresh.");
                None
            }
        }
    }
}

/// Runs blocking work (file IO, decompression) off the async threads.
async fn blocking<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(error) => {
            Err(SourceError::Task { name: name.to_owned(), detail: format!("the worker failed: {error}") })
        }
    }
}
