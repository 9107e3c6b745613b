//! The Python text forms IntelMQ's generic parsers produce: `str.format` with positional
//! fields (generic CSV `compose_fields`) and `json.dumps(value, sort_keys=True)` with its
//! defaults (`ensure_ascii`, `", "` and `": "` separators), which the JSON parser writes
//! into `raw` for arrays of events.

use std::fmt::Write as _;

/// One piece of a parsed `str.format` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    /// A positional field `{n}` (or `{}` numbered automatically).
    Field(usize),
}

/// Parses a `str.format` template with positional fields only: `{0}`, `{1}`, `{}`, and
/// `{{`/`}}` for braces.
pub(crate) fn parse_template(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    let mut automatic = 0usize;
    let mut numbered = false;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => inner.push(c),
                        None => return Err(format!("unclosed `{{` in {template:?}")),
                    }
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                if inner.is_empty() {
                    if numbered {
                        return Err(format!("{template:?} mixes automatic `{{}}` and numbered fields"));
                    }
                    pieces.push(Piece::Field(automatic));
                    automatic += 1;
                } else {
                    let index: usize = inner.parse().map_err(|_| {
                        format!(
                            "unsupported field `{{{inner}}}` in {template:?}: only column \
                             numbers such as `{{0}}` are supported"
                        )
                    })?;
                    if automatic > 0 {
                        return Err(format!("{template:?} mixes automatic `{{}}` and numbered fields"));
                    }
                    numbered = true;
                    pieces.push(Piece::Field(index));
                }
            }
            '}' => return Err(format!("single `}}` in {template:?}")),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// Fills a parsed template with the columns of a record; None when a field's column does
/// not exist (Python's `IndexError`).
pub(crate) fn fill<'a>(
    pieces: &[Piece],
    column: impl Fn(usize) -> Option<&'a str>,
    out: &mut String,
) -> Option<()> {
    out.clear();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Field(index) => out.push_str(column(*index)?),
        }
    }
    Some(())
}

/// Python's `repr(float)`: the shortest text that reads back as the same number, in
/// exponent form below 1e-4 and from 1e16 on, with `.0` on integral values.
pub(crate) fn float_repr(out: &mut String, x: f64) {
    if x == 0.0 {
        out.push_str(if x.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // `{:e}` gives the shortest round-trip digits: `-1.2345e-7`.
    let scientific = format!("{x:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if negative {
        out.push('-');
    }
    let point = exponent + 1; // digits are 0.d1d2… × 10^point
    if !(-4 < point && point <= 16) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs());
    } else if point <= 0 {
        out.push_str("0.");
        for _ in 0..-point {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = point as usize;
        if digits.len() <= point {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
}

/// A string as Python's `json.dumps` writes it with `ensure_ascii=True`.
pub(crate) fn json_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// A value as Python's `json.dumps(value, sort_keys=True)` writes it.
pub(crate) fn json_dumps(out: &mut String, value: &serde_json::Value) {
    use serde_json::Value as J;
    match value {
        J::Null => out.push_str("null"),
        J::Bool(true) => out.push_str("true"),
        J::Bool(false) => out.push_str("false"),
        J::Number(number) => {
            if number.is_i64() || number.is_u64() {
                let _ = write!(out, "{number}");
            } else {
                float_repr(out, number.as_f64().unwrap_or(0.0));
            }
        }
        J::String(text) => json_str(out, text),
        J::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                json_dumps(out, item);
            }
            out.push(']');
        }
        J::Object(map) => {
            // Sorted by code point, which is the byte order of UTF-8.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                json_str(out, key);
                out.push_str(": ");
                json_dumps(out, &map[key]);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(x: f64) -> String {
        let mut out = String::new();
        float_repr(&mut out, x);
        out
    }

    #[test]
    fn floats_like_python() {
        assert_eq!(repr(52.0), "52.0");
        assert_eq!(repr(0.1), "0.1");
        assert_eq!(repr(1e16), "1e+16");
        assert_eq!(repr(1e15), "1000000000000000.0");
        assert_eq!(repr(1.5e-5), "1.5e-05");
        assert_eq!(repr(0.0001), "0.0001");
        assert_eq!(repr(-123.456), "-123.456");
        assert_eq!(repr(1.2345e20), "1.2345e+20");
        assert_eq!(repr(-0.0), "-0.0");
    }

    #[test]
    fn json_like_python() {
        let value: serde_json::Value =
            serde_json::from_str(r#"{"b": [1, 2.50, "é\u0001"], "a": null, "c": {"y": true, "x": "\"/"}}"#)
                .unwrap_or_default();
        let mut out = String::new();
        json_dumps(&mut out, &value);
        assert_eq!(out, r#"{"a": null, "b": [1, 2.5, "\u00e9\u0001"], "c": {"x": "\"/", "y": true}}"#);
    }

    #[test]
    fn templates() {
        let pieces = parse_template("http://{0}{1}").unwrap_or_default();
        let columns = ["example.com", "/foo/"];
        let mut out = String::new();
        assert_eq!(fill(&pieces, |i| columns.get(i).copied(), &mut out), Some(()));
        assert_eq!(out, "http://example.com/foo/");
        assert!(parse_template("{0:>5}").is_err());
        assert!(parse_template("{{literal}} {}").is_ok());
        assert_eq!(
            fill(&parse_template("{2}").unwrap_or_default(), |i| columns.get(i).copied(), &mut out),
            None
        );
    }
}
