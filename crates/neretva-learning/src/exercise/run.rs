//! The run of an exercise: planned → running (⇄ paused) → ended.
//!
//! Exercise time is the wall-clock time since the start less the time spent paused, so a pause
//! freezes every offset and a resume shifts the injects still to come by the pause's length.
//! An inject is due once exercise time reaches its offset ([`due_injects`]); a facilitator may
//! also release one early ([`release`]) or skip it ([`skip`]). A delivery is recorded once per
//! inject (the store refuses a second), so delivering what is due is idempotent.
//!
//! Each change is a pure function from the run read to the run to write, refused with a
//! [`Refusal`] that says why.

use std::collections::BTreeMap;
use std::fmt;

use neretva_model::{Timestamp, Uuid};
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::exercise::scenario::{Inject, Scenario};

/// The longest response, in characters.
pub const MAX_RESPONSE_CHARS: usize = 8_000;
/// The most participants and facilitators of one exercise.
pub const MAX_PEOPLE: usize = 500;
/// The most observations of an assessment.
pub const MAX_OBSERVATIONS: usize = 100;
/// The longest observation or assessment note, in characters.
pub const MAX_NOTE_CHARS: usize = 4_000;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Planned,
    Running,
    Paused,
    Ended,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Planned => "planned",
            State::Running => "running",
            State::Paused => "paused",
            State::Ended => "ended",
        }
    }
}

/// A player and the role they play.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub user_id: Uuid,
    pub role: String,
}

/// How far an objective was met, in the facilitators' judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Met,
    Partially,
    NotMet,
}

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Met => "met",
            Rating::Partially => "partially",
            Rating::NotMet => "not_met",
        }
    }

    pub fn parse(text: &str) -> Option<Rating> {
        match text {
            "met" => Some(Rating::Met),
            "partially" => Some(Rating::Partially),
            "not_met" => Some(Rating::NotMet),
            _ => None,
        }
    }
}

/// The facilitators' assessment of one objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectiveAssessment {
    pub rating: Rating,
    pub notes: String,
}

/// The facilitators' assessment: objectives and observations (lessons learned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub objectives: BTreeMap<String, ObjectiveAssessment>,
    pub observations: Vec<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub assessed_at: Option<Timestamp>,
    pub assessed_by: Option<Uuid>,
}

/// One run of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exercise {
    pub id: Uuid,
    pub scenario_id: Uuid,
    pub name: String,
    /// The creator's organisation.
    pub org_id: Uuid,
    pub created_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    /// Besides the creator.
    pub facilitators: Vec<Uuid>,
    pub participants: Vec<Participant>,
    /// When the exercise starts by itself, unless a facilitator starts it before.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub scheduled_start: Option<Timestamp>,
    pub state: State,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<Timestamp>,
    /// Since when the run is paused.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub paused_at: Option<Timestamp>,
    /// The time spent paused before `paused_at`, in milliseconds.
    pub paused_millis: i64,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ended_at: Option<Timestamp>,
    /// Injects skipped by a facilitator, with when.
    pub skipped: BTreeMap<String, SkippedInject>,
    pub assessment: Assessment,
}

/// An inject a facilitator skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedInject {
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
    pub by: Uuid,
}

/// An inject delivered: on schedule, or released early by a facilitator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub inject_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub delivered_at: Timestamp,
    /// The facilitator who released it before its time.
    pub released_by: Option<Uuid>,
}

/// A participant's response to an inject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub id: Uuid,
    pub exercise_id: Uuid,
    pub inject_id: String,
    pub user_id: Uuid,
    pub role: String,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: Timestamp,
    /// After the inject's deadline: accepted, but flagged.
    pub late: bool,
}

/// Why a change of a run is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The run is not in a state the change applies to.
    State {
        state: State,
        action: &'static str,
    },
    UnknownInject(String),
    AlreadyDelivered(String),
    Skipped(String),
    NotDelivered(String),
    NoResponseExpected(String),
    /// The participant's role does not receive the inject.
    NotTargeted(String),
    NotParticipant,
    UnknownObjective(String),
}

impl Refusal {
    /// The field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            Refusal::State { .. } => "state",
            Refusal::UnknownObjective(_) => "objectives",
            Refusal::NotParticipant => "participant",
            _ => "inject",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::State { state, action } => {
                write!(f, "the exercise is {}; it cannot be {action}", state.as_str())
            }
            Refusal::UnknownInject(id) => write!(f, "the scenario has no inject {id:?}"),
            Refusal::AlreadyDelivered(id) => write!(f, "inject {id:?} was delivered already"),
            Refusal::Skipped(id) => write!(f, "inject {id:?} was skipped"),
            Refusal::NotDelivered(id) => write!(f, "inject {id:?} has not been delivered yet"),
            Refusal::NoResponseExpected(id) => write!(f, "inject {id:?} does not ask for a response"),
            Refusal::NotTargeted(id) => write!(f, "inject {id:?} does not go to the participant's role"),
            Refusal::NotParticipant => write!(f, "only participants respond to injects"),
            Refusal::UnknownObjective(id) => write!(f, "the scenario has no objective {id:?}"),
        }
    }
}

impl std::error::Error for Refusal {}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.whole_milliseconds()).unwrap_or(i64::MAX)
}

impl Exercise {
    /// Exercise time at `now`: time since the start less the time paused; zero before the start.
    pub fn elapsed(&self, now: Timestamp) -> Duration {
        let Some(started) = self.started_at else { return Duration::ZERO };
        let until = match self.state {
            State::Paused => self.paused_at.unwrap_or(now),
            State::Ended => self.ended_at.unwrap_or(now),
            _ => now,
        };
        (until - started - Duration::milliseconds(self.paused_millis)).max(Duration::ZERO)
    }

    /// The wall-clock time an offset falls on while the run goes on unpaused.
    pub fn due_at(&self, offset_seconds: u32) -> Option<Timestamp> {
        let started = self.started_at?;
        Some(
            started
                + Duration::milliseconds(self.paused_millis)
                + Duration::seconds(i64::from(offset_seconds)),
        )
    }

    /// The role a user plays, if they are a participant.
    pub fn role_of(&self, user: Uuid) -> Option<&str> {
        self.participants.iter().find(|p| p.user_id == user).map(|p| p.role.as_str())
    }

    pub fn is_facilitator(&self, user: Uuid) -> bool {
        self.created_by == user || self.facilitators.contains(&user)
    }
}

/// The injects due at `now` and not yet delivered or skipped, in delivery order.
pub fn due_injects(
    scenario: &Scenario,
    run: &Exercise,
    deliveries: &[Delivery],
    now: Timestamp,
) -> Vec<String> {
    if run.state != State::Running {
        return Vec::new();
    }
    let elapsed = run.elapsed(now);
    scenario
        .schedule()
        .into_iter()
        .filter(|inject| Duration::seconds(i64::from(inject.offset_seconds)) <= elapsed)
        .filter(|inject| !run.skipped.contains_key(&inject.id))
        .filter(|inject| !deliveries.iter().any(|d| d.inject_id == inject.id))
        .map(|inject| inject.id.clone())
        .collect()
}

/// The next inject to come (not delivered, not skipped) and the exercise time left until it.
pub fn next_inject<'s>(
    scenario: &'s Scenario,
    run: &Exercise,
    deliveries: &[Delivery],
    now: Timestamp,
) -> Option<(&'s Inject, Duration)> {
    let elapsed = run.elapsed(now);
    scenario
        .schedule()
        .into_iter()
        .find(|inject| {
            !run.skipped.contains_key(&inject.id) && !deliveries.iter().any(|d| d.inject_id == inject.id)
        })
        .map(|inject| {
            (inject, (Duration::seconds(i64::from(inject.offset_seconds)) - elapsed).max(Duration::ZERO))
        })
}

/// The deliveries of the injects due at `now`.
pub fn deliveries_due(
    scenario: &Scenario,
    run: &Exercise,
    deliveries: &[Delivery],
    now: Timestamp,
) -> Vec<Delivery> {
    due_injects(scenario, run, deliveries, now)
        .into_iter()
        .map(|inject_id| Delivery { inject_id, delivered_at: now, released_by: None })
        .collect()
}

fn refuse(run: &Exercise, action: &'static str) -> Refusal {
    Refusal::State { state: run.state, action }
}

/// Starts a planned run at `at`.
pub fn start(run: &Exercise, at: Timestamp) -> Result<Exercise, Refusal> {
    if run.state != State::Planned {
        return Err(refuse(run, "started"));
    }
    Ok(Exercise { state: State::Running, started_at: Some(at), ..run.clone() })
}

/// Pauses a running run: exercise time stands still.
pub fn pause(run: &Exercise, at: Timestamp) -> Result<Exercise, Refusal> {
    if run.state != State::Running {
        return Err(refuse(run, "paused"));
    }
    Ok(Exercise { state: State::Paused, paused_at: Some(at), ..run.clone() })
}

/// Resumes a paused run: the injects to come move on by the pause's length.
pub fn resume(run: &Exercise, at: Timestamp) -> Result<Exercise, Refusal> {
    if run.state != State::Paused {
        return Err(refuse(run, "resumed"));
    }
    let paused = run.paused_at.map_or(Duration::ZERO, |since| (at - since).max(Duration::ZERO));
    Ok(Exercise {
        state: State::Running,
        paused_at: None,
        paused_millis: run.paused_millis.saturating_add(millis(paused)),
        ..run.clone()
    })
}

/// Ends a running or paused run; injects not delivered stay undelivered.
pub fn end(run: &Exercise, at: Timestamp) -> Result<Exercise, Refusal> {
    let paused = match run.state {
        State::Running => Duration::ZERO,
        State::Paused => run.paused_at.map_or(Duration::ZERO, |since| (at - since).max(Duration::ZERO)),
        State::Planned | State::Ended => return Err(refuse(run, "ended")),
    };
    Ok(Exercise {
        state: State::Ended,
        ended_at: Some(at),
        paused_at: None,
        paused_millis: run.paused_millis.saturating_add(millis(paused)),
        ..run.clone()
    })
}

/// Checks an inject is still to come: in the scenario, not delivered, not skipped.
fn pending<'s>(
    scenario: &'s Scenario,
    run: &Exercise,
    deliveries: &[Delivery],
    inject: &str,
) -> Result<&'s Inject, Refusal> {
    let found = scenario.inject(inject).ok_or_else(|| Refusal::UnknownInject(inject.to_owned()))?;
    if deliveries.iter().any(|d| d.inject_id == inject) {
        return Err(Refusal::AlreadyDelivered(inject.to_owned()));
    }
    if run.skipped.contains_key(inject) {
        return Err(Refusal::Skipped(inject.to_owned()));
    }
    Ok(found)
}

/// Releases an inject now, before its time, while the run is running or paused.
pub fn release(
    scenario: &Scenario,
    run: &Exercise,
    deliveries: &[Delivery],
    inject: &str,
    by: Uuid,
    at: Timestamp,
) -> Result<Delivery, Refusal> {
    if !matches!(run.state, State::Running | State::Paused) {
        return Err(refuse(run, "given injects"));
    }
    pending(scenario, run, deliveries, inject)?;
    Ok(Delivery { inject_id: inject.to_owned(), delivered_at: at, released_by: Some(by) })
}

/// Skips an inject that has not been delivered: it never will be.
pub fn skip(
    scenario: &Scenario,
    run: &Exercise,
    deliveries: &[Delivery],
    inject: &str,
    by: Uuid,
    at: Timestamp,
) -> Result<Exercise, Refusal> {
    if run.state == State::Ended {
        return Err(refuse(run, "changed"));
    }
    pending(scenario, run, deliveries, inject)?;
    let mut next = run.clone();
    next.skipped.insert(inject.to_owned(), SkippedInject { at, by });
    Ok(next)
}

/// What a participant answers: the text, checked.
pub fn check_response_text(text: &str) -> Result<String, neretva_model::FieldError> {
    let text = text.trim();
    neretva_model::check_text("text", text, MAX_RESPONSE_CHARS)?;
    Ok(text.to_owned())
}

/// A participant's response to a delivered inject that asks for one, while the run is running
/// or paused; late when after the inject's deadline. One response per participant and inject is
/// kept: the store refuses a second.
#[allow(clippy::too_many_arguments)]
pub fn respond(
    scenario: &Scenario,
    run: &Exercise,
    deliveries: &[Delivery],
    inject: &str,
    user: Uuid,
    text: String,
    id: Uuid,
    at: Timestamp,
) -> Result<Response, Refusal> {
    if !matches!(run.state, State::Running | State::Paused) {
        return Err(refuse(run, "answered"));
    }
    let role = run.role_of(user).ok_or(Refusal::NotParticipant)?.to_owned();
    let found = scenario.inject(inject).ok_or_else(|| Refusal::UnknownInject(inject.to_owned()))?;
    if !found.targets(&role) {
        return Err(Refusal::NotTargeted(inject.to_owned()));
    }
    let delivery = deliveries
        .iter()
        .find(|d| d.inject_id == inject)
        .ok_or_else(|| Refusal::NotDelivered(inject.to_owned()))?;
    if !found.expects_response {
        return Err(Refusal::NoResponseExpected(inject.to_owned()));
    }
    let late = found
        .deadline_minutes
        .is_some_and(|minutes| at > delivery.delivered_at + Duration::minutes(i64::from(minutes)));
    Ok(Response {
        id,
        exercise_id: run.id,
        inject_id: inject.to_owned(),
        user_id: user,
        role,
        text,
        submitted_at: at,
        late,
    })
}

/// Records the facilitators' assessment; every objective named must be the scenario's.
pub fn assess(
    scenario: &Scenario,
    run: &Exercise,
    objectives: BTreeMap<String, ObjectiveAssessment>,
    observations: Vec<String>,
    by: Uuid,
    at: Timestamp,
) -> Result<Exercise, Refusal> {
    if let Some(unknown) = objectives.keys().find(|id| !scenario.objectives.iter().any(|o| &o.id == *id)) {
        return Err(Refusal::UnknownObjective(unknown.clone()));
    }
    let mut next = run.clone();
    next.assessment = Assessment { objectives, observations, assessed_at: Some(at), assessed_by: Some(by) };
    Ok(next)
}

/// Where an inject is, on the facilitators' timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjectStatus {
    Delivered(Delivery),
    Skipped(SkippedInject),
    /// Still to come; `due_at` is when it falls due if the run goes on unpaused (none before
    /// the start), `remaining` the exercise time left.
    Pending {
        due_at: Option<Timestamp>,
        remaining: Duration,
    },
}

/// One inject on the timeline, with its responses.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry<'s> {
    pub inject: &'s Inject,
    pub status: InjectStatus,
    pub responses: Vec<&'s Response>,
}

/// The injects in delivery order with where each is and its responses.
pub fn timeline<'s>(
    scenario: &'s Scenario,
    run: &Exercise,
    deliveries: &[Delivery],
    responses: &'s [Response],
    now: Timestamp,
) -> Vec<TimelineEntry<'s>> {
    let elapsed = run.elapsed(now);
    scenario
        .schedule()
        .into_iter()
        .map(|inject| {
            let status = if let Some(delivery) = deliveries.iter().find(|d| d.inject_id == inject.id) {
                InjectStatus::Delivered(delivery.clone())
            } else if let Some(skipped) = run.skipped.get(&inject.id) {
                InjectStatus::Skipped(skipped.clone())
            } else {
                let offset = Duration::seconds(i64::from(inject.offset_seconds));
                let due_at = match run.state {
                    State::Running => run.due_at(inject.offset_seconds),
                    _ => None,
                };
                InjectStatus::Pending { due_at, remaining: (offset - elapsed).max(Duration::ZERO) }
            };
            let mut answered: Vec<&Response> =
                responses.iter().filter(|r| r.inject_id == inject.id).collect();
            answered.sort_by_key(|r| r.submitted_at);
            TimelineEntry { inject, status, responses: answered }
        })
        .collect()
}
