//! CertStream (`certstream`): the certificates that Certificate Transparency logs record, as
//! Calidog's CertStream sends them, one message per report (what IntelMQ's CertStream collector
//! writes) or JSON lines of messages; read as IntelMQ 3.5.0's `CertStreamParserBot` reads them.
//! A CERT watches it for certificates of its constituents' domains and of look-alikes of them.
//!
//! Every domain of a certificate (`data.leaf_cert.all_domains`) is an event of
//! `classification.type` `other` with `source.fqdn` the domain (`source.ip` when it is an
//! address) and `time.source` the message's `data.seen` (seconds since the epoch); `raw` is
//! the message (for a message so large that its events would repeat more than 64 MiB of it, the
//! certificate's `cert_index`, `cert_link` and `seen` with the domain). A message without a certificate (CertStream's heartbeats) gives no event; a
//! domain neither field takes, or a message without `seen`, is an error.
//!
//! Deliberate differences from IntelMQ: a wildcard name (`*.example.com`) is `source.fqdn`
//! `example.com` with `extra.wildcard` `true` (IntelMQ fails it, and wildcard certificates are
//! among those a CERT looks for); a message without `data` is one without a certificate (IntelMQ
//! fails the report).

use serde_json::Value;

use crate::parsers::common::json::{for_each_document, unix_time};
use crate::parsers::common::{pyjson, repeatable};
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
            let seen = data.and_then(|d| d.get("seen")).and_then(unix_time);
            // Each domain's event repeats the message, unless that would repeat too much.
            let whole = repeatable(domains.len(), raw.len());
            for domain in domains {
                match event(report, seen, domain) {
                    Ok(mut event) => {
                        let raw = if whole { raw.to_owned() } else { short_raw(data, domain) };
                        event.set_raw(raw.as_bytes());
                        parsed.events.push(ParsedEvent { event, line, raw });
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

/// The `raw` of a domain of a message too large to repeat in each of its events: the
/// certificate's place in its log, its time and the domain, as `json.dumps(…, sort_keys=True)`.
fn short_raw(data: Option<&Value>, domain: &Value) -> String {
    let member = |key: &str| data.and_then(|d| d.get(key)).cloned().unwrap_or(Value::Null);
    let short = serde_json::json!({
        "cert_index": member("cert_index"),
        "cert_link": member("cert_link"),
        "domain": domain,
        "seen": member("seen"),
    });
    pyjson::dumps(&short)
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

#[cfg(test)]
mod tests {
    use crate::{FeedParser, Report};

    fn message(domains: &[String]) -> Vec<u8> {
        let message = serde_json::json!({"message_type": "certificate_update", "data": {
            "cert_index": 7, "cert_link": "https://ct.example.net/7", "seen": 1795941302.5,
            "leaf_cert": {"all_domains": domains}}});
        message.to_string().into_bytes()
    }

    #[test]
    fn a_message_too_large_to_repeat_gives_short_raws() {
        let few: Vec<String> = (0..3).map(|i| format!("host{i}.example.com")).collect();
        let parsed = super::CertStreamParser.parse(&Report::new("certstream", None, message(&few)));
        assert!(parsed.events.iter().all(|e| e.raw.contains("all_domains")), "the whole message");

        // 5,000 domains in a message of about 130 KB: 650 MB if each event repeated it.
        let many: Vec<String> = (0..5_000).map(|i| format!("host-{i:05}.sub.example.com")).collect();
        let parsed = super::CertStreamParser.parse(&Report::new("certstream", None, message(&many)));
        assert_eq!(parsed.events.len(), 5_000);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let total: usize = parsed.events.iter().map(|e| e.raw.len()).sum();
        assert!(total < 1 << 20, "{total} bytes of raw text");
        let last = &parsed.events[4_999];
        assert_eq!(
            last.raw,
            r#"{"cert_index": 7, "cert_link": "https://ct.example.net/7", "domain": "host-04999.sub.example.com", "seen": 1795941302.5}"#
        );
    }
}
