//! The interface's texts in five languages, from one TOML file per area under `texts/`.
//!
//! A key is `<area>.<path>`: `t("events.filter.since")` is the table `[filter.since]` of
//! `texts/events.toml`. Each key holds `en`, `bs`, `hr`, `sr-Latn` and optionally `sr-Cyrl`
//! (derived from `sr-Latn` by `to_cyrillic` when absent). A value is a string, or for counted
//! things a table `{ one, few, other }` chosen by the language's plural rule. `{n}` and other
//! `{name}` placeholders are filled from the call's arguments.

use std::collections::HashMap;
use std::sync::OnceLock;

use neretva_governance::check_texts::to_cyrillic;
use neretva_model::contact::Language;

/// The text files, by area; an area's keys start with its name.
pub(crate) const FILES: &[(&str, &str)] = &[
    ("common", include_str!("../../texts/common.toml")),
    ("dashboard", include_str!("../../texts/dashboard.toml")),
    ("events", include_str!("../../texts/events.toml")),
    ("feeds", include_str!("../../texts/feeds.toml")),
    ("constituency", include_str!("../../texts/constituency.toml")),
    ("sharing", include_str!("../../texts/sharing.toml")),
    ("admin", include_str!("../../texts/admin.toml")),
    ("incidents", include_str!("../../texts/incidents.toml")),
    ("portal", include_str!("../../texts/portal.toml")),
    ("learning", include_str!("../../texts/learning.toml")),
    ("training", include_str!("../../texts/training.toml")),
];

/// The languages every text must have (Serbian Cyrillic may be derived).
const REQUIRED: [Language; 4] = [Language::En, Language::Bs, Language::Hr, Language::SrLatn];

/// The plural category of a number in a language (CLDR rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plural {
    One,
    Few,
    Other,
}

/// CLDR plural rule: English has one and other; Bosnian, Croatian and Serbian have one
/// (1, 21, 31, … but not 11), few (2–4, 22–24, … but not 12–14) and other.
pub(crate) fn plural(language: Language, n: i64) -> Plural {
    let n = n.unsigned_abs();
    match language {
        Language::En => {
            if n == 1 {
                Plural::One
            } else {
                Plural::Other
            }
        }
        Language::Bs | Language::Hr | Language::SrLatn | Language::SrCyrl => {
            if n % 10 == 1 && n % 100 != 11 {
                Plural::One
            } else if (2..=4).contains(&(n % 10)) && !(12..=14).contains(&(n % 100)) {
                Plural::Few
            } else {
                Plural::Other
            }
        }
    }
}

/// One language's form of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Form {
    Plain(String),
    Counted { one: String, few: Option<String>, other: String },
}

impl Form {
    fn pick(&self, language: Language, n: Option<i64>) -> &str {
        match self {
            Form::Plain(text) => text,
            Form::Counted { one, few, other } => match plural(language, n.unwrap_or(0)) {
                Plural::One => one,
                Plural::Few => few.as_deref().unwrap_or(other),
                Plural::Other => other,
            },
        }
    }

    fn to_cyrillic(&self) -> Form {
        match self {
            Form::Plain(text) => Form::Plain(to_cyrillic(text)),
            Form::Counted { one, few, other } => Form::Counted {
                one: to_cyrillic(one),
                few: few.as_deref().map(to_cyrillic),
                other: to_cyrillic(other),
            },
        }
    }
}

/// Every text, by key, with one form per language in `Language::ALL` order.
#[derive(Debug, Default)]
pub(crate) struct Texts {
    entries: HashMap<String, [Form; 5]>,
}

fn language_index(language: Language) -> usize {
    Language::ALL.iter().position(|l| *l == language).unwrap_or(0)
}

fn parse_form(key: &str, language: &str, value: &toml::Value) -> Result<Form, String> {
    match value {
        toml::Value::String(text) => Ok(Form::Plain(text.clone())),
        toml::Value::Table(table) => {
            let get = |name: &str| table.get(name).and_then(toml::Value::as_str).map(str::to_owned);
            for name in table.keys() {
                if !matches!(name.as_str(), "one" | "few" | "other") {
                    return Err(format!("{key}.{language}: unknown plural form {name:?}"));
                }
            }
            let (Some(one), Some(other)) = (get("one"), get("other")) else {
                return Err(format!("{key}.{language}: a counted text needs `one` and `other`"));
            };
            let few = get("few");
            if language != "en" && few.is_none() {
                return Err(format!("{key}.{language}: a counted text needs `few` in this language"));
            }
            Ok(Form::Counted { one, few, other })
        }
        _ => Err(format!("{key}.{language}: expected a string or a table {{one, few, other}}")),
    }
}

/// Whether a TOML table is one text (it has an `en` entry) rather than a group of texts.
fn is_text(table: &toml::Table) -> bool {
    table.contains_key("en")
}

fn collect(prefix: &str, table: &toml::Table, texts: &mut Texts, errors: &mut Vec<String>) {
    for (name, value) in table {
        let key = format!("{prefix}.{name}");
        let Some(inner) = value.as_table() else {
            errors.push(format!("{key}: expected a table of languages or of texts"));
            continue;
        };
        if !is_text(inner) {
            collect(&key, inner, texts, errors);
            continue;
        }
        let mut forms: [Option<Form>; 5] = Default::default();
        for (language, value) in inner {
            let Ok(parsed) = language.parse::<Language>() else {
                errors.push(format!("{key}: unknown language {language:?}"));
                continue;
            };
            if parsed.tag() != language {
                errors.push(format!("{key}: write the language as {:?}, not {language:?}", parsed.tag()));
                continue;
            }
            match parse_form(&key, language, value) {
                Ok(form) => forms[language_index(parsed)] = Some(form),
                Err(error) => errors.push(error),
            }
        }
        for language in REQUIRED {
            if forms[language_index(language)].is_none() {
                errors.push(format!("{key}: missing {}", language.tag()));
            }
        }
        let cyrillic = language_index(Language::SrCyrl);
        if forms[cyrillic].is_none() {
            forms[cyrillic] = forms[language_index(Language::SrLatn)].as_ref().map(Form::to_cyrillic);
        }
        let [Some(en), Some(bs), Some(hr), Some(sr_latn), Some(sr_cyrl)] = forms else { continue };
        texts.entries.insert(key, [en, bs, hr, sr_latn, sr_cyrl]);
    }
}

impl Texts {
    /// Parses text files; returns every problem found (bad TOML, missing languages).
    pub(crate) fn parse(files: &[(&str, &str)]) -> Result<Texts, Vec<String>> {
        let mut texts = Texts::default();
        let mut errors = Vec::new();
        for (area, source) in files {
            match source.parse::<toml::Table>() {
                Ok(table) => collect(area, &table, &mut texts, &mut errors),
                Err(error) => errors.push(format!("texts/{area}.toml: {error}")),
            }
        }
        if errors.is_empty() { Ok(texts) } else { Err(errors) }
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The text of `key` in `language`, the plural form chosen by `n`, with `{n}` and the
    /// `args` placeholders filled. An unknown key answers the key itself (tests forbid them).
    pub(crate) fn get(
        &self,
        language: Language,
        key: &str,
        n: Option<i64>,
        args: &[(&str, String)],
    ) -> String {
        let Some(forms) = self.entries.get(key) else { return key.to_owned() };
        let mut text = forms[language_index(language)].pick(language, n).to_owned();
        if let Some(n) = n {
            text = text.replace("{n}", &n.to_string());
        }
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

/// The texts compiled into the binary.
pub(crate) fn texts() -> &'static Texts {
    static TEXTS: OnceLock<Texts> = OnceLock::new();
    TEXTS.get_or_init(|| match Texts::parse(FILES) {
        Ok(texts) => texts,
        Err(errors) => {
            // The unit tests refuse this; a binary built anyway shows keys instead of texts.
            tracing::error!(errors = ?errors, "The interface texts are invalid.");
            Texts::default()
        }
    })
}

/// `t(language, key)` for Rust code (titles, messages built by handlers).
pub(crate) fn t(language: Language, key: &str) -> String {
    texts().get(language, key, None, &[])
}

/// `t` with a count choosing the plural form and filling `{n}`.
pub(crate) fn t_n(language: Language, key: &str, n: i64) -> String {
    texts().get(language, key, Some(n), &[])
}

/// The language a browser asks for in `Accept-Language`, by preference (`q`), trying each tag
/// and then its shorter prefixes (`sr-Latn-RS`, `sr-Latn`, `sr`); `None` when none is ours.
pub(crate) fn from_accept_language(header: &str) -> Option<Language> {
    let mut wanted: Vec<(f32, usize, &str)> = header
        .split(',')
        .take(32)
        .enumerate()
        .filter_map(|(position, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let q = pieces
                .find_map(|piece| piece.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && q > 0.0).then_some((q, position, tag))
        })
        .collect();
    wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    wanted.into_iter().find_map(|(_, _, tag)| {
        let subtags: Vec<&str> = tag.split(['-', '_']).collect();
        (1..=subtags.len()).rev().find_map(|len| subtags[..len].join("-").parse::<Language>().ok())
    })
}

/// The name of each language in itself, for the language switcher.
pub(crate) fn language_name(language: Language) -> &'static str {
    match language {
        Language::En => "English",
        Language::Bs => "Bosanski",
        Language::Hr => "Hrvatski",
        Language::SrLatn => "Srpski (latinica)",
        Language::SrCyrl => "Српски (ћирилица)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_has_every_language_and_parses() {
        let texts = Texts::parse(FILES).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
        assert!(texts.contains("common.nav.dashboard"));
        assert!(texts.entries.len() > 50, "{}", texts.entries.len());
    }

    #[test]
    fn a_missing_language_or_plural_form_is_reported() {
        let errors = Texts::parse(&[("x", "[a]\nen = \"A\"\nbs = \"A\"\nhr = \"A\"\n")]).unwrap_err();
        assert_eq!(errors, vec!["x.a: missing sr-Latn".to_owned()]);
        let source = "[n]\nen = { one = \"{n} item\", other = \"{n} items\" }\nbs = { one = \"a\", other = \"b\" }\nhr = \"c\"\nsr-Latn = \"d\"\n";
        let errors = Texts::parse(&[("x", source)]).unwrap_err();
        assert_eq!(errors, ["x.n.bs: a counted text needs `few` in this language", "x.n: missing bs"]);
        let errors =
            Texts::parse(&[("x", "[a]\nen = \"A\"\nbs = \"A\"\nhr = \"A\"\nsr-Latn = \"A\"\nde = \"A\"\n")])
                .unwrap_err();
        assert_eq!(errors, vec!["x.a: unknown language \"de\"".to_owned()]);
    }

    #[test]
    fn templates_use_only_known_keys() {
        let texts = Texts::parse(FILES).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
        let mut unknown = Vec::new();
        let mut used = 0;
        for (name, source) in crate::web::TEMPLATES {
            for key in template_keys(source) {
                used += 1;
                // A key built in the template (`t("common.roles." ~ role)`) names a prefix.
                let known = if key.ends_with('.') {
                    texts.entries.keys().any(|k| k.starts_with(&key))
                } else {
                    texts.contains(&key)
                };
                if !known {
                    unknown.push(format!("{name}: {key}"));
                }
            }
        }
        assert!(unknown.is_empty(), "unknown text keys:\n{}", unknown.join("\n"));
        assert!(used > 20, "{used}");
    }

    #[test]
    fn rust_code_uses_only_known_keys() {
        let texts = Texts::parse(FILES).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
        let mut unknown = Vec::new();
        for (name, source) in crate::web::SOURCES {
            for call in ["t(language, \"", "t_n(language, \"", "t(web.language, \"", "t_n(web.language, \""] {
                for piece in source.split(call).skip(1) {
                    let key = piece.split('"').next().unwrap_or_default();
                    if !texts.contains(key) {
                        unknown.push(format!("{name}: {key}"));
                    }
                }
            }
        }
        assert!(unknown.is_empty(), "unknown text keys:\n{}", unknown.join("\n"));
    }

    /// The keys of `t("…")` calls in a template.
    fn template_keys(source: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for quote in ['"', '\''] {
            let call = format!("t({quote}");
            for piece in source.split(call.as_str()).skip(1) {
                if let Some(key) = piece.split(quote).next() {
                    keys.push(key.to_owned());
                }
            }
        }
        keys
    }

    #[test]
    fn keys_built_from_values_exist() {
        let texts = Texts::parse(FILES).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
        let mut keys: Vec<String> = neretva_model::user::Role::ALL
            .iter()
            .map(|role| format!("common.roles.{}", role.as_str()))
            .collect();
        keys.extend(
            neretva_model::org::SECTORS.iter().map(|sector| format!("common.sectors.{}", sector.slug)),
        );
        for status in neretva_incident::workflow::Status::ALL {
            keys.push(format!("dashboard.statuses.{}", status.as_str()));
        }
        for state in ["overdue", "due_soon", "due"] {
            keys.push(format!("dashboard.deadlines.states.{state}"));
        }
        for kind in [
            "early_warning",
            "notification",
            "csirt_feedback",
            "intermediate_report",
            "final_report",
            "progress_report",
            "gdpr_notification",
        ] {
            keys.push(format!("dashboard.deadlines.kinds.{kind}"));
        }
        for status in ["received", "parsed", "failed"] {
            keys.push(format!("feeds.status.{status}"));
        }
        let missing: Vec<&String> = keys.iter().filter(|key| !texts.contains(key)).collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn plural_rules_follow_cldr() {
        let cases =
            [(0, Plural::Other), (1, Plural::One), (2, Plural::Few), (4, Plural::Few), (5, Plural::Other)];
        for (n, expected) in cases {
            assert_eq!(plural(Language::Hr, n), expected, "{n}");
        }
        for (n, expected) in
            [(11, Plural::Other), (12, Plural::Other), (14, Plural::Other), (21, Plural::One)]
        {
            assert_eq!(plural(Language::SrCyrl, n), expected, "{n}");
        }
        assert_eq!(plural(Language::Bs, 22), Plural::Few);
        assert_eq!(plural(Language::Bs, 111), Plural::Other);
        assert_eq!(plural(Language::En, 1), Plural::One);
        assert_eq!(plural(Language::En, 2), Plural::Other);
        assert_eq!(plural(Language::En, 0), Plural::Other);
    }

    #[test]
    fn counted_texts_pick_their_form_and_fill_placeholders() {
        let source = "[events]\nen = { one = \"{n} event\", other = \"{n} events\" }\n\
            bs = { one = \"{n} događaj\", few = \"{n} događaja\", other = \"{n} događaja\" }\n\
            hr = { one = \"{n} događaj\", few = \"{n} događaja\", other = \"{n} događaja\" }\n\
            sr-Latn = { one = \"{n} događaj\", few = \"{n} događaja\", other = \"{n} događaja\" }\n\
            [hello]\nen = \"Hello {name}\"\nbs = \"Zdravo {name}\"\nhr = \"Bok {name}\"\nsr-Latn = \"Zdravo {name}\"\n";
        let texts = Texts::parse(&[("x", source)]).unwrap();
        assert_eq!(texts.get(Language::En, "x.events", Some(1), &[]), "1 event");
        assert_eq!(texts.get(Language::En, "x.events", Some(3), &[]), "3 events");
        assert_eq!(texts.get(Language::SrCyrl, "x.events", Some(21), &[]), "21 догађај");
        assert_eq!(texts.get(Language::SrCyrl, "x.hello", None, &[("name", "Ana".into())]), "Здраво Ana");
        assert_eq!(texts.get(Language::Hr, "x.unknown", None, &[]), "x.unknown");
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(from_accept_language("hr-HR,hr;q=0.9,en;q=0.8"), Some(Language::Hr));
        assert_eq!(from_accept_language("de-DE,sr-Latn-RS;q=0.7,en;q=0.5"), Some(Language::SrLatn));
        assert_eq!(from_accept_language("sr"), Some(Language::SrCyrl));
        assert_eq!(from_accept_language("en;q=0.2, bs;q=0.9"), Some(Language::Bs));
        assert_eq!(from_accept_language("de, fr"), None);
        assert_eq!(from_accept_language("en-AU"), Some(Language::En));
        assert_eq!(from_accept_language(""), None);
    }
}
