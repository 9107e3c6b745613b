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
//! `set` and `tag` rules all apply in order. Rules are compiled once at configuration load,
//! with every error reported.

use std::net::IpAddr;

use neretva_event::Event;
use neretva_net::Cidr;
use serde::Deserialize;

/// A rule as written in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    #[serde(default)]
    pub when: Vec<ConditionConfig>,
    /// `"drop"` to discard matching events.
    #[serde(default)]
    pub action: Option<String>,
    /// Fields to set on matching events.
    #[serde(default)]
    pub set: std::collections::BTreeMap<String, String>,
    /// A tag appended to `extra.tags` of matching events.
    #[serde(default)]
    pub tag: Option<String>,
}

/// One condition on one field; exactly one test must be given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionConfig {
    pub field: String,
    pub equals: Option<String>,
    pub not_equals: Option<String>,
    pub regex: Option<String>,
    pub in_list: Option<Vec<String>>,
    pub in_cidr: Option<Vec<String>>,
    pub exists: Option<bool>,
}

#[derive(Debug, Clone)]
enum Test {
    Equals(String),
    NotEquals(String),
    Regex(regex::Regex),
    InList(Vec<String>),
    InCidr(Vec<Cidr>),
    Exists(bool),
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
    drop: bool,
    set: Vec<(String, String)>,
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
            match (given, tests.pop()) {
                (1, Some(test)) => conditions.push(Condition { field: condition.field.clone(), test }),
                (1, None) => {}
                (0, _) => errors
                    .push(format!("{at}: give one of equals, not_equals, regex, in_list, in_cidr, exists")),
                _ => errors.push(format!("{at}: give only one test per condition")),
            }
        }
        let drop = match config.action.as_deref() {
            None => false,
            Some("drop") => true,
            Some(other) => {
                errors.push(format!(
                    "{at}: unknown action {other:?}; the only action is \"drop\" (use set or tag to modify)"
                ));
                false
            }
        };
        if drop && (!config.set.is_empty() || config.tag.is_some()) {
            errors.push(format!("{at}: a drop rule cannot also set fields or tag"));
        }
        if config.action.is_none() && config.set.is_empty() && config.tag.is_none() {
            errors.push(format!("{at}: the rule does nothing; give action = \"drop\", set or tag"));
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
            drop,
            set: config.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            tag: config.tag.clone(),
        });
    }
    if errors.is_empty() { Ok(rules) } else { Err(errors) }
}

fn known_field(name: &str) -> bool {
    name.starts_with("extra.") || neretva_event::field_spec(name).is_some()
}

impl Condition {
    fn holds(&self, event: &Event) -> bool {
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
                        list.iter().any(|item| *item == text)
                    }
                    Test::InCidr(networks) => match value.to_string().parse::<IpAddr>() {
                        Ok(ip) => networks.iter().any(|network| network.contains(ip)),
                        Err(_) => false,
                    },
                    Test::Exists(_) | Test::NotEquals(_) => false,
                }
            }
        }
    }
}

/// Applies the rules to an event in order.
pub fn apply(rules: &[Rule], event: &mut Event) -> Verdict {
    for rule in rules {
        if !rule.conditions.iter().all(|condition| condition.holds(event)) {
            continue;
        }
        if rule.drop {
            return Verdict::Drop(rule.name.clone());
        }
        for (field, value) in &rule.set {
            // Values were checked at compile time against an empty event.
            let _ = event.set(field, value);
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
        ]))
        .unwrap_err();
        let expected = expect_test::expect![[r#"
            rules[0] (a).when[0]: unknown field "no.such.field"
            rules[1] (b).when[0]: 192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24
            rules[1] (b): unknown action "explode"; the only action is "drop" (use set or tag to modify)
            rules[2] (c).when[0]: invalid regex: regex parse error:
                (
                ^
            error: unclosed group
            rules[2] (c).set: source.port: "not a port" is not an integer
            rules[3] (d).when[0]: give only one test per condition
            rules[3] (d): the rule does nothing; give action = "drop", set or tag"#]];
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
        assert_eq!(apply(&rules, &mut test), Verdict::Drop("drop tests".into()));

        let mut scanner = event(&[("classification.type", "scanner"), ("source.ip", "192.0.2.1")]);
        assert_eq!(apply(&rules, &mut scanner), Verdict::Keep);
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
        assert_eq!(apply(&rules, &mut outside), Verdict::Keep);
        assert!(outside.get("extra.tags").is_none());
    }
}
