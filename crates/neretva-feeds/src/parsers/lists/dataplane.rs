//! Dataplane.org reports (IntelMQ's `DataplaneParserBot`).
//!
//! Lines of fields separated by `  |  `: `ASN | AS name | IP | last seen | category`,
//! and for `proto41` also a first-seen time before the last seen. The category (the last
//! field) decides `classification.type`, `protocol.application` and
//! `event_description.text` as in IntelMQ's table; `NA` stands for an unknown AS. Only
//! the first word of the AS name is kept, as IntelMQ does. `raw` is the stripped line.

use neretva_event::FieldId;
use time::OffsetDateTime;

use crate::parsers::lists::support::{
    LineError, for_each_line, new_event, push, py_strip, set, set_id, set_indicator, set_time,
};
use crate::parsers::lists::timefmt;
use crate::{Event, FeedParser, Parsed, Report};

/// The Dataplane.org reports.
pub struct Dataplane;

struct Category {
    classification: &'static str,
    application: &'static str,
    description: &'static str,
}

const fn category(
    classification: &'static str,
    application: &'static str,
    description: &'static str,
) -> Category {
    Category { classification, application, description }
}

fn category_of(name: &str) -> Option<Category> {
    Some(match name {
        "dnsrd" => category(
            "scanner",
            "dns",
            "Address has been seen performing a DNS recursion desired query to a remote host. \
             The source report lists hosts that are suspicious of more than just port \
             scanning. The host may be DNS server cataloging or searching for hosts to use \
             for DNS-based DDoS amplification.",
        ),
        "dnsrdany" => category(
            "scanner",
            "dns",
            "Address has been seen performing a DNS recursion desired IN ANY query to a \
             remote host. The source report lists hosts that are suspicious of more than just \
             port scanning. The host may be DNS server cataloging or searching for hosts to \
             use for DNS-based DDoS amplification.",
        ),
        "dnsversion" => category(
            "scanner",
            "dns",
            "Address has been seen initiating a DNS CH TXT version.bind operation to a remote \
             host. The source report lists hosts that are suspicious of more than just port \
             scanning. The host may be DNS server cataloging or searching for vulnerable DNS \
             servers.",
        ),
        "proto41" => category(
            "proxy",
            "6to4",
            "Address has been detected to offer open IPv6 over IPv4 tunneling. This could \
             allow for the host to be used a public proxy against IPv6 hosts.",
        ),
        "sipquery" => category(
            "brute-force",
            "sip",
            "Address has been seen initiating a SIP OPTIONS query to a remote host. The source \
             report lists hosts that are suspicious of more than just port scanning. The host \
             may be SIP server cataloging or conducting various forms of telephony abuse.",
        ),
        "sipinvitation" => category(
            "brute-force",
            "sip",
            "Address has been seen initiating a SIP INVITE operation to a remote host. The \
             source report lists hosts that are suspicious of more than just port scanning. \
             The host may be SIP client cataloging or conducting various forms of telephony \
             abuse.",
        ),
        "sipregistration" => category(
            "brute-force",
            "sip",
            "Address has been seen initiating a SIP REGISTER operation to a remote host. The \
             source report lists hosts that are suspicious of more than just port scanning. \
             The host may be SIP client cataloging or conducting various forms of telephony \
             abuse.",
        ),
        "smtpdata" => category(
            "scanner",
            "smtp",
            "Address has been seen initiating a SMTP DATA operation to a remote host. The \
             source report lists hosts that are suspicious of more than just port scanning. \
             The host may be SMTP server cataloging or conducting various forms of email \
             abuse.",
        ),
        "smtpgreet" => category(
            "scanner",
            "smtp",
            "Address has been seen initiating a SMTP HELO/EHLO operation to a remote host. \
             The source report lists hosts that are suspicious of more than just port \
             scanning. The host may be SMTP server cataloging or conducting various forms of \
             email abuse.",
        ),
        "sshclient" => category(
            "scanner",
            "ssh",
            "Address has been seen initiating an SSH connection to a remote host. The source \
             report lists hosts that are suspicious of more than just port scanning. The host \
             may be SSH server cataloging or conducting authentication attack attempts.",
        ),
        "sshpwauth" => category(
            "brute-force",
            "ssh",
            "Address has been seen attempting to remotely login to a host using SSH password \
             authentication. The source report lists hosts that are highly suspicious and are \
             likely conducting malicious SSH password authentication attacks.",
        ),
        "telnetlogin" => category(
            "brute-force",
            "telnet",
            "Address has been seen initiating a telnet connection to a remote host. The \
             source report lists hosts that are suspicious of more than just port scanning. \
             The host may be telnet server cataloging or conducting authentication attack \
             attempts.",
        ),
        "vncrfb" => category(
            "scanner",
            "vnc",
            "Address has been seen initiating a VNC remote buffer session to a remote host. \
             The source report lists hosts that are suspicious of more than just port \
             scanning. The host may be VNC/RFB server cataloging or conducting authentication \
             attack attempts.",
        ),
        _ => return None,
    })
}

impl FeedParser for Dataplane {
    fn name(&self) -> &'static str {
        "dataplane"
    }

    fn description(&self) -> &'static str {
        "Dataplane.org reports (SSH, SIP, DNS, SMTP, telnet, VNC, protocol 41 sources)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        for_each_line(&report.raw, &mut parsed, Some('#'), |parsed, number, line| {
            let outcome = event(report, line);
            push(parsed, number, line, line, outcome);
        });
        parsed
    }
}

/// IntelMQ's `_convert_datetime`: `2021-09-03 10:03:03` is UTC.
fn time_of(field: &str, text: &str) -> Result<OffsetDateTime, LineError> {
    timefmt::ymd_hms(text)
        .or_else(|| timefmt::fuzzy(text))
        .ok_or_else(|| LineError::field(field, format!("cannot parse the time {text:?}")))
}

fn event(report: &Report, line: &str) -> Result<Event, LineError> {
    // At most 6 fields are ever valid; one more tells a too long line apart.
    let mut fields = [""; 7];
    let mut count = 0;
    for field in line.split("  |  ") {
        if count < fields.len() {
            fields[count] = field;
        }
        count += 1;
    }
    let name = py_strip(fields[(count - 1).min(fields.len() - 1)]);
    let expected = if name == "proto41" { 6 } else { 5 };
    if count != expected {
        return Err(LineError::line(format!(
            "expected {expected} fields separated by `  |  `, found {count}"
        )));
    }
    let category = category_of(name)
        .ok_or_else(|| LineError::field("classification.type", format!("unknown category {name:?}")))?;
    let mut event = new_event(report);
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, category.classification)?;
    set_id(&mut event, FieldId::PROTOCOL_APPLICATION, category.application)?;
    set_id(&mut event, FieldId::EVENT_DESCRIPTION_TEXT, category.description)?;
    let asn = py_strip(fields[0]);
    if asn != "NA" {
        set_id(&mut event, FieldId::SOURCE_ASN, asn)?;
    }
    let as_name = py_strip(fields[1]);
    if as_name != "NA" {
        let first_word = as_name
            .split_whitespace()
            .next()
            .ok_or_else(|| LineError::field("source.as_name", "the AS name is empty"))?;
        set_id(&mut event, FieldId::SOURCE_AS_NAME, first_word)?;
    }
    set_indicator(&mut event, FieldId::SOURCE_IP, py_strip(fields[2]))?;
    if expected == 6 {
        // Kept as IntelMQ writes it: the first space becomes `T`, `+00:00` is appended.
        let first_seen = py_strip(fields[3]);
        let mut text = String::with_capacity(first_seen.len() + 6);
        text.push_str(&first_seen.replacen(' ', "T", 1));
        text.push_str("+00:00");
        set(&mut event, "extra.first_seen", &text)?;
    }
    let time = time_of("time.source", py_strip(fields[expected - 2]))?;
    set_time(&mut event, FieldId::TIME_SOURCE, time)?;
    Ok(event)
}
