//! Strategic documents of the strategy tracker on SQLite.

use neretva_governance::strategy::{ReferenceKind, StrategyDocument};
use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::governance::{
    StoredStrategy, check_action, distinct_references, encode_document, missing, strategy_digest,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::codec::{Result, json_col, micros, time_col};
use crate::ops::append_audit;

const COLUMNS: &str = "body, version, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredStrategy> {
    Ok(StoredStrategy {
        document: json_col(row, 0)?,
        version: row.get(1)?,
        created_at: time_col(row, 2)?,
        updated_at: time_col(row, 3)?,
    })
}

fn audit(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    action: &str,
    id: Uuid,
    digest: String,
) -> Result<()> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: "strategy".to_owned(),
        object_id: id.to_string(),
        digest,
    };
    append_audit(conn, at, event)?;
    Ok(())
}

/// Checks that the organisations and contacts the document names exist.
fn check_references(conn: &Connection, document: &StrategyDocument) -> Result<()> {
    for reference in distinct_references(document) {
        let sql = match reference.kind {
            ReferenceKind::Organisation => "SELECT 1 FROM organisations WHERE id = ?1",
            ReferenceKind::Contact => "SELECT 1 FROM contacts WHERE id = ?1",
        };
        let found: Option<i64> =
            conn.prepare_cached(sql)?.query_row([reference.id.to_string()], |row| row.get(0)).optional()?;
        if found.is_none() {
            return Err(missing(&reference).into());
        }
    }
    Ok(())
}

pub(crate) fn create_strategy(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    document: &StrategyDocument,
) -> Result<StoredStrategy> {
    let body = encode_document(document)?;
    if get_strategy(conn, document.id)?.is_some() {
        return Err(StoreError::conflict("id", "a strategic document with this id already exists").into());
    }
    if find_strategy(conn, &document.code)?.is_some() {
        return Err(
            StoreError::conflict("code", format!("a document with code {:?} exists", document.code)).into()
        );
    }
    check_references(conn, document)?;
    conn.prepare_cached(
        "INSERT INTO strategy_documents (id, code, owner_org, version, body, created_at, updated_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)",
    )?
    .execute(params![
        document.id.to_string(),
        document.code,
        document.owner_org.to_string(),
        body,
        micros(at)
    ])?;
    audit(conn, at, actor, "strategy.create", document.id, strategy_digest(document))?;
    Ok(StoredStrategy { document: document.clone(), version: 1, created_at: at, updated_at: at })
}

pub(crate) fn update_strategy(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    document: &StrategyDocument,
    expected_version: i64,
    action: &str,
) -> Result<StoredStrategy> {
    check_action(action)?;
    let body = encode_document(document)?;
    let Some(old) = get_strategy(conn, document.id)? else {
        return Err(StoreError::not_found("strategy", document.id).into());
    };
    if old.version != expected_version {
        return Err(StoreError::conflict(
            "version",
            format!(
                "the document changed (version {} now, {expected_version} read); read it again",
                old.version
            ),
        )
        .into());
    }
    if let Some(other) = find_strategy(conn, &document.code)?
        && other.document.id != document.id
    {
        return Err(
            StoreError::conflict("code", format!("a document with code {:?} exists", document.code)).into()
        );
    }
    check_references(conn, document)?;
    let version = old.version + 1;
    conn.prepare_cached(
        "UPDATE strategy_documents SET code = ?2, owner_org = ?3, version = ?4, body = ?5, updated_at = ?6
         WHERE id = ?1",
    )?
    .execute(params![
        document.id.to_string(),
        document.code,
        document.owner_org.to_string(),
        version,
        body,
        micros(at)
    ])?;
    audit(conn, at, actor, action, document.id, strategy_digest(document))?;
    Ok(StoredStrategy { document: document.clone(), version, created_at: old.created_at, updated_at: at })
}

pub(crate) fn delete_strategy(conn: &Connection, at: Timestamp, actor: &str, id: Uuid) -> Result<()> {
    let Some(old) = get_strategy(conn, id)? else {
        return Err(StoreError::not_found("strategy", id).into());
    };
    conn.prepare_cached("DELETE FROM strategy_documents WHERE id = ?1")?.execute([id.to_string()])?;
    audit(conn, at, actor, "strategy.delete", id, strategy_digest(&old.document))
}

pub(crate) fn get_strategy(conn: &Connection, id: Uuid) -> Result<Option<StoredStrategy>> {
    let sql = format!("SELECT {COLUMNS} FROM strategy_documents WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], from_row).optional()?)
}

pub(crate) fn find_strategy(conn: &Connection, code: &str) -> Result<Option<StoredStrategy>> {
    let sql = format!("SELECT {COLUMNS} FROM strategy_documents WHERE code = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([code], from_row).optional()?)
}

pub(crate) fn list_strategies(conn: &Connection) -> Result<Vec<StoredStrategy>> {
    let sql = format!("SELECT {COLUMNS} FROM strategy_documents ORDER BY code");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
