//! CERT-EU (`cert-eu`): the threat feed CERT-EU shares with the CERTs of the Union's
//! institutions and member states, a CSV report with a header (`feed code`, `source ip`,
//! `source time`, `observation time`, `tlp`, `description`, `type`, …, `version`), as IntelMQ
//! 3.5.0's `CertEUCSVParserBot` reads it.
//!
//! CERT-EU's `type` is mapped to `classification.type` by IntelMQ's table (`botnet drone` and
//! `ransomware` an infected system, `malware url` malware distribution, `c2server` a C2 server,
//! `vulnerable service` a vulnerable system, `defacement` an unauthorised modification, …; a
//! type the table does not know is `other`, and `dropzone` is also
//! `classification.identifier`). The source's address, network, AS, AS name, domain, URL,
//! abuse contact, city, country, coordinates and GeoIP country code, the destination port, the
//! protocol, `tlp`, `description` and `target` go into their fields; `feed code`
//! (`extra.datasource`), the observation time (`extra.cert_eu_time_observation`, read as a
//! time and written in UTC, left out when it is none), `first seen`, `last seen`,
//! `expiration date`, `count` and the geohash into `extra.*`, `status` into `status`. `confidence level` scales the feed's
//! accuracy (100 when the feed has none): a feed of accuracy 50 and a row of confidence 51 give
//! `feed.accuracy` 25.5. Lines starting with `#` are skipped. The event's `raw` is the header
//! and the row written again as Python's `csv.DictWriter` writes them, with the report's line
//! ending, as IntelMQ's `recover_line_csv_dict`; the stored line is the row as it stands.
//!
//! A row fails when its version is neither `1.5` nor empty, its confidence or count is not a
//! number, or a value of the source's address, network, AS, times, TLP or the other fields does
//! not fit its field; a report whose header lacks one of the columns read fails every row.
//!
//! Deliberate differences from IntelMQ:
//! - `threat type`, `ns1`, `ns2`, `response` and `recent`, which IntelMQ fails a row for
//!   ("Unable to parse field"), are kept as `extra.threat_type`, `extra.ns1`, `extra.ns2`,
//!   `extra.response` and `extra.recent`, so a row CERT-EU adds them to is not lost.
//! - A row with more values than the header has names fails with the counts named (IntelMQ
//!   fails it while writing `raw`).

use std::collections::HashMap;

use neretva_event::{FieldId, Value};

use crate::parsers::generic::pycsv::{self, Record};
use crate::parsers::shadowserver::convert::py_int;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(CertEuParser)]
}

/// CERT-EU's CSV feed (`cert-eu`).
#[derive(Debug, Clone, Copy, Default)]
pub struct CertEuParser;

/// Every column IntelMQ reads; a header without one of them fails every row.
const COLUMNS: &[&str] = &[
    "version",
    "feed code",
    "source ip",
    "source bgp prefix",
    "observation time",
    "tlp",
    "description",
    "type",
    "count",
    "source time",
    "source country",
    "protocol",
    "destination port",
    "source latitude",
    "source city",
    "source cc",
    "source longitude",
    "source geohash",
    "first seen",
    "confidence level",
    "last seen",
    "expiration date",
    "status",
    "target",
    "url",
    "abuse contact",
    "source asn",
    "source as name",
    "domain name",
];

/// The columns IntelMQ cannot map, kept as `extra.*` members.
const UNMAPPED: &[(&str, &str)] = &[
    ("threat type", "extra.threat_type"),
    ("ns1", "extra.ns1"),
    ("ns2", "extra.ns2"),
    ("response", "extra.response"),
    ("recent", "extra.recent"),
];

/// CERT-EU's types and IntelMQ's classification types (IntelMQ's `ABUSE_TO_INTELMQ`).
const TYPES: &[(&str, &str)] = &[
    ("backdoor", "system-compromise"),
    ("blacklist", "blacklist"),
    ("botnet drone", "infected-system"),
    ("brute-force", "brute-force"),
    ("c2server", "c2-server"),
    ("compromised server", "system-compromise"),
    ("ddos infrastructure", "ddos"),
    ("ddos target", "ddos"),
    ("defacement", "unauthorised-information-modification"),
    ("dropzone", "other"),
    ("exploit url", "exploit"),
    ("ids alert", "ids-alert"),
    ("malware-configuration", "malware-configuration"),
    ("malware url", "malware-distribution"),
    ("phishing", "phishing"),
    ("ransomware", "infected-system"),
    ("scanner", "scanner"),
    ("spam infrastructure", "spam"),
    ("test", "test"),
    ("vulnerable service", "vulnerable-system"),
];

/// Fields set from a column as IntelMQ's `event.add` does (a value the field does not take
/// fails the row), in IntelMQ's order around the rest.
const FIELDS_BEFORE: &[(&str, FieldId)] =
    &[("source ip", FieldId::SOURCE_IP), ("source bgp prefix", FieldId::SOURCE_NETWORK)];
const FIELDS_AFTER: &[(&str, FieldId)] = &[
    ("source time", FieldId::TIME_SOURCE),
    ("source country", FieldId::SOURCE_GEOLOCATION_COUNTRY),
    ("protocol", FieldId::PROTOCOL_APPLICATION),
    ("destination port", FieldId::DESTINATION_PORT),
    ("source latitude", FieldId::SOURCE_GEOLOCATION_LATITUDE),
    ("source city", FieldId::SOURCE_GEOLOCATION_CITY),
    ("source cc", FieldId::SOURCE_GEOLOCATION_GEOIP_CC),
    ("source longitude", FieldId::SOURCE_GEOLOCATION_LONGITUDE),
];
const FIELDS_LAST: &[(&str, FieldId)] = &[
    ("target", FieldId::EVENT_DESCRIPTION_TARGET),
    ("url", FieldId::SOURCE_URL),
    ("abuse contact", FieldId::SOURCE_ABUSE_CONTACT),
    ("source asn", FieldId::SOURCE_ASN),
    ("source as name", FieldId::SOURCE_AS_NAME),
    ("domain name", FieldId::SOURCE_FQDN),
];

/// Texts kept as `extra.*` members as they stand.
const EXTRA_TEXTS: &[(&str, &str)] = &[
    ("first seen", "extra.first_seen"),
    ("last seen", "extra.last_seen"),
    ("expiration date", "extra.expiration_date"),
];

/// A row's problem: the column and the message.
type RowError = (&'static str, String);

impl FeedParser for CertEuParser {
    fn name(&self) -> &'static str {
        "cert-eu"
    }

    fn description(&self) -> &'static str {
        "CERT-EU threat feed (CSV): infected, malicious and vulnerable hosts with CERT-EU's types"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let decoded = String::from_utf8_lossy(&report.raw);
        let stripped = neretva_event::py_strip(&decoded);
        // The lines Python's strip took from the start, so numbers stay the report's.
        let offset = stripped.as_ptr() as usize - decoded.as_ptr() as usize;
        let skipped_lines = decoded[..offset].matches('\n').count() as u64;
        let text = stripped.replace('\0', "");
        let ending = pycsv::line_ending(&text);
        let kept = without_comments(&text, skipped_lines);
        let mut reader = pycsv::Reader::new(&kept.text, ',');
        let mut record = Record::default();
        if reader.read(&mut record).is_none() {
            return parsed;
        }
        let header: Vec<String> = record.iter().map(str::to_owned).collect();
        // Each name's column, the last of repeated names winning as in Python's `DictReader`.
        let columns: HashMap<&str, usize> =
            header.iter().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
        let missing = COLUMNS.iter().find(|name| !columns.contains_key(*name));
        let mut raw_header = String::new();
        pycsv::write_record(&mut raw_header, header.iter().map(String::as_str), ending);
        loop {
            let start = kept.text.len() - reader.rest().len();
            let Some((_, text)) = reader.read(&mut record) else { break };
            if record.is_empty() {
                continue; // a blank line, which `DictReader` skips
            }
            parsed.records += 1;
            let line = kept.original_line(start);
            let line_text = text.trim_end_matches(['\r', '\n']);
            if let Some(column) = missing {
                parsed.error(line, Some(column), format!("the header has no column {column:?}"), line_text);
                continue;
            }
            if record.len() > header.len() {
                let message =
                    format!("{} values, but the header names {} columns", record.len(), header.len());
                parsed.error(line, None, message, line_text);
                continue;
            }
            // A short row's missing values are Python's `None`.
            let get = |name: &str| columns.get(name).and_then(|&i| record.get(i));
            match event(report, &get) {
                Ok(mut event) => {
                    let mut raw = raw_header.clone();
                    // `DictWriter` writes each name's value, so a repeated name's last column
                    // fills every column of that name.
                    let values = header.iter().map(|name| get(name).unwrap_or_default());
                    pycsv::write_record(&mut raw, values, ending);
                    event.set_raw(neretva_event::py_strip(&raw).as_bytes());
                    parsed.events.push(ParsedEvent { event, line, raw: line_text.to_owned() });
                }
                Err((column, message)) => parsed.error(line, Some(column), message, line_text),
            }
        }
        parsed
    }
}

/// The text without its lines starting with `#` (IntelMQ's `_ignore_lines_starting`), each kept
/// line with its number in the report (`skipped_lines` precede the text).
fn without_comments(text: &str, skipped_lines: u64) -> pycsv::KeptLines {
    let mut kept = pycsv::KeptLines::with_capacity(text.len());
    let mut rest = text;
    let mut number = skipped_lines;
    while !rest.is_empty() {
        let length = pycsv::physical_line_len(rest);
        let line = &rest[..length];
        rest = &rest[length..];
        number += 1;
        if line.starts_with('#') {
            continue;
        }
        kept.push(line, number);
    }
    kept
}

fn event<'a>(report: &Report, get: &dyn Fn(&str) -> Option<&'a str>) -> Result<Event, RowError> {
    let text = |name: &str| get(name).unwrap_or_default();
    let field = |event: &mut Event, column: &'static str, id: FieldId| {
        event.set_id(id, text(column)).map_err(|error| rejected(column, &error))
    };
    let member = |event: &mut Event, column: &'static str, name: &str, value: &str| {
        event.set(name, value).map_err(|error| rejected(column, &error))
    };
    let mut event = report.new_event();
    match get("version") {
        Some("1.5" | "") => {}
        Some(other) => return Err(("version", format!("unknown version {other:?}; 1.5 is read"))),
        None => return Err(("version", "the row has no version".to_owned())),
    }
    for (column, name) in UNMAPPED {
        member(&mut event, column, name, text(column))?;
    }
    member(&mut event, "feed code", "extra.datasource", text("feed code"))?;
    for (column, id) in FIELDS_BEFORE {
        field(&mut event, column, *id)?;
    }
    // IntelMQ's `DateTime.sanitize`: a time that cannot be read is left out.
    if let Some(observed) = neretva_event::parse_time(text("observation time")) {
        let observed = neretva_event::format_time(observed);
        member(&mut event, "observation time", "extra.cert_eu_time_observation", &observed)?;
    }
    field(&mut event, "tlp", FieldId::TLP)?;
    field(&mut event, "description", FieldId::EVENT_DESCRIPTION_TEXT)?;
    let kind = text("type");
    let class = TYPES.iter().find(|(name, _)| *name == kind).map_or("other", |(_, class)| class);
    event.set_id(FieldId::CLASSIFICATION_TYPE, class).map_err(|error| rejected("type", &error))?;
    if kind == "dropzone" {
        event
            .set_id(FieldId::CLASSIFICATION_IDENTIFIER, "dropzone")
            .map_err(|error| rejected("type", &error))?;
    }
    let count = text("count");
    if !count.is_empty() {
        let count = py_int(count).ok_or_else(|| ("count", format!("{count:?} is not a number")))?;
        event.set_json("extra.count", count.into()).map_err(|error| rejected("count", &error))?;
    }
    for (column, id) in FIELDS_AFTER {
        field(&mut event, column, *id)?;
    }
    member(&mut event, "source geohash", "extra.source.geolocation.geohash", text("source geohash"))?;
    let confidence = text("confidence level");
    let confidence =
        py_int(confidence).ok_or_else(|| ("confidence level", format!("{confidence:?} is not a number")))?;
    let accuracy = report.feed_accuracy.unwrap_or(100.0) * confidence as f64 / 100.0;
    event
        .set_value_id(FieldId::FEED_ACCURACY, Value::Float(accuracy))
        .map_err(|error| rejected("confidence level", &error))?;
    for (column, name) in EXTRA_TEXTS {
        member(&mut event, column, name, text(column))?;
    }
    if !text("status").is_empty() {
        field(&mut event, "status", FieldId::STATUS)?;
    }
    for (column, id) in FIELDS_LAST {
        field(&mut event, column, *id)?;
    }
    Ok(event)
}

/// A value its field does not take, named by its column: `"300.1.1.1" is not an IP address`.
fn rejected(column: &'static str, error: &neretva_event::ValueError) -> RowError {
    (column, error.value_and_reason())
}
