//! `neretva learning programmes|programme|sessions|session|attendance|trainers|grant-trainer|
//! stats`: train-the-trainer programmes on the store directly, as the operating CERT.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use neretva_learning::course::text_in;
use neretva_learning::training::{
    self, GroupBy, Interval, Mode, Participant, Presence, Programme, Session, SessionStatus, TrainerGrant,
    check_grant, check_programme, check_registration, check_session, parse_programme, people_trained,
    record_attendance, stats_csv,
};
use neretva_model::contact::Language;
use neretva_model::{Timestamp, Uuid};
use neretva_server::training::{qualification_status, trained_rows};
use neretva_store::Store;
use neretva_store::training::{ParticipantQuery, SessionQuery, StoredProgramme};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::commands::cli_actor;
use crate::output;
use crate::output::rfc3339;

#[derive(Debug, Subcommand)]
pub(crate) enum TrainingCommand {
    /// List the train-the-trainer programmes with their owner, curriculum hours and sessions.
    Programmes {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Create or inspect a programme.
    #[command(subcommand)]
    Programme(ProgrammeCommand),
    /// List training sessions by start, with how many registered and attended.
    Sessions {
        /// Only this programme (id or code).
        #[arg(long)]
        programme: Option<String>,
        /// Starting at or after (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Starting before (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        to: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Plan a session or register participants.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Record a session's attendance (registered participants only, once it started); the
    /// session is held from then on.
    Attendance {
        /// The session's id.
        session: String,
        /// Usernames present, comma-separated.
        #[arg(long, value_delimiter = ',')]
        present: Vec<String>,
        /// Usernames absent, comma-separated.
        #[arg(long, value_delimiter = ',')]
        absent: Vec<String>,
        /// A username present for part of the session, with minutes: `amra:90`.
        #[arg(long, value_delimiter = ',')]
        partial: Vec<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Trainer qualification with reasons: a completed trainer course plus sessions co-delivered
    /// under a qualified lead trainer, or a grant.
    Trainers {
        /// Only this programme (id or code); every programme when left out.
        #[arg(long)]
        programme: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Grant a trainer qualification directly (the first trainers of a programme).
    GrantTrainer {
        /// The programme (id or code).
        #[arg(long)]
        programme: String,
        /// The trainer's username.
        #[arg(long)]
        user: String,
        /// Why; recorded with the grant.
        #[arg(long)]
        reason: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// People trained (present at a held session or completing a course), by group and period.
    Stats {
        /// organisation, sector, level or profession.
        #[arg(long)]
        by: String,
        /// month, quarter or year.
        #[arg(long, default_value = "quarter")]
        interval: String,
        /// From (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Before (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        to: Option<String>,
        /// Only this programme (id or code).
        #[arg(long)]
        programme: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print the statistics as CSV.
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProgrammeCommand {
    /// Create a programme from a YAML file (code, title, description, curriculum, professions,
    /// levels, trainer_course, co_deliveries_required); every problem is reported with its line.
    Create {
        /// The programme's YAML file.
        #[arg(long)]
        file: PathBuf,
        /// The owning national institution's short name; the operator organisation when left out.
        #[arg(long)]
        owner: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SessionCommand {
    /// Plan a session delivering one curriculum item.
    Create {
        /// The programme (id or code).
        #[arg(long)]
        programme: String,
        /// The curriculum item (0-based).
        #[arg(long, default_value_t = 0)]
        item: u32,
        /// The session's title.
        #[arg(long)]
        title: String,
        /// Start (RFC 3339).
        #[arg(long)]
        starts: String,
        /// End (RFC 3339).
        #[arg(long)]
        ends: String,
        /// Where, for a session in person.
        #[arg(long, conflicts_with = "url")]
        location: Option<String>,
        /// The meeting link, for an online session.
        #[arg(long)]
        url: Option<String>,
        /// en, bs, hr, sr-Latn or sr-Cyrl.
        #[arg(long, default_value = "bs")]
        language: String,
        /// The lead trainer's username.
        #[arg(long)]
        lead: String,
        /// Co-trainers' usernames, comma-separated.
        #[arg(long, value_delimiter = ',')]
        co_trainers: Vec<String>,
        /// The most participants that can register.
        #[arg(long, default_value_t = 25)]
        capacity: u32,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Register participants (usernames) to a session.
    Register {
        /// The session's id.
        session: String,
        /// Usernames to register, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        users: Vec<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Cancel a planned session.
    Cancel {
        /// The session's id.
        session: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn command(
    store: &dyn Store,
    operator_org: &str,
    command: TrainingCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        TrainingCommand::Programmes { json } => programmes(store, json).await,
        TrainingCommand::Programme(ProgrammeCommand::Create { file, owner, json }) => {
            create_programme(store, &file, owner.as_deref().unwrap_or(operator_org), json).await
        }
        TrainingCommand::Sessions { programme, from, to, json } => {
            sessions(store, programme.as_deref(), from.as_deref(), to.as_deref(), json).await
        }
        TrainingCommand::Session(SessionCommand::Create {
            programme,
            item,
            title,
            starts,
            ends,
            location,
            url,
            language,
            lead,
            co_trainers,
            capacity,
            json,
        }) => {
            let mode = match (location, url) {
                (Some(location), None) => Mode::InPerson { location },
                (None, Some(url)) => Mode::Online { url },
                _ => bail!("give --location (in person) or --url (online)"),
            };
            let plan =
                Plan { programme, item, title, starts, ends, mode, language, lead, co_trainers, capacity };
            create_session(store, plan, json).await
        }
        TrainingCommand::Session(SessionCommand::Register { session, users, json }) => {
            register(store, &session, &users, json).await
        }
        TrainingCommand::Session(SessionCommand::Cancel { session, json }) => {
            cancel(store, &session, json).await
        }
        TrainingCommand::Attendance { session, present, absent, partial, json } => {
            attendance(store, &session, &present, &absent, &partial, json).await
        }
        TrainingCommand::Trainers { programme, json } => trainers(store, programme.as_deref(), json).await,
        TrainingCommand::GrantTrainer { programme, user, reason, json } => {
            grant(store, &programme, &user, &reason, json).await
        }
        TrainingCommand::Stats { by, interval, from, to, programme, json, csv } => {
            stats(store, &by, &interval, from.as_deref(), to.as_deref(), programme.as_deref(), json, csv)
                .await
        }
    }
}

fn parse_time(field: &str, text: &str) -> anyhow::Result<Timestamp> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .map(|date| date.midnight().assume_utc())
        .with_context(|| format!("--{field}: {text:?} is not a date (YYYY-MM-DD) or RFC 3339 time"))
}

async fn find_programme(store: &dyn Store, key: &str) -> anyhow::Result<StoredProgramme> {
    if let Ok(id) = Uuid::try_parse(key)
        && let Some(stored) = store.get_programme(id).await?
    {
        return Ok(stored);
    }
    store
        .list_programmes()
        .await?
        .into_iter()
        .find(|stored| stored.programme.spec.code == key)
        .with_context(|| format!("no programme {key:?}"))
}

async fn find_user(store: &dyn Store, username: &str) -> anyhow::Result<neretva_model::user::User> {
    store.find_user(username).await?.with_context(|| format!("no user {username:?}"))
}

async fn username(store: &dyn Store, id: Uuid) -> anyhow::Result<String> {
    Ok(store.get_user(id).await?.map_or_else(|| id.to_string(), |user| user.username))
}

fn title(programme: &Programme) -> String {
    text_in(&programme.spec.title, Language::En, Language::Bs).to_owned()
}

async fn programmes(store: &dyn Store, json: bool) -> anyhow::Result<ExitCode> {
    let mut items = Vec::new();
    let mut rows = Vec::new();
    for stored in store.list_programmes().await? {
        let programme = &stored.programme;
        let owner =
            store.get_org(programme.owner_org_id).await?.map(|org| org.fields.short_name).unwrap_or_default();
        let query = SessionQuery { programme_id: Some(programme.id), ..SessionQuery::default() };
        let sessions = store.list_training_sessions(&query).await?;
        let held = sessions.iter().filter(|stored| stored.session.status == SessionStatus::Held).count();
        let hours: f64 = programme.spec.curriculum.iter().map(|item| item.hours).sum();
        items.push(serde_json::json!({
            "id": programme.id, "code": programme.spec.code, "title": programme.spec.title, "owner": owner,
            "items": programme.spec.curriculum.len(), "hours": hours, "trainer_course": programme.spec.trainer_course,
            "co_deliveries_required": programme.spec.co_deliveries_required, "sessions": sessions.len(), "held": held,
        }));
        rows.push(vec![
            programme.spec.code.clone(),
            owner,
            programme.spec.curriculum.len().to_string(),
            hours.to_string(),
            programme.spec.trainer_course.clone(),
            format!("{held}/{}", sessions.len()),
            title(programme),
        ]);
    }
    if json {
        output::json(&items);
    } else {
        output::table(&["CODE", "OWNER", "ITEMS", "HOURS", "TRAINER COURSE", "HELD", "TITLE"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

async fn create_programme(
    store: &dyn Store,
    file: &Path,
    owner: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
    if size > training::MAX_PROGRAMME_FILE as u64 {
        bail!(
            "{}: {size} bytes, more than the {} a programme file may have",
            file.display(),
            training::MAX_PROGRAMME_FILE
        );
    }
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {} as UTF-8", file.display()))?;
    let spec = match parse_programme(&text) {
        Ok(spec) => spec,
        Err(errors) => {
            if json {
                let problems: Vec<_> = errors
                    .iter()
                    .map(|error| serde_json::json!({ "line": error.line, "message": error.message }))
                    .collect();
                output::json(&serde_json::json!({ "created": false, "problems": problems }));
            } else {
                for error in &errors {
                    output::line(&format!("{}:{}: {}", file.display(), error.line, error.message));
                }
                output::error(&format!(
                    "error: the programme has {} problems; nothing was created",
                    errors.len()
                ));
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let owner = store.find_org(owner).await?.with_context(|| format!("no organisation {owner:?}"))?;
    if let Some(error) = check_programme(&spec).into_iter().next() {
        bail!("{}: {}", error.field, error.message);
    }
    let programme =
        Programme { id: Uuid::now_v7(), owner_org_id: owner.id, spec, created_at: OffsetDateTime::now_utc() };
    let stored = store.create_programme(&cli_actor(), &programme).await?;
    if json {
        output::json(&serde_json::json!({
            "created": true, "id": stored.programme.id, "code": stored.programme.spec.code,
            "owner": owner.fields.short_name,
        }));
    } else {
        output::line(&format!(
            "created programme {} owned by {} ({})",
            stored.programme.spec.code, owner.fields.short_name, stored.programme.id
        ));
    }
    Ok(ExitCode::SUCCESS)
}

struct Plan {
    programme: String,
    item: u32,
    title: String,
    starts: String,
    ends: String,
    mode: Mode,
    language: String,
    lead: String,
    co_trainers: Vec<String>,
    capacity: u32,
}

async fn create_session(store: &dyn Store, plan: Plan, json: bool) -> anyhow::Result<ExitCode> {
    let programme = find_programme(store, &plan.programme).await?;
    let mut co_trainers = Vec::new();
    for name in plan.co_trainers.iter().filter(|name| !name.is_empty()) {
        co_trainers.push(find_user(store, name).await?.id);
    }
    let session = Session {
        id: Uuid::now_v7(),
        programme_id: programme.programme.id,
        item: plan.item,
        title: plan.title,
        mode: plan.mode,
        starts_at: parse_time("starts", &plan.starts)?,
        ends_at: parse_time("ends", &plan.ends)?,
        language: plan
            .language
            .parse()
            .map_err(|error: neretva_model::FieldError| anyhow::anyhow!("--language: {}", error.message))?,
        lead_trainer: find_user(store, &plan.lead).await?.id,
        co_trainers,
        capacity: plan.capacity,
        audience: Vec::new(),
        status: SessionStatus::Planned,
    };
    let errors = check_session(&session, &programme.programme);
    if !errors.is_empty() {
        for error in &errors {
            output::error(&format!("{}: {}", error.field, error.message));
        }
        bail!("the session has {} problems; nothing was created", errors.len());
    }
    let stored = store.create_training_session(&cli_actor(), &session).await?;
    if json {
        output::json(
            &serde_json::json!({ "id": stored.session.id, "programme": programme.programme.spec.code }),
        );
    } else {
        output::line(&format!("planned session {} of {}", stored.session.id, programme.programme.spec.code));
    }
    Ok(ExitCode::SUCCESS)
}

async fn session_by_id(
    store: &dyn Store,
    key: &str,
) -> anyhow::Result<neretva_store::training::StoredSession> {
    let id = Uuid::try_parse(key).with_context(|| format!("{key:?} is not a session id"))?;
    store.get_training_session(id).await?.with_context(|| format!("no session {key}"))
}

async fn participants(store: &dyn Store, session: Uuid) -> anyhow::Result<Vec<Participant>> {
    let query = ParticipantQuery { session_id: Some(session), ..ParticipantQuery::default() };
    Ok(store.list_participants(&query).await?)
}

async fn sessions(
    store: &dyn Store,
    programme: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let programme_id = match programme {
        Some(key) => Some(find_programme(store, key).await?.programme.id),
        None => None,
    };
    let query = SessionQuery {
        programme_id,
        from: from.map(|text| parse_time("from", text)).transpose()?,
        to: to.map(|text| parse_time("to", text)).transpose()?,
    };
    let mut codes: BTreeMap<Uuid, String> = BTreeMap::new();
    let mut items = Vec::new();
    let mut rows = Vec::new();
    for stored in store.list_training_sessions(&query).await? {
        let session = &stored.session;
        if let Entry::Vacant(slot) = codes.entry(session.programme_id) {
            let code = store
                .get_programme(session.programme_id)
                .await?
                .map(|p| p.programme.spec.code)
                .unwrap_or_default();
            slot.insert(code);
        }
        let code = codes.get(&session.programme_id).cloned().unwrap_or_default();
        let participants = participants(store, session.id).await?;
        let attended = participants
            .iter()
            .filter(|participant| participant.attendance.is_some_and(Presence::attended))
            .count();
        let lead = username(store, session.lead_trainer).await?;
        let mode = match &session.mode {
            Mode::InPerson { location } => location.clone(),
            Mode::Online { url } => url.clone(),
        };
        items.push(serde_json::json!({
            "id": session.id, "programme": code, "item": session.item, "title": session.title,
            "starts_at": rfc3339(session.starts_at), "ends_at": rfc3339(session.ends_at), "mode": session.mode,
            "language": session.language, "lead_trainer": lead, "status": session.status.as_str(),
            "capacity": session.capacity, "registered": participants.len(), "attended": attended,
        }));
        rows.push(vec![
            rfc3339(session.starts_at),
            code,
            session.status.as_str().to_owned(),
            format!("{}/{}", participants.len(), session.capacity),
            attended.to_string(),
            lead,
            session.title.clone(),
            mode,
            session.id.to_string(),
        ]);
    }
    if json {
        output::json(&items);
    } else {
        output::table(
            &["STARTS", "PROGRAMME", "STATUS", "REGISTERED", "ATTENDED", "LEAD", "TITLE", "WHERE", "ID"],
            &rows,
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn register(
    store: &dyn Store,
    session: &str,
    users: &[String],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let stored = session_by_id(store, session).await?;
    let now = OffsetDateTime::now_utc();
    check_registration(&stored.session, now, true).map_err(|refusal| anyhow::anyhow!("{refusal}"))?;
    let mut registered = Vec::new();
    for name in users {
        let user = find_user(store, name).await?;
        let participant = Participant {
            session_id: stored.session.id,
            user_id: user.id,
            org_id: user.org_id,
            registered_by: user.id,
            registered_at: now,
            attendance: None,
            recorded_at: None,
            recorded_by: None,
        };
        store
            .register_participant(&cli_actor(), &participant)
            .await
            .with_context(|| format!("registering {name}"))?;
        registered.push(name.clone());
    }
    if json {
        output::json(&serde_json::json!({ "session": stored.session.id, "registered": registered }));
    } else {
        output::line(&format!("registered {} to session {}", registered.join(", "), stored.session.id));
    }
    Ok(ExitCode::SUCCESS)
}

async fn cancel(store: &dyn Store, session: &str, json: bool) -> anyhow::Result<ExitCode> {
    let stored = session_by_id(store, session).await?;
    if stored.session.status != SessionStatus::Planned {
        bail!("the session is {}; only a planned session is cancelled", stored.session.status.as_str());
    }
    let mut cancelled = stored.session.clone();
    cancelled.status = SessionStatus::Cancelled;
    store.update_training_session(&cli_actor(), &cancelled, stored.version).await?;
    if json {
        output::json(&serde_json::json!({ "session": cancelled.id, "status": "cancelled" }));
    } else {
        output::line(&format!("cancelled session {}", cancelled.id));
    }
    Ok(ExitCode::SUCCESS)
}

async fn attendance(
    store: &dyn Store,
    session: &str,
    present: &[String],
    absent: &[String],
    partial: &[String],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let stored = session_by_id(store, session).await?;
    let mut marks = BTreeMap::new();
    let mut names = BTreeMap::new();
    let mut add = |user: Uuid, name: &str, presence: Presence| -> anyhow::Result<()> {
        if marks.insert(user, presence).is_some() {
            bail!("{name} is marked twice");
        }
        names.insert(user, name.to_owned());
        Ok(())
    };
    for name in present.iter().filter(|name| !name.is_empty()) {
        add(find_user(store, name).await?.id, name, Presence::Present)?;
    }
    for name in absent.iter().filter(|name| !name.is_empty()) {
        add(find_user(store, name).await?.id, name, Presence::Absent)?;
    }
    for entry in partial.iter().filter(|entry| !entry.is_empty()) {
        let (name, minutes) =
            entry.split_once(':').with_context(|| format!("--partial {entry:?}: write user:minutes"))?;
        let minutes: u32 =
            minutes.parse().with_context(|| format!("--partial {entry:?}: minutes are a whole number"))?;
        add(find_user(store, name).await?.id, name, Presence::Partial { minutes })?;
    }
    if marks.is_empty() {
        bail!("give --present, --absent or --partial");
    }
    let registered = participants(store, stored.session.id).await?;
    let mut session = stored.session.clone();
    let changed =
        record_attendance(&mut session, &registered, &marks, Uuid::nil(), OffsetDateTime::now_utc())
            .map_err(|refusal| match refusal {
                training::Refusal::NotRegistered => {
                    let missing: Vec<&str> = marks
                        .keys()
                        .filter(|user| !registered.iter().any(|participant| participant.user_id == **user))
                        .filter_map(|user| names.get(user).map(String::as_str))
                        .collect();
                    anyhow::anyhow!("not registered to the session: {}", missing.join(", "))
                }
                other => anyhow::anyhow!("{other}"),
            })?;
    let written = store.record_attendance(&cli_actor(), &session, stored.version, &changed).await?;
    let attended =
        changed.iter().filter(|participant| participant.attendance.is_some_and(Presence::attended)).count();
    if json {
        let marked: Vec<_> = changed
            .iter()
            .map(|participant| {
                serde_json::json!({
                    "user": names.get(&participant.user_id), "attendance": participant.attendance,
                })
            })
            .collect();
        output::json(&serde_json::json!({
            "session": written.session.id, "status": written.session.status.as_str(), "marked": marked,
            "attended": attended,
        }));
    } else {
        output::line(&format!(
            "recorded attendance of {} participants ({attended} attended); session {} is held",
            changed.len(),
            written.session.id
        ));
    }
    Ok(ExitCode::SUCCESS)
}

async fn trainers(store: &dyn Store, programme: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let programmes = match programme {
        Some(key) => vec![find_programme(store, key).await?],
        None => store.list_programmes().await?,
    };
    let mut items = Vec::new();
    let mut rows = Vec::new();
    for stored in &programmes {
        let programme = &stored.programme;
        for qualification in qualification_status(store, programme).await?.into_values() {
            let name = username(store, qualification.user_id).await?;
            rows.push(vec![
                programme.spec.code.clone(),
                name.clone(),
                if qualification.qualified { "yes".into() } else { "no".into() },
                qualification.since.map(|at| at.date().to_string()).unwrap_or_else(|| "-".into()),
                format!("{}/{}", qualification.co_deliveries, qualification.co_deliveries_required),
                qualification.sessions_led.to_string(),
                qualification.reasons.join("; "),
            ]);
            items.push(serde_json::json!({
                "programme": programme.spec.code, "user": name, "user_id": qualification.user_id,
                "qualified": qualification.qualified, "since": qualification.since.map(rfc3339),
                "granted": qualification.granted, "trainer_course_completed": qualification.trainer_course_completed,
                "co_deliveries": qualification.co_deliveries,
                "co_deliveries_required": qualification.co_deliveries_required,
                "sessions_led": qualification.sessions_led, "reasons": qualification.reasons,
            }));
        }
    }
    if json {
        output::json(&items);
    } else {
        output::table(&["PROGRAMME", "USER", "QUALIFIED", "SINCE", "CO-DELIVERED", "LED", "REASONS"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

async fn grant(
    store: &dyn Store,
    programme: &str,
    user: &str,
    reason: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let programme = find_programme(store, programme).await?;
    let trainer = find_user(store, user).await?;
    let grant = TrainerGrant {
        id: Uuid::now_v7(),
        programme_id: programme.programme.id,
        user_id: trainer.id,
        granted_by: Uuid::nil(),
        reason: reason.to_owned(),
        granted_at: OffsetDateTime::now_utc(),
    };
    if let Some(error) = check_grant(&grant).into_iter().next() {
        bail!("--{}: {}", error.field, error.message);
    }
    store.grant_trainer(&cli_actor(), &grant).await?;
    if json {
        output::json(
            &serde_json::json!({ "granted": true, "programme": programme.programme.spec.code, "user": user }),
        );
    } else {
        output::line(&format!("{user} is a qualified trainer of {}", programme.programme.spec.code));
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
async fn stats(
    store: &dyn Store,
    by: &str,
    interval: &str,
    from: Option<&str>,
    to: Option<&str>,
    programme: Option<&str>,
    json: bool,
    csv: bool,
) -> anyhow::Result<ExitCode> {
    let by: GroupBy =
        by.parse().map_err(|error: neretva_model::FieldError| anyhow::anyhow!("--by: {}", error.message))?;
    let interval: Interval = interval
        .parse()
        .map_err(|error: neretva_model::FieldError| anyhow::anyhow!("--interval: {}", error.message))?;
    let from = from.map(|text| parse_time("from", text)).transpose()?;
    let to = to.map(|text| parse_time("to", text)).transpose()?;
    let programme = match programme {
        Some(key) => Some(find_programme(store, key).await?),
        None => None,
    };
    let rows = trained_rows(store, programme.as_ref().map(|stored| &stored.programme)).await?;
    let stats = people_trained(&rows, by, interval, from, to);
    if csv {
        output::bytes(stats_csv(&stats).as_bytes());
    } else if json {
        output::json(&stats);
    } else {
        let table: Vec<Vec<String>> = stats
            .iter()
            .map(|row| {
                vec![
                    row.period.clone(),
                    row.group.clone(),
                    row.people.to_string(),
                    row.session_participants.to_string(),
                    row.course_completions.to_string(),
                ]
            })
            .collect();
        output::table(&["PERIOD", by.as_str(), "PEOPLE", "AT SESSIONS", "COURSES COMPLETED"], &table);
    }
    Ok(ExitCode::SUCCESS)
}
