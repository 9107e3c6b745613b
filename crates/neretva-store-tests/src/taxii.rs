//! Stories of TAXII collections, objects, paging, versions and statuses.

use std::collections::BTreeSet;

use neretva_model::taxii::{Sharing, Writers};
use neretva_model::tlp::Tlp;
use neretva_store::taxii::{
    AddObjects, CollectionFields, Cursor, NewObject, ObjectQuery, STIX_MEDIA_TYPE, StatusDetail,
    StoredObject, VersionFilter,
};
use neretva_store::{AuditQuery, Store, StoreError};
use uuid::Uuid;

use crate::{Harness, admin, org_fields};

/// A collection's fields owned by `owner`.
pub fn collection_fields(owner: Uuid, title: &str, sharing: Sharing) -> CollectionFields {
    CollectionFields {
        title: title.into(),
        description: Some("indicators for the community".into()),
        alias: None,
        media_types: vec![STIX_MEDIA_TYPE.into()],
        owner_org: owner,
        sharing,
        writers: Writers::Owner,
        default_tlp: Tlp::Green,
    }
}

/// An indicator with a UUID made from `n` at version `modified` (microseconds).
pub fn indicator(n: u128, modified: i64, tlp: Tlp) -> NewObject {
    let stix_id = format!("indicator--{}", Uuid::from_u128(0x1000_0000_0000_4000_8000_0000_0000_0000 + n));
    NewObject {
        body: format!(r#"{{"type":"indicator","id":"{stix_id}","n":{n},"modified":{modified}}}"#),
        stix_id,
        object_type: "indicator".into(),
        version: Some(modified),
        spec_version: "2.1".into(),
        tlp,
    }
}

fn request(collection_id: Uuid, org_id: Uuid, objects: Vec<NewObject>) -> AddObjects {
    AddObjects {
        status_id: Uuid::now_v7(),
        collection_id,
        org_id,
        user_id: None,
        objects,
        failures: Vec::new(),
    }
}

async fn page_all(store: &dyn Store, mut query: ObjectQuery) -> Vec<StoredObject> {
    let mut all = Vec::new();
    loop {
        let page = store.query_objects(&query).await.expect("query");
        let Some(last) = page.last() else { break };
        query.after = Some(last.cursor());
        all.extend(page);
    }
    all
}

pub async fn taxii_collections(store: &dyn Store) {
    let org = store.create_org(&admin(), &org_fields("CERT-T", "CERT Test")).await.expect("org");
    let member = store.create_org(&admin(), &org_fields("MEM", "Member")).await.expect("org");
    let mut fields = collection_fields(org.id, "Shared indicators", Sharing::Groups(vec![member.id]));
    fields.alias = Some("shared".into());
    let id = Uuid::new_v4();
    let created = store.create_collection(&admin(), id, &fields).await.expect("create");
    assert_eq!(created.fields, fields);
    assert_eq!(store.get_collection(id).await.expect("get").expect("found"), created);
    assert_eq!(store.find_collection("shared").await.expect("find").map(|c| c.id), Some(id));
    assert!(store.find_collection("other").await.expect("find").is_none());

    let again = store.create_collection(&admin(), Uuid::new_v4(), &fields).await;
    assert!(matches!(again, Err(StoreError::Conflict { ref field, .. }) if field == "alias"), "{again:?}");
    let mut bad = collection_fields(org.id, " ", Sharing::Public);
    bad.media_types = vec!["text/plain".into()];
    let refused = store.create_collection(&admin(), Uuid::new_v4(), &bad).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict { ref field, .. }) if field == "title"),
        "{refused:?}"
    );

    let mut public = collection_fields(org.id, "Public", Sharing::Public);
    public.writers = Writers::Readers;
    public.default_tlp = Tlp::Clear;
    let public_id = Uuid::new_v4();
    store.create_collection(&admin(), public_id, &public).await.expect("create public");
    let titles: Vec<String> =
        store.list_collections().await.expect("list").into_iter().map(|c| c.fields.title).collect();
    assert_eq!(titles, ["Public", "Shared indicators"]);

    fields.title = "Shared with members".into();
    fields.sharing = Sharing::Community;
    let updated = store.update_collection(&admin(), id, &fields).await.expect("update");
    assert_eq!(updated.fields.sharing, Sharing::Community);
    assert_eq!(updated.created_at, created.created_at);
    let missing = store.update_collection(&admin(), Uuid::new_v4(), &fields).await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");

    store.add_objects(&admin(), &request(id, org.id, vec![indicator(1, 10, Tlp::Green)])).await.expect("add");
    store.delete_collection(&admin(), id).await.expect("delete");
    assert!(store.get_collection(id).await.expect("get").is_none());
    assert!(store.query_objects(&ObjectQuery::new(id, 10)).await.expect("query").is_empty());
    let missing = store.delete_collection(&admin(), id).await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");

    let actions: Vec<String> = store
        .list_audit(&AuditQuery { limit: 100, ..AuditQuery::default() })
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.event.action)
        .filter(|action| action.starts_with("taxii."))
        .collect();
    assert_eq!(
        actions,
        [
            "taxii.collection.create",
            "taxii.collection.create",
            "taxii.collection.update",
            "taxii.objects.add",
            "taxii.collection.delete"
        ]
    );
}

pub async fn taxii_objects_and_paging(store: &dyn Store) {
    let org = store.create_org(&admin(), &org_fields("CERT-T", "CERT Test")).await.expect("org");
    let id = Uuid::new_v4();
    store
        .create_collection(&admin(), id, &collection_fields(org.id, "Indicators", Sharing::Community))
        .await
        .expect("create");

    // 250 objects in three requests; date_added is unique and increasing.
    for chunk in [0..100u128, 100..200, 200..250] {
        let expected = (chunk.end - chunk.start) as usize;
        let objects = chunk.map(|n| indicator(n, 1_000_000 + n as i64, Tlp::ALL[n as usize % 5])).collect();
        let status = store.add_objects(&admin(), &request(id, org.id, objects)).await.expect("add");
        assert_eq!(status.successes.len(), expected);
        assert!(status.failures.is_empty() && status.pendings.is_empty());
    }
    let all = page_all(store, ObjectQuery::new(id, 100)).await;
    assert_eq!(all.len(), 250);
    let added: Vec<i64> = all.iter().map(|o| o.date_added).collect();
    assert!(added.windows(2).all(|pair| pair[0] < pair[1]), "date_added strictly increasing");
    let ids: BTreeSet<&str> = all.iter().map(|o| o.stix_id.as_str()).collect();
    assert_eq!(ids.len(), 250);
    assert!(all[0].body.contains("\"n\":0"));

    // A page of 7 after the 100th object starts at the 101st.
    let mut query = ObjectQuery::new(id, 7);
    query.after = Some(all[99].cursor());
    let page = store.query_objects(&query).await.expect("page");
    assert_eq!(
        page.iter().map(|o| o.row).collect::<Vec<_>>(),
        all[100..107].iter().map(|o| o.row).collect::<Vec<_>>()
    );
    query.after = Some(Cursor { date_added: all[249].date_added, row: all[249].row });
    assert!(store.query_objects(&query).await.expect("past the end").is_empty());

    // added_after, match[id], match[type], match[spec_version], TLP narrowing, bodies left out.
    let mut query = ObjectQuery::new(id, 1000);
    query.added_after = Some(all[239].date_added);
    assert_eq!(store.query_objects(&query).await.expect("added_after").len(), 10);
    let mut query = ObjectQuery::new(id, 1000);
    query.ids = vec![all[3].stix_id.clone(), all[4].stix_id.clone(), "indicator--nope".into()];
    assert_eq!(store.query_objects(&query).await.expect("ids").len(), 2);
    let mut query = ObjectQuery::new(id, 1000);
    query.types = vec!["malware".into()];
    assert!(store.query_objects(&query).await.expect("types").is_empty());
    query.types = vec!["malware".into(), "indicator".into()];
    assert_eq!(store.query_objects(&query).await.expect("types").len(), 250);
    let mut query = ObjectQuery::new(id, 1000);
    query.spec_versions = vec!["2.0".into()];
    assert!(store.query_objects(&query).await.expect("spec").is_empty());
    let mut query = ObjectQuery::new(id, 1000);
    query.tlps = vec![Tlp::Clear];
    query.with_body = false;
    let clear = store.query_objects(&query).await.expect("tlp");
    assert_eq!(clear.len(), 50);
    assert!(clear.iter().all(|o| o.tlp == Tlp::Clear && o.body.is_empty()));

    // Versions: two newer and one older version of object 5, and one already present.
    let five = |modified: i64| indicator(5, modified, Tlp::Green);
    let status = store
        .add_objects(
            &admin(),
            &request(id, org.id, vec![five(2_000_000), five(3_000_000), five(500), five(1_000_005)]),
        )
        .await
        .expect("versions");
    assert_eq!(status.successes.len(), 3);
    assert_eq!(
        status.failures,
        [StatusDetail {
            id: all[5].stix_id.clone(),
            version: Some("1970-01-01T00:00:01.000005Z".into()),
            message: Some("already present in the collection".into()),
        }]
    );
    let stored = store.get_status(status.id).await.expect("status").expect("found");
    assert_eq!(stored, status);
    assert!(store.get_status(Uuid::new_v4()).await.expect("status").is_none());

    let versions_of = |versions: VersionFilter| {
        let mut query = ObjectQuery::new(id, 100);
        query.ids = vec![all[5].stix_id.clone()];
        query.versions = versions;
        query
    };
    let versions = |found: Vec<StoredObject>| found.into_iter().map(|o| o.version).collect::<Vec<_>>();
    let last = store.query_objects(&versions_of(VersionFilter::last())).await.expect("last");
    assert_eq!(versions(last), [3_000_000]);
    let first = VersionFilter { first: true, ..VersionFilter::default() };
    assert_eq!(versions(store.query_objects(&versions_of(first)).await.expect("first")), [500]);
    let every = VersionFilter { all: true, ..VersionFilter::default() };
    // In date_added order: the original, then the three added later.
    assert_eq!(
        versions(store.query_objects(&versions_of(every.clone())).await.expect("all")),
        [1_000_005, 2_000_000, 3_000_000, 500]
    );
    let at = VersionFilter { at: vec![2_000_000, 7], last: true, ..VersionFilter::default() };
    assert_eq!(versions(store.query_objects(&versions_of(at)).await.expect("at")), [2_000_000, 3_000_000]);
    // The default listing still holds one row per object.
    assert_eq!(page_all(store, ObjectQuery::new(id, 100)).await.len(), 250);

    // Deleting the last and the first version makes the remaining extremes first and last.
    let rows = store.query_objects(&versions_of(every.clone())).await.expect("all");
    let doomed: Vec<i64> =
        rows.iter().filter(|o| o.version == 3_000_000 || o.version == 500).map(|o| o.row).collect();
    let deleted = store.delete_objects(&admin(), id, &all[5].stix_id, &doomed).await.expect("delete");
    assert_eq!(deleted, 2);
    assert_eq!(
        versions(store.query_objects(&versions_of(VersionFilter::last())).await.expect("last")),
        [2_000_000]
    );
    let first = VersionFilter { first: true, ..VersionFilter::default() };
    assert_eq!(versions(store.query_objects(&versions_of(first)).await.expect("first")), [1_000_005]);
    // Deleting the rest removes the object; a row of another id is left alone.
    let rest: Vec<i64> =
        store.query_objects(&versions_of(every)).await.expect("all").into_iter().map(|o| o.row).collect();
    let deleted = store
        .delete_objects(&admin(), id, &all[5].stix_id, &[rest[0], rest[1], all[6].row])
        .await
        .expect("delete");
    assert_eq!(deleted, 2);
    assert_eq!(page_all(store, ObjectQuery::new(id, 100)).await.len(), 249);

    // An object without a version takes its date_added as its version.
    let mut unversioned = indicator(900, 0, Tlp::Clear);
    unversioned.version = None;
    let status = store.add_objects(&admin(), &request(id, org.id, vec![unversioned])).await.expect("add");
    let mut query = ObjectQuery::new(id, 10);
    query.ids = vec![status.successes[0].id.clone()];
    let found = store.query_objects(&query).await.expect("query");
    assert_eq!(found[0].version, found[0].date_added);

    // Adding to a missing collection is refused.
    let missing = store
        .add_objects(&admin(), &request(Uuid::new_v4(), org.id, vec![indicator(1, 1, Tlp::Clear)]))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");

    // The paging key is stable and long.
    let key = store.taxii_paging_key().await.expect("key");
    assert!(key.len() >= 30, "{} bytes", key.len());
    assert_eq!(store.taxii_paging_key().await.expect("key"), key);
}

/// Two servers adding to one collection at once still give every object its own date_added.
pub async fn taxii_concurrent_adds(harness: &dyn Harness) {
    let store = harness.store();
    let org = store.create_org(&admin(), &org_fields("CERT-T", "CERT Test")).await.expect("org");
    let id = Uuid::new_v4();
    store
        .create_collection(&admin(), id, &collection_fields(org.id, "Busy", Sharing::Community))
        .await
        .expect("create");
    let other = harness.reopen().await.expect("reopen");
    let first = async {
        for batch in 0..10u128 {
            let objects = (0..20).map(|n| indicator(batch * 100 + n, 1, Tlp::Green)).collect();
            store.add_objects(&admin(), &request(id, org.id, objects)).await.expect("add");
        }
    };
    let second = async {
        for batch in 0..10u128 {
            let objects = (0..20).map(|n| indicator(10_000 + batch * 100 + n, 1, Tlp::Green)).collect();
            other.add_objects(&admin(), &request(id, org.id, objects)).await.expect("add");
        }
    };
    tokio::join!(first, second);
    let all = page_all(store, ObjectQuery::new(id, 50)).await;
    assert_eq!(all.len(), 400);
    let added: BTreeSet<i64> = all.iter().map(|o| o.date_added).collect();
    assert_eq!(added.len(), 400, "every date_added is unique");
}
