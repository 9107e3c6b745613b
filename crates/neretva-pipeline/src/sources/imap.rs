//! `kind = "imap"`: a mailbox whose messages carry reports as attachments, read as IntelMQ's
//! mail attachment collector reads it.
//!
//! Every `interval_minutes` the source logs in (TLS from the start on port 993 by default,
//! `STARTTLS`, or, to a loopback address only, no TLS), selects `folder`, and searches its
//! unseen messages (`UNSEEN`, and `FROM`/`TO` when `sent_from`/`sent_to` are set; text beyond
//! ASCII is searched as UTF-8 literals with `CHARSET UTF-8`). Each one, up
//! to `max_messages` per poll, is fetched without marking it (`BODY.PEEK[]`) after its size was
//! checked against the report limit, and parsed with `neretva-mail`. When its subject matches
//! `subject_regex` (if set), its attachments whose names match `attachment_regex` (a regular
//! expression searched in the name, as IntelMQ's `attach_regex`; every attachment when unset)
//! are unpacked with limits like every file ([`decompress`]) and ingested, each report with the
//! source `imap://<host>/<folder>;UIDVALIDITY=<v>/;UID=<uid>#<name>`, so the parser sees the
//! file name. With `link_regex`, the links in the message's text that it matches are
//! downloaded as reports too (IntelMQ's mail URL collector), through the `http` source's
//! client and limits; the expression must start at `^http` so that it names the hosts links
//! may lead to, since anyone can send mail. A message whose reports were all ingested is marked `\Seen`, or moved to
//! `done_folder`; one that failed stays unseen and is tried again at the next poll. A message
//! that matches nothing, or cannot be read, stays as it is (as IntelMQ leaves it) and is
//! remembered so it is not fetched again while the source runs.
//!
//! TLS is rustls with the ring provider, verifying the server against the system's CA
//! certificates, or against those of `ca_file`.
//!
//! The client speaks the small part of IMAP4rev1 (RFC 3501) this needs; with `done_folder`,
//! messages move with `MOVE` (RFC 6851), or on a server without it are copied, marked deleted
//! and removed (`UID EXPUNGE` of `UIDPLUS`, else by closing the folder at the end of the poll).
//! Responses are read with a cap on each line and on each literal. With `idle`, the source
//! waits between polls in `IDLE` (RFC 2177) on a connection of its own and polls as soon as
//! the server says a message arrived (`EXISTS`), or at once when an unseen message came in
//! after the last poll's search; the scheduled polls go on, and a server without `IDLE` is
//! polled on the schedule only.
//! It logs in with `AUTHENTICATE PLAIN` (RFC 4616; UTF-8 names and passwords) when the server
//! offers it and with `LOGIN` otherwise, or, with `token_file`, with an OAuth 2.0 access token
//! (`XOAUTH2`, as Microsoft 365 and Google Workspace take it, or `OAUTHBEARER`, RFC 7628), the
//! file read at every poll so that the tool that renews the token only has to rewrite it.
//! Folder names may hold any character but control characters; they are sent in IMAP's
//! modified UTF-7 (RFC 3501 section 5.1.3). Passwords and tokens are never logged.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::sources::decompress::{DecompressLimits, decompress};
use crate::sources::http::{HttpSource, tls_config_trusting, verifying_tls_config};
use crate::sources::{
    HttpSourceConfig, Ingester, LeftMessages, Polled, SourceError, blocking, minutes, poll_every, set_up,
};

/// The longest response line read (a `SEARCH` answer lists every matching UID on one line).
const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImapTls {
    /// TLS from the first byte (IMAPS, port 993).
    Implicit,
    /// `STARTTLS` on a plain connection (port 143).
    Starttls,
    /// No TLS: only to a loopback address, as the password would cross the network in clear.
    None,
}

/// `kind = "imap"`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapSourceConfig {
    pub host: String,
    /// 993 with implicit TLS, 143 otherwise.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default = "default_tls")]
    pub tls: ImapTls,
    pub username: String,
    /// Never logged. Either this or `token_file`.
    #[serde(default)]
    pub password: Option<String>,
    /// A file holding an OAuth 2.0 access token for `username` (the file's text, blanks
    /// around it ignored), read at every poll, so an organisation's token tool can renew it;
    /// the source then logs in with `XOAUTH2` or `OAUTHBEARER`. Never logged.
    #[serde(default)]
    pub token_file: Option<std::path::PathBuf>,
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Only attachments whose file names this regular expression matches (searched, as
    /// IntelMQ's `attach_regex`, e.g. `"\\.csv(\\.zip)?$"`); every attachment when unset.
    #[serde(default)]
    pub attachment_regex: Option<String>,
    /// Links in the message's text that this regular expression matches are downloaded as
    /// reports; it must start with `^http` (e.g. `"^https://dl\\.example\\.org/"`). With it and
    /// without `attachment_regex`, attachments are not taken.
    #[serde(default)]
    pub link_regex: Option<String>,
    /// Only messages whose subject this regular expression matches.
    #[serde(default)]
    pub subject_regex: Option<String>,
    /// Only messages whose `From` holds this text: an address, or a part of it or of the name
    /// (`SEARCH FROM`; beyond ASCII with `CHARSET UTF-8`).
    #[serde(default)]
    pub sent_from: Option<String>,
    /// Only messages whose `To` holds this text (`SEARCH TO`).
    #[serde(default)]
    pub sent_to: Option<String>,
    /// Processed messages are moved here; without it they stay, marked as seen.
    #[serde(default)]
    pub done_folder: Option<String>,
    #[serde(default = "default_interval_minutes")]
    pub interval_minutes: u64,
    /// For connecting and for each response.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// Messages fetched per poll at most; the rest follow at the next poll.
    #[serde(default = "default_max_messages")]
    pub max_messages: u32,
    /// A PEM file of the certificate authorities to trust instead of the system's, for a
    /// mail server whose certificate comes from an organisation's own CA.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Between polls, wait in `IDLE` (RFC 2177) on a connection of its own and poll as soon
    /// as a message arrives, when the server offers it.
    #[serde(default)]
    pub idle: bool,
}

fn default_tls() -> ImapTls {
    ImapTls::Implicit
}

fn default_folder() -> String {
    "INBOX".to_owned()
}

fn default_interval_minutes() -> u64 {
    5
}

fn default_timeout_seconds() -> u64 {
    60
}

fn default_max_messages() -> u32 {
    100
}

impl std::fmt::Debug for ImapSourceConfig {
    // The password stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSourceConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("token_file", &self.token_file)
            .field("folder", &self.folder)
            .field("attachment_regex", &self.attachment_regex)
            .field("link_regex", &self.link_regex)
            .field("subject_regex", &self.subject_regex)
            .field("sent_from", &self.sent_from)
            .field("sent_to", &self.sent_to)
            .field("done_folder", &self.done_folder)
            .field("interval_minutes", &self.interval_minutes)
            .field("idle", &self.idle)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("max_messages", &self.max_messages)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl ImapSourceConfig {
    fn port(&self) -> u16 {
        self.port.unwrap_or(if self.tls == ImapTls::Implicit { 993 } else { 143 })
    }

    /// Every problem found without IO, each starting with its key.
    pub(crate) fn check(&self) -> Vec<String> {
        let mut errors = Vec::new();
        if self.host.trim().is_empty() || self.host.contains(['/', ' ', '@']) {
            errors.push(format!("source.host: {:?} is not a host name or address", self.host));
        }
        if self.port == Some(0) {
            errors.push("source.port: must not be 0".to_owned());
        }
        if self.tls == ImapTls::None && !is_loopback(&self.host) {
            errors.push(
                "source.tls: \"none\" is only allowed to a loopback address; use \"implicit\" or \"starttls\""
                    .to_owned(),
            );
        }
        // Sent as IMAP quoted strings, which cannot hold line breaks or NUL.
        let texts = [
            ("source.username", Some(&self.username)),
            ("source.password", self.password.as_ref()),
            ("source.sent_from", self.sent_from.as_ref()),
            ("source.sent_to", self.sent_to.as_ref()),
        ];
        for (key, value) in texts {
            match value {
                Some(value) if value.is_empty() => errors.push(format!("{key}: must not be empty")),
                Some(value) if value.contains(['\r', '\n', '\0']) => {
                    errors.push(format!("{key}: must not hold line breaks or NUL"));
                }
                _ => {}
            }
        }
        match (&self.password, &self.token_file) {
            (Some(_), Some(_)) => {
                errors.push("source.token_file: set either source.password or source.token_file".to_owned());
            }
            (None, None) => errors.push("source.password: missing (or source.token_file)".to_owned()),
            (None, Some(path)) if path.as_os_str().is_empty() => {
                errors.push("source.token_file: must not be empty".to_owned());
            }
            _ => {}
        }
        for (key, folder) in
            [("source.folder", Some(&self.folder)), ("source.done_folder", self.done_folder.as_ref())]
        {
            if let Some(folder) = folder
                && (folder.trim().is_empty() || folder.chars().any(char::is_control))
            {
                errors.push(format!("{key}: {folder:?} must be a folder name without control characters"));
            }
        }
        if self.done_folder.as_ref().is_some_and(|done| done.eq_ignore_ascii_case(&self.folder)) {
            errors.push("source.done_folder: must not be the folder read".to_owned());
        }
        for (key, pattern) in [
            ("source.attachment_regex", &self.attachment_regex),
            ("source.link_regex", &self.link_regex),
            ("source.subject_regex", &self.subject_regex),
        ] {
            if let Some(pattern) = pattern
                && let Err(error) = regex::Regex::new(pattern)
            {
                errors.push(format!("{key}: {error}"));
            }
        }
        if self.link_regex.as_ref().is_some_and(|pattern| !pattern.starts_with("^http")) {
            errors.push(
                "source.link_regex: must start with ^http and name the hosts links may lead to, since anyone can send mail"
                    .to_owned(),
            );
        }
        if self.interval_minutes == 0 {
            errors.push("source.interval_minutes: must be at least 1".to_owned());
        }
        if self.timeout_seconds == 0 {
            errors.push("source.timeout_seconds: must be at least 1".to_owned());
        }
        if self.max_messages == 0 {
            errors.push("source.max_messages: must be at least 1".to_owned());
        }
        if self.ca_file.as_ref().is_some_and(|path| path.as_os_str().is_empty()) {
            errors.push("source.ca_file: must not be empty".to_owned());
        }
        if self.ca_file.is_some() && self.tls == ImapTls::None {
            errors.push("source.ca_file: is for TLS, and source.tls is \"none\"".to_owned());
        }
        errors
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A mailbox name as IMAP sends it: modified UTF-7 (RFC 3501 section 5.1.3), where printable
/// ASCII stands for itself (`&` as `&-`) and anything else is UTF-16 in base64 (with `,` for
/// `/`, unpadded) between `&` and `-`.
fn mailbox_name(name: &str) -> String {
    fn flush(out: &mut String, units: &mut Vec<u16>) {
        if units.is_empty() {
            return;
        }
        let bytes: Vec<u8> = units.iter().flat_map(|unit| unit.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes).replace('/', ","));
        out.push('-');
        units.clear();
    }
    let mut out = String::with_capacity(name.len());
    let mut units: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut out, &mut units);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            units.extend_from_slice(c.encode_utf16(&mut [0; 2]));
        }
    }
    flush(&mut out, &mut units);
    out
}

/// A mailbox name as a quoted string of a command.
fn mailbox(name: &str) -> String {
    quoted(&mailbox_name(name))
}

/// The search for unseen messages (`sent_from`, `sent_to`): the command, and what is sent after
/// each of the server's continuation requests. Quoted strings are 7-bit (RFC 3501 §4.3), so a
/// criterion with other characters (`Đurić`, an address of an internationalised domain) is
/// sent as a literal of its UTF-8 bytes, with `CHARSET UTF-8`.
fn search_command(sent_from: Option<&str>, sent_to: Option<&str>) -> (String, Vec<String>) {
    let criteria = [("FROM", sent_from), ("TO", sent_to)];
    let utf8 = criteria.iter().any(|(_, value)| value.is_some_and(|value| !value.is_ascii()));
    let mut command = if utf8 { "UID SEARCH CHARSET UTF-8 UNSEEN" } else { "UID SEARCH UNSEEN" }.to_owned();
    let mut rest: Vec<String> = Vec::new();
    for (key, value) in criteria {
        let Some(value) = value else { continue };
        // The criterion goes on the line being written: the command, or the last literal's.
        let line = rest.last_mut().unwrap_or(&mut command);
        if value.is_ascii() {
            line.push_str(&format!(" {key} {}", quoted(value)));
        } else {
            line.push_str(&format!(" {key} {{{}}}", value.len()));
            rest.push(value.to_owned());
        }
    }
    (command, rest)
}

/// How long one `IDLE` lasts before it is renewed (RFC 2177: servers may end it after 30
/// minutes of silence).
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);

/// Whether an untagged response says how many messages the folder holds (`* 12 EXISTS`).
fn is_exists(text: &str) -> bool {
    text.strip_prefix("* ").and_then(|rest| rest.split_once(' ')).is_some_and(|(count, word)| {
        count.bytes().all(|b| b.is_ascii_digit()) && word.eq_ignore_ascii_case("EXISTS")
    })
}

/// An IMAP quoted string.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// One response: its lines joined, each literal replaced by `{}`, and the literals' bytes.
#[derive(Debug, Default, PartialEq, Eq)]
struct Response {
    text: String,
    literals: Vec<Vec<u8>>,
}

/// The size of the literal announced at the end of a line (`{123}`), if any.
fn literal_size(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"}")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    let digits = &line[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The connection's stream: plain until TLS is set up.
enum ImapStream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl ImapStream {
    async fn read(&mut self, into: &mut [u8]) -> std::io::Result<usize> {
        match self {
            ImapStream::Plain(stream) => stream.read(into).await,
            ImapStream::Tls(stream) => stream.read(into).await,
        }
    }

    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            ImapStream::Plain(stream) => stream.write_all(bytes).await,
            ImapStream::Tls(stream) => {
                stream.write_all(bytes).await?;
                stream.flush().await
            }
        }
    }
}

/// A connection with a read buffer and the next command tag.
struct Connection {
    stream: ImapStream,
    buffer: Vec<u8>,
    tag: u32,
    timeout: Duration,
    max_literal: usize,
    server: String,
}

impl Connection {
    fn error(&self, detail: impl Into<String>) -> SourceError {
        SourceError::Http { url: self.server.clone(), detail: detail.into() }
    }

    /// Reads more bytes into the buffer, within the timeout.
    async fn fill(&mut self) -> Result<(), SourceError> {
        let mut chunk = [0u8; 16 * 1024];
        let read = tokio::time::timeout(self.timeout, self.stream.read(&mut chunk))
            .await
            .map_err(|_| self.error(format!("no answer within {} seconds", self.timeout.as_secs())))?
            .map_err(|error| self.error(format!("cannot read: {error}")))?;
        if read == 0 {
            return Err(self.error("the server closed the connection"));
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }

    /// One line without its CRLF.
    async fn line(&mut self) -> Result<Vec<u8>, SourceError> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\r\n") {
                let line = self.buffer[..end].to_vec();
                self.buffer.drain(..end + 2);
                return Ok(line);
            }
            if self.buffer.len() > MAX_LINE_BYTES {
                return Err(self.error(format!("a response line is longer than {MAX_LINE_BYTES} bytes")));
            }
            self.fill().await?;
        }
    }

    /// Exactly `size` bytes.
    async fn bytes(&mut self, size: usize) -> Result<Vec<u8>, SourceError> {
        while self.buffer.len() < size {
            self.fill().await?;
        }
        Ok(self.buffer.drain(..size).collect())
    }

    /// One response, its literals read in full (each at most `max_literal` bytes).
    async fn response(&mut self) -> Result<Response, SourceError> {
        let mut response = Response::default();
        loop {
            let line = self.line().await?;
            match literal_size(&line) {
                Some(size) => {
                    if size > self.max_literal {
                        return Err(self.error(format!(
                            "the server sends {size} bytes at once, more than the limit of {}",
                            self.max_literal
                        )));
                    }
                    let open = line.iter().rposition(|&b| b == b'{').unwrap_or(line.len());
                    response.text.push_str(&String::from_utf8_lossy(&line[..open]));
                    response.text.push_str("{}");
                    let literal = self.bytes(size).await?;
                    response.literals.push(literal);
                }
                None => {
                    response.text.push_str(&String::from_utf8_lossy(&line));
                    return Ok(response);
                }
            }
        }
    }

    async fn send(&mut self, text: &str) -> Result<(), SourceError> {
        tokio::time::timeout(self.timeout, self.stream.write_all(text.as_bytes()))
            .await
            .map_err(|_| self.error(format!("cannot send within {} seconds", self.timeout.as_secs())))?
            .map_err(|error| self.error(format!("cannot send: {error}")))
    }

    /// Sends a command; returns its untagged responses once it completed with `OK`. `shown`
    /// is how the command appears in errors (a login's password is not repeated).
    async fn command(&mut self, command: &str, shown: &str) -> Result<Vec<Response>, SourceError> {
        let (untagged, refusal) = self.exchange(command, shown, &[]).await?;
        match refusal {
            None => Ok(untagged),
            Some(status) => Err(self.error(format!("{shown}: the server answered {status}"))),
        }
    }

    /// Sends a command, and `answers` in turn to the server's continuation requests (`+ …`;
    /// `*`, which cancels, once they are used up); its untagged responses and, unless it
    /// completed with `OK`, the server's answer (`NO …` or `BAD …`, with what the server's
    /// last continuation request said, if anything). An error is a broken connection.
    async fn exchange(
        &mut self,
        command: &str,
        shown: &str,
        answers: &[&str],
    ) -> Result<(Vec<Response>, Option<String>), SourceError> {
        self.tag += 1;
        let tag = format!("n{}", self.tag);
        self.send(&format!("{tag} {command}\r\n")).await?;
        let mut answers = answers.iter();
        let mut request = String::new();
        let mut untagged = Vec::new();
        loop {
            let response = self.response().await?;
            if let Some(text) = response.text.strip_prefix('+') {
                request = continuation_text(text);
                let answer = answers.next().copied().unwrap_or("*");
                self.send(&format!("{answer}\r\n")).await?;
                continue;
            }
            let Some(status) = response.text.strip_prefix(&tag).and_then(|rest| rest.strip_prefix(' '))
            else {
                if response.text.starts_with("* BYE") {
                    return Err(self.error(format!("{shown}: the server said {}", response.text)));
                }
                untagged.push(response);
                continue;
            };
            if status.get(..2).is_some_and(|ok| ok.eq_ignore_ascii_case("OK")) {
                return Ok((untagged, None));
            }
            let mut refusal: String = status.chars().take(300).collect();
            if !request.is_empty() {
                refusal.push_str(&format!(
                    " (the server said: {})",
                    request.chars().take(300).collect::<String>()
                ));
            }
            return Ok((untagged, Some(refusal)));
        }
    }

    /// The server's capabilities, upper case (`CAPABILITY`; asked again after `STARTTLS`).
    async fn capabilities(&mut self) -> Result<HashSet<String>, SourceError> {
        let answers = self.command("CAPABILITY", "CAPABILITY").await?;
        Ok(answers
            .iter()
            .filter_map(|response| response.text.strip_prefix("* CAPABILITY "))
            .flat_map(|words| words.split_ascii_whitespace().map(str::to_ascii_uppercase))
            .collect())
    }

    /// `AUTHENTICATE` with a SASL mechanism whose client speaks first: the initial response
    /// in the command when the server takes it (`SASL-IR`, RFC 4959), else after the server's
    /// first request; `failed` answers a request that reports a failure.
    async fn authenticate(
        &mut self,
        capabilities: &HashSet<String>,
        mechanism: &str,
        initial: &str,
        failed: &str,
        shown: &str,
    ) -> Result<(), SourceError> {
        let initial = base64::engine::general_purpose::STANDARD.encode(initial);
        let (command, answers) = if capabilities.contains("SASL-IR") {
            (format!("AUTHENTICATE {mechanism} {initial}"), vec![failed])
        } else {
            (format!("AUTHENTICATE {mechanism}"), vec![initial.as_str(), failed])
        };
        match self.exchange(&command, shown, &answers).await?.1 {
            None => Ok(()),
            Some(refusal) => Err(self.error(format!("{shown}: the server answered {refusal}"))),
        }
    }

    /// Logs in with the password or the token, as the server's capabilities allow.
    async fn log_in(
        &mut self,
        config: &ImapSourceConfig,
        credentials: &Credentials,
        capabilities: &HashSet<String>,
    ) -> Result<(), SourceError> {
        let user = &config.username;
        let (Credentials::Password(secret) | Credentials::Token(secret)) = credentials;
        match login_method(credentials, capabilities).map_err(|reason| self.error(reason))? {
            Some(mechanism) => {
                let (initial, failed) = mechanism.messages(user, secret);
                let shown = format!("AUTHENTICATE {} as {}", mechanism.name(), quoted(user));
                self.authenticate(capabilities, mechanism.name(), &initial, failed, &shown).await
            }
            None => {
                let login = format!("LOGIN {} {}", quoted(user), quoted(secret));
                self.command(&login, &format!("LOGIN {}", quoted(user))).await.map(drop)
            }
        }
    }
}

/// A SASL mechanism the source logs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    /// RFC 4616: a user name and password, UTF-8.
    Plain,
    /// Google's and Microsoft's bearer token mechanism.
    XOauth2,
    /// RFC 7628.
    OauthBearer,
}

impl Mechanism {
    fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::XOauth2 => "XOAUTH2",
            Mechanism::OauthBearer => "OAUTHBEARER",
        }
    }

    /// The client's first message for `user` with a password or token, and its answer to a
    /// challenge that reports a failure.
    fn messages(self, user: &str, secret: &str) -> (String, &'static str) {
        match self {
            Mechanism::Plain => (format!("\0{user}\0{secret}"), "*"),
            Mechanism::XOauth2 => (format!("user={user}\x01auth=Bearer {secret}\x01\x01"), ""),
            Mechanism::OauthBearer => {
                let name = user.replace('=', "=3D").replace(',', "=2C");
                // A failure's report is answered with a lone separator (base64 of 0x01).
                (format!("n,a={name},\x01auth=Bearer {secret}\x01\x01"), "AQ==")
            }
        }
    }
}

/// How to log in with these credentials on a server with these capabilities: a SASL
/// mechanism, or `LOGIN` (`None`); the reason when the server offers nothing they can use.
fn login_method(
    credentials: &Credentials,
    capabilities: &HashSet<String>,
) -> Result<Option<Mechanism>, &'static str> {
    let offers = |mechanism: Mechanism| capabilities.contains(&format!("AUTH={}", mechanism.name()));
    match credentials {
        Credentials::Token(_) => [Mechanism::XOauth2, Mechanism::OauthBearer]
            .into_iter()
            .find(|mechanism| offers(*mechanism))
            .map(Some)
            .ok_or("the server offers neither XOAUTH2 nor OAUTHBEARER, which token_file needs"),
        Credentials::Password(_) if offers(Mechanism::Plain) => Ok(Some(Mechanism::Plain)),
        Credentials::Password(_) if capabilities.contains("LOGINDISABLED") => {
            Err("the server allows no LOGIN and offers no AUTH=PLAIN")
        }
        Credentials::Password(password) => {
            // LOGIN's quoted strings are ASCII; `check` keeps the user name's line breaks out.
            if password.is_ascii() {
                Ok(None)
            } else {
                Err("a password beyond ASCII needs AUTH=PLAIN, which the server does not offer")
            }
        }
    }
}

/// A continuation request's text: base64 decoded when it is base64 of UTF-8 text (a SASL
/// challenge, such as XOAUTH2's error report), as sent otherwise.
fn continuation_text(text: &str) -> String {
    let text = text.trim();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|decoded| !decoded.chars().any(|c| c.is_control() && c != '\n'))
        .unwrap_or_else(|| text.to_owned())
}

/// What the source logs in with at one poll.
enum Credentials {
    Password(String),
    /// An OAuth 2.0 access token, read from `token_file`.
    Token(String),
}

/// The longest token file read.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

impl ImapSourceConfig {
    /// The password, or the token as `token_file` holds it now.
    async fn credentials(&self) -> Result<Credentials, SourceError> {
        let Some(path) = self.token_file.clone() else {
            return Ok(Credentials::Password(self.password.clone().unwrap_or_default()));
        };
        let name = path.display().to_string();
        blocking(&name, move || {
            let failed = |detail: String| SourceError::Read {
                path: path.display().to_string(),
                source: std::io::Error::other(detail),
            };
            let size = std::fs::metadata(&path)
                .map_err(|source| SourceError::Read { path: path.display().to_string(), source })?
                .len();
            if size > MAX_TOKEN_BYTES {
                return Err(failed(format!("a token file of {size} bytes, over {MAX_TOKEN_BYTES}")));
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|source| SourceError::Read { path: path.display().to_string(), source })?;
            let token = text.trim();
            if token.is_empty() || token.chars().any(|c| c.is_control() || c == ' ') {
                return Err(failed("the token file holds no token (one line without spaces)".to_owned()));
            }
            Ok(Credentials::Token(token.to_owned()))
        })
        .await
    }
}

/// Connects, protects and logs in; the selected folder's UIDVALIDITY and the server's
/// capabilities once logged in (`MOVE`, `UIDPLUS`).
async fn open(
    config: &ImapSourceConfig,
    max_literal: usize,
) -> Result<(Connection, u64, HashSet<String>), SourceError> {
    let server = format!("imap://{}:{}", config.host, config.port());
    let timeout = Duration::from_secs(config.timeout_seconds.max(1));
    let failed = |detail: String| SourceError::Http { url: server.clone(), detail };
    let host = config.host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let tcp = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), config.port())))
        .await
        .map_err(|_| failed(format!("cannot connect within {} seconds", timeout.as_secs())))?
        .map_err(|error| failed(format!("cannot connect: {error}")))?;
    let stream = match config.tls {
        ImapTls::Implicit => ImapStream::Tls(Box::new(tls_handshake(tcp, &host, config, &failed).await?)),
        ImapTls::Starttls | ImapTls::None => ImapStream::Plain(tcp),
    };
    let mut connection =
        Connection { stream, buffer: Vec::new(), tag: 0, timeout, max_literal, server: server.clone() };
    let greeting = connection.response().await?;
    let preauthenticated = greeting.text.starts_with("* PREAUTH");
    if !greeting.text.starts_with("* OK") && !preauthenticated {
        let text: String = greeting.text.chars().take(300).collect();
        return Err(connection.error(format!("the server greeted with {text}")));
    }
    if config.tls == ImapTls::Starttls {
        connection.command("STARTTLS", "STARTTLS").await?;
        // Anything the server sent after its answer would have come unprotected.
        if !connection.buffer.is_empty() {
            return Err(connection.error("the server sent data before the TLS handshake"));
        }
        let ImapStream::Plain(tcp) = connection.stream else {
            return Err(connection.error("STARTTLS on a protected connection"));
        };
        connection.stream = ImapStream::Tls(Box::new(tls_handshake(tcp, &host, config, &failed).await?));
    }
    // A server that knows the client already (PREAUTH) is not asked to log in.
    if !preauthenticated {
        let credentials = config.credentials().await?;
        let offered = connection.capabilities().await?;
        connection.log_in(config, &credentials, &offered).await?;
    }
    let capabilities = connection.capabilities().await?;
    let selected = connection.command(&format!("SELECT {}", mailbox(&config.folder)), "SELECT").await?;
    let validity = selected
        .iter()
        .find_map(|response| {
            let rest = response.text.split("[UIDVALIDITY ").nth(1)?;
            rest.split(']').next()?.trim().parse::<u64>().ok()
        })
        .unwrap_or(0);
    Ok((connection, validity, capabilities))
}

/// TLS over `tcp` to `host`, verified against the system's CA certificates or the ones of
/// `ca_file`.
async fn tls_handshake(
    tcp: TcpStream,
    host: &str,
    source: &ImapSourceConfig,
    failed: &impl Fn(String) -> SourceError,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, SourceError> {
    let timeout = Duration::from_secs(source.timeout_seconds.max(1));
    let config = match &source.ca_file {
        None => verifying_tls_config(false),
        Some(path) => tls_config_trusting(path),
    }
    .map_err(failed)?;
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|error| failed(format!("not a name for TLS: {error}")))?;
    tokio::time::timeout(timeout, tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp))
        .await
        .map_err(|_| failed(format!("TLS: no handshake within {} seconds", timeout.as_secs())))?
        .map_err(|error| failed(format!("TLS: {error}")))
}

/// A mailbox, its filters, and the messages that matched nothing or could not be read.
struct Mailbox {
    config: ImapSourceConfig,
    limits: DecompressLimits,
    attachment: Option<regex::Regex>,
    link: Option<regex::Regex>,
    subject: Option<regex::Regex>,
    /// (UIDVALIDITY, UID) of unseen messages left as they are, saved with the source's state.
    skipped: HashSet<(u64, u32)>,
    /// The UIDVALIDITY and the unseen messages of the last poll's search, so waiting in `IDLE`
    /// knows a message that came in after it.
    last_unseen: Option<(u64, HashSet<u32>)>,
}

impl Mailbox {
    fn new(config: &ImapSourceConfig, limits: DecompressLimits) -> Result<Mailbox, SourceError> {
        let compile = |key: &str, pattern: &Option<String>| {
            pattern
                .as_deref()
                .map(regex::Regex::new)
                .transpose()
                .map_err(|error| SourceError::Client { url: key.to_owned(), detail: error.to_string() })
        };
        Ok(Mailbox {
            attachment: compile("source.attachment_regex", &config.attachment_regex)?,
            link: compile("source.link_regex", &config.link_regex)?,
            subject: compile("source.subject_regex", &config.subject_regex)?,
            config: config.clone(),
            limits,
            skipped: HashSet::new(),
            last_unseen: None,
        })
    }

    fn max_bytes(&self) -> usize {
        usize::try_from(self.limits.max_report_bytes).unwrap_or(usize::MAX)
    }

    /// The UIDs of the folder's unseen messages from `sent_from` to `sent_to`.
    async fn unseen(&self, connection: &mut Connection) -> Result<Vec<u32>, SourceError> {
        let (search, literals) =
            search_command(self.config.sent_from.as_deref(), self.config.sent_to.as_deref());
        let literals: Vec<&str> = literals.iter().map(String::as_str).collect();
        let (found, refusal) = connection.exchange(&search, "UID SEARCH", &literals).await?;
        if let Some(status) = refusal {
            return Err(connection.error(format!("UID SEARCH: the server answered {status}")));
        }
        Ok(found
            .iter()
            .filter_map(|response| response.text.strip_prefix("* SEARCH"))
            .flat_map(|rest| rest.split_ascii_whitespace().filter_map(|uid| uid.parse().ok()))
            .collect())
    }

    /// Waits in `IDLE` on a connection of its own until the folder gets a message (the server
    /// says `EXISTS`), or returns at once when an unseen message is there that the last poll
    /// did not see (it came in between). Each `IDLE` is renewed after [`IDLE_RENEW`].
    async fn wait_for_mail(&self) -> Result<(), SourceError> {
        let (mut connection, validity, capabilities) = open(&self.config, self.max_bytes()).await?;
        if !capabilities.contains("IDLE") {
            return Err(connection.error("the server does not offer IDLE"));
        }
        let unseen = self.unseen(&mut connection).await?;
        let new = match &self.last_unseen {
            Some((seen_validity, seen)) => {
                *seen_validity != validity || unseen.iter().any(|uid| !seen.contains(uid))
            }
            None => !unseen.is_empty(),
        };
        if !new {
            loop {
                connection.tag += 1;
                let tag = format!("n{}", connection.tag);
                connection.send(&format!("{tag} IDLE\r\n")).await?;
                let answer = connection.response().await?;
                if !answer.text.starts_with('+') {
                    let text: String = answer.text.chars().take(300).collect();
                    return Err(connection.error(format!("IDLE: the server answered {text}")));
                }
                // Waiting is not a silence to give up on; the renewal ends it.
                let timeout = std::mem::replace(&mut connection.timeout, IDLE_RENEW * 2);
                let arrived = tokio::time::timeout(IDLE_RENEW, async {
                    loop {
                        let response = connection.response().await?;
                        if is_exists(&response.text) {
                            return Ok(());
                        }
                        if response.text.starts_with("* BYE") {
                            let text: String = response.text.chars().take(300).collect();
                            return Err(connection.error(format!("IDLE: the server said {text}")));
                        }
                    }
                })
                .await;
                connection.timeout = timeout;
                if let Ok(Err(error)) = arrived {
                    return Err(error);
                }
                connection.send("DONE\r\n").await?;
                while !connection.response().await?.text.starts_with(&tag) {}
                if arrived.is_ok() {
                    break;
                }
            }
        }
        let _ = connection.command("LOGOUT", "LOGOUT").await;
        Ok(())
    }

    /// Where a message is, for report sources and errors.
    fn message_url(&self, validity: u64, uid: u32) -> String {
        format!("imap://{}/{};UIDVALIDITY={validity}/;UID={uid}", self.config.host, self.config.folder)
    }

    async fn poll_mailbox(&mut self, ingester: &Ingester) -> Result<(), SourceError> {
        let (mut connection, validity, capabilities) = open(&self.config, self.max_bytes()).await?;
        let done = Done::new(self.config.done_folder.as_deref(), &capabilities);
        if let Some(folder) = &self.config.done_folder {
            // Made on first use; a server that has it already refuses, which is fine.
            let create = format!("CREATE {}", mailbox(folder));
            connection.exchange(&create, &create, &[]).await?;
        }
        let mut uids = self.unseen(&mut connection).await?;
        uids.sort_unstable();
        let unseen: HashSet<u32> = uids.iter().copied().collect();
        self.last_unseen = Some((validity, unseen.clone()));
        self.skipped.retain(|(kept_validity, uid)| *kept_validity == validity && unseen.contains(uid));
        let new: Vec<u32> = uids
            .into_iter()
            .filter(|uid| !self.skipped.contains(&(validity, *uid)))
            .take(self.config.max_messages as usize)
            .collect();
        for uid in new {
            let url = self.message_url(validity, uid);
            match self.message(ingester, &mut connection, &url, uid).await? {
                Handled::Ingested => {
                    for command in done.commands(uid) {
                        connection.command(&command, &command).await?;
                    }
                }
                Handled::Failed => {}
                Handled::Skipped => {
                    self.skipped.insert((validity, uid));
                }
            }
        }
        self.keep_left(ingester, validity);
        if matches!(done, Done::CopyAndClose(_)) {
            // Closing the folder removes the messages copied and marked deleted.
            connection.command("CLOSE", "CLOSE").await?;
        }
        // The work is done; a server that does not say goodbye properly changes nothing.
        let _ = connection.command("LOGOUT", "LOGOUT").await;
        Ok(())
    }

    /// Hands the messages left as they are to the source's state, which saves them, so a restart
    /// does not fetch them again.
    fn keep_left(&self, ingester: &Ingester, validity: u64) {
        let uids = self.skipped.iter().filter(|(kept, _)| *kept == validity).map(|(_, uid)| *uid);
        ingester
            .pipeline
            .source_status()
            .keep_left_messages(&ingester.feed, LeftMessages::new(validity, uids));
    }

    /// Fetches, reads and ingests one message; an error is a broken connection, a failure of
    /// the message itself is reported to the ingester.
    async fn message(
        &self,
        ingester: &Ingester,
        connection: &mut Connection,
        url: &str,
        uid: u32,
    ) -> Result<Handled, SourceError> {
        let failed = |detail: String| SourceError::Http { url: url.to_owned(), detail };
        let sized = connection.command(&format!("UID FETCH {uid} (RFC822.SIZE)"), "FETCH").await?;
        let size = sized.iter().find_map(|response| {
            let rest = response.text.split("RFC822.SIZE ").nth(1)?;
            rest.split(|c: char| !c.is_ascii_digit()).next()?.parse::<u64>().ok()
        });
        if size.is_some_and(|size| size > self.limits.max_report_bytes) {
            ingester
                .failed(&SourceError::TooLarge { name: url.to_owned(), limit: self.limits.max_report_bytes });
            return Ok(Handled::Skipped);
        }
        let fetched = connection.command(&format!("UID FETCH {uid} BODY.PEEK[]"), "FETCH").await?;
        let Some(raw) = fetched.into_iter().find_map(|response| response.literals.into_iter().next()) else {
            ingester.failed(&failed("the server sent no message".to_owned()));
            return Ok(Handled::Skipped);
        };
        let max = self.max_bytes();
        let limits = neretva_mail::MailLimits {
            max_message_bytes: max,
            max_attachment_bytes: max,
            ..neretva_mail::MailLimits::default()
        };
        let mail = match blocking(url, move || Ok(neretva_mail::parse(&raw, &limits))).await? {
            Ok(mail) => mail,
            Err(error) => {
                ingester.failed(&failed(format!("cannot read the message: {error}")));
                return Ok(Handled::Skipped);
            }
        };
        if self.subject.as_ref().is_some_and(|subject| !subject.is_match(&mail.subject)) {
            tracing::debug!(feed = %ingester.feed, message = url, subject = %mail.subject, "Subject does not match; message left as it is.");
            return Ok(Handled::Skipped);
        }
        // Attachments are taken unless the source is only for links.
        let take_attachments = self.attachment.is_some() || self.link.is_none();
        let mut files: Vec<(String, Vec<u8>)> = mail
            .attachments
            .into_iter()
            .enumerate()
            .filter(|_| take_attachments)
            .map(|(index, attachment)| {
                (attachment_name(attachment.filename.as_deref(), index), attachment.bytes)
            })
            .filter(|(name, _)| self.attachment.as_ref().is_none_or(|pattern| pattern.is_match(name)))
            .collect();
        let links = self.link.as_ref().map(|pattern| links_in(&mail.body, pattern)).unwrap_or_default();
        if files.is_empty() && links.is_empty() {
            tracing::debug!(feed = %ingester.feed, message = url, "No matching attachment or link; message left as it is.");
            return Ok(Handled::Skipped);
        }
        // A failure that may pass (the store) has the message tried again; one that will not
        // (a broken archive, a report over the limit) leaves it as it is.
        let (mut retry, mut broken) = (false, false);
        let mut note = |error: &SourceError| {
            if error.is_transient() { retry = true } else { broken = true }
        };
        for link in links {
            match self.download(&link).await {
                Ok(download) => files.push(download),
                Err(error) => {
                    note(&error);
                    ingester.failed(&failed(format!("link: {error}")));
                }
            }
        }
        for (name, data) in files {
            ingester.received(data.len());
            let limits = self.limits;
            let unpack_name = name.clone();
            let reports = match blocking(url, move || decompress(&unpack_name, data, &limits)).await {
                Ok(reports) => reports,
                Err(error) => {
                    note(&error);
                    ingester.failed(&failed(format!("attachment {name:?}: {error}")));
                    continue;
                }
            };
            for (report_name, data) in reports {
                let source = format!("{url}#{}", attachment_name(Some(&report_name), 0));
                if let Err(error) = ingester.ingest(&source, data).await {
                    note(&error);
                    ingester.failed(&error);
                }
            }
        }
        Ok(match (retry, broken) {
            (true, _) => Handled::Failed,
            (false, true) => Handled::Skipped,
            (false, false) => Handled::Ingested,
        })
    }
}

impl Mailbox {
    /// Downloads a link of a message with the `http` source's client: its name (from
    /// `Content-Disposition` or the URL) and its body, within the report size limit.
    async fn download(&self, link: &str) -> Result<(String, Vec<u8>), SourceError> {
        let config = HttpSourceConfig {
            url: link.to_owned(),
            interval_minutes: 1,
            timeout_seconds: self.config.timeout_seconds,
            headers: std::collections::BTreeMap::new(),
            file_name: None,
            ca_file: None,
            username: None,
            password: None,
        };
        let source = HttpSource::new(&config, self.limits.max_report_bytes)?;
        match source.poll().await? {
            Some(download) => Ok((attachment_name(Some(&download.name), 0), download.data)),
            // Without validators sent, a server cannot answer "not modified"; one that does
            // sent nothing to ingest.
            None => Err(SourceError::Http {
                url: source.url().to_owned(),
                detail: "answered 304 Not Modified".into(),
            }),
        }
    }
}

/// The most links taken from one message.
const MAX_LINKS: usize = 20;

/// The `http` and `https` links in a text that `pattern` matches, each once, in order.
fn links_in(text: &str, pattern: &regex::Regex) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    for word in
        text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '(' | ')' | '[' | ']'))
    {
        let Some(start) = word.find("http://").or_else(|| word.find("https://")) else { continue };
        let link = word[start..].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        if pattern.is_match(link) && !links.iter().any(|known| known == link) && links.len() < MAX_LINKS {
            links.push(link.to_owned());
        }
    }
    links
}

/// How a message whose reports were stored leaves the unseen ones.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Done {
    /// Marked `\Seen` where it is.
    MarkSeen,
    /// `UID MOVE` to the folder (RFC 6851).
    Move(String),
    /// Without `MOVE`: copied to the folder, marked `\Deleted` and removed at once with
    /// `UID EXPUNGE` (RFC 4315, `UIDPLUS`).
    CopyAndExpunge(String),
    /// Without `MOVE` and `UIDPLUS`: copied, marked `\Deleted`, and removed when the folder is
    /// closed at the end of the poll (`CLOSE`), as IMAP clients remove deleted mail.
    CopyAndClose(String),
}

impl Done {
    fn new(folder: Option<&str>, capabilities: &HashSet<String>) -> Done {
        match folder.map(mailbox) {
            None => Done::MarkSeen,
            Some(folder) if capabilities.contains("MOVE") => Done::Move(folder),
            Some(folder) if capabilities.contains("UIDPLUS") => Done::CopyAndExpunge(folder),
            Some(folder) => Done::CopyAndClose(folder),
        }
    }

    /// The commands for message `uid`.
    fn commands(&self, uid: u32) -> Vec<String> {
        let copy = |folder: &str| format!("UID COPY {uid} {folder}");
        let delete = format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)");
        match self {
            Done::MarkSeen => vec![format!("UID STORE {uid} +FLAGS.SILENT (\\Seen)")],
            Done::Move(folder) => vec![format!("UID MOVE {uid} {folder}")],
            Done::CopyAndExpunge(folder) => vec![copy(folder), delete, format!("UID EXPUNGE {uid}")],
            Done::CopyAndClose(folder) => vec![copy(folder), delete],
        }
    }
}

/// What became of a message.
enum Handled {
    /// Every report it carries was ingested: it is marked seen or moved.
    Ingested,
    /// Something failed that may pass: it stays unseen for the next poll.
    Failed,
    /// Nothing in it is for this feed, or it cannot be read (or unpacked): left as it is and
    /// not fetched again while the source runs.
    Skipped,
}

/// An attachment's name as a report's file name: without `#`, `/` and control characters;
/// `attachment-<n>` when it has none.
fn attachment_name(name: Option<&str>, index: usize) -> String {
    let cleaned: String = name
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control() && *c != '#')
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() { format!("attachment-{}", index + 1) } else { cleaned.to_owned() }
}

impl Polled for Mailbox {
    async fn poll(&mut self, ingester: &Ingester) {
        if let Err(error) = self.poll_mailbox(ingester).await {
            ingester.failed(&error);
        }
    }

    /// Takes up the messages the source's last run left as they are.
    async fn resume(&mut self, ingester: &Ingester) {
        if let Some(left) = ingester.pipeline.source_status().left_messages(&ingester.feed) {
            self.skipped = left.uids.iter().map(|uid| (left.uidvalidity, *uid)).collect();
        }
    }

    /// With `idle`, completes when a message arrives ([`Mailbox::wait_for_mail`]); when the
    /// server cannot wait, the source polls on its schedule (logged once per period).
    async fn changed(&mut self, ingester: &Ingester) {
        if self.config.idle {
            match self.wait_for_mail().await {
                Ok(()) => {
                    tracing::info!(feed = %ingester.feed, folder = %self.config.folder, "New mail; looking now.");
                    return;
                }
                Err(error) => {
                    tracing::warn!(feed = %ingester.feed, %error, "Cannot wait for new mail (IDLE); polling on the schedule.");
                }
            }
        }
        std::future::pending::<()>().await;
    }
}

/// Polls the mailbox every `interval_minutes` until shut down, starting at once.
pub(crate) async fn poll_imap(
    ingester: Ingester,
    config: ImapSourceConfig,
    limits: DecompressLimits,
    shutdown: watch::Receiver<bool>,
) {
    let Some(mailbox) = set_up(&ingester, Mailbox::new(&config, limits)).await else { return };
    poll_every(ingester, minutes(config.interval_minutes), mailbox, shutdown).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ImapSourceConfig {
        serde_json::from_value(serde_json::json!({
            "host": "mail.cert.example", "username": "feeds", "password": "p\"ss\\word"
        }))
        .unwrap()
    }

    #[test]
    fn only_exists_responses_announce_messages() {
        assert!(is_exists("* 12 EXISTS"));
        assert!(is_exists("* 0 exists"));
        assert!(!is_exists("* 3 RECENT"));
        assert!(!is_exists("* 4 EXPUNGE"));
        assert!(!is_exists("* 5 FETCH (FLAGS (\\Seen))"));
        assert!(!is_exists("* OK Still here"));
        assert!(!is_exists("* x EXISTS"));
        assert!(!is_exists("+ idling"));
    }

    #[test]
    fn searches_beyond_ascii_send_utf8_literals() {
        assert_eq!(search_command(None, None), ("UID SEARCH UNSEEN".to_owned(), vec![]));
        assert_eq!(
            search_command(Some("reports@shadowserver.example"), Some(r#"a "b""#)),
            (r#"UID SEARCH UNSEEN FROM "reports@shadowserver.example" TO "a \"b\"""#.to_owned(), vec![])
        );
        // Each literal's bytes are followed by the rest of the command.
        assert_eq!(
            search_command(Some("Đurić"), Some("feeds@cert.example")),
            (
                "UID SEARCH CHARSET UTF-8 UNSEEN FROM {7}".to_owned(),
                vec![r#"Đurić TO "feeds@cert.example""#.to_owned()]
            )
        );
        assert_eq!(
            search_command(Some("cert.ba"), Some("prijave@pošta.ba")),
            (
                r#"UID SEARCH CHARSET UTF-8 UNSEEN FROM "cert.ba" TO {17}"#.to_owned(),
                vec!["prijave@pošta.ba".to_owned()]
            )
        );
        assert_eq!(
            search_command(Some("Željko"), Some("Đurić")).1,
            vec!["Željko TO {7}".to_owned(), "Đurić".to_owned()]
        );
    }

    #[test]
    fn literals_are_announced_at_the_end_of_a_line() {
        assert_eq!(literal_size(b"* 1 FETCH (UID 7 BODY[] {1234}"), Some(1234));
        assert_eq!(literal_size(b"* 1 FETCH (BODY[] {12+}"), Some(12));
        assert_eq!(literal_size(b"* OK {x}"), None);
        assert_eq!(literal_size(b"* OK {}"), None);
        assert_eq!(literal_size(b"* OK done"), None);
        assert_eq!(literal_size(b"{99999999999999999999999}"), None);
    }

    #[test]
    fn links_are_found_in_the_text_and_kept_when_the_pattern_matches() {
        let pattern = regex::Regex::new(r"^https://dl\.shadowserver\.example/").unwrap();
        let body = "Your reports:\n<https://dl.shadowserver.example/abc123>, and\n\
                    (https://dl.shadowserver.example/def456).\n\
                    https://dl.shadowserver.example/abc123 again; http://evil.example/dl.shadowserver.example/x\n\
                    see https://dl.shadowserver.example.evil.example/y";
        assert_eq!(
            links_in(body, &pattern),
            ["https://dl.shadowserver.example/abc123", "https://dl.shadowserver.example/def456"]
        );
        let many: String = (0..30).map(|i| format!(" https://dl.shadowserver.example/{i}")).collect();
        assert_eq!(links_in(&many, &pattern).len(), MAX_LINKS);
    }

    #[test]
    fn strings_are_quoted_and_names_cleaned() {
        assert_eq!(quoted("p\"ss\\word"), "\"p\\\"ss\\\\word\"");
        assert_eq!(quoted("INBOX"), "\"INBOX\"");
        assert_eq!(
            attachment_name(Some("../2026-11-27-scan_dns-ba-geo#1.csv"), 0),
            "2026-11-27-scan_dns-ba-geo1.csv"
        );
        assert_eq!(attachment_name(None, 2), "attachment-3");
        assert_eq!(attachment_name(Some(" \n"), 0), "attachment-1");
    }

    #[test]
    fn configuration_problems_are_named_and_the_password_kept_out_of_debug_output() {
        let config = config();
        assert!(config.check().is_empty(), "{:?}", config.check());
        assert_eq!((config.port(), config.folder.as_str(), config.interval_minutes), (993, "INBOX", 5));
        let debug = format!("{config:?}");
        assert!(!debug.contains("ss\\") && debug.contains("password: Some(\"…\")"), "{debug}");
        let mut bad = config.clone();
        bad.tls = ImapTls::None;
        bad.username = "a\r\nb".into();
        bad.folder = "Izvještaji\t".into();
        bad.done_folder = Some("izvještaji\t".into());
        bad.attachment_regex = Some("(".into());
        bad.max_messages = 0;
        let errors = bad.check();
        assert_eq!(errors.len(), 7, "{errors:#?}");
        assert!(
            errors[0].starts_with("source.tls: \"none\" is only allowed to a loopback address"),
            "{errors:#?}"
        );
        assert_eq!(errors[1], "source.username: must not hold line breaks or NUL");
        assert!(
            errors[2] == "source.folder: \"Izvještaji\\t\" must be a folder name without control characters",
            "{errors:#?}"
        );
        assert_eq!(errors[4], "source.done_folder: must not be the folder read");
        assert!(errors[5].starts_with("source.attachment_regex: "), "{errors:#?}");
        bad.link_regex = Some(r"dl\.example\.org".into());
        assert!(bad.check().contains(
            &"source.link_regex: must start with ^http and name the hosts links may lead to, since anyone can send mail"
                .to_owned()
        ));
        bad.host = "127.0.0.1".into();
        assert!(!bad.check().iter().any(|error| error.starts_with("source.tls")));
        assert!(is_loopback("localhost") && is_loopback("[::1]") && !is_loopback("10.0.0.1"));
        // A password or a token file, not both, not neither.
        let mut token = config.clone();
        token.token_file = Some("/etc/neretva/mail-token".into());
        assert_eq!(token.check(), ["source.token_file: set either source.password or source.token_file"]);
        token.password = None;
        assert!(token.check().is_empty(), "{:?}", token.check());
        token.token_file = None;
        assert_eq!(token.check(), ["source.password: missing (or source.token_file)"]);
    }

    #[test]
    fn folder_names_are_sent_in_modified_utf7() {
        for (name, sent) in [
            ("INBOX", "INBOX"),
            ("Izvještaji", "Izvje&AWE-taji"),
            ("Izvještaji/Obrađeno", "Izvje&AWE-taji/Obra&ARE-eno"),
            ("Извјештаји", "&BBgENwQyBFgENQRIBEIEMARYBDg-"),
            ("Tom & Jerry", "Tom &- Jerry"),
            // RFC 3501 section 5.1.3's example, with a `/` of base64 written as `,`.
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("😀", "&2D3eAA-"),
        ] {
            assert_eq!(mailbox_name(name), sent, "{name}");
        }
        assert_eq!(mailbox("Izvještaji \"novi\""), "\"Izvje&AWE-taji \\\"novi\\\"\"");
    }

    #[test]
    fn the_login_follows_the_credentials_and_the_servers_offer() {
        let offer = |words: &[&str]| words.iter().map(|word| (*word).to_owned()).collect::<HashSet<_>>();
        let password = Credentials::Password("Šifra".into());
        let token = Credentials::Token("ya29.t".into());
        let both = offer(&["IMAP4REV1", "AUTH=PLAIN", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER"]);
        assert_eq!(login_method(&password, &both), Ok(Some(Mechanism::Plain)));
        assert_eq!(login_method(&token, &both), Ok(Some(Mechanism::XOauth2)));
        assert_eq!(login_method(&token, &offer(&["AUTH=OAUTHBEARER"])), Ok(Some(Mechanism::OauthBearer)));
        assert!(login_method(&token, &offer(&["AUTH=PLAIN"])).is_err());
        assert_eq!(login_method(&Credentials::Password("ascii".into()), &offer(&["IMAP4REV1"])), Ok(None));
        assert!(login_method(&password, &offer(&["IMAP4REV1"])).is_err(), "LOGIN cannot carry it");
        assert!(login_method(&Credentials::Password("a".into()), &offer(&["LOGINDISABLED"])).is_err());
        assert_eq!(Mechanism::Plain.messages("feeds", "Šifra"), ("\0feeds\0Šifra".to_owned(), "*"));
        assert_eq!(
            Mechanism::XOauth2.messages("feeds@cert.example", "ya29.t"),
            ("user=feeds@cert.example\x01auth=Bearer ya29.t\x01\x01".to_owned(), "")
        );
        // RFC 7628's example, with a user name that needs escaping in the GS2 header.
        assert_eq!(
            Mechanism::OauthBearer.messages("user=a,b@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="),
            (
                "n,a=user=3Da=2Cb@example.com,\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
                    .to_owned(),
                "AQ=="
            )
        );
    }

    #[test]
    fn processed_messages_leave_by_move_or_copy_as_the_server_allows() {
        let offer = |words: &[&str]| words.iter().map(|word| (*word).to_owned()).collect::<HashSet<_>>();
        let both = offer(&["MOVE", "UIDPLUS"]);
        assert_eq!(Done::new(None, &both).commands(7), ["UID STORE 7 +FLAGS.SILENT (\\Seen)"]);
        assert_eq!(Done::new(Some("Obrađeno"), &both).commands(7), ["UID MOVE 7 \"Obra&ARE-eno\""]);
        assert_eq!(
            Done::new(Some("Done"), &offer(&["UIDPLUS"])).commands(7),
            ["UID COPY 7 \"Done\"", "UID STORE 7 +FLAGS.SILENT (\\Deleted)", "UID EXPUNGE 7"]
        );
        let plain = Done::new(Some("Done"), &offer(&[]));
        assert_eq!(plain.commands(7), ["UID COPY 7 \"Done\"", "UID STORE 7 +FLAGS.SILENT (\\Deleted)"]);
        assert!(matches!(plain, Done::CopyAndClose(_)), "closing the folder removes them");
    }

    #[test]
    fn continuation_requests_are_read_as_sasl_challenges() {
        // XOAUTH2's failure report, base64 of JSON.
        assert_eq!(
            continuation_text(" eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0="),
            r#"{"status":"401","schemes":"bearer"}"#
        );
        assert_eq!(continuation_text(" "), "");
        assert_eq!(continuation_text(" Ready for literal data"), "Ready for literal data");
        assert_eq!(continuation_text(" AAEC"), "AAEC", "bytes that are not text stay as sent");
    }
}
