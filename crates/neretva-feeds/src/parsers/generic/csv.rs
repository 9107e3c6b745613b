//! Generic CSV (IntelMQ's `GenericCsvParserBot`), configured by a column mapping.
//!
//! The configuration ([`GenericCsvConfig`]) takes IntelMQ's parameter names and shapes, so
//! a bot's `parameters` from IntelMQ's `runtime.yaml` (as JSON) work unchanged:
//! `columns` (a list or a comma-separated string; `__IGNORE__` or `""` skips a column,
//! `a|b` tries `a` then `b`), `columns_required`, `column_regex_search`, `compose_fields`,
//! `data_type` (`json`), `default_url_protocol`, `delimiter`, `filter_text` and
//! `filter_type`, `skip_header`, `time_format`, `type`, `type_translation` and
//! `default_fields`. [`GenericCsv::from_config`] reports every configuration error at once.
//!
//! Reading follows IntelMQ: lines whose first non-blank character is `#` and blank lines
//! are dropped, leading spaces and tabs of every line are removed (IntelMQ's regular
//! expressions do that), `skip_header` lines are kept for `raw`, and records are read as
//! Python's `csv` module reads them. `raw` is the record written back as CSV with commas
//! and the report's line ending, after the skipped header lines, as IntelMQ writes it.
//! A row with fewer values than columns leaves the missing columns unset and extra values
//! are ignored, as in IntelMQ.
//!
//! Differences from IntelMQ 3.5.0, all deliberate:
//! - `fuzzy` times (the default) are read by a deterministic subset of `dateutil` (see
//!   `lists::timefmt::fuzzy`); a date without year, month or day is an error instead of
//!   being completed from today's date.
//! - A report that is not valid UTF-8 has each line with invalid bytes reported and left
//!   out; IntelMQ drops the bytes and parses the rest of the line.
//! - Too few header lines for `skip_header` leave nothing to parse; IntelMQ's bot crashes.
//! - An `epoch_millis` time of other than 10, 12 or 13 digits is an error; IntelMQ
//!   silently leaves the time out.

use std::collections::BTreeMap;

use neretva_event::{FieldId, Value};
use serde::Deserialize;

use crate::parsers::generic::pycsv::{self, Record};
use crate::parsers::generic::pyfmt::{self, Piece};
use crate::parsers::lists::support::LineError;
use crate::parsers::lists::timefmt;
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// A list given as a list or as one comma-separated string (IntelMQ accepts both).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ListOrString {
    List(Vec<String>),
    Text(String),
}

/// A JSON object given as an object or as its JSON text; `""` counts as empty.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum MapOrJson {
    Map(BTreeMap<String, String>),
    Text(String),
}

/// `skip_header`: `true`/`false` or a number of lines.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SkipHeader {
    Flag(bool),
    Lines(u64),
}

/// The configuration of a generic CSV parser, with IntelMQ's parameter names.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GenericCsvConfig {
    /// The field of each column: a list, or one comma-separated string. `__IGNORE__` or
    /// an empty name skips the column; `a|b` tries `a`, then `b` if the value is invalid.
    pub columns: Option<ListOrString>,
    /// Whether each column must yield a valid value (default: all required).
    pub columns_required: Option<Vec<bool>>,
    /// Per field, a regular expression whose first match replaces the value.
    pub column_regex_search: Option<MapOrJson>,
    /// Fields composed from columns with Python `str.format` templates (`"{0}{1}"`).
    pub compose_fields: Option<BTreeMap<String, String>>,
    /// Per field, a conversion of the value: only `json` exists.
    pub data_type: Option<MapOrJson>,
    /// Prefixed to `*.url` values without `://` (default `http://`).
    pub default_url_protocol: Option<String>,
    /// The column delimiter, one character (default `,`).
    pub delimiter: Option<String>,
    /// With `filter_type`, keeps (`whitelist`) or drops (`blacklist`) rows containing
    /// this text.
    pub filter_text: Option<String>,
    /// `whitelist` or `blacklist`.
    pub filter_type: Option<String>,
    /// Header lines to skip (`true` is one).
    pub skip_header: Option<SkipHeader>,
    /// How `time.source` and `time.destination` columns are read: `fuzzy` (default),
    /// `timestamp`, `epoch_millis`, `windows_nt`, `utc_isoformat`, `from_format|<strptime
    /// format>` or `from_format_midnight|<strptime format>`.
    pub time_format: Option<String>,
    /// The default `classification.type`.
    #[serde(rename = "type")]
    pub classification_type: Option<String>,
    /// Maps values of a `classification.type` column to types.
    pub type_translation: Option<MapOrJson>,
    /// Fields set on every event unless a column set them (IntelMQ's `default_fields`).
    pub default_fields: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeFormat {
    Fuzzy,
    Timestamp,
    EpochMillis,
    WindowsNt,
    UtcIsoformat,
    FromFormat,
    FromFormatMidnight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    Keep,
    Drop,
}

/// How a column's value becomes a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conversion {
    Plain,
    /// `time.source` or `time.destination`, read per `time_format`.
    Time,
    /// A `*.url` field: the default protocol is prefixed when there is no `://`.
    Url,
    /// `classification.type` with a `type_translation`.
    Type,
}

/// One name of a column group, resolved once when the parser is built.
#[derive(Debug, Clone)]
struct FieldTarget {
    name: String,
    id: Option<FieldId>,
    conversion: Conversion,
    /// `data_type` `json`: the value is JSON text.
    json: bool,
    /// `column_regex_search`: the first match replaces the value.
    regex: Option<regex::Regex>,
}

/// What one name of a column group means.
#[derive(Debug, Clone)]
enum Target {
    Ignore,
    Field(FieldTarget),
}

#[derive(Debug, Clone)]
struct Column {
    targets: Vec<Target>,
    required: bool,
}

/// A generic CSV parser built from a [`GenericCsvConfig`].
#[derive(Debug, Clone)]
pub struct GenericCsv {
    columns: Vec<Column>,
    compose: Vec<(String, Vec<Piece>)>,
    default_url_protocol: String,
    delimiter: char,
    filter: Option<(String, Filter)>,
    skip_header: u64,
    time_format: TimeFormat,
    time_pattern: String,
    classification_type: Option<String>,
    type_translation: BTreeMap<String, String>,
    default_fields: Vec<(String, serde_json::Value)>,
    /// Set for the registered, unconfigured instance: every report is an error.
    unconfigured: bool,
}

fn map_or_json(name: &str, value: Option<&MapOrJson>, errors: &mut Vec<String>) -> BTreeMap<String, String> {
    match value {
        None => BTreeMap::new(),
        Some(MapOrJson::Map(map)) => map.clone(),
        Some(MapOrJson::Text(text)) if text.trim().is_empty() => BTreeMap::new(),
        Some(MapOrJson::Text(text)) => match serde_json::from_str::<BTreeMap<String, String>>(text) {
            Ok(map) => map,
            Err(error) => {
                errors.push(format!("{name}: not a JSON object of strings ({error}): {text:?}"));
                BTreeMap::new()
            }
        },
    }
}

/// Whether a name is an event field or an `extra.*` member.
pub(super) fn field_id(name: &str) -> Result<Option<FieldId>, String> {
    if let Some(key) = name.strip_prefix("extra.") {
        if key.is_empty() {
            return Err(format!("{name:?} has no key after `extra.`"));
        }
        return Ok(None);
    }
    match FieldId::from_name(name) {
        Some(id) => Ok(Some(id)),
        None => Err(format!("{name:?} is not an IntelMQ event field")),
    }
}

fn check_type(name: &str, value: &str, errors: &mut Vec<String>) {
    if let Err(error) = Event::new().set_id(FieldId::CLASSIFICATION_TYPE, value) {
        errors.push(format!("{name}: {error}"));
    }
}

impl GenericCsv {
    /// The registered instance without a column mapping: it parses nothing and reports
    /// that a configuration is needed.
    pub fn unconfigured() -> Self {
        Self {
            columns: Vec::new(),
            compose: Vec::new(),
            default_url_protocol: "http://".to_owned(),
            delimiter: ',',
            filter: None,
            skip_header: 0,
            time_format: TimeFormat::Fuzzy,
            time_pattern: String::new(),
            classification_type: None,
            type_translation: BTreeMap::new(),
            default_fields: Vec::new(),
            unconfigured: true,
        }
    }

    /// Builds a parser, reporting every problem of the configuration at once.
    pub fn from_config(config: GenericCsvConfig) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let names: Vec<String> = match &config.columns {
            None => {
                errors.push("columns: missing; list the field of each column".to_owned());
                Vec::new()
            }
            Some(ListOrString::List(list)) => list.clone(),
            Some(ListOrString::Text(text)) => text.split(',').map(|c| c.trim().to_owned()).collect(),
        };
        if config.columns.is_some() && names.is_empty() {
            errors.push("columns: empty; list the field of each column".to_owned());
        }
        let required = config.columns_required.clone().unwrap_or_else(|| vec![true; names.len()]);
        if required.len() != names.len() {
            errors.push(format!(
                "columns_required: has {} entries but columns has {}",
                required.len(),
                names.len()
            ));
        }
        let mut columns = Vec::with_capacity(names.len());
        for (index, group) in names.iter().enumerate() {
            let mut targets = Vec::new();
            for name in group.split('|') {
                if name == "__IGNORE__" || name.is_empty() {
                    targets.push(Target::Ignore);
                    continue;
                }
                match field_id(name) {
                    Ok(id) => targets.push(Target::Field(FieldTarget {
                        name: name.to_owned(),
                        id,
                        conversion: Conversion::Plain,
                        json: false,
                        regex: None,
                    })),
                    Err(error) => errors.push(format!("columns[{index}]: {error}")),
                }
            }
            columns.push(Column { targets, required: required.get(index).copied().unwrap_or(true) });
        }

        let mut regex_search = BTreeMap::new();
        for (field, pattern) in
            map_or_json("column_regex_search", config.column_regex_search.as_ref(), &mut errors)
        {
            match regex::Regex::new(&pattern) {
                Ok(regex) => {
                    regex_search.insert(field, regex);
                }
                Err(error) => errors
                    .push(format!("column_regex_search[{field:?}]: invalid regular expression: {error}")),
            }
        }

        let mut compose = Vec::new();
        for (field, template) in config.compose_fields.iter().flatten() {
            if let Err(error) = field_id(field) {
                errors.push(format!("compose_fields: {error}"));
            }
            match pyfmt::parse_template(template) {
                Ok(pieces) => compose.push((field.clone(), pieces)),
                Err(error) => errors.push(format!("compose_fields[{field:?}]: {error}")),
            }
        }

        let mut json_fields = Vec::new();
        for (field, kind) in map_or_json("data_type", config.data_type.as_ref(), &mut errors) {
            if kind != "json" {
                errors
                    .push(format!("data_type[{field:?}]: unknown conversion {kind:?}; only \"json\" exists"));
            }
            json_fields.push(field);
        }

        let delimiter = match config.delimiter.as_deref() {
            None => ',',
            Some(text) => {
                let mut chars = text.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if c != '"' && c != '\n' && c != '\r' => c,
                    _ => {
                        errors.push(format!(
                            "delimiter: must be one character other than a quote or line \
                             break, got {text:?}"
                        ));
                        ','
                    }
                }
            }
        };

        let filter_kind = match config.filter_type.as_deref() {
            None | Some("") => None,
            Some("whitelist") => Some(Filter::Keep),
            Some("blacklist") => Some(Filter::Drop),
            Some(other) => {
                errors.push(format!("filter_type: expected \"blacklist\" or \"whitelist\", got {other:?}"));
                None
            }
        };
        let filter = match (config.filter_text.as_deref(), filter_kind) {
            (Some(text), Some(kind)) if !text.is_empty() => Some((text.to_owned(), kind)),
            _ => None,
        };

        let skip_header = match config.skip_header {
            None | Some(SkipHeader::Flag(false)) => 0,
            Some(SkipHeader::Flag(true)) => 1,
            Some(SkipHeader::Lines(lines)) => lines,
        };

        let time_text = config.time_format.as_deref().unwrap_or("");
        let (time_name, time_pattern) = match time_text.split_once('|') {
            Some((name, pattern)) => (name, pattern),
            None => (time_text, ""),
        };
        let time_format = match time_name {
            "" | "fuzzy" => TimeFormat::Fuzzy,
            "timestamp" => TimeFormat::Timestamp,
            "epoch_millis" => TimeFormat::EpochMillis,
            "windows_nt" => TimeFormat::WindowsNt,
            "utc_isoformat" => TimeFormat::UtcIsoformat,
            "from_format" => TimeFormat::FromFormat,
            "from_format_midnight" => TimeFormat::FromFormatMidnight,
            other => {
                errors.push(format!(
                    "time_format: unknown {other:?}; expected fuzzy, timestamp, epoch_millis, \
                     windows_nt, utc_isoformat, from_format|<format> or \
                     from_format_midnight|<format>"
                ));
                TimeFormat::Fuzzy
            }
        };
        let wants_pattern = matches!(time_format, TimeFormat::FromFormat | TimeFormat::FromFormatMidnight);
        if wants_pattern && time_pattern.is_empty() {
            errors.push(format!("time_format: {time_name} needs a format: {time_name}|<format>"));
        } else if !wants_pattern && !time_pattern.is_empty() {
            errors.push(format!("time_format: {time_name} takes no format"));
        }

        let classification_type = config.classification_type.clone().filter(|t| !t.is_empty());
        if let Some(kind) = &classification_type {
            check_type("type", kind, &mut errors);
        }
        let type_translation = map_or_json("type_translation", config.type_translation.as_ref(), &mut errors);
        for (from, to) in &type_translation {
            check_type(&format!("type_translation[{from:?}]"), to, &mut errors);
        }

        for column in &mut columns {
            for target in &mut column.targets {
                let Target::Field(field) = target else { continue };
                let name = field.name.as_str();
                field.conversion = if matches!(name, "time.source" | "time.destination") {
                    Conversion::Time
                } else if name.ends_with(".url") {
                    Conversion::Url
                } else if name == "classification.type" && !type_translation.is_empty() {
                    Conversion::Type
                } else {
                    Conversion::Plain
                };
                field.json = json_fields.iter().any(|f| f == name);
                field.regex = regex_search.get(name).cloned();
            }
        }

        let mut default_fields: Vec<(String, serde_json::Value)> = Vec::new();
        let mut probe = Event::new();
        for (field, value) in config.default_fields.iter().flatten() {
            match probe.set_json(field, value.clone()) {
                Ok(()) => default_fields.push((field.clone(), value.clone())),
                Err(error) => errors.push(format!("default_fields: {error}")),
            }
        }
        if let Some(kind) = &classification_type {
            // IntelMQ's `type` is a default field that the parameter overrides.
            default_fields.retain(|(field, _)| field != "classification.type");
            default_fields.push(("classification.type".to_owned(), serde_json::Value::String(kind.clone())));
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            columns,
            compose,
            default_url_protocol: config.default_url_protocol.clone().unwrap_or_else(|| "http://".to_owned()),
            delimiter,
            filter,
            skip_header,
            time_format,
            time_pattern: time_pattern.to_owned(),
            classification_type,
            type_translation,
            default_fields,
            unconfigured: false,
        })
    }

    /// Reads a time as the configured `time_format` says.
    pub(crate) fn parse_time(&self, text: &str) -> Option<time::OffsetDateTime> {
        match self.time_format {
            TimeFormat::Fuzzy => timefmt::fuzzy(text),
            TimeFormat::Timestamp => timefmt::from_timestamp(text),
            TimeFormat::EpochMillis => timefmt::from_epoch_millis(text),
            TimeFormat::WindowsNt => timefmt::from_windows_nt(text),
            TimeFormat::UtcIsoformat => {
                neretva_event::parse_time(text).filter(|_| text.ends_with("+00:00") && text.contains('T'))
            }
            TimeFormat::FromFormat => timefmt::strptime(text, &self.time_pattern),
            TimeFormat::FromFormatMidnight => {
                timefmt::strptime(text, &self.time_pattern).map(|t| t.replace_time(time::Time::MIDNIGHT))
            }
        }
    }
}

/// IntelMQ's `parse()` clean-up: NUL characters removed, lines whose first non-blank is
/// `#` removed, leading spaces and tabs of every line removed, and blank lines removed.
/// Lines with invalid UTF-8 are reported and left out.
fn clean(raw: &[u8], parsed: &mut Parsed) -> pycsv::KeptLines {
    let mut kept = pycsv::KeptLines::with_capacity(raw.len());
    let mut number = 0u64;
    let mut rest = raw;
    while !rest.is_empty() {
        number += 1;
        let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        let line = match std::str::from_utf8(line) {
            Ok(line) => line,
            Err(_) => {
                parsed.records += 1;
                let lossy = String::from_utf8_lossy(line);
                parsed.error(number, None, "line is not valid UTF-8", lossy.trim_end());
                continue;
            }
        };
        let without_nul;
        let line = if line.contains('\0') {
            without_nul = line.replace('\0', "");
            without_nul.as_str()
        } else {
            line
        };
        let content = line.trim_start_matches([' ', '\t']);
        if content.starts_with('#') {
            continue;
        }
        if content.is_empty() || content == "\n" {
            continue;
        }
        kept.push(content, number);
    }
    kept
}

impl FeedParser for GenericCsv {
    fn name(&self) -> &'static str {
        "generic-csv"
    }

    fn description(&self) -> &'static str {
        "Generic CSV with a configured column mapping (IntelMQ's generic CSV parser options)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        if self.unconfigured {
            parsed.error(
                1,
                Some("columns"),
                "generic-csv needs a column mapping: build it with GenericCsv::from_config",
                "",
            );
            return parsed;
        }
        let cleaned = clean(&report.raw, &mut parsed);
        let ending = pycsv::line_ending(&cleaned.text);

        // Header lines, kept for `raw` without their line breaks.
        let mut header = String::new();
        let mut body = cleaned.text.as_str();
        let mut body_offset = 0;
        for index in 0..self.skip_header {
            if body.is_empty() {
                break;
            }
            let length = pycsv::physical_line_len(body);
            if index > 0 {
                header.push_str(ending);
            }
            header.push_str(body[..length].trim_end_matches(|c| ending.contains(c)));
            body = &body[length..];
            body_offset += length;
        }

        let mut reader = pycsv::Reader::new(body, self.delimiter);
        let mut record = Record::default();
        let mut scratch = Scratch::default();
        while let Some((_, text)) = reader.read(&mut record) {
            let consumed = body.len() - reader.rest().len();
            let start = body_offset + consumed - text.len();
            let number = cleaned.original_line(start);
            if record.is_empty() {
                continue;
            }
            if let Some((needle, kind)) = &self.filter {
                let joined = join(&record, self.delimiter, &mut scratch.joined);
                let contains = joined.contains(needle.as_str());
                if contains != (*kind == Filter::Keep) {
                    continue;
                }
            }
            parsed.records += 1;
            let line_text = text.trim_end_matches(['\r', '\n']);
            match self.event(report, &record, &mut scratch) {
                Ok(mut event) => {
                    let raw = &mut scratch.raw;
                    raw.clear();
                    if !header.is_empty() {
                        raw.push_str(&header);
                        raw.push_str(ending);
                    }
                    pycsv::write_record(raw, record.iter(), ending);
                    event.set_raw(raw.as_bytes());
                    parsed.events.push(ParsedEvent { event, line: number, raw: raw.clone() });
                }
                Err(error) => parsed.error(number, error.field.as_deref(), error.message, line_text),
            }
        }
        parsed
    }
}

/// Buffers reused from record to record.
#[derive(Default)]
struct Scratch {
    joined: String,
    value: String,
    raw: String,
}

fn join<'a>(record: &Record, delimiter: char, out: &'a mut String) -> &'a str {
    out.clear();
    for (index, field) in record.iter().enumerate() {
        if index > 0 {
            out.push(delimiter);
        }
        out.push_str(field);
    }
    out
}

impl GenericCsv {
    fn event(&self, report: &Report, record: &Record, scratch: &mut Scratch) -> Result<Event, LineError> {
        let mut event = report.new_event();
        for (column, value) in self.columns.iter().zip(record.iter()) {
            self.column(&mut event, column, value, scratch)?;
        }
        for (field, pieces) in &self.compose {
            if pyfmt::fill(pieces, |index| record.get(index), &mut scratch.value).is_none() {
                return Err(LineError::field(
                    field,
                    format!("the template names a column the row does not have ({} columns)", record.len()),
                ));
            }
            event.set(field, &scratch.value).map_err(LineError::from)?;
        }
        self.defaults(&mut event)?;
        Ok(event)
    }

    /// Sets the default fields (and `type`) the event does not have yet.
    pub(crate) fn defaults(&self, event: &mut Event) -> Result<(), LineError> {
        for (field, value) in &self.default_fields {
            if !event.contains(field) {
                event.set_json(field, value.clone()).map_err(LineError::from)?;
            }
        }
        Ok(())
    }

    /// A URL with the default protocol prefixed.
    pub(crate) fn with_url_protocol(&self, text: &str) -> String {
        let mut url = String::with_capacity(self.default_url_protocol.len() + text.len());
        url.push_str(&self.default_url_protocol);
        url.push_str(text);
        url
    }

    /// One column: tries the names of its group in turn, as IntelMQ's `parse_line` does.
    fn column(
        &self,
        event: &mut Event,
        column: &Column,
        value: &str,
        scratch: &mut Scratch,
    ) -> Result<(), LineError> {
        // IntelMQ: an empty value is never valid and ends the column.
        if value.is_empty() {
            return Ok(());
        }
        let value_text = value;
        let mut last_error: Option<LineError> = None;
        let mut last_name = "";
        for target in &column.targets {
            let Target::Field(field) = target else {
                return Ok(());
            };
            let (name, id) = (field.name.as_str(), field.id);
            last_name = name;
            let value = match &field.regex {
                Some(regex) => regex.find(value).map(|m| m.as_str()),
                None => Some(value),
            };
            let already = match id {
                Some(id) => event.get_id(id).is_some(),
                None => event.contains(name),
            };
            if already {
                return Err(LineError::field(name, format!("{name} is already set by an earlier column")));
            }
            let Some(text) = value else {
                // No match: IntelMQ skips a URL name and tries the next one; a time or JSON
                // conversion of nothing fails the line; any other field ignores it.
                if field.conversion == Conversion::Url {
                    continue;
                }
                if field.json || field.conversion == Conversion::Time {
                    return Err(LineError::field(
                        name,
                        format!("the regular expression of {name} does not match {value_text:?}"),
                    ));
                }
                return Ok(());
            };
            let outcome = if field.json {
                let json: serde_json::Value = serde_json::from_str(text)
                    .map_err(|error| LineError::field(name, format!("{text:?} is not JSON: {error}")))?;
                if field.conversion == Conversion::Time {
                    let text = json.as_str().map(str::to_owned).unwrap_or_else(|| json.to_string());
                    self.set_time(event, name, id, &text)?;
                    return Ok(());
                }
                event.set_json(name, json)
            } else {
                match field.conversion {
                    Conversion::Time => {
                        // IntelMQ converts the time before trying the field: a bad time fails
                        // the line even in an optional column.
                        self.set_time(event, name, id, text)?;
                        return Ok(());
                    }
                    Conversion::Url if !text.contains("://") => {
                        scratch.value.clear();
                        scratch.value.push_str(&self.default_url_protocol);
                        scratch.value.push_str(text);
                        set_field(event, name, id, &scratch.value)
                    }
                    Conversion::Type => match self.type_translation.get(text) {
                        Some(translated) => set_field(event, name, id, translated),
                        None if self.classification_type.is_none() => {
                            last_error =
                                Some(LineError::field(name, format!("{text:?} is not in type_translation")));
                            continue;
                        }
                        None => set_field(event, name, id, text),
                    },
                    Conversion::Url | Conversion::Plain => set_field(event, name, id, text),
                }
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err(error) => last_error = Some(LineError::from(error)),
            }
        }
        if column.required {
            return Err(last_error.unwrap_or_else(|| {
                LineError::field(last_name, format!("no valid value for the required column {last_name}"))
            }));
        }
        Ok(())
    }

    fn set_time(
        &self,
        event: &mut Event,
        name: &str,
        id: Option<FieldId>,
        text: &str,
    ) -> Result<(), LineError> {
        let time = self
            .parse_time(text)
            .ok_or_else(|| LineError::field(name, format!("cannot parse the time {text:?}")))?;
        match id {
            Some(id) => event.set_value_id(id, Value::Time(time)),
            None => event.set_value(name, Value::Time(time)),
        }
        .map_err(LineError::from)
    }
}

fn set_field(
    event: &mut Event,
    name: &str,
    id: Option<FieldId>,
    text: &str,
) -> Result<(), neretva_event::ValueError> {
    match id {
        Some(id) => event.set_id(id, text),
        None => event.set(name, text),
    }
}
