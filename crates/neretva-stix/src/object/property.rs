//! Property values of STIX objects: how each kind is read from JSON, checked and written back.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::timestamp::Timestamp;

/// A problem with one property of one object: the JSON path and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The JSON path from the bundle (`objects[3].created`).
    pub path: String,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// Where a value is: a JSON path, written out only when a problem is reported.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'a> {
    /// The object (`objects[3]`, or empty for a lone object).
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(base) => f.write_str(base),
            Path::Key(parent, key) => {
                write!(f, "{parent}")?;
                if matches!(parent, Path::Root(base) if base.is_empty()) {
                    f.write_str(key)
                } else {
                    write!(f, ".{key}")
                }
            }
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// Where reading is and what went wrong so far.
#[derive(Debug)]
pub(crate) struct Ctx<'p> {
    /// The path of the object being read (`objects[3]`).
    pub(crate) base: &'p str,
    pub(crate) problems: Vec<Problem>,
    /// The deepest nesting allowed inside property values.
    pub(crate) max_depth: usize,
}

impl<'p> Ctx<'p> {
    pub(crate) fn new(base: &'p str, max_depth: usize) -> Self {
        Ctx { base, problems: Vec::new(), max_depth }
    }

    pub(crate) fn problem(&mut self, path: &Path<'_>, reason: impl Into<String>) {
        self.problems.push(Problem { path: path.to_string(), reason: reason.into() });
    }

    /// A problem with a property of the object (`key` may be empty for the object itself).
    pub(crate) fn at(&mut self, key: &str, reason: impl Into<String>) {
        let root = Path::Root(self.base);
        if key.is_empty() {
            self.problem(&root, reason);
        } else {
            self.problem(&Path::Key(&root, key), reason);
        }
    }
}

/// A value of a property kind: read (reporting problems under `path`) and written back.
pub(crate) trait Property: Sized {
    fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self>;
    fn write(&self) -> Value;
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl Property for String {
    fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self> {
        match value {
            Value::String(s) => Some(s),
            other => {
                ctx.problem(path, format!("expected a string, found {}", kind_name(&other)));
                None
            }
        }
    }

    fn write(&self) -> Value {
        Value::String(self.clone())
    }
}

impl Property for bool {
    fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(b),
            other => {
                ctx.problem(path, format!("expected a boolean, found {}", kind_name(&other)));
                None
            }
        }
    }

    fn write(&self) -> Value {
        Value::Bool(*self)
    }
}

/// An integer within `MIN..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bounded<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Bounded<MIN, MAX> {
    /// The value, if within the bounds.
    pub fn new(value: i64) -> Option<Self> {
        (MIN..=MAX).contains(&value).then_some(Bounded(value))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl<const MIN: i64, const MAX: i64> Property for Bounded<MIN, MAX> {
    fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self> {
        match value.as_i64().and_then(Bounded::new) {
            Some(bounded) => Some(bounded),
            None => {
                ctx.problem(path, format!("expected an integer from {MIN} to {MAX}, found {value}"));
                None
            }
        }
    }

    fn write(&self) -> Value {
        Value::from(self.0)
    }
}

/// `confidence`: 0 to 100.
pub type Confidence = Bounded<0, 100>;
/// A count of observations or sightings: 0 to 999,999,999.
pub type Count = Bounded<0, 999_999_999>;
/// `number_observed`: 1 to 999,999,999.
pub type ObservedCount = Bounded<1, 999_999_999>;
/// A port number.
pub type Port = Bounded<0, 65_535>;
/// A non-negative integer (sizes, byte and packet counts).
pub type NonNegative = Bounded<0, { i64::MAX }>;
/// Any integer.
pub type Integer = Bounded<{ i64::MIN }, { i64::MAX }>;

/// A STIX identifier, `type--uuid` (the UUID of RFC 4122, versions 1 to 5).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identifier(String);

impl Identifier {
    /// Checks the form of an identifier.
    pub fn parse(text: &str) -> Result<Identifier, String> {
        Identifier::check(text).map(|()| Identifier(text.to_owned()))
    }

    fn check(text: &str) -> Result<(), String> {
        // A UUID has 36 characters, so the separator is 38 from the end.
        let b = text.as_bytes();
        let at = b.len().saturating_sub(38);
        if b.len() < 41 || &b[at..at + 2] != b"--" || !text.is_char_boundary(at) {
            return Err(format!("{text:?} is not an identifier (type--UUID)"));
        }
        let (kind, uuid) = (&text[..at], &text[at + 2..]);
        if !is_type_name(kind) {
            return Err(format!("{text:?} has no valid object type before --"));
        }
        if !is_uuid(uuid) {
            return Err(format!("{text:?} has no RFC 4122 UUID after --"));
        }
        Ok(())
    }

    /// An identifier known to be well formed (a constant of this crate, checked by its tests).
    pub(crate) fn trusted(text: &str) -> Identifier {
        Identifier(text.to_owned())
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The object type part (`indicator` of `indicator--…`).
    pub fn object_type(&self) -> &str {
        self.0.get(..self.0.len().saturating_sub(38)).unwrap_or("")
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[a-z][a-z0-9-]+[a-z0-9]`, at most 250 characters: an object type name.
pub(crate) fn is_type_name(kind: &str) -> bool {
    let b = kind.as_bytes();
    b.len() >= 3
        && b.len() <= 250
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
        && !b.iter().zip(&b[1..]).any(|(x, y)| *x == b'-' && *y == b'-')
}

/// The 8-4-4-4-12 hexadecimal form with an RFC 4122 variant and a version from 1 to 5.
pub(crate) fn is_uuid(uuid: &str) -> bool {
    let b = uuid.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
        && (b'1'..=b'5').contains(&b[14])
        && matches!(b[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B')
}

impl Property for Identifier {
    fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self> {
        let text = String::read(value, ctx, path)?;
        match Identifier::check(&text) {
            Ok(()) => Some(Identifier(text)),
            Err(reason) => {
                ctx.problem(path, reason);
                None
            }
        }
    }

    fn write(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// A timestamp as written (`2024-01-31T12:00:00.000Z`), checked and parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StixTimestamp {
    text: String,
    value: Timestamp,
}

impl StixTimestamp {
    /// Parses the STIX form.
    pub fn parse(text: &str) -> Option<StixTimestamp> {
        Timestamp::parse_stix(text).map(|value| StixTimestamp { text: text.to_owned(), value })
    }

    /// A timestamp written with millisecond precision.
    pub fn from_timestamp(value: Timestamp) -> StixTimestamp {
        StixTimestamp { text: value.to_millis_string(), value }
    }

    pub fn value(&self) -> Timestamp {
        self.value
    }

    /// The text as read.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text with at least millisecond precision, as `created` and `modified` need it.
    pub fn millis_text(&self) -> String {
        let fraction = self.text.rsplit_once('.').map_or(0, |(_, f)| f.len().saturating_sub(1));
        if fraction >= 3 || !self.text.ends_with('Z') {
            return self.text.clone();
        }
        let stem = self.text.trim_end_matches('Z');
        let stem = if fraction == 0 { format!("{stem}.") } else { stem.to_owned() };
        format!("{stem}{}Z", "0".repeat(3 - fraction))
    }
}

impl Property for StixTimestamp {
    fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self> {
        let text = String::read(value, ctx, path)?;
        match Timestamp::parse_stix(&text) {
            Some(value) => Some(StixTimestamp { text, value }),
            None => {
                ctx.problem(
                    path,
                    format!("{text:?} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.fraction]Z)"),
                );
                None
            }
        }
    }

    fn write(&self) -> Value {
        Value::String(self.text.clone())
    }
}

/// A list: present lists must not be empty (absent means empty).
impl<T: Property> Property for Vec<T> {
    fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self> {
        let Value::Array(items) = value else {
            ctx.problem(path, format!("expected a list, found {}", kind_name(&value)));
            return None;
        };
        if items.is_empty() {
            ctx.problem(path, "a list must not be empty (leave the property out instead)");
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (n, item) in items.into_iter().enumerate() {
            match T::read(item, ctx, &Path::Index(path, n)) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn write(&self) -> Value {
        Value::Array(self.iter().map(Property::write).collect())
    }
}

/// Any JSON value kept as it is, within the nesting limit.
impl Property for Value {
    fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self> {
        if depth(&value, ctx.max_depth + 1) > ctx.max_depth {
            ctx.problem(path, format!("nested deeper than {} levels", ctx.max_depth));
            return None;
        }
        Some(value)
    }

    fn write(&self) -> Value {
        self.clone()
    }
}

/// The nesting depth of a value, counted up to `stop`.
pub(crate) fn depth(value: &Value, stop: usize) -> usize {
    if stop == 0 {
        return 0;
    }
    match value {
        Value::Array(items) => 1 + items.iter().map(|v| depth(v, stop - 1)).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(|v| depth(v, stop - 1)).max().unwrap_or(0),
        _ => 0,
    }
}

/// A dictionary: a non-empty JSON object, kept as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dictionary(pub Map<String, Value>);

impl Property for Dictionary {
    fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self> {
        let value = Value::read(value, ctx, path)?;
        match value {
            Value::Object(map) if !map.is_empty() => Some(Dictionary(map)),
            Value::Object(_) => {
                ctx.problem(path, "a dictionary must not be empty");
                None
            }
            other => {
                ctx.problem(path, format!("expected a dictionary, found {}", kind_name(&other)));
                None
            }
        }
    }

    fn write(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

/// `hashes`: algorithm to hash value; the algorithms STIX names must have their form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hashes(pub BTreeMap<String, String>);

impl Hashes {
    /// The reason a hash value does not fit its algorithm, if it does not.
    pub fn check(algorithm: &str, value: &str) -> Option<String> {
        let hex = |n: usize| value.len() == n && value.bytes().all(|b| b.is_ascii_hexdigit());
        let ok = match algorithm {
            "MD5" => hex(32),
            "SHA-1" => hex(40),
            "SHA-256" | "SHA3-256" => hex(64),
            "SHA-512" | "SHA3-512" => hex(128),
            "SSDEEP" => {
                (1..=128).contains(&value.len())
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b':' | b'.'))
            }
            "TLSH" => value.len() == 70 && value.bytes().all(|b| b.is_ascii_alphanumeric()),
            _ => {
                let name_ok = (3..=250).contains(&algorithm.len())
                    && algorithm.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                return (!name_ok).then(|| format!("{algorithm:?} is not a hash algorithm name"));
            }
        };
        (!ok).then(|| format!("{value:?} is not a {algorithm} hash"))
    }
}

impl Property for Hashes {
    fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self> {
        let Value::Object(map) = value else {
            ctx.problem(path, format!("expected a dictionary of hashes, found {}", kind_name(&value)));
            return None;
        };
        if map.is_empty() {
            ctx.problem(path, "a dictionary must not be empty");
            return None;
        }
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (algorithm, hash) in map {
            let key_path = Path::Key(path, &algorithm);
            let Some(hash) = String::read(hash, ctx, &key_path) else {
                ok = false;
                continue;
            };
            if let Some(reason) = Hashes::check(&algorithm, &hash) {
                ctx.problem(&key_path, reason);
                ok = false;
            }
            out.insert(algorithm.clone(), hash);
        }
        ok.then_some(Hashes(out))
    }

    fn write(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
    }
}

/// Reads the properties of a nested object type from a JSON object.
macro_rules! nested {
    ($(#[$meta:meta])* $name:ident { $( $(#[$fmeta:meta])* $field:ident : $mode:ident $ty:ty = $key:literal ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: crate::object::field_type!($mode $ty), )*
        }

        impl Property for $name {
            fn read(value: Value, ctx: &mut Ctx<'_>, path: &Path<'_>) -> Option<Self> {
                let Value::Object(mut map) = value else {
                    ctx.problem(path, format!("expected an object, found {}", kind_name(&value)));
                    return None;
                };
                $( let $field = crate::object::read_field!($mode $ty, &mut map, $key, ctx, &Path::Key(path, $key)); )*
                if let Some(extra) = map.keys().next() {
                    ctx.problem(&Path::Key(path, extra), "unknown property");
                    return None;
                }
                Some($name { $( $field: $field?, )* })
            }

            fn write(&self) -> Value {
                let mut out = Map::new();
                $( crate::object::write_field!($mode &self.$field, &mut out, $key); )*
                Value::Object(out)
            }
        }
    };
}

nested! {
    /// A phase of a kill chain.
    KillChainPhase {
        kill_chain_name: req String = "kill_chain_name",
        phase_name: req String = "phase_name",
    }
}

nested! {
    /// A reference to information outside STIX.
    ExternalReference {
        source_name: req String = "source_name",
        description: opt String = "description",
        url: opt String = "url",
        hashes: opt Hashes = "hashes",
        external_id: opt String = "external_id",
    }
}

nested! {
    /// A marking that applies to parts of an object.
    GranularMarking {
        lang: opt String = "lang",
        marking_ref: opt Identifier = "marking_ref",
        selectors: list String = "selectors",
    }
}
