//! CertStream (`certstream`): the certificates that Certificate Transparency logs record, as
//! Calidog's CertStream sends them, one message per report (what IntelMQ's CertStream collector
//! writes) or JSON lines of messages; read as IntelMQ 3.5.0's `CertStreamParserBot` reads them.
//! A CERT watches it for certificates of its constituents' domains and of look-alikes of them.
//!
//! Every domain of a certificate (`data.leaf_cert.all_domains`) is an event of
//! `classification.type` `other` with `source.fqdn` the domain (`source.ip` when it is an
//! address) and `time.source` the message's `data.seen` (seconds since the epoch); `raw` is
//! the message. A message without a certificate (CertStream's heartbeats) gives no event; a
//! domain neither field takes, or a message without `seen`, is an error.
//!
//! Deliberate differences from IntelMQ: a wildcard name (`*.example.com`) is `source.fqdn`
//! `example.com` with `extra.wildcard` `true` (IntelMQ fails it, and wildcard certificates are
//! among those a CERT looks for); a message without `data` is one without a certificate (IntelMQ
//! fails the report).

use serde_json::Value;

use crate::parsers::common::json::for_each_document;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(CertStreamParser)]
}

/// CertStream messages (`certstream`).
#[derive(Debug, Clone, Copy, Default)]
pub struct CertStreamParser;

impl FeedParser for CertStreamParser {
    fn name(&self) -> &'static str {
        "certstream"
    }

    fn description(&self) -> &'static str {
        "CertStream: certificates from Certificate Transparency logs, one event per domain (JSON)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let mut parsed = Parsed::default();
        for_each_document(&text, &mut parsed, |parsed, line, raw, message: Value| {
            if !message.is_object() {
                return parsed.error(
                    line,
                    None,
                    "a message is not a JSON object",
                    crate::truncate(raw, 4096),
                );
            }
            let data = message.get("data");
            let Some(domains) =
                data.and_then(|d| d.pointer("/leaf_cert/all_domains")).and_then(Value::as_array)
            else {
                return; // a heartbeat, or a message of another type
            };
            let seen = data.and_then(|d| d.get("seen")).and_then(seconds);
            for domain in domains {
                match event(report, seen, domain) {
                    Ok(mut event) => {
                        event.set_raw(raw.as_bytes());
                        parsed.events.push(ParsedEvent { event, line, raw: raw.to_owned() });
                    }
                    Err((field, message)) => {
                        parsed.error(line, Some(field), message, crate::truncate(raw, 4096))
                    }
                }
            }
        });
        parsed
    }
}

/// `data.seen` in whole seconds (IntelMQ's `int()` of it), as a time.
fn seconds(value: &Value) -> Option<time::OffsetDateTime> {
    let seconds = match value {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.trunc() as i64))
        }
        Value::String(s) => crate::parsers::shadowserver::convert::py_int(s),
        _ => None,
    }?;
    time::OffsetDateTime::from_unix_timestamp(seconds).ok()
}

fn event(
    report: &Report,
    seen: Option<time::OffsetDateTime>,
    domain: &Value,
) -> Result<Event, (&'static str, String)> {
    let seen = seen.ok_or(("time.source", "the message has no `data.seen` time".to_owned()))?;
    let domain = domain.as_str().ok_or(("source.fqdn", format!("{domain} is not a domain name")))?;
    let mut event = report.new_event();
    let _ = event.set_value_id(neretva_event::FieldId::TIME_SOURCE, neretva_event::Value::Time(seen));
    let _ = event.set_id(neretva_event::FieldId::CLASSIFICATION_TYPE, "other");
    let (name, wildcard) = match domain.strip_prefix("*.") {
        Some(name) => (name, true),
        None => (domain, false),
    };
    if event.set_id(neretva_event::FieldId::SOURCE_FQDN, name).is_err() || !event.contains("source.fqdn") {
        event
            .set_id(neretva_event::FieldId::SOURCE_IP, domain)
            .map_err(|_| ("source.fqdn", format!("{domain:?} is neither a domain name nor an IP address")))?;
    } else if wildcard {
        let _ = event.set_json("extra.wildcard", Value::Bool(true));
    }
    Ok(event)
}
