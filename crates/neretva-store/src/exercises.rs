//! Storage types of tabletop exercises: scenario versions, exercise runs, inject deliveries and
//! participants' responses.
//!
//! A scenario version is stored whole as JSON (`neretva_learning::exercise::scenario::Scenario`),
//! once per code and version. A run is stored as JSON with a version: a change reads it, applies
//! a pure change (`neretva_learning::exercise::run`) and writes it back under the version read.
//! A delivery is a row per run and inject (recorded once: a second is refused), written with
//! the run's next version and the messages that tell the participants, so a delivery and a
//! skip or an end cannot cross. A response is a row per run, inject and participant (one each).

use neretva_learning::exercise::run::{Delivery, Exercise, Response};
use neretva_learning::exercise::scenario::Scenario;
use neretva_model::{Timestamp, Uuid};

use crate::StoreError;

/// The largest stored scenario, as JSON.
pub const MAX_SCENARIO_BYTES: usize = 4 * 1024 * 1024;

/// A stored scenario version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredScenario {
    pub id: Uuid,
    pub scenario: Scenario,
    pub imported_at: Timestamp,
}

/// A stored run with its version (1 when created, one more with each change and each
/// delivery), its deliveries in the order made and its responses in the order received.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExercise {
    pub exercise: Exercise,
    pub version: i64,
    pub deliveries: Vec<Delivery>,
    pub responses: Vec<Response>,
}

/// A scenario as stored, refused when larger than [`MAX_SCENARIO_BYTES`].
pub fn encode_scenario(scenario: &Scenario) -> Result<String, StoreError> {
    let text = crate::learning::encode(scenario)?;
    if text.len() > MAX_SCENARIO_BYTES {
        return Err(StoreError::conflict(
            "scenario",
            format!("the scenario is {} bytes as JSON; at most {MAX_SCENARIO_BYTES} are stored", text.len()),
        ));
    }
    Ok(text)
}

/// The conflict for a scenario code and version stored already.
pub fn scenario_exists(scenario: &Scenario) -> StoreError {
    StoreError::conflict(
        "version",
        format!(
            "scenario {:?} version {} is imported already; raise `version` in scenario.yaml for a new version",
            scenario.code, scenario.version
        ),
    )
}

/// The conflict for a run changed since it was read.
pub fn exercise_changed(now: i64, read: i64) -> StoreError {
    StoreError::conflict(
        "version",
        format!("the exercise changed (version {now} now, {read} read); try again"),
    )
}

/// The conflict for an inject delivered already.
pub fn already_delivered(inject: &str) -> StoreError {
    StoreError::conflict("inject", format!("inject {inject:?} was delivered already"))
}

/// The conflict for a second response of a participant to an inject.
pub fn already_responded(inject: &str) -> StoreError {
    StoreError::conflict(
        "response",
        format!("a response to inject {inject:?} was submitted already; a participant responds once"),
    )
}
