//! Learning records as xAPI 1.0.3 statements (JSON), for a learning record store.
//!
//! Per enrolment: `registered` (the course), `experienced` (each lesson read), `passed` or
//! `failed` (each submitted quiz attempt, with its score) and `completed` (the course). Verbs
//! are ADL's (`http://adlnet.gov/expapi/verbs/...`) and activity types ADL's
//! (`http://adlnet.gov/expapi/activities/...`). The actor is an account on this instance
//! (`homePage` the instance's URL, `name` the user id), so no e-mail address leaves it.
//! Statement ids are derived from what they state, so exporting twice gives the same ids and
//! a record store keeps one copy.

use neretva_model::Timestamp;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::course::{Course, Texts};
use crate::enrolment::Enrolment;
use crate::quiz::Attempt;

const VERBS: &str = "http://adlnet.gov/expapi/verbs/";
const ACTIVITIES: &str = "http://adlnet.gov/expapi/activities/";

/// The learner, as the statements name them.
#[derive(Debug, Clone)]
pub struct Learner<'a> {
    pub user_id: Uuid,
    pub name: &'a str,
}

/// The statements of one enrolment, oldest first; `base` is the instance's public URL
/// (`https://neretva.example`), which the activity ids and the actor's account are under.
pub fn statements(
    base: &str,
    learner: &Learner<'_>,
    course: &Course,
    enrolment: &Enrolment,
    attempts: &[Attempt],
) -> Vec<Value> {
    let base = base.trim_end_matches('/');
    let actor = json!({
        "objectType": "Agent",
        "name": learner.name,
        "account": { "homePage": base, "name": learner.user_id.to_string() },
    });
    let course_id = format!("{base}/learning/courses/{}/v{}", course.code, course.version);
    let course_activity = activity(&course_id, "course", &course.title);
    let parent =
        json!({ "contextActivities": { "parent": [ { "id": course_id, "objectType": "Activity" } ] } });
    let mut out = Vec::new();
    let mut push =
        |verb: &str, object: Value, at: Timestamp, result: Option<Value>, context: Option<&Value>| {
            let object_id = object["id"].as_str().unwrap_or_default().to_owned();
            let mut statement = Map::new();
            statement.insert("id".into(), json!(statement_id(enrolment.id, verb, &object_id, at)));
            statement.insert("actor".into(), actor.clone());
            statement.insert(
                "verb".into(),
                json!({ "id": format!("{VERBS}{verb}"), "display": { "en-US": verb } }),
            );
            statement.insert("object".into(), object);
            if let Some(result) = result {
                statement.insert("result".into(), result);
            }
            if let Some(context) = context {
                statement.insert("context".into(), context.clone());
            }
            statement.insert("timestamp".into(), json!(rfc3339(at)));
            statement.insert("version".into(), json!("1.0.3"));
            out.push((at, Value::Object(statement)));
        };
    push("registered", course_activity.clone(), enrolment.enrolled_at, None, None);
    for (module, lesson) in course.lessons() {
        if let Some(at) = enrolment.lessons_done.get(&lesson.key(module)) {
            let id = format!("{course_id}/lessons/{}/{}", module.id, lesson.id);
            push("experienced", activity(&id, "lesson", &lesson.title), *at, None, Some(&parent));
        }
    }
    for attempt in attempts {
        let (Some(at), Some(outcome)) = (attempt.submitted_at, &attempt.outcome) else { continue };
        let id = format!("{course_id}/quiz");
        let mut names = Texts::new();
        for (language, title) in &course.title {
            names.insert(*language, format!("{title}: quiz"));
        }
        let scaled =
            if outcome.total == 0 { 0.0 } else { f64::from(outcome.correct) / f64::from(outcome.total) };
        let result = json!({
            "score": { "scaled": scaled, "raw": outcome.correct, "min": 0, "max": outcome.total },
            "success": outcome.passed,
            "completion": true,
            "extensions": { format!("{base}/learning/xapi/attempt"): attempt.number },
        });
        let verb = if outcome.passed { "passed" } else { "failed" };
        push(verb, activity(&id, "assessment", &names), at, Some(result), Some(&parent));
    }
    if let Some(at) = enrolment.completed_at {
        push("completed", course_activity, at, Some(json!({ "completion": true })), None);
    }
    out.sort_by_key(|(at, _)| *at);
    out.into_iter().map(|(_, statement)| statement).collect()
}

fn activity(id: &str, kind: &str, names: &Texts) -> Value {
    let name: Map<String, Value> =
        names.iter().map(|(language, text)| (language.tag().to_owned(), json!(text))).collect();
    json!({
        "objectType": "Activity",
        "id": id,
        "definition": { "type": format!("{ACTIVITIES}{kind}"), "name": name },
    })
}

/// A UUID (version 8) from the SHA-256 of what the statement states.
fn statement_id(enrolment: Uuid, verb: &str, object: &str, at: Timestamp) -> String {
    let digest = Sha256::new()
        .chain_update(enrolment.as_bytes())
        .chain_update(verb.as_bytes())
        .chain_update([0])
        .chain_update(object.as_bytes())
        .chain_update([0])
        .chain_update(at.unix_timestamp_nanos().to_be_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

fn rfc3339(at: Timestamp) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string())
}
