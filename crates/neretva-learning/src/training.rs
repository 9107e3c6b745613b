//! Train-the-trainer: programmes with a curriculum, training sessions with attendance and a
//! standard feedback form, trainer qualification and statistics of people trained.
//!
//! - A [`Programme`] is owned by a national institution (an organisation) and lists its
//!   curriculum: course codes and session topics with hours. Its `trainer_course` is the course
//!   whose certificate is the first half of a trainer's qualification.
//! - A [`Session`] delivers one curriculum item, in person or online, led by a lead trainer with
//!   co-trainers. [`Participant`]s register; attendance is recorded once the session started,
//!   and recording it marks the session held.
//! - [`Feedback`] is the fixed standard form, submitted once by each attendee who was present;
//!   [`summarise`] aggregates it without names.
//! - [`qualifications`] decides who is a qualified trainer of a programme, with reasons.
//! - [`people_trained`] counts distinct people trained by a grouping and a period.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use neretva_model::contact::Language;
use neretva_model::{FieldError, Timestamp};
use serde::{Deserialize, Serialize};
use time::Duration;
use uuid::Uuid;

use crate::course::Texts;
use crate::yaml::{self, Node};

/// The most items a curriculum has.
pub const MAX_CURRICULUM_ITEMS: usize = 200;
/// The longest title, location or short text, in characters.
pub const MAX_SHORT_TEXT: usize = 300;
/// The longest description or free feedback text, in characters.
pub const MAX_LONG_TEXT: usize = 4000;
/// The most co-trainers of a session.
pub const MAX_CO_TRAINERS: usize = 20;
/// The most organisations a closed session is open to.
pub const MAX_AUDIENCE: usize = 200;
/// The largest session.
pub const MAX_CAPACITY: u32 = 10_000;
/// The longest session.
pub const MAX_SESSION_DAYS: i64 = 31;
/// The most co-deliveries a programme may require.
pub const MAX_CO_DELIVERIES: u32 = 50;
/// The co-deliveries a programme requires unless it says otherwise.
pub const DEFAULT_CO_DELIVERIES: u32 = 2;

fn default_co_deliveries() -> u32 {
    DEFAULT_CO_DELIVERIES
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = FieldError;

            fn from_str(text: &str) -> Result<$name, FieldError> {
                $name::ALL.iter().copied().find(|value| value.as_str() == text).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|value| value.as_str()).collect();
                    FieldError::new($what, format!("{text:?} is not one of {}", names.join(", ")))
                })
            }
        }
    };
}

named_enum!(
    /// A participant's profession, for statistics.
    Profession, "profession", {
        Police => "police",
        Prosecution => "prosecution",
        Judiciary => "judiciary",
        Cert => "cert",
        PublicAdministration => "public_administration",
        PrivateSector => "private_sector",
        Academia => "academia",
        Other => "other",
    }
);

named_enum!(
    /// The level of authority a participant works at (state, entity, district or cantonal,
    /// municipal).
    AuthorityLevel, "level", {
        State => "state",
        Entity => "entity",
        District => "district",
        Cantonal => "cantonal",
        Municipal => "municipal",
        Other => "other",
    }
);

/// A learner's profile: who they are for the statistics of people trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub user_id: Uuid,
    /// The learner's organisation when the profile was written; its admins may change it.
    pub org_id: Uuid,
    pub profession: Profession,
    pub level: AuthorityLevel,
    #[serde(default)]
    pub position: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

/// Checks a profile's free text.
pub fn check_profile(profile: &Profile) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(position) = &profile.position {
        short_text(&mut errors, "position", position);
    }
    errors
}

/// One item of a curriculum: a course, a session topic, or both, with its hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurriculumItem {
    /// The code of a course (`neretva learning import`) the item is taught with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course: Option<String>,
    /// The topic of the sessions delivering the item, per language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub topic: Texts,
    /// Hours of training, in quarters of an hour (`1.5`).
    pub hours: f64,
}

/// What a programme is, as written by its owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgrammeSpec {
    /// A short lower-case name (`[a-z0-9-]`), unique.
    pub code: String,
    pub title: Texts,
    #[serde(default)]
    pub description: Texts,
    pub curriculum: Vec<CurriculumItem>,
    /// The professions the programme is for; empty for all.
    #[serde(default)]
    pub professions: Vec<Profession>,
    /// The levels of authority the programme is for; empty for all.
    #[serde(default)]
    pub levels: Vec<AuthorityLevel>,
    /// The course whose certificate is the first half of a trainer's qualification.
    pub trainer_course: String,
    /// Held sessions to co-deliver under a qualified lead trainer: the second half.
    #[serde(default = "default_co_deliveries")]
    pub co_deliveries_required: u32,
}

/// A train-the-trainer programme of a national institution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Programme {
    pub id: Uuid,
    /// The national institution that owns the programme; its admins change it.
    pub owner_org_id: Uuid,
    #[serde(flatten)]
    pub spec: ProgrammeSpec,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

fn short_text(errors: &mut Vec<FieldError>, field: &str, text: &str) {
    if text.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if text.chars().count() > MAX_SHORT_TEXT {
        errors.push(FieldError::new(field, format!("at most {MAX_SHORT_TEXT} characters")));
    } else if text.chars().any(char::is_control) {
        errors.push(FieldError::new(field, "must be one line without control characters"));
    }
}

fn long_text(errors: &mut Vec<FieldError>, field: &str, text: &str) {
    if text.chars().count() > MAX_LONG_TEXT {
        errors.push(FieldError::new(field, format!("at most {MAX_LONG_TEXT} characters")));
    } else if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        errors.push(FieldError::new(field, "must not contain control characters"));
    }
}

/// Whether `code` is a course or programme code: 1 to 64 of `[a-z0-9-]`, not starting with `-`.
pub fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && !code.starts_with('-')
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn code(errors: &mut Vec<FieldError>, field: &str, text: &str) {
    if !is_code(text) {
        errors.push(FieldError::new(
            field,
            format!("{text:?} is not a code: 1 to 64 lower-case letters, digits and dashes"),
        ));
    }
}

/// Every problem of a programme's specification.
pub fn check_programme(spec: &ProgrammeSpec) -> Vec<FieldError> {
    let mut errors = Vec::new();
    code(&mut errors, "code", &spec.code);
    if spec.title.is_empty() {
        errors.push(FieldError::new("title", "give the title in at least one language"));
    }
    for (language, title) in &spec.title {
        short_text(&mut errors, &format!("title.{language}"), title);
    }
    for (language, text) in &spec.description {
        long_text(&mut errors, &format!("description.{language}"), text);
    }
    if spec.curriculum.is_empty() {
        errors.push(FieldError::new("curriculum", "a programme has at least one curriculum item"));
    } else if spec.curriculum.len() > MAX_CURRICULUM_ITEMS {
        errors.push(FieldError::new("curriculum", format!("at most {MAX_CURRICULUM_ITEMS} items")));
    }
    for (index, item) in spec.curriculum.iter().enumerate().take(MAX_CURRICULUM_ITEMS) {
        let field = format!("curriculum[{index}]");
        if item.course.is_none() && item.topic.is_empty() {
            errors.push(FieldError::new(&field, "an item names a course, a topic, or both"));
        }
        if let Some(course) = &item.course {
            code(&mut errors, &format!("{field}.course"), course);
        }
        for (language, topic) in &item.topic {
            short_text(&mut errors, &format!("{field}.topic.{language}"), topic);
        }
        let quarters = item.hours * 4.0;
        if !(item.hours > 0.0 && item.hours <= 1000.0 && quarters.fract() == 0.0) {
            errors.push(FieldError::new(
                format!("{field}.hours"),
                "hours are more than 0 and at most 1000, in quarters of an hour",
            ));
        }
    }
    code(&mut errors, "trainer_course", &spec.trainer_course);
    if spec.co_deliveries_required > MAX_CO_DELIVERIES {
        errors.push(FieldError::new("co_deliveries_required", format!("at most {MAX_CO_DELIVERIES}")));
    }
    let distinct: BTreeSet<_> = spec.professions.iter().collect();
    if distinct.len() != spec.professions.len() {
        errors.push(FieldError::new("professions", "a profession is listed twice"));
    }
    let distinct: BTreeSet<_> = spec.levels.iter().collect();
    if distinct.len() != spec.levels.len() {
        errors.push(FieldError::new("levels", "a level is listed twice"));
    }
    errors
}

// Programme files (YAML).

/// A problem of a programme file, with its line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u32,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The largest programme file.
pub const MAX_PROGRAMME_FILE: usize = 1024 * 1024;

struct Lines {
    errors: Vec<LineError>,
}

impl Lines {
    fn err(&mut self, line: u32, message: impl Into<String>) {
        self.errors.push(LineError { line, message: message.into() });
    }

    fn map<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str]) -> Option<&'n [(String, u32, Node)]> {
        let Node::Map { entries, .. } = node else {
            self.err(node.line(), format!("{what} must be a map"));
            return None;
        };
        for (key, line, _) in entries {
            if !allowed.contains(&key.as_str()) {
                self.err(*line, format!("unknown key `{key}` in {what} (known: {})", allowed.join(", ")));
            }
        }
        Some(entries)
    }

    fn scalar(&mut self, node: &Node, what: &str) -> Option<String> {
        match node {
            Node::Scalar { text, .. } if !node.is_null() => Some(text.clone()),
            _ => {
                self.err(node.line(), format!("{what} must be text"));
                None
            }
        }
    }

    fn list<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match node {
            Node::Seq { items, .. } => Some(items),
            _ => {
                self.err(node.line(), format!("{what} must be a list"));
                None
            }
        }
    }

    fn texts(&mut self, node: &Node, what: &str) -> Texts {
        let mut texts = Texts::new();
        let Some(entries) = self.map(node, what, &["en", "bs", "hr", "sr-Latn", "sr-Cyrl"]) else {
            return texts;
        };
        for (key, _, value) in entries {
            if let (Ok(language), Some(text)) = (key.parse::<Language>(), self.scalar(value, what)) {
                texts.insert(language, text);
            }
        }
        texts
    }
}

fn get<'n>(entries: &'n [(String, u32, Node)], key: &str) -> Option<&'n Node> {
    entries.iter().find(|(name, _, _)| name == key).map(|(_, _, node)| node)
}

fn line_of_field(entries: &[(String, u32, Node)], field: &str) -> u32 {
    let head = field.split(['.', '[']).next().unwrap_or(field);
    let Some((_, key_line, node)) = entries.iter().find(|(name, _, _)| name == head) else {
        return 1;
    };
    // `curriculum[3].hours`: the line of that item's key when there is one.
    if let (Some(rest), Node::Seq { items, .. }) =
        (field.strip_prefix(head).and_then(|r| r.strip_prefix('[')), node)
        && let Some((index, tail)) = rest.split_once(']')
        && let Ok(index) = index.parse::<usize>()
        && let Some(item) = items.get(index)
    {
        if let (Some(key), Node::Map { entries, .. }) = (tail.strip_prefix('.'), item) {
            let key = key.split('.').next().unwrap_or(key);
            if let Some((_, line, _)) = entries.iter().find(|(name, _, _)| name == key) {
                return *line;
            }
        }
        return item.line();
    }
    *key_line
}

/// Reads a programme file (YAML): every problem with its line, nothing on error.
///
/// ```yaml
/// code: ttt-incident-response
/// title: {en: Incident response trainers, bs: Treneri za odgovor na incidente}
/// trainer_course: incident-basics
/// co_deliveries_required: 2
/// professions: [police, cert]
/// levels: [state, entity]
/// curriculum:
///   - course: incident-basics
///     hours: 4
///   - topic: {en: Evidence handling}
///     hours: 2.5
/// ```
pub fn parse_programme(text: &str) -> Result<ProgrammeSpec, Vec<LineError>> {
    if text.len() > MAX_PROGRAMME_FILE {
        return Err(vec![LineError { line: 1, message: format!("larger than {MAX_PROGRAMME_FILE} bytes") }]);
    }
    let root = yaml::parse(text).map_err(|(line, message)| vec![LineError { line, message }])?;
    let mut lines = Lines { errors: Vec::new() };
    let keys = [
        "code",
        "title",
        "description",
        "curriculum",
        "professions",
        "levels",
        "trainer_course",
        "co_deliveries_required",
    ];
    let Some(entries) = lines.map(&root, "the programme", &keys) else {
        return Err(lines.errors);
    };
    for key in ["code", "title", "curriculum", "trainer_course"] {
        if get(entries, key).is_none() {
            lines.err(root.line(), format!("`{key}` is missing"));
        }
    }
    let code = get(entries, "code").and_then(|node| lines.scalar(node, "code")).unwrap_or_default();
    let title = get(entries, "title").map(|node| lines.texts(node, "title")).unwrap_or_default();
    let description =
        get(entries, "description").map(|node| lines.texts(node, "description")).unwrap_or_default();
    let trainer_course = get(entries, "trainer_course")
        .and_then(|node| lines.scalar(node, "trainer_course"))
        .unwrap_or_default();
    let co_deliveries_required = match get(entries, "co_deliveries_required") {
        None => DEFAULT_CO_DELIVERIES,
        Some(node) => match lines.scalar(node, "co_deliveries_required").map(|text| text.parse::<u32>()) {
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                lines.err(node.line(), "co_deliveries_required must be a whole number");
                DEFAULT_CO_DELIVERIES
            }
            None => DEFAULT_CO_DELIVERIES,
        },
    };
    let mut professions = Vec::new();
    if let Some(node) = get(entries, "professions") {
        for item in lines.list(node, "professions").unwrap_or_default() {
            if let Some(text) = lines.scalar(item, "a profession") {
                match text.parse::<Profession>() {
                    Ok(profession) => professions.push(profession),
                    Err(error) => lines.err(item.line(), error.message),
                }
            }
        }
    }
    let mut levels = Vec::new();
    if let Some(node) = get(entries, "levels") {
        for item in lines.list(node, "levels").unwrap_or_default() {
            if let Some(text) = lines.scalar(item, "a level") {
                match text.parse::<AuthorityLevel>() {
                    Ok(level) => levels.push(level),
                    Err(error) => lines.err(item.line(), error.message),
                }
            }
        }
    }
    let mut curriculum = Vec::new();
    if let Some(node) = get(entries, "curriculum") {
        for item in lines.list(node, "curriculum").unwrap_or_default() {
            let Some(fields) = lines.map(item, "a curriculum item", &["course", "topic", "hours"]) else {
                continue;
            };
            let course = get(fields, "course").and_then(|node| lines.scalar(node, "course"));
            let topic = get(fields, "topic").map(|node| lines.texts(node, "topic")).unwrap_or_default();
            let hours = match get(fields, "hours") {
                None => {
                    lines.err(item.line(), "`hours` is missing");
                    0.0
                }
                Some(node) => match lines.scalar(node, "hours").map(|text| text.parse::<f64>()) {
                    Some(Ok(hours)) if hours.is_finite() => hours,
                    Some(_) => {
                        lines.err(node.line(), "hours must be a number");
                        0.0
                    }
                    None => 0.0,
                },
            };
            curriculum.push(CurriculumItem { course, topic, hours });
        }
    }
    let spec = ProgrammeSpec {
        code,
        title,
        description,
        curriculum,
        professions,
        levels,
        trainer_course,
        co_deliveries_required,
    };
    // The rules of a programme, each on its line unless that line has a problem already.
    for error in check_programme(&spec) {
        let line = line_of_field(entries, &error.field);
        if !lines.errors.iter().any(|existing| existing.line == line) {
            lines.err(line, format!("{}: {}", error.field, error.message));
        }
    }
    if lines.errors.is_empty() {
        Ok(spec)
    } else {
        lines.errors.sort_by_key(|error| error.line);
        Err(lines.errors)
    }
}

// Sessions.

/// Where a session takes place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Mode {
    InPerson { location: String },
    Online { url: String },
}

/// Whether a session is planned, held (attendance recorded) or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Planned,
    Held,
    Cancelled,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Planned => "planned",
            SessionStatus::Held => "held",
            SessionStatus::Cancelled => "cancelled",
        }
    }
}

/// A training session delivering one curriculum item of a programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: Uuid,
    pub programme_id: Uuid,
    /// The curriculum item delivered (0-based).
    pub item: u32,
    pub title: String,
    pub mode: Mode,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: Timestamp,
    pub language: Language,
    pub lead_trainer: Uuid,
    #[serde(default)]
    pub co_trainers: Vec<Uuid>,
    pub capacity: u32,
    /// The organisations whose members may see and join the session; empty for everyone.
    #[serde(default)]
    pub audience: Vec<Uuid>,
    pub status: SessionStatus,
}

impl Session {
    /// Whether `user` leads or co-delivers the session.
    pub fn is_trainer(&self, user: Uuid) -> bool {
        self.lead_trainer == user || self.co_trainers.contains(&user)
    }

    /// Whether members of `org` may see the session in listings and join it.
    pub fn open_to(&self, org: Uuid) -> bool {
        self.audience.is_empty() || self.audience.contains(&org)
    }

    pub fn minutes(&self) -> i64 {
        (self.ends_at - self.starts_at).whole_minutes()
    }
}

/// Every problem of a session of `programme`.
pub fn check_session(session: &Session, programme: &Programme) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if usize::try_from(session.item).map_or(true, |item| item >= programme.spec.curriculum.len()) {
        errors.push(FieldError::new(
            "item",
            format!("the programme's curriculum has {} items (0-based)", programme.spec.curriculum.len()),
        ));
    }
    short_text(&mut errors, "title", &session.title);
    match &session.mode {
        Mode::InPerson { location } => short_text(&mut errors, "mode.location", location),
        Mode::Online { url } => {
            let valid = (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() > 8
                && url.len() <= 500
                && !url
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
            if !valid {
                errors.push(FieldError::new("mode.url", "an http(s) URL of at most 500 characters"));
            }
        }
    }
    if session.ends_at <= session.starts_at {
        errors.push(FieldError::new("ends_at", "the session ends after it starts"));
    } else if session.ends_at - session.starts_at > Duration::days(MAX_SESSION_DAYS) {
        errors.push(FieldError::new("ends_at", format!("a session lasts at most {MAX_SESSION_DAYS} days")));
    }
    if session.co_trainers.contains(&session.lead_trainer) {
        errors.push(FieldError::new("co_trainers", "the lead trainer is not also a co-trainer"));
    }
    if session.co_trainers.iter().collect::<BTreeSet<_>>().len() != session.co_trainers.len() {
        errors.push(FieldError::new("co_trainers", "a co-trainer is listed twice"));
    }
    if session.co_trainers.len() > MAX_CO_TRAINERS {
        errors.push(FieldError::new("co_trainers", format!("at most {MAX_CO_TRAINERS} co-trainers")));
    }
    if session.capacity == 0 || session.capacity > MAX_CAPACITY {
        errors.push(FieldError::new("capacity", format!("1 to {MAX_CAPACITY} participants")));
    }
    if session.audience.len() > MAX_AUDIENCE {
        errors.push(FieldError::new("audience", format!("at most {MAX_AUDIENCE} organisations")));
    }
    errors
}

/// Whether a participant attended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Presence {
    Present,
    Absent,
    /// Present for some of the session.
    Partial {
        minutes: u32,
    },
}

impl Presence {
    /// Present for all or part of the session: trained.
    pub fn attended(self) -> bool {
        !matches!(self, Presence::Absent)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Present => "present",
            Presence::Absent => "absent",
            Presence::Partial { .. } => "partial",
        }
    }
}

/// A participant registered to a session, with their attendance once recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub session_id: Uuid,
    pub user_id: Uuid,
    /// The participant's organisation when registered; its admins see the record.
    pub org_id: Uuid,
    pub registered_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: Timestamp,
    #[serde(default)]
    pub attendance: Option<Presence>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub recorded_at: Option<Timestamp>,
    #[serde(default)]
    pub recorded_by: Option<Uuid>,
}

/// Why a training action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the session was cancelled")]
    Cancelled,
    #[error("the session starts at {starts_at}; attendance and feedback wait until it started")]
    NotStarted { starts_at: String },
    #[error("the session ended; it takes no new registrations")]
    Ended,
    #[error("the user is not registered to the session")]
    NotRegistered,
    #[error("only participants who were present give feedback")]
    NotPresent,
    #[error("partial attendance of {minutes} minutes: the session lasts {session} minutes")]
    TooManyMinutes { minutes: u32, session: i64 },
}

impl Refusal {
    /// The field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            Refusal::Cancelled | Refusal::Ended => "status",
            Refusal::NotStarted { .. } => "starts_at",
            Refusal::NotRegistered | Refusal::TooManyMinutes { .. } => "attendance",
            Refusal::NotPresent => "feedback",
        }
    }
}

fn rfc3339(at: Timestamp) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Whether a new participant may register now: not to a cancelled or ended session.
pub fn check_registration(session: &Session, now: Timestamp, staff: bool) -> Result<(), Refusal> {
    match session.status {
        SessionStatus::Cancelled => Err(Refusal::Cancelled),
        // Staff and trainers register the attendees of a past session after the fact.
        _ if now >= session.ends_at && !staff => Err(Refusal::Ended),
        _ => Ok(()),
    }
}

/// Records attendance: `marks` by user, for registered participants only, once the session
/// started. Changes the participants marked and the session (held from now on); answers the
/// participants changed.
pub fn record_attendance(
    session: &mut Session,
    participants: &[Participant],
    marks: &BTreeMap<Uuid, Presence>,
    by: Uuid,
    now: Timestamp,
) -> Result<Vec<Participant>, Refusal> {
    if session.status == SessionStatus::Cancelled {
        return Err(Refusal::Cancelled);
    }
    if now < session.starts_at {
        return Err(Refusal::NotStarted { starts_at: rfc3339(session.starts_at) });
    }
    let mut changed = Vec::with_capacity(marks.len());
    for (user, presence) in marks {
        let participant = participants
            .iter()
            .find(|participant| participant.user_id == *user)
            .ok_or(Refusal::NotRegistered)?;
        if let Presence::Partial { minutes } = presence
            && (*minutes == 0 || i64::from(*minutes) >= session.minutes())
        {
            return Err(Refusal::TooManyMinutes { minutes: *minutes, session: session.minutes() });
        }
        let mut participant = participant.clone();
        participant.attendance = Some(*presence);
        participant.recorded_at = Some(now);
        participant.recorded_by = Some(by);
        changed.push(participant);
    }
    session.status = SessionStatus::Held;
    Ok(changed)
}

// Feedback.

/// The four ratings of the standard form, each 1 (poor) to 5 (excellent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratings {
    pub content: u8,
    pub trainer: u8,
    pub relevance: u8,
    pub organisation: u8,
}

/// An attendee's answers to the standard feedback form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub id: Uuid,
    pub session_id: Uuid,
    /// Kept only so that a form is submitted once; never shown with the answers.
    pub user_id: Uuid,
    pub ratings: Ratings,
    #[serde(default)]
    pub most_useful: String,
    #[serde(default)]
    pub to_improve: String,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: Timestamp,
}

/// A question of the standard feedback form in each language.
#[derive(Debug, Clone, Copy)]
pub struct FormQuestion {
    /// The answer's field: a rating 1–5 or a free text.
    pub field: &'static str,
    pub rating: bool,
    /// `en`, `bs`, `hr`, `sr-Latn`, `sr-Cyrl`.
    pub texts: [&'static str; 5],
}

/// The standard feedback form.
pub const FORM: [FormQuestion; 6] = [
    FormQuestion {
        field: "content",
        rating: true,
        texts: [
            "How good was the content?",
            "Koliko je bio dobar sadržaj?",
            "Koliko je bio dobar sadržaj?",
            "Koliko je bio dobar sadržaj?",
            "Колико је био добар садржај?",
        ],
    },
    FormQuestion {
        field: "trainer",
        rating: true,
        texts: [
            "How good was the trainer?",
            "Koliko je bio dobar trener?",
            "Koliko je bio dobar trener?",
            "Koliko je bio dobar trener?",
            "Колико је био добар тренер?",
        ],
    },
    FormQuestion {
        field: "relevance",
        rating: true,
        texts: [
            "How relevant is it to your work?",
            "Koliko je korisno za vaš posao?",
            "Koliko je korisno za vaš posao?",
            "Koliko je korisno za vaš posao?",
            "Колико је корисно за ваш посао?",
        ],
    },
    FormQuestion {
        field: "organisation",
        rating: true,
        texts: [
            "How well was it organised?",
            "Koliko je dobro bila organizovana?",
            "Koliko je dobro bila organizirana?",
            "Koliko je dobro bila organizovana?",
            "Колико је добро била организована?",
        ],
    },
    FormQuestion {
        field: "most_useful",
        rating: false,
        texts: [
            "What was most useful?",
            "Šta vam je bilo najkorisnije?",
            "Što vam je bilo najkorisnije?",
            "Šta vam je bilo najkorisnije?",
            "Шта вам је било најкорисније?",
        ],
    },
    FormQuestion {
        field: "to_improve",
        rating: false,
        texts: [
            "What should be improved?",
            "Šta treba poboljšati?",
            "Što treba poboljšati?",
            "Šta treba poboljšati?",
            "Шта треба побољшати?",
        ],
    },
];

/// A question of the form in `language`.
pub fn form_text(question: &FormQuestion, language: Language) -> &'static str {
    let index = Language::ALL.iter().position(|candidate| *candidate == language).unwrap_or(0);
    question.texts.get(index).copied().unwrap_or(question.texts[0])
}

/// Whether `participant` may give feedback on `session` now, and whether the answers are
/// within bounds (field errors).
pub fn check_feedback(
    session: &Session,
    participant: Option<&Participant>,
    feedback: &Feedback,
    now: Timestamp,
) -> Result<Result<(), Vec<FieldError>>, Refusal> {
    if session.status == SessionStatus::Cancelled {
        return Err(Refusal::Cancelled);
    }
    if now < session.starts_at {
        return Err(Refusal::NotStarted { starts_at: rfc3339(session.starts_at) });
    }
    let participant = participant.ok_or(Refusal::NotRegistered)?;
    if !participant.attendance.is_some_and(Presence::attended) {
        return Err(Refusal::NotPresent);
    }
    let mut errors = Vec::new();
    let ratings = feedback.ratings;
    for (field, value) in [
        ("ratings.content", ratings.content),
        ("ratings.trainer", ratings.trainer),
        ("ratings.relevance", ratings.relevance),
        ("ratings.organisation", ratings.organisation),
    ] {
        if !(1..=5).contains(&value) {
            errors.push(FieldError::new(field, "a rating is 1 to 5"));
        }
    }
    long_text(&mut errors, "most_useful", &feedback.most_useful);
    long_text(&mut errors, "to_improve", &feedback.to_improve);
    Ok(if errors.is_empty() { Ok(()) } else { Err(errors) })
}

/// Feedback aggregated without names: averages, and the free texts in alphabetical order (so
/// that their order tells nothing about who wrote them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackSummary {
    pub responses: u32,
    pub content: Option<f64>,
    pub trainer: Option<f64>,
    pub relevance: Option<f64>,
    pub organisation: Option<f64>,
    /// The average of the four averages.
    pub overall: Option<f64>,
    pub most_useful: Vec<String>,
    pub to_improve: Vec<String>,
}

fn average(values: impl Iterator<Item = u8>) -> Option<f64> {
    let (sum, count) = values.fold((0u32, 0u32), |(sum, count), value| (sum + u32::from(value), count + 1));
    (count > 0).then(|| (f64::from(sum) / f64::from(count) * 100.0).round() / 100.0)
}

/// Aggregates forms.
pub fn summarise<'a>(forms: impl IntoIterator<Item = &'a Feedback>) -> FeedbackSummary {
    let forms: Vec<&Feedback> = forms.into_iter().collect();
    let content = average(forms.iter().map(|form| form.ratings.content));
    let trainer = average(forms.iter().map(|form| form.ratings.trainer));
    let relevance = average(forms.iter().map(|form| form.ratings.relevance));
    let organisation = average(forms.iter().map(|form| form.ratings.organisation));
    let overall = average(forms.iter().flat_map(|form| {
        let r = form.ratings;
        [r.content, r.trainer, r.relevance, r.organisation]
    }));
    let texts = |pick: fn(&Feedback) -> &str| {
        let mut texts: Vec<String> =
            forms.iter().map(|form| pick(form).trim().to_owned()).filter(|text| !text.is_empty()).collect();
        texts.sort();
        texts
    };
    FeedbackSummary {
        responses: u32::try_from(forms.len()).unwrap_or(u32::MAX),
        content,
        trainer,
        relevance,
        organisation,
        overall,
        most_useful: texts(|form| &form.most_useful),
        to_improve: texts(|form| &form.to_improve),
    }
}

// Trainer qualification.

/// A trainer qualification granted directly by the operating CERT's staff (the first trainers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerGrant {
    pub id: Uuid,
    pub programme_id: Uuid,
    pub user_id: Uuid,
    pub granted_by: Uuid,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub granted_at: Timestamp,
}

/// Checks a grant's reason.
pub fn check_grant(grant: &TrainerGrant) -> Vec<FieldError> {
    let mut errors = Vec::new();
    short_text(&mut errors, "reason", &grant.reason);
    errors
}

/// A completion of the programme's trainer course (its certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    pub user_id: Uuid,
    pub at: Timestamp,
}

/// A held session of the programme: who led it and who co-delivered it, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub session_id: Uuid,
    pub at: Timestamp,
    pub lead: Uuid,
    pub co_trainers: Vec<Uuid>,
}

impl Delivery {
    /// The delivery of a session when it was held; `None` for planned or cancelled ones.
    pub fn of(session: &Session) -> Option<Delivery> {
        (session.status == SessionStatus::Held).then(|| Delivery {
            session_id: session.id,
            at: session.starts_at,
            lead: session.lead_trainer,
            co_trainers: session.co_trainers.clone(),
        })
    }
}

/// A user's qualification as a trainer of a programme, with what is missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Qualification {
    pub user_id: Uuid,
    pub qualified: bool,
    /// When the user became qualified.
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<Timestamp>,
    /// Qualified by a grant of the operating CERT's staff.
    pub granted: bool,
    pub trainer_course_completed: bool,
    /// Held sessions co-delivered under a lead trainer qualified at the time.
    pub co_deliveries: u32,
    pub co_deliveries_required: u32,
    /// Sessions led.
    pub sessions_led: u32,
    /// What the status rests on, or what is missing.
    pub reasons: Vec<String>,
}

/// Qualification of everyone who appears in the data: a grant makes a trainer qualified from its
/// time; otherwise a trainer is qualified once they completed the trainer course **and**
/// co-delivered `co_deliveries_required` held sessions whose lead trainer was qualified when
/// the session took place. Deliveries are taken in time order, so a lead qualified only later
/// does not count for sessions before.
pub fn qualifications(
    programme: &Programme,
    completions: &[Completion],
    deliveries: &[Delivery],
    grants: &[TrainerGrant],
) -> BTreeMap<Uuid, Qualification> {
    let required = programme.spec.co_deliveries_required;
    let mut completed: BTreeMap<Uuid, Timestamp> = BTreeMap::new();
    for completion in completions {
        let entry = completed.entry(completion.user_id).or_insert(completion.at);
        *entry = (*entry).min(completion.at);
    }
    let mut since: BTreeMap<Uuid, Timestamp> = BTreeMap::new();
    let mut granted: BTreeSet<Uuid> = BTreeSet::new();
    for grant in grants.iter().filter(|grant| grant.programme_id == programme.id) {
        granted.insert(grant.user_id);
        let entry = since.entry(grant.user_id).or_insert(grant.granted_at);
        *entry = (*entry).min(grant.granted_at);
    }
    // With no co-delivery required, the course alone qualifies.
    if required == 0 {
        for (user, at) in &completed {
            let entry = since.entry(*user).or_insert(*at);
            *entry = (*entry).min(*at);
        }
    }
    let mut ordered: Vec<&Delivery> = deliveries.iter().collect();
    ordered.sort_by_key(|delivery| (delivery.at, delivery.session_id));
    let mut counted: BTreeMap<Uuid, u32> = BTreeMap::new();
    let mut led: BTreeMap<Uuid, u32> = BTreeMap::new();
    for delivery in &ordered {
        *led.entry(delivery.lead).or_default() += 1;
        let lead_qualified = since.get(&delivery.lead).is_some_and(|at| *at <= delivery.at);
        if !lead_qualified {
            continue;
        }
        for co in &delivery.co_trainers {
            let count = counted.entry(*co).or_default();
            *count += 1;
            if *count == required
                && let Some(course_at) = completed.get(co)
            {
                let at = (*course_at).max(delivery.at);
                let entry = since.entry(*co).or_insert(at);
                *entry = (*entry).min(at);
            }
        }
    }
    let mut users: BTreeSet<Uuid> = completed.keys().copied().collect();
    users.extend(granted.iter().copied());
    for delivery in deliveries {
        users.insert(delivery.lead);
        users.extend(delivery.co_trainers.iter().copied());
    }
    users
        .into_iter()
        .map(|user| {
            let co_deliveries = counted.get(&user).copied().unwrap_or(0);
            let course = completed.contains_key(&user);
            let is_granted = granted.contains(&user);
            let qualified_since = since.get(&user).copied();
            let mut reasons = Vec::new();
            if is_granted {
                reasons.push("qualified by a grant of the operating CERT".to_owned());
            }
            if course {
                reasons.push(format!("completed the trainer course {}", programme.spec.trainer_course));
            } else if qualified_since.is_none() {
                reasons.push(format!("needs the trainer course {} completed", programme.spec.trainer_course));
            }
            if co_deliveries >= required {
                if required > 0 {
                    reasons.push(format!(
                        "co-delivered {co_deliveries} held sessions under a qualified lead trainer"
                    ));
                }
            } else if qualified_since.is_none() {
                let missing = required - co_deliveries;
                let plural = if missing == 1 { "" } else { "s" };
                reasons.push(format!(
                    "needs {missing} more co-delivered session{plural} under a qualified lead trainer"
                ));
            }
            let qualification = Qualification {
                user_id: user,
                qualified: qualified_since.is_some(),
                since: qualified_since,
                granted: is_granted,
                trainer_course_completed: course,
                co_deliveries,
                co_deliveries_required: required,
                sessions_led: led.get(&user).copied().unwrap_or(0),
                reasons,
            };
            (user, qualification)
        })
        .collect()
}

/// The qualification of `user` from [`qualifications`]' result; someone who appears nowhere
/// yet needs the whole way.
pub fn qualification_of(
    all: &BTreeMap<Uuid, Qualification>,
    programme: &Programme,
    user: Uuid,
) -> Qualification {
    all.get(&user).cloned().unwrap_or_else(|| {
        let required = programme.spec.co_deliveries_required;
        let mut reasons =
            vec![format!("needs the trainer course {} completed", programme.spec.trainer_course)];
        if required > 0 {
            let plural = if required == 1 { "" } else { "s" };
            reasons.push(format!(
                "needs {required} more co-delivered session{plural} under a qualified lead trainer"
            ));
        }
        Qualification {
            user_id: user,
            qualified: false,
            since: None,
            granted: false,
            trainer_course_completed: false,
            co_deliveries: 0,
            co_deliveries_required: required,
            sessions_led: 0,
            reasons,
        }
    })
}

// Statistics.

/// How a person was trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingKind {
    /// Present (fully or partly) at a held session.
    Session,
    /// Completed a course.
    Course,
}

/// One person trained once, with what the statistics group by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedRow {
    pub user_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
    pub kind: TrainingKind,
    /// The organisation's short name.
    pub organisation: String,
    /// The organisation's NIS2 sector.
    #[serde(default)]
    pub sector: Option<String>,
    #[serde(default)]
    pub level: Option<AuthorityLevel>,
    #[serde(default)]
    pub profession: Option<Profession>,
}

named_enum!(
    /// What the statistics group people by.
    GroupBy, "by", {
        Organisation => "organisation",
        Sector => "sector",
        Level => "level",
        Profession => "profession",
    }
);

named_enum!(
    /// The periods the statistics count in.
    Interval, "interval", {
        Month => "month",
        Quarter => "quarter",
        Year => "year",
    }
);

/// The period a moment falls in: `2026-03`, `2026-Q1` or `2026`.
pub fn period(at: Timestamp, interval: Interval) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let month = u8::from(at.month());
    match interval {
        Interval::Month => format!("{:04}-{month:02}", at.year()),
        Interval::Quarter => format!("{:04}-Q{}", at.year(), (month - 1) / 3 + 1),
        Interval::Year => format!("{:04}", at.year()),
    }
}

/// The group a row falls in; `unknown` when the profile or sector is not known.
fn group(row: &TrainedRow, by: GroupBy) -> String {
    let known = match by {
        GroupBy::Organisation => Some(row.organisation.clone()),
        GroupBy::Sector => row.sector.clone(),
        GroupBy::Level => row.level.map(|level| level.as_str().to_owned()),
        GroupBy::Profession => row.profession.map(|profession| profession.as_str().to_owned()),
    };
    known.unwrap_or_else(|| "unknown".to_owned())
}

/// People trained in one group and period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatRow {
    pub period: String,
    pub group: String,
    /// Distinct people trained (at a session or by a course).
    pub people: u32,
    /// Distinct people present at a session.
    pub session_participants: u32,
    /// Distinct people who completed a course.
    pub course_completions: u32,
}

/// Counts distinct people trained from `rows` in `[from, to)`, by group and period, ordered by
/// period and group.
pub fn people_trained(
    rows: &[TrainedRow],
    by: GroupBy,
    interval: Interval,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Vec<StatRow> {
    type Sets = (BTreeSet<Uuid>, BTreeSet<Uuid>, BTreeSet<Uuid>);
    let mut cells: BTreeMap<(String, String), Sets> = BTreeMap::new();
    for row in rows {
        if from.is_some_and(|from| row.at < from) || to.is_some_and(|to| row.at >= to) {
            continue;
        }
        let cell = cells.entry((period(row.at, interval), group(row, by))).or_default();
        cell.0.insert(row.user_id);
        match row.kind {
            TrainingKind::Session => cell.1.insert(row.user_id),
            TrainingKind::Course => cell.2.insert(row.user_id),
        };
    }
    let count = |set: &BTreeSet<Uuid>| u32::try_from(set.len()).unwrap_or(u32::MAX);
    cells
        .into_iter()
        .map(|((period, group), (people, sessions, courses))| StatRow {
            period,
            group,
            people: count(&people),
            session_participants: count(&sessions),
            course_completions: count(&courses),
        })
        .collect()
}

/// Statistics as CSV with a header line; groups are quoted when they need it.
pub fn stats_csv(rows: &[StatRow]) -> String {
    let mut out = String::from("period,group,people,session_participants,course_completions\n");
    for row in rows {
        let group = if row.group.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", row.group.replace('"', "\"\""))
        } else {
            row.group.clone()
        };
        out.push_str(&format!(
            "{},{group},{},{},{}\n",
            row.period, row.people, row.session_participants, row.course_completions
        ));
    }
    out
}
