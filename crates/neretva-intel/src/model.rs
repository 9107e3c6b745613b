//! Intel events as MISP shapes them: an event with attributes, objects (groups of attributes
//! built from a template) and tags; sightings on attributes; a distribution level.

use std::fmt;

use neretva_model::Timestamp;
use neretva_model::tlp::{Pap, Tlp};
use time::Date;
use uuid::Uuid;

use crate::tag::{self, Tag};

/// An organisation as an event names it (`Org`, the local owner; `Orgc`, the creator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRef {
    pub uuid: Uuid,
    pub name: String,
}

/// Who may receive an event, an object or an attribute (MISP's distribution levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Distribution {
    /// 0: never leaves the owning organisation.
    Organisation,
    /// 1: the users of this instance.
    Community,
    /// 2: this instance and the instances connected to it.
    Connected,
    /// 3: every community.
    All,
    /// 4: the members of a sharing group.
    SharingGroup,
}

impl Distribution {
    pub const ALL: [Distribution; 5] = [
        Distribution::Organisation,
        Distribution::Community,
        Distribution::Connected,
        Distribution::All,
        Distribution::SharingGroup,
    ];

    /// MISP's number.
    pub fn number(self) -> u8 {
        match self {
            Distribution::Organisation => 0,
            Distribution::Community => 1,
            Distribution::Connected => 2,
            Distribution::All => 3,
            Distribution::SharingGroup => 4,
        }
    }

    /// From MISP's number (5, inherit, is an attribute's only: see [`AttrDistribution`]).
    pub fn from_number(number: u8) -> Option<Distribution> {
        Distribution::ALL.get(usize::from(number)).copied()
    }

    /// The stored name, e.g. `sharing_group`.
    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::Organisation => "organisation",
            Distribution::Community => "community",
            Distribution::Connected => "connected",
            Distribution::All => "all",
            Distribution::SharingGroup => "sharing_group",
        }
    }

    /// From the stored name.
    pub fn parse(text: &str) -> Option<Distribution> {
        Distribution::ALL.into_iter().find(|level| level.as_str() == text)
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An attribute's or object's distribution: its own level or the event's (5, inherit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrDistribution {
    Inherit,
    Level(Distribution),
}

impl AttrDistribution {
    pub fn number(self) -> u8 {
        match self {
            AttrDistribution::Inherit => 5,
            AttrDistribution::Level(level) => level.number(),
        }
    }

    pub fn from_number(number: u8) -> Option<AttrDistribution> {
        if number == 5 {
            Some(AttrDistribution::Inherit)
        } else {
            Distribution::from_number(number).map(AttrDistribution::Level)
        }
    }

    /// The level in force under an event of level `event`: the more restrictive of the two
    /// (a sharing group counts as narrower than the instance's community).
    pub fn effective(self, event: Distribution) -> Distribution {
        match self {
            AttrDistribution::Inherit => event,
            AttrDistribution::Level(own) => narrower(own, event),
        }
    }
}

/// The narrower of two levels: organisation < sharing group < community < connected < all.
pub fn narrower(a: Distribution, b: Distribution) -> Distribution {
    fn rank(level: Distribution) -> u8 {
        match level {
            Distribution::Organisation => 0,
            Distribution::SharingGroup => 1,
            Distribution::Community => 2,
            Distribution::Connected => 3,
            Distribution::All => 4,
        }
    }
    if rank(a) <= rank(b) { a } else { b }
}

/// MISP's threat level (1 high to 4 undefined).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThreatLevel {
    High,
    Medium,
    Low,
    Undefined,
}

impl ThreatLevel {
    pub fn number(self) -> u8 {
        match self {
            ThreatLevel::High => 1,
            ThreatLevel::Medium => 2,
            ThreatLevel::Low => 3,
            ThreatLevel::Undefined => 4,
        }
    }

    pub fn from_number(number: u8) -> Option<ThreatLevel> {
        [ThreatLevel::High, ThreatLevel::Medium, ThreatLevel::Low, ThreatLevel::Undefined]
            .get(usize::from(number).checked_sub(1)?)
            .copied()
    }
}

/// MISP's analysis state (0 initial, 1 ongoing, 2 completed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Analysis {
    Initial,
    Ongoing,
    Completed,
}

impl Analysis {
    pub fn number(self) -> u8 {
        match self {
            Analysis::Initial => 0,
            Analysis::Ongoing => 1,
            Analysis::Completed => 2,
        }
    }

    pub fn from_number(number: u8) -> Option<Analysis> {
        [Analysis::Initial, Analysis::Ongoing, Analysis::Completed].get(usize::from(number)).copied()
    }
}

/// What a sighting says (MISP's sighting types 0, 1 and 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SightingKind {
    Sighting,
    FalsePositive,
    Expiration,
}

impl SightingKind {
    pub fn number(self) -> u8 {
        match self {
            SightingKind::Sighting => 0,
            SightingKind::FalsePositive => 1,
            SightingKind::Expiration => 2,
        }
    }

    pub fn from_number(number: u8) -> Option<SightingKind> {
        [SightingKind::Sighting, SightingKind::FalsePositive, SightingKind::Expiration]
            .get(usize::from(number))
            .copied()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SightingKind::Sighting => "sighting",
            SightingKind::FalsePositive => "false_positive",
            SightingKind::Expiration => "expiration",
        }
    }

    pub fn parse(text: &str) -> Option<SightingKind> {
        [SightingKind::Sighting, SightingKind::FalsePositive, SightingKind::Expiration]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Someone saw an attribute's value (or says it is a false positive, or that it expired).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub uuid: Uuid,
    pub kind: SightingKind,
    /// Where it was seen (a sensor, a feed, an organisation's free text).
    pub source: String,
    pub time: Timestamp,
    /// The organisation that reported it.
    pub org: Option<OrgRef>,
}

/// One attribute: a typed value with its category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub uuid: Uuid,
    /// The MISP type (`ip-dst`, `filename|sha256`, ...), one of [`crate::describe::TYPES`].
    pub attr_type: String,
    /// A category the type may be filed under.
    pub category: String,
    /// The value in its canonical form ([`crate::value::canonicalise`]).
    pub value: String,
    /// Whether the value is an indicator to detect with (exported as a STIX indicator).
    pub to_ids: bool,
    pub distribution: AttrDistribution,
    pub sharing_group: Option<Uuid>,
    pub comment: String,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// The last change.
    pub timestamp: Timestamp,
    /// Soft deletion, as MISP keeps it so that synchronisation can propagate it.
    pub deleted: bool,
    pub tags: Vec<Tag>,
    pub sightings: Vec<Sighting>,
    /// The attribute's role in its object (`ip`, `domain`, `sha256`); `None` outside objects.
    pub object_relation: Option<String>,
}

/// A reference from an object to another object or attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectReference {
    pub uuid: Uuid,
    /// The object or attribute referred to.
    pub referenced_uuid: Uuid,
    pub relationship_type: String,
    pub comment: String,
    pub timestamp: Timestamp,
}

/// A MISP object: attributes built from one template (`file`, `domain-ip`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntelObject {
    pub uuid: Uuid,
    pub name: String,
    pub meta_category: String,
    pub template_uuid: Option<Uuid>,
    pub template_version: Option<String>,
    pub description: String,
    pub comment: String,
    pub distribution: AttrDistribution,
    pub sharing_group: Option<Uuid>,
    pub timestamp: Timestamp,
    pub deleted: bool,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    pub attributes: Vec<Attribute>,
    pub references: Vec<ObjectReference>,
}

/// An intel event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntelEvent {
    pub uuid: Uuid,
    /// The title (MISP's `info`).
    pub info: String,
    pub date: Date,
    pub threat_level: ThreatLevel,
    pub analysis: Analysis,
    pub published: bool,
    /// When it was last published; `None` if never.
    pub publish_timestamp: Option<Timestamp>,
    pub distribution: Distribution,
    /// The sharing group, exactly when `distribution` is [`Distribution::SharingGroup`].
    pub sharing_group: Option<Uuid>,
    /// The organisation that owns the event on this instance.
    pub org: Option<OrgRef>,
    /// The organisation that created it (kept across synchronisation).
    pub orgc: OrgRef,
    /// The last change.
    pub timestamp: Timestamp,
    pub extends_uuid: Option<Uuid>,
    pub tags: Vec<Tag>,
    pub attributes: Vec<Attribute>,
    pub objects: Vec<IntelObject>,
}

impl IntelEvent {
    /// The event's TLP: its most restrictive TLP tag, else `default` (the instance's setting).
    pub fn tlp(&self, default: Tlp) -> Tlp {
        tag::tlp_of(&self.tags).unwrap_or(default)
    }

    /// The event's PAP: its most restrictive PAP tag, else `default`.
    pub fn pap(&self, default: Pap) -> Pap {
        tag::pap_of(&self.tags).unwrap_or(default)
    }

    /// Every attribute, those of objects included, with the object each belongs to.
    pub fn all_attributes(&self) -> impl Iterator<Item = (Option<&IntelObject>, &Attribute)> {
        self.attributes.iter().map(|attribute| (None, attribute)).chain(
            self.objects.iter().flat_map(|object| object.attributes.iter().map(move |a| (Some(object), a))),
        )
    }

    /// How many attributes the event holds, those of objects included.
    pub fn attribute_count(&self) -> usize {
        self.attributes.len() + self.objects.iter().map(|object| object.attributes.len()).sum::<usize>()
    }
}

impl Attribute {
    /// The attribute's TLP: its own TLP tag if it has one (it may only narrow), else the event's.
    pub fn tlp(&self, event_tlp: Tlp) -> Tlp {
        tag::tlp_of(&self.tags).map_or(event_tlp, |own| own.max(event_tlp))
    }
}
