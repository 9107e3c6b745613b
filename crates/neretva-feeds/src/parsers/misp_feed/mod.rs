//! MISP feeds: a MISP event as JSON (`misp-feed`) and MISP's CSV export (`misp-feed-csv`).
//!
//! `misp-feed` reads one MISP event per report: a feed event file (`{"Event": {…}}`), a
//! `restSearch` answer (`{"response": [{"Event": …}]}`), a list of events, or a bare event (as
//! IntelMQ's fixture). It makes one event per attribute whose category is `Payload delivery`,
//! `Artifacts dropped`, `Payload installation` or `Network activity` and whose type maps to a
//! field, following IntelMQ 3.5.0's `MISPParserBot`: `raw` is the attribute as
//! `json.dumps(attribute, sort_keys=True)`, `misp.event_uuid`, `misp.attribute_uuid`, `comment`,
//! `event_description.text` (the category), `event_description.url` (`events/view/<id>` on
//! `feed.url`), `malware.name` (the last valid `Payload type` attribute, lower case),
//! `classification.type` from the event's `ecsirt:` tag and `time.source` from the attribute's
//! timestamp.
//!
//! Deliberate differences from IntelMQ (switched off by [`MispFeedParser::intelmq_compatible`],
//! which the conformance test uses):
//!
//! - Only attributes marked `to_ids` become events (IntelMQ takes every attribute).
//! - More types: `sha256`, `ip-src|port`, `ip-dst|port`, `domain|ip`, `hostname|port`,
//!   `filename|md5`, `filename|sha1`, `filename|sha256`, `email-src`, `email`.
//! - Attributes inside MISP objects are read too.
//! - `rsit:` tags classify as well as `ecsirt:` tags; without either, the category decides
//!   (`Payload delivery` → `malware-distribution`, `Artifacts dropped` and `Payload installation`
//!   → `malware`, `Network activity` → `c2-server`).
//! - A `tlp:` tag of the event or attribute sets `tlp`.
//!
//! `misp-feed-csv` reads MISP's CSV export (`uuid,event_id,category,type,value,comment,to_ids,
//! timestamp…`, header required or the default order), with the same type mapping, `to_ids`
//! filter and category classification.

use neretva_event::FieldId;

use crate::parsers::common::feed_csv::{column, field, read_csv, readable};
use crate::parsers::common::{json, pyjson};
use crate::parsers::shadowserver::timestamp;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(MispFeedParser::new()), Box::new(MispCsvParser)]
}

/// IntelMQ's mapping of the ecsirt taxonomy tags (IntelMQ 3.5.0, RSIT names).
const ECSIRT_TAGS: &[(&str, &str)] = &[
    ("ecsirt:fraud=\"phishing\"", "phishing"),
    ("ecsirt:availability=\"ddos\"", "ddos"),
    ("ecsirt:abusive-content=\"spam\"", "spam"),
    ("ecsirt:information-gathering=\"scanner\"", "scanner"),
    ("ecsirt:information-content-security=\"dropzone\"", "other"),
    ("ecsirt:malicious-code=\"malware\"", "infected-system"),
    ("ecsirt:malicious-code=\"botnet-drone\"", "infected-system"),
    ("ecsirt:malicious-code=\"ransomware\"", "infected-system"),
    ("ecsirt:malicious-code=\"malware-configuration\"", "malware-configuration"),
    ("ecsirt:malicious-code=\"c&c\"", "c2-server"),
    ("ecsirt:intrusion-attempts=\"exploit\"", "exploit"),
    ("ecsirt:intrusion-attempts=\"brute-force\"", "brute-force"),
    ("ecsirt:intrusion-attempts=\"ids-alert\"", "ids-alert"),
    ("ecsirt:intrusions=\"defacement\"", "unauthorised-information-modification"),
    ("ecsirt:intrusions=\"compromised\"", "system-compromise"),
    ("ecsirt:intrusions=\"backdoor\"", "system-compromise"),
    ("ecsirt:vulnerable=\"vulnerable-service\"", "vulnerable-system"),
    ("ecsirt:other=\"blacklist\"", "blacklist"),
    ("ecsirt:other=\"unknown\"", "undetermined"),
    ("ecsirt:test=\"test\"", "test"),
];

/// The categories whose attributes become events.
const CATEGORIES: [&str; 4] =
    ["Payload delivery", "Artifacts dropped", "Payload installation", "Network activity"];

/// IntelMQ's type mapping.
fn intelmq_type(misp_type: &str) -> Option<&'static str> {
    Some(match misp_type {
        "domain" | "hostname" => "source.fqdn",
        "md5" => "malware.hash.md5",
        "sha1" => "malware.hash.sha1",
        "ip-src" | "ip-dst" => "source.ip",
        "email-src" => "source.account",
        "url" => "source.url",
        _ => return None,
    })
}

/// Neretva's type mapping: the fields each `|`-separated part of the value goes to.
fn neretva_type(misp_type: &str) -> Option<&'static [&'static str]> {
    Some(match misp_type {
        "domain" | "hostname" => &["source.fqdn"],
        "md5" => &["malware.hash.md5"],
        "sha1" => &["malware.hash.sha1"],
        "sha256" => &["malware.hash.sha256"],
        "ip-src" | "ip-dst" => &["source.ip"],
        "email-src" | "email" => &["source.account"],
        "url" => &["source.url"],
        "ip-src|port" | "ip-dst|port" => &["source.ip", "source.port"],
        "domain|ip" => &["source.fqdn", "source.ip"],
        "hostname|port" => &["source.fqdn", "source.port"],
        "filename|md5" => &["malware.name", "malware.hash.md5"],
        "filename|sha1" => &["malware.name", "malware.hash.sha1"],
        "filename|sha256" => &["malware.name", "malware.hash.sha256"],
        _ => return None,
    })
}

fn category_type(category: &str) -> Option<&'static str> {
    match category {
        "Payload delivery" => Some("malware-distribution"),
        "Artifacts dropped" | "Payload installation" => Some("malware"),
        "Network activity" => Some("c2-server"),
        _ => None,
    }
}

/// `rsit:malicious-code="c2-server"` → `c2-server`.
fn rsit_tag(tag: &str) -> Option<&str> {
    let rest = tag.strip_prefix("rsit:")?;
    let (_, value) = rest.split_once('=')?;
    let value = value.trim_matches('"');
    neretva_event::taxonomy::canonical_type(value)
}

/// `tlp:amber+strict` → `AMBER+STRICT`.
fn tlp_tag(tag: &str) -> Option<String> {
    let value = tag.strip_prefix("tlp:")?.trim_matches('"');
    Some(value.to_ascii_uppercase())
}

/// Python's `urljoin(base, "events/view/<id>")` for a relative path.
fn join_url(base: &str, path: &str) -> String {
    match base.rfind('/') {
        Some(i) if base[..i].contains("://") && i + 1 > base.find("://").map_or(0, |p| p + 3) => {
            format!("{}{path}", &base[..=i])
        }
        _ => format!("{base}/{path}"),
    }
}

/// The MISP event parser (`misp-feed`).
#[derive(Debug, Clone, Copy)]
pub struct MispFeedParser {
    intelmq: bool,
}

impl Default for MispFeedParser {
    fn default() -> Self {
        Self::new()
    }
}

impl MispFeedParser {
    /// Neretva's parser: `to_ids` attributes only, extended mapping.
    pub fn new() -> Self {
        Self { intelmq: false }
    }

    /// IntelMQ 3.5.0's behaviour exactly: every attribute, IntelMQ's types, `ecsirt:` tags only.
    pub fn intelmq_compatible() -> Self {
        Self { intelmq: true }
    }
}

impl FeedParser for MispFeedParser {
    fn name(&self) -> &'static str {
        "misp-feed"
    }

    fn description(&self) -> &'static str {
        "MISP feed event (JSON): one event per to_ids network or payload attribute"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let text = String::from_utf8_lossy(&report.raw);
        let Some(root) = json::parse_document(&text, &mut parsed) else {
            return parsed;
        };
        let mut events = Vec::new();
        collect_events(&root, &mut events);
        if events.is_empty() {
            parsed.error(
                1,
                None,
                "no MISP event (an object with \"Attribute\" or \"Event\")",
                crate::truncate(&text, 4096),
            );
            return parsed;
        }
        let mut record = 0u64;
        for misp_event in events {
            self.parse_event(report, misp_event, &mut record, &mut parsed);
        }
        parsed
    }
}

fn collect_events<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_events(item, out)),
        serde_json::Value::Object(map) => {
            if let Some(inner) = map.get("Event") {
                collect_events(inner, out);
            } else if let Some(inner) = map.get("response") {
                collect_events(inner, out);
            } else if map.contains_key("Attribute") || map.contains_key("Object") {
                out.push(value);
            }
        }
        _ => {}
    }
}

fn tag_names(value: &serde_json::Value) -> Vec<&str> {
    value
        .get("Tag")
        .and_then(|t| t.as_array())
        .map(|tags| tags.iter().filter_map(|t| t.get("name").and_then(|n| n.as_str())).collect())
        .unwrap_or_default()
}

fn text_of(value: Option<&serde_json::Value>) -> String {
    match value {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn is_true(value: Option<&serde_json::Value>) -> bool {
    match value {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => matches!(s.as_str(), "1" | "true" | "True"),
        Some(serde_json::Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

impl MispFeedParser {
    fn parse_event(
        &self,
        report: &Report,
        misp_event: &serde_json::Value,
        record: &mut u64,
        parsed: &mut Parsed,
    ) {
        let tags = tag_names(misp_event);
        let classifier = tags
            .iter()
            .find_map(|tag| ECSIRT_TAGS.iter().find(|(name, _)| name == tag).map(|(_, ty)| *ty))
            .or_else(|| if self.intelmq { None } else { tags.iter().find_map(|t| rsit_tag(t)) });
        let event_tlp = if self.intelmq { None } else { tags.iter().find_map(|t| tlp_tag(t)) };
        let mut attributes: Vec<&serde_json::Value> = misp_event
            .get("Attribute")
            .and_then(|a| a.as_array())
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        if !self.intelmq
            && let Some(objects) = misp_event.get("Object").and_then(|o| o.as_array())
        {
            for object in objects {
                if let Some(list) = object.get("Attribute").and_then(|a| a.as_array()) {
                    attributes.extend(list);
                }
            }
        }
        // The malware variant: the last valid `Payload type` value, lower case.
        let mut malware = None;
        for attribute in &attributes {
            if attribute.get("category").and_then(|c| c.as_str()) == Some("Payload type") {
                let value = text_of(attribute.get("value")).to_lowercase();
                let mut probe = Event::new();
                if !value.is_empty() && probe.set_id(FieldId::MALWARE_NAME, &value).is_ok() {
                    malware = Some(value);
                }
            }
        }
        let event_url = match (&report.feed_url, misp_event.get("id")) {
            (Some(base), Some(id)) => Some(join_url(base, &format!("events/view/{}", text_of(Some(id))))),
            _ => None,
        };
        let event_uuid = text_of(misp_event.get("uuid"));
        for attribute in attributes {
            *record += 1;
            let raw = pyjson::dumps(attribute);
            let category = text_of(attribute.get("category"));
            let misp_type = text_of(attribute.get("type"));
            if !CATEGORIES.contains(&category.as_str()) {
                continue;
            }
            if !self.intelmq && !is_true(attribute.get("to_ids")) {
                continue;
            }
            let targets: Vec<&str> = if self.intelmq {
                match intelmq_type(&misp_type) {
                    Some(target) => vec![target],
                    None => continue,
                }
            } else {
                match neretva_type(&misp_type) {
                    Some(targets) => targets.to_vec(),
                    None => continue,
                }
            };
            parsed.records += 1;
            let value = text_of(attribute.get("value"));
            let attribute_uuid = text_of(attribute.get("uuid"));
            let mut event = report.new_event();
            let parts: Vec<&str> = if targets.len() == 1 {
                vec![value.as_str()]
            } else {
                value.splitn(targets.len(), '|').collect()
            };
            if parts.len() != targets.len() {
                parsed.error(
                    *record,
                    Some("value"),
                    format!(
                        "attribute {attribute_uuid} of type {misp_type}: {value:?} does not have {} parts",
                        targets.len()
                    ),
                    &raw,
                );
                continue;
            }
            if let Err(e) = targets.iter().zip(&parts).try_for_each(|(target, part)| event.set(target, part))
            {
                parsed.error(
                    *record,
                    Some("value"),
                    format!("attribute {attribute_uuid} of type {misp_type}: {e}"),
                    &raw,
                );
                continue;
            }
            let _ = event.set_id(FieldId::MISP_EVENT_UUID, &event_uuid);
            let _ = event.set_id(FieldId::MISP_ATTRIBUTE_UUID, &attribute_uuid);
            let _ = event.set_id(FieldId::COMMENT, &text_of(attribute.get("comment")));
            let _ = event.set_id(FieldId::EVENT_DESCRIPTION_TEXT, &category);
            if let Some(url) = &event_url {
                let _ = event.set_id(FieldId::EVENT_DESCRIPTION_URL, url);
            }
            if let Some(malware) = &malware
                && event.get_id(FieldId::MALWARE_NAME).is_none()
            {
                let _ = event.set_id(FieldId::MALWARE_NAME, malware);
            }
            let classification =
                classifier.or_else(|| if self.intelmq { None } else { category_type(&category) });
            if let Some(ty) = classification {
                let _ = event.set_id(FieldId::CLASSIFICATION_TYPE, ty);
            }
            if !self.intelmq {
                let tlp = tag_names(attribute).iter().find_map(|t| tlp_tag(t)).or_else(|| event_tlp.clone());
                if let Some(tlp) = tlp {
                    let _ = event.set_id(FieldId::TLP, &tlp);
                }
            }
            let timestamp = text_of(attribute.get("timestamp"));
            if let Some(t) = timestamp::parse(&timestamp).and_then(timestamp::Utc::to_time) {
                let _ = event.set_value_id(FieldId::TIME_SOURCE, neretva_event::Value::Time(t));
            }
            event.set_raw(raw.as_bytes());
            parsed.events.push(ParsedEvent { event, line: *record, raw });
        }
    }
}

/// MISP's CSV export (`misp-feed-csv`).
#[derive(Debug, Clone, Copy, Default)]
pub struct MispCsvParser;

impl FeedParser for MispCsvParser {
    fn name(&self) -> &'static str {
        "misp-feed-csv"
    }

    fn description(&self) -> &'static str {
        "MISP CSV export (uuid,event_id,category,type,value,comment,to_ids,timestamp…)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let mut header: Option<Vec<String>> = None;
        let default_header: Vec<String> =
            ["uuid", "event_id", "category", "type", "value", "comment", "to_ids", "timestamp"]
                .map(String::from)
                .to_vec();
        for line in read_csv(&report.raw, b',') {
            let Some(line) = readable(line, &mut parsed) else { continue };
            if line.comment {
                continue;
            }
            if header.is_none() {
                let names: Vec<String> = line.fields.iter().map(|f| f.trim().to_ascii_lowercase()).collect();
                if names.iter().any(|n| n == "type") && names.iter().any(|n| n == "value") {
                    header = Some(names);
                    continue;
                }
                header = Some(default_header.clone());
            }
            let header = header.as_deref().unwrap_or(&default_header);
            parsed.records += 1;
            let get = |names: &[&str]| field(&line.fields, column(header, names));
            let to_ids = get(&["to_ids"]);
            if !matches!(to_ids, "1" | "true" | "True" | "TRUE") {
                continue;
            }
            let misp_type = get(&["type"]);
            let Some(targets) = neretva_type(misp_type) else { continue };
            let value = get(&["value"]);
            let parts: Vec<&str> =
                if targets.len() == 1 { vec![value] } else { value.splitn(targets.len(), '|').collect() };
            if parts.len() != targets.len() {
                parsed.error(
                    line.line,
                    Some("value"),
                    format!("{value:?} is not a {misp_type} value"),
                    &line.raw,
                );
                continue;
            }
            let mut event = report.new_event();
            if let Err(e) = targets.iter().zip(&parts).try_for_each(|(target, part)| event.set(target, part))
            {
                parsed.error(line.line, Some("value"), e.to_string(), &line.raw);
                continue;
            }
            let category = get(&["category"]);
            let _ = event.set_id(FieldId::MISP_ATTRIBUTE_UUID, get(&["uuid"]));
            let _ = event.set_id(FieldId::MISP_EVENT_UUID, get(&["event_uuid"]));
            let _ = event.set_id(FieldId::COMMENT, get(&["comment"]));
            let _ = event.set_id(FieldId::EVENT_DESCRIPTION_TEXT, category);
            if let Some(ty) = category_type(category) {
                let _ = event.set_id(FieldId::CLASSIFICATION_TYPE, ty);
            }
            let _ = event.set("extra.misp_event_id", get(&["event_id"]));
            let time = get(&["timestamp", "date"]);
            if let Some(t) = timestamp::parse(time).and_then(timestamp::Utc::to_time) {
                let _ = event.set_value_id(FieldId::TIME_SOURCE, neretva_event::Value::Time(t));
            }
            event.set_raw(line.raw.as_bytes());
            parsed.events.push(ParsedEvent { event, line: line.line, raw: line.raw });
        }
        parsed
    }
}
