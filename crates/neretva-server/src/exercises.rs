//! Tabletop exercises at work: the pass that starts exercises at their scheduled time and
//! delivers the injects that are due, shared by the background task of `serve`, the API (a
//! facilitator releasing an inject early) and the command line.
//!
//! A delivery is recorded with the messages that tell each targeted participant (in their
//! language, with the inject's title and text and a link to the exercise), in one write under
//! the run's version; the notifier's delivery pass sends the messages over SMTP, signed, with
//! its retries. An inject is recorded once (the store refuses a second), so a pass that races
//! another, or a server that restarts, never delivers an inject twice; injects missed while the
//! server was down are delivered by the first pass after it comes back, in order.

use std::collections::BTreeMap;

use neretva_governance::check_texts::to_cyrillic;
use neretva_learning::course::text_in;
use neretva_learning::exercise::run::{self, Delivery, State};
use neretva_learning::exercise::scenario::Scenario;
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_model::{Timestamp, Uuid};
use neretva_notifier::{AnnouncementRecipient, Notifier};
use neretva_store::exercises::StoredExercise;
use neretva_store::notifications::{NewMessage, NotificationWrite};
use neretva_store::{Actor, Store, StoreError};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Exercises started at their scheduled time.
    pub started: u64,
    /// Injects delivered.
    pub delivered: u64,
    /// Messages recorded for the notifier to send.
    pub messages: u64,
    /// Exercises whose pass failed (tried again by the next pass).
    pub errors: u64,
}

/// One pass at a time in this process: the background pass and a release through the API do
/// not compute the same delivery twice (the store would refuse the second anyway).
static PASS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The participant's web page of an exercise under the public address.
pub fn exercise_link(public_url: Option<&str>, id: Uuid) -> String {
    format!("{}/exercises/{id}", public_url.unwrap_or("").trim_end_matches('/'))
}

/// Starts the exercises whose scheduled start has come and delivers every inject due at `now`,
/// by the system.
pub async fn run_due(
    store: &dyn Store,
    notifier: Option<&Notifier>,
    public_url: Option<&str>,
    now: Timestamp,
) -> PassSummary {
    let _pass = PASS.lock().await;
    let mut summary = PassSummary::default();
    let exercises = match store.list_exercises().await {
        Ok(exercises) => exercises,
        Err(error) => {
            tracing::warn!(error = %error, "Reading exercises failed.");
            summary.errors += 1;
            return summary;
        }
    };
    for stored in exercises {
        let id = stored.exercise.id;
        if let Err(error) = advance(store, notifier, public_url, stored, now, &mut summary).await {
            summary.errors += 1;
            tracing::warn!(exercise = %id, error = %error, "An exercise pass failed; the next pass tries again.");
        }
    }
    summary
}

async fn advance(
    store: &dyn Store,
    notifier: Option<&Notifier>,
    public_url: Option<&str>,
    mut stored: StoredExercise,
    now: Timestamp,
    summary: &mut PassSummary,
) -> Result<(), StoreError> {
    let run = &stored.exercise;
    if run.state == State::Planned
        && let Some(start) = run.scheduled_start.filter(|start| *start <= now)
    {
        let Ok(started) = run::start(run, start) else { return Ok(()) };
        stored = store
            .update_exercise(&Actor::system(), &started, stored.version, "learning.exercise.start")
            .await?;
        summary.started += 1;
    }
    if stored.exercise.state != State::Running {
        return Ok(());
    }
    let Some(scenario) = store.get_scenario(stored.exercise.scenario_id).await? else {
        return Err(StoreError::not_found("scenario", stored.exercise.scenario_id));
    };
    let due = run::deliveries_due(&scenario.scenario, &stored.exercise, &stored.deliveries, now);
    if due.is_empty() {
        return Ok(());
    }
    let messages = deliver_locked(
        store,
        notifier,
        public_url,
        &Actor::system(),
        &scenario.scenario,
        &stored,
        &due,
        "learning.inject.deliver",
        now,
    )
    .await?;
    summary.delivered += due.len() as u64;
    summary.messages += messages;
    Ok(())
}

/// Records a facilitator's early release of an inject (`learning.inject.release`), with its
/// messages; the caller checked the release with `run::release`.
#[allow(clippy::too_many_arguments)]
pub async fn release(
    store: &dyn Store,
    notifier: Option<&Notifier>,
    public_url: Option<&str>,
    actor: &Actor,
    scenario: &Scenario,
    stored: &StoredExercise,
    delivery: Delivery,
    now: Timestamp,
) -> Result<StoredExercise, StoreError> {
    let _pass = PASS.lock().await;
    deliver_locked(
        store,
        notifier,
        public_url,
        actor,
        scenario,
        stored,
        &[delivery],
        "learning.inject.release",
        now,
    )
    .await?;
    store
        .get_exercise(stored.exercise.id)
        .await?
        .ok_or_else(|| StoreError::not_found("exercise", stored.exercise.id))
}

/// Records deliveries with their messages; returns how many messages were recorded.
#[allow(clippy::too_many_arguments)]
async fn deliver_locked(
    store: &dyn Store,
    notifier: Option<&Notifier>,
    public_url: Option<&str>,
    actor: &Actor,
    scenario: &Scenario,
    stored: &StoredExercise,
    deliveries: &[Delivery],
    action: &str,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let writes = match notifier {
        Some(notifier) => messages(store, notifier, public_url, scenario, stored, deliveries, now).await?,
        None => Vec::new(),
    };
    let count = writes.iter().map(|write| write.messages.len() as u64).sum();
    store.deliver_injects(actor, stored.exercise.id, stored.version, deliveries, action, &writes).await?;
    Ok(count)
}

/// The word "exercise" in the subject line.
fn exercise_word(language: Language) -> String {
    match language {
        Language::En => "Exercise".into(),
        Language::Bs | Language::Hr => "Vježba".into(),
        Language::SrLatn => "Vežba".into(),
        Language::SrCyrl => to_cyrillic("Vežba"),
    }
}

/// The fixed lines of an inject's message: the reply prompt's heading, the deadline, the link.
fn message_lines(language: Language) -> (String, String, String, String) {
    let (intro, respond, deadline, link) = match language {
        Language::En => (
            "This is an exercise inject. It is not a real incident.",
            "Your response is expected",
            "Respond within {m} minutes.",
            "Open the exercise:",
        ),
        Language::Bs => (
            "Ovo je događaj u vježbi. Nije stvarni incident.",
            "Očekuje se vaš odgovor",
            "Odgovorite u roku od {m} minuta.",
            "Otvorite vježbu:",
        ),
        Language::Hr => (
            "Ovo je događaj u vježbi. Nije stvarni incident.",
            "Očekuje se vaš odgovor",
            "Odgovorite u roku od {m} minuta.",
            "Otvorite vježbu:",
        ),
        Language::SrLatn | Language::SrCyrl => (
            "Ovo je događaj u vežbi. Nije stvarni incident.",
            "Očekuje se vaš odgovor",
            "Odgovorite u roku od {m} minuta.",
            "Otvorite vežbu:",
        ),
    };
    let convert = |text: &str| if language == Language::SrCyrl { to_cyrillic(text) } else { text.to_owned() };
    (convert(intro), convert(respond), convert(deadline), convert(link))
}

/// One write per organisation with a message to each participant an inject goes to.
async fn messages(
    store: &dyn Store,
    notifier: &Notifier,
    public_url: Option<&str>,
    scenario: &Scenario,
    stored: &StoredExercise,
    deliveries: &[Delivery],
    now: Timestamp,
) -> Result<Vec<NotificationWrite>, StoreError> {
    let run = &stored.exercise;
    let fallback = scenario.default_language();
    let link = exercise_link(public_url, run.id);
    let mut by_org: BTreeMap<Uuid, Vec<NewMessage>> = BTreeMap::new();
    for delivery in deliveries {
        let Some(inject) = scenario.inject(&delivery.inject_id) else { continue };
        let mut recipients = Vec::new();
        for participant in run.participants.iter().filter(|p| inject.targets(&p.role)) {
            let Some(user) = store.get_user(participant.user_id).await? else { continue };
            if user.disabled {
                continue;
            }
            recipients.push(AnnouncementRecipient {
                org_id: user.org_id,
                name: user.display_name.clone().unwrap_or_else(|| user.username.clone()),
                email: user.email.clone().unwrap_or_default(),
                language: user.language.unwrap_or(fallback),
            });
        }
        let text = |language: Language| {
            let title = text_in(&inject.title, language, fallback);
            let subject = format!("[{}] {}: {title}", exercise_word(language), run.name);
            let (intro, respond, deadline, open) = message_lines(language);
            let mut body = format!("{intro}\n\n{title}\n\n{}\n", text_in(&inject.body, language, fallback));
            if inject.expects_response {
                body.push_str(&format!(
                    "\n{respond}: {}\n",
                    text_in(&inject.response_prompt, language, fallback)
                ));
                if let Some(minutes) = inject.deadline_minutes {
                    body.push_str(&deadline.replace("{m}", &minutes.to_string()));
                    body.push('\n');
                }
            }
            body.push_str(&format!("\n{open} {link}\n"));
            (subject, body)
        };
        let built = notifier
            .announcement_messages(&recipients, Tlp::Amber, text, now)
            .map_err(|error| StoreError::Backend(format!("exercise messages: {error}")))?;
        for mut message in built {
            message.kind = "exercise_inject".into();
            by_org.entry(message.org_id).or_default().push(message);
        }
    }
    Ok(by_org
        .into_iter()
        .map(|(org_id, messages)| NotificationWrite { org_id, messages, ..NotificationWrite::default() })
        .collect())
}
