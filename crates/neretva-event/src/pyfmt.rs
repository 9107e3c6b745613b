//! Python's textual forms: `repr(float)`, `json.dumps(..., ensure_ascii=False,
//! sort_keys=True)`, `str.strip()` and `repr(str)`, which IntelMQ's output
//! and hashes are made of.

use std::fmt::Write as _;

/// Whether Python's `str.isspace()` holds for the character, which is what
/// `str.strip()` removes.
#[inline]
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()`.
#[inline]
pub fn py_strip(text: &str) -> &str {
    let bytes = text.as_bytes();
    // Fast path: ASCII without surrounding white space.
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) if first > b' ' && first < 0x80 && last > b' ' && last < 0x80 => text,
        _ => text.trim_matches(is_py_space),
    }
}

/// Python's `repr(float)` (also `str(float)` and `json.dumps(float)` for
/// finite values): the shortest digits that round-trip, in positional form
/// for decimal exponents from -5 to 15 and scientific form otherwise.
pub(crate) fn float_repr(x: f64) -> String {
    let mut out = String::new();
    write_float_repr(&mut out, x);
    out
}

/// Appends Python's `repr(float)` of `x` (see `float_repr`). Non-finite values come out as
/// `json.dumps` writes them: `NaN`, `Infinity`, `-Infinity`.
pub fn write_float_repr(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("NaN");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if x == 0.0 {
        out.push_str(if x.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let sci = format!("{:e}", x.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if x.is_sign_negative() {
        out.push('-');
    }
    if !(-4..16).contains(&exponent) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
    } else if exponent >= 0 {
        let int_len = usize::try_from(exponent).unwrap_or(0) + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        let zeros = usize::try_from(-exponent - 1).unwrap_or(0);
        out.extend(std::iter::repeat_n('0', zeros));
        out.push_str(&digits);
    }
}

/// The bytes a JSON string literal escapes: control characters, `"` and `\`.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Appends a JSON string literal as Python's `json.dumps(..., ensure_ascii=False)`
/// writes it (which is also how `serde_json` writes it).
pub(crate) fn write_json_str(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        // Most bytes need no escape: one table lookup decides.
        if !NEEDS_ESCAPE[usize::from(b)] {
            continue;
        }
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// Appends a JSON value as Python's `json.dumps(value, ensure_ascii=False,
/// sort_keys=True)` writes it: `", "` and `": "` separators, keys sorted.
pub(crate) fn write_json(out: &mut String, value: &serde_json::Value) {
    match value {
        serde_json::Value::Null => out.push_str("null"),
        serde_json::Value::Bool(true) => out.push_str("true"),
        serde_json::Value::Bool(false) => out.push_str("false"),
        serde_json::Value::Number(number) => write_json_number(out, number),
        serde_json::Value::String(text) => write_json_str(out, text),
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(out, item);
            }
            out.push(']');
        }
        serde_json::Value::Object(map) => {
            out.push('{');
            let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_str(out, key);
                out.push_str(": ");
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

/// Appends a JSON number: integers in decimal, floats as Python's `repr`.
pub(crate) fn write_json_number(out: &mut String, number: &serde_json::Number) {
    if let Some(i) = number.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = number.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = number.as_f64() {
        write_float_repr(out, f);
    } else {
        let _ = write!(out, "{number}");
    }
}

/// The JSON text of a value as Python writes it; see [`write_json`].
pub(crate) fn json_to_string(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_json(&mut out, value);
    out
}

/// Whether Python's `str.isprintable()` holds for the character, as far as
/// this crate knows it: control characters, format characters, separators
/// other than the space, surrogates, private use and a few unassigned blocks
/// are not printable.
fn is_py_printable(c: char) -> bool {
    let code = u32::from(c);
    !matches!(code,
        0x00..=0x1f | 0x7f..=0xa0 | 0xad
        | 0x034f | 0x061c | 0x115f..=0x1160 | 0x1680 | 0x17b4..=0x17b5 | 0x180b..=0x180f
        | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x206f | 0x3000 | 0x3164
        | 0xd800..=0xf8ff | 0xfe00..=0xfe0f | 0xfeff | 0xffa0 | 0xfff0..=0xfffb
        | 0xe0000..=0xe0fff | 0xf0000..=0x10ffff)
}

/// Appends Python's `repr(str)`: single quotes unless the text contains a
/// single quote and no double quote.
pub(crate) fn write_str_repr(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_py_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                let _ = if code < 0x100 {
                    write!(out, "\\x{code:02x}")
                } else if code < 0x10000 {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// Appends Python's `repr()` of a value loaded by `json.loads`: `True`,
/// `None`, `{'a': 1}`.
pub(crate) fn write_json_repr(out: &mut String, value: &serde_json::Value) {
    match value {
        serde_json::Value::Null => out.push_str("None"),
        serde_json::Value::Bool(true) => out.push_str("True"),
        serde_json::Value::Bool(false) => out.push_str("False"),
        serde_json::Value::Number(number) => match number.as_f64() {
            Some(f) if !number.is_i64() && !number.is_u64() => {
                if f.is_nan() {
                    out.push_str("nan");
                } else if f.is_infinite() {
                    out.push_str(if f > 0.0 { "inf" } else { "-inf" });
                } else {
                    write_float_repr(out, f);
                }
            }
            _ => write_json_number(out, number),
        },
        serde_json::Value::String(text) => write_str_repr(out, text),
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_repr(out, item);
            }
            out.push(']');
        }
        serde_json::Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_repr(out, key);
                out.push_str(": ");
                write_json_repr(out, item);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        // Every ASCII character alone and inside text, and text beyond ASCII, which stays as it is.
        let mut texts: Vec<String> = (0u8..=0x7f).map(|b| char::from(b).to_string()).collect();
        texts.extend((0u8..=0x7f).map(|b| format!("a{}b\\\"{}", char::from(b), char::from(b))));
        texts.extend(["", "žđ\u{7f}\u{80}\u{2028}𝄞", "\"\\\"\\"].map(str::to_owned));
        for text in &texts {
            let mut out = String::new();
            write_json_str(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap(), "{text:?}");
        }
    }
}
