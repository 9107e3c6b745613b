//! Strategic documents of the strategy tracker on PostgreSQL.
//!
//! Writes run in audited transactions, which lock the audit head first, so the version read and
//! the version written cannot interleave with another server's change.

use deadpool_postgres::GenericClient;
use neretva_governance::strategy::{ReferenceKind, StrategyDocument};
use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::governance::{
    StoredStrategy, check_action, distinct_references, encode_document, missing, strategy_digest,
};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::codec::{Error, Result};
use crate::ops::append_audit;

const COLUMNS: &str = "body, version, created_at, updated_at";

fn from_row(row: &Row) -> Result<StoredStrategy> {
    let body: String = row.try_get(0)?;
    let document = serde_json::from_str(&body)
        .map_err(|error| Error(StoreError::Backend(format!("strategy document: {error}"))))?;
    Ok(StoredStrategy {
        document,
        version: row.try_get(1)?,
        created_at: row.try_get(2)?,
        updated_at: row.try_get(3)?,
    })
}

async fn audit<C: GenericClient>(
    client: &C,
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
    append_audit(client, at, event).await?;
    Ok(())
}

/// Checks that the organisations and contacts the document names exist.
async fn check_references<C: GenericClient>(client: &C, document: &StrategyDocument) -> Result<()> {
    for reference in distinct_references(document) {
        let sql = match reference.kind {
            ReferenceKind::Organisation => "SELECT 1 FROM organisations WHERE id = $1",
            ReferenceKind::Contact => "SELECT 1 FROM contacts WHERE id = $1",
        };
        let statement = client.prepare_cached(sql).await?;
        if client.query_opt(&statement, &[&reference.id]).await?.is_none() {
            return Err(missing(&reference).into());
        }
    }
    Ok(())
}

pub(crate) async fn create_strategy<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    document: &StrategyDocument,
) -> Result<StoredStrategy> {
    let body = encode_document(document)?;
    if get_strategy(client, document.id).await?.is_some() {
        return Err(StoreError::conflict("id", "a strategic document with this id already exists").into());
    }
    if find_strategy(client, &document.code).await?.is_some() {
        return Err(
            StoreError::conflict("code", format!("a document with code {:?} exists", document.code)).into()
        );
    }
    check_references(client, document).await?;
    let statement = client
        .prepare_cached(
            "INSERT INTO strategy_documents (id, code, owner_org, version, body, created_at, updated_at)
             VALUES ($1, $2, $3, 1, $4, $5, $5)",
        )
        .await?;
    client.execute(&statement, &[&document.id, &document.code, &document.owner_org, &body, &at]).await?;
    audit(client, at, actor, "strategy.create", document.id, strategy_digest(document)).await?;
    Ok(StoredStrategy { document: document.clone(), version: 1, created_at: at, updated_at: at })
}

pub(crate) async fn update_strategy<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    document: &StrategyDocument,
    expected_version: i64,
    action: &str,
) -> Result<StoredStrategy> {
    check_action(action)?;
    let body = encode_document(document)?;
    let Some(old) = get_strategy(client, document.id).await? else {
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
    if let Some(other) = find_strategy(client, &document.code).await?
        && other.document.id != document.id
    {
        return Err(
            StoreError::conflict("code", format!("a document with code {:?} exists", document.code)).into()
        );
    }
    check_references(client, document).await?;
    let version = old.version + 1;
    let statement = client
        .prepare_cached(
            "UPDATE strategy_documents SET code = $2, owner_org = $3, version = $4, body = $5, updated_at = $6
             WHERE id = $1",
        )
        .await?;
    client
        .execute(&statement, &[&document.id, &document.code, &document.owner_org, &version, &body, &at])
        .await?;
    audit(client, at, actor, action, document.id, strategy_digest(document)).await?;
    Ok(StoredStrategy { document: document.clone(), version, created_at: old.created_at, updated_at: at })
}

pub(crate) async fn delete_strategy<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
) -> Result<()> {
    let Some(old) = get_strategy(client, id).await? else {
        return Err(StoreError::not_found("strategy", id).into());
    };
    let statement = client.prepare_cached("DELETE FROM strategy_documents WHERE id = $1").await?;
    client.execute(&statement, &[&id]).await?;
    audit(client, at, actor, "strategy.delete", id, strategy_digest(&old.document)).await
}

pub(crate) async fn get_strategy<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredStrategy>> {
    let sql = format!("SELECT {COLUMNS} FROM strategy_documents WHERE id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(from_row).transpose()
}

pub(crate) async fn find_strategy<C: GenericClient>(
    client: &C,
    code: &str,
) -> Result<Option<StoredStrategy>> {
    let sql = format!("SELECT {COLUMNS} FROM strategy_documents WHERE code = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&code]).await?.as_ref().map(from_row).transpose()
}

pub(crate) async fn list_strategies<C: GenericClient>(client: &C) -> Result<Vec<StoredStrategy>> {
    let sql = format!("SELECT {COLUMNS} FROM strategy_documents ORDER BY code");
    let statement = client.prepare_cached(&sql).await?;
    client.query(&statement, &[]).await?.iter().map(from_row).collect()
}
