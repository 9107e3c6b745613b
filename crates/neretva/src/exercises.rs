//! `neretva learning scenario|exercises|exercise`: tabletop exercise scenarios in, exercises
//! created and run (start, pause, resume, end), the facilitators' timeline and the after-action
//! report, on the store directly.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use neretva_learning::course::text_in;
use neretva_learning::exercise::report;
use neretva_learning::exercise::run::{self, Exercise, Participant, Refusal, State};
use neretva_learning::exercise::scenario;
use neretva_learning::package::{Limits, Package};
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::contact::Language;
use neretva_model::{Timestamp, Uuid};
use neretva_store::Store;
use neretva_store::exercises::{StoredExercise, StoredScenario};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::commands::cli_actor;
use crate::output;
use crate::output::rfc3339;

/// `neretva learning scenario ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ScenarioCommand {
    /// Import a scenario package: a folder with scenario.yaml (code, version, languages, title,
    /// objectives, roles, injects with offsets) or a zip of one. Every problem is reported with
    /// its file and line, and nothing is imported unless the whole package is valid.
    Import {
        /// The package's folder or zip file.
        path: std::path::PathBuf,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List the scenario versions.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

/// `neretva learning exercise ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ExerciseCommand {
    /// Create an exercise of a scenario, with facilitators and participants in roles.
    Create {
        /// The scenario's id, or its code (the newest version).
        #[arg(long)]
        scenario: String,
        /// The exercise's name; the scenario's title when left out.
        #[arg(long)]
        name: Option<String>,
        /// When it starts by itself: an RFC 3339 time or a time from now (+30m, +2h, +45s);
        /// left out, a facilitator starts it.
        #[arg(long)]
        start: Option<String>,
        /// A facilitator (username); the first is the exercise's creator. At least one.
        #[arg(long = "facilitator", required = true)]
        facilitators: Vec<String>,
        /// A participant and the role they play: `username:role`. At least one.
        #[arg(long = "participant", required = true)]
        participants: Vec<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Start an exercise now.
    Start {
        /// The exercise's id.
        id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Pause a running exercise: exercise time stands still.
    Pause {
        /// The exercise's id.
        id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Resume a paused exercise; the injects to come move on by the pause's length.
    Resume {
        /// The exercise's id.
        id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// End an exercise.
    End {
        /// The exercise's id.
        id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The facilitators' timeline: every inject delivered, skipped or due (with the time left),
    /// its responses and who has not answered.
    Timeline {
        /// The exercise's id.
        id: String,
        /// The language of the texts; the scenario's first when left out.
        #[arg(long)]
        lang: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The after-action report (audited as an export).
    Report {
        /// The exercise's id.
        id: String,
        /// en, bs, hr, sr-Latn or sr-Cyrl; the scenario's first when left out.
        #[arg(long)]
        lang: Option<String>,
        /// md, html or json.
        #[arg(long, default_value = "md")]
        format: String,
    },
}

pub(crate) async fn scenario_command(
    store: &dyn Store,
    command: ScenarioCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        ScenarioCommand::Import { path, json } => import(store, &path, json).await,
        ScenarioCommand::List { json } => list_scenarios(store, json).await,
    }
}

pub(crate) async fn exercise_command(
    store: &dyn Store,
    command: ExerciseCommand,
) -> anyhow::Result<ExitCode> {
    let now = OffsetDateTime::now_utc();
    match command {
        ExerciseCommand::Create { scenario, name, start, facilitators, participants, json } => {
            create(store, &scenario, name, start.as_deref(), &facilitators, &participants, json, now).await
        }
        ExerciseCommand::Start { id, json } => {
            change(store, &id, "learning.exercise.start", json, |run| run::start(run, now)).await
        }
        ExerciseCommand::Pause { id, json } => {
            change(store, &id, "learning.exercise.pause", json, |run| run::pause(run, now)).await
        }
        ExerciseCommand::Resume { id, json } => {
            change(store, &id, "learning.exercise.resume", json, |run| run::resume(run, now)).await
        }
        ExerciseCommand::End { id, json } => {
            change(store, &id, "learning.exercise.end", json, |run| run::end(run, now)).await
        }
        ExerciseCommand::Timeline { id, lang, json } => {
            timeline(store, &id, lang.as_deref(), json, now).await
        }
        ExerciseCommand::Report { id, lang, format } => report(store, &id, lang.as_deref(), &format).await,
    }
}

async fn import(store: &dyn Store, path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let limits = Limits::default();
    let package = if path.is_dir() {
        crate::learning::read_folder(path, &limits)?
    } else {
        let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
        if size > limits.max_total_bytes {
            bail!(
                "{}: {size} bytes, more than the {} a package may have",
                path.display(),
                limits.max_total_bytes
            );
        }
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        match Package::from_zip(&bytes, &limits) {
            Ok(package) => package,
            Err(errors) => return Ok(problems(&errors, json)),
        }
    };
    let scenario = match scenario::parse(&package, &limits) {
        Ok(scenario) => scenario,
        Err(errors) => return Ok(problems(&errors, json)),
    };
    let stored = store.import_scenario(&cli_actor(), Uuid::now_v7(), &scenario).await?;
    if json {
        output::json(&serde_json::json!({
            "imported": true, "id": stored.id, "code": scenario.code, "version": scenario.version,
            "languages": scenario.languages, "roles": scenario.roles.len(), "injects": scenario.injects.len(),
        }));
    } else {
        output::line(&format!(
            "imported scenario {} version {} ({})",
            scenario.code, scenario.version, stored.id
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn problems(errors: &[neretva_learning::package::PackageError], json: bool) -> ExitCode {
    if json {
        let problems: Vec<serde_json::Value> = errors
            .iter()
            .map(|error| serde_json::json!({ "file": error.file, "line": error.line, "message": error.message }))
            .collect();
        output::json(&serde_json::json!({ "imported": false, "problems": problems }));
    } else {
        for error in errors {
            output::line(&error.to_string());
        }
        output::error(&format!("error: the scenario has {} problems; nothing was imported", errors.len()));
    }
    ExitCode::FAILURE
}

async fn list_scenarios(store: &dyn Store, json: bool) -> anyhow::Result<ExitCode> {
    let scenarios = store.list_scenarios().await?;
    if json {
        let items: Vec<serde_json::Value> = scenarios
            .iter()
            .map(|stored| {
                let scenario = &stored.scenario;
                let fallback = scenario.default_language();
                serde_json::json!({
                    "id": stored.id, "code": scenario.code, "version": scenario.version,
                    "title": text_in(&scenario.title, fallback, fallback), "languages": scenario.languages,
                    "roles": scenario.roles.iter().map(|role| role.id.clone()).collect::<Vec<_>>(),
                    "injects": scenario.injects.len(),
                })
            })
            .collect();
        output::json(&items);
    } else {
        let rows: Vec<Vec<String>> = scenarios
            .iter()
            .map(|stored| {
                let scenario = &stored.scenario;
                vec![
                    scenario.code.clone(),
                    scenario.version.to_string(),
                    scenario.injects.len().to_string(),
                    stored.id.to_string(),
                ]
            })
            .collect();
        output::table(&["code", "version", "injects", "id"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// A scenario by id, or the newest version of a code.
async fn find_scenario(store: &dyn Store, key: &str) -> anyhow::Result<StoredScenario> {
    if let Ok(id) = Uuid::try_parse(key)
        && let Some(stored) = store.get_scenario(id).await?
    {
        return Ok(stored);
    }
    store
        .list_scenarios()
        .await?
        .into_iter()
        .filter(|stored| stored.scenario.code == key)
        .max_by_key(|stored| stored.scenario.version)
        .with_context(|| format!("no scenario {key:?}"))
}

async fn find_exercise(store: &dyn Store, id: &str) -> anyhow::Result<StoredExercise> {
    let id = Uuid::try_parse(id).with_context(|| format!("{id:?} is not an id"))?;
    store.get_exercise(id).await?.with_context(|| format!("no exercise {id}"))
}

/// An RFC 3339 time, or a time from now: `+30m`, `+2h`, `+7d`, `+45s`.
fn parse_when(text: &str, now: Timestamp) -> anyhow::Result<Timestamp> {
    if let Some(relative) = text.strip_prefix('+') {
        let Some((split, unit)) = relative.char_indices().last() else {
            bail!("--start {text:?}: give an amount and a unit such as +2h");
        };
        let amount: i64 = relative[..split]
            .parse()
            .with_context(|| format!("--start {text:?}: the amount is not a number"))?;
        if !(0..=100_000).contains(&amount) {
            bail!("--start {text:?}: the amount is out of range");
        }
        let duration = match unit {
            's' => time::Duration::seconds(amount),
            'm' => time::Duration::minutes(amount),
            'h' => time::Duration::hours(amount),
            'd' => time::Duration::days(amount),
            _ => bail!("--start {text:?}: the unit is not s, m, h or d"),
        };
        return Ok(now + duration);
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .with_context(|| format!("--start {text:?} is not an RFC 3339 time or +N[smhd]"))
}

#[allow(clippy::too_many_arguments)]
async fn create(
    store: &dyn Store,
    scenario_key: &str,
    name: Option<String>,
    start: Option<&str>,
    facilitators: &[String],
    participants: &[String],
    json: bool,
    now: Timestamp,
) -> anyhow::Result<ExitCode> {
    let mut errors = Vec::new();
    let scenario = find_scenario(store, scenario_key).await;
    if let Err(error) = &scenario {
        errors.push(format!("scenario: {error}"));
    }
    let start = match start.map(|text| parse_when(text, now)) {
        Some(Err(error)) => {
            errors.push(format!("start: {error:#}"));
            None
        }
        Some(Ok(at)) => Some(at),
        None => None,
    };
    let mut facilitator_ids = Vec::new();
    for (index, username) in facilitators.iter().enumerate() {
        match store.find_user(username).await? {
            Some(user) if !facilitator_ids.iter().any(|(id, _)| *id == user.id) => {
                facilitator_ids.push((user.id, user.org_id))
            }
            Some(_) => errors.push(format!("facilitators[{index}]: {username:?} is named twice")),
            None => errors.push(format!("facilitators[{index}]: no user {username:?}")),
        }
    }
    let mut people: Vec<Participant> = Vec::new();
    for (index, entry) in participants.iter().enumerate() {
        let Some((username, role)) = entry.split_once(':') else {
            errors.push(format!("participants[{index}]: {entry:?} is not username:role"));
            continue;
        };
        if let Ok(stored) = &scenario
            && stored.scenario.role(role).is_none()
        {
            let roles: Vec<&str> = stored.scenario.roles.iter().map(|role| role.id.as_str()).collect();
            errors.push(format!(
                "participants[{index}]: {role:?} is not a role of the scenario ({})",
                roles.join(", ")
            ));
        }
        match store.find_user(username).await? {
            None => errors.push(format!("participants[{index}]: no user {username:?}")),
            Some(user) if people.iter().any(|p| p.user_id == user.id) => {
                errors.push(format!("participants[{index}]: {username:?} is named twice"))
            }
            Some(user) if facilitator_ids.iter().any(|(id, _)| *id == user.id) => {
                errors.push(format!("participants[{index}]: {username:?} facilitates the exercise"))
            }
            Some(user) => people.push(Participant { user_id: user.id, role: role.to_owned() }),
        }
    }
    if people.len() > run::MAX_PEOPLE || facilitator_ids.len() > run::MAX_PEOPLE {
        errors.push(format!("at most {} participants and {} facilitators", run::MAX_PEOPLE, run::MAX_PEOPLE));
    }
    let (Ok(scenario), Some((creator, org_id)), true) =
        (scenario, facilitator_ids.first().copied(), errors.is_empty())
    else {
        bail!("{}", errors.join("\n"));
    };
    let fallback = scenario.scenario.default_language();
    let name = name.unwrap_or_else(|| text_in(&scenario.scenario.title, fallback, fallback).to_owned());
    neretva_model::check_text("name", name.trim(), 200).map_err(|error| anyhow::anyhow!("{error}"))?;
    let exercise = Exercise {
        id: Uuid::now_v7(),
        scenario_id: scenario.id,
        name: name.trim().to_owned(),
        org_id,
        created_by: creator,
        created_at: now,
        facilitators: facilitator_ids.iter().skip(1).map(|(id, _)| *id).collect(),
        participants: people,
        scheduled_start: start,
        state: State::Planned,
        started_at: None,
        paused_at: None,
        paused_millis: 0,
        ended_at: None,
        skipped: BTreeMap::new(),
        assessment: Default::default(),
    };
    let stored = store.create_exercise(&cli_actor(), &exercise).await?;
    print_summary(&stored, json);
    Ok(ExitCode::SUCCESS)
}

fn summary_json(stored: &StoredExercise) -> serde_json::Value {
    let run = &stored.exercise;
    serde_json::json!({
        "id": run.id, "name": run.name, "scenario_id": run.scenario_id, "state": run.state.as_str(),
        "scheduled_start": run.scheduled_start.map(rfc3339), "started_at": run.started_at.map(rfc3339),
        "ended_at": run.ended_at.map(rfc3339), "participants": run.participants.len(),
        "delivered": stored.deliveries.len(), "responses": stored.responses.len(), "version": stored.version,
    })
}

fn print_summary(stored: &StoredExercise, json: bool) {
    if json {
        output::json(&summary_json(stored));
    } else {
        let run = &stored.exercise;
        output::line(&format!("exercise {} ({}): {}", run.id, run.name, run.state.as_str()));
    }
}

pub(crate) async fn list(store: &dyn Store, json: bool) -> anyhow::Result<ExitCode> {
    let exercises = store.list_exercises().await?;
    if json {
        output::json(&exercises.iter().map(summary_json).collect::<Vec<_>>());
    } else {
        let rows: Vec<Vec<String>> = exercises
            .iter()
            .map(|stored| {
                let run = &stored.exercise;
                vec![
                    run.id.to_string(),
                    run.name.clone(),
                    run.state.as_str().to_owned(),
                    run.scheduled_start.or(run.started_at).map(rfc3339).unwrap_or_default(),
                    stored.deliveries.len().to_string(),
                    stored.responses.len().to_string(),
                ]
            })
            .collect();
        output::table(&["id", "name", "state", "start", "delivered", "responses"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

async fn change(
    store: &dyn Store,
    id: &str,
    action: &str,
    json: bool,
    apply: impl FnOnce(&Exercise) -> Result<Exercise, Refusal>,
) -> anyhow::Result<ExitCode> {
    let stored = find_exercise(store, id).await?;
    let next = apply(&stored.exercise).map_err(|refusal| anyhow::anyhow!("{refusal}"))?;
    let written = store.update_exercise(&cli_actor(), &next, stored.version, action).await?;
    print_summary(&written, json);
    Ok(ExitCode::SUCCESS)
}

fn language(lang: Option<&str>) -> anyhow::Result<Option<Language>> {
    lang.map(|text| text.parse::<Language>().map_err(|error| anyhow::anyhow!("--lang: {}", error.message)))
        .transpose()
}

async fn names(store: &dyn Store, run: &Exercise) -> anyhow::Result<BTreeMap<Uuid, String>> {
    let mut names = BTreeMap::new();
    let people = std::iter::once(run.created_by)
        .chain(run.facilitators.iter().copied())
        .chain(run.participants.iter().map(|p| p.user_id));
    for id in people {
        if let Some(user) = store.get_user(id).await? {
            names.insert(id, user.display_name.unwrap_or(user.username));
        }
    }
    Ok(names)
}

async fn timeline(
    store: &dyn Store,
    id: &str,
    lang: Option<&str>,
    json: bool,
    now: Timestamp,
) -> anyhow::Result<ExitCode> {
    let stored = find_exercise(store, id).await?;
    let scenario = store
        .get_scenario(stored.exercise.scenario_id)
        .await?
        .with_context(|| format!("no scenario {}", stored.exercise.scenario_id))?;
    let names = names(store, &stored.exercise).await?;
    let dto = neretva_server::api::exercises::timeline_dto(
        &stored,
        &scenario.scenario,
        &names,
        language(lang)?,
        now,
    );
    if json {
        output::json(&dto);
        return Ok(ExitCode::SUCCESS);
    }
    output::line(&format!(
        "{} ({}), exercise time {}",
        stored.exercise.name,
        stored.exercise.state.as_str(),
        report::format_span(stored.exercise.elapsed(now))
    ));
    if let Some(next) = &dto.next {
        output::line(&format!("next: {} in {} s", next.inject, next.seconds_remaining));
    }
    let rows: Vec<Vec<String>> = dto
        .injects
        .iter()
        .map(|inject| {
            let late = inject.responses.iter().filter(|r| r.late).count();
            vec![
                inject.offset.clone(),
                inject.id.clone(),
                inject.status.clone(),
                inject.delivered_at.clone().or(inject.due_at.clone()).unwrap_or_default(),
                format!("{} ({late} late)", inject.responses.len()),
                inject.awaiting.join(", "),
            ]
        })
        .collect();
    output::table(&["offset", "inject", "status", "at", "responses", "awaiting"], &rows);
    Ok(ExitCode::SUCCESS)
}

async fn report(store: &dyn Store, id: &str, lang: Option<&str>, format: &str) -> anyhow::Result<ExitCode> {
    let stored = find_exercise(store, id).await?;
    let scenario = store
        .get_scenario(stored.exercise.scenario_id)
        .await?
        .with_context(|| format!("no scenario {}", stored.exercise.scenario_id))?;
    let language = language(lang)?.unwrap_or(scenario.scenario.default_language());
    let names = names(store, &stored.exercise).await?;
    let built = report::build(
        &scenario.scenario,
        &stored.exercise,
        &stored.deliveries,
        &stored.responses,
        &names,
        language,
    );
    let body = match format {
        "md" | "markdown" => report::render_markdown(&built),
        "html" => report::render_html(&built),
        "json" => serde_json::to_string_pretty(&built)? + "\n",
        other => bail!("--format {other:?}: md, html or json"),
    };
    store
        .append_audit(&AuditEvent {
            actor: cli_actor().0,
            action: "learning.exercise.report".into(),
            object_type: "exercise".into(),
            object_id: stored.exercise.id.to_string(),
            digest: digest_hex(body.as_bytes()),
        })
        .await?;
    output::bytes(body.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// Runs the exercises' pass in `serve` every `tick`, the first at once: exercises start at
/// their scheduled time and injects are delivered when due (those missed while the server was
/// down first, in order); the notifier's own pass sends the messages.
pub(crate) fn spawn(
    store: Arc<dyn Store>,
    notifier: Option<Arc<neretva_notifier::Notifier>>,
    public_url: Option<String>,
    tick: std::time::Duration,
) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let summary = neretva_server::exercises::run_due(
                store.as_ref(),
                notifier.as_deref(),
                public_url.as_deref(),
                OffsetDateTime::now_utc(),
            )
            .await;
            if summary != neretva_server::exercises::PassSummary::default() {
                tracing::info!(
                    started = summary.started,
                    delivered = summary.delivered,
                    messages = summary.messages,
                    errors = summary.errors,
                    "Exercise injects delivered."
                );
            }
        }
    });
}
