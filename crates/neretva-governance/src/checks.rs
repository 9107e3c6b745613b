//! Communication checks: campaigns that send every contact point in a scope a unique challenge,
//! record who acknowledged it and when, remind and escalate the silent ones, and report
//! reachability and the median response time per campaign and over time.
//!
//! This module holds the pure part: the campaign and its validation, which points a scope
//! takes ([`select`]), what is due for a target at a time ([`due`]), the one-way form a token
//! is stored in ([`token_hash`]), and the statistics ([`campaign_stats`], [`series`],
//! [`report_csv`]). The texts people read are in [`crate::check_texts`].

use std::collections::BTreeSet;

use neretva_model::text::{CsvStyle, csv_line};
use neretva_model::{FieldError, Timestamp, Uuid, check_text};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::contact_points::{ContactPoint, PointKind};

/// The most members (kinds, sectors, organisations, points) a scope names.
pub const MAX_SCOPE_MEMBERS: usize = 1000;
/// The longest a campaign may run, from creation to its deadline.
pub const MAX_DURATION: time::Duration = time::Duration::days(90);

/// Which contact points a campaign reaches: those matching every non-empty list (an empty
/// list does not restrict), plus the points named in `points`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckScope {
    #[serde(default)]
    pub kinds: Vec<PointKind>,
    /// NIS2 sectors of `sector` points.
    #[serde(default)]
    pub sectors: Vec<String>,
    #[serde(default)]
    pub orgs: Vec<Uuid>,
    /// Points taken whatever the other lists say.
    #[serde(default)]
    pub points: Vec<Uuid>,
}

/// A communication-check campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub scope: CheckScope,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    /// Acknowledgments are accepted until then; the links expire at it.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: Timestamp,
    /// When the silent points are reminded (a new link each).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub remind_at: Option<Timestamp>,
    /// When the points still silent are escalated to `escalate_to`.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub escalate_at: Option<Timestamp>,
    /// The address escalations go to (the CERT's coordinator, a duty desk).
    #[serde(default)]
    pub escalate_to: Option<String>,
}

/// Checks a campaign as created at `now`: its name, its dates in order (now < reminder <
/// escalation ≤ deadline, the deadline at most 90 days ahead), its scope (known sectors, no
/// member named twice), and the escalation address. Returns every problem.
pub fn validate(campaign: &Campaign, now: Timestamp) -> Vec<FieldError> {
    let mut problems = Vec::new();
    if let Err(error) = check_text("name", &campaign.name, 200) {
        problems.push(error);
    }
    if campaign.deadline <= now {
        problems.push(FieldError::new("deadline", "must be in the future"));
    } else if campaign.deadline - now > MAX_DURATION {
        problems.push(FieldError::new("deadline", "must be at most 90 days ahead"));
    }
    if let Some(remind_at) = campaign.remind_at {
        if remind_at <= now {
            problems.push(FieldError::new("remind_at", "must be in the future"));
        }
        if remind_at >= campaign.deadline {
            problems.push(FieldError::new("remind_at", "must be before the deadline"));
        }
    }
    if let Some(escalate_at) = campaign.escalate_at {
        if escalate_at <= now {
            problems.push(FieldError::new("escalate_at", "must be in the future"));
        }
        if escalate_at > campaign.deadline {
            problems.push(FieldError::new("escalate_at", "must not be after the deadline"));
        }
        if campaign.remind_at.is_some_and(|remind_at| escalate_at <= remind_at) {
            problems.push(FieldError::new("escalate_at", "must be after remind_at"));
        }
        match campaign.escalate_to.as_deref() {
            None => problems.push(FieldError::new("escalate_to", "an escalation needs an address")),
            Some(address) => {
                if let Err(error) = neretva_model::contact::check_email(address) {
                    problems.push(FieldError::new("escalate_to", error.message));
                }
            }
        }
    } else if campaign.escalate_to.is_some() {
        problems.push(FieldError::new("escalate_at", "an escalation address needs escalate_at"));
    }
    let scope = &campaign.scope;
    let members = scope.kinds.len() + scope.sectors.len() + scope.orgs.len() + scope.points.len();
    if members > MAX_SCOPE_MEMBERS {
        problems.push(FieldError::new("scope", format!("names more than {MAX_SCOPE_MEMBERS} members")));
    }
    duplicates(&mut problems, "scope.kinds", scope.kinds.iter().map(|kind| kind.tag().to_owned()));
    duplicates(&mut problems, "scope.sectors", scope.sectors.iter().cloned());
    duplicates(&mut problems, "scope.orgs", scope.orgs.iter().map(Uuid::to_string));
    duplicates(&mut problems, "scope.points", scope.points.iter().map(Uuid::to_string));
    for (index, sector) in scope.sectors.iter().enumerate() {
        if let Err(error) = neretva_model::org::check_sector(Some(sector), None) {
            problems.push(FieldError::new(format!("scope.sectors[{index}]"), error.message));
        }
    }
    problems
}

fn duplicates(problems: &mut Vec<FieldError>, field: &str, values: impl Iterator<Item = String>) {
    let mut seen = BTreeSet::new();
    for (index, value) in values.enumerate() {
        if !seen.insert(value.clone()) {
            problems.push(FieldError::new(format!("{field}[{index}]"), format!("{value} is named twice")));
        }
    }
}

/// Whether a scope takes a point.
pub fn in_scope(scope: &CheckScope, point: &ContactPoint) -> bool {
    if scope.points.contains(&point.id) {
        return true;
    }
    if scope.kinds.is_empty() && scope.sectors.is_empty() && scope.orgs.is_empty() {
        return scope.points.is_empty();
    }
    (scope.kinds.is_empty() || scope.kinds.contains(&point.kind))
        && (scope.sectors.is_empty()
            || point.sector.as_ref().is_some_and(|sector| scope.sectors.contains(sector)))
        && (scope.orgs.is_empty() || scope.orgs.contains(&point.org_id))
}

/// The points a scope takes, in the given order; a point named in `scope.points` that is not
/// among `points` is a problem on its index, as is an organisation in `scope.orgs` that
/// `known_org` does not know.
pub fn select<'a>(
    scope: &CheckScope,
    points: &'a [ContactPoint],
    known_org: impl Fn(Uuid) -> bool,
) -> Result<Vec<&'a ContactPoint>, Vec<FieldError>> {
    let mut problems = Vec::new();
    for (index, id) in scope.points.iter().enumerate() {
        if !points.iter().any(|point| point.id == *id) {
            problems
                .push(FieldError::new(format!("scope.points[{index}]"), format!("no contact point {id}")));
        }
    }
    for (index, id) in scope.orgs.iter().enumerate() {
        if !known_org(*id) {
            problems.push(FieldError::new(format!("scope.orgs[{index}]"), format!("no organisation {id}")));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let chosen: Vec<&ContactPoint> = points.iter().filter(|point| in_scope(scope, point)).collect();
    if chosen.is_empty() {
        return Err(vec![FieldError::new("scope", "takes no contact point")]);
    }
    Ok(chosen)
}

/// A token's stored form: the SHA-256 of its text, lower-case hex. Tokens are 256-bit random
/// values, so a hash without salt is enough to keep them from being read back.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a text can be a token: 64 lower-case hex digits.
pub fn is_token_shaped(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One target of a campaign, as far as scheduling and statistics need it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetState {
    /// When the first challenge went out.
    pub sent_at: Option<Timestamp>,
    /// Whether the challenge could not be sent (yet).
    pub send_failed: bool,
    pub reminded_at: Option<Timestamp>,
    pub escalated_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
}

/// What a campaign run does for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send the challenge (again, after a failed sending).
    Send,
    Remind,
    Escalate,
}

/// The step due for a target at `now`, if any: nothing after an acknowledgment or the
/// deadline; otherwise the challenge until it went out, then the reminder from `remind_at`
/// and the escalation from `escalate_at`.
pub fn due(campaign: &Campaign, target: &TargetState, now: Timestamp) -> Option<Step> {
    if target.acknowledged_at.is_some() || now >= campaign.deadline {
        return None;
    }
    if target.sent_at.is_none() {
        return Some(Step::Send);
    }
    if let Some(escalate_at) = campaign.escalate_at
        && now >= escalate_at
        && target.escalated_at.is_none()
    {
        return Some(Step::Escalate);
    }
    if let Some(remind_at) = campaign.remind_at
        && now >= remind_at
        && target.reminded_at.is_none()
        && target.escalated_at.is_none()
    {
        return Some(Step::Remind);
    }
    None
}

/// A campaign's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CampaignStats {
    pub targets: u64,
    pub sent: u64,
    pub send_failed: u64,
    pub acknowledged: u64,
    pub reminded: u64,
    pub escalated: u64,
    /// Acknowledged targets as a percentage of all targets, rounded to 0.1; none without
    /// targets.
    pub reachability_percent: Option<f64>,
    /// The median time from the first challenge to the acknowledgment, in seconds, of the
    /// acknowledged targets; none before the first acknowledgment.
    pub median_response_seconds: Option<f64>,
}

/// The median of a list of numbers; the mean of the middle two for an even count.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[middle] } else { (values[middle - 1] + values[middle]) / 2.0 })
}

/// The figures of one campaign's targets.
pub fn campaign_stats(targets: &[TargetState]) -> CampaignStats {
    let count = |test: &dyn Fn(&TargetState) -> bool| targets.iter().filter(|t| test(t)).count() as u64;
    let mut responses: Vec<f64> = targets
        .iter()
        .filter_map(|target| {
            let (sent, acknowledged) = (target.sent_at?, target.acknowledged_at?);
            Some((acknowledged - sent).as_seconds_f64().max(0.0))
        })
        .collect();
    let acknowledged = count(&|t| t.acknowledged_at.is_some());
    CampaignStats {
        targets: targets.len() as u64,
        sent: count(&|t| t.sent_at.is_some()),
        send_failed: count(&|t| t.sent_at.is_none() && t.send_failed),
        acknowledged,
        reminded: count(&|t| t.reminded_at.is_some()),
        escalated: count(&|t| t.escalated_at.is_some()),
        reachability_percent: (!targets.is_empty())
            .then(|| (acknowledged as f64 * 1000.0 / targets.len() as f64).round() / 10.0),
        median_response_seconds: median(&mut responses),
    }
}

/// One campaign in the time series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoint {
    pub campaign: Uuid,
    pub name: String,
    pub created_at: Timestamp,
    pub deadline: Timestamp,
    pub stats: CampaignStats,
}

/// The campaigns' figures in the order they were created.
pub fn series(mut points: Vec<SeriesPoint>) -> Vec<SeriesPoint> {
    points.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.campaign.cmp(&b.campaign)));
    points
}

fn rfc3339(at: Timestamp) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn optional_number(value: Option<f64>) -> String {
    value.map(|value| format!("{value}")).unwrap_or_default()
}

/// The series as CSV for a spreadsheet (formula-like cells made inert), one line per campaign.
pub fn report_csv(points: &[SeriesPoint]) -> String {
    let mut out = csv_line(
        [
            "campaign",
            "name",
            "created_at",
            "deadline",
            "targets",
            "sent",
            "send_failed",
            "acknowledged",
            "reminded",
            "escalated",
            "reachability_percent",
            "median_response_seconds",
        ],
        CsvStyle::Spreadsheet,
    );
    for point in points {
        let stats = &point.stats;
        out.push_str(&csv_line(
            [
                point.campaign.to_string(),
                point.name.clone(),
                rfc3339(point.created_at),
                rfc3339(point.deadline),
                stats.targets.to_string(),
                stats.sent.to_string(),
                stats.send_failed.to_string(),
                stats.acknowledged.to_string(),
                stats.reminded.to_string(),
                stats.escalated.to_string(),
                optional_number(stats.reachability_percent),
                optional_number(stats.median_response_seconds),
            ],
            CsvStyle::Spreadsheet,
        ));
    }
    out
}
