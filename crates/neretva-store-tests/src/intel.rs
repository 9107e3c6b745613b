//! Intel stories: events stored as MISP JSON with indexed rows, correlation on write,
//! searching, sightings and sharing groups.

use neretva_intel::access::SharingGroup;
use neretva_intel::misp::{self, ImportContext, Limits};
use neretva_intel::model::{IntelEvent, OrgRef, Sighting, SightingKind};
use neretva_model::Timestamp;
use neretva_store::intel::{AttributeQuery, IntelEventQuery};
use neretva_store::{AuditQuery, Store, StoreError};
use uuid::Uuid;

use crate::{admin, org_fields};

const CREATOR: &str = "c0000000-0000-4000-8000-000000000001";

/// An event read from MISP JSON, as the API and the CLI read them.
fn event(uuid: &str, info: &str, tags: &[&str], attributes: &[(&str, &str, &str)]) -> IntelEvent {
    let tags: Vec<serde_json::Value> = tags.iter().map(|name| serde_json::json!({ "name": name })).collect();
    let attributes: Vec<serde_json::Value> = attributes
        .iter()
        .map(|(uuid, attr_type, value)| {
            serde_json::json!({ "uuid": uuid, "type": attr_type, "value": value, "to_ids": *attr_type != "text" })
        })
        .collect();
    let document = serde_json::json!({ "Event": {
        "uuid": uuid,
        "info": info,
        "date": "2026-11-20",
        "timestamp": "1795000000",
        "published": false,
        "distribution": "1",
        "Orgc": { "uuid": CREATOR, "name": "CERT Creator" },
        "Tag": tags,
        "Attribute": attributes,
    }});
    let context = ImportContext { now: Timestamp::UNIX_EPOCH, default_org: None };
    let imported = misp::parse(&document.to_string(), &context, &Limits::default()).expect("MISP JSON");
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    imported.events.into_iter().next().expect("one event")
}

const EVENT_A: &str = "a0000000-0000-4000-8000-00000000000a";
const EVENT_B: &str = "b0000000-0000-4000-8000-00000000000b";

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("uuid")
}

fn links(store_event: &neretva_store::intel::StoredIntelEvent) -> Vec<(Uuid, Uuid, String)> {
    store_event
        .correlations
        .iter()
        .map(|link| (link.attribute, link.other_attribute, link.relation.clone()))
        .collect()
}

pub async fn intel_events(store: &dyn Store) {
    let owner = store.create_org(&admin(), &org_fields("INT", "Intel Owner")).await.expect("org");
    let a = event(
        EVENT_A,
        "Phishing wave against banks",
        &["tlp:green", "rsit:fraud=\"phishing\""],
        &[
            ("a0000000-0000-4000-8000-0000000000a1", "ip-dst", "45.9.148.10"),
            ("a0000000-0000-4000-8000-0000000000a2", "domain", "evil-cdn.top"),
            ("a0000000-0000-4000-8000-0000000000a3", "ip-dst", "192.0.2.1"),
            ("a0000000-0000-4000-8000-0000000000a4", "text", "campaign notes"),
        ],
    );
    let stored = store.create_intel_event(&admin(), owner.id, &a).await.expect("create a");
    assert_eq!(stored.event, a);
    assert_eq!(stored.owner_org, owner.id);
    assert!(stored.correlations.is_empty());
    assert_eq!(store.get_intel_event(a.uuid).await.expect("get").expect("found"), stored);
    let again = store.create_intel_event(&admin(), owner.id, &a).await;
    assert!(matches!(again, Err(StoreError::Conflict { ref field, .. }) if field == "uuid"), "{again:?}");

    // B meets A's address exactly and A's domain from below; the documentation address both
    // hold is on a warning list and links nothing; free text never correlates.
    let b = event(
        EVENT_B,
        "Banking trojan infrastructure",
        &["tlp:amber"],
        &[
            ("b0000000-0000-4000-8000-0000000000b1", "ip-src", "45.9.148.10"),
            ("b0000000-0000-4000-8000-0000000000b2", "hostname", "www.evil-cdn.top"),
            ("b0000000-0000-4000-8000-0000000000b3", "ip-dst", "192.0.2.1"),
            ("b0000000-0000-4000-8000-0000000000b4", "text", "campaign notes"),
        ],
    );
    let stored_b = store.create_intel_event(&admin(), owner.id, &b).await.expect("create b");
    let a1 = uuid("a0000000-0000-4000-8000-0000000000a1");
    let a2 = uuid("a0000000-0000-4000-8000-0000000000a2");
    let b1 = uuid("b0000000-0000-4000-8000-0000000000b1");
    let b2 = uuid("b0000000-0000-4000-8000-0000000000b2");
    assert_eq!(links(&stored_b), [(b1, a1, "exact".to_owned()), (b2, a2, "host".to_owned())]);
    assert!(stored_b.correlations.iter().all(|link| link.other_event == a.uuid));
    let stored_a = store.get_intel_event(a.uuid).await.expect("get a").expect("a");
    assert_eq!(links(&stored_a), [(a1, b1, "exact".to_owned()), (a2, b2, "host".to_owned())]);

    // Updating B replaces its attributes, and with them its links.
    let mut b2_only = b.clone();
    b2_only.attributes.retain(|attribute| attribute.uuid != b1);
    b2_only.info = "Banking trojan infrastructure, revised".into();
    let updated = store.update_intel_event(&admin(), &b2_only).await.expect("update");
    assert_eq!(updated.event, b2_only);
    assert_eq!(updated.created_at, stored_b.created_at);
    // Numeric ids (MISP's `id`): an event's is its `seq`; an attribute keeps its id across
    // rewrites, and a removed attribute's id leads nowhere.
    assert_eq!(updated.seq, stored_b.seq);
    assert_eq!(updated.attribute_ids.len(), 3);
    for (attribute, id) in &updated.attribute_ids {
        assert_eq!(stored_b.attribute_id(*attribute), Some(*id));
        assert_eq!(store.find_intel_attribute(*id).await.expect("find"), Some((b.uuid, *attribute)));
    }
    let removed = stored_b.attribute_id(b1).expect("b1 had an id");
    assert_eq!(updated.attribute_id(b1), None);
    assert_eq!(store.find_intel_attribute(removed).await.expect("find removed"), None);
    assert!(
        stored
            .attribute_ids
            .iter()
            .all(|(_, id)| stored_b.attribute_ids.iter().all(|(_, other)| other != id))
    );
    let by_seq = store.get_intel_event_by_seq(updated.seq).await.expect("by seq").expect("found");
    assert_eq!(by_seq, updated);
    assert_eq!(store.get_intel_event_by_seq(updated.seq + 1000).await.expect("by seq"), None);
    assert_eq!(store.find_intel_attribute(-1).await.expect("find"), None);
    assert_eq!(store.intel_attribute_event(b2).await.expect("event of b2"), Some(b.uuid));

    // Heads: what deciding visibility needs of each event, its title as last written; an
    // unknown uuid is left out.
    let unknown = uuid("d0000000-0000-4000-8000-00000000000d");
    let mut heads = store.intel_event_heads(&[b.uuid, unknown, a.uuid]).await.expect("heads");
    heads.sort_by_key(|head| head.uuid);
    let head = |event: &IntelEvent, info: &str| neretva_store::intel::IntelEventHead {
        uuid: event.uuid,
        info: info.to_owned(),
        owner_org: owner.id,
        distribution: event.distribution.number(),
        sharing_group: event.sharing_group,
        tlp: neretva_store::intel::event_tlp(event),
    };
    assert_eq!(
        heads,
        [head(&a, "Phishing wave against banks"), head(&b2_only, "Banking trojan infrastructure, revised")]
    );
    assert_eq!(heads[0].tlp, neretva_model::tlp::Tlp::Green);
    assert_eq!(heads[1].tlp, neretva_model::tlp::Tlp::Amber);
    assert!(store.intel_event_heads(&[]).await.expect("no heads").is_empty());
    assert_eq!(store.intel_attribute_event(b1).await.expect("event of b1"), None);
    assert_eq!(links(&updated), [(b2, a2, "host".to_owned())]);
    let stored_a = store.get_intel_event(a.uuid).await.expect("get a").expect("a");
    assert_eq!(links(&stored_a), [(a2, b2, "host".to_owned())]);
    // A write under the version read is refused once another write came between, and
    // writes nothing.
    let stale = store.update_intel_event_at(&admin(), &b, Timestamp::UNIX_EPOCH).await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { ref field, .. }) if field == "updated_at"),
        "{stale:?}"
    );
    assert_eq!(store.get_intel_event(b.uuid).await.expect("get b").expect("b"), updated);
    let current = store.update_intel_event_at(&admin(), &b2_only, updated.updated_at).await.expect("at");
    assert_eq!(current.event, b2_only);
    assert_eq!(links(&current), [(b2, a2, "host".to_owned())]);
    let missing = store
        .update_intel_event(
            &admin(),
            &event("d0000000-0000-4000-8000-00000000000d", "never stored", &[], &[]),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");

    // An attribute uuid of another event is refused, and nothing of the event is stored.
    let thief = event(
        "e0000000-0000-4000-8000-00000000000e",
        "Steals an attribute id",
        &[],
        &[("a0000000-0000-4000-8000-0000000000a1", "ip-dst", "45.9.148.11")],
    );
    let stolen = store.create_intel_event(&admin(), owner.id, &thief).await;
    assert!(
        matches!(stolen, Err(StoreError::Conflict { ref field, .. }) if field == "Attribute.uuid"),
        "{stolen:?}"
    );
    assert!(store.get_intel_event(thief.uuid).await.expect("get").is_none());

    // Listing: newest first, filters, and a cursor.
    let all = store
        .list_intel_events(&IntelEventQuery { limit: 10, ..IntelEventQuery::default() })
        .await
        .expect("list");
    assert_eq!(all.iter().map(|e| e.event.uuid).collect::<Vec<_>>(), [b.uuid, a.uuid]);
    let page = store
        .list_intel_events(&IntelEventQuery {
            limit: 1,
            before: Some(all[0].seq),
            ..IntelEventQuery::default()
        })
        .await
        .expect("page");
    assert_eq!(page.iter().map(|e| e.event.uuid).collect::<Vec<_>>(), [a.uuid]);
    let by_text = IntelEventQuery { text: Some("TROJAN".into()), limit: 10, ..IntelEventQuery::default() };
    let found = store.list_intel_events(&by_text).await.expect("text");
    assert_eq!(found.iter().map(|e| e.event.uuid).collect::<Vec<_>>(), [b.uuid]);
    let wildcard = IntelEventQuery { text: Some("%".into()), limit: 10, ..IntelEventQuery::default() };
    assert!(store.list_intel_events(&wildcard).await.expect("wildcard").is_empty());
    let by_tag = IntelEventQuery { tag: Some("tlp:green".into()), limit: 10, ..IntelEventQuery::default() };
    let found = store.list_intel_events(&by_tag).await.expect("tag");
    assert_eq!(found.iter().map(|e| e.event.uuid).collect::<Vec<_>>(), [a.uuid]);
    let published = IntelEventQuery { published: Some(true), limit: 10, ..IntelEventQuery::default() };
    assert!(store.list_intel_events(&published).await.expect("published").is_empty());
    let by_org = IntelEventQuery { org: Some(uuid(CREATOR)), limit: 10, ..IntelEventQuery::default() };
    assert_eq!(store.list_intel_events(&by_org).await.expect("org").len(), 2);
    let other_org = IntelEventQuery { org: Some(Uuid::new_v4()), limit: 10, ..IntelEventQuery::default() };
    assert!(store.list_intel_events(&other_org).await.expect("org").is_empty());
    let later = IntelEventQuery {
        since: Some(Timestamp::from_unix_timestamp(1_795_000_001).expect("time")),
        limit: 10,
        ..IntelEventQuery::default()
    };
    assert!(store.list_intel_events(&later).await.expect("since").is_empty());

    // Attribute search by canonical value, type and to_ids, with the event's sharing.
    let query = AttributeQuery { value: Some("192.0.2.1".into()), limit: 10, ..AttributeQuery::default() };
    let found = store.search_intel_attributes(&query).await.expect("search");
    assert_eq!(found.iter().map(|attribute| attribute.event).collect::<Vec<_>>(), [b.uuid, a.uuid]);
    assert_eq!(found[0].event_tlp, neretva_model::tlp::Tlp::Amber);
    assert_eq!(found[1].event_tlp, neretva_model::tlp::Tlp::Green);
    assert_eq!(found[1].owner_org, owner.id);
    assert_eq!(found[1].event_distribution, 1);
    let query = AttributeQuery {
        attr_type: Some("text".into()),
        to_ids: Some(true),
        limit: 10,
        ..AttributeQuery::default()
    };
    assert!(store.search_intel_attributes(&query).await.expect("search").is_empty());
    let query = AttributeQuery {
        attr_type: Some("text".into()),
        to_ids: Some(false),
        limit: 10,
        ..AttributeQuery::default()
    };
    assert_eq!(store.search_intel_attributes(&query).await.expect("search").len(), 2);

    // A sighting is kept in the event and counted once.
    let sighting = Sighting {
        uuid: uuid("50000000-0000-4000-8000-000000000005"),
        kind: SightingKind::Sighting,
        source: "sensor-1".into(),
        time: Timestamp::from_unix_timestamp(1_795_000_100).expect("time"),
        org: Some(OrgRef { uuid: owner.id, name: "Intel Owner".into() }),
    };
    let sighted = store.add_intel_sighting(&admin(), a.uuid, a1, &sighting).await.expect("sighting");
    let attribute = sighted.event.attributes.iter().find(|attribute| attribute.uuid == a1).expect("a1");
    assert_eq!(attribute.sightings, std::slice::from_ref(&sighting));
    let twice = store.add_intel_sighting(&admin(), a.uuid, a1, &sighting).await;
    assert!(matches!(twice, Err(StoreError::Conflict { .. })), "{twice:?}");
    let nowhere = store.add_intel_sighting(&admin(), a.uuid, b1, &sighting).await;
    assert!(matches!(nowhere, Err(StoreError::NotFound { .. })), "{nowhere:?}");

    // Deleting A removes its links from B.
    store.delete_intel_event(&admin(), a.uuid).await.expect("delete");
    assert!(store.get_intel_event(a.uuid).await.expect("get").is_none());
    let stored_b = store.get_intel_event(b.uuid).await.expect("get b").expect("b");
    assert!(stored_b.correlations.is_empty());
    let missing = store.delete_intel_event(&admin(), a.uuid).await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");

    let actions: Vec<String> = store
        .list_audit(&AuditQuery { limit: 100, ..AuditQuery::default() })
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.event.action)
        .filter(|action| action.starts_with("intel."))
        .collect();
    assert_eq!(
        actions,
        [
            "intel.event.create",
            "intel.event.create",
            "intel.event.update",
            "intel.event.update",
            "intel.sighting.add",
            "intel.event.delete"
        ]
    );
}

pub async fn intel_sharing_groups(store: &dyn Store) {
    let owner = store.create_org(&admin(), &org_fields("SGO", "Group Owner")).await.expect("org");
    let (m1, m2) = (Uuid::new_v4(), Uuid::new_v4());
    let group = SharingGroup {
        uuid: Uuid::new_v4(),
        name: "Financial sector".into(),
        description: "Banks and payment providers".into(),
        owner_org: owner.id,
        members: vec![m1, owner.id, m2],
        confidential: true,
    };
    let stored = store.put_sharing_group(&admin(), &group).await.expect("put");
    assert_eq!(stored.members, [m1, m2]);
    assert_eq!(store.get_sharing_group(group.uuid).await.expect("get"), Some(stored.clone()));
    let other = SharingGroup {
        uuid: Uuid::new_v4(),
        name: "Energy".into(),
        description: String::new(),
        owner_org: owner.id,
        members: vec![],
        confidential: false,
    };
    store.put_sharing_group(&admin(), &other).await.expect("put other");
    let names: Vec<String> =
        store.list_sharing_groups().await.expect("list").into_iter().map(|group| group.name).collect();
    assert_eq!(names, ["Energy", "Financial sector"]);

    let ids_before = store.sharing_group_ids().await.expect("ids");
    let replaced = SharingGroup { members: vec![m2], confidential: false, ..group.clone() };
    let stored = store.put_sharing_group(&admin(), &replaced).await.expect("replace");
    assert_eq!(store.get_sharing_group(group.uuid).await.expect("get"), Some(stored));
    // Each group has one numeric id (MISP's `id`), kept when the group is replaced.
    let ids = store.sharing_group_ids().await.expect("ids");
    assert_eq!(ids, ids_before);
    assert_eq!(ids.len(), 2);
    assert!(
        ids.iter().any(|(uuid, _)| *uuid == group.uuid) && ids.iter().any(|(uuid, _)| *uuid == other.uuid)
    );
    assert_ne!(ids[0].1, ids[1].1);
    let unnamed = SharingGroup { name: " ".into(), ..other.clone() };
    let refused = store.put_sharing_group(&admin(), &unnamed).await;
    assert!(matches!(refused, Err(StoreError::Conflict { ref field, .. }) if field == "name"), "{refused:?}");

    // A group an event is restricted to cannot go.
    let mut restricted = event("f0000000-0000-4000-8000-00000000000f", "Members only", &[], &[]);
    restricted.distribution = neretva_intel::model::Distribution::SharingGroup;
    restricted.sharing_group = Some(group.uuid);
    store.create_intel_event(&admin(), owner.id, &restricted).await.expect("event");
    let in_use = store.delete_sharing_group(&admin(), group.uuid).await;
    assert!(
        matches!(in_use, Err(StoreError::Conflict { ref field, ref message })
            if field == "sharing_group" && message == "1 intel event uses this sharing group"),
        "{in_use:?}"
    );
    let stored = store.get_intel_event(restricted.uuid).await.expect("get").expect("event");
    assert_eq!(stored.event.sharing_group, Some(group.uuid));

    store.delete_sharing_group(&admin(), other.uuid).await.expect("delete");
    assert!(store.get_sharing_group(other.uuid).await.expect("get").is_none());
    let missing = store.delete_sharing_group(&admin(), other.uuid).await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");
}
