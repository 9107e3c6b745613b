//! IntelMQ's JSON message format: one JSON object per line, keys sorted,
//! `extra.*` members flattened into the top level, as IntelMQ's
//! `Message.to_json()` writes it (Python's `json.dumps(..., ensure_ascii=False,
//! sort_keys=True)`, so `", "` and `": "` separators).

use std::borrow::Cow;

use crate::error::ValueError;
use crate::event::Event;

/// The longest line [`from_line`] accepts: 1 MiB.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The deepest nesting of arrays and objects [`from_line`] accepts.
pub const MAX_NESTING: usize = 32;

/// One IntelMQ JSON object, without `__type`.
pub fn to_line(event: &Event) -> String {
    write_line(event, None)
}

/// One IntelMQ JSON object with `"__type": type_name` (normally `"Event"`),
/// as IntelMQ's `serialize()` carries it between bots.
pub fn to_line_typed(event: &Event, type_name: &str) -> String {
    write_line(event, Some(type_name))
}

/// One IntelMQ JSON object as IntelMQ 3.5.0 itself accepts it, for what IntelMQ bots read
/// (JSON-lines files, webhook batches, `--output intelmq-jsonl`).
///
/// IntelMQ's `tlp` type knows TLP 1.0 only (WHITE, GREEN, AMBER, RED) and rejects the whole
/// message for another label, so TLP 2.0's two new labels are written in TLP 1.0 terms:
/// `CLEAR` as `WHITE`, which FIRST's TLP 2.0 names as its replacement, and `AMBER+STRICT` as
/// `RED`, the nearest label that allows no wider sharing (TLP 1.0's AMBER allows sharing with
/// clients, which AMBER+STRICT forbids), with `extra.tlp` `"AMBER+STRICT"` keeping the
/// original for a human reader (unless the event has an `extra.tlp` already). Reading the line
/// back gives `RED`: a label is never loosened on the strength of an `extra` member. Every
/// other value is written as [`to_line`] writes it.
pub fn to_intelmq_line(event: &Event) -> String {
    let label = match event.get_id(crate::FieldId::TLP) {
        Some(crate::Value::Str(text)) => text.as_str(),
        _ => return write_line(event, None),
    };
    let (replacement, keep) = match label {
        "CLEAR" => ("WHITE", false),
        "AMBER+STRICT" => ("RED", true),
        _ => return write_line(event, None),
    };
    let mut event = event.clone();
    if keep && event.get("extra.tlp").is_none() {
        let _ = event.set_value("extra.tlp", crate::Value::str(label));
    }
    let _ = event.set_value_id(crate::FieldId::TLP, crate::Value::str(replacement));
    write_line(&event, None)
}

fn write_line(event: &Event, type_name: Option<&str>) -> String {
    let mut out = String::with_capacity(64 * (event.len() + 1));
    out.push('{');
    let mut first = true;
    if let Some(type_name) = type_name {
        // "__type" sorts before every field name (all start with a lower-case letter).
        out.push_str("\"__type\": ");
        crate::pyfmt::write_json_str(&mut out, type_name);
        first = false;
    }
    for (name, value) in event.iter() {
        if !first {
            out.push_str(", ");
        }
        first = false;
        crate::pyfmt::write_json_str(&mut out, name);
        out.push_str(": ");
        value.write_json(&mut out);
    }
    out.push('}');
    out
}

/// An event as stored (its IntelMQ object without `raw`, and the report line it came from) as
/// one IntelMQ line: [`to_intelmq_line`] of the event with the line in `raw` (base64). When the
/// stored fields do not read as an IntelMQ event (an older version's, say), the stored object
/// is written as it stands with `raw` added, so no event is left out of an export; the problems
/// come back beside the line, and are empty otherwise.
pub fn stored_line(json: &str, raw: &[u8]) -> (String, Vec<ValueError>) {
    match from_line(json) {
        Ok(mut event) => {
            event.set_raw(raw);
            (to_intelmq_line(&event), Vec::new())
        }
        Err(problems) => {
            use base64::Engine as _;
            let mut object = match parse_limited(json) {
                Ok(serde_json::Value::Object(object)) => object,
                _ => serde_json::Map::new(),
            };
            let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
            object.insert("raw".to_owned(), serde_json::Value::String(encoded));
            (serde_json::Value::Object(object).to_string(), problems)
        }
    }
}

/// The events of [`read_lines`] with their line numbers.
pub type LineEvents = Vec<(u64, Event)>;

/// The errors of [`read_lines`] with their line numbers.
pub type LineErrors = Vec<(u64, Vec<ValueError>)>;

/// Whether the nesting of arrays and objects in JSON text stays within
/// [`MAX_NESTING`] (strings are skipped; the text need not be valid JSON).
pub(crate) fn nesting_ok(text: &str) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text.as_bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Parses JSON text with the size and nesting limits.
pub(crate) fn parse_limited(text: &str) -> Result<serde_json::Value, Cow<'static, str>> {
    if text.len() > MAX_LINE_BYTES {
        return Err(Cow::Borrowed("is longer than 1 MiB"));
    }
    if !nesting_ok(text) {
        return Err(Cow::Owned(format!("is nested deeper than {MAX_NESTING} levels")));
    }
    serde_json::from_str(text).map_err(|e| Cow::Owned(format!("is not valid JSON: {e}")))
}

fn line_error(line: &str, reason: Cow<'static, str>) -> ValueError {
    ValueError::new("(line)", line, reason)
}

/// Parses one IntelMQ JSON object into an event, reporting every bad field.
///
/// Hostile input is expected: lines over 1 MiB and nesting deeper than 32
/// levels are refused before parsing; unknown fields are reported by name;
/// `__type` must be `"Event"` when present. Errors about the line as a whole
/// use the field name `(line)`.
pub fn from_line(line: &str) -> Result<Event, Vec<ValueError>> {
    let parsed = parse_limited(line).map_err(|reason| vec![line_error(line, reason)])?;
    let serde_json::Value::Object(map) = parsed else {
        return Err(vec![line_error(line, Cow::Borrowed("is not a JSON object"))]);
    };
    let mut event = Event::with_capacity(map.len());
    let mut errors = Vec::new();
    // Sorted, so that members are appended in order whatever order the map
    // keeps (no quadratic insertion for a line with many members).
    let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (key, value) in entries {
        if key == "__type" {
            if value.as_str() != Some("Event") {
                let text = value.to_string();
                errors.push(ValueError::new("__type", &text, "is not \"Event\""));
            }
            continue;
        }
        if let Err(e) = event.set_json(&key, value) {
            errors.push(e);
        }
    }
    if errors.is_empty() { Ok(event) } else { Err(errors) }
}

/// Parses IntelMQ JSON lines, never stopping at a bad line: the events with
/// their line numbers (from 1) and the errors of the bad lines. Blank lines
/// are skipped; a line may end in `\r\n`.
pub fn read_lines(input: &[u8]) -> (LineEvents, LineErrors) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in input.split(|b| *b == b'\n').enumerate() {
        let number = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if line.len() > MAX_LINE_BYTES {
            errors.push((
                number,
                vec![ValueError::new(
                    "(line)",
                    &String::from_utf8_lossy(&line[..200]),
                    "is longer than 1 MiB",
                )],
            ));
            continue;
        }
        let Ok(text) = std::str::from_utf8(line) else {
            errors.push((
                number,
                vec![ValueError::new("(line)", &String::from_utf8_lossy(line), "is not valid UTF-8")],
            ));
            continue;
        };
        match from_line(text) {
            Ok(event) => events.push((number, event)),
            Err(e) => errors.push((number, e)),
        }
    }
    (events, errors)
}
