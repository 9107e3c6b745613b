//! Scenario packages: a folder (or a zip of one) with a `scenario.yaml`, written in an editor
//! and versioned in git.
//!
//! ```text
//! scenario.yaml   code, version, languages, title, description, objectives, roles, injects
//! README.md       optional, ignored
//! ```
//!
//! An inject has an `id`, an `offset` from the start (`"+00:15"` is fifteen minutes,
//! `"+0:00:30"` thirty seconds, a plain number minutes), a `title` and a Markdown `body` per
//! language, the `roles` it goes to (left out or `all`: every role), and optionally
//! `expects_response: true` with a `response_prompt`, a `deadline` (minutes after delivery) and
//! facilitator `notes` (never shown to players).
//!
//! [`parse`] checks everything and reports every problem with its file and line; it yields a
//! [`Scenario`] only when there is none.

use std::collections::BTreeSet;

use neretva_model::contact::Language;
use serde::{Deserialize, Serialize};

use crate::course::Texts;
use crate::package::{Limits, Package, PackageError};
use crate::yaml::{self, Node};

/// The longest title, prompt or objective, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// The longest inject body or facilitator note, in characters.
pub const MAX_BODY_CHARS: usize = 32_000;
/// The most injects, roles and objectives of a scenario.
pub const MAX_ITEMS: usize = 200;
/// The latest offset of an inject: seven days after the start.
pub const MAX_OFFSET_SECONDS: u32 = 7 * 24 * 3600;
/// The longest response deadline, in minutes (one day).
pub const MAX_DEADLINE_MINUTES: u32 = 24 * 60;

const FILE: &str = "scenario.yaml";

/// A scenario at one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// A short lower-case name (`[a-z0-9-]`), the scenario's identity across versions.
    pub code: String,
    pub version: u32,
    /// The languages every text is given in; the first is the default.
    pub languages: Vec<Language>,
    pub title: Texts,
    pub description: Texts,
    pub objectives: Vec<Objective>,
    pub roles: Vec<Role>,
    /// In the order of the file; [`Scenario::schedule`] orders them by offset.
    pub injects: Vec<Inject>,
}

/// What the exercise is meant to test; the facilitator assesses each after the exercise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub id: String,
    pub text: Texts,
}

/// A part players take (`cert_duty_officer`, `energy_operator`, `ministry`, `police`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: Texts,
}

/// A timed piece of the scenario delivered to players.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inject {
    pub id: String,
    /// Seconds of exercise time after the start.
    pub offset_seconds: u32,
    pub title: Texts,
    /// Markdown, per language.
    pub body: Texts,
    /// The roles it goes to; empty means every role.
    pub roles: Vec<String>,
    pub expects_response: bool,
    pub response_prompt: Texts,
    /// Minutes after delivery within which a response is on time.
    pub deadline_minutes: Option<u32>,
    /// For the facilitators only.
    pub notes: Texts,
}

impl Inject {
    /// Whether a player of `role` receives the inject.
    pub fn targets(&self, role: &str) -> bool {
        self.roles.is_empty() || self.roles.iter().any(|target| target == role)
    }
}

impl Scenario {
    pub fn default_language(&self) -> Language {
        self.languages.first().copied().unwrap_or(Language::En)
    }

    pub fn inject(&self, id: &str) -> Option<&Inject> {
        self.injects.iter().find(|inject| inject.id == id)
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|role| role.id == id)
    }

    /// The injects in delivery order: by offset, then as written.
    pub fn schedule(&self) -> Vec<&Inject> {
        let mut injects: Vec<&Inject> = self.injects.iter().collect();
        injects.sort_by_key(|inject| inject.offset_seconds);
        injects
    }
}

/// Formats an offset as `+h:mm` or, with seconds, `+h:mm:ss`.
pub fn format_offset(seconds: u32) -> String {
    let (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if rest == 0 { format!("+{hours}:{minutes:02}") } else { format!("+{hours}:{minutes:02}:{rest:02}") }
}

/// Parses an offset: `+h:mm`, `+h:mm:ss` (the `+` optional) or a number of minutes.
pub fn parse_offset(text: &str) -> Result<u32, String> {
    let trimmed = text.trim();
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let bad = || format!("offset {text:?} must be +h:mm, +h:mm:ss or a number of minutes");
    let parts: Vec<&str> = body.split(':').collect();
    let number = |part: &str| -> Result<u32, String> {
        if part.is_empty() || part.len() > 6 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse::<u32>().map_err(|_| bad())
    };
    let seconds = match parts.as_slice() {
        [minutes] => number(minutes)?.checked_mul(60).ok_or_else(bad)?,
        [hours, minutes] | [hours, minutes, _] => {
            let (h, m) = (number(hours)?, number(minutes)?);
            if minutes.len() != 2 || m > 59 {
                return Err(bad());
            }
            let s = match parts.get(2) {
                Some(seconds) if seconds.len() == 2 => number(seconds)?,
                Some(_) => return Err(bad()),
                None => 0,
            };
            if s > 59 {
                return Err(bad());
            }
            h.checked_mul(3600).and_then(|h| h.checked_add(m * 60 + s)).ok_or_else(bad)?
        }
        _ => return Err(bad()),
    };
    if seconds > MAX_OFFSET_SECONDS {
        return Err(format!("offset {text:?} is more than seven days after the start"));
    }
    Ok(seconds)
}

/// Checks a package and yields its scenario, or every problem found (sorted by file and line).
pub fn parse(package: &Package, limits: &Limits) -> Result<Scenario, Vec<PackageError>> {
    let mut errors = Vec::new();
    let total: u64 = package.files().values().map(|data| data.len() as u64).sum();
    if total > limits.max_total_bytes {
        errors.push(error(
            "(package)",
            None,
            format!("{total} bytes; at most {} are accepted", limits.max_total_bytes),
        ));
    }
    for path in package.files().keys() {
        if path != FILE && path != "README.md" {
            errors.push(error(path, None, "not part of a scenario package (scenario.yaml, README.md)"));
        }
    }
    let scenario = match package.files().get(FILE) {
        None => {
            errors.push(error(FILE, None, "missing: every scenario package has a scenario.yaml at its top"));
            None
        }
        Some(data) if data.len() as u64 > limits.max_yaml_bytes => {
            errors.push(error(FILE, None, format!("larger than {} bytes", limits.max_yaml_bytes)));
            None
        }
        Some(data) => match std::str::from_utf8(data) {
            Err(utf8) => {
                let line = data[..utf8.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
                errors.push(error(FILE, Some(u32::try_from(line).unwrap_or(u32::MAX)), "not UTF-8 text"));
                None
            }
            Ok(text) => match yaml::parse(text.strip_prefix('\u{feff}').unwrap_or(text)) {
                Err((line, message)) => {
                    errors.push(error(FILE, Some(line), message));
                    None
                }
                Ok(node) => scenario(&node, &mut errors),
            },
        },
    };
    if !errors.is_empty() {
        errors.sort();
        errors.dedup();
        return Err(errors);
    }
    scenario.ok_or_else(|| vec![error(FILE, None, "not a scenario")])
}

fn error(file: &str, line: Option<u32>, message: impl Into<String>) -> PackageError {
    PackageError { file: file.to_owned(), line, message: message.into() }
}

/// Reads nodes of `scenario.yaml`, collecting every problem.
struct Reader<'a> {
    errors: &'a mut Vec<PackageError>,
    languages: Vec<Language>,
}

/// The entries of a mapping.
struct Fields<'n> {
    entries: &'n [(String, u32, Node)],
    line: u32,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|(name, _, _)| name == key).map(|(_, _, node)| node).filter(|n| !n.is_null())
    }
}

impl Reader<'_> {
    fn err(&mut self, line: u32, message: impl Into<String>) {
        self.errors.push(error(FILE, Some(line), message));
    }

    fn fields<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str]) -> Option<Fields<'n>> {
        let Node::Map { entries, line } = node else {
            self.err(node.line(), format!("{what} must be a mapping of keys to values"));
            return None;
        };
        if !allowed.is_empty() {
            for (key, key_line, _) in entries {
                if !allowed.contains(&key.as_str()) {
                    self.err(
                        *key_line,
                        format!("unknown key `{key}` (expected one of {})", allowed.join(", ")),
                    );
                }
            }
        }
        Some(Fields { entries, line: *line })
    }

    fn required<'n>(&mut self, fields: &Fields<'n>, key: &str) -> Option<&'n Node> {
        let node = fields.get(key);
        if node.is_none() {
            self.err(fields.line, format!("missing `{key}`"));
        }
        node
    }

    fn list<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match node {
            Node::Seq { items, .. } if items.len() > MAX_ITEMS => {
                self.err(node.line(), format!("`{what}` has more than {MAX_ITEMS} entries"));
                None
            }
            Node::Seq { items, .. } => Some(items),
            other => {
                self.err(other.line(), format!("`{what}` must be a list"));
                None
            }
        }
    }

    fn text(&mut self, node: &Node, what: &str, max: usize) -> Option<String> {
        match node {
            Node::Scalar { text, line, .. } => {
                let text = text.trim_end();
                if let Err(error) = neretva_model::check_text(what, text, max) {
                    self.err(*line, error.to_string());
                    return None;
                }
                Some(text.to_owned())
            }
            other => {
                self.err(other.line(), format!("{what} must be text"));
                None
            }
        }
    }

    /// An identifier: lower-case letters, digits and `sep`, starting with a letter or digit.
    fn ident(&mut self, node: &Node, what: &str, sep: char) -> Option<String> {
        let text = self.text(node, what, 64)?;
        let valid = text.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == sep);
        if valid {
            Some(text)
        } else {
            self.err(node.line(), format!("{what} {text:?} must be lower-case letters, digits and '{sep}'"));
            None
        }
    }

    fn number(&mut self, node: &Node, what: &str, min: u32, max: u32) -> Option<u32> {
        let parsed = match node {
            Node::Scalar { text, plain: true, .. } => text.parse::<u32>().ok(),
            _ => None,
        };
        match parsed {
            Some(value) if (min..=max).contains(&value) => Some(value),
            _ => {
                self.err(node.line(), format!("`{what}` must be a whole number from {min} to {max}"));
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node {
            Node::Scalar { text, plain: true, .. } if text == "true" => Some(true),
            Node::Scalar { text, plain: true, .. } if text == "false" => Some(false),
            other => {
                self.err(other.line(), format!("`{what}` must be true or false"));
                None
            }
        }
    }

    /// A text per language: every language of the scenario, no other.
    fn texts(&mut self, node: &Node, what: &str, max: usize) -> Texts {
        let mut texts = Texts::new();
        let Some(fields) = self.fields(node, &format!("`{what}`"), &[]) else { return texts };
        for (key, key_line, value) in fields.entries {
            let language = match key.parse::<Language>() {
                Ok(language) if self.languages.contains(&language) => language,
                Ok(language) => {
                    self.err(
                        *key_line,
                        format!("language {language} is not one of the scenario's languages"),
                    );
                    continue;
                }
                Err(error) => {
                    self.err(*key_line, error.message);
                    continue;
                }
            };
            if let Some(text) = self.text(value, &format!("{what}.{key}"), max) {
                texts.insert(language, text);
            }
        }
        let missing: Vec<String> =
            self.languages.iter().filter(|l| !texts.contains_key(l)).map(Language::to_string).collect();
        if !missing.is_empty() {
            self.err(fields.line, format!("`{what}` has no text in {}", missing.join(", ")));
        }
        texts
    }

    fn languages(&mut self, fields: &Fields<'_>) {
        let Some(list) = self.required(fields, "languages") else { return };
        for item in self.list(list, "languages").unwrap_or_default() {
            let Some(text) = self.text(item, "a language", 16) else { continue };
            match text.parse::<Language>() {
                Ok(language) if self.languages.contains(&language) => {
                    self.err(item.line(), format!("language {language} is listed twice"))
                }
                Ok(language) => self.languages.push(language),
                Err(error) => self.err(item.line(), error.message),
            }
        }
        if self.languages.is_empty() && matches!(list, Node::Seq { .. }) {
            self.err(list.line(), "at least one language");
        }
    }

    fn objectives(&mut self, node: &Node) -> Vec<Objective> {
        let mut objectives = Vec::new();
        let mut ids = BTreeSet::new();
        for item in self.list(node, "objectives").unwrap_or_default() {
            let Some(fields) = self.fields(item, "an objective", &["id", "text"]) else { continue };
            let id = self.required(&fields, "id").and_then(|n| self.ident(n, "objective id", '-'));
            let text = self.required(&fields, "text").map(|n| self.texts(n, "text", MAX_TEXT_CHARS));
            if let (Some(id), Some(text)) = (id, text) {
                if ids.insert(id.clone()) {
                    objectives.push(Objective { id, text });
                } else {
                    self.err(item.line(), format!("objective id {id:?} is used twice"));
                }
            }
        }
        objectives
    }

    fn roles(&mut self, node: &Node) -> Vec<Role> {
        let mut roles = Vec::new();
        let mut ids = BTreeSet::new();
        let items = self.list(node, "roles").unwrap_or_default();
        if items.is_empty() {
            self.err(node.line(), "a scenario has at least one role");
        }
        for item in items {
            let Some(fields) = self.fields(item, "a role", &["id", "name"]) else { continue };
            let id = self.required(&fields, "id").and_then(|n| self.ident(n, "role id", '_'));
            let name = self.required(&fields, "name").map(|n| self.texts(n, "name", MAX_TEXT_CHARS));
            if let (Some(id), Some(name)) = (id, name) {
                if ids.insert(id.clone()) {
                    roles.push(Role { id, name });
                } else {
                    self.err(item.line(), format!("role id {id:?} is used twice"));
                }
            }
        }
        roles
    }

    fn offset(&mut self, node: &Node) -> Option<u32> {
        let Node::Scalar { text, line, .. } = node else {
            self.err(node.line(), "`offset` must be +h:mm, +h:mm:ss or a number of minutes");
            return None;
        };
        match parse_offset(text) {
            Ok(seconds) => Some(seconds),
            Err(message) => {
                self.err(*line, message);
                None
            }
        }
    }

    fn inject_roles(&mut self, node: Option<&Node>, known: &[Role]) -> Option<Vec<String>> {
        let Some(node) = node else { return Some(Vec::new()) };
        if let Node::Scalar { text, .. } = node
            && text == "all"
        {
            return Some(Vec::new());
        }
        let items = self.list(node, "roles")?;
        if items.is_empty() {
            self.err(node.line(), "`roles` names at least one role (or is `all`)");
            return None;
        }
        let mut roles = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(id) = self.text(item, "a role", 64) else {
                ok = false;
                continue;
            };
            if !known.iter().any(|role| role.id == id) {
                self.err(item.line(), format!("role {id:?} is not one of the scenario's roles"));
                ok = false;
            } else if roles.contains(&id) {
                self.err(item.line(), format!("role {id:?} is named twice"));
                ok = false;
            } else {
                roles.push(id);
            }
        }
        ok.then_some(roles)
    }

    fn injects(&mut self, node: &Node, roles: &[Role]) -> Vec<Inject> {
        const KEYS: [&str; 9] = [
            "id",
            "offset",
            "title",
            "body",
            "roles",
            "expects_response",
            "response_prompt",
            "deadline",
            "notes",
        ];
        let mut injects = Vec::new();
        let mut ids = BTreeSet::new();
        let items = self.list(node, "injects").unwrap_or_default();
        if items.is_empty() {
            self.err(node.line(), "a scenario has at least one inject");
        }
        for item in items {
            let Some(fields) = self.fields(item, "an inject", &KEYS) else { continue };
            let id = self.required(&fields, "id").and_then(|n| self.ident(n, "inject id", '-'));
            let offset = self.required(&fields, "offset").and_then(|n| self.offset(n));
            let title = self.required(&fields, "title").map(|n| self.texts(n, "title", MAX_TEXT_CHARS));
            let body = self.required(&fields, "body").map(|n| self.texts(n, "body", MAX_BODY_CHARS));
            let targets = self.inject_roles(fields.get("roles"), roles);
            let expects = match fields.get("expects_response") {
                Some(n) => self.boolean(n, "expects_response"),
                None => Some(false),
            };
            let prompt =
                fields.get("response_prompt").map(|n| self.texts(n, "response_prompt", MAX_TEXT_CHARS));
            let deadline =
                fields.get("deadline").map(|n| self.number(n, "deadline", 1, MAX_DEADLINE_MINUTES));
            let notes =
                fields.get("notes").map(|n| self.texts(n, "notes", MAX_BODY_CHARS)).unwrap_or_default();
            if expects == Some(true) && prompt.is_none() {
                self.err(fields.line, "an inject that expects a response has a `response_prompt`");
            }
            if expects == Some(false) {
                for key in ["response_prompt", "deadline"] {
                    if let Some(value) = fields.get(key) {
                        self.err(
                            value.line(),
                            format!("`{key}` belongs to an inject with `expects_response: true`"),
                        );
                    }
                }
            }
            let (Some(id), Some(offset), Some(title), Some(body), Some(roles), Some(expects)) =
                (id, offset, title, body, targets, expects)
            else {
                continue;
            };
            let Some(deadline_minutes) = deadline.unwrap_or(Some(0)).map(|d| (d > 0).then_some(d)) else {
                continue;
            };
            if !ids.insert(id.clone()) {
                self.err(item.line(), format!("inject id {id:?} is used twice"));
                continue;
            }
            injects.push(Inject {
                id,
                offset_seconds: offset,
                title,
                body,
                roles,
                expects_response: expects,
                response_prompt: prompt.unwrap_or_default(),
                deadline_minutes,
                notes,
            });
        }
        injects
    }
}

fn scenario(node: &Node, errors: &mut Vec<PackageError>) -> Option<Scenario> {
    const KEYS: [&str; 8] =
        ["code", "version", "languages", "title", "description", "objectives", "roles", "injects"];
    let mut reader = Reader { errors, languages: Vec::new() };
    let fields = reader.fields(node, "the scenario", &KEYS)?;
    reader.languages(&fields);
    let code = reader.required(&fields, "code").and_then(|n| reader.ident(n, "code", '-'));
    let version = reader.required(&fields, "version").and_then(|n| reader.number(n, "version", 1, 1_000_000));
    let title = reader.required(&fields, "title").map(|n| reader.texts(n, "title", MAX_TEXT_CHARS));
    let description =
        fields.get("description").map(|n| reader.texts(n, "description", MAX_BODY_CHARS)).unwrap_or_default();
    let objectives = fields.get("objectives").map(|n| reader.objectives(n)).unwrap_or_default();
    let roles = reader.required(&fields, "roles").map(|n| reader.roles(n)).unwrap_or_default();
    let injects = reader.required(&fields, "injects").map(|n| reader.injects(n, &roles)).unwrap_or_default();
    Some(Scenario {
        code: code?,
        version: version?,
        languages: reader.languages,
        title: title?,
        description,
        objectives,
        roles,
        injects,
    })
}
