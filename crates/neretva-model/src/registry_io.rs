//! Bulk import and export of the constituency as JSON and CSV.
//!
//! Both parsers are all-or-nothing: they check every record and every field in one pass
//! and return either a whole [`RegistryDocument`] or every [`ImportError`] found, each
//! with the line of the input it concerns. What can only be checked against the database
//! (names already taken, parents that are not in the file) is left to the store, which
//! gets the line of every organisation and asset record to report it.
//!
//! # JSON
//!
//! ```json
//! {"organisations": [
//!   {"name": "Elektroprijenos Neretva d.o.o.", "short_name": "EP-NER", "address": "...",
//!    "country": "BA", "sector": "energy", "subsector": "electricity",
//!    "entity_type": "essential", "authority_level": "State", "parent": "CERT-BIH",
//!    "contacts": [{"name": "...", "role": "abuse", "email": "abuse@ep-neretva.example.ba",
//!                  "phone": "+387 36 000 000", "languages": ["bs", "en"],
//!                  "pgp_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----...", "clearance": "TLP:RED"}],
//!    "assets": [{"kind": "cidr", "value": "192.0.2.0/26", "description": "..."}]}
//! ]}
//! ```
//!
//! Unknown fields are errors. `entity_type` defaults to `other`; an asset without `kind`
//! has its kind guessed from the value. Errors name the JSON path of the field, e.g.
//! `organisations[3].contacts[0].email`; syntax and type errors carry the line where
//! serde_json found them, other errors the line where the offending object starts.
//!
//! # CSV
//!
//! One file with a header row and one record per row; the `record` column says whether a
//! row is an `organisation`, a `contact` or an `asset`. The columns are [`CSV_COLUMNS`], in
//! any order; only `record` is required, and an unknown column is an error. Contact and
//! asset rows name their organisation's short name in `org` and may come before or after
//! it. `languages` is `;`-separated. Fields are trimmed. Line numbers are physical lines
//! (the header is line 1), also after quoted fields that span several lines.
//!
//! # Normalisation
//!
//! Empty optional fields become absent, OpenPGP keys are trimmed and end with one line
//! feed, duplicate languages are dropped. Exports list organisations by short name and
//! each organisation's assets in order of [`AssetValue`], so that exporting what an
//! import gave reproduces it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::asset::{AssetKind, AssetValue};
use crate::contact::{ContactFields, Language};
use crate::openpgp::parse_public_key;
use crate::org::{AuthorityLevels, EntityType, OrganisationFields};
use crate::{FieldError, check_optional_text};

/// The largest input accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;
/// The most records (organisations, contacts and assets together) in one input.
pub const MAX_RECORDS: usize = 100_000;
/// The most errors returned; a last error says when more were found.
pub const MAX_ERRORS: usize = 1_000;
/// The longest asset description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 500;

/// The CSV columns, in the order [`to_csv`] writes them.
pub const CSV_COLUMNS: [&str; 20] = [
    "record",
    "org",
    "name",
    "short_name",
    "address",
    "country",
    "sector",
    "subsector",
    "entity_type",
    "authority_level",
    "parent",
    "role",
    "email",
    "phone",
    "languages",
    "pgp_key",
    "clearance",
    "kind",
    "value",
    "description",
];

const ORG_KEYS: &[&str] = &[
    "name",
    "short_name",
    "address",
    "country",
    "sector",
    "subsector",
    "entity_type",
    "authority_level",
    "parent",
    "contacts",
    "assets",
];
const CONTACT_KEYS: &[&str] = &["name", "role", "email", "phone", "languages", "pgp_key", "clearance"];
const ASSET_KEYS: &[&str] = &["kind", "value", "description"];

const ORG_COLUMNS: &[&str] = &[
    "record",
    "org",
    "name",
    "short_name",
    "address",
    "country",
    "sector",
    "subsector",
    "entity_type",
    "authority_level",
    "parent",
];
const CONTACT_COLUMNS: &[&str] =
    &["record", "org", "name", "role", "email", "phone", "languages", "pgp_key", "clearance"];
const ASSET_COLUMNS: &[&str] = &["record", "org", "kind", "value", "description"];

/// A whole constituency, or the part of it in one import file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistryDocument {
    pub organisations: Vec<OrgRecord>,
}

/// An organisation with its contacts and assets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    /// Where the organisation's object or row starts in the input; 0 when not imported.
    pub line: u64,
    pub fields: OrgRecordFields,
    pub contacts: Vec<ContactFields>,
    pub assets: Vec<AssetRecord>,
}

/// [`OrganisationFields`] as in a file: the parent is named by its short name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRecordFields {
    pub name: String,
    pub short_name: String,
    pub address: Option<String>,
    pub country: String,
    pub sector: Option<String>,
    pub subsector: Option<String>,
    pub entity_type: EntityType,
    pub authority_level: String,
    /// The parent's short name: an organisation in the same file or already stored.
    pub parent: Option<String>,
}

impl OrgRecordFields {
    /// The fields to store, once the store has resolved the parent's short name.
    pub fn to_organisation_fields(&self, parent_id: Option<Uuid>) -> OrganisationFields {
        OrganisationFields {
            name: self.name.clone(),
            short_name: self.short_name.clone(),
            address: self.address.clone(),
            country: self.country.clone(),
            sector: self.sector.clone(),
            subsector: self.subsector.clone(),
            entity_type: self.entity_type,
            authority_level: self.authority_level.clone(),
            parent_id,
        }
    }
}

/// An asset as in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRecord {
    pub value: AssetValue,
    pub description: Option<String>,
    /// Where the asset's object or row starts in the input; 0 when not imported.
    pub line: u64,
}

impl RegistryDocument {
    /// Organisations, contacts and assets together.
    pub fn record_count(&self) -> usize {
        self.organisations.iter().map(|org| 1 + org.contacts.len() + org.assets.len()).sum()
    }

    /// Organisations whose parent is not in this document: the store must find it.
    pub fn unresolved_parents(&self) -> impl Iterator<Item = &OrgRecord> {
        let short_names: HashSet<&str> =
            self.organisations.iter().map(|org| org.fields.short_name.as_str()).collect();
        self.organisations.iter().filter(move |org| {
            org.fields.parent.as_deref().is_some_and(|parent| !short_names.contains(parent))
        })
    }
}

/// A problem in an import file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, {field}: {message}")]
pub struct ImportError {
    /// The line of the input, counting from 1; 0 when the error concerns the whole input.
    pub line: u64,
    /// The JSON path or CSV column of the offending field.
    pub field: String,
    /// What is wrong, lower-case, no full stop.
    pub message: String,
}

impl ImportError {
    fn new(line: u64, field: impl Into<String>, message: impl Into<String>) -> ImportError {
        ImportError { line, field: field.into(), message: message.into() }
    }
}

/// Parses and checks a JSON import file; OpenPGP keys are checked as of `now`.
pub fn parse_json(
    input: &[u8],
    levels: &AuthorityLevels,
    now: OffsetDateTime,
) -> Result<RegistryDocument, Vec<ImportError>> {
    check_size(input)?;
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = match std::str::from_utf8(input) {
        Ok(text) => text,
        Err(error) => {
            let line = line_at(input, error.valid_up_to());
            return Err(vec![ImportError::new(line, "document", "is not valid UTF-8")]);
        }
    };
    let document: JsonDocument<'_> = match serde_json::from_str(text) {
        Ok(document) => document,
        Err(error) => {
            let line = u64::try_from(error.line()).unwrap_or(0);
            return Err(vec![ImportError::new(line, "document", serde_message(&error))]);
        }
    };
    let mut json =
        JsonReader { lines: LineCounter::new(text.as_bytes()), errors: Vec::new(), levels, now, records: 0 };
    let mut drafts = Vec::new();
    for (index, raw) in document.organisations.into_iter().enumerate() {
        match json.organisation(raw, index) {
            Ok(Some(draft)) => drafts.push(draft),
            Ok(None) => {}
            Err(LimitHit) => return Err(finish_errors(json.errors)),
        }
    }
    finish(drafts, json.errors)
}

/// Parses and checks a CSV import file; OpenPGP keys are checked as of `now`.
pub fn parse_csv(
    input: &[u8],
    levels: &AuthorityLevels,
    now: OffsetDateTime,
) -> Result<RegistryDocument, Vec<ImportError>> {
    check_size(input)?;
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(input);
    let mut errors = Vec::new();
    let mut record = csv::ByteRecord::new();

    let header = match reader.read_byte_record(&mut record) {
        Ok(true) => record.clone(),
        Ok(false) => {
            return Err(vec![ImportError::new(1, "header", "the file is empty; a header row is required")]);
        }
        Err(error) => return Err(vec![csv_error(&error)]),
    };
    let mut lines = LineCounter::new(input);
    let header_line = lines.line_of_record(&header);
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    for (position, name) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let known = CSV_COLUMNS.iter().find(|column| **column == name).copied();
        match known {
            None if name.is_empty() => errors.push(ImportError::new(
                header_line,
                "header",
                format!("column {} has no name", position + 1),
            )),
            None => errors.push(ImportError::new(
                header_line,
                "header",
                format!("unknown column {name:?}; known columns: {}", CSV_COLUMNS.join(", ")),
            )),
            Some(column) if columns.contains(&Some(column)) => errors.push(ImportError::new(
                header_line,
                "header",
                format!("column {column:?} appears more than once"),
            )),
            Some(_) => {}
        }
        columns.push(known.filter(|column| !columns.contains(&Some(*column))));
    }
    if !columns.contains(&Some("record")) {
        errors.push(ImportError::new(
            header_line,
            "header",
            "the column \"record\" is required: organisation, contact or asset",
        ));
        return Err(finish_errors(errors));
    }

    let mut csv = CsvReader { errors, levels, now, drafts: Vec::new(), pending: Vec::new() };
    let mut records = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                csv.errors.push(csv_error(&error));
                return Err(finish_errors(csv.errors));
            }
        }
        let line = lines.line_of_record(&record);
        if record.iter().all(<[u8]>::is_empty) {
            continue;
        }
        records += 1;
        if records > MAX_RECORDS {
            csv.errors.push(too_many_records(line));
            return Err(finish_errors(csv.errors));
        }
        if record.len() != columns.len() {
            csv.errors.push(ImportError::new(
                line,
                "row",
                format!("has {} fields, the header has {}", record.len(), columns.len()),
            ));
            continue;
        }
        let mut row = CsvRow { line, values: HashMap::new() };
        for (column, value) in columns.iter().zip(record.iter()) {
            let Some(column) = column else { continue };
            match std::str::from_utf8(value) {
                Ok("") => {}
                Ok(value) => {
                    row.values.insert(column, value.replace("\r\n", "\n"));
                }
                Err(_) => csv.errors.push(ImportError::new(line, *column, "is not valid UTF-8")),
            }
        }
        csv.row(row);
    }
    csv.attach_pending();
    finish(csv.drafts, csv.errors)
}

/// Writes the document as pretty-printed JSON in the import format.
pub fn to_json(doc: &RegistryDocument) -> Vec<u8> {
    let out = JsonDocumentOut {
        organisations: sorted(doc)
            .into_iter()
            .map(|org| JsonOrgOut {
                name: &org.fields.name,
                short_name: &org.fields.short_name,
                address: org.fields.address.as_deref(),
                country: &org.fields.country,
                sector: org.fields.sector.as_deref(),
                subsector: org.fields.subsector.as_deref(),
                entity_type: org.fields.entity_type.as_str(),
                authority_level: &org.fields.authority_level,
                parent: org.fields.parent.as_deref(),
                contacts: org
                    .contacts
                    .iter()
                    .map(|contact| JsonContactOut {
                        name: &contact.name,
                        role: contact.role.as_deref(),
                        email: &contact.email,
                        phone: contact.phone.as_deref(),
                        languages: contact.languages.iter().map(|language| language.tag()).collect(),
                        pgp_key: contact.pgp_key.as_deref(),
                        clearance: contact.clearance.map(|tlp| tlp.label()),
                    })
                    .collect(),
                assets: sorted_assets(org)
                    .into_iter()
                    .map(|asset| JsonAssetOut {
                        kind: asset.value.kind().as_str(),
                        value: asset.value.to_string(),
                        description: asset.description.as_deref(),
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&out).expect("serialising strings to memory cannot fail");
    bytes.push(b'\n');
    bytes
}

/// Writes the document as CSV in the import format, with every column.
pub fn to_csv(doc: &RegistryDocument) -> Vec<u8> {
    let mut writer =
        csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let mut write = |pairs: &[(&str, &str)]| {
        let row = CSV_COLUMNS
            .map(|column| pairs.iter().find(|(name, _)| *name == column).map_or("", |(_, value)| *value));
        writer.write_record(row).expect("writing CSV to memory cannot fail");
    };
    write(&CSV_COLUMNS.map(|column| (column, column)));
    for org in sorted(doc) {
        let fields = &org.fields;
        let short_name = fields.short_name.as_str();
        write(&[
            ("record", "organisation"),
            ("org", short_name),
            ("name", &fields.name),
            ("short_name", short_name),
            ("address", fields.address.as_deref().unwrap_or("")),
            ("country", &fields.country),
            ("sector", fields.sector.as_deref().unwrap_or("")),
            ("subsector", fields.subsector.as_deref().unwrap_or("")),
            ("entity_type", fields.entity_type.as_str()),
            ("authority_level", &fields.authority_level),
            ("parent", fields.parent.as_deref().unwrap_or("")),
        ]);
        for contact in &org.contacts {
            let languages: Vec<&str> = contact.languages.iter().map(|language| language.tag()).collect();
            write(&[
                ("record", "contact"),
                ("org", short_name),
                ("name", &contact.name),
                ("role", contact.role.as_deref().unwrap_or("")),
                ("email", &contact.email),
                ("phone", contact.phone.as_deref().unwrap_or("")),
                ("languages", &languages.join(";")),
                ("pgp_key", contact.pgp_key.as_deref().unwrap_or("")),
                ("clearance", contact.clearance.map_or("", |tlp| tlp.label())),
            ]);
        }
        for asset in sorted_assets(org) {
            write(&[
                ("record", "asset"),
                ("org", short_name),
                ("kind", asset.value.kind().as_str()),
                ("value", &asset.value.to_string()),
                ("description", asset.description.as_deref().unwrap_or("")),
            ]);
        }
    }
    writer.into_inner().expect("writing CSV to memory cannot fail")
}

fn sorted(doc: &RegistryDocument) -> Vec<&OrgRecord> {
    let mut organisations: Vec<&OrgRecord> = doc.organisations.iter().collect();
    organisations.sort_by(|a, b| a.fields.short_name.cmp(&b.fields.short_name));
    organisations
}

fn sorted_assets(org: &OrgRecord) -> Vec<&AssetRecord> {
    let mut assets: Vec<&AssetRecord> = org.assets.iter().collect();
    assets.sort_by(|a, b| a.value.cmp(&b.value));
    assets
}

#[derive(Serialize)]
struct JsonDocumentOut<'a> {
    organisations: Vec<JsonOrgOut<'a>>,
}

#[derive(Serialize)]
struct JsonOrgOut<'a> {
    name: &'a str,
    short_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<&'a str>,
    country: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sector: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subsector: Option<&'a str>,
    entity_type: &'static str,
    authority_level: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<&'a str>,
    contacts: Vec<JsonContactOut<'a>>,
    assets: Vec<JsonAssetOut<'a>>,
}

#[derive(Serialize)]
struct JsonContactOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    languages: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pgp_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clearance: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonAssetOut<'a> {
    kind: &'static str,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

/// The top level of a JSON file; the organisations are checked one by one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDocument<'a> {
    #[serde(borrow)]
    organisations: Vec<&'a RawValue>,
}

/// A JSON object's members in order, duplicates kept, values unparsed.
struct JsonObject<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for JsonObject<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<JsonObject<'a>, D::Error> {
        struct ObjectVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ObjectVisitor<'a> {
            type Value = JsonObject<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<JsonObject<'a>, M::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    members.push((key, value));
                }
                Ok(JsonObject(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

/// The input went over [`MAX_RECORDS`]; the error is already recorded.
struct LimitHit;

/// An organisation read from a file, before the checks across organisations.
struct Draft {
    record: OrgRecord,
    /// The path of the organisation for error fields: `organisations[3]`, or empty in CSV.
    path: String,
    /// The paths of the assets, parallel to `record.assets`.
    asset_paths: Vec<String>,
}

/// Joins a path and a field name: `organisations[3].name`, or just `name` in CSV.
fn join(path: &str, field: &str) -> String {
    if path.is_empty() { field.to_owned() } else { format!("{path}.{field}") }
}

/// The members of one JSON object, with where it starts.
struct Members<'a> {
    path: String,
    line: u64,
    members: Vec<(String, &'a RawValue)>,
}

impl<'a> Members<'a> {
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.members.iter().find(|(name, _)| name == key).map(|(_, value)| *value)
    }
}

struct JsonReader<'a, 'l> {
    lines: LineCounter<'a>,
    errors: Vec<ImportError>,
    levels: &'l AuthorityLevels,
    now: OffsetDateTime,
    records: usize,
}

impl<'a> JsonReader<'a, '_> {
    fn error(&mut self, line: u64, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ImportError::new(line, field, message));
    }

    /// Counts a record, failing once there are too many.
    fn count(&mut self, line: u64) -> Result<(), LimitHit> {
        self.records += 1;
        if self.records > MAX_RECORDS {
            self.errors.push(too_many_records(line));
            return Err(LimitHit);
        }
        Ok(())
    }

    /// Reads an object, reporting unknown and repeated members.
    fn object(&mut self, raw: &'a RawValue, path: String, known: &[&str]) -> Option<Members<'a>> {
        let line = self.lines.line_of(raw);
        let Ok(JsonObject(members)) = serde_json::from_str::<JsonObject<'a>>(raw.get()) else {
            self.error(line, path, format!("expected an object, got {}", excerpt(raw)));
            return None;
        };
        let mut seen = HashSet::new();
        for (key, value) in &members {
            let key_line = self.lines.line_of(value);
            if !known.contains(&key.as_str()) {
                let message = format!("unknown field; known fields: {}", known.join(", "));
                self.error(key_line, join(&path, key), message);
            } else if !seen.insert(key.as_str()) {
                self.error(key_line, join(&path, key), "is given more than once");
            }
        }
        Some(Members { path, line, members })
    }

    /// A member of a type; `Err` when it has the wrong type (reported), `Ok(None)` when
    /// absent or null.
    fn member<T: Deserialize<'a>>(
        &mut self,
        members: &Members<'a>,
        key: &str,
        expected: &str,
    ) -> Result<Option<T>, ()> {
        let Some(raw) = members.get(key) else {
            return Ok(None);
        };
        if raw.get() == "null" {
            return Ok(None);
        }
        match serde_json::from_str::<T>(raw.get()) {
            Ok(value) => Ok(Some(value)),
            Err(_) => {
                let line = self.lines.line_of(raw);
                let message = format!("expected {expected}, got {}", excerpt(raw));
                self.error(line, join(&members.path, key), message);
                Err(())
            }
        }
    }

    /// An optional string; empty means absent.
    fn optional(&mut self, members: &Members<'a>, key: &str, bad: &mut HashSet<String>) -> Option<String> {
        match self.member::<String>(members, key, "a string") {
            Ok(value) => value.filter(|value| !value.is_empty()),
            Err(()) => {
                bad.insert(key.to_owned());
                None
            }
        }
    }

    /// A required string; its absence is reported and the empty string stands in for it.
    fn required(&mut self, members: &Members<'a>, key: &str, bad: &mut HashSet<String>) -> String {
        match self.member::<String>(members, key, "a string") {
            Ok(Some(value)) => value,
            Ok(None) => {
                self.error(members.line, join(&members.path, key), "is required");
                bad.insert(key.to_owned());
                String::new()
            }
            Err(()) => {
                bad.insert(key.to_owned());
                String::new()
            }
        }
    }

    fn organisation(&mut self, raw: &'a RawValue, index: usize) -> Result<Option<Draft>, LimitHit> {
        let line = self.lines.line_of(raw);
        self.count(line)?;
        let Some(members) = self.object(raw, format!("organisations[{index}]"), ORG_KEYS) else {
            return Ok(None);
        };
        let mut bad = HashSet::new();
        let name = self.required(&members, "name", &mut bad);
        let short_name = self.required(&members, "short_name", &mut bad);
        let address = self.optional(&members, "address", &mut bad);
        let country = self.required(&members, "country", &mut bad);
        let sector = self.optional(&members, "sector", &mut bad);
        let subsector = self.optional(&members, "subsector", &mut bad);
        let entity_type = self.optional(&members, "entity_type", &mut bad);
        let authority_level = self.required(&members, "authority_level", &mut bad);
        let parent = self.optional(&members, "parent", &mut bad);
        let mut field_errors = Vec::new();
        let entity_type = parse_entity_type(entity_type.as_deref(), &mut field_errors);
        let fields = OrgRecordFields {
            name,
            short_name,
            address,
            country,
            sector,
            subsector,
            entity_type,
            authority_level,
            parent,
        };
        field_errors.extend(check_org(&fields, self.levels));
        for error in field_errors {
            if !bad.contains(error.field.as_str()) {
                self.error(members.line, join(&members.path, &error.field), error.message);
            }
        }

        let mut record = OrgRecord { line, fields, contacts: Vec::new(), assets: Vec::new() };
        let contacts = self.member::<Vec<&'a RawValue>>(&members, "contacts", "an array");
        for (index, raw) in contacts.ok().flatten().unwrap_or_default().into_iter().enumerate() {
            let path = join(&members.path, &format!("contacts[{index}]"));
            let line = self.lines.line_of(raw);
            self.count(line)?;
            if let Some(contact) = self.contact(raw, path) {
                record.contacts.push(contact);
            }
        }
        let mut asset_paths = Vec::new();
        let assets = self.member::<Vec<&'a RawValue>>(&members, "assets", "an array");
        for (index, raw) in assets.ok().flatten().unwrap_or_default().into_iter().enumerate() {
            let path = join(&members.path, &format!("assets[{index}]"));
            let line = self.lines.line_of(raw);
            self.count(line)?;
            if let Some(asset) = self.asset(raw, &path) {
                record.assets.push(asset);
                asset_paths.push(path);
            }
        }
        Ok(Some(Draft { record, path: members.path, asset_paths }))
    }

    fn contact(&mut self, raw: &'a RawValue, path: String) -> Option<ContactFields> {
        let members = self.object(raw, path, CONTACT_KEYS)?;
        let mut bad = HashSet::new();
        let name = self.required(&members, "name", &mut bad);
        let role = self.optional(&members, "role", &mut bad);
        let email = self.required(&members, "email", &mut bad);
        let phone = self.optional(&members, "phone", &mut bad);
        let languages = self
            .member::<Vec<String>>(
                &members,
                "languages",
                "an array of language tags such as [\"bs\", \"en\"]",
            )
            .ok()
            .flatten()
            .unwrap_or_default();
        let pgp_key = self.optional(&members, "pgp_key", &mut bad);
        let clearance = self.optional(&members, "clearance", &mut bad);
        let (contact, errors) =
            build_contact(name, role, email, phone, &languages, pgp_key, clearance, self.now);
        for error in errors {
            if !bad.contains(error.field.as_str()) {
                self.error(members.line, join(&members.path, &error.field), error.message);
            }
        }
        Some(contact)
    }

    fn asset(&mut self, raw: &'a RawValue, path: &str) -> Option<AssetRecord> {
        let members = self.object(raw, path.to_owned(), ASSET_KEYS)?;
        let mut bad = HashSet::new();
        let kind = self.optional(&members, "kind", &mut bad);
        let value = self.required(&members, "value", &mut bad);
        let description = self.optional(&members, "description", &mut bad);
        if bad.contains("value") {
            return None;
        }
        match build_asset(kind.as_deref(), &value, description, members.line) {
            Ok(asset) => Some(asset),
            Err(errors) => {
                for error in errors {
                    self.error(members.line, join(&members.path, &error.field), error.message);
                }
                None
            }
        }
    }
}

/// A JSON value for an error message, on one line and shortened.
fn excerpt(raw: &RawValue) -> String {
    let text = raw.get().split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// serde_json's message without its position, which the line already gives.
fn serde_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => message,
    }
}

/// Counts lines to byte offsets, moving forwards or backwards from the last offset, so
/// that offsets visited roughly in order cost time proportional to the input.
struct LineCounter<'a> {
    input: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(input: &'a [u8]) -> LineCounter<'a> {
        LineCounter { input, offset: 0, line: 1 }
    }

    /// The line where a value borrowed from the input starts.
    fn line_of(&mut self, raw: &RawValue) -> u64 {
        let start = raw.get().as_ptr().addr().checked_sub(self.input.as_ptr().addr());
        match start {
            Some(offset) if offset <= self.input.len() => self.line_at(offset),
            _ => 0,
        }
    }

    /// The line of a CSV record starting at a byte offset. The csv crate reports the
    /// offset of the line feed of a CRLF that ended the previous record, and its own
    /// line count is one short after each CRLF, so line ends are skipped and counted here.
    fn line_of_record(&mut self, record: &csv::ByteRecord) -> u64 {
        let Some(position) = record.position() else {
            return 0;
        };
        let mut offset = usize::try_from(position.byte()).unwrap_or(usize::MAX).min(self.input.len());
        while matches!(self.input.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        self.line_at(offset)
    }

    fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.input.len());
        if offset >= self.offset {
            self.line += newlines(&self.input[self.offset..offset]);
        } else {
            self.line -= newlines(&self.input[offset..self.offset]);
        }
        self.offset = offset;
        self.line
    }
}

fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|byte| **byte == b'\n').count() as u64
}

/// The line of a byte offset, counting from 1.
fn line_at(input: &[u8], offset: usize) -> u64 {
    1 + newlines(&input[..offset.min(input.len())])
}

struct CsvRow {
    line: u64,
    /// The non-empty values by column.
    values: HashMap<&'static str, String>,
}

impl CsvRow {
    fn get(&self, column: &str) -> Option<&str> {
        self.values.get(column).map(String::as_str)
    }

    fn take(&mut self, column: &str) -> Option<String> {
        self.values.remove(column)
    }
}

/// A contact or asset row waiting for its organisation.
enum Pending {
    Contact(ContactFields),
    Asset(AssetRecord),
}

struct CsvReader<'l> {
    errors: Vec<ImportError>,
    levels: &'l AuthorityLevels,
    now: OffsetDateTime,
    drafts: Vec<Draft>,
    /// The organisation's short name, the row's line and its contact or asset.
    pending: Vec<(String, u64, Pending)>,
}

impl CsvReader<'_> {
    fn error(&mut self, line: u64, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ImportError::new(line, field, message));
    }

    fn row(&mut self, mut row: CsvRow) {
        let line = row.line;
        let record = row.take("record").unwrap_or_default().to_ascii_lowercase();
        let (kind, columns) = match record.as_str() {
            "organisation" | "organization" => ("organisation", ORG_COLUMNS),
            "contact" => ("contact", CONTACT_COLUMNS),
            "asset" => ("asset", ASSET_COLUMNS),
            "" => {
                self.error(line, "record", "is required: organisation, contact or asset");
                return;
            }
            other => {
                let message =
                    format!("unknown record type {other:?}; expected organisation, contact or asset");
                self.error(line, "record", message);
                return;
            }
        };
        let mut stray: Vec<&'static str> =
            row.values.keys().copied().filter(|column| !columns.contains(column)).collect();
        stray.sort_by_key(|column| CSV_COLUMNS.iter().position(|known| known == column));
        for column in stray {
            self.error(line, column, format!("does not apply to {kind} rows; leave it empty"));
        }
        match kind {
            "organisation" => self.organisation(row),
            "contact" => self.contact(row),
            _ => self.asset(row),
        }
    }

    /// The owning organisation of a contact or asset row.
    fn owner(&mut self, row: &mut CsvRow) -> Option<String> {
        let owner = row.take("org");
        if owner.is_none() {
            self.error(row.line, "org", "is required: the short name of the organisation");
        }
        owner
    }

    fn organisation(&mut self, mut row: CsvRow) {
        let line = row.line;
        let mut errors = Vec::new();
        let mut required = |row: &mut CsvRow, column: &'static str| {
            row.take(column).unwrap_or_else(|| {
                errors.push(FieldError::new(column, "is required"));
                String::new()
            })
        };
        let name = required(&mut row, "name");
        let short_name = required(&mut row, "short_name");
        let country = required(&mut row, "country");
        let authority_level = required(&mut row, "authority_level");
        let missing: HashSet<String> = errors.iter().map(|error| error.field.clone()).collect();
        let entity_type = parse_entity_type(row.get("entity_type"), &mut errors);
        if let Some(org) = row.get("org")
            && !short_name.is_empty()
            && org != short_name
        {
            errors.push(FieldError::new(
                "org",
                format!("must be empty or equal to short_name on organisation rows, got {org:?}"),
            ));
        }
        let fields = OrgRecordFields {
            name,
            short_name,
            address: row.take("address"),
            country,
            sector: row.take("sector"),
            subsector: row.take("subsector"),
            entity_type,
            authority_level,
            parent: row.take("parent"),
        };
        errors.extend(
            check_org(&fields, self.levels).into_iter().filter(|error| !missing.contains(&error.field)),
        );
        for error in errors {
            self.error(line, error.field, error.message);
        }
        let record = OrgRecord { line, fields, contacts: Vec::new(), assets: Vec::new() };
        self.drafts.push(Draft { record, path: String::new(), asset_paths: Vec::new() });
    }

    fn contact(&mut self, mut row: CsvRow) {
        let line = row.line;
        let owner = self.owner(&mut row);
        let languages: Vec<String> = row
            .get("languages")
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|language| !language.is_empty())
            .map(str::to_owned)
            .collect();
        let mut missing = Vec::new();
        let name = row.take("name").unwrap_or_else(|| {
            missing.push("name");
            String::new()
        });
        let email = row.take("email").unwrap_or_else(|| {
            missing.push("email");
            String::new()
        });
        for column in &missing {
            self.error(line, *column, "is required");
        }
        let (contact, errors) = build_contact(
            name,
            row.take("role"),
            email,
            row.take("phone"),
            &languages,
            row.take("pgp_key"),
            row.take("clearance"),
            self.now,
        );
        for error in errors.into_iter().filter(|error| !missing.contains(&error.field.as_str())) {
            self.error(line, error.field, error.message);
        }
        if let Some(owner) = owner {
            self.pending.push((owner, line, Pending::Contact(contact)));
        }
    }

    fn asset(&mut self, mut row: CsvRow) {
        let line = row.line;
        let owner = self.owner(&mut row);
        let Some(value) = row.take("value") else {
            self.error(line, "value", "is required");
            return;
        };
        let description = row.take("description");
        let asset = build_asset(row.get("kind"), &value, description, line);
        match (asset, owner) {
            (Ok(asset), Some(owner)) => self.pending.push((owner, line, Pending::Asset(asset))),
            (Ok(_), None) => {}
            (Err(errors), _) => {
                for error in errors {
                    self.error(line, error.field, error.message);
                }
            }
        }
    }

    /// Hands contacts and assets to their organisations, wherever their rows were.
    fn attach_pending(&mut self) {
        let mut index = HashMap::new();
        for (position, draft) in self.drafts.iter().enumerate() {
            index.entry(draft.record.fields.short_name.clone()).or_insert(position);
        }
        for (owner, line, item) in std::mem::take(&mut self.pending) {
            let Some(&position) = index.get(&owner) else {
                let message = format!("no organisation with short name {owner:?} in this file");
                self.error(line, "org", message);
                continue;
            };
            let draft = &mut self.drafts[position];
            match item {
                Pending::Contact(contact) => draft.record.contacts.push(contact),
                Pending::Asset(asset) => {
                    draft.record.assets.push(asset);
                    draft.asset_paths.push(String::new());
                }
            }
        }
    }
}

fn csv_error(error: &csv::Error) -> ImportError {
    let line = error.position().map_or(0, csv::Position::line);
    ImportError::new(line, "document", format!("cannot be read as CSV: {error}"))
}

fn check_size(input: &[u8]) -> Result<(), Vec<ImportError>> {
    if input.len() > MAX_INPUT_BYTES {
        let message = format!(
            "the input is {} bytes, larger than the limit of {} MiB; split it into several files",
            input.len(),
            MAX_INPUT_BYTES / (1024 * 1024)
        );
        return Err(vec![ImportError::new(0, "document", message)]);
    }
    Ok(())
}

fn too_many_records(line: u64) -> ImportError {
    ImportError::new(
        line,
        "document",
        format!(
            "more than {MAX_RECORDS} records (organisations, contacts and assets together); \
             split the import into several files"
        ),
    )
}

/// An entity type, `other` when absent.
fn parse_entity_type(value: Option<&str>, errors: &mut Vec<FieldError>) -> EntityType {
    match value.map(str::parse::<EntityType>) {
        None => EntityType::Other,
        Some(Ok(entity_type)) => entity_type,
        Some(Err(error)) => {
            errors.push(error);
            EntityType::Other
        }
    }
}

/// Checks an organisation's own fields.
fn check_org(fields: &OrgRecordFields, levels: &AuthorityLevels) -> Vec<FieldError> {
    let mut errors = fields.to_organisation_fields(None).validate(levels);
    if let Some(parent) = &fields.parent
        && let Err(error) = crate::org::check_short_name(parent)
    {
        errors.push(FieldError::new("parent", error.message));
    }
    errors
}

/// Builds a contact from its fields and checks it, the OpenPGP key as of `now`.
#[allow(clippy::too_many_arguments)]
fn build_contact(
    name: String,
    role: Option<String>,
    email: String,
    phone: Option<String>,
    languages: &[String],
    pgp_key: Option<String>,
    clearance: Option<String>,
    now: OffsetDateTime,
) -> (ContactFields, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut parsed: Vec<Language> = Vec::new();
    for language in languages {
        match language.parse::<Language>() {
            Ok(language) if !parsed.contains(&language) => parsed.push(language),
            Ok(_) => {}
            Err(error) => errors.push(error),
        }
    }
    let pgp_key = pgp_key.map(|key| normalise_key(&key));
    let clearance = match clearance.as_deref().map(str::parse::<crate::tlp::Tlp>) {
        None => None,
        Some(Ok(tlp)) => Some(tlp),
        Some(Err(error)) => {
            errors.push(FieldError::new("clearance", error.to_string()));
            None
        }
    };
    let contact = ContactFields { name, role, email, phone, languages: parsed, pgp_key, clearance };
    let mut all = contact.validate();
    all.append(&mut errors);
    if let Some(key) = &contact.pgp_key
        && let Err(error) = parse_public_key(key, now)
    {
        all.push(error);
    }
    (contact, all)
}

/// Armour with LF line ends, trimmed, ending in one line feed.
fn normalise_key(key: &str) -> String {
    let mut key = key.trim().replace("\r\n", "\n");
    key.push('\n');
    key
}

/// Builds an asset from its kind (guessed when absent), value and description.
fn build_asset(
    kind: Option<&str>,
    value: &str,
    description: Option<String>,
    line: u64,
) -> Result<AssetRecord, Vec<FieldError>> {
    let mut errors = Vec::new();
    let value = match kind.map(str::parse::<AssetKind>) {
        None => AssetValue::guess(value),
        Some(Ok(kind)) => AssetValue::parse(kind, value),
        Some(Err(error)) => Err(error),
    };
    let value = value.map_err(|error| errors.push(error)).ok();
    if let Some(description) = &description
        && let Err(error) = check_optional_text("description", description, MAX_DESCRIPTION_CHARS)
    {
        errors.push(error);
    }
    match value {
        Some(value) if errors.is_empty() => Ok(AssetRecord { value, description, line }),
        _ => Err(errors),
    }
}

/// The checks across organisations, then the verdict.
fn finish(drafts: Vec<Draft>, mut errors: Vec<ImportError>) -> Result<RegistryDocument, Vec<ImportError>> {
    let mut names: HashMap<String, u64> = HashMap::new();
    let mut short_names: HashMap<String, u64> = HashMap::new();
    for draft in &drafts {
        let fields = &draft.record.fields;
        let line = draft.record.line;
        let name = fields.name.trim().to_lowercase();
        if !name.is_empty() {
            if let Some(first) = names.get(&name) {
                let message =
                    format!("duplicate organisation name {:?}, first used on line {first}", fields.name);
                errors.push(ImportError::new(line, join(&draft.path, "name"), message));
            } else {
                names.insert(name, line);
            }
        }
        let short_name = fields.short_name.to_ascii_lowercase();
        if !short_name.is_empty() {
            if let Some(first) = short_names.get(&short_name) {
                let message =
                    format!("duplicate short name {:?}, first used on line {first}", fields.short_name);
                errors.push(ImportError::new(line, join(&draft.path, "short_name"), message));
            } else {
                short_names.insert(short_name, line);
            }
        }
        let mut assets: HashMap<&AssetValue, u64> = HashMap::new();
        for (asset, path) in draft.record.assets.iter().zip(&draft.asset_paths) {
            if let Some(first) = assets.get(&asset.value) {
                let message = format!(
                    "duplicate asset {} of {}, first listed on line {first}",
                    asset.value, fields.short_name
                );
                errors.push(ImportError::new(asset.line, join(path, "value"), message));
            } else {
                assets.insert(&asset.value, asset.line);
            }
        }
    }
    check_parents(&drafts, &mut errors);
    if errors.is_empty() {
        Ok(RegistryDocument { organisations: drafts.into_iter().map(|draft| draft.record).collect() })
    } else {
        Err(finish_errors(errors))
    }
}

/// Rejects organisations that are their own parent, directly or through others in the file.
fn check_parents(drafts: &[Draft], errors: &mut Vec<ImportError>) {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (position, draft) in drafts.iter().enumerate() {
        index.entry(draft.record.fields.short_name.as_str()).or_insert(position);
    }
    let parent_of = |position: usize| {
        drafts[position].record.fields.parent.as_deref().and_then(|parent| index.get(parent).copied())
    };
    for (start, draft) in drafts.iter().enumerate() {
        let fields = &draft.record.fields;
        if fields.parent.as_deref() == Some(fields.short_name.as_str()) {
            let field = join(&draft.path, "parent");
            errors.push(ImportError::new(
                draft.record.line,
                field,
                "an organisation cannot be its own parent",
            ));
            continue;
        }
        // Follows the chain; reports a loop once, at its first organisation in the file.
        let mut chain = vec![start];
        let mut current = start;
        while let Some(next) = parent_of(current) {
            if next == start {
                let names: Vec<&str> = chain
                    .iter()
                    .chain([&start])
                    .map(|position| drafts[*position].record.fields.short_name.as_str())
                    .collect();
                let field = join(&draft.path, "parent");
                let message = format!("the parents form a loop: {}", names.join(" -> "));
                errors.push(ImportError::new(draft.record.line, field, message));
                break;
            }
            if next < start || chain.contains(&next) || chain.len() > drafts.len() {
                break;
            }
            chain.push(next);
            current = next;
        }
    }
}

/// Orders errors by line and caps their number.
fn finish_errors(mut errors: Vec<ImportError>) -> Vec<ImportError> {
    errors.sort_by_key(|error| error.line);
    if errors.len() > MAX_ERRORS {
        let total = errors.len();
        errors.truncate(MAX_ERRORS);
        errors.push(ImportError::new(
            0,
            "document",
            format!("{total} errors in all; only the first {MAX_ERRORS} are shown"),
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};

    use expect_test::expect_file;
    use time::macros::datetime;

    use super::*;
    use crate::openpgp::parse_public_key;

    /// After every test key was made and before any good one expires.
    const NOW: OffsetDateTime = datetime!(2030-01-01 0:00 UTC);

    fn data_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/registry")
    }

    fn parse(path: &Path, input: &[u8]) -> Result<RegistryDocument, Vec<ImportError>> {
        let levels = AuthorityLevels::default();
        match path.extension().and_then(|extension| extension.to_str()) {
            Some("json") => parse_json(input, &levels, NOW),
            Some("csv") => parse_csv(input, &levels, NOW),
            _ => panic!("{} is neither .json nor .csv", path.display()),
        }
    }

    /// A compact rendering of a document for expectation files.
    fn render(doc: &RegistryDocument) -> String {
        let short_names: HashSet<&str> =
            doc.organisations.iter().map(|org| org.fields.short_name.as_str()).collect();
        let mut out = String::new();
        for org in &doc.organisations {
            let fields = &org.fields;
            let _ =
                writeln!(out, "organisation {} (line {}): {:?}", fields.short_name, org.line, fields.name);
            let sector = match (&fields.sector, &fields.subsector) {
                (Some(sector), Some(subsector)) => format!("{sector}/{subsector}"),
                (Some(sector), None) => sector.clone(),
                _ => "-".into(),
            };
            let parent = match &fields.parent {
                Some(parent) if short_names.contains(parent.as_str()) => parent.clone(),
                Some(parent) => format!("{parent} (not in file)"),
                None => "-".into(),
            };
            let _ = writeln!(
                out,
                "  {} {}, sector {sector}, {}, parent {parent}",
                fields.country, fields.authority_level, fields.entity_type
            );
            if let Some(address) = &fields.address {
                let _ = writeln!(out, "  address {address:?}");
            }
            for contact in &org.contacts {
                let _ = write!(out, "  contact {:?} <{}>", contact.name, contact.email);
                if let Some(role) = &contact.role {
                    let _ = write!(out, ", role {role:?}");
                }
                if let Some(phone) = &contact.phone {
                    let _ = write!(out, ", phone {phone:?}");
                }
                if !contact.languages.is_empty() {
                    let tags: Vec<&str> = contact.languages.iter().map(|language| language.tag()).collect();
                    let _ = write!(out, ", languages {}", tags.join(" "));
                }
                if let Some(key) = &contact.pgp_key {
                    let info = parse_public_key(key, NOW).unwrap();
                    let _ = write!(out, ", pgp {}", info.fingerprint);
                }
                if let Some(clearance) = contact.clearance {
                    let _ = write!(out, ", clearance {clearance}");
                }
                out.push('\n');
            }
            for asset in &org.assets {
                let _ =
                    write!(out, "  {} {} (line {})", asset.value.kind().as_str(), asset.value, asset.line);
                if let Some(description) = &asset.description {
                    let _ = write!(out, ": {description:?}");
                }
                out.push('\n');
            }
        }
        out
    }

    /// Parses a case and compares the outcome with the `.expected` file beside it;
    /// `UPDATE_EXPECT=1` rewrites that file.
    #[track_caller]
    fn check(name: &str) {
        let path = data_dir().join(name);
        let input = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let result = parse(&path, &input);
        let actual = match &result {
            Ok(doc) => render(doc),
            Err(errors) => errors.iter().map(|error| format!("{error}\n")).collect(),
        };
        expect_file![path.with_extension("expected")].assert_eq(&actual);
        match (name.starts_with("ok/"), &result) {
            (true, Err(_)) => panic!("{name} should parse"),
            (false, Ok(_)) => panic!("{name} should fail"),
            _ => {}
        }
    }

    macro_rules! cases {
        ($($test:ident => $path:literal,)*) => {
            $(
                #[test]
                fn $test() {
                    check($path);
                }
            )*
            const CASES: &[&str] = &[$($path),*];
        };
    }

    cases! {
        ok_minimal_json => "ok/0001_minimal.json",
        ok_full_json => "ok/0002_full.json",
        ok_rows_in_any_order_csv => "ok/0003_rows_in_any_order.csv",
        err_bad_cidr => "err/0001_bad_cidr.json",
        err_unknown_sector => "err/0002_unknown_sector.csv",
        err_malformed_pgp_key => "err/0003_malformed_pgp_key.json",
        err_unknown_json_field => "err/0004_unknown_json_field.json",
        err_unknown_csv_column => "err/0005_unknown_csv_column.csv",
        err_duplicate_short_names => "err/0006_duplicate_short_names.csv",
        err_several_errors => "err/0007_several_errors.json",
        err_json_syntax_error => "err/0008_syntax_error.json",
        err_csv_lines_after_multiline_key => "err/0009_lines_after_multiline_key.csv",
        err_parent_loops => "err/0010_parent_loops.json",
        err_expired_and_revoked_keys => "err/0011_expired_and_revoked_keys.csv",
        err_unknown_top_level_field => "err/0012_unknown_top_level_field.json",
        err_wrong_types => "err/0013_wrong_types.json",
        err_crlf_line_ends => "err/0014_crlf_line_ends.csv",
    }

    #[test]
    fn every_case_file_is_listed() {
        for folder in ["ok", "err"] {
            for entry in std::fs::read_dir(data_dir().join(folder)).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                if name.ends_with(".expected") {
                    let stem = name.trim_end_matches(".expected");
                    let listed = CASES
                        .iter()
                        .any(|case| Path::new(case).file_stem().and_then(|stem| stem.to_str()) == Some(stem));
                    assert!(listed, "{folder}/{name} has no case in cases!");
                } else {
                    assert!(
                        CASES.contains(&format!("{folder}/{name}").as_str()),
                        "{folder}/{name} is not in cases!"
                    );
                }
            }
        }
    }

    /// Lines are where records happened to be; a document's content is the rest.
    fn content(mut doc: RegistryDocument) -> RegistryDocument {
        doc.organisations.sort_by(|a, b| a.fields.short_name.cmp(&b.fields.short_name));
        for org in &mut doc.organisations {
            org.line = 0;
            org.assets.sort_by(|a, b| a.value.cmp(&b.value));
            for asset in &mut org.assets {
                asset.line = 0;
            }
        }
        doc
    }

    #[track_caller]
    fn assert_round_trips(doc: &RegistryDocument) {
        let levels = AuthorityLevels::default();
        let json = to_json(doc);
        let from_json = parse_json(&json, &levels, NOW).unwrap();
        assert_eq!(content(from_json.clone()), content(doc.clone()));
        let csv = to_csv(doc);
        let from_csv = parse_csv(&csv, &levels, NOW).unwrap();
        assert_eq!(content(from_csv.clone()), content(doc.clone()));
        // Exports of re-imported documents are byte for byte the same.
        assert_eq!(to_json(&from_csv), json);
        assert_eq!(to_csv(&from_json), csv);
    }

    #[test]
    fn export_then_import_gives_the_same_document() {
        let path = data_dir().join("ok/0002_full.json");
        let doc = parse(&path, &std::fs::read(&path).unwrap()).unwrap();
        let keys = doc.organisations.iter().flat_map(|org| &org.contacts).filter(|c| c.pgp_key.is_some());
        assert!(keys.count() >= 1);
        let ipv6 = doc.organisations.iter().flat_map(|org| &org.assets);
        assert!(
            ipv6.filter(|asset| matches!(&asset.value, AssetValue::Cidr(cidr) if cidr.is_ipv6())).count()
                >= 1
        );
        assert_round_trips(&doc);
        expect_file![data_dir().join("export/0002_full.json")]
            .assert_eq(&String::from_utf8(to_json(&doc)).unwrap());
        expect_file![data_dir().join("export/0002_full.csv")]
            .assert_eq(&String::from_utf8(to_csv(&doc)).unwrap());
    }

    #[test]
    fn csv_import_round_trips_too() {
        let path = data_dir().join("ok/0003_rows_in_any_order.csv");
        let doc = parse(&path, &std::fs::read(&path).unwrap()).unwrap();
        assert_round_trips(&doc);
    }

    #[test]
    fn demo_constituency_is_valid() {
        let input = include_bytes!("../../neretva/demo/constituency.json");
        let doc = match parse_json(input, &AuthorityLevels::default(), NOW) {
            Ok(doc) => doc,
            Err(errors) => {
                let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
                panic!("the demo constituency has errors:\n{}", errors.join("\n"));
            }
        };
        assert!(doc.organisations.len() >= 25, "only {} organisations", doc.organisations.len());
        assert_eq!(doc.unresolved_parents().count(), 0);
        let root = doc.organisations.iter().find(|org| org.fields.short_name == "CERT-BIH").unwrap();
        assert_eq!(root.fields.parent, None);
        for level in &AuthorityLevels::default().0 {
            assert!(doc.organisations.iter().any(|org| &org.fields.authority_level == level), "{level}");
        }
        assert_round_trips(&doc);
    }

    #[test]
    fn input_size_is_capped() {
        let levels = AuthorityLevels::default();
        let huge = vec![b' '; MAX_INPUT_BYTES + 1];
        let expected = "line 0, document: the input is 67108865 bytes, larger than the limit of 64 MiB; \
                        split it into several files";
        for errors in
            [parse_json(&huge, &levels, NOW).unwrap_err(), parse_csv(&huge, &levels, NOW).unwrap_err()]
        {
            assert_eq!(errors.iter().map(ToString::to_string).collect::<Vec<_>>(), [expected]);
        }
    }

    #[test]
    fn record_count_is_capped() {
        let levels = AuthorityLevels::default();
        let mut csv = String::from("record,org,name,short_name,country,authority_level,kind,value\n");
        csv.push_str("organisation,,Big,BIG,BA,State,,\n");
        for _ in 0..MAX_RECORDS {
            csv.push_str("asset,BIG,,,,,domain,big.example.ba\n");
        }
        let errors = parse_csv(csv.as_bytes(), &levels, NOW).unwrap_err();
        let last = errors.last().unwrap().to_string();
        assert_eq!(
            last,
            "line 100002, document: more than 100000 records (organisations, contacts and assets \
             together); split the import into several files"
        );

        let asset = r#"{"kind": "domain", "value": "big.example.ba"}"#;
        let assets = vec![asset; MAX_RECORDS].join(",\n");
        let json = format!(
            "{{\"organisations\": [{{\"name\": \"Big\", \"short_name\": \"BIG\", \"country\": \"BA\", \
             \"authority_level\": \"State\", \"assets\": [\n{assets}]}}]}}"
        );
        let errors = parse_json(json.as_bytes(), &levels, NOW).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 100_001);
        assert!(errors[0].message.starts_with("more than 100000 records"));
    }

    #[test]
    fn errors_are_capped() {
        let levels = AuthorityLevels::default();
        let mut csv = String::from("record\n");
        for _ in 0..MAX_ERRORS + 5 {
            csv.push_str("planet\n");
        }
        let errors = parse_csv(csv.as_bytes(), &levels, NOW).unwrap_err();
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert_eq!(
            errors[0].to_string(),
            "line 2, record: unknown record type \"planet\"; expected organisation, contact or asset"
        );
        assert_eq!(
            errors[MAX_ERRORS].to_string(),
            "line 0, document: 1005 errors in all; only the first 1000 are shown"
        );
    }

    #[test]
    fn invalid_utf8_and_empty_input() {
        let levels = AuthorityLevels::default();
        let json = b"{\"organisations\": [\n{\"name\": \"Caf\xE9\"}]}";
        let errors = parse_json(json, &levels, NOW).unwrap_err();
        assert_eq!(errors[0].to_string(), "line 2, document: is not valid UTF-8");
        let csv =
            b"record,org,name,short_name,country,authority_level\norganisation,,Caf\xE9,CAFE,BA,State\n";
        let errors = parse_csv(csv, &levels, NOW).unwrap_err();
        assert_eq!(errors[0].to_string(), "line 2, name: is not valid UTF-8");
        let errors = parse_csv(b"", &levels, NOW).unwrap_err();
        assert_eq!(errors[0].to_string(), "line 1, header: the file is empty; a header row is required");
        let errors = parse_json(b"", &levels, NOW).unwrap_err();
        assert_eq!(errors[0].line, 1);
        assert_eq!(parse_json(br#"{"organisations": []}"#, &levels, NOW), Ok(RegistryDocument::default()));
    }

    #[test]
    fn byte_order_mark_and_crlf_are_accepted() {
        let levels = AuthorityLevels::default();
        let csv = "\u{FEFF}record,name,short_name,country,authority_level,address\r\n\
                   organisation,Vodovod Test,VOD-T,BA,State,\"Obala 1\r\nMostar\"\r\n\
                   asset,,,,,\r\n";
        let errors = parse_csv(csv.as_bytes(), &levels, NOW).unwrap_err();
        // The only problem is the asset row: no owner and no value. The header parsed.
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            ["line 4, org: is required: the short name of the organisation", "line 4, value: is required"]
        );
        let json = "\u{FEFF}{\"organisations\": []}";
        assert!(parse_json(json.as_bytes(), &levels, NOW).is_ok());
    }

    #[test]
    fn unresolved_parents_are_kept_for_the_store() {
        let input = br#"{"organisations": [
            {"name": "Child", "short_name": "CHILD", "country": "BA", "authority_level": "State", "parent": "ELSEWHERE"},
            {"name": "Other", "short_name": "OTHER", "country": "BA", "authority_level": "State", "parent": "CHILD"}
        ]}"#;
        let doc = parse_json(input, &AuthorityLevels::default(), NOW).unwrap();
        let unresolved: Vec<(&str, u64)> =
            doc.unresolved_parents().map(|org| (org.fields.short_name.as_str(), org.line)).collect();
        assert_eq!(unresolved, [("CHILD", 2)]);
        assert_eq!(doc.record_count(), 2);
        let fields = doc.organisations[0].fields.to_organisation_fields(None);
        assert_eq!(fields.short_name, "CHILD");
    }

    #[test]
    fn configured_levels_are_used() {
        let levels = AuthorityLevels(vec!["Canton".into()]);
        let input = br#"{"organisations": [{"name": "A", "short_name": "A", "country": "BA", "authority_level": "State"}]}"#;
        let errors = parse_json(input, &levels, NOW).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "line 1, organisations[0].authority_level: unknown level of authority \"State\"; configured: Canton"
        );
    }
}
