//! The `http` source: a URL polled with conditional GET requests.
//!
//! TLS is rustls with the ring provider and the system's CA certificates. Bodies are not
//! decompressed on the fly (no `Accept-Encoding`); they are read up to the report size limit
//! and the download is aborted past it, then [`decompress`](crate::sources::decompress) unpacks
//! them with its own limits. At most 5 redirects are followed. The `ETag` and `Last-Modified`
//! of the last download that was processed are sent back (`If-None-Match`,
//! `If-Modified-Since`; values over 1 KiB are not), and saved with the source's state in the
//! store, so after a restart an unchanged file is not downloaded again (were it, the store would
//! recognise it by its SHA-256).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{
    CONTENT_DISPOSITION, ETAG, HeaderMap, HeaderName, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED,
};
use reqwest::{StatusCode, Url};
use rustls_platform_verifier::BuilderVerifierExt;
use tokio::sync::watch;

use crate::sources::decompress::{DecompressLimits, decompress};
use crate::sources::{
    HttpSourceConfig, Ingester, Polled, SourceError, blocking, minutes, poll_every, set_up,
};

/// The most redirects followed.
const MAX_REDIRECTS: usize = 5;

/// The longest `ETag` or `Last-Modified` value kept for the next request.
const MAX_VALIDATOR_BYTES: usize = 1_024;

/// A URL without credentials and query, which may hold keys: `https://host/path?…`.
pub fn redact_url(url: &Url) -> String {
    let mut redacted = url.clone();
    let _ = redacted.set_username("");
    let _ = redacted.set_password(None);
    redacted.set_query(None);
    redacted.set_fragment(None);
    let mut text = redacted.to_string();
    if url.query().is_some() {
        text.push_str("?…");
    }
    text
}

/// The validators of a response, for the next conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// A downloaded body, before decompression.
#[derive(Debug)]
pub struct Download {
    /// The report's file name: configured, from `Content-Disposition`, or the URL's last
    /// path segment.
    pub name: String,
    pub data: Vec<u8>,
    pub validators: Validators,
}

/// One feed's URL, its HTTP client and what the last processed download's validators were.
pub struct HttpSource {
    client: reqwest::Client,
    url: Url,
    display_url: String,
    headers: HeaderMap,
    file_name: Option<String>,
    /// HTTP Basic credentials.
    credentials: Option<(String, Option<String>)>,
    timeout: Duration,
    max_bytes: u64,
    validators: Validators,
}

impl std::fmt::Debug for HttpSource {
    // The URL's query and the header values may be keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSource")
            .field("url", &self.display_url)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("file_name", &self.file_name)
            .field("timeout", &self.timeout)
            .field("max_bytes", &self.max_bytes)
            .field("validators", &self.validators)
            .finish_non_exhaustive()
    }
}

impl HttpSource {
    /// Sets up the client for a checked configuration; bodies over `max_bytes` are aborted.
    pub fn new(config: &HttpSourceConfig, max_bytes: u64) -> Result<HttpSource, SourceError> {
        let url = Url::parse(&config.url).map_err(|error| SourceError::Client {
            url: "source.url".to_owned(),
            detail: format!("not a valid URL: {error}"),
        })?;
        let display_url = redact_url(&url);
        let client_error = |detail: String| SourceError::Client { url: display_url.clone(), detail };
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| client_error(format!("{name:?} is not a valid header name")))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| client_error(format!("the value of {name:?} is not a valid header value")))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let timeout = Duration::from_secs(config.timeout_seconds.max(1));
        let redirects = reqwest::redirect::Policy::limited(MAX_REDIRECTS);
        let client = client(&url, timeout, redirects, config.ca_file.as_deref()).map_err(client_error)?;
        Ok(HttpSource {
            client,
            url,
            display_url,
            headers,
            file_name: config.file_name.clone(),
            credentials: config.username.clone().map(|user| (user, config.password.clone())),
            timeout,
            max_bytes,
            validators: Validators::default(),
        })
    }

    /// The URL without credentials and query, for sources and logs.
    pub fn url(&self) -> &str {
        &self.display_url
    }

    /// The validators sent with the next request.
    pub fn validators(&self) -> &Validators {
        &self.validators
    }

    /// Remembers a processed download's validators for the next requests.
    pub fn remember(&mut self, validators: Validators) {
        self.validators = validators;
    }

    /// Makes one conditional request: `None` when the server says nothing changed.
    pub async fn poll(&self) -> Result<Option<Download>, SourceError> {
        self.request(&self.url, &self.display_url, true).await
    }

    /// Downloads another URL with this source's client and headers (no validators sent), for
    /// a source whose reports are files beside the one polled (a MISP feed's events).
    pub async fn get(&self, url: &Url) -> Result<Download, SourceError> {
        let display_url = redact_url(url);
        self.request(url, &display_url, false).await?.ok_or_else(|| SourceError::Http {
            url: display_url.clone(),
            detail: "answered 304 Not Modified".into(),
        })
    }

    async fn request(
        &self,
        url: &Url,
        display_url: &str,
        conditional: bool,
    ) -> Result<Option<Download>, SourceError> {
        let http_error = |error| self.http_error(display_url, error);
        let mut request = self.client.get(url.clone()).headers(self.headers.clone());
        if let Some((user, password)) = &self.credentials {
            request = request.basic_auth(user, password.as_deref());
        }
        if conditional {
            if let Some(etag) = &self.validators.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(last_modified) = &self.validators.last_modified {
                request = request.header(IF_MODIFIED_SINCE, last_modified);
            }
        }
        let mut response = request.send().await.map_err(http_error)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(SourceError::Status { url: display_url.to_owned(), status: status.as_u16() });
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value: &HeaderValue| value.to_str().ok())
                .map(str::to_owned)
        };
        // A validator longer than any server sends in earnest is not sent back (nor saved).
        let validator = |name| header(name).filter(|value: &String| value.len() <= MAX_VALIDATOR_BYTES);
        let validators = Validators { etag: validator(ETAG), last_modified: validator(LAST_MODIFIED) };
        let name = self
            .file_name
            .clone()
            .filter(|_| conditional)
            .or_else(|| header(CONTENT_DISPOSITION).as_deref().and_then(content_disposition_name))
            .or_else(|| last_segment(response.url()))
            .unwrap_or_else(|| "download".to_owned());
        let data = read_body(&mut response, self.max_bytes, display_url, http_error).await?;
        Ok(Some(Download { name, data, validators }))
    }

    fn http_error(&self, display_url: &str, error: reqwest::Error) -> SourceError {
        let detail = if error.is_timeout() {
            let seconds = self.timeout.as_secs();
            format!("timed out after {seconds} second{}", if seconds == 1 { "" } else { "s" })
        } else {
            describe(error)
        };
        SourceError::Http { url: display_url.to_owned(), detail }
    }
}

/// A client for the sources' requests to `url`: rustls ([`tls_config`]), `timeout` for each
/// request (body included), no decompression on the fly, Neretva's user agent.
pub(crate) fn client(
    url: &Url,
    timeout: Duration,
    redirect: reqwest::redirect::Policy,
    ca_file: Option<&std::path::Path>,
) -> Result<reqwest::Client, String> {
    let tls = match ca_file {
        None => tls_config(url)?,
        Some(path) => {
            let mut config = tls_config_trusting(path)?;
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            config
        }
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(redirect)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(30)))
        .user_agent(concat!("neretva/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(describe)
}

/// A response's body, refused once it is over `max_bytes` (announced or read): dropping the
/// response then closes the connection, so the rest is never read.
pub(crate) async fn read_body(
    response: &mut reqwest::Response,
    max_bytes: u64,
    display_url: &str,
    http_error: impl Fn(reqwest::Error) -> SourceError,
) -> Result<Vec<u8>, SourceError> {
    let too_large = || SourceError::DownloadTooLarge { url: display_url.to_owned(), limit: max_bytes };
    if response.content_length().is_some_and(|length| length > max_bytes) {
        return Err(too_large());
    }
    let mut data = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(&http_error)? {
        if (data.len() + chunk.len()) as u64 > max_bytes {
            return Err(too_large());
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data)
}

/// Checks the configured URL under `key`: absolute, `http` or `https`, with a host; each
/// problem is added to `errors`.
pub(crate) fn check_url(key: &str, value: &str, errors: &mut Vec<String>) -> Option<Url> {
    match Url::parse(value) {
        Err(error) => errors.push(format!("{key}: not a valid URL: {error}")),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => {
            errors.push(format!("{key}: the scheme must be http or https, not {:?}", url.scheme()));
        }
        Ok(url) if url.host_str().is_none_or(str::is_empty) => errors.push(format!("{key}: has no host")),
        Ok(url) => return Some(url),
    }
    None
}

/// A base URL that relative paths and file names are joined to: with a `/` at the end of its
/// path.
pub(crate) fn base_url(text: &str) -> Result<Url, String> {
    let mut url = Url::parse(text).map_err(|error| format!("not a valid URL: {error}"))?;
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

/// Checks HTTP Basic credentials (`source.username`, `source.password`); each problem is added
/// to `errors`, without the password.
pub(crate) fn check_credentials(username: Option<&str>, password: Option<&str>, errors: &mut Vec<String>) {
    match (username, password) {
        (None, Some(_)) => errors.push("source.password: needs source.username".to_owned()),
        // RFC 7617: the user-id cannot hold a colon; neither may hold control characters.
        (Some(user), _) if user.is_empty() || user.contains(':') || user.chars().any(char::is_control) => {
            errors.push("source.username: must not be empty or hold ':' or control characters".to_owned());
        }
        (_, Some(password)) if password.chars().any(char::is_control) => {
            errors.push("source.password: must not hold control characters".to_owned());
        }
        _ => {}
    }
}

/// Checks configured request headers (`source.headers`); each problem is added to `errors`,
/// without the value, which may be a key.
pub(crate) fn check_headers(headers: &std::collections::BTreeMap<String, String>, errors: &mut Vec<String>) {
    for (name, value) in headers {
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            errors.push(format!("source.headers: {name:?} is not a valid header name"));
        }
        if HeaderValue::from_str(value).is_err() {
            errors.push(format!("source.headers: the value of {name:?} is not a valid header value"));
        }
    }
}

/// A reqwest error and its causes, without its URL (which may hold keys).
pub(crate) fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// rustls with the ring provider and the system's CA certificates. Without any (a minimal
/// container), plain HTTP URLs still work and a redirect to HTTPS fails verification.
pub fn tls_config(url: &Url) -> Result<rustls::ClientConfig, String> {
    let mut config = verifying_tls_config(url.scheme() == "http")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// rustls with the ring provider, verifying servers against the certificate authorities of
/// the PEM file at `ca_file` (`source.ca_file`) instead of the system's.
pub(crate) fn tls_config_trusting(ca_file: &std::path::Path) -> Result<rustls::ClientConfig, String> {
    let roots =
        read_roots(ca_file).map_err(|detail| format!("source.ca_file {}: {detail}", ca_file.display()))?;
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS: {error}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The certificates of a PEM file (at most 1 MiB) as trust anchors.
fn read_roots(path: &std::path::Path) -> Result<rustls::RootCertStore, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(path).map_err(|error| format!("cannot read: {error}"))?;
    if pem.len() > 1024 * 1024 {
        return Err("more than 1 MiB, not a file of CA certificates".to_owned());
    }
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        let certificate = certificate.map_err(|error| format!("not PEM certificates: {error}"))?;
        roots.add(certificate).map_err(|error| format!("a certificate cannot be a trust anchor: {error}"))?;
    }
    if roots.is_empty() {
        return Err("holds no certificate".to_owned());
    }
    Ok(roots)
}

/// rustls with the ring provider, verifying servers against the system's CA certificates;
/// with `tolerate_no_roots`, a system without any gets a configuration that trusts nobody
/// instead of an error.
pub(crate) fn verifying_tls_config(tolerate_no_roots: bool) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = || {
        rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("TLS: {error}"))
    };
    match builder()?.with_platform_verifier() {
        Ok(builder) => Ok(builder.with_no_client_auth()),
        Err(_) if tolerate_no_roots => {
            Ok(builder()?.with_root_certificates(rustls::RootCertStore::empty()).with_no_client_auth())
        }
        Err(error) => Err(format!("cannot load the system's CA certificates: {error}")),
    }
}

/// The file name of a `Content-Disposition` header: `filename*` (RFC 5987) before `filename`.
fn content_disposition_name(value: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for part in value.split(';') {
        let Some((key, value)) = part.split_once('=') else { continue };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            // charset'language'percent-encoded-name
            "filename*" => extended = Some(percent_decode(value.splitn(3, '\'').nth(2).unwrap_or(value))),
            "filename" => plain = Some(value.trim_matches('"').replace("\\\"", "\"")),
            _ => {}
        }
    }
    extended.or(plain).and_then(|name| clean_name(&name))
}

/// The URL's last non-empty path segment, decoded.
fn last_segment(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.rev().find(|segment| !segment.is_empty())?;
    clean_name(&percent_decode(segment))
}

/// A name's last path component without control characters, if anything is left.
fn clean_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then(|| cleaned.to_owned())
}

/// Decodes `%XX` escapes; invalid UTF-8 becomes U+FFFD.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(at + 1..at + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(value) => {
                decoded.push(value);
                at += 3;
            }
            None => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Polls the URL every `interval_minutes` until shut down, starting at once.
pub(crate) async fn poll_url(
    ingester: Ingester,
    config: HttpSourceConfig,
    limits: DecompressLimits,
    shutdown: watch::Receiver<bool>,
) {
    let Some(source) = set_up(&ingester, HttpSource::new(&config, limits.max_report_bytes)).await else {
        return;
    };
    poll_every(ingester, minutes(config.interval_minutes), PolledUrl { source, limits }, shutdown).await;
}

/// A polled URL and the limits of what it sends.
struct PolledUrl {
    source: HttpSource,
    limits: DecompressLimits,
}

impl Polled for PolledUrl {
    async fn poll(&mut self, ingester: &Ingester) {
        poll_once(ingester, &mut self.source, self.limits).await;
    }

    /// Takes up the validators the last run saved for this URL, so an unchanged file is not
    /// downloaded again after a restart.
    async fn resume(&mut self, ingester: &Ingester) {
        if let Some(validators) =
            ingester.pipeline.source_status().validators(&ingester.feed, self.source.url())
        {
            tracing::info!(feed = %ingester.feed, url = self.source.url(), "Asking only for changes since the last run.");
            self.source.remember(validators);
        }
    }
}

/// One poll: download, decompress and ingest; failures are logged and counted.
async fn poll_once(ingester: &Ingester, source: &mut HttpSource, limits: DecompressLimits) {
    let download = match source.poll().await {
        Ok(Some(download)) => download,
        Ok(None) => {
            tracing::debug!(feed = %ingester.feed, url = source.url(), "Not modified.");
            return;
        }
        Err(error) => {
            ingester.failed(&error);
            return;
        }
    };
    ingester.received(download.data.len());
    let validators = download.validators.clone();
    let remember = |source: &mut HttpSource| {
        ingester.pipeline.source_status().keep_validators(&ingester.feed, source.url(), validators.clone());
        source.remember(validators.clone());
    };
    match ingest_download(ingester, source.url(), download, limits).await {
        Ok(()) => remember(source),
        Err(error) => {
            // A body that can never be processed is not downloaded again until it changes.
            if !error.is_transient() {
                remember(source);
            }
            ingester.failed(&error);
        }
    }
}

async fn ingest_download(
    ingester: &Ingester,
    url: &str,
    download: Download,
    limits: DecompressLimits,
) -> Result<(), SourceError> {
    let Download { name, data, .. } = download;
    let label = format!("{url} ({name})");
    let reports = blocking(&label, move || decompress(&name, data, &limits)).await?;
    for (name, data) in reports {
        ingester.ingest(&format!("url:{url}#{name}"), data).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_names() {
        let name = |value| content_disposition_name(value);
        assert_eq!(
            name("attachment; filename=\"2026-11-27-scan_dns-bih-geo.csv\"").as_deref(),
            Some("2026-11-27-scan_dns-bih-geo.csv")
        );
        assert_eq!(name("attachment; filename=x.csv").as_deref(), Some("x.csv"));
        assert_eq!(
            name("attachment; filename=\"a.csv\"; filename*=UTF-8''%C5%A1.csv").as_deref(),
            Some("š.csv")
        );
        assert_eq!(name("attachment; filename=\"../../etc/passwd\"").as_deref(), Some("passwd"));
        assert_eq!(name("attachment; filename=\"..\""), None);
        assert_eq!(name("inline"), None);
    }

    #[test]
    fn urls_are_redacted_and_named() {
        let url =
            Url::parse("https://user:secret@dl.example.org/reports/x%20y.csv.gz?apikey=secret#frag").unwrap();
        assert_eq!(redact_url(&url), "https://dl.example.org/reports/x%20y.csv.gz?…");
        assert_eq!(last_segment(&url).as_deref(), Some("x y.csv.gz"));
        assert_eq!(
            last_segment(&Url::parse("https://example.org/feeds/ba/").unwrap()).as_deref(),
            Some("ba")
        );
        assert_eq!(last_segment(&Url::parse("https://example.org/").unwrap()), None);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
