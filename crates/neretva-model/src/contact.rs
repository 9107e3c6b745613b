//! Contacts: the people and mailboxes of an organisation that the CERT talks to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{FieldError, Timestamp, check_optional_text, check_text};

/// A language the interface and notifications speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Language {
    En,
    Bs,
    Hr,
    SrLatn,
    SrCyrl,
}

impl Language {
    pub const ALL: [Language; 5] =
        [Language::En, Language::Bs, Language::Hr, Language::SrLatn, Language::SrCyrl];

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Bs => "bs",
            Language::Hr => "hr",
            Language::SrLatn => "sr-Latn",
            Language::SrCyrl => "sr-Cyrl",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl FromStr for Language {
    type Err = FieldError;
    /// Accepts BCP 47 tags case-insensitively, with `-` or `_`; plain `sr` means Serbian Cyrillic.
    fn from_str(input: &str) -> Result<Language, FieldError> {
        let normal = input.trim().to_ascii_lowercase().replace('_', "-");
        Ok(match normal.as_str() {
            "en" | "en-gb" | "en-us" => Language::En,
            "bs" | "bs-latn" | "bs-ba" => Language::Bs,
            "hr" | "hr-hr" | "hr-ba" => Language::Hr,
            "sr-latn" | "sr-latn-ba" | "sr-latn-rs" => Language::SrLatn,
            "sr" | "sr-cyrl" | "sr-cyrl-ba" | "sr-cyrl-rs" | "sr-ba" | "sr-rs" => Language::SrCyrl,
            _ => {
                return Err(FieldError::new(
                    "languages",
                    format!("unknown language {input:?}; expected en, bs, hr, sr-Latn or sr-Cyrl"),
                ));
            }
        })
    }
}

impl TryFrom<String> for Language {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Language, FieldError> {
        value.parse()
    }
}

impl From<Language> for String {
    fn from(value: Language) -> String {
        value.tag().to_owned()
    }
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: Uuid,
    pub org_id: Uuid,
    #[serde(flatten)]
    pub fields: ContactFields,
    /// Fingerprint of the OpenPGP key, upper-case hex, when a key is present.
    pub pgp_fingerprint: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

/// What a user supplies for a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactFields {
    pub name: String,
    /// The contact's function, e.g. `abuse`, `CISO`, `technical`, `24/7`.
    #[serde(default)]
    pub role: Option<String>,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub languages: Vec<Language>,
    /// An ASCII-armoured OpenPGP public key (transferable public key).
    #[serde(default)]
    pub pgp_key: Option<String>,
    /// The highest TLP the contact may receive in notifications; `None` for the notifier's
    /// configured default.
    #[serde(default)]
    pub clearance: Option<crate::tlp::Tlp>,
}

impl ContactFields {
    /// Checks every field except the OpenPGP key (see [`crate::openpgp`]).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for result in [
            check_text("name", &self.name, 200),
            self.role.as_deref().map_or(Ok(()), |role| check_optional_text("role", role, 100)),
            check_email(&self.email),
            self.phone.as_deref().map_or(Ok(()), check_phone),
        ] {
            if let Err(error) = result {
                errors.push(error);
            }
        }
        errors
    }
}

/// A pragmatic check of an e-mail address: one `@`, a local part, a domain with a dot.
pub fn check_email(email: &str) -> Result<(), FieldError> {
    let bad = |why: &str| Err(FieldError::new("email", format!("{email:?} {why}")));
    if email.len() > 254 {
        return bad("is longer than 254 characters");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return bad("has no '@'");
    };
    if local.is_empty() || local.len() > 64 || local.contains(char::is_whitespace) {
        return bad("has an invalid local part");
    }
    if domain.parse::<neretva_net::DomainName>().is_err() || !domain.contains('.') {
        return bad("has an invalid domain");
    }
    Ok(())
}

/// Phone numbers: digits, spaces and `+()-/.`, at least five digits.
pub fn check_phone(phone: &str) -> Result<(), FieldError> {
    let allowed = phone.chars().all(|c| c.is_ascii_digit() || " +()-/.".contains(c));
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if !allowed || !(5..=20).contains(&digits) {
        return Err(FieldError::new(
            "phone",
            format!("{phone:?} is not a phone number such as +387 33 123 456"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_parse_bcp47_variants() {
        assert_eq!("sr_latn".parse::<Language>(), Ok(Language::SrLatn));
        assert_eq!("SR-Cyrl".parse::<Language>(), Ok(Language::SrCyrl));
        assert_eq!("bs".parse::<Language>(), Ok(Language::Bs));
        assert!("de".parse::<Language>().is_err());
    }

    #[test]
    fn email_and_phone_checks() {
        assert!(check_email("abuse@ep.example.ba").is_ok());
        assert!(check_email("no-at-sign").is_err());
        assert!(check_email("a b@example.ba").is_err());
        assert!(check_email("x@localhost").is_err());
        assert!(check_phone("+387 33 123 456").is_ok());
        assert!(check_phone("call me").is_err());
    }
}
