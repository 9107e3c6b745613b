//! Bulk import and export of the constituency.

use deadpool_postgres::GenericClient;
use neretva_model::Timestamp;
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::org::Organisation;
use neretva_model::registry_io::{RegistryDocument, to_json};
use neretva_store::{ImportMode, ImportSummary, StoreError};
use uuid::Uuid;

use crate::codec::{Result, fold};
use crate::ops;
use neretva_store::import_plan::{document, plan};

/// Rows per statement: each statement passes one array per column and unnests them.
const BATCH: usize = 10_000;

/// Imports a document inside the caller's transaction (which holds the audit head, so no other
/// writer changes the organisations meanwhile): checks everything against the stored
/// organisations, then writes in batches, then audits once.
pub(crate) async fn import<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    document: &RegistryDocument,
    mode: ImportMode,
) -> Result<ImportSummary> {
    let stored = ops::list_orgs(client).await?;
    let plan = plan(document, &stored, mode, at).map_err(StoreError::Import)?;

    if !plan.renamed.is_empty() {
        // Names cannot hold control characters, so the placeholder never meets a real name.
        let statement = client
            .prepare_cached("UPDATE organisations SET name_key = chr(1) || id::text WHERE id = ANY($1)")
            .await?;
        client.execute(&statement, &[&plan.renamed]).await?;
    }
    // New parents come first in `creates`, and a statement checks its foreign keys at its end.
    for batch in plan.creates.chunks(BATCH) {
        insert_orgs(client, batch).await?;
    }
    for batch in plan.updates.chunks(BATCH) {
        update_orgs(client, batch, at).await?;
    }
    let updated: Vec<Uuid> = plan.updates.iter().map(|org| org.id).collect();
    if !updated.is_empty() {
        for sql in
            ["DELETE FROM contacts WHERE org_id = ANY($1)", "DELETE FROM assets WHERE org_id = ANY($1)"]
        {
            let statement = client.prepare_cached(sql).await?;
            client.execute(&statement, &[&updated]).await?;
        }
    }
    for batch in plan.contacts.chunks(BATCH) {
        insert_contacts(client, batch, at).await?;
    }
    for batch in plan.assets.chunks(BATCH) {
        insert_assets(client, batch, at).await?;
    }

    let event = AuditEvent {
        actor: actor.to_owned(),
        action: "registry.import".to_owned(),
        object_type: "registry".to_owned(),
        object_id: format!("{} organisations", document.organisations.len()),
        digest: digest_hex(&to_json(document)),
    };
    ops::append_audit(client, at, event).await?;
    Ok(plan.summary())
}

/// The organisations' columns, one array each.
struct OrgColumns {
    id: Vec<Uuid>,
    name: Vec<String>,
    name_key: Vec<String>,
    short_name: Vec<String>,
    short_name_key: Vec<String>,
    address: Vec<Option<String>>,
    country: Vec<String>,
    sector: Vec<Option<String>>,
    subsector: Vec<Option<String>>,
    entity_type: Vec<&'static str>,
    authority_level: Vec<String>,
    parent_id: Vec<Option<Uuid>>,
}

impl OrgColumns {
    fn new(batch: &[Organisation]) -> OrgColumns {
        OrgColumns {
            id: batch.iter().map(|org| org.id).collect(),
            name: batch.iter().map(|org| org.fields.name.clone()).collect(),
            name_key: batch.iter().map(|org| fold(&org.fields.name)).collect(),
            short_name: batch.iter().map(|org| org.fields.short_name.clone()).collect(),
            short_name_key: batch.iter().map(|org| fold(&org.fields.short_name)).collect(),
            address: batch.iter().map(|org| org.fields.address.clone()).collect(),
            country: batch.iter().map(|org| org.fields.country.clone()).collect(),
            sector: batch.iter().map(|org| org.fields.sector.clone()).collect(),
            subsector: batch.iter().map(|org| org.fields.subsector.clone()).collect(),
            entity_type: batch.iter().map(|org| org.fields.entity_type.as_str()).collect(),
            authority_level: batch.iter().map(|org| org.fields.authority_level.clone()).collect(),
            parent_id: batch.iter().map(|org| org.fields.parent_id).collect(),
        }
    }
}

async fn insert_orgs<C: GenericClient>(client: &C, batch: &[Organisation]) -> Result<()> {
    let Some(first) = batch.first() else {
        return Ok(());
    };
    let columns = OrgColumns::new(batch);
    let statement = client
        .prepare_cached(
            "INSERT INTO organisations (id, name, name_key, short_name, short_name_key, address,
                 country, sector, subsector, entity_type, authority_level, parent_id, created_at,
                 updated_at)
             SELECT u.*, $13, $13
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::uuid[]) AS u",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &columns.id,
                &columns.name,
                &columns.name_key,
                &columns.short_name,
                &columns.short_name_key,
                &columns.address,
                &columns.country,
                &columns.sector,
                &columns.subsector,
                &columns.entity_type,
                &columns.authority_level,
                &columns.parent_id,
                &first.created_at,
            ],
        )
        .await?;
    Ok(())
}

async fn update_orgs<C: GenericClient>(client: &C, batch: &[Organisation], at: Timestamp) -> Result<()> {
    let columns = OrgColumns::new(batch);
    let statement = client
        .prepare_cached(
            "UPDATE organisations o SET name = u.name, name_key = u.name_key,
                 short_name = u.short_name, short_name_key = u.short_name_key,
                 address = u.address, country = u.country, sector = u.sector,
                 subsector = u.subsector, entity_type = u.entity_type,
                 authority_level = u.authority_level, parent_id = u.parent_id, updated_at = $13
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::uuid[])
                 AS u (id, name, name_key, short_name, short_name_key, address, country, sector,
                     subsector, entity_type, authority_level, parent_id)
             WHERE o.id = u.id",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &columns.id,
                &columns.name,
                &columns.name_key,
                &columns.short_name,
                &columns.short_name_key,
                &columns.address,
                &columns.country,
                &columns.sector,
                &columns.subsector,
                &columns.entity_type,
                &columns.authority_level,
                &columns.parent_id,
                &at,
            ],
        )
        .await?;
    Ok(())
}

async fn insert_contacts<C: GenericClient>(
    client: &C,
    batch: &[neretva_model::contact::Contact],
    at: Timestamp,
) -> Result<()> {
    let id: Vec<Uuid> = batch.iter().map(|contact| contact.id).collect();
    let org_id: Vec<Uuid> = batch.iter().map(|contact| contact.org_id).collect();
    let name: Vec<&str> = batch.iter().map(|contact| contact.fields.name.as_str()).collect();
    let role: Vec<Option<&str>> = batch.iter().map(|contact| contact.fields.role.as_deref()).collect();
    let email: Vec<&str> = batch.iter().map(|contact| contact.fields.email.as_str()).collect();
    let phone: Vec<Option<&str>> = batch.iter().map(|contact| contact.fields.phone.as_deref()).collect();
    // Arrays of arrays do not unnest row by row, so the tags travel comma-separated.
    let languages: Vec<String> =
        batch.iter().map(|contact| ops::language_tags(&contact.fields.languages).join(",")).collect();
    let pgp_key: Vec<Option<&str>> = batch.iter().map(|contact| contact.fields.pgp_key.as_deref()).collect();
    let fingerprint: Vec<Option<&str>> =
        batch.iter().map(|contact| contact.pgp_fingerprint.as_deref()).collect();
    let clearance: Vec<Option<&str>> =
        batch.iter().map(|contact| contact.fields.clearance.map(|tlp| tlp.label())).collect();
    let statement = client
        .prepare_cached(
            "INSERT INTO contacts (id, org_id, name, role, email, phone, languages, pgp_key,
                 pgp_fingerprint, created_at, clearance)
             SELECT u.id, u.org_id, u.name, u.role, u.email, u.phone,
                 string_to_array(u.languages, ','), u.pgp_key, u.fingerprint, $10, u.clearance
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $11::text[])
                 AS u (id, org_id, name, role, email, phone, languages, pgp_key, fingerprint, clearance)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &id,
                &org_id,
                &name,
                &role,
                &email,
                &phone,
                &languages,
                &pgp_key,
                &fingerprint,
                &at,
                &clearance,
            ],
        )
        .await?;
    Ok(())
}

async fn insert_assets<C: GenericClient>(
    client: &C,
    batch: &[neretva_model::asset::Asset],
    at: Timestamp,
) -> Result<()> {
    let id: Vec<Uuid> = batch.iter().map(|asset| asset.id).collect();
    let org_id: Vec<Uuid> = batch.iter().map(|asset| asset.org_id).collect();
    let kind: Vec<&str> = batch.iter().map(|asset| asset.value.kind().as_str()).collect();
    let value: Vec<String> = batch.iter().map(|asset| asset.value.to_string()).collect();
    let description: Vec<Option<&str>> = batch.iter().map(|asset| asset.description.as_deref()).collect();
    let statement = client
        .prepare_cached(
            "INSERT INTO assets (id, org_id, kind, value, description, created_at)
             SELECT u.*, $6
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[]) AS u",
        )
        .await?;
    client.execute(&statement, &[&id, &org_id, &kind, &value, &description, &at]).await?;
    Ok(())
}

/// The whole constituency, read in the caller's snapshot: organisations by short name,
/// contacts in the order they were added, assets by value.
pub(crate) async fn export<C: GenericClient>(client: &C) -> Result<RegistryDocument> {
    let organisations = ops::list_orgs(client).await?;
    let contacts = ops::list_contacts(client, None).await?;
    let assets = ops::list_assets(client, None).await?;
    Ok(document(organisations, contacts, assets))
}
