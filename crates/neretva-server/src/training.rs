//! Train-the-trainer operations the API (`api::training`) and the `neretva learning` commands
//! share: trainer qualification of a programme from the store, and the rows the statistics of
//! people trained count.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use neretva_learning::training::{
    Completion, Delivery, Presence, Programme, Qualification, SessionStatus, TrainedRow, TrainingKind,
    qualifications,
};
use neretva_model::Uuid;
use neretva_model::org::Organisation;
use neretva_store::learning::EnrolmentQuery;
use neretva_store::training::{ParticipantQuery, SessionQuery};
use neretva_store::{Store, StoreError};

/// The qualification of everyone who completed the trainer course, delivered a held session of
/// the programme or was granted the qualification, by user.
pub async fn qualification_status(
    store: &dyn Store,
    programme: &Programme,
) -> Result<BTreeMap<Uuid, Qualification>, StoreError> {
    let mut completions = Vec::new();
    for course in store.list_courses().await? {
        if course.course.code != programme.spec.trainer_course {
            continue;
        }
        let query = EnrolmentQuery { course_id: Some(course.id), ..EnrolmentQuery::default() };
        for stored in store.list_enrolments(&query).await? {
            if let Some(at) = stored.enrolment.completed_at {
                completions.push(Completion { user_id: stored.enrolment.user_id, at });
            }
        }
    }
    let query = SessionQuery { programme_id: Some(programme.id), ..SessionQuery::default() };
    let deliveries: Vec<Delivery> = store
        .list_training_sessions(&query)
        .await?
        .iter()
        .filter_map(|stored| Delivery::of(&stored.session))
        .collect();
    let grants = store.list_trainer_grants(Some(programme.id)).await?;
    Ok(qualifications(programme, &completions, &deliveries, &grants))
}

async fn organisation<'a>(
    store: &dyn Store,
    cache: &'a mut BTreeMap<Uuid, Option<Organisation>>,
    id: Uuid,
) -> Result<Option<&'a Organisation>, StoreError> {
    if let Entry::Vacant(slot) = cache.entry(id) {
        let found = store.get_org(id).await?;
        slot.insert(found);
    }
    Ok(cache.get(&id).and_then(Option::as_ref))
}

/// Everyone trained once per row: presence at a held session, and completion of a course
/// (with a programme: of the courses of its curriculum and its trainer course), with the
/// organisation (as it was registered), its NIS2 sector and the learner's profile.
pub async fn trained_rows(
    store: &dyn Store,
    programme: Option<&Programme>,
) -> Result<Vec<TrainedRow>, StoreError> {
    let profiles: BTreeMap<Uuid, _> =
        store.list_profiles().await?.into_iter().map(|profile| (profile.user_id, profile)).collect();
    let mut orgs: BTreeMap<Uuid, Option<Organisation>> = BTreeMap::new();
    let mut raw: Vec<(Uuid, Uuid, neretva_model::Timestamp, TrainingKind)> = Vec::new();

    let query =
        SessionQuery { programme_id: programme.map(|programme| programme.id), ..SessionQuery::default() };
    for stored in store.list_training_sessions(&query).await? {
        let session = &stored.session;
        if session.status != SessionStatus::Held {
            continue;
        }
        let query = ParticipantQuery { session_id: Some(session.id), ..ParticipantQuery::default() };
        for participant in store.list_participants(&query).await? {
            if participant.attendance.is_some_and(Presence::attended) {
                raw.push((participant.user_id, participant.org_id, session.starts_at, TrainingKind::Session));
            }
        }
    }
    for course in store.list_courses().await? {
        let counted = match programme {
            None => true,
            Some(programme) => {
                programme.spec.trainer_course == course.course.code
                    || programme
                        .spec
                        .curriculum
                        .iter()
                        .any(|item| item.course.as_deref() == Some(&course.course.code))
            }
        };
        if !counted {
            continue;
        }
        let query = EnrolmentQuery { course_id: Some(course.id), ..EnrolmentQuery::default() };
        for stored in store.list_enrolments(&query).await? {
            let enrolment = &stored.enrolment;
            if let Some(at) = enrolment.completed_at {
                raw.push((enrolment.user_id, enrolment.org_id, at, TrainingKind::Course));
            }
        }
    }

    let mut rows = Vec::with_capacity(raw.len());
    for (user_id, org_id, at, kind) in raw {
        let org = organisation(store, &mut orgs, org_id).await?;
        let profile = profiles.get(&user_id);
        rows.push(TrainedRow {
            user_id,
            at,
            kind,
            organisation: org.map_or_else(|| org_id.to_string(), |org| org.fields.short_name.clone()),
            sector: org.and_then(|org| org.fields.sector.clone()),
            level: profile.map(|profile| profile.level),
            profession: profile.map(|profile| profile.profession),
        });
    }
    Ok(rows)
}
