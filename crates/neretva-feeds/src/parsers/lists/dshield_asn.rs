//! DShield AS details (IntelMQ's `DShieldASNParserBot`).
//!
//! Tab-separated lines `source IP (zero padded), reports, targets, first seen, last
//! seen, updated` after `#` comments. Each line gives `source.ip` (without the padding),
//! `source.asn` from the `?as=<n>` of `feed.url`, `time.source` from `updated`,
//! `extra.reports`, `extra.targets`, `extra.last_seen`, `classification.type`
//! `brute-force`, and the line as `raw`.
//!
//! Differences from IntelMQ 3.5.0, all deliberate:
//! - A non-empty line with fewer than six columns is reported as an error; IntelMQ skips
//!   it silently. Empty lines are skipped.
//! - A bad number fails its line only; IntelMQ's bot fails the whole report.
//! - Without an AS number in `feed.url` the events have no `source.asn` and the first
//!   data line carries one error saying so; IntelMQ fails the whole report.

use neretva_event::{FieldId, Value};

use crate::parsers::lists::support::{
    LineError, Lines, invalid_utf8, new_event, push, set, set_id, set_json, set_time, set_value,
};
use crate::parsers::lists::timefmt;
use crate::{Event, FeedParser, Parsed, Report};

/// The DShield AS details list.
pub struct DshieldAsn;

/// The AS number IntelMQ takes from the URL: everything after the last `?as=`.
fn asn_of(url: &str) -> Option<u32> {
    let index = url.rfind("?as=")?;
    url[index + 4..].parse().ok()
}

impl FeedParser for DshieldAsn {
    fn name(&self) -> &'static str {
        "dshield-asn"
    }

    fn description(&self) -> &'static str {
        "DShield AS details: attacking addresses of one autonomous system (`?as=<n>` URL)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let asn = report.feed_url.as_deref().and_then(asn_of);
        let mut asn_reported = false;
        for (number, bytes) in Lines::new(&report.raw) {
            let Ok(row) = std::str::from_utf8(bytes) else {
                invalid_utf8(&mut parsed, number, bytes);
                continue;
            };
            if row.starts_with('#') || row.trim().is_empty() {
                continue;
            }
            parsed.records += 1;
            if asn.is_none() && !asn_reported {
                asn_reported = true;
                parsed.error(
                    number,
                    Some("source.asn"),
                    "feed.url has no `?as=<number>`, so the events have no source.asn",
                    row,
                );
            }
            let outcome = event(report, row, asn);
            push(&mut parsed, number, row, row, outcome);
        }
        parsed
    }
}

fn integer(field: &str, text: &str) -> Result<i64, LineError> {
    text.trim().parse().map_err(|_| LineError::field(field, format!("{text:?} is not an integer")))
}

fn event(report: &Report, row: &str, asn: Option<u32>) -> Result<Event, LineError> {
    let mut columns = row.split('\t');
    let mut next = || columns.next();
    let (Some(ip), Some(reports), Some(targets), Some(_first_seen), Some(last_seen), Some(updated)) =
        (next(), next(), next(), next(), next(), next())
    else {
        return Err(LineError::line(format!(
            "expected 6 tab-separated columns, found {}",
            row.split('\t').count()
        )));
    };
    // `109.230.155.061` → `109.230.155.61`, as IntelMQ's `int()` per byte does.
    let mut address = String::with_capacity(15);
    for (index, part) in ip.split('.').enumerate() {
        let byte = integer("source.ip", part)?;
        if index > 0 {
            address.push('.');
        }
        address.push_str(&byte.to_string());
    }
    let reports = integer("extra.reports", reports)?;
    let targets = integer("extra.targets", targets)?;
    let mut event = new_event(report);
    set_id(&mut event, FieldId::SOURCE_IP, &address)?;
    if let Some(asn) = asn {
        set_value(&mut event, FieldId::SOURCE_ASN, Value::Int(i64::from(asn)))?;
    }
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "brute-force")?;
    let mut time = String::with_capacity(updated.len() + 2);
    time.push_str(updated);
    time.push_str("+0");
    let time = timefmt::fuzzy(&time)
        .ok_or_else(|| LineError::field("time.source", format!("cannot parse the time {updated:?}")))?;
    set_time(&mut event, FieldId::TIME_SOURCE, time)?;
    set_json(&mut event, "extra.reports", serde_json::Value::from(reports))?;
    set_json(&mut event, "extra.targets", serde_json::Value::from(targets))?;
    set(&mut event, "extra.last_seen", last_seen)?;
    Ok(event)
}
