//! Stories of co-ordination and governance: the strategy tracker's documents.

use neretva_governance::defaults::guidelines;
use neretva_governance::strategy::{
    Action, ActionPatch, ActionStatus, Kpi, MeasureDraft, Measurement, add_action, add_measure,
    record_measurement, update_action,
};
use neretva_store::governance::strategy_digest;
use neretva_store::{AuditQuery, Store};
use time::macros::date;
use uuid::Uuid;

use crate::{admin, assert_conflict, assert_not_found, at, contact_fields, org_fields};

fn action(id: u128, org: Uuid, level: &str, contacts: Vec<Uuid>) -> Action {
    Action {
        id: Uuid::from_u128(id),
        title: format!("Action {id}"),
        description: None,
        owner_org: org,
        authority_level: level.into(),
        responsible_contacts: contacts,
        start: date!(2026 - 01 - 01),
        due: date!(2026 - 12 - 31),
        status: ActionStatus::InProgress,
        progress: 10,
        kpis: vec![Kpi {
            code: "acts".into(),
            name: "Acts adopted".into(),
            unit: None,
            baseline: None,
            target: 3.0,
            measurements: Vec::new(),
        }],
        evidence: Vec::new(),
        tags: vec!["nis2-7:a".into()],
        updated_at: at(0),
    }
}

/// A coordinator loads the Guidelines, breaks objective A into actions at two levels of
/// authority, records KPI measurements; stale versions, unknown organisations and contacts,
/// and duplicate codes are refused with nothing written, and every change is audited.
pub async fn strategy_documents(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT-BIH", "CERT BiH")).await.expect("org");
    let ministry = store.create_org(&admin(), &org_fields("MS-RS", "Ministry RS")).await.expect("org");
    let contact = store
        .create_contact(&admin(), ministry.id, &contact_fields("Ana", "ana@ms.example.ba"), None)
        .await
        .expect("contact");

    let document = guidelines(Uuid::from_u128(1), cert.id);
    let created = store.create_strategy(&admin(), &document).await.expect("create");
    assert_eq!((created.version, &created.document), (1, &document));
    assert_eq!(store.get_strategy(document.id).await.expect("get").expect("stored"), created);
    assert_eq!(
        store.find_strategy("BIH-SCF-2019").await.expect("find").map(|s| s.document.id),
        Some(document.id)
    );
    assert!(store.find_strategy("bih-scf-2019").await.expect("find").is_none());

    // Loading the defaults twice: the code is taken, and so is the id.
    let again = guidelines(Uuid::from_u128(2), cert.id);
    assert_conflict(store.create_strategy(&admin(), &again).await, "code");
    let mut same_id = guidelines(Uuid::from_u128(1), cert.id);
    same_id.code = "OTHER".into();
    assert_conflict(store.create_strategy(&admin(), &same_id).await, "id");
    // An unknown owner: nothing written.
    let mut orphan = guidelines(Uuid::from_u128(3), Uuid::from_u128(999));
    orphan.code = "ORPHAN".into();
    assert_conflict(store.create_strategy(&admin(), &orphan).await, "owner_org");
    assert!(store.get_strategy(orphan.id).await.expect("get").is_none());

    // Break objective A into a measure with actions at the State level and in Republika Srpska.
    let mut changed = created.document.clone();
    let draft =
        MeasureDraft { code: "A.1".into(), title: "Transpose NIS2".into(), description: None, tags: vec![] };
    add_measure(&mut changed, "A", draft).expect("measure");
    add_action(&mut changed, "A.1", action(10, cert.id, "State", vec![]), at(1)).expect("action");
    add_action(&mut changed, "A.1", action(11, ministry.id, "Republika Srpska", vec![contact.id]), at(1))
        .expect("action");
    let updated = store.update_strategy(&admin(), &changed, 1, "strategy.action.add").await.expect("update");
    assert_eq!(updated.version, 2);
    assert_eq!(updated.created_at, created.created_at);

    // A stale version is refused, and so is an unknown contact or organisation, by field.
    let mut stale = changed.clone();
    stale.title = "Stale".into();
    assert_conflict(store.update_strategy(&admin(), &stale, 1, "strategy.update").await, "version");
    let mut bad = changed.clone();
    bad.objectives[0].measures[0].actions[1].responsible_contacts.push(Uuid::from_u128(404));
    assert_conflict(
        store.update_strategy(&admin(), &bad, 2, "strategy.update").await,
        "objectives[0].measures[0].actions[1].responsible_contacts[1]",
    );
    let mut bad = changed.clone();
    bad.objectives[0].measures[0].actions[0].owner_org = Uuid::from_u128(405);
    assert_conflict(
        store.update_strategy(&admin(), &bad, 2, "strategy.update").await,
        "objectives[0].measures[0].actions[0].owner_org",
    );
    let unchanged = store.get_strategy(document.id).await.expect("get").expect("stored");
    assert_eq!((unchanged.version, &unchanged.document), (2, &changed));

    // KPI measurements and a status change.
    record_measurement(
        &mut changed,
        Uuid::from_u128(11),
        "acts",
        Measurement {
            date: date!(2026 - 03 - 31),
            value: 1.0,
            note: Some("Law on information security".into()),
        },
        at(2),
    )
    .expect("measurement");
    let patch = ActionPatch { status: Some(ActionStatus::Done), ..ActionPatch::default() };
    update_action(&mut changed, Uuid::from_u128(10), patch, at(2)).expect("patch");
    let updated = store.update_strategy(&admin(), &changed, 2, "strategy.kpi.measure").await.expect("update");
    assert_eq!(updated.version, 3);
    let read = store.get_strategy(document.id).await.expect("get").expect("stored");
    let action = &read.document.objectives[0].measures[0].actions[1];
    assert_eq!(action.kpis[0].measurements[0].value, 1.0);
    assert_eq!(action.updated_at, at(2));
    assert_eq!(read.document.objectives[0].measures[0].actions[0].progress, 100);

    // A second document; listing is by code.
    let mut plan = guidelines(Uuid::from_u128(4), ministry.id);
    plan.code = "AP-RS-2026".into();
    plan.objectives.truncate(1);
    store.create_strategy(&admin(), &plan).await.expect("plan");
    let codes: Vec<String> =
        store.list_strategies().await.expect("list").into_iter().map(|s| s.document.code).collect();
    assert_eq!(codes, ["AP-RS-2026", "BIH-SCF-2019"]);
    // Renaming onto a code in use is refused.
    let mut renamed = plan.clone();
    renamed.code = "BIH-SCF-2019".into();
    assert_conflict(store.update_strategy(&admin(), &renamed, 1, "strategy.update").await, "code");

    // Deletion, and what is gone.
    store.delete_strategy(&admin(), plan.id).await.expect("delete");
    assert!(store.get_strategy(plan.id).await.expect("get").is_none());
    assert_not_found(store.delete_strategy(&admin(), plan.id).await, "strategy");
    assert_not_found(store.update_strategy(&admin(), &plan, 1, "strategy.update").await, "strategy");

    // Every change audited with the document's digest, none of the refused ones.
    let entries = store.list_audit(&AuditQuery { limit: 100, ..AuditQuery::default() }).await.expect("audit");
    let strategy: Vec<(&str, &str)> = entries
        .iter()
        .filter(|entry| entry.event.object_type == "strategy")
        .map(|entry| (entry.event.action.as_str(), entry.event.digest.as_str()))
        .collect();
    let digest = strategy_digest(&changed);
    assert_eq!(
        strategy.iter().map(|(action, _)| *action).collect::<Vec<_>>(),
        [
            "strategy.create",
            "strategy.action.add",
            "strategy.kpi.measure",
            "strategy.create",
            "strategy.delete"
        ]
    );
    assert_eq!(strategy[2].1, digest);
}
