//! Capacity building operations the API (`api::learning`) and the `neretva learning` commands
//! share: issuing a certificate, and the xAPI statements of enrolments.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use neretva_learning::certificate::{Certificate, new_code};
use neretva_learning::course::Course;
use neretva_learning::enrolment::Enrolment;
use neretva_learning::xapi::{self, Learner};
use neretva_model::{Timestamp, Uuid};
use neretva_store::learning::StoredEnrolment;
use neretva_store::{Store, StoreError};
use serde_json::Value;

/// The name a certificate shows: the user's display name, else the username.
async fn holder_name(store: &dyn Store, user_id: Uuid) -> Result<String, StoreError> {
    let user = store.get_user(user_id).await?.ok_or_else(|| StoreError::not_found("user", user_id))?;
    Ok(user.display_name.filter(|name| !name.trim().is_empty()).unwrap_or(user.username))
}

/// A new certificate for a completed enrolment, with a fresh random code; the caller writes
/// it with the enrolment.
pub async fn issue_certificate(
    store: &dyn Store,
    course: &Course,
    enrolment: &Enrolment,
    now: Timestamp,
) -> Result<Certificate, StoreError> {
    Ok(Certificate {
        code: new_code(crate::auth::random_bytes()),
        enrolment_id: enrolment.id,
        user_id: enrolment.user_id,
        holder: holder_name(store, enrolment.user_id).await?,
        course_code: course.code.clone(),
        course_version: course.version,
        course_title: course.title.clone(),
        issued_at: now,
    })
}

/// The xAPI statements of the enrolments (the caller decides which it may see), enrolment by
/// enrolment; `base` is the instance's public URL.
pub async fn statements_for(
    store: &dyn Store,
    enrolments: &[StoredEnrolment],
    base: &str,
) -> Result<Vec<Value>, StoreError> {
    let mut courses: BTreeMap<Uuid, Course> = BTreeMap::new();
    let mut names: BTreeMap<Uuid, String> = BTreeMap::new();
    let mut statements = Vec::new();
    for stored in enrolments {
        let enrolment = &stored.enrolment;
        let course = match courses.entry(enrolment.course_id) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let stored = store
                    .get_course(enrolment.course_id)
                    .await?
                    .ok_or_else(|| StoreError::not_found("course", enrolment.course_id))?;
                entry.insert(stored.course)
            }
        };
        let name = match names.entry(enrolment.user_id) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(holder_name(store, enrolment.user_id).await?),
        };
        let attempts = store.list_attempts(enrolment.id).await?;
        let learner = Learner { user_id: enrolment.user_id, name };
        statements.extend(xapi::statements(base, &learner, course, enrolment, &attempts));
    }
    Ok(statements)
}
