//! The synchronous operations behind the `Store` methods; each runs on one connection, and the
//! mutating ones inside the caller's write transaction.

use neretva_store::encode::AssetRecord;
use std::collections::HashSet;

use neretva_model::Timestamp;
use neretva_model::asset::{Asset, AssetKind, AssetValue};
use neretva_model::audit::{AuditEntry, AuditEvent, digest_json, next_entry};
use neretva_model::contact::{Contact, ContactFields};
use neretva_model::org::{Organisation, OrganisationFields};
use neretva_model::user::{Token, User};
use neretva_store::{AuditQuery, LoginOutcome, NewToken, NewUser, Session, StoreError, UserPatch};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use uuid::Uuid;

use crate::codec::{
    Result, fold, json_col, micros, opt_micros, opt_parse_col, opt_time_col, opt_uuid_col, parse_col,
    time_col, uuid_col,
};

// Audit.

/// Appends an entry after the head read in this transaction, and moves the head.
pub(crate) fn append_audit(conn: &Connection, at: Timestamp, event: AuditEvent) -> Result<AuditEntry> {
    let (seq, hash): (i64, String) = conn
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let prev = (seq > 0).then_some((seq, hash.as_str()));
    let entry = next_entry(prev, at, event);
    conn.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, digest, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        entry.seq,
        micros(entry.at),
        entry.event.actor,
        entry.event.action,
        entry.event.object_type,
        entry.event.object_id,
        entry.event.digest,
        entry.prev_hash,
        entry.hash,
    ])?;
    conn.prepare_cached("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1")?
        .execute(params![entry.seq, entry.hash])?;
    Ok(entry)
}

/// Records a change made by `actor` to an object.
fn audit<T: Serialize>(
    conn: &Connection,
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
    append_audit(conn, at, event)
}

fn audit_from_row(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.get(0)?,
        at: time_col(row, 1)?,
        event: AuditEvent {
            actor: row.get(2)?,
            action: row.get(3)?,
            object_type: row.get(4)?,
            object_id: row.get(5)?,
            digest: row.get(6)?,
        },
        prev_hash: row.get(7)?,
        hash: row.get(8)?,
    })
}

/// The default and the largest page of the audit log.
const AUDIT_PAGE: (u32, u32) = (100, 10_000);

pub(crate) fn list_audit(conn: &Connection, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let limit = match query.limit {
        0 => AUDIT_PAGE.0,
        limit => limit.min(AUDIT_PAGE.1),
    };
    let mut statement = conn.prepare_cached(
        "SELECT seq, at, actor, action, object_type, object_id, digest, prev_hash, hash
         FROM audit_log
         WHERE seq > ?1
           AND (?2 IS NULL OR actor = ?2)
           AND (?3 IS NULL OR action = ?3)
           AND (?4 IS NULL OR object_id = ?4)
           AND (?5 IS NULL OR at >= ?5)
           AND (?6 IS NULL OR at < ?6)
         ORDER BY seq
         LIMIT ?7",
    )?;
    let rows = statement.query_map(
        params![
            query.after_seq,
            query.actor,
            query.action,
            query.object_id,
            opt_micros(query.since),
            opt_micros(query.until),
            i64::from(limit)
        ],
        audit_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn audit_head(conn: &Connection) -> Result<Option<(i64, String)>> {
    let (seq, hash): (i64, String) = conn
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok((seq > 0).then_some((seq, hash)))
}

// Organisations.

const ORG_COLUMNS: &str = "o.id, o.name, o.short_name, o.address, o.country, o.sector, o.subsector,
    o.entity_type, o.authority_level, o.parent_id, o.created_at, o.updated_at";

pub(crate) fn org_from_row(row: &Row<'_>) -> rusqlite::Result<Organisation> {
    Ok(Organisation {
        id: uuid_col(row, 0)?,
        fields: OrganisationFields {
            name: row.get(1)?,
            short_name: row.get(2)?,
            address: row.get(3)?,
            country: row.get(4)?,
            sector: row.get(5)?,
            subsector: row.get(6)?,
            entity_type: parse_col(row, 7)?,
            authority_level: row.get(8)?,
            parent_id: opt_uuid_col(row, 9)?,
        },
        created_at: time_col(row, 10)?,
        updated_at: time_col(row, 11)?,
    })
}

pub(crate) fn get_org(conn: &Connection, id: Uuid) -> Result<Option<Organisation>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations o WHERE o.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], org_from_row).optional()?)
}

pub(crate) fn find_org(conn: &Connection, short_name: &str) -> Result<Option<Organisation>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations o WHERE o.short_name_key = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([fold(short_name)], org_from_row).optional()?)
}

pub(crate) fn list_orgs(conn: &Connection) -> Result<Vec<Organisation>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations o ORDER BY o.name_key, o.id");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([], org_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn org_exists(conn: &Connection, id: Uuid) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM organisations WHERE id = ?1")?
        .query_row([id.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

fn require_org(conn: &Connection, id: Uuid) -> Result<()> {
    if org_exists(conn, id)? { Ok(()) } else { Err(StoreError::not_found("organisation", id).into()) }
}

fn parent_of(conn: &Connection, id: Uuid) -> Result<Option<Option<Uuid>>> {
    Ok(conn
        .prepare_cached("SELECT parent_id FROM organisations WHERE id = ?1")?
        .query_row([id.to_string()], |row| opt_uuid_col(row, 0))
        .optional()?)
}

/// Checks that `parent` exists and that making it the parent of `child` makes no cycle.
fn check_parent(conn: &Connection, child: Option<Uuid>, parent: Option<Uuid>) -> Result<()> {
    let Some(parent) = parent else { return Ok(()) };
    let unknown = || StoreError::conflict("parent_id", format!("unknown parent organisation {parent}"));
    let Some(mut next) = parent_of(conn, parent)? else {
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
        next = parent_of(conn, ancestor)?.flatten();
    }
    Ok(())
}

pub(crate) fn insert_org(conn: &Connection, org: &Organisation) -> Result<()> {
    let fields = &org.fields;
    conn.prepare_cached(
        "INSERT INTO organisations (id, name, name_key, short_name, short_name_key, address, country,
             sector, subsector, entity_type, authority_level, parent_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        org.id.to_string(),
        fields.name,
        fold(&fields.name),
        fields.short_name,
        fold(&fields.short_name),
        fields.address,
        fields.country,
        fields.sector,
        fields.subsector,
        fields.entity_type.as_str(),
        fields.authority_level,
        fields.parent_id.map(|id| id.to_string()),
        micros(org.created_at),
        micros(org.updated_at),
    ])?;
    Ok(())
}

pub(crate) fn write_org(conn: &Connection, org: &Organisation) -> Result<()> {
    let fields = &org.fields;
    conn.prepare_cached(
        "UPDATE organisations SET name = ?2, name_key = ?3, short_name = ?4, short_name_key = ?5,
             address = ?6, country = ?7, sector = ?8, subsector = ?9, entity_type = ?10,
             authority_level = ?11, parent_id = ?12, updated_at = ?13
         WHERE id = ?1",
    )?
    .execute(params![
        org.id.to_string(),
        fields.name,
        fold(&fields.name),
        fields.short_name,
        fold(&fields.short_name),
        fields.address,
        fields.country,
        fields.sector,
        fields.subsector,
        fields.entity_type.as_str(),
        fields.authority_level,
        fields.parent_id.map(|id| id.to_string()),
        micros(org.updated_at),
    ])?;
    Ok(())
}

pub(crate) fn create_org(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    fields: &OrganisationFields,
) -> Result<Organisation> {
    check_parent(conn, None, fields.parent_id)?;
    let org = Organisation { id: Uuid::now_v7(), fields: fields.clone(), created_at: at, updated_at: at };
    insert_org(conn, &org)?;
    audit(conn, at, actor, "org.create", "organisation", org.id, &org)?;
    Ok(org)
}

pub(crate) fn update_org(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    fields: &OrganisationFields,
) -> Result<Organisation> {
    let existing = get_org(conn, id)?.ok_or_else(|| StoreError::not_found("organisation", id))?;
    check_parent(conn, Some(id), fields.parent_id)?;
    let org = Organisation { id, fields: fields.clone(), created_at: existing.created_at, updated_at: at };
    write_org(conn, &org)?;
    audit(conn, at, actor, "org.update", "organisation", id, &org)?;
    Ok(org)
}

pub(crate) fn delete_org(conn: &Connection, at: Timestamp, actor: &str, id: Uuid) -> Result<()> {
    let org = get_org(conn, id)?.ok_or_else(|| StoreError::not_found("organisation", id))?;
    let users: i64 = conn
        .prepare_cached("SELECT count(*) FROM users WHERE org_id = ?1")?
        .query_row([id.to_string()], |row| row.get(0))?;
    if users > 0 {
        let message = format!("the organisation still has {users} users");
        return Err(StoreError::conflict("users", message).into());
    }
    let children: i64 = conn
        .prepare_cached("SELECT count(*) FROM organisations WHERE parent_id = ?1")?
        .query_row([id.to_string()], |row| row.get(0))?;
    if children > 0 {
        let message = format!("the organisation is the parent of {children} organisations");
        return Err(StoreError::conflict("children", message).into());
    }
    conn.prepare_cached("DELETE FROM organisations WHERE id = ?1")?.execute([id.to_string()])?;
    audit(conn, at, actor, "org.delete", "organisation", id, &org)?;
    Ok(())
}

// Contacts.

const CONTACT_COLUMNS: &str = "c.id, c.org_id, c.name, c.role, c.email, c.phone, c.languages,
    c.pgp_key, c.pgp_fingerprint, c.created_at, c.clearance";

pub(crate) fn contact_from_row(row: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: uuid_col(row, 0)?,
        org_id: uuid_col(row, 1)?,
        fields: ContactFields {
            name: row.get(2)?,
            role: row.get(3)?,
            email: row.get(4)?,
            phone: row.get(5)?,
            languages: json_col(row, 6)?,
            pgp_key: row.get(7)?,
            clearance: match row.get::<_, Option<String>>(10)? {
                None => None,
                Some(_) => Some(parse_col(row, 10)?),
            },
        },
        pgp_fingerprint: row.get(8)?,
        created_at: time_col(row, 9)?,
    })
}

pub(crate) fn get_contact(conn: &Connection, id: Uuid) -> Result<Option<Contact>> {
    let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], contact_from_row).optional()?)
}

pub(crate) fn list_contacts(conn: &Connection, org_id: Option<Uuid>) -> Result<Vec<Contact>> {
    let sql = format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c JOIN organisations o ON o.id = c.org_id
         WHERE ?1 IS NULL OR c.org_id = ?1
         ORDER BY o.name_key, c.org_id, c.name, c.id"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([org_id.map(|id| id.to_string())], contact_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn insert_contact(conn: &Connection, contact: &Contact) -> Result<()> {
    let fields = &contact.fields;
    conn.prepare_cached(
        "INSERT INTO contacts (id, org_id, name, role, email, phone, languages, pgp_key,
             pgp_fingerprint, created_at, clearance)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        contact.id.to_string(),
        contact.org_id.to_string(),
        fields.name,
        fields.role,
        fields.email,
        fields.phone,
        serde_json::to_string(&fields.languages)?,
        fields.pgp_key,
        contact.pgp_fingerprint,
        micros(contact.created_at),
        fields.clearance.map(|tlp| tlp.label()),
    ])?;
    Ok(())
}

pub(crate) fn create_contact(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    org_id: Uuid,
    fields: &ContactFields,
    pgp_fingerprint: Option<&str>,
) -> Result<Contact> {
    require_org(conn, org_id)?;
    let contact = Contact {
        id: Uuid::now_v7(),
        org_id,
        fields: fields.clone(),
        pgp_fingerprint: pgp_fingerprint.map(str::to_owned),
        created_at: at,
    };
    insert_contact(conn, &contact)?;
    audit(conn, at, actor, "contact.create", "contact", contact.id, &contact)?;
    Ok(contact)
}

pub(crate) fn update_contact(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    fields: &ContactFields,
    pgp_fingerprint: Option<&str>,
) -> Result<Contact> {
    let existing = get_contact(conn, id)?.ok_or_else(|| StoreError::not_found("contact", id))?;
    let contact =
        Contact { fields: fields.clone(), pgp_fingerprint: pgp_fingerprint.map(str::to_owned), ..existing };
    conn.prepare_cached(
        "UPDATE contacts SET name = ?2, role = ?3, email = ?4, phone = ?5, languages = ?6,
             pgp_key = ?7, pgp_fingerprint = ?8, clearance = ?9
         WHERE id = ?1",
    )?
    .execute(params![
        id.to_string(),
        fields.name,
        fields.role,
        fields.email,
        fields.phone,
        serde_json::to_string(&fields.languages)?,
        fields.pgp_key,
        contact.pgp_fingerprint,
        fields.clearance.map(|tlp| tlp.label()),
    ])?;
    audit(conn, at, actor, "contact.update", "contact", id, &contact)?;
    Ok(contact)
}

pub(crate) fn delete_contact(conn: &Connection, at: Timestamp, actor: &str, id: Uuid) -> Result<()> {
    let contact = get_contact(conn, id)?.ok_or_else(|| StoreError::not_found("contact", id))?;
    conn.prepare_cached("DELETE FROM contacts WHERE id = ?1")?.execute([id.to_string()])?;
    audit(conn, at, actor, "contact.delete", "contact", id, &contact)?;
    Ok(())
}

// Assets.

const ASSET_COLUMNS: &str = "a.id, a.org_id, a.kind, a.value, a.description, a.created_at";

pub(crate) fn asset_from_row(row: &Row<'_>) -> rusqlite::Result<Asset> {
    let kind: AssetKind = parse_col(row, 2)?;
    let text: String = row.get(3)?;
    let value = AssetValue::parse(kind, &text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(error))
    })?;
    Ok(Asset {
        id: uuid_col(row, 0)?,
        org_id: uuid_col(row, 1)?,
        value,
        description: row.get(4)?,
        created_at: time_col(row, 5)?,
    })
}

pub(crate) fn get_asset(conn: &Connection, id: Uuid) -> Result<Option<Asset>> {
    let sql = format!("SELECT {ASSET_COLUMNS} FROM assets a WHERE a.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], asset_from_row).optional()?)
}

pub(crate) fn list_assets(conn: &Connection, org_id: Option<Uuid>) -> Result<Vec<Asset>> {
    let sql = format!(
        "SELECT {ASSET_COLUMNS}, o.name_key FROM assets a JOIN organisations o ON o.id = a.org_id
         WHERE ?1 IS NULL OR a.org_id = ?1"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([org_id.map(|id| id.to_string())], |row| {
        Ok((row.get::<_, String>(6)?, asset_from_row(row)?))
    })?;
    let mut assets = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    // The model's order (kind, then addresses numerically) is not the text's, so Rust sorts.
    assets.sort_by(|(a_key, a), (b_key, b)| {
        (a_key, a.org_id, &a.value, a.id).cmp(&(b_key, b.org_id, &b.value, b.id))
    });
    Ok(assets.into_iter().map(|(_, asset)| asset).collect())
}

pub(crate) fn insert_asset(conn: &Connection, asset: &Asset) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO assets (id, org_id, kind, value, description, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        asset.id.to_string(),
        asset.org_id.to_string(),
        asset.value.kind().as_str(),
        asset.value.to_string(),
        asset.description,
        micros(asset.created_at),
    ])?;
    Ok(())
}

pub(crate) fn add_asset(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    org_id: Uuid,
    value: &AssetValue,
    description: Option<&str>,
) -> Result<Asset> {
    require_org(conn, org_id)?;
    let asset = Asset {
        id: Uuid::now_v7(),
        org_id,
        value: value.clone(),
        description: description.map(str::to_owned),
        created_at: at,
    };
    insert_asset(conn, &asset)?;
    audit(conn, at, actor, "asset.add", "asset", asset.id, &AssetRecord::from(&asset))?;
    Ok(asset)
}

pub(crate) fn delete_asset(conn: &Connection, at: Timestamp, actor: &str, id: Uuid) -> Result<()> {
    let asset = get_asset(conn, id)?.ok_or_else(|| StoreError::not_found("asset", id))?;
    conn.prepare_cached("DELETE FROM assets WHERE id = ?1")?.execute([id.to_string()])?;
    audit(conn, at, actor, "asset.delete", "asset", id, &AssetRecord::from(&asset))?;
    Ok(())
}

// Users.

const USER_COLUMNS: &str = "u.id, u.org_id, u.username, u.display_name, u.email, u.role, u.language,
    u.disabled, u.failed_logins, u.locked_until, u.last_login_at, u.created_at, u.sectors";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: uuid_col(row, 0)?,
        org_id: uuid_col(row, 1)?,
        username: row.get(2)?,
        display_name: row.get(3)?,
        email: row.get(4)?,
        role: parse_col(row, 5)?,
        language: opt_parse_col(row, 6)?,
        disabled: row.get(7)?,
        failed_logins: row.get(8)?,
        locked_until: opt_time_col(row, 9)?,
        last_login_at: opt_time_col(row, 10)?,
        created_at: time_col(row, 11)?,
        sectors: json_col(row, 12)?,
    })
}

pub(crate) fn get_user(conn: &Connection, id: Uuid) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], user_from_row).optional()?)
}

fn require_user(conn: &Connection, id: Uuid) -> Result<User> {
    Ok(get_user(conn, id)?.ok_or_else(|| StoreError::not_found("user", id))?)
}

pub(crate) fn find_user(conn: &Connection, username: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([username], user_from_row).optional()?)
}

pub(crate) fn list_users(conn: &Connection, org_id: Option<Uuid>) -> Result<Vec<User>> {
    let sql =
        format!("SELECT {USER_COLUMNS} FROM users u WHERE ?1 IS NULL OR u.org_id = ?1 ORDER BY u.username");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([org_id.map(|id| id.to_string())], user_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn create_user(conn: &Connection, at: Timestamp, actor: &str, new: &NewUser) -> Result<User> {
    require_org(conn, new.org_id)?;
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
    conn.prepare_cached(
        "INSERT INTO users (id, org_id, username, display_name, email, role, language,
             password_hash, disabled, failed_logins, created_at, sectors)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0, ?9, ?10)",
    )?
    .execute(params![
        user.id.to_string(),
        user.org_id.to_string(),
        user.username,
        user.display_name,
        user.email,
        user.role.as_str(),
        user.language.map(|language| language.tag()),
        new.password_hash,
        micros(at),
        serde_json::to_string(&user.sectors)?,
    ])?;
    audit(conn, at, actor, "user.create", "user", user.id, &user)?;
    Ok(user)
}

pub(crate) fn update_user(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    patch: &UserPatch,
) -> Result<User> {
    let mut user = require_user(conn, id)?;
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
        require_org(conn, org_id)?;
        user.org_id = org_id;
    }
    conn.prepare_cached(
        "UPDATE users SET display_name = ?2, email = ?3, role = ?4, language = ?5, org_id = ?6, sectors = ?7
         WHERE id = ?1",
    )?
    .execute(params![
        id.to_string(),
        user.display_name,
        user.email,
        user.role.as_str(),
        user.language.map(|language| language.tag()),
        user.org_id.to_string(),
        serde_json::to_string(&user.sectors)?,
    ])?;
    audit(conn, at, actor, "user.update", "user", id, &user)?;
    Ok(user)
}

pub(crate) fn password_hash(conn: &Connection, id: Uuid) -> Result<Option<String>> {
    let found: Option<Option<String>> = conn
        .prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?
        .query_row([id.to_string()], |row| row.get(0))
        .optional()?;
    Ok(found.ok_or_else(|| StoreError::not_found("user", id))?)
}

pub(crate) fn set_password(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    password_hash: &str,
) -> Result<()> {
    let user = require_user(conn, id)?;
    conn.prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
        .execute(params![id.to_string(), password_hash])?;
    audit(conn, at, actor, "user.password", "user", id, &user)?;
    Ok(())
}

pub(crate) fn set_user_disabled(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    disabled: bool,
) -> Result<User> {
    let mut user = require_user(conn, id)?;
    user.disabled = disabled;
    conn.prepare_cached("UPDATE users SET disabled = ?2 WHERE id = ?1")?
        .execute(params![id.to_string(), disabled])?;
    if disabled {
        delete_user_sessions(conn, id)?;
    }
    let action = if disabled { "user.disable" } else { "user.enable" };
    audit(conn, at, actor, action, "user", id, &user)?;
    Ok(user)
}

pub(crate) fn unlock_user(conn: &Connection, at: Timestamp, actor: &str, id: Uuid) -> Result<User> {
    let mut user = require_user(conn, id)?;
    user.failed_logins = 0;
    user.locked_until = None;
    conn.prepare_cached("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?1")?
        .execute(params![id.to_string()])?;
    audit(conn, at, actor, "user.unlock", "user", id, &user)?;
    Ok(user)
}

pub(crate) fn record_login(conn: &Connection, id: Uuid, outcome: LoginOutcome) -> Result<User> {
    let mut user = require_user(conn, id)?;
    let actor = format!("user:{}", user.username);
    match outcome {
        LoginOutcome::Success { at } => {
            user.failed_logins = 0;
            user.locked_until = None;
            user.last_login_at = Some(crate::codec::truncate(at));
            conn.prepare_cached(
                "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ?2
                 WHERE id = ?1",
            )?
            .execute(params![id.to_string(), opt_micros(user.last_login_at)])?;
            audit(conn, at, &actor, "user.login", "user", id, &user)?;
        }
        LoginOutcome::Failure { at, lock_until } => {
            user.failed_logins = user.failed_logins.saturating_add(1);
            if let Some(until) = lock_until {
                user.locked_until = Some(crate::codec::truncate(until));
            }
            conn.prepare_cached("UPDATE users SET failed_logins = ?2, locked_until = ?3 WHERE id = ?1")?
                .execute(params![id.to_string(), user.failed_logins, opt_micros(user.locked_until)])?;
            if lock_until.is_some() {
                audit(conn, at, &actor, "user.lockout", "user", id, &user)?;
            }
        }
    }
    Ok(user)
}

// Tokens.

const TOKEN_COLUMNS: &str = "t.id, t.user_id, t.name, t.scope, t.created_at, t.expires_at,
    t.revoked_at, t.last_used_at, t.secret_hash";

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<(Token, String)> {
    let token = Token {
        id: uuid_col(row, 0)?,
        user_id: uuid_col(row, 1)?,
        name: row.get(2)?,
        scope: parse_col(row, 3)?,
        created_at: time_col(row, 4)?,
        expires_at: opt_time_col(row, 5)?,
        revoked_at: opt_time_col(row, 6)?,
        last_used_at: opt_time_col(row, 7)?,
    };
    Ok((token, row.get(8)?))
}

pub(crate) fn get_token(conn: &Connection, id: Uuid) -> Result<Option<(Token, String)>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], token_from_row).optional()?)
}

pub(crate) fn list_tokens(conn: &Connection, user_id: Option<Uuid>) -> Result<Vec<Token>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens t WHERE ?1 IS NULL OR t.user_id = ?1
         ORDER BY t.created_at DESC, t.id DESC"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([user_id.map(|id| id.to_string())], |row| Ok(token_from_row(row)?.0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn create_token(conn: &Connection, at: Timestamp, actor: &str, new: &NewToken) -> Result<Token> {
    require_user(conn, new.user_id)?;
    let token = Token {
        id: new.id,
        user_id: new.user_id,
        name: new.name.clone(),
        scope: new.scope,
        created_at: at,
        expires_at: new.expires_at.map(crate::codec::truncate),
        revoked_at: None,
        last_used_at: None,
    };
    conn.prepare_cached(
        "INSERT INTO tokens (id, user_id, name, scope, secret_hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        token.id.to_string(),
        token.user_id.to_string(),
        token.name,
        token.scope.as_str(),
        new.secret_hash,
        micros(at),
        opt_micros(token.expires_at),
    ])?;
    audit(conn, at, actor, "token.create", "token", token.id, &token)?;
    Ok(token)
}

pub(crate) fn revoke_token(
    conn: &Connection,
    now: Timestamp,
    actor: &str,
    id: Uuid,
    at: Timestamp,
) -> Result<Token> {
    let (mut token, _) = get_token(conn, id)?.ok_or_else(|| StoreError::not_found("token", id))?;
    // A second revocation keeps the first one's time.
    if token.revoked_at.is_none() {
        token.revoked_at = Some(crate::codec::truncate(at));
        conn.prepare_cached("UPDATE tokens SET revoked_at = ?2 WHERE id = ?1")?
            .execute(params![id.to_string(), opt_micros(token.revoked_at)])?;
    }
    audit(conn, now, actor, "token.revoke", "token", id, &token)?;
    Ok(token)
}

pub(crate) fn touch_token(conn: &Connection, id: Uuid, at: Timestamp) -> Result<()> {
    let changed = conn
        .prepare_cached("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![id.to_string(), micros(at)])?;
    if changed == 0 {
        return Err(StoreError::not_found("token", id).into());
    }
    Ok(())
}

// Sessions.

/// Adds a session for an enabled user; the write transaction orders it against disabling.
pub(crate) fn create_session(conn: &Connection, session: &Session) -> Result<()> {
    if require_user(conn, session.user_id)?.disabled {
        return Err(StoreError::conflict("user_id", "the user is disabled").into());
    }
    conn.prepare_cached(
        "INSERT INTO sessions (id, user_id, secret_hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        session.id.to_string(),
        session.user_id.to_string(),
        session.secret_hash,
        micros(session.created_at),
        micros(session.expires_at),
    ])?;
    Ok(())
}

pub(crate) fn get_session(conn: &Connection, id: Uuid) -> Result<Option<Session>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, user_id, secret_hash, created_at, expires_at FROM sessions WHERE id = ?1",
        )?
        .query_row([id.to_string()], |row| {
            Ok(Session {
                id: uuid_col(row, 0)?,
                user_id: uuid_col(row, 1)?,
                secret_hash: row.get(2)?,
                created_at: time_col(row, 3)?,
                expires_at: time_col(row, 4)?,
            })
        })
        .optional()?)
}

pub(crate) fn delete_session(conn: &Connection, id: Uuid) -> Result<()> {
    conn.prepare_cached("DELETE FROM sessions WHERE id = ?1")?.execute([id.to_string()])?;
    Ok(())
}

pub(crate) fn delete_user_sessions(conn: &Connection, user_id: Uuid) -> Result<u64> {
    let deleted =
        conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?.execute([user_id.to_string()])?;
    Ok(deleted as u64)
}

pub(crate) fn delete_expired_sessions(conn: &Connection, now: Timestamp) -> Result<u64> {
    let deleted =
        conn.prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?.execute([micros(now)])?;
    Ok(deleted as u64)
}

/// Appends the audit entry of a change to one object (`kind`, `id`) in the caller's transaction.
pub(crate) fn audit_object(
    conn: &Connection,
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
    append_audit(conn, at, event)?;
    Ok(())
}
