//! CERT Polska's n6 (`n6`): events that n6 shares with CERTs and network owners, as IntelMQ
//! 3.5.0's `N6StompParserBot` reads them.
//!
//! A report is one n6 event object (a message of n6's STOMP stream, as IntelMQ's STOMP collector
//! stores it), a JSON list of them (what n6's REST API answers, `/report/inside.json`), or JSON
//! objects one per line. Each object (`category`, `type`, `name`, `time`, `address` [{`ip`,
//! `asn`, `cc`, `rdns`}], `fqdn`, `url`, `proto`, `sport`, `dip`, `dport`, `md5`, `sha1`, `id`,
//! `source`, `confidence`, `expires`, `adip`) becomes one event per address in `address`, or one
//! event when it has none. `category` sets the classification by IntelMQ's table ([`CATEGORIES`];
//! a `bots` event's identifier is its malware `name`), `type` `bl-update` makes a block-list
//! entry (taxonomy `other`, type `blacklist`). A `name` that `malware.name` does not take is kept
//! without its characters outside printable ASCII, and as a whole in `event_description.text`.
//! `raw` is the whole report for a single object, IntelMQ's `recover_line_json` of the object in a
//! list, and the line otherwise (its first 4 KiB when an object of very many addresses would
//! repeat more than 64 MiB in its events). A message holding `TEST MESSAGE` is n6's test and
//! gives nothing.
//!
//! Deliberate differences from IntelMQ:
//!
//! - An object with addresses gives one event per address only; IntelMQ's bot also sends the
//!   object's event without an address after them (its `for … else` always runs).
//! - A list of objects or objects one per line are read; IntelMQ reads one object per report.
//! - Category `fraud` is type `other` (IntelMQ's table names `account numbers`, which is no
//!   classification type, so IntelMQ fails every such event).
//! - An object that fails (an unknown category, a value its field does not take) is that
//!   record's error; IntelMQ fails the whole message, which is the same for a single object.

use neretva_event::FieldId;

use crate::parsers::common::json::{self, set_json_value};
use crate::parsers::common::repeated_raw;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(N6Parser)]
}

/// n6 (`n6`).
#[derive(Debug, Clone, Copy, Default)]
pub struct N6Parser;

/// IntelMQ's table: n6 category → taxonomy, type, identifier.
const CATEGORIES: &[(&str, &str, &str, &str)] = &[
    ("amplifier", "vulnerable", "vulnerable-system", "amplifier"),
    ("bots", "malicious-code", "infected-system", "malware-generic"),
    ("backdoor", "intrusions", "system-compromise", "hacked server"),
    ("cnc", "malicious-code", "c2-server", "c&c server"),
    ("dns-query", "other", "other", "dns-query"),
    ("dos-attacker", "availability", "ddos", "dos-attacker"),
    ("dos-victim", "availability", "ddos", "dos-victim"),
    ("flow", "other", "other", "flow"),
    ("flow-anomaly", "other", "other", "flow-anomaly"),
    ("fraud", "fraud", "other", "fraud"),
    ("leak", "information-content-security", "data-leak", "leak"),
    ("malurl", "malicious-code", "exploit", "malurl"),
    ("malware-action", "malicious-code", "malware-configuration", "malware-configuration"),
    ("phish", "fraud", "phishing", "phishing"),
    ("proxy", "other", "proxy", "openproxy"),
    ("sandbox-url", "malicious-code", "infected-system", "sandboxurl"),
    ("scanning", "information-gathering", "scanner", "scanning"),
    ("server-exploit", "malicious-code", "exploit", "server-exploit"),
    ("spam", "abusive-content", "spam", "spam"),
    ("spam-url", "abusive-content", "spam", "spam-url"),
    ("tor", "other", "tor", "tor exit node"),
    ("webinject", "malicious-code", "malware-distribution", "malware"),
    ("vulnerable", "vulnerable", "other", "vulnerable"),
    ("other", "other", "other", "other"),
];

/// An object's keys and the fields they set, in IntelMQ's order.
const FIELDS: &[(&str, &str)] = &[
    ("time", "time.source"),
    ("dip", "destination.ip"),
    ("dport", "destination.port"),
    ("md5", "malware.hash.md5"),
    ("sha1", "malware.hash.sha1"),
    ("fqdn", "source.fqdn"),
    ("id", "extra.feed_id"),
    ("adip", "extra.adip"),
    ("proto", "protocol.transport"),
    ("sport", "source.port"),
    ("url", "source.url"),
    ("confidence", "extra.confidence"),
    ("expires", "extra.expires"),
    ("source", "extra.feed_source"),
];

/// An address's keys and the fields they set.
const ADDRESS_FIELDS: &[(&str, &str)] = &[
    ("ip", "source.ip"),
    ("asn", "source.asn"),
    ("rdns", "source.reverse_dns"),
    ("cc", "source.geolocation.cc"),
];

impl FeedParser for N6Parser {
    fn name(&self) -> &'static str {
        "n6"
    }

    fn description(&self) -> &'static str {
        "CERT Polska n6 events (one STOMP message, a REST API JSON list, or JSON lines)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let mut parsed = Parsed::default();
        let start = text.trim_start();
        if start.starts_with('[') {
            json::for_each_element(&text, &mut parsed, |parsed, line, item| {
                record(report, parsed, line, item, json::recover_line_json(item));
            });
        } else if let Some(message) =
            start.starts_with('{').then(|| serde_json::from_str::<serde_json::Value>(&text).ok()).flatten()
        {
            // One message: IntelMQ's `raw` is the whole report; the line is the object's first.
            let line = 1 + text[..text.len() - start.len()].matches('\n').count() as u64;
            parsed.records += u64::from(!text.contains("TEST MESSAGE"));
            record_value(report, &mut parsed, line, Ok(message), text.to_string());
        } else {
            for (index, line_text) in text.split('\n').enumerate() {
                let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
                if line_text.trim().is_empty() || line_text.contains("TEST MESSAGE") {
                    continue;
                }
                parsed.records += 1;
                record(report, &mut parsed, index as u64 + 1, line_text, line_text.to_owned());
            }
        }
        parsed
    }
}

/// One n6 object, as text: its events, or its error.
fn record(report: &Report, parsed: &mut Parsed, line: u64, text: &str, raw: String) {
    record_value(report, parsed, line, serde_json::from_str(text), raw);
}

/// One n6 object, read: its events, or its error; n6's test messages give nothing.
fn record_value(
    report: &Report,
    parsed: &mut Parsed,
    line: u64,
    value: serde_json::Result<serde_json::Value>,
    raw: String,
) {
    if raw.contains("TEST MESSAGE") {
        return;
    }
    let object = match value {
        Ok(serde_json::Value::Object(object)) => object,
        Ok(_) => return parsed.error(line, None, "not a JSON object", &raw),
        Err(error) => return parsed.error(line, None, format!("malformed JSON: {error}"), &raw),
    };
    match events(report, &object) {
        Ok(events) => {
            let raw = repeated_raw(&raw, events.len());
            for mut event in events {
                event.set_raw(raw.as_bytes());
                parsed.events.push(ParsedEvent { event, line, raw: raw.to_owned() });
            }
        }
        Err((key, message)) => parsed.error(line, Some(&key), message, &raw),
    }
}

type Object = serde_json::Map<String, serde_json::Value>;

/// The events of one object: one per address, or one without.
fn events(report: &Report, object: &Object) -> Result<Vec<Event>, (String, String)> {
    let mut event = report.new_event();
    let set = |event: &mut Event, key: &str, field: &str, value: &serde_json::Value| {
        set_json_value(event, field, value).map_err(|error| (key.to_owned(), error.to_string()))
    };
    for (key, field) in FIELDS {
        let Some(value) = object.get(*key) else { continue };
        match *key {
            "fqdn" if value.as_str() == Some("unknown") => {}
            // As IntelMQ's `DateTime.sanitize`: the time in its text form, or nothing.
            "expires" => {
                if let Some(time) = value.as_str().and_then(neretva_event::parse_time) {
                    set(&mut event, key, field, &serde_json::json!(neretva_event::format_time(time)))?;
                }
            }
            _ => set(&mut event, key, field, value)?,
        }
    }
    let name = object.get("name");
    if let Some(name) = name
        && set(&mut event, "name", "malware.name", name).is_err()
    {
        let text = name.as_str().unwrap_or_default();
        let printable: String = text.chars().filter(|c| (' '..='~').contains(c)).collect();
        set(&mut event, "name", "malware.name", &serde_json::json!(printable))?;
        set(&mut event, "name", "event_description.text", name)?;
    }
    let (taxonomy, kind, identifier) =
        if object.get("type").and_then(serde_json::Value::as_str) == Some("bl-update") {
            ("other", "blacklist", None)
        } else {
            match object.get("category") {
                None => return Err(("category".to_owned(), "the object has no category".to_owned())),
                Some(serde_json::Value::Null) => ("", "", None),
                Some(category) => {
                    let found = category
                        .as_str()
                        .and_then(|category| CATEGORIES.iter().find(|(name, ..)| *name == category));
                    let Some((category, taxonomy, kind, identifier)) = found else {
                        return Err(("category".to_owned(), format!("unknown n6 category {category}")));
                    };
                    // A bot's identifier is its malware's name.
                    let identifier = match (*category, name.and_then(serde_json::Value::as_str)) {
                        ("bots", Some(name)) => name,
                        _ => identifier,
                    };
                    (*taxonomy, *kind, Some(identifier))
                }
            }
        };
    if !kind.is_empty() {
        let classified = [
            (FieldId::CLASSIFICATION_TAXONOMY, Some(taxonomy)),
            (FieldId::CLASSIFICATION_TYPE, Some(kind)),
            (FieldId::CLASSIFICATION_IDENTIFIER, identifier),
        ];
        for (id, value) in classified {
            if let Some(value) = value {
                event.set_id(id, value).map_err(|error| ("category".to_owned(), error.to_string()))?;
            }
        }
    }
    let addresses = match object.get("address") {
        None | Some(serde_json::Value::Null) => return Ok(vec![event]),
        Some(serde_json::Value::Array(addresses)) => addresses,
        Some(_) => return Err(("address".to_owned(), "address is not a list".to_owned())),
    };
    if addresses.is_empty() {
        return Ok(vec![event]);
    }
    let mut events = Vec::with_capacity(addresses.len());
    for address in addresses {
        let Some(address) = address.as_object() else {
            return Err(("address".to_owned(), "an address is not an object".to_owned()));
        };
        let mut one = event.clone();
        for (key, field) in ADDRESS_FIELDS {
            if let Some(value) = address.get(*key) {
                set(&mut one, &format!("address.{key}"), field, value)?;
            } else if *key == "ip" {
                return Err(("address.ip".to_owned(), "an address has no ip".to_owned()));
            }
        }
        events.push(one);
    }
    Ok(events)
}
