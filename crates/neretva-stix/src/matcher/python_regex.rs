//! Python `re` syntax translated to the `regex` crate's, for `MATCHES` and `LIKE`.
//!
//! The reference matcher compiles `MATCHES` operands with Python's `re` and searches with it.
//! What both engines share passes unchanged. These differ and are translated: `$` (outside a
//! character class and without the `m` flag) also matches before a final line break in Python,
//! so it becomes `(?:\n?\z)`; `\Z` is `\z`; `\0`, `\0o` and `\0oo` are octal escapes; escaped
//! punctuation or non-ASCII characters are literals; `[` inside a class is a literal (the
//! `regex` crate would nest a class), as are `&&`, `--` and `~~` there; a `{` that starts no
//! valid repetition is a literal and `{,n}` means `{0,n}`; `(?#…)` is a comment.
//!
//! Not supported, because the `regex` crate has no backtracking: backreferences (`\1`,
//! `(?P=name)`), look-around (`(?=`, `(?!`, `(?<=`, `(?<!`), conditionals (`(?(1)…)`) and
//! atomic groups or possessive quantifiers. A pattern using them is a [`RegexError`].

use std::fmt::Write;

/// A regular expression the matcher cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegexError(pub(crate) String);

/// Translates a Python pattern. With `bytes`, characters U+0080 to U+00FF become byte escapes
/// (for a bytes regex without Unicode, as Python compiles a `bytes` pattern from the same text).
pub(crate) fn translate(python: &str, bytes: bool) -> Result<String, RegexError> {
    let chars: Vec<char> = python.chars().collect();
    let multiline = has_multiline_flag(&chars);
    let mut out = String::with_capacity(python.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&next) = chars.get(i + 1) else {
                return Err(RegexError("bad escape (end of pattern)".to_owned()));
            };
            i += 2;
            if next.is_ascii_digit() {
                let mut digits = String::from(next);
                while digits.len() < 3 && chars.get(i).is_some_and(|d| ('0'..='7').contains(d)) {
                    digits.push(chars[i]);
                    i += 1;
                }
                // Octal: \0…, any escape in a class, or three octal digits; else a backreference.
                let octal = next == '0' || in_class || digits.len() == 3;
                if !octal {
                    return Err(RegexError(format!("backreference \\{digits} is not supported")));
                }
                let ch = u32::from_str_radix(&digits, 8)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| RegexError(format!("bad escape \\{digits}")))?;
                push_literal(&mut out, ch, bytes);
            } else if next == 'Z' && !in_class {
                out.push_str("\\z");
            } else if next.is_ascii_alphabetic() {
                out.push('\\');
                out.push(next);
            } else {
                push_literal(&mut out, next, bytes);
            }
            continue;
        }
        i += 1;
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                '-' if chars.get(i) == Some(&'-') => out.push_str("\\-"),
                _ => push_char(&mut out, c, bytes),
            }
            continue;
        }
        match c {
            '[' => {
                out.push('[');
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // A `]` right after the opening is a literal.
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                in_class = true;
            }
            '$' if !multiline => out.push_str("(?:\\n?\\z)"),
            '{' => match repetition(&chars[i - 1..]) {
                Some((text, len)) => {
                    out.push_str(&text);
                    i += len - 1;
                }
                None => out.push_str("\\{"),
            },
            '}' => out.push_str("\\}"),
            '(' if chars.get(i) == Some(&'?') => {
                let rest: String = chars[i + 1..chars.len().min(i + 4)].iter().collect();
                if rest.starts_with('#') {
                    // A comment: skip past the closing parenthesis.
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                    i += 1;
                    continue;
                }
                if ["=", "!", "<=", "<!", "P=", "(", ">"].iter().any(|p| rest.starts_with(p)) {
                    return Err(RegexError(format!(
                        "(?{rest}… is not supported (no look-around, backreferences, conditionals or atomic groups)"
                    )));
                }
                out.push_str("(?");
                i += 1;
            }
            '*' | '+' | '?' if chars.get(i) == Some(&'+') => {
                return Err(RegexError("possessive quantifiers are not supported".to_owned()));
            }
            _ => push_char(&mut out, c, bytes),
        }
    }
    if in_class {
        return Err(RegexError("unterminated character set".to_owned()));
    }
    Ok(out)
}

/// A character taken literally.
fn push_literal(out: &mut String, c: char, bytes: bool) {
    if (bytes && (c as u32) >= 0x80) || ((c as u32) < 0x100 && (c.is_control() || c.is_whitespace())) {
        let _ = write!(out, "\\x{:02X}", c as u32);
    } else if c.is_control() || c.is_whitespace() {
        let _ = write!(out, "\\x{{{:X}}}", c as u32);
    } else if c.is_ascii_alphanumeric() || !c.is_ascii() {
        out.push(c);
    } else if c.is_ascii_punctuation() {
        out.push('\\');
        out.push(c);
    } else {
        out.push(c);
    }
}

/// A character that means itself in both syntaxes.
fn push_char(out: &mut String, c: char, bytes: bool) {
    if bytes && (c as u32) >= 0x80 {
        let _ = write!(out, "\\x{:02X}", c as u32);
    } else {
        out.push(c);
    }
}

/// A valid repetition at the start of `chars` (`{n}`, `{n,}`, `{n,m}`, `{,m}`), translated, and
/// its length.
fn repetition(chars: &[char]) -> Option<(String, usize)> {
    let close = chars.iter().position(|c| *c == '}')?;
    let inner: String = chars[1..close].iter().collect();
    let (low, high) = match inner.split_once(',') {
        Some((low, high)) => (low, Some(high)),
        None => (inner.as_str(), None),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let text = match high {
        None if digits(low) => format!("{{{low}}}"),
        Some(high) if digits(low) && (high.is_empty() || digits(high)) => format!("{{{low},{high}}}"),
        Some(high) if low.is_empty() && digits(high) => format!("{{0,{high}}}"),
        Some("") if low.is_empty() => return None,
        _ => return None,
    };
    Some((text, close + 1))
}

/// Whether an inline flag group turns on multi-line mode (`(?m)`, `(?im:…)`).
fn has_multiline_flag(chars: &[char]) -> bool {
    let mut i = 0;
    while i + 2 < chars.len() {
        if chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i] == '(' && chars[i + 1] == '?' {
            let flags: String = chars[i + 2..].iter().take_while(|c| c.is_ascii_alphabetic()).collect();
            if flags.contains('m') && !flags.starts_with('P') {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// The regular expression of a `LIKE` operand, as the reference builds it: `%` is `.*`, `_` is
/// `.`, other characters are literals, anchored at both ends (with Python's `$`).
pub(crate) fn like_to_regex(like: &str) -> String {
    let mut out = String::with_capacity(like.len() + 12);
    out.push('^');
    for c in like.chars() {
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            c if c.is_alphanumeric() => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn t(python: &str) -> String {
        let translated = translate(python, false).unwrap();
        assert!(regex::Regex::new(&translated).is_ok(), "{translated}");
        translated
    }

    #[test]
    fn translation() {
        assert_eq!(t(r".+\@example\.com$"), r".+\@example\.com(?:\n?\z)");
        assert_eq!(t(r"(?m)^a$"), r"(?m)^a$");
        assert_eq!(t(r"[[a-z]&&]x{,3}y{2,}z{a}"), r"[\[a-z]&&]x{0,3}y{2,}z\{a\}");
        assert_eq!(t(r"[a&&b~~c--d]"), r"[a\&\&b\~\~c\--d]");
        assert_eq!(t(r"a\Z\0\012(?#comment)b"), "a\\z\\x00\\x0Ab");
        assert_eq!(t(r"[]a]"), r"[\]a]");
        assert_eq!(translate(r"\xd4\xc3é", true).unwrap(), r"\xd4\xc3\xE9");
        for unsupported in [r"(a)\1", r"(?=a)", r"(?<!a)b", r"(?P<x>a)(?P=x)", "a++"] {
            assert!(translate(unsupported, false).is_err(), "{unsupported}");
        }
        assert_eq!(like_to_regex("a%b_c.d"), r"^a.*b.c\.d$");
    }
}
