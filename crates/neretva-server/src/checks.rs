//! Communication checks at work: one pass over a campaign sends what is due at a time (the
//! challenges, the reminders, the escalation) and records each outcome with the hashes of the
//! links sent; shared by the API (`POST /api/v1/communication-checks/{id}/run`), the command
//! line (`neretva checks run`) and the background task of `serve`.
//!
//! Each challenge or reminder carries a new 256-bit token in its link
//! `<public_url>/ack/<token>`; only the token's SHA-256 is stored, and the message is sent at
//! once without being recorded (`Notifier::send_direct`), so the token exists only in the
//! recipient's mailbox. A sending that fails is recorded on its target and tried again by the
//! next pass; a link expires at the campaign's deadline.

use std::collections::BTreeMap;

use neretva_governance::check_texts::{self, ChallengeInput};
use neretva_governance::checks::{self, Step};
use neretva_model::contact::Language;
use neretva_model::{Timestamp, Uuid};
use neretva_notifier::Notifier;
use neretva_notify::Content;
use neretva_notify::mime::Mailbox;
use neretva_store::contact_points::{NewToken, StepRecord, StoredCampaign, StoredTarget};
use neretva_store::{Actor, Store, StoreError};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassSummary {
    pub sent: u64,
    pub reminded: u64,
    pub escalated: u64,
    pub failed: u64,
}

/// The deadline as the e-mails write it.
pub fn written_time(at: Timestamp) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    at.format(&format).unwrap_or_default()
}

/// A new token: 256 random bits as 64 lower-case hex digits.
fn new_token() -> String {
    hex::encode(crate::auth::random_bytes::<32>())
}

/// The link of a token under the public address.
pub fn ack_link(public_url: &str, token: &str) -> String {
    format!("{}/ack/{token}", public_url.trim_end_matches('/'))
}

/// One pass at a time in this process, so the background pass and a pass asked for through the
/// API or the command line do not send the same challenge twice.
static PASS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs the steps of one campaign due at `now`, recorded under `actor`.
pub async fn run_campaign(
    store: &dyn Store,
    notifier: &Notifier,
    public_url: &str,
    actor: &Actor,
    campaign: Uuid,
    now: Timestamp,
) -> Result<PassSummary, StoreError> {
    let _pass = PASS.lock().await;
    let Some(stored) = store.get_check(campaign).await? else {
        return Err(StoreError::not_found("check", campaign));
    };
    let orgs: BTreeMap<Uuid, String> =
        store.list_orgs().await?.into_iter().map(|org| (org.id, org.fields.name)).collect();
    let cert = notifier.config().cert_name.clone();
    let deadline = written_time(stored.campaign.deadline);
    let mut summary = PassSummary::default();
    let mut records = Vec::new();
    let mut silent: Vec<&StoredTarget> = Vec::new();
    for target in &stored.targets {
        let Some(step) = checks::due(&stored.campaign, &target.state, now) else { continue };
        if step == Step::Escalate {
            silent.push(target);
            continue;
        }
        let record =
            challenge(store, notifier, public_url, &stored, target, step, &cert, &orgs, &deadline, now)
                .await?;
        match (&record.error, step) {
            (Some(_), _) => summary.failed += 1,
            (None, Step::Remind) => summary.reminded += 1,
            (None, _) => summary.sent += 1,
        }
        records.push(record);
    }
    if !silent.is_empty() {
        let error = escalate(notifier, &stored, &silent, &cert, &orgs, &deadline, now).await.err();
        if error.is_some() {
            summary.failed += silent.len() as u64;
        } else {
            summary.escalated += silent.len() as u64;
        }
        records.extend(silent.iter().map(|target| StepRecord {
            point_id: target.point_id,
            step: Step::Escalate,
            at: now,
            token: None,
            error: error.clone(),
        }));
    }
    if !records.is_empty() {
        store.record_check_steps(actor, campaign, &records).await?;
    }
    Ok(summary)
}

/// Sends one challenge or reminder with a new link; the record says how it went.
#[allow(clippy::too_many_arguments)]
async fn challenge(
    store: &dyn Store,
    notifier: &Notifier,
    public_url: &str,
    stored: &StoredCampaign,
    target: &StoredTarget,
    step: Step,
    cert: &str,
    orgs: &BTreeMap<Uuid, String>,
    deadline: &str,
    now: Timestamp,
) -> Result<StepRecord, StoreError> {
    let failed = |error: String| StepRecord {
        point_id: target.point_id,
        step,
        at: now,
        token: None,
        error: Some(error),
    };
    // The point as it is now: its address, language or key may have changed since the
    // campaign was created.
    let Some(current) = store.get_contact_point(target.point_id).await? else {
        return Ok(failed("the contact point was deleted".into()));
    };
    let point = current.point;
    let token = new_token();
    let link = ack_link(public_url, &token);
    let org = orgs.get(&point.org_id).map_or("", String::as_str);
    let (subject, body) = check_texts::challenge(
        point.language,
        &ChallengeInput {
            cert,
            campaign: &stored.campaign.name,
            name: &point.name,
            org,
            kind: point.kind,
            link: &link,
            deadline,
            reminder: step == Step::Remind,
        },
    );
    let to = Mailbox { name: Some(point.name.clone()), address: point.email.clone() };
    let content = Content { subject, body, attachments: Vec::new() };
    Ok(match notifier.send_direct(&to, point.pgp_key.as_deref(), &content, now).await {
        Ok(()) => StepRecord {
            point_id: target.point_id,
            step,
            at: now,
            token: Some(NewToken {
                token_hash: checks::token_hash(&token),
                expires_at: stored.campaign.deadline,
            }),
            error: None,
        },
        Err(error) => {
            tracing::warn!(campaign = %stored.campaign.id, to = %point.email, error = %error, "Sending a communication check failed; the next pass tries again.");
            failed(error)
        }
    })
}

/// Sends one escalation listing the silent targets to the campaign's escalation address.
async fn escalate(
    notifier: &Notifier,
    stored: &StoredCampaign,
    silent: &[&StoredTarget],
    cert: &str,
    orgs: &BTreeMap<Uuid, String>,
    deadline: &str,
    now: Timestamp,
) -> Result<(), String> {
    let Some(address) = stored.campaign.escalate_to.as_deref() else {
        return Err("the campaign has no escalation address".into());
    };
    let lines: Vec<String> = silent
        .iter()
        .map(|target| {
            let org = orgs.get(&target.org_id).map_or("?", String::as_str);
            format!("{} <{}> ({org}, {})", target.name, target.email, target.kind.tag())
        })
        .collect();
    let (subject, body) =
        check_texts::escalation(Language::En, cert, &stored.campaign.name, deadline, &lines);
    let to = Mailbox { name: None, address: address.to_owned() };
    let content = Content { subject, body, attachments: Vec::new() };
    notifier.send_direct(&to, None, &content, now).await
}

/// Runs every campaign that is still open at `now`; a campaign whose pass fails is logged and
/// the others go on.
pub async fn run_due(
    store: &dyn Store,
    notifier: &Notifier,
    public_url: &str,
    now: Timestamp,
) -> PassSummary {
    let mut total = PassSummary::default();
    let campaigns = match store.list_checks().await {
        Ok(campaigns) => campaigns,
        Err(error) => {
            tracing::warn!(error = %error, "Listing communication checks failed.");
            return total;
        }
    };
    for stored in campaigns.iter().filter(|stored| stored.campaign.deadline > now) {
        match run_campaign(store, notifier, public_url, &Actor::system(), stored.campaign.id, now).await {
            Ok(summary) => {
                total.sent += summary.sent;
                total.reminded += summary.reminded;
                total.escalated += summary.escalated;
                total.failed += summary.failed;
            }
            Err(error) => {
                tracing::warn!(campaign = %stored.campaign.id, error = %error, "A communication check's pass failed.");
            }
        }
    }
    total
}
