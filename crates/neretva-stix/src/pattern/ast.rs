//! The syntax tree of a STIX pattern.
//!
//! Chains of one operator (`a AND b AND c`) are kept as one node with a list of operands, so the
//! depth of the tree grows only with parentheses, which the parser bounds.

use std::fmt;

/// An observation expression: what one or more observations must show.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison ]`: one observation.
    Observation(ComparisonExpr),
    /// `( observation expressions )`.
    Group(Box<ObservationExpr>),
    /// `a AND b AND …`: every operand, each bound to different observations.
    And(Vec<ObservationExpr>),
    /// `a OR b OR …`: any operand.
    Or(Vec<ObservationExpr>),
    /// `a FOLLOWEDBY b FOLLOWEDBY …`: every operand, in time order.
    FollowedBy(Vec<ObservationExpr>),
    /// An expression with qualifiers, in the order written (`[…] REPEATS 2 TIMES WITHIN 5 SECONDS`).
    Qualified { expr: Box<ObservationExpr>, qualifiers: Vec<Qualifier> },
}

/// A qualifier of an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`; `seconds` is the literal's text (`10`, `1.5`).
    Within { seconds: Literal },
    /// `REPEATS n TIMES`.
    Repeats { times: Literal },
    /// `START t'…' STOP t'…'`.
    StartStop { start: Literal, stop: Literal },
}

impl Qualifier {
    /// The qualifier as the reference inspector names it (`WITHIN 5 SECONDS`).
    pub fn text(&self) -> String {
        match self {
            Qualifier::Within { seconds } => format!("WITHIN {} SECONDS", seconds.text),
            Qualifier::Repeats { times } => format!("REPEATS {} TIMES", times.text),
            Qualifier::StartStop { start, stop } => format!("START {} STOP {}", start.text, stop.text),
        }
    }
}

/// A comparison expression: the inside of `[…]`.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    /// Every operand holds for the same object.
    And(Vec<ComparisonExpr>),
    /// Any operand holds.
    Or(Vec<ComparisonExpr>),
    /// One property test.
    Comparison(Comparison),
}

/// One property test, `file:size > 10` or `EXISTS file:name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub path: ObjectPath,
    /// `NOT` before the operator.
    pub negated: bool,
    pub operator: Operator,
    /// The operator as written (`=`, `==`, `<>`), without `NOT`.
    pub operator_text: String,
    pub operand: Operand,
}

impl Comparison {
    /// The operator with `NOT` as the reference inspector writes it (`NOT !=`).
    pub fn operator_label(&self) -> String {
        if self.negated { format!("NOT {}", self.operator_text) } else { self.operator_text.clone() }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
    Exists,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `EXISTS` has none.
    None,
    Literal(Literal),
    /// `IN (…)`: the members and the set's text with its tokens joined (`('a','b')`).
    Set {
        members: Vec<Literal>,
        text: String,
    },
}

impl Operand {
    /// The operand's text as the reference inspector gives it.
    pub fn text(&self) -> &str {
        match self {
            Operand::None => "",
            Operand::Literal(literal) => &literal.text,
            Operand::Set { text, .. } => text,
        }
    }
}

/// A literal as written, with its kind and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub kind: LiteralKind,
    /// The token's text, quotes and prefix included (`'a\'b'`, `t'2024-01-01T00:00:00Z'`).
    pub text: String,
    pub line: u32,
    pub column: u32,
}

/// The kinds of literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    Int,
    Float,
    String,
    Bool,
    /// `b'base64'`.
    Binary,
    /// `h'hex'`.
    Hex,
    /// `t'…Z'`.
    Timestamp,
}

impl Literal {
    /// The text of a string literal without quotes and escapes; `None` for other kinds.
    pub fn string_value(&self) -> Option<String> {
        (self.kind == LiteralKind::String).then(|| unescape_string(&self.text))
    }

    /// The text inside `t'…'`, `h'…'` or `b'…'`.
    pub fn inner_text(&self) -> &str {
        match self.kind {
            LiteralKind::Timestamp | LiteralKind::Hex | LiteralKind::Binary => {
                self.text.get(2..self.text.len().saturating_sub(1)).unwrap_or("")
            }
            _ => &self.text,
        }
    }
}

/// Removes the quotes of a string literal and its `\'` and `\\` escapes.
pub(crate) fn unescape_string(text: &str) -> String {
    let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) => out.push(next),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `type:property.step[0].'quoted'[*]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPath {
    pub object_type: String,
    /// The steps after the colon; the first is always a [`PathStep::Key`].
    pub steps: Vec<PathStep>,
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// A property name, unquoted.
    Key(String),
    /// A list index (`[2]`, `[-1]`).
    Index(i64),
    /// Every list element (`[*]`).
    AnyIndex,
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.object_type)?;
        for (n, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(key) => {
                    f.write_str(if n == 0 { ":" } else { "." })?;
                    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if plain {
                        f.write_str(key)?;
                    } else {
                        write!(f, "'{}'", key.replace('\\', "\\\\").replace('\'', "\\'"))?;
                    }
                }
                PathStep::Index(index) => write!(f, "[{index}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// The pattern in canonical form: single spaces, parentheses only where the tree needs them
/// inside brackets and where they were written between observations.
impl fmt::Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, items: &[ObservationExpr], op: &str| -> fmt::Result {
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    write!(f, " {op} ")?;
                }
                write!(f, "{item}")?;
            }
            Ok(())
        };
        match self {
            ObservationExpr::Observation(comparison) => write!(f, "[{comparison}]"),
            ObservationExpr::Group(inner) => write!(f, "({inner})"),
            ObservationExpr::And(items) => join(f, items, "AND"),
            ObservationExpr::Or(items) => join(f, items, "OR"),
            ObservationExpr::FollowedBy(items) => join(f, items, "FOLLOWEDBY"),
            ObservationExpr::Qualified { expr, qualifiers } => {
                write!(f, "{expr}")?;
                for qualifier in qualifiers {
                    write!(f, " {}", qualifier.text())?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComparisonExpr::And(items) => {
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(" AND ")?;
                    }
                    if matches!(item, ComparisonExpr::Or(_)) {
                        write!(f, "({item})")?;
                    } else {
                        write!(f, "{item}")?;
                    }
                }
                Ok(())
            }
            ComparisonExpr::Or(items) => {
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(" OR ")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
            ComparisonExpr::Comparison(comparison) => write!(f, "{comparison}"),
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::Exists {
            let not = if self.negated { "NOT " } else { "" };
            return write!(f, "{not}EXISTS {}", self.path);
        }
        write!(f, "{} {}", self.path, self.operator_label())?;
        match &self.operand {
            Operand::None => Ok(()),
            Operand::Literal(literal) => write!(f, " {}", literal.text),
            Operand::Set { members, .. } => {
                f.write_str(" (")?;
                for (n, member) in members.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&member.text)?;
                }
                f.write_str(")")
            }
        }
    }
}
