//! IntelMQ's own JSON messages as a feed (IntelMQ's `JSONParserBot`).
//!
//! Each message is an IntelMQ event in IntelMQ's JSON form (`neretva_event::intelmq_json`);
//! its fields are laid over the report's feed fields and time of observation, and
//! `classification.type` is `undetermined` when the message has none. Three layouts, as
//! IntelMQ's parameters name them:
//! - lines (`splitlines`): one message per line; `raw` is the line unless the message
//!   carries its own `raw`. This is the layout of the registered `intelmq-json` parser.
//! - whole report (IntelMQ's default, no parameter): the report is one message; `raw` is
//!   the whole report unless the message carries its own.
//! - array (`multiple_events`): the report is a JSON array of messages; `raw` is each
//!   message as Python's `json.dumps(message, sort_keys=True)` writes it.
//!
//! [`ParsedEvent::raw`] holds the text IntelMQ puts into `raw` (a message's own `raw`
//! decoded, lossily if it is not UTF-8).
//!
//! Differences from IntelMQ 3.5.0, all deliberate:
//! - A bad message is an error of its own, with every bad field named; IntelMQ's bot fails
//!   the whole report on the first.
//! - Blank lines are skipped in the lines layout; IntelMQ fails on them.
//! - A line that is not valid UTF-8 is an error of its own, and a whole report or array
//!   that is not valid UTF-8 is one error; IntelMQ drops the undecodable bytes.
//! - Field values are checked as `neretva_event` checks JSON messages (see its crate
//!   documentation): e.g. `raw` must be valid base64.

use serde::Deserialize;

use crate::parsers::common::pyjson;
use crate::parsers::lists::support::{Lines, py_strip, whole_text};
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// How the report holds its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One message per line (`splitlines`).
    Lines,
    /// The report is one message (IntelMQ's default).
    Whole,
    /// The report is a JSON array of messages (`multiple_events`).
    Array,
}

/// IntelMQ's parameters of the JSON parser.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IntelMqJsonConfig {
    /// One message per line.
    #[serde(default)]
    pub splitlines: bool,
    /// The report is a JSON array of messages.
    #[serde(default)]
    pub multiple_events: bool,
}

/// The IntelMQ JSON parser.
#[derive(Debug, Clone)]
pub struct IntelMqJson {
    layout: Layout,
}

impl IntelMqJson {
    /// A parser of the given layout.
    pub fn new(layout: Layout) -> Self {
        Self { layout }
    }

    /// Builds a parser from IntelMQ's parameters: neither means the whole report is one
    /// message, as in IntelMQ.
    pub fn from_config(config: IntelMqJsonConfig) -> Result<Self, Vec<String>> {
        let layout = match (config.splitlines, config.multiple_events) {
            (true, true) => {
                return Err(vec!["splitlines and multiple_events cannot both be set".to_owned()]);
            }
            (true, false) => Layout::Lines,
            (false, true) => Layout::Array,
            (false, false) => Layout::Whole,
        };
        Ok(Self { layout })
    }
}

impl Default for IntelMqJson {
    fn default() -> Self {
        Self::new(Layout::Lines)
    }
}

/// The field and message of a rejected message: one bad field is named as the field, more
/// are listed in the message.
fn describe(errors: &[neretva_event::ValueError]) -> (Option<String>, String) {
    match errors {
        [one] if one.field == "(line)" => (None, format!("{:?} {}", one.value, one.reason)),
        [one] => (Some(one.field.clone()), format!("{:?} {}", one.value, one.reason)),
        many => (None, many.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")),
    }
}

/// Lays a message's fields over the report's: the message wins, as IntelMQ's
/// `event.update(message)` after `new_event(report)`.
fn merge(report: &Report, mut message: Event) -> Event {
    let base = report.new_event();
    for (name, value) in base.iter() {
        if !message.contains(name) {
            // The report's values are valid already.
            let _ = message.set_value(name, value.clone());
        }
    }
    if !message.contains("classification.type") {
        let _ = message.set("classification.type", "undetermined");
    }
    message
}

/// The text of a message's own `raw`, or the given text, and the event with `raw` set.
fn finish(mut event: Event, text: &str) -> (Event, String) {
    match event.raw() {
        Some(bytes) => (event, String::from_utf8_lossy(&bytes).into_owned()),
        None => {
            event.set_raw(text.as_bytes());
            (event, text.to_owned())
        }
    }
}

impl FeedParser for IntelMqJson {
    fn name(&self) -> &'static str {
        "intelmq-json"
    }

    fn description(&self) -> &'static str {
        "IntelMQ JSON messages (one per line), e.g. the output of an IntelMQ file output bot"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        match self.layout {
            Layout::Lines => {
                for (number, bytes) in Lines::new(&report.raw) {
                    let Ok(line) = std::str::from_utf8(bytes) else {
                        crate::parsers::lists::support::invalid_utf8(&mut parsed, number, bytes);
                        continue;
                    };
                    if py_strip(line).is_empty() {
                        continue;
                    }
                    parsed.records += 1;
                    self.message(report, &mut parsed, number, line);
                }
            }
            Layout::Whole => {
                let Some(text) = whole_text(&report.raw, &mut parsed) else {
                    return parsed;
                };
                if py_strip(text).is_empty() {
                    return parsed;
                }
                parsed.records += 1;
                self.message(report, &mut parsed, 1, text);
            }
            Layout::Array => array(report, &mut parsed),
        }
        parsed
    }
}

impl IntelMqJson {
    fn message(&self, report: &Report, parsed: &mut Parsed, number: u64, text: &str) {
        match neretva_event::intelmq_json::from_line(text) {
            Ok(message) => {
                let (event, raw) = finish(merge(report, message), text);
                parsed.events.push(ParsedEvent { event, line: number, raw });
            }
            Err(errors) => {
                let (field, message) = describe(&errors);
                parsed.error(number, field.as_deref(), message, text);
            }
        }
    }
}

fn array(report: &Report, parsed: &mut Parsed) {
    let Some(items) = super::json_array(report, parsed, "messages") else {
        return;
    };
    let mut raw = String::new();
    for (index, item) in items.into_iter().enumerate() {
        let number = index as u64 + 1;
        parsed.records += 1;
        raw.clear();
        pyjson::json_dumps(&mut raw, &item);
        let serde_json::Value::Object(map) = item else {
            parsed.error(number, None, "message is not a JSON object", &raw);
            continue;
        };
        let mut message = Event::with_capacity(map.len());
        let mut errors = Vec::new();
        for (key, value) in map {
            if key == "__type" {
                if value.as_str() != Some("Event") {
                    errors.push(neretva_event::ValueError::new(
                        "__type",
                        &value.to_string(),
                        "is not \"Event\"",
                    ));
                }
                continue;
            }
            if let Err(error) = message.set_json(&key, value) {
                errors.push(error);
            }
        }
        if !errors.is_empty() {
            let (field, message) = describe(&errors);
            parsed.error(number, field.as_deref(), message, &raw);
            continue;
        }
        // IntelMQ always replaces `raw` with the message's JSON here.
        let mut event = merge(report, message);
        event.set_raw(raw.as_bytes());
        parsed.events.push(ParsedEvent { event, line: number, raw: raw.clone() });
    }
}
