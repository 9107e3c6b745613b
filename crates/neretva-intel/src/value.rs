//! Attribute values: checked for their MISP type and stored in one canonical form, so equal
//! values compare equal, correlate, and match incident observables and feed events.
//!
//! | types | canonical form |
//! |---|---|
//! | `ip-src`, `ip-dst` | an address as Rust prints it (RFC 5952 for IPv6) or a network `a.b.c.d/n` without host bits |
//! | `ip-src\|port`, `ip-dst\|port` | `address\|port`; `1.2.3.4:80` and `[2001:db8::1]:80` are read too |
//! | `domain`, `hostname` | lower-case ASCII, IDNA for international names, no trailing dot |
//! | `domain\|ip`, `hostname\|port` | both halves as above |
//! | `url` | the incident observables' URL form (scheme and host lower case, default port dropped) |
//! | `uri`, `link` | trimmed; `link` must be an `http(s)://` URL |
//! | `email*`, `target-email`, `whois-registrant-email`, `dns-soa-email` (addresses) | `local@domain`, lower case |
//! | `md5`, `sha1`, `sha224`, `sha256`, `sha384`, `sha512`, `sha512/224`, `sha512/256`, `imphash`, `authentihash`, `pehash`, `x509-fingerprint-*` | lower-case hex of the algorithm's length |
//! | `ssdeep`, `impfuzzy` | `blocksize:hash:hash` |
//! | `tlsh` | lower-case hex, 70 digits or `t1` and 70 digits |
//! | `filename\|<hash>` | the file name trimmed, then the hash as above |
//! | `AS` | the number alone (`64500`), as MISP stores it; `AS64500` and asdot are read |
//! | `port` | a number from 0 to 65535 |
//! | `mac-address` | six lower-case hex pairs joined by `:` |
//! | `vulnerability` | upper-case `CVE-YYYY-NNNN` (other identifiers are kept trimmed) |
//! | `boolean` | `1` or `0` |
//! | `counter`, `size-in-bytes` | a non-negative integer |
//! | `float` | a finite number |
//! | every other type | the text as given, if not empty |
//!
//! Every value is at most [`MAX_VALUE_BYTES`] long and has no NUL character.

use std::net::IpAddr;

use neretva_incident::observable::{Observable, ObservableKind};
use neretva_net::{Asn, Cidr};

/// The longest attribute value, in bytes (MISP's text column holds 65,535).
pub const MAX_VALUE_BYTES: usize = 65_535;

/// Checks `value` for the MISP type `attr_type` and returns its canonical form, or why not.
pub fn canonicalise(attr_type: &str, value: &str) -> Result<String, String> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!("is longer than {MAX_VALUE_BYTES} bytes"));
    }
    if value.contains('\0') {
        return Err("contains a NUL character".into());
    }
    let text = value.trim();
    if text.is_empty() {
        return Err("is empty".into());
    }
    match attr_type {
        "ip-src" | "ip-dst" => ip_or_network(text),
        "ip-src|port" | "ip-dst|port" => ip_port(text),
        "domain" | "hostname" => domain(text),
        "domain|ip" => {
            let (name, address) = split(text)?;
            Ok(format!("{}|{}", domain(name)?, ip(address)?))
        }
        "hostname|port" => {
            let (name, port_text) = split(text)
                .or_else(|_| text.rsplit_once(':').ok_or_else(|| "expected hostname|port".to_owned()))?;
            Ok(format!("{}|{}", domain(name)?, port(port_text)?))
        }
        "url" => observable(ObservableKind::Url, text),
        "link" => {
            let lower = text.to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://"))
                || text.contains(char::is_whitespace)
            {
                return Err("is not an http:// or https:// link".into());
            }
            Ok(text.to_owned())
        }
        "uri" => {
            if text.contains(char::is_whitespace) {
                return Err("contains white space".into());
            }
            Ok(text.to_owned())
        }
        "email"
        | "email-src"
        | "email-dst"
        | "email-reply-to"
        | "target-email"
        | "whois-registrant-email"
        | "dns-soa-email" => observable(ObservableKind::Email, text),
        "AS" => text
            .parse::<Asn>()
            .map(|asn| asn.get().to_string())
            .map_err(|_| "is not an AS number (64500, AS64500 or asdot 1.10)".to_owned()),
        "port" => port(text),
        "mac-address" => mac(text),
        "vulnerability" => {
            if text.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("cve-")) {
                observable(ObservableKind::Cve, text)
            } else {
                Ok(text.to_owned())
            }
        }
        "boolean" => match text.to_ascii_lowercase().as_str() {
            "1" | "true" => Ok("1".into()),
            "0" | "false" => Ok("0".into()),
            _ => Err("is not a boolean (1, 0, true or false)".into()),
        },
        "counter" | "size-in-bytes" => match text.parse::<u64>() {
            Ok(number) => Ok(number.to_string()),
            Err(_) => Err("is not a non-negative integer".into()),
        },
        "float" => match text.parse::<f64>() {
            Ok(number) if number.is_finite() => Ok(text.to_owned()),
            _ => Err("is not a finite number".into()),
        },
        _ => {
            if let Some(algorithm) = attr_type.strip_prefix("filename|") {
                let (name, digest) =
                    text.rsplit_once('|').ok_or_else(|| format!("expected filename|{algorithm}"))?;
                let name = filename(name)?;
                return Ok(format!("{name}|{}", hash(algorithm, digest.trim())?));
            }
            if attr_type == "filename" {
                return filename(text);
            }
            if is_hash_type(attr_type) {
                return hash(attr_type, text);
            }
            Ok(value.to_owned())
        }
    }
}

/// Whether the type holds one digest (its value is checked as one).
pub fn is_hash_type(attr_type: &str) -> bool {
    hex_digits(attr_type).is_some() || matches!(attr_type, "ssdeep" | "impfuzzy" | "tlsh")
}

/// The hex digits of a fixed-length digest type.
fn hex_digits(attr_type: &str) -> Option<usize> {
    Some(match attr_type {
        "md5" | "imphash" | "x509-fingerprint-md5" => 32,
        "sha1" | "pehash" | "x509-fingerprint-sha1" => 40,
        "sha224" | "sha512/224" => 56,
        "sha256" | "authentihash" | "x509-fingerprint-sha256" | "sha512/256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return None,
    })
}

fn hash(algorithm: &str, text: &str) -> Result<String, String> {
    if let Some(digits) = hex_digits(algorithm) {
        let text = if algorithm.starts_with("x509-") { text.replace(':', "") } else { text.to_owned() };
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("is not a hexadecimal {algorithm} digest"));
        }
        if text.len() != digits {
            return Err(format!("has {} hex digits; {algorithm} has {digits}", text.len()));
        }
        return Ok(text.to_ascii_lowercase());
    }
    match algorithm {
        "ssdeep" | "impfuzzy" => {
            let mut parts = text.splitn(3, ':');
            let valid =
                parts.next().is_some_and(|size| !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()))
                    && parts.next().is_some_and(base64ish)
                    && parts.next().is_some_and(base64ish);
            if valid {
                Ok(text.to_owned())
            } else {
                Err(format!("is not an {algorithm} hash (blocksize:hash:hash)"))
            }
        }
        "tlsh" => {
            let lower = text.to_ascii_lowercase();
            let digits = lower.strip_prefix("t1").unwrap_or(&lower);
            if digits.len() == 70 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(lower)
            } else {
                Err("is not a TLSH digest (70 hex digits, optionally after T1)".into())
            }
        }
        other => Err(format!("{other} is not a hash type")),
    }
}

fn base64ish(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b',')
}

fn observable(kind: ObservableKind, text: &str) -> Result<String, String> {
    Observable::parse(kind, text)
        .map(|observable| observable.value().to_owned())
        .map_err(|error| error.reason)
}

fn split(text: &str) -> Result<(&str, &str), String> {
    text.split_once('|')
        .map(|(a, b)| (a.trim(), b.trim()))
        .ok_or_else(|| "expected two values joined by |".into())
}

fn ip(text: &str) -> Result<String, String> {
    let bare = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    match bare.parse::<IpAddr>() {
        Ok(address) => Ok(address.to_string()),
        Err(_) => Err(format!("{text:?} is not an IP address")),
    }
}

fn ip_or_network(text: &str) -> Result<String, String> {
    if text.contains('/') {
        let network: Cidr = text.parse().map_err(|error: neretva_net::NetError| error.to_string())?;
        if network.prefix_len() == network.max_prefix_len() {
            return Ok(network.network().to_string());
        }
        return Ok(network.to_string());
    }
    ip(text)
}

fn ip_port(text: &str) -> Result<String, String> {
    let (address, port_text) = match text.split_once('|') {
        Some(pair) => pair,
        None => match text.strip_prefix('[').and_then(|rest| rest.split_once("]:")) {
            Some(pair) => pair,
            None => match text.rsplit_once(':') {
                Some((address, port)) if address.parse::<std::net::Ipv4Addr>().is_ok() => (address, port),
                _ => return Err("expected ip|port".into()),
            },
        },
    };
    Ok(format!("{}|{}", ip(address.trim())?, port(port_text.trim())?))
}

fn port(text: &str) -> Result<String, String> {
    match text.trim().parse::<u16>() {
        Ok(number) => Ok(number.to_string()),
        Err(_) => Err(format!("{text:?} is not a port (0 to 65535)")),
    }
}

fn domain(text: &str) -> Result<String, String> {
    observable(ObservableKind::Domain, text)
}

fn filename(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("has an empty file name".into());
    }
    if text.chars().any(char::is_control) {
        return Err("has control characters in the file name".into());
    }
    Ok(text.to_owned())
}

fn mac(text: &str) -> Result<String, String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ':' | '-' | '.')).collect();
    if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("is not a MAC address (six hex pairs)".into());
    }
    let lower = digits.to_ascii_lowercase();
    let pairs: Vec<&str> = (0..6).map(|i| &lower[i * 2..i * 2 + 2]).collect();
    Ok(pairs.join(":"))
}

/// One comparable part of a canonical value: what correlation and warning lists look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// An address (a host network) or a network.
    Network(Cidr),
    /// A host or domain name (of a domain, a hostname, a URL's host).
    Host(&'a str),
    /// A value compared as it is (hashes, URLs, e-mail addresses, file names, ...).
    Exact(&'a str),
}

/// Types whose values never correlate: free text and values too common to mean anything.
pub const NON_CORRELATING_TYPES: &[&str] = &[
    "boolean",
    "comment",
    "cortex",
    "counter",
    "datetime",
    "float",
    "gender",
    "hex",
    "http-method",
    "nationality",
    "other",
    "port",
    "size-in-bytes",
    "text",
];

/// The parts of a canonical value of `attr_type`: composite values give one per half (a
/// `domain|ip` its name and its address), a URL its host and itself, a value of a
/// non-correlating type none.
pub fn parts<'a>(attr_type: &str, value: &'a str) -> Vec<Part<'a>> {
    if NON_CORRELATING_TYPES.contains(&attr_type) {
        return Vec::new();
    }
    let network = |text: &str| text.parse::<Cidr>().ok().map(Part::Network);
    match attr_type {
        "ip-src" | "ip-dst" => network(value).into_iter().collect(),
        "ip-src|port" | "ip-dst|port" => {
            value.split_once('|').and_then(|(ip, _)| network(ip)).into_iter().collect()
        }
        "domain" | "hostname" => vec![Part::Host(value)],
        "hostname|port" => value.split_once('|').map(|(name, _)| Part::Host(name)).into_iter().collect(),
        "domain|ip" => match value.split_once('|') {
            Some((name, ip)) => std::iter::once(Part::Host(name)).chain(network(ip)).collect(),
            None => Vec::new(),
        },
        "url" => {
            let mut out = vec![Part::Exact(value)];
            if let Some(host) = url_host(value) {
                match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
                    Ok(address) => out.push(Part::Network(Cidr::host(address))),
                    Err(_) => out.push(Part::Host(host)),
                }
            }
            out
        }
        _ if attr_type.contains('|') => {
            value.split('|').filter(|half| !half.is_empty()).map(Part::Exact).collect()
        }
        _ => vec![Part::Exact(value)],
    }
}

/// The host of a canonical URL.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if !host_port.ends_with(']') && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host_port,
    };
    (!host.is_empty()).then_some(host)
}

/// The MISP type an incident observable corresponds to.
pub fn misp_type_of_observable(kind: ObservableKind) -> &'static str {
    match kind {
        ObservableKind::Ipv4 | ObservableKind::Ipv6 | ObservableKind::Cidr => "ip-dst",
        ObservableKind::Domain => "domain",
        ObservableKind::Url => "url",
        ObservableKind::Email => "email-src",
        ObservableKind::Md5 => "md5",
        ObservableKind::Sha1 => "sha1",
        ObservableKind::Sha256 => "sha256",
        ObservableKind::Sha512 => "sha512",
        ObservableKind::Asn => "AS",
        ObservableKind::Filename => "filename",
        ObservableKind::Cve => "vulnerability",
    }
}

/// The harmonised feed-event fields that correlate, with the MISP type their values read as.
pub const FEED_EVENT_FIELDS: &[(&str, &str)] = &[
    ("source.ip", "ip-src"),
    ("source.network", "ip-src"),
    ("source.fqdn", "hostname"),
    ("source.url", "url"),
    ("source.account", "email-src"),
    ("destination.ip", "ip-dst"),
    ("destination.network", "ip-dst"),
    ("destination.fqdn", "hostname"),
    ("destination.url", "url"),
    ("malware.hash.md5", "md5"),
    ("malware.hash.sha1", "sha1"),
    ("malware.hash.sha256", "sha256"),
];

/// The values of a harmonised feed event that correlate, as (MISP type, canonical value).
pub fn feed_event_values(event: &neretva_event::Event) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (field, attr_type) in FEED_EVENT_FIELDS {
        let Some(value) = event.get(field) else { continue };
        let text = value.to_string();
        if let Ok(canonical) = canonicalise(attr_type, &text) {
            out.push((*attr_type, canonical));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(cases: &[(&str, &str)], expect: Expect) {
        let mut out = String::new();
        for (attr_type, value) in cases {
            let result = match canonicalise(attr_type, value) {
                Ok(value) => value,
                Err(reason) => format!("error: {reason}"),
            };
            out.push_str(&format!("{attr_type} {value:?} => {result}\n"));
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn canonical_forms() {
        check(
            &[
                ("ip-dst", " 192.0.2.1 "),
                ("ip-dst", "2001:DB8:0:0::1"),
                ("ip-src", "198.51.100.0/24"),
                ("ip-src", "198.51.100.7/24"),
                ("ip-src", "198.51.100.7/32"),
                ("ip-src", "example.com"),
                ("ip-dst|port", "192.0.2.1|8080"),
                ("ip-dst|port", "192.0.2.1:443"),
                ("ip-dst|port", "[2001:db8::1]:443"),
                ("ip-dst|port", "192.0.2.1|99999"),
                ("domain", "Example.COM."),
                ("domain", "bücher.example"),
                ("domain", "-bad-.example"),
                ("hostname", "www.example.org"),
                ("domain|ip", "example.com|192.0.2.5"),
                ("domain|ip", "example.com"),
                ("hostname|port", "mail.example.net|25"),
                ("url", "hxxp://Evil.Example:80/path?q=1"),
                ("url", "not a url"),
                ("uri", "/admin/login.php"),
                ("link", "https://www.first.org/tlp/"),
                ("link", "ftp://example.com/"),
                ("email-src", "Phisher@Example.COM"),
                ("email-dst", "no-at-sign"),
                ("md5", "D41D8CD98F00B204E9800998ECF8427E"),
                ("sha1", "abc"),
                ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("sha512", "zz"),
                (
                    "ssdeep",
                    "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO",
                ),
                ("ssdeep", "nonsense"),
                ("tlsh", "T1A5F0C8A0E2C3B4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F80"),
                ("imphash", "f34d5f2d4577ed6d9ceec516c1f5a744"),
                (
                    "filename|sha256",
                    "invoice.pdf.exe|E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                ),
                ("filename|md5", "C:\\Windows\\evil.dll|d41d8cd98f00b204e9800998ecf8427e"),
                ("filename|md5", "evil.dll"),
                ("AS", "AS64500"),
                ("AS", "1.10"),
                ("AS", "ASX"),
                ("port", "443"),
                ("mac-address", "00-1A-2B-3C-4D-5E"),
                ("vulnerability", "cve-2024-3094"),
                ("vulnerability", "GHSA-xxxx-yyyy"),
                ("boolean", "True"),
                ("counter", "-1"),
                ("float", "NaN"),
                ("text", "  free text kept as given  "),
                ("comment", "   "),
                ("x509-fingerprint-sha1", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"),
            ],
            expect![[r#"
                ip-dst " 192.0.2.1 " => 192.0.2.1
                ip-dst "2001:DB8:0:0::1" => 2001:db8::1
                ip-src "198.51.100.0/24" => 198.51.100.0/24
                ip-src "198.51.100.7/24" => error: 198.51.100.7/24 has host bits set; did you mean 198.51.100.0/24
                ip-src "198.51.100.7/32" => 198.51.100.7
                ip-src "example.com" => error: "example.com" is not an IP address
                ip-dst|port "192.0.2.1|8080" => 192.0.2.1|8080
                ip-dst|port "192.0.2.1:443" => 192.0.2.1|443
                ip-dst|port "[2001:db8::1]:443" => 2001:db8::1|443
                ip-dst|port "192.0.2.1|99999" => error: "99999" is not a port (0 to 65535)
                domain "Example.COM." => example.com
                domain "bücher.example" => xn--bcher-kva.example
                domain "-bad-.example" => error: starts or ends with a hyphen
                hostname "www.example.org" => www.example.org
                domain|ip "example.com|192.0.2.5" => example.com|192.0.2.5
                domain|ip "example.com" => error: expected two values joined by |
                hostname|port "mail.example.net|25" => mail.example.net|25
                url "hxxp://Evil.Example:80/path?q=1" => http://evil.example/path?q=1
                url "not a url" => error: is not a URL with a host
                uri "/admin/login.php" => /admin/login.php
                link "https://www.first.org/tlp/" => https://www.first.org/tlp/
                link "ftp://example.com/" => error: is not an http:// or https:// link
                email-src "Phisher@Example.COM" => phisher@example.com
                email-dst "no-at-sign" => error: has no @
                md5 "D41D8CD98F00B204E9800998ECF8427E" => d41d8cd98f00b204e9800998ecf8427e
                sha1 "abc" => error: has 3 hex digits; sha1 has 40
                sha256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" => e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                sha512 "zz" => error: is not a hexadecimal sha512 digest
                ssdeep "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO" => 96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO
                ssdeep "nonsense" => error: is not an ssdeep hash (blocksize:hash:hash)
                tlsh "T1A5F0C8A0E2C3B4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F80" => t1a5f0c8a0e2c3b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80
                imphash "f34d5f2d4577ed6d9ceec516c1f5a744" => f34d5f2d4577ed6d9ceec516c1f5a744
                filename|sha256 "invoice.pdf.exe|E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855" => invoice.pdf.exe|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                filename|md5 "C:\\Windows\\evil.dll|d41d8cd98f00b204e9800998ecf8427e" => C:\Windows\evil.dll|d41d8cd98f00b204e9800998ecf8427e
                filename|md5 "evil.dll" => error: expected filename|md5
                AS "AS64500" => 64500
                AS "1.10" => 65546
                AS "ASX" => error: is not an AS number (64500, AS64500 or asdot 1.10)
                port "443" => 443
                mac-address "00-1A-2B-3C-4D-5E" => 00:1a:2b:3c:4d:5e
                vulnerability "cve-2024-3094" => CVE-2024-3094
                vulnerability "GHSA-xxxx-yyyy" => GHSA-xxxx-yyyy
                boolean "True" => 1
                counter "-1" => error: is not a non-negative integer
                float "NaN" => error: is not a finite number
                text "  free text kept as given  " =>   free text kept as given  
                comment "   " => error: is empty
                x509-fingerprint-sha1 "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01" => abcdef0123456789abcdef0123456789abcdef01
            "#]],
        );
    }
}
