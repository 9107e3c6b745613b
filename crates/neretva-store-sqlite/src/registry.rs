//! Bulk import and export of the constituency.

use neretva_model::Timestamp;
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::registry_io::{RegistryDocument, to_json};
use neretva_store::{ImportMode, ImportSummary, StoreError};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::codec::Result;
use crate::ops;
use neretva_store::import_plan::{document, plan};

/// Imports a document inside the caller's write transaction: checks everything against the
/// stored organisations, then writes with prepared statements, then audits once.
pub(crate) fn import(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    document: &RegistryDocument,
    mode: ImportMode,
) -> Result<ImportSummary> {
    let stored = ops::list_orgs(conn)?;
    let plan = plan(document, &stored, mode, at).map_err(StoreError::Import)?;

    let mut release = conn.prepare_cached("UPDATE organisations SET name_key = ?2 WHERE id = ?1")?;
    for id in &plan.renamed {
        // Names cannot hold control characters, so the placeholder never meets a real name.
        release.execute((id.to_string(), format!("\u{1}{id}")))?;
    }
    for org in &plan.creates {
        ops::insert_org(conn, org)?;
    }
    let mut clear_contacts = conn.prepare_cached("DELETE FROM contacts WHERE org_id = ?1")?;
    let mut clear_assets = conn.prepare_cached("DELETE FROM assets WHERE org_id = ?1")?;
    for org in &plan.updates {
        ops::write_org(conn, org)?;
        clear_contacts.execute([org.id.to_string()])?;
        clear_assets.execute([org.id.to_string()])?;
    }
    for contact in &plan.contacts {
        ops::insert_contact(conn, contact)?;
    }
    for asset in &plan.assets {
        ops::insert_asset(conn, asset)?;
    }

    let summary = plan.summary();
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: "registry.import".to_owned(),
        object_type: "registry".to_owned(),
        object_id: format!("{} organisations", document.organisations.len()),
        digest: digest_hex(&to_json(document)),
    };
    ops::append_audit(conn, at, event)?;
    Ok(summary)
}

/// The whole constituency, read in one snapshot: organisations by short name, contacts in the
/// order they were added, assets by value.
pub(crate) fn export(conn: &Connection) -> Result<RegistryDocument> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Deferred)?;
    let organisations = ops::list_orgs(&tx)?;
    let contacts = ops::list_contacts(&tx, None)?;
    let assets = ops::list_assets(&tx, None)?;
    tx.commit()?;

    Ok(document(organisations, contacts, assets))
}
