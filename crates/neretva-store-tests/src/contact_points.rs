//! Stories of the contact-point directory and communication checks.

use neretva_governance::checks::{Campaign, CheckScope, Step, token_hash};
use neretva_governance::contact_points::{ContactPoint, PointKind};
use neretva_governance::rfc2350::{Charter, ContactInformation, DocumentInformation, TeamProfile};
use neretva_model::contact::Language;
use neretva_store::contact_points::{AckOutcome, Acknowledgment, NewToken, StepRecord};
use neretva_store::{Actor, Store};
use time::Duration;
use time::macros::date;
use uuid::Uuid;

use crate::{actions, admin, assert_conflict, assert_not_found, at, org_fields};

fn point(id: u128, org: Uuid, kind: PointKind, email: &str) -> ContactPoint {
    ContactPoint {
        id: Uuid::from_u128(id),
        org_id: org,
        kind,
        sector: (kind == PointKind::Sector).then(|| "energy".to_owned()),
        name: format!("Point {id}"),
        email: email.into(),
        phone: None,
        language: Language::Hr,
        hours: Some("24/7".into()),
        pgp_key: None,
        pgp_fingerprint: None,
        notes: None,
    }
}

fn ack(by: &str) -> Acknowledgment {
    Acknowledgment { by: by.into(), via: "link".into(), user_agent: Some("Mozilla/5.0\u{7}".into()) }
}

/// Points are created, listed per organisation, updated under their version and deleted;
/// a team profile is put twice; unknown organisations and stale versions are refused with
/// nothing written, and every change is audited.
pub async fn contact_point_directory(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT-BIH", "CERT BiH")).await.expect("org");
    let ep = store.create_org(&admin(), &org_fields("EP", "Elektroprivreda")).await.expect("org");
    let policy = point(1, cert.id, PointKind::Cbm8Policy, "policy@cert.example.ba");
    let created = store.create_contact_point(&admin(), &policy).await.expect("create");
    assert_eq!(created.version, 1);
    assert_eq!(store.get_contact_point(policy.id).await.expect("get").expect("stored"), created);
    let sector = point(2, ep.id, PointKind::Sector, "soc@ep.example.ba");
    store.create_contact_point(&admin(), &sector).await.expect("create");
    assert_conflict(store.create_contact_point(&admin(), &policy).await, "id");
    let orphan = point(3, Uuid::from_u128(99), PointKind::Cert, "x@example.ba");
    assert_conflict(store.create_contact_point(&admin(), &orphan).await, "org_id");
    assert!(store.get_contact_point(orphan.id).await.expect("get").is_none());

    let all: Vec<Uuid> =
        store.list_contact_points(None).await.expect("list").iter().map(|p| p.point.id).collect();
    assert_eq!(all.len(), 2);
    let of_ep = store.list_contact_points(Some(ep.id)).await.expect("list");
    assert_eq!(of_ep.iter().map(|p| p.point.id).collect::<Vec<_>>(), [sector.id]);

    let mut changed = policy.clone();
    changed.email = "policy2@cert.example.ba".into();
    let updated = store.update_contact_point(&admin(), &changed, 1).await.expect("update");
    assert_eq!(updated.version, 2);
    assert_conflict(store.update_contact_point(&admin(), &changed, 1).await, "version");
    let mut moved = changed.clone();
    moved.org_id = ep.id;
    assert_conflict(store.update_contact_point(&admin(), &moved, 2).await, "org_id");
    assert_eq!(store.get_contact_point(policy.id).await.expect("get").expect("stored").point, changed);

    store.delete_contact_point(&admin(), sector.id).await.expect("delete");
    assert_not_found(store.delete_contact_point(&admin(), sector.id).await, "contact point");

    let mut profile = TeamProfile {
        org_id: cert.id,
        document: DocumentInformation {
            last_updated: date!(2026 - 11 - 02),
            distribution_list: None,
            locations: vec!["https://cert.example.ba/rfc2350.txt".into()],
            authentication: None,
        },
        contact: ContactInformation {
            team_name: "CERT-BIH".into(),
            address: "Sarajevo".into(),
            time_zone: "CET".into(),
            telephone: None,
            facsimile: None,
            other_telecommunication: None,
            email: "cert@cert.example.ba".into(),
            public_keys: None,
            pgp_key: None,
            pgp_fingerprint: None,
            team_members: None,
            other_information: None,
            customer_contact: "E-mail.".into(),
        },
        charter: Charter {
            mission_statement: "Help.".into(),
            constituency: "BiH.".into(),
            sponsorship: None,
            authority: None,
        },
        policies: Default::default(),
        services: Default::default(),
        forms: None,
        disclaimers: None,
    };
    store.put_team_profile(&admin(), &profile).await.expect("put");
    profile.contact.time_zone = "Europe/Sarajevo".into();
    store.put_team_profile(&admin(), &profile).await.expect("put again");
    assert_eq!(store.get_team_profile(cert.id).await.expect("get").expect("stored").profile, profile);
    assert!(store.get_team_profile(ep.id).await.expect("get").is_none());
    let mut foreign = profile.clone();
    foreign.org_id = Uuid::from_u128(98);
    assert_conflict(store.put_team_profile(&admin(), &foreign).await, "org_id");

    let audited: Vec<String> = actions(store)
        .await
        .into_iter()
        .filter(|action| action.starts_with("contact_point.") || action.starts_with("team_profile."))
        .collect();
    assert_eq!(
        audited,
        [
            "contact_point.create",
            "contact_point.create",
            "contact_point.update",
            "contact_point.delete",
            "team_profile.put",
            "team_profile.put"
        ]
    );
}

/// A campaign to three points: challenges recorded with their token hashes, one send failure,
/// an acknowledgment through a link, the same link refused the second time, an expired link
/// refused, an API acknowledgment, and duplicate targets refused with nothing written.
pub async fn communication_checks(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT-BIH", "CERT BiH")).await.expect("org");
    let points = [
        point(11, cert.id, PointKind::Cbm8Policy, "a@cert.example.ba"),
        point(12, cert.id, PointKind::Cbm8Technical, "b@cert.example.ba"),
        point(13, cert.id, PointKind::Budapest24x7, "c@cert.example.ba"),
    ];
    for p in &points {
        store.create_contact_point(&admin(), p).await.expect("point");
    }
    let campaign = Campaign {
        id: Uuid::from_u128(500),
        name: "Q4".into(),
        scope: CheckScope::default(),
        created_at: at(0),
        deadline: at(3600),
        remind_at: Some(at(1800)),
        escalate_at: None,
        escalate_to: None,
    };
    let twice = [points[0].clone(), points[1].clone(), points[0].clone()];
    assert_conflict(store.create_check(&admin(), &campaign, &twice).await, "targets[2]");
    assert!(store.get_check(campaign.id).await.expect("get").is_none(), "nothing half-written");
    let unknown = [points[0].clone(), point(19, cert.id, PointKind::Cert, "z@cert.example.ba")];
    assert_conflict(store.create_check(&admin(), &campaign, &unknown).await, "targets[1]");
    assert!(store.get_check(campaign.id).await.expect("get").is_none(), "nothing half-written");

    let created = store.create_check(&admin(), &campaign, &points).await.expect("create");
    assert_eq!(created.targets.len(), 3);
    assert!(created.targets.iter().all(|t| t.state.sent_at.is_none()));

    let token = |n: u8| format!("{n:064x}");
    let sent = |id: u128, n: u8| StepRecord {
        point_id: Uuid::from_u128(id),
        step: Step::Send,
        at: at(10),
        token: Some(NewToken { token_hash: token_hash(&token(n)), expires_at: campaign.deadline }),
        error: None,
    };
    let failed = StepRecord {
        point_id: points[2].id,
        step: Step::Send,
        at: at(10),
        token: None,
        error: Some("550 mailbox unavailable".into()),
    };
    let stranger = StepRecord { point_id: Uuid::from_u128(77), ..sent(11, 9) };
    assert_conflict(
        store.record_check_steps(&admin(), campaign.id, &[sent(11, 1), stranger]).await,
        "steps[1].point_id",
    );
    assert!(
        store.check_token(&token_hash(&token(1))).await.expect("token").is_none(),
        "nothing half-written"
    );
    store
        .record_check_steps(&admin(), campaign.id, &[sent(11, 1), sent(12, 2), failed])
        .await
        .expect("steps");

    let read = store.get_check(campaign.id).await.expect("get").expect("stored");
    let by_point = |id: Uuid| read.targets.iter().find(|t| t.point_id == id).expect("target").clone();
    assert_eq!(by_point(points[0].id).state.sent_at, Some(at(10)));
    let failed_target = by_point(points[2].id);
    assert!(failed_target.state.sent_at.is_none() && failed_target.state.send_failed);
    assert_eq!(failed_target.last_error.as_deref(), Some("550 mailbox unavailable"));

    let info = store.check_token(&token_hash(&token(1))).await.expect("token").expect("known");
    assert_eq!((info.campaign_name.as_str(), info.target.point_id), ("Q4", points[0].id));
    assert!(info.used_at.is_none());
    assert!(store.check_token(&token(1)).await.expect("token").is_none(), "only the hash finds it");

    let recorded = store.acknowledge_check(&token_hash(&token(1)), at(70), &ack("a@cert.example.ba")).await;
    let AckOutcome::Recorded { campaign_id, target } = recorded.expect("ack") else {
        panic!("not recorded");
    };
    assert_eq!(campaign_id, campaign.id);
    assert_eq!(target.state.acknowledged_at, Some(at(70)));
    assert_eq!(target.acknowledged_via.as_deref(), Some("link"));
    assert_eq!(target.user_agent.as_deref(), Some("Mozilla/5.0"), "control characters dropped");
    let again = store.acknowledge_check(&token_hash(&token(1)), at(80), &ack("someone")).await.expect("ack");
    assert_eq!(again, AckOutcome::Used { at: at(70) });
    let expired = store.acknowledge_check(&token_hash(&token(2)), at(3600), &ack("b")).await.expect("ack");
    assert_eq!(expired, AckOutcome::Expired { at: at(3600) });
    let unknown = store.acknowledge_check(&token_hash(&token(3)), at(80), &ack("c")).await.expect("ack");
    assert_eq!(unknown, AckOutcome::Unknown);
    let still = store.get_check(campaign.id).await.expect("get").expect("stored");
    let b = still.targets.iter().find(|t| t.point_id == points[1].id).expect("target");
    assert!(b.state.acknowledged_at.is_none(), "an expired link records nothing");
    assert_eq!(
        still.targets.iter().find(|t| t.point_id == points[0].id).expect("a").acknowledged_by.as_deref(),
        Some("a@cert.example.ba"),
        "a refused second use changes nothing"
    );

    let api = Acknowledgment { by: "analyst".into(), via: "api".into(), user_agent: None };
    let actor = Actor("user:analyst".into());
    let done = store
        .acknowledge_check_target(&actor, campaign.id, points[1].id, at(90), &api)
        .await
        .expect("api ack");
    assert_eq!(done.state.acknowledged_at, Some(at(90)));
    assert_conflict(
        store.acknowledge_check_target(&actor, campaign.id, points[1].id, at(91), &api).await,
        "point",
    );
    assert_conflict(
        store
            .acknowledge_check_target(
                &actor,
                campaign.id,
                points[2].id,
                at(3600) + Duration::seconds(1),
                &api,
            )
            .await,
        "campaign",
    );
    assert_not_found(
        store.acknowledge_check_target(&actor, Uuid::from_u128(1), points[2].id, at(92), &api).await,
        "check",
    );

    let reminder = StepRecord {
        point_id: points[2].id,
        step: Step::Remind,
        at: at(1800),
        token: Some(NewToken { token_hash: token_hash(&token(4)), expires_at: campaign.deadline }),
        error: None,
    };
    store.record_check_steps(&admin(), campaign.id, &[reminder]).await.expect("remind");
    let listed = store.list_checks().await.expect("list");
    assert_eq!(listed.len(), 1);
    let c = listed[0].targets.iter().find(|t| t.point_id == points[2].id).expect("c");
    assert_eq!(c.state.reminded_at, Some(at(1800)));

    let audited: Vec<String> =
        actions(store).await.into_iter().filter(|action| action.starts_with("check.")).collect();
    assert_eq!(
        audited,
        ["check.create", "check.step", "check.acknowledge", "check.acknowledge", "check.step"]
    );
}
