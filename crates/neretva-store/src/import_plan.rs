//! The checks and decisions of a bulk import that need the stored organisations but no SQL:
//! resolving parents, detecting duplicates and parent loops, and ordering the writes.
//!
//! Both backends use it, so the rules of an import are the same on SQLite and PostgreSQL.

use std::collections::{HashMap, HashSet};

use crate::{ImportMode, ImportSummary};
use neretva_model::asset::Asset;
use neretva_model::contact::Contact;
use neretva_model::openpgp::parse_public_key;
use neretva_model::org::Organisation;
use neretva_model::registry_io::{AssetRecord, ImportError, OrgRecord, OrgRecordFields, RegistryDocument};
use neretva_model::{Timestamp, Uuid};

/// What an import writes, in an order the foreign keys accept.
#[derive(Debug, Default)]
pub struct Plan {
    /// New organisations, each after its parent when the parent is new too.
    pub creates: Vec<Organisation>,
    /// Stored organisations to overwrite; their contacts and assets are replaced.
    pub updates: Vec<Organisation>,
    /// Updated organisations whose name changes; their old name is released first, so names
    /// can move between organisations within one import.
    pub renamed: Vec<Uuid>,
    pub contacts: Vec<Contact>,
    pub assets: Vec<Asset>,
}

impl Plan {
    pub fn summary(&self) -> ImportSummary {
        ImportSummary {
            organisations_created: self.creates.len() as u64,
            organisations_updated: self.updates.len() as u64,
            contacts: self.contacts.len() as u64,
            assets: self.assets.len() as u64,
        }
    }
}

/// The key that makes names and short names unique regardless of case.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

fn problem(line: u64, field: &str, message: String) -> ImportError {
    ImportError { line, field: field.to_owned(), message }
}

/// Checks a document against the stored organisations and decides what to write. Every
/// problem is reported, each with its record's line; nothing is decided when there is one.
pub fn plan(
    document: &RegistryDocument,
    stored: &[Organisation],
    mode: ImportMode,
    at: Timestamp,
) -> Result<Plan, Vec<ImportError>> {
    let mut errors = Vec::new();
    let stored_by_short: HashMap<String, &Organisation> =
        stored.iter().map(|org| (fold(&org.fields.short_name), org)).collect();
    let stored_by_name: HashMap<String, &Organisation> =
        stored.iter().map(|org| (fold(&org.fields.name), org)).collect();

    // Which record becomes which organisation, and duplicates within the file.
    let records = &document.organisations;
    let mut ids: Vec<Uuid> = Vec::with_capacity(records.len());
    let mut existing: Vec<Option<&Organisation>> = Vec::with_capacity(records.len());
    let mut file_short: HashMap<String, usize> = HashMap::new();
    let mut file_names: HashMap<String, usize> = HashMap::new();
    for (index, record) in records.iter().enumerate() {
        let fields = &record.fields;
        let short_key = fold(&fields.short_name);
        if let Some(first) = file_short.insert(short_key.clone(), index) {
            file_short.insert(short_key.clone(), first);
            let message = format!(
                "duplicate short name {:?}, first used on line {}",
                fields.short_name, records[first].line
            );
            errors.push(problem(record.line, "short_name", message));
        }
        let name_key = fold(&fields.name);
        if let Some(first) = file_names.insert(name_key.clone(), index) {
            file_names.insert(name_key, first);
            let message = format!(
                "duplicate organisation name {:?}, first used on line {}",
                fields.name, records[first].line
            );
            errors.push(problem(record.line, "name", message));
        }
        let found = stored_by_short.get(&short_key).copied();
        if let (Some(org), ImportMode::CreateOnly) = (found, mode) {
            let message =
                format!("an organisation with short name {:?} already exists", org.fields.short_name);
            errors.push(problem(record.line, "short_name", message));
        }
        existing.push(found);
        ids.push(found.map_or_else(Uuid::now_v7, |org| org.id));
    }

    // Names taken by stored organisations that this file does not overwrite.
    let overwritten: HashSet<Uuid> = existing.iter().flatten().map(|org| org.id).collect();
    for (index, record) in records.iter().enumerate() {
        if let Some(holder) = stored_by_name.get(&fold(&record.fields.name)) {
            let same = existing[index].is_some_and(|org| org.id == holder.id);
            if !same && (mode == ImportMode::CreateOnly || !overwritten.contains(&holder.id)) {
                let message = format!(
                    "the name {:?} is taken by the organisation {}",
                    holder.fields.name, holder.fields.short_name
                );
                errors.push(problem(record.line, "name", message));
            }
        }
    }

    // Parents: in the file first, then among the stored organisations.
    let mut parents: HashMap<Uuid, Option<Uuid>> =
        stored.iter().map(|org| (org.id, org.fields.parent_id)).collect();
    let mut short_names: HashMap<Uuid, &str> =
        stored.iter().map(|org| (org.id, org.fields.short_name.as_str())).collect();
    for (index, record) in records.iter().enumerate() {
        short_names.insert(ids[index], &record.fields.short_name);
        let parent = match record.fields.parent.as_deref() {
            None => None,
            Some(parent) => {
                let key = fold(parent);
                match (file_short.get(&key), stored_by_short.get(&key)) {
                    (Some(position), _) => Some(ids[*position]),
                    (None, Some(org)) => Some(org.id),
                    (None, None) => {
                        let message = format!("unknown parent {parent:?}: neither in the file nor stored");
                        errors.push(problem(record.line, "parent", message));
                        None
                    }
                }
            }
        };
        parents.insert(ids[index], parent);
    }
    let file_lines: HashMap<Uuid, u64> =
        ids.iter().zip(records).map(|(id, record)| (*id, record.line)).collect();
    for cycle in cycles(&ids, &parents) {
        let mut names: Vec<&str> =
            cycle.iter().map(|id| short_names.get(id).copied().unwrap_or("?")).collect();
        names.push(names[0]);
        let message = format!("the parents form a loop: {}", names.join(" -> "));
        for id in &cycle {
            if let Some(line) = file_lines.get(id) {
                errors.push(problem(*line, "parent", message.clone()));
            }
        }
    }

    // Assets listed twice for one organisation.
    for record in records {
        let mut seen = HashMap::new();
        for asset in &record.assets {
            if let Some(first) = seen.insert(&asset.value, asset.line) {
                seen.insert(&asset.value, first);
                let message = format!(
                    "duplicate asset {} of {}, first listed on line {first}",
                    asset.value, record.fields.short_name
                );
                errors.push(problem(asset.line, "value", message));
            }
        }
    }

    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.line, &a.field).cmp(&(b.line, &b.field)));
        errors.dedup();
        return Err(errors);
    }

    let mut plan = Plan::default();
    for (index, record) in records.iter().enumerate() {
        let id = ids[index];
        let parent_id = parents.get(&id).copied().flatten();
        let fields = record.fields.to_organisation_fields(parent_id);
        match existing[index] {
            Some(stored) => {
                if fold(&stored.fields.name) != fold(&fields.name) {
                    plan.renamed.push(id);
                }
                plan.updates.push(Organisation { id, fields, created_at: stored.created_at, updated_at: at });
            }
            None => plan.creates.push(Organisation { id, fields, created_at: at, updated_at: at }),
        }
        for contact in &record.contacts {
            let fingerprint = contact
                .pgp_key
                .as_deref()
                .and_then(|key| parse_public_key(key, at).ok())
                .map(|key| key.fingerprint);
            plan.contacts.push(Contact {
                id: Uuid::now_v7(),
                org_id: id,
                fields: contact.clone(),
                pgp_fingerprint: fingerprint,
                created_at: at,
            });
        }
        for asset in &record.assets {
            plan.assets.push(Asset {
                id: Uuid::now_v7(),
                org_id: id,
                value: asset.value.clone(),
                description: asset.description.clone(),
                created_at: at,
            });
        }
    }
    order_parents_first(&mut plan.creates);
    Ok(plan)
}

/// Finds the loops in a parent graph that pass through one of `starts`, each once.
fn cycles(starts: &[Uuid], parents: &HashMap<Uuid, Option<Uuid>>) -> Vec<Vec<Uuid>> {
    let mut done: HashSet<Uuid> = HashSet::new();
    let mut found = Vec::new();
    for start in starts {
        let mut path: Vec<Uuid> = Vec::new();
        let mut on_path: HashMap<Uuid, usize> = HashMap::new();
        let mut current = Some(*start);
        while let Some(node) = current {
            if done.contains(&node) {
                break;
            }
            if let Some(position) = on_path.get(&node) {
                found.push(path[*position..].to_vec());
                break;
            }
            on_path.insert(node, path.len());
            path.push(node);
            current = parents.get(&node).copied().flatten();
        }
        done.extend(path);
    }
    found
}

/// Sorts new organisations so that a new parent comes before its children.
fn order_parents_first(creates: &mut [Organisation]) {
    let new: HashMap<Uuid, Option<Uuid>> = creates.iter().map(|org| (org.id, org.fields.parent_id)).collect();
    let mut depths: HashMap<Uuid, usize> = HashMap::new();
    for org in creates.iter() {
        // The loop check ran before, so every chain of new parents ends.
        let mut chain = vec![org.id];
        let mut current = org.fields.parent_id;
        while let Some(parent) = current.filter(|id| new.contains_key(id)) {
            if depths.contains_key(&parent) || chain.len() > new.len() {
                break;
            }
            chain.push(parent);
            current = new.get(&parent).copied().flatten();
        }
        let base = chain
            .last()
            .and_then(|last| new.get(last).copied().flatten())
            .and_then(|parent| depths.get(&parent).copied())
            .map_or(0, |depth| depth + 1);
        for (offset, id) in chain.iter().rev().enumerate() {
            depths.entry(*id).or_insert(base + offset);
        }
    }
    creates.sort_by_key(|org| depths.get(&org.id).copied().unwrap_or(0));
}

/// Assembles the export: organisations by short name with their parents' short names,
/// contacts in the order they were added (their ids are time-ordered), assets by value.
pub fn document(
    organisations: Vec<Organisation>,
    mut contacts: Vec<Contact>,
    assets: Vec<Asset>,
) -> RegistryDocument {
    let short_names: HashMap<Uuid, String> =
        organisations.iter().map(|org| (org.id, org.fields.short_name.clone())).collect();
    let mut records: Vec<OrgRecord> = Vec::with_capacity(organisations.len());
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for org in organisations {
        let fields = &org.fields;
        index.insert(org.id, records.len());
        records.push(OrgRecord {
            line: 0,
            fields: OrgRecordFields {
                name: fields.name.clone(),
                short_name: fields.short_name.clone(),
                address: fields.address.clone(),
                country: fields.country.clone(),
                sector: fields.sector.clone(),
                subsector: fields.subsector.clone(),
                entity_type: fields.entity_type,
                authority_level: fields.authority_level.clone(),
                parent: fields.parent_id.and_then(|parent| short_names.get(&parent).cloned()),
            },
            contacts: Vec::new(),
            assets: Vec::new(),
        });
    }
    contacts.sort_by_key(|contact| contact.id);
    for contact in contacts {
        if let Some(position) = index.get(&contact.org_id) {
            records[*position].contacts.push(contact.fields);
        }
    }
    for asset in assets {
        if let Some(position) = index.get(&asset.org_id) {
            records[*position].assets.push(AssetRecord {
                value: asset.value,
                description: asset.description,
                line: 0,
            });
        }
    }
    for record in &mut records {
        record.assets.sort_by(|a, b| a.value.cmp(&b.value));
    }
    records.sort_by(|a, b| a.fields.short_name.cmp(&b.fields.short_name));
    RegistryDocument { organisations: records }
}
