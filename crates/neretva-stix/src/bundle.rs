//! STIX 2.1 bundles: import with limits, keeping the good objects and reporting the rest, and
//! export.
//!
//! [`parse_bundle`] reads a bundle (or a TAXII envelope, `{"objects": [...]}`) whose JSON is
//! well formed, within [`Limits`]; every object is read on its own ([`Object::from_json`]), so a
//! bad object is reported in [`Imported::rejected`] with the JSON path and reason of each of its
//! problems, and the others are imported. Only input that is not a bundle at all (bad JSON, not
//! an object, over a limit) fails as a whole ([`BundleError`]), with the line and column or
//! the path.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::object::marking::missing_definitions;
use crate::object::property::{Identifier, Problem};
use crate::object::{DEFAULT_MAX_DEPTH, Fields, Object};

/// The bounds of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest bundle, in bytes.
    pub max_bytes: usize,
    /// The most objects.
    pub max_objects: usize,
    /// The deepest nesting of a property value inside an object.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_bytes: 512 << 20, max_objects: 1_000_000, max_depth: DEFAULT_MAX_DEPTH }
    }
}

/// What an import gave.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// The bundle's identifier (a TAXII envelope has none).
    pub bundle_id: Option<Identifier>,
    /// The objects that passed every check, in bundle order.
    pub objects: Vec<Object>,
    /// The objects that did not, with their problems.
    pub rejected: Vec<Rejected>,
}

/// An object that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its index in `objects`.
    pub index: usize,
    /// Its `id`, if it has a string one.
    pub id: Option<String>,
    pub problems: Vec<Problem>,
}

/// Why a bundle could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("the bundle has {size} bytes, more than the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the bundle holds {count} objects, more than the limit of {limit}")]
    TooManyObjects { count: usize, limit: usize },
    #[error("line {line}, column {column}: {reason}")]
    Json { line: usize, column: usize, reason: String },
    #[error("{path}: {reason}")]
    NotABundle { path: String, reason: String },
}

fn json_error(error: &serde_json::Error) -> BundleError {
    let reason = error.to_string();
    let reason = reason.split(" at line ").next().unwrap_or(&reason).to_owned();
    BundleError::Json { line: error.line(), column: error.column(), reason }
}

/// Reads a bundle.
pub fn parse_bundle(text: &str, limits: &Limits) -> Result<Imported, BundleError> {
    if text.len() > limits.max_bytes {
        return Err(BundleError::TooLarge { size: text.len(), limit: limits.max_bytes });
    }
    let first = text.trim_start().chars().next();
    if first != Some('{') {
        if first.is_none() {
            return Err(BundleError::Json { line: 1, column: 0, reason: "empty input".to_owned() });
        }
        // Surface a JSON syntax error if there is one, else say what the document is.
        if let Err(error) = serde_json::from_str::<IgnoredAny>(text) {
            return Err(json_error(&error));
        }
        return Err(BundleError::NotABundle {
            path: String::new(),
            reason: "expected a bundle (a JSON object)".to_owned(),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let envelope = EnvelopeSeed { limits }.deserialize(&mut deserializer).map_err(|e| {
        // The object limit is reported through serde's error; recover it.
        let message = e.to_string();
        match message.strip_prefix(TOO_MANY) {
            Some(rest) => BundleError::TooManyObjects {
                count: rest
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(limits.max_objects + 1),
                limit: limits.max_objects,
            },
            None => json_error(&e),
        }
    })?;
    deserializer.end().map_err(|e| json_error(&e))?;
    match envelope.kind.as_deref() {
        Some("bundle") | None => {}
        Some(other) => {
            return Err(BundleError::NotABundle {
                path: "type".to_owned(),
                reason: format!("{other:?} is not \"bundle\""),
            });
        }
    }
    let bundle_id = match envelope.id {
        None => None,
        Some(id) => match Identifier::parse(&id) {
            Ok(id) if id.object_type() == "bundle" => Some(id),
            Ok(_) => {
                return Err(BundleError::NotABundle {
                    path: "id".to_owned(),
                    reason: format!("{id:?} is not a bundle identifier"),
                });
            }
            Err(reason) => return Err(BundleError::NotABundle { path: "id".to_owned(), reason }),
        },
    };
    Ok(Imported { bundle_id, objects: envelope.objects, rejected: envelope.rejected })
}

const TOO_MANY: &str = "more objects than the limit: ";

/// The bundle's members, its objects read one by one as the parser meets them.
struct Envelope {
    kind: Option<String>,
    id: Option<String>,
    objects: Vec<Object>,
    rejected: Vec<Rejected>,
}

struct EnvelopeSeed<'l> {
    limits: &'l Limits,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed<'_> {
    type Value = Envelope;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Envelope, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed<'_> {
    type Value = Envelope;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX bundle")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
        let mut envelope = Envelope { kind: None, id: None, objects: Vec::new(), rejected: Vec::new() };
        while let Some(CowStr(key)) = map.next_key::<CowStr<'de>>()? {
            match key.as_ref() {
                "type" => envelope.kind = Some(map.next_value::<String>()?),
                "id" => envelope.id = Some(map.next_value::<String>()?),
                "objects" => {
                    map.next_value_seed(ObjectsSeed { limits: self.limits, envelope: &mut envelope })?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(envelope)
    }
}

struct ObjectsSeed<'l, 'e> {
    limits: &'l Limits,
    envelope: &'e mut Envelope,
}

impl<'de> DeserializeSeed<'de> for ObjectsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ObjectsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of STIX objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        if let Some(hint) = seq.size_hint() {
            self.envelope.objects.reserve(hint.min(self.limits.max_objects));
        }
        while let Some(member) = seq.next_element::<Member<'de>>()? {
            if index >= self.limits.max_objects {
                return Err(serde::de::Error::custom(format!("{TOO_MANY}{} or more", index + 1)));
            }
            let path = format!("objects[{index}]");
            match member {
                Member::Object(fields) => {
                    let id = fields
                        .0
                        .iter()
                        .find(|(k, _)| k == "id")
                        .and_then(|(_, v)| v.as_str())
                        .map(str::to_owned);
                    match Object::from_fields(fields, &path, self.limits.max_depth) {
                        Ok(object) => self.envelope.objects.push(object),
                        Err(problems) => self.envelope.rejected.push(Rejected { index, id, problems }),
                    }
                }
                Member::Duplicate(key) => self.envelope.rejected.push(Rejected {
                    index,
                    id: None,
                    problems: vec![Problem {
                        path: format!("{path}.{key}"),
                        reason: "the property appears twice".to_owned(),
                    }],
                }),
                Member::NotAnObject(kind) => self.envelope.rejected.push(Rejected {
                    index,
                    id: None,
                    problems: vec![Problem {
                        path,
                        reason: format!("expected a STIX object (a JSON object), found {kind}"),
                    }],
                }),
            }
            index += 1;
        }
        Ok(())
    }
}

/// A string borrowed from the input when it has no escapes.
struct CowStr<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CowStr<'de>, D::Error> {
        deserializer.deserialize_str(CowStrVisitor)
    }
}

struct CowStrVisitor;

impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = CowStr<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<CowStr<'de>, E> {
        Ok(CowStr(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<CowStr<'de>, E> {
        Ok(CowStr(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E>(self, text: String) -> Result<CowStr<'de>, E> {
        Ok(CowStr(Cow::Owned(text)))
    }
}

/// One element of `objects`, read into its members.
enum Member<'de> {
    Object(Fields<'de>),
    Duplicate(String),
    NotAnObject(&'static str),
}

impl<'de> Deserialize<'de> for Member<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Member<'de>, D::Error> {
        deserializer.deserialize_any(MemberVisitor)
    }
}

struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Member<'de>, A::Error> {
        let mut fields: Vec<(Cow<'de, str>, Value)> = Vec::with_capacity(map.size_hint().unwrap_or(16));
        let mut duplicate = None;
        while let Some(CowStr(key)) = map.next_key::<CowStr<'de>>()? {
            let value = map.next_value::<Value>()?;
            if fields.iter().any(|(k, _)| *k == key) {
                duplicate.get_or_insert(key);
                continue;
            }
            fields.push((key, value));
        }
        Ok(match duplicate {
            Some(key) => Member::Duplicate(key.into_owned()),
            None => Member::Object(Fields(fields)),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Member::NotAnObject("a list"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Member<'de>, E> {
        Ok(Member::NotAnObject("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Member<'de>, E> {
        Ok(Member::NotAnObject("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Member<'de>, E> {
        Ok(Member::NotAnObject("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Member<'de>, E> {
        Ok(Member::NotAnObject("a number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Member<'de>, E> {
        Ok(Member::NotAnObject("a string"))
    }

    fn visit_unit<E>(self) -> Result<Member<'de>, E> {
        Ok(Member::NotAnObject("null"))
    }
}

/// A bundle to export.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub id: Identifier,
    pub objects: Vec<Object>,
}

impl Bundle {
    /// Adds the official TLP and PAP marking definitions the objects refer to but the bundle
    /// does not hold (at the front, as readers meet definitions before their use).
    pub fn add_marking_definitions(&mut self) {
        let missing = missing_definitions(&self.objects);
        if !missing.is_empty() {
            self.objects.splice(0..0, missing);
        }
    }

    /// The bundle as a JSON value.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("type".to_owned(), Value::from("bundle"));
        out.insert("id".to_owned(), Value::from(self.id.as_str()));
        out.insert("objects".to_owned(), Value::Array(self.objects.iter().map(Object::to_json).collect()));
        Value::Object(out)
    }

    /// The bundle as JSON text.
    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }
}
