//! Shadowserver reports, driven by Shadowserver's IntelMQ schema.
//!
//! The schema (`data/shadowserver-intelmq.json`, a copy of `intelmq.json` of
//! The-Shadowserver-Foundation/report_schema) is embedded as the default and compiled once into a
//! table per report type; [`ShadowserverParser::from_schema_json`] loads a newer one. Each report
//! maps its CSV header to that table once; each line then only runs the conversions.
//!
//! The semantics are those of IntelMQ 3.5.0's `ShadowserverParserBot`:
//!
//! - The report type comes from the configured report type (IntelMQ's `feedname` parameter: a
//!   feed name, file name or schema key), else from the report's file name
//!   (`2019-01-01-scan_dns-country-geo.csv` → `scan_dns`), else (Neretva) from `feed.code` when it
//!   names a report type.
//! - A required column missing from the header fails every line; a required value that a
//!   conversion fails on or the field does not accept fails its line; an empty required value
//!   that the conversion maps to nothing leaves the field out.
//! - An optional column missing from the header is skipped. An optional value the field does not
//!   accept goes to `extra.<column>` as text. A conversion that fails (e.g. `convert_int` on `x`)
//!   fails the line.
//! - Columns not used by the schema go to `extra.<column>` as text when not empty.
//! - The constant fields are set last and override; `feed.name` is the report's, or the schema's
//!   when the report has none or `overwrite` is set. `feed.documentation` is the report type's
//!   page (the schema's `url`) unless the report has one.
//! - `raw` is the header (every name quoted) and the line, as IntelMQ's `recover_line_csv_dict`.
//!
//! Deliberate differences from IntelMQ:
//!
//! - A report whose type cannot be determined yields one [`crate::ParseError`] (IntelMQ logs an
//!   exception and drops the report).
//! - A schema field that the IntelMQ 3.5.0 data format does not define is left out and the column
//!   counts as used (IntelMQ 3.5.0 behaves the same, see fixture `test_field_not_in_idf`); the
//!   schema loader reports it in [`ShadowserverParser::schema_warnings`].
//! - A required value that a validating conversion maps to nothing although it is not empty (an
//!   invalid address for `validate_ip`, say) fails its line; IntelMQ leaves the field out and
//!   still emits the event, which then lacks e.g. `source.ip`.
//! - A record whose quote is never closed fails; Python's CSV reader takes the rest of the report
//!   into that field and IntelMQ emits an event of shifted columns.
//! - Times are parsed by Neretva's parser of the usual ISO 8601, RFC 2822 and epoch forms instead
//!   of dateutil's fuzzy parser; a naive time is UTC (IntelMQ uses the host's zone, UTC in
//!   practice).

pub(crate) mod convert;
mod schema;
pub(crate) mod timestamp;

use std::sync::{Arc, OnceLock};

use neretva_event::{EventBuilder, FieldId, FieldMemo, MemberSlot, PreparedField, Value};

pub use convert::Conversion;
pub use schema::{ReportType, Schema};

use crate::parsers::common::csv_split::{Record, Splitter};
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

use convert::{Row, RowColumns, Val};
use schema::Target;

/// The embedded schema, Shadowserver's as of the date in its `_meta.date_created`.
pub const EMBEDDED_SCHEMA: &str = include_str!("../../../data/shadowserver-intelmq.json");

fn embedded() -> &'static Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // The embedded schema is tested to compile; were it broken, the parser would know no
        // report type and say why in its warnings.
        Arc::new(Schema::from_json(EMBEDDED_SCHEMA.as_bytes()).unwrap_or_else(Schema::empty))
    })
}

/// The file names of the embedded schema's report types (`scan_dns`, `event4_sinkhole`, …), in
/// schema order, for `neretva feeds list`.
pub fn shadowserver_report_types() -> Vec<&'static str> {
    embedded().types.iter().map(|t| t.file_name.as_str()).collect()
}

/// The embedded schema's report types with their feed names and documentation.
pub fn shadowserver_report_type_info() -> &'static [ReportType] {
    &embedded().types
}

/// Extracts the report name from a Shadowserver file name as IntelMQ does
/// (`^(?:\d{4}-\d{2}-\d{2}-)?(\w+)(-\w+)*\.csv$`, group 1).
pub fn report_name_from_file_name(file_name: &str) -> Option<&str> {
    fn is_word(part: &str) -> bool {
        !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_')
    }
    fn first_part(stem: &str) -> Option<&str> {
        let mut parts = stem.split('-');
        let first = parts.next()?;
        (is_word(first) && parts.all(is_word)).then_some(first)
    }
    let stem = file_name.strip_suffix(".csv")?;
    let b = stem.as_bytes();
    let has_date = b.len() > 11
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && b[10] == b'-';
    if has_date && let Some(name) = first_part(&stem[11..]) {
        return Some(name);
    }
    first_part(stem)
}

/// The Shadowserver parser (`shadowserver`).
#[derive(Debug, Clone)]
pub struct ShadowserverParser {
    schema: Arc<Schema>,
    report_type: Option<String>,
    overwrite: bool,
}

impl Default for ShadowserverParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ShadowserverParser {
    /// A parser with the embedded schema that detects the report type of each report.
    pub fn new() -> Self {
        Self { schema: Arc::clone(embedded()), report_type: None, overwrite: false }
    }

    /// A parser with a schema in Shadowserver's IntelMQ format, e.g. a newer download; every
    /// problem of the schema is reported.
    pub fn from_schema_json(bytes: &[u8]) -> Result<Self, Vec<String>> {
        Ok(Self { schema: Arc::new(Schema::from_json(bytes)?), report_type: None, overwrite: false })
    }

    /// Parses every report as this report type (a schema key, file name or feed name), as
    /// IntelMQ's `feedname` parameter. An unknown name falls back to detection, as IntelMQ does.
    pub fn with_report_type(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.report_type = (!name.is_empty()).then_some(name);
        self
    }

    /// Whether the schema's feed name replaces the report's `feed.name` (IntelMQ's `overwrite`).
    pub fn with_overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Applies IntelMQ bot parameters: `feedname` and `overwrite` (others are ignored).
    pub fn with_intelmq_parameters(mut self, parameters: &serde_json::Value) -> Self {
        if let Some(name) = parameters.get("feedname").and_then(|v| v.as_str()) {
            self = self.with_report_type(name);
        }
        if let Some(overwrite) = parameters.get("overwrite").and_then(|v| v.as_bool()) {
            self.overwrite = overwrite;
        }
        self
    }

    /// The compiled schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The schema's report types.
    pub fn report_types(&self) -> &[ReportType] {
        &self.schema.types
    }

    /// The schema's `_meta.date_created`.
    pub fn schema_date(&self) -> Option<&str> {
        self.schema.date_created.as_deref()
    }

    /// What the schema loader noticed without rejecting the schema.
    pub fn schema_warnings(&self) -> &[String] {
        &self.schema.warnings
    }

    /// Resolves the report type of a report.
    pub fn detect(&self, report: &Report) -> Result<&ReportType, String> {
        if let Some(name) = &self.report_type
            && let Some(found) = self.schema.find(name)
        {
            return Ok(found);
        }
        if let Some(file_name) = report_file_name(report) {
            let Some(name) = report_name_from_file_name(file_name) else {
                return Err(format!(
                    "the report's file name {file_name:?} is not a Shadowserver report name"
                ));
            };
            return self.schema.by_file_name(name).ok_or_else(|| {
                format!("no Shadowserver report type {name:?} (from file name {file_name:?})")
            });
        }
        if let Some(code) = report.feed_code.as_deref()
            && let Some(found) = self.schema.find(code)
        {
            return Ok(found);
        }
        Err("no report type configured and the report has no file name (extra.file_name)".to_owned())
    }

    /// Parses a report as a given report type.
    pub fn parse_as(&self, report: &Report, report_type: &ReportType) -> Parsed {
        let mut parsed = Parsed::default();
        let mut input: &[u8] = &report.raw;
        let without_nul;
        if input.contains(&0) {
            without_nul = input.iter().copied().filter(|&b| b != 0).collect::<Vec<u8>>();
            input = &without_nul;
        }
        let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
        let text = String::from_utf8_lossy(input);
        let mut splitter = Splitter::new(&text);
        let mut record = Record::new(&text);
        // The header.
        loop {
            if !splitter.next_record(&mut record) {
                return parsed;
            }
            if !record.is_blank() {
                break;
            }
        }
        let header: Vec<String> = record.iter().map(str::to_owned).collect();
        let mut plan = Plan::new(report_type, &header, self.overwrite);
        let mut consumed = vec![false; header.len()];
        while splitter.next_record(&mut record) {
            if record.is_blank() {
                continue; // a blank line
            }
            parsed.records += 1;
            let line_text = &text[record.start..record.end];
            plan.line(report, &record, line_text, &mut consumed, &mut parsed, true);
        }
        parsed
    }
}

fn lossy_prefix(input: &[u8]) -> String {
    let end = input.iter().position(|&b| b == b'\n').unwrap_or(input.len()).min(4096);
    String::from_utf8_lossy(&input[..end]).trim_end().to_owned()
}

/// The report's file name (IntelMQ's `extra.file_name`).
fn report_file_name(report: &Report) -> Option<&str> {
    report.extra("file_name").and_then(serde_json::Value::as_str).filter(|name| !name.is_empty())
}

/// A report parsed chunk by chunk (see [`FeedParser::parse_chunks`]).
struct Chunks<'a> {
    report: &'a Report,
    input: &'a str,
    splitter: Splitter<'a>,
    record: Record<'a>,
    plan: Plan<'a>,
    consumed: Vec<bool>,
    records: usize,
    done: bool,
}

impl Iterator for Chunks<'_> {
    type Item = Parsed;

    fn next(&mut self) -> Option<Parsed> {
        if self.done {
            return None;
        }
        let mut parsed = Parsed::default();
        parsed.events.reserve(self.records.min(16_384));
        while (parsed.records as usize) < self.records {
            if !self.splitter.next_record(&mut self.record) {
                self.done = true;
                break;
            }
            if self.record.is_blank() {
                continue;
            }
            parsed.records += 1;
            let line_text = &self.input[self.record.start..self.record.end];
            self.plan.line(self.report, &self.record, line_text, &mut self.consumed, &mut parsed, false);
        }
        (parsed.records > 0 || !parsed.errors.is_empty()).then_some(parsed)
    }
}

impl ShadowserverParser {
    /// Streams a clean report (valid UTF-8, no NUL bytes) chunk by chunk; `None` when the
    /// report needs the whole-report path (cleaning, a missing header).
    fn chunks<'a>(&'a self, report: &'a Report, records: usize) -> Option<Chunks<'a>> {
        let report_type = self.detect(report).ok()?;
        let input: &[u8] = &report.raw;
        if input.contains(&0) {
            return None;
        }
        let input = std::str::from_utf8(input).ok()?;
        let input = input.strip_prefix('\u{feff}').unwrap_or(input);
        let mut splitter = Splitter::new(input);
        let mut record = Record::new(input);
        loop {
            if !splitter.next_record(&mut record) {
                return None;
            }
            if !record.is_blank() {
                break;
            }
        }
        let header: Vec<String> = record.iter().map(str::to_owned).collect();
        let plan = Plan::new(report_type, &header, self.overwrite);
        Some(Chunks {
            report,
            input,
            splitter,
            record,
            consumed: vec![false; header.len()],
            plan,
            records: records.max(1),
            done: false,
        })
    }
}

impl FeedParser for ShadowserverParser {
    fn name(&self) -> &'static str {
        "shadowserver"
    }

    fn description(&self) -> &'static str {
        "Shadowserver reports (CSV), every report type of Shadowserver's IntelMQ schema"
    }

    fn parse_chunks<'a>(
        &'a self,
        report: &'a Report,
        records: usize,
    ) -> Box<dyn Iterator<Item = Parsed> + Send + 'a> {
        match self.chunks(report, records) {
            Some(chunks) => Box::new(chunks),
            None => Box::new(std::iter::once(self.parse(report))),
        }
    }

    fn parse(&self, report: &Report) -> Parsed {
        match self.detect(report) {
            Ok(report_type) => self.parse_as(report, report_type),
            Err(message) => {
                let mut parsed = Parsed::default();
                let raw = lossy_prefix(&report.raw);
                parsed.error(1, Some("extra.file_name"), message, &raw);
                parsed
            }
        }
    }
}

/// One mapping resolved against the report's header.
struct Step {
    column: usize,
    conversion: Option<convert::Conversion>,
    target: Resolved,
    /// For a field: what the column's texts came to, so repeated values are sanitised once.
    memo: Option<FieldMemo>,
}

enum Resolved {
    Field(neretva_event::FieldId),
    /// A member by its full name, with its slot in the plan's builder when the name is valid.
    Extra(String, Option<MemberSlot>),
    Ignore,
    Drop,
}

impl Step {
    /// The field the step fills, for messages.
    fn target_name(&self) -> &str {
        match &self.target {
            Resolved::Field(id) => id.name(),
            Resolved::Extra(name, _) => name,
            Resolved::Ignore | Resolved::Drop => "(ignored)",
        }
    }
}

/// The report type's tables resolved against one report's header.
struct Plan<'a> {
    report_type: &'a ReportType,
    required: Vec<Step>,
    optional: Vec<Step>,
    missing_required: Option<String>,
    columns: RowColumns,
    /// The header's column names.
    header: Vec<String>,
    /// `extra.<column>` for every column, with its slot in `builder`.
    extra_names: Vec<(String, Option<MemberSlot>)>,
    /// The header as IntelMQ writes it in `raw`: every name quoted, then a line feed.
    raw_header: String,
    /// The event being built: a slot for every field and for every member this report's events
    /// may get, so a line's values go straight into place.
    builder: EventBuilder,
    /// The report type's feed name and constant fields, sanitised once for every line.
    feed_name: Result<PreparedField, crate::ValueError>,
    /// The report type's documentation page (the schema's `url`), IntelMQ's `feed.documentation`
    /// when the report has none.
    documentation: Option<PreparedField>,
    constants: Vec<(FieldId, Result<PreparedField, crate::ValueError>)>,
    overwrite: bool,
}

impl<'a> Plan<'a> {
    fn new(report_type: &'a ReportType, header: &[String], overwrite: bool) -> Self {
        // Python's DictReader keeps the last of duplicate names.
        let index = |name: &str| header.iter().rposition(|h| h == name);
        let resolve = |m: &schema::Mapping, column: usize| Step {
            column,
            conversion: m.conversion,
            memo: match &m.target {
                Target::Field(id) => Some(FieldMemo::new(*id)),
                _ => None,
            },
            target: match &m.target {
                Target::Field(id) => Resolved::Field(*id),
                Target::ExtraColumn => Resolved::Extra(format!("extra.{}", m.column), None),
                Target::Extra(name) => Resolved::Extra(name.clone(), None),
                Target::Ignore => Resolved::Ignore,
                Target::Unknown(_) => Resolved::Drop,
            },
        };
        let mut missing_required = None;
        let mut required = Vec::new();
        for m in &report_type.required {
            match index(&m.column) {
                Some(column) => required.push(resolve(m, column)),
                None => {
                    if missing_required.is_none() {
                        missing_required = Some(m.column.clone());
                    }
                }
            }
        }
        let mut optional: Vec<Step> = report_type
            .optional
            .iter()
            .filter_map(|m| index(&m.column).map(|column| resolve(m, column)))
            .collect();
        // Every member an event may get: the steps' and `extra.<column>` for every column.
        let mut extra_names: Vec<(String, Option<MemberSlot>)> =
            header.iter().map(|h| (format!("extra.{h}"), None)).collect();
        let builder = EventBuilder::new(
            required
                .iter()
                .chain(&optional)
                .filter_map(|step| match &step.target {
                    Resolved::Extra(name, _) => Some(name.as_str()),
                    _ => None,
                })
                .chain(extra_names.iter().map(|(name, _)| name.as_str())),
        );
        for step in required.iter_mut().chain(&mut optional) {
            if let Resolved::Extra(name, slot) = &mut step.target {
                *slot = builder.member_slot(name);
            }
        }
        for (name, slot) in &mut extra_names {
            *slot = builder.member_slot(name);
        }
        let mut raw_header = String::new();
        for (i, name) in header.iter().enumerate() {
            if i > 0 {
                raw_header.push(',');
            }
            raw_header.push('"');
            raw_header.push_str(&name.replace('"', "\"\""));
            raw_header.push('"');
        }
        raw_header.push('\n');
        Plan {
            report_type,
            required,
            optional,
            missing_required,
            columns: RowColumns::from_header(header),
            extra_names,
            header: header.to_vec(),
            raw_header,
            builder,
            feed_name: Event::prepare(FieldId::FEED_NAME, &report_type.feed_name),
            documentation: report_type
                .url
                .as_deref()
                .and_then(|url| Event::prepare(FieldId::FEED_DOCUMENTATION, url).ok()),
            constants: report_type
                .constants
                .iter()
                .map(|(id, value)| (*id, Event::prepare(*id, value)))
                .collect(),
            overwrite,
        }
    }

    /// Turns one record into an event or an error. With `intelmq_raw`, the event's `raw` field
    /// and [`ParsedEvent::raw`] are the header and the line, as IntelMQ writes them; without,
    /// the event has no `raw` field and `ParsedEvent::raw` is the line alone.
    fn line(
        &mut self,
        report: &Report,
        record: &Record<'_>,
        line_text: &str,
        consumed: &mut [bool],
        parsed: &mut Parsed,
        intelmq_raw: bool,
    ) {
        let line = record.line;
        let header = if intelmq_raw { self.raw_header.as_str() } else { "" };
        let header_len = header.len();
        let mut raw = String::with_capacity(header_len + line_text.len());
        raw.push_str(header);
        raw.push_str(line_text);
        let raw_len = raw.trim_end().len();
        raw.truncate(raw_len);
        let line_text = || raw[header_len.min(raw.len())..].to_owned();
        if let Some(column) = &self.missing_required {
            parsed.error(
                line,
                Some(column),
                format!(
                    "required column {column:?} not found in the header of report type {} ({})",
                    self.report_type.file_name, self.report_type.feed_name
                ),
                &line_text(),
            );
            return;
        }
        match self.fill(report, record, consumed) {
            Ok(()) => {
                if intelmq_raw {
                    self.builder.set_raw(raw.as_bytes());
                }
                let event = self.builder.build();
                parsed.events.push(ParsedEvent { event, line, raw });
            }
            Err((field, message)) => {
                self.builder.clear();
                parsed.error(line, Some(&field), message, &line_text());
            }
        }
    }

    /// Sets the fields of one record in the builder; on failure the field or column concerned
    /// and the message for the line's error.
    fn fill(
        &mut self,
        report: &Report,
        row: &Record<'_>,
        consumed: &mut [bool],
    ) -> Result<(), (String, String)> {
        consumed.fill(false);
        let builder = &mut self.builder;
        builder.stamp(report);
        if (self.overwrite || builder.get_id(FieldId::FEED_NAME).is_none())
            && let Ok(feed_name) = &self.feed_name
        {
            let _ = builder.set_prepared(feed_name);
        }
        // As IntelMQ 3.5.0: the report type's documentation page unless the report names one.
        if let Some(documentation) = &self.documentation
            && builder.get_id(FieldId::FEED_DOCUMENTATION).is_none()
        {
            let _ = builder.set_prepared(documentation);
        }
        // Required fields: any failure fails the line.
        for step in &mut self.required {
            let Some(value) = row.get(step.column) else { continue };
            let column = || self.header[step.column].clone();
            let converted = match step.conversion {
                Some(c) => {
                    convert::apply(c, value, row, &self.columns).map_err(|message| (column(), message))?
                }
                None => Some(Val::Str(value.into())),
            };
            // IntelMQ silently leaves a required field out when its conversion rejects the
            // value (an invalid `ip`, say); Neretva reports the line instead, so the event is
            // not lost without a trace. An empty value is still skipped as in IntelMQ, and so is
            // a value another step reads (the `ip` column of blocklist reports holds addresses
            // for `source.ip` or networks for `source.network`).
            let Some(converted) = converted else {
                let read_elsewhere = self.optional.iter().any(|other| other.column == step.column);
                if !value.trim().is_empty() && !read_elsewhere {
                    return Err((
                        column(),
                        format!("invalid value {value:?} for required field {}", step.target_name()),
                    ));
                }
                continue;
            };
            let result = match &step.target {
                Resolved::Field(id) => put_field(builder, *id, step.memo.as_mut(), converted),
                Resolved::Extra(name, slot) => put_extra(builder, name, *slot, converted),
                Resolved::Ignore | Resolved::Drop => Ok(()),
            };
            result.map_err(|e| (column(), e.to_string()))?;
            consumed[step.column] = true;
        }
        // Optional fields.
        for step in &mut self.optional {
            let Some(value) = row.get(step.column) else {
                consumed[step.column] = true;
                continue;
            };
            let converted = match step.conversion {
                Some(c) => convert::apply(c, value, row, &self.columns)
                    .map_err(|message| (self.header[step.column].clone(), message))?,
                None => Some(Val::Str(value.into())),
            };
            let Some(converted) = converted else {
                consumed[step.column] = true;
                continue;
            };
            consumed[step.column] = match &step.target {
                Resolved::Field(id) => put_field(builder, *id, step.memo.as_mut(), converted).is_ok(),
                Resolved::Extra(name, slot) => {
                    let _ = put_extra(builder, name, *slot, converted);
                    true
                }
                Resolved::Ignore | Resolved::Drop => true,
            };
        }
        for (id, value) in &self.constants {
            let result = match value {
                Ok(value) => builder.set_prepared(value),
                Err(e) => Err(e.clone()),
            };
            result.map_err(|e| (id.name().to_owned(), e.to_string()))?;
        }
        // Everything else goes to extra.
        for (column, used) in consumed.iter().enumerate() {
            if *used {
                continue;
            }
            if let Some(value) = row.get(column)
                && !value.is_empty()
            {
                let (name, slot) = &self.extra_names[column];
                let _ = put_extra(builder, name, *slot, Val::Str(value.into()));
            }
        }
        Ok(())
    }
}

impl Row for Record<'_> {
    fn get(&self, index: usize) -> Option<&str> {
        Record::get(self, index)
    }
}

/// Puts a converted value into a field of the data format; text through the field's memo.
fn put_field(
    builder: &mut EventBuilder,
    id: FieldId,
    memo: Option<&mut FieldMemo>,
    value: Val<'_>,
) -> Result<(), crate::ValueError> {
    match value {
        Val::Str(text) => match memo {
            Some(memo) if memo.field() == id => builder.set_id_memo(memo, &text),
            _ => builder.set_id(id, &text),
        },
        Val::Int(i) => builder.set_value_id(id, Value::Int(i)),
        Val::Float(f) => builder.set_value_id(id, Value::Float(f)),
        Val::Bool(b) => builder.set_value_id(id, Value::Bool(b)),
        Val::Ip(ip, _) => builder.set_value_id(id, Value::Ip(ip)),
        Val::Time(t) => builder.set_value_id(id, Value::Time(t)),
    }
}

/// Puts a converted value into `extra.*`, as IntelMQ's extra dictionary holds it: by its slot,
/// or by name when the name has none (then it is not a valid member name, and the builder says
/// so as an event would).
fn put_extra(
    builder: &mut EventBuilder,
    name: &str,
    slot: Option<MemberSlot>,
    value: Val<'_>,
) -> Result<(), crate::ValueError> {
    let value = match value {
        Val::Str(text) => Value::str(&text),
        Val::Int(i) => Value::Int(i),
        Val::Float(f) => Value::Float(f),
        Val::Bool(b) => Value::Bool(b),
        Val::Ip(_, text) => Value::str(text),
        Val::Time(t) => Value::str(&neretva_event::format_time(t)),
    };
    match slot {
        Some(slot) => builder.set_member(slot, value),
        None => builder.set_value(name, value),
    }
}

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(ShadowserverParser::new())]
}
