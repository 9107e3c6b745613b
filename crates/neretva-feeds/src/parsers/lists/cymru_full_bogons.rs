//! Team Cymru full bogons, IPv4 and IPv6 (IntelMQ's `CymruFullBogonsParserBot`).
//!
//! The first line, `# last updated <epoch> (<date>)`, gives `time.source` to every
//! event; each further line is a network (or a single address), giving `source.network`
//! (or `source.ip`) and `classification.type` `blacklist`. `raw` is, as in IntelMQ, the
//! first line and the data line joined by a line feed.
//!
//! Difference from IntelMQ 3.5.0 (deliberate): an unparsable date in the first line is
//! an error on line 1 and the events carry no `time.source`; IntelMQ fails the whole
//! report.

use neretva_event::FieldId;
use time::OffsetDateTime;

use crate::parsers::lists::support::{
    LineError, Lines, invalid_utf8, new_event, push, py_strip, set_id, set_time,
};
use crate::parsers::lists::timefmt;
use crate::{Event, FeedParser, Parsed, Report};

/// The Team Cymru full bogons lists.
pub struct CymruFullBogons;

impl FeedParser for CymruFullBogons {
    fn name(&self) -> &'static str {
        "cymru-full-bogons"
    }

    fn description(&self) -> &'static str {
        "Team Cymru full bogons (IPv4 and IPv6): unallocated and reserved networks"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        // IntelMQ strips the whole report, takes the text before the first line feed as
        // the header, and its date from between the parentheses.
        let whole = String::from_utf8_lossy(&report.raw);
        let stripped = py_strip(&whole);
        if stripped.is_empty() {
            return parsed;
        }
        let header = match stripped.find('\n') {
            Some(index) => &stripped[..index],
            // Python's `text[:-1]` for a report of one line.
            None => {
                let mut end = stripped.len() - 1;
                while !stripped.is_char_boundary(end) {
                    end -= 1;
                }
                &stripped[..end]
            }
        };
        let date = match (header.find('('), header.find(')')) {
            (Some(open), Some(close)) if close > open => &header[open + 1..close],
            _ => header,
        };
        let time = timefmt::fuzzy(date);
        if time.is_none() {
            parsed.error(
                1,
                Some("time.source"),
                format!("cannot parse the date of the first line {date:?}"),
                header,
            );
        }
        let mut raw = String::with_capacity(header.len() + 64);
        for (number, bytes) in Lines::new(&report.raw) {
            let Ok(text) = std::str::from_utf8(bytes) else {
                invalid_utf8(&mut parsed, number, bytes);
                continue;
            };
            let value = py_strip(text);
            if value.is_empty() || value.starts_with('#') || value.starts_with("//") {
                continue;
            }
            parsed.records += 1;
            raw.clear();
            raw.push_str(header);
            raw.push('\n');
            raw.push_str(value);
            let outcome = event(report, value, time);
            push(&mut parsed, number, &raw, value, outcome);
        }
        parsed
    }
}

fn event(report: &Report, value: &str, time: Option<OffsetDateTime>) -> Result<Event, LineError> {
    let mut event = new_event(report);
    // IntelMQ tries an address first (a `/32` counts as one), then a network.
    if set_id(&mut event, FieldId::SOURCE_IP, value).is_err() {
        set_id(&mut event, FieldId::SOURCE_NETWORK, value)?;
    }
    if let Some(time) = time {
        set_time(&mut event, FieldId::TIME_SOURCE, time)?;
    }
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "blacklist")?;
    Ok(event)
}
