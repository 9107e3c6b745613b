//! Storage types of working groups (`neretva_governance::groups`).
//!
//! A group (members, meetings, action items, documents, announcements) is stored whole as JSON
//! with a version, like a strategic document: a change reads it, applies a pure change and
//! writes it back under the version read. Each write checks in its transaction that the
//! organisations it names exist, that its parent is a main group, that a group with sub-groups
//! gets no parent, and that every strategy action an item links to exists; an announcement
//! records its messages (`notify_messages`, delivered by the notifier) in the same transaction as
//! the group.

use neretva_governance::groups::WorkingGroup;
use neretva_governance::strategy::StrategyDocument;
use neretva_model::audit::digest_json;
use neretva_model::{Timestamp, Uuid};

use crate::StoreError;

/// The largest stored group, as JSON.
pub const MAX_GROUP_BYTES: usize = 16 * 1024 * 1024;

/// A stored working group.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredGroup {
    pub group: WorkingGroup,
    /// 1 when created, one more with each update.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The audit digest of a group.
pub fn group_digest(group: &WorkingGroup) -> String {
    digest_json(group)
}

/// The group as stored, refused when larger than [`MAX_GROUP_BYTES`].
pub fn encode_group(group: &WorkingGroup) -> Result<String, StoreError> {
    let text = serde_json::to_string(group).map_err(|error| StoreError::Backend(format!("json: {error}")))?;
    if text.len() > MAX_GROUP_BYTES {
        return Err(StoreError::conflict(
            "group",
            format!("the group is {} bytes as JSON; at most {MAX_GROUP_BYTES} are stored", text.len()),
        ));
    }
    Ok(text)
}

/// Audit actions of group updates start with `group.`.
pub fn check_action(action: &str) -> Result<(), StoreError> {
    let valid = action.len() <= 64
        && action.strip_prefix("group.").is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
        });
    if valid { Ok(()) } else { Err(StoreError::Backend(format!("invalid audit action {action:?}"))) }
}

/// The distinct organisations to look up, each with the first field naming it.
pub fn distinct_orgs(group: &WorkingGroup) -> Vec<(String, Uuid)> {
    let mut seen = std::collections::HashSet::new();
    neretva_governance::groups::org_references(group).into_iter().filter(|(_, id)| seen.insert(*id)).collect()
}

/// Whether a strategic document has an action with this id.
pub fn has_action(document: &StrategyDocument, action: Uuid) -> bool {
    document
        .objectives
        .iter()
        .flat_map(|objective| &objective.measures)
        .flat_map(|measure| &measure.actions)
        .any(|candidate| candidate.id == action)
}

/// What the parent check found about a group's parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentState {
    Missing,
    /// The parent is itself a sub-group.
    SubGroup,
    MainGroup,
}

/// The error for a parent that cannot take the group, or `None`.
pub fn parent_problem(parent: Uuid, state: ParentState) -> Option<StoreError> {
    match state {
        ParentState::MainGroup => None,
        ParentState::Missing => Some(StoreError::conflict("parent", format!("no working group {parent}"))),
        ParentState::SubGroup => Some(StoreError::conflict(
            "parent",
            format!("working group {parent} is a sub-group; sub-groups have no sub-groups"),
        )),
    }
}
