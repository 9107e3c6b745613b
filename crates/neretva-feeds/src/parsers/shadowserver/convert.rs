//! The conversion functions a Shadowserver schema may name, as IntelMQ 3.5.0's
//! `intelmq/bots/parsers/shadowserver/_config.py` defines them.
//!
//! Each takes the column's text (and, for the row-aware ones, the whole row) and returns a value,
//! `None` (IntelMQ's `None`: the field is left out), or an error (IntelMQ raises: the line fails).

use std::borrow::Cow;
use std::net::IpAddr;

use super::timestamp;
use neretva_event::{Event, FieldId};

/// A converted value, before it is put into an event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A validated address and its text as given.
    Ip(IpAddr, &'a str),
    /// A point in time (UTC).
    Time(time::OffsetDateTime),
}

/// A conversion function of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conversion {
    /// `add_UTC_to_timestamp`: appends ` UTC`; the time is then parsed as UTC.
    AddUtcToTimestamp,
    /// `convert_bool`: `y/yes/true/enabled/1` → true, `n/no/false/disabled/0` → false, else none.
    ConvertBool,
    /// `validate_to_none`: empty, `0` and `unknown` → none.
    ValidateToNone,
    /// `convert_int`: an integer, none when empty.
    ConvertInt,
    /// `convert_float`: a float, none when empty.
    ConvertFloat,
    /// `convert_http_host_and_url` (row-aware): `http(s)://host/path` from the host and URL columns.
    ConvertHttpHostAndUrl,
    /// `invalidate_zero`: an integer, none when empty or zero.
    InvalidateZero,
    /// `validate_ip`: the address, none for `0.0.0.0`, networks and invalid addresses.
    ValidateIp,
    /// `validate_network`: the network, none unless it is a valid `address/prefix`.
    ValidateNetwork,
    /// `validate_fqdn`: the name, none unless the domain-name sanitiser accepts it.
    ValidateFqdn,
    /// `convert_date`: the time in IntelMQ's form, none when it cannot be parsed.
    ConvertDate,
    /// `convert_date_utc`: as `convert_date`, a time without a zone being UTC.
    ConvertDateUtc,
    /// `force_base64`: base64 text is kept, anything else is base64-encoded; none when empty.
    ForceBase64,
    /// `scan_exchange_taxonomy`: `intrusions` when the tag holds `webshell`, else `vulnerable`.
    ScanExchangeTaxonomy,
    /// `scan_exchange_type`: `system-compromise` when the tag holds `webshell`, else
    /// `vulnerable-system` (IntelMQ 3.5.0; older versions said `infected-system`).
    ScanExchangeType,
    /// `scan_exchange_identifier`: `exchange-server-webshell` when the tag holds `webshell`, else
    /// `vulnerable-exchange-server`.
    ScanExchangeIdentifier,
    /// `extract_cve_from_tag`: the sorted, `;`-separated CVE ids among the `;`-separated tags.
    ExtractCveFromTag,
    /// `category_or_detail` (row-aware): the value, or the `detail` column when it is empty.
    CategoryOrDetail,
    /// `set_tor_node` (older schemas): true when not empty.
    SetTorNode,
}

impl Conversion {
    /// Every conversion, in IntelMQ's order.
    pub const ALL: [Conversion; 19] = [
        Self::AddUtcToTimestamp,
        Self::ConvertBool,
        Self::ValidateToNone,
        Self::ConvertInt,
        Self::ConvertFloat,
        Self::ConvertHttpHostAndUrl,
        Self::InvalidateZero,
        Self::ValidateIp,
        Self::ValidateNetwork,
        Self::ValidateFqdn,
        Self::ConvertDate,
        Self::ConvertDateUtc,
        Self::ForceBase64,
        Self::ScanExchangeTaxonomy,
        Self::ScanExchangeType,
        Self::ScanExchangeIdentifier,
        Self::ExtractCveFromTag,
        Self::CategoryOrDetail,
        Self::SetTorNode,
    ];

    /// The function's name in the schema.
    pub fn name(self) -> &'static str {
        match self {
            Self::AddUtcToTimestamp => "add_UTC_to_timestamp",
            Self::ConvertBool => "convert_bool",
            Self::ValidateToNone => "validate_to_none",
            Self::ConvertInt => "convert_int",
            Self::ConvertFloat => "convert_float",
            Self::ConvertHttpHostAndUrl => "convert_http_host_and_url",
            Self::InvalidateZero => "invalidate_zero",
            Self::ValidateIp => "validate_ip",
            Self::ValidateNetwork => "validate_network",
            Self::ValidateFqdn => "validate_fqdn",
            Self::ConvertDate => "convert_date",
            Self::ConvertDateUtc => "convert_date_utc",
            Self::ForceBase64 => "force_base64",
            Self::ScanExchangeTaxonomy => "scan_exchange_taxonomy",
            Self::ScanExchangeType => "scan_exchange_type",
            Self::ScanExchangeIdentifier => "scan_exchange_identifier",
            Self::ExtractCveFromTag => "extract_cve_from_tag",
            Self::CategoryOrDetail => "category_or_detail",
            Self::SetTorNode => "set_tor_node",
        }
    }

    /// The conversion of that name.
    pub fn from_name(name: &str) -> Option<Conversion> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the function reads other columns of the row.
    pub fn needs_row(self) -> bool {
        matches!(self, Self::ConvertHttpHostAndUrl | Self::CategoryOrDetail)
    }
}

/// The other columns a row-aware conversion may read, resolved once per report header.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RowColumns {
    pub cc_dns: Option<usize>,
    pub http_host: Option<usize>,
    pub hostname: Option<usize>,
    pub ip: Option<usize>,
    pub url: Option<usize>,
    pub http_url: Option<usize>,
    pub application: Option<usize>,
    pub detail: Option<usize>,
}

impl RowColumns {
    pub(crate) fn from_header(header: &[String]) -> Self {
        let find = |name: &str| header.iter().position(|h| h == name);
        Self {
            cc_dns: find("cc_dns"),
            http_host: find("http_host"),
            hostname: find("hostname"),
            ip: find("ip"),
            url: find("url"),
            http_url: find("http_url"),
            application: find("application"),
            detail: find("detail"),
        }
    }
}

/// A view of the current row's fields.
pub(crate) trait Row {
    /// The text of column `index`, `None` when the row is shorter.
    fn get(&self, index: usize) -> Option<&str>;
}

/// Applies a conversion. `Err` carries a message for the line's error.
pub(crate) fn apply<'a>(
    conversion: Conversion,
    value: &'a str,
    row: &'a dyn Row,
    columns: &RowColumns,
) -> Result<Option<Val<'a>>, String> {
    Ok(match conversion {
        Conversion::AddUtcToTimestamp => {
            Some(match timestamp::parse(value).and_then(timestamp::Utc::to_time) {
                Some(t) => Val::Time(t),
                // IntelMQ appends " UTC" and lets the field's validation reject it.
                None => Val::Str(Cow::Owned(format!("{value} UTC"))),
            })
        }
        Conversion::ConvertBool => convert_bool(value).map(Val::Bool),
        Conversion::ValidateToNone => validate_to_none(value).map(|v| Val::Str(Cow::Borrowed(v))),
        Conversion::ConvertInt => {
            if value.is_empty() {
                None
            } else {
                Some(Val::Int(py_int(value).ok_or_else(|| not_int(value))?))
            }
        }
        Conversion::ConvertFloat => {
            if value.is_empty() {
                None
            } else {
                Some(Val::Float(py_float(value).ok_or_else(|| format!("{value:?} is not a number"))?))
            }
        }
        Conversion::InvalidateZero => {
            if value.is_empty() {
                None
            } else {
                match py_int(value).ok_or_else(|| not_int(value))? {
                    0 => None,
                    i => Some(Val::Int(i)),
                }
            }
        }
        Conversion::ValidateIp => validate_ip(value).map(|ip| Val::Ip(ip, value)),
        Conversion::ValidateNetwork => validate_network(value).then_some(Val::Str(Cow::Borrowed(value))),
        Conversion::ValidateFqdn => validate_fqdn(value).then_some(Val::Str(Cow::Borrowed(value))),
        Conversion::ConvertDate => timestamp::parse(value).map(|utc| Val::Str(Cow::Owned(utc.to_intelmq()))),
        Conversion::ConvertDateUtc => {
            if value.trim().is_empty() {
                None
            } else {
                timestamp::parse(value).map(|utc| Val::Str(Cow::Owned(utc.to_intelmq())))
            }
        }
        Conversion::ForceBase64 => force_base64(value),
        // IntelMQ 3.5.0's three `scan_exchange_*` functions: a webshell anywhere in the tag.
        Conversion::ScanExchangeTaxonomy => by_webshell(value, "intrusions", "vulnerable"),
        Conversion::ScanExchangeType => by_webshell(value, "system-compromise", "vulnerable-system"),
        Conversion::ScanExchangeIdentifier => {
            by_webshell(value, "exchange-server-webshell", "vulnerable-exchange-server")
        }
        Conversion::ExtractCveFromTag => extract_cve_from_tag(value).map(|v| Val::Str(Cow::Owned(v))),
        Conversion::CategoryOrDetail => {
            if value.is_empty() {
                let detail = columns.detail.and_then(|i| row.get(i)).unwrap_or("");
                Some(Val::Str(Cow::Borrowed(detail)))
            } else {
                Some(Val::Str(Cow::Borrowed(value)))
            }
        }
        Conversion::ConvertHttpHostAndUrl => Some(convert_http_host_and_url(value, row, columns)),
        Conversion::SetTorNode => (!value.is_empty()).then_some(Val::Bool(true)),
    })
}

fn not_int(value: &str) -> String {
    format!("{value:?} is not an integer")
}

pub(crate) fn convert_bool(value: &str) -> Option<bool> {
    let lower = value.to_ascii_lowercase();
    match lower.as_str() {
        "y" | "yes" | "true" | "enabled" | "1" => Some(true),
        "n" | "no" | "false" | "disabled" | "0" => Some(false),
        _ => None,
    }
}

pub(crate) fn validate_to_none(value: &str) -> Option<&str> {
    if value.is_empty() || value == "0" || value == "unknown" { None } else { Some(value) }
}

/// Python's `int(text)`: surrounding white space, a sign, digits with single underscores.
pub(crate) fn py_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        match b {
            b'0'..=b'9' => v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?,
            b'_' => {}
            _ => return None,
        }
    }
    Some(if negative { -v } else { v })
}

/// Python's `float(text)` for finite values.
pub(crate) fn py_float(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t.contains("__") {
        return None;
    }
    let cleaned: Cow<'_, str> =
        if t.contains('_') { Cow::Owned(t.replace('_', "")) } else { Cow::Borrowed(t) };
    let named = |word: &[u8]| cleaned.as_bytes().windows(3).any(|w| w.eq_ignore_ascii_case(word));
    if named(b"inf") || named(b"nan") {
        return None;
    }
    cleaned.parse::<f64>().ok().filter(|f| f.is_finite())
}

pub(crate) fn validate_ip(value: &str) -> Option<IpAddr> {
    if value == "0.0.0.0" || value.contains('/') {
        return None;
    }
    value.trim().parse::<IpAddr>().ok()
}

pub(crate) fn validate_network(value: &str) -> bool {
    if !value.contains('/') {
        return false;
    }
    let Some((address, prefix)) = value.trim().split_once('/') else {
        return false;
    };
    match (address.parse::<IpAddr>(), prefix.parse::<u8>()) {
        (Ok(address), Ok(prefix)) => neretva_net::Cidr::truncating(address, prefix).is_ok(),
        _ => false,
    }
}

/// IntelMQ 3.5.0's `FQDN.is_valid(value, sanitize=True)`: whatever the domain-name sanitiser
/// accepts (IntelMQ's check is IDNA encoding, so `not a host!` passes), which is also what
/// setting the field then requires.
pub(crate) fn validate_fqdn(value: &str) -> bool {
    !value.is_empty() && Event::prepare(FieldId::SOURCE_FQDN, value).is_ok()
}

fn by_webshell(tag: &str, webshell: &'static str, other: &'static str) -> Option<Val<'static>> {
    Some(Val::Str(Cow::Borrowed(if tag.contains("webshell") { webshell } else { other })))
}

fn force_base64(value: &str) -> Option<Val<'_>> {
    if value.is_empty() {
        return None;
    }
    use base64::Engine as _;
    if base64::engine::general_purpose::STANDARD.decode(value).is_ok() {
        Some(Val::Str(Cow::Borrowed(value)))
    } else {
        Some(Val::Str(Cow::Owned(base64::engine::general_purpose::STANDARD.encode(value))))
    }
}

/// The CVE ids (`cve-NNNN-NNNN`) among the `;`-separated tags, sorted and joined with `;`.
pub(crate) fn extract_cve_from_tag(tag: &str) -> Option<String> {
    let mut cves: Vec<&str> = tag
        .split(';')
        .filter(|t| {
            t.strip_prefix("cve-").and_then(|rest| rest.split_once('-')).is_some_and(|(year, num)| {
                !year.is_empty()
                    && !num.is_empty()
                    && year.bytes().all(|b| b.is_ascii_digit())
                    && num.bytes().all(|b| b.is_ascii_digit())
            })
        })
        .collect();
    if cves.is_empty() {
        return None;
    }
    cves.sort_unstable();
    cves.dedup();
    Some(cves.join(";"))
}

fn convert_http_host_and_url<'a>(value: &'a str, row: &'a dyn Row, columns: &RowColumns) -> Val<'a> {
    // As IntelMQ 3.5.0: the first of these columns that is present and not empty.
    let hostname = [columns.cc_dns, columns.http_host, columns.hostname, columns.ip]
        .into_iter()
        .flatten()
        .filter_map(|i| row.get(i))
        .find(|host| !host.is_empty())
        .unwrap_or("");
    let path = if let Some(i) = columns.url {
        row.get(i).unwrap_or("")
    } else if let Some(i) = columns.http_url {
        row.get(i).unwrap_or("")
    } else {
        ""
    };
    if hostname.is_empty() || path.is_empty() {
        return Val::Str(Cow::Borrowed(value));
    }
    // Remove a leading request method and a trailing protocol: `GET /x HTTP/1.1` → `/x`.
    let path = match path.find('/') {
        Some(i) => &path[i..],
        None => "",
    };
    let path = path.split(char::is_whitespace).next().unwrap_or(path);
    let application = columns
        .application
        .and_then(|i| row.get(i))
        .filter(|app| matches!(*app, "http" | "https"))
        .unwrap_or("http");
    Val::Str(Cow::Owned(format!("{application}://{hostname}{path}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fields(Vec<&'static str>);

    impl Row for Fields {
        fn get(&self, index: usize) -> Option<&str> {
            self.0.get(index).copied()
        }
    }

    fn run(conversion: Conversion, value: &str) -> Result<Option<Val<'_>>, String> {
        static EMPTY: Fields = Fields(Vec::new());
        apply(conversion, value, &EMPTY, &RowColumns::default())
    }

    #[test]
    fn names_round_trip() {
        for c in Conversion::ALL {
            assert_eq!(Conversion::from_name(c.name()), Some(c));
        }
        assert_eq!(Conversion::from_name("nope"), None);
    }

    #[test]
    fn scalar_conversions() {
        let t = |text: &'static str| Some(Val::Str(text.into()));
        let cases: Vec<(Conversion, &str, Option<Val<'static>>)> = vec![
            (Conversion::ConvertBool, "Y", Some(Val::Bool(true))),
            (Conversion::ConvertBool, "disabled", Some(Val::Bool(false))),
            (Conversion::ConvertBool, "maybe", None),
            (Conversion::ValidateToNone, "0", None),
            (Conversion::ValidateToNone, "unknown", None),
            (Conversion::ValidateToNone, "x", t("x")),
            (Conversion::ConvertInt, " 42 ", Some(Val::Int(42))),
            (Conversion::ConvertInt, "", None),
            (Conversion::InvalidateZero, "0", None),
            (Conversion::InvalidateZero, "64512", Some(Val::Int(64512))),
            (Conversion::ConvertFloat, "2.5", Some(Val::Float(2.5))),
            (Conversion::ValidateIp, "0.0.0.0", None),
            (Conversion::ValidateIp, "10.0.0.0/8", None),
            (Conversion::ValidateIp, "::1", Some(Val::Ip("::1".parse().unwrap(), "::1"))),
            (Conversion::ValidateNetwork, "10.0.0.0/8", t("10.0.0.0/8")),
            (Conversion::ValidateNetwork, "10.0.0.1", None),
            (Conversion::ValidateFqdn, "Example.COM.", t("Example.COM.")),
            (Conversion::ValidateFqdn, "1.2.3.4", None),
            (Conversion::ValidateFqdn, "a..b", None),
            // IntelMQ's domain-name check is IDNA encoding, which takes this too.
            (Conversion::ValidateFqdn, "not a host!", t("not a host!")),
            (Conversion::ValidateFqdn, "http://example.com", None),
            (Conversion::ScanExchangeType, "exchange;cve-2021-26855", t("vulnerable-system")),
            (Conversion::ScanExchangeType, "exchange;webshell", t("system-compromise")),
            (Conversion::ScanExchangeTaxonomy, "exchange", t("vulnerable")),
            (Conversion::ScanExchangeIdentifier, "exchange", t("vulnerable-exchange-server")),
            (
                Conversion::ScanExchangeIdentifier,
                "exchange;webshell;cve-2021-26855",
                t("exchange-server-webshell"),
            ),
            (Conversion::ConvertDate, "Tue, 01 Aug 2018 00:00:00 GMT", t("2018-08-01T00:00:00+00:00")),
            (Conversion::ConvertDate, "garbage", None),
            (Conversion::ConvertDateUtc, "2021-01-01 10:00:00", t("2021-01-01T10:00:00+00:00")),
            (Conversion::ForceBase64, "aGVsbG8=", t("aGVsbG8=")),
            (Conversion::ForceBase64, "hello!", t("aGVsbG8h")),
            (Conversion::ForceBase64, "", None),
            (
                Conversion::ExtractCveFromTag,
                "ssh;cve-2023-38408;cve-2008-3844;cve-2023-38408",
                t("cve-2008-3844;cve-2023-38408"),
            ),
            (Conversion::ExtractCveFromTag, "ssh", None),
            (Conversion::SetTorNode, "x", Some(Val::Bool(true))),
            (Conversion::SetTorNode, "", None),
            (
                Conversion::AddUtcToTimestamp,
                "2010-02-10 00:00:00",
                Some(Val::Time(time::macros::datetime!(2010-02-10 00:00:00 UTC))),
            ),
        ];
        for (conversion, input, expected) in cases {
            assert_eq!(run(conversion, input), Ok(expected), "{conversion:?} of {input:?}");
        }
        for (conversion, input) in [
            (Conversion::ConvertInt, "4.2"),
            (Conversion::InvalidateZero, "x"),
            (Conversion::ConvertFloat, "nan"),
        ] {
            assert!(run(conversion, input).is_err(), "{conversion:?} of {input:?}");
        }
    }

    #[test]
    fn row_aware_conversions() {
        let header: Vec<String> =
            ["http_host", "http_url", "application", "category", "detail"].map(String::from).to_vec();
        let columns = RowColumns::from_header(&header);
        let row = Fields(vec!["example.com", "GET /a/b?c HTTP/1.1", "https", "", "the detail"]);
        assert_eq!(
            apply(Conversion::ConvertHttpHostAndUrl, "GET /a/b?c HTTP/1.1", &row, &columns),
            Ok(Some(Val::Str("https://example.com/a/b?c".into())))
        );
        // Without a host column, IntelMQ 3.5.0 takes `hostname`, then `ip`, and keeps what follows
        // the URL's first slash (so a full URL keeps its `//host`).
        let header: Vec<String> = ["ip", "hostname", "url"].map(String::from).to_vec();
        let exchange = RowColumns::from_header(&header);
        let url = "https://mail.example.ba/owa/auth/x.aspx";
        assert_eq!(
            apply(Conversion::ConvertHttpHostAndUrl, url, &Fields(vec!["198.51.100.20", "", url]), &exchange),
            Ok(Some(Val::Str("http://198.51.100.20//mail.example.ba/owa/auth/x.aspx".into())))
        );
        assert_eq!(
            apply(
                Conversion::ConvertHttpHostAndUrl,
                "/x",
                &Fields(vec!["198.51.100.20", "h.example", "/x"]),
                &exchange
            ),
            Ok(Some(Val::Str("http://h.example/x".into())))
        );
        assert_eq!(
            apply(Conversion::CategoryOrDetail, "", &row, &columns),
            Ok(Some(Val::Str("the detail".into())))
        );
        assert_eq!(
            apply(Conversion::CategoryOrDetail, "cat", &row, &columns),
            Ok(Some(Val::Str("cat".into())))
        );
        let row = Fields(vec!["", "/x", "", "", ""]);
        assert_eq!(
            apply(Conversion::ConvertHttpHostAndUrl, "/x", &row, &columns),
            Ok(Some(Val::Str("/x".into())))
        );
    }
}
