//! `neretva groups`: working groups from the command line: create groups and sub-groups, add
//! members, meetings, action items (linked to strategy actions) and documents, show the
//! diversity aggregates, and announce to the members by e-mail.
//!
//! The command line runs on the server with the database's rights, as an operator; it still
//! never prints a member's self-declared gender or age band, only the aggregates.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use neretva_governance::groups::{
    self, ActionItem, DocumentFormat, ItemStatus, Meeting, Member, MemberRole, SharedDocument,
    StakeholderKind, StrategyLink, WorkingGroup,
};
use neretva_model::Uuid;
use neretva_model::tlp::Tlp;
use neretva_server::groups::{AnnounceError, AnnouncementInput, announce};
use neretva_store::Store;
use neretva_store::groups::{StoredGroup, has_action};
use serde_json::json;
use time::{Date, OffsetDateTime};

use crate::cli::GroupsCommand;
use crate::commands::{cli_actor, ready_store};
use crate::config::Config;
use crate::output;

/// A group by code or id.
async fn find(store: &dyn Store, key: &str) -> anyhow::Result<StoredGroup> {
    let found = match Uuid::try_parse(key) {
        Ok(id) => store.get_group(id).await?,
        Err(_) => store.find_group(key).await?,
    };
    found.with_context(|| format!("no working group {key:?}; `neretva groups list` shows them"))
}

/// Validates and writes a changed group under the version read, audited as `action`.
async fn write(
    store: &dyn Store,
    stored: &StoredGroup,
    group: &WorkingGroup,
    action: &str,
) -> anyhow::Result<StoredGroup> {
    let problems = groups::validate(group);
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        bail!("{}", lines.join("\n"));
    }
    Ok(store.update_group(&cli_actor(), group, stored.version, action).await?)
}

fn parse_date(field: &str, text: &str) -> anyhow::Result<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).with_context(|| format!("--{field} {text:?} is not a date (YYYY-MM-DD)"))
}

fn parse_time(field: &str, text: &str) -> anyhow::Result<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|at| at.to_offset(time::UtcOffset::UTC))
        .with_context(|| format!("--{field} {text:?} is not an RFC 3339 time"))
}

fn member_id(group: &WorkingGroup, key: &str) -> anyhow::Result<Uuid> {
    Uuid::try_parse(key)
        .ok()
        .filter(|id| group.members.iter().any(|member| member.id == *id))
        .or_else(|| groups::member_by_email(group, Some(key)).map(|member| member.id))
        .with_context(|| format!("no member {key:?} in {} (give an id or e-mail address)", group.code))
}

/// What is printed of a member: never the self-declared gender or age band.
fn member_json(member: &Member) -> serde_json::Value {
    json!({
        "id": member.id, "name": member.name, "email": member.email, "org_id": member.org_id,
        "outside_org": member.outside_org, "sector": member.sector, "kind": member.kind.as_str(),
        "role": member.role.as_str(), "language": member.language.tag(), "joined": member.joined.to_string(),
    })
}

fn group_json(stored: &StoredGroup) -> serde_json::Value {
    let group = &stored.group;
    let documents: Vec<serde_json::Value> = group
        .documents
        .iter()
        .map(|d| json!({ "id": d.id, "title": d.title, "tlp": d.tlp.to_string(), "bytes": d.content.len() }))
        .collect();
    let announcements: Vec<serde_json::Value> = group
        .announcements
        .iter()
        .map(|a| json!({ "id": a.id, "subject": a.subject, "tlp": a.tlp.to_string(), "messages": a.messages.len() }))
        .collect();
    json!({
        "id": group.id, "version": stored.version, "code": group.code, "name": group.name,
        "description": group.description, "parent": group.parent, "convener_org": group.convener_org,
        "sector": group.sector, "diversity_goals": group.diversity_goals,
        "members": group.members.iter().map(member_json).collect::<Vec<_>>(),
        "meetings": group.meetings, "action_items": group.action_items, "documents": documents,
        "announcements": announcements,
    })
}

fn done(stored: &StoredGroup, json: bool, what: &str) -> ExitCode {
    if json {
        output::json(&group_json(stored));
    } else {
        output::line(&format!("{what} ({} version {})", stored.group.code, stored.version));
    }
    ExitCode::SUCCESS
}

pub(crate) async fn command(config: &Config, command: GroupsCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let db = store.as_ref();
    match command {
        GroupsCommand::List { json } => list(db, json).await,
        GroupsCommand::Show { group, json } => {
            let stored = find(db, &group).await?;
            if json {
                output::json(&group_json(&stored));
            } else {
                show(&stored);
            }
            Ok(ExitCode::SUCCESS)
        }
        GroupsCommand::Create {
            code,
            name,
            description,
            parent,
            convener,
            sector,
            diversity_goals,
            json,
        } => {
            let short_name = convener.as_deref().unwrap_or(&config.server.operator_org);
            let convener = db
                .find_org(short_name)
                .await?
                .with_context(|| format!("--convener: no organisation {short_name:?}"))?;
            let parent = match parent.as_deref() {
                Some(key) => Some(find(db, key).await?.group.id),
                None => None,
            };
            let group = WorkingGroup {
                id: Uuid::new_v4(),
                code,
                name,
                description,
                parent,
                convener_org: convener.id,
                sector,
                diversity_goals,
                members: Vec::new(),
                meetings: Vec::new(),
                action_items: Vec::new(),
                documents: Vec::new(),
                announcements: Vec::new(),
            };
            let problems = groups::validate(&group);
            if let Some(problem) = problems.first() {
                bail!("{problem}");
            }
            let stored = db.create_group(&cli_actor(), &group).await?;
            Ok(done(&stored, json, &format!("created {}", stored.group.id)))
        }
        GroupsCommand::AddMember {
            group,
            name,
            email,
            org,
            outside_org,
            kind,
            sector,
            role,
            language,
            json,
        } => {
            let stored = find(db, &group).await?;
            let org_id = match org.as_deref() {
                Some(key) => Some(match Uuid::try_parse(key) {
                    Ok(id) => {
                        db.get_org(id).await?.with_context(|| format!("--org: no organisation {key:?}"))?.id
                    }
                    Err(_) => {
                        db.find_org(key).await?.with_context(|| format!("--org: no organisation {key:?}"))?.id
                    }
                }),
                None => None,
            };
            let member = Member {
                id: Uuid::new_v4(),
                name,
                email: email.trim().to_owned(),
                org_id,
                outside_org,
                sector,
                kind: StakeholderKind::parse(&kind).with_context(|| {
                    format!("--kind {kind:?} is not one of public, private, academia, civil_society")
                })?,
                role: MemberRole::parse(&role).with_context(|| {
                    format!("--role {role:?} is not one of chair, secretary, member, observer")
                })?,
                language: language.parse().map_err(|error: neretva_model::FieldError| {
                    anyhow::anyhow!("--language: {}", error.message)
                })?,
                joined: OffsetDateTime::now_utc().date(),
                gender: None,
                age_band: None,
            };
            let mut changed = stored.group.clone();
            groups::add_member(&mut changed, member)?;
            let written = write(db, &stored, &changed, "group.member.add").await?;
            Ok(done(&written, json, "member added"))
        }
        GroupsCommand::RemoveMember { group, member, json } => {
            let stored = find(db, &group).await?;
            let mut changed = stored.group.clone();
            let id = member_id(&changed, &member)?;
            groups::remove_member(&mut changed, id)?;
            let written = write(db, &stored, &changed, "group.member.remove").await?;
            Ok(done(&written, json, "member removed"))
        }
        GroupsCommand::AddMeeting { group, title, starts_at, ends_at, place, online_url, agenda, json } => {
            let stored = find(db, &group).await?;
            let mut changed = stored.group.clone();
            changed.meetings.push(Meeting {
                id: Uuid::new_v4(),
                title,
                starts_at: parse_time("starts-at", &starts_at)?,
                ends_at: parse_time("ends-at", &ends_at)?,
                place,
                online_url,
                agenda,
                minutes: None,
                decisions: Vec::new(),
            });
            let written = write(db, &stored, &changed, "group.meeting.add").await?;
            Ok(done(&written, json, "meeting added"))
        }
        GroupsCommand::AddItem { group, title, owner, due, meeting, strategy, action, json } => {
            let stored = find(db, &group).await?;
            let link = match (strategy, action) {
                (Some(document), Some(action)) => Some(strategy_link(db, &document, &action).await?),
                _ => None,
            };
            let meeting = meeting
                .as_deref()
                .map(|text| Uuid::try_parse(text).with_context(|| format!("--meeting {text:?} is not an id")))
                .transpose()?;
            let mut changed = stored.group.clone();
            let owner = member_id(&changed, &owner)?;
            changed.action_items.push(ActionItem {
                id: Uuid::new_v4(),
                title,
                owner,
                due: parse_date("due", &due)?,
                status: ItemStatus::Open,
                meeting,
                strategy: link,
            });
            let written = write(db, &stored, &changed, "group.item.add").await?;
            Ok(done(&written, json, "action item added"))
        }
        GroupsCommand::SetItem { group, item, status, json } => {
            let stored = find(db, &group).await?;
            let status = ItemStatus::parse(&status).with_context(|| {
                format!("--status {status:?} is not one of open, in_progress, done, cancelled")
            })?;
            let id = Uuid::try_parse(&item).with_context(|| format!("{item:?} is not an id"))?;
            let mut changed = stored.group.clone();
            groups::item_mut(&mut changed, id)?.status = status;
            let written = write(db, &stored, &changed, "group.item.update").await?;
            Ok(done(&written, json, "action item updated"))
        }
        GroupsCommand::AddDocument { group, file, title, tlp, recipient, json } => {
            let stored = find(db, &group).await?;
            let content = read_text(&file, groups::MAX_DOCUMENT_BYTES as u64)?;
            let tlp: Tlp = tlp.parse().map_err(|error| anyhow::anyhow!("--tlp: {error}"))?;
            let mut changed = stored.group.clone();
            let recipients =
                recipient.iter().map(|key| member_id(&changed, key)).collect::<anyhow::Result<Vec<_>>>()?;
            let markdown = file.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("md"));
            changed.documents.push(SharedDocument {
                id: Uuid::new_v4(),
                title,
                tlp,
                format: if markdown { DocumentFormat::Markdown } else { DocumentFormat::Text },
                content,
                recipients,
                added_by: cli_actor().0,
                added_at: OffsetDateTime::now_utc(),
            });
            let written = write(db, &stored, &changed, "group.document.add").await?;
            Ok(done(&written, json, "document shared"))
        }
        GroupsCommand::Diversity { group, json } => {
            let stored = find(db, &group).await?;
            let result = groups::diversity(&stored.group);
            if json {
                output::json(&result);
            } else {
                output::line(&format!("{} members; {}", result.members, result.rule));
                for (title, cells) in [
                    ("KIND", &result.by_kind),
                    ("SECTOR", &result.by_sector),
                    ("GENDER", &result.by_gender),
                    ("AGE BAND", &result.by_age_band),
                ] {
                    let rows: Vec<Vec<String>> = cells
                        .iter()
                        .map(|cell| {
                            vec![
                                cell.category.clone(),
                                cell.count.map_or_else(|| "<3".into(), |c| c.to_string()),
                            ]
                        })
                        .collect();
                    output::table(&[title, "MEMBERS"], &rows);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        GroupsCommand::Announce { group, subject, body_file, tlp, json } => {
            let stored = find(db, &group).await?;
            let body = read_text(&body_file, neretva_notifier::MAX_ADVISORY_BODY as u64)?;
            let tlp: Tlp = tlp.parse().map_err(|error| anyhow::anyhow!("--tlp: {error}"))?;
            let notifier = crate::notify::build(config, Arc::clone(&store)).await?;
            let input = AnnouncementInput { subject, body, tlp, sent_by: cli_actor().0 };
            let now = OffsetDateTime::now_utc();
            let (_, announcement, messages) = announce(db, &notifier, &cli_actor(), &stored, &input, now)
                .await
                .map_err(|error| match error {
                    AnnounceError::Invalid(problems) => {
                        anyhow::anyhow!(
                            "{}",
                            problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
                        )
                    }
                    other => other.into(),
                })?;
            let delivery = notifier.deliver_due(OffsetDateTime::now_utc()).await?;
            if json {
                output::json(&json!({
                    "announcement": announcement.id, "messages": messages.len(),
                    "unsendable": messages.iter().filter(|m| m.last_error.is_some()).count(),
                    "sent": delivery.sent, "retrying": delivery.retrying, "failed": delivery.failed,
                }));
            } else {
                output::line(&format!(
                    "announcement {} recorded for {} members; sent {}, retrying {}, failed {}",
                    announcement.id,
                    messages.len(),
                    delivery.sent,
                    delivery.retrying,
                    delivery.failed
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_text(path: &Path, max: u64) -> anyhow::Result<String> {
    let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if size > max {
        bail!("{}: {size} bytes, more than the {max} allowed", path.display());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {} as UTF-8 text", path.display()))
}

/// A strategy action by document (code or id) and action id, checked to exist.
async fn strategy_link(store: &dyn Store, document: &str, action: &str) -> anyhow::Result<StrategyLink> {
    let found = match Uuid::try_parse(document) {
        Ok(id) => store.get_strategy(id).await?,
        Err(_) => store.find_strategy(document).await?,
    };
    let stored = found.with_context(|| format!("--strategy: no strategic document {document:?}"))?;
    let action = Uuid::try_parse(action).with_context(|| format!("--action {action:?} is not an id"))?;
    if !has_action(&stored.document, action) {
        bail!("--action: strategic document {:?} has no action {action}", stored.document.code);
    }
    Ok(StrategyLink { document: stored.document.id, action })
}

async fn list(store: &dyn Store, json: bool) -> anyhow::Result<ExitCode> {
    let all = store.list_groups().await?;
    let open = |group: &WorkingGroup| {
        group
            .action_items
            .iter()
            .filter(|i| matches!(i.status, ItemStatus::Open | ItemStatus::InProgress))
            .count()
    };
    if json {
        let items: Vec<serde_json::Value> = all
            .iter()
            .map(|stored| {
                let g = &stored.group;
                json!({
                    "id": g.id, "code": g.code, "name": g.name, "parent": g.parent, "sector": g.sector,
                    "members": g.members.len(), "meetings": g.meetings.len(), "open_items": open(g),
                    "version": stored.version,
                })
            })
            .collect();
        output::json(&items);
    } else {
        let code_of = |id: Option<Uuid>| {
            id.and_then(|id| all.iter().find(|s| s.group.id == id))
                .map_or_else(String::new, |s| s.group.code.clone())
        };
        let rows: Vec<Vec<String>> = all
            .iter()
            .map(|stored| {
                let g = &stored.group;
                vec![
                    g.code.clone(),
                    g.name.clone(),
                    code_of(g.parent),
                    g.members.len().to_string(),
                    g.meetings.len().to_string(),
                    open(g).to_string(),
                ]
            })
            .collect();
        output::table(&["CODE", "NAME", "PARENT", "MEMBERS", "MEETINGS", "OPEN ITEMS"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

fn show(stored: &StoredGroup) {
    let group = &stored.group;
    output::line(&format!("{} — {} (version {})", group.code, group.name, stored.version));
    let rows: Vec<Vec<String>> = group
        .members
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.email.clone(),
                m.org_id.map(|id| id.to_string()).or_else(|| m.outside_org.clone()).unwrap_or_default(),
                m.kind.as_str().into(),
                m.role.as_str().into(),
            ]
        })
        .collect();
    output::table(&["MEMBER", "E-MAIL", "ORGANISATION", "KIND", "ROLE"], &rows);
    let rows: Vec<Vec<String>> = group
        .meetings
        .iter()
        .map(|m| {
            vec![m.id.to_string(), m.starts_at.to_string(), m.title.clone(), m.decisions.len().to_string()]
        })
        .collect();
    output::table(&["MEETING", "STARTS", "TITLE", "DECISIONS"], &rows);
    let rows: Vec<Vec<String>> = group
        .action_items
        .iter()
        .map(|i| {
            vec![
                i.id.to_string(),
                i.due.to_string(),
                i.status.as_str().into(),
                i.title.clone(),
                i.strategy.map(|l| l.action.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    output::table(&["ITEM", "DUE", "STATUS", "TITLE", "STRATEGY ACTION"], &rows);
    let rows: Vec<Vec<String>> =
        group.documents.iter().map(|d| vec![d.id.to_string(), d.tlp.to_string(), d.title.clone()]).collect();
    output::table(&["DOCUMENT", "TLP", "TITLE"], &rows);
}
