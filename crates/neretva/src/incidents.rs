//! `neretva incident ...` and `neretva evidence verify`: incident handling from the command line,
//! on the store directly, with the operations the API uses (`neretva_server::incidents`).
//!
//! The command line is the operator's own tool: it sees every incident and records its changes
//! in the audit log as `cli:<user>`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use neretva_incident::classification::RsitClass;
use neretva_incident::incident::{Change, IncidentDraft, IncidentSource, Severity};
use neretva_incident::observable::{Observable, ObservableKind};
use neretva_incident::stats::{StatsRecord, statistics};
use neretva_incident::summary::{Quarter, SummaryRecord, summarise};
use neretva_incident::workflow::Status;
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::{Timestamp, Uuid};
use neretva_server::api::incidents::{IncidentDto, incident_dto};
use neretva_server::incidents::{NoteKind, Ops, sender_org};
use neretva_server::registry::RegistrySnapshot;
use neretva_store::Store;
use neretva_store::blobs::{BlobCheck, BlobStore};
use neretva_store::incidents::{IncidentOrder, IncidentQuery, StoredIncident};
use serde::Serialize;

use crate::cli::{DeadlineFormat, IncidentCommand, ObservableCommand, SummaryFormat};
use crate::commands::{cli_actor, ready_store};
use crate::config::Config;
use crate::output;

fn parse_time(field: &str, text: &str) -> anyhow::Result<Timestamp> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(neretva_store::encode::truncate)
        .with_context(|| format!("--{field}: {text:?} is not an RFC 3339 time such as 2026-11-01T08:00:00Z"))
}

fn field_error(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

fn parse_id(text: &str) -> anyhow::Result<Uuid> {
    Uuid::try_parse(text.trim()).with_context(|| format!("{text:?} is not an incident id"))
}

/// What every incident command works with.
struct Desk<'a> {
    store: &'a dyn Store,
    registry: RegistrySnapshot,
    config: &'a Config,
}

impl Desk<'_> {
    fn dto(&self, stored: &StoredIncident) -> IncidentDto {
        incident_dto(
            stored,
            &self.registry,
            None,
            &self.config.server.deadlines,
            neretva_store::encode::now(),
        )
    }

    async fn load(&self, id: &str) -> anyhow::Result<StoredIncident> {
        let id = parse_id(id)?;
        self.store.get_incident(id).await?.with_context(|| format!("no incident {id}"))
    }

    fn org(&self, key: &str) -> anyhow::Result<Uuid> {
        self.registry.resolve(key).map(|org| org.id).with_context(|| format!("no organisation {key:?}"))
    }

    fn print(&self, stored: &StoredIncident, json: bool) {
        let dto = self.dto(stored);
        if json {
            output::json(&dto);
        } else {
            output::line(&format!("{}  {}  [{}]  {}", dto.id, dto.status, dto.severity, dto.title));
        }
    }
}

fn row(dto: &IncidentDto) -> Vec<String> {
    vec![
        dto.id.to_string(),
        dto.status.clone(),
        dto.severity.clone(),
        dto.classification.clone(),
        dto.tlp.clone(),
        dto.urgency.clone(),
        dto.next_due.clone().unwrap_or_default(),
        dto.title.clone(),
    ]
}

const HEADER: [&str; 8] =
    ["id", "status", "severity", "classification", "tlp", "urgency", "next due", "title"];

pub(crate) async fn incident(config: &Config, command: IncidentCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let registry = RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?;
    let context = Desk { store: store.as_ref(), registry, config };
    let actor = cli_actor();
    let ops = Ops {
        store: store.as_ref(),
        actor: &actor,
        user: None,
        now: neretva_store::encode::now(),
        deadlines: config.server.deadlines,
        registry: &context.registry,
    };
    match command {
        IncidentCommand::List { query, status, limit, json } => {
            let mut search =
                IncidentQuery { text: query, limit: limit.clamp(1, 10_000), ..IncidentQuery::default() };
            for status in status.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
                search.statuses.push(status.parse::<Status>().map_err(field_error)?);
            }
            list(&context, &search, json).await
        }
        IncidentCommand::Queue { limit, json } => {
            let search = IncidentQuery {
                order: IncidentOrder::Queue,
                limit: limit.clamp(1, 10_000),
                ..IncidentQuery::default()
            };
            list(&context, &search, json).await
        }
        IncidentCommand::Show { id, json } => show(&context, &id, json).await,
        IncidentCommand::Create {
            title,
            description,
            classification,
            severity,
            tlp,
            pap,
            reporter,
            affected,
            aware_at,
            json,
        } => {
            let mut draft = IncidentDraft::titled(title);
            draft.description = description;
            if let Some(class) = classification {
                draft.classification = class.parse::<RsitClass>().map_err(field_error)?;
            }
            if let Some(severity) = severity {
                draft.severity = severity.parse::<Severity>().map_err(field_error)?;
            }
            if let Some(tlp) = tlp {
                draft.tlp = tlp.parse().map_err(field_error)?;
            }
            if let Some(pap) = pap {
                draft.pap = pap.parse().map_err(field_error)?;
            }
            draft.reporter_org = reporter.as_deref().map(|key| context.org(key)).transpose()?;
            for key in &affected {
                draft.affected_orgs.push(context.org(key)?);
            }
            draft.aware_at = aware_at.as_deref().map(|t| parse_time("aware-at", t)).transpose()?;
            let stored = ops.create(draft, IncidentSource::Analyst, None).await.map_err(field_error)?;
            context.print(&stored, json);
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Transition { id, to, json } => {
            let stored = context.load(&id).await?;
            let to: Status = to.parse().map_err(field_error)?;
            let stored = ops.transition(stored.incident.id, to, None).await.map_err(field_error)?;
            context.print(&stored, json);
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Assign { id, user, none, json } => {
            let stored = context.load(&id).await?;
            let assignee = match (user, none) {
                (Some(username), false) => {
                    let user = store
                        .find_user(&username.to_lowercase())
                        .await?
                        .with_context(|| format!("no user {username:?}"))?;
                    let staff = context.registry.operator_id == Some(user.org_id)
                        && matches!(
                            user.role,
                            neretva_model::user::Role::Admin | neretva_model::user::Role::Analyst
                        );
                    if !staff {
                        bail!("{username} is not an analyst or admin of the operating CERT");
                    }
                    Some(user.id)
                }
                (None, true) => None,
                _ => bail!("name a user, or --none to unassign"),
            };
            let stored = ops
                .change(stored.incident.id, vec![Change::Assign { assignee }], None, "incident.assign")
                .await
                .map_err(field_error)?;
            context.print(&stored, json);
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Comment { id, text, json } => {
            let stored = context.load(&id).await?;
            let stored = ops.note(stored.incident.id, NoteKind::Comment, &text).await.map_err(field_error)?;
            context.print(&stored, json);
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Observable(ObservableCommand::Add { id, value, kind, not_ioc, note, json }) => {
            let stored = context.load(&id).await?;
            let observable = match kind {
                Some(kind) => Observable::parse(kind.parse::<ObservableKind>().map_err(field_error)?, &value),
                None => Observable::guess(&value),
            }
            .map_err(field_error)?;
            let (entry, matches) = ops
                .add_observable(stored.incident.id, observable, !not_ioc, note)
                .await
                .map_err(field_error)?;
            let summary = matches.map(|m| m.summary);
            if json {
                output::json(&serde_json::json!({
                    "kind": entry.observable.kind().as_str(),
                    "value": entry.observable.value(),
                    "ioc": entry.ioc,
                    "matched_events": summary.map(|s| s.total),
                    "match_complete": summary.map(|s| s.complete),
                }));
            } else {
                let matched = match summary {
                    Some(s) if s.complete => format!("{} matching events", s.total),
                    Some(s) => format!("at least {} matching events", s.total),
                    None => "not matched against events".into(),
                };
                output::line(&format!("added {} ({matched})", entry.observable));
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Merge { target, source, json } => {
            let (target, source) = (context.load(&target).await?, context.load(&source).await?);
            let stored = ops.merge(target.incident.id, source.incident.id).await.map_err(field_error)?;
            context.print(&stored, json);
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Summary { quarter, format, output: path } => {
            let quarter: Quarter = quarter.parse().map_err(field_error)?;
            summary(&context, &actor, quarter, format, path.as_deref()).await
        }
        IncidentCommand::Stats { since, until, json } => {
            let query = IncidentQuery {
                created_since: since.as_deref().map(|t| parse_time("since", t)).transpose()?,
                created_until: until.as_deref().map(|t| parse_time("until", t)).transpose()?,
                exclude_merged: true,
                ..IncidentQuery::default()
            };
            let records: Vec<StatsRecord> = all(store.as_ref(), query)
                .await?
                .iter()
                .map(|stored| {
                    let org = stored
                        .incident
                        .reporter_org
                        .or_else(|| stored.incident.affected_orgs.first().copied());
                    StatsRecord::of(
                        &stored.incident,
                        org.and_then(|org| context.registry.sector_of(org)),
                        org.and_then(|org| context.registry.authority_level_of(org)),
                    )
                })
                .collect();
            let stats = statistics(&records, config.server.deadlines.zone);
            if json {
                output::json(&stats);
            } else {
                output::line(&format!("incidents: {}", stats.total));
                for (name, counts) in [
                    ("by RSIT type", &stats.by_rsit_type),
                    ("by sector", &stats.by_sector),
                    ("by level of authority", &stats.by_authority_level),
                    ("by month", &stats.by_month),
                ] {
                    output::line(&format!("{name}:"));
                    for count in counts {
                        output::line(&format!("  {:<40} {}", count.key, count.count));
                    }
                }
                for (name, durations) in
                    [("time to triage", stats.time_to_triage), ("time to resolve", stats.time_to_resolve)]
                {
                    if let Some(d) = durations {
                        output::line(&format!(
                            "{name}: median {} s, max {} s over {}",
                            d.median_seconds, d.max_seconds, d.count
                        ));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Request { id, due, note, json } => {
            let stored = context.load(&id).await?;
            let due_at = parse_time("due", &due)?;
            let (request, stored) = ops
                .request_intermediate(stored.incident.id, due_at, context.registry.operator_id, note)
                .await
                .map_err(field_error)?;
            if json {
                output::json(&context.dto(&stored));
            } else {
                output::line(&format!(
                    "asked for an intermediate report on {} by {}",
                    stored.incident.id,
                    neretva_server::api::incidents::IncidentDto::time(request.due_at)
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Significance { id, facts, json } => {
            let stored = context.load(&id).await?;
            let text = std::fs::read_to_string(&facts)
                .with_context(|| format!("cannot read {}", facts.display()))?;
            let facts: neretva_incident::significance::Facts = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid set of facts", facts.display()))?;
            let (stored, assessment) =
                ops.assess_significance(stored.incident.id, facts, None).await.map_err(field_error)?;
            if json {
                output::json(
                    &serde_json::json!({ "incident": context.dto(&stored), "assessment": assessment }),
                );
            } else {
                let verdict = if assessment.significant { "significant" } else { "not significant" };
                output::line(&format!("{}: {verdict}", stored.incident.id));
                for met in &assessment.met {
                    output::line(&format!("  {} ({}): {}", met.id, met.basis, met.text));
                }
                if assessment.excluded_as_planned {
                    output::line("  excluded: a planned interruption (Art. 3(2))");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Rematch { report, since, json } => {
            let scope = match (report, since) {
                (Some(report), None) => neretva_server::incidents::RematchScope::Report(
                    Uuid::try_parse(report.trim())
                        .with_context(|| format!("{report:?} is not a report id"))?,
                ),
                (None, Some(since)) => {
                    neretva_server::incidents::RematchScope::Since(parse_time("since", &since)?)
                }
                _ => bail!("name --report or --since"),
            };
            let bar = crate::commands::spinner("matching stored events against open incidents");
            let outcome = ops.rematch(scope).await.map_err(field_error)?;
            bar.finish_and_clear();
            if json {
                output::json(&outcome);
            } else {
                output::line(&format!(
                    "{} events examined{} against {} observables: {} new links to {} observables, in {} incidents",
                    outcome.events_examined,
                    if outcome.complete { "" } else { " (stopped at the limit)" },
                    outcome.observables,
                    outcome.linked,
                    outcome.matched_observables,
                    outcome.incidents
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Deadlines { within_hours, format } => {
            let now = neretva_store::encode::now();
            let deadlines = config.server.deadlines;
            let minutes =
                within_hours.map_or(i64::from(deadlines.due_soon_minutes), |h| i64::from(h.min(8760)) * 60);
            let horizon = now + time::Duration::minutes(minutes);
            let query = IncidentQuery {
                order: IncidentOrder::Queue,
                due_before: Some(horizon),
                ..IncidentQuery::default()
            };
            let found = all(store.as_ref(), query).await?;
            let due = neretva_server::api::incidents::due_items(&found, &deadlines, now, horizon, None);
            match format {
                DeadlineFormat::Json => {
                    output::json(&due.iter().map(|due| &due.item).collect::<Vec<_>>());
                }
                DeadlineFormat::Ics => {
                    output::bytes(neretva_server::api::incidents::deadlines_ics(&due, now).as_bytes());
                }
                DeadlineFormat::Csv => {
                    output::bytes(neretva_server::api::incidents::deadlines_csv(&due).as_bytes());
                }
                DeadlineFormat::Text => {
                    for due in &due {
                        let item = &due.item;
                        output::line(&format!(
                            "{}  {:<9} {:<20} {:<7} {}  {}",
                            item.obligation.due_at,
                            item.obligation.state,
                            item.obligation.kind,
                            item.obligation.owed_by,
                            item.incident_id,
                            item.title
                        ));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Intake { paths, org, json } => {
            intake(&context, &ops, &paths, org.as_deref(), json).await
        }
    }
}

async fn all(store: &dyn Store, mut query: IncidentQuery) -> anyhow::Result<Vec<StoredIncident>> {
    let mut found = Vec::new();
    query.limit = 10_000;
    loop {
        let batch = store.list_incidents(&query).await?;
        let full = batch.len() == query.limit as usize;
        query.after = batch
            .last()
            .map(|s| neretva_store::incidents::IncidentCursor { id: s.incident.id, next_due: s.next_due });
        found.extend(batch);
        if !full {
            return Ok(found);
        }
    }
}

async fn list(context: &Desk<'_>, query: &IncidentQuery, json: bool) -> anyhow::Result<ExitCode> {
    let found = context.store.list_incidents(query).await?;
    let dtos: Vec<IncidentDto> = found.iter().map(|stored| context.dto(stored)).collect();
    if json {
        output::json(&dtos);
    } else {
        output::table(&HEADER, &dtos.iter().map(row).collect::<Vec<_>>());
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(context: &Desk<'_>, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let stored = context.load(id).await?;
    let id = stored.incident.id;
    let store = context.store;
    let tasks = store.incident_tasks(id).await?;
    let observables = store.incident_observables(id).await?;
    let timeline = store.incident_timeline(id).await?;
    let evidence = store.incident_evidence(id).await?;
    let dto = context.dto(&stored);
    if json {
        output::json(&serde_json::json!({
            "incident": dto,
            "tasks": tasks,
            "observables": observables.iter().map(|o| serde_json::json!({
                "kind": o.entry.observable.kind().as_str(), "value": o.entry.observable.value(), "ioc": o.entry.ioc,
                "note": o.entry.note, "matched_events": o.matches.map(|m| m.total),
            })).collect::<Vec<_>>(),
            "evidence": evidence,
            "timeline": timeline,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    output::line(&format!("{}  {}", dto.id, dto.title));
    output::line(&format!(
        "status {}, severity {}, {} ({}), {}, {}",
        dto.status, dto.severity, dto.classification, dto.taxonomy, dto.tlp, dto.pap
    ));
    if let Some(reporter) = &dto.reporter {
        output::line(&format!("reported by {}", reporter.short_name));
    }
    for obligation in &dto.deadlines {
        output::line(&format!("  {:<20} due {}  {}", obligation.kind, obligation.due_at, obligation.state));
    }
    for request in &dto.intermediate_requests {
        let by = request.requester.as_ref().map_or("", |org| org.short_name.as_str());
        output::line(&format!(
            "intermediate report asked {} by {by}, due {}: {}",
            request.requested_at, request.due_at, request.state
        ));
    }
    if let Some(record) = &stored.incident.significance {
        let verdict = if record.significant { "significant" } else { "not significant" };
        output::line(&format!("significance: {verdict} ({})", record.criteria.join(", ")));
    }
    output::line(&format!("tasks ({}):", tasks.len()));
    for task in &tasks {
        output::line(&format!(
            "  [{}] {}",
            serde_json::to_value(task.status)?.as_str().unwrap_or_default(),
            task.title
        ));
    }
    output::line(&format!("observables ({}):", observables.len()));
    for observable in &observables {
        let matched = observable.matches.map(|m| format!(", {} events", m.total)).unwrap_or_default();
        output::line(&format!("  {}{matched}", observable.entry.observable));
    }
    output::line(&format!("evidence ({}):", evidence.len()));
    for item in &evidence {
        output::line(&format!(
            "  {} {} bytes {}",
            item.sha256,
            item.size,
            item.filename.as_deref().unwrap_or("")
        ));
    }
    output::line(&format!("timeline ({} entries)", timeline.len()));
    Ok(ExitCode::SUCCESS)
}

async fn summary(
    context: &Desk<'_>,
    actor: &neretva_store::Actor,
    quarter: Quarter,
    format: SummaryFormat,
    path: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let zone = context.config.server.deadlines.zone;
    let (from, until) = quarter.bounds(zone);
    let query = IncidentQuery {
        created_since: Some(from),
        created_until: Some(until),
        exclude_merged: true,
        ..IncidentQuery::default()
    };
    let records: Vec<SummaryRecord> = all(context.store, query)
        .await?
        .iter()
        .map(|stored| {
            let org = stored.incident.reporter_org.or_else(|| stored.incident.affected_orgs.first().copied());
            SummaryRecord::of(&stored.incident, org.and_then(|org| context.registry.sector_of(org)))
        })
        .collect();
    let summary = summarise(quarter, zone, &records);
    let (text, name) = match format {
        SummaryFormat::Json => (summary.to_json(), "json"),
        SummaryFormat::Csv => (summary.to_csv(), "csv"),
        SummaryFormat::Html => (summary.to_html(), "html"),
    };
    context
        .store
        .append_audit(&AuditEvent {
            actor: actor.0.clone(),
            action: "incident.summary.export".into(),
            object_type: "summary".into(),
            object_id: format!("{quarter} as {name}"),
            digest: digest_hex(text.as_bytes()),
        })
        .await?;
    match path {
        Some(path) => std::fs::write(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => output::bytes(text.as_bytes()),
    }
    Ok(ExitCode::SUCCESS)
}

/// The `.eml` files of the paths: files as given, directories' `.eml` files in name order.
fn mail_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read directory {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| {
                    file.is_file() && file.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"))
                })
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{} is neither a file nor a directory", path.display());
        }
    }
    Ok(files)
}

#[derive(Debug, Default, Serialize)]
struct IntakeSummary {
    files: u64,
    accepted: u64,
    failed: u64,
    incidents: Vec<Uuid>,
    failures: Vec<IntakeFailure>,
}

#[derive(Debug, Serialize)]
struct IntakeFailure {
    file: String,
    reason: String,
    /// Whether it was kept as a failed intake (false: it was not stored at all).
    kept: bool,
}

async fn intake(
    context: &Desk<'_>,
    ops: &Ops<'_>,
    paths: &[PathBuf],
    org: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let server = &context.config.server;
    let evidence_dir = server.evidence_dir.clone().context("no evidence directory is configured")?;
    let blobs = BlobStore::new(evidence_dir);
    let named = org.map(|key| context.org(key)).transpose()?;
    let files = mail_files(paths)?;
    let bar = ProgressBar::new(files.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} messages {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    let mut summary = IntakeSummary::default();
    for file in &files {
        bar.set_message(file.display().to_string());
        summary.files += 1;
        let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
        let limit = server.mail_limits.max_message_bytes as u64;
        if size > limit {
            summary.failed += 1;
            summary.failures.push(IntakeFailure {
                file: file.display().to_string(),
                reason: format!("the message is {size} bytes, more than the limit of {limit}"),
                kept: false,
            });
            bar.inc(1);
            continue;
        }
        let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let reporter = named
            .or_else(|| sender_org(&context.registry, &raw))
            .filter(|org| Some(*org) != context.registry.operator_id);
        let origin = file
            .file_name()
            .map_or_else(|| file.display().to_string(), |name| name.to_string_lossy().into_owned());
        let stored = ops
            .intake_mail(&blobs, &raw, &origin, reporter, &server.mail_limits, &server.evidence_limits)
            .await
            .map_err(field_error)?;
        match (&stored.record.outcome, stored.incident_id) {
            (neretva_incident::intake::IntakeOutcome::Failed { reason, .. }, _) => {
                summary.failed += 1;
                summary.failures.push(IntakeFailure {
                    file: file.display().to_string(),
                    reason: reason.clone(),
                    kept: true,
                });
            }
            (_, incident) => {
                summary.accepted += 1;
                summary.incidents.extend(incident);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if json {
        output::json(&summary);
    } else {
        output::error(&format!(
            "{} messages: {} accepted (incidents opened), {} failed",
            summary.files, summary.accepted, summary.failed
        ));
        for failure in &summary.failures {
            let kept = if failure.kept { "kept as a failed intake" } else { "not stored" };
            output::error(&format!("  {}: {} ({kept})", failure.file, failure.reason));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Default, Serialize)]
struct Verification {
    checked: u64,
    ok: u64,
    missing: Vec<Problem>,
    mismatched: Vec<Problem>,
}

#[derive(Debug, Serialize)]
struct Problem {
    sha256: String,
    size: u64,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual_size: Option<u64>,
}

/// `neretva evidence verify`: re-hashes every blob the database refers to.
pub(crate) async fn evidence_verify(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let evidence_dir = config.server.evidence_dir.clone().context("no evidence directory is configured")?;
    let blobs = BlobStore::new(evidence_dir);
    let references = store.blobs().await?;
    let bar = ProgressBar::new(references.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} files [{elapsed}]") {
        bar.set_style(style);
    }
    let mut result = Verification::default();
    for reference in references {
        let checker = blobs.clone();
        let checked_reference = reference.clone();
        let outcome = tokio::task::spawn_blocking(move || checker.check(&checked_reference)).await??;
        result.checked += 1;
        let problem = |actual: Option<(String, u64)>| Problem {
            sha256: reference.sha256.to_string(),
            size: reference.size,
            path: blobs.path(&reference.sha256).display().to_string(),
            actual_sha256: actual.as_ref().map(|(sha, _)| sha.clone()),
            actual_size: actual.map(|(_, size)| size),
        };
        match outcome {
            BlobCheck::Ok => result.ok += 1,
            BlobCheck::Missing => result.missing.push(problem(None)),
            BlobCheck::Mismatch { sha256, size } => {
                result.mismatched.push(problem(Some((sha256.to_string(), size))))
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let broken = !result.missing.is_empty() || !result.mismatched.is_empty();
    if json {
        output::json(&result);
    } else {
        for problem in &result.missing {
            output::line(&format!(
                "missing   {} ({} bytes) at {}",
                problem.sha256, problem.size, problem.path
            ));
        }
        for problem in &result.mismatched {
            output::line(&format!(
                "mismatch  {} at {}: the file now hashes to {} ({} bytes)",
                problem.sha256,
                problem.path,
                problem.actual_sha256.as_deref().unwrap_or(""),
                problem.actual_size.unwrap_or(0)
            ));
        }
        output::line(&format!(
            "{} files checked: {} intact, {} missing, {} altered",
            result.checked,
            result.ok,
            result.missing.len(),
            result.mismatched.len()
        ));
    }
    Ok(if broken { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
