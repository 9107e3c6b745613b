//! Feeds of CZ.NIC, the Czech registry's CERT and laboratory, open to every CERT:
//!
//! - **HaaS** (`cznic-haas`, Honeypot as a Service): the day's SSH honeypot sessions, a JSON list
//!   of `{time, ip, country, login_successful, commands, time_closed}`, as IntelMQ 3.5.0's
//!   `CZNICHaasParserBot` reads it. Each session is `source.ip` attacking SSH (`tcp`, `ssh`,
//!   `destination.port` 22) at `time.source`, with `extra.time_closed` and `extra.commands`; a
//!   successful login is `system-compromise`, a failed one `brute-force` with `extra.count` 1.
//!   `raw` is IntelMQ's `recover_line_json` of the session.
//! - **Turris greylist** (`turris-greylist`): the addresses Turris routers saw attacking, CSV
//!   `Address,Tags` (`#` comments), as IntelMQ's `TurrisGreylistParserBot` reads it. Each tag
//!   `ftp`, `http`, `smtp` or `telnet` of an address is a `brute-force` event (`tcp`, the tag as
//!   `protocol.application`, its port but for `smtp`, which uses two), `port_scan` a `scanner`
//!   event; other tags (HaaS's, which the HaaS feed reports better) give none. `raw` is the
//!   header and the row (its first 4 KiB when a row of very many tags would repeat more than
//!   64 MiB in its events).
//! - **Proki** (`cznic-proki`): the events CZ.NIC gathers from other feeds about Czech networks
//!   and hands to the networks' owners, as IntelMQ's `CZNICProkiParserBot` reads them: the API's
//!   answer (`{"status": …, "data": [events]}`) or a list of events, each an object of IntelMQ
//!   field names and values. Each member goes into its field, but `feed.name` and
//!   `time.observation`, which describe the feed the event first came from, go into
//!   `extra.original_feed_name` and `extra.original_time_observation`. `raw` is IntelMQ's
//!   `recover_line_json` of the event. An event with a member that is not a field of IntelMQ's
//!   data format, or a value its field does not take, is an error. Deliberate difference: a
//!   member naming a field the report already set (`feed.accuracy`, say) replaces it; IntelMQ
//!   fails the event.

use neretva_event::FieldId;

use crate::parsers::common::feed_csv::{read_csv, readable};
use crate::parsers::common::json::{self, set_json_value};
use crate::parsers::common::repeated_raw;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(HaasParser), Box::new(TurrisGreylistParser), Box::new(ProkiParser)]
}

/// CZ.NIC Proki (`cznic-proki`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProkiParser;

/// CZ.NIC HaaS (`cznic-haas`).
#[derive(Debug, Clone, Copy, Default)]
pub struct HaasParser;

/// The Turris greylist (`turris-greylist`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TurrisGreylistParser;

impl FeedParser for HaasParser {
    fn name(&self) -> &'static str {
        "cznic-haas"
    }

    fn description(&self) -> &'static str {
        "CZ.NIC Honeypot as a Service: SSH honeypot sessions (JSON)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let mut parsed = Parsed::default();
        json::for_each_element(&text, &mut parsed, |parsed, line, item| {
            let raw = json::recover_line_json(item);
            let session = match serde_json::from_str::<serde_json::Value>(item) {
                Ok(serde_json::Value::Object(session)) => session,
                _ => return parsed.error(line, None, "not a JSON object", &raw),
            };
            match haas_event(report, &session) {
                Ok(mut event) => {
                    event.set_raw(raw.as_bytes());
                    parsed.events.push(ParsedEvent { event, line, raw });
                }
                Err((key, message)) => parsed.error(line, Some(key), message, &raw),
            }
        });
        parsed
    }
}

impl FeedParser for ProkiParser {
    fn name(&self) -> &'static str {
        "cznic-proki"
    }

    fn description(&self) -> &'static str {
        "CZ.NIC Proki: events about Czech networks, objects of IntelMQ fields (JSON)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let mut parsed = Parsed::default();
        // The API's answer holds the list in `data`.
        json::for_each_listed(&text, "data", &mut parsed, |parsed, line, item| {
            let raw = json::recover_line_json(item);
            let fields = match serde_json::from_str::<serde_json::Value>(item) {
                Ok(serde_json::Value::Object(fields)) => fields,
                _ => return parsed.error(line, None, "not a JSON object", &raw),
            };
            let mut event = report.new_event();
            let mut outcome = Ok(());
            for (key, value) in &fields {
                let field = match key.as_str() {
                    "feed.name" => "extra.original_feed_name",
                    "time.observation" => "extra.original_time_observation",
                    other => other,
                };
                outcome =
                    set_json_value(&mut event, field, value).map_err(|error| (key, error.value_and_reason()));
                if outcome.is_err() {
                    break;
                }
            }
            match outcome {
                Ok(()) => {
                    event.set_raw(raw.as_bytes());
                    parsed.events.push(ParsedEvent { event, line, raw });
                }
                Err((key, message)) => parsed.error(line, Some(key), message, &raw),
            }
        });
        parsed
    }
}

fn haas_event(
    report: &Report,
    session: &serde_json::Map<String, serde_json::Value>,
) -> Result<Event, (&'static str, String)> {
    let get = |key: &'static str| session.get(key).ok_or((key, format!("the session has no {key}")));
    let set = |event: &mut Event, key: &'static str, field: &str, value: &serde_json::Value| {
        set_json_value(event, field, value).map_err(|error| (key, error.to_string()))
    };
    let mut event = report.new_event();
    set(&mut event, "ip", "source.ip", get("ip")?)?;
    set(&mut event, "time", "time.source", get("time")?)?;
    let constants = [
        (FieldId::PROTOCOL_TRANSPORT, "tcp"),
        (FieldId::PROTOCOL_APPLICATION, "ssh"),
        (FieldId::DESTINATION_PORT, "22"),
    ];
    for (id, value) in constants {
        event.set_id(id, value).map_err(|error| ("(constant)", error.to_string()))?;
    }
    // As IntelMQ's `extra` set as a whole: the members as they are, empty lists too.
    for key in ["time_closed", "commands"] {
        if let Some(value) = session.get(key) {
            event
                .set_json(&format!("extra.{key}"), value.clone())
                .map_err(|error| (key, error.to_string()))?;
        }
    }
    let country = get("country")?;
    if json::truthy(country) {
        set(&mut event, "country", "source.geolocation.cc", country)?;
    }
    // A login is a compromise whether commands followed or not (IntelMQ reads `commands` then,
    // so a session without them fails).
    if json::truthy(get("login_successful")?) {
        get("commands")?;
        let _ = event.set_id(FieldId::CLASSIFICATION_TYPE, "system-compromise");
    } else {
        let _ = event.set_id(FieldId::CLASSIFICATION_TYPE, "brute-force");
        let _ = event.set_json("extra.count", serde_json::json!(1));
    }
    Ok(event)
}

/// Turris greylist tags that are brute force on a service, with the service's port.
const SERVICES: &[(&str, Option<&str>)] =
    &[("ftp", Some("21")), ("http", Some("80")), ("smtp", None), ("telnet", Some("23"))];

impl FeedParser for TurrisGreylistParser {
    fn name(&self) -> &'static str {
        "turris-greylist"
    }

    fn description(&self) -> &'static str {
        "Turris greylist: addresses Turris routers saw attacking (CSV)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        // The header's raw line and its `Address` and `Tags` columns (the last of repeated names,
        // as in Python's `DictReader`).
        let mut header: Option<(String, Option<usize>, Option<usize>)> = None;
        for line in read_csv(&report.raw, b',') {
            let Some(line) = readable(line, &mut parsed) else { continue };
            if line.comment {
                continue;
            }
            let Some((header_raw, address_column, tags_column)) = &header else {
                let column = |name: &str| line.fields.iter().rposition(|field| field == name);
                header = Some((line.raw.clone(), column("Address"), column("Tags")));
                continue;
            };
            parsed.records += 1;
            let get =
                |column: Option<usize>| column.and_then(|i| line.fields.get(i)).map_or("", String::as_str);
            let address = get(*address_column);
            let raw = format!("{header_raw}\n{}", line.raw);
            // A row of very many tags would repeat itself in as many events.
            let raw = repeated_raw(&raw, get(*tags_column).split(',').count()).to_owned();
            for tag in get(*tags_column).split(',') {
                let mut event = report.new_event();
                let result = match (tag, SERVICES.iter().find(|(service, _)| *service == tag)) {
                    (_, Some((service, port))) => brute_force(&mut event, service, *port),
                    ("port_scan", None) => event.set_id(FieldId::CLASSIFICATION_TYPE, "scanner"),
                    _ => continue,
                };
                let result = result.and_then(|()| event.set_id(FieldId::SOURCE_IP, address));
                match result {
                    Ok(()) => {
                        event.set_raw(raw.as_bytes());
                        parsed.events.push(ParsedEvent { event, line: line.line, raw: raw.clone() });
                    }
                    Err(error) => {
                        // The row fails once, as in IntelMQ, not once per tag.
                        parsed.error(line.line, Some("Address"), error.to_string(), &raw);
                        break;
                    }
                }
            }
        }
        parsed
    }
}

fn brute_force(
    event: &mut Event,
    service: &str,
    port: Option<&str>,
) -> Result<(), neretva_event::ValueError> {
    event.set_id(FieldId::PROTOCOL_TRANSPORT, "tcp")?;
    event.set_id(FieldId::PROTOCOL_APPLICATION, service)?;
    event.set_id(FieldId::CLASSIFICATION_TYPE, "brute-force")?;
    if let Some(port) = port {
        event.set_id(FieldId::DESTINATION_PORT, port)?;
    }
    Ok(())
}
