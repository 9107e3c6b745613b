//! VX Vault (IntelMQ's `VXVaultParserBot`).
//!
//! The latest URLs that served malware: three header lines (`<pre>`, the title and the list's
//! time), a blank line, then one URL per line. Each line starting with `http` is a
//! `malware-distribution` event with `source.url`, its host as `source.ip` when it is an address
//! and `source.fqdn` otherwise, its explicit port as `source.port`, and the list's time as
//! `time.source`; other lines (the closing `</pre>`) are skipped. `raw` is the line. A URL whose
//! host or port the fields do not take is an error.

use neretva_event::FieldId;

use crate::parsers::lists::support::{
    LineError, Lines, invalid_utf8, new_event, push, set_id, set_indicator,
};
use crate::{Event, FeedParser, Parsed, Report};

/// The VX Vault URL list.
pub struct VxVault;

impl FeedParser for VxVault {
    fn name(&self) -> &'static str {
        "vxvault"
    }

    fn description(&self) -> &'static str {
        "VX Vault: URLs that served malware"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        // IntelMQ strips the report and takes its third line as the list's time.
        let lines: Vec<(u64, &[u8])> = Lines::new(&report.raw)
            .skip_while(|(_, bytes)| bytes.iter().all(u8::is_ascii_whitespace))
            .collect();
        let time = lines.get(2).and_then(|(_, bytes)| std::str::from_utf8(bytes).ok()).map(str::trim);
        for &(number, bytes) in lines.iter().skip(4) {
            let Ok(text) = std::str::from_utf8(bytes) else {
                invalid_utf8(&mut parsed, number, bytes);
                continue;
            };
            let line = text.trim();
            if !line.starts_with("http") {
                continue;
            }
            parsed.records += 1;
            let outcome = event(report, line, time);
            push(&mut parsed, number, line, line, outcome);
        }
        parsed
    }
}

fn event(report: &Report, url: &str, time: Option<&str>) -> Result<Event, LineError> {
    let mut event = new_event(report);
    let (host, port) = host_and_port(url);
    if event.set_id(FieldId::SOURCE_IP, host).is_err() || event.get_id(FieldId::SOURCE_IP).is_none() {
        set_indicator(&mut event, FieldId::SOURCE_FQDN, host)?;
    }
    set_id(&mut event, FieldId::CLASSIFICATION_TYPE, "malware-distribution")?;
    set_indicator(&mut event, FieldId::SOURCE_URL, url)?;
    if let Some(port) = port {
        // Python's `urlparse(url).port` takes 0 to 65535 only.
        if port.parse::<u16>().is_err() {
            return Err(LineError::field("source.port", format!("{port:?} is not a port (0 to 65535)")));
        }
        set_id(&mut event, FieldId::SOURCE_PORT, port)?;
    }
    let time = time.ok_or_else(|| LineError::line("the list has no time in its third line"))?;
    set_id(&mut event, FieldId::TIME_SOURCE, time)?;
    Ok(event)
}

/// Python's `urlparse(url).hostname` (lower case, without user, port or IPv6 brackets) and
/// the text of its port, when there is one.
fn host_and_port(url: &str) -> (&str, Option<&str>) {
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    let netloc = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = netloc.rsplit_once('@').map_or(netloc, |(_, host)| host);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').unwrap_or((bracketed, ""));
        return (host, after.strip_prefix(':').filter(|p| !p.is_empty()));
    }
    match host_port.split_once(':') {
        Some((host, port)) => (host, Some(port).filter(|p| !p.is_empty())),
        None => (host_port, None),
    }
}

#[cfg(test)]
mod tests {
    use super::host_and_port;

    #[test]
    fn host_and_port_as_python() {
        assert_eq!(host_and_port("http://example.com/bad/program.exe"), ("example.com", None));
        assert_eq!(host_and_port("http://u:p@192.0.2.1:8080/x"), ("192.0.2.1", Some("8080")));
        assert_eq!(host_and_port("http://[2001:db8::1]:81/"), ("2001:db8::1", Some("81")));
        assert_eq!(host_and_port("http://a.example:/"), ("a.example", None));
    }
}
