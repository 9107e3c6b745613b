//! Published intel events in TAXII: each published event's STIX 2.1 mapping (with its TLP and PAP
//! markings) is kept in the TAXII collection of its distribution, read-only through TAXII:
//!
//! | distribution | collection (alias) | TAXII sharing scope |
//! |---|---|---|
//! | organisation only | `intel-org-{owner}` | the owner organisation |
//! | this community, connected communities | `intel-community` | every signed-in member |
//! | all communities | `intel-public` | everyone (anonymous callers read `TLP:CLEAR` only) |
//! | a sharing group | `intel-sg-{group}`, titled with the group's name | the group's members |
//!
//! Every object is also filtered by its own TLP when read, as any TAXII object is. A sharing
//! group's collection follows the group's membership; TAXII shows collections only to those who
//! may read them and never lists their members. Writing an event adds the new versions of its
//! objects; objects of attributes removed, and every object of an event unpublished, deleted or
//! moved to another scope, are deleted from the collection (shared identities and marking
//! definitions stay).

use std::collections::BTreeSet;

use neretva_intel::access::SharingGroup;
use neretva_intel::model::{Distribution, IntelEvent};
use neretva_model::taxii::{Sharing, Writers};
use neretva_store::intel::DEFAULT_TLP;
use neretva_store::taxii::{AddObjects, CollectionFields, ObjectQuery, VersionFilter};
use neretva_store::{Actor, Store, StoreError};
use uuid::Uuid;

use crate::api::intel::DEFAULT_PAP;

/// The prefix of the aliases of intel collections.
pub const ALIAS_PREFIX: &str = "intel-";

/// The alias of a sharing group's collection.
pub fn group_alias(group: Uuid) -> String {
    format!("{ALIAS_PREFIX}sg-{group}")
}

/// The collection an event of `owner_org` belongs in, as its alias and fields; `None` for an
/// event restricted to a sharing group that is not known. `operator` owns the community and
/// public collections (else the event's owner does).
pub fn scope(
    event: &IntelEvent,
    owner_org: Uuid,
    operator: Option<Uuid>,
    group: Option<&SharingGroup>,
) -> Option<(String, CollectionFields)> {
    let fields = |title: String, owner_org: Uuid, sharing: Sharing| CollectionFields {
        title,
        description: Some("Published intel events as STIX 2.1, kept by Neretva; read-only.".into()),
        alias: None,
        media_types: vec![neretva_store::taxii::STIX_MEDIA_TYPE.to_owned()],
        owner_org,
        sharing,
        writers: Writers::Nobody,
        default_tlp: DEFAULT_TLP,
    };
    let (alias, fields) = match event.distribution {
        Distribution::Organisation => (
            format!("{ALIAS_PREFIX}org-{owner_org}"),
            fields("Intel events of the organisation".into(), owner_org, Sharing::Organisation),
        ),
        Distribution::Community | Distribution::Connected => (
            format!("{ALIAS_PREFIX}community"),
            fields(
                "Intel events for the community".into(),
                operator.unwrap_or(owner_org),
                Sharing::Community,
            ),
        ),
        Distribution::All => (
            format!("{ALIAS_PREFIX}public"),
            fields("Public intel events".into(), operator.unwrap_or(owner_org), Sharing::Public),
        ),
        Distribution::SharingGroup => {
            let group = group.filter(|group| Some(group.uuid) == event.sharing_group)?;
            (group_alias(group.uuid), group_fields(group))
        }
    };
    Some((alias.clone(), CollectionFields { alias: Some(alias), ..fields }))
}

fn group_fields(group: &SharingGroup) -> CollectionFields {
    CollectionFields {
        title: format!("Intel events of {}", group.name),
        description: Some("Published intel events of a sharing group as STIX 2.1; read-only.".into()),
        alias: Some(group_alias(group.uuid)),
        media_types: vec![neretva_store::taxii::STIX_MEDIA_TYPE.to_owned()],
        owner_org: group.owner_org,
        sharing: Sharing::Groups(group.all_members()),
        writers: Writers::Nobody,
        default_tlp: DEFAULT_TLP,
    }
}

/// The STIX objects of an event, as JSON, without the identities and marking definitions other
/// events share.
fn objects(event: &IntelEvent) -> Vec<serde_json::Value> {
    let bundle = neretva_intel::stix::to_bundle(event, DEFAULT_TLP, DEFAULT_PAP).bundle.to_json_string();
    serde_json::from_str::<serde_json::Value>(&bundle)
        .ok()
        .and_then(|mut bundle| bundle.get_mut("objects").map(serde_json::Value::take))
        .and_then(|objects| match objects {
            serde_json::Value::Array(objects) => Some(objects),
            _ => None,
        })
        .unwrap_or_default()
}

fn own_ids(objects: &[serde_json::Value]) -> BTreeSet<String> {
    objects
        .iter()
        .filter_map(|object| object.get("id").and_then(serde_json::Value::as_str))
        .filter(|id| !id.starts_with("identity--") && !id.starts_with("marking-definition--"))
        .map(str::to_owned)
        .collect()
}

/// The collection with this alias, created or brought up to date with `fields`.
async fn ensure_collection(
    store: &dyn Store,
    actor: &Actor,
    alias: &str,
    fields: &CollectionFields,
) -> Result<Uuid, StoreError> {
    match store.find_collection(alias).await? {
        Some(found) if found.fields == *fields => Ok(found.id),
        Some(found) => Ok(store.update_collection(actor, found.id, fields).await?.id),
        None => Ok(store.create_collection(actor, Uuid::new_v4(), fields).await?.id),
    }
}

async fn delete_ids(
    store: &dyn Store,
    actor: &Actor,
    collection: Uuid,
    ids: &BTreeSet<String>,
) -> Result<(), StoreError> {
    for id in ids {
        let mut query = ObjectQuery::new(collection, neretva_store::taxii::MAX_PAGE);
        query.ids = vec![id.clone()];
        query.versions = VersionFilter { all: true, ..VersionFilter::default() };
        query.with_body = false;
        let rows: Vec<i64> = store.query_objects(&query).await?.iter().map(|object| object.row).collect();
        if !rows.is_empty() {
            store.delete_objects(actor, collection, id, &rows).await?;
        }
    }
    Ok(())
}

/// An event as it was or is: the event, its owner, its sharing group if known.
pub struct Published<'a> {
    pub event: &'a IntelEvent,
    pub owner_org: Uuid,
    pub group: Option<&'a SharingGroup>,
}

impl<'a> Published<'a> {
    /// A stored event, with its sharing group found by `group` (from the caller's cache or list).
    pub fn of(
        stored: &'a neretva_store::intel::StoredIntelEvent,
        group: impl FnOnce(Uuid) -> Option<&'a SharingGroup>,
    ) -> Published<'a> {
        Published {
            event: &stored.event,
            owner_org: stored.owner_org,
            group: stored.event.sharing_group.and_then(group),
        }
    }
}

/// Brings the TAXII collections up to date after an event was written (`before` is the event as
/// it was, `after` as it is; `None` when it did not or no longer exists).
pub async fn sync(
    store: &dyn Store,
    actor: &Actor,
    operator: Option<Uuid>,
    before: Option<Published<'_>>,
    after: Option<Published<'_>>,
) -> Result<(), StoreError> {
    let placed = |published: &Published<'_>| {
        published
            .event
            .published
            .then(|| scope(published.event, published.owner_org, operator, published.group))
            .flatten()
    };
    let new_objects = after.as_ref().map(|published| objects(published.event)).unwrap_or_default();
    let new_place = after.as_ref().and_then(placed);
    let new_ids = if new_place.is_some() { own_ids(&new_objects) } else { BTreeSet::new() };
    if let Some(old) = &before
        && let Some((alias, _)) = placed(old)
        && let Some(collection) = store.find_collection(&alias).await?
    {
        let same_place = new_place.as_ref().is_some_and(|(new_alias, _)| *new_alias == alias);
        let gone: BTreeSet<String> = own_ids(&objects(old.event))
            .into_iter()
            .filter(|id| !same_place || !new_ids.contains(id))
            .collect();
        delete_ids(store, actor, collection.id, &gone).await?;
    }
    if let (Some((alias, fields)), Some(published)) = (new_place, after) {
        let collection = ensure_collection(store, actor, &alias, &fields).await?;
        let (objects, failures) = crate::taxii::prepare_objects(&new_objects, fields.default_tlp);
        // An object changed within the same second keeps its version (MISP's timestamps are in
        // seconds): the stored one is replaced so readers get what the event says now.
        let ids: Vec<String> = new_ids.iter().cloned().collect();
        for chunk in ids.chunks(1_000) {
            let mut query = ObjectQuery::new(collection, neretva_store::taxii::MAX_PAGE);
            query.ids = chunk.to_vec();
            query.versions = VersionFilter { all: true, ..VersionFilter::default() };
            for stored in store.query_objects(&query).await? {
                let changed = objects.iter().any(|object| {
                    object.stix_id == stored.stix_id
                        && object.version == Some(stored.version)
                        && object.body != stored.body
                });
                if changed {
                    store.delete_objects(actor, collection, &stored.stix_id, &[stored.row]).await?;
                }
            }
        }
        let request = AddObjects {
            status_id: Uuid::new_v4(),
            collection_id: collection,
            org_id: published.owner_org,
            user_id: None,
            objects,
            failures,
        };
        store.add_objects(actor, &request).await?;
    }
    Ok(())
}

/// Brings a sharing group's collection, if there is one, up to date with the group.
pub async fn sync_group(store: &dyn Store, actor: &Actor, group: &SharingGroup) -> Result<(), StoreError> {
    let alias = group_alias(group.uuid);
    if store.find_collection(&alias).await?.is_some() {
        ensure_collection(store, actor, &alias, &group_fields(group)).await?;
    }
    Ok(())
}

/// Removes a deleted sharing group's collection, if there is one.
pub async fn remove_group(store: &dyn Store, actor: &Actor, group: Uuid) -> Result<(), StoreError> {
    if let Some(collection) = store.find_collection(&group_alias(group)).await? {
        store.delete_collection(actor, collection.id).await?;
    }
    Ok(())
}
