//! OpenPhish's commercial feed (IntelMQ's `OpenPhishCommercialParserBot`).
//!
//! One JSON object per line, a phishing URL with what OpenPhish found out about it: every line
//! is an event of `classification.type` `phishing` with `source.url` (`url`), `source.ip`
//! (`ip`), `source.fqdn` (`host`), `source.asn` (`asn`, `AS12345`), `source.as_name`,
//! `source.geolocation.cc` and `.country`, `screenshot_url` (`screenshot`), `time.source`
//! (`isotime`, else `discover_time` as `22-03-2022 05:06:25 UTC`), and `extra.brand`,
//! `extra.emails`, `extra.family_id`, `extra.page_language`, `extra.phishing_kit`,
//! `extra.sector`, `extra.ssl_cert_issued_by`, `extra.ssl_cert_issued_to`,
//! `extra.ssl_cert_serial` and `extra.tld`. An AS, time, host, country or screenshot the field
//! does not take is left out, as IntelMQ does; a line that is not a JSON object, or whose URL,
//! address or AS name its field does not take, is an error. `raw` is the object as
//! `json.dumps([object])` writes it, as IntelMQ's `recover_line_json`.
//!
//! Deliberate difference from IntelMQ: a blank line is skipped and a line that is not JSON is an
//! error of its own (IntelMQ's JSON-stream reader stops the whole report there).

use neretva_event::FieldId;
use serde_json::{Map, Value};

use crate::parsers::common::json::{recover_line_json, set_json_value, truthy};
use crate::parsers::lists::support::{LineError, Lines, invalid_utf8, new_event, push, py_strip};
use crate::parsers::lists::timefmt;
use crate::{Event, FeedParser, Parsed, Report};

/// The commercial feed of OpenPhish.
pub struct OpenPhishCommercial;

/// Members whose value goes into a field or `extra.*` member, a value the field does not take
/// failing the line.
const REQUIRED: &[(&str, &str)] = &[
    ("asn_name", "source.as_name"),
    ("brand", "extra.brand"),
    ("emails", "extra.emails"),
    ("family_id", "extra.family_id"),
    ("ip", "source.ip"),
    ("page_language", "extra.page_language"),
    ("phishing_kit", "extra.phishing_kit"),
    ("sector", "extra.sector"),
    ("ssl_cert_issued_by", "extra.ssl_cert_issued_by"),
    ("ssl_cert_issued_to", "extra.ssl_cert_issued_to"),
    ("ssl_cert_serial", "extra.ssl_cert_serial"),
    ("tld", "extra.tld"),
    ("url", "source.url"),
];

/// Members left out when their field does not take them (IntelMQ's `raise_failure=False`).
const OPTIONAL: &[(&str, &str)] = &[
    ("country_code", "source.geolocation.cc"),
    ("country_name", "source.geolocation.country"),
    ("host", "source.fqdn"),
    ("screenshot", "screenshot_url"),
];

impl FeedParser for OpenPhishCommercial {
    fn name(&self) -> &'static str {
        "openphish-commercial"
    }

    fn description(&self) -> &'static str {
        "OpenPhish commercial feed (JSON lines): phishing URLs with their brand, host, AS and kit"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        for (number, bytes) in Lines::new(&report.raw) {
            let Ok(text) = std::str::from_utf8(bytes) else {
                invalid_utf8(&mut parsed, number, bytes);
                continue;
            };
            if py_strip(text).is_empty() {
                continue;
            }
            parsed.records += 1;
            let object = match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(object)) => object,
                Ok(_) => {
                    parsed.error(number, None, "not a JSON object", text);
                    continue;
                }
                Err(error) => {
                    parsed.error(number, None, format!("malformed JSON: {error}"), text);
                    continue;
                }
            };
            let raw = recover_line_json(text);
            push(&mut parsed, number, &raw, text, event(report, &object));
        }
        parsed
    }
}

fn event(report: &Report, object: &Map<String, Value>) -> Result<Event, LineError> {
    let mut event = new_event(report);
    let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or_default();
    if object.get("asn").is_some_and(truthy) {
        // `AS12345`: IntelMQ reads what follows the first two characters.
        let number = text("asn").get(2..).and_then(|n| n.trim().parse::<u32>().ok());
        if let Some(number) = number {
            let _ = event.set_json("source.asn", number.into());
        }
    }
    let time = if object.get("isotime").is_some_and(truthy) {
        neretva_event::parse_time(text("isotime"))
    } else if object.get("discover_time").is_some_and(truthy) {
        timefmt::strptime(text("discover_time"), "%d-%m-%Y %H:%M:%S UTC")
            .or_else(|| neretva_event::parse_time(text("discover_time")))
    } else {
        None
    };
    if let Some(time) = time {
        let _ = event.set_value_id(FieldId::TIME_SOURCE, neretva_event::Value::Time(time));
    }
    event.set("classification.type", "phishing")?;
    for (key, field) in REQUIRED {
        if let Some(value) = object.get(*key) {
            set_json_value(&mut event, field, value)?;
        }
    }
    for (key, field) in OPTIONAL {
        if let Some(value) = object.get(*key) {
            let _ = set_json_value(&mut event, field, value);
        }
    }
    Ok(event)
}
