//! The STIX 2.1 patterning language: parsing, validation and inspection.
//!
//! [`Pattern::parse`] checks the syntax (the OASIS ANTLR grammar, reproduced by a hand-written
//! lexer and recursive-descent parser) and builds the syntax tree of [`ast`]. [`validate`] is the
//! reference validator (`stix2patterns.validator.run_validator` for STIX 2.1): besides the syntax
//! it requires the pattern to start with `[` after any `(`, rejects the same qualifier twice on one
//! bracketed expression and checks hash values under `hashes` against their algorithm's format.
//! [`Pattern::inspect`] gives what the reference inspector gives: the comparisons per object type,
//! the observation operators and the qualifiers.
//!
//! Errors carry the line and the column (in characters, from 0) and say why in the reference's
//! words; [`PatternError::reference_message`] renders them exactly as the reference validator
//! prints its messages (`FAIL: Error found at line 1:13. mismatched input ']' expecting …`).
//!
//! Limits: a pattern has at most [`parser::MAX_PATTERN_BYTES`] bytes and at most
//! [`parser::MAX_NESTING`] levels of parentheses. Two deliberate differences from the
//! reference, which raises an internal exception on these inputs: a negative list index
//! (`[-1]`) is accepted by the inspector, and a list index as the last step after `hashes` is not
//! hash-checked.

pub mod ast;
mod lexer;
pub mod parser;

use std::collections::BTreeSet;
use std::fmt;

use crate::pattern::ast::{Comparison, ComparisonExpr, ObservationExpr, Operator, PathStep, Qualifier};

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    root: ObservationExpr,
}

impl Pattern {
    /// Parses the text of a pattern; only syntax errors fail (see [`validate`] for the rest).
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        parser::parse(text).map(|root| Pattern { root })
    }

    /// The syntax tree.
    pub fn root(&self) -> &ObservationExpr {
        &self.root
    }

    /// What the pattern contains, as the reference inspector reports it.
    pub fn inspect(&self) -> Inspection {
        let mut inspection = Inspection::default();
        inspect_observation(&self.root, &mut inspection);
        inspection
    }
}

/// Why a pattern is not valid, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct PatternError {
    /// The line, from 1.
    pub line: u32,
    /// The column in characters, from 0.
    pub column: u32,
    pub kind: PatternErrorKind,
}

/// The reasons a pattern is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternErrorKind {
    #[error("input is missing square brackets")]
    MissingBrackets,
    #[error("mismatched input {found} expecting {expected}")]
    Mismatched { found: String, expected: String },
    #[error("extraneous input {found} expecting {expected}")]
    Extraneous { found: String, expected: String },
    #[error("missing {expected} at {at}")]
    Missing { expected: String, at: String },
    #[error("no viable alternative at input {input}")]
    NoViableAlternative { input: String },
    #[error("parentheses nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("pattern longer than {limit} bytes")]
    TooLong { limit: usize },
    #[error("duplicate qualifier type encountered: {qualifier}")]
    DuplicateQualifier { qualifier: &'static str },
    #[error("'{value}' is not a valid {algorithm} hash")]
    InvalidHash { value: String, algorithm: String },
}

impl PatternError {
    /// The message as the reference validator prints it.
    pub fn reference_message(&self) -> String {
        match &self.kind {
            PatternErrorKind::DuplicateQualifier { qualifier } => {
                format!("FAIL: Duplicate qualifier type encountered: {qualifier}")
            }
            PatternErrorKind::InvalidHash { .. } => format!("FAIL: {}", self.kind),
            kind => format!("FAIL: Error found at line {}:{}. {kind}", self.line, self.column),
        }
    }
}

/// Validates a pattern as the reference validator does; no errors means valid.
///
/// The first error is the one the reference reports first; after a syntax error no other
/// checks run (as in the reference), and the syntax check stops at its first error.
pub fn validate(text: &str) -> Vec<PatternError> {
    let mut errors = Vec::new();
    if !brackets_check(text) {
        errors.push(PatternError { line: 1, column: 0, kind: PatternErrorKind::MissingBrackets });
    }
    match Pattern::parse(text) {
        Err(error) => errors.push(error),
        Ok(pattern) => {
            if let Some(qualifier) = duplicate_qualifier(&pattern.root) {
                errors.push(PatternError {
                    line: 1,
                    column: 0,
                    kind: PatternErrorKind::DuplicateQualifier { qualifier },
                });
            }
            errors.extend(hash_errors(&pattern.root));
        }
    }
    errors
}

/// Whether the first character that is neither whitespace nor `(` is `[`.
fn brackets_check(text: &str) -> bool {
    text.chars().find(|c| *c != '(' && !c.is_whitespace()) == Some('[')
}

/// The first qualifier type applied twice directly to one bracketed observation expression, in
/// the order the reference walks the tree.
fn duplicate_qualifier(expr: &ObservationExpr) -> Option<&'static str> {
    match expr {
        ObservationExpr::Observation(_) => None,
        ObservationExpr::Group(inner) => duplicate_qualifier(inner),
        ObservationExpr::And(items) | ObservationExpr::Or(items) | ObservationExpr::FollowedBy(items) => {
            items.iter().find_map(duplicate_qualifier)
        }
        ObservationExpr::Qualified { expr, qualifiers } => {
            if let Some(found) = duplicate_qualifier(expr) {
                return Some(found);
            }
            if !matches!(**expr, ObservationExpr::Observation(_)) {
                return None;
            }
            let mut seen: Vec<&'static str> = Vec::new();
            for qualifier in qualifiers {
                let name = match qualifier {
                    Qualifier::Within { .. } => "WITHIN",
                    Qualifier::Repeats { .. } => "REPEATS",
                    Qualifier::StartStop { .. } => "STARTSTOP",
                };
                if seen.contains(&name) {
                    return Some(name);
                }
                seen.push(name);
            }
            None
        }
    }
}

/// The reference's hash check: a comparison whose path has a `hashes` step and ends in a key
/// naming a known algorithm must compare with a value of that algorithm's form. Errors come in
/// the reference's order (comparisons grouped by object type, types in order of first use); the
/// tree is walked by reference, without building an [`Inspection`].
fn hash_errors(root: &ObservationExpr) -> Vec<PatternError> {
    let mut by_type: Vec<(&str, Vec<&Comparison>)> = Vec::new();
    collect_hash_comparisons(root, &mut by_type);
    let mut errors = Vec::new();
    for comparison in by_type.into_iter().flat_map(|(_, list)| list) {
        let Some(PathStep::Key(selector)) = comparison.path.steps.last() else { continue };
        let algorithm: String =
            selector.chars().flat_map(char::to_uppercase).filter(|c| *c != '-' && *c != '\'').collect();
        let value = comparison.operand.text().replace('\'', "");
        if let Some(valid) = hash_format_ok(&algorithm, &value)
            && !valid
        {
            errors.push(PatternError {
                line: 1,
                column: 0,
                kind: PatternErrorKind::InvalidHash { value, algorithm: selector.clone() },
            });
        }
    }
    errors
}

/// The comparisons with a `hashes` step, grouped by object type in order of first use of the
/// type by any comparison (as the reference inspector orders them).
fn collect_hash_comparisons<'a>(expr: &'a ObservationExpr, out: &mut Vec<(&'a str, Vec<&'a Comparison>)>) {
    match expr {
        ObservationExpr::Observation(comparison) => collect_hash_in_comparison(comparison, out),
        ObservationExpr::Group(inner) | ObservationExpr::Qualified { expr: inner, .. } => {
            collect_hash_comparisons(inner, out)
        }
        ObservationExpr::And(items) | ObservationExpr::Or(items) | ObservationExpr::FollowedBy(items) => {
            for item in items {
                collect_hash_comparisons(item, out);
            }
        }
    }
}

fn collect_hash_in_comparison<'a>(expr: &'a ComparisonExpr, out: &mut Vec<(&'a str, Vec<&'a Comparison>)>) {
    match expr {
        ComparisonExpr::And(items) | ComparisonExpr::Or(items) => {
            for item in items {
                collect_hash_in_comparison(item, out);
            }
        }
        ComparisonExpr::Comparison(comparison) => {
            if comparison.operator == Operator::Exists {
                return;
            }
            let object_type = comparison.path.object_type.as_str();
            let slot = match out.iter().position(|(t, _)| *t == object_type) {
                Some(index) => index,
                None => {
                    out.push((object_type, Vec::new()));
                    out.len() - 1
                }
            };
            if comparison.path.steps.iter().any(|step| matches!(step, PathStep::Key(k) if k == "hashes")) {
                out[slot].1.push(comparison);
            }
        }
    }
}

/// Whether `value` has the form the reference requires for `algorithm` (already upper-cased,
/// without `-`); `None` for an algorithm it does not check. The forms are the reference's
/// regular expressions under Python's `re.match`, whose `$` also matches before a final newline.
fn hash_format_ok(algorithm: &str, value: &str) -> Option<bool> {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let exact = |n: usize| hex(value, n) || value.strip_suffix('\n').is_some_and(|v| hex(v, n));
    let starts_hex = |s: &str, n: usize| s.get(..n).is_some_and(|p| hex(p, n));
    Some(match algorithm {
        "MD5" => exact(32),
        // The reference's MD6 expression lacks a group around its alternatives (and holds a
        // line break): it accepts any value that starts with 32 hex digits, or with a line
        // break, four spaces and 64 hex digits.
        "MD6" => starts_hex(value, 32) || value.strip_prefix("\n    ").is_some_and(|v| starts_hex(v, 64)),
        "RIPEMD160" | "SHA1" => exact(40),
        "SHA224" | "SHA3224" => exact(56),
        "SHA256" | "SHA3256" => exact(64),
        "SHA384" | "SHA3384" => exact(96),
        "SHA512" | "SHA3512" | "WHIRLPOOL" => exact(128),
        "SSDEEP" => {
            let ok = |s: &str| {
                (1..=128).contains(&s.chars().count())
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '+' | ':' | '.'))
            };
            ok(value) || value.strip_suffix('\n').is_some_and(ok)
        }
        _ => return None,
    })
}

/// What a pattern contains, as `stix2patterns.v21.pattern.Pattern.inspect()` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inspection {
    /// The comparisons per object type, types in order of first use, comparisons in order.
    pub comparisons: Vec<(String, Vec<InspectedComparison>)>,
    /// `AND`, `OR` and `FOLLOWEDBY` between observation expressions.
    pub observation_ops: BTreeSet<&'static str>,
    /// The qualifiers as text (`WITHIN 5 SECONDS`).
    pub qualifiers: BTreeSet<String>,
}

/// One comparison of an [`Inspection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedComparison {
    pub path: Vec<InspectedStep>,
    /// The operator with `NOT` (`NOT !=`, `ISSUBSET`).
    pub operator: String,
    /// The operand's text (`'abc'`, `12.3`, `(1,2,3)`).
    pub value: String,
}

/// One step of an inspected path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectedStep {
    Key(String),
    Index(i64),
    AnyIndex,
}

impl fmt::Display for InspectedStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectedStep::Key(key) => f.write_str(key),
            InspectedStep::Index(index) => write!(f, "{index}"),
            InspectedStep::AnyIndex => f.write_str("[*]"),
        }
    }
}

fn inspect_observation(expr: &ObservationExpr, inspection: &mut Inspection) {
    match expr {
        ObservationExpr::Observation(comparison) => inspect_comparison(comparison, inspection),
        ObservationExpr::Group(inner) => inspect_observation(inner, inspection),
        ObservationExpr::And(items) | ObservationExpr::Or(items) | ObservationExpr::FollowedBy(items) => {
            for item in items {
                inspect_observation(item, inspection);
            }
            inspection.observation_ops.insert(match expr {
                ObservationExpr::And(_) => "AND",
                ObservationExpr::Or(_) => "OR",
                _ => "FOLLOWEDBY",
            });
        }
        ObservationExpr::Qualified { expr, qualifiers } => {
            inspect_observation(expr, inspection);
            for qualifier in qualifiers {
                inspection.qualifiers.insert(qualifier.text());
            }
        }
    }
}

fn inspect_comparison(expr: &ComparisonExpr, inspection: &mut Inspection) {
    match expr {
        ComparisonExpr::And(items) | ComparisonExpr::Or(items) => {
            for item in items {
                inspect_comparison(item, inspection);
            }
        }
        ComparisonExpr::Comparison(comparison) => add_comparison(comparison, inspection),
    }
}

fn add_comparison(comparison: &Comparison, inspection: &mut Inspection) {
    if comparison.operator == Operator::Exists {
        return;
    }
    let path = comparison
        .path
        .steps
        .iter()
        .map(|step| match step {
            PathStep::Key(key) => InspectedStep::Key(key.clone()),
            PathStep::Index(index) => InspectedStep::Index(*index),
            PathStep::AnyIndex => InspectedStep::AnyIndex,
        })
        .collect();
    let entry = InspectedComparison {
        path,
        operator: comparison.operator_label(),
        value: comparison.operand.text().to_owned(),
    };
    let object_type = &comparison.path.object_type;
    match inspection.comparisons.iter_mut().find(|(t, _)| t == object_type) {
        Some((_, list)) => list.push(entry),
        None => inspection.comparisons.push((object_type.clone(), vec![entry])),
    }
}
