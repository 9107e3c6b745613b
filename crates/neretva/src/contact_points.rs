//! `neretva contact-points` (the directory and RFC 2350 team profiles) and `neretva checks`
//! (communication-check campaigns: create, run, status, report) from the command line.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use neretva_governance::checks;
use neretva_governance::rfc2350;
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::{FieldError, Timestamp, Uuid};
use neretva_server::api::checks::{CampaignInput, campaign_dto, campaign_from, series_point, stats_dto};
use neretva_server::api::contact_points::{PointInput, point_dto, point_from, profile_from};
use neretva_server::registry::RegistrySnapshot;
use neretva_store::Store;
use neretva_store::contact_points::StoredCampaign;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::{ChecksCommand, ContactPointsCommand};
use crate::commands::{cli_actor, ready_store};
use crate::config::Config;
use crate::output;

/// The largest profile file read, in bytes.
const MAX_PROFILE_BYTES: u64 = 1024 * 1024;

/// Every problem, one per line, as an error.
fn problems(errors: Vec<FieldError>) -> anyhow::Error {
    let lines: Vec<String> =
        errors.iter().map(|error| format!("  {}: {}", error.field, error.message)).collect();
    anyhow::anyhow!("{} problem(s), nothing stored:\n{}", errors.len(), lines.join("\n"))
}

async fn registry(config: &Config, store: &dyn Store) -> anyhow::Result<RegistrySnapshot> {
    Ok(RegistrySnapshot::build(store.list_orgs().await?, &[], &config.server.operator_org))
}

fn read_small(path: &Path, limit: u64) -> anyhow::Result<String> {
    let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if size > limit {
        bail!("{} is {size} bytes; at most {limit} are read", path.display());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

pub(crate) async fn contact_points(
    config: &Config,
    command: ContactPointsCommand,
) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let store = store.as_ref();
    let registry = registry(config, store).await?;
    match command {
        ContactPointsCommand::List { org, kind, json } => {
            let org = match org.as_deref() {
                Some(key) => Some(
                    registry
                        .resolve(key)
                        .map(|org| org.id)
                        .with_context(|| format!("no organisation {key:?}"))?,
                ),
                None => None,
            };
            let kind = kind.as_deref().map(checks_kind).transpose()?;
            let points: Vec<_> = store
                .list_contact_points(org)
                .await?
                .into_iter()
                .filter(|stored| kind.is_none_or(|kind| stored.point.kind == kind))
                .map(|stored| point_dto(&registry, &stored))
                .collect();
            if json {
                output::json(&points);
            } else {
                let rows: Vec<Vec<String>> = points
                    .iter()
                    .map(|p| {
                        vec![
                            p.id.to_string(),
                            p.org.clone(),
                            p.kind.clone(),
                            p.name.clone(),
                            p.email.clone(),
                            p.language.clone(),
                            p.pgp_fingerprint.clone().unwrap_or_else(|| "-".into()),
                        ]
                    })
                    .collect();
                output::table(&["ID", "ORG", "KIND", "NAME", "EMAIL", "LANGUAGE", "OPENPGP"], &rows);
            }
        }
        ContactPointsCommand::Add {
            org,
            kind,
            sector,
            name,
            email,
            phone,
            language,
            hours,
            key,
            fingerprint,
            notes,
            json,
        } => {
            let pgp_key = key.as_deref().map(|path| read_small(path, 64 * 1024)).transpose()?;
            let input = PointInput {
                org,
                kind,
                sector,
                name,
                email,
                phone,
                language,
                hours,
                pgp_key,
                pgp_fingerprint: fingerprint,
                notes,
            };
            let point = point_from(&registry, input, Uuid::now_v7()).map_err(problems)?;
            let stored = store.create_contact_point(&cli_actor(), &point).await?;
            if json {
                output::json(&point_dto(&registry, &stored));
            } else {
                output::line(&format!(
                    "Added contact point {} ({}).",
                    stored.point.id,
                    stored.point.kind.tag()
                ));
            }
        }
        ContactPointsCommand::Show { id, json } => {
            let id = Uuid::try_parse(&id).with_context(|| format!("{id:?} is not an id"))?;
            let stored =
                store.get_contact_point(id).await?.with_context(|| format!("no contact point {id}"))?;
            let dto = point_dto(&registry, &stored);
            if json {
                output::json(&dto);
            } else {
                for (label, value) in [
                    ("Id", Some(dto.id.to_string())),
                    ("Organisation", Some(dto.org.clone())),
                    ("Kind", Some(dto.kind.clone())),
                    ("Sector", dto.sector.clone()),
                    ("Name", Some(dto.name.clone())),
                    ("E-mail", Some(dto.email.clone())),
                    ("Phone", dto.phone.clone()),
                    ("Language", Some(dto.language.clone())),
                    ("Hours", dto.hours.clone()),
                    ("OpenPGP", dto.pgp_fingerprint.clone()),
                    ("Notes", dto.notes.clone()),
                ] {
                    output::line(&format!("{label:<13} {}", value.unwrap_or_else(|| "-".into())));
                }
            }
        }
        ContactPointsCommand::Remove { id } => {
            let id = Uuid::try_parse(&id).with_context(|| format!("{id:?} is not an id"))?;
            store.delete_contact_point(&cli_actor(), id).await?;
            output::line(&format!("Removed contact point {id}."));
        }
        ContactPointsCommand::SetProfile { org, file, json } => {
            let org_id = registry
                .resolve(&org)
                .map(|org| org.id)
                .with_context(|| format!("no organisation {org:?}"))?;
            let text = read_small(&file, MAX_PROFILE_BYTES)?;
            let value: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
            let profile = profile_from(value, org_id).map_err(problems)?;
            let stored = store.put_team_profile(&cli_actor(), &profile).await?;
            if json {
                output::json(
                    &serde_json::json!({ "org_id": org_id, "updated_at": stored.updated_at.format(&Rfc3339)? }),
                );
            } else {
                output::line(&format!("Stored the RFC 2350 profile of {org}."));
            }
        }
        ContactPointsCommand::ExportRfc2350 { org, out } => {
            let org_id = registry
                .resolve(&org)
                .map(|org| org.id)
                .with_context(|| format!("no organisation {org:?}"))?;
            let stored = store
                .get_team_profile(org_id)
                .await?
                .with_context(|| format!("{org} has no RFC 2350 profile"))?;
            let text = rfc2350::render(&stored.profile);
            store
                .append_audit(&AuditEvent {
                    actor: cli_actor().0,
                    action: "team_profile.export".into(),
                    object_type: "team_profile".into(),
                    object_id: org_id.to_string(),
                    digest: digest_hex(text.as_bytes()),
                })
                .await?;
            match out {
                Some(path) => std::fs::write(&path, &text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => output::bytes(text.as_bytes()),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn checks_kind(text: &str) -> anyhow::Result<neretva_governance::contact_points::PointKind> {
    neretva_governance::contact_points::PointKind::parse("kind", text)
        .map_err(|error| anyhow::anyhow!("{}", error.message))
}

/// An RFC 3339 time, or a time from now: `+30m`, `+2h`, `+7d`, `+45s`.
fn parse_when(option: &str, text: &str, now: Timestamp) -> anyhow::Result<String> {
    if let Some(relative) = text.strip_prefix('+') {
        let Some((split, unit)) = relative.char_indices().last() else {
            bail!("{option} {text:?}: give an amount and a unit such as +2h");
        };
        let amount: i64 = relative[..split]
            .parse()
            .with_context(|| format!("{option} {text:?}: the amount is not a number"))?;
        if !(0..=100_000).contains(&amount) {
            bail!("{option} {text:?}: the amount is out of range");
        }
        let duration = match unit {
            's' => time::Duration::seconds(amount),
            'm' => time::Duration::minutes(amount),
            'h' => time::Duration::hours(amount),
            'd' => time::Duration::days(amount),
            _ => bail!("{option} {text:?}: the unit is not s, m, h or d"),
        };
        return Ok((now + duration).format(&Rfc3339)?);
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .with_context(|| format!("{option} {text:?} is not an RFC 3339 time or +N[smhd]"))?;
    Ok(text.to_owned())
}

async fn find_check(store: &dyn Store, id: &str) -> anyhow::Result<StoredCampaign> {
    let id = Uuid::try_parse(id).with_context(|| format!("{id:?} is not an id"))?;
    store.get_check(id).await?.with_context(|| format!("no communication check {id}"))
}

pub(crate) async fn checks(config: &Config, command: ChecksCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let registry = registry(config, store.as_ref()).await?;
    match command {
        ChecksCommand::Create {
            name,
            kinds,
            sectors,
            orgs,
            points,
            deadline,
            remind_at,
            escalate_at,
            escalate_to,
            json,
        } => {
            let now = OffsetDateTime::now_utc();
            let input = CampaignInput {
                name,
                kinds,
                sectors,
                orgs,
                points: points
                    .iter()
                    .map(|text| {
                        Uuid::try_parse(text).with_context(|| format!("--point {text:?} is not an id"))
                    })
                    .collect::<anyhow::Result<_>>()?,
                deadline: parse_when("--deadline", &deadline, now)?,
                remind_at: remind_at
                    .as_deref()
                    .map(|text| parse_when("--remind-at", text, now))
                    .transpose()?,
                escalate_at: escalate_at
                    .as_deref()
                    .map(|text| parse_when("--escalate-at", text, now))
                    .transpose()?,
                escalate_to,
            };
            let directory: Vec<_> =
                store.list_contact_points(None).await?.into_iter().map(|stored| stored.point).collect();
            let (campaign, targets) =
                campaign_from(&registry, input, &directory, Uuid::now_v7(), now).map_err(problems)?;
            let stored = store.create_check(&cli_actor(), &campaign, &targets).await?;
            print_campaign(&registry, &stored, json);
        }
        ChecksCommand::Run { id, json } => {
            let Some(public_url) = config.server.public_url.clone() else {
                bail!(
                    "communication checks need public_url (the address the links point to) in the configuration"
                );
            };
            if config.notify.is_none() {
                bail!("communication checks are sent by the notifier: configure the [notify] section");
            }
            let notifier = crate::notify::build(config, Arc::clone(&store)).await?;
            let now = OffsetDateTime::now_utc();
            let summary = match id.as_deref() {
                Some(id) => {
                    let stored = find_check(store.as_ref(), id).await?;
                    neretva_server::checks::run_campaign(
                        store.as_ref(),
                        &notifier,
                        &public_url,
                        &cli_actor(),
                        stored.campaign.id,
                        now,
                    )
                    .await?
                }
                None => neretva_server::checks::run_due(store.as_ref(), &notifier, &public_url, now).await,
            };
            if json {
                output::json(&serde_json::json!({
                    "sent": summary.sent, "reminded": summary.reminded,
                    "escalated": summary.escalated, "failed": summary.failed,
                }));
            } else {
                output::line(&format!(
                    "Sent {} challenge(s), {} reminder(s), escalated {}; {} failed.",
                    summary.sent, summary.reminded, summary.escalated, summary.failed
                ));
            }
            if summary.failed > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        ChecksCommand::Status { id, json } => {
            let stored = find_check(store.as_ref(), &id).await?;
            print_campaign(&registry, &stored, json);
        }
        ChecksCommand::List { json } => {
            let campaigns = store.list_checks().await?;
            let dtos: Vec<_> = campaigns
                .iter()
                .map(|stored| campaign_dto(&registry, stored, &stored.targets.iter().collect::<Vec<_>>()))
                .collect();
            if json {
                output::json(&dtos);
            } else {
                let rows: Vec<Vec<String>> = dtos
                    .iter()
                    .map(|c| {
                        vec![
                            c.id.to_string(),
                            c.name.clone(),
                            c.deadline.clone(),
                            c.stats.targets.to_string(),
                            c.stats.acknowledged.to_string(),
                            percent(c.stats.reachability_percent),
                        ]
                    })
                    .collect();
                output::table(&["ID", "NAME", "DEADLINE", "TARGETS", "ACKNOWLEDGED", "REACHABILITY"], &rows);
            }
        }
        ChecksCommand::Report { format, out } => {
            let campaigns = store.list_checks().await?;
            let series = checks::series(
                campaigns
                    .iter()
                    .map(|stored| series_point(stored, &stored.targets.iter().collect::<Vec<_>>()))
                    .collect(),
            );
            let body = match format.as_str() {
                "json" => {
                    let rows: Vec<serde_json::Value> = series
                        .iter()
                        .map(|point| {
                            serde_json::json!({
                                "campaign": point.campaign,
                                "name": point.name,
                                "created_at": point.created_at.format(&Rfc3339).unwrap_or_default(),
                                "deadline": point.deadline.format(&Rfc3339).unwrap_or_default(),
                                "stats": stats_dto(&point.stats),
                            })
                        })
                        .collect();
                    serde_json::to_string_pretty(&rows)? + "\n"
                }
                "csv" => checks::report_csv(&series),
                other => bail!("--format {other:?} is not json or csv"),
            };
            store
                .append_audit(&AuditEvent {
                    actor: cli_actor().0,
                    action: "check.report.export".into(),
                    object_type: "check".into(),
                    object_id: "report".into(),
                    digest: digest_hex(body.as_bytes()),
                })
                .await?;
            match out {
                Some(path) => std::fs::write(&path, &body)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => output::bytes(body.as_bytes()),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |value| format!("{value}%"))
}

fn print_campaign(registry: &RegistrySnapshot, stored: &StoredCampaign, json: bool) {
    let dto = campaign_dto(registry, stored, &stored.targets.iter().collect::<Vec<_>>());
    if json {
        output::json(&dto);
        return;
    }
    output::line(&format!("{}  {}  deadline {}", dto.id, dto.name, dto.deadline));
    let stats = &dto.stats;
    let median = stats.median_response_seconds.map_or_else(|| "-".into(), |seconds| format!("{seconds} s"));
    output::line(&format!(
        "{} targets, {} sent, {} acknowledged ({}), median response {median}",
        stats.targets,
        stats.sent,
        stats.acknowledged,
        percent(stats.reachability_percent)
    ));
    let rows: Vec<Vec<String>> = dto
        .targets
        .iter()
        .map(|t| {
            let dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
            vec![
                t.org.clone(),
                t.kind.clone(),
                t.email.clone(),
                dash(&t.sent_at),
                dash(&t.acknowledged_at),
                dash(&t.last_error),
            ]
        })
        .collect();
    output::table(&["ORG", "KIND", "EMAIL", "SENT", "ACKNOWLEDGED", "ERROR"], &rows);
}
