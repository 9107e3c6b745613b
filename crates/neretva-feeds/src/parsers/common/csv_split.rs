//! A CSV record splitter over text that reads exactly as the `csv` crate does with
//! `has_headers(false)`, `flexible(true)`, `quoting(true)` and `double_quote(true)`: fields
//! separated by commas, quoted fields with doubled quotes, a record ended by CR, LF or CRLF,
//! blank lines skipped, a quote inside an unquoted field kept, text after a closing quote
//! appended to the field, an unterminated quote running to the end of the input.
//!
//! It is the hot path of the Shadowserver parser: fields are found by scanning for the few bytes
//! that matter (`memchr`), a field is a range of the input unless it must be unquoted (then it is
//! copied into a buffer reused for every record), and, because the input is `str` and every
//! split falls on an ASCII byte, no field is checked for UTF-8 again. Positions (byte offset and line of a record's start) are those the `csv`
//! crate reports, so error messages and `raw` texts stay as they were; a property test holds the
//! two readers to the same records and positions.

/// Where a field's text is.
#[derive(Debug, Clone, Copy)]
enum Span {
    /// A range of the input: the field as it stands (unquoted, or quoted without doubled quotes).
    Input(usize, usize),
    /// A range of the record's buffer: a field that needed unquoting.
    Buffer(usize, usize),
}

/// The fields of one record: ranges of the input where a field can be read as it stands, and a
/// buffer, reused for every record, for the fields that had to be unquoted.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    input: &'a str,
    buffer: String,
    spans: Vec<Span>,
    /// The 1-based line where reading of the record began (before blank lines it skipped).
    pub line: u64,
    /// The byte offset where reading of the record began.
    pub start: usize,
    /// The byte offset after the record (after its terminator, if it had one).
    pub end: usize,
}

impl<'a> Record<'a> {
    pub(crate) fn new(input: &'a str) -> Self {
        Record { input, buffer: String::new(), spans: Vec::new(), line: 0, start: 0, end: 0 }
    }

    /// The text of field `index`.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        match *self.spans.get(index)? {
            Span::Input(start, end) => self.input.get(start..end),
            Span::Buffer(start, end) => self.buffer.get(start..end),
        }
    }

    /// Whether the record is one empty field (a line holding only `""`).
    pub(crate) fn is_blank(&self) -> bool {
        self.spans.len() == 1 && self.get(0).is_some_and(str::is_empty)
    }

    /// Every field in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.spans.len()).map(|i| self.get(i).unwrap_or_default())
    }
}

/// Reads records one after another from a text.
#[derive(Debug)]
pub(crate) struct Splitter<'a> {
    input: &'a str,
    at: usize,
    line: u64,
}

impl<'a> Splitter<'a> {
    pub(crate) fn new(input: &'a str) -> Self {
        Splitter { input, at: 0, line: 1 }
    }

    /// Reads the next record into `record` (made with the same input); false at the end of the
    /// input.
    pub(crate) fn next_record(&mut self, record: &mut Record<'a>) -> bool {
        let input = self.input;
        let bytes = input.as_bytes();
        let len = bytes.len();
        record.input = input;
        record.buffer.clear();
        record.spans.clear();
        record.start = self.at;
        record.line = self.line;
        let mut i = self.at;
        // Blank lines (any run of CR and LF) before the record.
        while i < len && matches!(bytes[i], b'\r' | b'\n') {
            i += 1;
        }
        if i == len {
            self.finish(record, i);
            return false;
        }
        'fields: loop {
            // At the start of a field.
            if i == len {
                record.spans.push(Span::Input(i, i));
                break 'fields;
            }
            if bytes[i] != b'"' {
                let stop = unquoted_end(bytes, i);
                record.spans.push(Span::Input(i, stop));
                i = stop;
                if i == len {
                    break 'fields;
                }
                let terminator = bytes[i] != b',';
                i += 1;
                if terminator {
                    break 'fields;
                }
                continue 'fields;
            }
            i += 1;
            let field_start = i;
            // Inside quotes. The common case: the closing quote ends the field, which is then a
            // range of the input.
            let Some(quote) = memchr::memchr(b'"', &bytes[i..]) else {
                record.spans.push(Span::Input(i, len));
                i = len;
                break 'fields;
            };
            i += quote + 1;
            match bytes.get(i) {
                None => {
                    record.spans.push(Span::Input(field_start, i - 1));
                    break 'fields;
                }
                Some(b',') => {
                    record.spans.push(Span::Input(field_start, i - 1));
                    i += 1;
                    continue 'fields;
                }
                Some(b'\r' | b'\n') => {
                    record.spans.push(Span::Input(field_start, i - 1));
                    i += 1;
                    break 'fields;
                }
                Some(_) => {}
            }
            // A doubled quote or text after the closing quote: unquote into the buffer.
            let buffer_start = record.buffer.len();
            record.buffer.push_str(&input[field_start..i - 1]);
            loop {
                match bytes.get(i) {
                    None => {
                        record.spans.push(Span::Buffer(buffer_start, record.buffer.len()));
                        break 'fields;
                    }
                    Some(b'"') => {
                        // A doubled quote: one quote, and the field goes on inside quotes.
                        record.buffer.push('"');
                        i += 1;
                        let Some(quote) = memchr::memchr(b'"', &bytes[i..]) else {
                            record.buffer.push_str(&input[i..]);
                            i = len;
                            record.spans.push(Span::Buffer(buffer_start, record.buffer.len()));
                            break 'fields;
                        };
                        record.buffer.push_str(&input[i..i + quote]);
                        i += quote + 1;
                    }
                    Some(b',') => {
                        record.spans.push(Span::Buffer(buffer_start, record.buffer.len()));
                        i += 1;
                        continue 'fields;
                    }
                    Some(b'\r' | b'\n') => {
                        record.spans.push(Span::Buffer(buffer_start, record.buffer.len()));
                        i += 1;
                        break 'fields;
                    }
                    Some(_) => {
                        // Text after the closing quote joins the field, up to the next comma or
                        // line end; quotes there are kept as they are.
                        let stop = unquoted_end(bytes, i);
                        record.buffer.push_str(&input[i..stop]);
                        i = stop;
                        record.spans.push(Span::Buffer(buffer_start, record.buffer.len()));
                        if i == len {
                            break 'fields;
                        }
                        let terminator = bytes[i] != b',';
                        i += 1;
                        if terminator {
                            break 'fields;
                        }
                        continue 'fields;
                    }
                }
            }
        }
        self.finish(record, i);
        true
    }

    fn finish(&mut self, record: &mut Record<'a>, end: usize) {
        self.line += memchr::memchr_iter(b'\n', &self.input.as_bytes()[self.at..end]).count() as u64;
        self.at = end;
        record.end = end;
    }
}

/// The end of an unquoted field starting at `from`: the next comma, CR or LF, or the end.
#[inline]
fn unquoted_end(bytes: &[u8], from: usize) -> usize {
    memchr::memchr3(b',', b'\r', b'\n', &bytes[from..]).map_or(bytes.len(), |n| from + n)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every record with its fields, start line, start byte and end byte, as the `csv` crate
    /// reads them.
    fn by_csv(input: &str) -> Vec<(Vec<String>, u64, usize, usize)> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .double_quote(true)
            .quoting(true)
            .from_reader(input.as_bytes());
        let mut record = csv::ByteRecord::new();
        let mut all = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            let position = record.position().unwrap();
            let fields = record.iter().map(|f| String::from_utf8(f.to_vec()).unwrap()).collect();
            all.push((fields, position.line(), position.byte() as usize, reader.position().byte() as usize));
        }
        all
    }

    fn by_splitter(input: &str) -> Vec<(Vec<String>, u64, usize, usize)> {
        let mut splitter = Splitter::new(input);
        let mut record = Record::new(input);
        let mut all = Vec::new();
        while splitter.next_record(&mut record) {
            let fields = record.iter().map(str::to_owned).collect();
            all.push((fields, record.line, record.start, record.end));
        }
        all
    }

    #[test]
    fn reads_as_the_csv_crate() {
        for input in [
            "",
            "\n",
            "a,b\n",
            "a,b",
            "\"a\",\"b,c\",\"d\"\"e\"\n1,2,3\r\n\r\n4,,\"\"\n",
            "\"x\"y,z\n\"open",
            "a\"b,c\r\rd\n\"\"\n",
            "\"multi\nline\",x\ny\n",
            "ž,\"đ\"\"ć\",č\n",
            ",\n,",
            "\"a\"\"",
        ] {
            assert_eq!(by_splitter(input), by_csv(input), "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn reads_any_text_as_the_csv_crate(
            parts in proptest::collection::vec(prop_oneof![
                Just("a"), Just("bc"), Just(","), Just("\""), Just("\n"), Just("\r"), Just(" "), Just("é"),
            ], 0..40)
        ) {
            let input: String = parts.concat();
            prop_assert_eq!(by_splitter(&input), by_csv(&input));
        }
    }
}
