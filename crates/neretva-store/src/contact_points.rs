//! Storage types of the contact-point directory and communication checks.
//!
//! Contact points and RFC 2350 team profiles are stored whole as JSON beside the columns
//! queries use; a point carries a version, so two concurrent changes cannot overwrite each
//! other. A campaign is stored with one target row per contact point it reaches (a snapshot of
//! the point's name, address, organisation and language when it was created) and one token row
//! per link sent, keyed by the token's SHA-256 only: the token itself is never stored.
//!
//! An acknowledgment through a link is decided and written in one transaction: an unknown,
//! used or expired token answers an [`AckOutcome`] that says which, and writes nothing.

use neretva_governance::checks::{Campaign, Step, TargetState};
use neretva_governance::contact_points::{ContactPoint, PointKind};
use neretva_governance::rfc2350::TeamProfile;
use neretva_model::audit::digest_json;
use neretva_model::contact::Language;
use neretva_model::{Timestamp, Uuid};

use crate::StoreError;

/// A stored contact point.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoint {
    pub point: ContactPoint,
    /// 1 when created, one more with each update.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A stored RFC 2350 team profile.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProfile {
    pub profile: TeamProfile,
    pub updated_at: Timestamp,
}

/// One contact point a campaign reaches.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTarget {
    pub point_id: Uuid,
    pub org_id: Uuid,
    pub kind: PointKind,
    pub name: String,
    pub email: String,
    pub language: Language,
    pub state: TargetState,
    /// Why the last sending failed.
    pub last_error: Option<String>,
    /// Who acknowledged: the address or user name given, or the link's recipient.
    pub acknowledged_by: Option<String>,
    /// `link` or `api`.
    pub acknowledged_via: Option<String>,
    pub user_agent: Option<String>,
}

/// A stored campaign with its targets (ordered by organisation, kind and address).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCampaign {
    pub campaign: Campaign,
    pub created_by: String,
    pub targets: Vec<StoredTarget>,
}

/// A link's token, stored as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub token_hash: String,
    pub expires_at: Timestamp,
}

/// The outcome of one step for one target, recorded by [`crate::Store::record_check_steps`].
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub point_id: Uuid,
    pub step: Step,
    pub at: Timestamp,
    /// The link sent with a challenge or reminder.
    pub token: Option<NewToken>,
    /// Why the step failed; a failed step leaves the target as it was but for the error.
    pub error: Option<String>,
}

/// Who acknowledges, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgment {
    /// The link's recipient, or the user who acknowledged through the API.
    pub by: String,
    /// `link` or `api`.
    pub via: String,
    pub user_agent: Option<String>,
}

/// The longest user agent kept, in characters.
pub const MAX_USER_AGENT: usize = 500;

/// What is known about a link, for the page that asks to confirm.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    pub target: StoredTarget,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// The outcome of an acknowledgment through a link.
#[derive(Debug, Clone, PartialEq)]
pub enum AckOutcome {
    /// Recorded, with the campaign and the target as now.
    Recorded { campaign_id: Uuid, target: Box<StoredTarget> },
    /// No link has this token.
    Unknown,
    /// The link was used at this time.
    Used { at: Timestamp },
    /// The link expired at this time.
    Expired { at: Timestamp },
}

/// The audit digest of a contact point.
pub fn point_digest(point: &ContactPoint) -> String {
    digest_json(point)
}

/// The audit digest of a team profile.
pub fn profile_digest(profile: &TeamProfile) -> String {
    digest_json(profile)
}

/// The audit digest of a campaign.
pub fn campaign_digest(campaign: &Campaign) -> String {
    digest_json(campaign)
}

/// The stored JSON of a value.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Backend(format!("json: {error}")))
}

/// A stored JSON value read back.
pub fn decode<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Backend(format!("{what}: {error}")))
}

/// The stored name of a step.
pub fn step_name(step: Step) -> &'static str {
    match step {
        Step::Send => "send",
        Step::Remind => "remind",
        Step::Escalate => "escalate",
    }
}

/// Checks targets before a campaign is written: at least one, none twice.
pub fn check_targets(points: &[ContactPoint]) -> Result<(), StoreError> {
    if points.is_empty() {
        return Err(StoreError::conflict("scope", "the campaign reaches no contact point"));
    }
    let mut seen = std::collections::HashSet::new();
    for (index, point) in points.iter().enumerate() {
        if !seen.insert(point.id) {
            return Err(StoreError::conflict(
                format!("targets[{index}]"),
                format!("contact point {} is a target twice", point.id),
            ));
        }
    }
    Ok(())
}

/// The error for a version that moved on.
pub fn version_conflict(found: i64, expected: i64) -> StoreError {
    StoreError::conflict(
        "version",
        format!("the contact point changed (version {found} now, {expected} read); read it again"),
    )
}

/// A user agent cut to [`MAX_USER_AGENT`] characters, without control characters.
pub fn clean_user_agent(agent: Option<&str>) -> Option<String> {
    agent.map(|text| text.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT).collect::<String>())
}
