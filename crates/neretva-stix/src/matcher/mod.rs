//! The STIX pattern matcher: does a pattern match observed data?
//!
//! [`Matcher::new`] compiles a parsed [`Pattern`]; [`Matcher::evaluate`] runs it against
//! [`Observations`] and gives the observed-data objects of the first binding found, if any.
//! The semantics are those of the OASIS reference matcher (`stix2-matcher` 3.0, STIX 2.1 mode):
//!
//! - A bracketed observation expression selects the observations that hold an object (one of
//!   their cyber-observable objects) for which the comparison expression is true; `AND` and
//!   `OR` inside brackets apply to one object. The object type selects objects by `type`; the
//!   STIX domain object types never match.
//! - Each observation counts `number_observed` times. A binding assigns an observation
//!   instance to every bracketed expression; `AND` and `FOLLOWEDBY` need distinct instances,
//!   `FOLLOWEDBY` also that the right side may have been observed no earlier than the left
//!   (the latest `first_observed` on the left is not after the earliest `last_observed` on the
//!   right); `OR` binds one side.
//! - `WITHIN n SECONDS` needs a window of that length touching every bound observation's
//!   interval; `START t STOP u` needs every bound interval to overlap `[t, u)`; `REPEATS n
//!   TIMES` needs `n` bindings of its expression with distinct instances.
//! - Object paths step into properties and list elements (`[n]`, `[*]` for any); a property
//!   ending in `_ref` or `_refs` steps into the object(s) it names within the same observation;
//!   a property ending in `_hex` or `_bin` is read as binary.
//! - Comparisons follow Python's typing: an integer equals a float of the same value, strings
//!   compare by code point, binary compares with strings of code points below 256, a timestamp
//!   literal compares with a string parsed as a timestamp (an unparsable one is an error),
//!   other mixed types are unequal and not ordered (`NOT <` of unordered types is false).
//!   `LIKE` and `MATCHES` compare NFC-normalised text; `MATCHES` searches anywhere.
//!   `ISSUBSET` and `ISSUPERSET` compare IPv4 addresses and CIDR networks.
//!
//! Differences, all deliberate: `EXISTS` and `NOT EXISTS` have their specified meaning (the
//! reference ignores `NOT` there and fails when `EXISTS` is combined with `AND` or `OR`);
//! `ISSUBSET`/`ISSUPERSET` also take IPv6 (the reference fails on it); `MATCHES` uses the
//! `regex` crate, so backreferences, look-around, conditionals, atomic groups and possessive
//! quantifiers are a [`MatchError::Pattern`] (see [`python_regex`]); integers beyond 128 bits
//! are an error and JSON integers beyond 64 bits are read as floats; an observed-data object may
//! embed its objects (`objects`) instead of referring to them; observations are bound through a
//! bounded search ([`STEP_LIMIT`]) that fails with [`MatchError::TooComplex`] where the
//! reference would run for a very long time; `number_observed` counts at most as many
//! instances as one binding can use, which changes no result.

pub mod event;
mod ip;
mod observations;
mod python_regex;
mod value;

use std::cell::Cell;
use std::collections::BTreeSet;

use serde_json::Value;

pub use crate::matcher::observations::Observations;
use crate::matcher::value::{CompiledTest, Literal, Step, TestOp};
use crate::pattern::Pattern;
use crate::pattern::ast::{
    self, ComparisonExpr, LiteralKind, ObservationExpr, Operator, PathStep, Qualifier,
};
use crate::timestamp::Timestamp;

/// The most search steps one evaluation may take before it fails as too complex.
pub const STEP_LIMIT: u64 = 200_000_000;

/// The object types that are STIX domain objects: patterns on them match nothing.
const SDO_TYPES: &[&str] = &[
    "attack-pattern",
    "bundle",
    "campaign",
    "course-of-action",
    "extension-definition",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "language-content",
    "location",
    "malware",
    "malware-analysis",
    "marking-definition",
    "note",
    "observed-data",
    "opinion",
    "relationship",
    "report",
    "threat-actor",
    "tool",
    "sighting",
    "vulnerability",
];

/// Why a pattern could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// A literal or qualifier the matcher cannot use (an impossible date, an unsupported regular
    /// expression, a set of mixed types, `WITHIN 0 SECONDS`).
    #[error("pattern line {line}, column {column}: {reason}")]
    Pattern { line: u32, column: u32, reason: String },
    /// Observed data that is not usable, with its JSON path.
    #[error("observations at {path}: {reason}")]
    Observation { path: String, reason: String },
    /// A property value a comparison cannot read (a bad timestamp, hex, base64, reference or
    /// address), with the object's identifier and the pattern path.
    #[error("object {object}, {path}: {reason}")]
    Value { object: String, path: String, reason: String },
    /// The search for a binding took more than [`STEP_LIMIT`] steps.
    #[error("matching needs more than {limit} steps")]
    TooComplex { limit: u64 },
}

impl MatchError {
    pub(crate) fn observation(path: &str, reason: &str) -> MatchError {
        let path = if path.is_empty() { "the top level" } else { path };
        MatchError::Observation { path: path.to_owned(), reason: reason.to_owned() }
    }

    fn at(literal: &ast::Literal, reason: String) -> MatchError {
        MatchError::Pattern { line: literal.line, column: literal.column, reason }
    }
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Matcher {
    root: Node,
    leaves: Vec<Leaf>,
    /// The most instances one binding can hold: `number_observed` beyond it changes nothing.
    instance_cap: u64,
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(usize),
    And(Vec<Node>),
    Or(Vec<Node>),
    FollowedBy(Vec<Node>),
    Within(Box<Node>, i128),
    StartStop(Box<Node>, Timestamp, Timestamp),
    Repeats(Box<Node>, u64),
}

#[derive(Debug, Clone)]
struct Leaf {
    condition: Condition,
    /// The object types the condition tests.
    types: Vec<String>,
}

#[derive(Debug, Clone)]
enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Test(CompiledTest),
}

impl Matcher {
    /// Compiles a pattern: converts its literals and regular expressions.
    pub fn new(pattern: &Pattern) -> Result<Matcher, MatchError> {
        let mut leaves = Vec::new();
        let root = compile_node(pattern.root(), &mut leaves)?;
        let instance_cap = binding_size(&root).max(1);
        Ok(Matcher { root, leaves, instance_cap })
    }

    /// Whether the pattern matches the observations.
    pub fn matches(&self, observations: &Observations<'_>) -> Result<bool, MatchError> {
        Ok(self.evaluate(observations)?.is_some())
    }

    /// The indexes (into `observations`) of the observations of the first binding found, in
    /// increasing order, or `None` if the pattern does not match.
    pub fn evaluate(&self, observations: &Observations<'_>) -> Result<Option<Vec<usize>>, MatchError> {
        let mut passing = Vec::with_capacity(self.leaves.len());
        for leaf in &self.leaves {
            passing.push(leaf_observations(leaf, observations)?);
        }
        let search = Search { observations, passing, cap: self.instance_cap, steps: Cell::new(0) };
        let mut found: Option<Vec<usize>> = None;
        search.each(&self.root, &mut |binding| {
            let mut indexes: Vec<usize> = binding.iter().map(|&(o, _)| o as usize).collect();
            indexes.sort_unstable();
            indexes.dedup();
            found = Some(indexes);
            Ok(true)
        })?;
        Ok(found)
    }
}

fn compile_node(expr: &ObservationExpr, leaves: &mut Vec<Leaf>) -> Result<Node, MatchError> {
    let list = |items: &[ObservationExpr], leaves: &mut Vec<Leaf>| -> Result<Vec<Node>, MatchError> {
        items.iter().map(|item| compile_node(item, leaves)).collect()
    };
    Ok(match expr {
        ObservationExpr::Observation(comparison) => {
            let mut types = BTreeSet::new();
            let condition = compile_condition(comparison, &mut types)?;
            let types = types.into_iter().collect();
            leaves.push(Leaf { condition, types });
            Node::Leaf(leaves.len() - 1)
        }
        ObservationExpr::Group(inner) => compile_node(inner, leaves)?,
        ObservationExpr::And(items) => Node::And(list(items, leaves)?),
        ObservationExpr::Or(items) => Node::Or(list(items, leaves)?),
        ObservationExpr::FollowedBy(items) => Node::FollowedBy(list(items, leaves)?),
        ObservationExpr::Qualified { expr, qualifiers } => {
            let mut node = compile_node(expr, leaves)?;
            for qualifier in qualifiers {
                node = match qualifier {
                    Qualifier::Within { seconds } => Node::Within(Box::new(node), within_micros(seconds)?),
                    Qualifier::Repeats { times } => {
                        let count = match times.text.trim_start_matches('+').parse::<u64>() {
                            Ok(0) => {
                                return Err(MatchError::at(times, "invalid repetition count: 0".to_owned()));
                            }
                            Ok(n) => n,
                            // More repetitions than any evaluation can bind.
                            Err(_) => u64::MAX,
                        };
                        Node::Repeats(Box::new(node), count)
                    }
                    Qualifier::StartStop { start, stop } => {
                        Node::StartStop(Box::new(node), timestamp_literal(start)?, timestamp_literal(stop)?)
                    }
                };
            }
            node
        }
    })
}

fn within_micros(seconds: &ast::Literal) -> Result<i128, MatchError> {
    let value: f64 =
        seconds.text.parse().map_err(|_| MatchError::at(seconds, "invalid WITHIN value".to_owned()))?;
    if seconds.kind == LiteralKind::Int {
        let whole: i128 = seconds.text.trim_start_matches('+').parse().unwrap_or(i128::MAX / 1_000_000);
        if whole <= 0 {
            return Err(MatchError::at(seconds, format!("invalid WITHIN value (must be positive): {whole}")));
        }
        return Ok(whole.saturating_mul(1_000_000));
    }
    if value <= 0.0 {
        return Err(MatchError::at(seconds, format!("invalid WITHIN value (must be positive): {value}")));
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok((value * 1e6).round() as i128)
}

fn timestamp_literal(literal: &ast::Literal) -> Result<Timestamp, MatchError> {
    Timestamp::parse_lenient(literal.inner_text())
        .ok_or_else(|| MatchError::at(literal, format!("invalid TimestampLiteral: {}", literal.text)))
}

fn compile_condition(expr: &ComparisonExpr, types: &mut BTreeSet<String>) -> Result<Condition, MatchError> {
    Ok(match expr {
        ComparisonExpr::And(items) => {
            Condition::And(items.iter().map(|item| compile_condition(item, types)).collect::<Result<_, _>>()?)
        }
        ComparisonExpr::Or(items) => {
            Condition::Or(items.iter().map(|item| compile_condition(item, types)).collect::<Result<_, _>>()?)
        }
        ComparisonExpr::Comparison(comparison) => {
            types.insert(comparison.path.object_type.clone());
            Condition::Test(compile_test(comparison)?)
        }
    })
}

fn compile_test(comparison: &ast::Comparison) -> Result<CompiledTest, MatchError> {
    let steps: Vec<Step> = comparison
        .path
        .steps
        .iter()
        .map(|step| match step {
            PathStep::Key(key) => Step::key(key),
            PathStep::Index(index) => Step::Index(*index),
            PathStep::AnyIndex => Step::Any,
        })
        .collect();
    let literal = |operand: &ast::Operand| -> Result<Literal, MatchError> {
        match operand {
            ast::Operand::Literal(literal) => coerce(literal),
            _ => Err(MatchError::Pattern { line: 1, column: 0, reason: "missing operand".to_owned() }),
        }
    };
    fn string_operand(operand: &ast::Operand) -> Result<(String, &ast::Literal), MatchError> {
        match operand {
            ast::Operand::Literal(literal) => Ok((literal.string_value().unwrap_or_default(), literal)),
            _ => Err(MatchError::Pattern { line: 1, column: 0, reason: "missing operand".to_owned() }),
        }
    }
    let op = match comparison.operator {
        Operator::Equal | Operator::NotEqual => TestOp::Equal {
            literal: literal(&comparison.operand)?,
            not_equal: comparison.operator == Operator::NotEqual,
        },
        Operator::Less | Operator::LessOrEqual | Operator::Greater | Operator::GreaterOrEqual => {
            TestOp::Order { literal: literal(&comparison.operand)?, operator: comparison.operator }
        }
        Operator::In => {
            let ast::Operand::Set { members, text } = &comparison.operand else {
                return Err(MatchError::Pattern { line: 1, column: 0, reason: "missing set".to_owned() });
            };
            let values: Vec<Literal> = members.iter().map(coerce).collect::<Result<_, _>>()?;
            if let Some(first) = values.first() {
                let numbers = values.iter().all(|v| matches!(v, Literal::Int(_) | Literal::Float(_)));
                let same = values.iter().all(|v| std::mem::discriminant(v) == std::mem::discriminant(first));
                if !numbers && !same {
                    return Err(MatchError::at(&members[0], format!("nonhomogenous set: {text}")));
                }
            }
            let timestamps = matches!(values.first(), Some(Literal::Time(_)));
            TestOp::In { members: values, timestamps }
        }
        Operator::Like => {
            let (operand, at) = string_operand(&comparison.operand)?;
            TestOp::like(&operand).map_err(|reason| MatchError::at(at, reason))?
        }
        Operator::Matches => {
            let (operand, at) = string_operand(&comparison.operand)?;
            TestOp::matches(&operand).map_err(|reason| MatchError::at(at, reason))?
        }
        Operator::IsSubset => TestOp::IsSubset(string_operand(&comparison.operand)?.0),
        Operator::IsSuperset => TestOp::IsSuperset(string_operand(&comparison.operand)?.0),
        Operator::Exists => TestOp::Exists,
    };
    let object_type = comparison.path.object_type.clone();
    let never = SDO_TYPES.contains(&object_type.as_str());
    Ok(CompiledTest::new(object_type, never, steps, comparison.negated, op, comparison.path.to_string()))
}

/// Converts a literal as the reference does (Python values).
fn coerce(literal: &ast::Literal) -> Result<Literal, MatchError> {
    let invalid = |name: &str| MatchError::at(literal, format!("invalid {name}: {}", literal.text));
    Ok(match literal.kind {
        LiteralKind::Int => Literal::Int(
            literal.text.trim_start_matches('+').parse::<i128>().map_err(|_| invalid("integer"))?,
        ),
        LiteralKind::Float => {
            Literal::Float(literal.text.parse::<f64>().map_err(|_| invalid("FloatLiteral"))?)
        }
        LiteralKind::String => Literal::Str(literal.string_value().unwrap_or_default()),
        LiteralKind::Bool => Literal::Bool(literal.text == "true"),
        LiteralKind::Binary => Literal::Bytes(
            value::base64_decode(literal.inner_text()).ok_or_else(|| invalid("BinaryLiteral"))?,
        ),
        LiteralKind::Hex => {
            Literal::Bytes(value::hex_decode(literal.inner_text()).ok_or_else(|| invalid("HexLiteral"))?)
        }
        LiteralKind::Timestamp => Literal::Time(timestamp_literal(literal)?),
    })
}

/// The most instances one binding of `node` holds.
fn binding_size(node: &Node) -> u64 {
    match node {
        Node::Leaf(_) => 1,
        Node::And(items) | Node::FollowedBy(items) => {
            items.iter().map(binding_size).fold(0, u64::saturating_add)
        }
        Node::Or(items) => items.iter().map(binding_size).max().unwrap_or(1),
        Node::Within(inner, _) | Node::StartStop(inner, _, _) => binding_size(inner),
        Node::Repeats(inner, n) => binding_size(inner).saturating_mul(*n),
    }
}

/// The observations that hold an object satisfying the leaf's condition. Every test runs on
/// every object of its type (as in the reference, so errors in the data surface the same way).
fn leaf_observations(leaf: &Leaf, observations: &Observations<'_>) -> Result<Vec<u32>, MatchError> {
    let mut passing = Vec::new();
    for (index, observation) in observations.list.iter().enumerate() {
        let mut any = false;
        for &(kind, object) in observations.roots(observation) {
            let Some(kind) = kind else { continue };
            if !leaf.types.iter().any(|t| t == kind) {
                continue;
            }
            if condition(&leaf.condition, kind, object, observation, observations)? {
                any = true;
            }
        }
        if any {
            passing.push(u32::try_from(index).unwrap_or(u32::MAX));
        }
    }
    Ok(passing)
}

fn condition<'a>(
    condition_: &Condition,
    kind: &str,
    object: &'a Value,
    observation: &observations::Observation<'a>,
    observations: &Observations<'a>,
) -> Result<bool, MatchError> {
    match condition_ {
        Condition::And(items) => {
            let mut all = true;
            for item in items {
                all &= condition(item, kind, object, observation, observations)?;
            }
            Ok(all)
        }
        Condition::Or(items) => {
            let mut any = false;
            for item in items {
                any |= condition(item, kind, object, observation, observations)?;
            }
            Ok(any)
        }
        Condition::Test(test) => test.evaluate(kind, object, observation, observations),
    }
}

/// One observation instance: observation index and instance number.
type Instance = (u32, u32);

struct Search<'o, 'a> {
    observations: &'o Observations<'a>,
    passing: Vec<Vec<u32>>,
    cap: u64,
    steps: Cell<u64>,
}

type Sink<'f> = dyn FnMut(&[Instance]) -> Result<bool, MatchError> + 'f;

impl Search<'_, '_> {
    fn tick(&self) -> Result<(), MatchError> {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps > STEP_LIMIT { Err(MatchError::TooComplex { limit: STEP_LIMIT }) } else { Ok(()) }
    }

    fn interval(&self, instance: Instance) -> (Timestamp, Timestamp) {
        let observation = &self.observations.list[instance.0 as usize];
        (observation.first, observation.last)
    }

    /// Calls `sink` with every binding of `node` until it returns `true`; returns whether it did.
    fn each(&self, node: &Node, sink: &mut Sink<'_>) -> Result<bool, MatchError> {
        match node {
            Node::Leaf(leaf) => {
                for &observation in &self.passing[*leaf] {
                    let count = self.observations.list[observation as usize].number.min(self.cap);
                    for instance in 0..count {
                        self.tick()?;
                        if sink(&[(observation, u32::try_from(instance).unwrap_or(u32::MAX))])? {
                            return Ok(true);
                        }
                    }
                }
                Ok(false)
            }
            Node::Or(items) => {
                for item in items {
                    if self.each(item, sink)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Node::And(items) => self.join(items, false, sink),
            Node::FollowedBy(items) => self.join(items, true, sink),
            Node::Within(inner, micros) => {
                let micros = *micros;
                self.each(inner, &mut |binding| {
                    if self.within(binding, micros)? { sink(binding) } else { Ok(false) }
                })
            }
            Node::StartStop(inner, start, stop) => {
                if start >= stop {
                    return Ok(false);
                }
                let (start, stop) = (*start, *stop);
                self.each(inner, &mut |binding| {
                    if self.in_window(binding, start, stop)? { sink(binding) } else { Ok(false) }
                })
            }
            Node::Repeats(inner, count) => {
                if *count == 1 {
                    return self.each(inner, sink);
                }
                let all = self.collect(inner)?;
                let Ok(count) = usize::try_from(*count) else { return Ok(false) };
                if all.len() < count {
                    return Ok(false);
                }
                let mut chosen = Vec::new();
                self.combinations(&all, count, 0, &mut chosen, sink)
            }
        }
    }

    fn collect(&self, node: &Node) -> Result<Vec<Vec<Instance>>, MatchError> {
        let mut all = Vec::new();
        self.each(node, &mut |binding| {
            self.tick()?;
            all.push(binding.to_vec());
            Ok(false)
        })?;
        Ok(all)
    }

    /// `AND` (and with `ordered`, `FOLLOWEDBY`) of several operands, joined left to right.
    fn join(&self, items: &[Node], ordered: bool, sink: &mut Sink<'_>) -> Result<bool, MatchError> {
        let Some((first, rest)) = items.split_first() else { return Ok(false) };
        let mut later = Vec::with_capacity(rest.len());
        for item in rest {
            let bindings = self.collect(item)?;
            if bindings.is_empty() {
                return Ok(false);
            }
            later.push(bindings);
        }
        let mut acc = Vec::new();
        self.each(first, &mut |binding| {
            acc.clear();
            acc.extend_from_slice(binding);
            self.extend(&later, 0, ordered, &mut acc, sink)
        })
    }

    fn extend(
        &self,
        later: &[Vec<Vec<Instance>>],
        at: usize,
        ordered: bool,
        acc: &mut Vec<Instance>,
        sink: &mut Sink<'_>,
    ) -> Result<bool, MatchError> {
        let Some(bindings) = later.get(at) else { return sink(acc) };
        let latest_first = if ordered { acc.iter().map(|&i| self.interval(i).0).max() } else { None };
        for binding in bindings {
            self.tick()?;
            if !disjoint(acc, binding) {
                continue;
            }
            if let Some(latest_first) = latest_first {
                let earliest_last = binding.iter().map(|&i| self.interval(i).1).min();
                if earliest_last.is_some_and(|earliest| latest_first > earliest) {
                    continue;
                }
            }
            let len = acc.len();
            acc.extend_from_slice(binding);
            let done = self.extend(later, at + 1, ordered, acc, sink)?;
            acc.truncate(len);
            if done {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn combinations(
        &self,
        all: &[Vec<Instance>],
        count: usize,
        from: usize,
        chosen: &mut Vec<Instance>,
        sink: &mut Sink<'_>,
    ) -> Result<bool, MatchError> {
        let picked = chosen.len();
        for index in from..all.len() {
            self.tick()?;
            let binding = &all[index];
            if !disjoint(chosen, binding) {
                continue;
            }
            chosen.extend_from_slice(binding);
            let done = if count == 1 {
                sink(chosen)?
            } else if all.len() - index > count - 1 {
                self.combinations(all, count - 1, index + 1, chosen, sink)?
            } else {
                false
            };
            chosen.truncate(picked);
            if done {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn checked_interval(&self, instance: Instance) -> Result<(Timestamp, Timestamp), MatchError> {
        let (first, last) = self.interval(instance);
        if first > last {
            let id = self.observations.list[instance.0 as usize].id;
            return Err(MatchError::Value {
                object: id.to_owned(),
                path: "first_observed".to_owned(),
                reason: "first_observed is after last_observed".to_owned(),
            });
        }
        Ok((first, last))
    }

    /// Whether a window of `micros` touches every bound observation's interval.
    fn within(&self, binding: &[Instance], micros: i128) -> Result<bool, MatchError> {
        let Some(earliest_last) = binding.iter().map(|&i| self.interval(i).1).min() else { return Ok(true) };
        let end = earliest_last.checked_add_micros(micros).ok_or_else(|| MatchError::Value {
            object: self.observations.list[binding[0].0 as usize].id.to_owned(),
            path: "last_observed".to_owned(),
            reason: "WITHIN window ends after year 9999".to_owned(),
        })?;
        for &instance in binding {
            let (first, last) = self.checked_interval(instance)?;
            if !(first <= end && earliest_last <= last) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether every bound interval overlaps `[start, stop)`.
    fn in_window(&self, binding: &[Instance], start: Timestamp, stop: Timestamp) -> Result<bool, MatchError> {
        for &instance in binding {
            let (first, last) = self.checked_interval(instance)?;
            let ok = if stop == first { false } else { last == start || (first <= stop && start <= last) };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn disjoint(a: &[Instance], b: &[Instance]) -> bool {
    b.iter().all(|x| !a.contains(x))
}

/// Parses, compiles and evaluates a pattern against observations given as JSON (a bundle, a
/// list of bundles or objects); `Ok(true)` if it matches.
pub fn match_json(pattern: &Pattern, observations: &Value) -> Result<bool, MatchError> {
    let matcher = Matcher::new(pattern)?;
    matcher.matches(&Observations::from_json(observations)?)
}
