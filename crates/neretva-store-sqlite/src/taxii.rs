//! TAXII 2.1 collections, objects and statuses on SQLite.
//!
//! Writes run in the caller's write transaction, which the single writer connection
//! serialises, so the collection's `last_added` read and moved inside it makes `date_added`
//! unique and increasing.

use neretva_model::Timestamp;
use neretva_model::taxii::Sharing;
use neretva_store::StoreError;
use neretva_store::taxii::{
    AddObjects, Collection, CollectionFields, ObjectQuery, Status, StatusDetail, StatusDetails, StoredObject,
    check_objects, collection_digest, format_micros, next_date_added, status_digest,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use uuid::Uuid;

use crate::codec::{Result, json_col, micros, opt_uuid_col, parse_col, time_col, uuid_col};
use crate::ops::audit_object as audit;

const COLLECTION_COLUMNS: &str = "id, title, description, alias, media_types, owner_org, sharing, sharing_orgs, \
     writers, default_tlp, created_at, updated_at";

fn collection_from_row(row: &Row<'_>) -> rusqlite::Result<Collection> {
    let kind: String = row.get(6)?;
    let orgs: Vec<Uuid> = json_col(row, 7)?;
    let sharing = Sharing::from_parts(&kind, orgs).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(error))
    })?;
    Ok(Collection {
        id: uuid_col(row, 0)?,
        fields: CollectionFields {
            title: row.get(1)?,
            description: row.get(2)?,
            alias: row.get(3)?,
            media_types: json_col(row, 4)?,
            owner_org: uuid_col(row, 5)?,
            sharing,
            writers: parse_col(row, 8)?,
            default_tlp: parse_col(row, 9)?,
        },
        created_at: time_col(row, 10)?,
        updated_at: time_col(row, 11)?,
    })
}

fn check_fields(fields: &CollectionFields) -> Result<()> {
    if let Err(problems) = fields.check() {
        let first = problems.into_iter().next().map(|p| (p.field, p.message)).unwrap_or_default();
        return Err(StoreError::conflict(first.0, first.1).into());
    }
    Ok(())
}

pub(crate) fn create_collection(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    fields: &CollectionFields,
) -> Result<Collection> {
    check_fields(fields)?;
    conn.prepare_cached(
        "INSERT INTO taxii_collections (id, title, description, alias, media_types, owner_org, sharing,
             sharing_orgs, writers, default_tlp, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
    )?
    .execute(params![
        id.to_string(),
        fields.title,
        fields.description,
        fields.alias,
        serde_json::to_string(&fields.media_types)?,
        fields.owner_org.to_string(),
        fields.sharing.kind(),
        serde_json::to_string(fields.sharing.orgs())?,
        fields.writers.as_str(),
        fields.default_tlp.slug(),
        micros(at),
    ])?;
    let collection = Collection { id, fields: fields.clone(), created_at: at, updated_at: at };
    audit(
        conn,
        at,
        actor,
        "taxii.collection.create",
        "taxii_collection",
        id.to_string(),
        collection_digest(&collection),
    )?;
    Ok(collection)
}

pub(crate) fn update_collection(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    fields: &CollectionFields,
) -> Result<Collection> {
    check_fields(fields)?;
    let Some(old) = get_collection(conn, id)? else {
        return Err(StoreError::not_found("collection", id).into());
    };
    conn.prepare_cached(
        "UPDATE taxii_collections SET title = ?2, description = ?3, alias = ?4, media_types = ?5, owner_org = ?6,
             sharing = ?7, sharing_orgs = ?8, writers = ?9, default_tlp = ?10, updated_at = ?11
         WHERE id = ?1",
    )?
    .execute(params![
        id.to_string(),
        fields.title,
        fields.description,
        fields.alias,
        serde_json::to_string(&fields.media_types)?,
        fields.owner_org.to_string(),
        fields.sharing.kind(),
        serde_json::to_string(fields.sharing.orgs())?,
        fields.writers.as_str(),
        fields.default_tlp.slug(),
        micros(at),
    ])?;
    let collection = Collection { id, fields: fields.clone(), created_at: old.created_at, updated_at: at };
    audit(
        conn,
        at,
        actor,
        "taxii.collection.update",
        "taxii_collection",
        id.to_string(),
        collection_digest(&collection),
    )?;
    Ok(collection)
}

pub(crate) fn delete_collection(conn: &Connection, at: Timestamp, actor: &str, id: Uuid) -> Result<()> {
    let Some(old) = get_collection(conn, id)? else {
        return Err(StoreError::not_found("collection", id).into());
    };
    conn.prepare_cached("DELETE FROM taxii_objects WHERE collection_id = ?1")?.execute([id.to_string()])?;
    conn.prepare_cached("DELETE FROM taxii_collections WHERE id = ?1")?.execute([id.to_string()])?;
    audit(
        conn,
        at,
        actor,
        "taxii.collection.delete",
        "taxii_collection",
        id.to_string(),
        collection_digest(&old),
    )?;
    Ok(())
}

pub(crate) fn get_collection(conn: &Connection, id: Uuid) -> Result<Option<Collection>> {
    let sql = format!("SELECT {COLLECTION_COLUMNS} FROM taxii_collections WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], collection_from_row).optional()?)
}

pub(crate) fn find_collection(conn: &Connection, alias: &str) -> Result<Option<Collection>> {
    let sql = format!("SELECT {COLLECTION_COLUMNS} FROM taxii_collections WHERE alias = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([alias], collection_from_row).optional()?)
}

pub(crate) fn list_collections(conn: &Connection) -> Result<Vec<Collection>> {
    let sql = format!("SELECT {COLLECTION_COLUMNS} FROM taxii_collections ORDER BY title, id");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([], collection_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn add_objects(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    request: &AddObjects,
) -> Result<Status> {
    check_objects(&request.objects)?;
    let collection = request.collection_id.to_string();
    let last_added: Option<i64> = conn
        .prepare_cached("SELECT last_added FROM taxii_collections WHERE id = ?1")?
        .query_row([&collection], |row| row.get(0))
        .optional()?;
    let Some(mut last_added) = last_added else {
        return Err(StoreError::not_found("collection", request.collection_id).into());
    };
    let now = micros(at);
    let mut successes = Vec::new();
    let mut failures = request.failures.clone();
    let org = request.org_id.to_string();
    let user = request.user_id.map(|user| user.to_string());
    for object in &request.objects {
        let date_added = next_date_added(last_added, now);
        let version = object.version.unwrap_or(date_added);
        let detail =
            StatusDetail { id: object.stix_id.clone(), version: Some(format_micros(version)), message: None };
        let bounds: (Option<i64>, Option<i64>, bool) = conn
            .prepare_cached(
                "SELECT min(version), max(version), coalesce(max(version = ?3), 0) FROM taxii_objects
                 WHERE collection_id = ?1 AND stix_id = ?2",
            )?
            .query_row(params![collection, object.stix_id, version], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get::<_, i64>(2)? != 0))
            })?;
        let (first, last, present) = bounds;
        if present {
            failures
                .push(StatusDetail { message: Some("already present in the collection".into()), ..detail });
            continue;
        }
        let is_first = first.is_none_or(|first| version < first);
        let is_last = last.is_none_or(|last| version > last);
        if is_first && first.is_some() {
            conn.prepare_cached(
                "UPDATE taxii_objects SET is_first = 0 WHERE collection_id = ?1 AND stix_id = ?2 AND is_first = 1",
            )?
            .execute(params![collection, object.stix_id])?;
        }
        if is_last && last.is_some() {
            conn.prepare_cached(
                "UPDATE taxii_objects SET is_last = 0 WHERE collection_id = ?1 AND stix_id = ?2 AND is_last = 1",
            )?
            .execute(params![collection, object.stix_id])?;
        }
        conn.prepare_cached(
            "INSERT INTO taxii_objects (collection_id, stix_id, object_type, version, date_added, spec_version, tlp,
                 org_id, user_id, is_first, is_last, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            collection,
            object.stix_id,
            object.object_type,
            version,
            date_added,
            object.spec_version,
            object.tlp.slug(),
            org,
            user,
            is_first,
            is_last,
            object.body,
        ])?;
        last_added = date_added;
        successes.push(detail);
    }
    conn.prepare_cached("UPDATE taxii_collections SET last_added = ?2 WHERE id = ?1")?
        .execute(params![collection, last_added])?;
    let status = Status {
        id: request.status_id,
        collection_id: request.collection_id,
        user_id: request.user_id,
        org_id: request.org_id,
        request_timestamp: at,
        successes,
        failures,
        pendings: Vec::new(),
    };
    let details = StatusDetails {
        successes: status.successes.clone(),
        failures: status.failures.clone(),
        pendings: Vec::new(),
    };
    conn.prepare_cached(
        "INSERT INTO taxii_status (id, collection_id, user_id, org_id, request_timestamp, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        status.id.to_string(),
        collection,
        user,
        org,
        micros(at),
        serde_json::to_string(&details)?
    ])?;
    audit(
        conn,
        at,
        actor,
        "taxii.objects.add",
        "taxii_status",
        status.id.to_string(),
        status_digest(&status),
    )?;
    Ok(status)
}

fn object_from_row(row: &Row<'_>) -> rusqlite::Result<StoredObject> {
    Ok(StoredObject {
        row: row.get(0)?,
        stix_id: row.get(1)?,
        object_type: row.get(2)?,
        version: row.get(3)?,
        date_added: row.get(4)?,
        spec_version: row.get(5)?,
        tlp: parse_col(row, 6)?,
        org_id: uuid_col(row, 7)?,
        user_id: opt_uuid_col(row, 8)?,
        body: row.get(9)?,
    })
}

/// `column IN (?, ?, …)` with the values appended to `args`.
fn in_list(sql: &mut String, args: &mut Vec<Value>, column: &str, values: impl IntoIterator<Item = Value>) {
    let marks: Vec<&str> = values
        .into_iter()
        .map(|value| {
            args.push(value);
            "?"
        })
        .collect();
    sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
}

pub(crate) fn query_objects(conn: &Connection, query: &ObjectQuery) -> Result<Vec<StoredObject>> {
    query.check()?;
    let body = if query.with_body { "body" } else { "''" };
    let mut sql = format!(
        "SELECT row, stix_id, object_type, version, date_added, spec_version, tlp, org_id, user_id, {body}
         FROM taxii_objects WHERE collection_id = ?"
    );
    let mut args: Vec<Value> = vec![Value::Text(query.collection_id.to_string())];
    // With `match[id]`, the (collection, id, version) index finds the few rows; the unary `+`
    // keeps SQLite (without statistics) from walking the whole collection in date_added order
    // instead.
    let by_id = !query.ids.is_empty();
    let (added, row, order) = if by_id {
        ("+date_added", "+row", "+date_added, +row")
    } else {
        ("date_added", "row", "date_added, row")
    };
    if let Some(cursor) = query.after {
        sql.push_str(&format!(" AND ({added}, {row}) > (?, ?)"));
        args.push(Value::Integer(cursor.date_added));
        args.push(Value::Integer(cursor.row));
    }
    if let Some(after) = query.added_after {
        sql.push_str(&format!(" AND {added} > ?"));
        args.push(Value::Integer(after));
    }
    if !query.ids.is_empty() {
        in_list(&mut sql, &mut args, "stix_id", query.ids.iter().map(|id| Value::Text(id.clone())));
    }
    if !query.types.is_empty() {
        in_list(&mut sql, &mut args, "object_type", query.types.iter().map(|t| Value::Text(t.clone())));
    }
    let versions = &query.versions;
    if !versions.all {
        let mut alternatives = Vec::new();
        if versions.first {
            alternatives.push("is_first = 1".to_owned());
        }
        if versions.last {
            alternatives.push("is_last = 1".to_owned());
        }
        if !versions.at.is_empty() {
            let marks: Vec<&str> = versions
                .at
                .iter()
                .map(|at| {
                    args.push(Value::Integer(*at));
                    "?"
                })
                .collect();
            alternatives.push(format!("version IN ({})", marks.join(", ")));
        }
        if alternatives.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    if !query.spec_versions.is_empty() {
        in_list(
            &mut sql,
            &mut args,
            "spec_version",
            query.spec_versions.iter().map(|v| Value::Text(v.clone())),
        );
    }
    if query.tlps.len() < neretva_model::tlp::Tlp::ALL.len() {
        if query.tlps.is_empty() {
            return Ok(Vec::new());
        }
        in_list(&mut sql, &mut args, "tlp", query.tlps.iter().map(|tlp| Value::Text(tlp.slug().to_owned())));
    }
    sql.push_str(&format!(" ORDER BY {order} LIMIT ?"));
    args.push(Value::Integer(i64::from(query.page_limit())));
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(args), object_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn delete_objects(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    collection_id: Uuid,
    stix_id: &str,
    rows: &[i64],
) -> Result<u64> {
    let collection = collection_id.to_string();
    let mut deleted = 0;
    for row in rows {
        deleted += conn
            .prepare_cached(
                "DELETE FROM taxii_objects WHERE row = ?1 AND collection_id = ?2 AND stix_id = ?3",
            )?
            .execute(params![row, collection, stix_id])? as u64;
    }
    conn.prepare_cached(
        "UPDATE taxii_objects SET
             is_first = (version = (SELECT min(version) FROM taxii_objects WHERE collection_id = ?1 AND stix_id = ?2)),
             is_last = (version = (SELECT max(version) FROM taxii_objects WHERE collection_id = ?1 AND stix_id = ?2))
         WHERE collection_id = ?1 AND stix_id = ?2",
    )?
    .execute(params![collection, stix_id])?;
    let digest = neretva_model::audit::digest_json(&(collection_id, stix_id, rows));
    audit(
        conn,
        at,
        actor,
        "taxii.objects.delete",
        "taxii_object",
        format!("{collection_id}/{stix_id}"),
        digest,
    )?;
    Ok(deleted)
}

pub(crate) fn get_status(conn: &Connection, id: Uuid) -> Result<Option<Status>> {
    let found = conn
        .prepare_cached(
            "SELECT id, collection_id, user_id, org_id, request_timestamp, details FROM taxii_status WHERE id = ?1",
        )?
        .query_row([id.to_string()], |row| {
            let details: StatusDetails = json_col(row, 5)?;
            Ok(Status {
                id: uuid_col(row, 0)?,
                collection_id: uuid_col(row, 1)?,
                user_id: opt_uuid_col(row, 2)?,
                org_id: uuid_col(row, 3)?,
                request_timestamp: time_col(row, 4)?,
                successes: details.successes,
                failures: details.failures,
                pendings: details.pendings,
            })
        })
        .optional()?;
    Ok(found)
}

pub(crate) fn paging_key(conn: &Connection) -> Result<Vec<u8>> {
    Ok(conn
        .prepare_cached("SELECT secret FROM taxii_keys WHERE name = 'paging'")?
        .query_row([], |row| row.get(0))?)
}
