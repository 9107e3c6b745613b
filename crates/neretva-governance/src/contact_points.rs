//! The contact-point directory: the people and functions a CERT must be able to reach, by kind.
//!
//! - OSCE CBM 8 points of contact, a policy and a technical one per State (`cbm8-policy`,
//!   `cbm8-technical`);
//! - the Budapest Convention Art. 35 24/7 network point (`budapest-24x7`), normally in a police
//!   or prosecution cybercrime unit;
//! - sector contact points (`sector`, with the NIS2 sector they speak for);
//! - CERT team contacts (`cert`), whose team is described by an RFC 2350 profile
//!   ([`crate::rfc2350`]).
//!
//! A point may carry an ASCII-armoured OpenPGP public key; [`normalise`] checks it and records
//! its fingerprint, and a fingerprint given beside the key (as read out of band) must match it.

use neretva_model::contact::{Language, check_email, check_phone};
use neretva_model::openpgp::parse_public_key;
use neretva_model::{FieldError, Timestamp, Uuid, check_optional_text, check_text};
use serde::{Deserialize, Serialize};

/// What a contact point is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PointKind {
    /// OSCE CBM 8, policy level.
    #[serde(rename = "cbm8-policy")]
    Cbm8Policy,
    /// OSCE CBM 8, technical level.
    #[serde(rename = "cbm8-technical")]
    Cbm8Technical,
    /// Budapest Convention Art. 35, the 24/7 network.
    #[serde(rename = "budapest-24x7")]
    Budapest24x7,
    /// A sector's contact point (its NIS2 sector in `sector`).
    #[serde(rename = "sector")]
    Sector,
    /// A CERT team's contact.
    #[serde(rename = "cert")]
    Cert,
}

impl PointKind {
    pub const ALL: [PointKind; 5] = [
        PointKind::Cbm8Policy,
        PointKind::Cbm8Technical,
        PointKind::Budapest24x7,
        PointKind::Sector,
        PointKind::Cert,
    ];

    pub fn tag(self) -> &'static str {
        match self {
            PointKind::Cbm8Policy => "cbm8-policy",
            PointKind::Cbm8Technical => "cbm8-technical",
            PointKind::Budapest24x7 => "budapest-24x7",
            PointKind::Sector => "sector",
            PointKind::Cert => "cert",
        }
    }

    /// Reads a kind's tag; `field` names it in the error.
    pub fn parse(field: &str, text: &str) -> Result<PointKind, FieldError> {
        PointKind::ALL.into_iter().find(|kind| kind.tag() == text.trim()).ok_or_else(|| {
            let known: Vec<&str> = PointKind::ALL.iter().map(|kind| kind.tag()).collect();
            FieldError::new(field, format!("unknown kind {text:?}; known kinds: {}", known.join(", ")))
        })
    }
}

impl std::str::FromStr for PointKind {
    type Err = FieldError;
    fn from_str(text: &str) -> Result<PointKind, FieldError> {
        PointKind::parse("kind", text)
    }
}

/// One contact point of an organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactPoint {
    pub id: Uuid,
    /// The organisation the point speaks for.
    pub org_id: Uuid,
    pub kind: PointKind,
    /// The NIS2 sector of a `sector` point; none for the other kinds.
    #[serde(default)]
    pub sector: Option<String>,
    /// A person or a function, e.g. `Duty officer`.
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// The language messages to the point are written in.
    pub language: Language,
    /// When the point can be reached, e.g. `24/7` or `Mon-Fri 08:00-16:00 CET`.
    #[serde(default)]
    pub hours: Option<String>,
    /// An ASCII-armoured OpenPGP public key.
    #[serde(default)]
    pub pgp_key: Option<String>,
    /// The key's fingerprint, upper-case hex without spaces (set by [`normalise`]).
    #[serde(default)]
    pub pgp_fingerprint: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// The most contact points of one organisation.
pub const MAX_POINTS_PER_ORG: usize = 200;

/// A fingerprint as upper-case hex without spaces or colons.
pub fn normal_fingerprint(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && *c != ':').collect::<String>().to_ascii_uppercase()
}

/// Checks every field of a point and sets the key's fingerprint; returns every problem. A
/// fingerprint given without a key is refused, and one given with a key must be the key's.
pub fn normalise(point: &mut ContactPoint, now: Timestamp) -> Vec<FieldError> {
    let mut problems = Vec::new();
    let mut keep = |result: Result<(), FieldError>| {
        if let Err(error) = result {
            problems.push(error);
        }
    };
    keep(check_text("name", &point.name, 200));
    keep(check_email(point.email.trim()));
    point.email = point.email.trim().to_owned();
    if let Some(phone) = &point.phone {
        keep(check_phone(phone));
    }
    if let Some(hours) = &point.hours {
        keep(check_optional_text("hours", hours, 200));
    }
    if let Some(notes) = &point.notes {
        keep(check_optional_text("notes", notes, 2000));
    }
    match (point.kind, point.sector.as_deref()) {
        (PointKind::Sector, None) => {
            keep(Err(FieldError::new("sector", "a sector contact point names its NIS2 sector")))
        }
        (PointKind::Sector, Some(slug)) => keep(neretva_model::org::check_sector(Some(slug), None)),
        (_, Some(_)) => keep(Err(FieldError::new(
            "sector",
            format!("only sector contact points name a sector, not {}", point.kind.tag()),
        ))),
        (_, None) => {}
    }
    let (fingerprint, key_problems) = check_key(
        point.pgp_key.as_deref(),
        point.pgp_fingerprint.as_deref(),
        now,
        "pgp_key",
        "pgp_fingerprint",
    );
    point.pgp_fingerprint = fingerprint;
    problems.extend(key_problems);
    problems
}

/// Checks an optional armoured OpenPGP public key against `now` and a fingerprint given beside
/// it; returns the key's fingerprint and the problems, named by `key_field` and
/// `fingerprint_field`. A fingerprint without a key is refused.
pub fn check_key(
    key: Option<&str>,
    given: Option<&str>,
    now: Timestamp,
    key_field: &str,
    fingerprint_field: &str,
) -> (Option<String>, Vec<FieldError>) {
    let given = given.map(normal_fingerprint).filter(|text| !text.is_empty());
    let Some(armored) = key else {
        let problems = given
            .map(|_| FieldError::new(fingerprint_field, format!("given without a key ({key_field})")))
            .into_iter()
            .collect();
        return (None, problems);
    };
    match parse_public_key(armored, now) {
        Ok(info) => {
            let problems = given
                .filter(|given| *given != info.fingerprint)
                .map(|given| {
                    FieldError::new(
                        fingerprint_field,
                        format!("{given} is not the key's fingerprint {}", info.fingerprint),
                    )
                })
                .into_iter()
                .collect();
            (Some(info.fingerprint), problems)
        }
        Err(error) => (None, vec![FieldError::new(key_field, error.message)]),
    }
}
