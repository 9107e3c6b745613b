//! Rendering a digest's subject and body in a contact's language with minijinja templates.
//!
//! Templates see one context (see [`DigestView`]): `cert`, `org`, `org_short`, `language`,
//! `tlp` (the label, e.g. `TLP:AMBER+STRICT`), `tlp_text` (what it allows, in the language),
//! `count`, `suppressed`, `first_seen`, `last_seen`, `text` (the language's phrases, rendered)
//! and `groups` (per classification type: `type`, `title`, `underline`, `explanation`,
//! `advice`, `count`, `count_line`, `examples`, `more_line`). The phrases themselves are
//! templates over the scalar variables. Users override the subject or body per language
//! (`subject.hr`, `body.hr`) or for all languages (`subject`, `body`); undefined variables are
//! errors, and rendering is bounded by fuel, so a broken override fails loudly and quickly.

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior};
use neretva_event::Event;
use neretva_event::taxonomy::intelmq_types;
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use serde::Serialize;

use crate::NotifyError;
use crate::texts::{Texts, builtin};

/// The built-in body template.
const BODY: &str = include_str!("../texts/body.txt.j2");

/// The built-in subject template: the language's `subject` phrase.
const SUBJECT: &str = "{{ text.subject }}";

/// The built-in bodies of incident updates.
const STATUS_BODY: &str = include_str!("../texts/status.txt.j2");
const REMINDER_BODY: &str = include_str!("../texts/reminder.txt.j2");

/// The templates users may override, each for every language or for one (`body.hr`).
pub const OVERRIDABLE: [&str; 6] =
    ["subject", "body", "status_subject", "status_body", "reminder_subject", "reminder_body"];

/// How many example events a group lists in the body; the attachments hold all.
pub const EXAMPLES_PER_GROUP: usize = 10;

/// The longest value shown in an example line, in characters.
const MAX_SHOWN: usize = 120;

/// Template overrides by name: one of [`OVERRIDABLE`] (`subject`, `body`, `status_subject`, ...),
/// alone or with a language tag (`body.hr`, `status_subject.sr-Cyrl`).
pub type Overrides = BTreeMap<String, String>;

/// Compiled templates for every language.
pub struct Renderer {
    env: Environment<'static>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

fn template_error(name: &str, error: &minijinja::Error) -> NotifyError {
    let name = name.strip_prefix("override/").unwrap_or(name);
    let line = error.line().map(|line| format!(" line {line}")).unwrap_or_default();
    NotifyError::Template { name: format!("{name}{line}"), message: error.to_string() }
}

const PHRASES: [&str; 10] = [
    "subject",
    "greeting",
    "intro",
    "count",
    "advice",
    "examples",
    "more",
    "suppressed",
    "attachments",
    "closing",
];

fn phrase<'a>(texts: &'a Texts, name: &str) -> &'a str {
    let p = &texts.phrases;
    match name {
        "subject" => &p.subject,
        "greeting" => &p.greeting,
        "intro" => &p.intro,
        "count" => &p.count,
        "advice" => &p.advice,
        "examples" => &p.examples,
        "more" => &p.more,
        "suppressed" => &p.suppressed,
        "attachments" => &p.attachments,
        _ => &p.closing,
    }
}

impl Renderer {
    /// Compiles the built-in texts and templates and the overrides; an override with an unknown
    /// name or a syntax error is refused, naming it.
    pub fn new(overrides: &Overrides) -> Result<Renderer, NotifyError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|error| template_error("(syntax)", &error))?;
        env.set_syntax(syntax);
        env.set_fuel(Some(2_000_000));
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        for language in Language::ALL {
            let texts = builtin(language);
            for name in PHRASES {
                let template = format!("{}/{name}", language.tag());
                env.add_template_owned(template.clone(), phrase(texts, name).to_owned())
                    .map_err(|error| template_error(&template, &error))?;
            }
            for (name, source) in crate::incident::phrases(&texts.incident) {
                let template = format!("{}/incident.{name}", language.tag());
                env.add_template_owned(template.clone(), source.to_owned())
                    .map_err(|error| template_error(&template, &error))?;
            }
        }
        for (name, source) in [
            ("body", BODY),
            ("subject", SUBJECT),
            ("status_body", STATUS_BODY),
            ("status_subject", SUBJECT),
            ("reminder_body", REMINDER_BODY),
            ("reminder_subject", SUBJECT),
        ] {
            env.add_template(name, source).map_err(|error| template_error(name, &error))?;
        }
        for (name, source) in overrides {
            let (kind, language) = match name.split_once('.') {
                Some((kind, tag)) => (kind, Some(tag)),
                None => (name.as_str(), None),
            };
            let known_language = language.is_none_or(|tag| Language::ALL.iter().any(|l| l.tag() == tag));
            if !OVERRIDABLE.contains(&kind) || !known_language {
                return Err(NotifyError::Template {
                    name: name.clone(),
                    message: format!(
                        "unknown template; expected one of {}, optionally with a language (body.hr, \
                         status_subject.sr-Cyrl)",
                        OVERRIDABLE.join(", ")
                    ),
                });
            }
            env.add_template_owned(format!("override/{name}"), source.clone())
                .map_err(|error| template_error(name, &error))?;
        }
        Ok(Renderer { env })
    }

    pub(crate) fn render_named(&self, name: &str, context: &impl Serialize) -> Result<String, NotifyError> {
        let template = self.env.get_template(name).map_err(|error| template_error(name, &error))?;
        template.render(minijinja::value::Serde(context)).map_err(|error| template_error(name, &error))
    }

    /// The template to use for `kind` in `language`: the language's override, the override for
    /// every language, or the built-in one.
    pub(crate) fn pick(&self, kind: &str, language: Language) -> String {
        let specific = format!("override/{kind}.{}", language.tag());
        if self.env.get_template(&specific).is_ok() {
            return specific;
        }
        let general = format!("override/{kind}");
        if self.env.get_template(&general).is_ok() {
            return general;
        }
        kind.to_owned()
    }

    /// Renders a digest's subject (one line) and body (LF line endings).
    pub fn digest(&self, input: &DigestInput<'_>) -> Result<(String, String), NotifyError> {
        let view = self.view(input)?;
        let subject = self.render_named(&self.pick("subject", input.language), &view)?;
        let body = self.render_named(&self.pick("body", input.language), &view)?;
        Ok((crate::mime::one_line(&subject), body))
    }

    pub(crate) fn phrase(
        &self,
        language: Language,
        name: &str,
        context: &impl Serialize,
    ) -> Result<String, NotifyError> {
        self.render_named(&format!("{}/{name}", language.tag()), context)
    }

    /// The template context of a digest.
    pub fn view(&self, input: &DigestInput<'_>) -> Result<DigestView, NotifyError> {
        let texts = builtin(input.language);
        let times: Vec<time::OffsetDateTime> = input.events.iter().filter_map(|e| event_time(e)).collect();
        let first_seen = times.iter().min().map(|t| show_time(*t)).unwrap_or_default();
        let last_seen = times.iter().max().map(|t| show_time(*t)).unwrap_or_default();
        let mut view = DigestView {
            cert: input.cert.to_owned(),
            org: input.org.to_owned(),
            org_short: input.org_short.to_owned(),
            language: input.language.tag().to_owned(),
            tlp: input.tlp.label().to_owned(),
            tlp_text: texts.tlp_text(input.tlp).to_owned(),
            count: input.events.len(),
            suppressed: input.suppressed,
            first_seen,
            last_seen,
            text: BTreeMap::new(),
            groups: Vec::new(),
        };
        for name in
            ["subject", "greeting", "intro", "advice", "examples", "suppressed", "attachments", "closing"]
        {
            let rendered = self.phrase(input.language, name, &view)?;
            view.text.insert(name.to_owned(), rendered);
        }
        for (slug, events) in group(input.events) {
            let text = texts.type_text(slug);
            #[derive(Serialize)]
            struct Count {
                count: usize,
            }
            let count = Count { count: events.len() };
            let more = events.len() > EXAMPLES_PER_GROUP;
            view.groups.push(GroupView {
                underline: "=".repeat(text.title.chars().count()),
                title: text.title,
                r#type: slug.to_owned(),
                explanation: text.explanation,
                advice: text.advice,
                count: events.len(),
                count_line: self.phrase(input.language, "count", &count)?,
                examples: events.iter().take(EXAMPLES_PER_GROUP).map(|e| example_line(e)).collect(),
                more_line: if more { Some(self.phrase(input.language, "more", &count)?) } else { None },
            });
        }
        Ok(view)
    }
}

/// What a digest is about.
#[derive(Debug, Clone)]
pub struct DigestInput<'a> {
    /// The CERT's name as it signs its messages.
    pub cert: &'a str,
    pub org: &'a str,
    pub org_short: &'a str,
    pub language: Language,
    pub tlp: Tlp,
    pub events: &'a [&'a Event],
    pub suppressed: u64,
}

/// The template context of a digest.
#[derive(Debug, Clone, Serialize)]
pub struct DigestView {
    pub cert: String,
    pub org: String,
    pub org_short: String,
    pub language: String,
    pub tlp: String,
    pub tlp_text: String,
    pub count: usize,
    pub suppressed: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub text: BTreeMap<String, String>,
    pub groups: Vec<GroupView>,
}

/// One classification type's section.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    pub r#type: String,
    pub title: String,
    pub underline: String,
    pub explanation: String,
    pub advice: String,
    pub count: usize,
    pub count_line: String,
    pub examples: Vec<String>,
    pub more_line: Option<String>,
}

/// Events grouped by classification type, in RSIT order (IntelMQ's extras and unknown types
/// last), each group in the given order.
pub fn group<'a>(events: &[&'a Event]) -> Vec<(&'a str, Vec<&'a Event>)> {
    let mut groups: BTreeMap<(usize, &'a str), Vec<&'a Event>> = BTreeMap::new();
    let types = intelmq_types();
    for event in events {
        let slug = event.get_str("classification.type").unwrap_or("undetermined");
        let rank = types.iter().position(|t| t.slug == slug).unwrap_or(types.len());
        groups.entry((rank, slug)).or_default().push(event);
    }
    groups.into_iter().map(|((_, slug), events)| (slug, events)).collect()
}

fn event_time(event: &Event) -> Option<time::OffsetDateTime> {
    event.get("time.source").or_else(|| event.get("time.observation")).and_then(|v| v.as_time())
}

pub(crate) fn show_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A value as shown in the body: control characters removed, at most [`MAX_SHOWN`] characters.
fn shown(event: &Event, name: &str) -> Option<String> {
    let value = event.get(name)?;
    let mut text = String::new();
    value.write_text(&mut text);
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() > MAX_SHOWN {
        Some(format!("{}…", clean.chars().take(MAX_SHOWN - 1).collect::<String>()))
    } else {
        Some(clean)
    }
}

/// One line describing an event: time, source (address and port), names, URL, destination,
/// protocol and malware.
pub fn example_line(event: &Event) -> String {
    let mut parts = Vec::new();
    if let Some(t) = event_time(event) {
        parts.push(format!("{} UTC", show_time(t)));
    }
    let address = |ip: &str, port: &str| match (shown(event, ip), shown(event, port)) {
        (Some(ip), Some(port)) if ip.contains(':') => Some(format!("[{ip}]:{port}")),
        (Some(ip), Some(port)) => Some(format!("{ip}:{port}")),
        (Some(ip), None) => Some(ip),
        _ => None,
    };
    parts.extend(address("source.ip", "source.port"));
    parts.extend(shown(event, "source.fqdn"));
    parts.extend(shown(event, "source.url"));
    if let Some(destination) = address("destination.ip", "destination.port") {
        parts.push(format!("→ {destination}"));
    }
    let protocol = [shown(event, "protocol.transport"), shown(event, "protocol.application")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/");
    if !protocol.is_empty() {
        parts.push(protocol);
    }
    parts.extend(shown(event, "malware.name"));
    if parts.is_empty() { "-".into() } else { parts.join("  ") }
}
