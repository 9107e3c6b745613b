//! Property tests: stepping along an object path and comparing what it selects.

use std::cmp::Ordering;

use serde_json::Value;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::matcher::observations::{Observation, Observations};
use crate::matcher::{MatchError, ip, python_regex};
use crate::pattern::ast::Operator;
use crate::timestamp::Timestamp;

/// A literal converted to the value the reference compares (a Python value).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
    Bytes(Vec<u8>),
    Time(Timestamp),
}

/// One step of a compiled object path.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Key { name: String, binary: Binary, reference: Reference },
    Index(i64),
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binary {
    No,
    Hex,
    Base64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reference {
    No,
    One,
    Many,
}

impl Step {
    pub(crate) fn key(name: &str) -> Step {
        let binary = if name.ends_with("_hex") {
            Binary::Hex
        } else if name.ends_with("_bin") {
            Binary::Base64
        } else {
            Binary::No
        };
        let reference = if name.ends_with("_ref") {
            Reference::One
        } else if name.ends_with("_refs") {
            Reference::Many
        } else {
            Reference::No
        };
        Step::Key { name: name.to_owned(), binary, reference }
    }
}

/// The operation of a property test.
#[derive(Debug, Clone)]
pub(crate) enum TestOp {
    Equal { literal: Literal, not_equal: bool },
    Order { literal: Literal, operator: Operator },
    In { members: Vec<Literal>, timestamps: bool },
    Like { regex: regex::Regex, binary_text: bool },
    Matches { regex: regex::Regex, bytes: Option<regex::bytes::Regex> },
    IsSubset(String),
    IsSuperset(String),
    Exists,
}

impl TestOp {
    pub(crate) fn like(operand: &str) -> Result<TestOp, String> {
        let python = python_regex::like_to_regex(&nfc(operand));
        let binary_text = python.chars().all(|c| (c as u32) < 256);
        let translated = python_regex::translate(&python, false).map_err(|e| e.0)?;
        let regex = regex::Regex::new(&translated).map_err(|e| format!("invalid LIKE pattern: {e}"))?;
        Ok(TestOp::Like { regex, binary_text })
    }

    pub(crate) fn matches(operand: &str) -> Result<TestOp, String> {
        let python = nfc(operand);
        let translated = python_regex::translate(&python, false)
            .map_err(|e| format!("unsupported regular expression: {}", e.0))?;
        let regex = regex::Regex::new(&translated)
            .map_err(|e| format!("invalid or unsupported regular expression: {e}"))?;
        let bytes = if python.chars().all(|c| (c as u32) < 256) {
            let translated = python_regex::translate(&python, true).map_err(|e| e.0)?;
            Some(
                regex::bytes::RegexBuilder::new(&translated)
                    .unicode(false)
                    .build()
                    .map_err(|e| format!("invalid or unsupported regular expression: {e}"))?,
            )
        } else {
            None
        };
        Ok(TestOp::Matches { regex, bytes })
    }
}

/// A compiled property test.
#[derive(Debug, Clone)]
pub(crate) struct CompiledTest {
    object_type: String,
    /// The object type is a domain object type: the test is never true.
    never: bool,
    steps: Vec<Step>,
    /// Every step is a plain key: at most one value, and stepping cannot fail.
    plain: bool,
    negated: bool,
    op: TestOp,
    /// The path as written, for error messages.
    path: String,
}

/// A value an object path selects.
#[derive(Debug, Clone)]
enum Selected<'a> {
    Json(&'a Value),
    Bytes(Vec<u8>),
    /// The objects a `_refs` list names.
    Objects(Vec<&'a Value>),
}

/// A selected value seen as the Python value the reference compares.
enum Py<'v> {
    Int(i128),
    Float(f64),
    Str(&'v str),
    Bool(bool),
    Bytes(&'v [u8]),
    Time(Timestamp),
    /// `None`, lists and dictionaries.
    Other,
}

impl CompiledTest {
    pub(crate) fn new(
        object_type: String,
        never: bool,
        steps: Vec<Step>,
        negated: bool,
        op: TestOp,
        path: String,
    ) -> CompiledTest {
        let plain =
            steps.iter().all(|s| matches!(s, Step::Key { binary: Binary::No, reference: Reference::No, .. }));
        CompiledTest { object_type, never, steps, plain, negated, op, path }
    }

    fn value_error(&self, object: &Value, reason: String) -> MatchError {
        let id = object.get("id").and_then(Value::as_str).unwrap_or("(without id)");
        MatchError::Value { object: id.to_owned(), path: self.path.clone(), reason }
    }

    /// Whether the test holds for `object` (of type `kind`) in `observation`.
    pub(crate) fn evaluate<'a>(
        &self,
        kind: &str,
        object: &'a Value,
        observation: &Observation<'a>,
        observations: &Observations<'a>,
    ) -> Result<bool, MatchError> {
        if self.never || kind != self.object_type {
            return Ok(false);
        }
        if self.plain {
            let mut current = Some(object);
            for step in &self.steps {
                if let Step::Key { name, .. } = step {
                    current = current.and_then(|v| v.as_object()).and_then(|m| property(m, name));
                }
            }
            return match current {
                None => Ok(matches!(self.op, TestOp::Exists) && self.negated),
                Some(value) => {
                    if matches!(self.op, TestOp::Exists) {
                        return Ok(!self.negated);
                    }
                    self.predicate(&Selected::Json(value), object)
                }
            };
        }
        let values = self.select(object, observation, observations)?;
        if matches!(self.op, TestOp::Exists) {
            return Ok(values.is_empty() == self.negated);
        }
        for value in &values {
            if self.predicate(value, object)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Every value the path selects, step by step over all values (as the reference does, so a
    /// bad value anywhere is an error).
    fn select<'a>(
        &self,
        object: &'a Value,
        observation: &Observation<'a>,
        observations: &Observations<'a>,
    ) -> Result<Vec<Selected<'a>>, MatchError> {
        let mut values = vec![Selected::Json(object)];
        for step in &self.steps {
            let mut next = Vec::with_capacity(values.len());
            match step {
                Step::Key { name, binary, reference } => {
                    for value in &values {
                        let Selected::Json(Value::Object(map)) = value else { continue };
                        let Some(found) = property(map, name) else { continue };
                        next.push(match binary {
                            Binary::No => Selected::Json(found),
                            Binary::Hex => {
                                Selected::Bytes(found.as_str().and_then(hex_decode).ok_or_else(|| {
                                    self.value_error(object, format!("{name} is not hex: {found}"))
                                })?)
                            }
                            Binary::Base64 => {
                                Selected::Bytes(found.as_str().and_then(base64_decode_lenient).ok_or_else(
                                    || self.value_error(object, format!("{name} is not base64: {found}")),
                                )?)
                            }
                        });
                    }
                    match reference {
                        Reference::No => {}
                        Reference::One => {
                            next = self.dereference_one(&next, name, object, observation, observations)?
                        }
                        Reference::Many => {
                            next = self.dereference_many(&next, name, object, observation, observations)?
                        }
                    }
                }
                Step::Index(index) => {
                    for value in &values {
                        let Ok(at) = usize::try_from(*index) else { continue };
                        match value {
                            Selected::Json(Value::Array(items)) => {
                                if let Some(item) = items.get(at) {
                                    next.push(Selected::Json(item));
                                }
                            }
                            Selected::Objects(items) => {
                                if let Some(item) = items.get(at) {
                                    next.push(Selected::Json(item));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Step::Any => {
                    for value in &values {
                        match value {
                            Selected::Json(Value::Array(items)) => {
                                next.extend(items.iter().map(Selected::Json))
                            }
                            Selected::Objects(items) => {
                                next.extend(items.iter().copied().map(Selected::Json))
                            }
                            _ => {}
                        }
                    }
                }
            }
            values = next;
            if values.is_empty() {
                break;
            }
        }
        Ok(values)
    }

    fn dereference_one<'a>(
        &self,
        values: &[Selected<'a>],
        name: &str,
        object: &Value,
        observation: &Observation<'a>,
        observations: &Observations<'a>,
    ) -> Result<Vec<Selected<'a>>, MatchError> {
        let mut out = Vec::new();
        for value in values {
            let Selected::Json(Value::String(id)) = value else {
                return Err(self.value_error(
                    object,
                    format!("the value of reference property '{name}' is not a string"),
                ));
            };
            out.extend(
                observations
                    .targets(observation)
                    .iter()
                    .filter(|(key, _)| key == id)
                    .map(|(_, v)| Selected::Json(v)),
            );
        }
        Ok(out)
    }

    fn dereference_many<'a>(
        &self,
        values: &[Selected<'a>],
        name: &str,
        object: &Value,
        observation: &Observation<'a>,
        observations: &Observations<'a>,
    ) -> Result<Vec<Selected<'a>>, MatchError> {
        let mut out = Vec::new();
        for value in values {
            let Selected::Json(Value::Array(ids)) = value else {
                return Err(self.value_error(
                    object,
                    format!("the value of reference list property '{name}' is not a list"),
                ));
            };
            let mut objects = Vec::new();
            for id in ids {
                let Some(id) = id.as_str() else {
                    return Err(self.value_error(
                        object,
                        format!("a value of reference property '{name}' is not a string"),
                    ));
                };
                objects.extend(
                    observations.targets(observation).iter().filter(|(key, _)| *key == id).map(|(_, v)| *v),
                );
            }
            if !objects.is_empty() {
                out.push(Selected::Objects(objects));
            }
        }
        Ok(out)
    }

    fn predicate(&self, value: &Selected<'_>, object: &Value) -> Result<bool, MatchError> {
        let mut py = python_value(value);
        let parse_time = |py: &mut Py<'_>| -> Result<(), MatchError> {
            if let Py::Str(text) = py {
                let parsed = Timestamp::parse_lenient(text)
                    .ok_or_else(|| self.value_error(object, format!("invalid timestamp in JSON: {text}")))?;
                *py = Py::Time(parsed);
            }
            Ok(())
        };
        let result = match &self.op {
            TestOp::Equal { literal, not_equal } => {
                if matches!(literal, Literal::Time(_)) {
                    parse_time(&mut py)?;
                }
                equal(literal, &py) != *not_equal
            }
            TestOp::Order { literal, operator } => {
                if matches!(literal, Literal::Time(_)) {
                    parse_time(&mut py)?;
                }
                match order(&py, literal) {
                    Ordered::Unordered => return Ok(false),
                    Ordered::Incomparable => false,
                    Ordered::Cmp(ordering) => match operator {
                        Operator::Less => ordering == Ordering::Less,
                        Operator::LessOrEqual => ordering != Ordering::Greater,
                        Operator::Greater => ordering == Ordering::Greater,
                        _ => ordering != Ordering::Less,
                    },
                }
            }
            TestOp::In { members, timestamps } => {
                if *timestamps {
                    parse_time(&mut py)?;
                }
                members.iter().any(|member| set_equal(member, &py))
            }
            TestOp::Like { regex, binary_text } => match &py {
                Py::Str(text) => regex.is_match(&nfc(text)),
                Py::Bytes(bytes) if *binary_text => {
                    let text = std::str::from_utf8(bytes)
                        .map_err(|_| self.value_error(object, "binary value is not UTF-8 text".to_owned()))?;
                    regex.is_match(&nfc(text))
                }
                _ => false,
            },
            TestOp::Matches { regex, bytes } => match &py {
                Py::Str(text) => regex.is_match(&nfc(text)),
                Py::Bytes(data) => bytes.as_ref().is_some_and(|b| b.is_match(data)),
                _ => false,
            },
            TestOp::IsSubset(network) => match &py {
                Py::Str(text) => ip::contained(text, network).map_err(|bad| {
                    self.value_error(object, format!("invalid IP address or CIDR network: {bad}"))
                })?,
                _ => false,
            },
            TestOp::IsSuperset(address) => match &py {
                Py::Str(text) => ip::contained(address, text).map_err(|bad| {
                    self.value_error(object, format!("invalid IP address or CIDR network: {bad}"))
                })?,
                _ => false,
            },
            TestOp::Exists => true,
        };
        Ok(result != self.negated)
    }
}

/// A property of an object. Objects are small: a scan that compares a name's bytes only when
/// its length is right reads less memory than the ordered search, which compares every name it
/// passes.
fn property<'v>(map: &'v serde_json::Map<String, Value>, name: &str) -> Option<&'v Value> {
    if map.len() > 11 {
        return map.get(name);
    }
    map.iter().find(|(key, _)| key.as_str() == name).map(|(_, value)| value)
}

fn python_value<'v>(value: &'v Selected<'_>) -> Py<'v> {
    match value {
        Selected::Json(Value::String(s)) => Py::Str(s),
        Selected::Json(Value::Bool(b)) => Py::Bool(*b),
        Selected::Json(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Py::Int(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Py::Int(i128::from(u))
            } else {
                n.as_f64().map_or(Py::Other, Py::Float)
            }
        }
        Selected::Bytes(bytes) => Py::Bytes(bytes),
        _ => Py::Other,
    }
}

fn nfc(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.nfc().collect())
    }
}

/// The text as bytes if every code point is below 256 (Latin-1).
fn latin1(text: &str) -> Option<Vec<u8>> {
    text.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Python's exact comparison of an integer with a float.
fn cmp_int_float(i: i128, f: f64) -> Ordering {
    #[allow(clippy::cast_precision_loss)]
    const LIMIT: f64 = i128::MAX as f64;
    if f >= LIMIT {
        return Ordering::Less;
    }
    if f < -LIMIT {
        return Ordering::Greater;
    }
    #[allow(clippy::cast_possible_truncation)]
    let whole = f.trunc() as i128;
    match i.cmp(&whole) {
        Ordering::Equal => 0.0f64.partial_cmp(&f.fract()).unwrap_or(Ordering::Equal),
        other => other,
    }
}

fn numbers(a: &Py<'_>, b: &Py<'_>) -> Option<Ordering> {
    match (a, b) {
        (Py::Int(x), Py::Int(y)) => Some(x.cmp(y)),
        (Py::Int(x), Py::Float(y)) => Some(cmp_int_float(*x, *y)),
        (Py::Float(x), Py::Int(y)) => Some(cmp_int_float(*y, *x).reverse()),
        (Py::Float(x), Py::Float(y)) => x.partial_cmp(y),
        _ => None,
    }
}

fn literal_py(literal: &Literal) -> Py<'_> {
    match literal {
        Literal::Int(i) => Py::Int(*i),
        Literal::Float(f) => Py::Float(*f),
        Literal::Str(s) => Py::Str(s),
        Literal::Bool(b) => Py::Bool(*b),
        Literal::Bytes(b) => Py::Bytes(b),
        Literal::Time(t) => Py::Time(*t),
    }
}

/// `=` by the reference's table: only pairs of known types can be equal.
fn equal(literal: &Literal, value: &Py<'_>) -> bool {
    let literal = literal_py(literal);
    if let Some(ordering) = numbers(&literal, value) {
        return ordering == Ordering::Equal;
    }
    match (&literal, value) {
        (Py::Str(a), Py::Str(b)) => a == b,
        (Py::Bytes(a), Py::Bytes(b)) => a == b,
        (Py::Bytes(a), Py::Str(s)) | (Py::Str(s), Py::Bytes(a)) => latin1(s).is_some_and(|b| b == *a),
        (Py::Bool(a), Py::Bool(b)) => a == b,
        (Py::Time(a), Py::Time(b)) => a == b,
        _ => false,
    }
}

/// Membership in a set literal: Python's `in`, where booleans equal the integers 0 and 1.
fn set_equal(member: &Literal, value: &Py<'_>) -> bool {
    let as_number = |py: &Py<'_>| match py {
        Py::Bool(b) => Py::Int(i128::from(*b)),
        Py::Int(i) => Py::Int(*i),
        Py::Float(f) => Py::Float(*f),
        _ => Py::Other,
    };
    let member = literal_py(member);
    if let Some(ordering) = numbers(&as_number(&member), &as_number(value)) {
        return ordering == Ordering::Equal;
    }
    match (&member, value) {
        (Py::Str(a), Py::Str(b)) => a == b,
        (Py::Bytes(a), Py::Bytes(b)) => a == b,
        (Py::Time(a), Py::Time(b)) => a == b,
        _ => false,
    }
}

enum Ordered {
    Cmp(Ordering),
    /// A binary value and a string with code points from 256: false, then `NOT` applies.
    Incomparable,
    /// Types without an order: false whatever `NOT` says.
    Unordered,
}

/// The value compared with the literal, by the reference's order table.
fn order(value: &Py<'_>, literal: &Literal) -> Ordered {
    let literal = literal_py(literal);
    if let Some(ordering) = numbers(value, &literal) {
        return Ordered::Cmp(ordering);
    }
    match (value, &literal) {
        (Py::Str(a), Py::Str(b)) => Ordered::Cmp(a.cmp(b)),
        (Py::Bytes(a), Py::Bytes(b)) => Ordered::Cmp(a.cmp(b)),
        (Py::Time(a), Py::Time(b)) => Ordered::Cmp(a.cmp(b)),
        (Py::Str(s), Py::Bytes(b)) => {
            latin1(s).map_or(Ordered::Incomparable, |a| Ordered::Cmp(a.as_slice().cmp(b)))
        }
        (Py::Bytes(a), Py::Str(s)) => {
            latin1(s).map_or(Ordered::Incomparable, |b| Ordered::Cmp(a.cmp(&b.as_slice())))
        }
        _ => Ordered::Unordered,
    }
}

/// Hex digits in pairs (either case) to bytes.
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    b.chunks(2).map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?)).collect()
}

fn base64_value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Standard base64 with padding, strictly.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    if !b.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (n, chunk) in b.chunks(4).enumerate() {
        let last = n + 1 == b.len() / 4;
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - pad] {
            acc = acc << 6 | base64_value(c)?;
        }
        acc <<= 6 * pad as u32;
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

/// Base64 as Python's non-strict decoder reads it: characters outside the alphabet are skipped,
/// then the padding must be right.
fn base64_decode_lenient(text: &str) -> Option<Vec<u8>> {
    let cleaned: String =
        text.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')).collect();
    let data = cleaned.trim_end_matches('=');
    if data.contains('=') {
        return None;
    }
    let mut padded = data.to_owned();
    match data.len() % 4 {
        0 => {}
        1 => return None,
        n => padded.push_str(&"=".repeat(4 - n)),
    }
    if cleaned.len() < padded.len() && !data.len().is_multiple_of(4) {
        // Python requires the padding when the data does not fill whole groups.
        return None;
    }
    base64_decode(&padded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders() {
        assert_eq!(hex_decode("ffD8"), Some(vec![0xff, 0xd8]));
        assert_eq!(hex_decode("f"), None);
        assert_eq!(base64_decode("dGhpcyBpcyBhIHRlc3Q=").as_deref(), Some(&b"this is a test"[..]));
        assert_eq!(base64_decode("YQ=="), Some(b"a".to_vec()));
        assert_eq!(base64_decode("YQ="), None);
        assert_eq!(base64_decode_lenient("YW\nJj"), Some(b"abc".to_vec()));
        assert_eq!(base64_decode_lenient("YQ"), None);
    }

    #[test]
    fn python_numbers() {
        assert_eq!(cmp_int_float(1, 1.0), Ordering::Equal);
        assert_eq!(cmp_int_float(9_007_199_254_740_993, 9_007_199_254_740_992.0), Ordering::Greater);
        assert_eq!(cmp_int_float(1, 1.5), Ordering::Less);
        assert_eq!(cmp_int_float(-1, -1.5), Ordering::Greater);
        assert!(set_equal(&Literal::Int(1), &Py::Bool(true)));
        assert!(!equal(&Literal::Int(1), &Py::Bool(true)));
    }
}
