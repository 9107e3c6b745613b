//! Blocklist.de (IntelMQ's `BlockListDEParserBot`).
//!
//! One IP address per line. The list's file name at the end of `feed.url` decides the
//! classification, the protocol and the description, exactly as IntelMQ's table does;
//! an unknown file name (or no URL) gives `classification.type` `blacklist` only.
//! `raw` is the stripped line.
//!
//! Difference from IntelMQ 3.5.0 (deliberate): lines starting with `#` are skipped as
//! comments; IntelMQ fails them as invalid IP addresses.

use neretva_event::FieldId;

use crate::parsers::lists::support::{
    LineError, for_each_line, new_event, push, set_id, set_indicator, url_file_name,
};
use crate::{Event, FeedParser, Parsed, Report};

/// The Blocklist.de lists.
pub struct BlocklistDe;

/// What a list's file name adds to each event: type, application protocol, description.
struct Mapping {
    classification: &'static str,
    application: Option<&'static str>,
    description: Option<&'static str>,
}

const fn map(
    classification: &'static str,
    application: Option<&'static str>,
    description: Option<&'static str>,
) -> Mapping {
    Mapping { classification, application, description }
}

fn mapping(file_name: &str) -> Mapping {
    match file_name {
        "all.txt" => map("blacklist", None, None),
        "ssh.txt" => {
            map("ids-alert", Some("ssh"), Some("IP reported as having run attacks on the service SSH"))
        }
        "mail.txt" => map(
            "ids-alert",
            Some("smtp"),
            Some("IP reported as having run attacks on the service Mail, Postfix"),
        ),
        "apache.txt" => map(
            "ids-alert",
            Some("http"),
            Some(
                "IP reported as having run attacks on the service Apache, Apache-DDoS, \
                 RFI-Attacks",
            ),
        ),
        "imap.txt" => map(
            "ids-alert",
            Some("imap"),
            Some("IP reported as having run attacks on the service IMAP, SASL, POP3"),
        ),
        "ftp.txt" => {
            map("ids-alert", Some("ftp"), Some("IP reported as having run attacks on the service FTP"))
        }
        "sip.txt" => map(
            "ids-alert",
            Some("sip"),
            Some("IP reported as having run attacks on the service SIP, VOIP, Asterisk"),
        ),
        "bots.txt" => map(
            "spam",
            None,
            Some(
                "IP reported as having spammed on IRC, open forums, wikis or registration \
                 forms.",
            ),
        ),
        "strongips.txt" => map("blacklist", None, Some("IP reported as having run attacks in last 2 months")),
        "ircbot.txt" => map("infected-system", Some("irc"), None),
        "bruteforcelogin.txt" => map(
            "brute-force",
            None,
            Some(
                "IP reported as having run attacks on Joomlas, Wordpress and other \
                 Web-Logins with Brute-Force Logins",
            ),
        ),
        _ => map("blacklist", None, None),
    }
}

impl FeedParser for BlocklistDe {
    fn name(&self) -> &'static str {
        "blocklistde"
    }

    fn description(&self) -> &'static str {
        "Blocklist.de lists (all, ssh, mail, apache, imap, ftp, sip, bots, strongips, \
         ircbot, bruteforcelogin); the URL's file name decides the type"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let mapping = mapping(report.feed_url.as_deref().map_or("", url_file_name));
        for_each_line(&report.raw, &mut parsed, Some('#'), |parsed, number, line| {
            let outcome = event(report, &mapping, line);
            push(parsed, number, line, line, outcome);
        });
        parsed
    }
}

fn event(report: &Report, mapping: &Mapping, line: &str) -> Result<Event, LineError> {
    let mut event = new_event(report);
    set_indicator(&mut event, FieldId::SOURCE_IP, line)?;
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, mapping.classification)?;
    if let Some(application) = mapping.application {
        set_id(&mut event, FieldId::PROTOCOL_APPLICATION, application)?;
    }
    if let Some(description) = mapping.description {
        set_id(&mut event, FieldId::EVENT_DESCRIPTION_TEXT, description)?;
    }
    Ok(event)
}
