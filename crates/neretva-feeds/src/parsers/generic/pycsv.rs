//! Python's `csv` module (dialect `excel`, `strict=False`) as IntelMQ's generic CSV parser
//! uses it: a reader over a whole text, yielding records with the 1-based line on which
//! each starts, and the writer IntelMQ re-serialises a record with for its `raw` field.
//!
//! The reader keeps one record's fields in reused buffers, so reading allocates nothing per
//! record once the buffers have grown.

/// A record's fields: one text buffer and the end offset of each field.
#[derive(Debug, Default)]
pub(crate) struct Record {
    text: String,
    ends: Vec<usize>,
}

impl Record {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.text.get(start..end)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    fn save_field(&mut self) {
        self.ends.push(self.text.len());
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    StartRecord,
    StartField,
    InField,
    InQuotedField,
    QuoteInQuotedField,
    EatCrnl,
}

/// Reads records from a text as `csv.reader(io.StringIO(text, newline=''),
/// delimiter=…)` does.
pub(crate) struct Reader<'a> {
    text: &'a str,
    position: usize,
    delimiter: char,
    /// The 1-based physical line at `position`.
    line: u64,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str, delimiter: char) -> Self {
        Self { text, position: 0, delimiter, line: 1 }
    }

    /// The unread rest of the text.
    pub(crate) fn rest(&self) -> &'a str {
        &self.text[self.position..]
    }

    /// Reads the next record into `record`; returns the physical lines it spans (first
    /// line, text of those lines), or None at the end of the text. An empty line gives an
    /// empty record, as in Python.
    pub(crate) fn read(&mut self, record: &mut Record) -> Option<(u64, &'a str)> {
        record.clear();
        if self.position >= self.text.len() {
            return None;
        }
        let first_line = self.line;
        let start = self.position;
        let mut state = State::StartRecord;
        // Python feeds one physical line at a time, then an end-of-line marker.
        loop {
            let rest = &self.text[self.position..];
            if rest.is_empty() {
                // End of data inside a quoted field (the only state a line can leave
                // a record in): the field ends, as in Python without `strict`.
                if state == State::InQuotedField {
                    record.save_field();
                }
                break;
            }
            let line_len = physical_line_len(rest);
            let line = &rest[..line_len];
            self.position += line_len;
            self.line += 1;
            for c in line.chars() {
                state = self.process(state, c, record);
            }
            state = self.end_of_line(state, record);
            if state == State::StartRecord {
                break;
            }
        }
        Some((first_line, &self.text[start..self.position]))
    }

    fn process(&self, state: State, c: char, record: &mut Record) -> State {
        match state {
            State::StartRecord | State::StartField => {
                if state == State::StartRecord && (c == '\n' || c == '\r') {
                    return State::EatCrnl;
                }
                if c == '\n' || c == '\r' {
                    record.save_field();
                    State::EatCrnl
                } else if c == '"' {
                    State::InQuotedField
                } else if c == self.delimiter {
                    record.save_field();
                    State::StartField
                } else {
                    record.text.push(c);
                    State::InField
                }
            }
            State::InField => {
                if c == '\n' || c == '\r' {
                    record.save_field();
                    State::EatCrnl
                } else if c == self.delimiter {
                    record.save_field();
                    State::StartField
                } else {
                    record.text.push(c);
                    State::InField
                }
            }
            State::InQuotedField => {
                if c == '"' {
                    State::QuoteInQuotedField
                } else {
                    record.text.push(c);
                    State::InQuotedField
                }
            }
            State::QuoteInQuotedField => {
                if c == '"' {
                    record.text.push('"');
                    State::InQuotedField
                } else if c == self.delimiter {
                    record.save_field();
                    State::StartField
                } else if c == '\n' || c == '\r' {
                    record.save_field();
                    State::EatCrnl
                } else {
                    record.text.push(c);
                    State::InField
                }
            }
            State::EatCrnl => {
                if c == '\n' || c == '\r' {
                    State::EatCrnl
                } else {
                    // Python raises "new-line character seen in unquoted field"; a
                    // physical line never continues after its line break, so this cannot
                    // happen with whole lines. Start a new field to stay total.
                    record.text.push(c);
                    State::InField
                }
            }
        }
    }

    fn end_of_line(&self, state: State, record: &mut Record) -> State {
        match state {
            State::StartRecord | State::EatCrnl => State::StartRecord,
            State::StartField | State::InField | State::QuoteInQuotedField => {
                record.save_field();
                State::StartRecord
            }
            State::InQuotedField => State::InQuotedField,
        }
    }
}

/// The lines of a report that a bot's reader sees after its clean-up (comment lines left out,
/// say), with the 1-based line in the report of each, so a record's errors name the report's
/// line.
#[derive(Debug, Default)]
pub(crate) struct KeptLines {
    /// The kept lines, each with its line break.
    pub(crate) text: String,
    /// (offset in `text` where a kept line starts, its 1-based line in the report).
    starts: Vec<(usize, u64)>,
}

impl KeptLines {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self { text: String::with_capacity(bytes), starts: Vec::new() }
    }

    /// Keeps a line (with its line break) that is line `number` of the report.
    pub(crate) fn push(&mut self, line: &str, number: u64) {
        self.starts.push((self.text.len(), number));
        self.text.push_str(line);
    }

    /// The report's line of the kept text at `offset`.
    pub(crate) fn original_line(&self, offset: usize) -> u64 {
        match self.starts.binary_search_by_key(&offset, |(start, _)| *start) {
            Ok(index) => self.starts[index].1,
            Err(0) => 1,
            Err(index) => self.starts[index - 1].1,
        }
    }
}

/// The length of the physical line at the start of `text`, its line break included:
/// lines end at `\n`, `\r\n` or a lone `\r` (universal newlines, untranslated).
pub(crate) fn physical_line_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    match memchr2(b'\n', b'\r', bytes) {
        None => bytes.len(),
        Some(index) if bytes[index] == b'\r' && bytes.get(index + 1) == Some(&b'\n') => index + 2,
        Some(index) => index + 1,
    }
}

fn memchr2(a: u8, b: u8, bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&byte| byte == a || byte == b)
}

/// The line ending IntelMQ writes `raw` with: the only kind of line break in the text, or
/// `\r\n` when there are none or several kinds (Python's `StringIO.newlines`).
pub(crate) fn line_ending(text: &str) -> &'static str {
    let bytes = text.as_bytes();
    let (mut lf, mut cr, mut crlf) = (false, false, false);
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\r' if bytes.get(index + 1) == Some(&b'\n') => {
                crlf = true;
                index += 1;
            }
            b'\r' => cr = true,
            b'\n' => lf = true,
            _ => {}
        }
        index += 1;
    }
    match (lf, cr, crlf) {
        (true, false, false) => "\n",
        (false, true, false) => "\r",
        _ => "\r\n",
    }
}

/// Writes a record as `csv.writer(out, lineterminator=terminator)` does (delimiter `,`,
/// minimal quoting, doubled quotes), appending to `out`.
pub(crate) fn write_record<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>, terminator: &str) {
    let mut count = 0;
    let mut only_empty = true;
    for field in fields {
        if count > 0 {
            out.push(',');
        }
        count += 1;
        only_empty = field.is_empty();
        let quote = field.chars().any(|c| c == ',' || c == '"' || terminator.contains(c));
        if quote {
            out.push('"');
            for c in field.chars() {
                if c == '"' {
                    out.push('"');
                }
                out.push(c);
            }
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    // A record of one empty field is written `""`, so it is not an empty line.
    if count == 1 && only_empty {
        out.push_str("\"\"");
    }
    out.push_str(terminator);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str, delimiter: char) -> Vec<(u64, Vec<String>)> {
        let mut reader = Reader::new(text, delimiter);
        let mut record = Record::default();
        let mut out = Vec::new();
        while let Some((line, _)) = reader.read(&mut record) {
            out.push((line, record.iter().map(str::to_owned).collect()));
        }
        out
    }

    #[test]
    fn reads_like_python() {
        // Compared with CPython 3.11's csv.reader.
        assert_eq!(
            read_all("a,\"b\"c,\"d\"\"e\",f\"g\n\"h\ni\",j\n", ','),
            vec![
                (1, vec!["a".into(), "bc".into(), "d\"e".into(), "f\"g".into()]),
                (2, vec!["h\ni".into(), "j".into()]),
            ]
        );
        assert_eq!(read_all("\"abc", ','), vec![(1, vec!["abc".into()])]);
        assert_eq!(
            read_all("a,b\r\n\r\nc\rd", ','),
            vec![
                (1, vec!["a".into(), "b".into()]),
                (2, vec![]),
                (3, vec!["c".into()]),
                (4, vec!["d".into()]),
            ]
        );
        assert_eq!(read_all("a\t\tb,c\n", '\t'), vec![(1, vec!["a".into(), "".into(), "b,c".into()])]);
        assert_eq!(read_all("a,", ','), vec![(1, vec!["a".into(), "".into()])]);
    }

    #[test]
    fn writes_like_python() {
        let mut out = String::new();
        write_record(&mut out, ["a,b", "c\"d", "e\rf", "", " x"].into_iter(), "\n");
        write_record(&mut out, [""].into_iter(), "\n");
        assert_eq!(out, "\"a,b\",\"c\"\"d\",e\rf,, x\n\"\"\n");
    }
}
