//! `neretva preservation` and `neretva assessment`: preservation requests (Budapest Convention
//! Art. 29) and maturity self-assessments (SIM3, NIS2 Art. 21) from the command line.
//!
//! The command line works on the store as the instance's operator (audited as `cli:<user>`);
//! every change is validated whole and written under the version read, with its audit entry.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use neretva_governance::maturity::{self, Assessment, Framework, enisa_tier};
use neretva_governance::preservation::{self, NewRequest, PreservationRequest};
use neretva_governance::svg;
use neretva_model::contact::Language;
use neretva_model::{FieldError, Uuid};
use neretva_store::Store;
use neretva_store::records::{StoredAssessment, StoredPreservation};
use serde::Deserialize;
use time::Date;

use crate::cli::{AssessmentCommand, FrameworkArg, PreservationCommand};
use crate::commands::{cli_actor, ready_store};
use crate::config::Config;
use crate::output;
use crate::strategy::{day, parse_date};

/// The largest JSON file read.
const MAX_FILE: u64 = 1024 * 1024;

fn read_json<T: serde::de::DeserializeOwned>(file: &Path) -> anyhow::Result<T> {
    let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
    if size > MAX_FILE {
        bail!("{}: {size} bytes, more than the {MAX_FILE} read", file.display());
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not valid here", file.display()))
}

/// Prints every problem and fails, or goes on.
fn report(problems: &[FieldError], json: bool) -> Option<ExitCode> {
    if problems.is_empty() {
        return None;
    }
    if json {
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        output::json(&serde_json::json!({ "stored": false, "problems": problems }));
    } else {
        for problem in problems {
            output::error(&problem.to_string());
        }
    }
    Some(ExitCode::FAILURE)
}

// Preservation requests.

pub(crate) async fn preservation(config: &Config, command: PreservationCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let store = store.as_ref();
    match command {
        PreservationCommand::Add { file, json } => {
            let new: NewRequest = read_json(&file)?;
            let request = PreservationRequest::new(Uuid::new_v4(), new);
            let mut problems = preservation::validate(&request);
            if let Some(org) = request.custodian_org
                && store.get_org(org).await?.is_none()
            {
                problems.push(FieldError::new("custodian_org", format!("no organisation {org}")));
            }
            if let Some(code) = report(&problems, json) {
                return Ok(code);
            }
            let stored = store.create_preservation(&cli_actor(), &request).await?;
            print_request(&stored, day(None)?, json);
            Ok(ExitCode::SUCCESS)
        }
        PreservationCommand::List { on, json } => {
            let today = day(on.as_deref())?;
            let all = store.list_preservations().await?;
            if json {
                let items: Vec<serde_json::Value> =
                    all.iter().map(|stored| request_json(stored, today)).collect();
                output::json(&items);
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|stored| {
                        let request = &stored.record;
                        vec![
                            request.reference.clone(),
                            request.requesting_party.clone(),
                            request.status_on(today).as_str().to_owned(),
                            request.expires_on.map(|day| day.to_string()).unwrap_or_else(|| "-".into()),
                            request
                                .days_left(today)
                                .map(|days| days.to_string())
                                .unwrap_or_else(|| "-".into()),
                        ]
                    })
                    .collect();
                output::table(&["REFERENCE", "PARTY", "STATUS", "EXPIRES", "DAYS LEFT"], &rows);
            }
            Ok(ExitCode::SUCCESS)
        }
        PreservationCommand::Show { request, json } => {
            print_request(&find_request(store, &request).await?, day(None)?, json);
            Ok(ExitCode::SUCCESS)
        }
        PreservationCommand::Preserve { request, on, until, json } => {
            let on = parse_date(&on)?;
            let until = until.as_deref().map(parse_date).transpose()?;
            step(store, &request, "preservation.preserve", json, |r| preservation::preserve(r, on, until))
                .await
        }
        PreservationCommand::Extend { request, requested_on, until, note, json } => {
            let (requested_on, until) = (parse_date(&requested_on)?, parse_date(&until)?);
            step(store, &request, "preservation.extend", json, |r| {
                preservation::extend(r, requested_on, until, note)
            })
            .await
        }
        PreservationCommand::FollowUp { request, mla, received_on, json } => {
            let on = parse_date(&received_on)?;
            step(store, &request, "preservation.follow_up", json, |r| preservation::follow_up(r, mla, on))
                .await
        }
        PreservationCommand::Release { request, on, json } => {
            let on = parse_date(&on)?;
            step(store, &request, "preservation.release", json, |r| preservation::release(r, on)).await
        }
        PreservationCommand::Reminders { on, json } => {
            let today = day(on.as_deref())?;
            let requests: Vec<PreservationRequest> =
                store.list_preservations().await?.into_iter().map(|stored| stored.record).collect();
            let due =
                preservation::due_reminders(&requests, today, &config.server.preservation.reminder_days);
            if json {
                output::json(&due);
            } else {
                let rows: Vec<Vec<String>> = due
                    .iter()
                    .map(|r| {
                        vec![
                            r.reference.clone(),
                            r.expires_on.to_string(),
                            r.days_left.to_string(),
                            r.lead.to_string(),
                        ]
                    })
                    .collect();
                output::table(&["REFERENCE", "EXPIRES", "DAYS LEFT", "LEAD"], &rows);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A request by reference or id.
async fn find_request(store: &dyn Store, key: &str) -> anyhow::Result<StoredPreservation> {
    let found = match Uuid::try_parse(key) {
        Ok(id) => store.get_preservation(id).await?,
        Err(_) => store.find_preservation(key).await?,
    };
    found.with_context(|| format!("no preservation request {key:?}; `neretva preservation list` shows them"))
}

/// Applies one step to a request and writes it under the version read.
async fn step(
    store: &dyn Store,
    key: &str,
    action: &str,
    json: bool,
    apply: impl FnOnce(&mut PreservationRequest) -> Result<(), FieldError>,
) -> anyhow::Result<ExitCode> {
    let stored = find_request(store, key).await?;
    let mut request = stored.record.clone();
    if let Err(problem) = apply(&mut request) {
        return Ok(report(&[problem], json).unwrap_or(ExitCode::FAILURE));
    }
    if let Some(code) = report(&preservation::validate(&request), json) {
        return Ok(code);
    }
    let written = store.update_preservation(&cli_actor(), &request, stored.version, action).await?;
    print_request(&written, day(None)?, json);
    Ok(ExitCode::SUCCESS)
}

fn request_json(stored: &StoredPreservation, today: Date) -> serde_json::Value {
    serde_json::json!({
        "version": stored.version,
        "status": stored.record.status_on(today).as_str(),
        "days_left": stored.record.days_left(today),
        "request": stored.record,
    })
}

fn print_request(stored: &StoredPreservation, today: Date, json: bool) {
    if json {
        output::json(&request_json(stored, today));
        return;
    }
    let r = &stored.record;
    let optional = |day: Option<Date>| day.map(|day| day.to_string()).unwrap_or_else(|| "-".into());
    for (label, value) in [
        ("id", r.id.to_string()),
        ("reference", r.reference.clone()),
        ("status", r.status_on(today).as_str().to_owned()),
        ("requesting authority", format!("{} ({})", r.requesting_authority, r.requesting_party)),
        ("offence", r.offence.clone()),
        ("facts", r.facts.clone()),
        ("data sought", r.data_sought.clone()),
        ("relation to offence", r.relation_to_offence.clone()),
        ("custodian", r.custodian.clone()),
        ("necessity", r.necessity.clone()),
        ("received", r.received_on.to_string()),
        ("preserved", optional(r.preserved_on)),
        ("expires", optional(r.expires_on)),
        ("extensions", r.extensions.len().to_string()),
        ("MLA request", r.mla_reference.clone().unwrap_or_else(|| "-".into())),
        ("released", optional(r.released_on)),
    ] {
        output::line(&format!("{label:>20}: {value}"));
    }
}

// Assessments.

fn framework(arg: FrameworkArg) -> Framework {
    match arg {
        FrameworkArg::Sim3 => Framework::Sim3,
        FrameworkArg::Nis2 => Framework::Nis2,
    }
}

async fn find_assessment(store: &dyn Store, key: &str) -> anyhow::Result<StoredAssessment> {
    let id = Uuid::try_parse(key).with_context(|| format!("{key:?} is not an assessment id"))?;
    store
        .get_assessment(id)
        .await?
        .with_context(|| format!("no assessment {key}; `neretva assessment list` shows them"))
}

async fn org_id(store: &dyn Store, key: &str) -> anyhow::Result<Uuid> {
    let org = match Uuid::try_parse(key) {
        Ok(id) => store.get_org(id).await?,
        Err(_) => store.find_org(key).await?,
    };
    Ok(org.with_context(|| format!("no organisation {key:?}"))?.id)
}

/// A score in an imported file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreLine {
    parameter: String,
    level: u8,
    evidence: Option<String>,
}

/// Writes changed scores under the version read, or reports every problem.
async fn write_scores(
    store: &dyn Store,
    stored: &StoredAssessment,
    scores: Vec<ScoreLine>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut assessment = stored.record.clone();
    let mut problems = Vec::new();
    for (index, score) in scores.into_iter().enumerate() {
        if let Err(mut error) =
            maturity::set_score(&mut assessment, &score.parameter, score.level, score.evidence)
        {
            error.field = format!("[{index}].{}", error.field);
            problems.push(error);
        }
    }
    problems.extend(maturity::validate(&assessment));
    if let Some(code) = report(&problems, json) {
        return Ok(code);
    }
    let written =
        store.update_assessment(&cli_actor(), &assessment, stored.version, "assessment.score").await?;
    print_assessment(store, &written, json).await?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn assessment(config: &Config, command: AssessmentCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let store = store.as_ref();
    match command {
        AssessmentCommand::Start { org, framework: arg, title, on, json } => {
            let org = org_id(store, &org).await?;
            let assessment = Assessment::new(Uuid::new_v4(), org, framework(arg), title, day(on.as_deref())?);
            if let Some(code) = report(&maturity::validate(&assessment), json) {
                return Ok(code);
            }
            let stored = store.create_assessment(&cli_actor(), &assessment).await?;
            if json {
                print_assessment(store, &stored, true).await?;
            } else {
                output::line(&stored.record.id.to_string());
            }
            Ok(ExitCode::SUCCESS)
        }
        AssessmentCommand::Set { assessment, parameter, level, evidence, json } => {
            let stored = find_assessment(store, &assessment).await?;
            write_scores(store, &stored, vec![ScoreLine { parameter, level, evidence }], json).await
        }
        AssessmentCommand::Import { assessment, file, json } => {
            let stored = find_assessment(store, &assessment).await?;
            let scores: Vec<ScoreLine> = read_json(&file)?;
            write_scores(store, &stored, scores, json).await
        }
        AssessmentCommand::Show { assessment, json } => {
            print_assessment(store, &find_assessment(store, &assessment).await?, json).await?;
            Ok(ExitCode::SUCCESS)
        }
        AssessmentCommand::List { org, framework: arg, json } => {
            let org = match org.as_deref() {
                Some(key) => Some(org_id(store, key).await?),
                None => None,
            };
            let wanted = arg.map(framework);
            let items: Vec<StoredAssessment> = store
                .list_assessments(org)
                .await?
                .into_iter()
                .filter(|stored| wanted.is_none_or(|wanted| stored.record.framework == wanted))
                .collect();
            if json {
                let items: Vec<serde_json::Value> = items.iter().map(assessment_json).collect();
                output::json(&items);
            } else {
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|stored| {
                        let a = &stored.record;
                        let (scored, total) = a.completeness();
                        vec![
                            a.id.to_string(),
                            a.framework.as_str().to_owned(),
                            a.assessed_on.to_string(),
                            a.title.clone(),
                            format!("{scored}/{total}"),
                            a.mean().map(|mean| format!("{mean:.2}")).unwrap_or_else(|| "-".into()),
                            enisa_tier(a).map_or("-", |tier| tier.as_str()).to_owned(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "FRAMEWORK", "DAY", "TITLE", "SCORED", "MEAN", "TIER"], &rows);
            }
            Ok(ExitCode::SUCCESS)
        }
        AssessmentCommand::Compare { before, after, json } => {
            let before = find_assessment(store, &before).await?;
            let after = find_assessment(store, &after).await?;
            let comparison = maturity::compare(&before.record, &after.record)?;
            if json {
                output::json(&comparison);
            } else {
                let level = |level: Option<u8>| level.map_or_else(|| "-".into(), |level| level.to_string());
                let rows: Vec<Vec<String>> = comparison
                    .rows
                    .iter()
                    .map(|row| {
                        vec![
                            row.parameter.to_owned(),
                            row.name.to_owned(),
                            level(row.before),
                            level(row.after),
                            row.delta.map_or_else(|| "-".into(), |delta| format!("{delta:+}")),
                        ]
                    })
                    .collect();
                output::table(&["PARAMETER", "NAME", "BEFORE", "AFTER", "DELTA"], &rows);
                output::line(&format!(
                    "improved {}, regressed {}, unchanged {}",
                    comparison.improved, comparison.regressed, comparison.unchanged
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        AssessmentCommand::Radar { assessment, with, out } => {
            let first = find_assessment(store, &assessment).await?.record;
            let mut shown = vec![first];
            if let Some(other) = with.as_deref() {
                let other = find_assessment(store, other).await?.record;
                if other.framework != shown[0].framework {
                    bail!("--with: the other assessment uses another framework");
                }
                shown.push(other);
            }
            let title = chart_title(store, &shown[0], "").await?;
            let refs: Vec<&Assessment> = shown.iter().collect();
            write_svg(&svg::assessment_radar(&title, shown[0].framework, &refs), out.as_deref())
        }
        AssessmentCommand::Trend { assessment, lang, out } => {
            let language: Language = lang
                .parse()
                .map_err(|_| anyhow::anyhow!("--lang {lang:?}: expected en, bs, hr, sr-Latn or sr-Cyrl"))?;
            let stored = find_assessment(store, &assessment).await?.record;
            let all: Vec<Assessment> = store
                .list_assessments(Some(stored.org_id))
                .await?
                .into_iter()
                .map(|stored| stored.record)
                .collect();
            let history = maturity::history(&all, stored.org_id, stored.framework);
            let title =
                chart_title(store, &stored, &format!(" {}", svg::trend_words(language).trend)).await?;
            write_svg(&svg::assessment_trend(&title, stored.framework, &history, language), out.as_deref())
        }
        AssessmentCommand::Sectors { json } => {
            let assessments: Vec<Assessment> =
                store.list_assessments(None).await?.into_iter().map(|stored| stored.record).collect();
            let mut sectors = std::collections::HashMap::new();
            for org in store.list_orgs().await? {
                sectors.insert(org.id, org.fields.sector);
            }
            let aggregates =
                maturity::sector_aggregates(&assessments, |org| sectors.get(&org).cloned().flatten());
            if json {
                output::json(&aggregates);
            } else {
                let number =
                    |value: Option<f64>| value.map_or_else(|| "-".into(), |value| format!("{value:.2}"));
                let rows: Vec<Vec<String>> = aggregates
                    .iter()
                    .flat_map(|aggregate| {
                        aggregate.areas.iter().map(move |area| {
                            vec![
                                aggregate.sector.clone(),
                                aggregate.organisations.to_string(),
                                area.area.to_owned(),
                                area.scored.to_string(),
                                number(area.mean),
                                number(area.median),
                            ]
                        })
                    })
                    .collect();
                output::table(&["SECTOR", "ORGANISATIONS", "AREA", "SCORED", "MEAN", "MEDIAN"], &rows);
            }
            Ok(ExitCode::SUCCESS)
        }
        AssessmentCommand::Delete { assessment } => {
            let stored = find_assessment(store, &assessment).await?;
            store.delete_assessment(&cli_actor(), stored.record.id).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn chart_title(store: &dyn Store, assessment: &Assessment, suffix: &str) -> anyhow::Result<String> {
    let org = store.get_org(assessment.org_id).await?.map(|org| org.fields.short_name);
    let org = org.unwrap_or_else(|| assessment.org_id.to_string());
    Ok(format!("{org} — {}{suffix}", assessment.framework.as_str().to_uppercase()))
}

fn write_svg(body: &str, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    match out {
        Some(path) => {
            std::fs::write(path, body).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => output::bytes(body.as_bytes()),
    }
    Ok(ExitCode::SUCCESS)
}

fn assessment_json(stored: &StoredAssessment) -> serde_json::Value {
    let (scored, parameters) = stored.record.completeness();
    serde_json::json!({
        "version": stored.version,
        "scored": scored,
        "parameters": parameters,
        "mean": stored.record.mean(),
        "enisa_tier": enisa_tier(&stored.record),
        "assessment": stored.record,
    })
}

async fn print_assessment(store: &dyn Store, stored: &StoredAssessment, json: bool) -> anyhow::Result<()> {
    if json {
        output::json(&assessment_json(stored));
        return Ok(());
    }
    let a = &stored.record;
    let (scored, total) = a.completeness();
    output::line(&format!("{} ({})", a.title, a.id));
    output::line(&format!(
        "{}, {}, {scored}/{total} scored, mean {}, ENISA tier {}",
        chart_title(store, a, "").await?,
        a.assessed_on,
        a.mean().map(|mean| format!("{mean:.2}")).unwrap_or_else(|| "-".into()),
        enisa_tier(a).map_or("none", |tier| tier.as_str())
    ));
    let rows: Vec<Vec<String>> = a
        .scores
        .iter()
        .map(|score| {
            let name = a.framework.parameter(&score.parameter).map_or("", |parameter| parameter.name);
            vec![
                score.parameter.clone(),
                name.to_owned(),
                score.level.to_string(),
                score.evidence.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::table(&["PARAMETER", "NAME", "LEVEL", "EVIDENCE"], &rows);
    Ok(())
}
