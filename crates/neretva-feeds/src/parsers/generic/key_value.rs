//! The generic key-value parser (`key-value`), as IntelMQ 3.5.0's `KeyValueParserBot`: one
//! record per line of `key=value` pairs (firewall, IDS and application logs), the configured
//! keys mapped to event fields.
//!
//! Each line is stripped and cut at `pair_separator` (default a space); each piece is cut at the
//! last `kv_separator` (default `=`), and a piece without one is ignored (a syslog header, say).
//! With `strip_quotes` (default) a value in double quotes loses them; quotes do not protect a
//! separator, as in IntelMQ. A key mapped to `time.source` takes UNIX seconds or any time the
//! fuzzy time reader understands (naive times are UTC); a time it cannot read is left out. A
//! value its field does not take is left out too (IntelMQ's `raise_failure=False`), so a line
//! only fails when it is not UTF-8. `raw` is the stripped line. Where the lines carry no
//! classification, a pipeline rule (`set`) gives the feed's events their `classification.type`.
//!
//! Configuration (a feed's `parser_options`, with IntelMQ's parameter names): `keys` (key →
//! field, required), `pair_separator`, `kv_separator`, `strip_quotes`; IntelMQ's legacy
//! `timestamp_key` is accepted and has no effect there either.
//!
//! Deliberate difference from IntelMQ: blank lines are skipped (IntelMQ sends an event with only
//! the report's fields for each).

use std::collections::BTreeMap;

use neretva_event::{FieldId, Value};
use serde::Deserialize;

use crate::parsers::lists::support::{for_each_line, new_event};
use crate::parsers::lists::timefmt;
use crate::{FeedParser, Parsed, ParsedEvent, Report};

/// The configuration of a key-value parser.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeyValueConfig {
    /// From a key of the records to an event field.
    pub keys: BTreeMap<String, String>,
    /// What separates the pairs (default one space).
    pub pair_separator: Option<String>,
    /// What separates a key from its value (default `=`).
    pub kv_separator: Option<String>,
    /// Whether double quotes around a value are removed (default true).
    pub strip_quotes: Option<bool>,
    /// IntelMQ's legacy parameter, without effect.
    pub timestamp_key: Option<String>,
}

/// A key-value parser built from a [`KeyValueConfig`].
#[derive(Debug, Clone)]
pub struct KeyValue {
    keys: BTreeMap<String, String>,
    pair_separator: String,
    kv_separator: String,
    strip_quotes: bool,
}

impl KeyValue {
    /// The registered instance without keys: it parses nothing and reports that a
    /// configuration is needed.
    pub fn unconfigured() -> Self {
        Self {
            keys: BTreeMap::new(),
            pair_separator: " ".into(),
            kv_separator: "=".into(),
            strip_quotes: true,
        }
    }

    /// Builds a parser, reporting every problem of the configuration at once.
    pub fn from_config(config: KeyValueConfig) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        if config.keys.is_empty() {
            errors.push("keys: no keys are mapped to fields".to_owned());
        }
        for (key, field) in &config.keys {
            if let Err(error) = super::csv::field_id(field) {
                errors.push(format!("keys[{key:?}]: {error}"));
            }
        }
        let separator = |name: &str, value: Option<String>, default: &str| match value {
            Some(value) if value.is_empty() => Err(format!("{name}: must not be empty")),
            Some(value) => Ok(value),
            None => Ok(default.to_owned()),
        };
        let pair_separator = separator("pair_separator", config.pair_separator, " ");
        let kv_separator = separator("kv_separator", config.kv_separator, "=");
        let (pair_separator, kv_separator) = match (pair_separator, kv_separator) {
            (Ok(pairs), Ok(kv)) if errors.is_empty() => (pairs, kv),
            (pairs, kv) => {
                errors.extend(pairs.err());
                errors.extend(kv.err());
                return Err(errors);
            }
        };
        Ok(Self {
            keys: config.keys,
            pair_separator,
            kv_separator,
            strip_quotes: config.strip_quotes.unwrap_or(true),
        })
    }
}

impl FeedParser for KeyValue {
    fn name(&self) -> &'static str {
        "key-value"
    }

    fn description(&self) -> &'static str {
        "key=value lines (logs), configured by a mapping of keys to fields"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        if self.keys.is_empty() {
            parsed.error(1, Some("keys"), "key-value needs `keys`, a mapping of keys to fields", "");
            return parsed;
        }
        for_each_line(&report.raw, &mut parsed, None, |parsed, line, text| {
            let mut event = new_event(report);
            for pair in text.split(self.pair_separator.as_str()) {
                let Some((key, value)) = pair.rsplit_once(self.kv_separator.as_str()) else { continue };
                if key.is_empty() {
                    continue;
                }
                let Some(field) = self.keys.get(key) else { continue };
                let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    Some(inner) if self.strip_quotes => inner,
                    _ => value,
                };
                if field == "time.source" {
                    // UNIX seconds, or a time the fuzzy reader understands; else left out.
                    let time = if !value.is_empty() && value.chars().all(|c| c.is_numeric()) {
                        value
                            .parse::<i64>()
                            .ok()
                            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
                    } else {
                        timefmt::fuzzy(value)
                    };
                    if let Some(time) = time {
                        let _ = event.set_value_id(FieldId::TIME_SOURCE, Value::Time(time));
                    }
                    continue;
                }
                // A value the field does not take is left out, as in IntelMQ.
                let _ = event.set(field, value);
            }
            event.set_raw(text.as_bytes());
            parsed.events.push(ParsedEvent { event, line, raw: text.to_owned() });
        });
        parsed
    }
}
