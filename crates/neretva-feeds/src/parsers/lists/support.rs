//! Helpers shared by the line-oriented parsers (and the generic ones): IntelMQ's way of
//! cutting a report into lines (Python's `str.splitlines` and `str.strip`), the per-line
//! error type, and setting event fields with the field name kept for the error.

use neretva_event::{FieldId, Value};
use time::OffsetDateTime;

use crate::parsers::common::REPEATED_BYTES;
use crate::{Event, Parsed, ParsedEvent, Report};

/// Python's `str.strip()` without arguments, from neretva-event (which sanitizes values with it).
pub(crate) use neretva_event::py_strip;

/// Python's `str.strip(chars)`: removes any of `chars` from both ends.
#[inline]
pub(crate) fn py_strip_chars<'a>(text: &'a str, chars: &str) -> &'a str {
    text.trim_matches(|c| chars.contains(c))
}

/// The lines of a report as Python's `bytes.decode().splitlines()` cuts them: at `\n`,
/// `\r`, `\r\n`, `\v`, `\f`, U+001C to U+001E, U+0085, U+2028 and U+2029, without the
/// line breaks and without an empty last line after a final break.
///
/// Yields the 1-based line number and the line's bytes; the caller checks UTF-8 per line,
/// so one bad byte costs one line, not the report.
pub(crate) struct Lines<'a> {
    rest: &'a [u8],
    number: u64,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes, number: 0 }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (u64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.number += 1;
        let bytes = self.rest;
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            // Fast skip of ordinary bytes.
            if !matches!(byte, b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1e | 0xc2 | 0xe2) {
                index += 1;
                continue;
            }
            let break_len = match byte {
                b'\r' if bytes.get(index + 1) == Some(&b'\n') => 2,
                b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1e => 1,
                0xc2 if bytes.get(index + 1) == Some(&0x85) => 2,
                0xe2 if bytes.get(index + 1) == Some(&0x80)
                    && matches!(bytes.get(index + 2), Some(&0xa8) | Some(&0xa9)) =>
                {
                    3
                }
                _ => 0,
            };
            if break_len == 0 {
                index += 1;
                continue;
            }
            let line = &bytes[..index];
            self.rest = &bytes[index + break_len..];
            return Some((self.number, line));
        }
        self.rest = &[];
        Some((self.number, bytes))
    }
}

/// Why one line (or record) could not become an event.
#[derive(Debug)]
pub(crate) struct LineError {
    pub(crate) field: Option<String>,
    pub(crate) message: String,
}

impl LineError {
    pub(crate) fn new(field: Option<&str>, message: impl Into<String>) -> Self {
        Self { field: field.map(str::to_owned), message: message.into() }
    }

    /// An error about the line as a whole.
    pub(crate) fn line(message: impl Into<String>) -> Self {
        Self::new(None, message)
    }

    /// An error about one column or field.
    pub(crate) fn field(field: &str, message: impl Into<String>) -> Self {
        Self::new(Some(field), message)
    }
}

impl From<crate::ValueError> for LineError {
    /// The field goes into [`crate::ParseError::field`], so the message is the rest:
    /// `"300.1.1.1" is not an IP address`.
    fn from(error: crate::ValueError) -> Self {
        Self { message: error.value_and_reason(), field: Some(error.field) }
    }
}

/// Sets a field by name (for `extra.*` members), turning a rejected value into a
/// [`LineError`] naming the field. As IntelMQ, `""`, `"-"` and `"N/A"` are ignored.
#[inline]
pub(crate) fn set(event: &mut Event, field: &str, value: &str) -> Result<(), LineError> {
    event.set(field, value).map_err(LineError::from)
}

/// Sets a field known by id: the hot path.
#[inline]
pub(crate) fn set_id(event: &mut Event, id: FieldId, value: &str) -> Result<(), LineError> {
    event.set_id(id, value).map_err(LineError::from)
}

/// Sets the field a list is about (its address, network, URL…): unlike [`set_id`], a
/// value IntelMQ would ignore (`""`, `"-"`, `"N/A"`) is an error, since an event without
/// its indicator says nothing.
#[inline]
pub(crate) fn set_indicator(event: &mut Event, id: FieldId, value: &str) -> Result<(), LineError> {
    if neretva_event::IGNORED_VALUES.contains(&value) {
        return Err(LineError::field(id.spec().name, format!("{value:?} is no value")));
    }
    set_id(event, id, value)
}

/// Sets a date-time field.
#[inline]
pub(crate) fn set_time(event: &mut Event, id: FieldId, time: OffsetDateTime) -> Result<(), LineError> {
    event.set_value_id(id, Value::Time(time)).map_err(LineError::from)
}

/// Sets a field to a typed value.
#[inline]
pub(crate) fn set_value(event: &mut Event, id: FieldId, value: Value) -> Result<(), LineError> {
    event.set_value_id(id, value).map_err(LineError::from)
}

/// Sets a field or `extra.*` member from a JSON value (numbers, lists).
#[inline]
pub(crate) fn set_json(event: &mut Event, field: &str, value: serde_json::Value) -> Result<(), LineError> {
    event.set_json(field, value).map_err(LineError::from)
}

/// A new event carrying the report's feed fields and time of observation.
#[inline]
pub(crate) fn new_event(report: &Report) -> Event {
    let mut event = Event::new();
    report.stamp(&mut event);
    event
}

/// Records the outcome of one line: the event (with its raw text), or the error.
#[inline]
pub(crate) fn push(
    parsed: &mut Parsed,
    line: u64,
    raw: &str,
    line_text: &str,
    outcome: Result<Event, LineError>,
) {
    match outcome {
        Ok(mut event) => {
            event.set_raw(raw.as_bytes());
            parsed.events.push(ParsedEvent { event, line, raw: raw.to_owned() });
        }
        Err(error) => parsed.error(line, error.field.as_deref(), error.message, line_text),
    }
}

/// Records that a line is not valid UTF-8.
pub(crate) fn invalid_utf8(parsed: &mut Parsed, line: u64, bytes: &[u8]) {
    parsed.records += 1;
    let lossy = String::from_utf8_lossy(bytes);
    parsed.error(line, None, "line is not valid UTF-8", &lossy);
}

/// IntelMQ's loop over the lines of a list: every line, stripped as Python's `str.strip()`;
/// blank lines, and with `comment` the lines that start with it, are skipped; a line that is not
/// UTF-8 is an error; every other line is a record, handed to `record` with its 1-based number.
pub(crate) fn for_each_line(
    raw: &[u8],
    parsed: &mut Parsed,
    comment: Option<char>,
    mut record: impl FnMut(&mut Parsed, u64, &str),
) {
    for_each_stripped_line(raw, parsed, |parsed, number, line| {
        if comment.is_some_and(|c| line.starts_with(c)) {
            return;
        }
        parsed.records += 1;
        record(parsed, number, line);
    });
}

/// Every line that is not blank, stripped as Python's `str.strip()`, with its 1-based number,
/// comment lines included (for the lists that read their comments: Spamhaus's dates and
/// headers); a line that is not UTF-8 is an error. `line` counts the records it finds.
pub(crate) fn for_each_stripped_line(
    raw: &[u8],
    parsed: &mut Parsed,
    mut line: impl FnMut(&mut Parsed, u64, &str),
) {
    for (number, bytes) in Lines::new(raw) {
        let Ok(text) = std::str::from_utf8(bytes) else {
            invalid_utf8(parsed, number, bytes);
            continue;
        };
        let stripped = py_strip(text);
        if !stripped.is_empty() {
            line(parsed, number, stripped);
        }
    }
}

/// [`for_each_line`] for the lists whose bots neither strip their lines nor skip lines of white
/// space (CINS Army, BruteForceBlocker): empty lines and lines starting with `comment` are
/// skipped, every other line is a record as it stands.
pub(crate) fn for_each_line_as_is(
    raw: &[u8],
    parsed: &mut Parsed,
    comment: char,
    mut record: impl FnMut(&mut Parsed, u64, &str),
) {
    for (number, bytes) in Lines::new(raw) {
        let Ok(line) = std::str::from_utf8(bytes) else {
            invalid_utf8(parsed, number, bytes);
            continue;
        };
        if line.is_empty() || line.starts_with(comment) {
            continue;
        }
        parsed.records += 1;
        record(parsed, number, line);
    }
}

/// The comment lines a list has had so far, which IntelMQ's `recover_line` puts before every
/// later line in its `raw` (Spamhaus CERT, MalwarePatrol). The comments repeat in every event,
/// so a report's events repeat them up to [`REPEATED_BYTES`] bytes in all; past that (a hostile
/// report of long comments and many lines) an event's `raw` is its line alone.
#[derive(Default)]
pub(crate) struct Comments {
    text: String,
    repeated: usize,
}

impl Comments {
    /// A comment line, kept with a line feed after it.
    pub(crate) fn push(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// The `raw` of a line: the comments so far and the line.
    pub(crate) fn raw(&mut self, line: &str) -> String {
        if self.repeated.saturating_add(self.text.len()) > REPEATED_BYTES {
            return line.to_owned();
        }
        self.repeated += self.text.len();
        format!("{}{line}", self.text)
    }
}

/// The whole report as text, for formats parsed as one document; a report that is not
/// valid UTF-8 is one error (at the line of the first bad byte) and nothing is parsed.
pub(crate) fn whole_text<'a>(raw: &'a [u8], parsed: &mut Parsed) -> Option<&'a str> {
    match std::str::from_utf8(raw) {
        Ok(text) => Some(text),
        Err(error) => {
            let at = error.valid_up_to();
            let line = 1 + raw[..at].iter().filter(|&&b| b == b'\n').count() as u64;
            let start = raw[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let end = raw[at..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| at + i);
            let lossy = String::from_utf8_lossy(&raw[start..end]);
            parsed.error(line, None, format!("the report is not valid UTF-8 (byte {at})"), &lossy);
            None
        }
    }
}

/// The file name at the end of a URL's path (`posixpath.basename(urlparse(url).path)`).
pub(crate) fn url_file_name(url: &str) -> &str {
    let after_scheme = match url.find("://") {
        Some(index) => &url[index + 3..],
        None => url,
    };
    let path_and_more = match after_scheme.find('/') {
        Some(index) => &after_scheme[index..],
        None => "",
    };
    let path = match path_and_more.find(['?', '#']) {
        Some(index) => &path_and_more[..index],
        None => path_and_more,
    };
    match path.rfind('/') {
        Some(index) => &path[index + 1..],
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(u64, String)> {
        Lines::new(text.as_bytes()).map(|(n, l)| (n, String::from_utf8_lossy(l).into_owned())).collect()
    }

    #[test]
    fn splits_like_python() {
        assert_eq!(lines(""), vec![]);
        assert_eq!(lines("a"), vec![(1, "a".into())]);
        assert_eq!(lines("a\n"), vec![(1, "a".into())]);
        assert_eq!(
            lines("a\r\n\nb\rc\u{2028}d\u{85}e\x0bf"),
            vec![
                (1, "a".into()),
                (2, "".into()),
                (3, "b".into()),
                (4, "c".into()),
                (5, "d".into()),
                (6, "e".into()),
                (7, "f".into())
            ]
        );
        assert_eq!(lines("\n\n"), vec![(1, "".into()), (2, "".into())]);
    }

    #[test]
    fn strips_like_python() {
        assert_eq!(py_strip("\u{1c} a \u{a0}\t"), "a");
        assert_eq!(py_strip_chars("; Last", "; "), "Last");
    }

    #[test]
    fn comments_repeat_in_raw_up_to_the_budget() {
        let mut comments = Comments::default();
        let long = format!("#{}", "x".repeat((1 << 20) - 2));
        comments.push(&long);
        assert_eq!(comments.raw("a").len(), (1 << 20) + 1, "the comments and the line");
        let with_comments = (1..100).filter(|_| comments.raw("a").len() > 1).count();
        assert_eq!(with_comments, 63, "64 MiB of repeated comments in all, then the line alone");
        assert_eq!(comments.raw("b"), "b");
    }

    #[test]
    fn url_file_names() {
        assert_eq!(url_file_name("https://lists.blocklist.de/lists/imap.txt"), "imap.txt");
        assert_eq!(url_file_name("https://x.org/a/b.txt?x=/y"), "b.txt");
        assert_eq!(url_file_name("https://x.org"), "");
        assert_eq!(url_file_name("https://x.org/"), "");
    }
}

/// The data-driven cases of a group: `test_data/<group>/<parser>/{ok,err}/NNNN_name.txt`,
/// each rendered into `NNNN_name.txt.expected` (re-blessed with `UPDATE_EXPECT=1`).
///
/// A case file starts with optional `@key value` lines giving the report's metadata
/// (`@feed.url`, `@feed.name`, `@time.observation`, and `@config <JSON>` for configurable
/// parsers); the rest is the report's raw data. Cases under `ok/` must have no errors;
/// cases under `err/` must have errors and an event after the first bad line, since a bad
/// line never stops the report (or, for a report that is bad as a whole, an error for every
/// record).
#[cfg(test)]
pub(crate) mod cases {
    use std::path::{Path, PathBuf};

    use crate::{FeedParser, Parsed, Report};

    /// One case file, split into metadata and raw data.
    pub(crate) struct Case {
        pub(crate) path: PathBuf,
        pub(crate) parser: String,
        pub(crate) meta: Vec<(String, String)>,
        pub(crate) raw: Vec<u8>,
    }

    impl Case {
        pub(crate) fn meta(&self, key: &str) -> Option<&str> {
            self.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
        }

        pub(crate) fn report(&self) -> Report {
            let observation = self.meta("time.observation").unwrap_or("2024-05-10T00:00:00+00:00");
            let mut report = Report::new(
                self.meta("feed.name").unwrap_or(&self.parser),
                neretva_event::parse_time(observation),
                self.raw.clone(),
            );
            report.feed_url = self.meta("feed.url").map(str::to_owned);
            report
        }
    }

    fn read_case(path: &Path, parser: &str) -> Case {
        let bytes = std::fs::read(path).unwrap_or_default();
        let mut meta = Vec::new();
        let mut rest: &[u8] = &bytes;
        while rest.first() == Some(&b'@') {
            let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1);
            let line = String::from_utf8_lossy(&rest[1..end]);
            let line = line.trim_end_matches(['\r', '\n']);
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            meta.push((key.to_owned(), value.to_owned()));
            rest = &rest[end..];
        }
        Case { path: path.to_owned(), parser: parser.to_owned(), meta, raw: rest.to_vec() }
    }

    /// Every case of a group, sorted by path.
    pub(crate) fn list(group: &str) -> Vec<Case> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(group);
        let mut cases = Vec::new();
        let mut parsers: Vec<PathBuf> = std::fs::read_dir(&root)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.is_dir())
            .collect();
        parsers.sort();
        for dir in parsers {
            let parser = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            for kind in ["ok", "err"] {
                let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(kind))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|entry| entry.path())
                    .filter(|path| path.extension().is_some_and(|e| e == "txt"))
                    .collect();
                files.sort();
                cases.extend(files.iter().map(|path| read_case(path, &parser)));
            }
        }
        cases
    }

    /// Events as IntelMQ JSON lines, then the errors, then the counts.
    pub(crate) fn render(parsed: &Parsed) -> String {
        let mut out = String::new();
        for event in &parsed.events {
            out.push_str(&neretva_event::intelmq_json::to_line(&event.event));
            out.push('\n');
        }
        out.push_str("--- errors\n");
        for error in &parsed.errors {
            out.push_str(&format!("{error} [raw {:?}]\n", error.raw));
        }
        out.push_str(&format!(
            "--- {} records, {} events, {} errors\n",
            parsed.records,
            parsed.events.len(),
            parsed.errors.len()
        ));
        out
    }

    /// Runs every case of a group with the parser `build` makes for it.
    #[track_caller]
    pub(crate) fn check_all(group: &str, build: impl Fn(&Case) -> Box<dyn FeedParser>) {
        let cases = list(group);
        assert!(!cases.is_empty(), "no cases in test_data/{group}");
        for case in &cases {
            let parser = build(case);
            assert_eq!(parser.name(), case.parser, "{}", case.path.display());
            let parsed = parser.parse(&case.report());
            let mut expected = case.path.clone().into_os_string();
            expected.push(".expected");
            expect_test::expect_file![PathBuf::from(expected)].assert_eq(&render(&parsed));
            let is_err = case.path.parent().is_some_and(|p| p.ends_with("err"));
            if is_err {
                let first_error = parsed.errors.iter().map(|e| e.line).min();
                let Some(first_error) = first_error else {
                    panic!("{}: an err/ case without errors", case.path.display());
                };
                // Either a later line still gave an event, or the report as a whole is bad
                // and every record says so.
                assert!(
                    parsed.events.iter().any(|e| e.line > first_error)
                        || (parsed.events.is_empty() && parsed.errors.len() as u64 >= parsed.records),
                    "{}: no event after the first bad line {first_error}",
                    case.path.display()
                );
            } else {
                assert!(
                    parsed.errors.is_empty(),
                    "{}: an ok/ case with errors: {:?}",
                    case.path.display(),
                    parsed.errors
                );
            }
            // The event's `raw` is the base64 of `ParsedEvent::raw`.
            for event in &parsed.events {
                assert_eq!(
                    event.event.raw().as_deref(),
                    Some(event.raw.as_bytes()),
                    "{}: raw of line {}",
                    case.path.display(),
                    event.line
                );
            }
        }
    }
}
