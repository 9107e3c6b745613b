//! Reading JSON reports: the whole report as one document, or a top-level array element by
//! element, with the errors the structured JSON parsers report; and setting JSON values on events.

use crate::parsers::common::ordered_json::Json;
use crate::parsers::common::pyjson;
use crate::{Event, Parsed, ParsedEvent, ValueError};

/// The report text as one JSON document; `None` after recording a `malformed JSON` error at the
/// line where parsing failed.
pub(crate) fn parse_document(text: &str, parsed: &mut Parsed) -> Option<serde_json::Value> {
    match serde_json::from_str(text) {
        Ok(root) => Some(root),
        Err(e) => {
            parsed.error(e.line() as u64, None, format!("malformed JSON: {e}"), crate::truncate(text, 4096));
            None
        }
    }
}

/// Calls `record(parsed, line, element_text)` for every element of a top-level JSON array, in
/// order, with the 1-based line the element starts on. Every element counts as a record; a
/// malformed one is a `malformed JSON` error and ends the list, and text that is not an array
/// is a single `not a JSON list` error.
pub(crate) fn for_each_element(
    text: &str,
    parsed: &mut Parsed,
    mut record: impl FnMut(&mut Parsed, u64, &str),
) {
    let Some(elements) = pyjson::array_elements(text) else {
        parsed.error(1, None, "not a JSON list", crate::truncate(text, 4096));
        return;
    };
    for element in elements {
        parsed.records += 1;
        let (start, end, line) = match element {
            Ok(span) => span,
            Err((at, line)) => {
                parsed.error(line, None, "malformed JSON", crate::truncate(&text[at..], 4096));
                break;
            }
        };
        record(parsed, line, &text[start..end]);
    }
}

/// Calls `record(parsed, line, element_text)` for every element of a report that is a JSON list
/// or an API's answer holding the list in its member `key` (`{"data": [...]}`), with the line
/// each element starts on in the report; the elements are read from the text, so each keeps
/// its members in the text's order. Anything else is one error naming `key`.
pub(crate) fn for_each_listed(
    text: &str,
    key: &str,
    parsed: &mut Parsed,
    mut record: impl FnMut(&mut Parsed, u64, &str),
) {
    let Some(document) = parse_document(text, parsed) else { return };
    let (list, first_line) = match &document {
        serde_json::Value::Array(_) => (text, 1),
        serde_json::Value::Object(object) if object.get(key).is_some_and(serde_json::Value::is_array) => {
            match pyjson::member_span(text, key) {
                Some((start, end)) => (&text[start..end], 1 + text[..start].matches('\n').count() as u64),
                None => (&text[..0], 1),
            }
        }
        _ => {
            let message = format!("neither a JSON list nor an object with a `{key}` list");
            parsed.error(1, None, message, crate::truncate(text, 4096));
            return;
        }
    };
    for_each_element(list, parsed, |parsed, line, item| record(parsed, line + first_line - 1, item));
}

/// Reads a report that is one JSON document, as a stream collector sends one record per report
/// (Shodan's banners, AnubisNetworks' events), however it is spaced, or JSON lines of such
/// records: calls `record(parsed, line, raw, value)` for each, `raw` being the whole report's
/// text or the line. Every document counts as a record; blank lines are skipped, and a line that
/// is not JSON is a `malformed JSON` error of its own.
pub(crate) fn for_each_document<T: serde::de::DeserializeOwned>(
    text: &str,
    parsed: &mut Parsed,
    mut record: impl FnMut(&mut Parsed, u64, &str, T),
) {
    if let Ok(value) = serde_json::from_str::<T>(text) {
        parsed.records += 1;
        return record(parsed, 1, text, value);
    }
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        parsed.records += 1;
        let number = index as u64 + 1;
        match serde_json::from_str::<T>(line) {
            Ok(value) => record(parsed, number, line, value),
            Err(error) => {
                parsed.error(number, None, format!("malformed JSON: {error}"), crate::truncate(line, 4096))
            }
        }
    }
}

/// Reads a report of JSON objects as [`for_each_document`] does, one event (or none) per object
/// from `event(members, raw)`, with the object's text as `raw`: a document that is not an object
/// (`what` names it: "a banner") and an event's error (the field or member concerned and the
/// message) are errors of the document's line.
pub(crate) fn for_each_object_event(
    text: &str,
    parsed: &mut Parsed,
    what: &str,
    mut event: impl FnMut(&[(String, Json)], &str) -> Result<Option<Event>, (String, String)>,
) {
    for_each_document(text, parsed, |parsed, line, raw, document: Json| {
        let Json::Object(members) = document else {
            let message = format!("{what} is not a JSON object");
            return parsed.error(line, None, message, crate::truncate(raw, 4096));
        };
        match event(&members, raw) {
            Ok(Some(mut event)) => {
                event.set_raw(raw.as_bytes());
                parsed.events.push(ParsedEvent { event, line, raw: raw.to_owned() });
            }
            Ok(None) => {}
            Err((field, message)) => parsed.error(line, Some(&field), message, crate::truncate(raw, 4096)),
        }
    });
}

/// IntelMQ's `recover_line_json` for an element of a JSON list: `json.dumps([element])` with
/// the element's key order kept (its own text when it cannot be re-spaced).
pub(crate) fn recover_line_json(element_text: &str) -> String {
    format!("[{}]", pyjson::reformat(element_text).unwrap_or_else(|| element_text.to_owned()))
}

/// Sets a field from a JSON value: text through [`Event::set`], numbers and booleans through
/// [`Event::set_json`]; `null` is left out.
pub(crate) fn set_json_value(
    event: &mut Event,
    name: &str,
    value: &serde_json::Value,
) -> Result<(), ValueError> {
    match value {
        serde_json::Value::Null => Ok(()),
        serde_json::Value::String(text) => event.set(name, text),
        other => event.set_json(name, other.clone()),
    }
}

/// A time given as seconds since the epoch, as IntelMQ's bots read it with Python's `int()`: a
/// JSON integer, a number cut to its whole seconds, or text of an integer.
pub(crate) fn unix_time(value: &serde_json::Value) -> Option<time::OffsetDateTime> {
    let seconds = match value {
        serde_json::Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.trunc() as i64))
        }
        serde_json::Value::String(s) => crate::parsers::shadowserver::convert::py_int(s),
        _ => None,
    }?;
    time::OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// Python's truth of a JSON value: `null`, `false`, zero, `""`, `[]` and `{}` are false, as the
/// IntelMQ bots' `if value:` tests them.
pub(crate) fn truthy(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => false,
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        serde_json::Value::String(s) => !s.is_empty(),
        serde_json::Value::Array(items) => !items.is_empty(),
        serde_json::Value::Object(members) => !members.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::unix_time;

    #[test]
    fn seconds_read_as_python_int_reads_them() {
        let at = |value| unix_time(&value).map(|t| t.unix_timestamp());
        assert_eq!(at(json!(1795941302)), Some(1795941302));
        assert_eq!(at(json!(1795941302.9)), Some(1795941302), "cut, not rounded");
        assert_eq!(at(json!(" 1795941302 ")), Some(1795941302));
        assert_eq!(at(json!("1795941302.5")), None, "Python's int() refuses a fraction in text");
        assert_eq!(at(json!("yesterday")), None);
        assert_eq!(at(json!(null)), None);
        assert_eq!(at(json!(1e300)), None, "out of range");
    }
}
