//! The after-action report of an exercise: per inject when it was delivered and who responded
//! when (time to respond, late or not), the objectives with the facilitators' assessment, their
//! observations and lessons learned; as data (JSON), Markdown and HTML, with its texts in
//! English, Bosnian, Croatian, Serbian Latin and Serbian Cyrillic.
//!
//! Participants are shown by name; the caller supplies the names, so the report needs no user
//! registry. Facilitator notes of injects are part of the report (it is the facilitators'), and
//! every text is escaped in HTML.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use neretva_governance::check_texts::to_cyrillic;
use neretva_model::contact::Language;
use neretva_model::text::html_escape;
use neretva_model::{Timestamp, Uuid};
use serde::Serialize;
use time::Duration;

use crate::course::text_in;
use crate::exercise::run::{Delivery, Exercise, InjectStatus, Rating, Response, timeline};
use crate::exercise::scenario::{Scenario, format_offset};

/// The report, as the JSON format writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub language: String,
    pub exercise: String,
    pub scenario: String,
    pub code: String,
    pub version: u32,
    pub state: &'static str,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<Timestamp>,
    /// Exercise time (without pauses), in seconds.
    pub exercise_seconds: i64,
    pub participants: Vec<ReportParticipant>,
    pub injects: Vec<ReportInject>,
    pub objectives: Vec<ReportObjective>,
    pub observations: Vec<String>,
    pub responses: usize,
    pub late_responses: usize,
}

/// A participant and the role played.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportParticipant {
    pub name: String,
    pub role: String,
}

/// One inject in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportInject {
    pub id: String,
    pub offset: String,
    pub title: String,
    /// `delivered`, `skipped` or `not_delivered`.
    pub status: &'static str,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<Timestamp>,
    pub released_early: bool,
    pub expects_response: bool,
    /// Role names it went to; empty means every role.
    pub roles: Vec<String>,
    pub notes: String,
    pub responses: Vec<ReportResponse>,
}

/// One response in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportResponse {
    pub participant: String,
    pub role: String,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: Timestamp,
    pub seconds_to_respond: i64,
    pub late: bool,
    pub text: String,
}

/// One objective with its assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportObjective {
    pub id: String,
    pub text: String,
    /// `met`, `partially` or `not_met`; none when not assessed.
    pub rating: Option<&'static str>,
    pub notes: String,
}

/// Builds the report in `language` (the scenario's default when it has not that language).
pub fn build(
    scenario: &Scenario,
    run: &Exercise,
    deliveries: &[Delivery],
    responses: &[Response],
    names: &BTreeMap<Uuid, String>,
    language: Language,
) -> Report {
    let fallback = scenario.default_language();
    let text = |texts| text_in(texts, language, fallback).to_owned();
    let name_of = |user: Uuid| names.get(&user).cloned().unwrap_or_else(|| user.to_string());
    let role_name = |role: &str| scenario.role(role).map_or_else(|| role.to_owned(), |r| text(&r.name));
    let now = run.ended_at.or(run.paused_at).or(run.started_at).unwrap_or(run.created_at);
    let injects = timeline(scenario, run, deliveries, responses, now)
        .into_iter()
        .map(|entry| {
            let (status, delivered_at, released_early) = match &entry.status {
                InjectStatus::Delivered(delivery) => {
                    ("delivered", Some(delivery.delivered_at), delivery.released_by.is_some())
                }
                InjectStatus::Skipped(_) => ("skipped", None, false),
                InjectStatus::Pending { .. } => ("not_delivered", None, false),
            };
            ReportInject {
                id: entry.inject.id.clone(),
                offset: format_offset(entry.inject.offset_seconds),
                title: text(&entry.inject.title),
                status,
                delivered_at,
                released_early,
                expects_response: entry.inject.expects_response,
                roles: entry.inject.roles.iter().map(|role| role_name(role)).collect(),
                notes: text(&entry.inject.notes),
                responses: entry
                    .responses
                    .iter()
                    .map(|response| ReportResponse {
                        participant: name_of(response.user_id),
                        role: role_name(&response.role),
                        submitted_at: response.submitted_at,
                        seconds_to_respond: delivered_at
                            .map_or(0, |at| (response.submitted_at - at).whole_seconds().max(0)),
                        late: response.late,
                        text: response.text.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    let objectives = scenario
        .objectives
        .iter()
        .map(|objective| {
            let assessed = run.assessment.objectives.get(&objective.id);
            ReportObjective {
                id: objective.id.clone(),
                text: text(&objective.text),
                rating: assessed.map(|a| a.rating.as_str()),
                notes: assessed.map(|a| a.notes.clone()).unwrap_or_default(),
            }
        })
        .collect();
    Report {
        language: language.tag().to_owned(),
        exercise: run.name.clone(),
        scenario: text(&scenario.title),
        code: scenario.code.clone(),
        version: scenario.version,
        state: run.state.as_str(),
        started_at: run.started_at,
        ended_at: run.ended_at,
        exercise_seconds: run.elapsed(now).whole_seconds(),
        participants: run
            .participants
            .iter()
            .map(|p| ReportParticipant { name: name_of(p.user_id), role: role_name(&p.role) })
            .collect(),
        injects,
        objectives,
        observations: run.assessment.observations.clone(),
        responses: responses.len(),
        late_responses: responses.iter().filter(|r| r.late).count(),
    }
}

/// The fixed texts of the report in one language.
struct Labels {
    heading: &'static str,
    scenario: &'static str,
    state: &'static str,
    states: [&'static str; 4],
    started: &'static str,
    ended: &'static str,
    exercise_time: &'static str,
    participants: &'static str,
    responses: &'static str,
    late_responses: &'static str,
    timeline: &'static str,
    delivered: &'static str,
    released_early: &'static str,
    skipped: &'static str,
    not_delivered: &'static str,
    to_roles: &'static str,
    all_roles: &'static str,
    response_expected: &'static str,
    no_responses: &'static str,
    time_to_respond: &'static str,
    late: &'static str,
    facilitator_notes: &'static str,
    objectives: &'static str,
    ratings: [&'static str; 3],
    not_assessed: &'static str,
    observations: &'static str,
    none_recorded: &'static str,
}

const EN: Labels = Labels {
    heading: "After-action report",
    scenario: "Scenario",
    state: "State",
    states: ["planned", "running", "paused", "ended"],
    started: "Started",
    ended: "Ended",
    exercise_time: "Exercise time",
    participants: "Participants",
    responses: "Responses",
    late_responses: "late",
    timeline: "Timeline",
    delivered: "Delivered",
    released_early: "released early by a facilitator",
    skipped: "Skipped by a facilitator",
    not_delivered: "Not delivered",
    to_roles: "To",
    all_roles: "all roles",
    response_expected: "A response was expected.",
    no_responses: "No responses.",
    time_to_respond: "time to respond",
    late: "late",
    facilitator_notes: "Facilitator notes",
    objectives: "Objectives",
    ratings: ["met", "partially met", "not met"],
    not_assessed: "not assessed",
    observations: "Observations and lessons learned",
    none_recorded: "None recorded.",
};

const BS: Labels = Labels {
    heading: "Izvještaj nakon vježbe",
    scenario: "Scenarij",
    state: "Status",
    states: ["planirana", "u toku", "pauzirana", "završena"],
    started: "Početak",
    ended: "Kraj",
    exercise_time: "Trajanje vježbe",
    participants: "Učesnici",
    responses: "Odgovori",
    late_responses: "sa zakašnjenjem",
    timeline: "Hronologija",
    delivered: "Dostavljeno",
    released_early: "voditelj vježbe pustio ranije",
    skipped: "Voditelj vježbe preskočio",
    not_delivered: "Nije dostavljeno",
    to_roles: "Za",
    all_roles: "sve uloge",
    response_expected: "Očekivao se odgovor.",
    no_responses: "Nema odgovora.",
    time_to_respond: "vrijeme do odgovora",
    late: "sa zakašnjenjem",
    facilitator_notes: "Napomene za voditelja",
    objectives: "Ciljevi",
    ratings: ["ispunjen", "djelimično ispunjen", "nije ispunjen"],
    not_assessed: "nije ocijenjen",
    observations: "Zapažanja i naučene lekcije",
    none_recorded: "Ništa nije zabilježeno.",
};

const HR: Labels = Labels {
    heading: "Izvješće nakon vježbe",
    scenario: "Scenarij",
    state: "Stanje",
    states: ["planirana", "u tijeku", "pauzirana", "završena"],
    started: "Početak",
    ended: "Završetak",
    exercise_time: "Trajanje vježbe",
    participants: "Sudionici",
    responses: "Odgovori",
    late_responses: "sa zakašnjenjem",
    timeline: "Kronologija",
    delivered: "Dostavljeno",
    released_early: "voditelj vježbe pustio ranije",
    skipped: "Voditelj vježbe preskočio",
    not_delivered: "Nije dostavljeno",
    to_roles: "Za",
    all_roles: "sve uloge",
    response_expected: "Očekivao se odgovor.",
    no_responses: "Nema odgovora.",
    time_to_respond: "vrijeme do odgovora",
    late: "sa zakašnjenjem",
    facilitator_notes: "Bilješke za voditelja",
    objectives: "Ciljevi",
    ratings: ["ispunjen", "djelomično ispunjen", "nije ispunjen"],
    not_assessed: "nije ocijenjen",
    observations: "Zapažanja i naučene lekcije",
    none_recorded: "Ništa nije zabilježeno.",
};

const SR: Labels = Labels {
    heading: "Izveštaj nakon vežbe",
    scenario: "Scenario",
    state: "Status",
    states: ["planirana", "u toku", "pauzirana", "završena"],
    started: "Početak",
    ended: "Kraj",
    exercise_time: "Trajanje vežbe",
    participants: "Učesnici",
    responses: "Odgovori",
    late_responses: "sa zakašnjenjem",
    timeline: "Hronologija",
    delivered: "Dostavljeno",
    released_early: "voditelj vežbe pustio ranije",
    skipped: "Voditelj vežbe preskočio",
    not_delivered: "Nije dostavljeno",
    to_roles: "Za",
    all_roles: "sve uloge",
    response_expected: "Očekivao se odgovor.",
    no_responses: "Nema odgovora.",
    time_to_respond: "vreme do odgovora",
    late: "sa zakašnjenjem",
    facilitator_notes: "Beleške za voditelja",
    objectives: "Ciljevi",
    ratings: ["ispunjen", "delimično ispunjen", "nije ispunjen"],
    not_assessed: "nije ocenjen",
    observations: "Zapažanja i naučene lekcije",
    none_recorded: "Ništa nije zabeleženo.",
};

/// A fixed text in the report's language: Serbian Cyrillic is the Latin text transliterated.
struct Texts {
    labels: &'static Labels,
    cyrillic: bool,
}

impl Texts {
    fn new(language: &str) -> Texts {
        let (labels, cyrillic) = match language {
            "bs" => (&BS, false),
            "hr" => (&HR, false),
            "sr-Latn" => (&SR, false),
            "sr-Cyrl" => (&SR, true),
            _ => (&EN, false),
        };
        Texts { labels, cyrillic }
    }

    fn get(&self, pick: impl Fn(&Labels) -> &'static str) -> String {
        let text = pick(self.labels);
        if self.cyrillic { to_cyrillic(text) } else { text.to_owned() }
    }

    fn state(&self, state: &str) -> String {
        let index = match state {
            "planned" => 0,
            "running" => 1,
            "paused" => 2,
            _ => 3,
        };
        self.get(|l| l.states[index])
    }

    fn rating(&self, rating: Option<&str>) -> String {
        match rating.and_then(Rating::parse) {
            Some(Rating::Met) => self.get(|l| l.ratings[0]),
            Some(Rating::Partially) => self.get(|l| l.ratings[1]),
            Some(Rating::NotMet) => self.get(|l| l.ratings[2]),
            None => self.get(|l| l.not_assessed),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
fn when(at: Timestamp) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// `h:mm:ss`.
fn span(seconds: i64) -> String {
    let seconds = seconds.max(0);
    format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

fn span_of(duration: Duration) -> String {
    span(duration.whole_seconds())
}

/// Markdown text made inert where it would start markup: one line, special characters escaped.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!' => {
                out.push('\\');
                out.push(c);
            }
            other => out.push(other),
        }
    }
    out
}

/// The report as Markdown; participants' texts and facilitators' notes are escaped.
pub fn render_markdown(report: &Report) -> String {
    let t = Texts::new(&report.language);
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", t.get(|l| l.heading), md(&report.exercise));
    let _ = writeln!(
        out,
        "- {}: {} ({} v{})",
        t.get(|l| l.scenario),
        md(&report.scenario),
        report.code,
        report.version
    );
    let _ = writeln!(out, "- {}: {}", t.get(|l| l.state), t.state(report.state));
    if let Some(at) = report.started_at {
        let _ = writeln!(out, "- {}: {}", t.get(|l| l.started), when(at));
    }
    if let Some(at) = report.ended_at {
        let _ = writeln!(out, "- {}: {}", t.get(|l| l.ended), when(at));
    }
    let _ = writeln!(out, "- {}: {}", t.get(|l| l.exercise_time), span(report.exercise_seconds));
    let _ = writeln!(
        out,
        "- {}: {} ({} {})",
        t.get(|l| l.responses),
        report.responses,
        report.late_responses,
        t.get(|l| l.late_responses)
    );
    let _ = writeln!(out, "\n## {}\n", t.get(|l| l.participants));
    for participant in &report.participants {
        let _ = writeln!(out, "- {} ({})", md(&participant.name), md(&participant.role));
    }
    let _ = writeln!(out, "\n## {}\n", t.get(|l| l.timeline));
    for inject in &report.injects {
        let _ = writeln!(out, "### {} {}\n", inject.offset, md(&inject.title));
        let status = match (inject.status, inject.delivered_at) {
            ("delivered", Some(at)) if inject.released_early => {
                format!("{}: {} ({})", t.get(|l| l.delivered), when(at), t.get(|l| l.released_early))
            }
            ("delivered", Some(at)) => format!("{}: {}", t.get(|l| l.delivered), when(at)),
            ("skipped", _) => t.get(|l| l.skipped),
            _ => t.get(|l| l.not_delivered),
        };
        let _ = writeln!(out, "- {status}");
        let roles = if inject.roles.is_empty() {
            t.get(|l| l.all_roles)
        } else {
            inject.roles.iter().map(|role| md(role)).collect::<Vec<_>>().join(", ")
        };
        let _ = writeln!(out, "- {}: {roles}", t.get(|l| l.to_roles));
        if !inject.notes.is_empty() {
            let _ = writeln!(out, "- {}: {}", t.get(|l| l.facilitator_notes), md(&inject.notes));
        }
        if inject.expects_response {
            let _ = writeln!(out, "\n{}\n", t.get(|l| l.response_expected));
            if inject.responses.is_empty() {
                let _ = writeln!(out, "{}", t.get(|l| l.no_responses));
            }
            for response in &inject.responses {
                let late = if response.late { format!(", **{}**", t.get(|l| l.late)) } else { String::new() };
                let _ = writeln!(
                    out,
                    "- {} ({}), {}, {} {}{late}: {}",
                    md(&response.participant),
                    md(&response.role),
                    when(response.submitted_at),
                    t.get(|l| l.time_to_respond),
                    span(response.seconds_to_respond),
                    md(&response.text)
                );
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## {}\n", t.get(|l| l.objectives));
    for objective in &report.objectives {
        let notes =
            if objective.notes.is_empty() { String::new() } else { format!(" — {}", md(&objective.notes)) };
        let _ = writeln!(out, "- **{}**: {}{notes}", t.rating(objective.rating), md(&objective.text));
    }
    let _ = writeln!(out, "\n## {}\n", t.get(|l| l.observations));
    if report.observations.is_empty() {
        let _ = writeln!(out, "{}", t.get(|l| l.none_recorded));
    }
    for observation in &report.observations {
        let _ = writeln!(out, "- {}", md(observation));
    }
    out
}

/// The report as a whole HTML page; every text is escaped.
pub fn render_html(report: &Report) -> String {
    let t = Texts::new(&report.language);
    let e = html_escape;
    let mut out = String::new();
    let heading = format!("{}: {}", t.get(|l| l.heading), report.exercise);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}.late{{color:#b00}}\
         blockquote{{white-space:pre-wrap}}</style>\n</head>\n<body>\n<h1>{}</h1>",
        e(&report.language),
        e(&heading),
        e(&heading)
    );
    let _ = writeln!(out, "<dl>");
    let mut row = |term: String, value: String| {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", e(&term), e(&value));
    };
    row(t.get(|l| l.scenario), format!("{} ({} v{})", report.scenario, report.code, report.version));
    row(t.get(|l| l.state), t.state(report.state));
    if let Some(at) = report.started_at {
        row(t.get(|l| l.started), when(at));
    }
    if let Some(at) = report.ended_at {
        row(t.get(|l| l.ended), when(at));
    }
    row(t.get(|l| l.exercise_time), span(report.exercise_seconds));
    row(
        t.get(|l| l.responses),
        format!("{} ({} {})", report.responses, report.late_responses, t.get(|l| l.late_responses)),
    );
    let _ = writeln!(out, "</dl>\n<h2>{}</h2>\n<ul>", e(&t.get(|l| l.participants)));
    for participant in &report.participants {
        let _ = writeln!(out, "<li>{} ({})</li>", e(&participant.name), e(&participant.role));
    }
    let _ = writeln!(out, "</ul>\n<h2>{}</h2>", e(&t.get(|l| l.timeline)));
    for inject in &report.injects {
        let _ = writeln!(out, "<section>\n<h3>{} {}</h3>\n<ul>", e(&inject.offset), e(&inject.title));
        let status = match (inject.status, inject.delivered_at) {
            ("delivered", Some(at)) if inject.released_early => {
                format!("{}: {} ({})", t.get(|l| l.delivered), when(at), t.get(|l| l.released_early))
            }
            ("delivered", Some(at)) => format!("{}: {}", t.get(|l| l.delivered), when(at)),
            ("skipped", _) => t.get(|l| l.skipped),
            _ => t.get(|l| l.not_delivered),
        };
        let _ = writeln!(out, "<li>{}</li>", e(&status));
        let roles = if inject.roles.is_empty() { t.get(|l| l.all_roles) } else { inject.roles.join(", ") };
        let _ = writeln!(out, "<li>{}: {}</li>", e(&t.get(|l| l.to_roles)), e(&roles));
        if !inject.notes.is_empty() {
            let _ = writeln!(out, "<li>{}: {}</li>", e(&t.get(|l| l.facilitator_notes)), e(&inject.notes));
        }
        let _ = writeln!(out, "</ul>");
        if inject.expects_response {
            let _ = writeln!(out, "<p>{}</p>", e(&t.get(|l| l.response_expected)));
            if inject.responses.is_empty() {
                let _ = writeln!(out, "<p>{}</p>", e(&t.get(|l| l.no_responses)));
            }
            for response in &inject.responses {
                let late = if response.late {
                    format!(", <strong class=\"late\">{}</strong>", e(&t.get(|l| l.late)))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "<p>{} ({}), {}, {} {}{late}</p>\n<blockquote>{}</blockquote>",
                    e(&response.participant),
                    e(&response.role),
                    e(&when(response.submitted_at)),
                    e(&t.get(|l| l.time_to_respond)),
                    span(response.seconds_to_respond),
                    e(&response.text)
                );
            }
        }
        let _ = writeln!(out, "</section>");
    }
    let _ = writeln!(out, "<h2>{}</h2>\n<ul>", e(&t.get(|l| l.objectives)));
    for objective in &report.objectives {
        let notes =
            if objective.notes.is_empty() { String::new() } else { format!(" — {}", e(&objective.notes)) };
        let _ = writeln!(
            out,
            "<li><strong>{}</strong>: {}{notes}</li>",
            e(&t.rating(objective.rating)),
            e(&objective.text)
        );
    }
    let _ = writeln!(out, "</ul>\n<h2>{}</h2>", e(&t.get(|l| l.observations)));
    if report.observations.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", e(&t.get(|l| l.none_recorded)));
    } else {
        let _ = writeln!(out, "<ul>");
        for observation in &report.observations {
            let _ = writeln!(out, "<li>{}</li>", e(observation));
        }
        let _ = writeln!(out, "</ul>");
    }
    let _ = writeln!(out, "</body>\n</html>");
    out
}

/// Exercise time as `h:mm:ss`, for listings.
pub fn format_span(duration: Duration) -> String {
    span_of(duration)
}
