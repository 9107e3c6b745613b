//! Bambenek Consulting feeds (IntelMQ's `BambenekParserBot`): C2 IP addresses, C2 domains
//! and DGA domains.
//!
//! Comma-separated lines `indicator, description, date, manual URL` after `#` comments.
//! Each gives `event_description.text`, `event_description.url`, `malware.name` (the
//! manual's file name, with IntelMQ's renames such as `cl` → `cryptolocker`), and by
//! feed: C2 IPs `source.ip`, C2 domains `source.fqdn` (both `classification.type`
//! `c2-server`, `status` `online`, `time.source` from the date and time), DGA domains
//! `source.fqdn`, `classification.type` `dga-domain` and `time.source` at midnight UTC of
//! the date. `raw` is the stripped line.
//!
//! Difference from IntelMQ 3.5.0 (deliberate): the feed is recognised by the file name at
//! the end of `feed.url` (`c2-ipmasterlist*`, `c2-dommasterlist*`, `dga-feed*`, which
//! covers IntelMQ's nine URLs and the `-high` variants) rather than by exact URL.

use neretva_event::FieldId;

use crate::parsers::lists::support::{
    LineError, for_each_line, new_event, push, py_strip, set_id, set_indicator, set_time, url_file_name,
};
use crate::parsers::lists::timefmt;
use crate::{Event, FeedParser, Parsed, Report};

/// The Bambenek C2 and DGA feeds.
pub struct Bambenek;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    C2Ip,
    C2Domain,
    Dga,
}

fn kind_of(url: Option<&str>) -> Option<Kind> {
    let name = url_file_name(url?);
    if name.starts_with("c2-ipmasterlist") {
        Some(Kind::C2Ip)
    } else if name.starts_with("c2-dommasterlist") {
        Some(Kind::C2Domain)
    } else if name.starts_with("dga-feed") {
        Some(Kind::Dga)
    } else {
        None
    }
}

impl FeedParser for Bambenek {
    fn name(&self) -> &'static str {
        "bambenek"
    }

    fn description(&self) -> &'static str {
        "Bambenek Consulting C2 IP, C2 domain and DGA domain feeds (the URL decides which)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let kind = kind_of(report.feed_url.as_deref());
        for_each_line(&report.raw, &mut parsed, Some('#'), |parsed, number, line| {
            let outcome = match kind {
                Some(kind) => event(report, kind, line),
                None => Err(LineError::new(
                    Some("feed.url"),
                    format!(
                        "unknown Bambenek feed {:?}: expected a c2-ipmasterlist, \
                         c2-dommasterlist or dga-feed URL",
                        report.feed_url.as_deref().unwrap_or("")
                    ),
                )),
            };
            push(parsed, number, line, line, outcome);
        });
        parsed
    }
}

fn malware_name(url: &str) -> &str {
    // IntelMQ: `value[-1].split('/')[-1].split('.')[0]`.
    let file = url.rsplit('/').next().unwrap_or(url);
    let name = file.split('.').next().unwrap_or(file);
    match name {
        "cl" => "cryptolocker",
        "p2pgoz" => "p2p goz",
        "ptgoz" => "pt goz",
        "volatile" => "volatile cedar",
        other => other,
    }
}

fn event(report: &Report, kind: Kind, line: &str) -> Result<Event, LineError> {
    let mut columns = line.split(',');
    let mut next = || columns.next();
    let (Some(indicator), Some(description), Some(date), Some(url)) = (next(), next(), next(), next()) else {
        return Err(LineError::line(format!(
            "expected 4 comma-separated columns, found {}",
            line.split(',').count()
        )));
    };
    let last = line.rsplit(',').next().unwrap_or(url);
    let mut event = new_event(report);
    set_id(&mut event, FieldId::EVENT_DESCRIPTION_TEXT, description)?;
    set_id(&mut event, FieldId::EVENT_DESCRIPTION_URL, url)?;
    set_id(&mut event, FieldId::MALWARE_NAME, malware_name(last))?;
    let time = match kind {
        Kind::C2Ip | Kind::C2Domain => timefmt::fuzzy(date),
        Kind::Dga => timefmt::ymd_hms(py_strip(date)).or_else(|| timefmt::fuzzy(date)),
    };
    let time =
        time.ok_or_else(|| LineError::field("time.source", format!("cannot parse the date {date:?}")))?;
    match kind {
        Kind::C2Ip => {
            set_indicator(&mut event, FieldId::SOURCE_IP, indicator)?;
            set_time(&mut event, FieldId::TIME_SOURCE, time)?;
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "c2-server")?;
            set_id(&mut event, FieldId::STATUS, "online")?;
        }
        Kind::C2Domain => {
            set_indicator(&mut event, FieldId::SOURCE_FQDN, indicator)?;
            set_time(&mut event, FieldId::TIME_SOURCE, time)?;
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "c2-server")?;
            set_id(&mut event, FieldId::STATUS, "online")?;
        }
        Kind::Dga => {
            set_indicator(&mut event, FieldId::SOURCE_FQDN, indicator)?;
            set_time(&mut event, FieldId::TIME_SOURCE, time)?;
            set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "dga-domain")?;
        }
    }
    Ok(event)
}
