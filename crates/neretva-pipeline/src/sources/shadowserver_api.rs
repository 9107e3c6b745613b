//! `kind = "shadowserver-api"`: the Shadowserver Reports API, as its subscribers receive their
//! reports today instead of by e-mail.
//!
//! Every `interval_minutes`, `POST {api_url}reports/list` asks for the reports of today and
//! the `days` days before (`"date": "<first>:<today>"`, UTC), of the configured mailing lists
//! (`reports`; all the key may read when empty). The request is signed as the API requires:
//! the JSON body carries the API key, the `HMAC2` header the hex HMAC-SHA256 of the exact body
//! under the secret. Each listed report of the configured `types` (all when empty) that was not
//! processed yet is downloaded from `{download_url}{id}` and ingested as
//! `shadowserver-api:<id>#<file>`, so the Shadowserver parser reads the report type from the
//! file name, as it does for IntelMQ's collector.
//!
//! The ids processed are remembered, and after a restart read back from the feed's stored
//! reports; a report whose download or processing fails is tried again at the next poll. The
//! same content is stored once in any case (the store knows it by its SHA-256). The listing is
//! hostile input like any report: its size is capped, an entry without a usable id or file
//! name is skipped and counted, and an id is only ever used as one URL path segment.

use std::collections::HashSet;
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use sha2::Sha256;
use tokio::sync::watch;

use crate::sources::decompress::{DecompressLimits, decompress};
use crate::sources::http::{base_url, check_url, client, describe, read_body, redact_url};
use crate::sources::{Ingester, Polled, SourceError, blocking, minutes, poll_every, set_up};

/// Where the Shadowserver Reports API lists reports.
pub const API_URL: &str = "https://transform.shadowserver.org/api2/";
/// Where it serves them.
pub const DOWNLOAD_URL: &str = "https://dl.shadowserver.org/";
/// The prefix of the stored reports' sources.
const SOURCE_PREFIX: &str = "shadowserver-api:";
/// The longest report id accepted from a listing.
const MAX_ID_BYTES: usize = 200;

/// `kind = "shadowserver-api"`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowserverApiConfig {
    /// The API key Shadowserver issued; sent in the signed body, never logged.
    pub api_key: String,
    /// The API secret; signs the requests, never sent or logged.
    pub secret: String,
    /// The mailing lists (`reports`) to list, e.g. the constituency's country; all when empty.
    #[serde(default)]
    pub reports: Vec<String>,
    /// Report types to process (the listing's `type`, e.g. `scan_dns`); all when empty.
    #[serde(default)]
    pub types: Vec<String>,
    /// How many days before today the listing covers (0 to 30).
    #[serde(default = "default_days")]
    pub days: u32,
    #[serde(default = "default_interval_minutes")]
    pub interval_minutes: u64,
    /// For each request, body included.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// The API's base URL.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// The base URL the reports are downloaded from.
    #[serde(default = "default_download_url")]
    pub download_url: String,
}

fn default_days() -> u32 {
    2
}

fn default_interval_minutes() -> u64 {
    60
}

fn default_timeout_seconds() -> u64 {
    120
}

fn default_api_url() -> String {
    API_URL.to_owned()
}

fn default_download_url() -> String {
    DOWNLOAD_URL.to_owned()
}

impl std::fmt::Debug for ShadowserverApiConfig {
    // The key and the secret stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShadowserverApiConfig")
            .field("api_key", &"…")
            .field("secret", &"…")
            .field("reports", &self.reports)
            .field("types", &self.types)
            .field("days", &self.days)
            .field("interval_minutes", &self.interval_minutes)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("api_url", &self.api_url)
            .field("download_url", &self.download_url)
            .finish()
    }
}

impl ShadowserverApiConfig {
    /// Every problem found without IO, each starting with its key.
    pub(crate) fn check(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for (key, value) in [("source.api_key", &self.api_key), ("source.secret", &self.secret)] {
            if value.trim().is_empty() {
                errors.push(format!("{key}: must not be empty"));
            } else if value.chars().any(char::is_control) {
                errors.push(format!("{key}: must not hold control characters"));
            }
        }
        for list in &self.reports {
            if list.trim().is_empty() || list.chars().any(char::is_control) {
                errors.push(format!("source.reports: {list:?} is not a mailing list name"));
            }
        }
        for kind in &self.types {
            if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                errors.push(format!("source.types: {kind:?} is not a report type such as \"scan_dns\""));
            }
        }
        if self.days > 30 {
            errors.push(format!("source.days: {} is more than 30", self.days));
        }
        if self.interval_minutes == 0 {
            errors.push("source.interval_minutes: must be at least 1".to_owned());
        }
        if self.timeout_seconds == 0 {
            errors.push("source.timeout_seconds: must be at least 1".to_owned());
        }
        check_url("source.api_url", &self.api_url, &mut errors);
        check_url("source.download_url", &self.download_url, &mut errors);
        errors
    }
}

/// One entry of a report listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Listed {
    id: String,
    file: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// What a listing holds: its usable entries and how many were not.
#[derive(Debug, Default, PartialEq, Eq)]
struct Listing {
    reports: Vec<Listed>,
    unusable: usize,
}

/// Reads a `reports/list` answer: an array of reports, an object with the API's `error`, or an
/// empty object (no reports).
fn parse_listing(body: &[u8]) -> Result<Listing, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| format!("the report list is not JSON: {error}"))?;
    let entries = match value {
        serde_json::Value::Array(entries) => entries,
        serde_json::Value::Object(object) => match object.get("error") {
            Some(error) => {
                let error = error.as_str().map_or_else(|| error.to_string(), str::to_owned);
                return Err(format!("the API answered with an error: {error}"));
            }
            None if object.is_empty() => Vec::new(),
            None => return Err("the report list is an object without an error, not a list".to_owned()),
        },
        _ => return Err("the report list is not a list".to_owned()),
    };
    let mut listing = Listing::default();
    for entry in entries {
        match serde_json::from_value::<Listed>(entry) {
            Ok(mut listed) if usable_id(&listed.id) => match file_name(&listed.file) {
                Some(file) => {
                    listed.file = file;
                    listing.reports.push(listed);
                }
                None => listing.unusable += 1,
            },
            _ => listing.unusable += 1,
        }
    }
    Ok(listing)
}

/// Whether an id can be one URL path segment as it is: letters, digits, `-` and `_`.
fn usable_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A listed file's name: its last path component without control characters or `#`.
fn file_name(file: &str) -> Option<String> {
    let last = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let name: String = last.chars().filter(|c| !c.is_control() && *c != '#').collect();
    let name = name.trim();
    (!name.is_empty() && name != "." && name != "..").then(|| name.to_owned())
}

/// The listing request's body for the days `first` to `last` (`YYYY-MM-DD`).
fn list_body(config: &ShadowserverApiConfig, first: &str, last: &str) -> String {
    let mut body = serde_json::json!({ "apikey": config.api_key, "date": format!("{first}:{last}") });
    if !config.reports.is_empty() {
        body["reports"] = serde_json::json!(config.reports);
    }
    body.to_string()
}

/// The `HMAC2` header's value: the hex HMAC-SHA256 of `body` under `secret`.
fn signature(secret: &str, body: &str) -> String {
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The id of a report this source stored, from its source.
fn id_of(source: &str) -> Option<&str> {
    let (id, _) = source.strip_prefix(SOURCE_PREFIX)?.split_once('#')?;
    usable_id(id).then_some(id)
}

/// The API, its client and the ids of the reports processed.
struct ShadowserverApi {
    /// Follows no redirect: a 307 or 308 would send the key in the body to another host.
    list_client: reqwest::Client,
    /// Follows up to 5 redirects: the download host may send clients on to storage elsewhere.
    download_client: reqwest::Client,
    list_url: Url,
    download_url: Url,
    config: ShadowserverApiConfig,
    timeout: Duration,
    limits: DecompressLimits,
    done: HashSet<String>,
}

impl ShadowserverApi {
    fn new(config: &ShadowserverApiConfig, limits: DecompressLimits) -> Result<ShadowserverApi, SourceError> {
        let invalid = |key: &str, detail: String| SourceError::Client { url: key.to_owned(), detail };
        let api_url = base_url(&config.api_url).map_err(|detail| invalid("source.api_url", detail))?;
        let download_url =
            base_url(&config.download_url).map_err(|detail| invalid("source.download_url", detail))?;
        let list_url =
            api_url.join("reports/list").map_err(|error| invalid("source.api_url", error.to_string()))?;
        let timeout = Duration::from_secs(config.timeout_seconds.max(1));
        let list_client = client(&list_url, timeout, reqwest::redirect::Policy::none(), None)
            .map_err(|detail| invalid(&redact_url(&list_url), detail))?;
        let download_client = client(&download_url, timeout, reqwest::redirect::Policy::limited(5), None)
            .map_err(|detail| invalid(&redact_url(&download_url), detail))?;
        Ok(ShadowserverApi {
            list_client,
            download_client,
            list_url,
            download_url,
            config: config.clone(),
            timeout,
            limits,
            done: HashSet::new(),
        })
    }

    /// Lists the reports of the configured days, as of today (UTC).
    async fn list(&self) -> Result<Listing, SourceError> {
        let today = time::OffsetDateTime::now_utc().date();
        let first = today - time::Duration::days(i64::from(self.config.days));
        let body = list_body(&self.config, &first.to_string(), &today.to_string());
        let mut signed = HeaderValue::from_str(&signature(&self.config.secret, &body))
            .map_err(|_| self.error(&self.list_url, "cannot sign the request".to_owned()))?;
        signed.set_sensitive(true);
        let request = self
            .list_client
            .post(self.list_url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("HMAC2", signed)
            .body(body);
        let display = redact_url(&self.list_url);
        let mut response = request.send().await.map_err(|error| self.http_error(&self.list_url, error))?;
        if response.status() != StatusCode::OK {
            return Err(SourceError::Status { url: display, status: response.status().as_u16() });
        }
        let body = read_body(&mut response, self.limits.max_report_bytes, &display, |error| {
            self.http_error(&self.list_url, error)
        })
        .await?;
        parse_listing(&body).map_err(|detail| self.error(&self.list_url, detail))
    }

    /// Downloads one listed report.
    async fn download(&self, id: &str) -> Result<Vec<u8>, SourceError> {
        let url =
            self.download_url.join(id).map_err(|error| self.error(&self.download_url, error.to_string()))?;
        let display = redact_url(&url);
        let mut response = self
            .download_client
            .get(url.clone())
            .send()
            .await
            .map_err(|error| self.http_error(&url, error))?;
        if !response.status().is_success() {
            return Err(SourceError::Status { url: display, status: response.status().as_u16() });
        }
        read_body(&mut response, self.limits.max_report_bytes, &display, |error| self.http_error(&url, error))
            .await
    }

    fn wanted(&self, listed: &Listed) -> bool {
        self.config.types.is_empty()
            || listed.kind.as_ref().is_some_and(|kind| self.config.types.iter().any(|wanted| wanted == kind))
    }

    fn error(&self, url: &Url, detail: String) -> SourceError {
        SourceError::Http { url: redact_url(url), detail }
    }

    fn http_error(&self, url: &Url, error: reqwest::Error) -> SourceError {
        let detail = if error.is_timeout() {
            format!("timed out after {} seconds", self.timeout.as_secs())
        } else {
            describe(error)
        };
        self.error(url, detail)
    }
}

/// Polls the API every `interval_minutes` until shut down, starting at once.
pub(crate) async fn poll_shadowserver_api(
    ingester: Ingester,
    config: ShadowserverApiConfig,
    limits: DecompressLimits,
    shutdown: watch::Receiver<bool>,
) {
    let Some(api) = set_up(&ingester, ShadowserverApi::new(&config, limits)).await else { return };
    poll_every(ingester, minutes(config.interval_minutes), api, shutdown).await;
}

impl Polled for ShadowserverApi {
    /// Remembers the reports of the feed stored from this API in the listing's days (and one
    /// more), newest first, so a restart does not download them again.
    async fn resume(&mut self, ingester: &Ingester) {
        let since = time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(self.config.days) + 1);
        // At most 20,000 reports are looked at, far more than any listing holds.
        match ingester.stored_sources(20_000, Some(since)).await {
            Ok(sources) => {
                self.done.extend(sources.iter().filter_map(|source| id_of(source)).map(str::to_owned))
            }
            Err(error) => {
                tracing::warn!(feed = %ingester.feed, error = %error, "Cannot read which Shadowserver reports were processed; they are downloaded again and recognised by their content.");
                return;
            }
        }
        if !self.done.is_empty() {
            tracing::info!(feed = %ingester.feed, reports = self.done.len(), "Shadowserver reports processed before are not downloaded again.");
        }
    }

    async fn poll(&mut self, ingester: &Ingester) {
        poll_once(ingester, self).await;
    }
}

/// One poll: list, then download and ingest each new report of the wanted types; a failure
/// is logged and counted, and that report is tried again at the next poll.
async fn poll_once(ingester: &Ingester, api: &mut ShadowserverApi) {
    let listing = match api.list().await {
        Ok(listing) => listing,
        Err(error) => {
            ingester.failed(&error);
            return;
        }
    };
    if listing.unusable > 0 {
        tracing::warn!(feed = %ingester.feed, entries = listing.unusable, "Shadowserver listed reports without a usable id or file name; they are skipped.");
    }
    let wanted: Vec<&Listed> = listing.reports.iter().filter(|listed| api.wanted(listed)).collect();
    let new: Vec<&Listed> = wanted.iter().copied().filter(|listed| !api.done.contains(&listed.id)).collect();
    tracing::debug!(feed = %ingester.feed, listed = listing.reports.len(), wanted = wanted.len(), new = new.len(), "Shadowserver report list read.");
    for listed in new {
        match fetch(ingester, api, listed).await {
            Ok(()) => {
                api.done.insert(listed.id.clone());
            }
            Err(error) => ingester.failed(&error),
        }
    }
    // Ids no longer listed will not come back: only the listed ones are worth remembering.
    let listed: HashSet<&str> = listing.reports.iter().map(|listed| listed.id.as_str()).collect();
    api.done.retain(|id| listed.contains(id.as_str()));
}

async fn fetch(ingester: &Ingester, api: &ShadowserverApi, listed: &Listed) -> Result<(), SourceError> {
    let data = api.download(&listed.id).await?;
    ingester.received(data.len());
    let (name, limits) = (listed.file.clone(), api.limits);
    let reports = blocking(&listed.file, move || decompress(&name, data, &limits)).await?;
    for (name, data) in reports {
        let source = format!("{SOURCE_PREFIX}{}#{name}", listed.id);
        ingester.ingest(&source, data).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ShadowserverApiConfig {
        serde_json::from_value(serde_json::json!({ "api_key": "k", "secret": "s" })).unwrap()
    }

    #[test]
    fn requests_are_signed_with_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let mut config = config();
        assert_eq!(
            list_body(&config, "2026-11-28", "2026-11-30"),
            r#"{"apikey":"k","date":"2026-11-28:2026-11-30"}"#
        );
        config.reports = vec!["bosnia-herzegovina".into()];
        assert_eq!(
            list_body(&config, "2026-11-28", "2026-11-30"),
            r#"{"apikey":"k","date":"2026-11-28:2026-11-30","reports":["bosnia-herzegovina"]}"#
        );
    }

    #[test]
    fn listings_are_read_as_hostile_input() {
        let body = br#"[
            {"report": "anarres@shadowserver.org", "file": "2020-08-02-scan_smb-anarres-geo.csv", "type": "scan_smb",
             "id": "xNDSuwXrKnrLrDopU926rR75CAESMWesVCKsuyI8b8ncTv7GCX", "timestamp": "2020-08-02"},
            {"id": "../../etc/passwd", "file": "x.csv"},
            {"id": "ok_1", "file": "dir/2020-08-02-scan_dns-a#b-geo.csv"},
            {"id": "no-file", "file": "\n"},
            {"file": "missing-id.csv"},
            17
        ]"#;
        let listing = parse_listing(body).unwrap();
        assert_eq!(listing.unusable, 4);
        assert_eq!(
            listing.reports,
            [
                Listed {
                    id: "xNDSuwXrKnrLrDopU926rR75CAESMWesVCKsuyI8b8ncTv7GCX".into(),
                    file: "2020-08-02-scan_smb-anarres-geo.csv".into(),
                    kind: Some("scan_smb".into()),
                },
                Listed { id: "ok_1".into(), file: "2020-08-02-scan_dns-ab-geo.csv".into(), kind: None },
            ]
        );
        assert_eq!(parse_listing(b"{}"), Ok(Listing::default()));
        assert_eq!(
            parse_listing(br#"{"error": "Invalid HMAC"}"#),
            Err("the API answered with an error: Invalid HMAC".into())
        );
        assert!(parse_listing(b"<html>").unwrap_err().starts_with("the report list is not JSON"));
        assert_eq!(parse_listing(b"\"x\""), Err("the report list is not a list".into()));
    }

    #[test]
    fn stored_sources_give_back_their_ids() {
        assert_eq!(id_of("shadowserver-api:abc_1#2026-11-27-scan_dns-x-geo.csv"), Some("abc_1"));
        assert_eq!(id_of("shadowserver-api:a/b#x.csv"), None);
        assert_eq!(id_of("url:https://dl.shadowserver.org/abc#x.csv"), None);
    }

    #[test]
    fn configuration_problems_are_named_and_secrets_kept_out_of_debug_output() {
        let mut bad = config();
        bad.api_key = " ".into();
        bad.secret = "top\nsecret".into();
        bad.types = vec!["scan dns".into()];
        bad.days = 31;
        bad.interval_minutes = 0;
        bad.api_url = "ftp://transform.shadowserver.org/api2/".into();
        let errors = bad.check();
        assert_eq!(
            errors,
            [
                "source.api_key: must not be empty",
                "source.secret: must not hold control characters",
                "source.types: \"scan dns\" is not a report type such as \"scan_dns\"",
                "source.days: 31 is more than 30",
                "source.interval_minutes: must be at least 1",
                "source.api_url: the scheme must be http or https, not \"ftp\"",
            ]
        );
        let debug = format!("{bad:?}");
        assert!(!debug.contains("top") && debug.contains("api_key"), "{debug}");
        let defaults = config();
        assert!(defaults.check().is_empty());
        assert_eq!((defaults.days, defaults.interval_minutes), (2, 60));
        assert_eq!((defaults.api_url.as_str(), defaults.download_url.as_str()), (API_URL, DOWNLOAD_URL));
    }
}
