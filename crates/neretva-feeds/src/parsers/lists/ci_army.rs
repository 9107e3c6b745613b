//! CINS Army (IntelMQ's `CIArmyParserBot`).
//!
//! One IP address per line, `#` comments; every event is `classification.type`
//! `blacklist` with `source.ip`. `raw` is the line as it stands in the list (IntelMQ does
//! not strip it), the address itself is read without surrounding white space.

use neretva_event::FieldId;

use crate::parsers::lists::support::{
    LineError, for_each_line_as_is, new_event, push, set_id, set_indicator,
};
use crate::{Event, FeedParser, Parsed, Report};

/// The CINS Army list.
pub struct CiArmy;

impl FeedParser for CiArmy {
    fn name(&self) -> &'static str {
        "ci-army"
    }

    fn description(&self) -> &'static str {
        "CINS Army list of IP addresses with a poor reputation"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        // Not `support::for_each_line`: this parser does not strip its lines (a line with white
        // space around the address is not the bare address), and changing that would change its
        // output.
        for_each_line_as_is(&report.raw, &mut parsed, '#', |parsed, number, line| {
            let outcome = event(report, line);
            push(parsed, number, line, line, outcome);
        });
        parsed
    }
}

fn event(report: &Report, line: &str) -> Result<Event, LineError> {
    let mut event = new_event(report);
    set_indicator(&mut event, FieldId::SOURCE_IP, line)?;
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "blacklist")?;
    Ok(event)
}
