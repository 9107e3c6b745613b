//! Storage types of co-ordination and governance: strategic documents of the strategy tracker.
//!
//! A document (objectives, measures, actions, KPIs) is stored whole as JSON with a version; a
//! change reads it, applies a pure change (`neretva_governance::strategy`) and writes it back
//! under the version read, so two concurrent changes cannot overwrite each other. Each write
//! checks, in its transaction, that the organisations and contacts the document names exist
//! (`neretva_governance::strategy::references`), and is audited with the document's digest.

use neretva_governance::strategy::{Reference, ReferenceKind, StrategyDocument};
use neretva_model::Timestamp;
use neretva_model::audit::digest_json;

use crate::StoreError;

/// The largest stored document, as JSON.
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// A stored strategic document.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredStrategy {
    pub document: StrategyDocument,
    /// 1 when created, one more with each update.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The audit digest of a document.
pub fn strategy_digest(document: &StrategyDocument) -> String {
    digest_json(document)
}

/// The document as stored, refused when larger than [`MAX_DOCUMENT_BYTES`].
pub fn encode_document(document: &StrategyDocument) -> Result<String, StoreError> {
    let text =
        serde_json::to_string(document).map_err(|error| StoreError::Backend(format!("json: {error}")))?;
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(StoreError::conflict(
            "document",
            format!("the document is {} bytes as JSON; at most {MAX_DOCUMENT_BYTES} are stored", text.len()),
        ));
    }
    Ok(text)
}

/// Audit actions of strategy updates start with `strategy.`.
pub fn check_action(action: &str) -> Result<(), StoreError> {
    let valid = action.len() <= 64
        && action.strip_prefix("strategy.").is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
        });
    if valid { Ok(()) } else { Err(StoreError::Backend(format!("invalid audit action {action:?}"))) }
}

/// The distinct organisations and contacts to look up, each with the first field naming it.
pub fn distinct_references(document: &StrategyDocument) -> Vec<Reference> {
    let mut seen = std::collections::HashSet::new();
    neretva_governance::strategy::references(document)
        .into_iter()
        .filter(|reference| seen.insert((reference.kind == ReferenceKind::Contact, reference.id)))
        .collect()
}

/// The error for a reference the database lacks.
pub fn missing(reference: &Reference) -> StoreError {
    let what = match reference.kind {
        ReferenceKind::Organisation => "organisation",
        ReferenceKind::Contact => "contact",
    };
    StoreError::conflict(reference.field.clone(), format!("no {what} {}", reference.id))
}
