//! Storage of preservation requests and maturity self-assessments: versioned JSON records.
//!
//! Both are stored whole as JSON with a version, like strategic documents: a change reads the
//! record, applies a pure change (`neretva_governance::preservation`, `::maturity`) and writes it
//! back under the version read, so two concurrent changes cannot overwrite each other. Each
//! write checks, in its transaction, that the organisations the record names exist, and is
//! audited with the record's digest. One table per kind, of one shape: `id`, a unique `code`
//! (a preservation request's reference; none for assessments), the owning `org_id` (an
//! assessment's organisation; none for requests), `version`, `body`, `created_at`, `updated_at`.

use neretva_governance::maturity::Assessment;
use neretva_governance::preservation::PreservationRequest;
use neretva_model::audit::digest_json;
use neretva_model::{Timestamp, Uuid};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::StoreError;

/// The largest stored record, as JSON.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// A stored record with its version.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<T> {
    pub record: T,
    /// 1 when created, one more with each update.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A preservation request as stored.
pub type StoredPreservation = Stored<PreservationRequest>;
/// A maturity self-assessment as stored.
pub type StoredAssessment = Stored<Assessment>;

/// What a kind of record is to the store.
pub trait Record: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The table (a constant, never input).
    const TABLE: &'static str;
    /// The audit object type, and the prefix of every audit action (`<object>.`).
    const OBJECT: &'static str;
    /// The noun of not-found errors.
    const NOUN: &'static str;
    fn id(&self) -> Uuid;
    /// The unique code, if the kind has one.
    fn code(&self) -> Option<&str>;
    /// The owning organisation, if the kind has one.
    fn org(&self) -> Option<Uuid>;
    /// The organisations the record names, each with its field, to be checked to exist.
    fn organisations(&self) -> Vec<(&'static str, Uuid)>;
}

impl Record for PreservationRequest {
    const TABLE: &'static str = "preservation_requests";
    const OBJECT: &'static str = "preservation";
    const NOUN: &'static str = "preservation request";
    fn id(&self) -> Uuid {
        self.id
    }
    fn code(&self) -> Option<&str> {
        Some(&self.reference)
    }
    fn org(&self) -> Option<Uuid> {
        None
    }
    fn organisations(&self) -> Vec<(&'static str, Uuid)> {
        self.custodian_org.map(|org| ("custodian_org", org)).into_iter().collect()
    }
}

impl Record for Assessment {
    const TABLE: &'static str = "maturity_assessments";
    const OBJECT: &'static str = "assessment";
    const NOUN: &'static str = "assessment";
    fn id(&self) -> Uuid {
        self.id
    }
    fn code(&self) -> Option<&str> {
        None
    }
    fn org(&self) -> Option<Uuid> {
        Some(self.org_id)
    }
    fn organisations(&self) -> Vec<(&'static str, Uuid)> {
        vec![("org_id", self.org_id)]
    }
}

/// The record as stored, refused when larger than [`MAX_RECORD_BYTES`].
pub fn encode_record<T: Record>(record: &T) -> Result<String, StoreError> {
    let text =
        serde_json::to_string(record).map_err(|error| StoreError::Backend(format!("json: {error}")))?;
    if text.len() > MAX_RECORD_BYTES {
        return Err(StoreError::conflict(
            T::OBJECT,
            format!("the record is {} bytes as JSON; at most {MAX_RECORD_BYTES} are stored", text.len()),
        ));
    }
    Ok(text)
}

/// The record read back from its JSON body.
pub fn decode_record<T: Record>(body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|error| StoreError::Backend(format!("{}: {error}", T::NOUN)))
}

/// The audit digest of a record.
pub fn record_digest<T: Record>(record: &T) -> String {
    digest_json(record)
}

/// Audit actions of a kind start with `<object>.`, then lower-case letters, `.` and `_`.
pub fn check_action<T: Record>(action: &str) -> Result<(), StoreError> {
    let valid = action.len() <= 64
        && action.strip_prefix(T::OBJECT).and_then(|rest| rest.strip_prefix('.')).is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
        });
    if valid { Ok(()) } else { Err(StoreError::Backend(format!("invalid audit action {action:?}"))) }
}

/// The error for a code another record holds.
pub fn code_taken<T: Record>(code: &str) -> StoreError {
    StoreError::conflict("reference", format!("a {} with reference {code:?} exists", T::NOUN))
}

/// The error for an organisation the database lacks.
pub fn missing_org(field: &str, org: Uuid) -> StoreError {
    StoreError::conflict(field, format!("no organisation {org}"))
}

/// The error for a version that is no longer current.
pub fn stale(current: i64, read: i64) -> StoreError {
    StoreError::conflict(
        "version",
        format!("the record changed (version {current} now, {read} read); read it again"),
    )
}
