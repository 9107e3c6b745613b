//! Neretva's feed parsers: one per feed or format, each a pure function from a [`Report`] to
//! [`Parsed`] events and errors.
//!
//! **Architecture Invariant:** no IO, no async runtime, no clock: everything a parser needs,
//! the time of observation included, is in the [`Report`].
//!
//! **Architecture Invariant:** parsing never fails as a whole. A bad line becomes a
//! [`ParseError`] with its line number and raw text, and the rest of the report is parsed.
//!
//! Parsers are registered in [`parsers`]; `neretva feeds list` prints that list.

pub mod parsers;

pub use neretva_event::{Event, Report, ValueError};

/// One event produced from a report, with where it came from.
#[derive(Debug, Clone)]
pub struct ParsedEvent {
    pub event: Event,
    /// The 1-based line (or record number for non-line formats) the event came from.
    pub line: u64,
    /// The raw text of the line or record, kept so a fixed parser can re-run and analysts can
    /// see what the feed said; IntelMQ's `raw` field is its base64 form.
    pub raw: String,
}

/// A line or record that could not be turned into an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {message}", field.as_ref().map(|f| format!(", {f}")).unwrap_or_default())]
pub struct ParseError {
    pub line: u64,
    /// The field or column concerned, when known.
    pub field: Option<String>,
    pub message: String,
    /// The raw text of the line, truncated to 4 KiB.
    pub raw: String,
}

/// Everything a parser made of a report.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub events: Vec<ParsedEvent>,
    pub errors: Vec<ParseError>,
    /// Data lines or records seen (comments and headers excluded).
    pub records: u64,
}

impl Parsed {
    /// Records an error for a line, truncating its raw text.
    pub fn error(&mut self, line: u64, field: Option<&str>, message: impl Into<String>, raw: &str) {
        self.errors.push(ParseError {
            line,
            field: field.map(str::to_owned),
            message: message.into(),
            raw: truncate(raw, 4096).to_owned(),
        });
    }
}

/// Cuts a string to at most `max` bytes at a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A feed parser.
pub trait FeedParser: Send + Sync {
    /// The stable name used in configuration and on the command line, e.g. `spamhaus-drop`.
    fn name(&self) -> &'static str;
    /// One line for `neretva feeds list`.
    fn description(&self) -> &'static str;
    /// Parses a whole report. Never panics, whatever the input.
    fn parse(&self, report: &Report) -> Parsed;

    /// Parses a report in chunks of about `records` records each, so a large report never sits
    /// in memory as events: the pipeline stores one chunk before it asks for the next.
    ///
    /// Events from chunks may lack IntelMQ's `raw` field (the pipeline keeps the raw line in
    /// [`ParsedEvent::raw`] instead); everything else is as [`FeedParser::parse`] makes it. The
    /// default is one chunk holding all of `parse`.
    fn parse_chunks<'a>(
        &'a self,
        report: &'a Report,
        records: usize,
    ) -> Box<dyn Iterator<Item = Parsed> + Send + 'a> {
        let _ = records;
        Box::new(std::iter::once(self.parse(report)))
    }
}

/// Records per chunk the pipeline asks a parser for ([`FeedParser::parse_chunks`]): a chunk of
/// Shadowserver events is then about 300 KB, built, processed and dropped while it is still in
/// the processor's nearer caches. Chunks of 64 to 1,024 records parse equally fast; 4,096
/// (about 5 MB) parsed about a tenth slower and 10,000 about a quarter slower.
pub const CHUNK_RECORDS: usize = 256;

/// Every built-in parser, sorted by name.
pub fn parsers() -> Vec<Box<dyn FeedParser>> {
    let mut all = parsers::all();
    all.sort_by_key(|parser| parser.name());
    all
}

/// The IntelMQ 3.5.0 parser bot each Neretva parser replaces, by its module under
/// `intelmq.bots.parsers` (`shadowserver.parser`): what a CERT that moves from IntelMQ configures
/// instead of the bot. Sorted by parser. The feeds IntelMQ reads with its generic CSV parser
/// (URLhaus, ThreatFox) or not at all (STIX indicators, MISP's CSV export, the generic JSON
/// mapping) have none.
pub const INTELMQ_BOTS: &[(&str, &str)] = &[
    ("abusech-feodotracker", "abusech.parser_feodotracker"),
    ("alienvault", "alienvault.parser"),
    ("alienvault-otx", "alienvault.parser_otx"),
    ("anubisnetworks", "anubisnetworks.parser"),
    ("bambenek", "bambenek.parser"),
    ("blocklistde", "blocklistde.parser"),
    ("cert-eu", "cert_eu.parser_csv"),
    ("certstream", "calidog.parser_certstream"),
    ("ci-army", "ci_army.parser"),
    ("cymru-cap", "cymru.parser_cap_program"),
    ("cymru-full-bogons", "cymru.parser_full_bogons"),
    ("cznic-haas", "cznic.parser_haas"),
    ("cznic-proki", "cznic.parser_proki"),
    ("danger-rulez", "danger_rulez.parser"),
    ("dataplane", "dataplane.parser"),
    ("dshield-asn", "dshield.parser_asn"),
    ("dshield-block", "dshield.parser_block"),
    ("eset", "eset.parser"),
    ("fraunhofer-dga", "fraunhofer.parser_dga"),
    ("generic-csv", "generic.parser_csv"),
    ("hibp-callback", "hibp.parser_callback"),
    ("intelmq-json", "json.parser"),
    ("key-value", "key_value.parser"),
    ("malwarepatrol", "malwarepatrol.parser_dansguardian"),
    ("microsoft-bingmurls", "microsoft.parser_bingmurls"),
    ("microsoft-ctip", "microsoft.parser_ctip"),
    ("misp-feed", "misp.parser"),
    ("n6", "n6.parser_n6stomp"),
    ("openphish", "openphish.parser"),
    ("openphish-commercial", "openphish.parser_commercial"),
    ("phishtank", "phishtank.parser"),
    ("shadowserver", "shadowserver.parser"),
    ("shodan", "shodan.parser"),
    ("spamhaus-cert", "spamhaus.parser_cert"),
    ("spamhaus-drop", "spamhaus.parser_drop"),
    ("surbl", "surbl.parser"),
    ("turris-greylist", "turris.parser"),
    ("vxvault", "vxvault.parser"),
    ("zoneh", "zoneh.parser"),
];

/// The IntelMQ parser bot a Neretva parser replaces ([`INTELMQ_BOTS`]).
pub fn intelmq_bot(parser: &str) -> Option<&'static str> {
    INTELMQ_BOTS.binary_search_by(|(name, _)| name.cmp(&parser)).ok().map(|at| INTELMQ_BOTS[at].1)
}

/// Finds a parser by name.
pub fn parser(name: &str) -> Option<Box<dyn FeedParser>> {
    parsers().into_iter().find(|parser| parser.name() == name)
}

/// Builds a parser with options from a feed's configuration (generic CSV and JSON mappings,
/// Shadowserver report types); without options this is [`parser`]. Returns every problem.
pub fn configured(
    name: &str,
    options: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Result<Box<dyn FeedParser>, Vec<String>> {
    if options.is_empty() {
        return parser(name).ok_or_else(|| vec![format!("unknown parser {name:?}")]);
    }
    let options = serde_json::Value::Object(options.clone().into_iter().collect());
    parsers::configured(name, &options)
        .unwrap_or_else(|| Err(vec![format!("parser {name:?} takes no options")]))
}

#[cfg(test)]
mod tests {
    use super::{INTELMQ_BOTS, intelmq_bot, parser};

    #[test]
    fn every_intelmq_bot_names_a_parser_once() {
        assert!(INTELMQ_BOTS.windows(2).all(|pair| pair[0].0 < pair[1].0), "sorted, each parser once");
        for (name, bot) in INTELMQ_BOTS {
            assert!(parser(name).is_some(), "{name} is not a parser");
            assert_eq!(intelmq_bot(name), Some(*bot));
        }
        assert_eq!(intelmq_bot("shadowserver"), Some("shadowserver.parser"));
        assert_eq!(intelmq_bot("stix-indicators"), None);
        assert_eq!(intelmq_bot("no-such-parser"), None);
    }
}
