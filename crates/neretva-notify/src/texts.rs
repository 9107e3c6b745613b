//! The texts of notifications in English, Bosnian, Croatian, Serbian (Latin) and Serbian
//! (Cyrillic), kept as TOML data files in `texts/` and compiled in.
//!
//! Every language has the same keys (a test holds them to English's): the message's phrases,
//! the meaning of each TLP label, and a title, a short explanation and remediation advice for
//! the common classification types and for every RSIT taxonomy, which covers the other types.
//! Phrases are minijinja templates over the digest (see `render`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use serde::{Deserialize, Serialize};

use crate::NotifyError;

/// One language's texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    /// The BCP 47 tag, as `Language::tag` writes it.
    pub language: String,
    /// The phrases of messages (templates).
    pub phrases: Phrases,
    /// What each TLP label allows, by slug (`clear`, `green`, `amber`, `amber+strict`, `red`).
    pub tlp: BTreeMap<String, String>,
    /// Per RSIT taxonomy (fallback for types without their own text).
    pub taxonomies: BTreeMap<String, TypeText>,
    /// Per classification type, IntelMQ's slugs.
    pub types: BTreeMap<String, TypeText>,
    /// Incident updates: status changes and reporting reminders.
    pub incident: IncidentTexts,
}

/// The texts of incident updates; the subjects and introductions are minijinja templates over
/// the update (see `incident`), the rest plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentTexts {
    pub status_subject: String,
    pub status_intro: String,
    pub reminder_subject: String,
    pub reminder_intro: String,
    pub overdue_subject: String,
    pub overdue_intro: String,
    pub submit: String,
    pub reference: String,
    pub title: String,
    pub status: String,
    pub changed: String,
    pub report: String,
    pub due: String,
    pub remaining: String,
    pub late: String,
    pub closing: String,
    /// Units of a shown duration (`2 d 5 h`, `45 min`).
    pub day: String,
    pub hour: String,
    pub minute: String,
    /// Per incident status (`triage`, `in_progress`, ...): its name and what it means.
    pub statuses: BTreeMap<String, StatusText>,
    /// Per NIS2 report owed (`early_warning`, `final_report`, ...): its name.
    pub reports: BTreeMap<String, String>,
}

/// What an update says about one incident status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusText {
    pub name: String,
    pub text: String,
}

/// The phrases of a digest; each is a minijinja template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phrases {
    pub subject: String,
    pub greeting: String,
    pub intro: String,
    pub count: String,
    pub advice: String,
    pub examples: String,
    pub more: String,
    pub suppressed: String,
    pub attachments: String,
    pub closing: String,
}

/// What the message says about one kind of event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeText {
    pub title: String,
    pub explanation: String,
    pub advice: String,
}

const SOURCES: [(Language, &str); 5] = [
    (Language::En, include_str!("../texts/en.toml")),
    (Language::Bs, include_str!("../texts/bs.toml")),
    (Language::Hr, include_str!("../texts/hr.toml")),
    (Language::SrLatn, include_str!("../texts/sr-Latn.toml")),
    (Language::SrCyrl, include_str!("../texts/sr-Cyrl.toml")),
];

/// Parses one language's TOML text, checking it names `language`.
pub fn parse(language: Language, source: &str) -> Result<Texts, NotifyError> {
    let texts: Texts = toml::from_str(source).map_err(|error| NotifyError::Config {
        field: format!("texts/{language}.toml"),
        message: error.to_string(),
    })?;
    if texts.language != language.tag() {
        return Err(NotifyError::Config {
            field: format!("texts/{language}.toml"),
            message: format!("says it is {:?}", texts.language),
        });
    }
    Ok(texts)
}

/// The built-in texts of `language`.
pub fn builtin(language: Language) -> &'static Texts {
    static ALL: OnceLock<Vec<(Language, Texts)>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        SOURCES
            .iter()
            // The files are compiled in and checked by tests; a broken one is a build defect.
            .map(|(language, source)| match parse(*language, source) {
                Ok(texts) => (*language, texts),
                Err(error) => panic!("built-in notification texts are broken: {error}"),
            })
            .collect()
    });
    all.iter().find(|(l, _)| *l == language).map(|(_, t)| t).unwrap_or(&all[0].1)
}

impl Texts {
    /// The text of a classification type: its own, else its taxonomy's (with RSIT's English
    /// label of the type after the taxonomy's title), else the `other` taxonomy's.
    pub fn type_text(&self, classification_type: &str) -> TypeText {
        if let Some(text) = self.types.get(classification_type) {
            return text.clone();
        }
        let taxonomy = neretva_event::taxonomy::taxonomy_of(classification_type).unwrap_or("other");
        let label = neretva_event::taxonomy::label_of(classification_type).unwrap_or(classification_type);
        match self.taxonomies.get(taxonomy).or_else(|| self.taxonomies.get("other")) {
            Some(text) => TypeText { title: format!("{} ({label})", text.title), ..text.clone() },
            None => TypeText { title: label.to_owned(), explanation: String::new(), advice: String::new() },
        }
    }

    /// What the TLP label allows, in this language.
    pub fn tlp_text(&self, tlp: Tlp) -> &str {
        self.tlp.get(tlp.slug()).map_or("", String::as_str)
    }
}

/// The language to write to a contact in: the first of its languages (it lists them by
/// preference), else the organisation's default, else English.
pub fn choose_language(contact: &[Language], fallback: Option<Language>) -> Language {
    contact.first().copied().or(fallback).unwrap_or(Language::En)
}

#[cfg(test)]
mod tests {
    use neretva_event::taxonomy::{TAXONOMIES, intelmq_types};
    use neretva_incident::deadline::ObligationKind;

    use super::*;

    #[test]
    fn every_language_has_every_text() {
        let english = builtin(Language::En);
        for language in Language::ALL {
            let texts = builtin(language);
            assert_eq!(texts.language, language.tag());
            let keys = |map: &BTreeMap<String, TypeText>| map.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(&texts.types), keys(&english.types), "{language}: types");
            assert_eq!(keys(&texts.taxonomies), keys(&english.taxonomies), "{language}: taxonomies");
            assert_eq!(texts.tlp.keys().collect::<Vec<_>>(), english.tlp.keys().collect::<Vec<_>>());
            for tlp in Tlp::ALL {
                assert!(!texts.tlp_text(tlp).is_empty(), "{language}: {tlp}");
            }
            for taxonomy in TAXONOMIES {
                assert!(texts.taxonomies.contains_key(taxonomy), "{language}: taxonomy {taxonomy}");
            }
            for kind in intelmq_types() {
                let text = texts.type_text(kind.slug);
                assert!(
                    !text.title.is_empty() && !text.explanation.is_empty() && !text.advice.is_empty(),
                    "{language}: {}",
                    kind.slug
                );
            }
            for (slug, text) in texts.types.iter().chain(&texts.taxonomies) {
                for part in [&text.title, &text.explanation, &text.advice] {
                    assert_eq!(part.trim(), part, "{language}: {slug} has surrounding white space");
                }
            }
            let incident = &texts.incident;
            for status in neretva_incident::workflow::Status::ALL {
                let text = &incident.statuses[status.as_str()];
                assert!(!text.name.is_empty() && !text.text.is_empty(), "{language}: status {status}");
            }
            assert_eq!(incident.statuses.len(), neretva_incident::workflow::Status::ALL.len());
            let reports: Vec<&str> = incident.reports.keys().map(String::as_str).collect();
            let mut reminded: Vec<&str> = ALL_OBLIGATIONS
                .into_iter()
                .filter(|kind| crate::incident::reminded(*kind))
                .map(crate::incident::obligation_slug)
                .collect();
            reminded.sort();
            assert_eq!(reports, reminded, "{language}: reports");
        }
        // Each listed type is a real IntelMQ type.
        for slug in english.types.keys() {
            assert!(intelmq_types().iter().any(|t| t.slug == slug), "unknown type {slug}");
        }
    }

    const ALL_OBLIGATIONS: [ObligationKind; 7] = [
        ObligationKind::EarlyWarning,
        ObligationKind::Notification,
        ObligationKind::CsirtFeedback,
        ObligationKind::IntermediateReport,
        ObligationKind::FinalReport,
        ObligationKind::ProgressReport,
        ObligationKind::GdprNotification,
    ];

    #[test]
    fn serbian_cyrillic_is_cyrillic() {
        let texts = builtin(Language::SrCyrl);
        // Technical terms (DNS, Redis, brute force) stay in Latin letters, as is usual in Serbian
        // Cyrillic texts; nothing else does.
        let letters = |text: &str, cyrillic: bool| {
            text.chars()
                .filter(|c| c.is_alphabetic() && (('\u{400}'..='\u{4ff}').contains(c) == cyrillic))
                .count()
        };
        let incident = &texts.incident;
        let statuses = incident.statuses.values().flat_map(|s| [&s.name, &s.text]);
        for part in statuses.chain(incident.reports.values()).chain([&incident.closing, &incident.submit]) {
            assert!(!part.contains(['č', 'ć', 'ž', 'š', 'đ']), "{part}");
            assert!(letters(part, true) > 3 * letters(part, false), "{part}");
        }
        for (slug, text) in texts.types.iter().chain(&texts.taxonomies) {
            for part in [&text.title, &text.explanation, &text.advice] {
                assert!(!part.contains(['č', 'ć', 'ž', 'š', 'đ', 'Č', 'Ć', 'Ž', 'Š', 'Đ']), "{slug}: {part}");
                if part.chars().count() > 20 {
                    assert!(letters(part, true) > 3 * letters(part, false), "{slug}: {part}");
                }
            }
        }
    }

    #[test]
    fn types_fall_back_to_their_taxonomy() {
        let texts = builtin(Language::En);
        let text = texts.type_text("outage");
        assert!(text.title.ends_with("(Outage)"), "{}", text.title);
        assert_eq!(text.advice, texts.taxonomies["availability"].advice);
        assert_eq!(choose_language(&[Language::Hr, Language::En], Some(Language::Bs)), Language::Hr);
        assert_eq!(choose_language(&[], Some(Language::Bs)), Language::Bs);
        assert_eq!(choose_language(&[], None), Language::En);
    }

    #[test]
    fn wrong_language_tag_is_refused() {
        let source = SOURCES[0].1;
        let error = parse(Language::Hr, source).unwrap_err().to_string();
        assert!(error.contains("says it is \"en\""), "{error}");
    }
}
