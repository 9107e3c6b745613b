//! Preservation requests and maturity self-assessments on SQLite: versioned JSON records, one
//! generic implementation over `neretva_store::records::Record`.

use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::records::{
    Record, Stored, check_action, code_taken, decode_record, encode_record, missing_org, record_digest, stale,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::codec::{Result, micros, time_col};
use crate::ops::append_audit;

const COLUMNS: &str = "body, version, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(String, i64, Timestamp, Timestamp)> {
    Ok((row.get(0)?, row.get(1)?, time_col(row, 2)?, time_col(row, 3)?))
}

fn decode<T: Record>(
    (body, version, created_at, updated_at): (String, i64, Timestamp, Timestamp),
) -> Result<Stored<T>> {
    Ok(Stored { record: decode_record(&body)?, version, created_at, updated_at })
}

fn audit<T: Record>(conn: &Connection, at: Timestamp, actor: &str, action: &str, record: &T) -> Result<()> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: T::OBJECT.to_owned(),
        object_id: record.id().to_string(),
        digest: record_digest(record),
    };
    append_audit(conn, at, event)?;
    Ok(())
}

/// Checks the record's organisations exist and its code is not another record's.
fn check<T: Record>(conn: &Connection, record: &T) -> Result<()> {
    for (field, org) in record.organisations() {
        let found: Option<i64> = conn
            .prepare_cached("SELECT 1 FROM organisations WHERE id = ?1")?
            .query_row([org.to_string()], |row| row.get(0))
            .optional()?;
        if found.is_none() {
            return Err(missing_org(field, org).into());
        }
    }
    if let Some(code) = record.code() {
        let sql = format!("SELECT id FROM {} WHERE code = ?1", T::TABLE);
        let holder: Option<String> =
            conn.prepare_cached(&sql)?.query_row([code], |row| row.get(0)).optional()?;
        if holder.is_some_and(|holder| holder != record.id().to_string()) {
            return Err(code_taken::<T>(code).into());
        }
    }
    Ok(())
}

pub(crate) fn create<T: Record>(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    record: &T,
) -> Result<Stored<T>> {
    let body = encode_record(record)?;
    if get::<T>(conn, record.id())?.is_some() {
        return Err(StoreError::conflict("id", format!("a {} with this id already exists", T::NOUN)).into());
    }
    check(conn, record)?;
    let sql = format!(
        "INSERT INTO {} (id, code, org_id, version, body, created_at, updated_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)",
        T::TABLE
    );
    conn.prepare_cached(&sql)?.execute(params![
        record.id().to_string(),
        record.code(),
        record.org().map(|org| org.to_string()),
        body,
        micros(at)
    ])?;
    audit(conn, at, actor, &format!("{}.create", T::OBJECT), record)?;
    Ok(Stored { record: record.clone(), version: 1, created_at: at, updated_at: at })
}

pub(crate) fn update<T: Record>(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    record: &T,
    expected_version: i64,
    action: &str,
) -> Result<Stored<T>> {
    check_action::<T>(action)?;
    let body = encode_record(record)?;
    let Some(old) = get::<T>(conn, record.id())? else {
        return Err(StoreError::not_found(T::NOUN, record.id()).into());
    };
    if old.version != expected_version {
        return Err(stale(old.version, expected_version).into());
    }
    check(conn, record)?;
    let version = old.version + 1;
    let sql = format!(
        "UPDATE {} SET code = ?2, org_id = ?3, version = ?4, body = ?5, updated_at = ?6 WHERE id = ?1",
        T::TABLE
    );
    conn.prepare_cached(&sql)?.execute(params![
        record.id().to_string(),
        record.code(),
        record.org().map(|org| org.to_string()),
        version,
        body,
        micros(at)
    ])?;
    audit(conn, at, actor, action, record)?;
    Ok(Stored { record: record.clone(), version, created_at: old.created_at, updated_at: at })
}

pub(crate) fn delete<T: Record>(conn: &Connection, at: Timestamp, actor: &str, id: Uuid) -> Result<()> {
    let Some(old) = get::<T>(conn, id)? else {
        return Err(StoreError::not_found(T::NOUN, id).into());
    };
    conn.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", T::TABLE))?.execute([id.to_string()])?;
    audit(conn, at, actor, &format!("{}.delete", T::OBJECT), &old.record)
}

pub(crate) fn get<T: Record>(conn: &Connection, id: Uuid) -> Result<Option<Stored<T>>> {
    let sql = format!("SELECT {COLUMNS} FROM {} WHERE id = ?1", T::TABLE);
    conn.prepare_cached(&sql)?.query_row([id.to_string()], from_row).optional()?.map(decode).transpose()
}

pub(crate) fn find<T: Record>(conn: &Connection, code: &str) -> Result<Option<Stored<T>>> {
    let sql = format!("SELECT {COLUMNS} FROM {} WHERE code = ?1", T::TABLE);
    conn.prepare_cached(&sql)?.query_row([code], from_row).optional()?.map(decode).transpose()
}

/// The records of one organisation, or all; by code, then creation.
pub(crate) fn list<T: Record>(conn: &Connection, org: Option<Uuid>) -> Result<Vec<Stored<T>>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {} WHERE ?1 IS NULL OR org_id = ?1 ORDER BY code, created_at, id",
        T::TABLE
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([org.map(|org| org.to_string())], from_row)?;
    rows.map(|row| decode(row?)).collect()
}
