//! `kind = "misp-feed"`: a MISP feed, the directory of event files that MISP instances
//! subscribe to (`manifest.json` and one `{uuid}.json` per event, as CIRCL's OSINT feed or
//! `neretva intel export --format misp-feed` publish it), fetched as a subscribing MISP does.
//!
//! Every `interval_minutes` the source reads `{url}manifest.json` with a conditional request
//! (an unchanged manifest is not downloaded again; the one read last is used). Each event of the
//! manifest that was not processed yet, or whose `timestamp` is newer than when it was, is
//! downloaded from `{url}{uuid}.json`, oldest first and at most `max_events` per poll (the
//! rest at the next polls), and ingested as a report with the source
//! `misp-feed:<uuid>@<timestamp>#<uuid>.json` for the `misp-feed` parser (one MISP event per
//! report). Events whose timestamp is more than `max_age_days` old are not fetched (all with 0).
//! After a restart the stored reports' sources say which events were processed at which
//! timestamp. The manifest is hostile input like any report: its size is capped, and an entry
//! whose key is not a UUID or that has no usable timestamp is skipped and counted; an event's
//! URL is only ever built from a key that parsed as a UUID.

use std::collections::{BTreeMap, HashMap};

use reqwest::Url;
use serde::Deserialize;
use tokio::sync::watch;

use crate::sources::http::{HttpSource, base_url};
use crate::sources::{HttpSourceConfig, Ingester, Polled, SourceError, minutes, poll_every, set_up};

/// The prefix of the stored reports' sources.
const SOURCE_PREFIX: &str = "misp-feed:";

/// `kind = "misp-feed"`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MispFeedSourceConfig {
    /// The feed's base URL, where `manifest.json` is (e.g.
    /// `https://www.circl.lu/doc/misp/feed-osint/`).
    pub url: String,
    #[serde(default = "default_interval_minutes")]
    pub interval_minutes: u64,
    /// For each request, body included.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// Request headers, e.g. `Authorization` for a MISP instance's own feed; never logged.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Events whose manifest timestamp is older than this many days are not fetched; 0 for
    /// every event of the feed.
    #[serde(default = "default_max_age_days")]
    pub max_age_days: u32,
    /// Event files downloaded per poll at most; the rest follow at the next polls.
    #[serde(default = "default_max_events")]
    pub max_events: u32,
    /// A PEM file of the certificate authorities to trust instead of the system's.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// HTTP Basic credentials; the password is never logged.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

fn default_interval_minutes() -> u64 {
    60
}

fn default_timeout_seconds() -> u64 {
    60
}

fn default_max_age_days() -> u32 {
    30
}

fn default_max_events() -> u32 {
    500
}

impl std::fmt::Debug for MispFeedSourceConfig {
    // Header values may be keys: only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MispFeedSourceConfig")
            .field("url", &self.url)
            .field("interval_minutes", &self.interval_minutes)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("max_age_days", &self.max_age_days)
            .field("max_events", &self.max_events)
            .field("ca_file", &self.ca_file)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .finish()
    }
}

impl MispFeedSourceConfig {
    /// The `http` source's settings for the manifest: its URL and this source's client
    /// settings, which the event downloads share.
    fn manifest(&self) -> Result<HttpSourceConfig, String> {
        let manifest = base_url(&self.url)?.join("manifest.json").map_err(|error| error.to_string())?;
        Ok(self.http_settings(manifest.to_string()))
    }

    /// The `http` source's settings of a request to `url` with this source's client settings.
    fn http_settings(&self, url: String) -> HttpSourceConfig {
        HttpSourceConfig {
            url,
            interval_minutes: self.interval_minutes,
            timeout_seconds: self.timeout_seconds,
            headers: self.headers.clone(),
            file_name: Some("manifest.json".to_owned()),
            ca_file: self.ca_file.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }

    /// Every problem found without IO, each starting with its key: the client settings as the
    /// `http` source checks them, then this source's own.
    pub(crate) fn check(&self) -> Vec<String> {
        let mut errors = self.http_settings(self.url.clone()).check();
        if Url::parse(&self.url).is_ok_and(|url| url.query().is_some()) {
            errors.push("source.url: the feed's base URL takes no query".to_owned());
        }
        if self.max_events == 0 {
            errors.push("source.max_events: must be at least 1".to_owned());
        }
        errors
    }
}

/// The events a manifest lists, by UUID (as the manifest writes it) with their timestamps,
/// and how many of its entries were not usable.
#[derive(Debug, Default, PartialEq, Eq)]
struct Manifest {
    events: Vec<(String, i64)>,
    unusable: usize,
}

/// Reads a `manifest.json`: an object of event UUIDs, each with the event's `timestamp` (Unix
/// seconds, as a JSON string as MISP writes it, or a number).
fn parse_manifest(body: &[u8]) -> Result<Manifest, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| format!("the manifest is not JSON: {error}"))?;
    let serde_json::Value::Object(entries) = value else {
        return Err("the manifest is not an object of event UUIDs".to_owned());
    };
    let mut manifest = Manifest::default();
    for (key, entry) in entries {
        let timestamp = match entry.get("timestamp") {
            Some(serde_json::Value::String(text)) => text.trim().parse::<i64>().ok(),
            Some(serde_json::Value::Number(number)) => number.as_i64(),
            _ => None,
        };
        match timestamp {
            Some(timestamp) if event_uuid(&key) && timestamp >= 0 => manifest.events.push((key, timestamp)),
            _ => manifest.unusable += 1,
        }
    }
    Ok(manifest)
}

/// Whether a manifest key is an event UUID in its hyphenated form, which names its file.
fn event_uuid(key: &str) -> bool {
    key.len() == 36 && uuid::Uuid::try_parse(key).is_ok()
}

/// The source of an event's report.
fn report_source(uuid: &str, timestamp: i64) -> String {
    format!("{SOURCE_PREFIX}{uuid}@{timestamp}#{uuid}.json")
}

/// The event and timestamp of a report this source stored, from its source.
fn processed_event(source: &str) -> Option<(&str, i64)> {
    let (uuid, rest) = source.strip_prefix(SOURCE_PREFIX)?.split_once('@')?;
    let (timestamp, _) = rest.split_once('#')?;
    let timestamp = timestamp.parse().ok()?;
    event_uuid(uuid).then_some((uuid, timestamp))
}

/// The events of `manifest` to fetch now: new, or newer than processed, and not older than
/// `oldest` (Unix seconds); oldest first, at most `max`.
fn to_fetch(manifest: &Manifest, done: &HashMap<String, i64>, oldest: i64, max: usize) -> Vec<(String, i64)> {
    let mut wanted: Vec<(String, i64)> = manifest
        .events
        .iter()
        .filter(|(uuid, timestamp)| {
            *timestamp >= oldest && done.get(uuid).is_none_or(|processed| timestamp > processed)
        })
        .cloned()
        .collect();
    wanted.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    wanted.truncate(max);
    wanted
}

/// The feed, its client, the manifest read last and the events processed.
struct MispFeed {
    manifest_source: HttpSource,
    base: Url,
    config: MispFeedSourceConfig,
    manifest: Manifest,
    /// Event UUID → the manifest timestamp it was processed at.
    done: HashMap<String, i64>,
}

impl MispFeed {
    fn new(config: &MispFeedSourceConfig, max_bytes: u64) -> Result<MispFeed, SourceError> {
        let invalid = |detail: String| SourceError::Client { url: "source.url".to_owned(), detail };
        let base = base_url(&config.url).map_err(invalid)?;
        let manifest_source = HttpSource::new(&config.manifest().map_err(invalid)?, max_bytes)?;
        Ok(MispFeed {
            manifest_source,
            base,
            config: config.clone(),
            manifest: Manifest::default(),
            done: HashMap::new(),
        })
    }

    /// The manifest as it is now: downloaded and read when it changed, else the one read last.
    async fn refresh_manifest(&mut self, ingester: &Ingester) -> Result<(), SourceError> {
        let Some(download) = self.manifest_source.poll().await? else { return Ok(()) };
        ingester.received(download.data.len());
        let manifest = parse_manifest(&download.data)
            .map_err(|detail| SourceError::Http { url: self.manifest_source.url().to_owned(), detail })?;
        if manifest.unusable > 0 {
            tracing::warn!(feed = %ingester.feed, entries = manifest.unusable, "The MISP feed's manifest has entries without an event UUID or timestamp; they are skipped.");
        }
        self.manifest = manifest;
        self.manifest_source.remember(download.validators);
        Ok(())
    }

    async fn fetch(&self, ingester: &Ingester, uuid: &str, timestamp: i64) -> Result<(), SourceError> {
        let url = self.base.join(&format!("{uuid}.json")).map_err(|error| SourceError::Client {
            url: self.manifest_source.url().to_owned(),
            detail: error.to_string(),
        })?;
        let download = self.manifest_source.get(&url).await?;
        ingester.received(download.data.len());
        ingester.ingest(&report_source(uuid, timestamp), download.data).await.map(drop)
    }
}

/// Polls the feed every `interval_minutes` until shut down, starting at once.
pub(crate) async fn poll_misp_feed(
    ingester: Ingester,
    config: MispFeedSourceConfig,
    max_bytes: u64,
    shutdown: watch::Receiver<bool>,
) {
    let Some(feed) = set_up(&ingester, MispFeed::new(&config, max_bytes)).await else { return };
    poll_every(ingester, minutes(config.interval_minutes), feed, shutdown).await;
}

impl Polled for MispFeed {
    /// Remembers the events processed before, from the feed's stored reports.
    async fn resume(&mut self, ingester: &Ingester) {
        // At most 100,000 reports are looked at, more than any feed holds events.
        let sources = match ingester.stored_sources(100_000, None).await {
            Ok(sources) => sources,
            Err(error) => {
                tracing::warn!(feed = %ingester.feed, error = %error, "Cannot read which MISP feed events were processed; they are downloaded again and recognised by their content.");
                return;
            }
        };
        for (uuid, timestamp) in sources.iter().filter_map(|source| processed_event(source)) {
            let processed = self.done.entry(uuid.to_owned()).or_insert(timestamp);
            *processed = (*processed).max(timestamp);
        }
        if !self.done.is_empty() {
            tracing::info!(feed = %ingester.feed, events = self.done.len(), "MISP feed events processed before are not downloaded again unless they changed.");
        }
    }

    async fn poll(&mut self, ingester: &Ingester) {
        if let Err(error) = self.refresh_manifest(ingester).await {
            ingester.failed(&error);
            return;
        }
        let oldest = match self.config.max_age_days {
            0 => i64::MIN,
            days => {
                (time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days))).unix_timestamp()
            }
        };
        let fetch = to_fetch(&self.manifest, &self.done, oldest, self.config.max_events as usize);
        tracing::debug!(feed = %ingester.feed, listed = self.manifest.events.len(), fetch = fetch.len(), "MISP feed manifest read.");
        for (uuid, timestamp) in fetch {
            match self.fetch(ingester, &uuid, timestamp).await {
                Ok(()) => {
                    self.done.insert(uuid, timestamp);
                }
                Err(error) => ingester.failed(&error),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "5f1e1a0c-3b9a-4c2e-9a51-0d7c2c1e4a01";
    const B: &str = "5f1e1a0c-3b9a-4c2e-9a51-0d7c2c1e4a02";

    #[test]
    fn manifests_are_read_as_hostile_input() {
        let body = format!(
            r#"{{"{A}": {{"info": "C2 servers", "timestamp": "1764460800", "Orgc": {{"name": "CIRCL"}}}},
                "{B}": {{"timestamp": 1764374400}},
                "../../etc/passwd": {{"timestamp": "1"}},
                "5f1e1a0c3b9a4c2e9a510d7c2c1e4a03": {{"timestamp": "1"}},
                "5f1e1a0c-3b9a-4c2e-9a51-0d7c2c1e4a04": {{"timestamp": "yesterday"}},
                "5f1e1a0c-3b9a-4c2e-9a51-0d7c2c1e4a05": {{}}}}"#
        );
        let manifest = parse_manifest(body.as_bytes()).unwrap();
        assert_eq!(manifest.events, [(A.to_owned(), 1_764_460_800), (B.to_owned(), 1_764_374_400)]);
        assert_eq!(manifest.unusable, 4);
        assert!(parse_manifest(b"[]").unwrap_err().contains("not an object"));
        assert!(parse_manifest(b"{").unwrap_err().starts_with("the manifest is not JSON"));
    }

    #[test]
    fn new_and_changed_events_are_fetched_oldest_first() {
        let manifest = Manifest {
            events: vec![(A.to_owned(), 300), (B.to_owned(), 200), ("c".repeat(36), 100)],
            unusable: 0,
        };
        let mut done = HashMap::new();
        let all = to_fetch(&manifest, &done, i64::MIN, 10);
        assert_eq!(all, [("c".repeat(36), 100), (B.to_owned(), 200), (A.to_owned(), 300)]);
        assert_eq!(to_fetch(&manifest, &done, 150, 1), [(B.to_owned(), 200)], "too old, and at most one");
        done.insert(B.to_owned(), 200);
        done.insert(A.to_owned(), 250);
        assert_eq!(to_fetch(&manifest, &done, 150, 10), [(A.to_owned(), 300)], "A changed since");
    }

    #[test]
    fn the_reports_sources_say_what_was_processed() {
        let source = report_source(A, 1_764_460_800);
        assert_eq!(source, format!("misp-feed:{A}@1764460800#{A}.json"));
        assert_eq!(processed_event(&source), Some((A, 1_764_460_800)));
        assert_eq!(processed_event("misp-feed:x@1#x.json"), None);
        assert_eq!(processed_event(&format!("file:{A}@1#x")), None);
        assert_eq!(processed_event(&format!("misp-feed:{A}@soon#x")), None);
    }

    #[test]
    fn configuration_problems_are_named() {
        let config: MispFeedSourceConfig = serde_json::from_value(serde_json::json!({
            "url": "https://www.circl.lu/doc/misp/feed-osint", "headers": {"Authorization": "secret-key"}
        }))
        .unwrap();
        assert!(config.check().is_empty(), "{:?}", config.check());
        assert_eq!(config.manifest().unwrap().url, "https://www.circl.lu/doc/misp/feed-osint/manifest.json");
        assert!(!format!("{config:?}").contains("secret-key"));
        let mut bad = config;
        bad.url = "ftp://feeds.example/".into();
        bad.max_events = 0;
        bad.interval_minutes = 0;
        assert_eq!(
            bad.check(),
            [
                "source.url: the scheme must be http or https, not \"ftp\"",
                "source.interval_minutes: must be at least 1",
                "source.max_events: must be at least 1"
            ]
        );
    }
}
