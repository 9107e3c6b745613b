//! Fraunhofer FKIE's DGArchive (IntelMQ's `FraunhoferDGAParserBot`).
//!
//! The domains (and addresses) that domain generation algorithms produce today, a JSON object
//! whose keys name the algorithm and seed (`banjori_dga_andersensinaix.com_0x3c03`) and whose
//! values are lists of domains or addresses. Each entry is a `c2-server` event with
//! `malware.name` the key's part before its first `_`, `source.ip` when it is an address and
//! `source.fqdn` otherwise, and the entry as `raw`, in the order of the report. Records are
//! numbered by entry, as the report is one JSON document. An entry that is neither an address
//! nor a domain name is an error (IntelMQ fails the whole report).

use neretva_event::FieldId;

use crate::parsers::common::ordered_json::Json;
use crate::parsers::lists::support::{LineError, new_event, push, set_id, set_indicator, whole_text};
use crate::{Event, FeedParser, Parsed, Report};

/// The DGArchive feed.
pub struct FraunhoferDga;

impl FeedParser for FraunhoferDga {
    fn name(&self) -> &'static str {
        "fraunhofer-dga"
    }

    fn description(&self) -> &'static str {
        "Fraunhofer FKIE DGArchive: today's domains of domain generation algorithms (JSON)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let Some(text) = whole_text(&report.raw, &mut parsed) else { return parsed };
        let families = match serde_json::from_str::<Json>(text) {
            Ok(Json::Object(families)) => families,
            Ok(_) => {
                parsed.error(1, None, "not a JSON object of algorithms", crate::truncate(text, 4096));
                return parsed;
            }
            Err(error) => {
                parsed.error(
                    error.line() as u64,
                    None,
                    format!("malformed JSON: {error}"),
                    crate::truncate(text, 4096),
                );
                return parsed;
            }
        };
        let mut number = 0;
        for (key, entries) in families {
            let malware = key.split('_').next().unwrap_or_default();
            let entries = match entries.into_value() {
                serde_json::Value::Array(entries) => entries,
                other => {
                    number += 1;
                    parsed.records += 1;
                    let message = format!("the entries of {key:?} are not a list");
                    parsed.error(number, None, message, crate::truncate(&other.to_string(), 4096));
                    continue;
                }
            };
            for entry in entries {
                number += 1;
                parsed.records += 1;
                let text = match &entry {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                let outcome = event(report, malware, &entry);
                push(&mut parsed, number, &text, &text, outcome);
            }
        }
        parsed
    }
}

fn event(report: &Report, malware: &str, entry: &serde_json::Value) -> Result<Event, LineError> {
    let Some(entry) = entry.as_str() else {
        return Err(LineError::line(format!("{entry} is not a domain name or address")));
    };
    let mut event = new_event(report);
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "c2-server")?;
    set_id(&mut event, FieldId::MALWARE_NAME, malware)?;
    if event.set_id(FieldId::SOURCE_IP, entry).is_err() || event.get_id(FieldId::SOURCE_IP).is_none() {
        set_indicator(&mut event, FieldId::SOURCE_FQDN, entry)?;
    }
    Ok(event)
}
