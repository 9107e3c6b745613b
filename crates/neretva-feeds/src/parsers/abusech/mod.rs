//! abuse.ch feeds: Feodo Tracker, URLhaus and ThreatFox.
//!
//! - `abusech-feodotracker`: the Feodo Tracker botnet C2 blocklist, as JSON (`ipblocklist.json`,
//!   parsed as IntelMQ 3.5.0's `AbusechFeodoTrackerParserBot` does, `raw` included) or CSV
//!   (`ipblocklist.csv`, header `first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware`).
//! - `abusech-urlhaus`: URLhaus CSV. The country feed's layout is mapped as IntelMQ's feeds.yaml
//!   configures its generic CSV parser (`time.source, source.url, status,
//!   classification.type|__IGNORE__, source.fqdn|__IGNORE__, source.ip, source.asn,
//!   source.geolocation.cc`, `malware_download` → `malware-distribution`, `http://` added to URLs
//!   without a scheme); the `csv_recent`/`csv_online` layout (`id,dateadded,url,url_status,
//!   last_online,threat,tags,urlhaus_link,reporter`) is recognised by its header comment or its
//!   nine columns.
//! - `abusech-threatfox`: ThreatFox IOCs from the JSON export (`{"<id>": [{...}], …}`), the API
//!   answer (`{"query_status": "ok", "data": [...]}`), a plain JSON list, or the CSV export.
//!   IOC types `ip:port`, `domain`, `url`, `md5_hash`, `sha1_hash`, `sha256_hash`; threat types
//!   `botnet_cc` → `c2-server`, `payload_delivery` and `cc_skimming` → `malware-distribution`,
//!   `payload` → `malware`; other IOC types are errors naming the type.
//!
//! Neither IntelMQ parser sets `classification.taxonomy`; these do not either (the taxonomy
//! follows from the type downstream).

use crate::parsers::common::feed_csv::{CsvLine, column, field, read_csv, readable};
use crate::parsers::common::json::{self, set_json_value};
use crate::parsers::common::pyjson;
use crate::parsers::shadowserver::timestamp;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(FeodoTrackerParser), Box::new(UrlhausParser), Box::new(ThreatFoxParser)]
}

fn new_event(report: &Report) -> Event {
    report.new_event()
}

fn time_text(text: &str) -> Option<String> {
    timestamp::parse(text).map(timestamp::Utc::to_intelmq)
}

/// Feodo Tracker (`abusech-feodotracker`).
#[derive(Debug, Clone, Copy, Default)]
pub struct FeodoTrackerParser;

impl FeedParser for FeodoTrackerParser {
    fn name(&self) -> &'static str {
        "abusech-feodotracker"
    }

    fn description(&self) -> &'static str {
        "abuse.ch Feodo Tracker botnet C2 IP blocklist (JSON or CSV)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        if text.trim_start().starts_with('[') {
            parse_feodo_json(report, &text)
        } else {
            parse_feodo_csv(report)
        }
    }
}

fn parse_feodo_json(report: &Report, text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    json::for_each_element(text, &mut parsed, |parsed, line, item_text| {
        let Ok(item) = serde_json::from_str::<serde_json::Value>(item_text) else {
            parsed.error(line, None, "malformed JSON", item_text);
            return;
        };
        let Some(object) = item.as_object() else {
            parsed.error(line, None, "not a JSON object", item_text);
            return;
        };
        let raw = json::recover_line_json(item_text);
        let mut event = new_event(report);
        let get = |key: &str| object.get(key).filter(|v| !v.is_null());
        let first_seen = get("first_seen").and_then(|v| v.as_str()).filter(|s| !s.is_empty());
        let last_online = get("last_online").and_then(|v| v.as_str()).filter(|s| !s.is_empty());
        if let Some(time) = first_seen.or(last_online).and_then(time_text) {
            let _ = event.set("time.source", &time);
        }
        let _ = event.set("classification.type", "c2-server");
        let mut failed = None;
        for (name, key) in [("source.ip", "ip_address"), ("source.port", "port")] {
            if let Some(value) = get(key)
                && let Err(e) = set_json_value(&mut event, name, value)
            {
                failed = Some((key, e.to_string()));
                break;
            }
        }
        if let Some((key, message)) = failed {
            parsed.error(line, Some(key), message, &raw);
            return;
        }
        for (name, key) in [
            ("source.asn", "as_number"),
            ("source.as_name", "as_name"),
            ("source.geolocation.cc", "country"),
            ("source.reverse_dns", "hostname"),
            ("malware.name", "malware"),
            ("extra.last_online", "last_online"),
            ("status", "status"),
        ] {
            if let Some(value) = get(key) {
                let _ = set_json_value(&mut event, name, value);
            }
        }
        event.set_raw(raw.as_bytes());
        parsed.events.push(ParsedEvent { event, line, raw });
    });
    parsed
}

fn parse_feodo_csv(report: &Report) -> Parsed {
    let mut parsed = Parsed::default();
    let mut header: Vec<String> =
        ["first_seen_utc", "dst_ip", "dst_port", "c2_status", "last_online", "malware"]
            .map(String::from)
            .to_vec();
    for line in read_csv(&report.raw, b',') {
        let Some(line) = readable(line, &mut parsed) else { continue };
        if line.comment {
            let names = line.header_names();
            if names.len() > 1 && names.iter().any(|n| n == "dst_ip") {
                header = names;
            }
            continue;
        }
        parsed.records += 1;
        let ip = column(&header, &["dst_ip", "ip_address"]);
        let port = column(&header, &["dst_port", "port"]);
        let mut event = new_event(report);
        let first_seen = field(&line.fields, column(&header, &["first_seen_utc", "first_seen"]));
        let last_online = field(&line.fields, column(&header, &["last_online"]));
        let seen = if first_seen.is_empty() { last_online } else { first_seen };
        if let Some(time) = time_text(seen) {
            let _ = event.set("time.source", &time);
        }
        let _ = event.set("classification.type", "c2-server");
        if let Err(e) = event.set("source.ip", field(&line.fields, ip)) {
            parsed.error(line.line, Some("dst_ip"), e.to_string(), &line.raw);
            continue;
        }
        if let Err(e) = event.set("source.port", field(&line.fields, port)) {
            parsed.error(line.line, Some("dst_port"), e.to_string(), &line.raw);
            continue;
        }
        let _ = event.set("status", field(&line.fields, column(&header, &["c2_status", "status"])));
        let _ = event.set("extra.last_online", last_online);
        let _ = event.set("malware.name", field(&line.fields, column(&header, &["malware"])));
        event.set_raw(line.raw.as_bytes());
        parsed.events.push(ParsedEvent { event, line: line.line, raw: line.raw });
    }
    parsed
}

/// URLhaus (`abusech-urlhaus`).
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlhausParser;

#[derive(Clone, Copy, PartialEq, Eq)]
enum UrlhausLayout {
    /// `Dateadded (UTC),URL,URL_status,Threat,Host,IPaddress,ASnumber,Country`
    Country,
    /// `id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter`
    Recent,
}

fn urlhaus_type(threat: &str) -> &str {
    match threat {
        "malware_download" => "malware-distribution",
        other => other,
    }
}

impl FeedParser for UrlhausParser {
    fn name(&self) -> &'static str {
        "abusech-urlhaus"
    }

    fn description(&self) -> &'static str {
        "abuse.ch URLhaus malware URLs (CSV: country feed or csv_recent/csv_online)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let mut layout = None;
        for line in read_csv(&report.raw, b',') {
            let Some(line) = readable(line, &mut parsed) else { continue };
            if line.comment {
                let names = line.header_names();
                if names.first().is_some_and(|n| n == "id") && names.iter().any(|n| n == "url") {
                    layout = Some(UrlhausLayout::Recent);
                } else if names.first().is_some_and(|n| n.starts_with("dateadded")) {
                    layout = Some(UrlhausLayout::Country);
                }
                continue;
            }
            parsed.records += 1;
            let layout = match layout {
                Some(layout) => layout,
                None if line.fields.len() == 9 => UrlhausLayout::Recent,
                None if line.fields.len() == 8 => UrlhausLayout::Country,
                None => {
                    parsed.error(
                        line.line,
                        None,
                        format!(
                            "expected 8 (country feed) or 9 (csv_recent) columns, found {}",
                            line.fields.len()
                        ),
                        &line.raw,
                    );
                    continue;
                }
            };
            match urlhaus_line(report, &line, layout) {
                Ok(event) => {
                    parsed.events.push(ParsedEvent { event, line: line.line, raw: line.raw });
                }
                Err((column, message)) => parsed.error(line.line, Some(column), message, &line.raw),
            }
        }
        parsed
    }
}

fn urlhaus_line(
    report: &Report,
    line: &CsvLine,
    layout: UrlhausLayout,
) -> Result<Event, (&'static str, String)> {
    let f = |i: usize| line.fields.get(i).map_or("", String::as_str);
    let mut event = new_event(report);
    let (time, url, status, threat) = match layout {
        UrlhausLayout::Country => (f(0), f(1), f(2), f(3)),
        UrlhausLayout::Recent => (f(1), f(2), f(3), f(5)),
    };
    if !time.is_empty() {
        let normalized = time_text(time).ok_or(("dateadded", format!("{time:?} is not a time")))?;
        event.set("time.source", &normalized).map_err(|e| ("dateadded", e.to_string()))?;
    }
    let url = if !url.is_empty() && !url.contains("://") { format!("http://{url}") } else { url.to_owned() };
    event.set("source.url", &url).map_err(|e| ("url", e.to_string()))?;
    event.set("status", status).map_err(|e| ("url_status", e.to_string()))?;
    // `classification.type|__IGNORE__`
    let _ = event.set("classification.type", urlhaus_type(threat));
    match layout {
        UrlhausLayout::Country => {
            // `source.fqdn|__IGNORE__`: the host may be an address.
            let _ = event.set("source.fqdn", f(4));
            event.set("source.ip", f(5)).map_err(|e| ("IPaddress", e.to_string()))?;
            event.set("source.asn", f(6)).map_err(|e| ("ASnumber", e.to_string()))?;
            event.set("source.geolocation.cc", f(7)).map_err(|e| ("Country", e.to_string()))?;
        }
        UrlhausLayout::Recent => {
            let _ = event.set("extra.urlhaus_id", f(0));
            let _ = event.set("extra.last_online", f(4));
            let _ = event.set("extra.tags", f(6));
            if event.set("event_description.url", f(7)).is_err() {
                let _ = event.set("extra.urlhaus_link", f(7));
            }
            let _ = event.set("extra.reporter", f(8));
        }
    }
    event.set_raw(line.raw.as_bytes());
    Ok(event)
}

/// ThreatFox (`abusech-threatfox`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreatFoxParser;

impl FeedParser for ThreatFoxParser {
    fn name(&self) -> &'static str {
        "abusech-threatfox"
    }

    fn description(&self) -> &'static str {
        "abuse.ch ThreatFox IOCs (JSON export, API answer or CSV export)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            threatfox_json(report, &text)
        } else {
            threatfox_csv(report)
        }
    }
}

/// One IOC, whichever format it came from.
struct Ioc<'a> {
    id: Option<String>,
    value: &'a str,
    ioc_type: &'a str,
    threat_type: &'a str,
    malware: &'a str,
    malware_printable: &'a str,
    malware_alias: &'a str,
    first_seen: &'a str,
    last_seen: &'a str,
    confidence: &'a str,
    reference: &'a str,
    tags: String,
    reporter: &'a str,
}

fn threatfox_json(report: &Report, text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let Some(root) = json::parse_document(text, &mut parsed) else {
        return parsed;
    };
    // (id, object) pairs in document order of the three shapes.
    let mut items: Vec<(Option<String>, &serde_json::Value)> = Vec::new();
    match &root {
        serde_json::Value::Array(list) => items.extend(list.iter().map(|v| (None, v))),
        serde_json::Value::Object(map) => {
            if let Some(data) = map.get("data") {
                if map.get("query_status").and_then(|s| s.as_str()).is_some_and(|s| s != "ok") {
                    let status = map.get("query_status").and_then(|s| s.as_str()).unwrap_or("");
                    parsed.error(1, Some("query_status"), format!("ThreatFox answered {status:?}"), "");
                    return parsed;
                }
                match data.as_array() {
                    Some(list) => items.extend(list.iter().map(|v| (None, v))),
                    None => {
                        parsed.error(1, Some("data"), "not a JSON list", &pyjson::dumps(data));
                        return parsed;
                    }
                }
            } else {
                for (id, value) in map {
                    match value.as_array() {
                        Some(list) => items.extend(list.iter().map(|v| (Some(id.clone()), v))),
                        None => items.push((Some(id.clone()), value)),
                    }
                }
            }
        }
        _ => {
            parsed.error(1, None, "neither a JSON object nor a list", crate::truncate(text, 4096));
            return parsed;
        }
    }
    for (index, (id, item)) in items.into_iter().enumerate() {
        let record = index as u64 + 1;
        parsed.records += 1;
        let raw = pyjson::dumps(item);
        let Some(object) = item.as_object() else {
            parsed.error(record, None, "not a JSON object", &raw);
            continue;
        };
        let s = |keys: &[&str]| -> &str {
            keys.iter().find_map(|k| object.get(*k).and_then(|v| v.as_str())).unwrap_or("")
        };
        let tags = match object.get("tags") {
            Some(serde_json::Value::Array(tags)) => {
                tags.iter().filter_map(|t| t.as_str()).collect::<Vec<_>>().join(",")
            }
            Some(serde_json::Value::String(tags)) => tags.clone(),
            _ => String::new(),
        };
        let confidence = object.get("confidence_level").map(|c| match c {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let id =
            id.or_else(|| object.get("id").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)));
        let ioc = Ioc {
            id,
            value: s(&["ioc_value", "ioc"]),
            ioc_type: s(&["ioc_type"]),
            threat_type: s(&["threat_type"]),
            malware: s(&["malware", "fk_malware"]),
            malware_printable: s(&["malware_printable"]),
            malware_alias: s(&["malware_alias"]),
            first_seen: s(&["first_seen_utc", "first_seen"]),
            last_seen: s(&["last_seen_utc", "last_seen"]),
            confidence: confidence.as_deref().unwrap_or(""),
            reference: s(&["reference"]),
            tags,
            reporter: s(&["reporter"]),
        };
        match threatfox_event(report, &ioc, &raw) {
            Ok(event) => parsed.events.push(ParsedEvent { event, line: record, raw }),
            Err((field, message)) => parsed.error(record, Some(field), message, &raw),
        }
    }
    parsed
}

fn threatfox_csv(report: &Report) -> Parsed {
    let mut parsed = Parsed::default();
    let mut header: Vec<String> = [
        "first_seen_utc",
        "ioc_id",
        "ioc_value",
        "ioc_type",
        "threat_type",
        "fk_malware",
        "malware_alias",
        "malware_printable",
        "last_seen_utc",
        "confidence_level",
        "reference",
        "tags",
        "anonymous",
        "reporter",
    ]
    .map(String::from)
    .to_vec();
    for line in read_csv(&report.raw, b',') {
        let Some(line) = readable(line, &mut parsed) else { continue };
        if line.comment {
            let names = line.header_names();
            if names.iter().any(|n| n == "ioc_value") {
                header = names;
            }
            continue;
        }
        parsed.records += 1;
        // The export writes Python's `None` for missing values.
        let get = |names: &[&str]| match field(&line.fields, column(&header, names)) {
            "None" => "",
            value => value,
        };
        let id = get(&["ioc_id", "id"]);
        let ioc = Ioc {
            id: (!id.is_empty()).then(|| id.to_owned()),
            value: get(&["ioc_value", "ioc"]),
            ioc_type: get(&["ioc_type"]),
            threat_type: get(&["threat_type"]),
            malware: get(&["fk_malware", "malware"]),
            malware_printable: get(&["malware_printable"]),
            malware_alias: get(&["malware_alias"]),
            first_seen: get(&["first_seen_utc", "first_seen"]),
            last_seen: get(&["last_seen_utc", "last_seen"]),
            confidence: get(&["confidence_level"]),
            reference: get(&["reference"]),
            tags: get(&["tags"]).to_owned(),
            reporter: get(&["reporter"]),
        };
        match threatfox_event(report, &ioc, &line.raw) {
            Ok(event) => parsed.events.push(ParsedEvent { event, line: line.line, raw: line.raw }),
            Err((field, message)) => parsed.error(line.line, Some(field), message, &line.raw),
        }
    }
    parsed
}

fn threatfox_event(report: &Report, ioc: &Ioc<'_>, raw: &str) -> Result<Event, (&'static str, String)> {
    let mut event = new_event(report);
    let value = ioc.value.trim();
    if value.is_empty() {
        return Err(("ioc_value", "the IOC is empty".to_owned()));
    }
    let set = |event: &mut Event, name: &str, text: &str| {
        event.set(name, text).map_err(|e| ("ioc_value", e.to_string()))
    };
    match ioc.ioc_type {
        "ip:port" => {
            let (ip, port) =
                split_ip_port(value).ok_or(("ioc_value", format!("{value:?} is not ip:port")))?;
            set(&mut event, "source.ip", ip)?;
            set(&mut event, "source.port", port)?;
        }
        "domain" => set(&mut event, "source.fqdn", value)?,
        "url" => set(&mut event, "source.url", value)?,
        "md5_hash" => set(&mut event, "malware.hash.md5", hex_hash(value, 32)?)?,
        "sha1_hash" => set(&mut event, "malware.hash.sha1", hex_hash(value, 40)?)?,
        "sha256_hash" => set(&mut event, "malware.hash.sha256", hex_hash(value, 64)?)?,
        other => return Err(("ioc_type", format!("unsupported IOC type {other:?}"))),
    }
    let classification = match ioc.threat_type {
        "botnet_cc" => "c2-server",
        "payload_delivery" | "cc_skimming" => "malware-distribution",
        "payload" => "malware",
        _ => "undetermined",
    };
    let _ = event.set("classification.type", classification);
    let _ = event.set("extra.threat_type", ioc.threat_type);
    if !ioc.first_seen.is_empty() {
        let time =
            time_text(ioc.first_seen).ok_or(("first_seen", format!("{:?} is not a time", ioc.first_seen)))?;
        event.set("time.source", &time).map_err(|e| ("first_seen", e.to_string()))?;
    }
    if let Some(time) = time_text(ioc.last_seen) {
        let _ = event.set("extra.last_seen", &time);
    }
    let _ = event.set("malware.name", ioc.malware_printable);
    let _ = event.set("classification.identifier", ioc.malware);
    let _ = event.set("extra.malware_alias", ioc.malware_alias);
    if let Ok(confidence) = ioc.confidence.trim().parse::<i64>() {
        let _ = event.set_json("extra.confidence_level", serde_json::Value::from(confidence));
    }
    if !ioc.reference.is_empty() && event.set("event_description.url", ioc.reference).is_err() {
        let _ = event.set("extra.reference", ioc.reference);
    }
    let _ = event.set("extra.tags", &ioc.tags);
    let _ = event.set("extra.reporter", ioc.reporter);
    if let Some(id) = &ioc.id {
        let _ = event.set("extra.threatfox_id", id);
    }
    event.set_raw(raw.as_bytes());
    Ok(event)
}

/// A hash of `len` hexadecimal digits.
fn hex_hash(value: &str, len: usize) -> Result<&str, (&'static str, String)> {
    if value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value)
    } else {
        Err(("ioc_value", format!("{value:?} is not a hash of {len} hexadecimal digits")))
    }
}

/// `1.2.3.4:80` or `[2001:db8::1]:80`.
fn split_ip_port(value: &str) -> Option<(&str, &str)> {
    if let Some(rest) = value.strip_prefix('[') {
        let (ip, port) = rest.split_once("]:")?;
        return Some((ip, port));
    }
    let (ip, port) = value.rsplit_once(':')?;
    (!ip.is_empty() && !port.is_empty()).then_some((ip, port))
}
