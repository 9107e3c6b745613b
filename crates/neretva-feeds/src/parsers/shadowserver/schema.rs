//! The Shadowserver IntelMQ schema (`intelmq.json` of The-Shadowserver-Foundation/report_schema),
//! compiled once into per-report tables.

use std::collections::HashMap;

use super::convert::Conversion;

/// Where a mapped column's value goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A field of the IntelMQ data format, e.g. `source.ip`.
    Field(neretva_event::FieldId),
    /// `extra.` alone: `extra.<column>`.
    ExtraColumn,
    /// An `extra.*` key given in full.
    Extra(String),
    /// `false`: the column is ignored explicitly.
    Ignore,
    /// A name the IntelMQ 3.5.0 data format does not define: the value is left out.
    Unknown(String),
}

/// One `[intelmqkey, shadowkey, conversion?, pass_row?]` entry.
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    pub target: Target,
    pub column: String,
    pub conversion: Option<Conversion>,
}

/// One report type of the schema.
#[derive(Debug, Clone)]
pub struct ReportType {
    /// The schema's key, e.g. `scan_dns` or `event_sinkhole_http`.
    pub key: String,
    /// The name in report file names, e.g. `scan_dns` or `event4_sinkhole_http`.
    pub file_name: String,
    /// The feed name, e.g. `DNS-Open-Resolvers`.
    pub feed_name: String,
    /// Shadowserver's documentation page.
    pub url: Option<String>,
    pub(crate) required: Vec<Mapping>,
    pub(crate) optional: Vec<Mapping>,
    pub(crate) constants: Vec<(neretva_event::FieldId, String)>,
}

impl ReportType {
    /// The `classification.type` the report type sets, if constant.
    pub fn classification_type(&self) -> Option<&str> {
        self.constant("classification.type")
    }

    /// The `classification.taxonomy` the report type sets, if constant.
    pub fn classification_taxonomy(&self) -> Option<&str> {
        self.constant("classification.taxonomy")
    }

    fn constant(&self, field: &str) -> Option<&str> {
        self.constants.iter().find(|(id, _)| id.name() == field).map(|(_, v)| v.as_str())
    }
}

/// A compiled schema.
#[derive(Debug, Clone)]
pub struct Schema {
    pub(crate) types: Vec<ReportType>,
    by_file_name: HashMap<String, usize>,
    by_feed_name: HashMap<String, usize>,
    by_key: HashMap<String, usize>,
    /// `_meta.date_created`.
    pub(crate) date_created: Option<String>,
    /// Problems that do not stop the schema from loading (fields unknown to the data format).
    pub(crate) warnings: Vec<String>,
}

impl Schema {
    /// Compiles a schema, reporting every problem.
    pub fn from_json(bytes: &[u8]) -> Result<Schema, Vec<String>> {
        let root: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| vec![format!("the schema is not JSON: {e}")])?;
        let Some(object) = root.as_object() else {
            return Err(vec!["the schema is not a JSON object".to_owned()]);
        };
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut types = Vec::new();
        let mut date_created = None;
        for (key, entry) in object {
            if key == "_meta" {
                date_created = entry.get("date_created").and_then(|d| d.as_str()).map(str::to_owned);
                continue;
            }
            if key.starts_with('_') {
                continue;
            }
            match compile_report(key, entry, &mut warnings) {
                Ok(report) => types.push(report),
                Err(mut problems) => errors.append(&mut problems),
            }
        }
        let mut schema = Schema {
            types,
            by_file_name: HashMap::new(),
            by_feed_name: HashMap::new(),
            by_key: HashMap::new(),
            date_created,
            warnings,
        };
        for (index, report) in schema.types.iter().enumerate() {
            if let Some(previous) = schema.by_file_name.insert(report.file_name.clone(), index) {
                errors.push(format!(
                    "{}: file_name {:?} is also used by {}",
                    report.key, report.file_name, schema.types[previous].key
                ));
            }
            schema.by_feed_name.entry(report.feed_name.clone()).or_insert(index);
            schema.by_key.insert(report.key.clone(), index);
        }
        if schema.types.is_empty() && errors.is_empty() {
            errors.push("the schema defines no report types".to_owned());
        }
        if errors.is_empty() { Ok(schema) } else { Err(errors) }
    }

    /// A schema without report types, holding why.
    pub(crate) fn empty(errors: Vec<String>) -> Schema {
        Schema {
            types: Vec::new(),
            by_file_name: HashMap::new(),
            by_feed_name: HashMap::new(),
            by_key: HashMap::new(),
            date_created: None,
            warnings: errors,
        }
    }

    /// The report type of a file name (`scan_dns`).
    pub fn by_file_name(&self, name: &str) -> Option<&ReportType> {
        self.by_file_name.get(name).map(|&i| &self.types[i])
    }

    /// The report type of a feed name (`DNS-Open-Resolvers`).
    pub fn by_feed_name(&self, name: &str) -> Option<&ReportType> {
        self.by_feed_name.get(name).map(|&i| &self.types[i])
    }

    /// The report type of a schema key, file name or feed name, in that order.
    pub fn find(&self, name: &str) -> Option<&ReportType> {
        self.by_key
            .get(name)
            .map(|&i| &self.types[i])
            .or_else(|| self.by_file_name(name))
            .or_else(|| self.by_feed_name(name))
    }

    /// Every report type, in schema order.
    pub fn report_types(&self) -> &[ReportType] {
        &self.types
    }
}

fn compile_report(
    key: &str,
    entry: &serde_json::Value,
    warnings: &mut Vec<String>,
) -> Result<ReportType, Vec<String>> {
    let mut errors = Vec::new();
    let text = |name: &str, errors: &mut Vec<String>| -> String {
        match entry.get(name).and_then(|v| v.as_str()) {
            Some(v) => v.to_owned(),
            None => {
                errors.push(format!("{key}: {name} is missing or not a string"));
                String::new()
            }
        }
    };
    let feed_name = text("feed_name", &mut errors);
    let file_name = text("file_name", &mut errors);
    let url = entry.get("url").and_then(|v| v.as_str()).map(str::to_owned);
    let mut required = Vec::new();
    let mut optional = Vec::new();
    for (section, out) in [("required_fields", &mut required), ("optional_fields", &mut optional)] {
        let Some(items) = entry.get(section) else {
            if section == "required_fields" {
                errors.push(format!("{key}: {section} is missing"));
            }
            continue;
        };
        let Some(items) = items.as_array() else {
            errors.push(format!("{key}: {section} is not a list"));
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            let path = format!("{key}.{section}[{index}]");
            match compile_mapping(&path, item, warnings) {
                Ok(mapping) => out.push(mapping),
                Err(e) => errors.push(e),
            }
        }
    }
    let mut constants = Vec::new();
    if let Some(fields) = entry.get("constant_fields") {
        match fields.as_object() {
            Some(fields) => {
                for (name, value) in fields {
                    let Some(id) = neretva_event::FieldId::from_name(name) else {
                        if name.starts_with("extra.") {
                            errors.push(format!(
                                "{key}.constant_fields: extra keys are not supported ({name})"
                            ));
                        } else {
                            warnings.push(format!(
                                "{key}.constant_fields: {name} is not a field of the data format; left out"
                            ));
                        }
                        continue;
                    };
                    let value = match value {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => {
                            errors.push(format!("{key}.constant_fields.{name} is not a scalar"));
                            continue;
                        }
                    };
                    constants.push((id, value));
                }
            }
            None => errors.push(format!("{key}: constant_fields is not an object")),
        }
    }
    if errors.is_empty() {
        Ok(ReportType { key: key.to_owned(), file_name, feed_name, url, required, optional, constants })
    } else {
        Err(errors)
    }
}

fn compile_mapping(
    path: &str,
    item: &serde_json::Value,
    warnings: &mut Vec<String>,
) -> Result<Mapping, String> {
    let Some(parts) = item.as_array() else {
        return Err(format!("{path} is not a list"));
    };
    if parts.len() < 2 || parts.len() > 4 {
        return Err(format!("{path} must have 2 to 4 elements, has {}", parts.len()));
    }
    let column =
        parts[1].as_str().ok_or_else(|| format!("{path}[1] (the column) is not a string"))?.to_owned();
    let target = match &parts[0] {
        serde_json::Value::Bool(false) => Target::Ignore,
        serde_json::Value::String(name) if name == "extra." => Target::ExtraColumn,
        serde_json::Value::String(name) if name.starts_with("extra.") => Target::Extra(name.clone()),
        serde_json::Value::String(name) => match neretva_event::FieldId::from_name(name) {
            Some(id) if name != "extra" && name != "raw" => Target::Field(id),
            _ => {
                warnings.push(format!(
                    "{path}: {name} is not a field of the data format; the column's value is left out"
                ));
                Target::Unknown(name.clone())
            }
        },
        _ => return Err(format!("{path}[0] (the field) is neither a string nor false")),
    };
    let conversion = match parts.get(2) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(name)) => Some(
            Conversion::from_name(name)
                .ok_or_else(|| format!("{path}: unknown conversion function {name:?}"))?,
        ),
        Some(_) => return Err(format!("{path}[2] (the conversion) is not a string")),
    };
    match parts.get(3) {
        None | Some(serde_json::Value::Bool(_)) => {}
        Some(_) => return Err(format!("{path}[3] (pass the row) is not a boolean")),
    }
    Ok(Mapping { target, column, conversion })
}
