//! Stories of preservation requests and maturity self-assessments.

use neretva_governance::maturity::{Assessment, Framework, SIM3_PARAMETERS, compare, set_score};
use neretva_governance::preservation::{self, Direction, NewRequest, PreservationRequest, Status};
use neretva_store::records::record_digest;
use neretva_store::{AuditQuery, Store};
use time::macros::date;
use uuid::Uuid;

use crate::{admin, assert_conflict, assert_not_found, org_fields};

fn request(n: u128, reference: &str, custodian_org: Option<Uuid>) -> PreservationRequest {
    PreservationRequest::new(
        Uuid::from_u128(n),
        NewRequest {
            reference: reference.into(),
            direction: Direction::Received,
            requesting_authority: "Public Prosecutor, Cybercrime Department".into(),
            requesting_party: "Croatia".into(),
            offence: "illegal access (Art. 2)".into(),
            facts: "intrusion into a hospital's mail server".into(),
            data_sought: "logs of the VPN gateway for March 2026".into(),
            relation_to_offence: "the intruder connected through the gateway".into(),
            custodian: "Example ISP".into(),
            custodian_org,
            necessity: "logs are rotated after 30 days".into(),
            mla_intended: true,
            received_on: date!(2026 - 04 - 01),
            notes: None,
        },
    )
}

/// A request is received, preserved, extended and followed up, each step under the version read;
/// references are unique, unknown custodians and stale versions are refused with nothing written,
/// and every change is audited.
pub async fn preservation_requests(store: &dyn Store) {
    let isp = store.create_org(&admin(), &org_fields("ISP", "Example ISP")).await.expect("org");
    let new = request(1, "HR-2026/41", Some(isp.id));
    let created = store.create_preservation(&admin(), &new).await.expect("create");
    assert_eq!((created.version, &created.record), (1, &new));
    assert_eq!(store.get_preservation(new.id).await.expect("get").expect("stored"), created);
    assert_eq!(store.find_preservation("HR-2026/41").await.expect("find").map(|s| s.record.id), Some(new.id));

    assert_conflict(store.create_preservation(&admin(), &request(2, "HR-2026/41", None)).await, "reference");
    assert_conflict(store.create_preservation(&admin(), &request(1, "OTHER", None)).await, "id");
    let orphan = request(3, "ORPHAN", Some(Uuid::from_u128(404)));
    assert_conflict(store.create_preservation(&admin(), &orphan).await, "custodian_org");
    assert!(store.get_preservation(orphan.id).await.expect("get").is_none());

    let mut held = new.clone();
    preservation::preserve(&mut held, date!(2026 - 04 - 02), None).expect("preserve");
    let preserved =
        store.update_preservation(&admin(), &held, 1, "preservation.preserve").await.expect("update");
    assert_eq!(preserved.version, 2);
    assert_eq!(preserved.created_at, created.created_at);
    assert_conflict(store.update_preservation(&admin(), &held, 1, "preservation.preserve").await, "version");
    preservation::extend(&mut held, date!(2026 - 05 - 20), date!(2026 - 07 - 31), None).expect("extend");
    preservation::follow_up(&mut held, "MLA-HR-7".into(), date!(2026 - 06 - 15)).expect("follow up");
    store.update_preservation(&admin(), &held, 2, "preservation.follow_up").await.expect("update");
    let read = store.get_preservation(new.id).await.expect("get").expect("stored");
    assert_eq!((read.version, read.record.status), (3, Status::FollowedUp));
    assert_eq!(read.record.mla_reference.as_deref(), Some("MLA-HR-7"));

    let second = request(4, "AA-1", None);
    store.create_preservation(&admin(), &second).await.expect("second");
    let mut renamed = second.clone();
    renamed.reference = "HR-2026/41".into();
    assert_conflict(
        store.update_preservation(&admin(), &renamed, 1, "preservation.update").await,
        "reference",
    );
    let references: Vec<String> =
        store.list_preservations().await.expect("list").into_iter().map(|s| s.record.reference).collect();
    assert_eq!(references, ["AA-1", "HR-2026/41"]);
    assert_not_found(
        store.update_preservation(&admin(), &request(9, "NONE", None), 1, "preservation.update").await,
        "preservation request",
    );

    let entries = store.list_audit(&AuditQuery { limit: 100, ..AuditQuery::default() }).await.expect("audit");
    let audited: Vec<(&str, &str)> = entries
        .iter()
        .filter(|entry| entry.event.object_type == "preservation")
        .map(|entry| (entry.event.action.as_str(), entry.event.digest.as_str()))
        .collect();
    assert_eq!(
        audited.iter().map(|(action, _)| *action).collect::<Vec<_>>(),
        ["preservation.create", "preservation.preserve", "preservation.follow_up", "preservation.create"]
    );
    assert_eq!(audited[2].1, record_digest(&held));
}

fn sim3(n: u128, org: Uuid, day: time::Date, level: u8) -> Assessment {
    let mut assessment =
        Assessment::new(Uuid::from_u128(n), org, Framework::Sim3, format!("SIM3 {day}"), day);
    for parameter in SIM3_PARAMETERS {
        set_score(&mut assessment, parameter.id, level, None).expect("score");
    }
    assessment
}

/// A CERT takes SIM3 twice and compares; an unknown organisation and stale versions are refused
/// with nothing written; listing by organisation; deletion; every change audited.
pub async fn maturity_assessments(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT-BIH", "CERT BiH")).await.expect("org");
    let other = store.create_org(&admin(), &org_fields("CERT-RS", "CERT RS")).await.expect("org");
    let first = sim3(1, cert.id, date!(2025 - 06 - 01), 1);
    store.create_assessment(&admin(), &first).await.expect("first");
    let mut second = sim3(2, cert.id, date!(2026 - 06 - 01), 1);
    let created = store.create_assessment(&admin(), &second).await.expect("second");
    set_score(&mut second, "O-1", 3, Some("mandate published in the Official Gazette".into()))
        .expect("score");
    let updated = store.update_assessment(&admin(), &second, 1, "assessment.score").await.expect("update");
    assert_eq!((updated.version, updated.created_at), (2, created.created_at));
    assert_conflict(store.update_assessment(&admin(), &second, 1, "assessment.score").await, "version");
    store.create_assessment(&admin(), &sim3(3, other.id, date!(2026 - 01 - 01), 2)).await.expect("other");

    let orphan = sim3(4, Uuid::from_u128(404), date!(2026 - 01 - 01), 2);
    assert_conflict(store.create_assessment(&admin(), &orphan).await, "org_id");
    assert!(store.get_assessment(orphan.id).await.expect("get").is_none());
    let mut moved = second.clone();
    moved.org_id = Uuid::from_u128(405);
    assert_conflict(store.update_assessment(&admin(), &moved, 2, "assessment.update").await, "org_id");

    let own: Vec<Uuid> =
        store.list_assessments(Some(cert.id)).await.expect("list").into_iter().map(|s| s.record.id).collect();
    assert_eq!(own, [first.id, second.id]);
    assert_eq!(store.list_assessments(None).await.expect("list").len(), 3);
    let read = store.get_assessment(second.id).await.expect("get").expect("stored");
    let comparison = compare(&first, &read.record).expect("compare");
    assert_eq!((comparison.improved, comparison.regressed), (1, 0));

    store.delete_assessment(&admin(), first.id).await.expect("delete");
    assert!(store.get_assessment(first.id).await.expect("get").is_none());
    assert_not_found(store.delete_assessment(&admin(), first.id).await, "assessment");

    let actions: Vec<String> = store
        .list_audit(&AuditQuery { limit: 100, ..AuditQuery::default() })
        .await
        .expect("audit")
        .into_iter()
        .filter(|entry| entry.event.object_type == "assessment")
        .map(|entry| entry.event.action)
        .collect();
    assert_eq!(
        actions,
        [
            "assessment.create",
            "assessment.create",
            "assessment.score",
            "assessment.create",
            "assessment.delete"
        ]
    );
}
