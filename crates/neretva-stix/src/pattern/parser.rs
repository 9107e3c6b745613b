//! A recursive-descent parser for the STIX 2.1 patterning grammar.
//!
//! It accepts exactly the token sequences of the OASIS ANTLR grammar and stops at the first
//! error. The error names the line, the column and the reason in the words the ANTLR runtime
//! uses (`mismatched input`, `extraneous input`, `missing … at`, `no viable alternative`), found
//! with the same recovery tests the runtime applies at that point of the grammar.

use crate::pattern::ast::{
    Comparison, ComparisonExpr, Literal, LiteralKind, ObjectPath, ObservationExpr, Operand, Operator,
    PathStep, Qualifier, unescape_string,
};
use crate::pattern::lexer::{Token, TokenKind, tokenize};
use crate::pattern::{PatternError, PatternErrorKind};

/// The deepest nesting of parentheses the parser accepts.
pub const MAX_NESTING: usize = 64;

/// The longest pattern the parser accepts, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1 << 20;

const PRIMITIVE_LITERALS: &[TokenKind] = &[
    TokenKind::IntNeg,
    TokenKind::IntPos,
    TokenKind::FloatNeg,
    TokenKind::FloatPos,
    TokenKind::Hex,
    TokenKind::Binary,
    TokenKind::String,
    TokenKind::Bool,
    TokenKind::Timestamp,
];

const ORDERABLE_LITERALS: &[TokenKind] = &[
    TokenKind::IntNeg,
    TokenKind::IntPos,
    TokenKind::FloatNeg,
    TokenKind::FloatPos,
    TokenKind::Hex,
    TokenKind::Binary,
    TokenKind::String,
    TokenKind::Timestamp,
];

const PROP_TEST_START: &[TokenKind] =
    &[TokenKind::Not, TokenKind::Exists, TokenKind::Ident, TokenKind::IdentWithHyphen, TokenKind::LParen];

const OBSERVATION_START: &[TokenKind] = &[TokenKind::LParen, TokenKind::LBrack];

pub(crate) fn parse(input: &str) -> Result<ObservationExpr, PatternError> {
    if input.len() > MAX_PATTERN_BYTES {
        return Err(PatternError {
            line: 1,
            column: 0,
            kind: PatternErrorKind::TooLong { limit: MAX_PATTERN_BYTES },
        });
    }
    let tokens = tokenize(input);
    let mut parser = Parser { input, tokens: &tokens, pos: 0, groups: 0, parens: 0 };
    let root = parser.observation_expressions()?;
    parser.expect(TokenKind::Eof, &[])?;
    Ok(root)
}

struct Parser<'a> {
    input: &'a str,
    tokens: &'a [Token],
    pos: usize,
    /// Open `(` of observation expressions.
    groups: usize,
    /// Open `(` inside the current comparison expression.
    parens: usize,
}

impl Parser<'_> {
    fn la(&self, k: usize) -> Token {
        let last = self.tokens.len().saturating_sub(1);
        self.tokens.get((self.pos + k - 1).min(last)).copied().unwrap_or(Token {
            kind: TokenKind::Eof,
            start: self.input.len(),
            end: self.input.len(),
            line: 1,
            column: 0,
        })
    }

    fn kind(&self, k: usize) -> TokenKind {
        self.la(k).kind
    }

    fn bump(&mut self) -> Token {
        let token = self.la(1);
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn text(&self, token: Token) -> &str {
        token.text(self.input)
    }

    fn display(&self, token: Token) -> String {
        let text = if token.kind == TokenKind::Eof { "<EOF>" } else { self.text(token) };
        format!("'{}'", escape_ws(text))
    }

    fn error(&self, at: Token, kind: PatternErrorKind) -> PatternError {
        PatternError { line: at.line, column: at.column, kind }
    }

    fn mismatched(&self, at: Token, expected: &[TokenKind]) -> PatternError {
        self.error(
            at,
            PatternErrorKind::Mismatched { found: self.display(at), expected: expected_names(expected) },
        )
    }

    fn extraneous(&self, at: Token, expected: &[TokenKind]) -> PatternError {
        self.error(
            at,
            PatternErrorKind::Extraneous { found: self.display(at), expected: expected_names(expected) },
        )
    }

    /// Matches one token of a set, failing as ANTLR's inline recovery reports: an extra token
    /// before the expected one, a missing token before one that could follow it, or a mismatch.
    fn expect_set(&mut self, expected: &[TokenKind], follow: &[TokenKind]) -> Result<Token, PatternError> {
        let current = self.la(1);
        if expected.contains(&current.kind) {
            return Ok(self.bump());
        }
        if expected.contains(&self.kind(2)) {
            return Err(self.extraneous(current, expected));
        }
        if follow.contains(&current.kind) {
            return Err(self.error(
                current,
                PatternErrorKind::Missing { expected: expected_names(expected), at: self.display(current) },
            ));
        }
        Err(self.mismatched(current, expected))
    }

    fn expect(&mut self, expected: TokenKind, follow: &[TokenKind]) -> Result<Token, PatternError> {
        self.expect_set(&[expected], follow)
    }

    /// The check ANTLR makes before a decision: a token that cannot start any alternative is
    /// reported as extraneous (if the next one could) or as a mismatch.
    fn sync(&self, first: &[TokenKind]) -> Result<(), PatternError> {
        let current = self.la(1);
        if first.contains(&current.kind) {
            Ok(())
        } else if first.contains(&self.kind(2)) {
            Err(self.extraneous(current, first))
        } else {
            Err(self.mismatched(current, first))
        }
    }

    fn no_viable(&self, from: usize, at: Token) -> PatternError {
        let text: String = self.tokens[from.min(self.tokens.len())..]
            .iter()
            .take_while(|t| t.start <= at.start && t.kind != TokenKind::Eof)
            .map(|t| t.text(self.input))
            .collect();
        let start_is_eof = self.tokens.get(from).is_none_or(|t| t.kind == TokenKind::Eof);
        let input = if start_is_eof { "<EOF>".to_owned() } else { escape_ws(&text) };
        self.error(at, PatternErrorKind::NoViableAlternative { input: format!("'{input}'") })
    }

    /// What may follow an observation expression here.
    fn observation_follow(&self) -> Vec<TokenKind> {
        let mut follow = vec![
            TokenKind::And,
            TokenKind::Or,
            TokenKind::FollowedBy,
            TokenKind::Start,
            TokenKind::Within,
            TokenKind::Repeats,
        ];
        follow.push(if self.groups > 0 { TokenKind::RParen } else { TokenKind::Eof });
        follow
    }

    /// What may follow a property test here.
    fn comparison_follow(&self) -> [TokenKind; 3] {
        [TokenKind::And, TokenKind::Or, if self.parens > 0 { TokenKind::RParen } else { TokenKind::RBrack }]
    }

    fn observation_expressions(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut items = vec![self.observation_or()?];
        while self.kind(1) == TokenKind::FollowedBy {
            self.bump();
            items.push(self.observation_or()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { ObservationExpr::FollowedBy(items) })
    }

    fn observation_or(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut items = vec![self.observation_and()?];
        while self.kind(1) == TokenKind::Or {
            self.bump();
            items.push(self.observation_and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { ObservationExpr::Or(items) })
    }

    fn observation_and(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut items = vec![self.observation_expression()?];
        while self.kind(1) == TokenKind::And {
            self.bump();
            items.push(self.observation_expression()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { ObservationExpr::And(items) })
    }

    fn observation_expression(&mut self) -> Result<ObservationExpr, PatternError> {
        self.sync(OBSERVATION_START)?;
        let open = self.bump();
        let expr = if open.kind == TokenKind::LBrack {
            let saved = self.parens;
            self.parens = 0;
            let comparison = self.comparison_expression()?;
            self.parens = saved;
            self.expect(TokenKind::RBrack, &self.observation_follow())?;
            ObservationExpr::Observation(comparison)
        } else {
            if self.groups + self.parens >= MAX_NESTING {
                return Err(self.error(open, PatternErrorKind::TooDeep { limit: MAX_NESTING }));
            }
            self.groups += 1;
            let inner = self.observation_expressions()?;
            self.groups -= 1;
            self.expect(TokenKind::RParen, &self.observation_follow())?;
            ObservationExpr::Group(Box::new(inner))
        };
        let mut qualifiers = Vec::new();
        loop {
            let qualifier = match self.kind(1) {
                TokenKind::Start => {
                    self.bump();
                    let start = self.expect(TokenKind::Timestamp, &[TokenKind::Stop])?;
                    self.expect(TokenKind::Stop, &[TokenKind::Timestamp])?;
                    let stop = self.expect(TokenKind::Timestamp, &self.observation_follow())?;
                    Qualifier::StartStop { start: self.literal(start), stop: self.literal(stop) }
                }
                TokenKind::Within => {
                    self.bump();
                    let seconds =
                        self.expect_set(&[TokenKind::IntPos, TokenKind::FloatPos], &[TokenKind::Seconds])?;
                    self.expect(TokenKind::Seconds, &self.observation_follow())?;
                    Qualifier::Within { seconds: self.literal(seconds) }
                }
                TokenKind::Repeats => {
                    self.bump();
                    let times = self.expect(TokenKind::IntPos, &[TokenKind::Times])?;
                    self.expect(TokenKind::Times, &self.observation_follow())?;
                    Qualifier::Repeats { times: self.literal(times) }
                }
                _ => break,
            };
            qualifiers.push(qualifier);
        }
        Ok(if qualifiers.is_empty() {
            expr
        } else {
            ObservationExpr::Qualified { expr: Box::new(expr), qualifiers }
        })
    }

    fn comparison_expression(&mut self) -> Result<ComparisonExpr, PatternError> {
        let mut items = vec![self.comparison_and()?];
        while self.kind(1) == TokenKind::Or {
            self.bump();
            items.push(self.comparison_and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { ComparisonExpr::Or(items) })
    }

    fn comparison_and(&mut self) -> Result<ComparisonExpr, PatternError> {
        let mut items = vec![self.prop_test()?];
        while self.kind(1) == TokenKind::And {
            self.bump();
            items.push(self.prop_test()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { ComparisonExpr::And(items) })
    }

    fn prop_test(&mut self) -> Result<ComparisonExpr, PatternError> {
        self.sync(PROP_TEST_START)?;
        match self.kind(1) {
            TokenKind::LParen => {
                let open = self.bump();
                if self.groups + self.parens >= MAX_NESTING {
                    return Err(self.error(open, PatternErrorKind::TooDeep { limit: MAX_NESTING }));
                }
                self.parens += 1;
                let inner = self.comparison_expression()?;
                self.parens -= 1;
                self.expect(TokenKind::RParen, &self.comparison_follow())?;
                Ok(inner)
            }
            TokenKind::Not | TokenKind::Exists => {
                let negated = self.kind(1) == TokenKind::Not;
                if negated {
                    self.bump();
                }
                let exists =
                    self.expect(TokenKind::Exists, &[TokenKind::Ident, TokenKind::IdentWithHyphen])?;
                let path = self.object_path_strict()?;
                Ok(ComparisonExpr::Comparison(Comparison {
                    path,
                    negated,
                    operator: Operator::Exists,
                    operator_text: self.text(exists).to_owned(),
                    operand: Operand::None,
                }))
            }
            _ => self.comparison(),
        }
    }

    /// `objectPath NOT? op operand`: the path and operator are first predicted (as ANTLR's
    /// adaptive prediction does), so a wrong token among them is "no viable alternative".
    fn comparison(&mut self) -> Result<ComparisonExpr, PatternError> {
        let from = self.pos;
        let path = self.predict_object_path(from)?;
        let mut negated = false;
        if self.kind(1) == TokenKind::Not {
            self.bump();
            negated = true;
        }
        let op_token = self.la(1);
        let operator = match op_token.kind {
            TokenKind::Eq => Operator::Equal,
            TokenKind::Neq => Operator::NotEqual,
            TokenKind::Lt => Operator::Less,
            TokenKind::Le => Operator::LessOrEqual,
            TokenKind::Gt => Operator::Greater,
            TokenKind::Ge => Operator::GreaterOrEqual,
            TokenKind::In => Operator::In,
            TokenKind::Like => Operator::Like,
            TokenKind::Matches => Operator::Matches,
            TokenKind::IsSubset => Operator::IsSubset,
            TokenKind::IsSuperset => Operator::IsSuperset,
            _ => return Err(self.no_viable(from, op_token)),
        };
        self.bump();
        let follow = self.comparison_follow();
        let operand = match operator {
            Operator::Equal | Operator::NotEqual => {
                self.sync(PRIMITIVE_LITERALS)?;
                let token = self.bump();
                Operand::Literal(self.literal(token))
            }
            Operator::Less | Operator::LessOrEqual | Operator::Greater | Operator::GreaterOrEqual => {
                let token = self.expect_set(ORDERABLE_LITERALS, &follow)?;
                Operand::Literal(self.literal(token))
            }
            Operator::In => self.set_literal()?,
            Operator::Like
            | Operator::Matches
            | Operator::IsSubset
            | Operator::IsSuperset
            | Operator::Exists => {
                let token = self.expect(TokenKind::String, &follow)?;
                Operand::Literal(self.literal(token))
            }
        };
        Ok(ComparisonExpr::Comparison(Comparison {
            path,
            negated,
            operator,
            operator_text: self.text(op_token).to_owned(),
            operand,
        }))
    }

    fn set_literal(&mut self) -> Result<Operand, PatternError> {
        self.sync(&[TokenKind::LParen])?;
        let open = self.bump();
        let mut members = Vec::new();
        match self.kind(1) {
            TokenKind::RParen => {}
            kind if PRIMITIVE_LITERALS.contains(&kind) => loop {
                let token = self.bump();
                members.push(self.literal(token));
                let separators = [TokenKind::Comma, TokenKind::RParen];
                if members.len() == 1 {
                    // The loop's entry: single-token deletion or a mismatch.
                    self.sync(&separators)?;
                } else if !separators.contains(&self.kind(1)) {
                    // The loop's back edge reports any other token as unwanted.
                    return Err(self.extraneous(self.la(1), &separators));
                }
                if self.kind(1) == TokenKind::RParen {
                    break;
                }
                self.bump();
                self.sync(PRIMITIVE_LITERALS)?;
            },
            _ => return Err(self.no_viable(self.pos - 1, self.la(1))),
        }
        let close = self.expect(TokenKind::RParen, &self.comparison_follow())?;
        let text = self.tokens[..]
            .iter()
            .filter(|t| t.start >= open.start && t.end <= close.end && t.kind != TokenKind::Eof)
            .map(|t| t.text(self.input))
            .collect();
        Ok(Operand::Set { members, text })
    }

    /// Reads an object path during prediction: any token out of place is "no viable alternative"
    /// reported from the start of the property test.
    fn predict_object_path(&mut self, from: usize) -> Result<ObjectPath, PatternError> {
        let object_type = self.la(1);
        if !matches!(object_type.kind, TokenKind::Ident | TokenKind::IdentWithHyphen) {
            return Err(self.no_viable(from, object_type));
        }
        self.bump();
        if self.kind(1) != TokenKind::Colon {
            return Err(self.no_viable(from, self.la(1)));
        }
        self.bump();
        let first = self.la(1);
        let mut steps = vec![match first.kind {
            TokenKind::Ident => PathStep::Key(self.text(first).to_owned()),
            TokenKind::String => PathStep::Key(unescape_string(self.text(first))),
            _ => return Err(self.no_viable(from, first)),
        }];
        self.bump();
        loop {
            match self.kind(1) {
                TokenKind::Dot => {
                    self.bump();
                    let key = self.la(1);
                    steps.push(match key.kind {
                        TokenKind::Ident => PathStep::Key(self.text(key).to_owned()),
                        TokenKind::String => PathStep::Key(unescape_string(self.text(key))),
                        _ => return Err(self.no_viable(from, key)),
                    });
                    self.bump();
                }
                TokenKind::LBrack => {
                    self.bump();
                    let index = self.la(1);
                    steps.push(match index.kind {
                        TokenKind::Asterisk => PathStep::AnyIndex,
                        TokenKind::IntPos | TokenKind::IntNeg => {
                            PathStep::Index(parse_index(self.text(index)))
                        }
                        _ => return Err(self.no_viable(from, index)),
                    });
                    self.bump();
                    if self.kind(1) != TokenKind::RBrack {
                        return Err(self.no_viable(from, self.la(1)));
                    }
                    self.bump();
                }
                _ => break,
            }
        }
        Ok(ObjectPath { object_type: self.text(object_type).to_owned(), steps })
    }

    /// Reads an object path after `EXISTS`, where it is matched token by token.
    fn object_path_strict(&mut self) -> Result<ObjectPath, PatternError> {
        let object_type =
            self.expect_set(&[TokenKind::Ident, TokenKind::IdentWithHyphen], &[TokenKind::Colon])?;
        self.expect(TokenKind::Colon, &[TokenKind::String, TokenKind::Ident])?;
        let first = self.expect_set(&[TokenKind::String, TokenKind::Ident], &[])?;
        let mut steps = vec![self.key_step(first)];
        loop {
            match self.kind(1) {
                TokenKind::Dot => {
                    self.bump();
                    let key = self.expect_set(&[TokenKind::String, TokenKind::Ident], &[])?;
                    steps.push(self.key_step(key));
                }
                TokenKind::LBrack => {
                    self.bump();
                    let index = self.expect_set(
                        &[TokenKind::IntNeg, TokenKind::IntPos, TokenKind::Asterisk],
                        &[TokenKind::RBrack],
                    )?;
                    steps.push(if index.kind == TokenKind::Asterisk {
                        PathStep::AnyIndex
                    } else {
                        PathStep::Index(parse_index(self.text(index)))
                    });
                    self.expect(TokenKind::RBrack, &[])?;
                }
                _ => break,
            }
        }
        Ok(ObjectPath { object_type: self.text(object_type).to_owned(), steps })
    }

    fn key_step(&self, token: Token) -> PathStep {
        if token.kind == TokenKind::String {
            PathStep::Key(unescape_string(self.text(token)))
        } else {
            PathStep::Key(self.text(token).to_owned())
        }
    }

    fn literal(&self, token: Token) -> Literal {
        let kind = match token.kind {
            TokenKind::IntPos | TokenKind::IntNeg => LiteralKind::Int,
            TokenKind::FloatPos | TokenKind::FloatNeg => LiteralKind::Float,
            TokenKind::Bool => LiteralKind::Bool,
            TokenKind::Binary => LiteralKind::Binary,
            TokenKind::Hex => LiteralKind::Hex,
            TokenKind::Timestamp => LiteralKind::Timestamp,
            _ => LiteralKind::String,
        };
        Literal { kind, text: self.text(token).to_owned(), line: token.line, column: token.column }
    }
}

/// An index step's value; out of range indexes select nothing, as in the reference.
fn parse_index(text: &str) -> i64 {
    let negative = text.starts_with('-');
    text.trim_start_matches(['+', '-'])
        .parse::<i64>()
        .map_or(if negative { i64::MIN } else { i64::MAX }, |n| if negative { -n } else { n })
}

fn escape_ws(text: &str) -> String {
    text.replace('\n', "\\n").replace('\r', "\\r").replace('\t', "\\t")
}

/// `{A, B}` (or `A` alone) in the reference's order: `<EOF>` first, then by token number.
fn expected_names(expected: &[TokenKind]) -> String {
    let mut kinds = expected.to_vec();
    kinds.sort_by_key(|kind| if *kind == TokenKind::Eof { 0 } else { *kind as u32 });
    kinds.dedup();
    let names: Vec<&str> = kinds.iter().map(|kind| kind.display_name()).collect();
    if names.len() == 1 { names[0].to_owned() } else { format!("{{{}}}", names.join(", ")) }
}
