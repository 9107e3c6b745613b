//! Stories of train-the-trainer programmes: programmes, sessions, registration, attendance,
//! feedback, trainer grants and learner profiles.

use std::collections::BTreeMap;

use neretva_learning::training::{
    AuthorityLevel, CurriculumItem, Feedback, Mode, Participant, Presence, Profession, Profile, Programme,
    ProgrammeSpec, Ratings, Session, SessionStatus, TrainerGrant, record_attendance,
};
use neretva_model::contact::Language;
use neretva_store::Store;
use neretva_store::training::{ParticipantQuery, SessionQuery};
use time::Duration;
use uuid::Uuid;

use crate::{actions, admin, assert_conflict, assert_not_found, at, new_user, org_fields};

fn programme(id: u128, owner: Uuid, code: &str) -> Programme {
    Programme {
        id: Uuid::from_u128(id),
        owner_org_id: owner,
        spec: ProgrammeSpec {
            code: code.into(),
            title: BTreeMap::from([(Language::Bs, "Obuka trenera".to_owned())]),
            description: BTreeMap::new(),
            curriculum: vec![CurriculumItem {
                course: Some("phishing".into()),
                topic: BTreeMap::new(),
                hours: 2.5,
            }],
            professions: vec![Profession::Police],
            levels: vec![AuthorityLevel::State, AuthorityLevel::Entity],
            trainer_course: "phishing".into(),
            co_deliveries_required: 2,
        },
        created_at: at(0),
    }
}

fn session(id: u128, programme: Uuid, lead: Uuid, starts: i64, capacity: u32) -> Session {
    Session {
        id: Uuid::from_u128(id),
        programme_id: programme,
        item: 0,
        title: format!("Session {id}"),
        mode: Mode::Online { url: "https://meet.example.ba/ttt".into() },
        starts_at: at(starts),
        ends_at: at(starts) + Duration::hours(2),
        language: Language::Bs,
        lead_trainer: lead,
        co_trainers: Vec::new(),
        capacity,
        audience: Vec::new(),
        status: SessionStatus::Planned,
    }
}

fn participant(session: Uuid, user: Uuid, org: Uuid) -> Participant {
    Participant {
        session_id: session,
        user_id: user,
        org_id: org,
        registered_by: user,
        registered_at: at(1),
        attendance: None,
        recorded_at: None,
        recorded_by: None,
    }
}

/// Programmes are unique by code and versioned; sessions are listed by programme and time;
/// registration is refused twice, when full and when cancelled; attendance of someone not
/// registered writes nothing; a second feedback form is a conflict; grants and profiles are
/// kept; every change is audited.
pub async fn training_programmes(store: &dyn Store) {
    let org = store.create_org(&admin(), &org_fields("MS-BIH", "Ministry of Security")).await.expect("org");
    let other =
        store.create_org(&admin(), &org_fields("MUP-RS", "Ministry of Interior RS")).await.expect("org");
    let trainer = store.create_user(&admin(), &new_user(org.id, "lejla")).await.expect("user");
    let amra = store.create_user(&admin(), &new_user(other.id, "amra")).await.expect("user");
    let bojan = store.create_user(&admin(), &new_user(other.id, "bojan")).await.expect("user");
    let goran = store.create_user(&admin(), &new_user(other.id, "goran")).await.expect("user");

    // Programmes.
    let first = programme(1, org.id, "ttt-police");
    let created = store.create_programme(&admin(), &first).await.expect("create");
    assert_eq!((created.version, &created.programme), (1, &first));
    assert_conflict(store.create_programme(&admin(), &programme(2, org.id, "ttt-police")).await, "code");
    let second = programme(3, other.id, "ttt-judiciary");
    store.create_programme(&admin(), &second).await.expect("second");
    let mut changed = first.clone();
    changed.spec.co_deliveries_required = 3;
    let updated = store.update_programme(&admin(), &changed, 1).await.expect("update");
    assert_eq!(updated.version, 2);
    assert_conflict(store.update_programme(&admin(), &changed, 1).await, "version");
    let mut clash = changed.clone();
    clash.spec.code = "ttt-judiciary".into();
    assert_conflict(store.update_programme(&admin(), &clash, 2).await, "code");
    assert_eq!(store.get_programme(first.id).await.expect("get").map(|p| p.programme), Some(changed.clone()));
    let codes: Vec<String> =
        store.list_programmes().await.expect("list").into_iter().map(|p| p.programme.spec.code).collect();
    assert_eq!(codes, ["ttt-judiciary", "ttt-police"]);
    assert_not_found(store.update_programme(&admin(), &programme(9, org.id, "x"), 1).await, "programme");

    // Sessions.
    let early = session(10, first.id, trainer.id, 100, 2);
    let late = session(11, first.id, trainer.id, 5000, 1);
    let elsewhere = session(12, second.id, trainer.id, 200, 5);
    for s in [&late, &early, &elsewhere] {
        assert_eq!(store.create_training_session(&admin(), s).await.expect("session").version, 1);
    }
    assert_not_found(
        store.create_training_session(&admin(), &session(13, Uuid::from_u128(77), trainer.id, 0, 1)).await,
        "programme",
    );
    let ids = |list: Vec<neretva_store::training::StoredSession>| {
        list.into_iter().map(|s| s.session.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.list_training_sessions(&SessionQuery::default()).await.expect("list")),
        [early.id, elsewhere.id, late.id]
    );
    let of_first = SessionQuery { programme_id: Some(first.id), ..SessionQuery::default() };
    assert_eq!(ids(store.list_training_sessions(&of_first).await.expect("list")), [early.id, late.id]);
    let window = SessionQuery { from: Some(at(100)), to: Some(at(5000)), ..SessionQuery::default() };
    assert_eq!(ids(store.list_training_sessions(&window).await.expect("list")), [early.id, elsewhere.id]);

    // Registration.
    store.register_participant(&admin(), &participant(early.id, amra.id, other.id)).await.expect("amra");
    assert_conflict(
        store.register_participant(&admin(), &participant(early.id, amra.id, other.id)).await,
        "user_id",
    );
    store.register_participant(&admin(), &participant(early.id, bojan.id, other.id)).await.expect("bojan");
    assert_conflict(
        store.register_participant(&admin(), &participant(early.id, goran.id, other.id)).await,
        "capacity",
    );
    assert_not_found(
        store.register_participant(&admin(), &participant(Uuid::from_u128(99), goran.id, other.id)).await,
        "session",
    );
    let mut cancelled = late.clone();
    cancelled.status = SessionStatus::Cancelled;
    assert_eq!(store.update_training_session(&admin(), &cancelled, 1).await.expect("cancel").version, 2);
    assert_conflict(store.update_training_session(&admin(), &cancelled, 1).await, "version");
    assert_conflict(
        store.register_participant(&admin(), &participant(late.id, goran.id, other.id)).await,
        "status",
    );
    let mut moved = elsewhere.clone();
    moved.title = "Moved".into();
    store.update_training_session(&admin(), &moved, 1).await.expect("update");
    store
        .register_participant(&admin(), &participant(elsewhere.id, goran.id, other.id))
        .await
        .expect("goran");
    let users =
        |list: Vec<Participant>| list.into_iter().map(|p| (p.session_id, p.user_id)).collect::<Vec<_>>();
    let of_early = ParticipantQuery { session_id: Some(early.id), ..ParticipantQuery::default() };
    assert_eq!(
        users(store.list_participants(&of_early).await.expect("list")),
        [(early.id, amra.id), (early.id, bojan.id)]
    );
    let of_goran = ParticipantQuery { user_id: Some(goran.id), ..ParticipantQuery::default() };
    assert_eq!(users(store.list_participants(&of_goran).await.expect("list")), [(elsewhere.id, goran.id)]);
    let of_org = ParticipantQuery { org_id: Some(org.id), ..ParticipantQuery::default() };
    assert!(store.list_participants(&of_org).await.expect("list").is_empty());

    // Attendance: someone not registered writes nothing; then the session is held.
    let registered = store.list_participants(&of_early).await.expect("list");
    let mut held = early.clone();
    let marks = BTreeMap::from([(amra.id, Presence::Present), (bojan.id, Presence::Absent)]);
    let marked = record_attendance(&mut held, &registered, &marks, trainer.id, at(200)).expect("marks");
    let mut stranger = participant(early.id, goran.id, other.id);
    stranger.attendance = Some(Presence::Present);
    let with_stranger = [marked[0].clone(), stranger];
    assert_conflict(store.record_attendance(&admin(), &held, 1, &with_stranger).await, "attendance");
    assert_eq!(
        store.get_training_session(early.id).await.expect("get").map(|s| (s.version, s.session.status)),
        Some((1, SessionStatus::Planned))
    );
    assert!(store.list_participants(&of_early).await.expect("list").iter().all(|p| p.attendance.is_none()));
    let written = store.record_attendance(&admin(), &held, 1, &marked).await.expect("attendance");
    assert_eq!((written.version, written.session.status), (2, SessionStatus::Held));
    let after = store.list_participants(&of_early).await.expect("list");
    assert_eq!(
        after.iter().map(|p| p.attendance).collect::<Vec<_>>(),
        [Some(Presence::Present), Some(Presence::Absent)]
    );

    // Feedback, once per person and session.
    let form = Feedback {
        id: Uuid::from_u128(30),
        session_id: early.id,
        user_id: amra.id,
        ratings: Ratings { content: 5, trainer: 4, relevance: 5, organisation: 3 },
        most_useful: "Vježba".into(),
        to_improve: String::new(),
        submitted_at: at(300),
    };
    assert_eq!(store.submit_feedback(&admin(), &form).await.expect("feedback"), form);
    let again = Feedback { id: Uuid::from_u128(31), ..form.clone() };
    assert_conflict(store.submit_feedback(&admin(), &again).await, "feedback");
    assert_eq!(store.list_feedback(Some(early.id)).await.expect("list"), std::slice::from_ref(&form));
    assert!(store.list_feedback(Some(elsewhere.id)).await.expect("list").is_empty());
    assert_eq!(store.list_feedback(None).await.expect("list").len(), 1);

    // Trainer grants and profiles.
    let grant = TrainerGrant {
        id: Uuid::from_u128(40),
        programme_id: first.id,
        user_id: trainer.id,
        granted_by: trainer.id,
        reason: "Founding trainer of the programme".into(),
        granted_at: at(5),
    };
    assert_eq!(store.grant_trainer(&admin(), &grant).await.expect("grant"), grant);
    assert_not_found(
        store
            .grant_trainer(
                &admin(),
                &TrainerGrant { id: Uuid::from_u128(41), programme_id: Uuid::from_u128(8), ..grant.clone() },
            )
            .await,
        "programme",
    );
    assert_eq!(store.list_trainer_grants(Some(first.id)).await.expect("list"), std::slice::from_ref(&grant));
    assert!(store.list_trainer_grants(Some(second.id)).await.expect("list").is_empty());
    let mut profile = Profile {
        user_id: amra.id,
        org_id: other.id,
        profession: Profession::Police,
        level: AuthorityLevel::Entity,
        position: Some("Inspektorica".into()),
        updated_at: at(6),
    };
    store.put_profile(&admin(), &profile).await.expect("profile");
    profile.profession = Profession::Prosecution;
    store.put_profile(&admin(), &profile).await.expect("profile again");
    assert_eq!(store.get_profile(amra.id).await.expect("get"), Some(profile.clone()));
    assert!(store.get_profile(bojan.id).await.expect("get").is_none());
    assert_eq!(store.list_profiles().await.expect("list"), [profile]);

    let training: Vec<String> =
        actions(store).await.into_iter().filter(|action| action.starts_with("learning.")).collect();
    assert_eq!(
        training,
        [
            "learning.programme.create",
            "learning.programme.create",
            "learning.programme.update",
            "learning.session.create",
            "learning.session.create",
            "learning.session.create",
            "learning.session.register",
            "learning.session.register",
            "learning.session.cancel",
            "learning.session.update",
            "learning.session.register",
            "learning.attendance.record",
            "learning.feedback.submit",
            "learning.trainer.grant",
            "learning.profile.update",
            "learning.profile.update",
        ]
    );
}
