//! AlienVault OTX (`alienvault-otx`): the pulses of the Open Threat Exchange a CERT subscribes
//! to, as IntelMQ 3.5.0's `AlienVaultOTXParserBot` reads them: a JSON list of pulses (what
//! IntelMQ's OTX collector writes), or the API's page of them (`{"results": [...]}`).
//!
//! Every indicator of a pulse is an event of `classification.type` `blacklist`: a file hash is
//! `malware.hash.md5`, `.sha1` or `.sha256`; a `hostname` or `domain` `source.fqdn`, or
//! `source.url` when it has a path (`http://` put before it when it names no scheme); an
//! `IPv4` or `IPv6` address `source.ip`; an `email` `source.account`; a `URL` `source.url`
//! (with `http://` when it names no scheme), and a `URI` that is no URL `source.urlpath`; a
//! `CIDR` `source.network`; a `CVE` `extra.cve`. Indicators of other types (mutexes, file
//! paths, YARA rules, …) give no event. Each event has the pulse's description as `comment`,
//! its `TLP` as `tlp`, and `extra.author`, `extra.pulse` (the name), `extra.pulse_key` (the
//! indicator's, else the pulse's id), `extra.tags`, `extra.industries`, `extra.adversary`,
//! `extra.targeted_countries` (when not empty) and `extra.time_updated` (the pulse's
//! `modified`, written as IntelMQ writes it); a pulse whose description and lists would repeat
//! more than 64 MiB in its events leaves them out. `raw` is the indicator as `json.dumps(…,
//! sort_keys=True)` writes it.
//!
//! Each pulse is a record; an indicator that is not an object, lacks its `indicator`, `type`
//! or `created`, or whose value its field does not take is an error of that pulse's line.
//!
//! Deliberate differences from IntelMQ:
//! - `time.source` is the indicator's `created` in whole seconds, UTC. IntelMQ cuts four
//!   characters off the text and reads the rest, which is right only for times with
//!   milliseconds (`2015-09-02T09:21:53.093`): of the API's present form
//!   (`2016-11-03T20:15:44`) it makes `20:01:00`.
//! - An indicator that fails is an error of its own and the pulse's other indicators are
//!   events; IntelMQ drops the whole pulse.
//! - A pulse without `author_name`, `name` or `indicators` is an error naming the member;
//!   the API's page object is read as well as the collector's list.
//! - A pulse member that is `null` or empty text (`adversary: ""`) is left out of `extra`:
//!   IntelMQ writes it, but drops it when it reads its own event back.

use neretva_event::FieldId;
use serde_json::{Map, Value};

use crate::parsers::common::json::{self as common_json};
use crate::parsers::common::{pyjson, repeatable, url};
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(OtxParser)]
}

/// AlienVault OTX pulses (`alienvault-otx`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OtxParser;

/// The hash types and their fields.
const HASHES: &[(&str, &str)] = &[
    ("FileHash-SHA256", "malware.hash.sha256"),
    ("FileHash-SHA1", "malware.hash.sha1"),
    ("FileHash-MD5", "malware.hash.md5"),
];

/// The pulse's members that are lists (and the adversary), left out of its events with its
/// description when they would repeat past [`crate::parsers::common::REPEATED_BYTES`].
const LISTS: [&str; 4] = ["tags", "industries", "targeted_countries", "adversary"];

/// What went wrong with an indicator: the field or member concerned and the message.
type IndicatorError = (String, String);

impl FeedParser for OtxParser {
    fn name(&self) -> &'static str {
        "alienvault-otx"
    }

    fn description(&self) -> &'static str {
        "AlienVault OTX pulses (JSON): one event per indicator, with the pulse's author, name and tags"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let mut parsed = Parsed::default();
        // The API's page holds the pulses in `results`.
        common_json::for_each_listed(&text, "results", &mut parsed, |parsed, line, item| {
            let pulse = serde_json::from_str::<Value>(item).unwrap_or_default();
            read_pulse(report, &pulse, line, item, parsed);
        });
        parsed
    }
}

/// The events of one pulse, or its errors.
fn read_pulse(report: &Report, pulse: &Value, line: u64, pulse_text: &str, parsed: &mut Parsed) {
    let Some(pulse) = pulse.as_object() else {
        return parsed.error(line, None, "a pulse is not a JSON object", crate::truncate(pulse_text, 4096));
    };
    let mut common = match pulse_members(pulse) {
        Ok(members) => members,
        Err((member, message)) => {
            return parsed.error(line, Some(&member), message, crate::truncate(pulse_text, 4096));
        }
    };
    let Some(indicators) = pulse.get("indicators").and_then(Value::as_array) else {
        let message = "the pulse has no `indicators` list";
        return parsed.error(line, Some("indicators"), message, crate::truncate(pulse_text, 4096));
    };
    // Every indicator's event repeats the pulse's description and lists; a pulse whose would
    // repeat past the budget leaves them out.
    let description = pulse.get("description").map_or(0, |d| d.to_string().len());
    let listed: usize = LISTS.iter().filter_map(|key| common.get(*key)).map(|v| v.to_string().len()).sum();
    let describe = repeatable(indicators.len(), description + listed);
    if !describe {
        for key in LISTS {
            common.remove(key);
        }
    }
    for (index, indicator) in indicators.iter().enumerate() {
        let raw = pyjson::dumps(indicator);
        match indicator_event(report, pulse, &mut common, indicator, describe) {
            Ok(Some(mut event)) => {
                event.set_raw(raw.as_bytes());
                parsed.events.push(ParsedEvent { event, line, raw });
            }
            Ok(None) => {}
            Err((field, message)) => {
                let message = format!("indicator {}: {message}", index + 1);
                parsed.error(line, Some(field.as_str()).filter(|f| !f.is_empty()), message, &raw);
            }
        }
    }
}

/// What every event of a pulse shares: the `extra` members IntelMQ builds from the pulse.
fn pulse_members(pulse: &Map<String, Value>) -> Result<Map<String, Value>, IndicatorError> {
    let mut members = Map::new();
    for (key, member) in [("author_name", "author"), ("name", "pulse")] {
        let value = pulse.get(key).ok_or_else(|| (key.to_owned(), format!("the pulse has no `{key}`")))?;
        members.insert(member.to_owned(), value.clone());
    }
    if let Some(tags) = pulse.get("tags") {
        members.insert("tags".to_owned(), tags.clone());
    }
    if let Some(modified) = pulse.get("modified") {
        let modified = modified
            .as_str()
            .ok_or_else(|| ("modified".to_owned(), "the pulse's `modified` is not text".to_owned()))?;
        // IntelMQ's text: the last four characters replaced by the zone, or `.00` and the zone.
        let updated = if modified.contains('.') {
            let cut = modified.char_indices().rev().nth(3).map_or(0, |(at, _)| at);
            format!("{}+00:00", &modified[..cut])
        } else {
            format!("{modified}.00+00:00")
        };
        members.insert("time_updated".to_owned(), Value::String(updated));
    }
    for key in ["industries", "adversary"] {
        if let Some(value) = pulse.get(key) {
            members.insert(key.to_owned(), value.clone());
        }
    }
    if let Some(countries) = pulse.get("targeted_countries").filter(|c| common_json::truthy(c)) {
        members.insert("targeted_countries".to_owned(), countries.clone());
    }
    Ok(members)
}

/// The event of one indicator; `None` for the types IntelMQ skips.
fn indicator_event(
    report: &Report,
    pulse: &Map<String, Value>,
    common: &mut Map<String, Value>,
    indicator: &Value,
    describe: bool,
) -> Result<Option<Event>, IndicatorError> {
    let Some(indicator) = indicator.as_object() else {
        return Err((String::new(), "not a JSON object".to_owned()));
    };
    let text = |key: &str| {
        indicator
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| (key.to_owned(), format!("the indicator has no `{key}` text")))
    };
    let kind = text("type")?;
    let value = text("indicator")?;
    let mut event = report.new_event();
    let set = |event: &mut Event, field: &str, value: &str| {
        event.set(field, value).map_err(|error| rejected(field, &error))
    };
    let mut cve = None;
    if let Some((_, field)) = HASHES.iter().find(|(name, _)| *name == kind) {
        set(&mut event, field, value)?;
    } else {
        match kind {
            "hostname" | "domain" => {
                let resource = with_scheme(value);
                if !url::split(&resource).path.is_empty() {
                    set(&mut event, "source.url", &resource)?;
                } else {
                    set(&mut event, "source.fqdn", value)?;
                }
            }
            "IPv4" | "IPv6" => set(&mut event, "source.ip", value)?,
            "email" => set(&mut event, "source.account", value)?,
            "URL" | "URI" => {
                let resource = with_scheme(value);
                let added = !neretva_event::IGNORED_VALUES.contains(&resource.as_str())
                    && event.set_id(FieldId::SOURCE_URL, &resource).is_ok();
                if !added {
                    if kind == "URI" {
                        set(&mut event, "source.urlpath", value)?;
                    } else {
                        return Err(("source.url".to_owned(), format!("{value:?} is not a URL")));
                    }
                }
            }
            "CIDR" => set(&mut event, "source.network", value)?,
            "CVE" => cve = Some(value.to_owned()),
            _ => return Ok(None),
        }
    }
    match indicator.get("pulse_key").or_else(|| pulse.get("id")).filter(|key| !key.is_null()) {
        Some(key) => common.insert("pulse_key".to_owned(), key.clone()),
        None => common.remove("pulse_key"),
    };
    match cve {
        Some(cve) => common.insert("cve".to_owned(), Value::String(cve)),
        None => common.remove("cve"),
    };
    if let Some(tlp) = pulse.get("TLP") {
        common_json::set_json_value(&mut event, "tlp", tlp).map_err(|error| rejected("tlp", &error))?;
    }
    if let Some(description) = pulse.get("description").filter(|_| describe) {
        common_json::set_json_value(&mut event, "comment", description)
            .map_err(|error| rejected("comment", &error))?;
    }
    // A `null` member, or text IntelMQ ignores (`""`, `-`, `N/A`), would not come back from
    // IntelMQ JSON (IntelMQ itself drops it when it reads its own line), so it is left out.
    let kept = |value: &Value| match value {
        Value::Null => false,
        Value::String(text) => !neretva_event::IGNORED_VALUES.contains(&text.as_str()),
        _ => true,
    };
    let members = common.iter().filter(|(_, value)| kept(value));
    let members = members.map(|(key, value)| (key.clone(), value.clone())).collect();
    event.set_json("extra", Value::Object(members)).map_err(|error| rejected("extra", &error))?;
    set(&mut event, "classification.type", "blacklist")?;
    let created = text("created")?;
    let time = neretva_event::parse_time(created)
        .ok_or_else(|| ("time.source".to_owned(), format!("{created:?} is not a time")))?;
    let whole = time.replace_nanosecond(0).unwrap_or(time);
    event
        .set_value_id(FieldId::TIME_SOURCE, neretva_event::Value::Time(whole))
        .map_err(|error| rejected("time.source", &error))?;
    Ok(Some(event))
}

/// A value its field does not take: `"300.1.1.1" is not an IP address`.
fn rejected(field: &str, error: &neretva_event::ValueError) -> IndicatorError {
    (field.to_owned(), error.value_and_reason())
}

/// The indicator with `http://` before it unless it names a scheme (`://`).
fn with_scheme(value: &str) -> String {
    if value.contains("://") { value.to_owned() } else { format!("http://{value}") }
}

#[cfg(test)]
mod tests {
    use crate::{FeedParser, Report};

    #[test]
    fn a_pulse_too_large_to_repeat_leaves_out_its_lists() {
        // 3,000 indicators and 3,000 tags: about 150 MB if each event repeated the tags.
        let tags: Vec<String> = (0..3_000).map(|i| format!("campaign-tag-{i:05}-of-a-long-pulse")).collect();
        let indicators: Vec<serde_json::Value> = (0..3_000)
            .map(|i| {
                serde_json::json!({"type": "IPv4", "indicator": format!("192.0.2.{}", i % 250),
                "created": "2026-11-28T08:15:20.512"})
            })
            .collect();
        let pulse = serde_json::json!([{"id": "p", "name": "Large", "author_name": "a", "tags": tags,
            "description": "x", "indicators": indicators}]);
        let parsed =
            super::OtxParser.parse(&Report::new("alienvault-otx", None, pulse.to_string().into_bytes()));
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.events.len(), 3_000);
        let event = &parsed.events[0].event;
        assert!(event.get("extra.tags").is_none() && event.get("comment").is_none());
        assert_eq!(event.get("extra.pulse").map(ToString::to_string).as_deref(), Some("Large"));
    }
}
