//! Incident updates for the organisations an incident concerns: a message when its status
//! changes, and reminders of the NIS2 reports the reporting entity owes (before a report is due,
//! and once when it is overdue).
//!
//! Each update has a *topic*, unique per incident and organisation (`status/resolved`,
//! `reminder/final_report/1767225600/60m`, `reminder/final_report/1767225600/overdue`); the
//! store records a topic once, so an update is made once however often the notifier runs.
//!
//! Templates see, for a status change: `cert`, `org`, `language`, `tlp`, `tlp_text`,
//! `incident` (its id), `title`, `short_title`, `status` (the slug), `status_name`,
//! `status_text`, `changed_at` and `text` (the language's phrases); for a reminder the same
//! without the status fields, and `obligation` (the slug), `report` (its name), `basis`,
//! `due_at`, `overdue`, `remaining` and `late`.

use std::collections::{BTreeMap, BTreeSet};

use neretva_incident::deadline::{Obligation, ObligationKind, Party};
use neretva_incident::workflow::Status;
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_model::{Timestamp, Uuid};
use serde::Serialize;
use time::Duration;

use crate::render::{Renderer, show_time};
use crate::texts::{IncidentTexts, builtin};
use crate::{Content, NotifyError};

/// How long after its due time an overdue report is still reminded of; older ones are left to
/// the analysts' queue (so a notifier started late does not send a flood of old reminders).
pub const OVERDUE_WINDOW: Duration = Duration::days(7);

/// The longest title shown in a subject, in characters.
const SHORT_TITLE: usize = 60;

/// The phrase templates of incident updates, by name.
pub(crate) fn phrases(texts: &IncidentTexts) -> [(&'static str, &str); 7] {
    [
        ("status_subject", &texts.status_subject),
        ("status_intro", &texts.status_intro),
        ("reminder_subject", &texts.reminder_subject),
        ("reminder_intro", &texts.reminder_intro),
        ("overdue_subject", &texts.overdue_subject),
        ("overdue_intro", &texts.overdue_intro),
        ("submit", &texts.submit),
    ]
}

/// The topic of a status announcement.
pub fn status_topic(status: Status) -> String {
    format!("status/{}", status.as_str())
}

/// The stored spelling of an obligation, e.g. `final_report`.
pub fn obligation_slug(kind: ObligationKind) -> &'static str {
    match kind {
        ObligationKind::EarlyWarning => "early_warning",
        ObligationKind::Notification => "notification",
        ObligationKind::CsirtFeedback => "csirt_feedback",
        ObligationKind::IntermediateReport => "intermediate_report",
        ObligationKind::FinalReport => "final_report",
        ObligationKind::ProgressReport => "progress_report",
        ObligationKind::GdprNotification => "gdpr_notification",
    }
}

/// Whether the reporting entity is reminded of an obligation: the NIS2 Art. 23 reports it owes
/// to the CSIRT (not the CSIRT's own feedback, nor the GDPR notification, which goes to the
/// data protection authority).
pub fn reminded(kind: ObligationKind) -> bool {
    matches!(
        kind,
        ObligationKind::EarlyWarning
            | ObligationKind::Notification
            | ObligationKind::IntermediateReport
            | ObligationKind::FinalReport
            | ObligationKind::ProgressReport
    )
}

/// The topic of a reminder: the report, its due time (a report whose due time moves is a new
/// deadline) and the lead time, or `overdue`.
pub fn reminder_topic(kind: ObligationKind, due_at: Timestamp, lead: Option<Duration>) -> String {
    let slug = obligation_slug(kind);
    let due = due_at.unix_timestamp();
    match lead {
        Some(lead) => format!("reminder/{slug}/{due}/{}m", lead.whole_minutes()),
        None => format!("reminder/{slug}/{due}/overdue"),
    }
}

/// A reminder to make now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    pub kind: ObligationKind,
    pub due_at: Timestamp,
    /// The lead time whose reminder this is; `None` when the report is overdue.
    pub lead: Option<Duration>,
    /// Every topic this reminder settles: its own and those of longer lead times whose moment
    /// passed without a reminder (the shortest one stands for them).
    pub topics: Vec<String>,
}

/// The reminders due at `now` for an incident's obligations: for each open report the entity
/// owes, the reminder of the shortest lead time already reached (once), or, after the due time
/// and within [`OVERDUE_WINDOW`], the overdue reminder (once). `done` holds the topics already
/// recorded; a report submitted is met, so it is not reminded of.
pub fn due_reminders(
    obligations: &[Obligation],
    leads: &[Duration],
    done: &BTreeSet<String>,
    now: Timestamp,
) -> Vec<DueReminder> {
    let mut due = Vec::new();
    for obligation in obligations {
        if obligation.owed_by != Party::Entity || !reminded(obligation.kind) || !obligation.state.is_open() {
            continue;
        }
        let (kind, due_at) = (obligation.kind, obligation.due_at);
        if now > due_at {
            let topic = reminder_topic(kind, due_at, None);
            if now - due_at <= OVERDUE_WINDOW && !done.contains(&topic) {
                due.push(DueReminder { kind, due_at, lead: None, topics: vec![topic] });
            }
            continue;
        }
        let mut reached: Vec<Duration> =
            leads.iter().copied().filter(|lead| *lead > Duration::ZERO && now >= due_at - *lead).collect();
        reached.sort();
        reached.dedup();
        let Some(shortest) = reached.first().copied() else { continue };
        if done.contains(&reminder_topic(kind, due_at, Some(shortest))) {
            continue;
        }
        let topics = reached
            .iter()
            .map(|lead| reminder_topic(kind, due_at, Some(*lead)))
            .filter(|topic| !done.contains(topic))
            .collect();
        due.push(DueReminder { kind, due_at, lead: Some(shortest), topics });
    }
    due
}

/// What a status change message is about.
#[derive(Debug, Clone)]
pub struct StatusUpdate<'a> {
    /// The CERT's name as it signs its messages.
    pub cert: &'a str,
    pub org: &'a str,
    pub language: Language,
    /// The incident's TLP.
    pub tlp: Tlp,
    pub incident_id: Uuid,
    pub title: &'a str,
    pub status: Status,
    /// When the incident was last changed (the change of status, or a later one).
    pub changed_at: Timestamp,
}

/// What a reminder is about.
#[derive(Debug, Clone)]
pub struct ReminderUpdate<'a> {
    pub cert: &'a str,
    pub org: &'a str,
    pub language: Language,
    pub tlp: Tlp,
    pub incident_id: Uuid,
    pub title: &'a str,
    pub kind: ObligationKind,
    pub due_at: Timestamp,
    pub now: Timestamp,
}

/// The template context of a status change.
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    pub cert: String,
    pub org: String,
    pub language: String,
    pub tlp: String,
    pub tlp_text: String,
    pub incident: String,
    pub title: String,
    pub short_title: String,
    pub status: String,
    pub status_name: String,
    pub status_text: String,
    pub changed_at: String,
    pub text: BTreeMap<String, String>,
}

/// The template context of a reminder.
#[derive(Debug, Clone, Serialize)]
pub struct ReminderView {
    pub cert: String,
    pub org: String,
    pub language: String,
    pub tlp: String,
    pub tlp_text: String,
    pub incident: String,
    pub title: String,
    pub short_title: String,
    pub obligation: String,
    pub report: String,
    pub basis: String,
    pub due_at: String,
    pub overdue: bool,
    /// The time left until the due time (empty when overdue).
    pub remaining: String,
    /// How long the report is overdue (empty before the due time).
    pub late: String,
    pub text: BTreeMap<String, String>,
}

/// A title on one line without control characters, and its short form for subjects.
fn titles(title: &str) -> (String, String) {
    let clean: String =
        title.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned();
    let short = if clean.chars().count() > SHORT_TITLE {
        format!("{}…", clean.chars().take(SHORT_TITLE - 1).collect::<String>().trim_end())
    } else {
        clean.clone()
    };
    (clean, short)
}

/// A duration in days, hours and minutes (`2 d 5 h`, `5 h 59 min`, `12 min`), rounded down.
fn show_duration(duration: Duration, texts: &IncidentTexts) -> String {
    let minutes = duration.whole_minutes().max(0);
    let (days, hours, minutes) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    if days > 0 {
        format!("{days} {} {hours} {}", texts.day, texts.hour)
    } else if hours > 0 {
        format!("{hours} {} {minutes} {}", texts.hour, texts.minute)
    } else {
        format!("{minutes} {}", texts.minute)
    }
}

/// Renders the phrases `names` (the first is the subject, the second the introduction) into
/// `text`, and the language's greeting and the update's closing.
fn fill_text(
    renderer: &Renderer,
    language: Language,
    names: [&str; 2],
    view: &impl Serialize,
    texts: &IncidentTexts,
) -> Result<BTreeMap<String, String>, NotifyError> {
    let mut text = BTreeMap::new();
    text.insert("subject".to_owned(), renderer.phrase(language, &format!("incident.{}", names[0]), view)?);
    text.insert("intro".to_owned(), renderer.phrase(language, &format!("incident.{}", names[1]), view)?);
    text.insert("greeting".to_owned(), renderer.phrase(language, "greeting", view)?);
    text.insert("submit".to_owned(), renderer.phrase(language, "incident.submit", view)?);
    for (key, value) in [
        ("reference", &texts.reference),
        ("title", &texts.title),
        ("status", &texts.status),
        ("changed", &texts.changed),
        ("report", &texts.report),
        ("due", &texts.due),
        ("remaining", &texts.remaining),
        ("late", &texts.late),
        ("closing", &texts.closing),
    ] {
        text.insert(key.to_owned(), value.clone());
    }
    Ok(text)
}

/// Renders a subject (one line) and a body with the overridable templates `kind_subject` and
/// `kind_body`.
fn render(
    renderer: &Renderer,
    kind: &str,
    language: Language,
    view: &impl Serialize,
) -> Result<Content, NotifyError> {
    let subject = renderer.render_named(&renderer.pick(&format!("{kind}_subject"), language), view)?;
    let body = renderer.render_named(&renderer.pick(&format!("{kind}_body"), language), view)?;
    Ok(Content { subject: crate::mime::one_line(&subject), body, attachments: Vec::new() })
}

/// The template context of a status change.
pub fn status_view(renderer: &Renderer, update: &StatusUpdate<'_>) -> Result<StatusView, NotifyError> {
    let all = builtin(update.language);
    let texts = &all.incident;
    let (title, short_title) = titles(update.title);
    let status = texts.statuses.get(update.status.as_str());
    let mut view = StatusView {
        cert: update.cert.to_owned(),
        org: update.org.to_owned(),
        language: update.language.tag().to_owned(),
        tlp: update.tlp.label().to_owned(),
        tlp_text: all.tlp_text(update.tlp).to_owned(),
        incident: update.incident_id.to_string(),
        title,
        short_title,
        status: update.status.as_str().to_owned(),
        status_name: status.map_or_else(|| update.status.as_str().to_owned(), |s| s.name.clone()),
        status_text: status.map(|s| s.text.clone()).unwrap_or_default(),
        changed_at: show_time(update.changed_at),
        text: BTreeMap::new(),
    };
    view.text = fill_text(renderer, update.language, ["status_subject", "status_intro"], &view, texts)?;
    Ok(view)
}

/// Renders a status change message: subject and body, no attachments.
pub fn status_content(renderer: &Renderer, update: &StatusUpdate<'_>) -> Result<Content, NotifyError> {
    let view = status_view(renderer, update)?;
    render(renderer, "status", update.language, &view)
}

/// The template context of a reminder.
pub fn reminder_view(renderer: &Renderer, update: &ReminderUpdate<'_>) -> Result<ReminderView, NotifyError> {
    let all = builtin(update.language);
    let texts = &all.incident;
    let (title, short_title) = titles(update.title);
    let slug = obligation_slug(update.kind);
    let overdue = update.now > update.due_at;
    let mut view = ReminderView {
        cert: update.cert.to_owned(),
        org: update.org.to_owned(),
        language: update.language.tag().to_owned(),
        tlp: update.tlp.label().to_owned(),
        tlp_text: all.tlp_text(update.tlp).to_owned(),
        incident: update.incident_id.to_string(),
        title,
        short_title,
        obligation: slug.to_owned(),
        report: texts.reports.get(slug).cloned().unwrap_or_else(|| slug.replace('_', " ")),
        basis: update.kind.basis().to_owned(),
        due_at: show_time(update.due_at),
        overdue,
        remaining: if overdue { String::new() } else { show_duration(update.due_at - update.now, texts) },
        late: if overdue { show_duration(update.now - update.due_at, texts) } else { String::new() },
        text: BTreeMap::new(),
    };
    let names =
        if overdue { ["overdue_subject", "overdue_intro"] } else { ["reminder_subject", "reminder_intro"] };
    view.text = fill_text(renderer, update.language, names, &view, texts)?;
    Ok(view)
}

/// Renders a reminder (before the due time) or an overdue notice: subject and body.
pub fn reminder_content(renderer: &Renderer, update: &ReminderUpdate<'_>) -> Result<Content, NotifyError> {
    let view = reminder_view(renderer, update)?;
    render(renderer, "reminder", update.language, &view)
}

#[cfg(test)]
mod tests {
    use neretva_incident::deadline::ObligationState;
    use time::macros::datetime;

    use super::*;

    fn open(kind: ObligationKind, due_at: Timestamp, state: ObligationState) -> Obligation {
        Obligation { kind, owed_by: kind.owed_by(), due_at, met_at: None, state }
    }

    const DUE: Timestamp = datetime!(2026-11-30 12:00 UTC);

    fn leads() -> Vec<Duration> {
        vec![Duration::hours(6), Duration::hours(1)]
    }

    /// (case, now, topics done, expected lead (minutes, or -1 for overdue) and topics).
    #[test]
    fn reminders_come_once_per_lead_and_once_overdue() {
        let obligations = [open(ObligationKind::Notification, DUE, ObligationState::Due)];
        let topic = |lead: Option<i64>| {
            reminder_topic(ObligationKind::Notification, DUE, lead.map(Duration::minutes))
        };
        type Case = (&'static str, Timestamp, Vec<String>, Vec<(i64, Vec<String>)>);
        let cases: Vec<Case> = vec![
            ("too early", DUE - Duration::hours(7), vec![], vec![]),
            ("six hours before", DUE - Duration::hours(6), vec![], vec![(360, vec![topic(Some(360))])]),
            ("six hours told", DUE - Duration::hours(5), vec![topic(Some(360))], vec![]),
            (
                "one hour before",
                DUE - Duration::minutes(59),
                vec![topic(Some(360))],
                vec![(60, vec![topic(Some(60))])],
            ),
            (
                "both reached at once: the shorter stands for both",
                DUE - Duration::minutes(30),
                vec![],
                vec![(60, vec![topic(Some(60)), topic(Some(360))])],
            ),
            ("one hour told", DUE - Duration::minutes(10), vec![topic(Some(360)), topic(Some(60))], vec![]),
            ("at the due time, not yet overdue", DUE, vec![topic(Some(360)), topic(Some(60))], vec![]),
            ("overdue", DUE + Duration::minutes(1), vec![topic(Some(60))], vec![(-1, vec![topic(None)])]),
            ("overdue told", DUE + Duration::hours(3), vec![topic(None)], vec![]),
            ("long overdue: left to the queue", DUE + OVERDUE_WINDOW + Duration::minutes(1), vec![], vec![]),
        ];
        for (case, now, done, expected) in cases {
            let done: BTreeSet<String> = done.into_iter().collect();
            let got: Vec<(i64, Vec<String>)> = due_reminders(&obligations, &leads(), &done, now)
                .into_iter()
                .map(|r| (r.lead.map_or(-1, |l| l.whole_minutes()), r.topics))
                .collect();
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn met_and_others_obligations_are_not_reminded() {
        let now = DUE - Duration::minutes(30);
        let met = Obligation {
            met_at: Some(now - Duration::hours(1)),
            ..open(ObligationKind::EarlyWarning, DUE, ObligationState::Met)
        };
        let obligations = [
            met,
            open(ObligationKind::CsirtFeedback, DUE, ObligationState::DueSoon),
            open(ObligationKind::GdprNotification, DUE, ObligationState::DueSoon),
            open(ObligationKind::FinalReport, DUE, ObligationState::DueSoon),
        ];
        let due = due_reminders(&obligations, &leads(), &BTreeSet::new(), now);
        assert_eq!(due.iter().map(|r| r.kind).collect::<Vec<_>>(), [ObligationKind::FinalReport]);
        // Without lead times only overdue reports are reminded of.
        assert!(due_reminders(&obligations, &[], &BTreeSet::new(), now).is_empty());
    }

    #[test]
    fn topics_name_the_report_its_due_time_and_the_lead() {
        assert_eq!(
            reminder_topic(ObligationKind::FinalReport, DUE, Some(Duration::hours(1))),
            "reminder/final_report/1796040000/60m"
        );
        assert_eq!(
            reminder_topic(ObligationKind::EarlyWarning, DUE, None),
            "reminder/early_warning/1796040000/overdue"
        );
        assert_eq!(status_topic(Status::InProgress), "status/in_progress");
    }

    #[test]
    fn durations_and_titles() {
        let texts = &builtin(Language::En).incident;
        assert_eq!(show_duration(Duration::minutes(2 * 24 * 60 + 5 * 60 + 7), texts), "2 d 5 h");
        assert_eq!(show_duration(Duration::minutes(5 * 60 + 59), texts), "5 h 59 min");
        assert_eq!(show_duration(Duration::seconds(59), texts), "0 min");
        let (title, short) = titles("Ransomware\nat EP \u{7}".repeat(5).as_str());
        assert!(!title.chars().any(char::is_control), "{title}");
        assert_eq!(short.chars().count(), SHORT_TITLE);
        assert!(short.ends_with('…'));
    }
}
