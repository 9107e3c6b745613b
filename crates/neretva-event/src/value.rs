//! Field values and their IntelMQ textual and JSON forms.

use std::fmt;
use std::net::IpAddr;

use neretva_net::Cidr;
use time::{OffsetDateTime, UtcOffset};

use crate::pyfmt;
use crate::text::Text;

/// A harmonised field value.
///
/// Which variant a field holds follows from its [`crate::FieldType`]:
/// `Int` for Integer and ASN, `Float` for Float and Accuracy, `Bool` for
/// Boolean, `Ip` for IPAddress, `Network` for IPNetwork, `Time` for DateTime
/// (always UTC, whole microseconds) and `Str` for every string type,
/// including Base64 (`raw`, the base64 text) and JSON (`output`, the JSON
/// text). `extra.*` members hold `Str`, `Int`, `Float` or `Bool` for JSON
/// scalars and `Json` for `null`, arrays, objects and integers beyond `i64`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Text.
    Str(Text),
    /// An integer.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// An IP address.
    Ip(IpAddr),
    /// An IP network.
    Network(Cidr),
    /// A point in time (UTC).
    Time(OffsetDateTime),
    /// Any other JSON value (only in `extra.*`); boxed, so that every value fits in 32 bytes.
    Json(Box<serde_json::Value>),
}

impl Value {
    /// Makes a `Str` value.
    pub fn str(text: &str) -> Self {
        Self::Str(text.into())
    }

    /// The text of a `Str` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The integer of an `Int` value.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number of a `Float` value, or of an `Int` value as a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Float(f) => Some(*f),
            #[allow(clippy::cast_precision_loss)]
            Self::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The boolean of a `Bool` value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The address of an `Ip` value.
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Self::Ip(ip) => Some(*ip),
            _ => None,
        }
    }

    /// The network of a `Network` value.
    pub fn as_network(&self) -> Option<Cidr> {
        match self {
            Self::Network(cidr) => Some(*cidr),
            _ => None,
        }
    }

    /// The time of a `Time` value.
    pub fn as_time(&self) -> Option<OffsetDateTime> {
        match self {
            Self::Time(t) => Some(*t),
            _ => None,
        }
    }

    /// IntelMQ's JSON form: numbers for `Int` and `Float`, booleans for
    /// `Bool`, the JSON value itself for `Json`, strings otherwise.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Str(text) => serde_json::Value::String(text.to_string()),
            Self::Int(i) => serde_json::Value::from(*i),
            Self::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
            Self::Bool(b) => serde_json::Value::Bool(*b),
            Self::Json(json) => (**json).clone(),
            other => serde_json::Value::String(other.to_string()),
        }
    }

    /// Appends the value's text (its `Display` form) without formatting machinery for the
    /// common kinds: the hot path of deduplication keys and JSON lines.
    pub fn write_text(&self, out: &mut String) {
        match self {
            Self::Str(text) => out.push_str(text),
            Self::Int(i) => push_int(out, *i),
            Self::Time(t) => push_time(out, *t),
            Self::Float(x) => pyfmt::write_float_repr(out, *x),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Ip(IpAddr::V4(ip)) => push_ipv4(out, *ip),
            Self::Json(json) => pyfmt::write_json(out, json),
            other => {
                use std::fmt::Write as _;
                let _ = write!(out, "{other}");
            }
        }
    }

    /// Appends the value as IntelMQ writes it in a JSON line (Python's
    /// `json.dumps`).
    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Self::Str(text) => pyfmt::write_json_str(out, text),
            Self::Int(i) => push_int(out, *i),
            Self::Float(f) => pyfmt::write_float_repr(out, *f),
            Self::Bool(true) => out.push_str("true"),
            Self::Bool(false) => out.push_str("false"),
            Self::Json(json) => pyfmt::write_json(out, json),
            Self::Ip(_) | Self::Network(_) | Self::Time(_) => {
                // None of these texts needs escaping.
                out.push('"');
                self.write_text(out);
                out.push('"');
            }
        }
    }

    /// Appends Python's `repr()` of the value as IntelMQ holds it, the input
    /// of [`crate::Event::event_hash`].
    pub(crate) fn write_repr(&self, out: &mut String) {
        match self {
            Self::Str(text) => pyfmt::write_str_repr(out, text),
            Self::Bool(true) => out.push_str("True"),
            Self::Bool(false) => out.push_str("False"),
            Self::Json(json) => pyfmt::write_json_repr(out, json),
            Self::Int(_) | Self::Float(_) => {
                use std::fmt::Write as _;
                let _ = write!(out, "{self}");
            }
            Self::Ip(_) | Self::Network(_) | Self::Time(_) => {
                pyfmt::write_str_repr(out, &self.to_string());
            }
        }
    }
}

/// IntelMQ's textual form: the string itself, Python's `repr` of a float
/// (`52.0`, `1e+16`), `true`/`false` (as in JSON), the canonical address or
/// network, the time as `2016-11-10T00:00:00+00:00` (with `.ffffff` when there
/// are microseconds), and JSON text (Python's layout) for `Json`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(text) => f.write_str(text),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => f.write_str(&pyfmt::float_repr(*x)),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Network(cidr) => write!(f, "{cidr}"),
            Self::Time(t) => write_time(f, *t),
            Self::Json(json) => f.write_str(&pyfmt::json_to_string(json)),
        }
    }
}

/// Appends an IPv4 address in dotted decimal, as its `Display` writes it.
fn push_ipv4(out: &mut String, ip: std::net::Ipv4Addr) {
    for (index, octet) in ip.octets().into_iter().enumerate() {
        if index > 0 {
            out.push('.');
        }
        push_int(out, i64::from(octet));
    }
}

/// Appends an integer in decimal.
fn push_int(out: &mut String, i: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = i.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if i < 0 {
        out.push('-');
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// Appends `value` as `width` decimal digits (it must fit).
fn push_padded(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
    }
}

/// Appends a time as [`write_time`] writes it.
fn push_time(out: &mut String, t: OffsetDateTime) {
    let t = t.to_offset(UtcOffset::UTC);
    match u32::try_from(t.year()) {
        Ok(year) if year <= 9999 => push_padded(out, year, 4),
        _ => {
            use std::fmt::Write as _;
            let _ = write!(out, "{:04}", t.year());
        }
    }
    out.push('-');
    push_padded(out, u32::from(u8::from(t.month())), 2);
    out.push('-');
    push_padded(out, u32::from(t.day()), 2);
    out.push('T');
    push_padded(out, u32::from(t.hour()), 2);
    out.push(':');
    push_padded(out, u32::from(t.minute()), 2);
    out.push(':');
    push_padded(out, u32::from(t.second()), 2);
    let micros = t.microsecond();
    if micros != 0 {
        out.push('.');
        push_padded(out, micros, 6);
    }
    out.push_str("+00:00");
}

/// Writes a time as Python's `datetime.isoformat()` of the UTC time.
fn write_time(f: &mut fmt::Formatter<'_>, t: OffsetDateTime) -> fmt::Result {
    let t = t.to_offset(UtcOffset::UTC);
    write!(
        f,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )?;
    let micros = t.microsecond();
    if micros != 0 {
        write!(f, ".{micros:06}")?;
    }
    f.write_str("+00:00")
}

/// Formats a time as IntelMQ does: `2016-11-10T00:00:00+00:00`.
pub fn format_time(t: OffsetDateTime) -> String {
    Value::Time(t).to_string()
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Self::Str(text.into())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Self::Str(text.into())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Self::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<IpAddr> for Value {
    fn from(ip: IpAddr) -> Self {
        Self::Ip(ip)
    }
}

impl From<Cidr> for Value {
    fn from(cidr: Cidr) -> Self {
        Self::Network(cidr)
    }
}

impl From<OffsetDateTime> for Value {
    fn from(t: OffsetDateTime) -> Self {
        Self::Time(t)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn write_text_is_the_display_form() {
        let values = [
            Value::Int(0),
            Value::Int(7),
            Value::Int(-42),
            Value::Int(i64::MAX),
            Value::Int(i64::MIN),
            Value::Time(datetime!(2026-03-01 16:55:42 UTC)),
            Value::Time(datetime!(2026-03-01 16:55:42.000_001 UTC)),
            Value::Time(datetime!(0987-12-31 23:59:59.123_456 +02:00)),
            Value::Float(8.67),
            Value::Str("dnsmasq-2.80".into()),
            Value::Float(-0.5),
            Value::Float(1e22),
            Value::Ip("2001:db8::1".parse().unwrap()),
            Value::Ip("0.0.0.0".parse().unwrap()),
            Value::Ip("192.0.2.255".parse().unwrap()),
            Value::Ip("10.20.100.9".parse().unwrap()),
            Value::Network("192.0.2.0/24".parse().unwrap()),
            Value::Bool(true),
            Value::Bool(false),
            Value::Json(Box::new(serde_json::json!({"b": [1, 2.5, "é\n"], "a": null}))),
        ];
        for value in values {
            let mut text = String::from(">");
            value.write_text(&mut text);
            assert_eq!(text, format!(">{value}"));
        }
        assert_eq!(
            format_time(datetime!(0987-12-31 23:59:59.123_456 +02:00)),
            "0987-12-31T21:59:59.123456+00:00"
        );
    }

    #[test]
    fn a_value_fits_in_32_bytes() {
        // Every event holds about twenty: their size is the memory a parsed chunk writes.
        assert!(std::mem::size_of::<Value>() <= 32, "{}", std::mem::size_of::<Value>());
    }
}
