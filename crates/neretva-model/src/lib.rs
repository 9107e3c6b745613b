//! Neretva's domain model: the types every other crate speaks.
//!
//! - [`tlp`]: TLP 2.0 and PAP labels.
//! - [`org`]: organisations with their NIS2 register fields, the NIS2 sector catalogue,
//!   levels of authority; [`contact`] and [`asset`] hang off an organisation.
//! - [`user`]: users, roles, API-token scopes and the authenticated [`access::Principal`].
//! - [`access`]: `may_see`, the one function that decides visibility.
//! - [`taxii`]: TAXII collections' sharing scopes and writers, mapped onto `may_see`.
//! - [`audit`]: the hash chain of the audit log.
//! - [`registry_io`]: bulk import and export of the constituency as CSV and JSON.
//! - [`openpgp`]: validation of contacts' OpenPGP public keys.
//! - [`text`]: text for exports: CSV lines (guarded against spreadsheet formulas where people
//!   read them) and HTML escaping.
//!
//! **Architecture Invariant:** this crate does no IO and uses no async runtime.
//! Everything here is a pure function of its inputs, the clock included.

pub mod access;
pub mod asset;
pub mod audit;
pub mod contact;
pub mod lookup;
pub mod openpgp;
pub mod org;
pub mod registry_io;
pub mod taxii;
pub mod text;
pub mod tlp;
pub mod user;

pub use uuid::Uuid;

/// Timestamps are UTC instants.
pub type Timestamp = time::OffsetDateTime;

/// A validation failure that names the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The offending field, as named in the API and in import files.
    pub field: String,
    /// What is wrong, lower-case, no full stop.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// Checks that a required free-text field is present, trimmed and bounded.
pub fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.trim() != value {
        return Err(FieldError::new(field, "must not start or end with white space"));
    }
    check_optional_text(field, value, max_chars)
}

/// Checks the length and characters of an optional free-text field.
pub fn check_optional_text(field: &str, value: &str, max_chars: usize) -> Result<(), FieldError> {
    if value.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("longer than {max_chars} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok(())
}
