//! OpenPhish community feed (IntelMQ's `OpenPhishParserBot`).
//!
//! One URL per line; every event is `classification.type` `phishing` with `source.url`,
//! and the stripped line as `raw`.

use neretva_event::FieldId;

use crate::parsers::lists::support::{LineError, for_each_line, new_event, push, set_id, set_indicator};
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
        for_each_line(&report.raw, &mut parsed, None, |parsed, number, line| {
            let outcome = event(report, line);
            push(parsed, number, line, line, outcome);
        });
        parsed
    }
}

fn event(report: &Report, line: &str) -> Result<Event, LineError> {
    let mut event = new_event(report);
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "phishing")?;
    set_indicator(&mut event, FieldId::SOURCE_URL, line)?;
    Ok(event)
}
