//! Danger Rulez BruteForceBlocker (IntelMQ's `BruteForceBlockerParserBot`).
//!
//! The addresses that attacked SSH servers running BruteForceBlocker, one per line:
//! `203.0.113.48<TAB><TAB># 2016-11-10 09:11:03<TAB><TAB>56<TAB>1101973` (address, the last
//! report's time in UTC after `# `, the count and an id). Every event is
//! `classification.type` `brute-force` with `source.ip` and `time.source`; `raw` is the line as
//! it stands. Lines starting with `#` (the header) are skipped. A line without an address or a
//! time is an error (IntelMQ fails the whole report).

use neretva_event::FieldId;

use crate::parsers::lists::support::{
    LineError, for_each_line_as_is, new_event, push, set_id, set_indicator,
};
use crate::{Event, FeedParser, Parsed, Report};

/// The BruteForceBlocker list of danger.rulez.sk.
pub struct DangerRulez;

impl FeedParser for DangerRulez {
    fn name(&self) -> &'static str {
        "danger-rulez"
    }

    fn description(&self) -> &'static str {
        "Danger Rulez BruteForceBlocker: addresses that attacked SSH servers"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        // IntelMQ neither strips the lines nor skips lines of white space.
        for_each_line_as_is(&report.raw, &mut parsed, '#', |parsed, number, line| {
            let outcome = event(report, line);
            push(parsed, number, line, line, outcome);
        });
        parsed
    }
}

fn event(report: &Report, line: &str) -> Result<Event, LineError> {
    // IntelMQ's `^[^ \t]+` and `# ([^ \t]+ [^ \t]+)`.
    let address = line.split([' ', '\t']).next().unwrap_or_default();
    let time = line.match_indices("# ").find_map(|(at, _)| {
        let rest = &line[at + 2..];
        let mut words = rest.splitn(3, ' ');
        let (date, time) = (words.next()?, words.next()?);
        let time = time.split(['\t', ' ']).next().unwrap_or_default();
        (!date.is_empty() && !date.contains('\t') && !time.is_empty()).then(|| format!("{date} {time} UTC"))
    });
    let Some(time) = time else {
        return Err(LineError::line("no time found (`# YYYY-MM-DD HH:MM:SS`)"));
    };
    if address.is_empty() {
        return Err(LineError::line("no address found"));
    }
    let mut event = new_event(report);
    set_id(&mut event, FieldId::TIME_SOURCE, &time)?;
    set_indicator(&mut event, FieldId::SOURCE_IP, address)?;
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "brute-force")?;
    Ok(event)
}
