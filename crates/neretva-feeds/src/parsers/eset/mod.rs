//! ESET Threat Intelligence (`eset`): the domain and URL feeds of ESET's TAXII service, a JSON
//! list of objects, as IntelMQ 3.5.0's `ESETParserBot` reads them.
//!
//! Which feed a report is comes from the report's `extra.eset_feed` (as IntelMQ's ESET collector
//! names it: `ei.domains v2 (json)` or `ei.urls (json)`), else from the parser's option `feed`,
//! else from the first object (a `url` member makes it the URL feed). Each object is an event with
//! `event_description.text` its `reason`, `classification.type` by the reason (malware
//! distribution, phishing, a command and control server, else `other`), `source.fqdn` its
//! `domain` when that is a domain name, `source.ip` its `ip` unless it is an `…_NXDOMAIN` marker,
//! `extra.eset_feed` the feed, and `time.source` its `last_seen` (domains) or
//! `domain_last_seen` with `source.url` its `url` (URLs). `raw` is the object as
//! `json.dumps(…, sort_keys=True)` writes it. An object of an unknown feed, or with a value its
//! field does not take, is an error.

use neretva_event::FieldId;

use crate::parsers::common::json::{self, set_json_value};
use crate::parsers::common::pyjson;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(EsetParser::default())]
}

/// The domain feed's name.
pub const DOMAINS: &str = "ei.domains v2 (json)";
/// The URL feed's name.
pub const URLS: &str = "ei.urls (json)";

/// ESET Threat Intelligence (`eset`).
#[derive(Debug, Clone, Default)]
pub struct EsetParser {
    feed: Option<String>,
}

impl EsetParser {
    /// A parser of one of the feeds ([`DOMAINS`] or [`URLS`]) for reports that do not name theirs.
    pub fn for_feed(feed: &str) -> Result<Self, String> {
        if feed == DOMAINS || feed == URLS {
            Ok(Self { feed: Some(feed.to_owned()) })
        } else {
            Err(format!("feed: unknown ESET feed {feed:?}; expected {DOMAINS:?} or {URLS:?}"))
        }
    }
}

/// IntelMQ's reasons with their classification types.
const REASONS: &[(&str, &str)] = &[
    (
        "Host actively distributes high-severity threat in the form of executable code.",
        "malware-distribution",
    ),
    ("Host is known to be distributing low-risk and potentially unwanted content.", "malware-distribution"),
    ("Host is known source of phishing or other fraudulent content.", "phishing"),
    ("Host is known to be actively distributing adware or other medium-risk software.", "other"),
    ("Host is known source of active fraudulent content.", "other"),
];

fn classification(reason: &str) -> &'static str {
    match REASONS.iter().find(|(known, _)| *known == reason) {
        Some((_, kind)) => kind,
        None if reason.starts_with("Host is used as command and control server") => "c2-server",
        None => "other",
    }
}

impl FeedParser for EsetParser {
    fn name(&self) -> &'static str {
        "eset"
    }

    fn description(&self) -> &'static str {
        "ESET Threat Intelligence domain and URL feeds (JSON from ESET's TAXII service)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let mut parsed = Parsed::default();
        let named = report.extra("eset_feed").and_then(serde_json::Value::as_str).map(str::to_owned);
        let mut feed = named.or_else(|| self.feed.clone());
        json::for_each_element(&text, &mut parsed, |parsed, line, item| {
            let value = serde_json::from_str::<serde_json::Value>(item).unwrap_or_default();
            let Some(object) = value.as_object() else {
                return parsed.error(line, None, "not a JSON object", item);
            };
            let feed = feed
                .get_or_insert_with(|| if object.contains_key("url") { URLS } else { DOMAINS }.to_owned());
            let mut raw = String::new();
            pyjson::json_dumps(&mut raw, &value);
            let mut event = report.new_event();
            match fill(&mut event, feed, object) {
                Ok(()) => {
                    event.set_raw(raw.as_bytes());
                    parsed.events.push(ParsedEvent { event, line, raw });
                }
                Err((key, message)) => parsed.error(line, Some(key), message, &raw),
            }
        });
        parsed
    }
}

fn fill(
    event: &mut Event,
    feed: &str,
    object: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), (&'static str, String)> {
    let get = |key: &'static str| object.get(key).ok_or((key, format!("the object has no {key}")));
    let set = |event: &mut Event, key: &'static str, field: &str, value: &serde_json::Value| {
        set_json_value(event, field, value).map_err(|error| (key, error.to_string()))
    };
    let reason = get("reason")?;
    let Some(reason_text) = reason.as_str() else {
        return Err(("reason", "reason is not text".to_owned()));
    };
    set(event, "reason", "event_description.text", reason)?;
    let _ = event.set_id(FieldId::CLASSIFICATION_TYPE, classification(reason_text));
    // The domain may be an address; then it is not a domain name and left out, as in IntelMQ.
    let _ = set_json_value(event, "source.fqdn", get("domain")?);
    let ip = get("ip")?;
    if json::truthy(ip) && !ip.as_str().is_some_and(|ip| ip.ends_with("_NXDOMAIN")) {
        set(event, "ip", "source.ip", ip)?;
    }
    set(event, "eset_feed", "extra.eset_feed", &serde_json::json!(feed))?;
    match feed {
        DOMAINS => set(event, "last_seen", "time.source", get("last_seen")?),
        URLS => {
            set(event, "domain_last_seen", "time.source", get("domain_last_seen")?)?;
            set(event, "url", "source.url", get("url")?)
        }
        _ => Err(("eset_feed", format!("unknown ESET feed {feed:?}; expected {DOMAINS:?} or {URLS:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{DOMAINS, URLS};
    use crate::Report;

    /// A report that does not name its feed is read as the configured one; the option takes
    /// only ESET's two feed names.
    #[test]
    fn the_feed_option() {
        let options = |feed: &str| BTreeMap::from([("feed".to_owned(), serde_json::json!(feed))]);
        let parser = crate::configured("eset", &options(URLS)).unwrap_or_else(|e| panic!("{e:?}"));
        let raw = br#"[{"reason": "x", "domain": "a.example", "ip": null, "domain_last_seen": "2026-11-29 12:00:00 UTC", "url": "http://a.example/x"}]"#;
        let parsed = parser.parse(&Report::new("eset", None, raw.to_vec()));
        assert_eq!(parsed.events[0].event.get_str("extra.eset_feed"), Some(URLS));
        assert!(crate::configured("eset", &options(DOMAINS)).is_ok());
        let errors = crate::configured("eset", &options("ei.files")).err().unwrap_or_default();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("unknown ESET feed \"ei.files\""), "{errors:?}");
    }
}
