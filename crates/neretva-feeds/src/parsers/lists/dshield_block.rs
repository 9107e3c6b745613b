//! DShield recommended block list (IntelMQ's `DshieldBlockParserBot`).
//!
//! Tab-separated lines `start, end, prefix length, attacks, network name, country,
//! e-mail`, after `#` comments of which `updated: <date>` gives `time.source`, and a
//! `Start…` header. Each line gives `source.network` (`<start>/<prefix length>`),
//! `extra.attacks`, `extra.network_name`, `source.geolocation.cc` and
//! `source.abuse_contact` as far as the columns go, `classification.type` `blacklist`,
//! and the stripped line as `raw`.
//!
//! Differences from IntelMQ 3.5.0, all deliberate:
//! - A line with fewer than three columns is reported as an error; IntelMQ skips it
//!   silently.
//! - A bad attack count fails its line only; IntelMQ's bot fails the whole report.
//! - Without an `updated:` comment the events have no `time.source` (IntelMQ fails the
//!   whole report), and an unparsable one is an error on its line.
//! - An empty network name is left out instead of being kept as an empty `extra` value.

use neretva_event::FieldId;
use time::OffsetDateTime;

use crate::parsers::lists::support::{
    LineError, Lines, invalid_utf8, new_event, push, py_strip, set, set_id, set_json, set_time,
};
use crate::parsers::lists::timefmt;
use crate::{Event, FeedParser, Parsed, Report};

/// The DShield block list.
pub struct DshieldBlock;

impl FeedParser for DshieldBlock {
    fn name(&self) -> &'static str {
        "dshield-block"
    }

    fn description(&self) -> &'static str {
        "DShield recommended block list: the top attacking /24 networks"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let mut updated: Option<OffsetDateTime> = None;
        for (number, bytes) in Lines::new(&report.raw) {
            let Ok(text) = std::str::from_utf8(bytes) else {
                invalid_utf8(&mut parsed, number, bytes);
                continue;
            };
            let row = py_strip(text);
            if row.is_empty() || row.starts_with('#') || row.starts_with("Start") {
                if row.contains("updated") {
                    let date = row.find(": ").map_or(row, |index| &row[index + 2..]);
                    match timefmt::fuzzy(date) {
                        Some(t) => updated = Some(t),
                        None => {
                            updated = None;
                            parsed.error(
                                number,
                                Some("time.source"),
                                format!("cannot parse the updated date {date:?}"),
                                row,
                            );
                        }
                    }
                }
                continue;
            }
            parsed.records += 1;
            let outcome = event(report, row, updated);
            push(&mut parsed, number, row, row, outcome);
        }
        parsed
    }
}

fn event(report: &Report, row: &str, updated: Option<OffsetDateTime>) -> Result<Event, LineError> {
    let mut columns = row.split('\t');
    let (Some(start), Some(_end), Some(prefix)) = (columns.next(), columns.next(), columns.next()) else {
        return Err(LineError::line(format!(
            "expected at least 3 tab-separated columns, found {}",
            row.split('\t').count()
        )));
    };
    let mut event = new_event(report);
    if let Some(attacks) = columns.next() {
        let attacks: i64 = attacks.parse().map_err(|_| {
            LineError::field("extra.attacks", format!("attack count {attacks:?} is not an integer"))
        })?;
        set_json(&mut event, "extra.attacks", serde_json::Value::from(attacks))?;
    }
    if let Some(name) = columns.next() {
        set(&mut event, "extra.network_name", name)?;
    }
    if let Some(cc) = columns.next() {
        set_id(&mut event, FieldId::SOURCE_GEOLOCATION_CC, cc)?;
    }
    if let Some(contact) = columns.next() {
        set_id(&mut event, FieldId::SOURCE_ABUSE_CONTACT, contact)?;
    }
    if let Some(time) = updated {
        set_time(&mut event, FieldId::TIME_SOURCE, time)?;
    }
    let mut network = String::with_capacity(start.len() + 1 + prefix.len());
    network.push_str(start);
    network.push('/');
    network.push_str(prefix);
    set_id(&mut event, FieldId::SOURCE_NETWORK, &network)?;
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "blacklist")?;
    Ok(event)
}
