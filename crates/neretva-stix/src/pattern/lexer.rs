//! The lexer of the STIX 2.1 patterning language.
//!
//! It reproduces the ANTLR lexer of the OASIS grammar (`STIXPattern.g4`): the longest match wins,
//! and on equal length the rule listed first (literals, then keywords, then identifiers).
//! Whitespace and `/* */` and `//` comments are skipped; any other character that starts no
//! token becomes an [`TokenKind::InvalidCharacter`], so lexing never fails and the parser reports
//! the error where the grammar does.

/// The kinds of token, numbered as the reference grammar numbers them (the order matters for
/// the expected-token sets in error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TokenKind {
    IntNeg = 1,
    IntPos = 2,
    FloatNeg = 3,
    FloatPos = 4,
    Hex = 5,
    Binary = 6,
    String = 7,
    Bool = 8,
    Timestamp = 9,
    And = 10,
    Or = 11,
    Not = 12,
    FollowedBy = 13,
    Like = 14,
    Matches = 15,
    IsSuperset = 16,
    IsSubset = 17,
    Exists = 18,
    Last = 19,
    In = 20,
    Start = 21,
    Stop = 22,
    Seconds = 23,
    Within = 26,
    Repeats = 27,
    Times = 28,
    Ident = 29,
    IdentWithHyphen = 30,
    Eq = 31,
    Neq = 32,
    Lt = 33,
    Le = 34,
    Gt = 35,
    Ge = 36,
    Quote = 37,
    Colon = 38,
    Dot = 39,
    Comma = 40,
    RParen = 41,
    LParen = 42,
    RBrack = 43,
    LBrack = 44,
    Plus = 45,
    Hyphen = 46,
    Power = 48,
    Divide = 49,
    Asterisk = 50,
    InvalidCharacter = 54,
    Eof = 100,
}

impl TokenKind {
    /// The name the reference parser uses for this kind in "expecting" lists.
    pub(crate) fn display_name(self) -> &'static str {
        match self {
            TokenKind::IntNeg => "IntNegLiteral",
            TokenKind::IntPos => "IntPosLiteral",
            TokenKind::FloatNeg => "FloatNegLiteral",
            TokenKind::FloatPos => "FloatPosLiteral",
            TokenKind::Hex => "HexLiteral",
            TokenKind::Binary => "BinaryLiteral",
            TokenKind::String => "StringLiteral",
            TokenKind::Bool => "BoolLiteral",
            TokenKind::Timestamp => "TimestampLiteral",
            TokenKind::And => "'AND'",
            TokenKind::Or => "'OR'",
            TokenKind::Not => "'NOT'",
            TokenKind::FollowedBy => "'FOLLOWEDBY'",
            TokenKind::Like => "'LIKE'",
            TokenKind::Matches => "'MATCHES'",
            TokenKind::IsSuperset => "'ISSUPERSET'",
            TokenKind::IsSubset => "'ISSUBSET'",
            TokenKind::Exists => "'EXISTS'",
            TokenKind::Last => "'LAST'",
            TokenKind::In => "'IN'",
            TokenKind::Start => "'START'",
            TokenKind::Stop => "'STOP'",
            TokenKind::Seconds => "'SECONDS'",
            TokenKind::Within => "'WITHIN'",
            TokenKind::Repeats => "'REPEATS'",
            TokenKind::Times => "'TIMES'",
            TokenKind::Ident => "IdentifierWithoutHyphen",
            TokenKind::IdentWithHyphen => "IdentifierWithHyphen",
            TokenKind::Eq => "EQ",
            TokenKind::Neq => "NEQ",
            TokenKind::Lt => "'<'",
            TokenKind::Le => "'<='",
            TokenKind::Gt => "'>'",
            TokenKind::Ge => "'>='",
            TokenKind::Quote => "'''",
            TokenKind::Colon => "':'",
            TokenKind::Dot => "'.'",
            TokenKind::Comma => "','",
            TokenKind::RParen => "')'",
            TokenKind::LParen => "'('",
            TokenKind::RBrack => "']'",
            TokenKind::LBrack => "'['",
            TokenKind::Plus => "'+'",
            TokenKind::Hyphen => "HYPHEN",
            TokenKind::Power => "'^'",
            TokenKind::Divide => "'/'",
            TokenKind::Asterisk => "'*'",
            TokenKind::InvalidCharacter => "InvalidCharacter",
            TokenKind::Eof => "<EOF>",
        }
    }
}

/// One token: its kind, its text as a byte range of the input, and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The line, counted from 1.
    pub(crate) line: u32,
    /// The column in characters, counted from 0 (as the reference reports it).
    pub(crate) column: u32,
}

impl Token {
    pub(crate) fn text<'a>(&self, input: &'a str) -> &'a str {
        input.get(self.start..self.end).unwrap_or("")
    }
}

/// Whether `c` is whitespace for the grammar's `WS` rule.
pub(crate) fn is_pattern_whitespace(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '\u{000B}' | '\u{000C}' | '\u{0085}' | '\u{00A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

const KEYWORDS: &[(&str, TokenKind)] = &[
    ("AND", TokenKind::And),
    ("OR", TokenKind::Or),
    ("NOT", TokenKind::Not),
    ("FOLLOWEDBY", TokenKind::FollowedBy),
    ("LIKE", TokenKind::Like),
    ("MATCHES", TokenKind::Matches),
    ("ISSUPERSET", TokenKind::IsSuperset),
    ("ISSUBSET", TokenKind::IsSubset),
    ("EXISTS", TokenKind::Exists),
    ("LAST", TokenKind::Last),
    ("IN", TokenKind::In),
    ("START", TokenKind::Start),
    ("STOP", TokenKind::Stop),
    ("SECONDS", TokenKind::Seconds),
    ("WITHIN", TokenKind::Within),
    ("REPEATS", TokenKind::Repeats),
    ("TIMES", TokenKind::Times),
];

/// Splits `input` into tokens, the last one always [`TokenKind::Eof`].
pub(crate) fn tokenize(input: &str) -> Vec<Token> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::with_capacity(input.len() / 3 + 2);
    let mut pos = 0;
    let mut line = 1u32;
    let mut column = 0u32;
    while pos < bytes.len() {
        let rest = &input[pos..];
        let Some(c) = rest.chars().next() else { break };
        // Skipped input: whitespace and comments.
        let skip = if is_pattern_whitespace(c) {
            rest.char_indices().find(|&(_, c)| !is_pattern_whitespace(c)).map_or(rest.len(), |(i, _)| i)
        } else if let Some(comment) = rest.strip_prefix("/*") {
            comment.find("*/").map_or(0, |end| end + 4)
        } else if rest.starts_with("//") {
            rest.find(['\r', '\n']).unwrap_or(rest.len())
        } else {
            0
        };
        if skip > 0 {
            advance(&input[pos..pos + skip], &mut line, &mut column);
            pos += skip;
            continue;
        }
        let (kind, len) = longest_token(rest, c);
        let len = len.max(c.len_utf8());
        tokens.push(Token { kind, start: pos, end: pos + len, line, column });
        advance(&input[pos..pos + len], &mut line, &mut column);
        pos += len;
    }
    tokens.push(Token { kind: TokenKind::Eof, start: input.len(), end: input.len(), line, column });
    tokens
}

fn advance(text: &str, line: &mut u32, column: &mut u32) {
    for c in text.chars() {
        if c == '\n' {
            *line = line.saturating_add(1);
            *column = 0;
        } else {
            *column = column.saturating_add(1);
        }
    }
}

/// The kind and byte length of the token at the start of `rest` (which starts with `c`).
fn longest_token(rest: &str, c: char) -> (TokenKind, usize) {
    let b = rest.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    match c {
        '\'' => match string_literal(rest) {
            Some(len) => (TokenKind::String, len),
            None => (TokenKind::Quote, 1),
        },
        '0'..='9' | '+' | '-' | '.' => number(rest),
        'a'..='z' | 'A'..='Z' | '_' => word(rest),
        '=' => (TokenKind::Eq, if at(1) == b'=' { 2 } else { 1 }),
        '!' if at(1) == b'=' => (TokenKind::Neq, 2),
        '<' => match at(1) {
            b'>' => (TokenKind::Neq, 2),
            b'=' => (TokenKind::Le, 2),
            _ => (TokenKind::Lt, 1),
        },
        '>' => match at(1) {
            b'=' => (TokenKind::Ge, 2),
            _ => (TokenKind::Gt, 1),
        },
        ':' => (TokenKind::Colon, 1),
        ',' => (TokenKind::Comma, 1),
        ')' => (TokenKind::RParen, 1),
        '(' => (TokenKind::LParen, 1),
        ']' => (TokenKind::RBrack, 1),
        '[' => (TokenKind::LBrack, 1),
        '^' => (TokenKind::Power, 1),
        '/' => (TokenKind::Divide, 1),
        '*' => (TokenKind::Asterisk, 1),
        _ => (TokenKind::InvalidCharacter, c.len_utf8()),
    }
}

/// `QUOTE ( ~['\\] | '\\\'' | '\\\\' )* QUOTE`: the byte length, if the literal closes.
fn string_literal(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\'' => return Some(i + 1),
            b'\\' => match b.get(i + 1) {
                Some(b'\'' | b'\\') => i += 2,
                _ => return None,
            },
            _ => i += 1,
        }
    }
    None
}

fn digits(b: &[u8], from: usize) -> usize {
    b.get(from..).map_or(0, |tail| tail.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// The numeric literals, `+`, `-` and `.`.
fn number(rest: &str) -> (TokenKind, usize) {
    let b = rest.as_bytes();
    let sign = usize::from(matches!(b[0], b'+' | b'-'));
    let negative = b[0] == b'-';
    // Integer: '0' | [1-9][0-9]*.
    let int_len = match b.get(sign) {
        Some(b'0') => 1,
        Some(b'1'..=b'9') => digits(b, sign),
        _ => 0,
    };
    // Float: [0-9]* '.' [0-9]+.
    let lead = digits(b, sign);
    let float_len = if b.get(sign + lead) == Some(&b'.') {
        let frac = digits(b, sign + lead + 1);
        if frac > 0 { lead + 1 + frac } else { 0 }
    } else {
        0
    };
    if float_len > 0 && float_len > int_len {
        let kind = if negative { TokenKind::FloatNeg } else { TokenKind::FloatPos };
        return (kind, sign + float_len);
    }
    if int_len > 0 {
        let kind = if negative { TokenKind::IntNeg } else { TokenKind::IntPos };
        return (kind, sign + int_len);
    }
    match b[0] {
        b'+' => (TokenKind::Plus, 1),
        b'-' => (TokenKind::Hyphen, 1),
        _ => (TokenKind::Dot, 1),
    }
}

/// Identifiers, keywords, booleans and the `t'…'`, `h'…'` and `b'…'` literals.
fn word(rest: &str) -> (TokenKind, usize) {
    let b = rest.as_bytes();
    if b.get(1) == Some(&b'\'') {
        let literal = match b[0] {
            b't' => timestamp_literal(b).map(|len| (TokenKind::Timestamp, len)),
            b'h' => hex_literal(b).map(|len| (TokenKind::Hex, len)),
            b'b' => binary_literal(b).map(|len| (TokenKind::Binary, len)),
            _ => None,
        };
        if let Some(found) = literal {
            return found;
        }
    }
    let plain = b.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
    let hyphenated = b.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-').count();
    if hyphenated > plain {
        return (TokenKind::IdentWithHyphen, hyphenated);
    }
    let text = &rest[..plain];
    if text == "true" || text == "false" {
        return (TokenKind::Bool, plain);
    }
    if let Some((_, kind)) = KEYWORDS.iter().find(|(keyword, _)| *keyword == text) {
        return (*kind, plain);
    }
    (TokenKind::Ident, plain)
}

/// `'t' QUOTE YYYY-MM-DD 'T' hh:mm:ss ('.' [0-9]+)? 'Z' QUOTE` with the grammar's digit ranges.
fn timestamp_literal(b: &[u8]) -> Option<usize> {
    let d = |i: usize| b.get(i).copied().filter(u8::is_ascii_digit);
    let ch = |i: usize, c: u8| b.get(i) == Some(&c);
    // t ' Y Y Y Y - M M - D D T h h : m m : s s
    // 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
    for i in 2..6 {
        d(i)?;
    }
    if !ch(6, b'-') || !ch(9, b'-') || !ch(12, b'T') || !ch(15, b':') || !ch(18, b':') {
        return None;
    }
    let month = (d(7)?, d(8)?);
    let day = (d(10)?, d(11)?);
    let hour = (d(13)?, d(14)?);
    let minute = (d(16)?, d(17)?);
    let second = (d(19)?, d(20)?);
    let month_ok = (month.0 == b'0' && month.1 != b'0') || (month.0 == b'1' && month.1 <= b'2');
    let day_ok =
        (day.0 == b'0' && day.1 != b'0') || matches!(day.0, b'1' | b'2') || (day.0 == b'3' && day.1 <= b'1');
    let hour_ok = matches!(hour.0, b'0' | b'1') || (hour.0 == b'2' && hour.1 <= b'3');
    let minute_ok = minute.0 <= b'5';
    let second_ok = second.0 <= b'5' || (second.0 == b'6' && second.1 == b'0');
    if !(month_ok && day_ok && hour_ok && minute_ok && second_ok) {
        return None;
    }
    let mut i = 21;
    if ch(i, b'.') {
        let frac = digits(b, i + 1);
        if frac == 0 {
            return None;
        }
        i += 1 + frac;
    }
    if ch(i, b'Z') && ch(i + 1, b'\'') { Some(i + 2) } else { None }
}

/// `'h' QUOTE (HexDigit HexDigit)* QUOTE`.
fn hex_literal(b: &[u8]) -> Option<usize> {
    let n = b.get(2..)?.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    let end = 2 + n;
    if n % 2 == 0 && b.get(end) == Some(&b'\'') { Some(end + 1) } else { None }
}

/// `'b' QUOTE` base64 in groups of four with `=` padding, at least one group, `QUOTE`.
fn binary_literal(b: &[u8]) -> Option<usize> {
    let is_b64 = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
    let n = b.get(2..)?.iter().take_while(|c| is_b64(c)).count();
    let after = 2 + n;
    let pad = b.get(after..).map_or(0, |tail| tail.iter().take_while(|c| **c == b'=').count());
    let valid = match pad {
        0 => n >= 4 && n % 4 == 0,
        1 => n >= 3 && n % 4 == 3,
        2 => n >= 2 && n % 4 == 2,
        _ => false,
    };
    if valid && b.get(after + pad) == Some(&b'\'') { Some(after + pad + 1) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<(TokenKind, &str)> {
        tokenize(input).iter().map(|t| (t.kind, t.text(input))).collect()
    }

    #[test]
    fn literals_follow_the_longest_match() {
        assert_eq!(
            kinds("-0.5 +5 007 1. .5 - +"),
            vec![
                (TokenKind::FloatNeg, "-0.5"),
                (TokenKind::IntPos, "+5"),
                (TokenKind::IntPos, "0"),
                (TokenKind::IntPos, "0"),
                (TokenKind::IntPos, "7"),
                (TokenKind::IntPos, "1"),
                (TokenKind::Dot, "."),
                (TokenKind::FloatPos, ".5"),
                (TokenKind::Hyphen, "-"),
                (TokenKind::Plus, "+"),
                (TokenKind::Eof, ""),
            ]
        );
        assert_eq!(kinds("t'2024-13-01T12:00:00Z'")[0], (TokenKind::Ident, "t"));
        assert_eq!(kinds("t'2024-02-30T12:00:60.5Z'")[0].0, TokenKind::Timestamp);
        assert_eq!(kinds("h'ab1'")[0], (TokenKind::Ident, "h"));
        assert_eq!(kinds("h''")[0].0, TokenKind::Hex);
        assert_eq!(kinds("b'YWI='")[0].0, TokenKind::Binary);
        assert_eq!(kinds("b'===='")[0], (TokenKind::Ident, "b"));
        assert_eq!(kinds("'it\\'s' 'a\\d'")[0], (TokenKind::String, "'it\\'s'"));
        assert_eq!(kinds("'a\\d'")[0], (TokenKind::Quote, "'"));
    }

    #[test]
    fn keywords_identifiers_and_operators() {
        assert_eq!(
            kinds("AND ANDx AND-x true truex x-usb == <> != ! /* c */ // line\n*"),
            vec![
                (TokenKind::And, "AND"),
                (TokenKind::Ident, "ANDx"),
                (TokenKind::IdentWithHyphen, "AND-x"),
                (TokenKind::Bool, "true"),
                (TokenKind::Ident, "truex"),
                (TokenKind::IdentWithHyphen, "x-usb"),
                (TokenKind::Eq, "=="),
                (TokenKind::Neq, "<>"),
                (TokenKind::Neq, "!="),
                (TokenKind::InvalidCharacter, "!"),
                (TokenKind::Asterisk, "*"),
                (TokenKind::Eof, ""),
            ]
        );
    }

    #[test]
    fn positions_count_characters_and_lines() {
        let tokens = tokenize("[é:x\n = 1]");
        let eq = tokens[4];
        assert_eq!((eq.kind, eq.line, eq.column), (TokenKind::Eq, 2, 1));
        assert_eq!((tokens[3].column, tokens[3].line), (3, 1));
    }
}
