//! The machine-readable attachments of a digest: the events as CSV and as JSON, each readable
//! back into the same events ([`read_csv`], [`read_json`]).
//!
//! JSON is an array of IntelMQ event objects, written exactly as IntelMQ writes a JSON line.
//! CSV has one column per field present in any event, in the field registry's order, with the
//! `extra.*` members after them in name order. Fields are written as their IntelMQ text
//! (`Event::set` reads it back); `extra.*` members as JSON text (`"text"`, `5`, `{"a": 1}`), so
//! their JSON type survives; `raw` as its base64 text. Cells a spreadsheet would run as a
//! formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return), and cells starting
//! with an apostrophe, get one leading apostrophe, which [`read_csv`] removes again.

use std::collections::BTreeSet;

use neretva_event::{Event, FieldId, Value, fields, intelmq_json};
use neretva_model::text::{CsvStyle, csv_line};

use crate::NotifyError;

/// The largest attachment [`read_csv`] and [`read_json`] accept: 64 MiB.
pub const MAX_ATTACHMENT_BYTES: usize = 64 << 20;

/// The events as one JSON array of IntelMQ objects, one per line.
pub fn write_json(events: &[&Event]) -> String {
    let mut out = String::with_capacity(events.len() * 512 + 4);
    out.push('[');
    for (index, event) in events.iter().enumerate() {
        out.push_str(if index == 0 { "\n" } else { ",\n" });
        out.push_str(&intelmq_json::to_line(event));
    }
    out.push_str("\n]\n");
    out
}

/// Reads [`write_json`]'s output (or any JSON array of IntelMQ objects) back into events.
/// Errors name the element (`[3]`) and the field.
pub fn read_json(text: &str) -> Result<Vec<Event>, NotifyError> {
    if text.len() > MAX_ATTACHMENT_BYTES {
        return Err(NotifyError::Attachment {
            at: "(document)".into(),
            message: "is larger than 64 MiB".into(),
        });
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|error| NotifyError::Attachment {
        at: format!("line {}, column {}", error.line(), error.column()),
        message: error.to_string(),
    })?;
    let serde_json::Value::Array(items) = value else {
        return Err(NotifyError::Attachment {
            at: "(document)".into(),
            message: "is not a JSON array".into(),
        });
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            intelmq_json::from_line(&item.to_string()).map_err(|errors| NotifyError::Attachment {
                at: format!("[{index}]"),
                message: describe(&errors),
            })
        })
        .collect()
}

/// The CSV columns of a set of events.
fn columns(events: &[&Event]) -> Vec<String> {
    let mut present = vec![false; fields().len()];
    let mut extras = BTreeSet::new();
    for event in events {
        for (id, extra, _) in event.iter_parts() {
            match extra {
                Some(_) => {}
                None => present[id.index()] = true,
            }
        }
        for (key, _) in event.extra() {
            extras.insert(format!("extra.{key}"));
        }
    }
    let mut columns: Vec<String> = fields()
        .iter()
        .enumerate()
        .filter(|(index, spec)| present[*index] && spec.name != "extra")
        .map(|(_, spec)| spec.name.to_owned())
        .collect();
    columns.extend(extras);
    columns
}

/// A cell a spreadsheet shows as text, with the guard [`unguard`] removes.
fn guard(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) { format!("'{cell}") } else { cell }
}

fn unguard(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

/// The events as CSV with a header line; lines end in CRLF (RFC 4180).
pub fn write_csv(events: &[&Event]) -> String {
    let columns = columns(events);
    let mut out = csv_line(&columns, CsvStyle::Data).replace('\n', "\r\n");
    let mut cells = Vec::with_capacity(columns.len());
    for event in events {
        cells.clear();
        for column in &columns {
            let cell = match event.get(column) {
                None => String::new(),
                Some(value) if column.starts_with("extra.") => value.to_json().to_string(),
                Some(value) => {
                    let mut text = String::new();
                    value.write_text(&mut text);
                    text
                }
            };
            cells.push(guard(cell));
        }
        let line = csv_line(&cells, CsvStyle::Data);
        out.push_str(line.strip_suffix('\n').unwrap_or(&line));
        out.push_str("\r\n");
    }
    out
}

/// Reads [`write_csv`]'s output back into events. Errors name the line and the column.
pub fn read_csv(text: &str) -> Result<Vec<Event>, NotifyError> {
    if text.len() > MAX_ATTACHMENT_BYTES {
        return Err(NotifyError::Attachment {
            at: "(document)".into(),
            message: "is larger than 64 MiB".into(),
        });
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| NotifyError::Attachment { at: "line 1".into(), message: error.to_string() })?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut events = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut next_line = 2 + line_breaks(header.iter().map(String::as_str));
    loop {
        // Where this record starts: cells may hold line breaks, so records and lines differ.
        let line = next_line;
        let more = reader.read_record(&mut record).map_err(|error| NotifyError::Attachment {
            at: format!("line {line}"),
            message: error.to_string(),
        })?;
        if !more {
            break;
        }
        next_line += 1 + line_breaks(record.iter());
        let mut event = Event::with_capacity(header.len());
        for (column, cell) in header.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let cell = unguard(cell);
            let at = || format!("line {line}, column {column}");
            let result = if column.starts_with("extra.") {
                let json: serde_json::Value = serde_json::from_str(cell).map_err(|error| {
                    NotifyError::Attachment { at: at(), message: format!("is not JSON text: {error}") }
                })?;
                event.set_json(column, json)
            } else if FieldId::from_name(column) == Some(FieldId::RAW) {
                event.set_value(column, Value::str(cell))
            } else {
                event.set(column, cell)
            };
            result.map_err(|error| NotifyError::Attachment { at: at(), message: error.to_string() })?;
        }
        events.push(event);
    }
    Ok(events)
}

/// The line breaks inside a record's cells.
fn line_breaks<'a>(cells: impl Iterator<Item = &'a str>) -> usize {
    cells.map(|cell| cell.matches('\n').count()).sum()
}

fn describe(errors: &[neretva_event::ValueError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn event(pairs: &[(&str, &str)]) -> Event {
        let mut event = Event::new();
        for (name, text) in pairs {
            event.set(name, text).unwrap();
        }
        event
    }

    fn sample() -> Vec<Event> {
        let mut with_extras = event(&[
            ("time.source", "2026-11-27T08:01:02.5+00:00"),
            ("classification.type", "infected-system"),
            ("source.ip", "192.0.2.7"),
            ("source.port", "443"),
            ("source.asn", "64500"),
            ("source.geolocation.latitude", "43.85"),
            ("malware.name", "=cmd|' /C calc'!A0"),
            ("feed.name", "shadowserver"),
            ("comment", "a, \"quoted\"\nmulti-line\r\ncomment"),
            ("tlp", "AMBER"),
        ]);
        with_extras.set_json("extra.count", serde_json::json!(5)).unwrap();
        with_extras.set_json("extra.tags", serde_json::json!(["a", "b"])).unwrap();
        with_extras.set_json("extra.text", serde_json::json!("'quoted")).unwrap();
        with_extras.set_json("extra.flag", serde_json::json!(true)).unwrap();
        with_extras.set_raw(b"192.0.2.7,443,-infected\xff");
        let mut v6 = event(&[
            ("time.observation", "2026-11-27T09:00:00+00:00"),
            ("classification.type", "scanner"),
            ("source.ip", "2001:db8::1"),
            ("source.network", "2001:db8::/32"),
            ("source.fqdn", "xn--80ak6aa92e.example"),
            ("source.url", "http://example.ba/-/path?q=1"),
            ("protocol.application", "-ssh"),
        ]);
        v6.set_json("extra.nested", serde_json::json!({"a": {"b": [1, 2.5, null]}})).unwrap();
        vec![with_extras, v6, Event::new()]
    }

    #[test]
    fn csv_and_json_round_trip() {
        let events = sample();
        let refs: Vec<&Event> = events.iter().collect();
        let json = write_json(&refs);
        assert_eq!(read_json(&json).unwrap(), events);
        let csv = write_csv(&refs);
        assert!(csv.contains("'=cmd"), "formula cells are made inert: {csv}");
        assert!(csv.lines().all(|line| line.ends_with('\r') || line.is_empty()) || csv.contains("\r\n"));
        assert_eq!(read_csv(&csv).unwrap(), events);
    }

    #[test]
    fn empty_lists() {
        assert_eq!(read_json(&write_json(&[])).unwrap(), Vec::<Event>::new());
        assert_eq!(read_csv(&write_csv(&[])).unwrap(), Vec::<Event>::new());
    }

    #[test]
    fn errors_say_where() {
        let error = read_json("[{\"source.ip\": \"not an address\"}]").unwrap_err().to_string();
        assert!(error.starts_with("[0]: "), "{error}");
        assert!(error.contains("source.ip"), "{error}");
        let error = read_json("[1,").unwrap_err().to_string();
        assert!(error.starts_with("line 1, column 3"), "{error}");
        let error = read_csv("source.ip,source.port\r\n192.0.2.1,80\r\n192.0.2.2,eighty\r\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("line 3, column source.port"), "{error}");
        let error = read_csv("extra.a\r\n{bad\r\n").unwrap_err().to_string();
        assert!(error.starts_with("line 2, column extra.a: is not JSON text"), "{error}");
        assert!(read_json("{}").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// Any texts in string fields and extra members survive both formats.
        #[test]
        fn arbitrary_texts_round_trip(comment in "\\PC{1,40}", extra in "\\PC{0,40}", lead in "[-=+@'\t ]{0,2}") {
            let mut event = Event::new();
            let comment = format!("{lead}{comment}");
            // Event::set ignores "", "-" and "N/A" and trims nothing: skip what it would drop.
            prop_assume!(!neretva_event::IGNORED_VALUES.contains(&comment.as_str()));
            event.set("comment", &comment).unwrap();
            event.set_json("extra.x", serde_json::Value::String(format!("{lead}{extra}"))).unwrap();
            let events = vec![event];
            let refs: Vec<&Event> = events.iter().collect();
            prop_assert_eq!(read_csv(&write_csv(&refs)).unwrap(), events.clone());
            prop_assert_eq!(read_json(&write_json(&refs)).unwrap(), events);
        }
    }
}
