//! Generic JSON with a field mapping: JSON objects one per line, or a JSON array of
//! objects, each mapped to an event by a configured table from keys (dotted paths into
//! nested objects) to event fields.
//!
//! IntelMQ has no such parser (its `JSONParserBot` reads IntelMQ's own messages; that is
//! `intelmq-json`); this one follows the conventions of IntelMQ's generic CSV parser:
//! `type` and `default_fields` for fields every event gets, `time_format` for
//! `time.source` and `time.destination`, `default_url_protocol` for URLs without a
//! scheme. Numbers, booleans and lists go into fields as JSON values (so `extra.*` keeps
//! them typed). `raw` is the line, or for an array each object as Python's
//! `json.dumps(object, sort_keys=True)` writes it, as IntelMQ's JSON parser does. A line
//! that is not valid UTF-8 is an error of its own; an array that is not is one error.

use std::collections::BTreeMap;

use neretva_event::{FieldId, Value};
use serde::Deserialize;

use crate::parsers::common::pyjson;
use crate::parsers::generic::csv::{GenericCsv, GenericCsvConfig, ListOrString};
use crate::parsers::lists::support::{LineError, Lines, py_strip};
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// How the report holds its objects.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum JsonLayout {
    /// An array when the report starts with `[`, else one object per line.
    #[default]
    Auto,
    /// One object per line.
    Lines,
    /// One JSON array of objects.
    Array,
}

/// The configuration of a generic JSON parser.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GenericJsonConfig {
    /// From a key of the objects (`a.b` for key `b` inside object `a`) to an event field.
    pub mapping: BTreeMap<String, String>,
    /// One object per line, one array, or decided by the first character (default).
    #[serde(default)]
    pub layout: JsonLayout,
    /// The default `classification.type`.
    #[serde(rename = "type")]
    pub classification_type: Option<String>,
    /// Fields set on every event unless the object set them.
    pub default_fields: Option<BTreeMap<String, serde_json::Value>>,
    /// How time fields are read, as in the generic CSV parser (default `fuzzy`).
    pub time_format: Option<String>,
    /// Prefixed to `*.url` values without `://` (default `http://`).
    pub default_url_protocol: Option<String>,
    /// Whether a key missing from an object is an error (default: missing keys are
    /// skipped).
    #[serde(default)]
    pub required: bool,
}

/// A generic JSON parser built from a [`GenericJsonConfig`].
#[derive(Debug, Clone)]
pub struct GenericJson {
    mapping: Vec<(Vec<String>, String, Option<FieldId>)>,
    layout: JsonLayout,
    required: bool,
    /// Time format, defaults and URL handling, shared with the CSV parser.
    fields: GenericCsv,
    unconfigured: bool,
}

impl GenericJson {
    /// The registered instance without a mapping: it parses nothing and reports that a
    /// configuration is needed.
    pub fn unconfigured() -> Self {
        Self {
            mapping: Vec::new(),
            layout: JsonLayout::Auto,
            required: false,
            fields: GenericCsv::unconfigured(),
            unconfigured: true,
        }
    }

    /// Builds a parser, reporting every problem of the configuration at once.
    pub fn from_config(config: GenericJsonConfig) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        if config.mapping.is_empty() {
            errors.push("mapping: empty; map at least one key to an event field".to_owned());
        }
        let mut mapping = Vec::with_capacity(config.mapping.len());
        for (key, field) in &config.mapping {
            if key.is_empty() || key.split('.').any(str::is_empty) {
                errors.push(format!("mapping: {key:?} is not a key path"));
                continue;
            }
            let id = if field.starts_with("extra.") && field.len() > "extra.".len() {
                None
            } else {
                match FieldId::from_name(field) {
                    Some(id) => Some(id),
                    None => {
                        errors.push(format!("mapping[{key:?}]: {field:?} is not an IntelMQ event field"));
                        continue;
                    }
                }
            };
            mapping.push((key.split('.').map(str::to_owned).collect(), field.clone(), id));
        }
        // The shared options are checked by the CSV parser's configuration.
        let fields = GenericCsv::from_config(GenericCsvConfig {
            columns: Some(ListOrString::List(vec!["__IGNORE__".to_owned()])),
            classification_type: config.classification_type.clone(),
            default_fields: config.default_fields.clone(),
            time_format: config.time_format.clone(),
            default_url_protocol: config.default_url_protocol.clone(),
            ..GenericCsvConfig::default()
        });
        let fields = match fields {
            Ok(fields) => Some(fields),
            Err(more) => {
                errors.extend(more);
                None
            }
        };
        match (fields, errors.is_empty()) {
            (Some(fields), true) => Ok(Self {
                mapping,
                layout: config.layout,
                required: config.required,
                fields,
                unconfigured: false,
            }),
            _ => Err(errors),
        }
    }

    fn event(&self, report: &Report, object: &serde_json::Value) -> Result<Event, LineError> {
        let serde_json::Value::Object(_) = object else {
            return Err(LineError::line("expected a JSON object"));
        };
        let mut event = report.new_event();
        for (path, field, id) in &self.mapping {
            let mut value = Some(object);
            for key in path {
                value = value.and_then(|v| v.get(key));
            }
            let Some(value) = value.filter(|v| !v.is_null()) else {
                if self.required {
                    return Err(LineError::field(field, format!("the object has no {:?}", path.join("."))));
                }
                continue;
            };
            self.set(&mut event, field, *id, value)?;
        }
        self.fields.defaults(&mut event)?;
        Ok(event)
    }

    fn set(
        &self,
        event: &mut Event,
        field: &str,
        id: Option<FieldId>,
        value: &serde_json::Value,
    ) -> Result<(), LineError> {
        let text = value.as_str();
        if matches!(field, "time.source" | "time.destination") {
            let text = text.map_or_else(|| value.to_string(), str::to_owned);
            let time = self
                .fields
                .parse_time(&text)
                .ok_or_else(|| LineError::field(field, format!("cannot parse the time {text:?}")))?;
            return match id {
                Some(id) => event.set_value_id(id, Value::Time(time)),
                None => event.set_value(field, Value::Time(time)),
            }
            .map_err(LineError::from);
        }
        if let Some(text) = text
            && field.ends_with(".url")
            && !text.contains("://")
            && !text.is_empty()
        {
            let url = self.fields.with_url_protocol(text);
            return event.set(field, &url).map_err(LineError::from);
        }
        event.set_json(field, value.clone()).map_err(LineError::from)
    }
}

impl FeedParser for GenericJson {
    fn name(&self) -> &'static str {
        "generic-json"
    }

    fn description(&self) -> &'static str {
        "Generic JSON (one object per line or an array) with a configured field mapping"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        if self.unconfigured {
            parsed.error(
                1,
                Some("mapping"),
                "generic-json needs a field mapping: build it with GenericJson::from_config",
                "",
            );
            return parsed;
        }
        let starts_array = report.raw.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b == b'[');
        let array = match self.layout {
            JsonLayout::Auto => starts_array,
            JsonLayout::Lines => false,
            JsonLayout::Array => true,
        };
        if array {
            self.parse_array(report, &mut parsed);
            return parsed;
        }
        for (number, bytes) in Lines::new(&report.raw) {
            let Ok(line) = std::str::from_utf8(bytes) else {
                crate::parsers::lists::support::invalid_utf8(&mut parsed, number, bytes);
                continue;
            };
            if py_strip(line).is_empty() {
                continue;
            }
            parsed.records += 1;
            let outcome = serde_json::from_str::<serde_json::Value>(line)
                .map_err(|error| LineError::line(format!("invalid JSON: {error}")))
                .and_then(|object| self.event(report, &object));
            crate::parsers::lists::support::push(&mut parsed, number, line, line, outcome);
        }
        parsed
    }
}

impl GenericJson {
    fn parse_array(&self, report: &Report, parsed: &mut Parsed) {
        let Some(items) = super::json_array(report, parsed, "objects") else {
            return;
        };
        let mut raw = String::new();
        for (index, item) in items.iter().enumerate() {
            let number = index as u64 + 1;
            parsed.records += 1;
            raw.clear();
            pyjson::json_dumps(&mut raw, item);
            match self.event(report, item) {
                Ok(mut event) => {
                    event.set_raw(raw.as_bytes());
                    parsed.events.push(ParsedEvent { event, line: number, raw: raw.clone() });
                }
                Err(error) => parsed.error(number, error.field.as_deref(), error.message, &raw),
            }
        }
    }
}
