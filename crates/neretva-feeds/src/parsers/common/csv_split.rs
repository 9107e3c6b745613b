//! A CSV record splitter over text that reads exactly as the `csv` crate does with
//! `has_headers(false)`, `flexible(true)`, `quoting(true)` and `double_quote(true)`: fields
//! separated by commas, quoted fields with doubled quotes, a record ended by CR, LF or CRLF,
//! blank lines skipped, a quote inside an unquoted field kept, text after a closing quote
//! appended to the field, an unterminated quote running to the end of the input.
//!
//! It is the hot path of the Shadowserver parser: fields are found by scanning for the few bytes
//! that matter, the record's text is copied once into a buffer that is reused for every record,
//! and, because the input is `str` and every split falls on an ASCII byte, no field is checked
//! for UTF-8 again. Positions (byte offset and line of a record's start) are those the `csv`
//! crate reports, so error messages and `raw` texts stay as they were; a property test holds the
//! two readers to the same records and positions.

/// The fields of one record, kept in one buffer.
#[derive(Debug, Default)]
pub(crate) struct Record {
    text: String,
    ends: Vec<usize>,
    /// The 1-based line where reading of the record began (before blank lines it skipped).
    pub line: u64,
    /// The byte offset where reading of the record began.
    pub start: usize,
    /// The byte offset after the record (after its terminator, if it had one).
    pub end: usize,
}

impl Record {
    /// The text of field `index`.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.text.get(start..end)
    }

    /// Whether the record is one empty field (a line holding only `""`).
    pub(crate) fn is_blank(&self) -> bool {
        self.ends.len() == 1 && self.ends[0] == 0
    }

    /// Every field in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.ends.len()).map(|i| self.get(i).unwrap_or_default())
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

    /// Reads the next record into `record`; false at the end of the input.
    pub(crate) fn next_record(&mut self, record: &mut Record) -> bool {
        let input = self.input;
        let bytes = input.as_bytes();
        let len = bytes.len();
        record.text.clear();
        record.ends.clear();
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
                record.ends.push(record.text.len());
                break 'fields;
            }
            match bytes[i] {
                b'"' => {
                    i += 1;
                    // Inside quotes: copy up to the next quote.
                    loop {
                        let Some(quote) = find_byte(&bytes[i..], b'"') else {
                            record.text.push_str(&input[i..]);
                            i = len;
                            record.ends.push(record.text.len());
                            break 'fields;
                        };
                        record.text.push_str(&input[i..i + quote]);
                        i += quote + 1;
                        match bytes.get(i) {
                            None => {
                                record.ends.push(record.text.len());
                                break 'fields;
                            }
                            Some(b'"') => {
                                record.text.push('"');
                                i += 1;
                            }
                            Some(b',') => {
                                record.ends.push(record.text.len());
                                i += 1;
                                continue 'fields;
                            }
                            Some(b'\r' | b'\n') => {
                                record.ends.push(record.text.len());
                                i += 1;
                                break 'fields;
                            }
                            Some(_) => {
                                // Text after the closing quote joins the field.
                                let stop = unquoted_end(bytes, i);
                                record.text.push_str(&input[i..stop]);
                                i = stop;
                                record.ends.push(record.text.len());
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
                _ => {
                    let stop = unquoted_end(bytes, i);
                    record.text.push_str(&input[i..stop]);
                    i = stop;
                    record.ends.push(record.text.len());
                    if i == len {
                        break 'fields;
                    }
                    let terminator = bytes[i] != b',';
                    i += 1;
                    if terminator {
                        break 'fields;
                    }
                }
            }
        }
        self.finish(record, i);
        true
    }

    fn finish(&mut self, record: &mut Record, end: usize) {
        self.line += count_line_feeds(&self.input.as_bytes()[self.at..end]);
        self.at = end;
        record.end = end;
    }
}

/// The end of an unquoted field starting at `from`: the next comma, CR or LF, or the end.
#[inline]
fn unquoted_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|&b| matches!(b, b',' | b'\r' | b'\n')).map_or(bytes.len(), |n| from + n)
}

#[inline]
fn find_byte(bytes: &[u8], byte: u8) -> Option<usize> {
    bytes.iter().position(|&b| b == byte)
}

fn count_line_feeds(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b == b'\n')).sum()
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
        let mut record = Record::default();
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
