//! AlienVault IP reputation list (IntelMQ's `AlienVaultParserBot`).
//!
//! `#`-separated lines `IP # reliability # risk # types # CC # city # lat,long # …`.
//! One event per type (types separated by `;`), its `classification.type` from IntelMQ's
//! table (`Malicious Host` → `infected-system`, `Scanning Host` → `scanner`, …, anything
//! else `undetermined`), with `source.ip`, `source.geolocation.cc`,
//! `source.geolocation.city`, the latitude and longitude, and the stripped line as `raw` (its
//! first 4 KiB when a line of very many types would repeat more than 64 MiB in its events).
//!
//! Difference from IntelMQ 3.5.0 (deliberate): a line without coordinates gives events
//! without latitude and longitude; IntelMQ fails such a line with a `NameError`.

use neretva_event::FieldId;

use crate::parsers::common::repeated_raw;
use crate::parsers::lists::support::{
    LineError, for_each_line, new_event, push, py_strip, set_id, set_indicator,
};
use crate::{Event, FeedParser, Parsed, Report};

/// The AlienVault IP reputation list.
pub struct AlienVault;

fn classification(kind: &str) -> &'static str {
    match kind.to_lowercase().as_str() {
        "c2server" => "c2-server",
        "scanning host" => "scanner",
        "malicious host" => "infected-system",
        "spamming" => "spam",
        "malware domain" | "malware ip" | "malware distribution" => "malware-distribution",
        _ => "undetermined",
    }
}

impl FeedParser for AlienVault {
    fn name(&self) -> &'static str {
        "alienvault"
    }

    fn description(&self) -> &'static str {
        "AlienVault IP reputation list"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        for_each_line(&report.raw, &mut parsed, None, |parsed, number, line| {
            let mut values = [""; 7];
            let mut count = 0;
            for value in line.split('#') {
                if count < values.len() {
                    values[count] = value;
                }
                count += 1;
            }
            if count < 7 {
                parsed.error(
                    number,
                    None,
                    format!("expected at least 7 `#`-separated columns, found {count}"),
                    line,
                );
                return;
            }
            // IntelMQ splits at `;` only when it is not the first character.
            let kinds = values[3];
            let split = py_strip(kinds).find(';').is_some_and(|index| index > 0);
            if split {
                let raw = repeated_raw(line, kinds.split(';').count());
                for kind in kinds.split(';') {
                    let outcome = event(report, &values, kind);
                    push(parsed, number, raw, line, outcome);
                }
            } else {
                let outcome = event(report, &values, kinds);
                push(parsed, number, line, line, outcome);
            }
        });
        parsed
    }
}

fn event(report: &Report, values: &[&str; 7], kind: &str) -> Result<Event, LineError> {
    let mut event = new_event(report);
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, classification(kind))?;
    set_indicator(&mut event, FieldId::SOURCE_IP, py_strip(values[0]))?;
    let cc = py_strip(values[4]);
    if !cc.is_empty() {
        set_id(&mut event, FieldId::SOURCE_GEOLOCATION_CC, cc)?;
    }
    let city = py_strip(values[5]);
    if !city.is_empty() {
        set_id(&mut event, FieldId::SOURCE_GEOLOCATION_CITY, city)?;
    }
    let coordinates = py_strip(values[6]);
    if !coordinates.is_empty() {
        let mut parts = coordinates.split(',');
        if let (Some(latitude), Some(longitude), None) = (parts.next(), parts.next(), parts.next()) {
            set_id(&mut event, FieldId::SOURCE_GEOLOCATION_LATITUDE, py_strip(latitude))?;
            set_id(&mut event, FieldId::SOURCE_GEOLOCATION_LONGITUDE, py_strip(longitude))?;
        }
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use crate::{FeedParser, Report};

    #[test]
    fn a_line_of_very_many_types_does_not_repeat_itself_in_each_event() {
        // 30,000 types on a line of about 450 KB: 13 GB if each event repeated the line.
        let kinds = vec!["Scanning Host"; 30_000].join(";");
        let line = format!("192.0.2.7#4#2#{kinds}#BA#Sarajevo#43.8,18.4#11");
        let parsed = super::AlienVault.parse(&Report::new("alienvault", None, line.into_bytes()));
        assert_eq!(parsed.events.len(), 30_000);
        assert!(parsed.events.iter().all(|e| e.raw.len() <= 4096));
    }
}
