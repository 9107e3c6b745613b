//! Working groups on PostgreSQL.
//!
//! Writes run in audited transactions, which lock the audit head first, so the version read and
//! the version written cannot interleave with another server's change.

use deadpool_postgres::GenericClient;
use neretva_governance::groups::{WorkingGroup, strategy_references};
use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::groups::{
    ParentState, StoredGroup, check_action, distinct_orgs, encode_group, group_digest, has_action,
    parent_problem,
};
use neretva_store::notifications::{NotificationWrite, StoredMessage};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::codec::{Error, Result};
use crate::governance::get_strategy;
use crate::notifications::record_notifications;
use crate::ops::append_audit;

const COLUMNS: &str = "body, version, created_at, updated_at";

fn from_row(row: &Row) -> Result<StoredGroup> {
    let body: String = row.try_get(0)?;
    let group = serde_json::from_str(&body)
        .map_err(|error| Error(StoreError::Backend(format!("working group: {error}"))))?;
    Ok(StoredGroup {
        group,
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
    group: &WorkingGroup,
) -> Result<()> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: "group".to_owned(),
        object_id: group.id.to_string(),
        digest: group_digest(group),
    };
    append_audit(client, at, event).await?;
    Ok(())
}

async fn has_subgroups<C: GenericClient>(client: &C, id: Uuid) -> Result<bool> {
    let statement =
        client.prepare_cached("SELECT 1 FROM working_groups WHERE parent_id = $1 LIMIT 1").await?;
    Ok(client.query_opt(&statement, &[&id]).await?.is_some())
}

/// Checks the code, the parent, the organisations and the strategy actions a group names.
async fn check<C: GenericClient>(client: &C, group: &WorkingGroup) -> Result<()> {
    if let Some(other) = find_group(client, &group.code).await?
        && other.group.id != group.id
    {
        return Err(StoreError::conflict(
            "code",
            format!("a working group with code {:?} exists", group.code),
        )
        .into());
    }
    if let Some(parent) = group.parent {
        let state = match get_group(client, parent).await? {
            None => ParentState::Missing,
            Some(stored) if stored.group.parent.is_some() => ParentState::SubGroup,
            Some(_) => ParentState::MainGroup,
        };
        if let Some(problem) = parent_problem(parent, state) {
            return Err(problem.into());
        }
        if has_subgroups(client, group.id).await? {
            return Err(
                StoreError::conflict("parent", "a group with sub-groups cannot become a sub-group").into()
            );
        }
    }
    let statement = client.prepare_cached("SELECT 1 FROM organisations WHERE id = $1").await?;
    for (field, org) in distinct_orgs(group) {
        if client.query_opt(&statement, &[&org]).await?.is_none() {
            return Err(StoreError::conflict(field, format!("no organisation {org}")).into());
        }
    }
    for (field, link) in strategy_references(group) {
        let Some(document) = get_strategy(client, link.document).await? else {
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

pub(crate) async fn create_group<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    group: &WorkingGroup,
) -> Result<StoredGroup> {
    let body = encode_group(group)?;
    if get_group(client, group.id).await?.is_some() {
        return Err(StoreError::conflict("id", "a working group with this id already exists").into());
    }
    check(client, group).await?;
    let statement = client
        .prepare_cached(
            "INSERT INTO working_groups (id, code, parent_id, convener_org, version, body, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 1, $5, $6, $6)",
        )
        .await?;
    client
        .execute(&statement, &[&group.id, &group.code, &group.parent, &group.convener_org, &body, &at])
        .await?;
    audit(client, at, actor, "group.create", group).await?;
    Ok(StoredGroup { group: group.clone(), version: 1, created_at: at, updated_at: at })
}

pub(crate) async fn update_group<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    group: &WorkingGroup,
    expected_version: i64,
    action: &str,
) -> Result<StoredGroup> {
    check_action(action)?;
    let body = encode_group(group)?;
    let Some(old) = get_group(client, group.id).await? else {
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
    check(client, group).await?;
    let version = old.version + 1;
    let statement = client
        .prepare_cached(
            "UPDATE working_groups SET code = $2, parent_id = $3, convener_org = $4, version = $5, body = $6,
                 updated_at = $7
             WHERE id = $1",
        )
        .await?;
    client
        .execute(
            &statement,
            &[&group.id, &group.code, &group.parent, &group.convener_org, &version, &body, &at],
        )
        .await?;
    audit(client, at, actor, action, group).await?;
    Ok(StoredGroup { group: group.clone(), version, created_at: old.created_at, updated_at: at })
}

pub(crate) async fn announce_group<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    group: &WorkingGroup,
    expected_version: i64,
    writes: &[NotificationWrite],
) -> Result<(StoredGroup, Vec<StoredMessage>)> {
    let stored = update_group(client, at, actor, group, expected_version, "group.announce").await?;
    let mut messages = Vec::new();
    for write in writes {
        messages.extend(record_notifications(client, at, actor, write).await?);
    }
    Ok((stored, messages))
}

pub(crate) async fn delete_group<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
) -> Result<()> {
    let Some(old) = get_group(client, id).await? else {
        return Err(StoreError::not_found("working group", id).into());
    };
    if has_subgroups(client, id).await? {
        return Err(StoreError::conflict("id", "the group has sub-groups; delete them first").into());
    }
    let statement = client.prepare_cached("DELETE FROM working_groups WHERE id = $1").await?;
    client.execute(&statement, &[&id]).await?;
    audit(client, at, actor, "group.delete", &old.group).await
}

pub(crate) async fn get_group<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredGroup>> {
    let sql = format!("SELECT {COLUMNS} FROM working_groups WHERE id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(from_row).transpose()
}

pub(crate) async fn find_group<C: GenericClient>(client: &C, code: &str) -> Result<Option<StoredGroup>> {
    let sql = format!("SELECT {COLUMNS} FROM working_groups WHERE code = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&code]).await?.as_ref().map(from_row).transpose()
}

pub(crate) async fn list_groups<C: GenericClient>(client: &C) -> Result<Vec<StoredGroup>> {
    let sql = format!("SELECT {COLUMNS} FROM working_groups ORDER BY code");
    let statement = client.prepare_cached(&sql).await?;
    client.query(&statement, &[]).await?.iter().map(from_row).collect()
}
