//! Team Cymru CAP program (IntelMQ's `CymruCAPProgramParserBot`), old and new format.
//!
//! Pipe-separated lines `category|address|asn|timestamp|notes|AS info` after `#`
//! comments. The comments decide the format: `generated on` means the new one (notes are
//! `key: value;` pairs, the AS info ends with the country code), `Data file written at`
//! the old one (notes are free text per category). Each line gives `source.ip`,
//! `source.asn` (unless 0), `time.source` (UTC), `source.as_name` and the category's
//! classification; the notes add malware names, ports, protocols, addresses, host names,
//! URLs and accounts. A new-format line listing several destination ports gives one event
//! per port. `raw` is, as in IntelMQ, the comment lines seen so far and the line, joined
//! by line feeds (within the budget of `support::Comments` and `common::repeated_raw`).
//!
//! Differences from IntelMQ 3.5.0, all deliberate:
//! - Old-format `spreaders` lines are parsed (`source.url`, `malware.hash.md5`); IntelMQ
//!   fails them all on a bug (`len(comment_split == 2)`).
//! - Setting a field twice overwrites it; IntelMQ fails a line that names `protocol`
//!   twice.

use neretva_event::FieldId;

use crate::parsers::common::repeated_raw;
use crate::parsers::lists::support::{
    Comments, LineError, Lines, invalid_utf8, new_event, push, py_strip, set, set_id, set_indicator,
    set_json, set_time,
};
use crate::parsers::lists::timefmt;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// The Team Cymru CAP program feed.
pub struct CymruCap;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    /// No `generated on` or `Data file written at` comment seen yet.
    Unknown,
    Old,
    New,
}

impl FeedParser for CymruCap {
    fn name(&self) -> &'static str {
        "cymru-cap"
    }

    fn description(&self) -> &'static str {
        "Team Cymru CAP program reports (old and new format)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let mut format = Format::Unknown;
        // The comment lines seen so far: the prefix of `raw`.
        let mut header = Comments::default();
        for (number, bytes) in Lines::new(&report.raw) {
            let Ok(text) = std::str::from_utf8(bytes) else {
                invalid_utf8(&mut parsed, number, bytes);
                continue;
            };
            let line = py_strip(text);
            if line.starts_with('#') {
                header.push(line);
                if line.contains("generated on") {
                    format = Format::New;
                } else if line.contains("Data file written at") {
                    format = Format::Old;
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            parsed.records += 1;
            let raw = header.raw(line);
            let outcome = match format {
                Format::Old => old_line(report, line).map(|event| vec![event]),
                Format::New => new_line(report, line),
                Format::Unknown => Err(LineError::line(
                    "unknown format: no `generated on` (new) or `Data file written at` (old) \
                     comment before the first data line",
                )),
            };
            match outcome {
                Ok(events) => {
                    let raw = repeated_raw(&raw, events.len());
                    for mut event in events {
                        event.set_raw(raw.as_bytes());
                        parsed.events.push(ParsedEvent { event, line: number, raw: raw.to_owned() });
                    }
                }
                Err(error) => push(&mut parsed, number, &raw, line, Err(error)),
            }
        }
        parsed
    }
}

/// The six columns; both formats have them.
fn columns(line: &str) -> Result<[&str; 6], LineError> {
    let mut columns = [""; 6];
    let mut count = 0;
    for column in line.split('|') {
        if count < 6 {
            columns[count] = column;
        }
        count += 1;
    }
    if count != 6 {
        return Err(LineError::line(format!("expected 6 `|`-separated columns, found {count}")));
    }
    Ok(columns)
}

fn common(report: &Report, ip: &str, asn: &str, timestamp: &str) -> Result<Event, LineError> {
    let mut event = new_event(report);
    set_indicator(&mut event, FieldId::SOURCE_IP, ip)?;
    if asn != "0" {
        set_id(&mut event, FieldId::SOURCE_ASN, asn)?;
    }
    let time = timefmt::ymd_hms(timestamp)
        .or_else(|| timefmt::fuzzy(timestamp))
        .ok_or_else(|| LineError::field("time.source", format!("cannot parse the time {timestamp:?}")))?;
    set_time(&mut event, FieldId::TIME_SOURCE, time)?;
    Ok(event)
}

fn int_json(field: &str, text: &str) -> Result<serde_json::Value, LineError> {
    py_strip(text)
        .parse::<i64>()
        .map(serde_json::Value::from)
        .map_err(|_| LineError::field(field, format!("{text:?} is not an integer")))
}

/// IntelMQ's `parse_bot_old`: `[srcport <PORT>] [mwtype <TYPE>] [destaddr <IPADDR>]
/// [comment]`, where TYPE may contain spaces and words after the address are a comment.
fn bot_old(parts: &[&str], event: &mut Event) -> Result<(), LineError> {
    // (key, value) in first-seen order, later values replacing earlier ones.
    let mut results: Vec<(&str, String)> = Vec::new();
    let mut key: Option<&str> = None;
    let mut value: Vec<&str> = Vec::new();
    let mut comment: Vec<&str> = Vec::new();
    for part in parts.iter().copied().map(Some).chain(std::iter::once(None)) {
        match part {
            None | Some("srcport" | "mwtype" | "destaddr" | "dstaddr") => {
                if let Some(key) = key
                    && !value.is_empty()
                {
                    let joined = value.join(" ");
                    match results.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = joined,
                        None => results.push((key, joined)),
                    }
                }
                key = part;
                value.clear();
            }
            Some(part) => {
                if key == Some("destaddr") && value.len() == 1 {
                    comment.push(part);
                } else {
                    value.push(part);
                }
            }
        }
    }
    for (kind, value) in &results {
        match *kind {
            "srcport" => set_json(event, "extra.source_port", int_json("extra.source_port", value)?)?,
            "mwtype" => {
                let name = value.to_lowercase();
                set_id(event, FieldId::CLASSIFICATION_IDENTIFIER, &name)?;
                set_id(event, FieldId::MALWARE_NAME, &name)?;
            }
            _ => set_id(event, FieldId::DESTINATION_IP, value)?,
        }
    }
    if !comment.is_empty() {
        set_id(event, FieldId::EVENT_DESCRIPTION_TEXT, &comment.join(" "))?;
    }
    Ok(())
}

fn old_line(report: &Report, line: &str) -> Result<Event, LineError> {
    let [report_type, ip, asn, timestamp, comments, asn_name] = columns(line)?;
    let parts: Vec<&str> = comments.split(' ').collect();
    let mut event = common(report, ip, asn, timestamp)?;
    set_id(&mut event, FieldId::SOURCE_AS_NAME, asn_name)?;
    let not_implemented = |what: &str| {
        Err(LineError::new(
            Some("classification.type"),
            format!("cannot parse report {report_type:?}: {what}"),
        ))
    };
    match report_type {
        "beagle" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "infected-system")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, "beagle")?;
            set_id(&mut event, FieldId::MALWARE_NAME, "beagle")?;
            if !comments.is_empty() {
                return not_implemented("the comment format is unknown");
            }
        }
        "blaster" | "dameware" | "dipnet" | "mydoom" | "nachi" | "phatbot" | "sinit" | "slammer" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "infected-system")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, report_type)?;
            set_id(&mut event, FieldId::MALWARE_NAME, report_type)?;
        }
        "bots" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "infected-system")?;
            bot_old(&parts, &mut event)?;
        }
        "bruteforce" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "brute-force")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, comments)?;
            set_id(&mut event, FieldId::PROTOCOL_APPLICATION, comments)?;
        }
        "ddosreport" => return not_implemented("the format is unknown"),
        "defacement" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "unauthorised-information-modification")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, report_type)?;
            set_id(&mut event, FieldId::SOURCE_URL, parts[0])?;
            let id = parts
                .get(1)
                .ok_or_else(|| LineError::field("extra.zoneh.id", "no Zone-H id after the URL"))?;
            set(&mut event, "extra.zoneh.id", id)?;
        }
        "fastflux" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "system-compromise")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, report_type)?;
            set_id(&mut event, FieldId::SOURCE_REVERSE_DNS, comments)?;
        }
        "malwareurl" => {
            set_id(&mut event, FieldId::SOURCE_URL, parts[0])?;
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "malware-distribution")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, "malwareurl")?;
        }
        "openresolvers" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "vulnerable-system")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, "dns-open-resolver")?;
            set_id(&mut event, FieldId::PROTOCOL_APPLICATION, "dns")?;
        }
        "phishing" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "phishing")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, "phishing")?;
            set_id(&mut event, FieldId::SOURCE_URL, comments)?;
        }
        "proxy" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "proxy")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, "openproxy")?;
            set(&mut event, "extra.request", comments)?;
        }
        "routers" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "system-compromise")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, comments)?;
        }
        "scanners" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "scanner")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, "scanner")?;
            if py_strip(comments).parse::<i64>().is_err() {
                return not_implemented("the format for several ports is unknown");
            }
            set_id(&mut event, FieldId::SOURCE_PORT, comments)?;
        }
        "spam" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "spam")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, "spam")?;
            if !comments.is_empty() {
                return not_implemented("the comment format is unknown");
            }
        }
        "spreaders" => {
            set_id(&mut event, FieldId::SOURCE_URL, parts[0])?;
            if parts.len() == 2 {
                set_id(&mut event, FieldId::MALWARE_HASH_MD5, parts[1])?;
            }
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "malware-distribution")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, "spreader")?;
        }
        "stormworm" => {
            let mut accuracy = report.feed_accuracy.unwrap_or(100.0);
            let mut index = 0;
            while index < parts.len() {
                let part = parts[index];
                if part.starts_with("confidence:") {
                    let number = part.trim_start_matches(|c| "confidence:".contains(c));
                    let confidence: i64 = number
                        .parse()
                        .map_err(|_| LineError::field("feed.accuracy", format!("bad confidence {part:?}")))?;
                    accuracy *= confidence as f64 / 5.0;
                } else if part == "legacy" || part == "crypto" {
                    set_id(&mut event, FieldId::MALWARE_VERSION, part)?;
                } else if part == "srcport" {
                    let port = parts.get(index + 1).copied().unwrap_or("");
                    set_json(&mut event, "extra.source_port", int_json("extra.source_port", port)?)?;
                    break;
                }
                index += 1;
            }
            set_json(
                &mut event,
                "feed.accuracy",
                serde_json::Number::from_f64(accuracy)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null),
            )?;
        }
        "toxbot" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "infected-system")?;
            set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, report_type)?;
            set_id(&mut event, FieldId::MALWARE_NAME, report_type)?;
            let port = parts.get(1).copied().unwrap_or("");
            set_json(&mut event, "extra.source_port", int_json("extra.source_port", port)?)?;
        }
        other => {
            return Err(LineError::field("classification.type", format!("unknown report {other:?}")));
        }
    }
    Ok(event)
}

/// The classification of a new-format category (IntelMQ's `MAPPING_STATIC`):
/// type, identifier, and for open resolvers the application protocol.
fn category(name: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match name {
        "bot" => ("infected-system", None),
        "bruteforce" => ("brute-force", None),
        "controller" => ("c2-server", None),
        "darknet" => ("scanner", Some("darknet")),
        "phishing" => ("phishing", Some("phishing")),
        "proxy" => ("proxy", Some("openproxy")),
        "honeypot" => ("scanner", None),
        "openresolvers" | "openresolver" => ("vulnerable-system", Some("dns-open-resolver")),
        "scanner" => ("scanner", Some("scanner")),
        "spam" => ("spam", Some("spam")),
        "conficker" => ("infected-system", Some("conficker")),
        "tor" => ("tor", Some("tor")),
        _ => return None,
    })
}

fn transport(number: &str) -> Option<&'static str> {
    Some(match number {
        "1" => "icmp",
        "6" => "tcp",
        "11" => "nvp-ii",
        "17" => "udp",
        "47" => "gre",
        "58" => "ipv6-icmp",
        "59" => "ipv6-nonxt",
        _ => return None,
    })
}

/// IntelMQ's fix for `hostname: sub.example.comport: 80`: inserts the missing `; `.
fn fix_hostname_port(notes: &str) -> std::borrow::Cow<'_, str> {
    let Some(start) = notes.find("hostname: ") else {
        return notes.into();
    };
    let after = &notes[start + "hostname: ".len()..];
    // `([^:]+)port: ([0-9]+)`: the host runs to the first `:`, which must end `port`.
    let Some(colon) = after.find(':') else {
        return notes.into();
    };
    let host_and_port = &after[..colon];
    let Some(host) = host_and_port.strip_suffix("port") else {
        return notes.into();
    };
    if host.is_empty() {
        return notes.into();
    }
    let rest = &after[colon + 1..];
    let Some(digits_start) = rest.strip_prefix(' ') else {
        return notes.into();
    };
    let digits = digits_start.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return notes.into();
    }
    let port = &digits_start[..digits];
    let tail = &digits_start[digits..];
    format!("{}hostname: {host}; port: {port}{tail}", &notes[..start]).into()
}

fn new_line(report: &Report, line: &str) -> Result<Vec<Event>, LineError> {
    let [category_name, ip, asn, timestamp, notes, asn_info] = columns(line)?;
    let notes = fix_hostname_port(notes);
    let mut event = common(report, ip, asn, timestamp)?;
    // The AS info ends with `, <CC>`.
    let (as_name, cc) = match asn_info.rfind(", ") {
        Some(index) => (&asn_info[..index], &asn_info[index + 2..]),
        None => ("", asn_info),
    };
    set_id(&mut event, FieldId::SOURCE_AS_NAME, as_name)?;
    set_id(&mut event, FieldId::SOURCE_GEOLOCATION_CC, cc)?;
    let (classification, identifier) = category(category_name).ok_or_else(|| {
        LineError::field("classification.type", format!("unknown category {category_name:?}"))
    })?;
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, classification)?;
    if let Some(identifier) = identifier {
        set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, identifier)?;
    }
    if matches!(category_name, "openresolvers" | "openresolver") {
        set_id(&mut event, FieldId::PROTOCOL_APPLICATION, "dns")?;
    }
    if category_name == "conficker" {
        set_id(&mut event, FieldId::MALWARE_NAME, "conficker")?;
    }
    let mut destination_ports: Vec<&str> = Vec::new();
    for comment in notes.split(';').filter(|c| !c.is_empty()) {
        let (key, value) = if !comment.contains(':') || comment.starts_with("http") {
            match category_name {
                // IntelMQ rewrites the comment to `proxy_type: <comment>`.
                "proxy" => ("proxy_type", py_strip(comment)),
                "bruteforce" => {
                    set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, comment)?;
                    set_id(&mut event, FieldId::PROTOCOL_APPLICATION, comment)?;
                    break;
                }
                "phishing" => {
                    set_id(&mut event, FieldId::SOURCE_URL, comment)?;
                    break;
                }
                _ => {
                    if category_name == "bot" {
                        let parts: Vec<&str> = notes.split(' ').collect();
                        if bot_old(&parts, &mut event).is_ok() {
                            break;
                        }
                    }
                    return Err(LineError::line(format!(
                        "cannot parse the comment {comment:?} of category {category_name:?}"
                    )));
                }
            }
        } else {
            let Some((key, value)) = comment.split_once(':') else {
                continue;
            };
            (py_strip(key), py_strip(value))
        };
        match key {
            "family" => {
                let name = value.to_lowercase();
                set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, &name)?;
                set_id(&mut event, FieldId::MALWARE_NAME, &name)?;
            }
            "dest_addr" | "destaddr" => set_id(&mut event, FieldId::DESTINATION_IP, value)?,
            "dest_port" | "ports_scanned" | "honeypot_port" | "darknet_port" | "destination_port_numbers" => {
                let value = strip_total_count(value);
                destination_ports.extend(value.split(',').map(py_strip));
            }
            "protocol" => match transport(value) {
                Some(name) => set_id(&mut event, FieldId::PROTOCOL_TRANSPORT, name)?,
                None => {
                    let number: i64 = value.parse().map_err(|_| {
                        LineError::field("protocol.transport", format!("unknown protocol {value:?}"))
                    })?;
                    if number >= 143 {
                        set_json(&mut event, "extra.protocol.transport", serde_json::Value::from(number))?;
                    } else {
                        return Err(LineError::field(
                            "protocol.transport",
                            format!("unknown protocol {value:?}"),
                        ));
                    }
                }
            },
            "hostname" => {
                // An address where a host name belongs says nothing new.
                if value == ip {
                    continue;
                }
                set_id(&mut event, FieldId::SOURCE_FQDN, value)?;
            }
            "proxy_type" => match value.split_once('-') {
                Some((protocol, port)) => {
                    if port.contains('-') {
                        return Err(LineError::field(
                            "protocol.application",
                            format!("cannot parse the proxy type {value:?}"),
                        ));
                    }
                    set_id(&mut event, FieldId::PROTOCOL_APPLICATION, protocol)?;
                    set_id(&mut event, FieldId::SOURCE_PORT, port)?;
                }
                None => set_id(&mut event, FieldId::PROTOCOL_APPLICATION, value)?,
            },
            "port" | "srcport" => set_id(&mut event, FieldId::SOURCE_PORT, value)?,
            "username" => set_id(&mut event, FieldId::SOURCE_ACCOUNT, value)?,
            "additional_asns" => {
                let first = py_strip(asn).parse::<i64>().ok().filter(|_| asn != "0");
                let Some(first) = first else {
                    return Err(LineError::field(
                        "extra.source.asns",
                        "additional ASNs without a source ASN",
                    ));
                };
                let mut asns = vec![serde_json::Value::from(first)];
                for other in value.split(',') {
                    asns.push(int_json("extra.source.asns", other)?);
                }
                set_json(&mut event, "extra.source.asns", serde_json::Value::Array(asns))?;
            }
            other => {
                return Err(LineError::line(format!(
                    "unknown key {other:?} in the comment of category {category_name:?}"
                )));
            }
        }
    }
    if destination_ports.is_empty() {
        return Ok(vec![event]);
    }
    let mut events = Vec::with_capacity(destination_ports.len());
    for port in destination_ports {
        let mut copy = event.clone();
        set_id(&mut copy, FieldId::DESTINATION_PORT, port)?;
        events.push(copy);
    }
    Ok(events)
}

/// Removes a trailing ` (total_count:<n>)`.
fn strip_total_count(value: &str) -> &str {
    if let Some(index) = value.rfind(" (total_count:") {
        let tail = &value[index + " (total_count:".len()..];
        if let Some(digits) = tail.strip_suffix(')')
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            return &value[..index];
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_port_fix() {
        assert_eq!(
            fix_hostname_port("family: http_post;hostname: sub.example.comport: 80;"),
            "family: http_post;hostname: sub.example.com; port: 80;"
        );
        assert_eq!(fix_hostname_port("hostname: a.example;"), "hostname: a.example;");
    }

    #[test]
    fn total_count() {
        assert_eq!(strip_total_count("1,2 (total_count:19)"), "1,2");
        assert_eq!(strip_total_count("1,2"), "1,2");
    }
}
