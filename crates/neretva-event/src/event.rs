//! The harmonised event.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::error::ValueError;
use crate::fields::{FieldId, FieldType};
use crate::sanitize;
use crate::taxonomy;
use crate::text::Text;
use crate::value::Value;

/// The values IntelMQ's `Message.add` ignores (and which remove an existing
/// value when overwriting).
pub const IGNORED_VALUES: [&str; 3] = ["", "-", "N/A"];

/// A harmonised event: IntelMQ's `Event` with validated, canonical values.
///
/// Which fields are set is one bit per [`FieldId`] in a `u128`, and their values are kept in
/// field order (so by name) in a small vector: the value of a set field is at the number of set
/// fields before it, so a lookup is a mask and a population count. The `extra.*` members are a
/// second vector sorted by key. No hashing or map allocation happens per event.
#[derive(Clone, Default, PartialEq)]
pub struct Event {
    /// Bit `i` is set when field `FieldId(i)` has a value.
    set: u128,
    /// The values of the set fields, in field order.
    values: Vec<Value>,
    extra: Vec<(Text, Value)>,
}

// Every field has a bit.
const _: () = assert!(crate::fields_table::EVENT_FIELDS.len() <= 128);

/// The bit of a field.
#[inline]
fn bit(id: FieldId) -> u128 {
    1u128 << id.index()
}

/// The fields of `set` with the values in `values` (as many as there are bits), in order.
fn pairs(set: u128, values: &[Value]) -> impl Iterator<Item = (FieldId, &Value)> {
    let mut bits = set;
    values.iter().map(move |value| {
        let i = bits.trailing_zeros();
        bits &= bits.wrapping_sub(1);
        (FieldId(i as u16), value)
    })
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("fields", &pairs(self.set, &self.values).collect::<Vec<_>>())
            .field("extra", &self.extra)
            .finish()
    }
}

/// A field's value sanitised once, to be set on many events: a parser's constant fields.
#[derive(Clone, Debug)]
pub struct PreparedField(pub(crate) Prepared);

#[derive(Clone, Debug)]
pub(crate) enum Prepared {
    Set(FieldId, Value),
    /// A value IntelMQ ignores: setting it removes the field.
    Remove(FieldId),
    /// `extra` as a whole, set from its text each time.
    Text(FieldId, Box<str>),
}

/// What a field name refers to.
pub(crate) enum Target<'a> {
    Field(FieldId),
    /// The whole `extra` dictionary.
    ExtraDict,
    /// One member `extra.<key>`, by its full name.
    Extra(&'a str),
}

pub(crate) fn resolve(name: &str) -> Result<Target<'_>, &'static str> {
    if let Some(key) = name.strip_prefix("extra.") {
        if key.is_empty() {
            return Err("is not a valid field name: empty extra key");
        }
        return Ok(Target::Extra(name));
    }
    match FieldId::from_name(name) {
        Some(FieldId::EXTRA) => Ok(Target::ExtraDict),
        Some(id) => Ok(Target::Field(id)),
        None => Err("is for an unknown field (not in IntelMQ's harmonisation)"),
    }
}

fn error(name: &str, value: &str, reason: Cow<'static, str>) -> ValueError {
    ValueError::new(name, value, reason)
}

/// What setting a field comes to, decided before anything is stored; [`Event`] and
/// [`crate::EventBuilder`] both apply it, so both follow the same rules.
pub(crate) enum Outcome {
    /// Store the value.
    Set(Value),
    /// Remove the field (for `extra`, every member).
    Remove,
    /// Store these members (full names `extra.<key>`), sorted: `extra` set as a whole.
    Members(Vec<(String, Value)>),
}

/// [`Event::set_id`]'s decision: sanitise text for a field.
pub(crate) fn text_outcome(id: FieldId, text: &str) -> Result<Outcome, ValueError> {
    if IGNORED_VALUES.contains(&text) {
        return Ok(Outcome::Remove);
    }
    let spec = id.spec();
    if spec.ty == FieldType::JSONDict {
        return extra_text_outcome(spec.name, text);
    }
    let value = sanitize::from_text(spec, text).map_err(|reason| error(spec.name, text, reason))?;
    Ok(if is_ignored_value(&value) { Outcome::Remove } else { Outcome::Set(value) })
}

/// `extra` set as a whole from the text of a JSON object.
fn extra_text_outcome(name: &str, text: &str) -> Result<Outcome, ValueError> {
    if IGNORED_VALUES.contains(&text) {
        return Ok(Outcome::Remove);
    }
    let parsed = crate::intelmq_json::parse_limited(text).map_err(|reason| error(name, text, reason))?;
    dict_members(name, parsed, text).map(Outcome::Members)
}

/// [`Event::set_value_id`]'s decision: validate a typed value for a field.
pub(crate) fn value_outcome(id: FieldId, value: Value) -> Result<Outcome, ValueError> {
    let spec = id.spec();
    if spec.ty == FieldType::JSONDict {
        return match value {
            Value::Json(json) => {
                let text = json_error_text(&json);
                dict_members(spec.name, *json, &text).map(Outcome::Members)
            }
            Value::Str(text) => extra_text_outcome(spec.name, &text),
            other => Err(error(spec.name, &other.to_string(), Cow::Borrowed("is not a JSON object"))),
        };
    }
    let sanitized = sanitize::from_value(spec, &value).map_err(|reason| {
        let shown = match &value {
            Value::Str(text) => crate::error::truncate_chars(text, 200),
            Value::Json(json) => json_error_text(json),
            other => crate::error::truncate_chars(&other.to_string(), 200),
        };
        error(spec.name, &shown, reason)
    })?;
    Ok(if is_ignored_value(&sanitized) { Outcome::Remove } else { Outcome::Set(sanitized) })
}

/// The value an `extra.<key>` member stores for a typed value ([`Event::set_value`]).
pub(crate) fn member_value(name: &str, value: Value) -> Result<Value, ValueError> {
    Ok(match value {
        Value::Float(f) if !f.is_finite() => {
            return Err(error(name, &f.to_string(), Cow::Borrowed("is not a finite number")));
        }
        Value::Json(json) => extra_value(*json),
        Value::Ip(_) | Value::Network(_) | Value::Time(_) => Value::Str(value.to_string().into()),
        other => other,
    })
}

/// The members of `extra` set as a whole, sorted by name: as IntelMQ, stored as they are, even
/// null and empty strings.
fn dict_members(
    name: &str,
    value: serde_json::Value,
    text: &str,
) -> Result<Vec<(String, Value)>, ValueError> {
    let serde_json::Value::Object(map) = value else {
        return Err(error(name, text, Cow::Borrowed("is not a JSON object")));
    };
    if map.keys().any(String::is_empty) {
        return Err(error(name, text, Cow::Borrowed("has an empty key")));
    }
    let mut members: Vec<(String, Value)> =
        map.into_iter().map(|(key, member)| (format!("extra.{key}"), extra_value(member))).collect();
    members.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(members)
}

/// The text of a JSON value for an error message.
fn json_error_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => crate::error::truncate_chars(text, 200),
        other => {
            let mut text = other.to_string();
            if text.len() > 400 {
                text = crate::error::truncate_chars(&text, 200);
            }
            text
        }
    }
}

/// An `extra.*` member from a JSON value: scalars as `Str`, `Int`, `Float`
/// or `Bool`, everything else as `Json`.
pub(crate) fn extra_value(value: serde_json::Value) -> Value {
    match value {
        serde_json::Value::String(text) => Value::Str(text.into()),
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(number) => {
            if let Some(i) = number.as_i64() {
                Value::Int(i)
            } else if number.is_f64() {
                number.as_f64().map_or(Value::Json(Box::new(serde_json::Value::Number(number))), Value::Float)
            } else {
                Value::Json(Box::new(serde_json::Value::Number(number)))
            }
        }
        other => Value::Json(Box::new(other)),
    }
}

/// Whether a sanitised value is one IntelMQ ignores (`" - "` strips to
/// `"-"`): IntelMQ stores it but drops it when the next bot reads the
/// message, so it is dropped here at once and JSON lines round-trip.
fn is_ignored_value(value: &Value) -> bool {
    matches!(value, Value::Str(text) if IGNORED_VALUES.contains(&&**text))
}

/// The key of a member name `extra.<key>`.
fn member_key(name: &str) -> &str {
    name.strip_prefix("extra.").unwrap_or(name)
}

impl Event {
    /// An empty event.
    pub fn new() -> Self {
        Self::default()
    }

    /// An event of the fields whose bits `set` has, with their values in field order, and of
    /// members sorted by full name without repeats (as [`crate::EventBuilder`] makes them).
    pub(crate) fn from_parts(set: u128, values: Vec<Value>, extra: Vec<(Text, Value)>) -> Self {
        debug_assert_eq!(set.count_ones() as usize, values.len());
        debug_assert!(extra.windows(2).all(|pair| pair[0].0 < pair[1].0));
        Self { set, values, extra }
    }

    /// An empty event with room for `fields` fields.
    pub fn with_capacity(fields: usize) -> Self {
        Self { set: 0, values: Vec::with_capacity(fields), extra: Vec::new() }
    }

    /// An empty event with room for `fields` fields and `extra` members of `extra.*`.
    pub fn with_capacities(fields: usize, extra: usize) -> Self {
        Self { set: 0, values: Vec::with_capacity(fields), extra: Vec::with_capacity(extra) }
    }

    /// Where a field's value is (or goes) in `values`: the number of set fields before it.
    #[inline]
    fn rank(&self, id: FieldId) -> usize {
        (self.set & (bit(id) - 1)).count_ones() as usize
    }

    /// Sets a field from text, sanitising and validating it per the field's
    /// type, replacing any earlier value.
    ///
    /// As IntelMQ's `Message.add`, the values `""`, `"-"` and `"N/A"` are
    /// ignored and remove an earlier value. `extra.<key>` takes the text as a
    /// string, unchanged; `extra` takes a JSON object's text and sets its
    /// members. For `raw` the text is the raw data and is stored
    /// base64-encoded (IntelMQ's `Base64.sanitize`); see [`Event::set_raw`].
    pub fn set(&mut self, name: &str, text: &str) -> Result<(), ValueError> {
        let target = resolve(name).map_err(|reason| ValueError::new(name, text, reason))?;
        match target {
            Target::Field(id) => self.set_id(id, text).map_err(|mut e| {
                e.field = name.to_owned();
                e
            }),
            Target::Extra(key) => {
                if IGNORED_VALUES.contains(&text) {
                    self.remove_extra(key);
                } else {
                    self.insert_extra(key, Value::Str(text.into()));
                }
                Ok(())
            }
            Target::ExtraDict => {
                let outcome = extra_text_outcome(name, text)?;
                self.apply(FieldId::EXTRA, outcome);
                Ok(())
            }
        }
    }

    /// [`Event::set`] for a field known by id: the hot path of parsers.
    pub fn set_id(&mut self, id: FieldId, text: &str) -> Result<(), ValueError> {
        let outcome = text_outcome(id, text)?;
        self.apply(id, outcome);
        Ok(())
    }

    /// Stores what setting a field came to.
    fn apply(&mut self, id: FieldId, outcome: Outcome) {
        match outcome {
            Outcome::Set(value) => self.insert(id, value),
            Outcome::Remove if id == FieldId::EXTRA => self.extra.clear(),
            Outcome::Remove => {
                self.remove_id(id);
            }
            Outcome::Members(members) => {
                for (name, value) in members {
                    self.insert_extra(&name, value);
                }
            }
        }
    }

    /// Sanitises a value for a field once, as [`Event::set_id`] would, to set it on many events
    /// with [`Event::set_prepared`].
    pub fn prepare(id: FieldId, text: &str) -> Result<PreparedField, ValueError> {
        if IGNORED_VALUES.contains(&text) {
            return Ok(PreparedField(Prepared::Remove(id)));
        }
        let spec = id.spec();
        if spec.ty == FieldType::JSONDict {
            return Ok(PreparedField(Prepared::Text(id, text.into())));
        }
        let value = sanitize::from_text(spec, text).map_err(|reason| error(spec.name, text, reason))?;
        Ok(PreparedField(if is_ignored_value(&value) {
            Prepared::Remove(id)
        } else {
            Prepared::Set(id, value)
        }))
    }

    /// Sets a field prepared by [`Event::prepare`]: the same as [`Event::set_id`] with the
    /// prepared text, without sanitising it again.
    pub fn set_prepared(&mut self, field: &PreparedField) -> Result<(), ValueError> {
        match &field.0 {
            Prepared::Set(id, value) => {
                self.insert(*id, value.clone());
                Ok(())
            }
            Prepared::Remove(id) => {
                self.remove_id(*id);
                Ok(())
            }
            Prepared::Text(id, text) => self.set_id(*id, text),
        }
    }

    /// Sets a field from a JSON value as found in an IntelMQ JSON message:
    /// numbers for Integer, ASN, Float and Accuracy, booleans for Boolean,
    /// strings otherwise. `null` and the ignored strings remove the field.
    /// `extra` takes an object (or its text); `extra.<key>` any JSON value,
    /// kept as it is, even `""` (only `null` removes it). `raw` takes the
    /// base64 text.
    pub fn set_json(&mut self, name: &str, value: serde_json::Value) -> Result<(), ValueError> {
        let ignored = match &value {
            serde_json::Value::Null => true,
            serde_json::Value::String(text) => IGNORED_VALUES.contains(&text.as_str()),
            _ => false,
        };
        let target =
            resolve(name).map_err(|reason| ValueError::new(name, &json_error_text(&value), reason))?;
        match target {
            Target::Field(id) => {
                if ignored {
                    self.remove_id(id);
                    return Ok(());
                }
                let spec = id.spec();
                let sanitized = sanitize::from_json(spec, &value)
                    .map_err(|reason| error(name, &json_error_text(&value), reason))?;
                self.insert_or_ignore(id, sanitized);
                Ok(())
            }
            Target::Extra(key) => {
                // A JSON line's members are kept as they are, even empty
                // strings (IntelMQ's parsers write them when they set
                // `extra` as a whole); only null removes.
                if value.is_null() {
                    self.remove_extra(key);
                } else {
                    self.insert_extra(key, extra_value(value));
                }
                Ok(())
            }
            Target::ExtraDict => {
                if ignored {
                    self.extra.clear();
                    return Ok(());
                }
                match value {
                    serde_json::Value::String(text) => self.set(name, &text),
                    other => {
                        let text = json_error_text(&other);
                        self.set_extra_dict(name, other, &text)
                    }
                }
            }
        }
    }

    fn set_extra_dict(&mut self, name: &str, value: serde_json::Value, text: &str) -> Result<(), ValueError> {
        let members = dict_members(name, value, text)?;
        self.apply(FieldId::EXTRA, Outcome::Members(members));
        Ok(())
    }

    /// Sets a field to an already typed value, validated per the field's
    /// type; see [`Value`] for which variant each type holds. `Int` and
    /// `Float` convert into each other where lossless, times are converted
    /// to UTC, and `Str` is sanitised as [`Event::set`] does (except for
    /// `raw`, where it must be the base64 text, and `output`, the JSON text).
    /// `extra.<key>` takes any value.
    pub fn set_value(&mut self, name: &str, value: Value) -> Result<(), ValueError> {
        let target = resolve(name).map_err(|reason| ValueError::new(name, &value.to_string(), reason))?;
        match target {
            Target::Field(id) => self.set_value_id(id, value),
            Target::Extra(key) => {
                let value = member_value(name, value)?;
                self.insert_extra(key, value);
                Ok(())
            }
            Target::ExtraDict => self.set_value_id(FieldId::EXTRA, value),
        }
    }

    /// [`Event::set_value`] for a field known by id.
    pub fn set_value_id(&mut self, id: FieldId, value: Value) -> Result<(), ValueError> {
        let outcome = value_outcome(id, value)?;
        self.apply(id, outcome);
        Ok(())
    }

    /// Stores raw data (the `raw` field) base64-encoded.
    pub fn set_raw(&mut self, data: &[u8]) {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(data);
        self.insert(FieldId::RAW, Value::Str(encoded.into()));
    }

    /// The decoded `raw` data, if there is any.
    pub fn raw(&self) -> Option<Vec<u8>> {
        let text = self.get_id(FieldId::RAW)?.as_str()?;
        sanitize::decode_base64(text).ok()
    }

    /// Stores a value without validating it: for values that came out of
    /// another event or a [`crate::Report`], which are valid already.
    pub(crate) fn insert(&mut self, id: FieldId, value: Value) {
        let i = self.rank(id);
        if self.set & bit(id) != 0 {
            self.values[i] = value;
        } else {
            self.values.insert(i, value);
            self.set |= bit(id);
        }
    }

    /// Stores a member by its full name `extra.<key>`.
    /// Stores a sanitised value, or removes the field when the value is
    /// one IntelMQ ignores.
    fn insert_or_ignore(&mut self, id: FieldId, value: Value) {
        if is_ignored_value(&value) {
            self.remove_id(id);
        } else {
            self.insert(id, value);
        }
    }

    fn insert_extra(&mut self, name: &str, value: Value) {
        match self.extra.binary_search_by(|(k, _)| k.as_bytes().cmp(name.as_bytes())) {
            Ok(i) => self.extra[i].1 = value,
            Err(i) => self.extra.insert(i, (Text::new(name), value)),
        }
    }

    /// Removes a member by its full name `extra.<key>`.
    fn remove_extra(&mut self, name: &str) -> Option<Value> {
        let i = self.extra.binary_search_by(|(k, _)| k.as_bytes().cmp(name.as_bytes())).ok()?;
        Some(self.extra.remove(i).1)
    }

    /// Removes a field by id, returning its value.
    pub fn remove_id(&mut self, id: FieldId) -> Option<Value> {
        if id == FieldId::EXTRA {
            return self.take_extra_dict();
        }
        if self.set & bit(id) == 0 {
            return None;
        }
        let i = self.rank(id);
        self.set &= !bit(id);
        Some(self.values.remove(i))
    }

    fn take_extra_dict(&mut self) -> Option<Value> {
        if self.extra.is_empty() {
            return None;
        }
        let map = std::mem::take(&mut self.extra)
            .into_iter()
            .map(|(k, v)| (member_key(&k).to_owned(), v.to_json()))
            .collect();
        Some(Value::Json(Box::new(serde_json::Value::Object(map))))
    }

    /// The value of a field or `extra.<key>` member. `extra` itself has no
    /// single value here; use [`Event::extra`] or [`Event::extra_json`].
    pub fn get(&self, name: &str) -> Option<&Value> {
        if name.starts_with("extra.") {
            let i = self.extra.binary_search_by(|(k, _)| k.as_bytes().cmp(name.as_bytes())).ok()?;
            return Some(&self.extra[i].1);
        }
        self.get_id(FieldId::from_name(name)?)
    }

    /// The value of a field known by id.
    #[inline]
    pub fn get_id(&self, id: FieldId) -> Option<&Value> {
        if self.set & bit(id) == 0 {
            return None;
        }
        self.values.get(self.rank(id))
    }

    /// The text of a `Str` field or member.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// Whether the field or member is set; `extra` is set when any member is.
    pub fn contains(&self, name: &str) -> bool {
        if name == "extra" {
            return !self.extra.is_empty();
        }
        self.get(name).is_some()
    }

    /// Removes a field or member, returning its value; removing `extra`
    /// removes every member and returns them as one `Json` object.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        if name.starts_with("extra.") {
            return self.remove_extra(name);
        }
        self.remove_id(FieldId::from_name(name)?)
    }

    /// The number of keys as IntelMQ counts them: fields plus `extra.*`
    /// members.
    pub fn len(&self) -> usize {
        self.values.len() + self.extra.len()
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.extra.is_empty()
    }

    /// Every field and member with its value, sorted by name (byte order,
    /// as Python sorts): the order of IntelMQ's JSON lines. Members appear
    /// as `extra.<key>`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        let (before, after) = self.fields_around_extra();
        before
            .map(|(id, value)| (id.name(), value))
            .chain(self.extra.iter().map(|(name, value)| (&**name, value)))
            .chain(after.map(|(id, value)| (id.name(), value)))
    }

    /// The fields whose names sort before `extra.*`, and those after, in order.
    fn fields_around_extra(
        &self,
    ) -> (impl Iterator<Item = (FieldId, &Value)>, impl Iterator<Item = (FieldId, &Value)>) {
        let below = bit(FieldId::EXTRA) - 1;
        let (before, after) = self.values.split_at((self.set & below).count_ones() as usize);
        (pairs(self.set & below, before), pairs(self.set & !below, after))
    }

    /// Like [`Event::iter`], yielding the name in parts: the field, and the
    /// member key for `extra.*` (where the field is `extra`).
    pub fn iter_parts(&self) -> impl Iterator<Item = (FieldId, Option<&str>, &Value)> {
        let (before, after) = self.fields_around_extra();
        before
            .map(|(id, value)| (id, None, value))
            .chain(self.extra.iter().map(|(name, value)| (FieldId::EXTRA, Some(member_key(name)), value)))
            .chain(after.map(|(id, value)| (id, None, value)))
    }

    /// The `extra.*` members: key (without `extra.`) and value, sorted by key.
    pub fn extra(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.extra.iter().map(|(name, value)| (member_key(name), value))
    }

    /// The `extra.*` members as one JSON object, or None when there are none.
    pub fn extra_json(&self) -> Option<serde_json::Value> {
        if self.extra.is_empty() {
            return None;
        }
        Some(serde_json::Value::Object(
            self.extra.iter().map(|(name, value)| (member_key(name).to_owned(), value.to_json())).collect(),
        ))
    }

    /// Fills in the classification as IntelMQ's taxonomy expert does:
    /// the taxonomy from the type (`other` for an unknown type) when the
    /// taxonomy is missing; taxonomy `other` and type `undetermined` when
    /// both are missing; type `undetermined` when only the type is missing.
    /// Present values are never changed.
    pub fn classify(&mut self) {
        let typed = self.get_id(FieldId::CLASSIFICATION_TYPE).and_then(Value::as_str);
        if self.get_id(FieldId::CLASSIFICATION_TAXONOMY).is_some() {
            if typed.is_none() {
                self.insert(FieldId::CLASSIFICATION_TYPE, Value::str("undetermined"));
            }
            return;
        }
        // The type's taxonomy is a static text: the type need not be copied to look it up.
        match typed.map(|ty| taxonomy::taxonomy_of(ty).unwrap_or("other")) {
            Some(taxonomy) => self.insert(FieldId::CLASSIFICATION_TAXONOMY, Value::str(taxonomy)),
            None => {
                self.insert(FieldId::CLASSIFICATION_TAXONOMY, Value::str("other"));
                self.insert(FieldId::CLASSIFICATION_TYPE, Value::str("undetermined"));
            }
        }
    }

    /// IntelMQ's `Message.hash()`: the lower-case hex SHA-256 over every key
    /// and value except `time.observation`, in key order, each key and each
    /// Python `repr()` of a value followed by the byte 0xC0.
    ///
    /// Equal to IntelMQ's hash for all values whose `repr` this crate
    /// reproduces: everything except strings with unusual unprintable
    /// characters and `extra.*` objects, whose members IntelMQ hashes in
    /// input order where this crate uses key order.
    pub fn event_hash(&self) -> String {
        let mut hasher = Sha256::new();
        let mut repr = String::new();
        for (id, key, value) in self.iter_parts() {
            if id == FieldId::TIME_OBSERVATION {
                continue;
            }
            match key {
                Some(key) => {
                    hasher.update(b"extra.");
                    hasher.update(key.as_bytes());
                }
                None => hasher.update(id.name().as_bytes()),
            }
            hasher.update([0xc0]);
            repr.clear();
            value.write_repr(&mut repr);
            hasher.update(repr.as_bytes());
            hasher.update([0xc0]);
        }
        let digest = hasher.finalize();
        let mut hex = String::with_capacity(64);
        for byte in digest {
            use std::fmt::Write as _;
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }
}
