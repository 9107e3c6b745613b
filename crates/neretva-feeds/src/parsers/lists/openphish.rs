//! OpenPhish community feed (IntelMQ's `OpenPhishParserBot`).
//!
//! One URL per line; every event is `classification.type` `phishing` with `source.url`,
//! and the stripped line as `raw`.

use neretva_event::FieldId;

use crate::parsers::lists::support::{
    LineError, Lines, invalid_utf8, new_event, push, py_strip, set_id, set_indicator,
};
use crate::{Event, FeedParser, Parsed, Report};

/// The OpenPhish community feed.
pub struct OpenPhish;

impl FeedParser for OpenPhish {
    fn name(&self) -> &'static str {
        "openphish"
    }

    fn description(&self) -> &'static str {
        "OpenPhish community feed of phishing URLs"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        for (number, bytes) in Lines::new(&report.raw) {
            let Ok(text) = std::str::from_utf8(bytes) else {
                invalid_utf8(&mut parsed, number, bytes);
                continue;
            };
            let line = py_strip(text);
            if line.is_empty() {
                continue;
            }
            parsed.records += 1;
            let outcome = event(report, line);
            push(&mut parsed, number, line, line, outcome);
        }
        parsed
    }
}

fn event(report: &Report, line: &str) -> Result<Event, LineError> {
    let mut event = new_event(report);
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "phishing")?;
    set_indicator(&mut event, FieldId::SOURCE_URL, line)?;
    Ok(event)
}
