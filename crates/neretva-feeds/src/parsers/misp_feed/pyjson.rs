//! JSON text helpers shared by the JSON feed parsers of this crate: splitting a top-level array
//! into its elements' text, and writing JSON as Python's `json.dumps` does (which is how IntelMQ
//! writes the `raw` of JSON records), either from a parsed value (sorted keys) or by re-spacing
//! the original text (original key order).

use std::fmt::Write as _;

/// Where a JSON value ends: the index after it, or `None` if it is not well-formed.
fn skip_value(b: &[u8], mut i: usize, depth: usize) -> Option<usize> {
    if depth > 256 {
        return None;
    }
    i = skip_ws(b, i);
    match *b.get(i)? {
        b'{' | b'[' => {
            let close = if b[i] == b'{' { b'}' } else { b']' };
            let is_object = close == b'}';
            i = skip_ws(b, i + 1);
            if b.get(i) == Some(&close) {
                return Some(i + 1);
            }
            loop {
                if is_object {
                    if b.get(i) != Some(&b'"') {
                        return None;
                    }
                    i = skip_string(b, i)?;
                    i = skip_ws(b, i);
                    if b.get(i) != Some(&b':') {
                        return None;
                    }
                    i += 1;
                }
                i = skip_value(b, i, depth + 1)?;
                i = skip_ws(b, i);
                match b.get(i)? {
                    b',' => i = skip_ws(b, i + 1),
                    c if *c == close => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        b'"' => skip_string(b, i),
        b't' => b[i..].starts_with(b"true").then_some(i + 4),
        b'f' => b[i..].starts_with(b"false").then_some(i + 5),
        b'n' => b[i..].starts_with(b"null").then_some(i + 4),
        b'-' | b'0'..=b'9' => {
            let start = i;
            while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                i += 1;
            }
            (i > start).then_some(i)
        }
        _ => None,
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// An element of a JSON array: its start, end and 1-based line, or where a malformed element
/// starts and its line.
pub(crate) type Element = Result<(usize, usize, u64), (usize, u64)>;

/// The byte spans of the elements of a top-level JSON array, with the 1-based line each
/// starts on. `None` if the text is not an array; a malformed element ends the list with its
/// start as `Err`.
pub(crate) fn array_elements(text: &str) -> Option<Vec<Element>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let mut out = Vec::new();
    if b.get(i) == Some(&b']') {
        return Some(out);
    }
    let mut line = 1 + count_lines(&b[..i]);
    let mut counted = i;
    loop {
        i = skip_ws(b, i);
        line += count_lines(&b[counted..i]);
        counted = i;
        match skip_value(b, i, 0) {
            Some(end) => {
                out.push(Ok((i, end, line)));
                i = skip_ws(b, end);
                match b.get(i) {
                    Some(b',') => i += 1,
                    Some(b']') => return Some(out),
                    _ => {
                        out.push(Err((i.min(b.len()), line + count_lines(&b[counted..i.min(b.len())]))));
                        return Some(out);
                    }
                }
            }
            None => {
                out.push(Err((i, line)));
                return Some(out);
            }
        }
    }
}

fn count_lines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// Re-spaces JSON text as Python's `json.dumps` writes it (`, ` and `: ` separators, no other
/// white space, non-ASCII escaped, floats as Python's `repr`), keeping the key order.
/// `None` if the text is not well-formed JSON.
pub(crate) fn reformat(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let end = skip_value(b, 0, 0)?;
    if skip_ws(b, end) != b.len() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut i = 0;
    while i < end {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b',' => {
                out.push_str(", ");
                i += 1;
            }
            b':' => {
                out.push_str(": ");
                i += 1;
            }
            b'"' => {
                let stop = skip_string(b, i)?;
                let decoded: String = serde_json::from_str(&text[i..stop]).ok()?;
                write_str(&mut out, &decoded);
                i = stop;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < end && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let number = &text[start..i];
                if number.contains(['.', 'e', 'E']) {
                    write_float(&mut out, number.parse().ok()?);
                } else {
                    out.push_str(number);
                }
            }
            _ => {
                out.push(char::from(c));
                i += 1;
            }
        }
    }
    Some(out)
}

/// Python's `json.dumps(value)` (ensure_ascii, `, `/`: `); object keys come out sorted because
/// `serde_json` keeps them sorted, which is `json.dumps(value, sort_keys=True)`.
pub(crate) fn dumps(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &serde_json::Value) {
    match value {
        serde_json::Value::Null => out.push_str("null"),
        serde_json::Value::Bool(true) => out.push_str("true"),
        serde_json::Value::Bool(false) => out.push_str("false"),
        serde_json::Value::Number(n) => {
            if n.is_f64() {
                write_float(out, n.as_f64().unwrap_or(0.0));
            } else {
                let _ = write!(out, "{n}");
            }
        }
        serde_json::Value::String(s) => write_str(out, s),
        serde_json::Value::Array(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        serde_json::Value::Object(map) => {
            out.push('{');
            for (k, (key, item)) in map.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                write_str(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// A JSON string as Python writes it with `ensure_ascii=True`.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: shortest round-trip digits, positional for exponents -5..16,
/// scientific (`1e+16`) otherwise, `.0` for whole numbers.
fn write_float(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str(if x.is_nan() {
            "NaN"
        } else if x > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
        return;
    }
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-5..16).contains(&exponent) {
        let plain = format!("{x}");
        out.push_str(&plain);
        if !plain.contains('.') {
            out.push_str(".0");
        }
    } else {
        out.push_str(mantissa);
        let _ = write!(out, "e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reformat_keeps_order_and_spaces_like_python() {
        let text = "{\"b\": 1,\n \"a\":[1.50, 2e3, \"é\\n\"], \"c\" : {}, \"d\":null}";
        assert_eq!(
            reformat(text).as_deref(),
            Some("{\"b\": 1, \"a\": [1.5, 2000.0, \"\\u00e9\\n\"], \"c\": {}, \"d\": null}")
        );
        assert_eq!(reformat("{\"a\": 1"), None);
        assert_eq!(reformat("[1] x"), None);
    }

    #[test]
    fn dumps_sorts_keys() {
        let value: serde_json::Value =
            serde_json::from_str(r#"{"z": [true, false], "a": 1e20, "m": "\u0001"}"#).unwrap();
        assert_eq!(dumps(&value), r#"{"a": 1e+20, "m": "\u0001", "z": [true, false]}"#);
    }

    #[test]
    fn array_elements_spans() {
        let text = "[\n {\"a\": 1},\n {\"b\": [2, 3]}\n]";
        let spans = array_elements(text).unwrap();
        assert_eq!(spans.len(), 2);
        let (s, e, line) = spans[1].unwrap();
        assert_eq!(&text[s..e], "{\"b\": [2, 3]}");
        assert_eq!(line, 3);
        let broken = array_elements("[{\"a\": 1}, {\"b\" 2}]").unwrap();
        assert!(broken[1].is_err());
        assert!(array_elements("{}").is_none());
    }
}
