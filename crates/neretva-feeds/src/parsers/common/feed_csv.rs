//! Reading the CSV feeds of the structured-feed parsers (abuse.ch, PhishTank, MISP CSV), whose
//! header may be a `#` comment line.

use crate::Parsed;

/// One CSV line of a feed.
#[derive(Debug, Clone)]
pub(crate) struct CsvLine {
    /// 1-based line number.
    pub line: u64,
    /// The fields, trimmed, with surrounding quotes removed (some feeds write `, "x"`).
    pub fields: Vec<String>,
    /// The line's text.
    pub raw: String,
    /// Whether the line is a `#` comment.
    pub comment: bool,
}

impl CsvLine {
    /// The column names of a comment line (`# id,dateadded,url`), lower-cased.
    pub(crate) fn header_names(&self) -> Vec<String> {
        self.fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let f = if i == 0 { f.trim_start_matches('#') } else { f };
                unquote(f.trim()).to_ascii_lowercase()
            })
            .collect()
    }
}

fn unquote(field: &str) -> String {
    let t = field.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t[1..t.len() - 1].replace("\"\"", "\"")
    } else {
        t.to_owned()
    }
}

/// Reads every non-blank line of a CSV feed. Lines the CSV reader cannot read come back as
/// `Err((line, raw, message))`.
pub(crate) fn read_csv(input: &[u8], delimiter: u8) -> Vec<Result<CsvLine, (u64, String, String)>> {
    let text = String::from_utf8_lossy(input);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let bytes = text.as_bytes();
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(bytes);
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let start = reader.position().byte() as usize;
        let start_line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let end = (reader.position().byte() as usize).min(bytes.len());
                let raw = String::from_utf8_lossy(&bytes[start.min(end)..end]).trim_end().to_owned();
                out.push(Err((start_line, raw, format!("unreadable CSV: {e}"))));
                continue;
            }
        }
        let (line, record_start) =
            record.position().map_or((start_line, start), |p| (p.line(), p.byte() as usize));
        let end = (reader.position().byte() as usize).min(bytes.len());
        let raw = String::from_utf8_lossy(&bytes[record_start.min(end)..end])
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        if raw.trim().is_empty() {
            continue;
        }
        // Some feeds (ThreatFox) separate quoted fields with `, `, which a strict CSV reader splits
        // inside the quotes; single-line records are split leniently instead.
        let fields: Vec<String> = if raw.contains('\n') {
            record.iter().map(|f| unquote(&String::from_utf8_lossy(f))).collect()
        } else {
            split_lenient(&raw, char::from(delimiter))
        };
        let comment = raw.trim_start().starts_with('#');
        out.push(Ok(CsvLine { line, fields, raw, comment }));
    }
    out
}

/// A line of [`read_csv`], or `None` after recording a line the CSV reader could not read as an
/// error (it counts as a record).
pub(crate) fn readable(line: Result<CsvLine, (u64, String, String)>, parsed: &mut Parsed) -> Option<CsvLine> {
    match line {
        Ok(line) => Some(line),
        Err((number, raw, message)) => {
            parsed.records += 1;
            parsed.error(number, None, message, &raw);
            None
        }
    }
}

/// Splits one CSV line, allowing white space before a field's opening quote.
pub(crate) fn split_lenient(line: &str, delimiter: char) -> Vec<String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        break;
                    }
                } else {
                    field.push(c);
                }
            }
            // Anything between the closing quote and the delimiter is kept, as CSV readers do.
            while let Some(&c) = chars.peek() {
                if c == delimiter {
                    break;
                }
                field.push(c);
                chars.next();
            }
            fields.push(field.trim_end().to_owned());
        } else {
            while let Some(&c) = chars.peek() {
                if c == delimiter {
                    break;
                }
                field.push(c);
                chars.next();
            }
            fields.push(field.trim().to_owned());
        }
        if chars.next().is_none() {
            return fields;
        }
    }
}

/// The index of the first of `names` among the header's columns.
pub(crate) fn column(header: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|name| header.iter().position(|h| h == name))
}

/// The text of a field by optional index, empty when absent.
pub(crate) fn field(fields: &[String], index: Option<usize>) -> &str {
    index.and_then(|i| fields.get(i)).map_or("", String::as_str)
}
