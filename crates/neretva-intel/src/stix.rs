//! Intel events as STIX 2.1 and back, through `neretva-stix`'s typed objects.
//!
//! Export ([`to_bundle`]): a published event becomes a `report` (an unpublished one a `grouping`
//! with context `suspicious-activity`) created by an `identity` (the creator organisation); each
//! attribute marked `to_ids` whose type has a pattern becomes an `indicator` (`[ipv4-addr:value =
//! '…']`, `[file:hashes.'SHA-256' = '…']`, `[file:name = '…' AND file:hashes.MD5 = '…']`, …);
//! other such attributes become `observed-data` with their cyber-observable object. Every object
//! carries the official TLP 2.0 marking of its event or attribute and the event's PAP marking;
//! free tags become labels; MISP's type and category travel as `x_misp_type` and
//! `x_misp_category`. Attributes with neither a pattern nor an observable (free text, person
//! data) are counted in [`Exported::skipped`]. Identifiers reuse the event's and attributes'
//! UUIDs, so exporting twice gives the same objects.
//!
//! Import ([`from_objects`]): each report or grouping becomes an event of the indicators and
//! observed data it refers to; indicators and observed data no report refers to become one event
//! named after the bundle. An indicator whose pattern is one of the forms above becomes that
//! attribute; any other pattern a `stix2-pattern` attribute. TLP and PAP markings become tags.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use neretva_model::Timestamp;
use neretva_model::tlp::{Pap, Tlp};
use neretva_stix::bundle::{Bundle, Imported as StixImported};
use neretva_stix::object::marking::{self, Markings};
use neretva_stix::object::{Object, ObjectData};
use neretva_stix::pattern::Pattern;
use neretva_stix::pattern::ast::{ComparisonExpr, LiteralKind, ObservationExpr, Operand, Operator, PathStep};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::describe;
use crate::misp::Problem;
use crate::model::{Analysis, AttrDistribution, Attribute, Distribution, IntelEvent, OrgRef, ThreatLevel};
use crate::tag::{self, Tag, TagKind};
use crate::value;

/// What an export gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub bundle: Bundle,
    /// Attributes with no STIX form.
    pub skipped: usize,
}

fn stix_time(time: Timestamp) -> String {
    let utc = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}Z",
        crate::misp::format_date(utc.date()),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.millisecond()
    )
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// STIX's name of a file hash algorithm, as a pattern path key.
fn hash_key(attr_type: &str) -> Option<&'static str> {
    Some(match attr_type {
        "md5" => "MD5",
        "sha1" => "'SHA-1'",
        "sha224" => "'SHA-224'",
        "sha256" => "'SHA-256'",
        "sha384" => "'SHA-384'",
        "sha512" => "'SHA-512'",
        "ssdeep" => "SSDEEP",
        "tlsh" => "TLSH",
        _ => return None,
    })
}

fn ip_type(text: &str) -> &'static str {
    if text.contains(':') { "ipv6-addr" } else { "ipv4-addr" }
}

/// The STIX pattern of an attribute, if its type has one.
pub fn pattern_of(attr_type: &str, value: &str) -> Option<String> {
    Some(match attr_type {
        "ip-src" | "ip-dst" => format!("[{}:value = {}]", ip_type(value), quote(value)),
        "ip-src|port" | "ip-dst|port" => {
            let (address, port) = value.split_once('|')?;
            let side = if attr_type.starts_with("ip-src") { "src" } else { "dst" };
            format!(
                "[network-traffic:{side}_ref.type = {} AND network-traffic:{side}_ref.value = {} AND network-traffic:{side}_port = {port}]",
                quote(ip_type(address)),
                quote(address)
            )
        }
        "domain" | "hostname" => format!("[domain-name:value = {}]", quote(value)),
        "domain|ip" => {
            let (name, address) = value.split_once('|')?;
            format!(
                "[domain-name:value = {} AND domain-name:resolves_to_refs[*].value = {}]",
                quote(name),
                quote(address)
            )
        }
        "url" => format!("[url:value = {}]", quote(value)),
        "email-src" => format!("[email-message:from_ref.value = {}]", quote(value)),
        "email-dst" => format!("[email-message:to_refs[*].value = {}]", quote(value)),
        "filename" => format!("[file:name = {}]", quote(value)),
        "AS" => format!("[autonomous-system:number = {value}]"),
        "mac-address" => format!("[mac-addr:value = {}]", quote(value)),
        "stix2-pattern" => value.to_owned(),
        _ => {
            if let Some(algorithm) = attr_type.strip_prefix("filename|") {
                let (name, digest) = value.rsplit_once('|')?;
                return Some(format!(
                    "[file:name = {} AND file:hashes.{} = {}]",
                    quote(name),
                    hash_key(algorithm)?,
                    quote(digest)
                ));
            }
            format!("[file:hashes.{} = {}]", hash_key(attr_type)?, quote(value))
        }
    })
}

/// The cyber-observable object of an attribute (type and properties), if its type has one.
fn observable_of(attr_type: &str, value: &str) -> Option<(&'static str, Map<String, Value>)> {
    let mut properties = Map::new();
    let kind = match attr_type {
        "ip-src" | "ip-dst" => {
            properties.insert("value".into(), json!(value));
            ip_type(value)
        }
        "domain" | "hostname" => {
            properties.insert("value".into(), json!(value));
            "domain-name"
        }
        "url" => {
            properties.insert("value".into(), json!(value));
            "url"
        }
        "email-src" | "email-dst" => {
            properties.insert("value".into(), json!(value));
            "email-addr"
        }
        "mac-address" => {
            properties.insert("value".into(), json!(value));
            "mac-addr"
        }
        "AS" => {
            properties.insert("number".into(), json!(value.parse::<u64>().ok()?));
            "autonomous-system"
        }
        "filename" => {
            properties.insert("name".into(), json!(value));
            "file"
        }
        _ => {
            let (name, digest, algorithm) = match attr_type.strip_prefix("filename|") {
                Some(algorithm) => {
                    let (name, digest) = value.rsplit_once('|')?;
                    (Some(name), digest, algorithm)
                }
                None => (None, value, attr_type),
            };
            let key = hash_key(algorithm)?.trim_matches('\'');
            let mut hashes = Map::new();
            hashes.insert(key.into(), json!(digest));
            properties.insert("hashes".into(), Value::Object(hashes));
            if let Some(name) = name {
                properties.insert("name".into(), json!(name));
            }
            "file"
        }
    };
    Some((kind, properties))
}

fn free_labels(tags: &[Tag]) -> Vec<String> {
    tags.iter()
        .filter(|tag| tag.travels() && !matches!(tag.kind(), TagKind::Tlp(_) | TagKind::Pap(_)))
        .map(|tag| tag.name.clone())
        .collect()
}

/// Builds a typed object from its JSON (the ids and values are ours, so it parses).
fn object(value: Value) -> Option<Object> {
    Object::from_json(value, "", neretva_stix::object::DEFAULT_MAX_DEPTH).ok()
}

/// The UUID a STIX identifier is made of: STIX asks for version 4 (or 5), so another version
/// (Neretva's own ids are time-ordered version 7) keeps its bits but for the version and variant
/// fields, which become version 4's. For version 7 ids those fields are constant, so the mapping
/// is one to one and stable across exports.
pub fn stix_uuid(uuid: Uuid) -> Uuid {
    match uuid.get_version_num() {
        4 | 5 => uuid,
        _ => uuid::Builder::from_random_bytes(*uuid.as_bytes()).into_uuid(),
    }
}

/// An event as a STIX bundle; `default_tlp` and `default_pap` apply when it has no such tag.
pub fn to_bundle(event: &IntelEvent, default_tlp: Tlp, default_pap: Pap) -> Exported {
    let tlp = event.tlp(default_tlp);
    let pap = event.pap(default_pap);
    let identity_id = format!("identity--{}", stix_uuid(event.orgc.uuid));
    let event_time = stix_time(event.timestamp);
    let mut objects: Vec<Object> = Vec::new();
    let mut refs: Vec<String> = Vec::new();
    let mut skipped = 0;
    let mark = |object: &mut Object, tlp: Tlp| {
        marking::set_tlp(object, tlp);
        marking::set_pap(object, pap);
    };
    if let Some(mut identity) = object(json!({
        "type": "identity", "spec_version": "2.1", "id": identity_id,
        "created": event_time, "modified": event_time,
        "name": event.orgc.name, "identity_class": "organization",
    })) {
        mark(&mut identity, tlp);
        objects.push(identity);
    }
    for (_, attribute) in event.all_attributes().filter(|(_, attribute)| !attribute.deleted) {
        let attribute_tlp = attribute.tlp(tlp);
        let time = stix_time(attribute.timestamp);
        let labels = free_labels(&attribute.tags);
        let mut extra = Map::new();
        extra.insert("x_misp_type".into(), json!(attribute.attr_type));
        extra.insert("x_misp_category".into(), json!(attribute.category));
        if !labels.is_empty() {
            extra.insert("labels".into(), json!(labels));
        }
        if !attribute.comment.is_empty() {
            extra.insert("description".into(), json!(attribute.comment));
        }
        let pattern =
            if attribute.to_ids { pattern_of(&attribute.attr_type, &attribute.value) } else { None };
        let built = if let Some(pattern) = pattern {
            let valid_from = attribute.first_seen.unwrap_or(attribute.timestamp);
            let mut body = json!({
                "type": "indicator", "spec_version": "2.1", "id": format!("indicator--{}", stix_uuid(attribute.uuid)),
                "created_by_ref": identity_id, "created": time, "modified": time,
                "name": attribute.value, "indicator_types": ["malicious-activity"],
                "pattern": pattern, "pattern_type": "stix", "pattern_version": "2.1",
                "valid_from": stix_time(valid_from),
            });
            if let (Some(last), Some(map)) =
                (attribute.last_seen.filter(|last| *last > valid_from), body.as_object_mut())
            {
                map.insert("valid_until".into(), json!(stix_time(last)));
            }
            if let Some(map) = body.as_object_mut() {
                map.extend(extra);
            }
            object(body).map(|indicator| vec![indicator])
        } else if let Some((kind, mut properties)) = observable_of(&attribute.attr_type, &attribute.value) {
            let sco_id = format!("{kind}--{}", stix_uuid(attribute.uuid));
            properties.insert("type".into(), json!(kind));
            properties.insert("spec_version".into(), json!("2.1"));
            properties.insert("id".into(), json!(sco_id));
            let first = attribute.first_seen.unwrap_or(attribute.timestamp);
            let last = attribute.last_seen.filter(|last| *last >= first).unwrap_or(first);
            let mut body = json!({
                "type": "observed-data", "spec_version": "2.1",
                "id": format!("observed-data--{}", stix_uuid(attribute.uuid)),
                "created_by_ref": identity_id, "created": time, "modified": time,
                "first_observed": stix_time(first), "last_observed": stix_time(last),
                "number_observed": 1, "object_refs": [sco_id],
            });
            if let Some(map) = body.as_object_mut() {
                map.extend(extra);
            }
            match (object(body), object(Value::Object(properties))) {
                (Some(observed), Some(sco)) => Some(vec![observed, sco]),
                _ => None,
            }
        } else {
            None
        };
        match built {
            Some(mut built) => {
                refs.push(built[0].id.as_str().to_owned());
                for item in &mut built {
                    mark(item, attribute_tlp);
                }
                objects.extend(built);
            }
            None => skipped += 1,
        }
    }
    if refs.is_empty() {
        refs.push(identity_id.clone());
    }
    let labels = free_labels(&event.tags);
    let mut body = if event.published {
        json!({
            "type": "report", "spec_version": "2.1", "id": format!("report--{}", stix_uuid(event.uuid)),
            "created_by_ref": identity_id, "created": event_time, "modified": event_time,
            "name": event.info, "report_types": ["threat-report"],
            "published": stix_time(event.publish_timestamp.unwrap_or(event.timestamp)),
            "object_refs": refs,
        })
    } else {
        json!({
            "type": "grouping", "spec_version": "2.1", "id": format!("grouping--{}", stix_uuid(event.uuid)),
            "created_by_ref": identity_id, "created": event_time, "modified": event_time,
            "name": event.info, "context": "suspicious-activity", "object_refs": refs,
        })
    };
    if let Some(map) = body.as_object_mut() {
        if !labels.is_empty() {
            map.insert("labels".into(), json!(labels));
        }
        map.insert("x_misp_threat_level_id".into(), json!(event.threat_level.number().to_string()));
        map.insert("x_misp_analysis".into(), json!(event.analysis.number().to_string()));
    }
    if let Some(mut container) = object(body) {
        mark(&mut container, tlp);
        objects.push(container);
    }
    let mut bundle = Bundle {
        id: neretva_stix::object::property::Identifier::parse(&format!("bundle--{}", stix_uuid(event.uuid)))
            .unwrap_or_else(|_| unreachable_identifier()),
        objects,
    };
    bundle.add_marking_definitions();
    Exported { bundle, skipped }
}

/// Never reached: a bundle identifier made of a UUID always parses.
fn unreachable_identifier() -> neretva_stix::object::property::Identifier {
    neretva_stix::object::property::Identifier::parse("bundle--00000000-0000-4000-8000-000000000000")
        .unwrap_or_else(|_| unreachable_identifier())
}

/// What an import from STIX needs from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StixContext {
    /// The import time.
    pub now: Timestamp,
    /// The creator of events whose report names none.
    pub default_org: OrgRef,
}

fn uuid_of(id: &str) -> Option<Uuid> {
    id.split_once("--").and_then(|(_, uuid)| Uuid::parse_str(uuid).ok())
}

fn time_of(value: &neretva_stix::object::property::StixTimestamp) -> Option<Timestamp> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(value.value().unix_micros()) * 1000).ok()
}

/// Reads the attribute(s) a pattern stands for: one of [`pattern_of`]'s forms, else the pattern
/// as a `stix2-pattern`.
pub fn attribute_of_pattern(pattern: &str) -> (String, String) {
    let fallback = || ("stix2-pattern".to_owned(), pattern.to_owned());
    let Ok(parsed) = Pattern::parse(pattern) else { return fallback() };
    let ObservationExpr::Observation(expr) = parsed.root() else { return fallback() };
    let comparisons: Vec<_> = match expr {
        ComparisonExpr::Comparison(comparison) => vec![comparison],
        ComparisonExpr::And(items) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    ComparisonExpr::Comparison(comparison) => out.push(comparison),
                    _ => return fallback(),
                }
            }
            out
        }
        _ => return fallback(),
    };
    let mut found: HashMap<String, String> = HashMap::new();
    for comparison in &comparisons {
        if comparison.negated || comparison.operator != Operator::Equal {
            return fallback();
        }
        let Operand::Literal(literal) = &comparison.operand else { return fallback() };
        let text = match literal.kind {
            LiteralKind::String => literal.string_value().unwrap_or_default(),
            LiteralKind::Int => literal.text.clone(),
            _ => return fallback(),
        };
        let path: Vec<String> = comparison
            .path
            .steps
            .iter()
            .map(|step| match step {
                PathStep::Key(key) => key.clone(),
                PathStep::Index(index) => index.to_string(),
                PathStep::AnyIndex => "*".to_owned(),
            })
            .collect();
        found.insert(format!("{}:{}", comparison.path.object_type, path.join(".")), text);
    }
    let get = |key: &str| found.get(key).cloned();
    let hash_type = |key: &str| -> Option<&'static str> {
        Some(match key {
            "MD5" => "md5",
            "SHA-1" => "sha1",
            "SHA-224" => "sha224",
            "SHA-256" => "sha256",
            "SHA-384" => "sha384",
            "SHA-512" => "sha512",
            "SSDEEP" => "ssdeep",
            "TLSH" => "tlsh",
            _ => return None,
        })
    };
    let mapped: Option<(String, String)> = match found.len() {
        1 => {
            let (key, text) = found.iter().next().map(|(k, v)| (k.as_str(), v.clone())).unwrap_or_default();
            match key {
                "ipv4-addr:value" | "ipv6-addr:value" => Some(("ip-dst".into(), text)),
                "domain-name:value" => Some(("domain".into(), text)),
                "url:value" => Some(("url".into(), text)),
                "email-addr:value" | "email-message:from_ref.value" => Some(("email-src".into(), text)),
                "email-message:to_refs.*.value" => Some(("email-dst".into(), text)),
                "file:name" => Some(("filename".into(), text)),
                "autonomous-system:number" => Some(("AS".into(), text)),
                "mac-addr:value" => Some(("mac-address".into(), text)),
                _ => key.strip_prefix("file:hashes.").and_then(hash_type).map(|t| (t.to_owned(), text)),
            }
        }
        2 => {
            if let (Some(name), Some(address)) =
                (get("domain-name:value"), get("domain-name:resolves_to_refs.*.value"))
            {
                Some(("domain|ip".into(), format!("{name}|{address}")))
            } else if let Some(name) = get("file:name") {
                found
                    .iter()
                    .find_map(|(key, digest)| {
                        key.strip_prefix("file:hashes.").and_then(hash_type).map(|t| (t, digest))
                    })
                    .map(|(t, digest)| (format!("filename|{t}"), format!("{name}|{digest}")))
            } else {
                None
            }
        }
        3 => ["src", "dst"].iter().find_map(|side| {
            let address = get(&format!("network-traffic:{side}_ref.value"))?;
            let port = get(&format!("network-traffic:{side}_port"))?;
            get(&format!("network-traffic:{side}_ref.type"))?;
            Some((format!("ip-{side}|port"), format!("{address}|{port}")))
        }),
        _ => None,
    };
    match mapped {
        Some((attr_type, text)) => match value::canonicalise(&attr_type, &text) {
            Ok(canonical) => (attr_type, canonical),
            Err(_) => fallback(),
        },
        None => fallback(),
    }
}

/// The attribute type and value of a cyber-observable object.
fn attribute_of_observable(object: &Object) -> Option<(String, String)> {
    let (attr_type, text) = match &object.data {
        ObjectData::IpAddress(ip) => ("ip-dst".to_owned(), ip.value.clone()),
        ObjectData::DomainName(domain) => ("domain".to_owned(), domain.value.clone()),
        ObjectData::Url(url) => ("url".to_owned(), url.value.clone()),
        ObjectData::EmailAddress(email) => ("email-src".to_owned(), email.value.clone()),
        ObjectData::MacAddress(mac) => ("mac-address".to_owned(), mac.value.clone()),
        ObjectData::AutonomousSystem(system) => ("AS".to_owned(), system.number.get().to_string()),
        ObjectData::File(file) => {
            let hash = file.hashes.as_ref().and_then(|hashes| {
                ["SHA-256", "SHA-1", "MD5", "SHA-512"]
                    .iter()
                    .find_map(|key| hashes.0.get(*key).map(|digest| (*key, digest.clone())))
            });
            let algorithm = |key: &str| match key {
                "SHA-256" => "sha256",
                "SHA-1" => "sha1",
                "MD5" => "md5",
                _ => "sha512",
            };
            match (&file.name, hash) {
                (Some(name), Some((key, digest))) => {
                    (format!("filename|{}", algorithm(key)), format!("{name}|{digest}"))
                }
                (None, Some((key, digest))) => (algorithm(key).to_owned(), digest),
                (Some(name), None) => ("filename".to_owned(), name.clone()),
                (None, None) => return None,
            }
        }
        _ => return None,
    };
    let attr_type = if attr_type == "ip-dst" && text.parse::<IpAddr>().is_err() && !text.contains('/') {
        return None;
    } else {
        attr_type
    };
    let canonical = value::canonicalise(&attr_type, &text).ok()?;
    Some((attr_type, canonical))
}

fn attribute(
    uuid: Uuid,
    (attr_type, value): (String, String),
    to_ids: bool,
    time: Timestamp,
    object: &Object,
    event_tlp: Tlp,
    markings: &Markings,
) -> Option<Attribute> {
    let info = describe::type_info(&attr_type)?;
    let category = object
        .custom
        .get("x_misp_category")
        .and_then(Value::as_str)
        .filter(|category| info.allows(category))
        .unwrap_or(info.default_category())
        .to_owned();
    let mut tags: Vec<Tag> =
        object.common.labels.iter().filter(|label| tag::check_name(label).is_ok()).map(Tag::new).collect();
    if let Some(own) = markings.tlp(object).filter(|own| *own > event_tlp) {
        tag::set_tlp(&mut tags, own);
    }
    let comment = match &object.data {
        ObjectData::Indicator(indicator) => indicator.description.clone().unwrap_or_default(),
        _ => object.custom.get("description").and_then(Value::as_str).unwrap_or_default().to_owned(),
    };
    let (first_seen, last_seen) = match &object.data {
        ObjectData::Indicator(indicator) => {
            (time_of(&indicator.valid_from), indicator.valid_until.as_ref().and_then(time_of))
        }
        ObjectData::ObservedData(observed) => {
            (time_of(&observed.first_observed), time_of(&observed.last_observed))
        }
        _ => (None, None),
    };
    Some(Attribute {
        uuid,
        attr_type,
        category,
        value,
        to_ids,
        distribution: AttrDistribution::Inherit,
        sharing_group: None,
        comment,
        first_seen,
        last_seen,
        timestamp: time,
        deleted: false,
        tags,
        sightings: Vec::new(),
        object_relation: None,
    })
}

/// Intel events from imported STIX objects; `distribution` is given to every event.
pub fn from_objects(
    imported: &StixImported,
    context: &StixContext,
    distribution: Distribution,
) -> (Vec<IntelEvent>, Vec<Problem>) {
    let objects = &imported.objects;
    let markings = Markings::from_objects(objects);
    let by_id: HashMap<&str, &Object> = objects.iter().map(|object| (object.id.as_str(), object)).collect();
    let mut problems = Vec::new();
    let mut events = Vec::new();
    let mut referenced: HashSet<&str> = HashSet::new();
    let containers: Vec<&Object> = objects
        .iter()
        .filter(|object| matches!(object.data, ObjectData::Report(_) | ObjectData::Grouping(_)))
        .collect();
    let build = |uuid: Uuid,
                 info: String,
                 published: Option<Timestamp>,
                 container: Option<&Object>,
                 refs: Vec<&str>,
                 problems: &mut Vec<Problem>| {
        let time = container
            .and_then(|c| c.common.modified.as_ref().or(c.common.created.as_ref()))
            .and_then(time_of)
            .unwrap_or(context.now);
        let orgc = container
            .and_then(|c| c.common.created_by_ref.as_ref())
            .and_then(|id| by_id.get(id.as_str()))
            .and_then(|identity| match &identity.data {
                ObjectData::Identity(data) => {
                    Some(OrgRef { uuid: uuid_of(identity.id.as_str())?, name: data.name.clone() })
                }
                _ => None,
            })
            .unwrap_or_else(|| context.default_org.clone());
        let event_tlp = container.and_then(|c| markings.tlp(c));
        let mut tags: Vec<Tag> = container
            .map(|c| {
                c.common.labels.iter().filter(|label| tag::check_name(label).is_ok()).map(Tag::new).collect()
            })
            .unwrap_or_default();
        if let Some(tlp) = event_tlp {
            tag::set_tlp(&mut tags, tlp);
        }
        if let Some(pap) = container.and_then(|c| markings.pap(c)) {
            tag::set_pap(&mut tags, pap);
        }
        let mut attributes = Vec::new();
        let mut seen = HashSet::new();
        for id in refs {
            let Some(object) = by_id.get(id) else { continue };
            let object_time = object.common.modified.as_ref().and_then(time_of).unwrap_or(time);
            let tlp = event_tlp.unwrap_or(Tlp::Clear);
            match &object.data {
                ObjectData::Indicator(indicator) => {
                    let Some(uuid) = uuid_of(id) else { continue };
                    if indicator.pattern_type != "stix" {
                        problems.push(Problem {
                            path: id.to_owned(),
                            message: format!("pattern type {:?} is not imported", indicator.pattern_type),
                        });
                        continue;
                    }
                    let (attr_type, value) = attribute_of_pattern(&indicator.pattern);
                    if seen.insert(uuid) {
                        attributes.extend(attribute(
                            uuid,
                            (attr_type, value),
                            true,
                            object_time,
                            object,
                            tlp,
                            &markings,
                        ));
                    }
                }
                ObjectData::ObservedData(observed) => {
                    for sco_id in &observed.object_refs {
                        let Some(sco) = by_id.get(sco_id.as_str()) else { continue };
                        let Some(uuid) = uuid_of(sco_id.as_str()) else { continue };
                        match attribute_of_observable(sco) {
                            Some((attr_type, value)) if seen.insert(uuid) => {
                                attributes.extend(attribute(
                                    uuid,
                                    (attr_type, value),
                                    false,
                                    object_time,
                                    object,
                                    tlp,
                                    &markings,
                                ));
                            }
                            Some(_) => {}
                            None => problems.push(Problem {
                                path: sco_id.as_str().to_owned(),
                                message: "no MISP attribute type for this observable".into(),
                            }),
                        }
                    }
                }
                _ => {}
            }
        }
        IntelEvent {
            uuid,
            info,
            date: time.date(),
            threat_level: container
                .and_then(|c| c.custom.get("x_misp_threat_level_id"))
                .and_then(Value::as_str)
                .and_then(|n| n.parse().ok())
                .and_then(ThreatLevel::from_number)
                .unwrap_or(ThreatLevel::Undefined),
            analysis: container
                .and_then(|c| c.custom.get("x_misp_analysis"))
                .and_then(Value::as_str)
                .and_then(|n| n.parse().ok())
                .and_then(Analysis::from_number)
                .unwrap_or(Analysis::Initial),
            published: published.is_some(),
            publish_timestamp: published,
            distribution,
            sharing_group: None,
            org: None,
            orgc,
            timestamp: time,
            extends_uuid: None,
            tags,
            attributes,
            objects: Vec::new(),
        }
    };
    for container in &containers {
        let Some(uuid) = uuid_of(container.id.as_str()) else { continue };
        let (info, published, refs) = match &container.data {
            ObjectData::Report(report) => {
                (report.name.clone(), time_of(&report.published), &report.object_refs)
            }
            ObjectData::Grouping(grouping) => (
                grouping.name.clone().unwrap_or_else(|| format!("STIX grouping {uuid}")),
                None,
                &grouping.object_refs,
            ),
            _ => continue,
        };
        let refs: Vec<&str> = refs.iter().map(|id| id.as_str()).collect();
        referenced.extend(refs.iter().copied());
        events.push(build(uuid, info, published, Some(container), refs, &mut problems));
    }
    let orphans: Vec<&str> = objects
        .iter()
        .filter(|object| matches!(object.data, ObjectData::Indicator(_) | ObjectData::ObservedData(_)))
        .map(|object| object.id.as_str())
        .filter(|id| !referenced.contains(id))
        .collect();
    if !orphans.is_empty() {
        let uuid =
            imported.bundle_id.as_ref().and_then(|id| uuid_of(id.as_str())).or_else(|| uuid_of(orphans[0]));
        if let Some(uuid) = uuid {
            let info = format!("STIX bundle {uuid}");
            let mut event = build(uuid, info, None, None, orphans, &mut problems);
            let tlp = event.attributes.iter().filter_map(|attribute| tag::tlp_of(&attribute.tags)).min();
            if let Some(tlp) = tlp {
                tag::set_tlp(&mut event.tags, tlp);
            }
            events.push(event);
        }
    }
    (events, problems)
}
