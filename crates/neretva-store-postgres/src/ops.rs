//! The operations behind the `Store` methods; the mutating ones run inside the caller's
//! transaction, after it has locked the audit head.

use neretva_store::encode::AssetRecord;
use std::collections::HashSet;

use deadpool_postgres::GenericClient;
use neretva_model::Timestamp;
use neretva_model::asset::{Asset, AssetKind, AssetValue};
use neretva_model::audit::{AuditEntry, AuditEvent, digest_json, next_entry};
use neretva_model::contact::{Contact, ContactFields, Language};
use neretva_model::org::{Organisation, OrganisationFields};
use neretva_model::user::{Token, User};
use neretva_store::{AuditQuery, LoginOutcome, NewToken, NewUser, Session, StoreError, UserPatch};
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::codec::{Error, Result, fold, parse, truncate};

// Audit.

/// Locks the audit head for the rest of the transaction and returns it. Every audited write
/// takes this lock first, so writers from all processes are serialised and keep one chain.
pub(crate) async fn lock_head<C: GenericClient>(client: &C) -> Result<(i64, String)> {
    let statement = client.prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE").await?;
    let row = client.query_one(&statement, &[]).await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Appends an entry after the head (locked in this transaction), and moves the head.
pub(crate) async fn append_audit<C: GenericClient>(
    client: &C,
    at: Timestamp,
    event: AuditEvent,
) -> Result<AuditEntry> {
    let (seq, hash) = lock_head(client).await?;
    let prev = (seq > 0).then_some((seq, hash.as_str()));
    let entry = next_entry(prev, at, event);
    let insert = client
        .prepare_cached(
            "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, digest,
                 prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .await?;
    client
        .execute(
            &insert,
            &[
                &entry.seq,
                &entry.at,
                &entry.event.actor,
                &entry.event.action,
                &entry.event.object_type,
                &entry.event.object_id,
                &entry.event.digest,
                &entry.prev_hash,
                &entry.hash,
            ],
        )
        .await?;
    let update = client.prepare_cached("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1").await?;
    client.execute(&update, &[&entry.seq, &entry.hash]).await?;
    Ok(entry)
}

/// Appends entries after the head (locked in this transaction) in one insert, and moves the
/// head once.
pub(crate) async fn append_audits<C: GenericClient>(
    client: &C,
    at: Timestamp,
    events: Vec<AuditEvent>,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let (mut seq, mut hash) = lock_head(client).await?;
    let mut entries = Vec::with_capacity(events.len());
    for event in events {
        let entry = next_entry((seq > 0).then_some((seq, hash.as_str())), at, event);
        seq = entry.seq;
        hash = entry.hash.clone();
        entries.push(entry);
    }
    let column = |f: fn(&AuditEntry) -> &str| entries.iter().map(f).collect::<Vec<&str>>();
    let seqs: Vec<i64> = entries.iter().map(|entry| entry.seq).collect();
    let times: Vec<Timestamp> = entries.iter().map(|entry| entry.at).collect();
    let insert = client
        .prepare_cached(
            "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, digest, prev_hash, hash)
             SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                 $6::text[], $7::text[], $8::text[], $9::text[])",
        )
        .await?;
    client
        .execute(
            &insert,
            &[
                &seqs,
                &times,
                &column(|e| &e.event.actor),
                &column(|e| &e.event.action),
                &column(|e| &e.event.object_type),
                &column(|e| &e.event.object_id),
                &column(|e| &e.event.digest),
                &column(|e| &e.prev_hash),
                &column(|e| &e.hash),
            ],
        )
        .await?;
    let update = client.prepare_cached("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1").await?;
    client.execute(&update, &[&seq, &hash]).await?;
    Ok(())
}

/// Records a change made by `actor` to an object.
async fn audit<C: GenericClient, T: Serialize + Sync>(
    client: &C,
    at: Timestamp,
    actor: &str,
    action: &str,
    object_type: &str,
    object_id: Uuid,
    object: &T,
) -> Result<AuditEntry> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id: object_id.to_string(),
        digest: digest_json(object),
    };
    append_audit(client, at, event).await
}

fn audit_from_row(row: &Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get(0)?,
        at: row.try_get(1)?,
        event: AuditEvent {
            actor: row.try_get(2)?,
            action: row.try_get(3)?,
            object_type: row.try_get(4)?,
            object_id: row.try_get(5)?,
            digest: row.try_get(6)?,
        },
        prev_hash: row.try_get(7)?,
        hash: row.try_get(8)?,
    })
}

/// The default and the largest page of the audit log.
const AUDIT_PAGE: (u32, u32) = (100, 10_000);

pub(crate) async fn list_audit<C: GenericClient>(client: &C, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let limit = match query.limit {
        0 => AUDIT_PAGE.0,
        limit => limit.min(AUDIT_PAGE.1),
    };
    let statement = client
        .prepare_cached(
            "SELECT seq, at, actor, action, object_type, object_id, digest, prev_hash, hash
             FROM audit_log
             WHERE seq > $1
               AND ($2::text IS NULL OR actor = $2)
               AND ($3::text IS NULL OR action = $3)
               AND ($4::text IS NULL OR object_id = $4)
               AND ($5::timestamptz IS NULL OR at >= $5)
               AND ($6::timestamptz IS NULL OR at < $6)
             ORDER BY seq
             LIMIT $7",
        )
        .await?;
    let rows = client
        .query(
            &statement,
            &[
                &query.after_seq,
                &query.actor,
                &query.action,
                &query.object_id,
                &query.since,
                &query.until,
                &i64::from(limit),
            ],
        )
        .await?;
    rows.iter().map(audit_from_row).collect()
}

pub(crate) async fn audit_head<C: GenericClient>(client: &C) -> Result<Option<(i64, String)>> {
    let statement = client.prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1").await?;
    let row = client.query_one(&statement, &[]).await?;
    let (seq, hash): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
    Ok((seq > 0).then_some((seq, hash)))
}

// Organisations.

const ORG_COLUMNS: &str = "o.id, o.name, o.short_name, o.address, o.country, o.sector, o.subsector,
    o.entity_type, o.authority_level, o.parent_id, o.created_at, o.updated_at";

pub(crate) fn org_from_row(row: &Row) -> Result<Organisation> {
    let entity_type: String = row.try_get(7)?;
    Ok(Organisation {
        id: row.try_get(0)?,
        fields: OrganisationFields {
            name: row.try_get(1)?,
            short_name: row.try_get(2)?,
            address: row.try_get(3)?,
            country: row.try_get(4)?,
            sector: row.try_get(5)?,
            subsector: row.try_get(6)?,
            entity_type: parse("entity_type", &entity_type)?,
            authority_level: row.try_get(8)?,
            parent_id: row.try_get(9)?,
        },
        created_at: row.try_get(10)?,
        updated_at: row.try_get(11)?,
    })
}

pub(crate) async fn get_org<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<Organisation>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations o WHERE o.id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(org_from_row).transpose()
}

pub(crate) async fn find_org<C: GenericClient>(client: &C, short_name: &str) -> Result<Option<Organisation>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations o WHERE o.short_name_key = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&fold(short_name)]).await?.as_ref().map(org_from_row).transpose()
}

pub(crate) async fn list_orgs<C: GenericClient>(client: &C) -> Result<Vec<Organisation>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations o ORDER BY o.name_key COLLATE \"C\", o.id");
    let statement = client.prepare_cached(&sql).await?;
    client.query(&statement, &[]).await?.iter().map(org_from_row).collect()
}

async fn org_exists<C: GenericClient>(client: &C, id: Uuid) -> Result<bool> {
    let statement = client.prepare_cached("SELECT 1 FROM organisations WHERE id = $1").await?;
    Ok(client.query_opt(&statement, &[&id]).await?.is_some())
}

async fn require_org<C: GenericClient>(client: &C, id: Uuid) -> Result<()> {
    if org_exists(client, id).await? { Ok(()) } else { Err(StoreError::not_found("organisation", id).into()) }
}

async fn parent_of<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<Option<Uuid>>> {
    let statement = client.prepare_cached("SELECT parent_id FROM organisations WHERE id = $1").await?;
    match client.query_opt(&statement, &[&id]).await? {
        Some(row) => Ok(Some(row.try_get(0)?)),
        None => Ok(None),
    }
}

/// Checks that `parent` exists and that making it the parent of `child` makes no cycle.
async fn check_parent<C: GenericClient>(client: &C, child: Option<Uuid>, parent: Option<Uuid>) -> Result<()> {
    let Some(parent) = parent else { return Ok(()) };
    let unknown = || StoreError::conflict("parent_id", format!("unknown parent organisation {parent}"));
    let Some(mut next) = parent_of(client, parent).await? else {
        return Err(unknown().into());
    };
    let Some(child) = child else { return Ok(()) };
    let cycle =
        || StoreError::conflict("parent_id", "the parent would make the organisation its own ancestor");
    if parent == child {
        return Err(cycle().into());
    }
    let mut seen = HashSet::from([parent]);
    while let Some(ancestor) = next {
        if ancestor == child {
            return Err(cycle().into());
        }
        if !seen.insert(ancestor) {
            break;
        }
        next = parent_of(client, ancestor).await?.flatten();
    }
    Ok(())
}

async fn insert_org<C: GenericClient>(client: &C, org: &Organisation) -> Result<()> {
    let statement = client
        .prepare_cached(
            "INSERT INTO organisations (id, name, name_key, short_name, short_name_key, address,
                 country, sector, subsector, entity_type, authority_level, parent_id, created_at,
                 updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .await?;
    let fields = &org.fields;
    client
        .execute(
            &statement,
            &[
                &org.id,
                &fields.name,
                &fold(&fields.name),
                &fields.short_name,
                &fold(&fields.short_name),
                &fields.address,
                &fields.country,
                &fields.sector,
                &fields.subsector,
                &fields.entity_type.as_str(),
                &fields.authority_level,
                &fields.parent_id,
                &org.created_at,
                &org.updated_at,
            ],
        )
        .await?;
    Ok(())
}

pub(crate) async fn write_org<C: GenericClient>(client: &C, org: &Organisation) -> Result<()> {
    let statement = client
        .prepare_cached(
            "UPDATE organisations SET name = $2, name_key = $3, short_name = $4,
                 short_name_key = $5, address = $6, country = $7, sector = $8, subsector = $9,
                 entity_type = $10, authority_level = $11, parent_id = $12, updated_at = $13
             WHERE id = $1",
        )
        .await?;
    let fields = &org.fields;
    client
        .execute(
            &statement,
            &[
                &org.id,
                &fields.name,
                &fold(&fields.name),
                &fields.short_name,
                &fold(&fields.short_name),
                &fields.address,
                &fields.country,
                &fields.sector,
                &fields.subsector,
                &fields.entity_type.as_str(),
                &fields.authority_level,
                &fields.parent_id,
                &org.updated_at,
            ],
        )
        .await?;
    Ok(())
}

pub(crate) async fn create_org<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    fields: &OrganisationFields,
) -> Result<Organisation> {
    check_parent(client, None, fields.parent_id).await?;
    let org = Organisation { id: Uuid::now_v7(), fields: fields.clone(), created_at: at, updated_at: at };
    insert_org(client, &org).await?;
    audit(client, at, actor, "org.create", "organisation", org.id, &org).await?;
    Ok(org)
}

pub(crate) async fn update_org<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    fields: &OrganisationFields,
) -> Result<Organisation> {
    let existing = get_org(client, id).await?.ok_or_else(|| StoreError::not_found("organisation", id))?;
    check_parent(client, Some(id), fields.parent_id).await?;
    let org = Organisation { id, fields: fields.clone(), created_at: existing.created_at, updated_at: at };
    write_org(client, &org).await?;
    audit(client, at, actor, "org.update", "organisation", id, &org).await?;
    Ok(org)
}

async fn count<C: GenericClient>(client: &C, sql: &str, id: Uuid) -> Result<i64> {
    let statement = client.prepare_cached(sql).await?;
    Ok(client.query_one(&statement, &[&id]).await?.try_get(0)?)
}

pub(crate) async fn delete_org<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
) -> Result<()> {
    let org = get_org(client, id).await?.ok_or_else(|| StoreError::not_found("organisation", id))?;
    let users = count(client, "SELECT count(*) FROM users WHERE org_id = $1", id).await?;
    if users > 0 {
        let message = format!("the organisation still has {users} users");
        return Err(StoreError::conflict("users", message).into());
    }
    let children = count(client, "SELECT count(*) FROM organisations WHERE parent_id = $1", id).await?;
    if children > 0 {
        let message = format!("the organisation is the parent of {children} organisations");
        return Err(StoreError::conflict("children", message).into());
    }
    let statement = client.prepare_cached("DELETE FROM organisations WHERE id = $1").await?;
    client.execute(&statement, &[&id]).await?;
    audit(client, at, actor, "org.delete", "organisation", id, &org).await?;
    Ok(())
}

// Contacts.

const CONTACT_COLUMNS: &str = "c.id, c.org_id, c.name, c.role, c.email, c.phone, c.languages,
    c.pgp_key, c.pgp_fingerprint, c.created_at, c.clearance";

pub(crate) fn languages_from_tags(tags: &[String]) -> Result<Vec<Language>> {
    tags.iter().map(|tag| parse("languages", tag)).collect()
}

pub(crate) fn language_tags(languages: &[Language]) -> Vec<String> {
    languages.iter().map(|language| language.tag().to_owned()).collect()
}

pub(crate) fn contact_from_row(row: &Row) -> Result<Contact> {
    let tags: Vec<String> = row.try_get(6)?;
    Ok(Contact {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        fields: ContactFields {
            name: row.try_get(2)?,
            role: row.try_get(3)?,
            email: row.try_get(4)?,
            phone: row.try_get(5)?,
            languages: languages_from_tags(&tags)?,
            pgp_key: row.try_get(7)?,
            clearance: row
                .try_get::<_, Option<String>>(10)?
                .map(|text| {
                    text.parse::<neretva_model::tlp::Tlp>()
                        .map_err(|error| StoreError::Backend(format!("contact clearance: {error}")))
                })
                .transpose()?,
        },
        pgp_fingerprint: row.try_get(8)?,
        created_at: row.try_get(9)?,
    })
}

pub(crate) async fn get_contact<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<Contact>> {
    let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(contact_from_row).transpose()
}

pub(crate) async fn list_contacts<C: GenericClient>(
    client: &C,
    org_id: Option<Uuid>,
) -> Result<Vec<Contact>> {
    let sql = format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c JOIN organisations o ON o.id = c.org_id
         WHERE $1::uuid IS NULL OR c.org_id = $1
         ORDER BY o.name_key COLLATE \"C\", c.org_id, c.name COLLATE \"C\", c.id"
    );
    let statement = client.prepare_cached(&sql).await?;
    client.query(&statement, &[&org_id]).await?.iter().map(contact_from_row).collect()
}

pub(crate) async fn create_contact<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    org_id: Uuid,
    fields: &ContactFields,
    pgp_fingerprint: Option<&str>,
) -> Result<Contact> {
    require_org(client, org_id).await?;
    let contact = Contact {
        id: Uuid::now_v7(),
        org_id,
        fields: fields.clone(),
        pgp_fingerprint: pgp_fingerprint.map(str::to_owned),
        created_at: at,
    };
    let statement = client
        .prepare_cached(
            "INSERT INTO contacts (id, org_id, name, role, email, phone, languages, pgp_key,
                 pgp_fingerprint, created_at, clearance)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &contact.id,
                &contact.org_id,
                &fields.name,
                &fields.role,
                &fields.email,
                &fields.phone,
                &language_tags(&fields.languages),
                &fields.pgp_key,
                &contact.pgp_fingerprint,
                &contact.created_at,
                &fields.clearance.map(|tlp| tlp.label()),
            ],
        )
        .await?;
    audit(client, at, actor, "contact.create", "contact", contact.id, &contact).await?;
    Ok(contact)
}

pub(crate) async fn update_contact<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    fields: &ContactFields,
    pgp_fingerprint: Option<&str>,
) -> Result<Contact> {
    let existing = get_contact(client, id).await?.ok_or_else(|| StoreError::not_found("contact", id))?;
    let contact =
        Contact { fields: fields.clone(), pgp_fingerprint: pgp_fingerprint.map(str::to_owned), ..existing };
    let statement = client
        .prepare_cached(
            "UPDATE contacts SET name = $2, role = $3, email = $4, phone = $5, languages = $6,
                 pgp_key = $7, pgp_fingerprint = $8, clearance = $9
             WHERE id = $1",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &id,
                &fields.name,
                &fields.role,
                &fields.email,
                &fields.phone,
                &language_tags(&fields.languages),
                &fields.pgp_key,
                &contact.pgp_fingerprint,
                &fields.clearance.map(|tlp| tlp.label()),
            ],
        )
        .await?;
    audit(client, at, actor, "contact.update", "contact", id, &contact).await?;
    Ok(contact)
}

pub(crate) async fn delete_contact<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
) -> Result<()> {
    let contact = get_contact(client, id).await?.ok_or_else(|| StoreError::not_found("contact", id))?;
    let statement = client.prepare_cached("DELETE FROM contacts WHERE id = $1").await?;
    client.execute(&statement, &[&id]).await?;
    audit(client, at, actor, "contact.delete", "contact", id, &contact).await?;
    Ok(())
}

// Assets.

const ASSET_COLUMNS: &str = "a.id, a.org_id, a.kind, a.value, a.description, a.created_at";

pub(crate) fn asset_value(kind: &str, value: &str) -> Result<AssetValue> {
    let kind: AssetKind = parse("kind", kind)?;
    AssetValue::parse(kind, value)
        .map_err(|error| Error(StoreError::Backend(format!("column value holds {value:?}: {error}"))))
}

pub(crate) fn asset_from_row(row: &Row) -> Result<Asset> {
    let kind: String = row.try_get(2)?;
    let value: String = row.try_get(3)?;
    Ok(Asset {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        value: asset_value(&kind, &value)?,
        description: row.try_get(4)?,
        created_at: row.try_get(5)?,
    })
}

pub(crate) async fn get_asset<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<Asset>> {
    let sql = format!("SELECT {ASSET_COLUMNS} FROM assets a WHERE a.id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(asset_from_row).transpose()
}

pub(crate) async fn list_assets<C: GenericClient>(client: &C, org_id: Option<Uuid>) -> Result<Vec<Asset>> {
    let sql = format!(
        "SELECT {ASSET_COLUMNS}, o.name_key FROM assets a JOIN organisations o ON o.id = a.org_id
         WHERE $1::uuid IS NULL OR a.org_id = $1"
    );
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &[&org_id]).await?;
    let mut assets = rows
        .iter()
        .map(|row| Ok((row.try_get::<_, String>(6)?, asset_from_row(row)?)))
        .collect::<Result<Vec<_>>>()?;
    // The model's order (kind, then addresses numerically) is not the text's, so Rust sorts.
    assets.sort_by(|(a_key, a), (b_key, b)| {
        (a_key, a.org_id, &a.value, a.id).cmp(&(b_key, b.org_id, &b.value, b.id))
    });
    Ok(assets.into_iter().map(|(_, asset)| asset).collect())
}

pub(crate) async fn add_asset<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    org_id: Uuid,
    value: &AssetValue,
    description: Option<&str>,
) -> Result<Asset> {
    require_org(client, org_id).await?;
    let asset = Asset {
        id: Uuid::now_v7(),
        org_id,
        value: value.clone(),
        description: description.map(str::to_owned),
        created_at: at,
    };
    let statement = client
        .prepare_cached(
            "INSERT INTO assets (id, org_id, kind, value, description, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &asset.id,
                &asset.org_id,
                &asset.value.kind().as_str(),
                &asset.value.to_string(),
                &asset.description,
                &asset.created_at,
            ],
        )
        .await?;
    audit(client, at, actor, "asset.add", "asset", asset.id, &AssetRecord::from(&asset)).await?;
    Ok(asset)
}

pub(crate) async fn delete_asset<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
) -> Result<()> {
    let asset = get_asset(client, id).await?.ok_or_else(|| StoreError::not_found("asset", id))?;
    let statement = client.prepare_cached("DELETE FROM assets WHERE id = $1").await?;
    client.execute(&statement, &[&id]).await?;
    audit(client, at, actor, "asset.delete", "asset", id, &AssetRecord::from(&asset)).await?;
    Ok(())
}

// Users.

const USER_COLUMNS: &str = "u.id, u.org_id, u.username, u.display_name, u.email, u.role,
    u.language, u.disabled, u.failed_logins, u.locked_until, u.last_login_at, u.created_at, u.sectors";

fn user_from_row(row: &Row) -> Result<User> {
    let role: String = row.try_get(5)?;
    let language: Option<String> = row.try_get(6)?;
    let failed_logins: i32 = row.try_get(8)?;
    Ok(User {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        username: row.try_get(2)?,
        display_name: row.try_get(3)?,
        email: row.try_get(4)?,
        role: parse("role", &role)?,
        language: language.as_deref().map(|tag| parse("language", tag)).transpose()?,
        disabled: row.try_get(7)?,
        failed_logins: u32::try_from(failed_logins).unwrap_or(0),
        locked_until: row.try_get(9)?,
        last_login_at: row.try_get(10)?,
        created_at: row.try_get(11)?,
        sectors: row.try_get(12)?,
    })
}

pub(crate) async fn get_user<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(user_from_row).transpose()
}

async fn require_user<C: GenericClient>(client: &C, id: Uuid) -> Result<User> {
    Ok(get_user(client, id).await?.ok_or_else(|| StoreError::not_found("user", id))?)
}

pub(crate) async fn find_user<C: GenericClient>(client: &C, username: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&username]).await?.as_ref().map(user_from_row).transpose()
}

pub(crate) async fn list_users<C: GenericClient>(client: &C, org_id: Option<Uuid>) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE $1::uuid IS NULL OR u.org_id = $1
         ORDER BY u.username COLLATE \"C\""
    );
    let statement = client.prepare_cached(&sql).await?;
    client.query(&statement, &[&org_id]).await?.iter().map(user_from_row).collect()
}

pub(crate) async fn create_user<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    new: &NewUser,
) -> Result<User> {
    require_org(client, new.org_id).await?;
    let user = User {
        id: Uuid::now_v7(),
        org_id: new.org_id,
        username: new.username.clone(),
        display_name: new.display_name.clone(),
        email: new.email.clone(),
        role: new.role,
        sectors: new.sectors.clone(),
        language: new.language,
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        last_login_at: None,
        created_at: at,
    };
    let statement = client
        .prepare_cached(
            "INSERT INTO users (id, org_id, username, display_name, email, role, language,
                 password_hash, created_at, sectors)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &user.id,
                &user.org_id,
                &user.username,
                &user.display_name,
                &user.email,
                &user.role.as_str(),
                &user.language.map(|language| language.tag()),
                &new.password_hash,
                &at,
                &user.sectors,
            ],
        )
        .await?;
    audit(client, at, actor, "user.create", "user", user.id, &user).await?;
    Ok(user)
}

pub(crate) async fn update_user<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    patch: &UserPatch,
) -> Result<User> {
    let mut user = require_user(client, id).await?;
    if let Some(display_name) = &patch.display_name {
        user.display_name.clone_from(display_name);
    }
    if let Some(email) = &patch.email {
        user.email.clone_from(email);
    }
    if let Some(role) = patch.role {
        user.role = role;
    }
    if let Some(sectors) = &patch.sectors {
        user.sectors.clone_from(sectors);
    }
    if let Some(language) = patch.language {
        user.language = language;
    }
    if let Some(org_id) = patch.org_id {
        require_org(client, org_id).await?;
        user.org_id = org_id;
    }
    let statement = client
        .prepare_cached(
            "UPDATE users SET display_name = $2, email = $3, role = $4, language = $5, org_id = $6,
                 sectors = $7
             WHERE id = $1",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &id,
                &user.display_name,
                &user.email,
                &user.role.as_str(),
                &user.language.map(|language| language.tag()),
                &user.org_id,
                &user.sectors,
            ],
        )
        .await?;
    audit(client, at, actor, "user.update", "user", id, &user).await?;
    Ok(user)
}

pub(crate) async fn password_hash<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<String>> {
    let statement = client.prepare_cached("SELECT password_hash FROM users WHERE id = $1").await?;
    match client.query_opt(&statement, &[&id]).await? {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(StoreError::not_found("user", id).into()),
    }
}

pub(crate) async fn set_password<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    password_hash: &str,
) -> Result<()> {
    let user = require_user(client, id).await?;
    let statement = client.prepare_cached("UPDATE users SET password_hash = $2 WHERE id = $1").await?;
    client.execute(&statement, &[&id, &password_hash]).await?;
    audit(client, at, actor, "user.password", "user", id, &user).await?;
    Ok(())
}

pub(crate) async fn set_user_disabled<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    disabled: bool,
) -> Result<User> {
    let mut user = require_user(client, id).await?;
    user.disabled = disabled;
    let statement = client.prepare_cached("UPDATE users SET disabled = $2 WHERE id = $1").await?;
    client.execute(&statement, &[&id, &disabled]).await?;
    if disabled {
        delete_user_sessions(client, id).await?;
    }
    let action = if disabled { "user.disable" } else { "user.enable" };
    audit(client, at, actor, action, "user", id, &user).await?;
    Ok(user)
}

pub(crate) async fn unlock_user<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
) -> Result<User> {
    let mut user = require_user(client, id).await?;
    user.failed_logins = 0;
    user.locked_until = None;
    let statement = client
        .prepare_cached("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .await?;
    client.execute(&statement, &[&id]).await?;
    audit(client, at, actor, "user.unlock", "user", id, &user).await?;
    Ok(user)
}

pub(crate) async fn record_login<C: GenericClient>(
    client: &C,
    id: Uuid,
    outcome: LoginOutcome,
) -> Result<User> {
    let mut user = require_user(client, id).await?;
    let actor = format!("user:{}", user.username);
    match outcome {
        LoginOutcome::Success { at } => {
            user.failed_logins = 0;
            user.locked_until = None;
            user.last_login_at = Some(truncate(at));
            let statement = client
                .prepare_cached(
                    "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $2
                     WHERE id = $1",
                )
                .await?;
            client.execute(&statement, &[&id, &user.last_login_at]).await?;
            audit(client, at, &actor, "user.login", "user", id, &user).await?;
        }
        LoginOutcome::Failure { at, lock_until } => {
            // Count in the database, so concurrent failures from several processes all count.
            let statement = client
                .prepare_cached(
                    "UPDATE users SET failed_logins = failed_logins + 1,
                         locked_until = coalesce($2, locked_until)
                     WHERE id = $1
                     RETURNING failed_logins, locked_until",
                )
                .await?;
            let row = client.query_one(&statement, &[&id, &lock_until.map(truncate)]).await?;
            let failed_logins: i32 = row.try_get(0)?;
            user.failed_logins = u32::try_from(failed_logins).unwrap_or(0);
            user.locked_until = row.try_get(1)?;
            if lock_until.is_some() {
                audit(client, at, &actor, "user.lockout", "user", id, &user).await?;
            }
        }
    }
    Ok(user)
}

// Tokens.

const TOKEN_COLUMNS: &str = "t.id, t.user_id, t.name, t.scope, t.created_at, t.expires_at,
    t.revoked_at, t.last_used_at, t.secret_hash";

fn token_from_row(row: &Row) -> Result<(Token, String)> {
    let scope: String = row.try_get(3)?;
    let token = Token {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        name: row.try_get(2)?,
        scope: parse("scope", &scope)?,
        created_at: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        revoked_at: row.try_get(6)?,
        last_used_at: row.try_get(7)?,
    };
    Ok((token, row.try_get(8)?))
}

pub(crate) async fn get_token<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<(Token, String)>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(token_from_row).transpose()
}

pub(crate) async fn list_tokens<C: GenericClient>(client: &C, user_id: Option<Uuid>) -> Result<Vec<Token>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens t WHERE $1::uuid IS NULL OR t.user_id = $1
         ORDER BY t.created_at DESC, t.id DESC"
    );
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &[&user_id]).await?;
    rows.iter().map(|row| Ok(token_from_row(row)?.0)).collect()
}

pub(crate) async fn create_token<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    new: &NewToken,
) -> Result<Token> {
    require_user(client, new.user_id).await?;
    let token = Token {
        id: new.id,
        user_id: new.user_id,
        name: new.name.clone(),
        scope: new.scope,
        created_at: at,
        expires_at: new.expires_at.map(truncate),
        revoked_at: None,
        last_used_at: None,
    };
    let statement = client
        .prepare_cached(
            "INSERT INTO tokens (id, user_id, name, scope, secret_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &token.id,
                &token.user_id,
                &token.name,
                &token.scope.as_str(),
                &new.secret_hash,
                &at,
                &token.expires_at,
            ],
        )
        .await?;
    audit(client, at, actor, "token.create", "token", token.id, &token).await?;
    Ok(token)
}

pub(crate) async fn revoke_token<C: GenericClient>(
    client: &C,
    now: Timestamp,
    actor: &str,
    id: Uuid,
    at: Timestamp,
) -> Result<Token> {
    let (mut token, _) = get_token(client, id).await?.ok_or_else(|| StoreError::not_found("token", id))?;
    // A second revocation keeps the first one's time.
    if token.revoked_at.is_none() {
        token.revoked_at = Some(truncate(at));
        let statement = client.prepare_cached("UPDATE tokens SET revoked_at = $2 WHERE id = $1").await?;
        client.execute(&statement, &[&id, &token.revoked_at]).await?;
    }
    audit(client, now, actor, "token.revoke", "token", id, &token).await?;
    Ok(token)
}

pub(crate) async fn touch_token<C: GenericClient>(client: &C, id: Uuid, at: Timestamp) -> Result<()> {
    let statement = client.prepare_cached("UPDATE tokens SET last_used_at = $2 WHERE id = $1").await?;
    if client.execute(&statement, &[&id, &truncate(at)]).await? == 0 {
        return Err(StoreError::not_found("token", id).into());
    }
    Ok(())
}

// Sessions.

/// Adds a session for an enabled user. The user's row is share-locked first: a concurrent
/// `set_user_disabled` either waits for this session and then deletes it, or commits first and
/// this refuses.
pub(crate) async fn create_session<C: GenericClient>(client: &C, session: &Session) -> Result<()> {
    let lock = client.prepare_cached("SELECT disabled FROM users WHERE id = $1 FOR SHARE").await?;
    let Some(row) = client.query_opt(&lock, &[&session.user_id]).await? else {
        return Err(StoreError::not_found("user", session.user_id).into());
    };
    if row.try_get::<_, bool>(0)? {
        return Err(StoreError::conflict("user_id", "the user is disabled").into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO sessions (id, user_id, secret_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[&session.id, &session.user_id, &session.secret_hash, &session.created_at, &session.expires_at],
        )
        .await?;
    Ok(())
}

pub(crate) async fn get_session<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<Session>> {
    let statement = client
        .prepare_cached("SELECT id, user_id, secret_hash, created_at, expires_at FROM sessions WHERE id = $1")
        .await?;
    let Some(row) = client.query_opt(&statement, &[&id]).await? else {
        return Ok(None);
    };
    Ok(Some(Session {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        secret_hash: row.try_get(2)?,
        created_at: row.try_get(3)?,
        expires_at: row.try_get(4)?,
    }))
}

pub(crate) async fn delete_session<C: GenericClient>(client: &C, id: Uuid) -> Result<()> {
    let statement = client.prepare_cached("DELETE FROM sessions WHERE id = $1").await?;
    client.execute(&statement, &[&id]).await?;
    Ok(())
}

pub(crate) async fn delete_user_sessions<C: GenericClient>(client: &C, user_id: Uuid) -> Result<u64> {
    let statement = client.prepare_cached("DELETE FROM sessions WHERE user_id = $1").await?;
    Ok(client.execute(&statement, &[&user_id]).await?)
}

pub(crate) async fn delete_expired_sessions<C: GenericClient>(client: &C, now: Timestamp) -> Result<u64> {
    let statement = client.prepare_cached("DELETE FROM sessions WHERE expires_at <= $1").await?;
    Ok(client.execute(&statement, &[&now]).await?)
}

/// Appends the audit entry of a change to one object (`kind`, `id`) in the caller's transaction.
pub(crate) async fn audit_object<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    action: &str,
    kind: &str,
    id: String,
    digest: String,
) -> Result<()> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: kind.to_owned(),
        object_id: id,
        digest,
    };
    append_audit(client, at, event).await?;
    Ok(())
}
