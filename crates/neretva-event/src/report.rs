//! IntelMQ reports: the raw data a collector fetched, with its feed's
//! metadata.

use std::borrow::Cow;

use time::OffsetDateTime;

use crate::error::ValueError;
use crate::event::Event;
use crate::fields::{FieldId, report_field_spec};
use crate::sanitize;
use crate::value::Value;

/// An IntelMQ report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// `feed.name`; empty when the report had none.
    pub feed_name: String,
    /// `feed.provider`.
    pub feed_provider: Option<String>,
    /// `feed.url`.
    pub feed_url: Option<String>,
    /// `feed.code`.
    pub feed_code: Option<String>,
    /// `feed.accuracy`, 0 to 100.
    pub feed_accuracy: Option<f64>,
    /// `feed.documentation`.
    pub feed_documentation: Option<String>,
    /// `time.observation`: when the collector fetched the data. IntelMQ's
    /// test reports sometimes have none, and then neither have the events.
    pub time_observation: Option<OffsetDateTime>,
    /// The decoded `raw` data.
    pub raw: Vec<u8>,
    /// `rtir_id`.
    pub rtir_id: Option<i64>,
    /// The `extra.*` members (key without `extra.`), e.g. Shadowserver's
    /// `file_name`, sorted by key.
    pub extra: Vec<(String, serde_json::Value)>,
}

impl Report {
    /// A report of a feed with its data and no other metadata.
    pub fn new(feed_name: &str, time_observation: Option<OffsetDateTime>, raw: Vec<u8>) -> Self {
        Self {
            feed_name: feed_name.to_owned(),
            feed_provider: None,
            feed_url: None,
            feed_code: None,
            feed_accuracy: None,
            feed_documentation: None,
            time_observation,
            raw,
            rtir_id: None,
            extra: Vec::new(),
        }
    }

    /// Reads an IntelMQ report message (as in IntelMQ's test fixtures),
    /// decoding the base64 `raw`; reports every bad field.
    pub fn from_intelmq(json: &serde_json::Value) -> Result<Report, Vec<ValueError>> {
        let Some(map) = json.as_object() else {
            return Err(vec![ValueError::new("(report)", &json.to_string(), "is not a JSON object")]);
        };
        let mut report = Report::new("", None, Vec::new());
        let mut errors = Vec::new();
        for (key, value) in map {
            if let Err(e) = report.set_json(key, value) {
                errors.push(e);
            }
        }
        report.extra.sort_by(|a, b| a.0.cmp(&b.0));
        if errors.is_empty() { Ok(report) } else { Err(errors) }
    }

    fn set_json(&mut self, key: &str, value: &serde_json::Value) -> Result<(), ValueError> {
        if key == "__type" {
            return if value.as_str() == Some("Report") {
                Ok(())
            } else {
                Err(ValueError::new(key, &value.to_string(), "is not \"Report\""))
            };
        }
        if let Some(member) = key.strip_prefix("extra.") {
            if !value.is_null() {
                self.extra.push((member.to_owned(), value.clone()));
            }
            return Ok(());
        }
        let Some(spec) = report_field_spec(key) else {
            let shown = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
            return Err(ValueError::new(key, &shown, "is for an unknown report field"));
        };
        if value.is_null() || value.as_str().is_some_and(|text| crate::event::IGNORED_VALUES.contains(&text))
        {
            return Ok(());
        }
        let shown = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        let fail = |reason: Cow<'static, str>| ValueError::new(key, &shown, reason);
        if key == "extra" {
            let serde_json::Value::Object(members) = value else {
                return Err(fail(Cow::Borrowed("is not a JSON object")));
            };
            for (member, item) in members {
                self.extra.push((member.clone(), item.clone()));
            }
            return Ok(());
        }
        if key == "raw" {
            let text = value.as_str().ok_or(Cow::Borrowed("is not a string")).map_err(fail)?;
            self.raw = sanitize::decode_base64(text).map_err(fail)?;
            return Ok(());
        }
        let sanitized = sanitize::from_json(spec, value).map_err(fail)?;
        let text = || sanitized.as_str().map(str::to_owned);
        match key {
            "feed.name" => self.feed_name = text().unwrap_or_default(),
            "feed.provider" => self.feed_provider = text(),
            "feed.url" => self.feed_url = text(),
            "feed.code" => self.feed_code = text(),
            "feed.documentation" => self.feed_documentation = text(),
            "feed.accuracy" => self.feed_accuracy = sanitized.as_f64(),
            "rtir_id" => self.rtir_id = sanitized.as_int(),
            "time.observation" => self.time_observation = sanitized.as_time(),
            _ => return Err(fail(Cow::Borrowed("is for an unknown report field"))),
        }
        Ok(())
    }

    /// Copies the feed metadata and `time.observation` into an event as
    /// IntelMQ's `ParserBot.new_event` does: `feed.accuracy`, `feed.code`,
    /// `feed.documentation`, `feed.name`, `feed.provider`, `feed.url`,
    /// `rtir_id` and `time.observation`, where the report has them.
    pub fn stamp(&self, event: &mut Event) {
        self.stamp_with(|id, value| event.insert(id, value));
    }

    /// [`Report::stamp`] for any store of fields: each field and its value in turn.
    pub(crate) fn stamp_with(&self, mut put: impl FnMut(FieldId, Value)) {
        if let Some(accuracy) = self.feed_accuracy {
            put(FieldId::FEED_ACCURACY, Value::Float(accuracy));
        }
        let mut text = |id: FieldId, value: Option<&str>| {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                put(id, Value::Str(value.into()));
            }
        };
        text(FieldId::FEED_CODE, self.feed_code.as_deref());
        text(FieldId::FEED_DOCUMENTATION, self.feed_documentation.as_deref());
        text(FieldId::FEED_NAME, Some(&self.feed_name));
        text(FieldId::FEED_PROVIDER, self.feed_provider.as_deref());
        text(FieldId::FEED_URL, self.feed_url.as_deref());
        if let Some(rtir_id) = self.rtir_id {
            put(FieldId::RTIR_ID, Value::Int(rtir_id));
        }
        if let Some(t) = self.time_observation {
            put(FieldId::TIME_OBSERVATION, Value::Time(t));
        }
    }

    /// A new event stamped with this report's metadata.
    pub fn new_event(&self) -> Event {
        let mut event = Event::with_capacity(16);
        self.stamp(&mut event);
        event
    }

    /// The `extra.<key>` member of the report.
    pub fn extra(&self, key: &str) -> Option<&serde_json::Value> {
        self.extra.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().map(|i| &self.extra[i].1)
    }
}
