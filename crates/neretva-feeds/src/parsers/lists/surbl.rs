//! SURBL (IntelMQ's `SurblParserBot`): SURBL's lists of domains seen in unsolicited mail, as the
//! rbldnsd zone file its data feed serves.
//!
//! A line `:127.0.0.128:Blocked, $ on lists [ph][mw], See: …` names the lists of the domain
//! lines that follow it: `mw` (malware) makes them `classification.type`
//! `malware-distribution`, else `ph` `phishing`, else `blacklist`. Each line `.domain` is an
//! event with `source.fqdn` and the line as `raw`. Other lines (the zone's header, addresses)
//! give nothing. A domain line before any list line, or whose domain the field does not take,
//! is an error.
//!
//! Deliberate difference from IntelMQ: every line is read; IntelMQ skips the first nine and the
//! last two lines of the report without looking at them (the zone header of its test file), so
//! a domain there would be lost.

use neretva_event::FieldId;

use crate::parsers::lists::support::{LineError, Lines, invalid_utf8, new_event, push, set_id};
use crate::{Event, FeedParser, Parsed, Report};

/// The SURBL data feed.
pub struct Surbl;

impl FeedParser for Surbl {
    fn name(&self) -> &'static str {
        "surbl"
    }

    fn description(&self) -> &'static str {
        "SURBL domain lists (rbldnsd zone file): phishing, malware and other spam domains"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let mut classification: Option<&'static str> = None;
        for (number, bytes) in Lines::new(&report.raw) {
            let Ok(line) = std::str::from_utf8(bytes) else {
                invalid_utf8(&mut parsed, number, bytes);
                continue;
            };
            if line.starts_with(':') {
                classification = Some(lists_classification(line));
            } else if let Some(domain) = line.strip_prefix('.') {
                parsed.records += 1;
                push(&mut parsed, number, line, line, event(report, classification, domain));
            }
        }
        parsed
    }
}

/// The classification of the domains after a list line, by the lists it names: IntelMQ reads
/// the third word from the end without its brackets and comma (`[ph][mw],`).
fn lists_classification(line: &str) -> &'static str {
    let words: Vec<&str> = line.split_whitespace().collect();
    let lists = words.len().checked_sub(3).map_or("", |at| words[at]);
    let lists = lists.get(1..lists.len().saturating_sub(2)).unwrap_or("");
    let names: Vec<&str> = lists.split("][").collect();
    if names.contains(&"mw") {
        "malware-distribution"
    } else if names.contains(&"ph") {
        "phishing"
    } else {
        "blacklist"
    }
}

fn event(report: &Report, classification: Option<&str>, domain: &str) -> Result<Event, LineError> {
    let classification =
        classification.ok_or_else(|| LineError::line("a domain before any `:…` line naming its lists"))?;
    let mut event = new_event(report);
    set_id(&mut event, FieldId::SOURCE_FQDN, domain)?;
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, classification)?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::lists_classification;

    #[test]
    fn lists_name_the_classification() {
        let line = |lists: &str| {
            format!(":127.0.0.128:Blocked, $ on lists {lists}, See: http://www.surbl.org/lists.html")
        };
        assert_eq!(lists_classification(&line("[cr]")), "blacklist");
        assert_eq!(lists_classification(&line("[ph]")), "phishing");
        assert_eq!(lists_classification(&line("[ph][mw]")), "malware-distribution");
        assert_eq!(lists_classification(":127.0.0.2:"), "blacklist");
        assert_eq!(lists_classification(":a [ü], b c"), "blacklist");
    }
}
