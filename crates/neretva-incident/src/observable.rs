//! Typed observables: the IPs, networks, names, URLs, addresses and hashes an incident is about.
//!
//! [`Observable::parse`] checks a value of a known [`ObservableKind`] and stores it in one
//! canonical form, so equal observables compare equal and match stored feed events:
//!
//! | kind       | canonical form |
//! |------------|----------------|
//! | `ipv4`, `ipv6` | the address as Rust prints it (RFC 5952 for IPv6: lower case, `::` for the longest zero run); brackets and zone indices removed; `0.0.0.0` and `::` refused |
//! | `cidr`     | `network/length`; host bits set are an error that names the network |
//! | `domain`   | lower-case ASCII, IDNA (punycode) for international names, no trailing dot, as IntelMQ stores `source.fqdn` |
//! | `url`      | IntelMQ's URL sanitiser (`hxxp` → `http`), then scheme and host lower-cased, the host IDNA-encoded, default ports (`:80`, `:443`) dropped and an empty HTTP path made `/`; path, query and fragment kept as they are |
//! | `email`    | `local@domain`, all lower case (mailbox names are case-insensitive at practically every provider), domain as above |
//! | `md5`, `sha1`, `sha256`, `sha512` | lower-case hex of exactly 32, 40, 64 or 128 digits |
//! | `asn`      | `AS64500` (also read from `64500` and `AS1.10` asdot) |
//! | `filename` | trimmed, no directory separators or control characters, at most 255 characters |
//! | `cve`      | upper case `CVE-YYYY-NNNN` |
//!
//! Values are *refanged* first ([`refang`]): `hxxp://`, `example[.]com`, `1.2.3(.)4`,
//! `user[@]example.com`, `[dot]`, `[:]` are read as the real thing, since reports quote
//! indicators defanged.
//!
//! [`ObservableKind::event_fields`] says which IntelMQ event fields an observable is matched
//! against and how ([`Relation`]), so the store can query events with it; [`Observable::matches`]
//! is the same rule applied to one event.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use neretva_event::{Event, Value};
use neretva_net::{Asn, Cidr, DomainName};
use serde::{Deserialize, Serialize};

use crate::FieldError;

/// The kind of an observable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservableKind {
    Ipv4,
    Ipv6,
    Cidr,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    Sha512,
    Asn,
    Filename,
    Cve,
}

impl ObservableKind {
    /// Every kind.
    pub const ALL: [ObservableKind; 13] = [
        ObservableKind::Ipv4,
        ObservableKind::Ipv6,
        ObservableKind::Cidr,
        ObservableKind::Domain,
        ObservableKind::Url,
        ObservableKind::Email,
        ObservableKind::Md5,
        ObservableKind::Sha1,
        ObservableKind::Sha256,
        ObservableKind::Sha512,
        ObservableKind::Asn,
        ObservableKind::Filename,
        ObservableKind::Cve,
    ];

    /// The stored spelling, e.g. `sha256`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObservableKind::Ipv4 => "ipv4",
            ObservableKind::Ipv6 => "ipv6",
            ObservableKind::Cidr => "cidr",
            ObservableKind::Domain => "domain",
            ObservableKind::Url => "url",
            ObservableKind::Email => "email",
            ObservableKind::Md5 => "md5",
            ObservableKind::Sha1 => "sha1",
            ObservableKind::Sha256 => "sha256",
            ObservableKind::Sha512 => "sha512",
            ObservableKind::Asn => "asn",
            ObservableKind::Filename => "filename",
            ObservableKind::Cve => "cve",
        }
    }

    /// The IntelMQ event fields an observable of this kind is matched against, and how.
    ///
    /// Empty for `sha512` and `filename`: IntelMQ's harmonisation has no field for them.
    pub fn event_fields(self) -> &'static [EventMatch] {
        match self {
            ObservableKind::Ipv4 | ObservableKind::Ipv6 => IP_FIELDS,
            ObservableKind::Cidr => CIDR_FIELDS,
            ObservableKind::Domain => DOMAIN_FIELDS,
            ObservableKind::Url => URL_FIELDS,
            ObservableKind::Email => EMAIL_FIELDS,
            ObservableKind::Md5 => MD5_FIELDS,
            ObservableKind::Sha1 => SHA1_FIELDS,
            ObservableKind::Sha256 => SHA256_FIELDS,
            ObservableKind::Asn => ASN_FIELDS,
            ObservableKind::Cve => CVE_FIELDS,
            ObservableKind::Sha512 | ObservableKind::Filename => &[],
        }
    }
}

const fn m(field: &'static str, relation: Relation) -> EventMatch {
    EventMatch { field, relation }
}

const IP_FIELDS: &[EventMatch] = &[
    m("source.ip", Relation::Equal),
    m("destination.ip", Relation::Equal),
    m("source.network", Relation::NetworkContainsObservable),
    m("destination.network", Relation::NetworkContainsObservable),
];
const CIDR_FIELDS: &[EventMatch] = &[
    m("source.ip", Relation::ObservableContainsAddress),
    m("destination.ip", Relation::ObservableContainsAddress),
    m("source.network", Relation::Equal),
    m("destination.network", Relation::Equal),
];
const DOMAIN_FIELDS: &[EventMatch] = &[
    m("source.fqdn", Relation::SameOrSubdomain),
    m("destination.fqdn", Relation::SameOrSubdomain),
    m("source.reverse_dns", Relation::SameOrSubdomain),
    m("destination.reverse_dns", Relation::SameOrSubdomain),
    m("source.url", Relation::UrlHost),
    m("destination.url", Relation::UrlHost),
];
const URL_FIELDS: &[EventMatch] =
    &[m("source.url", Relation::CanonicalUrl), m("destination.url", Relation::CanonicalUrl)];
const EMAIL_FIELDS: &[EventMatch] =
    &[m("source.account", Relation::CaseInsensitive), m("destination.account", Relation::CaseInsensitive)];
const MD5_FIELDS: &[EventMatch] = &[m("malware.hash.md5", Relation::CaseInsensitive)];
const SHA1_FIELDS: &[EventMatch] = &[m("malware.hash.sha1", Relation::CaseInsensitive)];
const SHA256_FIELDS: &[EventMatch] = &[m("malware.hash.sha256", Relation::CaseInsensitive)];
const CVE_FIELDS: &[EventMatch] = &[m("product.vulnerabilities", Relation::ListContains)];
const ASN_FIELDS: &[EventMatch] = &[m("source.asn", Relation::Equal), m("destination.asn", Relation::Equal)];

impl fmt::Display for ObservableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ObservableKind {
    type Err = FieldError;
    fn from_str(input: &str) -> Result<ObservableKind, FieldError> {
        let lower = input.trim().to_ascii_lowercase();
        let lower = match lower.as_str() {
            "ip" | "ipv4-addr" | "ip-src" | "ip-dst" => "ipv4",
            "ipv6-addr" => "ipv6",
            "network" | "ip-range" => "cidr",
            "fqdn" | "hostname" | "domain-name" => "domain",
            "uri" => "url",
            "e-mail" | "email-addr" | "email-src" | "email-dst" => "email",
            "as" | "autonomous-system" => "asn",
            "file" | "file-name" => "filename",
            "vulnerability" => "cve",
            other => other,
        };
        ObservableKind::ALL.into_iter().find(|kind| kind.as_str() == lower).ok_or_else(|| {
            let known: Vec<&str> = ObservableKind::ALL.iter().map(|k| k.as_str()).collect();
            FieldError::new(
                "kind",
                format!("unknown observable kind {input:?}; expected one of {}", known.join(", ")),
            )
        })
    }
}

/// How an event field is compared with an observable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The field's canonical text (or number, for ASNs) equals the observable's.
    Equal,
    /// Equal ignoring ASCII case (IntelMQ keeps hashes and accounts as the feed wrote them).
    CaseInsensitive,
    /// The field is a network containing the observed address.
    NetworkContainsObservable,
    /// The field is an address inside the observed network.
    ObservableContainsAddress,
    /// The field is the observed domain or a name below it.
    SameOrSubdomain,
    /// The field is a URL whose host is the observed domain or a name below it.
    UrlHost,
    /// The field is a URL equal to the observed one once both are canonical.
    CanonicalUrl,
    /// The field is a list (commas, semicolons or spaces) with the observable as one item, ignoring case.
    ListContains,
}

/// One event field and how to compare it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventMatch {
    pub field: &'static str,
    pub relation: Relation,
}

/// A value refused for its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {}: {reason}", kind.map_or("observable", ObservableKind::as_str))]
pub struct ObservableError {
    /// `None` when no kind could be guessed.
    pub kind: Option<ObservableKind>,
    /// The input, cut to 100 characters.
    pub value: String,
    pub reason: String,
}

impl ObservableError {
    fn new(kind: Option<ObservableKind>, value: &str, reason: impl Into<String>) -> ObservableError {
        let value = match value.char_indices().nth(100) {
            Some((cut, _)) => format!("{}…", &value[..cut]),
            None => value.to_owned(),
        };
        ObservableError { kind, value, reason: reason.into() }
    }

    /// The error as a field error on `field`.
    pub fn at(&self, field: impl Into<String>) -> FieldError {
        FieldError::new(field, self.to_string())
    }
}

/// The longest text accepted as an observable, in bytes.
pub const MAX_INPUT_BYTES: usize = 4096;

/// A checked observable in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawObservable", into = "RawObservable")]
pub struct Observable {
    kind: ObservableKind,
    value: String,
}

/// The serialised form: `{"kind": "domain", "value": "example.org"}`; read back through
/// [`Observable::parse`], so a stored value is checked again.
#[derive(Serialize, Deserialize)]
struct RawObservable {
    kind: ObservableKind,
    value: String,
}

impl TryFrom<RawObservable> for Observable {
    type Error = ObservableError;
    fn try_from(raw: RawObservable) -> Result<Observable, ObservableError> {
        Observable::parse(raw.kind, &raw.value)
    }
}

impl From<Observable> for RawObservable {
    fn from(observable: Observable) -> RawObservable {
        RawObservable { kind: observable.kind, value: observable.value }
    }
}

impl fmt::Display for Observable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// Reads defanged indicators as the real thing: `hxxp` → `http`, `[.]` `(.)` `{.}` `[dot]` → `.`,
/// `[:]` → `:`, `[@]` `[at]` → `@`.
pub fn refang(text: &str) -> Cow<'_, str> {
    const MARKERS: [(&str, &str); 8] = [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[:]", ":"),
        ("[@]", "@"),
        ("[at]", "@"),
    ];
    let lower = text.to_ascii_lowercase();
    let defanged_scheme = lower.starts_with("hxxp") || lower.starts_with("hxxps");
    if !defanged_scheme && !MARKERS.iter().any(|(marker, _)| lower.contains(marker)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    if defanged_scheme {
        out.push_str("http");
        rest = &text[4..];
    }
    'outer: while !rest.is_empty() {
        for (marker, replacement) in MARKERS {
            if rest.len() >= marker.len()
                && rest.is_char_boundary(marker.len())
                && rest[..marker.len()].eq_ignore_ascii_case(marker)
            {
                out.push_str(replacement);
                rest = &rest[marker.len()..];
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    Cow::Owned(out)
}

impl Observable {
    /// Checks a value of a known kind and makes it canonical.
    pub fn parse(kind: ObservableKind, text: &str) -> Result<Observable, ObservableError> {
        let fail = |reason: &str| ObservableError::new(Some(kind), text, reason);
        if text.len() > MAX_INPUT_BYTES {
            return Err(fail(&format!("longer than {MAX_INPUT_BYTES} bytes")));
        }
        let refanged = if kind == ObservableKind::Filename { Cow::Borrowed(text) } else { refang(text) };
        let input = refanged.trim();
        if input.is_empty() {
            return Err(fail("is empty"));
        }
        let value = match kind {
            ObservableKind::Ipv4 => match strip_ip(input).parse::<Ipv4Addr>() {
                Ok(address) if address.is_unspecified() => return Err(fail("is the unspecified address")),
                Ok(address) => address.to_string(),
                Err(_) => return Err(fail("not an IPv4 address")),
            },
            ObservableKind::Ipv6 => match strip_ip(input).parse::<Ipv6Addr>() {
                Ok(address) if address.is_unspecified() => return Err(fail("is the unspecified address")),
                Ok(address) => address.to_string(),
                Err(_) => return Err(fail("not an IPv6 address")),
            },
            ObservableKind::Cidr => {
                input.parse::<Cidr>().map_err(|error| fail(&error.to_string()))?.to_string()
            }
            ObservableKind::Domain => canonical_domain(input).map_err(|reason| fail(&reason))?,
            ObservableKind::Url => canonical_url(input).map_err(|reason| fail(&reason))?,
            ObservableKind::Email => canonical_email(input).map_err(|reason| fail(&reason))?,
            ObservableKind::Md5 => hash(input, 32).map_err(|reason| fail(&reason))?,
            ObservableKind::Sha1 => hash(input, 40).map_err(|reason| fail(&reason))?,
            ObservableKind::Sha256 => hash(input, 64).map_err(|reason| fail(&reason))?,
            ObservableKind::Sha512 => hash(input, 128).map_err(|reason| fail(&reason))?,
            ObservableKind::Asn => {
                input.parse::<Asn>().map_err(|error| fail(&error.to_string()))?.to_string()
            }
            ObservableKind::Filename => filename(input).map_err(|reason| fail(&reason))?,
            ObservableKind::Cve => cve(input).map_err(|reason| fail(&reason))?,
        };
        Ok(Observable { kind, value })
    }

    /// Guesses the kind of a pasted value: a URL has `://`, hashes are hex of a hash's length,
    /// `CVE-…` and `AS…` speak for themselves, then a network, an address, an e-mail address and
    /// a domain of two or more labels. A bare number or a single word is refused (say the kind),
    /// and so are file names, which look like domains (`invoice.zip`).
    pub fn guess(text: &str) -> Result<Observable, ObservableError> {
        let refanged = refang(text);
        let input = refanged.trim();
        let lower = input.to_ascii_lowercase();
        let kind = if lower.contains("://") {
            ObservableKind::Url
        } else if !input.is_empty()
            && input.bytes().all(|b| b.is_ascii_hexdigit())
            && [32, 40, 64, 128].contains(&input.len())
        {
            match input.len() {
                32 => ObservableKind::Md5,
                40 => ObservableKind::Sha1,
                64 => ObservableKind::Sha256,
                _ => ObservableKind::Sha512,
            }
        } else if lower.starts_with("cve-") {
            ObservableKind::Cve
        } else if lower.len() > 2
            && lower.starts_with("as")
            && lower[2..].bytes().all(|b| b.is_ascii_digit() || b == b'.')
        {
            ObservableKind::Asn
        } else if input.contains('/') {
            ObservableKind::Cidr
        } else if let Ok(address) = strip_ip(input).parse::<IpAddr>() {
            if address.is_ipv4() { ObservableKind::Ipv4 } else { ObservableKind::Ipv6 }
        } else if input.contains('@') {
            ObservableKind::Email
        } else if input.contains('.') && canonical_domain(input).is_ok_and(|d| d.contains('.')) {
            ObservableKind::Domain
        } else {
            return Err(ObservableError::new(
                None,
                text,
                "cannot tell what kind of observable this is; give the kind",
            ));
        };
        Observable::parse(kind, text)
    }

    /// The kind.
    pub fn kind(&self) -> ObservableKind {
        self.kind
    }

    /// The canonical value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The event fields this observable is matched against.
    pub fn event_fields(&self) -> &'static [EventMatch] {
        self.kind.event_fields()
    }

    /// The fields of `event` that match this observable, in [`ObservableKind::event_fields`] order.
    pub fn matches(&self, event: &Event) -> Vec<&'static str> {
        self.event_fields()
            .iter()
            .filter(|rule| {
                event.get(rule.field).is_some_and(|value| self.matches_value(rule.relation, value))
            })
            .map(|rule| rule.field)
            .collect()
    }

    fn matches_value(&self, relation: Relation, value: &Value) -> bool {
        match relation {
            Relation::Equal => match value {
                Value::Int(number) => {
                    self.value.parse::<Asn>().is_ok_and(|asn| i64::from(asn.get()) == *number)
                }
                other => other.to_string() == self.value,
            },
            Relation::CaseInsensitive => {
                value.as_str().is_some_and(|text| text.trim().eq_ignore_ascii_case(&self.value))
            }
            Relation::NetworkContainsObservable => match (value.as_network(), self.value.parse::<IpAddr>()) {
                (Some(network), Ok(address)) => network.contains(address),
                _ => false,
            },
            Relation::ObservableContainsAddress => match (self.value.parse::<Cidr>(), value.as_ip()) {
                (Ok(network), Some(address)) => network.contains(address),
                _ => false,
            },
            Relation::SameOrSubdomain => {
                value.as_str().is_some_and(|name| same_or_subdomain(name, &self.value))
            }
            Relation::UrlHost => value
                .as_str()
                .and_then(|url| canonical_url(url).ok())
                .and_then(|url| url_host(&url).map(str::to_owned))
                .is_some_and(|host| same_or_subdomain(&host, &self.value)),
            Relation::CanonicalUrl => {
                value.as_str().and_then(|url| canonical_url(url).ok()).is_some_and(|url| url == self.value)
            }
            Relation::ListContains => value.as_str().is_some_and(|list| {
                list.split([',', ';', ' ']).any(|item| item.trim().eq_ignore_ascii_case(&self.value))
            }),
        }
    }
}

/// An observable in an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservableEntry {
    pub observable: Observable,
    /// Whether it is an indicator of compromise (as opposed to, say, a victim's address).
    pub ioc: bool,
    pub note: Option<String>,
    pub added_by: Option<uuid::Uuid>,
    #[serde(with = "crate::utc")]
    pub added_at: crate::Timestamp,
}

impl ObservableEntry {
    /// An observable added to an incident, with its timeline entry; the note is checked.
    pub fn new(
        observable: Observable,
        ioc: bool,
        note: Option<String>,
        actor: Option<uuid::Uuid>,
        now: crate::Timestamp,
    ) -> Result<(ObservableEntry, crate::timeline::TimelineEntry), FieldError> {
        if let Some(note) = &note {
            neretva_model::check_optional_text("note", note, crate::limits::SHORT_TEXT)?;
        }
        let entry = crate::timeline::TimelineEntry::new(
            now,
            actor,
            crate::timeline::TimelineKind::ObservableAdded {
                observable_kind: observable.kind,
                value: observable.value.clone(),
            },
        );
        Ok((ObservableEntry { observable, ioc, note, added_by: actor, added_at: now }, entry))
    }
}

/// The observables in a feed event: its addresses, names, URLs, accounts that are e-mail
/// addresses and malware hashes, each once.
pub fn from_event(event: &Event) -> Vec<Observable> {
    const FIELDS: [(&str, Option<ObservableKind>); 11] = [
        ("source.ip", None),
        ("destination.ip", None),
        ("source.fqdn", Some(ObservableKind::Domain)),
        ("destination.fqdn", Some(ObservableKind::Domain)),
        ("source.url", Some(ObservableKind::Url)),
        ("destination.url", Some(ObservableKind::Url)),
        ("source.account", Some(ObservableKind::Email)),
        ("destination.account", Some(ObservableKind::Email)),
        ("malware.hash.md5", Some(ObservableKind::Md5)),
        ("malware.hash.sha1", Some(ObservableKind::Sha1)),
        ("malware.hash.sha256", Some(ObservableKind::Sha256)),
    ];
    let mut found: Vec<Observable> = Vec::new();
    for (field, kind) in FIELDS {
        let Some(value) = event.get(field) else { continue };
        let observable = match (kind, value) {
            (None, Value::Ip(IpAddr::V4(address))) => {
                Observable::parse(ObservableKind::Ipv4, &address.to_string())
            }
            (None, Value::Ip(IpAddr::V6(address))) => {
                Observable::parse(ObservableKind::Ipv6, &address.to_string())
            }
            (Some(kind), value) => match value.as_str() {
                Some(text) => Observable::parse(kind, text),
                None => continue,
            },
            (None, _) => continue,
        };
        // A value that is not one (an account that is no e-mail address) is skipped.
        if let Ok(observable) = observable
            && !found.contains(&observable)
        {
            found.push(observable);
        }
    }
    found
}

fn strip_ip(text: &str) -> &str {
    let text = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    text.split_once('%').map_or(text, |(address, _zone)| address)
}

/// A domain as IntelMQ stores `source.fqdn` (IDNA, lower case), then checked strictly.
fn canonical_domain(text: &str) -> Result<String, String> {
    let mut event = Event::new();
    event.set("source.fqdn", text).map_err(|error| reason_of(&error.to_string()))?;
    let ascii = event.get_str("source.fqdn").ok_or_else(|| "is empty".to_owned())?;
    let name: DomainName =
        ascii.parse().map_err(|error: neretva_net::NetError| reason_of(&error.to_string()))?;
    Ok(name.as_str().to_owned())
}

/// The part of a sanitiser's message after the quoted value, so errors do not repeat it.
fn reason_of(message: &str) -> String {
    match message.rsplit_once("\" ") {
        Some((_, reason)) => reason.to_owned(),
        None => message.to_owned(),
    }
}

/// A URL as IntelMQ sanitises it, then normalised: see the module documentation.
fn canonical_url(text: &str) -> Result<String, String> {
    let refanged = refang(text);
    let mut event = Event::new();
    event.set("source.url", &refanged).map_err(|error| reason_of(&error.to_string()))?;
    let url = event.get_str("source.url").ok_or_else(|| "is empty".to_owned())?;
    let (scheme, rest) = url.split_once("://").ok_or_else(|| "is not a URL with a host".to_owned())?;
    let scheme = scheme.to_ascii_lowercase();
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    let (host, port) = if host_port.starts_with('[') {
        let close = host_port.find(']').ok_or_else(|| "has an unbalanced IPv6 literal".to_owned())?;
        let (host, after) = host_port.split_at(close + 1);
        let literal: Ipv6Addr =
            host[1..host.len() - 1].parse().map_err(|_| "has an invalid IPv6 literal".to_owned())?;
        (format!("[{literal}]"), after.strip_prefix(':'))
    } else {
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (host, Some(port)),
            _ => (host_port, None),
        };
        let host = match host.parse::<Ipv4Addr>() {
            Ok(address) => address.to_string(),
            Err(_) => canonical_domain(host).map_err(|reason| format!("has an invalid host: {reason}"))?,
        };
        (host, port)
    };
    let default_port = matches!((scheme.as_str(), port), ("http", Some("80")) | ("https", Some("443")));
    let mut out = format!("{scheme}://");
    if let Some(userinfo) = userinfo {
        out.push_str(userinfo);
        out.push('@');
    }
    out.push_str(&host);
    if let Some(port) = port.filter(|p| !p.is_empty() && !default_port) {
        out.push(':');
        out.push_str(port);
    }
    if (tail.is_empty() || tail.starts_with(['?', '#'])) && matches!(scheme.as_str(), "http" | "https") {
        out.push('/');
    }
    out.push_str(tail);
    Ok(out)
}

fn url_host(canonical: &str) -> Option<&str> {
    let rest = canonical.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    Some(match host_port.rsplit_once(':') {
        Some((host, port)) if !host_port.starts_with('[') && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host_port,
    })
}

fn same_or_subdomain(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.');
    name.eq_ignore_ascii_case(domain)
        || (name.len() > domain.len()
            && name.is_char_boundary(name.len() - domain.len() - 1)
            && name[name.len() - domain.len() - 1..].eq_ignore_ascii_case(&format!(".{domain}")))
}

fn canonical_email(text: &str) -> Result<String, String> {
    let text = text.strip_prefix("mailto:").unwrap_or(text);
    let (local, domain) = text.rsplit_once('@').ok_or_else(|| "has no @".to_owned())?;
    if local.is_empty() || local.len() > 64 {
        return Err("the local part must be 1 to 64 characters".into());
    }
    if let Some(c) =
        local.chars().find(|c| c.is_whitespace() || c.is_control() || "\"<>(),;:[]\\@".contains(*c))
    {
        return Err(format!("the local part contains {c:?}"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the local part has a misplaced dot".into());
    }
    let domain = canonical_domain(domain).map_err(|reason| format!("the domain {reason}"))?;
    Ok(format!("{}@{domain}", local.to_lowercase()))
}

fn hash(text: &str, digits: usize) -> Result<String, String> {
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("is not hexadecimal".into());
    }
    if text.len() != digits {
        return Err(format!("has {} hex digits, not {digits}", text.len()));
    }
    Ok(text.to_ascii_lowercase())
}

fn filename(text: &str) -> Result<String, String> {
    if text.contains(['/', '\\']) {
        return Err("contains a directory separator".into());
    }
    if text.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    if text.chars().count() > 255 {
        return Err("is longer than 255 characters".into());
    }
    Ok(text.to_owned())
}

fn cve(text: &str) -> Result<String, String> {
    let upper = text.to_ascii_uppercase();
    let mut parts = upper.split('-');
    let valid = parts.next() == Some("CVE")
        && parts.next().is_some_and(|year| year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_some_and(|number| number.len() >= 4 && number.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_none();
    if valid { Ok(upper) } else { Err("is not of the form CVE-YYYY-NNNN".into()) }
}

/// Observables indexed for matching many feed events at once (new events against the
/// observables of open incidents). Each event looks up only the observables that could match it
/// (by address and the networks around it, network, name and its parent domains, URL and its
/// host, account, hash, AS number, CVE) and confirms each with [`Observable::matches`], so the
/// result is exactly that of trying every observable on every event.
#[derive(Debug, Default)]
pub struct ObservableIndex {
    observables: Vec<Observable>,
    /// Lower-cased value (an AS by its number) to observables of that kind.
    exact: std::collections::HashMap<(ObservableKind, String), Vec<usize>>,
    /// IP observables by address, for events that carry a network.
    addresses: std::collections::BTreeMap<IpAddr, Vec<usize>>,
    /// CIDR observables, for events that carry an address.
    networks: Vec<(Cidr, usize)>,
    /// Domain observables by name.
    domains: std::collections::HashMap<String, Vec<usize>>,
}

fn exact_key(kind: ObservableKind, text: &str) -> (ObservableKind, String) {
    let text = text.trim();
    match kind {
        ObservableKind::Asn => (
            kind,
            text.parse::<Asn>().map_or_else(|_| text.to_ascii_lowercase(), |asn| asn.get().to_string()),
        ),
        _ => (kind, text.to_ascii_lowercase()),
    }
}

impl ObservableIndex {
    /// Indexes observables; those with no event fields (`sha512`, `filename`) never match.
    pub fn new(observables: Vec<Observable>) -> ObservableIndex {
        let mut index = ObservableIndex::default();
        for (position, observable) in observables.iter().enumerate() {
            let kind = observable.kind();
            match kind {
                ObservableKind::Ipv4 | ObservableKind::Ipv6 => {
                    if let Ok(address) = observable.value().parse::<IpAddr>() {
                        index.addresses.entry(address).or_default().push(position);
                    }
                    index.exact.entry(exact_key(kind, observable.value())).or_default().push(position);
                }
                ObservableKind::Cidr => {
                    if let Ok(network) = observable.value().parse::<Cidr>() {
                        index.networks.push((network, position));
                    }
                    index.exact.entry(exact_key(kind, observable.value())).or_default().push(position);
                }
                ObservableKind::Domain => {
                    index.domains.entry(observable.value().to_ascii_lowercase()).or_default().push(position);
                }
                ObservableKind::Sha512 | ObservableKind::Filename => {}
                _ => index.exact.entry(exact_key(kind, observable.value())).or_default().push(position),
            }
        }
        index.observables = observables;
        index
    }

    /// The observables indexed.
    pub fn observables(&self) -> &[Observable] {
        &self.observables
    }

    pub fn is_empty(&self) -> bool {
        self.observables.is_empty()
    }

    fn exact(&self, kind: ObservableKind, text: &str, found: &mut Vec<usize>) {
        if let Some(positions) = self.exact.get(&exact_key(kind, text)) {
            found.extend(positions);
        }
    }

    fn names(&self, name: &str, found: &mut Vec<usize>) {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        let mut rest = name.as_str();
        loop {
            if let Some(positions) = self.domains.get(rest) {
                found.extend(positions);
            }
            match rest.split_once('.') {
                Some((_, parent)) if !parent.is_empty() => rest = parent,
                _ => break,
            }
        }
    }

    /// The observables matching an event, each with the fields that matched, in the order the
    /// observables were given.
    pub fn matching<'a>(&'a self, event: &Event) -> Vec<(&'a Observable, Vec<&'static str>)> {
        let mut found = Vec::new();
        for field in ["source.ip", "destination.ip"] {
            if let Some(address) = event.get(field).and_then(Value::as_ip) {
                let kind = if address.is_ipv4() { ObservableKind::Ipv4 } else { ObservableKind::Ipv6 };
                self.exact(kind, &address.to_string(), &mut found);
                found.extend(self.networks.iter().filter(|(n, _)| n.contains(address)).map(|(_, p)| *p));
            }
        }
        for field in ["source.network", "destination.network"] {
            if let Some(network) = event.get(field).and_then(Value::as_network) {
                self.exact(ObservableKind::Cidr, &network.to_string(), &mut found);
                for (_, positions) in self.addresses.range(network.network()..=network.last()) {
                    found.extend(positions);
                }
            }
        }
        for field in ["source.fqdn", "destination.fqdn", "source.reverse_dns", "destination.reverse_dns"] {
            if let Some(name) = event.get(field).and_then(Value::as_str) {
                self.names(name, &mut found);
            }
        }
        for field in ["source.url", "destination.url"] {
            if let Some(url) = event.get(field).and_then(Value::as_str).and_then(|u| canonical_url(u).ok()) {
                self.exact(ObservableKind::Url, &url, &mut found);
                if let Some(host) = url_host(&url) {
                    self.names(host, &mut found);
                }
            }
        }
        for field in ["source.account", "destination.account"] {
            if let Some(account) = event.get(field).and_then(Value::as_str) {
                self.exact(ObservableKind::Email, account, &mut found);
            }
        }
        for (field, kind) in [
            ("malware.hash.md5", ObservableKind::Md5),
            ("malware.hash.sha1", ObservableKind::Sha1),
            ("malware.hash.sha256", ObservableKind::Sha256),
        ] {
            if let Some(hash) = event.get(field).and_then(Value::as_str) {
                self.exact(kind, hash, &mut found);
            }
        }
        for field in ["source.asn", "destination.asn"] {
            if let Some(Value::Int(number)) = event.get(field) {
                self.exact(ObservableKind::Asn, &number.to_string(), &mut found);
            }
        }
        if let Some(list) = event.get("product.vulnerabilities").and_then(Value::as_str) {
            for item in list.split([',', ';', ' ']).filter(|item| !item.trim().is_empty()) {
                self.exact(ObservableKind::Cve, item, &mut found);
            }
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .filter_map(|position| {
                let observable = &self.observables[position];
                let fields = observable.matches(event);
                (!fields.is_empty()).then_some((observable, fields))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn canonical(kind: ObservableKind, input: &str) -> String {
        match Observable::parse(kind, input) {
            Ok(observable) => observable.value,
            Err(error) => format!("error: {error}"),
        }
    }

    /// Input, kind, canonical form (or the error).
    #[test]
    fn canonical_forms() {
        use ObservableKind::*;
        let cases = [
            (Ipv4, " 192.0.2.1 ", "192.0.2.1"),
            (Ipv4, "192[.]0[.]2[.]1", "192.0.2.1"),
            (Ipv4, "192.0.2.01", "error: \"192.0.2.01\" is not a valid ipv4: not an IPv4 address"),
            (Ipv4, "0.0.0.0", "error: \"0.0.0.0\" is not a valid ipv4: is the unspecified address"),
            (Ipv6, "2001:DB8:0:0::1", "2001:db8::1"),
            (Ipv6, "[fe80::1%eth0]", "fe80::1"),
            (Cidr, "192.0.2.0/24", "192.0.2.0/24"),
            (Cidr, "2001:db8::/32", "2001:db8::/32"),
            (Cidr, "192.0.2.1", "192.0.2.1/32"),
            (Domain, "WWW.Example.ORG.", "www.example.org"),
            (Domain, "example[.]ba", "example.ba"),
            (Domain, "Bücher.example", "xn--bcher-kva.example"),
            (Domain, "općina.ba", "xn--opina-hxa.ba"),
            (
                Domain,
                "exa mple.org",
                "error: \"exa mple.org\" is not a valid domain: contains ' '; only letters, digits, hyphens and underscores are allowed",
            ),
            (Url, "hxxp://Evil.EXAMPLE:80/Login?x=1", "http://evil.example/Login?x=1"),
            (Url, "https://example.org", "https://example.org/"),
            (Url, "https://user@Bücher.example:8443/a#b", "https://user@xn--bcher-kva.example:8443/a#b"),
            (Url, "http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
            (
                Url,
                "example.org/path",
                "error: \"example.org/path\" is not a valid url: is not a URL with a host",
            ),
            (Email, "Phisher@Evil.Example", "phisher@evil.example"),
            (Email, "user[@]example[.]com", "user@example.com"),
            (Email, "mailto:a.b@example.org", "a.b@example.org"),
            (
                Email,
                "a..b@example.org",
                "error: \"a..b@example.org\" is not a valid email: the local part has a misplaced dot",
            ),
            (Md5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
            (Sha1, "abc", "error: \"abc\" is not a valid sha1: has 3 hex digits, not 40"),
            (
                Sha256,
                "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg",
                "error: \"gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg\" is not a valid sha256: is not hexadecimal",
            ),
            (Asn, "as64500", "AS64500"),
            (Asn, "64500", "AS64500"),
            (Asn, "AS1.10", "AS65546"),
            (Filename, " invoice[.]pdf.exe ", "invoice[.]pdf.exe"),
            (
                Filename,
                "C:\\Temp\\x.exe",
                "error: \"C:\\\\Temp\\\\x.exe\" is not a valid filename: contains a directory separator",
            ),
            (Cve, "cve-2024-3400", "CVE-2024-3400"),
            (Cve, "CVE-24-1", "error: \"CVE-24-1\" is not a valid cve: is not of the form CVE-YYYY-NNNN"),
        ];
        let mut failures = Vec::new();
        for (kind, input, expected) in cases {
            let actual = canonical(kind, input);
            if actual != expected {
                failures.push(format!("{kind} {input:?}: expected {expected:?}, got {actual:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn guessing_the_kind() {
        let guess = |text: &str| {
            Observable::guess(text).map(|o| o.to_string()).unwrap_or_else(|e| format!("error: {e}"))
        };
        assert_eq!(guess("hxxps://evil[.]example/x"), "url:https://evil.example/x");
        assert_eq!(guess("d41d8cd98f00b204e9800998ecf8427e"), "md5:d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(guess(&"A".repeat(64)), format!("sha256:{}", "a".repeat(64)));
        assert_eq!(guess("198.51.100.0/24"), "cidr:198.51.100.0/24");
        assert_eq!(guess("198.51.100.7"), "ipv4:198.51.100.7");
        assert_eq!(guess("2001:db8::7"), "ipv6:2001:db8::7");
        assert_eq!(guess("AS64500"), "asn:AS64500");
        assert_eq!(guess("CVE-2023-4966"), "cve:CVE-2023-4966");
        assert_eq!(guess("ceo@banka[.]ba"), "email:ceo@banka.ba");
        assert_eq!(guess("login-banka.example.net"), "domain:login-banka.example.net");
        assert_eq!(
            guess("64500"),
            "error: \"64500\" is not a valid observable: cannot tell what kind of observable this is; give the kind"
        );
        assert!(guess("hello").starts_with("error"));
    }

    #[test]
    fn observables_serialise_and_are_checked_when_read() {
        let observable = Observable::parse(ObservableKind::Domain, "Example.ORG").unwrap();
        let json = serde_json::to_string(&observable).unwrap();
        assert_eq!(json, r#"{"kind":"domain","value":"example.org"}"#);
        let read: Observable = serde_json::from_str(r#"{"kind":"domain","value":"EXAMPLE.org."}"#).unwrap();
        assert_eq!(read, observable);
        assert!(serde_json::from_str::<Observable>(r#"{"kind":"ipv4","value":"example.org"}"#).is_err());
    }

    #[test]
    fn refanging() {
        assert_eq!(refang("hXXps://a[.]b(.)c{.}d[dot]e/x[:]1"), "https://a.b.c.d.e/x:1");
        assert_eq!(refang("me[AT]example.org"), "me@example.org");
        assert!(matches!(refang("plain.example"), Cow::Borrowed(_)));
        assert_eq!(refang("č[.]ž"), "č.ž");
    }

    fn event(fields: &[(&str, &str)]) -> Event {
        let mut event = Event::new();
        for (name, value) in fields {
            event.set(name, value).unwrap();
        }
        event
    }

    #[test]
    fn matching_feed_events() {
        let event = event(&[
            ("source.ip", "198.51.100.7"),
            ("source.network", "198.51.100.0/24"),
            ("source.asn", "64500"),
            ("source.fqdn", "mail.Evil.example"),
            ("destination.url", "HTTP://login.evil.example:80/verify"),
            ("malware.hash.md5", "D41D8CD98F00B204E9800998ECF8427E"),
            ("source.account", "Phisher@Evil.example"),
            ("product.vulnerabilities", "cve-2024-3400, cve-2023-4966"),
        ]);
        let matches = |kind, value| Observable::parse(kind, value).unwrap().matches(&event);
        assert_eq!(matches(ObservableKind::Ipv4, "198.51.100.7"), ["source.ip", "source.network"]);
        assert_eq!(matches(ObservableKind::Ipv4, "198.51.100.8"), ["source.network"]);
        assert_eq!(matches(ObservableKind::Cidr, "198.51.100.0/25"), ["source.ip"]);
        assert_eq!(matches(ObservableKind::Cidr, "198.51.100.0/24"), ["source.ip", "source.network"]);
        assert_eq!(matches(ObservableKind::Asn, "AS64500"), ["source.asn"]);
        assert_eq!(matches(ObservableKind::Domain, "evil.example"), ["source.fqdn", "destination.url"]);
        assert!(
            matches(ObservableKind::Domain, "vil.example").is_empty(),
            "suffix of a label is no subdomain"
        );
        assert_eq!(matches(ObservableKind::Url, "http://login.evil.example/verify"), ["destination.url"]);
        assert_eq!(matches(ObservableKind::Md5, "d41d8cd98f00b204e9800998ecf8427e"), ["malware.hash.md5"]);
        assert_eq!(matches(ObservableKind::Email, "phisher@evil.example"), ["source.account"]);
        assert_eq!(matches(ObservableKind::Cve, "CVE-2023-4966"), ["product.vulnerabilities"]);
        assert!(ObservableKind::Sha512.event_fields().is_empty());
        for kind in ObservableKind::ALL {
            for rule in kind.event_fields() {
                assert!(
                    neretva_event::field_spec(rule.field).is_some(),
                    "{} is an IntelMQ field",
                    rule.field
                );
            }
        }
    }

    #[test]
    fn entries_record_their_addition() {
        let now = time::macros::datetime!(2025-02-03 10:00 UTC);
        let observable = Observable::parse(ObservableKind::Ipv4, "203.0.113.7").unwrap();
        let (entry, timeline) = ObservableEntry::new(observable.clone(), true, None, None, now).unwrap();
        assert!(entry.ioc);
        assert_eq!(
            timeline.kind,
            crate::timeline::TimelineKind::ObservableAdded {
                observable_kind: ObservableKind::Ipv4,
                value: "203.0.113.7".into()
            }
        );
        let long = Some("x".repeat(crate::limits::SHORT_TEXT + 1));
        assert_eq!(ObservableEntry::new(observable, false, long, None, now).unwrap_err().field, "note");
    }

    #[test]
    fn observables_from_an_event() {
        let event = event(&[
            ("source.ip", "198.51.100.7"),
            ("destination.ip", "198.51.100.7"),
            ("source.fqdn", "evil.example"),
            ("source.account", "not an address"),
            ("malware.hash.sha256", &"AB".repeat(32)),
        ]);
        let found: Vec<String> = from_event(&event).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            ["ipv4:198.51.100.7", "domain:evil.example", &format!("sha256:{}", "ab".repeat(32))]
        );
    }

    /// Event fields and values, and observables, for the index's property test.
    const INDEX_FIELDS: [&str; 14] = [
        "source.ip",
        "destination.ip",
        "source.network",
        "source.fqdn",
        "destination.reverse_dns",
        "source.url",
        "destination.url",
        "source.account",
        "malware.hash.md5",
        "malware.hash.sha256",
        "source.asn",
        "destination.asn",
        "product.vulnerabilities",
        "destination.fqdn",
    ];
    const INDEX_POOL: [&str; 16] = [
        "192.0.2.7",
        "192.0.2.200",
        "2001:db8::1",
        "192.0.2.0/24",
        "198.51.100.0/25",
        "evil.example",
        "www.login.evil.example",
        "EVIL.example.net",
        "http://www.login.evil.example:8080/a?b=c",
        "https://evil.example/",
        "Alice@Example.org",
        "d41d8cd98f00b204e9800998ecf8427e",
        "64500",
        "65001",
        "CVE-2024-3094, cve-2021-44228",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ];
    const INDEX_OBSERVABLES: [&str; 16] = [
        "192.0.2.7",
        "192.0.2.200",
        "2001:db8::1",
        "192.0.2.0/24",
        "192.0.2.0/26",
        "198.51.100.0/25",
        "evil.example",
        "login.evil.example",
        "example.net",
        "https://evil.example/",
        "alice@example.org",
        "D41D8CD98F00B204E9800998ECF8427E",
        "AS64500",
        "CVE-2021-44228",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "http://www.login.evil.example:8080/a?b=c",
    ];

    #[test]
    fn the_index_finds_observables_around_an_event() {
        let observables: Vec<Observable> =
            INDEX_OBSERVABLES.iter().map(|text| Observable::guess(text).unwrap()).collect();
        let index = ObservableIndex::new(observables);
        let event = event(&[
            ("source.ip", "192.0.2.7"),
            ("source.url", "http://www.login.evil.example:8080/a?b=c"),
            ("source.asn", "64500"),
        ]);
        let found: Vec<String> =
            index.matching(&event).iter().map(|(o, fields)| format!("{o} {}", fields.join(","))).collect();
        assert_eq!(
            found,
            [
                "ipv4:192.0.2.7 source.ip",
                "cidr:192.0.2.0/24 source.ip",
                "cidr:192.0.2.0/26 source.ip",
                "domain:evil.example source.url",
                "domain:login.evil.example source.url",
                "asn:AS64500 source.asn",
                "url:http://www.login.evil.example:8080/a?b=c source.url",
            ]
        );
    }

    proptest::proptest! {
        /// Canonical forms are fixed points: parsing a canonical value gives it back.
        #[test]
        fn canonicalisation_is_idempotent(
            kind in proptest::sample::select(ObservableKind::ALL.to_vec()),
            text in "[ -~]{0,40}|[0-9a-fA-F]{32}|[0-9]{1,3}(\\.[0-9]{1,3}){3}(/[0-9]{1,2})?|[a-zA-Z0-9.:\\[\\]@/-]{1,30}|(hxxp|https?)://[a-zA-Zčćšđž0-9.-]{1,20}(:[0-9]{1,5})?/[a-z]{0,5}",
        ) {
            if let Ok(first) = Observable::parse(kind, &text) {
                let second = Observable::parse(kind, first.value());
                proptest::prop_assert_eq!(second.as_ref(), Ok(&first));
            }
        }

        /// The index finds exactly what trying every observable on the event finds.
        #[test]
        fn the_index_agrees_with_trying_every_observable(
            picks in proptest::collection::vec((0usize..INDEX_POOL.len(), 0usize..INDEX_FIELDS.len()), 1..8),
            observables in proptest::collection::vec(0usize..INDEX_OBSERVABLES.len(), 0..20),
        ) {
            let mut event = Event::new();
            for (value, field) in picks {
                let _ = event.set(INDEX_FIELDS[field], INDEX_POOL[value]);
            }
            let observables: Vec<Observable> = observables
                .into_iter()
                .filter_map(|n| Observable::guess(INDEX_OBSERVABLES[n]).ok())
                .collect();
            let index = ObservableIndex::new(observables.clone());
            let mut expected: Vec<(Observable, Vec<&str>)> = Vec::new();
            for observable in &observables {
                let fields = observable.matches(&event);
                if !fields.is_empty() && !expected.iter().any(|(known, _)| known == observable) {
                    expected.push((observable.clone(), fields));
                }
            }
            let mut found: Vec<(Observable, Vec<&str>)> =
                index.matching(&event).into_iter().map(|(o, f)| (o.clone(), f)).collect();
            // The same observable given twice is found twice.
            expected.sort_by_key(|a| a.0.to_string());
            found.sort_by_key(|a| a.0.to_string());
            found.dedup_by(|a, b| a.0 == b.0);
            proptest::prop_assert_eq!(found, expected);
        }

        /// Guessing never contradicts an explicit parse, and never panics.
        #[test]
        fn guess_agrees_with_parse(text in "\\PC{0,40}") {
            if let Ok(guessed) = Observable::guess(&text) {
                proptest::prop_assert_eq!(Observable::parse(guessed.kind(), &text), Ok(guessed));
            }
        }
    }
}
