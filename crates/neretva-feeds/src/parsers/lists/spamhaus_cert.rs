//! Spamhaus CERT Insight (IntelMQ's `SpamhausCERTParserBot`).
//!
//! The feed Spamhaus prepares for a national or sectoral CERT: the infected, scanning and
//! abusive hosts its sensors saw in the CERT's networks. Comment lines start with `;`; every
//! other line has ten comma-separated columns, `ip, asn, country, lastseen, botname, domain,
//! remote_ip, remote_port, local_port, protocol` (the time as seconds since the epoch, the AS as
//! `AS<number>` or `?`). The bot name decides the classification, as IntelMQ's table does:
//! `openrelay` an open SMTP relay, `sshauth`, `telnetauth`, `smtpauth`, `pop` and `imap` brute
//! force, `iotscan`, `iotuser`, `wpscanner`, `w_wplogin`, `smb`, `rdp`, `iotrdp` and
//! `iotmicrosoftds` scanners, `l_spamlink` a URL in spam (its local-port column holds
//! `spam-ip:version:malware`), `iotlogin` and `iotcmd` compromised devices, `iotmirai` Mirai,
//! `ioturl` a malware server, `proxyget`, `automatedtest`, `authspoofbadehlo`, `extortion` and
//! `misc` (a spam botnet); any other name is the malware of an infected system (`auto` is
//! `s_other`).
//!
//! The domain column is `destination.fqdn` (not for `iotscan` and not when it holds a `:`), the
//! remote address, port and the protocol are the destination's and the transport, each left out
//! when its field does not take it (IntelMQ's `raise_failure=False`); the local port is
//! `extra.source.local_port`. `feed.url` loses everything from `key=` on, so the portal's API
//! key never reaches an event. `raw` is the comment lines before the line and the line, joined
//! by line feeds, as IntelMQ's `recover_line` writes it (the line alone once a report's events
//! have repeated 64 MiB of comments, see `support::Comments`).
//!
//! Deliberate differences from IntelMQ: a report without `feed.url` still gives events (IntelMQ
//! fails every line on the missing field); a line of fewer than ten columns is an error naming
//! the count (IntelMQ's `IndexError`).

use neretva_event::FieldId;

use crate::parsers::lists::support::{
    Comments, LineError, for_each_stripped_line, new_event, push, py_strip, set, set_id, set_indicator,
    set_time,
};
use crate::parsers::shadowserver::convert::py_int;
use crate::{Event, FeedParser, Parsed, Report};

/// The columns of a line.
const COLUMNS: usize = 10;

/// The Spamhaus CERT Insight feed.
pub struct SpamhausCert;

impl FeedParser for SpamhausCert {
    fn name(&self) -> &'static str {
        "spamhaus-cert"
    }

    fn description(&self) -> &'static str {
        "Spamhaus CERT Insight: infected, scanning and abusive hosts in a CERT's networks (CSV)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        // The comment lines so far: the start of the `raw` of every later line.
        let mut comments = Comments::default();
        for_each_stripped_line(&report.raw, &mut parsed, |parsed, number, line| {
            if line.starts_with(';') {
                comments.push(line);
                return;
            }
            parsed.records += 1;
            let raw = comments.raw(line);
            push(parsed, number, &raw, line, event(report, line));
        });
        parsed
    }
}

fn event(report: &Report, line: &str) -> Result<Event, LineError> {
    let columns: Vec<&str> = line.split(',').map(py_strip).collect();
    let Ok(columns) = <[&str; COLUMNS]>::try_from(columns.get(..COLUMNS).unwrap_or_default()) else {
        return Err(LineError::line(format!(
            "{} columns; expected {COLUMNS} (ip, asn, country, lastseen, botname, domain, remote_ip, \
             remote_port, local_port, protocol)",
            columns.len()
        )));
    };
    let [ip, asn, country, last_seen, bot, domain, remote_ip, remote_port, local_port, transport] = columns;
    let mut event = new_event(report);
    if let Some(url) = &report.feed_url {
        let without_key = url.split("key=").next().unwrap_or_default();
        set_id(&mut event, FieldId::FEED_URL, without_key)?;
    }
    set_indicator(&mut event, FieldId::SOURCE_IP, ip)?;
    let asn = asn.replace("AS", "");
    if asn != "?" {
        set_id(&mut event, FieldId::SOURCE_ASN, &asn)?;
    }
    set_id(&mut event, FieldId::SOURCE_GEOLOCATION_CC, country)?;
    let seconds = py_int(last_seen).ok_or_else(|| {
        LineError::field("time.source", format!("{last_seen:?} is not a number of seconds"))
    })?;
    let time = time::OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| LineError::field("time.source", format!("{seconds} seconds is out of range")))?;
    set_time(&mut event, FieldId::TIME_SOURCE, time)?;

    let mut malware = bot.to_lowercase();
    let class = |event: &mut Event, kind: &str, identifier: &str| -> Result<(), LineError> {
        set_id(event, FieldId::CLASSIFICATION_TYPE, kind)?;
        set_id(event, FieldId::CLASSIFICATION_IDENTIFIER, identifier)
    };
    let text = |event: &mut Event, text: &str| set_id(event, FieldId::EVENT_DESCRIPTION_TEXT, text);
    let application = |event: &mut Event, name: &str| set_id(event, FieldId::PROTOCOL_APPLICATION, name);
    match malware.as_str() {
        "openrelay" => {
            class(&mut event, "vulnerable-system", "openrelay")?;
            application(&mut event, "smtp")?;
        }
        "sshauth" | "telnetauth" | "smtpauth" => {
            let protocol = malware.trim_end_matches("auth");
            class(&mut event, "brute-force", protocol)?;
            application(&mut event, protocol)?;
        }
        "iotscan" | "iotuser" => {
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "scanner")?;
            text(&mut event, "The possibly infected IoT device scanned for other vulnerable IoT devices.")?;
            if matches!(remote_port, "23" | "2323") {
                application(&mut event, "telnet")?;
                set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, "telnet")?;
            } else {
                set_id(&mut event, FieldId::CLASSIFICATION_IDENTIFIER, "scanner-generic")?;
            }
        }
        "wpscanner" => {
            class(&mut event, "scanner", "wordpress-vulnerabilities")?;
            text(&mut event, "scanning for wordpress vulnerabilities")?;
            application(&mut event, "http")?;
        }
        "w_wplogin" => {
            class(&mut event, "scanner", "wordpress-login")?;
            text(&mut event, "scanning for wordpress login pages")?;
            application(&mut event, "http")?;
        }
        "l_spamlink" => {
            class(&mut event, "spam", "spamlink")?;
            text(&mut event, "The URL appeared in a spam email sent by extra.spam_ip.")?;
            let parts: Vec<&str> = local_port.split(':').collect();
            let [spam_ip, version, name] = parts[..] else {
                return Err(LineError::field(
                    "malware.name",
                    format!("{local_port:?} is not spam-ip:version:malware"),
                ));
            };
            set_id(&mut event, FieldId::MALWARE_NAME, name)?;
            set_id(&mut event, FieldId::MALWARE_VERSION, version)?;
            set_id(&mut event, FieldId::SOURCE_URL, remote_ip)?;
            set(&mut event, "extra.spam_ip", spam_ip)?;
        }
        "pop" | "imap" => {
            class(&mut event, "brute-force", &malware)?;
            application(&mut event, &malware)?;
        }
        "smb" | "rdp" | "iotrdp" | "iotmicrosoftds" => {
            let protocol = malware.strip_prefix("iot").unwrap_or(&malware).to_owned();
            class(&mut event, "scanner", &protocol)?;
            application(&mut event, &protocol)?;
            malware = protocol;
        }
        "proxyget" => {
            class(&mut event, "other", "proxyget")?;
            text(&mut event, "The malicious client used a honeypot as proxy.")?;
        }
        "iotlogin" => {
            class(&mut event, "system-compromise", "iot")?;
            text(&mut event, "The infected iot device logged in to a honeypot.")?;
        }
        "iotcmd" => {
            class(&mut event, "system-compromise", "iot")?;
            text(
                &mut event,
                "The infected iot device logged in to a honeypot and issued malicious commands.",
            )?;
        }
        "iotmirai" => {
            class(&mut event, "infected-system", "mirai")?;
            set_id(&mut event, FieldId::MALWARE_NAME, "mirai")?;
        }
        "ioturl" => class(&mut event, "c2-server", "malware-generic")?,
        "automatedtest" => {
            class(&mut event, "brute-force", "lookup-captcha")?;
            text(&mut event, "The device automatically brute-forced the Spamhaus CBL lookup.")?;
        }
        "authspoofbadehlo" => {
            class(&mut event, "brute-force", "authentication-spoof")?;
            application(&mut event, "smtp")?;
            text(&mut event, "The device spoofed SMTP authentication with a bad EHLO.")?;
        }
        "extortion" => {
            class(&mut event, "spam", "extortion")?;
            if remote_port == "25" {
                application(&mut event, "smtp")?;
            }
            text(&mut event, "This device sent extortion mails.")?;
        }
        "misc" => {
            // Abuseat.org's word: the malware is not known, the botnet is.
            class(&mut event, "spam", "spam")?;
            if remote_port == "25" {
                application(&mut event, "smtp")?;
            }
            text(
                &mut event,
                "This device is sending spam as part of a botnet. See abuseat.org for more details.",
            )?;
            set_id(&mut event, FieldId::EVENT_DESCRIPTION_URL, "https://www.abuseat.org/lookup.cgi")?;
            if event.get_id(FieldId::FEED_DOCUMENTATION).is_none() {
                set_id(&mut event, FieldId::FEED_DOCUMENTATION, "https://www.abuseat.org/lookup.cgi")?;
            }
        }
        _ => {
            if malware == "auto" {
                malware = "s_other".to_owned();
            }
            set_id(&mut event, FieldId::MALWARE_NAME, &malware)?;
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "infected-system")?;
            let _ = event.set_id(FieldId::SOURCE_URL, domain);
        }
    }
    // The provider's word (2018): the domain column of `iotscan` lines is wrong, and one holding
    // an address and port is not a domain.
    if malware != "iotscan" && !domain.contains(':') {
        let _ = event.set_id(FieldId::DESTINATION_FQDN, domain);
    }
    let _ = event.set_id(FieldId::DESTINATION_IP, remote_ip);
    let _ = event.set_id(FieldId::DESTINATION_PORT, remote_port);
    if !local_port.is_empty() && !matches!(local_port, "-" | "?") && malware != "l_spamlink" {
        let port = py_int(local_port).ok_or_else(|| {
            LineError::field("extra.source.local_port", format!("{local_port:?} is not a number"))
        })?;
        event.set_json("extra.source.local_port", port.into())?;
    }
    let _ = event.set_id(FieldId::PROTOCOL_TRANSPORT, transport);
    Ok(event)
}
