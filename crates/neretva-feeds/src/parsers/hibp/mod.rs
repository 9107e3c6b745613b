//! Have I Been Pwned's callbacks for domain owners (`hibp-callback`): what HIBP posts when
//! addresses of a verified domain appear in a breach or a paste, as IntelMQ 3.5.0's
//! `HIBPCallbackParserBot` reads them.
//!
//! A report is one callback, a JSON object with `Domain`, `DomainEmails` and either `Breach` (an
//! object, or a list of them in HIBP's test callback) or `Paste` (a list), and in the test
//! callback `Email` (a JSON list of such objects is read too). Each distinct address of `Email`
//! and `DomainEmails`, in sorted order, gives one event: `source.account` the address,
//! `source.fqdn` the domain, `extra.domain_emails` all of them, `extra.breach` or `extra.paste`
//! as HIBP sent it, `classification.identifier` `breach` or `paste`, type `data-leak`
//! (taxonomy `information-content-security`), and `time.source` the breach's `AddedDate` when
//! `Breach` is one object. A callback without any address gives no event. `raw` is the callback
//! as Python's `json.dumps(…, sort_keys=True)` writes it. A callback so large that its events
//! would repeat more than 64 MiB of it (a hostile one, or a breach of a very large domain) gives
//! events without `extra.domain_emails`, `extra.breach` and `extra.paste`, with
//! `extra.domain_emails_count` and the callback's first 4 KiB as `raw`; the whole callback stays
//! in the stored report.
//!
//! Deliberate difference from IntelMQ: a JSON list of callbacks is read, each as one record
//! (IntelMQ reads one object per report).

use std::collections::BTreeSet;

use neretva_event::FieldId;

use crate::parsers::common::{json, pyjson, repeatable};
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(HibpCallbackParser)]
}

/// Have I Been Pwned callbacks (`hibp-callback`).
#[derive(Debug, Clone, Copy, Default)]
pub struct HibpCallbackParser;

impl FeedParser for HibpCallbackParser {
    fn name(&self) -> &'static str {
        "hibp-callback"
    }

    fn description(&self) -> &'static str {
        "Have I Been Pwned callbacks for domain owners (breaches and pastes, JSON)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let mut parsed = Parsed::default();
        if text.trim_start().starts_with('[') {
            json::for_each_element(&text, &mut parsed, |parsed, line, item| {
                callback(report, parsed, line, item)
            });
        } else {
            parsed.records += 1;
            let line = 1 + text[..text.len() - text.trim_start().len()].matches('\n').count() as u64;
            callback(report, &mut parsed, line, &text);
        }
        parsed
    }
}

/// One callback: an event per address, or its error.
fn callback(report: &Report, parsed: &mut Parsed, line: u64, text: &str) {
    let value = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => value,
        Err(error) => return parsed.error(line, None, format!("malformed JSON: {error}"), text),
    };
    let Some(request) = value.as_object() else {
        return parsed.error(line, None, "not a JSON object", text);
    };
    let mut raw = String::new();
    pyjson::json_dumps(&mut raw, &value);
    match events(report, request, raw.len()) {
        Ok((events, whole)) => {
            // A callback too large to repeat in each of its events is kept whole in the report.
            let raw = if whole { raw } else { crate::truncate(&raw, 4096).to_owned() };
            for mut event in events {
                event.set_raw(raw.as_bytes());
                parsed.events.push(ParsedEvent { event, line, raw: raw.clone() });
            }
        }
        Err((key, message)) => parsed.error(line, Some(key), message, &raw),
    }
}

/// The events of a callback of `raw_len` bytes, and whether each carries the whole callback.
fn events(
    report: &Report,
    request: &serde_json::Map<String, serde_json::Value>,
    raw_len: usize,
) -> Result<(Vec<Event>, bool), (&'static str, String)> {
    let mut event = report.new_event();
    let domain = request.get("Domain").ok_or(("Domain", "the callback has no Domain".to_owned()))?;
    let set = |event: &mut Event, key: &'static str, field: &str, value: &serde_json::Value| {
        json::set_json_value(event, field, value).map_err(|error| (key, error.to_string()))
    };
    set(&mut event, "Domain", "source.fqdn", domain)?;
    let emails =
        request.get("DomainEmails").ok_or(("DomainEmails", "the callback has no DomainEmails".to_owned()))?;
    let Some(domain_emails) = emails.as_array() else {
        return Err(("DomainEmails", "DomainEmails is not a list".to_owned()));
    };
    set(&mut event, "DomainEmails", "extra.domain_emails", emails)?;
    let (breach, paste) = (request.get("Breach"), request.get("Paste"));
    if breach.is_some() && paste.is_some() {
        return Err(("Paste", "the callback has both a Breach and a Paste".to_owned()));
    }
    if let Some(breach) = breach {
        set(&mut event, "Breach", "extra.breach", breach)?;
        let _ = event.set_id(FieldId::CLASSIFICATION_IDENTIFIER, "breach");
        // A real callback's breach is one object; the test callback's a list of them.
        if let Some(added) = breach.get("AddedDate") {
            set(&mut event, "Breach", "time.source", added)?;
        }
    }
    if let Some(paste) = paste {
        set(&mut event, "Paste", "extra.paste", paste)?;
        let _ = event.set_id(FieldId::CLASSIFICATION_IDENTIFIER, "paste");
    }
    let _ = event.set_id(FieldId::CLASSIFICATION_TAXONOMY, "information-content-security");
    let _ = event.set_id(FieldId::CLASSIFICATION_TYPE, "data-leak");
    let mut accounts = BTreeSet::new();
    for email in request.get("Email").into_iter().chain(domain_emails) {
        match email {
            serde_json::Value::Null => {}
            serde_json::Value::String(text) if text.is_empty() => {}
            serde_json::Value::String(text) => {
                accounts.insert(text.as_str());
            }
            other => return Err(("DomainEmails", format!("{other} is not an address"))),
        }
    }
    let whole = repeatable(accounts.len(), raw_len);
    if !whole {
        // Every event would repeat the callback's lists: each keeps its own address instead.
        for member in ["extra.domain_emails", "extra.breach", "extra.paste"] {
            event.remove(member);
        }
        let _ = event.set_json("extra.domain_emails_count", domain_emails.len().into());
    }
    let mut events = Vec::with_capacity(accounts.len());
    for account in accounts {
        let mut one = event.clone();
        one.set_id(FieldId::SOURCE_ACCOUNT, account).map_err(|error| ("DomainEmails", error.to_string()))?;
        events.push(one);
    }
    Ok((events, whole))
}

#[cfg(test)]
mod tests {
    use crate::{FeedParser, Report};

    #[test]
    fn a_callback_too_large_to_repeat_keeps_each_address() {
        // 5,000 addresses, about 170 KB: 850 MB if each event repeated the callback and the list.
        let emails: Vec<String> = (0..5_000).map(|i| format!("employee.{i:05}@example.ba")).collect();
        let callback = serde_json::json!({"Domain": "example.ba", "DomainEmails": emails,
            "Breach": {"Name": "ExampleBreach", "AddedDate": "2026-11-01T10:00:00Z"}});
        let report = Report::new("hibp-callback", None, callback.to_string().into_bytes());
        let parsed = super::HibpCallbackParser.parse(&report);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.events.len(), 5_000);
        let total: usize = parsed.events.iter().map(|e| e.raw.len()).sum();
        assert!(total <= 5_000 * 4096, "{total} bytes of raw text");
        let event = &parsed.events[0].event;
        assert_eq!(
            event.get("source.account").map(ToString::to_string).as_deref(),
            Some("employee.00000@example.ba")
        );
        assert!(event.get("extra.domain_emails").is_none());
        assert_eq!(event.get("extra.domain_emails_count").map(ToString::to_string).as_deref(), Some("5000"));
        assert_eq!(
            event.get("classification.identifier").map(ToString::to_string).as_deref(),
            Some("breach")
        );
    }
}
