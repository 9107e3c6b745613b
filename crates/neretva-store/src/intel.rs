//! Intel event storage types, and the backend-neutral parts of storing an event: its stored
//! form, its lookup keys and correlation on write.
//!
//! **Stored form.** An event is kept as its MISP JSON (as [`neretva_intel::misp::export_event`]
//! writes it), with indexed columns beside it: the event's uuid, owner and creator
//! organisations, info, date, published flag, distribution, sharing group, TLP and timestamps;
//! one row per attribute (objects' attributes included) with its type, category, canonical
//! value, `to_ids`, deletion flag and distribution; one row per tag and per sighting. Reading
//! an event parses the stored JSON back, so the JSON is the truth and the columns are indexes.
//!
//! **Correlation on write.** Storing an event correlates its attributes with the stored
//! attributes of other events through [`neretva_intel::correlate`], honouring the warning lists
//! and the over-correlation limit. Candidates are found through each attribute's lookup keys
//! ([`stored_keys`], [`lookup_keys`]): equal values, equal addresses, equal host names and a
//! new name below a stored name. At most [`CORRELATION_LIMIT`] + 1 candidates are read per key,
//! so a value met more often is reported as over-correlating and links nothing. Links are
//! stored in both directions, so both events show them.
//!
//! Reads do no access control: the server filters every event through
//! `neretva_intel::access::EventAudience` and `neretva_model::access::may_see`.

use std::collections::BTreeSet;

use neretva_incident::observable::ObservableKind;
use neretva_intel::correlate::{self, CorrelationIndex, Item, Source, SourceKind};
use neretva_intel::misp::{self, ImportContext, Limits};
use neretva_intel::model::{Attribute, IntelEvent, Sighting};
use neretva_intel::value::{self, Part};
use neretva_intel::warninglist::WarningLists;
use neretva_model::tlp::Tlp;
use neretva_model::{Timestamp, Uuid};

use crate::StoreError;

/// The most events or attributes one query returns.
pub const MAX_PAGE: u32 = 1_000;

/// The most attributes one stored event holds, those of objects included.
pub const MAX_ATTRIBUTES: usize = 100_000;

/// The longest `info`.
pub const MAX_INFO: usize = 65_535;

/// How many stored values one value may meet before it is over-correlating.
pub const CORRELATION_LIMIT: usize = correlate::DEFAULT_LIMIT;

/// The TLP of events that carry no TLP tag.
pub const DEFAULT_TLP: Tlp = Tlp::Amber;

/// A stored intel event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIntelEvent {
    /// Increasing in the order events were first stored: the paging order.
    pub seq: i64,
    pub event: IntelEvent,
    /// The organisation that owns the event on this instance.
    pub owner_org: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Links from this event's attributes to other events' attributes.
    pub correlations: Vec<IntelCorrelation>,
    /// This event's values that meet too many stored values to link.
    pub over_correlating: Vec<OverCorrelatingValue>,
    /// The numeric ids of the event's attributes (MISP's `id`), by attribute uuid: given once
    /// per uuid, kept across rewrites of the event, never reused.
    pub attribute_ids: Vec<(Uuid, i64)>,
}

impl StoredIntelEvent {
    /// The numeric id of an attribute of the event.
    pub fn attribute_id(&self, attribute: Uuid) -> Option<i64> {
        self.attribute_ids.iter().find(|(uuid, _)| *uuid == attribute).map(|(_, id)| *id)
    }
}

/// A link between an attribute of an event and an attribute of another event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IntelCorrelation {
    pub attribute: Uuid,
    pub other_event: Uuid,
    pub other_attribute: Uuid,
    /// `exact`, `network` or `host`.
    pub relation: String,
}

/// An attribute's value part that is too common to link.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OverCorrelatingValue {
    pub attribute: Uuid,
    pub key: String,
    /// How many stored values it meets, counted up to the limit and one more.
    pub count: u32,
}

/// Which events to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntelEventQuery {
    /// A case-insensitive substring of `info`.
    pub text: Option<String>,
    /// An exact tag name.
    pub tag: Option<String>,
    pub published: Option<bool>,
    /// The owner or creator organisation.
    pub org: Option<Uuid>,
    /// Events changed at or after this time.
    pub since: Option<Timestamp>,
    /// Events changed before this time.
    pub until: Option<Timestamp>,
    /// The cursor: only events stored before this `seq`.
    pub before: Option<i64>,
    pub limit: u32,
}

impl IntelEventQuery {
    pub fn page_limit(&self) -> u32 {
        self.limit.clamp(1, MAX_PAGE)
    }

    /// The `info` pattern for `LIKE`, with `%`, `_` and `\` escaped by `\`.
    pub fn like_pattern(&self) -> Option<String> {
        self.text.as_ref().map(|text| format!("%{}%", escape_like(&text.to_lowercase())))
    }
}

/// Which attributes to find.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeQuery {
    /// The canonical value.
    pub value: Option<String>,
    pub attr_type: Option<String>,
    pub category: Option<String>,
    pub to_ids: Option<bool>,
    /// Whether soft-deleted attributes are included.
    pub include_deleted: bool,
    pub limit: u32,
}

impl AttributeQuery {
    pub fn page_limit(&self) -> u32 {
        self.limit.clamp(1, MAX_PAGE)
    }
}

/// What deciding who may see a stored event needs of it, and its title: read from the event's
/// row alone, without its MISP body, attributes or links, for pages that list many events'
/// titles (the events an event correlates with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntelEventHead {
    pub uuid: Uuid,
    pub info: String,
    pub owner_org: Uuid,
    /// MISP's number.
    pub distribution: u8,
    pub sharing_group: Option<Uuid>,
    /// The event's TLP as [`event_tlp`] gives it.
    pub tlp: Tlp,
}

/// A stored attribute with what deciding who may see it needs of its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttribute {
    pub event: Uuid,
    pub uuid: Uuid,
    pub attr_type: String,
    pub category: String,
    pub value: String,
    pub to_ids: bool,
    pub deleted: bool,
    /// MISP's number (5 inherits the event's).
    pub distribution: u8,
    pub sharing_group: Option<Uuid>,
    pub event_info: String,
    pub event_distribution: u8,
    pub event_sharing_group: Option<Uuid>,
    pub event_tlp: Tlp,
    pub owner_org: Uuid,
    pub creator_org: Uuid,
}

/// `\`-escapes the `LIKE` wildcards.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Checks what the store enforces itself; the server checks the rest first.
pub fn check_event(event: &IntelEvent) -> Result<(), StoreError> {
    if event.info.trim().is_empty() || event.info.len() > MAX_INFO {
        return Err(StoreError::conflict("info", format!("1 to {MAX_INFO} bytes of text")));
    }
    if event.attribute_count() > MAX_ATTRIBUTES {
        return Err(StoreError::conflict("Attribute", format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    let mut seen = BTreeSet::new();
    for (_, attribute) in event.all_attributes() {
        if !seen.insert(attribute.uuid) {
            return Err(StoreError::conflict(
                "Attribute",
                format!("attribute {} appears twice", attribute.uuid),
            ));
        }
    }
    Ok(())
}

/// The conflict message of deleting a sharing group `events` intel events use.
pub fn group_in_use(events: u64) -> String {
    if events == 1 {
        "1 intel event uses this sharing group".to_owned()
    } else {
        format!("{events} intel events use this sharing group")
    }
}

/// The stored MISP JSON of an event.
pub fn encode_event(event: &IntelEvent) -> String {
    misp::export_event(event).to_string()
}

/// Reads a stored event back.
pub fn decode_event(text: &str) -> Result<IntelEvent, StoreError> {
    let context = ImportContext { now: Timestamp::UNIX_EPOCH, default_org: None };
    let limits = Limits { max_attributes: MAX_ATTRIBUTES, ..Limits::default() };
    let imported = misp::parse(text, &context, &limits)
        .map_err(|error| StoreError::Backend(format!("stored intel event: {error}")))?;
    if let Some(problem) = imported.problems.first() {
        return Err(StoreError::Backend(format!("stored intel event: {problem}")));
    }
    imported
        .events
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Backend("stored intel event: no event".into()))
}

/// The event's TLP as stored and filtered on.
pub fn event_tlp(event: &IntelEvent) -> Tlp {
    event.tlp(DEFAULT_TLP)
}

/// The attribute with this uuid, in the event or one of its objects.
pub fn attribute_mut(event: &mut IntelEvent, uuid: Uuid) -> Option<&mut Attribute> {
    event
        .attributes
        .iter_mut()
        .chain(event.objects.iter_mut().flat_map(|object| object.attributes.iter_mut()))
        .find(|attribute| attribute.uuid == uuid)
}

/// Adds a sighting to an attribute of an event; `NotFound` if the attribute is not there.
pub fn add_sighting(event: &mut IntelEvent, attribute: Uuid, sighting: &Sighting) -> Result<(), StoreError> {
    let Some(found) = attribute_mut(event, attribute) else {
        return Err(StoreError::not_found("attribute", attribute));
    };
    if found.sightings.iter().any(|existing| existing.uuid == sighting.uuid) {
        return Err(StoreError::conflict("uuid", "the sighting is already recorded"));
    }
    found.sightings.push(sighting.clone());
    Ok(())
}

fn key_of(part: &Part<'_>) -> String {
    match part {
        Part::Network(network) => format!("n:{network}"),
        Part::Host(name) => format!("h:{name}"),
        Part::Exact(value) => format!("v:{value}"),
    }
}

/// The keys under which a stored attribute is found: one per part of its value.
pub fn stored_keys(attr_type: &str, value: &str) -> Vec<String> {
    let mut keys: Vec<String> = value::parts(attr_type, value).iter().map(key_of).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The keys to look a new attribute's candidates up with: its own keys, and for host names the
/// names above it (`h:evil.example` for `www.evil.example`, not the top-level domain).
pub fn lookup_keys(attr_type: &str, value: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for part in value::parts(attr_type, value) {
        keys.push(key_of(&part));
        if let Part::Host(name) = part {
            let mut rest = name;
            while let Some((_, parent)) = rest.split_once('.') {
                if !parent.contains('.') {
                    break;
                }
                keys.push(format!("h:{parent}"));
                rest = parent;
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Every lookup key of an event's live attributes.
pub fn event_lookup_keys(event: &IntelEvent) -> Vec<String> {
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for (_, attribute) in event.all_attributes() {
        if !attribute.deleted {
            keys.extend(lookup_keys(&attribute.attr_type, &attribute.value));
        }
    }
    keys.into_iter().collect()
}

/// A stored attribute of another event found under one of the new event's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub event: Uuid,
    pub attribute: Uuid,
    pub attr_type: String,
    pub value: String,
}

/// What correlating a new event with its candidates gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventCorrelation {
    pub links: Vec<IntelCorrelation>,
    pub over_correlating: Vec<OverCorrelatingValue>,
}

/// Correlates an event's live attributes with the candidates (at most [`CORRELATION_LIMIT`] + 1
/// per key, as the backends read them).
pub fn correlate_event(
    event: &IntelEvent,
    candidates: &[Candidate],
    warninglists: &WarningLists,
) -> EventCorrelation {
    let mut index = CorrelationIndex::new(CORRELATION_LIMIT);
    let mut seen = BTreeSet::new();
    for candidate in candidates {
        if candidate.event == event.uuid || !seen.insert(candidate.attribute) {
            continue;
        }
        index.insert(Item {
            source: Source {
                kind: SourceKind::IntelAttribute,
                parent: candidate.event,
                id: candidate.attribute,
            },
            attr_type: &candidate.attr_type,
            value: &candidate.value,
        });
    }
    let items: Vec<Item<'_>> = event
        .all_attributes()
        .filter(|(_, attribute)| !attribute.deleted)
        .map(|(_, attribute)| Item {
            source: Source { kind: SourceKind::IntelAttribute, parent: event.uuid, id: attribute.uuid },
            attr_type: &attribute.attr_type,
            value: &attribute.value,
        })
        .collect();
    let correlation = index.correlate(&items, warninglists);
    let mut links: Vec<IntelCorrelation> = correlation
        .links
        .iter()
        .map(|link| IntelCorrelation {
            attribute: link.from.id,
            other_event: link.to.parent,
            other_attribute: link.to.id,
            relation: link.relation.as_str().to_owned(),
        })
        .collect();
    links.sort();
    links.dedup_by(|a, b| a.attribute == b.attribute && a.other_attribute == b.other_attribute);
    let mut over_correlating: Vec<OverCorrelatingValue> = correlation
        .over_correlating
        .iter()
        .map(|over| OverCorrelatingValue {
            attribute: over.source.id,
            key: over.key.clone(),
            count: u32::try_from(over.count).unwrap_or(u32::MAX),
        })
        .collect();
    over_correlating.sort();
    over_correlating.dedup();
    EventCorrelation { links, over_correlating }
}

/// The audit digest of a stored event.
pub fn event_digest(body: &str) -> String {
    neretva_model::audit::digest_json(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_keys_climb_host_names_but_not_to_the_top_level() {
        assert_eq!(lookup_keys("hostname", "www.evil.example"), ["h:evil.example", "h:www.evil.example"]);
        assert_eq!(stored_keys("hostname", "www.evil.example"), ["h:www.evil.example"]);
        assert_eq!(lookup_keys("ip-dst", "192.0.2.1"), ["n:192.0.2.1/32"]);
        assert!(lookup_keys("text", "anything").is_empty());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        let query = IntelEventQuery { text: Some("100%_A\\b".into()), ..IntelEventQuery::default() };
        assert_eq!(query.like_pattern().as_deref(), Some("%100\\%\\_a\\\\b%"));
    }
}

/// How a probe compares an incident observable's value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueMatch {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
}

impl ValueMatch {
    /// The `LIKE` pattern (with `\` escaping), `None` for an exact value.
    pub fn like_pattern(&self) -> Option<String> {
        match self {
            ValueMatch::Exact(_) => None,
            ValueMatch::Prefix(text) => Some(format!("{}%", escape_like(text))),
            ValueMatch::Suffix(text) => Some(format!("%{}", escape_like(text))),
            ValueMatch::Contains(text) => Some(format!("%{}%", escape_like(text))),
        }
    }

    /// The exact value, or the `LIKE` pattern.
    pub fn sql_value(&self) -> String {
        match self {
            ValueMatch::Exact(text) => text.clone(),
            _ => self.like_pattern().unwrap_or_default(),
        }
    }
}

/// A lookup of incident observables: of one kind (any kind when `None`) with a value that is,
/// starts with, ends with or contains a text. A probe finds a superset of what correlates; the
/// correlation engine confirms each candidate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObservableProbe {
    pub kind: Option<ObservableKind>,
    pub value: ValueMatch,
}

/// An incident's observable found by a probe.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObservableHit {
    pub incident_id: Uuid,
    pub kind: ObservableKind,
    pub value: String,
}

/// The most observables one probe returns.
pub const MAX_PROBE_HITS: u32 = 1_000;

/// The most probes one lookup takes.
pub const MAX_PROBES: usize = 100_000;

/// A link from an intel attribute to an incident (through one of its observables) or to a
/// stored feed event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExternalCorrelation {
    pub attribute: Uuid,
    /// `incident_observable` or `feed_event`.
    pub kind: String,
    /// The incident or the feed event.
    pub target: Uuid,
    /// The observable (`kind:value`) for an incident; the value met for a feed event.
    pub detail: String,
    /// `exact`, `network` or `host`.
    pub relation: String,
}

/// An attribute's value part that meets too many incident observables or feed events to link.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExternalOverCorrelating {
    pub attribute: Uuid,
    /// `incident_observable` or `feed_event`.
    pub kind: String,
    pub key: String,
    pub count: u32,
}

/// An event's correlations with incident observables and feed events, as last computed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalCorrelations {
    pub links: Vec<ExternalCorrelation>,
    pub over_correlating: Vec<ExternalOverCorrelating>,
}

/// The probes that find the incident observables an event's live attributes may meet: equal
/// values; for an address, the networks holding it; for a network, the networks holding it and
/// the addresses and networks that may lie inside it (by the text they start with); for a host
/// name, the name and the names above it, names below it, and URLs naming any of them.
pub fn observable_probes(event: &IntelEvent) -> Vec<ObservableProbe> {
    let mut probes = BTreeSet::new();
    let mut add = |kind: Option<ObservableKind>, value: ValueMatch| {
        probes.insert(ObservableProbe { kind, value });
    };
    for (_, attribute) in event.all_attributes().filter(|(_, attribute)| !attribute.deleted) {
        for part in value::parts(&attribute.attr_type, &attribute.value) {
            match part {
                Part::Exact(text) => add(None, ValueMatch::Exact(text.to_owned())),
                Part::Network(network) => {
                    let address = network.network();
                    let (kind, max) = if network.is_ipv4() {
                        (ObservableKind::Ipv4, 32)
                    } else {
                        (ObservableKind::Ipv6, 128)
                    };
                    if network.prefix_len() == max {
                        add(Some(kind), ValueMatch::Exact(address.to_string()));
                    } else {
                        let prefix = text_prefix(&network);
                        add(Some(kind), ValueMatch::Prefix(prefix.clone()));
                        add(Some(ObservableKind::Cidr), ValueMatch::Prefix(prefix));
                    }
                    for len in 0..=network.prefix_len() {
                        if let Ok(covering) = neretva_net::Cidr::truncating(address, len) {
                            add(Some(ObservableKind::Cidr), ValueMatch::Exact(covering.to_string()));
                        }
                    }
                    add(Some(ObservableKind::Url), ValueMatch::Contains(format!("://{address}")));
                }
                Part::Host(name) => {
                    add(Some(ObservableKind::Domain), ValueMatch::Suffix(format!(".{name}")));
                    add(Some(ObservableKind::Url), ValueMatch::Contains(format!(".{name}")));
                    let mut rest = name;
                    loop {
                        add(Some(ObservableKind::Domain), ValueMatch::Exact(rest.to_owned()));
                        add(Some(ObservableKind::Url), ValueMatch::Contains(format!("://{rest}")));
                        match rest.split_once('.') {
                            Some((_, parent)) if parent.contains('.') => rest = parent,
                            _ => break,
                        }
                    }
                }
            }
        }
    }
    probes.into_iter().collect()
}

/// The text every address inside `network` starts with in canonical form: the whole octets of
/// an IPv4 network (`198.51.` for a /16), the leading non-zero groups of an IPv6 one (a zero
/// group may be written `::`).
fn text_prefix(network: &neretva_net::Cidr) -> String {
    match network.network() {
        std::net::IpAddr::V4(address) => {
            let octets = address.octets();
            let whole = usize::from(network.prefix_len() / 8);
            octets[..whole].iter().map(|octet| format!("{octet}.")).collect()
        }
        std::net::IpAddr::V6(address) => {
            let whole = usize::from(network.prefix_len() / 16);
            address.segments()[..whole]
                .iter()
                .take_while(|group| **group != 0)
                .map(|group| format!("{group:x}:"))
                .collect()
        }
    }
}

/// The (MISP type, canonical value) an observable correlates as, `None` for kinds that never
/// correlate.
pub fn observable_item(kind: ObservableKind, value: &str) -> Option<(&'static str, String)> {
    let attr_type = value::misp_type_of_observable(kind);
    let canonical = value::canonicalise(attr_type, value).ok()?;
    (!value::parts(attr_type, &canonical).is_empty()).then_some((attr_type, canonical))
}

/// A value of a stored feed event to correlate with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedValue {
    pub event: Uuid,
    /// Its MISP type (see [`neretva_intel::value::FEED_EVENT_FIELDS`]).
    pub attr_type: &'static str,
    pub value: String,
}

/// Correlates an event's live attributes with incident observables and feed-event values found
/// for it, bounded and honouring the warning lists as intel correlation is.
pub fn correlate_external(
    event: &IntelEvent,
    observables: &[ObservableHit],
    feed_values: &[FeedValue],
    warninglists: &WarningLists,
) -> ExternalCorrelations {
    let mut out = ExternalCorrelations::default();
    // Candidates get synthetic ids: their position, to find them again.
    let observable_items: Vec<(usize, &'static str, String)> = observables
        .iter()
        .enumerate()
        .filter_map(|(at, hit)| observable_item(hit.kind, &hit.value).map(|(t, v)| (at, t, v)))
        .collect();
    let items: Vec<Item<'_>> = event
        .all_attributes()
        .filter(|(_, attribute)| !attribute.deleted)
        .map(|(_, attribute)| Item {
            source: Source { kind: SourceKind::IntelAttribute, parent: event.uuid, id: attribute.uuid },
            attr_type: &attribute.attr_type,
            value: &attribute.value,
        })
        .collect();
    for kind in [SourceKind::IncidentObservable, SourceKind::FeedEvent] {
        let mut index = CorrelationIndex::new(CORRELATION_LIMIT);
        let mut details: Vec<String> = Vec::new();
        match kind {
            SourceKind::IncidentObservable => {
                let mut seen = BTreeSet::new();
                for (at, attr_type, value) in &observable_items {
                    let hit = &observables[*at];
                    if !seen.insert((hit.incident_id, hit.kind, &hit.value)) {
                        continue;
                    }
                    let id = Uuid::from_u128(details.len() as u128);
                    details.push(format!("{}:{}", hit.kind.as_str(), hit.value));
                    index.insert(Item {
                        source: Source { kind, parent: hit.incident_id, id },
                        attr_type,
                        value,
                    });
                }
            }
            _ => {
                let mut seen = BTreeSet::new();
                for value in feed_values {
                    if !seen.insert((value.event, value.attr_type, &value.value)) {
                        continue;
                    }
                    let id = Uuid::from_u128(details.len() as u128);
                    details.push(value.value.clone());
                    index.insert(Item {
                        source: Source { kind, parent: value.event, id },
                        attr_type: value.attr_type,
                        value: &value.value,
                    });
                }
            }
        }
        let correlation = index.correlate(&items, warninglists);
        let mut links = BTreeSet::new();
        for link in &correlation.links {
            let detail = usize::try_from(link.to.id.as_u128())
                .ok()
                .and_then(|at| details.get(at))
                .cloned()
                .unwrap_or_default();
            links.insert(ExternalCorrelation {
                attribute: link.from.id,
                kind: kind.as_str().to_owned(),
                target: link.to.parent,
                detail,
                relation: link.relation.as_str().to_owned(),
            });
        }
        out.links.extend(links);
        let mut over: Vec<ExternalOverCorrelating> = correlation
            .over_correlating
            .iter()
            .map(|over| ExternalOverCorrelating {
                attribute: over.source.id,
                kind: kind.as_str().to_owned(),
                key: over.key.clone(),
                count: u32::try_from(over.count).unwrap_or(u32::MAX),
            })
            .collect();
        over.sort();
        over.dedup();
        out.over_correlating.extend(over);
    }
    out
}
