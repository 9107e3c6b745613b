//! The sanitisers and validators of the harmonisation types: text or JSON in,
//! a canonical [`Value`] out, as IntelMQ's `sanitize()` followed by
//! `is_valid()` and the field's `length` and `regex` constraints.
//!
//! Checked against IntelMQ 3.5.0 with every text input of its own harmonisation
//! tests (`intelmq/tests/lib/test_harmonization.py`), read into an event as
//! IntelMQ reads a JSON message. Deliberate differences, where Neretva's value is
//! canonical and IntelMQ keeps a valid text as it came: networks are written
//! `address/length` in lower case (`192.0.2.1` is `192.0.2.1/32`), times with
//! six digits of fraction when they have one, and defanged URL schemes (`hxxps`)
//! are refanged. A time with an offset followed by ` UTC`
//! (`2016-07-19 06:40:01+02:00 UTC`), which IntelMQ's date parser reads by
//! ignoring the word, is rejected.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use base64::Engine as _;
use neretva_net::Cidr;
use time::{OffsetDateTime, UtcOffset};

use crate::fields::{Check, FieldSpec, FieldType};
use crate::pyfmt::{self, py_strip};
use crate::taxonomy;
use crate::text::Text;
use crate::value::Value;

/// Why a value was rejected.
pub(crate) type Reason = Cow<'static, str>;

/// The registries of the `Registry` type.
pub const REGISTRIES: [&str; 5] = ["AFRINIC", "APNIC", "ARIN", "LACNIC", "RIPE"];

/// The labels the `TLP` type accepts: IntelMQ's four plus TLP 2.0's
/// `CLEAR` and `AMBER+STRICT`.
pub const TLP_LABELS: [&str; 6] = ["WHITE", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];

/// The protocol names of `protocol.transport` (IntelMQ's `iregex`).
const TRANSPORTS: &[&str] = &[
    "ip",
    "icmp",
    "igmp",
    "ggp",
    "ipencap",
    "st2",
    "tcp",
    "cbt",
    "egp",
    "igp",
    "bbn-rcc",
    "nvp",
    "nvp-ii",
    "pup",
    "argus",
    "emcon",
    "xnet",
    "chaos",
    "udp",
    "mux",
    "dcn",
    "hmp",
    "prm",
    "xns-idp",
    "trunk-1",
    "trunk-2",
    "leaf-1",
    "leaf-2",
    "rdp",
    "irtp",
    "iso-tp4",
    "netblt",
    "mfe-nsp",
    "merit-inp",
    "sep",
    "3pc",
    "idpr",
    "xtp",
    "ddp",
    "idpr-cmtp",
    "tp++",
    "il",
    "ipv6",
    "sdrp",
    "ipv6-route",
    "ipv6-frag",
    "idrp",
    "rsvp",
    "gre",
    "mhrp",
    "bna",
    "esp",
    "ah",
    "i-nlsp",
    "swipe",
    "narp",
    "mobile",
    "tlsp",
    "skip",
    "ipv6-icmp",
    "ipv6-nonxt",
    "ipv6-opts",
    "cftp",
    "sat-expak",
    "kryptolan",
    "rvd",
    "ippc",
    "sat-mon",
    "visa",
    "ipcv",
    "cpnx",
    "cphb",
    "wsn",
    "pvp",
    "br-sat-mon",
    "sun-nd",
    "wb-mon",
    "wb-expak",
    "iso-ip",
    "vmtp",
    "secure-vmtp",
    "vines",
    "ttp",
    "nsfnet-igp",
    "dgp",
    "tcf",
    "eigrp",
    "ospf",
    "sprite-rpc",
    "larp",
    "mtp",
    "ax.25",
    "ipip",
    "micp",
    "scc-sp",
    "etherip",
    "encap",
    "gmtp",
    "ifmp",
    "pnni",
    "pim",
    "aris",
    "scps",
    "qnx",
    "a/n",
    "ipcomp",
    "snp",
    "compaq-peer",
    "ipx-in-ip",
    "vrrp",
    "pgm",
    "l2tp",
    "ddx",
    "iatp",
    "st",
    "srp",
    "uti",
    "smp",
    "sm",
    "ptp",
    "isis",
    "fire",
    "crtp",
    "crdup",
    "sscopmce",
    "iplt",
    "sps",
    "pipe",
    "sctp",
    "fc",
    "divert",
];

/// Sanitises a value given as text (a CSV cell, a form field) for a field
/// that is not `extra`.
pub(crate) fn from_text(spec: &FieldSpec, text: &str) -> Result<Value, Reason> {
    let value = match spec.ty {
        FieldType::String => Value::Str(non_empty(py_strip(text))?.into()),
        FieldType::LowercaseString => Value::Str(lowercase(text)?),
        FieldType::UppercaseString => Value::Str(uppercase(text)?),
        FieldType::FQDN => Value::Str(fqdn(text)?),
        FieldType::URL => Value::Str(url(text)?.into()),
        FieldType::DateTime => {
            Value::Time(crate::datetime::parse(text).ok_or(Cow::Borrowed("is not a date and time"))?)
        }
        FieldType::Float => Value::Float(py_float(text).ok_or(Cow::Borrowed("is not a number"))?),
        FieldType::Accuracy => {
            Value::Float(accuracy(py_float(text).ok_or(Cow::Borrowed("is not a number"))?)?)
        }
        FieldType::Integer => Value::Int(py_int(text)?),
        FieldType::ASN => Value::Int(asn_text(text)?),
        FieldType::IPAddress => Value::Ip(ip(text)?),
        FieldType::IPNetwork => Value::Network(network(text)?),
        FieldType::Boolean => Value::Bool(boolean(text)?),
        FieldType::Registry => Value::Str(Text::from_static(registry(text)?)),
        FieldType::TLP => Value::Str(Text::from_static(tlp(text)?)),
        FieldType::ClassificationType => Value::Str(Text::from_static(
            taxonomy::canonical_type(text).ok_or(Cow::Borrowed("is not a classification type"))?,
        )),
        FieldType::ClassificationTaxonomy => Value::Str(Text::from_static(
            taxonomy::canonical_taxonomy(text).ok_or(Cow::Borrowed("is not a classification taxonomy"))?,
        )),
        FieldType::Base64 => {
            Value::Str(base64::engine::general_purpose::STANDARD.encode(text.as_bytes()).into())
        }
        FieldType::JSON => Value::Str(json_text(text)?.into()),
        FieldType::JSONDict => return Err(Cow::Borrowed("is not a JSON object")),
    };
    check_constraints(spec, &value)?;
    Ok(value)
}

/// Sanitises a value from an IntelMQ JSON message: numbers for Integer,
/// ASN, Float and Accuracy, booleans for Boolean, strings otherwise (numbers
/// are also accepted as text, as IntelMQ does). `null` is handled by the
/// caller.
pub(crate) fn from_json(spec: &FieldSpec, json: &serde_json::Value) -> Result<Value, Reason> {
    use serde_json::Value as J;
    let value = match (spec.ty, json) {
        (FieldType::Base64, J::String(text)) => Value::Str(base64_text(text)?.into()),
        (FieldType::JSON, J::String(text)) => Value::Str(json_text(text)?.into()),
        (FieldType::JSON, other) => Value::Str(pyfmt::json_to_string(other).into()),
        // Valid without sanitising in IntelMQ, so kept as they are.
        (FieldType::String, J::String(text)) if !text.is_empty() => Value::Str(text.as_str().into()),
        (FieldType::LowercaseString, J::String(text))
            if !text.is_empty() && !text.chars().any(char::is_uppercase) =>
        {
            Value::Str(text.as_str().into())
        }
        (FieldType::UppercaseString, J::String(text))
            if !text.is_empty() && !text.chars().any(char::is_lowercase) =>
        {
            Value::Str(text.as_str().into())
        }
        (_, J::String(text)) => return from_text(spec, text),
        (FieldType::Integer | FieldType::ASN, J::Number(number)) => {
            let i = json_integer(number)?;
            if spec.ty == FieldType::ASN { Value::Int(asn(i)?) } else { Value::Int(i) }
        }
        (FieldType::Float | FieldType::Accuracy, J::Number(number)) => {
            let f =
                number.as_f64().filter(|f| f.is_finite()).ok_or(Cow::Borrowed("is not a finite number"))?;
            if spec.ty == FieldType::Accuracy { Value::Float(accuracy(f)?) } else { Value::Float(f) }
        }
        (FieldType::Boolean, J::Bool(b)) => Value::Bool(*b),
        (FieldType::Boolean, J::Number(number)) => match number.as_u64() {
            Some(0) => Value::Bool(false),
            Some(1) => Value::Bool(true),
            _ => return Err(Cow::Borrowed("is not a boolean")),
        },
        (
            FieldType::String
            | FieldType::LowercaseString
            | FieldType::UppercaseString
            | FieldType::FQDN
            | FieldType::URL
            | FieldType::Registry
            | FieldType::TLP
            | FieldType::ClassificationType
            | FieldType::ClassificationTaxonomy,
            J::Number(number),
        ) => {
            let mut text = String::new();
            pyfmt::write_json_number(&mut text, number);
            return from_text(spec, &text);
        }
        (FieldType::String | FieldType::LowercaseString | FieldType::UppercaseString, J::Bool(b)) => {
            return from_text(spec, if *b { "True" } else { "False" });
        }
        (FieldType::Integer | FieldType::ASN, _) => {
            return Err(Cow::Borrowed("is not an integer"));
        }
        (FieldType::Float | FieldType::Accuracy, _) => {
            return Err(Cow::Borrowed("is not a number"));
        }
        (FieldType::Boolean, _) => return Err(Cow::Borrowed("is not a boolean")),
        (FieldType::JSONDict, _) => return Err(Cow::Borrowed("is not a JSON object")),
        (FieldType::IPAddress, _) => return Err(Cow::Borrowed("is not an IP address")),
        (FieldType::IPNetwork, _) => return Err(Cow::Borrowed("is not an IP network")),
        (FieldType::DateTime, _) => return Err(Cow::Borrowed("is not a date and time")),
        _ => return Err(Cow::Borrowed("is not a string")),
    };
    check_constraints(spec, &value)?;
    Ok(value)
}

/// Validates an already typed value, converting between `Int` and `Float`
/// where the field's type asks for it, times to UTC with whole
/// microseconds, and sanitising `Str` as text (except for Base64, where
/// `Str` is the base64 text, and JSON, where it is the JSON text).
pub(crate) fn from_value(spec: &FieldSpec, value: &Value) -> Result<Value, Reason> {
    let value = match (spec.ty, value) {
        (FieldType::Base64, Value::Str(text)) => {
            base64_text(text)?;
            Value::Str(text.clone())
        }
        (FieldType::JSON, Value::Str(text)) => Value::Str(json_text(text)?.into()),
        (FieldType::JSON, Value::Json(json)) => Value::Str(pyfmt::json_to_string(json).into()),
        (_, Value::Str(text)) => return from_text(spec, text),
        (_, Value::Json(json)) => return from_json(spec, json),
        (FieldType::Integer, Value::Int(i)) => Value::Int(*i),
        (FieldType::ASN, Value::Int(i)) => Value::Int(asn(*i)?),
        (FieldType::Integer | FieldType::ASN, Value::Float(f)) => {
            let i = float_to_int(*f)?;
            if spec.ty == FieldType::ASN { Value::Int(asn(i)?) } else { Value::Int(i) }
        }
        (FieldType::Float | FieldType::Accuracy, Value::Int(i)) => {
            #[allow(clippy::cast_precision_loss)]
            let f = *i as f64;
            if spec.ty == FieldType::Accuracy { Value::Float(accuracy(f)?) } else { Value::Float(f) }
        }
        (FieldType::Float, Value::Float(f)) if f.is_finite() => Value::Float(*f),
        (FieldType::Accuracy, Value::Float(f)) if f.is_finite() => Value::Float(accuracy(*f)?),
        (FieldType::Float | FieldType::Accuracy, Value::Float(_)) => {
            return Err(Cow::Borrowed("is not a finite number"));
        }
        (FieldType::Boolean, Value::Bool(b)) => Value::Bool(*b),
        (FieldType::IPAddress, Value::Ip(address)) => Value::Ip(valid_ip(*address)?),
        (FieldType::IPNetwork, Value::Network(cidr)) => Value::Network(*cidr),
        (FieldType::DateTime, Value::Time(t)) => Value::Time(normalise_time(*t)?),
        (ty, _) => {
            return Err(Cow::Owned(format!("is not a value of type {}", ty.name())));
        }
    };
    check_constraints(spec, &value)?;
    Ok(value)
}

/// Converts a time to UTC and truncates it to whole microseconds, the
/// resolution of Python's `datetime`; fails outside years 1 to 9999.
pub(crate) fn normalise_time(t: OffsetDateTime) -> Result<OffsetDateTime, Reason> {
    let utc = t.checked_to_offset(UtcOffset::UTC).ok_or(Cow::Borrowed("is out of range"))?;
    if !(1..=9999).contains(&utc.year()) {
        return Err(Cow::Borrowed("is out of range (years 1 to 9999)"));
    }
    let micros = utc.microsecond();
    utc.replace_microsecond(micros).map_err(|_| Cow::Borrowed("is out of range"))
}

/// Checks the field's `length` and `regex` constraints.
pub(crate) fn check_constraints(spec: &FieldSpec, value: &Value) -> Result<(), Reason> {
    if spec.max_len.is_none() && spec.check == Check::None {
        return Ok(());
    }
    // An integer with only a length to keep (`source.port`): its digits are counted, not
    // written out.
    if let (Value::Int(i), Some(max), Check::None) = (value, spec.max_len, spec.check) {
        let chars =
            i.unsigned_abs().checked_ilog10().map_or(1, |digits| digits as usize + 1) + usize::from(*i < 0);
        if chars > max {
            return Err(Cow::Owned(format!("is too long ({chars} characters, at most {max})")));
        }
        return Ok(());
    }
    let owned;
    let text: &str = match value {
        Value::Str(text) => text,
        other => {
            owned = other.to_string();
            &owned
        }
    };
    if let Some(max) = spec.max_len {
        // Characters, as Python's len(); bytes bound characters from above.
        if text.len() > max {
            let chars = text.chars().count();
            if chars > max {
                return Err(Cow::Owned(format!("is too long ({chars} characters, at most {max})")));
            }
        }
    }
    let ok = match spec.check {
        Check::None => true,
        Check::NoTrailingDot => !text.contains('\n') && !text.ends_with('.'),
        Check::Alnum2 => text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphanumeric()),
        Check::EventHash => {
            !text.is_empty() && text.bytes().all(|b| matches!(b, b'A'..=b'F' | b'0'..=b'9' | b'.' | b'/'))
        }
        Check::PrintableAscii => !text.is_empty() && text.bytes().all(|b| (b' '..=b'~').contains(&b)),
        Check::MispUuid => {
            let b = text.as_bytes();
            b.len() == 36
                && b.iter().enumerate().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => *c == b'-',
                    _ => c.is_ascii_lowercase() || c.is_ascii_digit(),
                })
        }
        Check::Severity => {
            matches!(text, "critical" | "high" | "medium" | "low" | "info" | "undefined")
        }
        Check::Transport => is_transport(text),
    };
    if ok {
        Ok(())
    } else {
        Err(Cow::Owned(format!("does not match {}", spec.regex.unwrap_or("the field's pattern"))))
    }
}

fn is_transport(text: &str) -> bool {
    let b = text.as_bytes();
    // "ax.25" is a regular expression: the dot matches any character.
    if b.len() == 5 && b[..2].eq_ignore_ascii_case(b"ax") && b.ends_with(b"25") {
        return true;
    }
    TRANSPORTS.iter().any(|transport| transport.eq_ignore_ascii_case(text))
}

fn non_empty(text: &str) -> Result<&str, Reason> {
    if text.is_empty() { Err(Cow::Borrowed("is empty")) } else { Ok(text) }
}

fn lowercase(text: &str) -> Result<Text, Reason> {
    let text = non_empty(py_strip(text))?;
    if text.is_ascii() {
        Ok(Text::ascii_case(text, false))
    } else {
        Ok(non_empty(py_strip(&text.to_lowercase()))?.into())
    }
}

fn uppercase(text: &str) -> Result<Text, Reason> {
    let text = non_empty(py_strip(text))?;
    if text.is_ascii() {
        Ok(Text::ascii_case(text, true))
    } else {
        Ok(non_empty(py_strip(&text.to_uppercase()))?.into())
    }
}

/// IntelMQ's `FQDN`: strip, remove trailing dots, IDNA to ASCII, lower case;
/// then not an IP address, not a URL, no leading dot.
pub(crate) fn fqdn(text: &str) -> Result<Text, Reason> {
    // White space before a trailing dot is removed too, so that the result
    // is stable (IntelMQ would keep "a ." as "a ").
    let stripped = py_strip(text);
    // Most names end in a letter or digit: nothing to trim then.
    let stripped = if stripped.as_bytes().last().is_some_and(|&b| b > b' ' && b < 0x80 && b != b'.') {
        stripped
    } else {
        stripped.trim_end_matches(|c| c == '.' || pyfmt::is_py_space(c))
    };
    // Leading dots go too, as in IntelMQ (".example.com" is example.com),
    // and white space after them, so that the result is stable (". a" is a).
    let stripped = stripped.trim_start_matches(|c| c == '.' || pyfmt::is_py_space(c));
    if stripped.is_empty() {
        return Err(Cow::Borrowed("is not a domain name"));
    }
    let invalid = |reason| Cow::Owned(format!("is not a domain name: {reason}"));
    let ascii = if stripped.is_ascii() {
        // The common case, without building a new string first.
        crate::idna::check_ascii_labels(stripped).map_err(invalid)?;
        Text::ascii_case(stripped, false)
    } else {
        let mut ascii = crate::idna::to_ascii(stripped).map_err(invalid)?;
        ascii.make_ascii_lowercase();
        Text::from(ascii)
    };
    if ascii.starts_with('.') {
        return Err(Cow::Borrowed("is not a domain name: starts with a dot"));
    }
    if ascii.parse::<IpAddr>().is_ok() {
        return Err(Cow::Borrowed("is an IP address, not a domain name"));
    }
    if ascii.contains(['/', '?', '#']) || url_scheme(&ascii).is_some() {
        return Err(Cow::Borrowed("is a URL, not a domain name"));
    }
    // As IntelMQ: no colon, so that "10.0.0.1:8080" is not taken for a name.
    if ascii.contains(':') {
        return Err(Cow::Borrowed("is not a domain name: has a colon (an address with a port?)"));
    }
    Ok(ascii)
}

/// The scheme of a URL as Python's `urlsplit` finds it: letters, digits,
/// `+`, `-` and `.` before the first colon, starting with a letter.
fn url_scheme(text: &str) -> Option<&str> {
    let colon = text.find(':')?;
    let candidate = &text[..colon];
    let mut bytes = candidate.bytes();
    let first = bytes.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')).then_some(candidate)
}

/// The network location of a URL as Python's `urlsplit` finds it.
fn url_netloc(text: &str) -> Result<&str, Reason> {
    let text = text.trim_start_matches(|c: char| c <= ' ');
    let rest = match url_scheme(text) {
        Some(scheme) => &text[scheme.len() + 1..],
        None => text,
    };
    let Some(after) = rest.strip_prefix("//") else {
        return Ok("");
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let netloc = &after[..end];
    if netloc.contains('[') != netloc.contains(']') {
        return Err(Cow::Borrowed("is not a URL: unbalanced brackets in the host"));
    }
    Ok(netloc)
}

/// IntelMQ's `URL`: strip, `hxxp://` → `http://`, `hxxps://` → `https://`,
/// `file:` without a host gets `localhost`; the URL must have a host.
pub(crate) fn url(text: &str) -> Result<String, Reason> {
    let stripped = py_strip(text);
    let mut value = if stripped.contains("hxxp") {
        stripped.replace("hxxp://", "http://").replace("hxxps://", "https://")
    } else {
        stripped.to_owned()
    };
    if url_scheme(&value).is_some_and(|s| s.eq_ignore_ascii_case("file")) && url_netloc(&value)?.is_empty() {
        let colon = value.find(':').unwrap_or(0);
        let mut path = value[colon + 1..].to_owned();
        if let Some(stripped_path) = path.strip_prefix("//") {
            path = stripped_path.to_owned();
        }
        if !path.is_empty() && !path.starts_with('/') {
            path.insert(0, '/');
        }
        value = format!("file://localhost{path}");
    }
    if url_netloc(&value)?.is_empty() {
        return Err(Cow::Borrowed("is not a URL with a host"));
    }
    Ok(value)
}

/// Python's `float(str)`: white space around, underscores between digits,
/// `inf` and `nan` (which are rejected here).
pub(crate) fn py_float(text: &str) -> Option<f64> {
    let text = py_strip(text);
    let parsed = if text.contains('_') {
        text.parse::<f64>().ok().or_else(|| without_underscores(text)?.parse::<f64>().ok())
    } else {
        text.parse::<f64>().ok()
    }?;
    parsed.is_finite().then_some(parsed)
}

/// The text with single underscores between digits removed, or None when an
/// underscore is elsewhere.
fn without_underscores(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let before = i.checked_sub(1).and_then(|j| bytes.get(j));
            let after = bytes.get(i + 1);
            if !before.is_some_and(u8::is_ascii_digit) || !after.is_some_and(u8::is_ascii_digit) {
                return None;
            }
        }
    }
    Some(text.replace('_', ""))
}

/// Python's `int(str)` limited to `i64`.
pub(crate) fn py_int(text: &str) -> Result<i64, Reason> {
    let text = py_strip(text);
    let cleaned;
    let text = if text.contains('_') {
        cleaned = without_underscores(text).ok_or(Cow::Borrowed("is not an integer"))?;
        cleaned.as_str()
    } else {
        text
    };
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Cow::Borrowed("is not an integer"));
    }
    text.strip_prefix('+')
        .unwrap_or(text)
        .parse::<i64>()
        .map_err(|_| Cow::Borrowed("is out of range for a 64-bit integer"))
}

fn json_integer(number: &serde_json::Number) -> Result<i64, Reason> {
    if let Some(i) = number.as_i64() {
        return Ok(i);
    }
    if number.is_u64() {
        return Err(Cow::Borrowed("is out of range for a 64-bit integer"));
    }
    float_to_int(number.as_f64().unwrap_or(f64::NAN))
}

fn float_to_int(f: f64) -> Result<i64, Reason> {
    #[allow(clippy::cast_precision_loss)]
    let in_range = f.is_finite() && f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64;
    if in_range {
        #[allow(clippy::cast_possible_truncation)]
        Ok(f as i64)
    } else {
        Err(Cow::Borrowed("is not an integer"))
    }
}

fn accuracy(f: f64) -> Result<f64, Reason> {
    if (0.0..=100.0).contains(&f) { Ok(f) } else { Err(Cow::Borrowed("is not between 0 and 100")) }
}

/// The largest autonomous system number.
pub const MAX_ASN: i64 = 4_294_967_295;

fn asn(i: i64) -> Result<i64, Reason> {
    if (1..=MAX_ASN).contains(&i) {
        Ok(i)
    } else {
        Err(Cow::Borrowed("is not an AS number (1 to 4294967295)"))
    }
}

fn asn_text(text: &str) -> Result<i64, Reason> {
    let stripped = py_strip(text);
    let digits = match stripped.get(..2) {
        Some(prefix) if prefix.eq_ignore_ascii_case("as") => &stripped[2..],
        _ => stripped,
    };
    let i = py_int(digits).map_err(|_| Cow::Borrowed("is not an AS number"))?;
    asn(i)
}

fn valid_ip(address: IpAddr) -> Result<IpAddr, Reason> {
    if address == IpAddr::V4(Ipv4Addr::UNSPECIFIED) {
        Err(Cow::Borrowed("is the unspecified address 0.0.0.0"))
    } else {
        Ok(address)
    }
}

/// IntelMQ's `IPAddress`: strip, brackets and an IPv6 zone removed, a /32
/// or /128 network accepted as its address; 0.0.0.0 is rejected.
pub(crate) fn ip(text: &str) -> Result<IpAddr, Reason> {
    let mut text = py_strip(text);
    // An address as an integer in decimal ("2130706433" is 127.0.0.1), as IntelMQ reads it:
    // digits without a leading zero, IPv4 up to 2³² − 1 and IPv6 above.
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'))
    {
        let number: u128 = text.parse().map_err(|_| Cow::Borrowed("is not an IP address"))?;
        let address = match u32::try_from(number) {
            Ok(v4) => IpAddr::V4(v4.into()),
            Err(_) => IpAddr::V6(number.into()),
        };
        return valid_ip(address);
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        text = inner;
    }
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address = address.split_once('%').map_or(address, |(a, _zone)| a);
    let parsed: IpAddr = address.parse().map_err(|_| Cow::Borrowed("is not an IP address"))?;
    if let Some(prefix) = prefix {
        let cidr =
            network_from_parts(parsed, prefix, true).map_err(|_| Cow::Borrowed("is not an IP address"))?;
        if cidr.prefix_len() != cidr.max_prefix_len() {
            return Err(Cow::Borrowed("is a network, not an IP address"));
        }
    }
    valid_ip(parsed)
}

/// IntelMQ's `IPNetwork`: `address/length`, `address/netmask` (IPv4), or a
/// bare address; host bits are cleared.
pub(crate) fn network(text: &str) -> Result<Cidr, Reason> {
    let text = py_strip(text);
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address = address.split_once('%').map_or(address, |(a, _zone)| a);
    let parsed: IpAddr = address.parse().map_err(|_| Cow::Borrowed("is not an IP network"))?;
    match prefix {
        None => Ok(Cidr::host(parsed)),
        Some(prefix) => network_from_parts(parsed, prefix, false),
    }
}

fn network_from_parts(address: IpAddr, prefix: &str, strict: bool) -> Result<Cidr, Reason> {
    let max: u32 = if address.is_ipv4() { 32 } else { 128 };
    let len = if !prefix.is_empty() && prefix.len() <= 3 && prefix.bytes().all(|b| b.is_ascii_digit()) {
        prefix
            .parse::<u32>()
            .ok()
            .filter(|len| *len <= max)
            .ok_or(Cow::Borrowed("is not an IP network: bad prefix length"))?
    } else if let (IpAddr::V4(_), Ok(mask)) = (address, prefix.parse::<Ipv4Addr>()) {
        let bits = u32::from(mask);
        if bits.leading_ones() + bits.trailing_zeros() == 32 {
            bits.leading_ones()
        } else if (!bits).leading_ones() + (!bits).trailing_zeros() == 32 {
            // A host mask such as 0.0.0.255.
            (!bits).leading_ones()
        } else {
            return Err(Cow::Borrowed("is not an IP network: bad netmask"));
        }
    } else {
        return Err(Cow::Borrowed("is not an IP network: bad prefix length"));
    };
    let len = u8::try_from(len).map_err(|_| Cow::Borrowed("is not an IP network"))?;
    let result = if strict { Cidr::new(address, len) } else { Cidr::truncating(address, len) };
    result.map_err(|_| Cow::Borrowed("is not an IP network"))
}

fn boolean(text: &str) -> Result<bool, Reason> {
    let text = py_strip(text);
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(Cow::Borrowed("is not a boolean (true or false)"))
    }
}

fn registry(text: &str) -> Result<&'static str, Reason> {
    let upper = uppercase(text)?;
    let upper = match &*upper {
        "RIPENCC" | "RIPE-NCC" => "RIPE",
        other => other,
    };
    REGISTRIES
        .iter()
        .find(|r| **r == upper)
        .copied()
        .ok_or(Cow::Borrowed("is not a registry (AFRINIC, APNIC, ARIN, LACNIC, RIPE)"))
}

fn tlp(text: &str) -> Result<&'static str, Reason> {
    let upper = uppercase(text)?;
    let mut rest: &str = &upper;
    if let Some(after) = rest.strip_prefix("TLP") {
        rest = after.strip_prefix(':').unwrap_or(after);
    }
    let rest = py_strip(rest);
    // IntelMQ reads the old name YELLOW as AMBER.
    let rest = if rest == "YELLOW" { "AMBER" } else { rest };
    TLP_LABELS.iter().find(|l| **l == rest).copied().ok_or(Cow::Borrowed("is not a TLP label"))
}

/// A base64 text as given (`raw` in a JSON message), checked to decode.
fn base64_text(text: &str) -> Result<&str, Reason> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let compact: Cow<'_, str> = if text.bytes().any(|b| b.is_ascii_whitespace()) {
        Cow::Owned(text.chars().filter(|c| !c.is_ascii_whitespace()).collect())
    } else {
        Cow::Borrowed(text)
    };
    engine.decode(compact.as_bytes()).map_err(|_| Cow::Borrowed("is not valid base64"))?;
    Ok(text)
}

/// Decodes base64 `raw` data the way Python's lenient `b64decode` does for
/// well-formed input (white space ignored, padding optional).
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, Reason> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    engine.decode(compact.as_bytes()).map_err(|_| Cow::Borrowed("is not valid base64"))
}

/// IntelMQ's `JSON`: the stripped text when it is JSON, otherwise the text
/// encoded as a JSON string.
fn json_text(text: &str) -> Result<String, Reason> {
    let stripped = non_empty(py_strip(text))?;
    if crate::intelmq_json::nesting_ok(stripped)
        && serde_json::from_str::<serde_json::Value>(stripped).is_ok()
    {
        Ok(stripped.to_owned())
    } else {
        let mut out = String::new();
        pyfmt::write_json_str(&mut out, stripped);
        Ok(out)
    }
}
