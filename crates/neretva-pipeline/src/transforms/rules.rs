//! `filter` and `modify`: declarative rules over event fields.
//!
//! ```toml
//! [[rules]]
//! name = "drop tests"
//! when = [{ field = "classification.type", equals = "test" }]
//! action = "drop"
//!
//! [[rules]]
//! name = "mark energy scanners"
//! when = [
//!   { field = "classification.taxonomy", equals = "information-gathering" },
//!   { field = "source.ip", in_cidr = ["192.0.2.0/24", "2001:db8::/32"] },
//! ]
//! set = { "extra.priority" = "high" }
//! tag = "energy"
//! ```
//!
//! A rule matches when all of its conditions hold; the first matching `drop` ends the event,
//! a `keep` rule ends every event it does not match, and the modifying rules all apply in order:
//! `set` fields, `strip` characters (`strip_chars`, a space by default) from both ends of fields,
//! `replace` text in a field (`[{ field, old, new, count }]`, every occurrence unless `count`),
//! `split` an `extra.*` member's text into a list (`[{ field, separator }]`, `,` by default),
//! then `tag`. The last three are IntelMQ's format_field expert.
//! Rules are compiled once at configuration load, with every error reported.
//!
//! `before` and `after` compare a time field (`time.source`, say) with a point in time: RFC 3339
//! (`2026-01-01T00:00:00Z`), a day (`2026-01-01`, midnight UTC), or an age as IntelMQ's filter
//! expert writes it (`10 hours`, `7 days`, `1 month`; a month is 30 days, a year 365) meaning
//! that long before the report is processed. IntelMQ's filter expert maps onto rules:
//! `not_before = X` is a drop rule `{ field = "time.source", before = X }`, `not_after = X` one
//! with `after = X`, and `filter_action = "keep"` is `action = "keep"`.

use std::net::IpAddr;

use neretva_event::Event;
use neretva_net::Cidr;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// A rule as written in the configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    #[serde(default)]
    pub when: Vec<ConditionConfig>,
    /// `"drop"` to discard matching events, `"keep"` to discard every other event.
    #[serde(default)]
    pub action: Option<String>,
    /// Fields to set on matching events.
    #[serde(default)]
    pub set: std::collections::BTreeMap<String, String>,
    /// A tag appended to `extra.tags` of matching events.
    #[serde(default)]
    pub tag: Option<String>,
    /// Fields whose text loses leading and trailing `strip_chars`.
    #[serde(default)]
    pub strip: Vec<String>,
    /// The characters `strip` removes; a space when left out (as IntelMQ's format_field expert).
    #[serde(default)]
    pub strip_chars: Option<String>,
    /// Text replacements in fields.
    #[serde(default)]
    pub replace: Vec<ReplaceConfig>,
    /// `extra.*` members whose text becomes a list, split at a separator.
    #[serde(default)]
    pub split: Vec<SplitConfig>,
}

/// Replaces text in a field's value: `{ field = "feed.url", old = "localhost", new = "127.0.0.1" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaceConfig {
    pub field: String,
    pub old: String,
    pub new: String,
    /// How many occurrences, from the start; every one when left out.
    #[serde(default)]
    pub count: Option<usize>,
}

/// Splits an `extra.*` member's text into a list: `{ field = "extra.tags", separator = "," }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitConfig {
    pub field: String,
    /// `,` when left out.
    #[serde(default)]
    pub separator: Option<String>,
}

/// One condition on one field; exactly one test must be given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionConfig {
    pub field: String,
    pub equals: Option<String>,
    pub not_equals: Option<String>,
    pub regex: Option<String>,
    pub in_list: Option<Vec<String>>,
    pub in_cidr: Option<Vec<String>>,
    pub exists: Option<bool>,
    /// The field's time is before this point (RFC 3339, a day, or an age such as `7 days`).
    pub before: Option<String>,
    /// The field's time is after this point (RFC 3339, a day, or an age such as `7 days`).
    pub after: Option<String>,
}

/// A point in time of a `before` or `after` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeBound {
    At(OffsetDateTime),
    /// This long before the processing time.
    Ago(Duration),
}

impl TimeBound {
    /// RFC 3339, a day (midnight UTC), or an age as IntelMQ's `parse_relative` reads it: a
    /// number, white space and a unit (second, minute, hour, day, week, month = 30 days,
    /// year = 365 days), singular or plural.
    fn parse(text: &str) -> Result<TimeBound, String> {
        let text = text.trim();
        if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
            return Ok(TimeBound::At(at.to_offset(time::UtcOffset::UTC)));
        }
        let day = time::macros::format_description!("[year]-[month]-[day]");
        if let Ok(date) = time::Date::parse(text, &day) {
            return Ok(TimeBound::At(date.midnight().assume_utc()));
        }
        let age = || -> Option<Duration> {
            let (count, unit) = text.split_once(char::is_whitespace)?;
            let count = i64::from(count.parse::<u32>().ok()?);
            let unit = unit.trim_start();
            let unit = unit.strip_suffix('s').filter(|u| u.len() > 1).unwrap_or(unit);
            let seconds: i64 = match unit {
                "second" => 1,
                "minute" => 60,
                "hour" => 3_600,
                "day" => 86_400,
                "week" => 7 * 86_400,
                "month" => 30 * 86_400,
                "year" => 365 * 86_400,
                _ => return None,
            };
            count.checked_mul(seconds).map(Duration::seconds)
        };
        age().map(TimeBound::Ago).ok_or_else(|| {
            format!(
                "{text:?} is not a time: give RFC 3339 (2026-01-01T00:00:00Z), a day (2026-01-01) or an \
                 age such as \"10 hours\", \"7 days\" or \"1 month\""
            )
        })
    }

    fn at(self, now: OffsetDateTime) -> OffsetDateTime {
        match self {
            TimeBound::At(at) => at,
            TimeBound::Ago(age) => now.checked_sub(age).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        }
    }
}

#[derive(Debug, Clone)]
enum Test {
    Equals(String),
    NotEquals(String),
    Regex(regex::Regex),
    InList(Vec<String>),
    InCidr(Vec<Cidr>),
    Exists(bool),
    Before(TimeBound),
    After(TimeBound),
}

/// What a rule does with the events it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Set fields and tag.
    Modify,
    Drop,
    /// Drop every event it does not match.
    Keep,
}

#[derive(Debug, Clone)]
struct Condition {
    field: String,
    test: Test,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    conditions: Vec<Condition>,
    action: Action,
    set: Vec<(String, String)>,
    strip: Vec<String>,
    strip_chars: Vec<char>,
    replace: Vec<ReplaceConfig>,
    /// Members and their separators.
    split: Vec<(String, String)>,
    tag: Option<String>,
}

/// What the rules decided for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    /// Dropped by the named rule.
    Drop(String),
}

/// Compiles rules, reporting every problem as `rules[i] (name): …`.
pub fn compile(configs: &[RuleConfig]) -> Result<Vec<Rule>, Vec<String>> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (index, config) in configs.iter().enumerate() {
        let at = format!("rules[{index}] ({})", config.name);
        let mut conditions = Vec::new();
        for (c_index, condition) in config.when.iter().enumerate() {
            let at = format!("{at}.when[{c_index}]");
            if !known_field(&condition.field) {
                errors.push(format!("{at}: unknown field {:?}", condition.field));
            }
            let mut tests = Vec::new();
            let given = [
                condition.equals.is_some(),
                condition.not_equals.is_some(),
                condition.regex.is_some(),
                condition.in_list.is_some(),
                condition.in_cidr.is_some(),
                condition.exists.is_some(),
                condition.before.is_some(),
                condition.after.is_some(),
            ]
            .into_iter()
            .filter(|given| *given)
            .count();
            if let Some(value) = &condition.equals {
                tests.push(Test::Equals(value.clone()));
            }
            if let Some(value) = &condition.not_equals {
                tests.push(Test::NotEquals(value.clone()));
            }
            if let Some(pattern) = &condition.regex {
                match regex::Regex::new(pattern) {
                    Ok(regex) => tests.push(Test::Regex(regex)),
                    Err(error) => errors.push(format!("{at}: invalid regex: {error}")),
                }
            }
            if let Some(list) = &condition.in_list {
                tests.push(Test::InList(list.clone()));
            }
            if let Some(networks) = &condition.in_cidr {
                let mut parsed = Vec::new();
                for network in networks {
                    match network.parse::<Cidr>() {
                        Ok(cidr) => parsed.push(cidr),
                        Err(error) => errors.push(format!("{at}: {error}")),
                    }
                }
                tests.push(Test::InCidr(parsed));
            }
            if let Some(exists) = condition.exists {
                tests.push(Test::Exists(exists));
            }
            for (bound, test) in
                [(&condition.before, Test::Before as fn(TimeBound) -> Test), (&condition.after, Test::After)]
            {
                if let Some(text) = bound {
                    match TimeBound::parse(text) {
                        Ok(bound) => tests.push(test(bound)),
                        Err(error) => errors.push(format!("{at}: {error}")),
                    }
                }
            }
            match (given, tests.pop()) {
                (1, Some(test)) => conditions.push(Condition { field: condition.field.clone(), test }),
                (1, None) => {}
                (0, _) => errors.push(format!(
                    "{at}: give one of equals, not_equals, regex, in_list, in_cidr, exists, before, after"
                )),
                _ => errors.push(format!("{at}: give only one test per condition")),
            }
        }
        let action = match config.action.as_deref() {
            None => Action::Modify,
            Some("drop") => Action::Drop,
            Some("keep") => Action::Keep,
            Some(other) => {
                errors.push(format!(
                    "{at}: unknown action {other:?}; the actions are \"drop\" and \"keep\" (leave action \
                     out to modify)"
                ));
                Action::Modify
            }
        };
        let modifies = !config.set.is_empty()
            || config.tag.is_some()
            || !config.strip.is_empty()
            || !config.replace.is_empty()
            || !config.split.is_empty();
        if config.action.is_some() && modifies {
            errors.push(format!("{at}: a drop or keep rule cannot also modify fields or tag"));
        }
        if config.action.is_none() && !modifies {
            errors.push(format!(
                "{at}: the rule does nothing; give action = \"drop\" or \"keep\", set, strip, replace, split \
                 or tag"
            ));
        }
        for field in config.strip.iter().chain(config.replace.iter().map(|r| &r.field)) {
            if !known_field(field) {
                errors.push(format!("{at}: unknown field {field:?}"));
            }
        }
        if config.strip_chars.as_deref() == Some("") {
            errors.push(format!("{at}.strip_chars: give at least one character"));
        }
        for (i, replace) in config.replace.iter().enumerate() {
            if replace.old.is_empty() {
                errors.push(format!("{at}.replace[{i}]: old must not be empty"));
            }
            if replace.count == Some(0) {
                errors.push(format!(
                    "{at}.replace[{i}]: count must be at least 1 (leave it out for every one)"
                ));
            }
        }
        let mut split = Vec::new();
        for (i, config) in config.split.iter().enumerate() {
            if config.field.strip_prefix("extra.").is_none_or(str::is_empty) {
                errors.push(format!(
                    "{at}.split[{i}]: {:?} is not an extra.* member; only a member can hold a list",
                    config.field
                ));
            }
            let separator = config.separator.clone().unwrap_or_else(|| ",".to_owned());
            if separator.is_empty() {
                errors.push(format!("{at}.split[{i}]: the separator must not be empty"));
            }
            split.push((config.field.clone(), separator));
        }
        for (field, value) in &config.set {
            let mut probe = Event::new();
            if let Err(error) = probe.set(field, value) {
                errors.push(format!("{at}.set: {error}"));
            }
        }
        rules.push(Rule {
            name: config.name.clone(),
            conditions,
            action,
            set: config.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            strip: config.strip.clone(),
            strip_chars: config.strip_chars.as_deref().unwrap_or(" ").chars().collect(),
            replace: config.replace.clone(),
            split,
            tag: config.tag.clone(),
        });
    }
    if errors.is_empty() { Ok(rules) } else { Err(errors) }
}

/// Whether a name is a field of the harmonisation or an `extra.*` member.
/// Whether `name` is a field of the harmonised event (or an `extra.*` member).
pub fn known_field(name: &str) -> bool {
    name.starts_with("extra.") || neretva_event::field_spec(name).is_some()
}

impl Condition {
    fn holds(&self, event: &Event, now: OffsetDateTime) -> bool {
        let value = event.get(&self.field);
        match &self.test {
            Test::Exists(expected) => value.is_some() == *expected,
            Test::NotEquals(expected) => value.is_none_or(|value| value.to_string() != *expected),
            test => {
                let Some(value) = value else { return false };
                match test {
                    Test::Equals(expected) => value.to_string() == *expected,
                    Test::Regex(regex) => regex.is_match(&value.to_string()),
                    Test::InList(list) => {
                        let text = value.to_string();
                        list.contains(&text)
                    }
                    Test::InCidr(networks) => match value.to_string().parse::<IpAddr>() {
                        Ok(ip) => networks.iter().any(|network| network.contains(ip)),
                        Err(_) => false,
                    },
                    Test::Before(bound) => time_of(value).is_some_and(|t| t < bound.at(now)),
                    Test::After(bound) => time_of(value).is_some_and(|t| t > bound.at(now)),
                    Test::Exists(_) | Test::NotEquals(_) => false,
                }
            }
        }
    }
}

/// A field's time: a time field's value, or a text in RFC 3339 (an `extra.*` member).
fn time_of(value: &neretva_event::Value) -> Option<OffsetDateTime> {
    value.as_time().or_else(|| OffsetDateTime::parse(value.as_str()?, &Rfc3339).ok())
}

/// Applies the rules to an event in order; `now` is the processing time that ages in `before`
/// and `after` count back from.
pub fn apply(rules: &[Rule], event: &mut Event, now: OffsetDateTime) -> Verdict {
    for rule in rules {
        let matches = rule.conditions.iter().all(|condition| condition.holds(event, now));
        match (rule.action, matches) {
            (Action::Drop, true) | (Action::Keep, false) => return Verdict::Drop(rule.name.clone()),
            (Action::Modify, true) => {}
            _ => continue,
        }
        for (field, value) in &rule.set {
            // Values were checked at compile time against an empty event.
            let _ = event.set(field, value);
        }
        // As IntelMQ's format_field expert: strip, replace, split. A text the field does not
        // accept leaves the value as it was.
        for field in &rule.strip {
            if let Some(text) = event.get_str(field) {
                let stripped = text.trim_matches(rule.strip_chars.as_slice());
                if stripped.len() != text.len() {
                    let stripped = stripped.to_owned();
                    let _ = event.set(field, &stripped);
                }
            }
        }
        for replace in &rule.replace {
            if let Some(text) = event.get_str(&replace.field)
                && text.contains(&replace.old)
            {
                let replaced = match replace.count {
                    Some(count) => text.replacen(&replace.old, &replace.new, count),
                    None => text.replace(&replace.old, &replace.new),
                };
                let _ = event.set(&replace.field, &replaced);
            }
        }
        for (field, separator) in &rule.split {
            if let Some(text) = event.get_str(field) {
                let parts =
                    text.split(separator.as_str()).map(|part| serde_json::Value::String(part.to_owned()));
                let list = serde_json::Value::Array(parts.collect());
                let _ = event.set_json(field, list);
            }
        }
        if let Some(tag) = &rule.tag {
            let mut tags: Vec<serde_json::Value> = match event.get("extra.tags").map(|v| v.to_json()) {
                Some(serde_json::Value::Array(tags)) => tags,
                _ => Vec::new(),
            };
            if !tags.iter().any(|t| t.as_str() == Some(tag)) {
                tags.push(serde_json::Value::String(tag.clone()));
            }
            let _ = event.set_json("extra.tags", serde_json::Value::Array(tags));
        }
    }
    Verdict::Keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(toml_like: serde_json::Value) -> Result<Vec<Rule>, Vec<String>> {
        let configs: Vec<RuleConfig> = serde_json::from_value(toml_like).unwrap();
        compile(&configs)
    }

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-11-29 12:00:00 UTC)
    }

    fn event(pairs: &[(&str, &str)]) -> Event {
        let mut event = Event::new();
        for (field, value) in pairs {
            event.set(field, value).unwrap();
        }
        event
    }

    #[test]
    fn every_configuration_error_is_reported_at_once() {
        let errors = rules(serde_json::json!([
            {"name": "a", "when": [{"field": "no.such.field", "equals": "x"}], "action": "drop"},
            {"name": "b", "when": [{"field": "source.ip", "in_cidr": ["192.0.2.1/24"]}], "action": "explode"},
            {"name": "c", "when": [{"field": "source.ip", "regex": "("}], "set": {"source.port": "not a port"}},
            {"name": "d", "when": [{"field": "source.ip", "equals": "1", "exists": true}]},
            {"name": "e", "when": [{"field": "time.source", "before": "3 fortnights"}], "action": "drop"},
            {"name": "f", "when": [{"field": "source.asn", "equals": "1"}], "action": "keep", "tag": "x"},
        ]))
        .unwrap_err();
        let expected = expect_test::expect![[r#"
            rules[0] (a).when[0]: unknown field "no.such.field"
            rules[1] (b).when[0]: 192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24
            rules[1] (b): unknown action "explode"; the actions are "drop" and "keep" (leave action out to modify)
            rules[2] (c).when[0]: invalid regex: regex parse error:
                (
                ^
            error: unclosed group
            rules[2] (c).set: source.port: "not a port" is not an integer
            rules[3] (d).when[0]: give only one test per condition
            rules[3] (d): the rule does nothing; give action = "drop" or "keep", set, strip, replace, split or tag
            rules[4] (e).when[0]: "3 fortnights" is not a time: give RFC 3339 (2026-01-01T00:00:00Z), a day (2026-01-01) or an age such as "10 hours", "7 days" or "1 month"
            rules[5] (f): a drop or keep rule cannot also modify fields or tag"#]];
        expected.assert_eq(&errors.join("\n"));
    }

    #[test]
    fn drop_set_and_tag_apply_in_order() {
        let rules = rules(serde_json::json!([
            {"name": "drop tests", "when": [{"field": "classification.type", "equals": "test"}], "action": "drop"},
            {"name": "energy", "when": [{"field": "source.ip", "in_cidr": ["192.0.2.0/25"]}],
             "set": {"extra.priority": "high"}, "tag": "energy"},
            {"name": "scanners", "when": [{"field": "classification.type", "in_list": ["scanner", "brute-force"]}], "tag": "noisy"},
            {"name": "absent", "when": [{"field": "source.fqdn", "exists": false}], "tag": "no-name"},
        ]))
        .unwrap();
        let mut test = event(&[("classification.type", "test"), ("source.ip", "192.0.2.1")]);
        assert_eq!(apply(&rules, &mut test, now()), Verdict::Drop("drop tests".into()));

        let mut scanner = event(&[("classification.type", "scanner"), ("source.ip", "192.0.2.1")]);
        assert_eq!(apply(&rules, &mut scanner, now()), Verdict::Keep);
        assert_eq!(scanner.get_str("extra.priority"), Some("high"));
        assert_eq!(
            scanner.get("extra.tags").map(|v| v.to_json()),
            Some(serde_json::json!(["energy", "noisy", "no-name"]))
        );

        let mut outside = event(&[
            ("classification.type", "spam"),
            ("source.ip", "192.0.2.200"),
            ("source.fqdn", "x.example.ba"),
        ]);
        assert_eq!(apply(&rules, &mut outside, now()), Verdict::Keep);
        assert!(outside.get("extra.tags").is_none());
    }

    #[test]
    fn keep_rules_drop_what_they_do_not_match() {
        let rules = rules(serde_json::json!([
            {"name": "constituency only", "when": [{"field": "source.geolocation.cc", "in_list": ["BA", "HR"]}],
             "action": "keep"},
            {"name": "mark", "when": [], "tag": "kept"},
        ]))
        .unwrap();
        let mut inside = event(&[("source.geolocation.cc", "BA")]);
        assert_eq!(apply(&rules, &mut inside, now()), Verdict::Keep);
        assert_eq!(inside.get("extra.tags").map(|v| v.to_json()), Some(serde_json::json!(["kept"])));
        let mut outside = event(&[("source.geolocation.cc", "AT")]);
        assert_eq!(apply(&rules, &mut outside, now()), Verdict::Drop("constituency only".into()));
        let mut unknown = event(&[("source.ip", "192.0.2.1")]);
        assert_eq!(apply(&rules, &mut unknown, now()), Verdict::Drop("constituency only".into()));
    }

    #[test]
    fn before_and_after_compare_times_absolute_and_relative() {
        let rules = rules(serde_json::json!([
            {"name": "stale", "when": [{"field": "time.source", "before": "7 days"}], "action": "drop"},
            {"name": "future", "when": [{"field": "time.source", "after": "2026-11-30"}], "action": "drop"},
            {"name": "this year", "when": [{"field": "time.source", "after": "2026-01-01T00:00:00+01:00"}],
             "tag": "2026"},
            {"name": "seen late", "when": [{"field": "extra.first_seen", "before": "1 year"}], "tag": "old"},
        ]))
        .unwrap();
        let verdict = |time: &str| apply(&rules, &mut event(&[("time.source", time)]), now());
        // Seven days before the processing time, to the second, is not before it.
        assert_eq!(verdict("2026-11-22T12:00:00+00:00"), Verdict::Keep);
        assert_eq!(verdict("2026-11-22T11:59:59+00:00"), Verdict::Drop("stale".into()));
        assert_eq!(verdict("2026-11-30T00:00:00+00:00"), Verdict::Keep);
        assert_eq!(verdict("2026-11-30T00:00:01+00:00"), Verdict::Drop("future".into()));
        // An event without the field is neither before nor after anything.
        assert_eq!(apply(&rules, &mut event(&[("source.ip", "192.0.2.1")]), now()), Verdict::Keep);
        // 2026-01-01T00:00:00+01:00 is 2025-12-31T23:00:00Z.
        let mut new_year = event(&[("time.source", "2025-12-31T23:30:00+00:00")]);
        assert_eq!(apply(&rules, &mut new_year, now()), Verdict::Drop("stale".into()));
        let rules_without_stale = &rules[2..];
        let mut new_year = event(&[("time.source", "2025-12-31T23:30:00+00:00")]);
        assert_eq!(apply(rules_without_stale, &mut new_year, now()), Verdict::Keep);
        assert_eq!(new_year.get("extra.tags").map(|v| v.to_json()), Some(serde_json::json!(["2026"])));
        // A member holding RFC 3339 text is compared as a time.
        let mut member = event(&[("extra.first_seen", "2025-01-01T00:00:00Z")]);
        apply(rules_without_stale, &mut member, now());
        assert_eq!(member.get("extra.tags").map(|v| v.to_json()), Some(serde_json::json!(["old"])));
    }

    #[test]
    fn ages_read_as_intelmq_reads_them() {
        for (text, seconds) in [
            ("10 hours", 36_000),
            ("1 hour", 3_600),
            ("30 years", 30 * 365 * 86_400),
            ("1 month", 30 * 86_400),
            ("2 weeks", 14 * 86_400),
            ("90 seconds", 90),
            ("5  minutes", 300),
        ] {
            assert_eq!(TimeBound::parse(text), Ok(TimeBound::Ago(Duration::seconds(seconds))), "{text}");
        }
        for bad in ["hours", "10", "ten hours", "10 fortnights", "-", "-5 hours"] {
            assert!(TimeBound::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strip_replace_and_split_modify_in_that_order() {
        let tidy = rules(serde_json::json!([
            {"name": "tidy", "when": [{"field": "feed.name", "equals": "partner"}],
             "strip": ["extra.abuse", "extra.note"], "strip_chars": " *",
             "replace": [{"field": "feed.url", "old": "localhost", "new": "127.0.0.1"},
                         {"field": "extra.note", "old": "a", "new": "A", "count": 2}],
             "split": [{"field": "extra.tags"}, {"field": "extra.path", "separator": "/"}]},
        ]))
        .unwrap();
        let mut matching = event(&[
            ("feed.name", "partner"),
            ("feed.url", "http://localhost/a/localhost"),
            ("extra.abuse", " *abuse@example.ba* "),
            ("extra.note", "* banana *"),
            ("extra.tags", "ddos,elf,,gafgyt"),
            ("extra.path", "a/b"),
        ]);
        assert_eq!(apply(&tidy, &mut matching, now()), Verdict::Keep);
        assert_eq!(matching.get_str("feed.url"), Some("http://127.0.0.1/a/127.0.0.1"));
        assert_eq!(matching.get_str("extra.abuse"), Some("abuse@example.ba"));
        // Stripped first, then the first two a's replaced.
        assert_eq!(matching.get_str("extra.note"), Some("bAnAna"));
        assert_eq!(
            matching.get("extra.tags").map(|v| v.to_json()),
            Some(serde_json::json!(["ddos", "elf", "", "gafgyt"]))
        );
        assert_eq!(matching.get("extra.path").map(|v| v.to_json()), Some(serde_json::json!(["a", "b"])));
        // A replacement the field does not accept leaves it as it was.
        let bad = rules(serde_json::json!([
            {"name": "break", "when": [], "replace": [{"field": "source.port", "old": "53", "new": "port"}]},
        ]))
        .unwrap();
        let mut port = event(&[("source.port", "53")]);
        apply(&bad, &mut port, now());
        assert_eq!(port.get("source.port").map(|v| v.to_json()), Some(serde_json::json!(53)));
        // Other events are left alone.
        let mut other = event(&[("feed.name", "other"), ("extra.tags", "a,b")]);
        apply(&tidy, &mut other, now());
        assert_eq!(other.get_str("extra.tags"), Some("a,b"));
    }

    #[test]
    fn modification_errors_are_reported_at_once() {
        let errors = rules(serde_json::json!([
            {"name": "g", "strip": ["no.such.field"], "strip_chars": "",
             "replace": [{"field": "feed.url", "old": "", "new": "x", "count": 0}],
             "split": [{"field": "source.fqdn"}, {"field": "extra.tags", "separator": ""}]},
            {"name": "h", "when": [], "action": "drop", "split": [{"field": "extra.tags"}]},
        ]))
        .unwrap_err();
        let expected = expect_test::expect![[r#"
            rules[0] (g): unknown field "no.such.field"
            rules[0] (g).strip_chars: give at least one character
            rules[0] (g).replace[0]: old must not be empty
            rules[0] (g).replace[0]: count must be at least 1 (leave it out for every one)
            rules[0] (g).split[0]: "source.fqdn" is not an extra.* member; only a member can hold a list
            rules[0] (g).split[1]: the separator must not be empty
            rules[1] (h): a drop or keep rule cannot also modify fields or tag"#]];
        expected.assert_eq(&errors.join("\n"));
    }
}
