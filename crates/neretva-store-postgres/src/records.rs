//! Preservation requests and maturity self-assessments on PostgreSQL: versioned JSON records,
//! one generic implementation over `neretva_store::records::Record`.
//!
//! Writes run in audited transactions, which lock the audit head first, so the version read and
//! the version written cannot interleave with another server's change.

use deadpool_postgres::GenericClient;
use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::records::{
    Record, Stored, check_action, code_taken, decode_record, encode_record, missing_org, record_digest, stale,
};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::codec::Result;
use crate::ops::append_audit;

const COLUMNS: &str = "body, version, created_at, updated_at";

fn from_row<T: Record>(row: &Row) -> Result<Stored<T>> {
    let body: String = row.try_get(0)?;
    Ok(Stored {
        record: decode_record(&body)?,
        version: row.try_get(1)?,
        created_at: row.try_get(2)?,
        updated_at: row.try_get(3)?,
    })
}

async fn audit<C: GenericClient, T: Record>(
    client: &C,
    at: Timestamp,
    actor: &str,
    action: &str,
    record: &T,
) -> Result<()> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: T::OBJECT.to_owned(),
        object_id: record.id().to_string(),
        digest: record_digest(record),
    };
    append_audit(client, at, event).await?;
    Ok(())
}

/// Checks the record's organisations exist and its code is not another record's.
async fn check<C: GenericClient, T: Record>(client: &C, record: &T) -> Result<()> {
    for (field, org) in record.organisations() {
        let statement = client.prepare_cached("SELECT 1 FROM organisations WHERE id = $1").await?;
        if client.query_opt(&statement, &[&org]).await?.is_none() {
            return Err(missing_org(field, org).into());
        }
    }
    if let Some(code) = record.code() {
        let statement =
            client.prepare_cached(&format!("SELECT id FROM {} WHERE code = $1", T::TABLE)).await?;
        if let Some(row) = client.query_opt(&statement, &[&code]).await? {
            let holder: Uuid = row.try_get(0)?;
            if holder != record.id() {
                return Err(code_taken::<T>(code).into());
            }
        }
    }
    Ok(())
}

pub(crate) async fn create<C: GenericClient, T: Record>(
    client: &C,
    at: Timestamp,
    actor: &str,
    record: &T,
) -> Result<Stored<T>> {
    let body = encode_record(record)?;
    if get::<C, T>(client, record.id()).await?.is_some() {
        return Err(StoreError::conflict("id", format!("a {} with this id already exists", T::NOUN)).into());
    }
    check(client, record).await?;
    let sql = format!(
        "INSERT INTO {} (id, code, org_id, version, body, created_at, updated_at)
         VALUES ($1, $2, $3, 1, $4, $5, $5)",
        T::TABLE
    );
    let statement = client.prepare_cached(&sql).await?;
    client.execute(&statement, &[&record.id(), &record.code(), &record.org(), &body, &at]).await?;
    audit(client, at, actor, &format!("{}.create", T::OBJECT), record).await?;
    Ok(Stored { record: record.clone(), version: 1, created_at: at, updated_at: at })
}

pub(crate) async fn update<C: GenericClient, T: Record>(
    client: &C,
    at: Timestamp,
    actor: &str,
    record: &T,
    expected_version: i64,
    action: &str,
) -> Result<Stored<T>> {
    check_action::<T>(action)?;
    let body = encode_record(record)?;
    let Some(old) = get::<C, T>(client, record.id()).await? else {
        return Err(StoreError::not_found(T::NOUN, record.id()).into());
    };
    if old.version != expected_version {
        return Err(stale(old.version, expected_version).into());
    }
    check(client, record).await?;
    let version = old.version + 1;
    let sql = format!(
        "UPDATE {} SET code = $2, org_id = $3, version = $4, body = $5, updated_at = $6 WHERE id = $1",
        T::TABLE
    );
    let statement = client.prepare_cached(&sql).await?;
    client.execute(&statement, &[&record.id(), &record.code(), &record.org(), &version, &body, &at]).await?;
    audit(client, at, actor, action, record).await?;
    Ok(Stored { record: record.clone(), version, created_at: old.created_at, updated_at: at })
}

pub(crate) async fn delete<C: GenericClient, T: Record>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
) -> Result<()> {
    let Some(old) = get::<C, T>(client, id).await? else {
        return Err(StoreError::not_found(T::NOUN, id).into());
    };
    let statement = client.prepare_cached(&format!("DELETE FROM {} WHERE id = $1", T::TABLE)).await?;
    client.execute(&statement, &[&id]).await?;
    audit(client, at, actor, &format!("{}.delete", T::OBJECT), &old.record).await
}

pub(crate) async fn get<C: GenericClient, T: Record>(client: &C, id: Uuid) -> Result<Option<Stored<T>>> {
    let statement =
        client.prepare_cached(&format!("SELECT {COLUMNS} FROM {} WHERE id = $1", T::TABLE)).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(from_row).transpose()
}

pub(crate) async fn find<C: GenericClient, T: Record>(client: &C, code: &str) -> Result<Option<Stored<T>>> {
    let statement =
        client.prepare_cached(&format!("SELECT {COLUMNS} FROM {} WHERE code = $1", T::TABLE)).await?;
    client.query_opt(&statement, &[&code]).await?.as_ref().map(from_row).transpose()
}

/// The records of one organisation, or all; by code, then creation.
pub(crate) async fn list<C: GenericClient, T: Record>(
    client: &C,
    org: Option<Uuid>,
) -> Result<Vec<Stored<T>>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {} WHERE $1::uuid IS NULL OR org_id = $1 ORDER BY code, created_at, id",
        T::TABLE
    );
    let statement = client.prepare_cached(&sql).await?;
    client.query(&statement, &[&org]).await?.iter().map(from_row).collect()
}
