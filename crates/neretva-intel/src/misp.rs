//! MISP core JSON: events in (`{"Event": {…}}`, a list of them, a `{"response": […]}` answer, or
//! PyMISP's bare event without the wrapper) and out (`{"Event": {…}}`, numbers as JSON strings,
//! booleans as JSON booleans).
//!
//! Import never fails as a whole once the text is JSON within the [`Limits`]: a bad attribute,
//! object, tag or sighting is left out and reported as a [`Problem`] with its JSON path
//! (`Event.Attribute[3].type`), and the rest of the event is kept. An event without a usable
//! `uuid`, `info` or creator organisation is left out whole. Numbers are read from JSON strings
//! or numbers, booleans from JSON booleans, `0`/`1` or their strings.
//!
//! Defaults when a field is missing: `date` the day of `timestamp`, `timestamp` the import time,
//! `threat_level_id` 4 (undefined), `analysis` 0, `distribution` 0 (organisation only: an event
//! never becomes wider than its sender said), an attribute's `category` and `to_ids` from
//! [`crate::describe`], its `distribution` 5 (inherit). Distribution 4 without a sharing group is
//! narrowed to organisation only and reported.

use std::collections::HashSet;
use std::fmt;

use neretva_model::Timestamp;
use serde_json::{Map, Value};
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::describe;
use crate::model::{
    Analysis, AttrDistribution, Attribute, Distribution, IntelEvent, IntelObject, ObjectReference, OrgRef,
    Sighting, SightingKind, ThreatLevel,
};
use crate::tag::{self, Tag};
use crate::value;

/// The bounds of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest document, in bytes.
    pub max_bytes: usize,
    /// The most events in one document.
    pub max_events: usize,
    /// The most attributes in one event, those of objects included.
    pub max_attributes: usize,
    /// The deepest nesting of JSON values.
    pub max_depth: usize,
    /// The most problems reported; the rest are counted.
    pub max_problems: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 64 << 20,
            max_events: 10_000,
            max_attributes: 1_000_000,
            max_depth: 32,
            max_problems: 1_000,
        }
    }
}

/// Why a document could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MispError {
    #[error("the document has {size} bytes, more than the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("line {line}, column {column}: {reason}")]
    Json { line: usize, column: usize, reason: String },
    #[error("the document nests deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("the document holds {count} events, more than the limit of {limit}")]
    TooManyEvents { count: usize, limit: usize },
    #[error("{path}: {reason}")]
    NotAnEvent { path: String, reason: String },
}

/// One thing that was left out of an import, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `Event.Attribute[3].type`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// What an import gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub events: Vec<IntelEvent>,
    pub problems: Vec<Problem>,
    /// Problems past [`Limits::max_problems`], counted only.
    pub problems_not_shown: usize,
}

/// What an import needs from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportContext {
    /// The import time, for missing timestamps.
    pub now: Timestamp,
    /// The creator organisation of events that name none (PyMISP's new events).
    pub default_org: Option<OrgRef>,
}

/// Reads MISP JSON events.
pub fn parse(text: &str, context: &ImportContext, limits: &Limits) -> Result<Imported, MispError> {
    if text.len() > limits.max_bytes {
        return Err(MispError::TooLarge { size: text.len(), limit: limits.max_bytes });
    }
    let document: Value = serde_json::from_str(text).map_err(|error| {
        let reason = error.to_string();
        let reason = reason.split(" at line ").next().unwrap_or(&reason).to_owned();
        MispError::Json { line: error.line(), column: error.column(), reason }
    })?;
    if depth(&document, limits.max_depth + 1) > limits.max_depth {
        return Err(MispError::TooDeep { limit: limits.max_depth });
    }
    let mut roots: Vec<(String, Value)> = Vec::new();
    match document {
        Value::Object(mut map) => {
            if let Some(event) = map.remove("Event") {
                roots.push(("Event".to_owned(), event));
            } else if let Some(response) = map.remove("response") {
                let Value::Array(items) = response else {
                    return Err(not_an_event("response", "expected a list of events"));
                };
                for (index, item) in items.into_iter().enumerate() {
                    roots.push(unwrap_event(format!("response[{index}]"), item));
                }
            } else if map.contains_key("info") || map.contains_key("uuid") || map.contains_key("Attribute") {
                roots.push((String::new(), Value::Object(map)));
            } else {
                return Err(not_an_event("", "expected {\"Event\": {…}}, a list of events or an event"));
            }
        }
        Value::Array(items) => {
            for (index, item) in items.into_iter().enumerate() {
                roots.push(unwrap_event(format!("[{index}]"), item));
            }
        }
        _ => return Err(not_an_event("", "expected {\"Event\": {…}}, a list of events or an event")),
    }
    if roots.len() > limits.max_events {
        return Err(MispError::TooManyEvents { count: roots.len(), limit: limits.max_events });
    }
    let mut reader = Reader { context, limits, problems: Vec::new(), not_shown: 0, attributes: 0 };
    let mut events = Vec::with_capacity(roots.len());
    let mut seen = HashSet::new();
    for (path, value) in roots {
        reader.attributes = 0;
        if let Some(event) = reader.event(&path, value) {
            if seen.insert(event.uuid) {
                events.push(event);
            } else {
                reader.problem(
                    &join(&path, "uuid"),
                    format!("event {} appears twice; the first is kept", event.uuid),
                );
            }
        }
    }
    Ok(Imported { events, problems: reader.problems, problems_not_shown: reader.not_shown })
}

fn not_an_event(path: &str, reason: &str) -> MispError {
    MispError::NotAnEvent {
        path: if path.is_empty() { "(root)".into() } else { path.into() },
        reason: reason.into(),
    }
}

fn unwrap_event(path: String, item: Value) -> (String, Value) {
    match item {
        Value::Object(mut map) if map.contains_key("Event") => {
            let event = map.remove("Event").unwrap_or(Value::Null);
            (format!("{path}.Event"), event)
        }
        other => (path, other),
    }
}

/// The nesting depth of a value, counted up to `cap`.
fn depth(value: &Value, cap: usize) -> usize {
    if cap == 0 {
        return 0;
    }
    match value {
        Value::Array(items) => 1 + items.iter().map(|item| depth(item, cap - 1)).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(|item| depth(item, cap - 1)).max().unwrap_or(0),
        _ => 0,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

struct Reader<'a> {
    context: &'a ImportContext,
    limits: &'a Limits,
    problems: Vec<Problem>,
    not_shown: usize,
    /// Attributes read in the current event.
    attributes: usize,
}

/// The object's fields, each read at most once.
struct Fields {
    map: Map<String, Value>,
    path: String,
}

impl Fields {
    fn take(&mut self, key: &str) -> Option<Value> {
        match self.map.remove(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        }
    }

    fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }
}

impl Reader<'_> {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        if self.problems.len() < self.limits.max_problems {
            self.problems.push(Problem {
                path: if path.is_empty() { "(root)".into() } else { path.into() },
                message: message.into(),
            });
        } else {
            self.not_shown += 1;
        }
    }

    fn fields(&mut self, path: &str, value: Value, what: &str) -> Option<Fields> {
        match value {
            Value::Object(map) => Some(Fields { map, path: path.to_owned() }),
            _ => {
                self.problem(path, format!("expected {what} (a JSON object)"));
                None
            }
        }
    }

    fn string(&mut self, fields: &mut Fields, key: &str) -> Option<String> {
        match fields.take(key)? {
            Value::String(text) => Some(text),
            Value::Number(number) => Some(number.to_string()),
            _ => {
                self.problem(&fields.at(key), "expected a string");
                None
            }
        }
    }

    fn number(&mut self, fields: &mut Fields, key: &str) -> Option<i64> {
        let value = fields.take(key)?;
        let parsed = match &value {
            Value::Number(number) => number.as_i64(),
            Value::String(text) => text.trim().parse::<i64>().ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.problem(
                &fields.at(key),
                format!("expected a whole number (as a string), not {}", short(&value)),
            );
        }
        parsed
    }

    fn small(&mut self, fields: &mut Fields, key: &str, max: u8) -> Option<u8> {
        let number = self.number(fields, key)?;
        match u8::try_from(number) {
            Ok(small) if small <= max => Some(small),
            _ => {
                self.problem(&fields.at(key), format!("must be from 0 to {max}, not {number}"));
                None
            }
        }
    }

    fn boolean(&mut self, fields: &mut Fields, key: &str) -> Option<bool> {
        let value = fields.take(key)?;
        let parsed = match &value {
            Value::Bool(flag) => Some(*flag),
            Value::Number(number) => match number.as_i64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            Value::String(text) => match text.as_str() {
                "0" | "false" => Some(false),
                "1" | "true" => Some(true),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.problem(&fields.at(key), format!("expected true or false, not {}", short(&value)));
        }
        parsed
    }

    fn uuid(&mut self, fields: &mut Fields, key: &str) -> Option<Uuid> {
        let text = self.string(fields, key)?;
        match Uuid::parse_str(text.trim()) {
            Ok(uuid) => Some(uuid),
            Err(_) => {
                self.problem(&fields.at(key), format!("{text:?} is not a UUID"));
                None
            }
        }
    }

    fn timestamp(&mut self, fields: &mut Fields, key: &str) -> Option<Timestamp> {
        let seconds = self.number(fields, key)?;
        match OffsetDateTime::from_unix_timestamp(seconds) {
            Ok(time) if (1..=9999).contains(&time.year()) => Some(time),
            _ => {
                self.problem(&fields.at(key), format!("{seconds} is not a time"));
                None
            }
        }
    }

    /// `first_seen`/`last_seen`: ISO 8601 text (MISP) or Unix seconds.
    fn seen(&mut self, fields: &mut Fields, key: &str) -> Option<Timestamp> {
        let value = fields.take(key)?;
        let parsed = match &value {
            Value::String(text) if text.is_empty() => return None,
            Value::String(text) => neretva_event::parse_time(text),
            Value::Number(number) => number
                .as_i64()
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
                .filter(|time| (1..=9999).contains(&time.year())),
            _ => None,
        };
        if parsed.is_none() {
            self.problem(&fields.at(key), format!("expected an ISO 8601 time, not {}", short(&value)));
        }
        parsed
    }

    fn list(&mut self, fields: &mut Fields, key: &str) -> Vec<(String, Value)> {
        let path = fields.at(key);
        match fields.take(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| (format!("{path}[{index}]"), item))
                .collect(),
            // MISP writes a single object where a list of one is meant in some answers.
            Some(Value::Object(map)) => vec![(path, Value::Object(map))],
            Some(other) => {
                self.problem(&path, format!("expected a list, not {}", short(&other)));
                Vec::new()
            }
        }
    }

    fn org(&mut self, fields: &mut Fields, key: &str) -> Option<OrgRef> {
        let value = fields.take(key)?;
        let mut org = self.fields(&fields.at(key), value, "an organisation")?;
        let uuid = self.uuid(&mut org, "uuid");
        let name = self.string(&mut org, "name").filter(|name| !name.trim().is_empty());
        match (uuid, name) {
            (Some(uuid), Some(name)) => Some(OrgRef { uuid, name }),
            _ => {
                self.problem(&org.path, "an organisation needs a uuid and a name");
                None
            }
        }
    }

    /// The sharing group of a level-4 object: `SharingGroup.uuid`, or a UUID in `sharing_group_id`.
    fn sharing_group(&mut self, fields: &mut Fields) -> Option<Uuid> {
        if let Some(value) = fields.take("SharingGroup") {
            let mut group = self.fields(&fields.at("SharingGroup"), value, "a sharing group")?;
            fields.take("sharing_group_id");
            return self.uuid(&mut group, "uuid");
        }
        match fields.take("sharing_group_id") {
            Some(Value::String(text)) => Uuid::parse_str(text.trim()).ok(),
            _ => None,
        }
    }

    fn tags(&mut self, fields: &mut Fields) -> Vec<Tag> {
        let mut tags: Vec<Tag> = Vec::new();
        for (path, value) in self.list(fields, "Tag") {
            let Some(mut item) = self.fields(&path, value, "a tag") else { continue };
            let Some(name) = self.string(&mut item, "name") else {
                self.problem(&item.at("name"), "a tag needs a name");
                continue;
            };
            if let Err(reason) = tag::check_name(&name) {
                self.problem(&item.at("name"), reason);
                continue;
            }
            let colour = self.string(&mut item, "colour").filter(|colour| !colour.is_empty());
            let exportable = self.boolean(&mut item, "exportable").unwrap_or(true);
            let local = self.boolean(&mut item, "local").unwrap_or(false);
            if tags.iter().any(|tag| tag.name == name) {
                continue;
            }
            tags.push(Tag { name, colour, exportable, local });
        }
        tags
    }

    fn event(&mut self, path: &str, value: Value) -> Option<IntelEvent> {
        let mut fields = self.fields(path, value, "an event")?;
        let Some(uuid) = self.uuid(&mut fields, "uuid") else {
            self.problem(&fields.at("uuid"), "an event needs a uuid; the event is left out");
            return None;
        };
        let info = self.string(&mut fields, "info").filter(|info| !info.trim().is_empty());
        let Some(info) = info else {
            self.problem(&fields.at("info"), "an event needs an info text; the event is left out");
            return None;
        };
        if info.len() > value::MAX_VALUE_BYTES {
            self.problem(
                &fields.at("info"),
                format!("is longer than {} bytes; the event is left out", value::MAX_VALUE_BYTES),
            );
            return None;
        }
        let orgc = self.org(&mut fields, "Orgc").or_else(|| self.context.default_org.clone());
        let Some(orgc) = orgc else {
            self.problem(
                &fields.at("Orgc"),
                "an event needs its creator organisation; the event is left out",
            );
            return None;
        };
        let org = self.org(&mut fields, "Org");
        let timestamp = self.timestamp(&mut fields, "timestamp").unwrap_or(self.context.now);
        let date = match self.string(&mut fields, "date") {
            None => timestamp.date(),
            Some(text) => match parse_date(&text) {
                Some(date) => date,
                None => {
                    self.problem(&fields.at("date"), format!("{text:?} is not a date (YYYY-MM-DD)"));
                    timestamp.date()
                }
            },
        };
        let threat_level = self
            .small(&mut fields, "threat_level_id", 4)
            .and_then(|n| {
                let level = ThreatLevel::from_number(n);
                if level.is_none() {
                    self.problem(&fields.at("threat_level_id"), "must be from 1 to 4");
                }
                level
            })
            .unwrap_or(ThreatLevel::Undefined);
        let analysis = self
            .small(&mut fields, "analysis", 2)
            .and_then(Analysis::from_number)
            .unwrap_or(Analysis::Initial);
        let published = self.boolean(&mut fields, "published").unwrap_or(false);
        let publish_timestamp =
            self.timestamp(&mut fields, "publish_timestamp").filter(|time| time.unix_timestamp() != 0);
        let mut distribution = self
            .small(&mut fields, "distribution", 4)
            .and_then(Distribution::from_number)
            .unwrap_or(Distribution::Organisation);
        let group = self.sharing_group(&mut fields);
        let sharing_group = match (distribution, group) {
            (Distribution::SharingGroup, Some(group)) => Some(group),
            (Distribution::SharingGroup, None) => {
                self.problem(
                    &fields.at("distribution"),
                    "distribution 4 needs a sharing group; narrowed to 0 (organisation only)",
                );
                distribution = Distribution::Organisation;
                None
            }
            _ => None,
        };
        let extends_uuid = match fields.take("extends_uuid") {
            Some(Value::String(text)) if text.is_empty() => None,
            Some(value) => {
                fields.map.insert("extends_uuid".into(), value);
                self.uuid(&mut fields, "extends_uuid")
            }
            None => None,
        };
        let tags = self.tags(&mut fields);
        let mut uuids = HashSet::from([uuid]);
        let mut attributes = Vec::new();
        for (path, value) in self.list(&mut fields, "Attribute") {
            if let Some(attribute) = self.attribute(&path, value, timestamp, false, &mut uuids) {
                attributes.push(attribute);
            }
        }
        let mut objects = Vec::new();
        for (path, value) in self.list(&mut fields, "Object") {
            if let Some(object) = self.object(&path, value, timestamp, &mut uuids) {
                objects.push(object);
            }
        }
        Some(IntelEvent {
            uuid,
            info,
            date,
            threat_level,
            analysis,
            published,
            publish_timestamp,
            distribution,
            sharing_group,
            org,
            orgc,
            timestamp,
            extends_uuid,
            tags,
            attributes,
            objects,
        })
    }

    fn distribution(&mut self, fields: &mut Fields) -> (AttrDistribution, Option<Uuid>) {
        let level = self
            .small(fields, "distribution", 5)
            .and_then(AttrDistribution::from_number)
            .unwrap_or(AttrDistribution::Inherit);
        let group = self.sharing_group(fields);
        match (level, group) {
            (AttrDistribution::Level(Distribution::SharingGroup), Some(group)) => (level, Some(group)),
            (AttrDistribution::Level(Distribution::SharingGroup), None) => {
                self.problem(
                    &fields.at("distribution"),
                    "distribution 4 needs a sharing group; narrowed to 0 (organisation only)",
                );
                (AttrDistribution::Level(Distribution::Organisation), None)
            }
            _ => (level, None),
        }
    }

    fn attribute(
        &mut self,
        path: &str,
        value: Value,
        event_time: Timestamp,
        in_object: bool,
        uuids: &mut HashSet<Uuid>,
    ) -> Option<Attribute> {
        let mut fields = self.fields(path, value, "an attribute")?;
        if self.attributes >= self.limits.max_attributes {
            if self.attributes == self.limits.max_attributes {
                self.problem(
                    path,
                    format!(
                        "more than {} attributes in one event; the rest are left out",
                        self.limits.max_attributes
                    ),
                );
                self.attributes += 1;
            }
            return None;
        }
        let uuid = self.uuid(&mut fields, "uuid");
        let Some(uuid) = uuid else {
            self.problem(&fields.at("uuid"), "an attribute needs a uuid; the attribute is left out");
            return None;
        };
        if !uuids.insert(uuid) {
            self.problem(
                &fields.at("uuid"),
                format!("{uuid} is used twice in the event; the attribute is left out"),
            );
            return None;
        }
        let Some(attr_type) = self.string(&mut fields, "type") else {
            self.problem(&fields.at("type"), "an attribute needs a type; the attribute is left out");
            return None;
        };
        let Some(info) = describe::type_info(&attr_type) else {
            self.problem(
                &fields.at("type"),
                format!("{attr_type:?} is not a MISP attribute type; the attribute is left out"),
            );
            return None;
        };
        let category = match self.string(&mut fields, "category") {
            None => info.default_category().to_owned(),
            Some(category) if info.allows(&category) => category,
            Some(category) => {
                let reason = if describe::is_category(&category) {
                    format!("type {attr_type} may not be filed under {category:?}; the attribute is left out")
                } else {
                    format!("{category:?} is not a MISP category; the attribute is left out")
                };
                self.problem(&fields.at("category"), reason);
                return None;
            }
        };
        let raw = match self.string(&mut fields, "value") {
            Some(raw) => Some(raw),
            None => match (self.string(&mut fields, "value1"), self.string(&mut fields, "value2")) {
                (Some(first), Some(second)) if !second.is_empty() => Some(format!("{first}|{second}")),
                (Some(first), _) => Some(first),
                _ => None,
            },
        };
        let Some(raw) = raw else {
            self.problem(&fields.at("value"), "an attribute needs a value; the attribute is left out");
            return None;
        };
        let value = match value::canonicalise(&attr_type, &raw) {
            Ok(value) => value,
            Err(reason) => {
                self.problem(
                    &fields.at("value"),
                    format!("not a valid {attr_type}: {reason}; the attribute is left out"),
                );
                return None;
            }
        };
        let to_ids = self.boolean(&mut fields, "to_ids").unwrap_or(info.to_ids);
        let (distribution, sharing_group) = self.distribution(&mut fields);
        let comment = self.string(&mut fields, "comment").unwrap_or_default();
        let first_seen = self.seen(&mut fields, "first_seen");
        let last_seen = self.seen(&mut fields, "last_seen");
        let timestamp = self.timestamp(&mut fields, "timestamp").unwrap_or(event_time);
        let deleted = self.boolean(&mut fields, "deleted").unwrap_or(false);
        let object_relation = if in_object { self.string(&mut fields, "object_relation") } else { None };
        let tags = self.tags(&mut fields);
        let mut sightings = Vec::new();
        for (path, value) in self.list(&mut fields, "Sighting") {
            if let Some(sighting) = self.sighting(&path, value) {
                sightings.push(sighting);
            }
        }
        self.attributes += 1;
        Some(Attribute {
            uuid,
            attr_type,
            category,
            value,
            to_ids,
            distribution,
            sharing_group,
            comment,
            first_seen,
            last_seen,
            timestamp,
            deleted,
            tags,
            sightings,
            object_relation,
        })
    }

    fn sighting(&mut self, path: &str, value: Value) -> Option<Sighting> {
        let mut fields = self.fields(path, value, "a sighting")?;
        let Some(uuid) = self.uuid(&mut fields, "uuid") else {
            self.problem(&fields.at("uuid"), "a sighting needs a uuid; the sighting is left out");
            return None;
        };
        let kind = self
            .small(&mut fields, "type", 2)
            .and_then(SightingKind::from_number)
            .unwrap_or(SightingKind::Sighting);
        let source = self.string(&mut fields, "source").unwrap_or_default();
        let Some(time) = self.timestamp(&mut fields, "date_sighting") else {
            self.problem(&fields.at("date_sighting"), "a sighting needs its time; the sighting is left out");
            return None;
        };
        let org = self.org(&mut fields, "Organisation");
        Some(Sighting { uuid, kind, source, time, org })
    }

    fn object(
        &mut self,
        path: &str,
        value: Value,
        event_time: Timestamp,
        uuids: &mut HashSet<Uuid>,
    ) -> Option<IntelObject> {
        let mut fields = self.fields(path, value, "an object")?;
        let Some(uuid) = self.uuid(&mut fields, "uuid") else {
            self.problem(&fields.at("uuid"), "an object needs a uuid; the object is left out");
            return None;
        };
        if !uuids.insert(uuid) {
            self.problem(
                &fields.at("uuid"),
                format!("{uuid} is used twice in the event; the object is left out"),
            );
            return None;
        }
        let Some(name) = self.string(&mut fields, "name").filter(|name| !name.trim().is_empty()) else {
            self.problem(&fields.at("name"), "an object needs a name; the object is left out");
            return None;
        };
        let meta_category = self.string(&mut fields, "meta-category").unwrap_or_default();
        let template_uuid = self.uuid(&mut fields, "template_uuid");
        let template_version = self.string(&mut fields, "template_version");
        let description = self.string(&mut fields, "description").unwrap_or_default();
        let comment = self.string(&mut fields, "comment").unwrap_or_default();
        let (distribution, sharing_group) = self.distribution(&mut fields);
        let timestamp = self.timestamp(&mut fields, "timestamp").unwrap_or(event_time);
        let deleted = self.boolean(&mut fields, "deleted").unwrap_or(false);
        let first_seen = self.seen(&mut fields, "first_seen");
        let last_seen = self.seen(&mut fields, "last_seen");
        let mut attributes = Vec::new();
        for (path, value) in self.list(&mut fields, "Attribute") {
            if let Some(attribute) = self.attribute(&path, value, timestamp, true, uuids) {
                attributes.push(attribute);
            }
        }
        let mut references = Vec::new();
        for (path, value) in self.list(&mut fields, "ObjectReference") {
            let Some(mut item) = self.fields(&path, value, "an object reference") else { continue };
            let reference_uuid = self.uuid(&mut item, "uuid");
            let referenced = self.uuid(&mut item, "referenced_uuid");
            let relationship = self.string(&mut item, "relationship_type").filter(|r| !r.is_empty());
            let (Some(reference_uuid), Some(referenced_uuid), Some(relationship_type)) =
                (reference_uuid, referenced, relationship)
            else {
                self.problem(
                    &path,
                    "a reference needs uuid, referenced_uuid and relationship_type; left out",
                );
                continue;
            };
            let comment = self.string(&mut item, "comment").unwrap_or_default();
            let timestamp = self.timestamp(&mut item, "timestamp").unwrap_or(timestamp);
            references.push(ObjectReference {
                uuid: reference_uuid,
                referenced_uuid,
                relationship_type,
                comment,
                timestamp,
            });
        }
        Some(IntelObject {
            uuid,
            name,
            meta_category,
            template_uuid,
            template_version,
            description,
            comment,
            distribution,
            sharing_group,
            timestamp,
            deleted,
            first_seen,
            last_seen,
            attributes,
            references,
        })
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).ok()
}

/// A date as MISP writes it.
pub fn format_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A time as MISP writes `first_seen`: `2024-05-01T10:00:00.000000+00:00`.
pub fn format_seen(time: Timestamp) -> String {
    let utc = time.to_offset(UtcOffset::UTC);
    format!(
        "{}T{:02}:{:02}:{:02}.{:06}+00:00",
        format_date(utc.date()),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.microsecond()
    )
}

fn text(value: impl ToString) -> Value {
    Value::String(value.to_string())
}

fn org_json(org: &OrgRef) -> Value {
    let mut out = Map::new();
    out.insert("uuid".into(), text(org.uuid));
    out.insert("name".into(), text(&org.name));
    Value::Object(out)
}

fn tags_json(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|tag| {
                let mut out = Map::new();
                out.insert("name".into(), text(&tag.name));
                if let Some(colour) = &tag.colour {
                    out.insert("colour".into(), text(colour));
                }
                out.insert("exportable".into(), Value::Bool(tag.exportable));
                out.insert("local".into(), Value::Bool(tag.local));
                Value::Object(out)
            })
            .collect(),
    )
}

fn distribution_json(out: &mut Map<String, Value>, distribution: u8, group: Option<Uuid>) {
    out.insert("distribution".into(), text(distribution));
    match group {
        Some(group) => {
            out.insert("sharing_group_id".into(), text(group));
            let mut sg = Map::new();
            sg.insert("uuid".into(), text(group));
            out.insert("SharingGroup".into(), Value::Object(sg));
        }
        None => {
            out.insert("sharing_group_id".into(), text("0"));
        }
    }
}

fn attribute_json(attribute: &Attribute) -> Value {
    let mut out = Map::new();
    out.insert("uuid".into(), text(attribute.uuid));
    out.insert("type".into(), text(&attribute.attr_type));
    out.insert("category".into(), text(&attribute.category));
    out.insert("value".into(), text(&attribute.value));
    out.insert("to_ids".into(), Value::Bool(attribute.to_ids));
    distribution_json(&mut out, attribute.distribution.number(), attribute.sharing_group);
    out.insert("comment".into(), text(&attribute.comment));
    out.insert("timestamp".into(), text(attribute.timestamp.unix_timestamp()));
    out.insert("deleted".into(), Value::Bool(attribute.deleted));
    out.insert("first_seen".into(), attribute.first_seen.map_or(Value::Null, |time| text(format_seen(time))));
    out.insert("last_seen".into(), attribute.last_seen.map_or(Value::Null, |time| text(format_seen(time))));
    if let Some(relation) = &attribute.object_relation {
        out.insert("object_relation".into(), text(relation));
    }
    out.insert("Tag".into(), tags_json(&attribute.tags));
    if !attribute.sightings.is_empty() {
        let sightings = attribute
            .sightings
            .iter()
            .map(|sighting| {
                let mut item = Map::new();
                item.insert("uuid".into(), text(sighting.uuid));
                item.insert("type".into(), text(sighting.kind.number()));
                item.insert("source".into(), text(&sighting.source));
                item.insert("date_sighting".into(), text(sighting.time.unix_timestamp()));
                if let Some(org) = &sighting.org {
                    item.insert("Organisation".into(), org_json(org));
                }
                Value::Object(item)
            })
            .collect();
        out.insert("Sighting".into(), Value::Array(sightings));
    }
    Value::Object(out)
}

fn object_json(object: &IntelObject) -> Value {
    let mut out = Map::new();
    out.insert("uuid".into(), text(object.uuid));
    out.insert("name".into(), text(&object.name));
    out.insert("meta-category".into(), text(&object.meta_category));
    out.insert("template_uuid".into(), object.template_uuid.map_or(Value::Null, text));
    out.insert("template_version".into(), object.template_version.as_ref().map_or(Value::Null, text));
    out.insert("description".into(), text(&object.description));
    out.insert("comment".into(), text(&object.comment));
    distribution_json(&mut out, object.distribution.number(), object.sharing_group);
    out.insert("timestamp".into(), text(object.timestamp.unix_timestamp()));
    out.insert("deleted".into(), Value::Bool(object.deleted));
    out.insert("first_seen".into(), object.first_seen.map_or(Value::Null, |time| text(format_seen(time))));
    out.insert("last_seen".into(), object.last_seen.map_or(Value::Null, |time| text(format_seen(time))));
    out.insert("Attribute".into(), Value::Array(object.attributes.iter().map(attribute_json).collect()));
    let references = object
        .references
        .iter()
        .map(|reference| {
            let mut item = Map::new();
            item.insert("uuid".into(), text(reference.uuid));
            item.insert("object_uuid".into(), text(object.uuid));
            item.insert("referenced_uuid".into(), text(reference.referenced_uuid));
            item.insert("relationship_type".into(), text(&reference.relationship_type));
            item.insert("comment".into(), text(&reference.comment));
            item.insert("timestamp".into(), text(reference.timestamp.unix_timestamp()));
            Value::Object(item)
        })
        .collect();
    out.insert("ObjectReference".into(), Value::Array(references));
    Value::Object(out)
}

/// The event's fields, without the `{"Event": …}` wrapper (PyMISP's form).
pub fn event_fields(event: &IntelEvent) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("uuid".into(), text(event.uuid));
    out.insert("info".into(), text(&event.info));
    out.insert("date".into(), text(format_date(event.date)));
    out.insert("threat_level_id".into(), text(event.threat_level.number()));
    out.insert("analysis".into(), text(event.analysis.number()));
    distribution_json(&mut out, event.distribution.number(), event.sharing_group);
    out.insert("published".into(), Value::Bool(event.published));
    out.insert(
        "publish_timestamp".into(),
        text(event.publish_timestamp.map_or(0, OffsetDateTime::unix_timestamp)),
    );
    out.insert("timestamp".into(), text(event.timestamp.unix_timestamp()));
    out.insert("attribute_count".into(), text(event.attribute_count()));
    out.insert("locked".into(), Value::Bool(false));
    out.insert(
        "extends_uuid".into(),
        text(event.extends_uuid.map(|uuid| uuid.to_string()).unwrap_or_default()),
    );
    if let Some(org) = &event.org {
        out.insert("Org".into(), org_json(org));
    }
    out.insert("Orgc".into(), org_json(&event.orgc));
    out.insert("Tag".into(), tags_json(&event.tags));
    out.insert("Attribute".into(), Value::Array(event.attributes.iter().map(attribute_json).collect()));
    out.insert("Object".into(), Value::Array(event.objects.iter().map(object_json).collect()));
    out.insert("Galaxy".into(), Value::Array(Vec::new()));
    out.insert("EventReport".into(), Value::Array(Vec::new()));
    out.insert("ShadowAttribute".into(), Value::Array(Vec::new()));
    out
}

/// The event as `{"Event": {…}}`.
pub fn export_event(event: &IntelEvent) -> Value {
    let mut out = Map::new();
    out.insert("Event".into(), Value::Object(event_fields(event)));
    Value::Object(out)
}

/// Several events as a list of `{"Event": {…}}`.
pub fn export_events(events: &[IntelEvent]) -> Value {
    Value::Array(events.iter().map(export_event).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> ImportContext {
        ImportContext { now: OffsetDateTime::UNIX_EPOCH, default_org: None }
    }

    #[test]
    fn whole_document_errors_say_where() {
        let limits = Limits::default();
        let error = parse("{\"Event\": [1,", &context(), &limits).unwrap_err();
        assert!(matches!(error, MispError::Json { line: 1, .. }), "{error}");
        assert_eq!(
            parse("42", &context(), &limits).unwrap_err().to_string(),
            "(root): expected {\"Event\": {…}}, a list of events or an event"
        );
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(parse(&deep, &context(), &limits).unwrap_err(), MispError::TooDeep { limit: 32 });
        let small = Limits { max_bytes: 10, ..limits };
        assert_eq!(
            parse("[1,2,3,4,5,6]", &context(), &small).unwrap_err(),
            MispError::TooLarge { size: 13, limit: 10 }
        );
        let few = Limits { max_events: 1, ..limits };
        assert!(matches!(
            parse("[{}, {}]", &context(), &few).unwrap_err(),
            MispError::TooManyEvents { count: 2, limit: 1 }
        ));
    }

    #[test]
    fn attribute_limit_keeps_the_first() {
        let attributes: Vec<String> = (0..5)
            .map(|n| format!(r#"{{"uuid":"00000000-0000-4000-8000-00000000000{n}","type":"ip-dst","value":"192.0.2.{n}"}}"#))
            .collect();
        let text = format!(
            r#"{{"uuid":"10000000-0000-4000-8000-000000000000","info":"x","Orgc":{{"uuid":"20000000-0000-4000-8000-000000000000","name":"CERT"}},"Attribute":[{}]}}"#,
            attributes.join(",")
        );
        let limits = Limits { max_attributes: 3, ..Limits::default() };
        let imported = parse(&text, &context(), &limits).unwrap();
        assert_eq!(imported.events[0].attributes.len(), 3);
        assert_eq!(imported.problems.len(), 1);
        assert_eq!(
            imported.problems[0].to_string(),
            "Attribute[3]: more than 3 attributes in one event; the rest are left out"
        );
    }
}
