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
