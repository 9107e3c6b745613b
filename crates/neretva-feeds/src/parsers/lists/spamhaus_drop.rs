//! Spamhaus DROP, EDROP, DROPv6 and ASN-DROP (IntelMQ's `SpamhausDropParserBot`).
//!
//! The text lists: comment lines start with `;`, and `; Last-Modified: <date>` gives
//! `time.source` to the lines after it. Network lists (`drop.txt`, `edrop.txt`,
//! `dropv6.txt`, `drop.lasso`) have `<network> ; <SBL id>` lines: `source.network` and
//! `extra.blocklist`. The ASN list (`asndrop.txt`) has `AS<n> ; <CC> | <AS name>` lines:
//! `source.asn`, `source.geolocation.cc`, `source.as_name`. Every event is
//! `classification.type` `spam`, with the stripped line as `raw`.
//!
//! Differences from IntelMQ 3.5.0, all deliberate:
//! - IntelMQ fails every line when `feed.url` is not one of its five exact URLs; Neretva
//!   reads the URL's file name and, when it knows neither, tells the two formats apart
//!   by the line (`AS…` or a network).
//! - The JSON-lines lists Spamhaus publishes since 2024 (`drop_v4.json`, `drop_v6.json`,
//!   `asndrop.json`) are read too, which IntelMQ 3.5.0 cannot: `cidr`/`sblid`/`rir` or
//!   `asn`/`cc`/`asname`/`rir`/`domain`, and `time.source` from the closing
//!   `{"type": "metadata", "timestamp": …}` line.
//! - An unparsable `Last-Modified` date is an error on its line, and the lines after it
//!   carry no `time.source`; IntelMQ keeps the unparsed text as the time and so fails
//!   every later line.

use neretva_event::FieldId;
use time::OffsetDateTime;

use crate::parsers::lists::support::{
    LineError, for_each_stripped_line, new_event, push, py_strip, py_strip_chars, set, set_id, set_indicator,
    set_time, url_file_name,
};
use crate::parsers::lists::timefmt;
use crate::{Event, FeedParser, Parsed, Report};

/// The Spamhaus DROP family of lists.
pub struct SpamhausDrop;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Network,
    Asn,
    /// Not known from the URL: decided per line.
    Unknown,
}

fn kind_of(url: Option<&str>) -> Kind {
    let Some(url) = url else {
        return Kind::Unknown;
    };
    match url_file_name(url) {
        "drop.txt" | "edrop.txt" | "dropv6.txt" | "drop.lasso" | "drop_v4.json" | "drop_v6.json" => {
            Kind::Network
        }
        "asndrop.txt" | "asndrop.json" => Kind::Asn,
        _ => Kind::Unknown,
    }
}

impl FeedParser for SpamhausDrop {
    fn name(&self) -> &'static str {
        "spamhaus-drop"
    }

    fn description(&self) -> &'static str {
        "Spamhaus DROP, EDROP, DROPv6 and ASN-DROP block lists (text and JSON lines)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let kind = kind_of(report.feed_url.as_deref());
        let mut last_modified: Option<OffsetDateTime> = json_metadata_time(&report.raw);
        for_each_stripped_line(&report.raw, &mut parsed, |parsed, number, line| {
            if line.starts_with(';') {
                if line.contains("Last-Modified:") {
                    // IntelMQ: `line.strip('; ')[15:]`, parsed by dateutil.
                    let stripped = py_strip_chars(line, "; ");
                    let date = stripped.get(15..).unwrap_or("");
                    match timefmt::fuzzy(date) {
                        Some(t) => last_modified = Some(t),
                        None => {
                            last_modified = None;
                            parsed.error(
                                number,
                                Some("time.source"),
                                format!("cannot parse the Last-Modified date {date:?}"),
                                line,
                            );
                        }
                    }
                }
                return;
            }
            if line.starts_with('{') {
                if is_metadata(line) {
                    return;
                }
                parsed.records += 1;
                let outcome = json_line(report, line, last_modified);
                push(parsed, number, line, line, outcome);
                return;
            }
            parsed.records += 1;
            let outcome = text_line(report, kind, line, last_modified);
            push(parsed, number, line, line, outcome);
        });
        parsed
    }
}

fn start(report: &Report, time_source: Option<OffsetDateTime>) -> Result<Event, LineError> {
    let mut event = new_event(report);
    if let Some(time) = time_source {
        set_time(&mut event, FieldId::TIME_SOURCE, time)?;
    }
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "spam")?;
    Ok(event)
}

fn text_line(
    report: &Report,
    kind: Kind,
    line: &str,
    time_source: Option<OffsetDateTime>,
) -> Result<Event, LineError> {
    let kind = match kind {
        Kind::Unknown if line.starts_with("AS") => Kind::Asn,
        Kind::Unknown => Kind::Network,
        known => known,
    };
    let mut event = start(report, time_source)?;
    match kind {
        Kind::Network | Kind::Unknown => {
            let Some((network, blocklist)) = line.split_once(';') else {
                return Err(LineError::line("expected `<network> ; <SBL id>`, found no `;`"));
            };
            let blocklist = blocklist.split(';').next().unwrap_or("");
            set_indicator(&mut event, FieldId::SOURCE_NETWORK, py_strip(network))?;
            set(&mut event, "extra.blocklist", py_strip(blocklist))?;
        }
        Kind::Asn => {
            // IntelMQ: `line.replace('|', ';').split(';')`, so both separators count.
            let mut parts = line.split([';', '|']);
            let asn = parts.next().unwrap_or("");
            let (Some(cc), Some(name)) = (parts.next(), parts.next()) else {
                return Err(LineError::line(
                    "expected `AS<number> ; <CC> | <AS name>`, found fewer than 3 columns",
                ));
            };
            set_indicator(&mut event, FieldId::SOURCE_ASN, py_strip(py_strip_chars(asn, "AS")))?;
            set_id(&mut event, FieldId::SOURCE_AS_NAME, py_strip(name))?;
            let cc = py_strip(cc);
            if !cc.is_empty() {
                set_id(&mut event, FieldId::SOURCE_GEOLOCATION_CC, cc)?;
            }
        }
    }
    Ok(event)
}

fn is_metadata(line: &str) -> bool {
    line.contains("\"metadata\"")
        && serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .is_some_and(|v| v.get("type").and_then(|t| t.as_str()) == Some("metadata"))
}

/// The `timestamp` of the metadata line the JSON lists end with, looked for from the end.
fn json_metadata_time(raw: &[u8]) -> Option<OffsetDateTime> {
    // The last 4 KiB, from a line start so no character is cut.
    let window = raw.get(raw.len().saturating_sub(4096)..)?;
    let window = match window.iter().position(|&b| b == b'\n') {
        Some(index) if window.len() < raw.len() => &window[index + 1..],
        _ => window,
    };
    let text = std::str::from_utf8(window).ok()?;
    let line = text.lines().rev().map(py_strip).find(|line| !line.is_empty())?;
    if !line.starts_with('{') || !is_metadata(line) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let seconds = value.get("timestamp")?.as_i64()?;
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

fn json_line(report: &Report, line: &str, time_source: Option<OffsetDateTime>) -> Result<Event, LineError> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|error| LineError::line(format!("invalid JSON: {error}")))?;
    let object = value.as_object().ok_or_else(|| LineError::line("expected a JSON object"))?;
    let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(py_strip);
    let mut event = start(report, time_source)?;
    if let Some(cidr) = text("cidr") {
        set_indicator(&mut event, FieldId::SOURCE_NETWORK, cidr)?;
        if let Some(sbl) = text("sblid") {
            set(&mut event, "extra.blocklist", sbl)?;
        }
    } else if let Some(asn) = object.get("asn") {
        let asn = match asn {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => py_strip(py_strip_chars(s, "AS")).to_owned(),
            _ => return Err(LineError::field("source.asn", "`asn` is not a number")),
        };
        set_indicator(&mut event, FieldId::SOURCE_ASN, &asn)?;
        if let Some(name) = text("asname").filter(|s| !s.is_empty()) {
            set_id(&mut event, FieldId::SOURCE_AS_NAME, name)?;
        }
        if let Some(cc) = text("cc").filter(|s| !s.is_empty()) {
            set_id(&mut event, FieldId::SOURCE_GEOLOCATION_CC, cc)?;
        }
        if let Some(domain) = text("domain").filter(|s| !s.is_empty()) {
            set(&mut event, "extra.domain", domain)?;
        }
    } else {
        return Err(LineError::line("JSON line has neither `cidr` nor `asn`"));
    }
    if let Some(rir) = text("rir").filter(|s| !s.is_empty()) {
        set(&mut event, "extra.rir", rir)?;
    }
    Ok(event)
}
