//! What must hold for any input to a feed parser, checked by the property tests and by the fuzz
//! targets (`fuzz/fuzz_targets/feed_*.rs`, which include this file): no panic; every error
//! within the report and with its raw text capped; every event written as IntelMQ JSON and read
//! back to the same line; and parsing in chunks giving the records, events and errors of the
//! whole report (the chunks' events without IntelMQ's `raw`, which the pipeline keeps apart).

use neretva_event::intelmq_json::{from_line, to_line};
use neretva_feeds::{FeedParser, Parsed, Report};

/// Chunk sizes tried against the whole report.
const CHUNK_SIZES: [usize; 2] = [1, 7];

/// Checks one parser on one report; panics with what broke.
pub(crate) fn check(parser: &dyn FeedParser, report: &Report) {
    let whole = parser.parse(report);
    let most_lines = report.raw.len() as u64 + 1;
    for error in &whole.errors {
        assert!(error.line <= most_lines, "error on line {} of a {most_lines}-byte report", error.line);
        assert!(error.raw.len() <= 4096, "error raw text of {} bytes", error.raw.len());
    }
    for parsed in &whole.events {
        let line = to_line(&parsed.event);
        let back = from_line(&line).unwrap_or_else(|errors| panic!("{line} does not read back: {errors:?}"));
        assert_eq!(to_line(&back), line, "an event changed on its way through IntelMQ JSON");
    }
    let expected = without_raw(&whole);
    for size in CHUNK_SIZES {
        let chunks: Vec<Parsed> = parser.parse_chunks(report, size).collect();
        assert_eq!(chunks.iter().map(|chunk| chunk.records).sum::<u64>(), whole.records, "chunks of {size}");
        let mut chunked = Parsed::default();
        for chunk in chunks {
            chunked.events.extend(chunk.events);
            chunked.errors.extend(chunk.errors);
        }
        assert_eq!(without_raw(&chunked), expected, "chunks of {size}");
    }
}

/// Line numbers with a text.
type Lines = Vec<(u64, String)>;

/// Each event's line number and IntelMQ JSON without `raw`, then each error's line and message.
fn without_raw(parsed: &Parsed) -> (Lines, Lines) {
    let events = parsed
        .events
        .iter()
        .map(|parsed| {
            let mut event = parsed.event.clone();
            event.remove("raw");
            (parsed.line, to_line(&event))
        })
        .collect();
    let errors = parsed.errors.iter().map(|error| (error.line, error.message.clone())).collect();
    (events, errors)
}
