//! Stories of working groups: the main group and its sub-groups, members, action items linked
//! to strategy actions, announcements recorded with their messages.

use neretva_governance::defaults::guidelines;
use neretva_governance::groups::{
    ActionItem, Announcement, ItemStatus, Member, MemberRole, StakeholderKind, StrategyLink, WorkingGroup,
};
use neretva_governance::strategy::{Action, ActionStatus, MeasureDraft, add_action, add_measure};
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_store::groups::group_digest;
use neretva_store::notifications::{DeliveryStatus, MessageQuery, NewMessage, NotificationWrite};
use neretva_store::{AuditQuery, Store};
use time::macros::date;
use uuid::Uuid;

use crate::{admin, assert_conflict, assert_not_found, at, org_fields};

fn group(id: u128, code: &str, parent: Option<Uuid>, convener: Uuid) -> WorkingGroup {
    WorkingGroup {
        id: Uuid::from_u128(id),
        code: code.into(),
        name: format!("Group {code}"),
        description: None,
        parent,
        convener_org: convener,
        sector: None,
        diversity_goals: None,
        members: Vec::new(),
        meetings: Vec::new(),
        action_items: Vec::new(),
        documents: Vec::new(),
        announcements: Vec::new(),
    }
}

fn member(id: u128, email: &str, org: Option<Uuid>) -> Member {
    Member {
        id: Uuid::from_u128(id),
        name: format!("Member {id}"),
        email: email.into(),
        org_id: org,
        outside_org: org.is_none().then(|| "University of Sarajevo".to_owned()),
        sector: Some("energy".into()),
        kind: StakeholderKind::Private,
        role: MemberRole::Member,
        language: Language::Hr,
        joined: date!(2026 - 02 - 01),
        gender: None,
        age_band: None,
    }
}

fn message(id: u128, org: Uuid, email: &str, failure: Option<&str>) -> NewMessage {
    NewMessage {
        id: Uuid::from_u128(id),
        message_id: format!("{id}@cert.example.ba"),
        org_id: org,
        contact_id: None,
        email: email.into(),
        kind: "group_announcement".into(),
        incident_id: None,
        resend_of: None,
        subject: "[TLP:GREEN] [NWG] Announcement: meeting".into(),
        tlp: "TLP:GREEN".into(),
        language: "hr".into(),
        encrypted: false,
        raw: if failure.is_some() { Vec::new() } else { b"Subject: x\r\n\r\nbody\r\n".to_vec() },
        event_ids: Vec::new(),
        failure: failure.map(str::to_owned),
    }
}

/// A coordinator sets up the main group and an energy sub-group, adds members, links an action
/// item to a strategy action, and announces a meeting; unknown organisations, parents and
/// strategy actions, stale versions, duplicate codes and a sub-group of a sub-group are refused
/// with nothing written, and every change is audited.
pub async fn working_groups(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT-BIH", "CERT BiH")).await.expect("org");
    let ep = store.create_org(&admin(), &org_fields("EP-BIH", "Elektroprivreda BiH")).await.expect("org");

    let main = group(1, "NWG", None, cert.id);
    let created = store.create_group(&admin(), &main).await.expect("create");
    assert_eq!((created.version, &created.group), (1, &main));
    assert_eq!(store.find_group("NWG").await.expect("find").map(|g| g.group.id), Some(main.id));

    let energy = group(2, "NWG-ENERGY", Some(main.id), cert.id);
    store.create_group(&admin(), &energy).await.expect("sub-group");
    // A sub-group of a sub-group, an unknown parent, a taken code, an unknown convener.
    assert_conflict(
        store.create_group(&admin(), &group(3, "DEEP", Some(energy.id), cert.id)).await,
        "parent",
    );
    assert_conflict(
        store.create_group(&admin(), &group(3, "LOST", Some(Uuid::from_u128(99)), cert.id)).await,
        "parent",
    );
    assert_conflict(store.create_group(&admin(), &group(3, "NWG", None, cert.id)).await, "code");
    assert_conflict(
        store.create_group(&admin(), &group(3, "NOBODY", None, Uuid::from_u128(98))).await,
        "convener_org",
    );
    assert!(store.get_group(Uuid::from_u128(3)).await.expect("get").is_none());
    // The main group has a sub-group, so it cannot become one.
    let mut demoted = main.clone();
    demoted.parent = Some(energy.id);
    assert_conflict(store.update_group(&admin(), &demoted, 1, "group.update").await, "parent");

    // Members: one of the registry, one from outside; an unknown organisation is refused.
    let mut changed = energy.clone();
    changed.members.push(member(10, "ana@ep.example.ba", Some(ep.id)));
    changed.members.push(member(11, "prof@unsa.example.ba", None));
    let mut bad = changed.clone();
    bad.members.push(member(12, "x@nowhere.example.ba", Some(Uuid::from_u128(404))));
    assert_conflict(store.update_group(&admin(), &bad, 1, "group.member.add").await, "members[2].org_id");
    let updated = store.update_group(&admin(), &changed, 1, "group.member.add").await.expect("members");
    assert_eq!(updated.version, 2);
    assert_conflict(store.update_group(&admin(), &changed, 1, "group.member.add").await, "version");

    // An action item linked to an action of the strategy tracker; a missing document or action
    // is refused by the item's field.
    let mut document = guidelines(Uuid::from_u128(50), cert.id);
    add_measure(
        &mut document,
        "I",
        MeasureDraft {
            code: "I.1".into(),
            title: "Public-private partnership".into(),
            description: None,
            tags: vec![],
        },
    )
    .expect("measure");
    let strategy_action = Action {
        id: Uuid::from_u128(51),
        title: "Set up the energy sector working group".into(),
        description: None,
        owner_org: cert.id,
        authority_level: "State".into(),
        responsible_contacts: vec![],
        start: date!(2026 - 01 - 01),
        due: date!(2026 - 12 - 31),
        status: ActionStatus::InProgress,
        progress: 0,
        kpis: vec![],
        evidence: vec![],
        tags: vec![],
        updated_at: at(0),
    };
    add_action(&mut document, "I.1", strategy_action, at(0)).expect("action");
    store.create_strategy(&admin(), &document).await.expect("strategy");
    let item = |action: u128, document: u128| ActionItem {
        id: Uuid::from_u128(20),
        title: "Terms of reference".into(),
        owner: Uuid::from_u128(10),
        due: date!(2026 - 04 - 30),
        status: ItemStatus::Open,
        meeting: None,
        strategy: Some(StrategyLink { document: Uuid::from_u128(document), action: Uuid::from_u128(action) }),
    };
    let mut linked = changed.clone();
    linked.action_items.push(item(52, 50));
    assert_conflict(
        store.update_group(&admin(), &linked, 2, "group.item.add").await,
        "action_items[0].strategy",
    );
    linked.action_items[0] = item(51, 60);
    assert_conflict(
        store.update_group(&admin(), &linked, 2, "group.item.add").await,
        "action_items[0].strategy",
    );
    linked.action_items[0] = item(51, 50);
    let updated = store.update_group(&admin(), &linked, 2, "group.item.add").await.expect("item");
    assert_eq!(updated.version, 3);
    let read = store.get_group(energy.id).await.expect("get").expect("stored");
    assert_eq!(read.group.action_items[0].strategy.map(|l| l.action), Some(Uuid::from_u128(51)));

    // An announcement: the group and its messages in one transaction; a stale version writes
    // neither.
    let mut announced = linked.clone();
    announced.announcements.push(Announcement {
        id: Uuid::from_u128(30),
        subject: "Kick-off meeting".into(),
        body: "Monday at 10:00.".into(),
        tlp: Tlp::Green,
        sent_by: "user:ana".into(),
        sent_at: at(5),
        messages: vec![Uuid::from_u128(31), Uuid::from_u128(32)],
    });
    let writes = vec![
        NotificationWrite {
            org_id: ep.id,
            messages: vec![message(31, ep.id, "ana@ep.example.ba", None)],
            ..NotificationWrite::default()
        },
        NotificationWrite {
            org_id: cert.id,
            messages: vec![message(32, cert.id, "prof@unsa.example.ba", Some("invalid address"))],
            ..NotificationWrite::default()
        },
    ];
    assert_conflict(store.announce_group(&admin(), &announced, 2, &writes).await, "version");
    assert!(store.get_message(Uuid::from_u128(31)).await.expect("message").is_none());
    let (stored, messages) = store.announce_group(&admin(), &announced, 3, &writes).await.expect("announce");
    assert_eq!(stored.version, 4);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].status, DeliveryStatus::Pending);
    assert_eq!(messages[1].status, DeliveryStatus::Failed);
    assert_eq!(messages[1].last_error.as_deref(), Some("invalid address"));
    let to_ep = store
        .list_messages(&MessageQuery { org_ids: Some(vec![ep.id]), ..MessageQuery::default() })
        .await
        .expect("messages");
    assert_eq!(to_ep.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(), ["group_announcement"]);

    // Listing by code; deleting a main group with a sub-group is refused.
    let codes: Vec<String> =
        store.list_groups().await.expect("list").into_iter().map(|g| g.group.code).collect();
    assert_eq!(codes, ["NWG", "NWG-ENERGY"]);
    assert_conflict(store.delete_group(&admin(), main.id).await, "id");
    store.delete_group(&admin(), energy.id).await.expect("delete sub-group");
    store.delete_group(&admin(), main.id).await.expect("delete main group");
    assert_not_found(store.delete_group(&admin(), main.id).await, "working group");
    assert_not_found(store.update_group(&admin(), &main, 1, "group.update").await, "working group");
    assert!(store.list_groups().await.expect("list").is_empty());

    // Every change audited with the group's digest, none of the refused ones.
    let entries = store.list_audit(&AuditQuery { limit: 200, ..AuditQuery::default() }).await.expect("audit");
    let audited: Vec<(&str, &str)> = entries
        .iter()
        .filter(|entry| entry.event.object_type == "group")
        .map(|entry| (entry.event.action.as_str(), entry.event.digest.as_str()))
        .collect();
    assert_eq!(
        audited.iter().map(|(action, _)| *action).collect::<Vec<_>>(),
        [
            "group.create",
            "group.create",
            "group.member.add",
            "group.item.add",
            "group.announce",
            "group.delete",
            "group.delete"
        ]
    );
    assert_eq!(audited[4].1, group_digest(&announced));
    let notifications = entries
        .iter()
        .filter(|entry| {
            entry.event.object_type == "notification" && entry.event.action == "notification.create"
        })
        .count();
    assert_eq!(notifications, 2);
}
