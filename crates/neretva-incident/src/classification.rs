//! The RSIT classification of an incident.
//!
//! Incidents are classified with the Reference Security Incident Taxonomy v1.3 and stored under
//! RSIT's own slugs (`unauthorised-use-of-resources` with an *s*), because incident reports and
//! the regulator's summaries speak RSIT. Feed events keep IntelMQ's spelling; the taxonomy table
//! itself is `neretva_event::taxonomy`, reused here (this crate depends on `neretva-event`, which
//! depends on neither the model nor this crate), so there is one list of types in the code base.
//! [`RsitClass::intelmq_type`] gives the spelling to query events with.

use std::fmt;
use std::str::FromStr;

use neretva_event::taxonomy::{self, RsitType};
use serde::{Deserialize, Serialize};

/// One of the 39 RSIT v1.3 types; its classification (taxonomy) follows from it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RsitClass(u8);

/// A text that is not an RSIT type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an RSIT type; expected one of {}", expected())]
pub struct UnknownClass {
    pub input: String,
}

fn expected() -> String {
    taxonomy::rsit().iter().map(|t| t.slug).collect::<Vec<_>>().join(", ")
}

impl RsitClass {
    /// `other`/`undetermined`: the classification of an incident nobody has classified yet.
    pub fn undetermined() -> RsitClass {
        RsitClass::all().find(|class| class.slug() == "undetermined").unwrap_or(RsitClass(0))
    }

    /// Every RSIT type, in RSIT order.
    pub fn all() -> impl Iterator<Item = RsitClass> {
        (0..taxonomy::rsit().len()).filter_map(|index| u8::try_from(index).ok()).map(RsitClass)
    }

    fn row(self) -> &'static RsitType {
        // The index is only ever made from a position in `rsit()`.
        &taxonomy::rsit()[usize::from(self.0)]
    }

    /// The RSIT type slug, e.g. `infected-system`.
    pub fn slug(self) -> &'static str {
        self.row().slug
    }

    /// The RSIT classification (IntelMQ's taxonomy), e.g. `malicious-code`.
    pub fn taxonomy(self) -> &'static str {
        self.row().taxonomy
    }

    /// RSIT's label, e.g. `Infected System`.
    pub fn label(self) -> &'static str {
        self.row().label
    }

    /// RSIT's one-line description.
    pub fn description(self) -> &'static str {
        self.row().description
    }

    /// The `classification.type` spelling IntelMQ events use for this type.
    pub fn intelmq_type(self) -> &'static str {
        taxonomy::canonical_type(self.slug()).unwrap_or(self.slug())
    }

    /// The class of a feed event's `classification.type`: IntelMQ's spellings and aliases are
    /// accepted, and IntelMQ's five types outside RSIT (`blacklist`, `dga-domain`, `malware`,
    /// `proxy`, `tor`, all in taxonomy `other`) become `other`.
    pub fn from_event_type(intelmq_type: &str) -> Option<RsitClass> {
        let canonical = taxonomy::canonical_type(intelmq_type)?;
        Some(Self::from_canonical(canonical).unwrap_or_else(|| {
            RsitClass::all().find(|class| class.slug() == "other").unwrap_or(RsitClass(0))
        }))
    }

    fn from_canonical(intelmq_slug: &str) -> Option<RsitClass> {
        let row = taxonomy::intelmq_types().iter().find(|row| row.slug == intelmq_slug)?;
        RsitClass::all().find(|class| class.taxonomy() == row.taxonomy && class.label() == row.label)
    }
}

impl FromStr for RsitClass {
    type Err = UnknownClass;

    /// Accepts RSIT and IntelMQ spellings, IntelMQ's legacy aliases, any case, spaces or
    /// underscores for hyphens; refuses IntelMQ's types outside RSIT.
    ///
    /// One alias differs from IntelMQ's: an incident of `ransomware` is RSIT's
    /// `unauthorised-information-modification` ("includes ransomware encryption"), where IntelMQ
    /// files a feed event of that name as an `infected-system` ([`RsitClass::from_event_type`]).
    fn from_str(input: &str) -> Result<RsitClass, UnknownClass> {
        let input = if input.trim().eq_ignore_ascii_case("ransomware") {
            "unauthorised-information-modification"
        } else {
            input
        };
        taxonomy::canonical_type(input)
            .and_then(Self::from_canonical)
            .ok_or_else(|| UnknownClass { input: input.to_owned() })
    }
}

impl TryFrom<String> for RsitClass {
    type Error = UnknownClass;
    fn try_from(value: String) -> Result<RsitClass, UnknownClass> {
        value.parse()
    }
}

impl From<RsitClass> for String {
    fn from(value: RsitClass) -> String {
        value.slug().to_owned()
    }
}

impl fmt::Display for RsitClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl fmt::Debug for RsitClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.taxonomy(), self.slug())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rsit_type_round_trips() {
        assert_eq!(RsitClass::all().count(), 39);
        for class in RsitClass::all() {
            assert_eq!(class.slug().parse::<RsitClass>(), Ok(class));
            assert_eq!(class.intelmq_type().parse::<RsitClass>(), Ok(class));
            assert_eq!(class.label().parse::<RsitClass>().ok().filter(|c| *c != class), None);
            assert_eq!(RsitClass::from_event_type(class.intelmq_type()), Some(class));
        }
    }

    #[test]
    fn spellings_and_aliases_are_accepted() {
        let class: RsitClass = "unauthorized-use-of-resources".parse().unwrap_or(RsitClass::undetermined());
        assert_eq!(class.slug(), "unauthorised-use-of-resources");
        assert_eq!(class.intelmq_type(), "unauthorized-use-of-resources");
        assert_eq!(class.taxonomy(), "fraud");
        assert_eq!("Botnet Drone".parse::<RsitClass>().map(RsitClass::slug), Ok("infected-system"));
        assert_eq!("DDoS".parse::<RsitClass>().map(RsitClass::taxonomy), Ok("availability"));
        assert_eq!(RsitClass::undetermined().slug(), "undetermined");
        assert_eq!(
            "Ransomware".parse::<RsitClass>().map(RsitClass::slug),
            Ok("unauthorised-information-modification")
        );
        assert_eq!(RsitClass::from_event_type("ransomware").map(RsitClass::slug), Some("infected-system"));
    }

    #[test]
    fn intelmq_extras_are_not_incident_classes_but_map_from_events() {
        let error = "tor".parse::<RsitClass>().unwrap_err();
        assert!(error.to_string().starts_with("\"tor\" is not an RSIT type; expected one of spam, "));
        assert_eq!(RsitClass::from_event_type("tor").map(RsitClass::slug), Some("other"));
        assert_eq!(RsitClass::from_event_type("nonsense"), None);
    }

    #[test]
    fn serialises_as_the_slug() {
        let class: RsitClass = "phishing".parse().unwrap_or(RsitClass::undetermined());
        assert_eq!(serde_json::to_string(&class).ok().as_deref(), Some("\"phishing\""));
        assert_eq!(serde_json::from_str::<RsitClass>("\"c&c\"").ok().map(RsitClass::slug), Some("c2-server"));
        assert!(serde_json::from_str::<RsitClass>("\"blacklist\"").is_err());
    }
}
