//! TAXII 2.1 collections, objects and statuses on PostgreSQL.
//!
//! Adding objects locks the collection's row (`FOR UPDATE`) before reading its `last_added`, so
//! servers sharing the database give each object a `date_added` that is unique and increasing
//! within its collection.

use deadpool_postgres::GenericClient;
use neretva_model::Timestamp;
use neretva_model::taxii::Sharing;
use neretva_store::StoreError;
use neretva_store::taxii::{
    AddObjects, Collection, CollectionFields, ObjectQuery, Status, StatusDetail, StatusDetails, StoredObject,
    check_objects, collection_digest, format_micros, next_date_added, status_digest,
};
use tokio_postgres::Row;
use tokio_postgres::types::{Json, ToSql};
use uuid::Uuid;

use crate::codec::{Error, Result, parse};
use crate::ops::audit_object as audit;

const COLLECTION_COLUMNS: &str = "id, title, description, alias, media_types, owner_org, sharing, sharing_orgs, \
     writers, default_tlp, created_at, updated_at";

fn collection_from_row(row: &Row) -> Result<Collection> {
    let kind: String = row.try_get(6)?;
    let orgs: Vec<Uuid> = row.try_get(7)?;
    let sharing = Sharing::from_parts(&kind, orgs)
        .map_err(|error| Error(StoreError::Backend(format!("sharing: {error}"))))?;
    let writers: String = row.try_get(8)?;
    let tlp: String = row.try_get(9)?;
    Ok(Collection {
        id: row.try_get(0)?,
        fields: CollectionFields {
            title: row.try_get(1)?,
            description: row.try_get(2)?,
            alias: row.try_get(3)?,
            media_types: row.try_get(4)?,
            owner_org: row.try_get(5)?,
            sharing,
            writers: parse("writers", &writers)?,
            default_tlp: parse("default_tlp", &tlp)?,
        },
        created_at: row.try_get(10)?,
        updated_at: row.try_get(11)?,
    })
}

fn check_fields(fields: &CollectionFields) -> Result<()> {
    if let Err(problems) = fields.check() {
        let first = problems.into_iter().next().map(|p| (p.field, p.message)).unwrap_or_default();
        return Err(StoreError::conflict(first.0, first.1).into());
    }
    Ok(())
}

fn micros(at: Timestamp) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

pub(crate) async fn create_collection<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    fields: &CollectionFields,
) -> Result<Collection> {
    check_fields(fields)?;
    let statement = client
        .prepare_cached(
            "INSERT INTO taxii_collections (id, title, description, alias, media_types, owner_org, sharing,
                 sharing_orgs, writers, default_tlp, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &id,
                &fields.title,
                &fields.description,
                &fields.alias,
                &fields.media_types,
                &fields.owner_org,
                &fields.sharing.kind(),
                &fields.sharing.orgs(),
                &fields.writers.as_str(),
                &fields.default_tlp.slug(),
                &at,
            ],
        )
        .await?;
    let collection = Collection { id, fields: fields.clone(), created_at: at, updated_at: at };
    let digest = collection_digest(&collection);
    audit(client, at, actor, "taxii.collection.create", "taxii_collection", id.to_string(), digest).await?;
    Ok(collection)
}

pub(crate) async fn update_collection<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    fields: &CollectionFields,
) -> Result<Collection> {
    check_fields(fields)?;
    let Some(old) = get_collection(client, id).await? else {
        return Err(StoreError::not_found("collection", id).into());
    };
    let statement = client
        .prepare_cached(
            "UPDATE taxii_collections SET title = $2, description = $3, alias = $4, media_types = $5,
                 owner_org = $6, sharing = $7, sharing_orgs = $8, writers = $9, default_tlp = $10, updated_at = $11
             WHERE id = $1",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &id,
                &fields.title,
                &fields.description,
                &fields.alias,
                &fields.media_types,
                &fields.owner_org,
                &fields.sharing.kind(),
                &fields.sharing.orgs(),
                &fields.writers.as_str(),
                &fields.default_tlp.slug(),
                &at,
            ],
        )
        .await?;
    let collection = Collection { id, fields: fields.clone(), created_at: old.created_at, updated_at: at };
    let digest = collection_digest(&collection);
    audit(client, at, actor, "taxii.collection.update", "taxii_collection", id.to_string(), digest).await?;
    Ok(collection)
}

pub(crate) async fn delete_collection<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
) -> Result<()> {
    let Some(old) = get_collection(client, id).await? else {
        return Err(StoreError::not_found("collection", id).into());
    };
    client.execute("DELETE FROM taxii_objects WHERE collection_id = $1", &[&id]).await?;
    client.execute("DELETE FROM taxii_collections WHERE id = $1", &[&id]).await?;
    let digest = collection_digest(&old);
    audit(client, at, actor, "taxii.collection.delete", "taxii_collection", id.to_string(), digest).await?;
    Ok(())
}

pub(crate) async fn get_collection<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<Collection>> {
    let sql = format!("SELECT {COLLECTION_COLUMNS} FROM taxii_collections WHERE id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(collection_from_row).transpose()
}

pub(crate) async fn find_collection<C: GenericClient>(client: &C, alias: &str) -> Result<Option<Collection>> {
    let sql = format!("SELECT {COLLECTION_COLUMNS} FROM taxii_collections WHERE alias = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&alias]).await?.as_ref().map(collection_from_row).transpose()
}

pub(crate) async fn list_collections<C: GenericClient>(client: &C) -> Result<Vec<Collection>> {
    let sql = format!("SELECT {COLLECTION_COLUMNS} FROM taxii_collections ORDER BY title, id");
    let statement = client.prepare_cached(&sql).await?;
    client.query(&statement, &[]).await?.iter().map(collection_from_row).collect()
}

pub(crate) async fn add_objects<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    request: &AddObjects,
) -> Result<Status> {
    check_objects(&request.objects)?;
    let collection = request.collection_id;
    let statement =
        client.prepare_cached("SELECT last_added FROM taxii_collections WHERE id = $1 FOR UPDATE").await?;
    let Some(row) = client.query_opt(&statement, &[&collection]).await? else {
        return Err(StoreError::not_found("collection", collection).into());
    };
    let mut last_added: i64 = row.try_get(0)?;
    let now = micros(at);
    let mut successes = Vec::new();
    let mut failures = request.failures.clone();
    let bounds_statement = client
        .prepare_cached(
            "SELECT min(version), max(version), coalesce(bool_or(version = $3), false) FROM taxii_objects
             WHERE collection_id = $1 AND stix_id = $2",
        )
        .await?;
    let clear_first = client
        .prepare_cached(
            "UPDATE taxii_objects SET is_first = false WHERE collection_id = $1 AND stix_id = $2 AND is_first",
        )
        .await?;
    let clear_last = client
        .prepare_cached(
            "UPDATE taxii_objects SET is_last = false WHERE collection_id = $1 AND stix_id = $2 AND is_last",
        )
        .await?;
    let insert = client
        .prepare_cached(
            "INSERT INTO taxii_objects (collection_id, stix_id, object_type, version, date_added, spec_version, tlp,
                 org_id, user_id, is_first, is_last, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .await?;
    for object in &request.objects {
        let date_added = next_date_added(last_added, now);
        let version = object.version.unwrap_or(date_added);
        let detail =
            StatusDetail { id: object.stix_id.clone(), version: Some(format_micros(version)), message: None };
        let row = client.query_one(&bounds_statement, &[&collection, &object.stix_id, &version]).await?;
        let (first, last, present): (Option<i64>, Option<i64>, bool) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if present {
            failures
                .push(StatusDetail { message: Some("already present in the collection".into()), ..detail });
            continue;
        }
        let is_first = first.is_none_or(|first| version < first);
        let is_last = last.is_none_or(|last| version > last);
        if is_first && first.is_some() {
            client.execute(&clear_first, &[&collection, &object.stix_id]).await?;
        }
        if is_last && last.is_some() {
            client.execute(&clear_last, &[&collection, &object.stix_id]).await?;
        }
        client
            .execute(
                &insert,
                &[
                    &collection,
                    &object.stix_id,
                    &object.object_type,
                    &version,
                    &date_added,
                    &object.spec_version,
                    &object.tlp.slug(),
                    &request.org_id,
                    &request.user_id,
                    &is_first,
                    &is_last,
                    &object.body,
                ],
            )
            .await?;
        last_added = date_added;
        successes.push(detail);
    }
    client
        .execute("UPDATE taxii_collections SET last_added = $2 WHERE id = $1", &[&collection, &last_added])
        .await?;
    let status = Status {
        id: request.status_id,
        collection_id: collection,
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
    client
        .execute(
            "INSERT INTO taxii_status (id, collection_id, user_id, org_id, request_timestamp, details)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&status.id, &collection, &request.user_id, &request.org_id, &at, &Json(&details)],
        )
        .await?;
    audit(
        client,
        at,
        actor,
        "taxii.objects.add",
        "taxii_status",
        status.id.to_string(),
        status_digest(&status),
    )
    .await?;
    Ok(status)
}

fn object_from_row(row: &Row) -> Result<StoredObject> {
    let tlp: String = row.try_get(6)?;
    Ok(StoredObject {
        row: row.try_get(0)?,
        stix_id: row.try_get(1)?,
        object_type: row.try_get(2)?,
        version: row.try_get(3)?,
        date_added: row.try_get(4)?,
        spec_version: row.try_get(5)?,
        tlp: parse("tlp", &tlp)?,
        org_id: row.try_get(7)?,
        user_id: row.try_get(8)?,
        body: row.try_get(9)?,
    })
}

/// The placeholder of the argument pushed last.
fn mark(args: &[&(dyn ToSql + Sync)]) -> String {
    format!("${}", args.len())
}

pub(crate) async fn query_objects<C: GenericClient>(
    client: &C,
    query: &ObjectQuery,
) -> Result<Vec<StoredObject>> {
    query.check()?;
    let body = if query.with_body { "body" } else { "''" };
    let mut sql = format!(
        "SELECT row, stix_id, object_type, version, date_added, spec_version, tlp, org_id, user_id, {body}
         FROM taxii_objects WHERE collection_id = $1"
    );
    let cursor = query.after.map(|cursor| (cursor.date_added, cursor.row));
    let tlps: Vec<&str> = query.tlps.iter().map(|tlp| tlp.slug()).collect();
    let limit = i64::from(query.page_limit());
    let mut args: Vec<&(dyn ToSql + Sync)> = vec![&query.collection_id];
    if let Some((date_added, row)) = &cursor {
        args.push(date_added);
        let first = mark(&args);
        args.push(row);
        let second = mark(&args);
        sql.push_str(&format!(" AND (date_added, row) > ({first}, {second})"));
    }
    if let Some(after) = &query.added_after {
        args.push(after);
        sql.push_str(&format!(" AND date_added > {}", mark(&args)));
    }
    if !query.ids.is_empty() {
        args.push(&query.ids);
        sql.push_str(&format!(" AND stix_id = ANY({})", mark(&args)));
    }
    if !query.types.is_empty() {
        args.push(&query.types);
        sql.push_str(&format!(" AND object_type = ANY({})", mark(&args)));
    }
    let versions = &query.versions;
    if !versions.all {
        let mut alternatives = Vec::new();
        if versions.first {
            alternatives.push("is_first".to_owned());
        }
        if versions.last {
            alternatives.push("is_last".to_owned());
        }
        if !versions.at.is_empty() {
            args.push(&versions.at);
            alternatives.push(format!("version = ANY({})", mark(&args)));
        }
        if alternatives.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    if !query.spec_versions.is_empty() {
        args.push(&query.spec_versions);
        sql.push_str(&format!(" AND spec_version = ANY({})", mark(&args)));
    }
    if tlps.len() < neretva_model::tlp::Tlp::ALL.len() {
        if tlps.is_empty() {
            return Ok(Vec::new());
        }
        args.push(&tlps);
        sql.push_str(&format!(" AND tlp = ANY({})", mark(&args)));
    }
    args.push(&limit);
    sql.push_str(&format!(" ORDER BY date_added, row LIMIT {}", mark(&args)));
    let statement = client.prepare_cached(&sql).await?;
    client.query(&statement, &args).await?.iter().map(object_from_row).collect()
}

pub(crate) async fn delete_objects<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    collection_id: Uuid,
    stix_id: &str,
    rows: &[i64],
) -> Result<u64> {
    // Lock the collection so additions to the same id cannot interleave with the recount.
    client.execute("SELECT 1 FROM taxii_collections WHERE id = $1 FOR UPDATE", &[&collection_id]).await?;
    let deleted = client
        .execute(
            "DELETE FROM taxii_objects WHERE collection_id = $1 AND stix_id = $2 AND row = ANY($3)",
            &[&collection_id, &stix_id, &rows],
        )
        .await?;
    client
        .execute(
            "UPDATE taxii_objects o SET is_first = (o.version = b.first), is_last = (o.version = b.last)
             FROM (SELECT min(version) AS first, max(version) AS last FROM taxii_objects
                   WHERE collection_id = $1 AND stix_id = $2) b
             WHERE o.collection_id = $1 AND o.stix_id = $2",
            &[&collection_id, &stix_id],
        )
        .await?;
    let digest = neretva_model::audit::digest_json(&(collection_id, stix_id, rows));
    audit(
        client,
        at,
        actor,
        "taxii.objects.delete",
        "taxii_object",
        format!("{collection_id}/{stix_id}"),
        digest,
    )
    .await?;
    Ok(deleted)
}

pub(crate) async fn get_status<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<Status>> {
    let statement = client
        .prepare_cached(
            "SELECT id, collection_id, user_id, org_id, request_timestamp, details FROM taxii_status WHERE id = $1",
        )
        .await?;
    let Some(row) = client.query_opt(&statement, &[&id]).await? else { return Ok(None) };
    let Json(details): Json<StatusDetails> = row.try_get(5)?;
    Ok(Some(Status {
        id: row.try_get(0)?,
        collection_id: row.try_get(1)?,
        user_id: row.try_get(2)?,
        org_id: row.try_get(3)?,
        request_timestamp: row.try_get(4)?,
        successes: details.successes,
        failures: details.failures,
        pendings: details.pendings,
    }))
}

pub(crate) async fn paging_key<C: GenericClient>(client: &C) -> Result<Vec<u8>> {
    let row = client.query_one("SELECT secret FROM taxii_keys WHERE name = 'paging'", &[]).await?;
    Ok(row.try_get(0)?)
}
