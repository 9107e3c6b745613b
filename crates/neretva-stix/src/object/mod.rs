//! STIX 2.1 objects: typed where Neretva uses them, lossless for the rest.
//!
//! An [`Object`] has its identifier, the common properties ([`Common`]), the type-specific
//! properties of the types Neretva reads and writes ([`ObjectData`]: the domain objects
//! attack-pattern, campaign, grouping, identity, indicator, malware, note, observed-data,
//! report, threat-actor and vulnerability; the relationship objects relationship and sighting;
//! marking-definition; the cyber-observable objects ipv4-addr, ipv6-addr, domain-name, url,
//! email-addr, mac-addr, autonomous-system, file and network-traffic) and every other
//! property unchanged in [`Object::custom`]. Objects of other types keep all their
//! type-specific properties there.
//!
//! [`Object::from_json`] checks what the STIX 2.1 specification and the OASIS validator require:
//! the identifier's form (`type--UUID`, RFC 4122) and its type, the required properties of
//! each type, property kinds (strings, integers in range, timestamps in the STIX form, lists
//! that are not empty, identifiers of the right type for `created_by_ref` and marking
//! references), the order of time pairs (`modified` not before `created`, `valid_until`
//! after `valid_from`, …), the syntax of STIX patterns of indicators (as the reference
//! validator checks them), hash formats, extension and custom property names. Every problem is
//! reported with its JSON path. [`Object::to_json`] writes objects back: the common properties
//! of domain, relationship and marking objects with `spec_version` `2.1` and `created` and
//! `modified` with at least millisecond precision, as the validator requires.
//!
//! An object without `spec_version` is read as STIX 2.1 (as the OASIS Python library does) and
//! written with it.

pub mod marking;
pub mod property;
pub mod types;

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::object::property::{
    Confidence, Ctx, ExternalReference, GranularMarking, Identifier, Path, Problem, Property, StixTimestamp,
    is_type_name,
};
use crate::object::types::{
    AttackPattern, AutonomousSystem, Campaign, DomainName, EmailAddress, File, Grouping, Identity, Indicator,
    IpAddress, MacAddress, Malware, MarkingDefinition, NetworkTraffic, Note, ObservedData, Relationship,
    Report, Sighting, ThreatActor, Url, Vulnerability,
};
use crate::pattern;

/// The field type of a property declared with a mode: `req T` is `T`, `opt T` is
/// `Option<T>`, `list T` and `req_list T` are `Vec<T>`.
macro_rules! field_type {
    (req $ty:ty) => { $ty };
    (opt $ty:ty) => { Option<$ty> };
    (list $ty:ty) => { Vec<$ty> };
    (req_list $ty:ty) => { Vec<$ty> };
}
pub(crate) use field_type;

/// Reads one property by mode; `None` when it is missing but required or invalid (the problem is
/// recorded).
macro_rules! read_field {
    (req $ty:ty, $map:expr, $key:expr, $ctx:expr, $path:expr) => {
        match $map.remove($key) {
            Some(value) => <$ty as Property>::read(value, $ctx, $path),
            None => {
                $ctx.problem($path, "required property missing");
                None
            }
        }
    };
    (opt $ty:ty, $map:expr, $key:expr, $ctx:expr, $path:expr) => {
        match $map.remove($key) {
            Some(value) => <$ty as Property>::read(value, $ctx, $path).map(Some),
            None => Some(None),
        }
    };
    (list $ty:ty, $map:expr, $key:expr, $ctx:expr, $path:expr) => {
        match $map.remove($key) {
            Some(value) => <Vec<$ty> as Property>::read(value, $ctx, $path),
            None => Some(Vec::new()),
        }
    };
    (req_list $ty:ty, $map:expr, $key:expr, $ctx:expr, $path:expr) => {
        match $map.remove($key) {
            Some(value) => <Vec<$ty> as Property>::read(value, $ctx, $path),
            None => {
                $ctx.problem($path, "required property missing");
                None
            }
        }
    };
}
pub(crate) use read_field;

/// Writes one property by mode, leaving out absent values and empty lists.
macro_rules! write_field {
    (req $value:expr, $out:expr, $key:expr) => {
        $out.insert($key.to_owned(), Property::write($value));
    };
    (opt $value:expr, $out:expr, $key:expr) => {
        if let Some(value) = $value {
            $out.insert($key.to_owned(), Property::write(value));
        }
    };
    (list $value:expr, $out:expr, $key:expr) => {
        if !$value.is_empty() {
            $out.insert($key.to_owned(), Property::write($value));
        }
    };
    (req_list $value:expr, $out:expr, $key:expr) => {
        $out.insert($key.to_owned(), Property::write($value));
    };
}
pub(crate) use write_field;

/// The members of a JSON object being read, in order (taken out as they are read).
#[derive(Debug, Default)]
pub(crate) struct Fields<'k>(pub(crate) Vec<(Cow<'k, str>, Value)>);

impl Fields<'_> {
    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.swap_remove(at).1)
    }

    fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

/// The STIX 2.1 domain object types.
pub const DOMAIN_TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];

/// The STIX 2.1 cyber-observable object types.
pub const OBSERVABLE_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// What common properties an object has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Domain and relationship objects (and custom objects with `created`).
    Domain,
    /// Cyber-observable objects (and custom objects without `created`).
    Observable,
    /// `marking-definition`.
    Marking,
}

impl Category {
    fn of(kind: &str, map: &Fields<'_>) -> Category {
        if kind == "marking-definition" {
            Category::Marking
        } else if OBSERVABLE_TYPES.contains(&kind) {
            Category::Observable
        } else if DOMAIN_TYPES.contains(&kind)
            || matches!(kind, "relationship" | "sighting" | "language-content" | "extension-definition")
            || map.contains_key("created")
        {
            Category::Domain
        } else {
            Category::Observable
        }
    }
}

/// The common properties (those that do not apply to an object's category stay absent).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Common {
    pub spec_version: Option<String>,
    pub created_by_ref: Option<Identifier>,
    pub created: Option<StixTimestamp>,
    pub modified: Option<StixTimestamp>,
    pub revoked: Option<bool>,
    pub labels: Vec<String>,
    pub confidence: Option<Confidence>,
    pub lang: Option<String>,
    pub external_references: Vec<ExternalReference>,
    pub object_marking_refs: Vec<Identifier>,
    pub granular_markings: Vec<GranularMarking>,
    pub defanged: Option<bool>,
    pub extensions: Map<String, Value>,
}

impl Common {
    fn read(map: &mut Fields<'_>, ctx: &mut Ctx<'_>, category: Category) -> Option<Common> {
        let base = ctx.base;
        let root = Path::Root(base);
        let domain = category == Category::Domain;
        let marking = category == Category::Marking;
        let observable = category == Category::Observable;
        let spec_version =
            read_field!(opt String, map, "spec_version", ctx, &Path::Key(&root, "spec_version"));
        let created_by_ref = if domain || marking {
            read_field!(opt Identifier, map, "created_by_ref", ctx, &Path::Key(&root, "created_by_ref"))
        } else {
            Some(None)
        };
        let created = if domain || marking {
            read_field!(opt StixTimestamp, map, "created", ctx, &Path::Key(&root, "created"))
        } else {
            Some(None)
        };
        let modified = if domain {
            read_field!(opt StixTimestamp, map, "modified", ctx, &Path::Key(&root, "modified"))
        } else {
            Some(None)
        };
        let revoked = if domain {
            read_field!(opt bool, map, "revoked", ctx, &Path::Key(&root, "revoked"))
        } else {
            Some(None)
        };
        let labels = if domain {
            read_field!(list String, map, "labels", ctx, &Path::Key(&root, "labels"))
        } else {
            Some(Vec::new())
        };
        let confidence = if domain {
            read_field!(opt Confidence, map, "confidence", ctx, &Path::Key(&root, "confidence"))
        } else {
            Some(None)
        };
        let lang = if domain {
            read_field!(opt String, map, "lang", ctx, &Path::Key(&root, "lang"))
        } else {
            Some(None)
        };
        let external_references = if domain || marking {
            read_field!(list ExternalReference, map, "external_references", ctx, &Path::Key(&root, "external_references"))
        } else {
            Some(Vec::new())
        };
        let object_marking_refs = read_field!(list Identifier, map, "object_marking_refs", ctx, &Path::Key(&root, "object_marking_refs"));
        let granular_markings = read_field!(list GranularMarking, map, "granular_markings", ctx, &Path::Key(&root, "granular_markings"));
        let defanged = if observable {
            read_field!(opt bool, map, "defanged", ctx, &Path::Key(&root, "defanged"))
        } else {
            Some(None)
        };
        let extensions = match map.remove("extensions") {
            None => Some(Map::new()),
            Some(value) => read_extensions(value, ctx),
        };
        Some(Common {
            spec_version: spec_version?,
            created_by_ref: created_by_ref?,
            created: created?,
            modified: modified?,
            revoked: revoked?,
            labels: labels?,
            confidence: confidence?,
            lang: lang?,
            external_references: external_references?,
            object_marking_refs: object_marking_refs?,
            granular_markings: granular_markings?,
            defanged: defanged?,
            extensions: extensions?,
        })
    }

    fn write(&self, out: &mut Map<String, Value>, category: Category) {
        let version = match (&self.spec_version, category) {
            (Some(version), _) => Some(version.clone()),
            (None, Category::Domain | Category::Marking) => Some("2.1".to_owned()),
            (None, Category::Observable) => None,
        };
        if let Some(version) = version {
            out.insert("spec_version".to_owned(), Value::from(version));
        }
        write_field!(opt & self.created_by_ref, out, "created_by_ref");
        if let Some(created) = &self.created {
            out.insert("created".to_owned(), Value::from(created.millis_text()));
        }
        if let Some(modified) = &self.modified {
            out.insert("modified".to_owned(), Value::from(modified.millis_text()));
        }
        write_field!(opt & self.revoked, out, "revoked");
        write_field!(list & self.labels, out, "labels");
        write_field!(opt & self.confidence, out, "confidence");
        write_field!(opt & self.lang, out, "lang");
        write_field!(list & self.external_references, out, "external_references");
        write_field!(list & self.object_marking_refs, out, "object_marking_refs");
        write_field!(list & self.granular_markings, out, "granular_markings");
        write_field!(opt & self.defanged, out, "defanged");
        if !self.extensions.is_empty() {
            out.insert("extensions".to_owned(), Value::Object(self.extensions.clone()));
        }
    }
}

fn read_extensions(value: Value, ctx: &mut Ctx<'_>) -> Option<Map<String, Value>> {
    let base = ctx.base;
    let root = Path::Root(base);
    let value = Value::read(value, ctx, &Path::Key(&root, "extensions"))?;
    let Value::Object(map) = value else {
        ctx.at("extensions", "expected a dictionary of extensions");
        return None;
    };
    if map.is_empty() {
        ctx.at("extensions", "a dictionary must not be empty");
        return None;
    }
    let mut ok = true;
    for (name, extension) in &map {
        let path = format!("extensions.{name}");
        let path = path.as_str();
        let definition = name.strip_prefix("extension-definition--").is_some_and(property::is_uuid);
        let predefined = name.strip_suffix("-ext").is_some_and(|stem| {
            !stem.is_empty()
                && stem.as_bytes()[0].is_ascii_lowercase()
                && stem.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !stem.ends_with('-')
                && !stem.contains("--")
        });
        if !definition && !predefined {
            ctx.at(path, "an extension name is extension-definition--UUID or a name ending in -ext");
            ok = false;
        }
        match extension {
            Value::Object(properties) if !properties.is_empty() => {}
            _ => {
                ctx.at(path, "an extension is a dictionary with at least one property");
                ok = false;
            }
        }
    }
    ok.then_some(map)
}

/// The type-specific properties.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectData {
    AttackPattern(AttackPattern),
    Campaign(Campaign),
    Grouping(Grouping),
    Identity(Identity),
    Indicator(Indicator),
    Malware(Malware),
    MarkingDefinition(MarkingDefinition),
    Note(Note),
    ObservedData(ObservedData),
    Relationship(Relationship),
    Report(Report),
    Sighting(Sighting),
    ThreatActor(ThreatActor),
    Vulnerability(Vulnerability),
    /// `ipv4-addr` or `ipv6-addr` (the identifier's type tells which).
    IpAddress(IpAddress),
    DomainName(DomainName),
    Url(Url),
    EmailAddress(EmailAddress),
    MacAddress(MacAddress),
    AutonomousSystem(AutonomousSystem),
    File(File),
    NetworkTraffic(NetworkTraffic),
    /// Another type: its properties are all in [`Object::custom`].
    Other,
}

impl ObjectData {
    fn read(kind: &str, map: &mut Fields<'_>, ctx: &mut Ctx<'_>) -> Option<ObjectData> {
        Some(match kind {
            "attack-pattern" => ObjectData::AttackPattern(AttackPattern::read(map, ctx)?),
            "campaign" => ObjectData::Campaign(Campaign::read(map, ctx)?),
            "grouping" => ObjectData::Grouping(Grouping::read(map, ctx)?),
            "identity" => ObjectData::Identity(Identity::read(map, ctx)?),
            "indicator" => ObjectData::Indicator(Indicator::read(map, ctx)?),
            "malware" => ObjectData::Malware(Malware::read(map, ctx)?),
            "marking-definition" => ObjectData::MarkingDefinition(MarkingDefinition::read(map, ctx)?),
            "note" => ObjectData::Note(Note::read(map, ctx)?),
            "observed-data" => ObjectData::ObservedData(ObservedData::read(map, ctx)?),
            "relationship" => ObjectData::Relationship(Relationship::read(map, ctx)?),
            "report" => ObjectData::Report(Report::read(map, ctx)?),
            "sighting" => ObjectData::Sighting(Sighting::read(map, ctx)?),
            "threat-actor" => ObjectData::ThreatActor(ThreatActor::read(map, ctx)?),
            "vulnerability" => ObjectData::Vulnerability(Vulnerability::read(map, ctx)?),
            "ipv4-addr" | "ipv6-addr" => ObjectData::IpAddress(IpAddress::read(map, ctx)?),
            "domain-name" => ObjectData::DomainName(DomainName::read(map, ctx)?),
            "url" => ObjectData::Url(Url::read(map, ctx)?),
            "email-addr" => ObjectData::EmailAddress(EmailAddress::read(map, ctx)?),
            "mac-addr" => ObjectData::MacAddress(MacAddress::read(map, ctx)?),
            "autonomous-system" => ObjectData::AutonomousSystem(AutonomousSystem::read(map, ctx)?),
            "file" => ObjectData::File(File::read(map, ctx)?),
            "network-traffic" => ObjectData::NetworkTraffic(NetworkTraffic::read(map, ctx)?),
            _ => ObjectData::Other,
        })
    }

    fn write(&self, out: &mut Map<String, Value>) {
        match self {
            ObjectData::AttackPattern(data) => data.write(out),
            ObjectData::Campaign(data) => data.write(out),
            ObjectData::Grouping(data) => data.write(out),
            ObjectData::Identity(data) => data.write(out),
            ObjectData::Indicator(data) => data.write(out),
            ObjectData::Malware(data) => data.write(out),
            ObjectData::MarkingDefinition(data) => data.write(out),
            ObjectData::Note(data) => data.write(out),
            ObjectData::ObservedData(data) => data.write(out),
            ObjectData::Relationship(data) => data.write(out),
            ObjectData::Report(data) => data.write(out),
            ObjectData::Sighting(data) => data.write(out),
            ObjectData::ThreatActor(data) => data.write(out),
            ObjectData::Vulnerability(data) => data.write(out),
            ObjectData::IpAddress(data) => data.write(out),
            ObjectData::DomainName(data) => data.write(out),
            ObjectData::Url(data) => data.write(out),
            ObjectData::EmailAddress(data) => data.write(out),
            ObjectData::MacAddress(data) => data.write(out),
            ObjectData::AutonomousSystem(data) => data.write(out),
            ObjectData::File(data) => data.write(out),
            ObjectData::NetworkTraffic(data) => data.write(out),
            ObjectData::Other => {}
        }
    }
}

/// A STIX 2.1 object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The identifier; its type part is the object's type.
    pub id: Identifier,
    pub common: Common,
    pub data: ObjectData,
    /// Every property the model does not name, as it came.
    pub custom: Map<String, Value>,
}

/// The deepest nesting of a property value [`Object::from_json`] accepts by default.
pub const DEFAULT_MAX_DEPTH: usize = 32;

impl Object {
    /// A new object with no common or custom properties.
    pub fn new(id: Identifier, data: ObjectData) -> Object {
        Object { id, common: Common::default(), data, custom: Map::new() }
    }

    /// The object's type (`indicator`).
    pub fn object_type(&self) -> &str {
        self.id.object_type()
    }

    /// The category of the object's common properties.
    pub fn category(&self) -> Category {
        Category::of(self.object_type(), &self.custom_with_created())
    }

    fn custom_with_created(&self) -> Fields<'static> {
        let mut marker = Fields::default();
        if self.common.created.is_some() {
            marker.0.push((Cow::Borrowed("created"), Value::Null));
        }
        marker
    }

    /// Reads and checks an object; `path` prefixes the JSON paths of the problems
    /// (`objects[3]`), `max_depth` bounds the nesting of property values.
    pub fn from_json(value: Value, path: &str, max_depth: usize) -> Result<Object, Vec<Problem>> {
        let Value::Object(map) = value else {
            let mut ctx = Ctx::new(path, max_depth);
            ctx.at("", "expected a STIX object (a JSON object)");
            return Err(ctx.problems);
        };
        Object::from_fields(
            Fields(map.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect()),
            path,
            max_depth,
        )
    }

    /// [`Object::from_json`] on the members of the object.
    pub(crate) fn from_fields(
        mut map: Fields<'_>,
        path: &str,
        max_depth: usize,
    ) -> Result<Object, Vec<Problem>> {
        let mut ctx = Ctx::new(path, max_depth);
        let kind = match map.remove("type") {
            Some(Value::String(kind)) if is_type_name(&kind) => kind,
            Some(Value::String(kind)) => {
                ctx.at("type", format!("{kind:?} is not an object type (3 to 250 of a-z, 0-9 and -)"));
                return Err(ctx.problems);
            }
            Some(_) => {
                ctx.at("type", "expected a string");
                return Err(ctx.problems);
            }
            None => {
                ctx.at("type", "required property missing");
                return Err(ctx.problems);
            }
        };
        let root = Path::Root(path);
        let id = read_field!(req Identifier, map, "id", &mut ctx, &Path::Key(&root, "id"));
        if let Some(id) = &id
            && id.object_type() != kind
        {
            ctx.at("id", format!("the identifier's type is {:?}, not {kind:?}", id.object_type()));
        }
        let category = Category::of(&kind, &map);
        if kind == "indicator" {
            check_pattern(&map, &mut ctx);
        }
        let common = Common::read(&mut map, &mut ctx, category);
        let data = ObjectData::read(&kind, &mut map, &mut ctx);
        if let Some(common) = &common {
            check_common(common, &mut ctx, category);
        }
        if let Some(data) = &data {
            check_data(data, &mut ctx);
        }
        let mut custom = Map::new();
        for (name, value) in map.0 {
            if !is_property_name(&name) {
                ctx.at(
                    &name,
                    "a property name is 3 to 250 characters of a-z, 0-9 and _, starting with a letter",
                );
                continue;
            }
            if let Some(value) = Value::read(value, &mut ctx, &Path::Key(&root, &name)) {
                if !custom_value_ok(&value) {
                    ctx.at(&name, "null and empty lists are not property values; leave the property out");
                    continue;
                }
                custom.insert(name.into_owned(), value);
            }
        }
        let (Some(id), Some(common), Some(data)) = (id, common, data) else {
            return Err(ctx.problems);
        };
        if ctx.problems.is_empty() { Ok(Object { id, common, data, custom }) } else { Err(ctx.problems) }
    }

    /// The object as STIX JSON.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("type".to_owned(), Value::from(self.object_type()));
        out.insert("id".to_owned(), Value::from(self.id.as_str()));
        self.common.write(&mut out, self.category());
        self.data.write(&mut out);
        for (name, value) in &self.custom {
            out.entry(name.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(out)
    }
}

/// The STIX pattern of an indicator, checked as the reference validator checks it (when its
/// `pattern_type` is `stix`), before the other properties so a bad pattern is always reported.
fn check_pattern(map: &Fields<'_>, ctx: &mut Ctx<'_>) {
    let get = |key: &str| map.0.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_str());
    if get("pattern_type") == Some("stix")
        && let Some(text) = get("pattern")
        && let Some(error) = pattern::validate(text).into_iter().next()
    {
        ctx.at("pattern", error.to_string());
    }
}

/// The checks across common properties.
fn check_common(common: &Common, ctx: &mut Ctx<'_>, category: Category) {
    if let Some(version) = &common.spec_version
        && version != "2.1"
    {
        ctx.at("spec_version", format!("{version:?} is not supported (STIX 2.1 objects only)"));
    }
    match category {
        Category::Domain => {
            if common.created.is_none() {
                ctx.at("created", "required property missing");
            }
            if common.modified.is_none() {
                ctx.at("modified", "required property missing");
            }
        }
        Category::Marking => {
            if common.created.is_none() {
                ctx.at("created", "required property missing");
            }
        }
        Category::Observable => {}
    }
    order(ctx, common.created.as_ref(), common.modified.as_ref(), "modified", "created", false);
    if let Some(creator) = &common.created_by_ref
        && creator.object_type() != "identity"
    {
        ctx.at("created_by_ref", "must refer to an identity");
    }
    for (n, marking) in common.object_marking_refs.iter().enumerate() {
        if marking.object_type() != "marking-definition" {
            ctx.at(&format!("object_marking_refs[{n}]"), "must refer to a marking-definition");
        }
    }
    for (n, granular) in common.granular_markings.iter().enumerate() {
        let path = format!("granular_markings[{n}]");
        match (&granular.marking_ref, &granular.lang) {
            (Some(marking), None) if marking.object_type() != "marking-definition" => {
                ctx.at(&format!("{path}.marking_ref"), "must refer to a marking-definition");
            }
            (Some(_), None) | (None, Some(_)) => {}
            _ => ctx.at(&path, "exactly one of marking_ref and lang is required"),
        }
        if granular.selectors.is_empty() {
            ctx.at(&format!("{path}.selectors"), "required property missing");
        }
        for (s, selector) in granular.selectors.iter().enumerate() {
            if !is_selector(selector) {
                ctx.at(&format!("{path}.selectors[{s}]"), format!("{selector:?} is not a selector"));
            }
        }
    }
    if let Some(lang) = &common.lang
        && !is_language_tag(lang)
    {
        ctx.at("lang", format!("{lang:?} is not an RFC 5646 language tag"));
    }
}

/// The checks across type-specific properties.
fn check_data(data: &ObjectData, ctx: &mut Ctx<'_>) {
    match data {
        ObjectData::Indicator(indicator) => {
            order(
                ctx,
                Some(&indicator.valid_from),
                indicator.valid_until.as_ref(),
                "valid_until",
                "valid_from",
                true,
            );
        }
        ObjectData::ObservedData(observed) => {
            order(
                ctx,
                Some(&observed.first_observed),
                Some(&observed.last_observed),
                "last_observed",
                "first_observed",
                false,
            );
            if observed.objects.is_none() && observed.object_refs.is_empty() {
                ctx.at("object_refs", "required property missing (or the deprecated objects)");
            }
        }
        ObjectData::Relationship(relationship) => {
            order(
                ctx,
                relationship.start_time.as_ref(),
                relationship.stop_time.as_ref(),
                "stop_time",
                "start_time",
                true,
            );
        }
        ObjectData::Sighting(sighting) => {
            order(
                ctx,
                sighting.first_seen.as_ref(),
                sighting.last_seen.as_ref(),
                "last_seen",
                "first_seen",
                false,
            );
        }
        ObjectData::Campaign(campaign) => {
            order(
                ctx,
                campaign.first_seen.as_ref(),
                campaign.last_seen.as_ref(),
                "last_seen",
                "first_seen",
                false,
            );
        }
        ObjectData::ThreatActor(actor) => {
            order(ctx, actor.first_seen.as_ref(), actor.last_seen.as_ref(), "last_seen", "first_seen", false);
        }
        ObjectData::Malware(malware) => {
            order(
                ctx,
                malware.first_seen.as_ref(),
                malware.last_seen.as_ref(),
                "last_seen",
                "first_seen",
                false,
            );
            if malware.is_family && malware.name.is_none() {
                ctx.at("name", "required when is_family is true");
            }
        }
        ObjectData::MarkingDefinition(marking)
            if marking.definition_type.is_some() != marking.definition.is_some() =>
        {
            ctx.at("definition", "definition_type and definition go together");
        }
        ObjectData::File(file) if file.hashes.is_none() && file.name.is_none() => {
            ctx.at("hashes", "a file needs hashes or a name");
        }
        ObjectData::NetworkTraffic(traffic) => {
            if traffic.src_ref.is_none() && traffic.dst_ref.is_none() {
                ctx.at("src_ref", "network traffic needs src_ref or dst_ref");
            }
            order(ctx, traffic.start.as_ref(), traffic.end.as_ref(), "end", "start", false);
        }
        _ => {}
    }
}

/// Reports `later` before `earlier` (or equal, with `strict`).
fn order(
    ctx: &mut Ctx<'_>,
    earlier: Option<&StixTimestamp>,
    later: Option<&StixTimestamp>,
    later_name: &str,
    earlier_name: &str,
    strict: bool,
) {
    if let (Some(earlier), Some(later)) = (earlier, later) {
        let bad = if strict { later.value() <= earlier.value() } else { later.value() < earlier.value() };
        if bad {
            let relation = if strict { "after" } else { "no earlier than" };
            ctx.at(later_name, format!("must be {relation} {earlier_name}"));
        }
    }
}

/// A custom property name: a letter, then 2 to 249 of a-z, 0-9 and _.
fn is_property_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=250).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

fn custom_value_ok(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => !items.is_empty(),
        _ => true,
    }
}

/// A granular marking selector: `id`, or a property name and steps (`.name`, `.[3]`).
fn is_selector(selector: &str) -> bool {
    if selector == "id" {
        return true;
    }
    let name_ok = |s: &str, min: usize| {
        (min..=250).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    let mut parts = selector.split('.');
    let Some(first) = parts.next() else { return false };
    name_ok(first, 3)
        && parts.all(|step| {
            name_ok(step, 1)
                || step
                    .strip_prefix('[')
                    .and_then(|s| s.strip_suffix(']'))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The form of an RFC 5646 tag: a primary language of 2 to 3 letters (or `i`/`x` with
/// subtags), then subtags of 1 to 8 letters and digits.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let Some(primary) = parts.next() else { return false };
    let primary_ok = (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic())
        || matches!(primary, "i" | "x");
    primary_ok && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}
