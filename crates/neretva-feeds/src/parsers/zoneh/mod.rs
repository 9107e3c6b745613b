//! Zone-H (`zoneh`): the defacements of a country's or network's web sites that Zone-H reports
//! to CERTs, a CSV report with a header (`add_date`, `accept_date`, `attacker`, `domain`,
//! `ip_address`, `system`, `web_server`, `hackmode`, `defacement_id`, `country_code`, …), as
//! IntelMQ 3.5.0's `ZoneHParserBot` reads it.
//!
//! Each row is `classification.type` `unauthorised-information-modification`, identifier
//! `compromised-website`, `event_description.text` `defacement`; `domain` (a URL, despite its
//! name) is `source.url`, its host `source.fqdn` and its scheme `protocol.application`;
//! `add_date` (UTC) is `time.source`, `ip_address` `source.ip`, `country_code`
//! `source.geolocation.cc`, and `extra.accepted_date`, `extra.actor` (`attacker`),
//! `extra.http_target` (`web_server`), `extra.os.name` (`system`), `extra.compromise_method`
//! (`hackmode`) and `extra.zoneh_report_id` (`defacement_id`) keep the rest. An address, host,
//! URL or country code the fields do not take is left out, as IntelMQ does; a row without a
//! readable `add_date`, or a report without one of the columns IntelMQ reads, is an error.
//! `raw` is the header and the row, as IntelMQ's `recover_line` writes them.

use std::collections::HashMap;

use neretva_event::FieldId;

use crate::parsers::common::feed_csv::{read_csv, readable};
use crate::parsers::common::url;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(ZoneHParser)]
}

/// Zone-H (`zoneh`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ZoneHParser;

/// The columns IntelMQ reads from every row; a report without one fails every row.
const REQUIRED: &[&str] = &[
    "add_date",
    "domain",
    "ip_address",
    "country_code",
    "attacker",
    "web_server",
    "system",
    "hackmode",
    "defacement_id",
];

/// Columns kept as `extra.*` members.
const EXTRA: &[(&str, &str)] = &[
    ("accept_date", "extra.accepted_date"),
    ("attacker", "extra.actor"),
    ("web_server", "extra.http_target"),
    ("system", "extra.os.name"),
    ("hackmode", "extra.compromise_method"),
    ("defacement_id", "extra.zoneh_report_id"),
];

impl FeedParser for ZoneHParser {
    fn name(&self) -> &'static str {
        "zoneh"
    }

    fn description(&self) -> &'static str {
        "Zone-H defacement reports (CSV)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let raw: Vec<u8> = report.raw.iter().copied().filter(|&b| b != 0).collect();
        let lines: Vec<_> =
            read_csv(&raw, b',').into_iter().filter_map(|line| readable(line, &mut parsed)).collect();
        let Some((header_line, rows)) = lines.split_first() else { return parsed };
        // Each name's column, the last of repeated names winning as in Python's `DictReader`.
        let columns: HashMap<&str, usize> =
            header_line.fields.iter().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
        let missing = REQUIRED.iter().find(|name| !columns.contains_key(*name));
        let last = rows.len().saturating_sub(1);
        for (index, row) in rows.iter().enumerate() {
            parsed.records += 1;
            // IntelMQ's `recover_line`: the header and the row, each with its line ending, but
            // the report's last line without (IntelMQ strips the report first).
            let ending = if index == last { "" } else { "\n" };
            let intelmq_raw = format!("{}\n{}{ending}", header_line.raw, row.raw);
            if let Some(column) = missing {
                parsed.error(
                    row.line,
                    Some(column),
                    format!("the header has no column {column:?}"),
                    &row.raw,
                );
                continue;
            }
            let get = |name: &str| columns.get(name).and_then(|&i| row.fields.get(i));
            match event(report, &get) {
                Ok(mut event) => {
                    event.set_raw(intelmq_raw.as_bytes());
                    parsed.events.push(ParsedEvent { event, line: row.line, raw: row.raw.clone() });
                }
                Err((column, message)) => parsed.error(row.line, Some(column), message, &row.raw),
            }
        }
        parsed
    }
}

fn event<'a>(
    report: &Report,
    get: &dyn Fn(&str) -> Option<&'a String>,
) -> Result<Event, (&'static str, String)> {
    let mut event = report.new_event();
    let constants = [
        (FieldId::CLASSIFICATION_IDENTIFIER, "compromised-website"),
        (FieldId::CLASSIFICATION_TYPE, "unauthorised-information-modification"),
        (FieldId::EVENT_DESCRIPTION_TEXT, "defacement"),
    ];
    for (id, value) in constants {
        event.set_id(id, value).map_err(|error| ("(constant)", error.to_string()))?;
    }
    let added = get("add_date").ok_or(("add_date", "the row has no add_date".to_owned()))?;
    event
        .set_id(FieldId::TIME_SOURCE, &format!("{added} UTC"))
        .map_err(|error| ("add_date", error.to_string()))?;
    let url = get("domain").map_or("", String::as_str);
    let parts = url::split(url);
    // Values the fields do not take are left out (IntelMQ's `raise_failure=False`).
    let optional = [
        (FieldId::SOURCE_IP, get("ip_address").map_or("", String::as_str)),
        (FieldId::SOURCE_FQDN, parts.netloc),
        (FieldId::SOURCE_GEOLOCATION_CC, get("country_code").map_or("", String::as_str)),
        (FieldId::SOURCE_URL, url),
    ];
    for (id, value) in optional {
        let _ = event.set_id(id, value);
    }
    event
        .set_id(FieldId::PROTOCOL_APPLICATION, &parts.scheme)
        .map_err(|error| ("domain", error.to_string()))?;
    for (column, name) in EXTRA {
        if let Some(value) = get(column) {
            event.set(name, value).map_err(|error| (*column, error.to_string()))?;
        }
    }
    Ok(event)
}
