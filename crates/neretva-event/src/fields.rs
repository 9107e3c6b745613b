//! The harmonisation field table (IntelMQ 3.5.0 `harmonization.conf`).

use std::fmt;

use crate::fields_table::{EVENT_FIELDS, REPORT_FIELDS};

/// The harmonisation types of IntelMQ (`intelmq.lib.harmonization`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// An autonomous system number, 1 to 4294967295; `AS123` is accepted.
    ASN,
    /// A float from 0 to 100.
    Accuracy,
    /// Raw data, stored base64-encoded.
    Base64,
    /// `true` or `false`.
    Boolean,
    /// One of the taxonomies (`classification.taxonomy`).
    ClassificationTaxonomy,
    /// One of the classification types (`classification.type`); legacy aliases are mapped.
    ClassificationType,
    /// A point in time, stored in UTC.
    DateTime,
    /// A domain name: lower case, no trailing dot, IDN as punycode.
    FQDN,
    /// A finite floating point number.
    Float,
    /// An IPv4 or IPv6 address.
    IPAddress,
    /// An IPv4 or IPv6 network in CIDR notation.
    IPNetwork,
    /// A signed 64-bit integer.
    Integer,
    /// A JSON document, stored as its text.
    JSON,
    /// A JSON object whose members are stored as `<field>.<key>` (only `extra`).
    JSONDict,
    /// A string converted to lower case.
    LowercaseString,
    /// A regional internet registry: AFRINIC, APNIC, ARIN, LACNIC or RIPE.
    Registry,
    /// A non-empty string with surrounding white space removed.
    String,
    /// A Traffic Light Protocol label.
    TLP,
    /// A URL with a network location; `hxxp` is accepted.
    URL,
    /// A string converted to upper case.
    UppercaseString,
}

impl FieldType {
    /// The name IntelMQ uses for the type.
    pub fn name(self) -> &'static str {
        match self {
            Self::ASN => "ASN",
            Self::Accuracy => "Accuracy",
            Self::Base64 => "Base64",
            Self::Boolean => "Boolean",
            Self::ClassificationTaxonomy => "ClassificationTaxonomy",
            Self::ClassificationType => "ClassificationType",
            Self::DateTime => "DateTime",
            Self::FQDN => "FQDN",
            Self::Float => "Float",
            Self::IPAddress => "IPAddress",
            Self::IPNetwork => "IPNetwork",
            Self::Integer => "Integer",
            Self::JSON => "JSON",
            Self::JSONDict => "JSONDict",
            Self::LowercaseString => "LowercaseString",
            Self::Registry => "Registry",
            Self::String => "String",
            Self::TLP => "TLP",
            Self::URL => "URL",
            Self::UppercaseString => "UppercaseString",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which IntelMQ message type a field belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// A harmonised event.
    Event,
    /// A report (raw feed data from a collector).
    Report,
}

/// The extra constraint a field's `regex` (or `iregex`) expresses, checked
/// without a regular expression engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Check {
    /// No constraint.
    None,
    /// `^.*[^\.]$`: no line break and no trailing dot.
    NoTrailingDot,
    /// `^[a-zA-Z0-9]{2}$`.
    Alnum2,
    /// `^[A-F0-9./]+$`.
    EventHash,
    /// `^[ -~]+$`: printable ASCII only.
    PrintableAscii,
    /// `^[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{12}$`.
    MispUuid,
    /// `^(critical|high|medium|low|info|undefined)$`.
    Severity,
    /// The case-insensitive list of IP protocol names of `protocol.transport`.
    Transport,
}

/// One harmonisation field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldSpec {
    /// The field name, e.g. `source.ip`.
    pub name: &'static str,
    /// The harmonisation type.
    pub ty: FieldType,
    /// The maximum length of the value's text, in characters.
    pub max_len: Option<usize>,
    /// IntelMQ's `regex` or `iregex` constraint, for documentation.
    pub regex: Option<&'static str>,
    /// Whether `regex` is IntelMQ's case-insensitive `iregex`.
    pub case_insensitive_regex: bool,
    /// The constraint `regex` expresses, as checked here.
    pub check: Check,
    /// IntelMQ's description of the field.
    pub description: &'static str,
    /// The message type the table entry belongs to.
    pub section: Section,
}

/// Slots of the table from names to fields: a power of two, more than twice the fields, so a name
/// is found after one or two comparisons (a binary search over the sorted names compares about
/// seven, names that mostly share their first dozen bytes).
const NAME_SLOTS: usize = 256;
/// An empty slot.
const NO_FIELD: u8 = u8::MAX;
const _: () = assert!(EVENT_FIELDS.len() * 2 < NAME_SLOTS && EVENT_FIELDS.len() < NO_FIELD as usize);

/// FNV-1a of a name, folded to a slot.
#[inline]
fn name_hash(name: &str) -> usize {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    (hash ^ (hash >> 16)) as usize
}

/// Each field's index at its name's slot or the next free one after it.
fn name_table() -> &'static [u8; NAME_SLOTS] {
    static TABLE: std::sync::OnceLock<[u8; NAME_SLOTS]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [NO_FIELD; NAME_SLOTS];
        for (index, spec) in EVENT_FIELDS.iter().enumerate() {
            let mut slot = name_hash(spec.name);
            while table[slot & (NAME_SLOTS - 1)] != NO_FIELD {
                slot += 1;
            }
            table[slot & (NAME_SLOTS - 1)] = index as u8;
        }
        table
    })
}

/// The index of an event field in [`fields`]; fields sort by name, so sorting
/// by id sorts by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldId(pub(crate) u16);

impl FieldId {
    /// Looks up an event field by name (not `extra.*` keys).
    #[inline]
    pub fn from_name(name: &str) -> Option<FieldId> {
        let table = name_table();
        let mut slot = name_hash(name);
        loop {
            let index = table[slot & (NAME_SLOTS - 1)];
            if index == NO_FIELD {
                return None;
            }
            if EVENT_FIELDS[usize::from(index)].name == name {
                return Some(FieldId(u16::from(index)));
            }
            slot += 1;
        }
    }

    /// The field's table entry.
    #[inline]
    pub fn spec(self) -> &'static FieldSpec {
        &EVENT_FIELDS[usize::from(self.0)]
    }

    /// The field's name.
    #[inline]
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The index into [`fields`].
    #[inline]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl fmt::Display for FieldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// All 89 event fields of IntelMQ 3.5.0, sorted by name.
///
/// Every report field is also an event field; [`report_fields`] lists the
/// report's ten with [`Section::Report`].
pub fn fields() -> &'static [FieldSpec] {
    &EVENT_FIELDS
}

/// The ten report fields of IntelMQ 3.5.0, sorted by name.
pub fn report_fields() -> &'static [FieldSpec] {
    &REPORT_FIELDS
}

/// The event field of that name (not `extra.*` keys, which have no entry of
/// their own; `extra` itself has one).
pub fn field_spec(name: &str) -> Option<&'static FieldSpec> {
    FieldId::from_name(name).map(FieldId::spec)
}

/// The report field of that name.
pub fn report_field_spec(name: &str) -> Option<&'static FieldSpec> {
    REPORT_FIELDS.binary_search_by(|spec| spec.name.cmp(name)).ok().map(|index| &REPORT_FIELDS[index])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_found_by_its_name_and_nothing_else_is() {
        for (index, spec) in EVENT_FIELDS.iter().enumerate() {
            assert_eq!(FieldId::from_name(spec.name).map(FieldId::index), Some(index), "{}", spec.name);
            // The same name one byte longer or shorter, or with its last byte changed.
            let longer = format!("{}x", spec.name);
            let shorter = &spec.name[..spec.name.len() - 1];
            let mut changed = spec.name.as_bytes().to_vec();
            *changed.last_mut().unwrap() ^= 0x01;
            let changed = String::from_utf8(changed).unwrap();
            for other in [longer.as_str(), shorter, changed.as_str()] {
                if EVENT_FIELDS.iter().all(|spec| spec.name != other) {
                    assert_eq!(FieldId::from_name(other), None, "{other}");
                }
            }
        }
        for name in ["", "extra.", "extra.port", "Source.ip", "source.ip ", "raw\0"] {
            assert_eq!(FieldId::from_name(name), None, "{name:?}");
        }
    }
}
