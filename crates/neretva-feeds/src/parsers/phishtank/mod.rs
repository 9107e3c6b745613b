//! PhishTank (`phishtank`): the `online-valid` data dump as JSON or CSV.
//!
//! JSON: a list of `{"phish_id", "url", "phish_detail_url", "submission_time", "verified",
//! "verification_time", "online", "target", "details": [{"ip_address", "cidr_block",
//! "announcing_network", "rir", "country", …}]}`; `raw` is IntelMQ's `recover_line_json`
//! (`json.dumps([record])`, key order kept). CSV: the header
//! `phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target`.
//!
//! Fields, as IntelMQ 3.5.0's `PhishTankParserBot` sets them: `source.url`,
//! `event_description.url` (the detail page), `event_description.target`, `time.source` (the
//! submission time), `classification.type` `phishing`, `status` `online` (the dump lists only
//! phishing sites that are online), `extra.phishtank.phish_id`, `extra.phishtank.verified` and
//! `extra.phishtank.verification_time` (values as the feed gives them), and from the first
//! `details` entry `source.ip`, `source.network`, `source.asn` and `source.geolocation.cc` (the
//! entry's `rir` is left to the enrichment that fills `source.registry`). A record without a
//! valid URL is an error; other invalid values are left out. IntelMQ's own PhishTank test case
//! runs in `tests/conformance_structured.rs`.

use neretva_event::FieldId;

use crate::parsers::common::feed_csv::{column, field, read_csv, readable};
use crate::parsers::common::json::{self, set_json_value};
use crate::parsers::shadowserver::timestamp;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(PhishTankParser)]
}

/// PhishTank (`phishtank`).
#[derive(Debug, Clone, Copy, Default)]
pub struct PhishTankParser;

impl FeedParser for PhishTankParser {
    fn name(&self) -> &'static str {
        "phishtank"
    }

    fn description(&self) -> &'static str {
        "PhishTank verified phishing URLs (online-valid JSON or CSV dump)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        if text.trim_start().starts_with('[') { parse_json(report, &text) } else { parse_csv(report) }
    }
}

fn set_time(event: &mut Event, id: FieldId, text: &str) -> bool {
    match timestamp::parse(text).and_then(timestamp::Utc::to_time) {
        Some(t) => event.set_value_id(id, neretva_event::Value::Time(t)).is_ok(),
        None => false,
    }
}

/// The fields every PhishTank event has: the dump lists online phishing sites only.
fn set_constants(event: &mut Event) {
    let _ = event.set_id(FieldId::CLASSIFICATION_TYPE, "phishing");
    let _ = event.set_id(FieldId::STATUS, "online");
}

fn parse_json(report: &Report, text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    json::for_each_element(text, &mut parsed, |parsed, line, item_text| {
        let Some(object) =
            serde_json::from_str::<serde_json::Value>(item_text).ok().filter(|v| v.is_object())
        else {
            parsed.error(line, None, "not a JSON object", item_text);
            return;
        };
        let raw = json::recover_line_json(item_text);
        let mut event = report.new_event();
        let get = |key: &str| object.get(key).filter(|v| !v.is_null());
        let url = get("url").and_then(|v| v.as_str()).unwrap_or("");
        if let Err(e) = event.set_id(FieldId::SOURCE_URL, url) {
            parsed.error(line, Some("url"), e.to_string(), &raw);
            return;
        }
        if url.is_empty() {
            parsed.error(line, Some("url"), "the record has no URL", &raw);
            return;
        }
        set_constants(&mut event);
        for (name, key) in [
            ("event_description.url", "phish_detail_url"),
            ("event_description.target", "target"),
            ("extra.phishtank.phish_id", "phish_id"),
            ("extra.phishtank.verified", "verified"),
            ("extra.phishtank.verification_time", "verification_time"),
        ] {
            if let Some(value) = get(key) {
                let _ = set_json_value(&mut event, name, value);
            }
        }
        if let Some(submitted) = get("submission_time").and_then(|v| v.as_str()) {
            set_time(&mut event, FieldId::TIME_SOURCE, submitted);
        }
        if let Some(detail) = get("details").and_then(|d| d.as_array()).and_then(|d| d.first()) {
            for (name, key) in [
                ("source.ip", "ip_address"),
                ("source.network", "cidr_block"),
                ("source.asn", "announcing_network"),
                ("source.geolocation.cc", "country"),
            ] {
                if let Some(value) = detail.get(key) {
                    let _ = set_json_value(&mut event, name, value);
                }
            }
        }
        event.set_raw(raw.as_bytes());
        parsed.events.push(ParsedEvent { event, line, raw });
    });
    parsed
}

fn parse_csv(report: &Report) -> Parsed {
    let mut parsed = Parsed::default();
    let mut header: Vec<String> = [
        "phish_id",
        "url",
        "phish_detail_url",
        "submission_time",
        "verified",
        "verification_time",
        "online",
        "target",
    ]
    .map(String::from)
    .to_vec();
    for line in read_csv(&report.raw, b',') {
        let Some(line) = readable(line, &mut parsed) else { continue };
        if line.comment {
            continue;
        }
        if line.fields.iter().any(|f| f == "phish_id") && line.fields.iter().any(|f| f == "url") {
            header = line.fields.iter().map(|f| f.to_ascii_lowercase()).collect();
            continue;
        }
        parsed.records += 1;
        let get = |name: &str| field(&line.fields, column(&header, &[name]));
        let mut event = report.new_event();
        let url = get("url");
        if url.is_empty() {
            parsed.error(line.line, Some("url"), "the record has no URL", &line.raw);
            continue;
        }
        if let Err(e) = event.set_id(FieldId::SOURCE_URL, url) {
            parsed.error(line.line, Some("url"), e.to_string(), &line.raw);
            continue;
        }
        set_constants(&mut event);
        let _ = event.set("event_description.url", get("phish_detail_url"));
        let _ = event.set("event_description.target", get("target"));
        let _ = event.set("extra.phishtank.phish_id", get("phish_id"));
        let _ = event.set("extra.phishtank.verified", get("verified"));
        let _ = event.set("extra.phishtank.verification_time", get("verification_time"));
        set_time(&mut event, FieldId::TIME_SOURCE, get("submission_time"));
        event.set_raw(line.raw.as_bytes());
        parsed.events.push(ParsedEvent { event, line: line.line, raw: line.raw });
    }
    parsed
}
