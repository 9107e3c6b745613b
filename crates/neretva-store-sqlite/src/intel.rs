//! Intel events, sightings, sharing groups and correlations on SQLite.
//!
//! Writes run in the caller's write transaction: storing an event, its attribute rows, its
//! correlation links and its audit entry commit together or not at all.

use neretva_incident::observable::ObservableKind;
use neretva_intel::access::SharingGroup;
use neretva_intel::model::{IntelEvent, Sighting};
use neretva_intel::warninglist::WarningLists;
use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::intel::{
    AttributeQuery, CORRELATION_LIMIT, Candidate, ExternalCorrelation, ExternalCorrelations,
    ExternalOverCorrelating, IntelCorrelation, IntelEventHead, IntelEventQuery, MAX_PROBE_HITS, MAX_PROBES,
    ObservableHit, ObservableProbe, OverCorrelatingValue, StoredAttribute, StoredIntelEvent, add_sighting,
    check_event, correlate_event, decode_event, encode_event, event_digest, event_lookup_keys, event_tlp,
    group_in_use, stored_keys,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use uuid::Uuid;

use crate::codec::{Result, micros, opt_micros, opt_uuid_col, parse_col, time_col, uuid_col};
use crate::ops::append_audit;

fn audit(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    action: &str,
    kind: &str,
    id: Uuid,
    digest: String,
) -> Result<()> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: kind.to_owned(),
        object_id: id.to_string(),
        digest,
    };
    append_audit(conn, at, event)?;
    Ok(())
}

/// The conflict of a write under a version that is no longer the stored one.
const UPDATED_SINCE: &str = "the event was changed since it was read; read it again";

const EVENT_COLUMNS: &str = "seq, owner_org, created_at, updated_at, body";

struct EventRow {
    seq: i64,
    owner_org: Uuid,
    created_at: Timestamp,
    updated_at: Timestamp,
    body: String,
}

fn event_row(row: &Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        seq: row.get(0)?,
        owner_org: uuid_col(row, 1)?,
        created_at: time_col(row, 2)?,
        updated_at: time_col(row, 3)?,
        body: row.get(4)?,
    })
}

fn load(conn: &Connection, row: EventRow) -> Result<StoredIntelEvent> {
    let event = decode_event(&row.body)?;
    let uuid = event.uuid.to_string();
    let mut statement = conn.prepare_cached(
        "SELECT attribute_uuid, other_event, other_attribute, relation FROM intel_correlations
         WHERE event_uuid = ?1 ORDER BY attribute_uuid, other_event, other_attribute",
    )?;
    let correlations = statement
        .query_map([&uuid], |row| {
            Ok(IntelCorrelation {
                attribute: uuid_col(row, 0)?,
                other_event: uuid_col(row, 1)?,
                other_attribute: uuid_col(row, 2)?,
                relation: row.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut statement = conn.prepare_cached(
        "SELECT attribute_uuid, key, count FROM intel_over_correlating WHERE event_uuid = ?1
         ORDER BY attribute_uuid, key",
    )?;
    let over_correlating = statement
        .query_map([&uuid], |row| {
            Ok(OverCorrelatingValue {
                attribute: uuid_col(row, 0)?,
                key: row.get(1)?,
                count: u32::try_from(row.get::<_, i64>(2)?).unwrap_or(u32::MAX),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut statement = conn.prepare_cached(
        "SELECT i.uuid, i.id FROM intel_numeric_ids i JOIN intel_attributes a ON a.uuid = i.uuid
         WHERE a.event_uuid = ?1 ORDER BY i.id",
    )?;
    let attribute_ids = statement
        .query_map([&uuid], |row| Ok((uuid_col(row, 0)?, row.get::<_, i64>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(StoredIntelEvent {
        seq: row.seq,
        event,
        owner_org: row.owner_org,
        created_at: row.created_at,
        updated_at: row.updated_at,
        correlations,
        over_correlating,
        attribute_ids,
    })
}

pub(crate) fn get_event(conn: &Connection, uuid: Uuid) -> Result<Option<StoredIntelEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM intel_events WHERE uuid = ?1");
    let found = conn.prepare_cached(&sql)?.query_row([uuid.to_string()], event_row).optional()?;
    found.map(|row| load(conn, row)).transpose()
}

pub(crate) fn event_heads(conn: &Connection, uuids: &[Uuid]) -> Result<Vec<IntelEventHead>> {
    let uuids: Vec<String> = uuids.iter().map(Uuid::to_string).collect();
    let mut statement = conn.prepare_cached(
        "SELECT uuid, info, owner_org, distribution, sharing_group, tlp FROM intel_events
         WHERE uuid IN (SELECT value FROM json_each(?1))",
    )?;
    let rows = statement.query_map([serde_json::to_string(&uuids)?], |row| {
        Ok(IntelEventHead {
            uuid: uuid_col(row, 0)?,
            info: row.get(1)?,
            owner_org: uuid_col(row, 2)?,
            distribution: row.get(3)?,
            sharing_group: opt_uuid_col(row, 4)?,
            tlp: parse_col(row, 5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn get_event_by_seq(conn: &Connection, seq: i64) -> Result<Option<StoredIntelEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM intel_events WHERE seq = ?1");
    let found = conn.prepare_cached(&sql)?.query_row([seq], event_row).optional()?;
    found.map(|row| load(conn, row)).transpose()
}

pub(crate) fn attribute_event(conn: &Connection, attribute: Uuid) -> Result<Option<Uuid>> {
    Ok(conn
        .prepare_cached("SELECT event_uuid FROM intel_attributes WHERE uuid = ?1")?
        .query_row([attribute.to_string()], |row| uuid_col(row, 0))
        .optional()?)
}

pub(crate) fn find_attribute(conn: &Connection, id: i64) -> Result<Option<(Uuid, Uuid)>> {
    Ok(conn
        .prepare_cached(
            "SELECT a.event_uuid, a.uuid FROM intel_numeric_ids i JOIN intel_attributes a ON a.uuid = i.uuid
             WHERE i.id = ?1",
        )?
        .query_row([id], |row| Ok((uuid_col(row, 0)?, uuid_col(row, 1)?)))
        .optional()?)
}

/// Removes an event's attribute rows, tags, sightings and links (both directions).
fn clear_rows(conn: &Connection, uuid: &str) -> Result<()> {
    for sql in [
        "DELETE FROM intel_attribute_keys WHERE attribute_uuid IN (SELECT uuid FROM intel_attributes WHERE event_uuid = ?1)",
        "DELETE FROM intel_attributes WHERE event_uuid = ?1",
        "DELETE FROM intel_event_tags WHERE event_uuid = ?1",
        "DELETE FROM intel_sightings WHERE event_uuid = ?1",
        "DELETE FROM intel_correlations WHERE event_uuid = ?1 OR other_event = ?1",
        "DELETE FROM intel_over_correlating WHERE event_uuid = ?1",
        "DELETE FROM intel_external_links WHERE event_uuid = ?1",
        "DELETE FROM intel_external_over WHERE event_uuid = ?1",
    ] {
        conn.prepare_cached(sql)?.execute([uuid])?;
    }
    Ok(())
}

/// Writes an event's attribute rows, tags and sightings, then correlates it and stores links.
fn write_rows(conn: &Connection, event: &IntelEvent) -> Result<()> {
    let uuid = event.uuid.to_string();
    for (object, attribute) in event.all_attributes() {
        let taken: Option<String> = conn
            .prepare_cached("SELECT event_uuid FROM intel_attributes WHERE uuid = ?1")?
            .query_row([attribute.uuid.to_string()], |row| row.get(0))
            .optional()?;
        if taken.is_some() {
            return Err(StoreError::conflict(
                "Attribute.uuid",
                format!("attribute {} belongs to another event", attribute.uuid),
            )
            .into());
        }
        conn.prepare_cached(
            "INSERT INTO intel_attributes (uuid, event_uuid, object_uuid, type, category, value, to_ids, deleted,
                 distribution, sharing_group)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            attribute.uuid.to_string(),
            uuid,
            object.map(|object| object.uuid.to_string()),
            attribute.attr_type,
            attribute.category,
            attribute.value,
            attribute.to_ids,
            attribute.deleted,
            attribute.distribution.number(),
            attribute.sharing_group.map(|group| group.to_string()),
        ])?;
        conn.prepare_cached("INSERT OR IGNORE INTO intel_numeric_ids (uuid) VALUES (?1)")?
            .execute([attribute.uuid.to_string()])?;
        if !attribute.deleted {
            for key in stored_keys(&attribute.attr_type, &attribute.value) {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO intel_attribute_keys (attribute_uuid, key) VALUES (?1, ?2)",
                )?
                .execute(params![attribute.uuid.to_string(), key])?;
            }
        }
        for sighting in &attribute.sightings {
            insert_sighting(conn, event.uuid, attribute.uuid, sighting)?;
        }
    }
    for tag in &event.tags {
        conn.prepare_cached("INSERT OR IGNORE INTO intel_event_tags (event_uuid, name) VALUES (?1, ?2)")?
            .execute(params![uuid, tag.name])?;
    }
    correlate(conn, event)
}

fn insert_sighting(conn: &Connection, event: Uuid, attribute: Uuid, sighting: &Sighting) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO intel_sightings (uuid, event_uuid, attribute_uuid, kind, source, time, org)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        sighting.uuid.to_string(),
        event.to_string(),
        attribute.to_string(),
        sighting.kind.as_str(),
        sighting.source,
        micros(sighting.time),
        sighting.org.as_ref().map(|org| org.uuid.to_string()),
    ])?;
    Ok(())
}

fn correlate(conn: &Connection, event: &IntelEvent) -> Result<()> {
    let uuid = event.uuid.to_string();
    let mut candidates = Vec::new();
    let mut statement = conn.prepare_cached(
        "SELECT a.event_uuid, a.uuid, a.type, a.value FROM intel_attribute_keys k
         JOIN intel_attributes a ON a.uuid = k.attribute_uuid
         WHERE k.key = ?1 AND a.event_uuid <> ?2 AND a.deleted = 0
         LIMIT ?3",
    )?;
    let per_key = i64::try_from(CORRELATION_LIMIT + 1).unwrap_or(i64::MAX);
    for key in event_lookup_keys(event) {
        let rows = statement.query_map(params![key, uuid, per_key], |row| {
            Ok(Candidate {
                event: uuid_col(row, 0)?,
                attribute: uuid_col(row, 1)?,
                attr_type: row.get(2)?,
                value: row.get(3)?,
            })
        })?;
        for row in rows {
            candidates.push(row?);
        }
    }
    let correlation = correlate_event(event, &candidates, &WarningLists::default());
    for link in &correlation.links {
        let mut insert = conn.prepare_cached(
            "INSERT OR IGNORE INTO intel_correlations (event_uuid, attribute_uuid, other_event, other_attribute, relation)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        insert.execute(params![
            uuid,
            link.attribute.to_string(),
            link.other_event.to_string(),
            link.other_attribute.to_string(),
            link.relation
        ])?;
        insert.execute(params![
            link.other_event.to_string(),
            link.other_attribute.to_string(),
            uuid,
            link.attribute.to_string(),
            link.relation
        ])?;
    }
    for over in &correlation.over_correlating {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO intel_over_correlating (event_uuid, attribute_uuid, key, count)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![uuid, over.attribute.to_string(), over.key, over.count])?;
    }
    Ok(())
}

fn event_values(event: &IntelEvent) -> Vec<Value> {
    vec![
        Value::Text(event.orgc.uuid.to_string()),
        Value::Text(event.info.clone()),
        Value::Text(event.info.to_lowercase()),
        Value::Text(neretva_intel::misp::format_date(event.date)),
        Value::Integer(i64::from(event.published)),
        Value::Integer(i64::from(event.distribution.number())),
        event.sharing_group.map_or(Value::Null, |group| Value::Text(group.to_string())),
        Value::Text(event_tlp(event).slug().to_owned()),
        Value::Integer(micros(event.timestamp)),
        opt_micros(event.publish_timestamp).map_or(Value::Null, Value::Integer),
    ]
}

pub(crate) fn create_event(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    owner_org: Uuid,
    event: &IntelEvent,
) -> Result<StoredIntelEvent> {
    check_event(event)?;
    let uuid = event.uuid.to_string();
    let exists: Option<i64> = conn
        .prepare_cached("SELECT seq FROM intel_events WHERE uuid = ?1")?
        .query_row([&uuid], |row| row.get(0))
        .optional()?;
    if exists.is_some() {
        return Err(StoreError::conflict("uuid", "an intel event with this uuid already exists").into());
    }
    let body = encode_event(event);
    let mut args = vec![Value::Text(uuid.clone()), Value::Text(owner_org.to_string())];
    args.extend(event_values(event));
    args.push(Value::Integer(micros(at)));
    args.push(Value::Text(body.clone()));
    conn.prepare_cached(
        "INSERT INTO intel_events (uuid, owner_org, creator_org, info, info_lower, date, published, distribution,
             sharing_group, tlp, timestamp, publish_timestamp, created_at, updated_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14)",
    )?
    .execute(params_from_iter(args))?;
    write_rows(conn, event)?;
    audit(conn, at, actor, "intel.event.create", "intel_event", event.uuid, event_digest(&body))?;
    get_event(conn, event.uuid)?.ok_or_else(|| StoreError::not_found("intel event", event.uuid).into())
}

pub(crate) fn update_event(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    event: &IntelEvent,
    expected: Option<Timestamp>,
) -> Result<StoredIntelEvent> {
    check_event(event)?;
    let uuid = event.uuid.to_string();
    let updated_at: Option<i64> = conn
        .prepare_cached("SELECT updated_at FROM intel_events WHERE uuid = ?1")?
        .query_row([&uuid], |row| row.get(0))
        .optional()?;
    let Some(updated_at) = updated_at else {
        return Err(StoreError::not_found("intel event", event.uuid).into());
    };
    if expected.is_some_and(|expected| micros(expected) != updated_at) {
        return Err(StoreError::conflict("updated_at", UPDATED_SINCE).into());
    }
    clear_rows(conn, &uuid)?;
    let body = encode_event(event);
    let mut args = vec![Value::Text(uuid)];
    args.extend(event_values(event));
    args.push(Value::Integer(micros(at)));
    args.push(Value::Text(body.clone()));
    conn.prepare_cached(
        "UPDATE intel_events SET creator_org = ?2, info = ?3, info_lower = ?4, date = ?5, published = ?6,
             distribution = ?7, sharing_group = ?8, tlp = ?9, timestamp = ?10, publish_timestamp = ?11,
             updated_at = ?12, body = ?13
         WHERE uuid = ?1",
    )?
    .execute(params_from_iter(args))?;
    write_rows(conn, event)?;
    audit(conn, at, actor, "intel.event.update", "intel_event", event.uuid, event_digest(&body))?;
    get_event(conn, event.uuid)?.ok_or_else(|| StoreError::not_found("intel event", event.uuid).into())
}

pub(crate) fn delete_event(conn: &Connection, at: Timestamp, actor: &str, uuid: Uuid) -> Result<()> {
    let text = uuid.to_string();
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM intel_events WHERE uuid = ?1")?
        .query_row([&text], |row| row.get(0))
        .optional()?;
    let Some(body) = body else {
        return Err(StoreError::not_found("intel event", uuid).into());
    };
    clear_rows(conn, &text)?;
    conn.prepare_cached("DELETE FROM intel_events WHERE uuid = ?1")?.execute([&text])?;
    audit(conn, at, actor, "intel.event.delete", "intel_event", uuid, event_digest(&body))?;
    Ok(())
}

pub(crate) fn add_event_sighting(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    event_uuid: Uuid,
    attribute: Uuid,
    sighting: &Sighting,
) -> Result<StoredIntelEvent> {
    let Some(stored) = get_event(conn, event_uuid)? else {
        return Err(StoreError::not_found("intel event", event_uuid).into());
    };
    let mut event = stored.event;
    add_sighting(&mut event, attribute, sighting)?;
    let body = encode_event(&event);
    conn.prepare_cached("UPDATE intel_events SET body = ?2, updated_at = ?3 WHERE uuid = ?1")?
        .execute(params![event_uuid.to_string(), body, micros(at)])?;
    insert_sighting(conn, event_uuid, attribute, sighting)?;
    let digest =
        neretva_model::audit::digest_json(&(event_uuid, attribute, sighting.uuid, sighting.kind.as_str()));
    audit(conn, at, actor, "intel.sighting.add", "intel_sighting", sighting.uuid, digest)?;
    get_event(conn, event_uuid)?.ok_or_else(|| StoreError::not_found("intel event", event_uuid).into())
}

pub(crate) fn list_events(conn: &Connection, query: &IntelEventQuery) -> Result<Vec<StoredIntelEvent>> {
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM intel_events e WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(pattern) = query.like_pattern() {
        sql.push_str(" AND info_lower LIKE ? ESCAPE '\\'");
        args.push(Value::Text(pattern));
    }
    if let Some(tag) = &query.tag {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM intel_event_tags t WHERE t.event_uuid = e.uuid AND t.name = ?)",
        );
        args.push(Value::Text(tag.clone()));
    }
    if let Some(published) = query.published {
        sql.push_str(" AND published = ?");
        args.push(Value::Integer(i64::from(published)));
    }
    if let Some(org) = query.org {
        sql.push_str(" AND (owner_org = ? OR creator_org = ?)");
        args.push(Value::Text(org.to_string()));
        args.push(Value::Text(org.to_string()));
    }
    if let Some(since) = query.since {
        sql.push_str(" AND timestamp >= ?");
        args.push(Value::Integer(micros(since)));
    }
    if let Some(until) = query.until {
        sql.push_str(" AND timestamp < ?");
        args.push(Value::Integer(micros(until)));
    }
    if let Some(before) = query.before {
        sql.push_str(" AND seq < ?");
        args.push(Value::Integer(before));
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    args.push(Value::Integer(i64::from(query.page_limit())));
    let rows: Vec<EventRow> = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args), event_row)?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter().map(|row| load(conn, row)).collect()
}

pub(crate) fn search_attributes(conn: &Connection, query: &AttributeQuery) -> Result<Vec<StoredAttribute>> {
    // A value is found through its index and the few rows sorted. Without one, the events are
    // read newest first (`CROSS JOIN` keeps them the outer loop) and each one's attributes
    // through their index, so a page stops at its limit instead of sorting every attribute.
    let join = if query.value.is_some() {
        "intel_attributes a JOIN intel_events e ON e.uuid = a.event_uuid"
    } else {
        "intel_events e CROSS JOIN intel_attributes a ON a.event_uuid = e.uuid"
    };
    let mut sql = format!(
        "SELECT a.event_uuid, a.uuid, a.type, a.category, a.value, a.to_ids, a.deleted, a.distribution,
             a.sharing_group, e.info, e.distribution, e.sharing_group, e.tlp, e.owner_org, e.creator_org
         FROM {join} WHERE 1 = 1",
    );
    let mut args: Vec<Value> = Vec::new();
    for (column, value) in
        [("a.value", &query.value), ("a.type", &query.attr_type), ("a.category", &query.category)]
    {
        if let Some(value) = value {
            sql.push_str(&format!(" AND {column} = ?"));
            args.push(Value::Text(value.clone()));
        }
    }
    if let Some(to_ids) = query.to_ids {
        sql.push_str(" AND a.to_ids = ?");
        args.push(Value::Integer(i64::from(to_ids)));
    }
    if !query.include_deleted {
        sql.push_str(" AND a.deleted = 0");
    }
    sql.push_str(" ORDER BY e.seq DESC, a.uuid LIMIT ?");
    args.push(Value::Integer(i64::from(query.page_limit())));
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(args), |row| {
        Ok(StoredAttribute {
            event: uuid_col(row, 0)?,
            uuid: uuid_col(row, 1)?,
            attr_type: row.get(2)?,
            category: row.get(3)?,
            value: row.get(4)?,
            to_ids: row.get(5)?,
            deleted: row.get(6)?,
            distribution: row.get(7)?,
            sharing_group: opt_uuid_col(row, 8)?,
            event_info: row.get(9)?,
            event_distribution: row.get(10)?,
            event_sharing_group: opt_uuid_col(row, 11)?,
            event_tlp: parse_col(row, 12)?,
            owner_org: uuid_col(row, 13)?,
            creator_org: uuid_col(row, 14)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn check_group(group: &SharingGroup) -> Result<()> {
    if group.name.trim().is_empty() || group.name.len() > 255 {
        return Err(StoreError::conflict("name", "1 to 255 bytes of text").into());
    }
    if group.description.len() > 65_535 {
        return Err(StoreError::conflict("description", "at most 65535 bytes").into());
    }
    Ok(())
}

pub(crate) fn put_group(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    group: &SharingGroup,
) -> Result<SharingGroup> {
    check_group(group)?;
    let uuid = group.uuid.to_string();
    conn.prepare_cached(
        "INSERT INTO intel_sharing_groups (uuid, name, description, owner_org, confidential, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (uuid) DO UPDATE SET name = excluded.name, description = excluded.description,
             owner_org = excluded.owner_org, confidential = excluded.confidential, updated_at = excluded.updated_at",
    )?
    .execute(params![uuid, group.name, group.description, group.owner_org.to_string(), group.confidential, micros(at)])?;
    conn.prepare_cached("INSERT OR IGNORE INTO intel_numeric_ids (uuid) VALUES (?1)")?.execute([&uuid])?;
    conn.prepare_cached("DELETE FROM intel_sharing_group_members WHERE group_uuid = ?1")?.execute([&uuid])?;
    let members = group.all_members();
    for (position, member) in members.iter().enumerate() {
        conn.prepare_cached(
            "INSERT INTO intel_sharing_group_members (group_uuid, org, position) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![uuid, member.to_string(), i64::try_from(position).unwrap_or(i64::MAX)])?;
    }
    let stored = SharingGroup {
        members: members.into_iter().filter(|m| *m != group.owner_org).collect(),
        ..group.clone()
    };
    let digest = neretva_model::audit::digest_json(&(
        &stored.name,
        &stored.description,
        stored.owner_org,
        &stored.members,
        stored.confidential,
    ));
    audit(conn, at, actor, "intel.sharing_group.put", "intel_sharing_group", group.uuid, digest)?;
    Ok(stored)
}

pub(crate) fn get_group(conn: &Connection, uuid: Uuid) -> Result<Option<SharingGroup>> {
    let found = conn
        .prepare_cached(
            "SELECT uuid, name, description, owner_org, confidential FROM intel_sharing_groups WHERE uuid = ?1",
        )?
        .query_row([uuid.to_string()], group_row)
        .optional()?;
    found.map(|group| with_members(conn, group)).transpose()
}

fn group_row(row: &Row<'_>) -> rusqlite::Result<SharingGroup> {
    Ok(SharingGroup {
        uuid: uuid_col(row, 0)?,
        name: row.get(1)?,
        description: row.get(2)?,
        owner_org: uuid_col(row, 3)?,
        members: Vec::new(),
        confidential: row.get(4)?,
    })
}

fn with_members(conn: &Connection, mut group: SharingGroup) -> Result<SharingGroup> {
    let mut statement = conn.prepare_cached(
        "SELECT org FROM intel_sharing_group_members WHERE group_uuid = ?1 ORDER BY position",
    )?;
    let members = statement
        .query_map([group.uuid.to_string()], |row| uuid_col(row, 0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    group.members = members.into_iter().filter(|member| *member != group.owner_org).collect();
    Ok(group)
}

pub(crate) fn sharing_group_ids(conn: &Connection) -> Result<Vec<(Uuid, i64)>> {
    let mut statement = conn.prepare_cached(
        "SELECT i.uuid, i.id FROM intel_numeric_ids i JOIN intel_sharing_groups g ON g.uuid = i.uuid ORDER BY i.id",
    )?;
    Ok(statement
        .query_map([], |row| Ok((uuid_col(row, 0)?, row.get::<_, i64>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn list_groups(conn: &Connection) -> Result<Vec<SharingGroup>> {
    let groups: Vec<SharingGroup> = conn
        .prepare_cached(
            "SELECT uuid, name, description, owner_org, confidential FROM intel_sharing_groups ORDER BY name, uuid",
        )?
        .query_map([], group_row)?
        .collect::<rusqlite::Result<_>>()?;
    groups.into_iter().map(|group| with_members(conn, group)).collect()
}

pub(crate) fn delete_group(conn: &Connection, at: Timestamp, actor: &str, uuid: Uuid) -> Result<()> {
    let text = uuid.to_string();
    if get_group(conn, uuid)?.is_none() {
        return Err(StoreError::not_found("sharing group", uuid).into());
    }
    let used: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM intel_events WHERE sharing_group = ?1
                 OR uuid IN (SELECT event_uuid FROM intel_attributes WHERE sharing_group = ?1)",
        )?
        .query_row([&text], |row| row.get(0))?;
    if used > 0 {
        return Err(
            StoreError::conflict("sharing_group", group_in_use(u64::try_from(used).unwrap_or(0))).into()
        );
    }
    conn.prepare_cached("DELETE FROM intel_sharing_group_members WHERE group_uuid = ?1")?.execute([&text])?;
    conn.prepare_cached("DELETE FROM intel_sharing_groups WHERE uuid = ?1")?.execute([&text])?;
    audit(
        conn,
        at,
        actor,
        "intel.sharing_group.delete",
        "intel_sharing_group",
        uuid,
        neretva_model::audit::digest_json(&text),
    )?;
    Ok(())
}

pub(crate) fn find_observables(
    conn: &Connection,
    probes: &[ObservableProbe],
    per_probe: u32,
) -> Result<Vec<ObservableHit>> {
    let limit = i64::from(per_probe.min(MAX_PROBE_HITS));
    let mut out = Vec::new();
    for probe in probes.iter().take(MAX_PROBES) {
        let comparison = if probe.value.like_pattern().is_some() { "LIKE ?2 ESCAPE '\\'" } else { "= ?2" };
        let sql = format!(
            "SELECT incident_id, kind, value FROM incident_observables
             WHERE (?1 IS NULL OR kind = ?1) AND value {comparison} ORDER BY seq LIMIT ?3"
        );
        let mut statement = conn.prepare_cached(&sql)?;
        let rows = statement.query_map(
            params![probe.kind.map(ObservableKind::as_str), probe.value.sql_value(), limit],
            |row| Ok((uuid_col(row, 0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?)),
        )?;
        for row in rows {
            let (incident_id, kind, value) = row?;
            if let Some(kind) = ObservableKind::ALL.into_iter().find(|known| known.as_str() == kind) {
                out.push(ObservableHit { incident_id, kind, value });
            }
        }
    }
    Ok(out)
}

pub(crate) fn put_external(
    conn: &Connection,
    event: Uuid,
    correlations: &ExternalCorrelations,
) -> Result<()> {
    let uuid = event.to_string();
    let exists: Option<i64> = conn
        .prepare_cached("SELECT seq FROM intel_events WHERE uuid = ?1")?
        .query_row([&uuid], |row| row.get(0))
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::not_found("intel event", event).into());
    }
    for sql in [
        "DELETE FROM intel_external_links WHERE event_uuid = ?1",
        "DELETE FROM intel_external_over WHERE event_uuid = ?1",
    ] {
        conn.prepare_cached(sql)?.execute([&uuid])?;
    }
    for link in &correlations.links {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO intel_external_links (event_uuid, attribute_uuid, kind, target, detail, relation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![uuid, link.attribute.to_string(), link.kind, link.target.to_string(), link.detail, link.relation])?;
    }
    for over in &correlations.over_correlating {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO intel_external_over (event_uuid, attribute_uuid, kind, key, count)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![uuid, over.attribute.to_string(), over.kind, over.key, over.count])?;
    }
    Ok(())
}

pub(crate) fn get_external(conn: &Connection, event: Uuid) -> Result<ExternalCorrelations> {
    let uuid = event.to_string();
    let links = conn
        .prepare_cached(
            "SELECT attribute_uuid, kind, target, detail, relation FROM intel_external_links WHERE event_uuid = ?1
             ORDER BY kind, attribute_uuid, target, detail",
        )?
        .query_map([&uuid], |row| {
            Ok(ExternalCorrelation {
                attribute: uuid_col(row, 0)?,
                kind: row.get(1)?,
                target: uuid_col(row, 2)?,
                detail: row.get(3)?,
                relation: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let over_correlating = conn
        .prepare_cached(
            "SELECT attribute_uuid, kind, key, count FROM intel_external_over WHERE event_uuid = ?1
             ORDER BY kind, attribute_uuid, key",
        )?
        .query_map([&uuid], |row| {
            Ok(ExternalOverCorrelating {
                attribute: uuid_col(row, 0)?,
                kind: row.get(1)?,
                key: row.get(2)?,
                count: u32::try_from(row.get::<_, i64>(3)?).unwrap_or(u32::MAX),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ExternalCorrelations { links, over_correlating })
}

pub(crate) fn links_to(
    conn: &Connection,
    kind: &str,
    target: Uuid,
    limit: u32,
) -> Result<Vec<(Uuid, ExternalCorrelation)>> {
    let links = conn
        .prepare_cached(
            "SELECT event_uuid, attribute_uuid, kind, target, detail, relation FROM intel_external_links
             WHERE kind = ?1 AND target = ?2 ORDER BY event_uuid, attribute_uuid, detail LIMIT ?3",
        )?
        .query_map(rusqlite::params![kind, target.to_string(), i64::from(limit)], |row| {
            Ok((
                uuid_col(row, 0)?,
                ExternalCorrelation {
                    attribute: uuid_col(row, 1)?,
                    kind: row.get(2)?,
                    target: uuid_col(row, 3)?,
                    detail: row.get(4)?,
                    relation: row.get(5)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(links)
}
