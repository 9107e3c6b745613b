//! Working groups on SQLite.

use neretva_governance::groups::{WorkingGroup, strategy_references};
use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::groups::{
    ParentState, StoredGroup, check_action, distinct_orgs, encode_group, group_digest, has_action,
    parent_problem,
};
use neretva_store::notifications::{NotificationWrite, StoredMessage};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::codec::{Result, json_col, micros, time_col};
use crate::governance::get_strategy;
use crate::notifications::record_notifications;
use crate::ops::append_audit;

const COLUMNS: &str = "body, version, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredGroup> {
    Ok(StoredGroup {
        group: json_col(row, 0)?,
        version: row.get(1)?,
        created_at: time_col(row, 2)?,
        updated_at: time_col(row, 3)?,
    })
}

fn audit(conn: &Connection, at: Timestamp, actor: &str, action: &str, group: &WorkingGroup) -> Result<()> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: "group".to_owned(),
        object_id: group.id.to_string(),
        digest: group_digest(group),
    };
    append_audit(conn, at, event)?;
    Ok(())
}

fn has_subgroups(conn: &Connection, id: Uuid) -> Result<bool> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM working_groups WHERE parent_id = ?1 LIMIT 1")?
        .query_row([id.to_string()], |row| row.get(0))
        .optional()?;
    Ok(found.is_some())
}

/// Checks the code, the parent, the organisations and the strategy actions a group names.
fn check(conn: &Connection, group: &WorkingGroup) -> Result<()> {
    if let Some(other) = find_group(conn, &group.code)?
        && other.group.id != group.id
    {
        return Err(StoreError::conflict(
            "code",
            format!("a working group with code {:?} exists", group.code),
        )
        .into());
    }
    if let Some(parent) = group.parent {
        let state = match get_group(conn, parent)? {
            None => ParentState::Missing,
            Some(stored) if stored.group.parent.is_some() => ParentState::SubGroup,
            Some(_) => ParentState::MainGroup,
        };
        if let Some(problem) = parent_problem(parent, state) {
            return Err(problem.into());
        }
        if has_subgroups(conn, group.id)? {
            return Err(
                StoreError::conflict("parent", "a group with sub-groups cannot become a sub-group").into()
            );
        }
    }
    for (field, org) in distinct_orgs(group) {
        let found: Option<i64> = conn
            .prepare_cached("SELECT 1 FROM organisations WHERE id = ?1")?
            .query_row([org.to_string()], |row| row.get(0))
            .optional()?;
        if found.is_none() {
            return Err(StoreError::conflict(field, format!("no organisation {org}")).into());
        }
    }
    for (field, link) in strategy_references(group) {
        let Some(document) = get_strategy(conn, link.document)? else {
            return Err(
                StoreError::conflict(field, format!("no strategic document {}", link.document)).into()
            );
        };
        if !has_action(&document.document, link.action) {
            return Err(StoreError::conflict(
                field,
                format!("strategic document {:?} has no action {}", document.document.code, link.action),
            )
            .into());
        }
    }
    Ok(())
}

pub(crate) fn create_group(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    group: &WorkingGroup,
) -> Result<StoredGroup> {
    let body = encode_group(group)?;
    if get_group(conn, group.id)?.is_some() {
        return Err(StoreError::conflict("id", "a working group with this id already exists").into());
    }
    check(conn, group)?;
    conn.prepare_cached(
        "INSERT INTO working_groups (id, code, parent_id, convener_org, version, body, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?6)",
    )?
    .execute(params![
        group.id.to_string(),
        group.code,
        group.parent.map(|id| id.to_string()),
        group.convener_org.to_string(),
        body,
        micros(at)
    ])?;
    audit(conn, at, actor, "group.create", group)?;
    Ok(StoredGroup { group: group.clone(), version: 1, created_at: at, updated_at: at })
}

pub(crate) fn update_group(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    group: &WorkingGroup,
    expected_version: i64,
    action: &str,
) -> Result<StoredGroup> {
    check_action(action)?;
    let body = encode_group(group)?;
    let Some(old) = get_group(conn, group.id)? else {
        return Err(StoreError::not_found("working group", group.id).into());
    };
    if old.version != expected_version {
        return Err(StoreError::conflict(
            "version",
            format!(
                "the group changed (version {} now, {expected_version} read); read it again",
                old.version
            ),
        )
        .into());
    }
    check(conn, group)?;
    let version = old.version + 1;
    conn.prepare_cached(
        "UPDATE working_groups SET code = ?2, parent_id = ?3, convener_org = ?4, version = ?5, body = ?6,
             updated_at = ?7
         WHERE id = ?1",
    )?
    .execute(params![
        group.id.to_string(),
        group.code,
        group.parent.map(|id| id.to_string()),
        group.convener_org.to_string(),
        version,
        body,
        micros(at)
    ])?;
    audit(conn, at, actor, action, group)?;
    Ok(StoredGroup { group: group.clone(), version, created_at: old.created_at, updated_at: at })
}

pub(crate) fn announce_group(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    group: &WorkingGroup,
    expected_version: i64,
    writes: &[NotificationWrite],
) -> Result<(StoredGroup, Vec<StoredMessage>)> {
    let stored = update_group(conn, at, actor, group, expected_version, "group.announce")?;
    let mut messages = Vec::new();
    for write in writes {
        messages.extend(record_notifications(conn, at, actor, write)?);
    }
    Ok((stored, messages))
}

pub(crate) fn delete_group(conn: &Connection, at: Timestamp, actor: &str, id: Uuid) -> Result<()> {
    let Some(old) = get_group(conn, id)? else {
        return Err(StoreError::not_found("working group", id).into());
    };
    if has_subgroups(conn, id)? {
        return Err(StoreError::conflict("id", "the group has sub-groups; delete them first").into());
    }
    conn.prepare_cached("DELETE FROM working_groups WHERE id = ?1")?.execute([id.to_string()])?;
    audit(conn, at, actor, "group.delete", &old.group)
}

pub(crate) fn get_group(conn: &Connection, id: Uuid) -> Result<Option<StoredGroup>> {
    let sql = format!("SELECT {COLUMNS} FROM working_groups WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], from_row).optional()?)
}

pub(crate) fn find_group(conn: &Connection, code: &str) -> Result<Option<StoredGroup>> {
    let sql = format!("SELECT {COLUMNS} FROM working_groups WHERE code = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([code], from_row).optional()?)
}

pub(crate) fn list_groups(conn: &Connection) -> Result<Vec<StoredGroup>> {
    let sql = format!("SELECT {COLUMNS} FROM working_groups ORDER BY code");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
