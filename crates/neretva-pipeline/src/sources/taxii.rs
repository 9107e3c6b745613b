//! A TAXII 2.1 collection polled incrementally.
//!
//! Every `interval_minutes`, `GET {collection}/objects/` asks for the objects added after the
//! last one processed (`added_after`), of the configured types (`match[type]`), `page_size` at
//! a time, following `next` while the server says there is `more`. Each page becomes a STIX
//! bundle (its id derived from the page's content, so a page fetched twice is one report)
//! processed by the feed's parser, normally `stix-indicators`.
//!
//! The position is the `X-TAXII-Date-Added-Last` header of the last page processed, kept in
//! the stored report's source (`taxii:<collection>#added_after=<time>`): after a restart the
//! newest report of the feed says where to go on, so nothing is fetched twice and nothing is
//! skipped. A page that fails is fetched again at the next poll; a server that never stops
//! saying `more` is cut off after [`MAX_PAGES`] pages per poll and continued at the next.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use neretva_store::feeds::ReportQuery;

use crate::sources::http::{check_url, client, describe, read_body, redact_url};
use crate::sources::{Ingester, Polled, SourceError, minutes, poll_every, set_up};

/// The TAXII 2.1 media type asked for and expected.
const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// Pages fetched in one poll at most; the rest waits for the next poll.
pub const MAX_PAGES: usize = 1_000;

/// `kind = "taxii"`: a TAXII 2.1 collection.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxiiSourceConfig {
    /// The collection's URL, `https://host/{api-root}/collections/{id}/`.
    pub collection_url: String,
    #[serde(default = "default_interval_minutes")]
    pub interval_minutes: u64,
    /// For each request, body included.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// HTTP Basic credentials; the password is never logged.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Other request headers, e.g. `Authorization = "Token …"`; their values are never logged.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Objects per request (`limit`), 1 to 10,000.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// The object types asked for (`match[type]`); every type when empty.
    #[serde(default = "default_types")]
    pub types: Vec<String>,
    /// On the first poll, only objects added after this time (RFC 3339); all by default.
    #[serde(default)]
    pub added_after: Option<String>,
    /// A PEM file of the certificate authorities to trust instead of the system's (a partner
    /// CERT's server with a certificate of its own CA).
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
}

fn default_interval_minutes() -> u64 {
    60
}

fn default_timeout_seconds() -> u64 {
    60
}

fn default_page_size() -> u32 {
    100
}

fn default_types() -> Vec<String> {
    vec!["indicator".to_owned()]
}

impl std::fmt::Debug for TaxiiSourceConfig {
    // Credentials and header values stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url =
            Url::parse(&self.collection_url).map_or_else(|_| "<invalid>".to_owned(), |url| redact_url(&url));
        f.debug_struct("TaxiiSourceConfig")
            .field("collection_url", &url)
            .field("interval_minutes", &self.interval_minutes)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("page_size", &self.page_size)
            .field("types", &self.types)
            .field("added_after", &self.added_after)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl TaxiiSourceConfig {
    /// Every problem found without IO, each starting with its key.
    pub(crate) fn check(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let url = Url::parse(&self.collection_url);
        check_url("source.collection_url", &self.collection_url, &mut errors);
        if url.is_ok_and(|url| url.query().is_some()) {
            errors.push("source.collection_url: must not have a query".to_owned());
        }
        if self.interval_minutes == 0 {
            errors.push("source.interval_minutes: must be at least 1".to_owned());
        }
        if self.timeout_seconds == 0 {
            errors.push("source.timeout_seconds: must be at least 1".to_owned());
        }
        if !(1..=10_000).contains(&self.page_size) {
            errors.push(format!("source.page_size: {} is not between 1 and 10,000", self.page_size));
        }
        crate::sources::http::check_credentials(
            self.username.as_deref(),
            self.password.as_deref(),
            &mut errors,
        );
        for kind in &self.types {
            if kind.is_empty()
                || !kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                errors.push(format!("source.types: {kind:?} is not a STIX object type"));
            }
        }
        if let Some(after) = &self.added_after
            && time::OffsetDateTime::parse(after, &time::format_description::well_known::Rfc3339).is_err()
        {
            errors.push(format!("source.added_after: {after:?} is not an RFC 3339 time"));
        }
        crate::sources::http::check_headers(&self.headers, &mut errors);
        errors
    }
}

/// One page of a collection's objects.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<serde_json::Value>,
}

/// A collection, its client and where the feed stands in it.
struct TaxiiSource {
    client: reqwest::Client,
    objects_url: Url,
    /// The collection's URL without credentials or query, for sources and logs.
    display_url: String,
    headers: HeaderMap,
    config: TaxiiSourceConfig,
    timeout: Duration,
    max_bytes: u64,
    /// `added_after` of the next request: the last processed page's newest addition.
    position: Option<String>,
}

impl TaxiiSource {
    fn new(config: &TaxiiSourceConfig, max_bytes: u64) -> Result<TaxiiSource, SourceError> {
        let invalid =
            |detail: String| SourceError::Client { url: "source.collection_url".to_owned(), detail };
        let mut url = Url::parse(&config.collection_url)
            .map_err(|error| invalid(format!("not a valid URL: {error}")))?;
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        let display_url = redact_url(&url);
        let client_error = |detail: String| SourceError::Client { url: display_url.clone(), detail };
        let objects_url = url.join("objects/").map_err(|error| client_error(error.to_string()))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| client_error(format!("{name:?} is not a valid header name")))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| client_error(format!("the value of {name:?} is not a valid header value")))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        headers.insert(ACCEPT, HeaderValue::from_static(TAXII_MEDIA_TYPE));
        let timeout = Duration::from_secs(config.timeout_seconds.max(1));
        let client = client(&url, timeout, reqwest::redirect::Policy::none(), config.ca_file.as_deref())
            .map_err(client_error)?;
        Ok(TaxiiSource {
            client,
            objects_url,
            display_url,
            headers,
            config: config.clone(),
            timeout,
            max_bytes,
            position: config.added_after.clone(),
        })
    }

    /// The report source for a page whose newest addition is `added_last`.
    fn report_source(&self, added_last: &str) -> String {
        format!("taxii:{}#added_after={added_last}", self.display_url)
    }

    /// The position recorded in a stored report's source, if the report came from this collection.
    fn position_of(&self, source: &str) -> Option<String> {
        let rest = source.strip_prefix("taxii:")?.strip_prefix(self.display_url.as_str())?;
        rest.strip_prefix("#added_after=").filter(|time| !time.is_empty()).map(str::to_owned)
    }

    /// One page: the envelope and the page's newest addition (`X-TAXII-Date-Added-Last`).
    /// Every page of one walk repeats the walk's filters, `added_after` included.
    async fn page(
        &self,
        added_after: Option<&str>,
        next: Option<&str>,
    ) -> Result<(Envelope, Option<String>), SourceError> {
        let mut url = self.objects_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("limit", &self.config.page_size.to_string());
            if let Some(after) = added_after {
                query.append_pair("added_after", after);
            }
            if !self.config.types.is_empty() {
                query.append_pair("match[type]", &self.config.types.join(","));
            }
            if let Some(next) = next {
                query.append_pair("next", next);
            }
        }
        let mut request = self.client.get(url).headers(self.headers.clone());
        if let Some(user) = &self.config.username {
            request = request.basic_auth(user, self.config.password.as_deref());
        }
        let mut response = request.send().await.map_err(|error| self.http_error(error))?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(SourceError::Status { url: self.display_url.clone(), status: status.as_u16() });
        }
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let content_type = header(CONTENT_TYPE.as_str()).unwrap_or_default();
        let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if media_type != "application/taxii+json" {
            return Err(SourceError::Http {
                url: self.display_url.clone(),
                detail: format!("answered {content_type:?}, not {TAXII_MEDIA_TYPE}"),
            });
        }
        let added_last = header("x-taxii-date-added-last");
        let body =
            read_body(&mut response, self.max_bytes, &self.display_url, |error| self.http_error(error))
                .await?;
        let envelope: Envelope = serde_json::from_slice(&body).map_err(|error| SourceError::Http {
            url: self.display_url.clone(),
            detail: format!("not a TAXII envelope: {error}"),
        })?;
        Ok((envelope, added_last))
    }

    fn http_error(&self, error: reqwest::Error) -> SourceError {
        let detail = if error.is_timeout() {
            format!("timed out after {} seconds", self.timeout.as_secs())
        } else {
            describe(error)
        };
        SourceError::Http { url: self.display_url.clone(), detail }
    }
}

/// A page's objects as a bundle whose id is derived from the objects, so that the same page is
/// the same report.
fn bundle(objects: Vec<serde_json::Value>) -> Vec<u8> {
    let objects = serde_json::Value::Array(objects);
    let digest = Sha256::digest(objects.to_string().as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let bundle = serde_json::json!({"type": "bundle", "id": format!("bundle--{id}"), "objects": objects});
    serde_json::to_vec(&bundle).unwrap_or_default()
}

/// Polls the collection every `interval_minutes` until shut down, starting at once.
pub(crate) async fn poll_taxii(
    ingester: Ingester,
    config: TaxiiSourceConfig,
    max_bytes: u64,
    shutdown: watch::Receiver<bool>,
) {
    let Some(source) = set_up(&ingester, TaxiiSource::new(&config, max_bytes)).await else { return };
    poll_every(ingester, minutes(config.interval_minutes), source, shutdown).await;
}

impl Polled for TaxiiSource {
    /// Takes up where the feed's newest report from this collection left off.
    async fn resume(&mut self, ingester: &Ingester) {
        let query = ReportQuery { feed: Some(ingester.feed.clone()), before: None, limit: 100 };
        match ingester.store.list_reports(&query).await {
            Ok(reports) => {
                if let Some(position) = reports.iter().find_map(|report| self.position_of(&report.source)) {
                    tracing::info!(feed = %ingester.feed, collection = %self.display_url, added_after = %position, "Continuing the TAXII collection.");
                    self.position = Some(position);
                }
            }
            Err(error) => {
                tracing::warn!(feed = %ingester.feed, error = %error, "Cannot read where the TAXII collection was left; starting from the configured time.");
            }
        }
    }

    async fn poll(&mut self, ingester: &Ingester) {
        if let Err(error) = poll_once(ingester, self).await {
            ingester.failed(&error);
        }
    }
}

/// Fetches and ingests pages until the collection has nothing more after the position, which
/// then moves to the newest addition processed (also when a page fails half way).
async fn poll_once(ingester: &Ingester, source: &mut TaxiiSource) -> Result<(), SourceError> {
    let start = source.position.clone();
    let mut reached: Option<String> = None;
    let result = walk(ingester, source, start.as_deref(), &mut reached).await;
    if reached.is_some() {
        source.position = reached;
    }
    result
}

async fn walk(
    ingester: &Ingester,
    source: &TaxiiSource,
    start: Option<&str>,
    reached: &mut Option<String>,
) -> Result<(), SourceError> {
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let (envelope, added_last) = source.page(start, next.as_deref()).await?;
        let Envelope { more, next: following, objects } = envelope;
        if !objects.is_empty() {
            let data = bundle(objects);
            ingester.received(data.len());
            let position = added_last.as_deref().or(reached.as_deref()).or(start).unwrap_or_default();
            ingester.ingest(&source.report_source(position), data).await?;
        }
        if added_last.is_some() {
            *reached = added_last;
        }
        match following {
            Some(token) if more && !token.is_empty() => next = Some(token),
            _ => return Ok(()),
        }
    }
    tracing::info!(feed = %ingester.feed, collection = %source.display_url, pages = MAX_PAGES, "More pages than one poll fetches; the rest follows at the next poll.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> TaxiiSourceConfig {
        serde_json::from_value(serde_json::json!({ "collection_url": url })).unwrap()
    }

    #[test]
    fn positions_are_read_back_only_from_the_same_collection() {
        let source = TaxiiSource::new(&config("http://127.0.0.1:9/api1/collections/abc"), 1024).unwrap();
        assert_eq!(source.objects_url.as_str(), "http://127.0.0.1:9/api1/collections/abc/objects/");
        let recorded = source.report_source("2026-11-29T10:00:00.000001Z");
        assert_eq!(
            recorded,
            "taxii:http://127.0.0.1:9/api1/collections/abc/#added_after=2026-11-29T10:00:00.000001Z"
        );
        assert_eq!(source.position_of(&recorded).as_deref(), Some("2026-11-29T10:00:00.000001Z"));
        assert_eq!(
            source.position_of("taxii:http://127.0.0.1:9/api1/collections/other/#added_after=x"),
            None
        );
        assert_eq!(source.position_of("url:http://127.0.0.1:9/api1/collections/abc/#x"), None);
        assert_eq!(source.position_of(&source.report_source("")), None);
    }

    #[test]
    fn the_same_page_is_the_same_bundle() {
        let page = || vec![serde_json::json!({"type": "indicator", "id": "indicator--1"})];
        assert_eq!(bundle(page()), bundle(page()));
        assert_ne!(bundle(page()), bundle(vec![]));
    }

    #[test]
    fn configuration_problems_are_named() {
        let mut bad = config("ftp://example.org/collections/x/?a=b");
        bad.page_size = 0;
        bad.password = Some("secret".into());
        bad.types = vec!["Indicator".into()];
        bad.added_after = Some("yesterday".into());
        let errors = bad.check();
        assert_eq!(errors.len(), 6, "{errors:#?}");
        assert!(!format!("{bad:?}").contains("secret"));
    }
}
