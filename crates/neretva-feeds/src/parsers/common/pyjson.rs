//! JSON text helpers shared by the JSON feed parsers of this crate: splitting a top-level array
//! into its elements' text, and writing JSON as Python's `json.dumps` does with its defaults
//! (`ensure_ascii`, `", "` and `": "` separators), which is how IntelMQ writes the `raw` of JSON
//! records: either from a parsed value (`sort_keys=True`: [`json_dumps`], [`dumps`]) or by
//! re-spacing the original text (original key order: [`reformat`]).

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

/// Where the value of the member `key` of a top-level JSON object is in the text (of repeated
/// keys the last, as Python's `json.loads` keeps it); `None` if the text is not a well-formed
/// object or has no such member.
pub(crate) fn member_span(text: &str, key: &str) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return None;
    }
    let mut found = None;
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let name_end = skip_string(b, i)?;
        let name: String = serde_json::from_str(&text[i..name_end]).ok()?;
        i = skip_ws(b, name_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = skip_value(b, start, 1)?;
        if name == key {
            found = Some((start, end));
        }
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => return found,
            _ => return None,
        }
    }
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
                json_str(&mut out, &decoded);
                i = stop;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < end && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let number = &text[start..i];
                if number.contains(['.', 'e', 'E']) {
                    legacy_float(&mut out, number.parse().ok()?);
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

/// Python's `json.dumps(value, sort_keys=True)` as a new string, as the structured JSON
/// parsers (abuse.ch, MISP feed, STIX) write `raw`; floats as [`legacy_float`].
pub(crate) fn dumps(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, legacy_float);
    out
}

/// Appends a value as Python's `json.dumps(value, sort_keys=True)` writes it with its defaults
/// (`ensure_ascii`, `", "` and `": "` separators; floats as Python's `repr`), as the generic JSON
/// parsers write `raw`.
pub(crate) fn json_dumps(out: &mut String, value: &serde_json::Value) {
    write_value(out, value, neretva_event::write_float_repr);
}

fn write_value(out: &mut String, value: &serde_json::Value, float: fn(&mut String, f64)) {
    use serde_json::Value as J;
    match value {
        J::Null => out.push_str("null"),
        J::Bool(true) => out.push_str("true"),
        J::Bool(false) => out.push_str("false"),
        J::Number(number) => {
            if number.is_i64() || number.is_u64() {
                let _ = write!(out, "{number}");
            } else {
                float(out, number.as_f64().unwrap_or(0.0));
            }
        }
        J::String(text) => json_str(out, text),
        J::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_value(out, item, float);
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
                write_value(out, &map[key], float);
            }
            out.push('}');
        }
    }
}

/// A string as Python's `json.dumps` writes it with `ensure_ascii=True`. (neretva-event's
/// `pyfmt` writes `ensure_ascii=False`, which is what IntelMQ's output uses, so it is not this.)
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

/// A float as the structured JSON parsers ([`reformat`], [`dumps`]) have always written it:
/// Python's `repr(float)` except for numbers with the decimal exponent -5 (1e-5 up to, not
/// including, 1e-4), which come out positional (`0.000015`) where Python writes `1.5e-05`.
/// Kept apart from [`json_dumps`] (the generic parsers, exactly Python) so that no parser's
/// `raw` changes; whether the structured parsers should follow Python here is an open question.
fn legacy_float(out: &mut String, x: f64) {
    let scientific = format!("{x:e}");
    if x.is_finite() && scientific.ends_with("e-5") {
        let _ = write!(out, "{x}");
    } else {
        neretva_event::write_float_repr(out, x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_spans() {
        let text = r#" {"status": "OK", "data": [1, {"a": "]"}], "x": {}, "data": [2]} "#;
        let span = |key| member_span(text, key).map(|(start, end)| &text[start..end]);
        assert_eq!(span("data"), Some("[2]"), "the last of repeated keys");
        assert_eq!(span("status"), Some("\"OK\""));
        assert_eq!(span("x"), Some("{}"));
        assert_eq!(span("none"), None);
        assert_eq!(member_span("[1]", "data"), None);
        assert_eq!(member_span(r#"{"data": [1}"#, "data"), None);
        assert_eq!(member_span("{}", "data"), None);
    }

    fn repr(x: f64) -> String {
        let mut out = String::new();
        neretva_event::write_float_repr(&mut out, x);
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
    fn legacy_float_differs_from_python_only_at_exponent_minus_5() {
        let legacy = |x: f64| {
            let mut out = String::new();
            legacy_float(&mut out, x);
            out
        };
        assert_eq!(legacy(1.5e-5), "0.000015");
        assert_eq!(legacy(-1e-5), "-0.00001");
        for x in [52.0, 0.1, 1e16, 1e15, 0.0001, 9.5e-6, -123.456, 1.2345e20, -0.0, 0.0] {
            assert_eq!(legacy(x), repr(x));
        }
    }

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
