//! Stories of tabletop exercises: scenarios, runs, inject deliveries with their messages, and
//! responses.

use std::collections::BTreeMap;

use neretva_learning::course::Texts;
use neretva_learning::exercise::run::{self, Exercise, Participant, State};
use neretva_learning::exercise::scenario::{Inject, Objective, Role, Scenario};
use neretva_model::contact::Language;
use neretva_store::Store;
use neretva_store::notifications::{MessageQuery, NewMessage, NotificationWrite};
use uuid::Uuid;

use crate::{actions, admin, assert_conflict, assert_not_found, at, new_user, org_fields};

fn texts(en: &str) -> Texts {
    Texts::from([(Language::En, en.to_owned())])
}

fn inject(id: &str, offset_seconds: u32, roles: &[&str], expects_response: bool) -> Inject {
    Inject {
        id: id.into(),
        offset_seconds,
        title: texts(id),
        body: texts("**Body**"),
        roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        expects_response,
        response_prompt: if expects_response { texts("What now?") } else { Texts::new() },
        deadline_minutes: expects_response.then_some(5),
        notes: texts("For facilitators"),
    }
}

/// A scenario of three injects for two roles.
pub fn small_scenario(version: u32) -> Scenario {
    Scenario {
        code: "grid-outage".into(),
        version,
        languages: vec![Language::En],
        title: texts("Grid outage"),
        description: Texts::new(),
        objectives: vec![Objective { id: "report".into(), text: texts("Report in time") }],
        roles: vec![
            Role { id: "cert_duty_officer".into(), name: texts("CERT duty officer") },
            Role { id: "energy_operator".into(), name: texts("Operator") },
        ],
        injects: vec![
            inject("alert", 0, &["energy_operator"], true),
            inject("call", 60, &["cert_duty_officer"], true),
            inject("press", 120, &[], false),
        ],
    }
}

fn message(id: u128, org: Uuid) -> NewMessage {
    NewMessage {
        id: Uuid::from_u128(id),
        message_id: format!("{id}@cert.example.ba"),
        org_id: org,
        contact_id: None,
        email: "operator@ep.example.ba".into(),
        kind: "exercise_inject".into(),
        incident_id: None,
        resend_of: None,
        subject: "[Exercise] alert".into(),
        tlp: "TLP:GREEN".into(),
        language: "en".into(),
        encrypted: false,
        raw: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
        event_ids: Vec::new(),
        failure: None,
    }
}

/// A scenario is imported once per version; a run is created, started, delivered to (each
/// inject once, with its messages, under the run's version), answered (once per participant
/// and inject), skipped, ended and assessed; stale versions are refused with nothing written,
/// and every change is audited.
pub async fn exercise_runs(store: &dyn Store) {
    let org = store.create_org(&admin(), &org_fields("EP-BIH", "Elektroprivreda BiH")).await.expect("org");
    let facilitator = store.create_user(&admin(), &new_user(org.id, "vedran")).await.expect("user");
    let player = store.create_user(&admin(), &new_user(org.id, "amra")).await.expect("user");

    let scenario = small_scenario(1);
    let stored = store.import_scenario(&admin(), Uuid::from_u128(1), &scenario).await.expect("import");
    assert_eq!(stored.scenario, scenario);
    assert_conflict(store.import_scenario(&admin(), Uuid::from_u128(2), &scenario).await, "version");
    assert!(store.get_scenario(Uuid::from_u128(2)).await.expect("get").is_none());
    store.import_scenario(&admin(), Uuid::from_u128(3), &small_scenario(2)).await.expect("v2");
    let versions: Vec<u32> =
        store.list_scenarios().await.expect("list").into_iter().map(|s| s.scenario.version).collect();
    assert_eq!(versions, [1, 2]);

    let exercise = Exercise {
        id: Uuid::from_u128(10),
        scenario_id: stored.id,
        name: "Q4 exercise".into(),
        org_id: org.id,
        created_by: facilitator.id,
        created_at: at(0),
        facilitators: Vec::new(),
        participants: vec![Participant { user_id: player.id, role: "energy_operator".into() }],
        scheduled_start: Some(at(60)),
        state: State::Planned,
        started_at: None,
        paused_at: None,
        paused_millis: 0,
        ended_at: None,
        skipped: BTreeMap::new(),
        assessment: Default::default(),
    };
    assert_conflict(
        store
            .create_exercise(&admin(), &Exercise { scenario_id: Uuid::from_u128(99), ..exercise.clone() })
            .await,
        "scenario_id",
    );
    let created = store.create_exercise(&admin(), &exercise).await.expect("create");
    assert_eq!((created.version, created.exercise.clone()), (1, exercise.clone()));
    assert_conflict(store.create_exercise(&admin(), &exercise).await, "id");

    let started = run::start(&exercise, at(60)).expect("start");
    let stored_run =
        store.update_exercise(&admin(), &started, 1, "learning.exercise.start").await.expect("started");
    assert_eq!((stored_run.version, stored_run.exercise.state), (2, State::Running));
    assert_conflict(store.update_exercise(&admin(), &started, 1, "learning.exercise.start").await, "version");

    // Deliveries: the messages are recorded with them; a stale version or a second delivery of
    // an inject writes nothing.
    let due = run::deliveries_due(&scenario, &started, &[], at(125));
    assert_eq!(due.len(), 2);
    let write = NotificationWrite {
        org_id: org.id,
        messages: vec![message(500, org.id)],
        ..NotificationWrite::default()
    };
    assert_conflict(
        store
            .deliver_injects(
                &admin(),
                exercise.id,
                1,
                &due,
                "learning.inject.deliver",
                std::slice::from_ref(&write),
            )
            .await,
        "version",
    );
    let delivered = store
        .deliver_injects(&admin(), exercise.id, 2, &due, "learning.inject.deliver", &[write])
        .await
        .expect("deliver");
    assert_eq!(delivered.version, 3);
    assert_eq!(delivered.deliveries, due);
    let messages =
        store.list_messages(&MessageQuery { limit: 100, ..MessageQuery::default() }).await.expect("messages");
    assert_eq!(messages.iter().filter(|m| m.kind == "exercise_inject").count(), 1);
    assert_conflict(
        store.deliver_injects(&admin(), exercise.id, 3, &due[..1], "learning.inject.deliver", &[]).await,
        "inject",
    );
    let after = store.get_exercise(exercise.id).await.expect("get").expect("exists");
    assert_eq!((after.version, after.deliveries.len()), (3, 2), "nothing written by a refused delivery");
    assert_not_found(
        store.deliver_injects(&admin(), Uuid::from_u128(77), 1, &due, "learning.inject.deliver", &[]).await,
        "exercise",
    );

    // Responses: one per participant and inject.
    let response = run::respond(
        &scenario,
        &after.exercise,
        &after.deliveries,
        "alert",
        player.id,
        "Isolated the billing servers.".into(),
        Uuid::from_u128(20),
        at(130),
    )
    .expect("respond");
    assert_eq!(store.record_exercise_response(&admin(), &response).await.expect("record"), response);
    let again = run::Response { id: Uuid::from_u128(21), text: "Second thoughts".into(), ..response.clone() };
    assert_conflict(store.record_exercise_response(&admin(), &again).await, "response");

    // Skip, end and assess move the version on.
    let skipped = run::skip(&scenario, &after.exercise, &after.deliveries, "press", facilitator.id, at(140))
        .expect("skip");
    store.update_exercise(&admin(), &skipped, 3, "learning.inject.skip").await.expect("skipped");
    let ended = run::end(&skipped, at(200)).expect("end");
    store.update_exercise(&admin(), &ended, 4, "learning.exercise.end").await.expect("ended");
    let assessed = run::assess(
        &scenario,
        &ended,
        BTreeMap::new(),
        vec!["Phone list out of date.".into()],
        facilitator.id,
        at(300),
    )
    .expect("assess");
    let last =
        store.update_exercise(&admin(), &assessed, 5, "learning.exercise.assess").await.expect("assessed");
    assert_eq!(last.version, 6);
    assert_eq!(last.exercise, assessed);
    assert_eq!(last.responses, vec![response]);
    assert_eq!(last.deliveries, due);
    let listed = store.list_exercises().await.expect("list");
    assert_eq!(listed, vec![last]);
    assert!(store.get_exercise(Uuid::from_u128(11)).await.expect("get").is_none());

    let audited: Vec<String> = actions(store)
        .await
        .into_iter()
        .filter(|action| action.starts_with("learning.") || action == "notification.create")
        .collect();
    assert_eq!(
        audited,
        [
            "learning.scenario.import",
            "learning.scenario.import",
            "learning.exercise.create",
            "learning.exercise.start",
            "learning.inject.deliver",
            "learning.inject.deliver",
            "notification.create",
            "learning.exercise.respond",
            "learning.inject.skip",
            "learning.exercise.end",
            "learning.exercise.assess",
        ]
    );
}
