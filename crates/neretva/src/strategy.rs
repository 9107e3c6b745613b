//! `neretva strategy`: the strategy tracker from the command line: load the Guidelines' objectives,
//! list and show documents, progress, overdue actions, changes, and the implementation report.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use neretva_governance::{defaults, report, strategy};
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::contact::Language;
use neretva_store::Store;
use neretva_store::governance::StoredStrategy;
use time::{Date, OffsetDateTime};

use crate::cli::StrategyCommand;
use crate::commands::{cli_actor, ready_store};
use crate::config::Config;
use crate::output;

pub(crate) async fn command(config: &Config, command: StrategyCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let store = store.as_ref();
    match command {
        StrategyCommand::LoadDefaults { owner, json } => {
            load_defaults(config, store, owner.as_deref(), json).await
        }
        StrategyCommand::Import { file, json } => import(config, store, &file, json).await,
        StrategyCommand::List { json } => list(store, json).await,
        StrategyCommand::Show { document, json } => {
            let stored = find(store, &document).await?;
            if json {
                output::json(&serde_json::json!({ "version": stored.version, "document": stored.document }));
            } else {
                print_tree(&stored);
            }
            Ok(ExitCode::SUCCESS)
        }
        StrategyCommand::Progress { document, on, json } => {
            let stored = find(store, &document).await?;
            let day = day(on.as_deref())?;
            let levels = &config.server.authority_levels;
            let total = strategy::progress_total(&stored.document, day);
            let by_objective = strategy::progress_by_objective(&stored.document, day);
            let by_level = strategy::progress_by_level(&stored.document, levels, day);
            if json {
                output::json(&serde_json::json!({
                    "date": day.to_string(), "total": total, "by_objective": by_objective, "by_level": by_level,
                }));
            } else {
                let rows = |groups: &[strategy::Progress]| -> Vec<Vec<String>> {
                    groups
                        .iter()
                        .map(|group| {
                            vec![
                                group.key.clone(),
                                group.actions.to_string(),
                                group.overdue.to_string(),
                                group.progress.map(|p| format!("{p}%")).unwrap_or_else(|| "-".into()),
                            ]
                        })
                        .collect()
                };
                output::table(&["OBJECTIVE", "ACTIONS", "OVERDUE", "PROGRESS"], &rows(&by_objective));
                output::line("");
                output::table(&["LEVEL", "ACTIONS", "OVERDUE", "PROGRESS"], &rows(&by_level));
            }
            Ok(ExitCode::SUCCESS)
        }
        StrategyCommand::Overdue { document, on, json } => {
            let stored = find(store, &document).await?;
            let day = day(on.as_deref())?;
            print_actions(&strategy::overdue(&stored.document, day), json);
            Ok(ExitCode::SUCCESS)
        }
        StrategyCommand::Changes { document, since, json } => {
            let stored = find(store, &document).await?;
            let since = OffsetDateTime::parse(&since, &time::format_description::well_known::Rfc3339)
                .or_else(|_| parse_date(&since).map(|day| day.midnight().assume_utc()))
                .with_context(|| {
                    format!("--since {since:?} is not an RFC 3339 time or a date (YYYY-MM-DD)")
                })?;
            let today = OffsetDateTime::now_utc().date();
            print_actions(&strategy::changed_since(&stored.document, since, today), json);
            Ok(ExitCode::SUCCESS)
        }
        StrategyCommand::Report { document, format, on, lang, out, json } => {
            let language = lang
                .parse::<Language>()
                .map_err(|_| anyhow::anyhow!("--lang is en, bs, hr, sr-Latn or sr-Cyrl, not {lang:?}"))?;
            let format = match format.as_str() {
                "json" => ReportFormat::Json,
                "csv" => ReportFormat::Csv,
                "html" => ReportFormat::Html(language),
                other => bail!("--format is json, csv or html, not {other:?}"),
            };
            implementation_report(config, store, &document, format, on.as_deref(), out.as_deref(), json).await
        }
    }
}

pub(crate) fn parse_date(text: &str) -> anyhow::Result<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).with_context(|| format!("{text:?} is not a date (YYYY-MM-DD)"))
}

pub(crate) fn day(on: Option<&str>) -> anyhow::Result<Date> {
    on.map_or_else(|| Ok(OffsetDateTime::now_utc().date()), parse_date)
}

/// A document by code or id.
async fn find(store: &dyn Store, key: &str) -> anyhow::Result<StoredStrategy> {
    let found = match neretva_model::Uuid::try_parse(key) {
        Ok(id) => store.get_strategy(id).await?,
        Err(_) => store.find_strategy(key).await?,
    };
    found.with_context(|| format!("no strategic document {key:?}; `neretva strategy list` shows them"))
}

async fn load_defaults(
    config: &Config,
    store: &dyn Store,
    owner: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let short_name = owner.unwrap_or(&config.server.operator_org);
    let org = store.find_org(short_name).await?.with_context(|| format!("no organisation {short_name:?}"))?;
    let document = defaults::guidelines(neretva_model::Uuid::new_v4(), org.id);
    let problems = strategy::validate(&document, &config.server.authority_levels);
    if let Some(problem) = problems.first() {
        bail!("the default document is not valid here: {problem}");
    }
    let stored = store.create_strategy(&cli_actor(), &document).await?;
    if json {
        output::json(&serde_json::json!({
            "id": stored.document.id, "code": stored.document.code, "objectives": stored.document.objectives.len(),
        }));
    } else {
        output::line(&format!(
            "loaded {} ({}) with {} objectives",
            stored.document.code,
            stored.document.id,
            stored.document.objectives.len()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The largest document file `strategy import` reads.
const MAX_IMPORT: u64 = 4 * 1024 * 1024;

async fn import(
    config: &Config,
    store: &dyn Store,
    file: &std::path::Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
    if size > MAX_IMPORT {
        bail!("{}: {size} bytes, more than the {MAX_IMPORT} a document may have", file.display());
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))?;
    let now = OffsetDateTime::now_utc();
    let document =
        strategy::document_from_json(value, neretva_model::Uuid::new_v4(), now, neretva_model::Uuid::new_v4)
            .map_err(|message| anyhow::anyhow!("{}: {message}", file.display()))?;
    let mut problems: Vec<String> = strategy::validate(&document, &config.server.authority_levels)
        .iter()
        .map(ToString::to_string)
        .collect();
    for reference in strategy::references(&document) {
        if reference.kind == strategy::ReferenceKind::Organisation
            && store.get_org(reference.id).await?.is_none()
        {
            problems.push(format!("{}: no organisation {}", reference.field, reference.id));
        }
    }
    if !problems.is_empty() {
        if json {
            output::json(&serde_json::json!({ "stored": false, "problems": problems }));
        } else {
            for problem in &problems {
                output::line(&format!("{}: {problem}", file.display()));
            }
        }
        return Ok(ExitCode::FAILURE);
    }
    let stored = store.create_strategy(&cli_actor(), &document).await?;
    if json {
        output::json(&serde_json::json!({
            "stored": true, "id": stored.document.id, "code": stored.document.code,
            "objectives": stored.document.objectives.len(),
        }));
    } else {
        output::line(&format!("stored {} ({})", stored.document.code, stored.document.id));
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(store: &dyn Store, json: bool) -> anyhow::Result<ExitCode> {
    let today = OffsetDateTime::now_utc().date();
    let documents = store.list_strategies().await?;
    let rows: Vec<serde_json::Value> = documents
        .iter()
        .map(|stored| {
            let total = strategy::progress_total(&stored.document, today);
            serde_json::json!({
                "id": stored.document.id, "code": stored.document.code, "title": stored.document.title,
                "tlp": stored.document.tlp, "version": stored.version, "actions": total.actions,
                "overdue": total.overdue, "progress": total.progress,
            })
        })
        .collect();
    if json {
        output::json(&rows);
    } else {
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                ["code", "actions", "overdue", "progress", "title"]
                    .iter()
                    .map(|key| match &row[*key] {
                        serde_json::Value::String(text) => text.clone(),
                        serde_json::Value::Null => "-".into(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        output::table(&["CODE", "ACTIONS", "OVERDUE", "PROGRESS", "TITLE"], &table);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_tree(stored: &StoredStrategy) {
    let document = &stored.document;
    output::line(&format!(
        "{} {} (version {}, {})",
        document.code, document.title, stored.version, document.tlp
    ));
    for objective in &document.objectives {
        output::line(&format!("  {} {}", objective.code, objective.title));
        for measure in &objective.measures {
            output::line(&format!("    {} {}", measure.code, measure.title));
            for action in &measure.actions {
                output::line(&format!(
                    "      {} [{} {}%] {} ({}, {} to {})",
                    action.id,
                    action.status.as_str(),
                    action.progress,
                    action.title,
                    action.authority_level,
                    action.start,
                    action.due
                ));
            }
        }
    }
}

fn print_actions(views: &[strategy::ActionView<'_>], json: bool) {
    if json {
        output::json(&views);
        return;
    }
    let rows: Vec<Vec<String>> = views
        .iter()
        .map(|view| {
            vec![
                view.measure.to_owned(),
                view.action.status.as_str().to_owned(),
                view.action.due.to_string(),
                format!("{}%", view.action.progress),
                view.action.authority_level.clone(),
                view.action.title.clone(),
            ]
        })
        .collect();
    output::table(&["MEASURE", "STATUS", "DUE", "PROGRESS", "LEVEL", "ACTION"], &rows);
}

/// The format of `neretva strategy report`.
enum ReportFormat {
    Json,
    Csv,
    Html(Language),
}

async fn implementation_report(
    config: &Config,
    store: &dyn Store,
    key: &str,
    format: ReportFormat,
    on: Option<&str>,
    out: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let stored = find(store, key).await?;
    let day = day(on)?;
    let names: BTreeMap<_, _> =
        store.list_orgs().await?.into_iter().map(|org| (org.id, org.fields.name)).collect();
    let built = report::build(&stored.document, &config.server.authority_levels, &names, day);
    let body = match format {
        ReportFormat::Csv => report::to_csv(&built),
        ReportFormat::Html(language) => report::to_html(&built, language),
        ReportFormat::Json => report::to_json(&built),
    };
    let digest = digest_hex(body.as_bytes());
    store
        .append_audit(&AuditEvent {
            actor: cli_actor().0,
            action: "strategy.report.export".into(),
            object_type: "strategy".into(),
            object_id: stored.document.id.to_string(),
            digest: digest.clone(),
        })
        .await?;
    match out {
        Some(path) => {
            std::fs::write(path, &body).with_context(|| format!("cannot write {}", path.display()))?;
            if json {
                output::json(&serde_json::json!({
                    "file": path.display().to_string(), "bytes": body.len(), "sha256": digest,
                }));
            } else {
                output::line(&format!("wrote {} ({} bytes)", path.display(), body.len()));
            }
        }
        None => output::bytes(body.as_bytes()),
    }
    Ok(ExitCode::SUCCESS)
}
