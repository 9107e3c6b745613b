//! Organisations: the constituency's members, with the fields of the NIS2 register.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{FieldError, Timestamp, check_optional_text, check_text};

/// A sector of NIS2 Annex I or II, with its subsectors.
#[derive(Debug, Clone, Copy)]
pub struct Sector {
    pub slug: &'static str,
    pub label: &'static str,
    /// 1 for Annex I (sectors of high criticality), 2 for Annex II (other critical sectors).
    pub annex: u8,
    pub subsectors: &'static [(&'static str, &'static str)],
}

/// The 18 sectors of NIS2 Annexes I and II (Directive (EU) 2022/2555).
pub const SECTORS: &[Sector] = &[
    Sector {
        slug: "energy",
        label: "Energy",
        annex: 1,
        subsectors: &[
            ("electricity", "Electricity"),
            ("district-heating-cooling", "District heating and cooling"),
            ("oil", "Oil"),
            ("gas", "Gas"),
            ("hydrogen", "Hydrogen"),
        ],
    },
    Sector {
        slug: "transport",
        label: "Transport",
        annex: 1,
        subsectors: &[("air", "Air"), ("rail", "Rail"), ("water", "Water"), ("road", "Road")],
    },
    Sector { slug: "banking", label: "Banking", annex: 1, subsectors: &[] },
    Sector {
        slug: "financial-market-infrastructures",
        label: "Financial market infrastructures",
        annex: 1,
        subsectors: &[],
    },
    Sector { slug: "health", label: "Health", annex: 1, subsectors: &[] },
    Sector { slug: "drinking-water", label: "Drinking water", annex: 1, subsectors: &[] },
    Sector { slug: "waste-water", label: "Waste water", annex: 1, subsectors: &[] },
    Sector {
        slug: "digital-infrastructure",
        label: "Digital infrastructure",
        annex: 1,
        subsectors: &[
            ("ixp", "Internet exchange point providers"),
            ("dns", "DNS service providers"),
            ("tld", "TLD name registries"),
            ("cloud", "Cloud computing service providers"),
            ("data-centre", "Data centre service providers"),
            ("cdn", "Content delivery network providers"),
            ("trust-service", "Trust service providers"),
            ("public-network", "Providers of public electronic communications networks"),
            ("public-ecs", "Providers of publicly available electronic communications services"),
        ],
    },
    Sector {
        slug: "ict-service-management",
        label: "ICT service management (business-to-business)",
        annex: 1,
        subsectors: &[("msp", "Managed service providers"), ("mssp", "Managed security service providers")],
    },
    Sector {
        slug: "public-administration",
        label: "Public administration",
        annex: 1,
        subsectors: &[("central", "Central government"), ("regional", "Regional government")],
    },
    Sector { slug: "space", label: "Space", annex: 1, subsectors: &[] },
    Sector { slug: "postal-courier", label: "Postal and courier services", annex: 2, subsectors: &[] },
    Sector { slug: "waste-management", label: "Waste management", annex: 2, subsectors: &[] },
    Sector {
        slug: "chemicals",
        label: "Manufacture, production and distribution of chemicals",
        annex: 2,
        subsectors: &[],
    },
    Sector {
        slug: "food",
        label: "Production, processing and distribution of food",
        annex: 2,
        subsectors: &[],
    },
    Sector {
        slug: "manufacturing",
        label: "Manufacturing",
        annex: 2,
        subsectors: &[
            ("medical-devices", "Medical devices and in vitro diagnostic medical devices"),
            ("computer-electronic-optical", "Computer, electronic and optical products"),
            ("electrical-equipment", "Electrical equipment"),
            ("machinery", "Machinery and equipment n.e.c."),
            ("motor-vehicles", "Motor vehicles, trailers and semi-trailers"),
            ("other-transport-equipment", "Other transport equipment"),
        ],
    },
    Sector {
        slug: "digital-providers",
        label: "Digital providers",
        annex: 2,
        subsectors: &[
            ("online-marketplace", "Online marketplaces"),
            ("search-engine", "Online search engines"),
            ("social-network", "Social networking services platforms"),
        ],
    },
    Sector { slug: "research", label: "Research", annex: 2, subsectors: &[] },
];

/// Finds a sector by its slug.
pub fn sector(slug: &str) -> Option<&'static Sector> {
    SECTORS.iter().find(|sector| sector.slug == slug)
}

/// Checks a sector and subsector pair against the NIS2 catalogue.
pub fn check_sector(sector_slug: Option<&str>, subsector: Option<&str>) -> Result<(), FieldError> {
    let Some(slug) = sector_slug else {
        return match subsector {
            Some(_) => Err(FieldError::new("subsector", "given without a sector")),
            None => Ok(()),
        };
    };
    let Some(found) = sector(slug) else {
        let known: Vec<&str> = SECTORS.iter().map(|sector| sector.slug).collect();
        return Err(FieldError::new(
            "sector",
            format!("unknown NIS2 sector {slug:?}; known sectors: {}", known.join(", ")),
        ));
    };
    if let Some(sub) = subsector
        && !found.subsectors.iter().any(|(known, _)| *known == sub)
    {
        let known: Vec<&str> = found.subsectors.iter().map(|(slug, _)| *slug).collect();
        let message = if known.is_empty() {
            format!("sector {slug:?} has no subsectors, got {sub:?}")
        } else {
            format!("unknown subsector {sub:?} of {slug:?}; known: {}", known.join(", "))
        };
        return Err(FieldError::new("subsector", message));
    }
    Ok(())
}

/// The NIS2 classification of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityType {
    Essential,
    Important,
    Other,
}

impl EntityType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Essential => "essential",
            EntityType::Important => "important",
            EntityType::Other => "other",
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityType {
    type Err = FieldError;
    fn from_str(input: &str) -> Result<EntityType, FieldError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "essential" => Ok(EntityType::Essential),
            "important" => Ok(EntityType::Important),
            "other" | "" => Ok(EntityType::Other),
            _ => Err(FieldError::new(
                "entity_type",
                format!("unknown entity type {input:?}; expected essential, important or other"),
            )),
        }
    }
}

/// The configurable list of levels of authority (a deployment's data, not code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityLevels(pub Vec<String>);

impl Default for AuthorityLevels {
    /// The levels of Bosnia and Herzegovina.
    fn default() -> AuthorityLevels {
        AuthorityLevels(
            ["State", "Federation of BiH", "Republika Srpska", "Brčko District"].map(String::from).to_vec(),
        )
    }
}

impl AuthorityLevels {
    pub fn check(&self, level: &str) -> Result<(), FieldError> {
        if self.0.iter().any(|known| known == level) {
            Ok(())
        } else {
            Err(FieldError::new(
                "authority_level",
                format!("unknown level of authority {level:?}; configured: {}", self.0.join(", ")),
            ))
        }
    }
}

/// A stored organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: Uuid,
    #[serde(flatten)]
    pub fields: OrganisationFields,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

/// What a user supplies for an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationFields {
    pub name: String,
    /// A short unique handle, e.g. `EP-BIH`: letters, digits, `-` and `_`.
    pub short_name: String,
    #[serde(default)]
    pub address: Option<String>,
    /// ISO 3166-1 alpha-2, upper-case.
    pub country: String,
    #[serde(default)]
    pub sector: Option<String>,
    #[serde(default)]
    pub subsector: Option<String>,
    pub entity_type: EntityType,
    pub authority_level: String,
    /// The parent organisation: this organisation is one of its clients (TLP:AMBER).
    #[serde(default)]
    pub parent_id: Option<Uuid>,
}

impl OrganisationFields {
    /// Checks every field; returns all problems, not just the first.
    pub fn validate(&self, levels: &AuthorityLevels) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut push = |result: Result<(), FieldError>| {
            if let Err(error) = result {
                errors.push(error);
            }
        };
        push(check_text("name", &self.name, 200));
        push(check_short_name(&self.short_name));
        if let Some(address) = &self.address {
            push(check_optional_text("address", address, 500));
        }
        push(check_country(&self.country));
        push(check_sector(self.sector.as_deref(), self.subsector.as_deref()));
        push(levels.check(&self.authority_level));
        errors
    }
}

/// Short names are handles used on the command line and in file names.
pub fn check_short_name(short_name: &str) -> Result<(), FieldError> {
    let valid_chars = short_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if short_name.is_empty() || short_name.len() > 32 || !valid_chars {
        return Err(FieldError::new(
            "short_name",
            format!("{short_name:?} must be 1 to 32 letters, digits, '-' or '_'"),
        ));
    }
    Ok(())
}

/// Country codes are ISO 3166-1 alpha-2, upper-case.
pub fn check_country(country: &str) -> Result<(), FieldError> {
    if country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(FieldError::new("country", format!("{country:?} is not an ISO 3166-1 alpha-2 code such as BA")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> OrganisationFields {
        OrganisationFields {
            name: "Elektroprenos BiH".into(),
            short_name: "EP-BIH".into(),
            address: None,
            country: "BA".into(),
            sector: Some("energy".into()),
            subsector: Some("electricity".into()),
            entity_type: EntityType::Essential,
            authority_level: "State".into(),
            parent_id: None,
        }
    }

    #[test]
    fn valid_organisation_has_no_errors() {
        assert_eq!(fields().validate(&AuthorityLevels::default()), vec![]);
        assert_eq!(SECTORS.len(), 18);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut bad = fields();
        bad.short_name = "has space".into();
        bad.country = "bih".into();
        bad.sector = Some("energy".into());
        bad.subsector = Some("nuclear".into());
        bad.authority_level = "Canton".into();
        let fields: Vec<String> =
            bad.validate(&AuthorityLevels::default()).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["short_name", "country", "subsector", "authority_level"]);
    }

    #[test]
    fn unknown_sector_names_the_known_ones() {
        let error = check_sector(Some("nuclear"), None).unwrap_err();
        assert_eq!(error.field, "sector");
        assert!(error.message.contains("energy"), "{}", error.message);
        assert!(check_sector(None, Some("gas")).is_err());
        assert!(check_sector(Some("banking"), Some("retail")).is_err());
    }
}
