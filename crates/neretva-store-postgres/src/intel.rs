//! Intel events, sightings, sharing groups and correlations on PostgreSQL.
//!
//! Writes run in the caller's transaction: storing an event, its attribute rows, its
//! correlation links and its audit entry commit together or not at all. Identifiers are stored
//! as text and times as unix microseconds, as in the SQLite schema.

use deadpool_postgres::GenericClient;
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
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::codec::{Error, Result, parse};
use crate::ops::append_audit;

type Param = Box<dyn ToSql + Sync + Send>;

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|param| param.as_ref() as &(dyn ToSql + Sync)).collect()
}

fn micros(at: Timestamp) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

fn from_micros(column: &str, micros: i64) -> Result<Timestamp> {
    Timestamp::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .map_err(|error| Error(StoreError::Backend(format!("{column}: {error}"))))
}

fn uuid_of(column: &str, text: &str) -> Result<Uuid> {
    Uuid::try_parse(text).map_err(|error| Error(StoreError::Backend(format!("{column}: {error}"))))
}

fn opt_uuid_of(column: &str, text: Option<String>) -> Result<Option<Uuid>> {
    text.map(|text| uuid_of(column, &text)).transpose()
}

async fn audit<C: GenericClient>(
    client: &C,
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
    append_audit(client, at, event).await?;
    Ok(())
}

const EVENT_COLUMNS: &str = "seq, owner_org, created_at, updated_at, body";

async fn load<C: GenericClient>(client: &C, row: &Row) -> Result<StoredIntelEvent> {
    let body: String = row.try_get(4)?;
    let event = decode_event(&body)?;
    let uuid = event.uuid.to_string();
    let statement = client
        .prepare_cached(
            "SELECT attribute_uuid, other_event, other_attribute, relation FROM intel_correlations
             WHERE event_uuid = $1 ORDER BY attribute_uuid, other_event, other_attribute",
        )
        .await?;
    let mut correlations = Vec::new();
    for link in client.query(&statement, &[&uuid]).await? {
        correlations.push(IntelCorrelation {
            attribute: uuid_of("attribute_uuid", link.try_get(0)?)?,
            other_event: uuid_of("other_event", link.try_get(1)?)?,
            other_attribute: uuid_of("other_attribute", link.try_get(2)?)?,
            relation: link.try_get(3)?,
        });
    }
    let statement = client
        .prepare_cached(
            "SELECT attribute_uuid, key, count FROM intel_over_correlating WHERE event_uuid = $1
             ORDER BY attribute_uuid, key",
        )
        .await?;
    let mut over_correlating = Vec::new();
    for over in client.query(&statement, &[&uuid]).await? {
        over_correlating.push(OverCorrelatingValue {
            attribute: uuid_of("attribute_uuid", over.try_get(0)?)?,
            key: over.try_get(1)?,
            count: u32::try_from(over.try_get::<_, i64>(2)?).unwrap_or(u32::MAX),
        });
    }
    let statement = client
        .prepare_cached(
            "SELECT i.uuid, i.id FROM intel_numeric_ids i JOIN intel_attributes a ON a.uuid = i.uuid
             WHERE a.event_uuid = $1 ORDER BY i.id",
        )
        .await?;
    let mut attribute_ids = Vec::new();
    for found in client.query(&statement, &[&uuid]).await? {
        attribute_ids.push((uuid_of("uuid", found.try_get(0)?)?, found.try_get::<_, i64>(1)?));
    }
    Ok(StoredIntelEvent {
        seq: row.try_get(0)?,
        event,
        owner_org: uuid_of("owner_org", row.try_get(1)?)?,
        created_at: from_micros("created_at", row.try_get(2)?)?,
        updated_at: from_micros("updated_at", row.try_get(3)?)?,
        correlations,
        over_correlating,
        attribute_ids,
    })
}

pub(crate) async fn get_event<C: GenericClient>(client: &C, uuid: Uuid) -> Result<Option<StoredIntelEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM intel_events WHERE uuid = $1");
    let statement = client.prepare_cached(&sql).await?;
    match client.query_opt(&statement, &[&uuid.to_string()]).await? {
        Some(row) => Ok(Some(load(client, &row).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn event_heads<C: GenericClient>(client: &C, uuids: &[Uuid]) -> Result<Vec<IntelEventHead>> {
    let uuids: Vec<String> = uuids.iter().map(Uuid::to_string).collect();
    let statement = client
        .prepare_cached(
            "SELECT uuid, info, owner_org, distribution, sharing_group, tlp FROM intel_events
             WHERE uuid = ANY($1)",
        )
        .await?;
    let mut heads = Vec::new();
    for row in client.query(&statement, &[&uuids]).await? {
        let tlp: String = row.try_get(5)?;
        heads.push(IntelEventHead {
            uuid: uuid_of("uuid", row.try_get(0)?)?,
            info: row.try_get(1)?,
            owner_org: uuid_of("owner_org", row.try_get(2)?)?,
            distribution: u8::try_from(row.try_get::<_, i16>(3)?).unwrap_or(0),
            sharing_group: opt_uuid_of("sharing_group", row.try_get(4)?)?,
            tlp: parse("tlp", &tlp)?,
        });
    }
    Ok(heads)
}

pub(crate) async fn get_event_by_seq<C: GenericClient>(
    client: &C,
    seq: i64,
) -> Result<Option<StoredIntelEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM intel_events WHERE seq = $1");
    let statement = client.prepare_cached(&sql).await?;
    match client.query_opt(&statement, &[&seq]).await? {
        Some(row) => Ok(Some(load(client, &row).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn attribute_event<C: GenericClient>(client: &C, attribute: Uuid) -> Result<Option<Uuid>> {
    let statement = client.prepare_cached("SELECT event_uuid FROM intel_attributes WHERE uuid = $1").await?;
    match client.query_opt(&statement, &[&attribute.to_string()]).await? {
        Some(row) => Ok(Some(uuid_of("event_uuid", row.try_get(0)?)?)),
        None => Ok(None),
    }
}

pub(crate) async fn find_attribute<C: GenericClient>(client: &C, id: i64) -> Result<Option<(Uuid, Uuid)>> {
    let statement = client
        .prepare_cached(
            "SELECT a.event_uuid, a.uuid FROM intel_numeric_ids i JOIN intel_attributes a ON a.uuid = i.uuid
             WHERE i.id = $1",
        )
        .await?;
    match client.query_opt(&statement, &[&id]).await? {
        Some(row) => Ok(Some((uuid_of("event_uuid", row.try_get(0)?)?, uuid_of("uuid", row.try_get(1)?)?))),
        None => Ok(None),
    }
}

/// Removes an event's attribute rows, tags, sightings and links (both directions).
async fn clear_rows<C: GenericClient>(client: &C, uuid: &str) -> Result<()> {
    for sql in [
        "DELETE FROM intel_attribute_keys WHERE attribute_uuid IN (SELECT uuid FROM intel_attributes WHERE event_uuid = $1)",
        "DELETE FROM intel_attributes WHERE event_uuid = $1",
        "DELETE FROM intel_event_tags WHERE event_uuid = $1",
        "DELETE FROM intel_sightings WHERE event_uuid = $1",
        "DELETE FROM intel_correlations WHERE event_uuid = $1 OR other_event = $1",
        "DELETE FROM intel_over_correlating WHERE event_uuid = $1",
        "DELETE FROM intel_external_links WHERE event_uuid = $1",
        "DELETE FROM intel_external_over WHERE event_uuid = $1",
    ] {
        let statement = client.prepare_cached(sql).await?;
        client.execute(&statement, &[&uuid]).await?;
    }
    Ok(())
}

async fn write_rows<C: GenericClient>(client: &C, event: &IntelEvent) -> Result<()> {
    let uuid = event.uuid.to_string();
    let taken = client.prepare_cached("SELECT event_uuid FROM intel_attributes WHERE uuid = $1").await?;
    let insert = client
        .prepare_cached(
            "INSERT INTO intel_attributes (uuid, event_uuid, object_uuid, type, category, value, to_ids, deleted,
                 distribution, sharing_group)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .await?;
    let insert_id = client
        .prepare_cached("INSERT INTO intel_numeric_ids (uuid) VALUES ($1) ON CONFLICT DO NOTHING")
        .await?;
    let insert_key = client
        .prepare_cached(
            "INSERT INTO intel_attribute_keys (attribute_uuid, key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .await?;
    for (object, attribute) in event.all_attributes() {
        let attribute_uuid = attribute.uuid.to_string();
        if client.query_opt(&taken, &[&attribute_uuid]).await?.is_some() {
            return Err(StoreError::conflict(
                "Attribute.uuid",
                format!("attribute {} belongs to another event", attribute.uuid),
            )
            .into());
        }
        client
            .execute(
                &insert,
                &[
                    &attribute_uuid,
                    &uuid,
                    &object.map(|object| object.uuid.to_string()),
                    &attribute.attr_type,
                    &attribute.category,
                    &attribute.value,
                    &attribute.to_ids,
                    &attribute.deleted,
                    &i16::from(attribute.distribution.number()),
                    &attribute.sharing_group.map(|group| group.to_string()),
                ],
            )
            .await?;
        client.execute(&insert_id, &[&attribute_uuid]).await?;
        if !attribute.deleted {
            for key in stored_keys(&attribute.attr_type, &attribute.value) {
                client.execute(&insert_key, &[&attribute_uuid, &key]).await?;
            }
        }
        for sighting in &attribute.sightings {
            insert_sighting(client, event.uuid, attribute.uuid, sighting).await?;
        }
    }
    let tag = client
        .prepare_cached(
            "INSERT INTO intel_event_tags (event_uuid, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .await?;
    for event_tag in &event.tags {
        client.execute(&tag, &[&uuid, &event_tag.name]).await?;
    }
    correlate(client, event).await
}

async fn insert_sighting<C: GenericClient>(
    client: &C,
    event: Uuid,
    attribute: Uuid,
    sighting: &Sighting,
) -> Result<()> {
    let statement = client
        .prepare_cached(
            "INSERT INTO intel_sightings (uuid, event_uuid, attribute_uuid, kind, source, time, org)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &sighting.uuid.to_string(),
                &event.to_string(),
                &attribute.to_string(),
                &sighting.kind.as_str(),
                &sighting.source,
                &micros(sighting.time),
                &sighting.org.as_ref().map(|org| org.uuid.to_string()),
            ],
        )
        .await?;
    Ok(())
}

async fn correlate<C: GenericClient>(client: &C, event: &IntelEvent) -> Result<()> {
    let uuid = event.uuid.to_string();
    let statement = client
        .prepare_cached(
            // Each key's attributes are read through the primary key: the `LIMIT 1` (a uuid
            // names one attribute) keeps the planner from flattening the `LATERAL` join, which
            // on tables not yet analysed, as during a large first import, it planned as a
            // hash join over a scan of every attribute, once per key (25 ms each at 24,000
            // attributes instead of 0.2 ms).
            "SELECT a.event_uuid, a.uuid, a.type, a.value FROM intel_attribute_keys k
             CROSS JOIN LATERAL (
                 SELECT event_uuid, uuid, type, value FROM intel_attributes
                 WHERE uuid = k.attribute_uuid AND event_uuid <> $2 AND NOT deleted
                 LIMIT 1
             ) a
             WHERE k.key = $1
             LIMIT $3",
        )
        .await?;
    let per_key = i64::try_from(CORRELATION_LIMIT + 1).unwrap_or(i64::MAX);
    let mut candidates = Vec::new();
    for key in event_lookup_keys(event) {
        for row in client.query(&statement, &[&key, &uuid, &per_key]).await? {
            candidates.push(Candidate {
                event: uuid_of("event_uuid", row.try_get(0)?)?,
                attribute: uuid_of("uuid", row.try_get(1)?)?,
                attr_type: row.try_get(2)?,
                value: row.try_get(3)?,
            });
        }
    }
    let correlation = correlate_event(event, &candidates, &WarningLists::default());
    let insert = client
        .prepare_cached(
            "INSERT INTO intel_correlations (event_uuid, attribute_uuid, other_event, other_attribute, relation)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .await?;
    for link in &correlation.links {
        let (attribute, other_event, other_attribute) =
            (link.attribute.to_string(), link.other_event.to_string(), link.other_attribute.to_string());
        client.execute(&insert, &[&uuid, &attribute, &other_event, &other_attribute, &link.relation]).await?;
        client.execute(&insert, &[&other_event, &other_attribute, &uuid, &attribute, &link.relation]).await?;
    }
    let over = client
        .prepare_cached(
            "INSERT INTO intel_over_correlating (event_uuid, attribute_uuid, key, count)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .await?;
    for value in &correlation.over_correlating {
        client
            .execute(&over, &[&uuid, &value.attribute.to_string(), &value.key, &i64::from(value.count)])
            .await?;
    }
    Ok(())
}

/// The indexed columns after the uuid and owner: creator to publish timestamp.
fn event_params(event: &IntelEvent) -> Vec<Param> {
    vec![
        Box::new(event.orgc.uuid.to_string()),
        Box::new(event.info.clone()),
        Box::new(event.info.to_lowercase()),
        Box::new(neretva_intel::misp::format_date(event.date)),
        Box::new(event.published),
        Box::new(i16::from(event.distribution.number())),
        Box::new(event.sharing_group.map(|group| group.to_string())),
        Box::new(event_tlp(event).slug().to_owned()),
        Box::new(micros(event.timestamp)),
        Box::new(event.publish_timestamp.map(micros)),
    ]
}

pub(crate) async fn create_event<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    owner_org: Uuid,
    event: &IntelEvent,
) -> Result<StoredIntelEvent> {
    check_event(event)?;
    let uuid = event.uuid.to_string();
    let exists = client.prepare_cached("SELECT seq FROM intel_events WHERE uuid = $1").await?;
    if client.query_opt(&exists, &[&uuid]).await?.is_some() {
        return Err(StoreError::conflict("uuid", "an intel event with this uuid already exists").into());
    }
    let body = encode_event(event);
    let mut params: Vec<Param> = vec![Box::new(uuid), Box::new(owner_org.to_string())];
    params.extend(event_params(event));
    params.push(Box::new(micros(at)));
    params.push(Box::new(body.clone()));
    let statement = client
        .prepare_cached(
            "INSERT INTO intel_events (uuid, owner_org, creator_org, info, info_lower, date, published, distribution,
                 sharing_group, tlp, timestamp, publish_timestamp, created_at, updated_at, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)",
        )
        .await?;
    client.execute(&statement, &refs(&params)).await?;
    write_rows(client, event).await?;
    audit(client, at, actor, "intel.event.create", "intel_event", event.uuid, event_digest(&body)).await?;
    get_event(client, event.uuid)
        .await?
        .ok_or_else(|| StoreError::not_found("intel event", event.uuid).into())
}

pub(crate) async fn update_event<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    event: &IntelEvent,
    expected: Option<Timestamp>,
) -> Result<StoredIntelEvent> {
    check_event(event)?;
    let uuid = event.uuid.to_string();
    let lock =
        client.prepare_cached("SELECT updated_at FROM intel_events WHERE uuid = $1 FOR UPDATE").await?;
    let Some(row) = client.query_opt(&lock, &[&uuid]).await? else {
        return Err(StoreError::not_found("intel event", event.uuid).into());
    };
    let updated_at: i64 = row.try_get(0)?;
    if expected.is_some_and(|expected| micros(expected) != updated_at) {
        return Err(StoreError::conflict(
            "updated_at",
            "the event was changed since it was read; read it again",
        )
        .into());
    }
    clear_rows(client, &uuid).await?;
    let body = encode_event(event);
    let mut params: Vec<Param> = vec![Box::new(uuid)];
    params.extend(event_params(event));
    params.push(Box::new(micros(at)));
    params.push(Box::new(body.clone()));
    let statement = client
        .prepare_cached(
            "UPDATE intel_events SET creator_org = $2, info = $3, info_lower = $4, date = $5, published = $6,
                 distribution = $7, sharing_group = $8, tlp = $9, timestamp = $10, publish_timestamp = $11,
                 updated_at = $12, body = $13
             WHERE uuid = $1",
        )
        .await?;
    client.execute(&statement, &refs(&params)).await?;
    write_rows(client, event).await?;
    audit(client, at, actor, "intel.event.update", "intel_event", event.uuid, event_digest(&body)).await?;
    get_event(client, event.uuid)
        .await?
        .ok_or_else(|| StoreError::not_found("intel event", event.uuid).into())
}

pub(crate) async fn delete_event<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    uuid: Uuid,
) -> Result<()> {
    let text = uuid.to_string();
    let statement = client.prepare_cached("SELECT body FROM intel_events WHERE uuid = $1 FOR UPDATE").await?;
    let Some(row) = client.query_opt(&statement, &[&text]).await? else {
        return Err(StoreError::not_found("intel event", uuid).into());
    };
    let body: String = row.try_get(0)?;
    clear_rows(client, &text).await?;
    let statement = client.prepare_cached("DELETE FROM intel_events WHERE uuid = $1").await?;
    client.execute(&statement, &[&text]).await?;
    audit(client, at, actor, "intel.event.delete", "intel_event", uuid, event_digest(&body)).await?;
    Ok(())
}

pub(crate) async fn add_event_sighting<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    event_uuid: Uuid,
    attribute: Uuid,
    sighting: &Sighting,
) -> Result<StoredIntelEvent> {
    let lock = client.prepare_cached("SELECT seq FROM intel_events WHERE uuid = $1 FOR UPDATE").await?;
    if client.query_opt(&lock, &[&event_uuid.to_string()]).await?.is_none() {
        return Err(StoreError::not_found("intel event", event_uuid).into());
    }
    let Some(stored) = get_event(client, event_uuid).await? else {
        return Err(StoreError::not_found("intel event", event_uuid).into());
    };
    let mut event = stored.event;
    add_sighting(&mut event, attribute, sighting)?;
    let body = encode_event(&event);
    let statement =
        client.prepare_cached("UPDATE intel_events SET body = $2, updated_at = $3 WHERE uuid = $1").await?;
    client.execute(&statement, &[&event_uuid.to_string(), &body, &micros(at)]).await?;
    insert_sighting(client, event_uuid, attribute, sighting).await?;
    let digest =
        neretva_model::audit::digest_json(&(event_uuid, attribute, sighting.uuid, sighting.kind.as_str()));
    audit(client, at, actor, "intel.sighting.add", "intel_sighting", sighting.uuid, digest).await?;
    get_event(client, event_uuid)
        .await?
        .ok_or_else(|| StoreError::not_found("intel event", event_uuid).into())
}

fn mark(params: &[Param]) -> String {
    format!("${}", params.len())
}

pub(crate) async fn list_events<C: GenericClient>(
    client: &C,
    query: &IntelEventQuery,
) -> Result<Vec<StoredIntelEvent>> {
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM intel_events e WHERE true");
    let mut params: Vec<Param> = Vec::new();
    if let Some(pattern) = query.like_pattern() {
        params.push(Box::new(pattern));
        sql.push_str(&format!(" AND info_lower LIKE {} ESCAPE '\\'", mark(&params)));
    }
    if let Some(tag) = &query.tag {
        params.push(Box::new(tag.clone()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM intel_event_tags t WHERE t.event_uuid = e.uuid AND t.name = {})",
            mark(&params)
        ));
    }
    if let Some(published) = query.published {
        params.push(Box::new(published));
        sql.push_str(&format!(" AND published = {}", mark(&params)));
    }
    if let Some(org) = query.org {
        params.push(Box::new(org.to_string()));
        let org = mark(&params);
        sql.push_str(&format!(" AND (owner_org = {org} OR creator_org = {org})"));
    }
    if let Some(since) = query.since {
        params.push(Box::new(micros(since)));
        sql.push_str(&format!(" AND timestamp >= {}", mark(&params)));
    }
    if let Some(until) = query.until {
        params.push(Box::new(micros(until)));
        sql.push_str(&format!(" AND timestamp < {}", mark(&params)));
    }
    if let Some(before) = query.before {
        params.push(Box::new(before));
        sql.push_str(&format!(" AND seq < {}", mark(&params)));
    }
    params.push(Box::new(i64::from(query.page_limit())));
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT {}", mark(&params)));
    let rows = client.query(&sql, &refs(&params)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(load(client, row).await?);
    }
    Ok(out)
}

pub(crate) async fn search_attributes<C: GenericClient>(
    client: &C,
    query: &AttributeQuery,
) -> Result<Vec<StoredAttribute>> {
    let mut sql = String::from(
        "SELECT a.event_uuid, a.uuid, a.type, a.category, a.value, a.to_ids, a.deleted, a.distribution,
             a.sharing_group, e.info, e.distribution, e.sharing_group, e.tlp, e.owner_org, e.creator_org
         FROM intel_attributes a JOIN intel_events e ON e.uuid = a.event_uuid WHERE true",
    );
    let mut params: Vec<Param> = Vec::new();
    for (column, value) in
        [("a.value", &query.value), ("a.type", &query.attr_type), ("a.category", &query.category)]
    {
        if let Some(value) = value {
            params.push(Box::new(value.clone()));
            sql.push_str(&format!(" AND {column} = {}", mark(&params)));
        }
    }
    if let Some(to_ids) = query.to_ids {
        params.push(Box::new(to_ids));
        sql.push_str(&format!(" AND a.to_ids = {}", mark(&params)));
    }
    if !query.include_deleted {
        sql.push_str(" AND NOT a.deleted");
    }
    params.push(Box::new(i64::from(query.page_limit())));
    sql.push_str(&format!(" ORDER BY e.seq DESC, a.uuid LIMIT {}", mark(&params)));
    let mut out = Vec::new();
    for row in client.query(&sql, &refs(&params)).await? {
        let tlp: String = row.try_get(12)?;
        out.push(StoredAttribute {
            event: uuid_of("event_uuid", row.try_get(0)?)?,
            uuid: uuid_of("uuid", row.try_get(1)?)?,
            attr_type: row.try_get(2)?,
            category: row.try_get(3)?,
            value: row.try_get(4)?,
            to_ids: row.try_get(5)?,
            deleted: row.try_get(6)?,
            distribution: u8::try_from(row.try_get::<_, i16>(7)?).unwrap_or(0),
            sharing_group: opt_uuid_of("sharing_group", row.try_get(8)?)?,
            event_info: row.try_get(9)?,
            event_distribution: u8::try_from(row.try_get::<_, i16>(10)?).unwrap_or(0),
            event_sharing_group: opt_uuid_of("sharing_group", row.try_get(11)?)?,
            event_tlp: parse("tlp", &tlp)?,
            owner_org: uuid_of("owner_org", row.try_get(13)?)?,
            creator_org: uuid_of("creator_org", row.try_get(14)?)?,
        });
    }
    Ok(out)
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

pub(crate) async fn put_group<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    group: &SharingGroup,
) -> Result<SharingGroup> {
    check_group(group)?;
    let uuid = group.uuid.to_string();
    let statement = client
        .prepare_cached(
            "INSERT INTO intel_sharing_groups (uuid, name, description, owner_org, confidential, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (uuid) DO UPDATE SET name = excluded.name, description = excluded.description,
                 owner_org = excluded.owner_org, confidential = excluded.confidential,
                 updated_at = excluded.updated_at",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &uuid,
                &group.name,
                &group.description,
                &group.owner_org.to_string(),
                &group.confidential,
                &micros(at),
            ],
        )
        .await?;
    let statement = client
        .prepare_cached("INSERT INTO intel_numeric_ids (uuid) VALUES ($1) ON CONFLICT DO NOTHING")
        .await?;
    client.execute(&statement, &[&uuid]).await?;
    let statement =
        client.prepare_cached("DELETE FROM intel_sharing_group_members WHERE group_uuid = $1").await?;
    client.execute(&statement, &[&uuid]).await?;
    let insert = client
        .prepare_cached(
            "INSERT INTO intel_sharing_group_members (group_uuid, org, position) VALUES ($1, $2, $3)",
        )
        .await?;
    let members = group.all_members();
    for (position, member) in members.iter().enumerate() {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        client.execute(&insert, &[&uuid, &member.to_string(), &position]).await?;
    }
    let stored = SharingGroup {
        members: members.into_iter().filter(|member| *member != group.owner_org).collect(),
        ..group.clone()
    };
    let digest = neretva_model::audit::digest_json(&(
        &stored.name,
        &stored.description,
        stored.owner_org,
        &stored.members,
        stored.confidential,
    ));
    audit(client, at, actor, "intel.sharing_group.put", "intel_sharing_group", group.uuid, digest).await?;
    Ok(stored)
}

async fn group_from_row<C: GenericClient>(client: &C, row: &Row) -> Result<SharingGroup> {
    let uuid: String = row.try_get(0)?;
    let owner_org = uuid_of("owner_org", row.try_get(3)?)?;
    let statement = client
        .prepare_cached("SELECT org FROM intel_sharing_group_members WHERE group_uuid = $1 ORDER BY position")
        .await?;
    let mut members = Vec::new();
    for member in client.query(&statement, &[&uuid]).await? {
        let member = uuid_of("org", member.try_get(0)?)?;
        if member != owner_org {
            members.push(member);
        }
    }
    Ok(SharingGroup {
        uuid: uuid_of("uuid", &uuid)?,
        name: row.try_get(1)?,
        description: row.try_get(2)?,
        owner_org,
        members,
        confidential: row.try_get(4)?,
    })
}

pub(crate) async fn get_group<C: GenericClient>(client: &C, uuid: Uuid) -> Result<Option<SharingGroup>> {
    let statement = client
        .prepare_cached(
            "SELECT uuid, name, description, owner_org, confidential FROM intel_sharing_groups WHERE uuid = $1",
        )
        .await?;
    match client.query_opt(&statement, &[&uuid.to_string()]).await? {
        Some(row) => Ok(Some(group_from_row(client, &row).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn sharing_group_ids<C: GenericClient>(client: &C) -> Result<Vec<(Uuid, i64)>> {
    let statement = client
        .prepare_cached(
            "SELECT i.uuid, i.id FROM intel_numeric_ids i JOIN intel_sharing_groups g ON g.uuid = i.uuid ORDER BY i.id",
        )
        .await?;
    let mut out = Vec::new();
    for row in client.query(&statement, &[]).await? {
        out.push((uuid_of("uuid", row.try_get(0)?)?, row.try_get::<_, i64>(1)?));
    }
    Ok(out)
}

pub(crate) async fn list_groups<C: GenericClient>(client: &C) -> Result<Vec<SharingGroup>> {
    let statement = client
        .prepare_cached(
            "SELECT uuid, name, description, owner_org, confidential FROM intel_sharing_groups ORDER BY name, uuid",
        )
        .await?;
    let mut out = Vec::new();
    for row in client.query(&statement, &[]).await? {
        out.push(group_from_row(client, &row).await?);
    }
    Ok(out)
}

pub(crate) async fn delete_group<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    uuid: Uuid,
) -> Result<()> {
    let text = uuid.to_string();
    if get_group(client, uuid).await?.is_none() {
        return Err(StoreError::not_found("sharing group", uuid).into());
    }
    let used = client
        .prepare_cached(
            "SELECT COUNT(*) FROM intel_events WHERE sharing_group = $1
                 OR uuid IN (SELECT event_uuid FROM intel_attributes WHERE sharing_group = $1)",
        )
        .await?;
    let used: i64 = client.query_one(&used, &[&text]).await?.try_get(0)?;
    if used > 0 {
        return Err(
            StoreError::conflict("sharing_group", group_in_use(u64::try_from(used).unwrap_or(0))).into()
        );
    }
    for sql in [
        "DELETE FROM intel_sharing_group_members WHERE group_uuid = $1",
        "DELETE FROM intel_sharing_groups WHERE uuid = $1",
    ] {
        let statement = client.prepare_cached(sql).await?;
        client.execute(&statement, &[&text]).await?;
    }
    let digest = neretva_model::audit::digest_json(&text);
    audit(client, at, actor, "intel.sharing_group.delete", "intel_sharing_group", uuid, digest).await?;
    Ok(())
}

pub(crate) async fn find_observables<C: GenericClient>(
    client: &C,
    probes: &[ObservableProbe],
    per_probe: u32,
) -> Result<Vec<ObservableHit>> {
    let limit = i64::from(per_probe.min(MAX_PROBE_HITS));
    let probes = &probes[..probes.len().min(MAX_PROBES)];
    let mut out = Vec::new();
    // One statement for the exact probes (an index lookup each), one for the patterns.
    for like in [false, true] {
        let (kinds, values): (Vec<Option<&str>>, Vec<String>) = probes
            .iter()
            .filter(|probe| probe.value.like_pattern().is_some() == like)
            .map(|probe| (probe.kind.map(ObservableKind::as_str), probe.value.sql_value()))
            .unzip();
        if values.is_empty() {
            continue;
        }
        let comparison = if like { "o.value LIKE p.value ESCAPE '\\'" } else { "o.value = p.value" };
        let sql = format!(
            "SELECT o.incident_id, o.kind, o.value
             FROM unnest($1::text[], $2::text[]) AS p (kind, value)
             CROSS JOIN LATERAL (
                 SELECT o.incident_id, o.kind, o.value FROM incident_observables o
                 WHERE (p.kind IS NULL OR o.kind = p.kind) AND {comparison}
                 ORDER BY o.seq LIMIT $3
             ) o"
        );
        let statement = client.prepare_cached(&sql).await?;
        for row in client.query(&statement, &[&kinds, &values, &limit]).await? {
            let kind: String = row.try_get(1)?;
            if let Some(kind) = ObservableKind::ALL.into_iter().find(|known| known.as_str() == kind) {
                out.push(ObservableHit { incident_id: row.try_get(0)?, kind, value: row.try_get(2)? });
            }
        }
    }
    Ok(out)
}

pub(crate) async fn put_external<C: GenericClient>(
    client: &C,
    event: Uuid,
    correlations: &ExternalCorrelations,
) -> Result<()> {
    let uuid = event.to_string();
    let lock = client.prepare_cached("SELECT seq FROM intel_events WHERE uuid = $1 FOR UPDATE").await?;
    if client.query_opt(&lock, &[&uuid]).await?.is_none() {
        return Err(StoreError::not_found("intel event", event).into());
    }
    for sql in [
        "DELETE FROM intel_external_links WHERE event_uuid = $1",
        "DELETE FROM intel_external_over WHERE event_uuid = $1",
    ] {
        let statement = client.prepare_cached(sql).await?;
        client.execute(&statement, &[&uuid]).await?;
    }
    let (mut attributes, mut kinds, mut targets, mut details, mut relations) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for link in &correlations.links {
        attributes.push(link.attribute.to_string());
        kinds.push(link.kind.as_str());
        targets.push(link.target.to_string());
        details.push(link.detail.as_str());
        relations.push(link.relation.as_str());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO intel_external_links (event_uuid, attribute_uuid, kind, target, detail, relation)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
             ON CONFLICT DO NOTHING",
        )
        .await?;
    client.execute(&statement, &[&uuid, &attributes, &kinds, &targets, &details, &relations]).await?;
    let (mut attributes, mut kinds, mut keys, mut counts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for over in &correlations.over_correlating {
        attributes.push(over.attribute.to_string());
        kinds.push(over.kind.as_str());
        keys.push(over.key.as_str());
        counts.push(i64::from(over.count));
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO intel_external_over (event_uuid, attribute_uuid, kind, key, count)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[])
             ON CONFLICT DO NOTHING",
        )
        .await?;
    client.execute(&statement, &[&uuid, &attributes, &kinds, &keys, &counts]).await?;
    Ok(())
}

pub(crate) async fn get_external<C: GenericClient>(client: &C, event: Uuid) -> Result<ExternalCorrelations> {
    let uuid = event.to_string();
    let statement = client
        .prepare_cached(
            "SELECT attribute_uuid, kind, target, detail, relation FROM intel_external_links WHERE event_uuid = $1
             ORDER BY kind, attribute_uuid, target, detail",
        )
        .await?;
    let mut links = Vec::new();
    for row in client.query(&statement, &[&uuid]).await? {
        links.push(ExternalCorrelation {
            attribute: uuid_of("attribute_uuid", row.try_get(0)?)?,
            kind: row.try_get(1)?,
            target: uuid_of("target", row.try_get(2)?)?,
            detail: row.try_get(3)?,
            relation: row.try_get(4)?,
        });
    }
    let statement = client
        .prepare_cached(
            "SELECT attribute_uuid, kind, key, count FROM intel_external_over WHERE event_uuid = $1
             ORDER BY kind, attribute_uuid, key",
        )
        .await?;
    let mut over_correlating = Vec::new();
    for row in client.query(&statement, &[&uuid]).await? {
        over_correlating.push(ExternalOverCorrelating {
            attribute: uuid_of("attribute_uuid", row.try_get(0)?)?,
            kind: row.try_get(1)?,
            key: row.try_get(2)?,
            count: u32::try_from(row.try_get::<_, i64>(3)?).unwrap_or(u32::MAX),
        });
    }
    Ok(ExternalCorrelations { links, over_correlating })
}

pub(crate) async fn links_to<C: GenericClient>(
    client: &C,
    kind: &str,
    target: Uuid,
    limit: u32,
) -> Result<Vec<(Uuid, ExternalCorrelation)>> {
    let statement = client
        .prepare_cached(
            "SELECT event_uuid, attribute_uuid, kind, target, detail, relation FROM intel_external_links
             WHERE kind = $1 AND target = $2 ORDER BY event_uuid, attribute_uuid, detail LIMIT $3",
        )
        .await?;
    let mut links = Vec::new();
    for row in client.query(&statement, &[&kind, &target.to_string(), &i64::from(limit)]).await? {
        links.push((
            uuid_of("event_uuid", row.try_get(0)?)?,
            ExternalCorrelation {
                attribute: uuid_of("attribute_uuid", row.try_get(1)?)?,
                kind: row.try_get(2)?,
                target: uuid_of("target", row.try_get(3)?)?,
                detail: row.try_get(4)?,
                relation: row.try_get(5)?,
            },
        ));
    }
    Ok(links)
}
