//! STIX 2.1 indicators (`stix-indicators`): one event per observable value of each `indicator`.
//!
//! The report is a bundle (`{"type": "bundle", "objects": [...]}`), a TAXII envelope
//! (`{"objects": [...]}`), a list of objects or a single indicator. For every indicator whose
//! `pattern_type` is `stix` (or absent) the pattern is reduced to values, without a pattern
//! engine: observation expressions (`[...]`) joined by `OR` or `AND` each give their own events;
//! inside one, comparisons joined by `OR` give one event each and comparisons joined by `AND` are
//! merged into one event. Only `=` and `IN` comparisons on these paths reduce:
//!
//! | path | field |
//! |---|---|
//! | `ipv4-addr:value`, `ipv6-addr:value` | `source.ip` (`source.network` for a CIDR) |
//! | `domain-name:value` | `source.fqdn` |
//! | `url:value` | `source.url` |
//! | `file:hashes.'SHA-256'`, `.MD5`, `.'SHA-1'` | `malware.hash.sha256`, `.md5`, `.sha1` |
//! | `email-addr:value` | `source.account` |
//! | `network-traffic:dst_ref.value` | `source.ip` |
//! | `network-traffic:dst_port` | `source.port` (with an address in the same `AND`) |
//! | `network-traffic:dst_ref.type`, `network-traffic:protocols[*]` | checked, `protocol.transport` |
//!
//! Anything else (another operator or path, `FOLLOWEDBY`, qualifiers such as `WITHIN`, a port
//! alone, another `pattern_type`) is a [`crate::ParseError`] naming the indicator's id and the
//! JSON path of its pattern; the indicator gives no events.
//!
//! Each event has `classification.type` from the first known `indicator_types` entry
//! (`malicious-activity` → `blacklist`, `compromised` → `system-compromise`, `benign` → `other`,
//! `anomalous-activity`, `attribution`, `unknown` → `undetermined`; none → `undetermined`),
//! `tlp` from `object_marking_refs` (the TLP 2.0 and TLP 1.0 marking-definition ids, or a
//! marking definition in the bundle), `time.source` from `valid_from`, `event_description.text`
//! from `name`, `extra.stix_id`, `extra.stix_indicator_types`, `extra.valid_until` and
//! `extra.confidence`. Revoked indicators are counted and skipped.

use neretva_event::FieldId;

use crate::parsers::common::repeated_raw;
use crate::parsers::common::{json, pyjson};
use crate::parsers::shadowserver::timestamp;
use crate::{FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(StixIndicatorsParser)]
}

/// The TLP marking definitions of STIX (TLP 2.0 extension and the TLP 1.0 objects of STIX 2.1).
const TLP_MARKINGS: &[(&str, &str)] = &[
    ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "CLEAR"),
    ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "GREEN"),
    ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "AMBER"),
    ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "AMBER+STRICT"),
    ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "RED"),
    ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "WHITE"),
    ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "GREEN"),
    ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "AMBER"),
    ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "RED"),
];

/// The most comparisons one pattern may expand to.
const MAX_VALUES: usize = 10_000;

/// STIX 2.1 indicators (`stix-indicators`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StixIndicatorsParser;

impl FeedParser for StixIndicatorsParser {
    fn name(&self) -> &'static str {
        "stix-indicators"
    }

    fn description(&self) -> &'static str {
        "STIX 2.1 indicators (bundle or TAXII envelope): one event per observable value"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let mut parsed = Parsed::default();
        let text = String::from_utf8_lossy(&report.raw);
        let Some(root) = json::parse_document(&text, &mut parsed) else {
            return parsed;
        };
        let (objects, prefix): (Vec<&serde_json::Value>, &str) = match &root {
            serde_json::Value::Array(list) => (list.iter().collect(), ""),
            serde_json::Value::Object(map) => match map.get("objects").and_then(|o| o.as_array()) {
                Some(list) => (list.iter().collect(), "objects"),
                None => (vec![&root], ""),
            },
            _ => {
                parsed.error(
                    1,
                    None,
                    "neither a STIX bundle nor a list of objects",
                    crate::truncate(&text, 4096),
                );
                return parsed;
            }
        };
        // Marking definitions in the bundle that are TLP markings.
        let mut markings: Vec<(String, String)> = Vec::new();
        for object in &objects {
            if object.get("type").and_then(|t| t.as_str()) == Some("marking-definition")
                && let Some(id) = object.get("id").and_then(|i| i.as_str())
                && let Some(label) = tlp_of_definition(object)
            {
                markings.push((id.to_owned(), label));
            }
        }
        for (index, object) in objects.iter().enumerate() {
            if object.get("type").and_then(|t| t.as_str()) != Some("indicator") {
                continue;
            }
            let path = if prefix.is_empty() {
                if matches!(root, serde_json::Value::Array(_)) { format!("[{index}]") } else { String::new() }
            } else {
                format!("{prefix}[{index}]")
            };
            parsed.records += 1;
            indicator(report, object, index as u64 + 1, &path, &markings, &mut parsed);
        }
        parsed
    }
}

fn tlp_of_definition(object: &serde_json::Value) -> Option<String> {
    if let Some(label) = object.get("definition").and_then(|d| d.get("tlp")).and_then(|t| t.as_str()) {
        return Some(label.to_ascii_uppercase());
    }
    let name = object.get("name").and_then(|n| n.as_str())?;
    let label = name.strip_prefix("TLP:").or_else(|| name.strip_prefix("tlp:"))?;
    Some(label.trim().to_ascii_uppercase())
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn indicator(
    report: &Report,
    object: &serde_json::Value,
    record: u64,
    path: &str,
    markings: &[(String, String)],
    parsed: &mut Parsed,
) {
    let raw = pyjson::dumps(object);
    let id = object.get("id").and_then(|i| i.as_str()).unwrap_or("(indicator without id)");
    if object.get("revoked").and_then(|r| r.as_bool()) == Some(true) {
        return;
    }
    let pattern_type = object.get("pattern_type").and_then(|p| p.as_str()).unwrap_or("stix");
    if pattern_type != "stix" {
        parsed.error(
            record,
            Some(&join_path(path, "pattern_type")),
            format!("{id}: pattern type {pattern_type:?} cannot be reduced to values"),
            &raw,
        );
        return;
    }
    let Some(pattern) = object.get("pattern").and_then(|p| p.as_str()) else {
        parsed.error(record, Some(&join_path(path, "pattern")), format!("{id}: no pattern"), &raw);
        return;
    };
    let groups = match reduce(pattern) {
        Ok(groups) => groups,
        Err(reason) => {
            parsed.error(
                record,
                Some(&join_path(path, "pattern")),
                format!("{id}: cannot reduce the pattern to values: {reason}"),
                &raw,
            );
            return;
        }
    };
    let types: Vec<&str> = object
        .get("indicator_types")
        .or_else(|| object.get("labels"))
        .and_then(|t| t.as_array())
        .map(|t| t.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let classification = types
        .iter()
        .find_map(|t| match *t {
            "malicious-activity" => Some("blacklist"),
            "compromised" => Some("system-compromise"),
            "benign" => Some("other"),
            "anomalous-activity" | "attribution" | "unknown" => Some("undetermined"),
            _ => None,
        })
        .unwrap_or("undetermined");
    let tlp = object.get("object_marking_refs").and_then(|m| m.as_array()).and_then(|refs| {
        refs.iter().filter_map(|r| r.as_str()).find_map(|r| {
            TLP_MARKINGS
                .iter()
                .find(|(mid, _)| *mid == r)
                .map(|(_, label)| (*label).to_owned())
                .or_else(|| markings.iter().find(|(mid, _)| mid == r).map(|(_, label)| label.clone()))
        })
    });
    let valid_from = object.get("valid_from").and_then(|v| v.as_str());
    // A pattern of very many values would repeat the indicator in as many events.
    let raw = repeated_raw(&raw, groups.len()).to_owned();
    for group in groups {
        let mut event = report.new_event();
        let mut failed = None;
        for (field, value) in &group {
            if let Err(e) = event.set(field, value) {
                failed = Some(e);
                break;
            }
        }
        if let Some(e) = failed {
            parsed.error(record, Some(&join_path(path, "pattern")), format!("{id}: {e}"), &raw);
            continue;
        }
        let _ = event.set_id(FieldId::CLASSIFICATION_TYPE, classification);
        if let Some(tlp) = &tlp {
            let _ = event.set_id(FieldId::TLP, tlp);
        }
        if let Some(t) = valid_from.and_then(timestamp::parse).and_then(timestamp::Utc::to_time) {
            let _ = event.set_value_id(FieldId::TIME_SOURCE, neretva_event::Value::Time(t));
        }
        if let Some(name) = object.get("name").and_then(|n| n.as_str()) {
            let _ = event.set_id(FieldId::EVENT_DESCRIPTION_TEXT, name);
        }
        let _ = event.set("extra.stix_id", id);
        if !types.is_empty() {
            let _ = event.set("extra.stix_indicator_types", &types.join(","));
        }
        if let Some(until) = object.get("valid_until").and_then(|v| v.as_str()) {
            let _ = event.set("extra.valid_until", until);
        }
        if let Some(confidence) = object.get("confidence").and_then(serde_json::Value::as_i64) {
            let _ = event.set_json("extra.confidence", serde_json::Value::from(confidence));
        }
        event.set_raw(raw.as_bytes());
        parsed.events.push(ParsedEvent { event, line: record, raw: raw.clone() });
    }
}

/// One event's values: (field, value) pairs.
type Group = Vec<(&'static str, String)>;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    LParen,
    RParen,
    Comma,
    Word(String),
    Str(String),
    Number(String),
    Op(String),
}

fn tokenize(pattern: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '[' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ']' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '(' => {
                tokens.push(Token::LParen);
                i += 1;
            }
            ')' => {
                tokens.push(Token::RParen);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                let (text, next) = quoted(&chars, i)?;
                tokens.push(Token::Str(text));
                i = next;
            }
            '=' | '!' | '<' | '>' => {
                let mut op = String::from(c);
                if chars.get(i + 1) == Some(&'=') {
                    op.push('=');
                    i += 1;
                }
                if op == "!" {
                    return Err("stray '!'".to_owned());
                }
                tokens.push(Token::Op(op));
                i += 1;
            }
            '-' | '0'..='9' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                tokens.push(Token::Number(chars[start..i].iter().collect()));
            }
            _ if c.is_alphanumeric() || c == '_' => {
                // A word, an object path (`file:hashes.'SHA-256'`), or a prefixed literal (t'…').
                let start = i;
                let mut word = String::new();
                while i < chars.len() {
                    let d = chars[i];
                    if d.is_alphanumeric() || matches!(d, '_' | '-' | ':' | '.' | '*') {
                        word.push(d);
                        i += 1;
                    } else if d == '[' && word.contains(':') {
                        // list index in a path: protocols[*]
                        let close = chars[i..].iter().position(|&x| x == ']').ok_or("unclosed index")?;
                        word.extend(&chars[i..=i + close]);
                        i += close + 1;
                    } else if d == '\''
                        && (word.ends_with('.')
                            || (i == start + 1 && matches!(word.as_str(), "t" | "h" | "b")))
                    {
                        let (text, next) = quoted(&chars, i)?;
                        if word.ends_with('.') {
                            word.push('\'');
                            word.push_str(&text);
                            word.push('\'');
                        } else {
                            word = format!("{word}'{text}'");
                        }
                        i = next;
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Word(word));
            }
            _ => return Err(format!("unexpected character {c:?}")),
        }
    }
    Ok(tokens)
}

fn quoted(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut text = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let next = *chars.get(i + 1).ok_or("unterminated string")?;
                if next != '\'' && next != '\\' {
                    return Err(format!("invalid escape \\{next}"));
                }
                text.push(next);
                i += 2;
            }
            '\'' => return Ok((text, i + 1)),
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err("unterminated string".to_owned())
}

struct PatternParser {
    tokens: Vec<Token>,
    at: usize,
}

impl PatternParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    /// Observation expressions joined by OR or AND: every group of each.
    fn observations(&mut self, depth: usize) -> Result<Vec<Group>, String> {
        if depth > 64 {
            return Err("too deeply nested".to_owned());
        }
        let mut groups = self.observation(depth)?;
        loop {
            if self.keyword("OR") || self.keyword("AND") {
                self.at += 1;
                groups.extend(self.observation(depth)?);
                if groups.len() > MAX_VALUES {
                    return Err("too many values".to_owned());
                }
            } else if self.keyword("FOLLOWEDBY") {
                return Err("FOLLOWEDBY".to_owned());
            } else {
                return Ok(groups);
            }
        }
    }

    fn observation(&mut self, depth: usize) -> Result<Vec<Group>, String> {
        let groups = match self.next() {
            Some(Token::Open) => {
                let groups = self.comparisons(depth)?;
                if self.next() != Some(Token::Close) {
                    return Err("expected ']'".to_owned());
                }
                groups
            }
            Some(Token::LParen) => {
                let groups = self.observations(depth + 1)?;
                if self.next() != Some(Token::RParen) {
                    return Err("expected ')'".to_owned());
                }
                groups
            }
            other => return Err(format!("expected '[' or '(', found {}", describe(other.as_ref()))),
        };
        for qualifier in ["WITHIN", "REPEATS", "START", "STOP"] {
            if self.keyword(qualifier) {
                return Err(format!("qualifier {qualifier}"));
            }
        }
        Ok(groups)
    }

    /// Comparisons joined by OR: the groups of each side.
    fn comparisons(&mut self, depth: usize) -> Result<Vec<Group>, String> {
        if depth > 64 {
            return Err("too deeply nested".to_owned());
        }
        let mut groups = self.conjunction(depth)?;
        while self.keyword("OR") {
            self.at += 1;
            groups.extend(self.conjunction(depth)?);
            if groups.len() > MAX_VALUES {
                return Err("too many values".to_owned());
            }
        }
        Ok(groups)
    }

    /// Comparisons joined by AND: the cross product of their groups, merged.
    fn conjunction(&mut self, depth: usize) -> Result<Vec<Group>, String> {
        let mut groups = self.comparison(depth)?;
        while self.keyword("AND") {
            self.at += 1;
            let right = self.comparison(depth)?;
            if groups.len().saturating_mul(right.len()) > MAX_VALUES {
                return Err("too many values".to_owned());
            }
            let mut product = Vec::with_capacity(groups.len() * right.len());
            for left in &groups {
                for r in &right {
                    let mut merged = left.clone();
                    for (field, value) in r {
                        match merged.iter().find(|(f, _)| f == field) {
                            Some((_, existing)) if existing != value => {
                                return Err(format!("two values for {field} joined by AND"));
                            }
                            Some(_) => {}
                            None => merged.push((field, value.clone())),
                        }
                    }
                    product.push(merged);
                }
            }
            groups = product;
        }
        Ok(groups)
    }

    fn comparison(&mut self, depth: usize) -> Result<Vec<Group>, String> {
        if self.peek() == Some(&Token::LParen) {
            self.at += 1;
            let groups = self.comparisons(depth + 1)?;
            if self.next() != Some(Token::RParen) {
                return Err("expected ')'".to_owned());
            }
            return Ok(groups);
        }
        let path = match self.next() {
            Some(Token::Word(path)) if path.contains(':') => path,
            other => return Err(format!("expected an object path, found {}", describe(other.as_ref()))),
        };
        if self.keyword("NOT") {
            return Err(format!("NOT on {path}"));
        }
        let values = match self.next() {
            Some(Token::Op(op)) if op == "=" => vec![self.literal()?],
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IN") => {
                if self.next() != Some(Token::LParen) {
                    return Err("expected '(' after IN".to_owned());
                }
                let mut values = vec![self.literal()?];
                while self.peek() == Some(&Token::Comma) {
                    self.at += 1;
                    values.push(self.literal()?);
                }
                if self.next() != Some(Token::RParen) {
                    return Err("expected ')' after the IN list".to_owned());
                }
                values
            }
            Some(Token::Op(op)) => return Err(format!("operator {op} on {path}")),
            Some(Token::Word(w)) => return Err(format!("operator {w} on {path}")),
            other => {
                return Err(format!("expected an operator after {path}, found {}", describe(other.as_ref())));
            }
        };
        let mut groups = Vec::with_capacity(values.len());
        for value in values {
            groups.push(map_path(&path, value)?);
        }
        Ok(groups)
    }

    fn literal(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Str(s)) | Some(Token::Number(s)) => Ok(s),
            other => Err(format!("expected a string or number, found {}", describe(other.as_ref()))),
        }
    }
}

fn describe(token: Option<&Token>) -> String {
    match token {
        None => "the end".to_owned(),
        Some(Token::Open) => "'['".to_owned(),
        Some(Token::Close) => "']'".to_owned(),
        Some(Token::LParen) => "'('".to_owned(),
        Some(Token::RParen) => "')'".to_owned(),
        Some(Token::Comma) => "','".to_owned(),
        Some(Token::Word(w)) => w.clone(),
        Some(Token::Str(s)) => format!("'{s}'"),
        Some(Token::Number(n)) | Some(Token::Op(n)) => n.clone(),
    }
}

/// The field a comparison's value goes to.
fn map_path(path: &str, value: String) -> Result<Group, String> {
    let (object_type, property) = path.split_once(':').ok_or_else(|| format!("path {path}"))?;
    let hash = |property: &str| -> Option<&'static str> {
        let name = property.strip_prefix("hashes.")?.trim_matches('\'').to_ascii_uppercase().replace('-', "");
        match name.as_str() {
            "SHA256" => Some("malware.hash.sha256"),
            "MD5" => Some("malware.hash.md5"),
            "SHA1" => Some("malware.hash.sha1"),
            _ => None,
        }
    };
    let field: &'static str = match (object_type, property) {
        ("ipv4-addr" | "ipv6-addr", "value") | ("network-traffic", "dst_ref.value") => {
            if value.contains('/') { "source.network" } else { "source.ip" }
        }
        ("domain-name", "value") => "source.fqdn",
        ("url", "value") => "source.url",
        ("email-addr", "value") => "source.account",
        ("network-traffic", "dst_port") => "source.port",
        ("network-traffic", "dst_ref.type") => {
            return if matches!(value.as_str(), "ipv4-addr" | "ipv6-addr" | "domain-name") {
                Ok(Vec::new())
            } else {
                Err(format!("{path} = '{value}'"))
            };
        }
        ("network-traffic", p) if p.starts_with("protocols[") => "protocol.transport",
        ("file", p) => {
            let field = hash(p).ok_or_else(|| format!("path {path}"))?;
            let len = match field {
                "malware.hash.md5" => 32,
                "malware.hash.sha1" => 40,
                _ => 64,
            };
            if value.len() != len || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{path} = '{value}' is not a hash of {len} hexadecimal digits"));
            }
            field
        }
        _ => return Err(format!("path {path}")),
    };
    Ok(vec![(field, value)])
}

/// Reduces a STIX pattern to groups of (field, value), one group per event.
pub(crate) fn reduce(pattern: &str) -> Result<Vec<Group>, String> {
    let tokens = tokenize(pattern)?;
    let mut parser = PatternParser { tokens, at: 0 };
    let groups = parser.observations(0)?;
    if parser.at < parser.tokens.len() {
        return Err(format!("unexpected {}", describe(parser.peek())));
    }
    for group in &groups {
        let has = |field: &str| group.iter().any(|(f, _)| *f == field);
        if group.is_empty() {
            return Err("a comparison without a value".to_owned());
        }
        if (has("source.port") || has("protocol.transport"))
            && !has("source.ip")
            && !has("source.network")
            && !has("source.fqdn")
        {
            return Err("a port or protocol without an address".to_owned());
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_indicator_of_very_many_values_does_not_repeat_itself_in_each_event() {
        // 3,000 addresses in one pattern of about 100 KB: 300 MB if each event repeated it.
        let pattern = (0..3_000)
            .map(|i| format!("ipv4-addr:value = '198.51.{}.{}'", i / 250, i % 250))
            .collect::<Vec<_>>()
            .join(" OR ");
        let bundle = serde_json::json!({"type": "bundle", "id": "bundle--1", "objects": [{
            "type": "indicator", "id": "indicator--1", "pattern": format!("[{pattern}]"),
            "pattern_type": "stix", "valid_from": "2026-11-29T00:00:00Z"}]});
        let report = Report::new("stix-indicators", None, bundle.to_string().into_bytes());
        let parsed = StixIndicatorsParser.parse(&report);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.events.len(), 3_000);
        assert!(parsed.events.iter().all(|e| e.raw.len() <= 4096));
    }

    fn fields(pattern: &str) -> Result<Vec<Vec<String>>, String> {
        reduce(pattern).map(|groups| {
            groups.into_iter().map(|g| g.into_iter().map(|(f, v)| format!("{f}={v}")).collect()).collect()
        })
    }

    #[test]
    fn reduces_simple_patterns() {
        assert_eq!(
            fields("[ipv4-addr:value = '198.51.100.1']"),
            Ok(vec![vec!["source.ip=198.51.100.1".into()]])
        );
        assert_eq!(
            fields("[domain-name:value = 'a.example' OR url:value = 'http://b.example/x']"),
            Ok(vec![vec!["source.fqdn=a.example".into()], vec!["source.url=http://b.example/x".into()]])
        );
        assert_eq!(
            fields(&format!(
                "[file:hashes.'SHA-256' = '{}'] OR [file:hashes.MD5 = '{}']",
                "a".repeat(64),
                "b".repeat(32)
            )),
            Ok(vec![
                vec![format!("malware.hash.sha256={}", "a".repeat(64))],
                vec![format!("malware.hash.md5={}", "b".repeat(32))]
            ])
        );
        assert_eq!(
            fields(
                "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:dst_port = 443]"
            ),
            Ok(vec![vec!["source.ip=192.0.2.1".into(), "source.port=443".into()]])
        );
        assert_eq!(
            fields("[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]"),
            Ok(vec![vec!["source.ip=192.0.2.1".into()], vec!["source.ip=192.0.2.2".into()]])
        );
        assert_eq!(
            fields("[email-addr:value = 'it\\'s@example.com']"),
            Ok(vec![vec!["source.account=it's@example.com".into()]])
        );
    }

    #[test]
    fn rejects_what_it_cannot_reduce() {
        assert!(fields("[file:name = 'x.exe']").is_err());
        assert!(fields("[file:hashes.MD5 = 'not-a-hash']").is_err());
        assert!(fields("[url:value MATCHES '^http']").is_err());
        assert!(fields("[ipv4-addr:value = '192.0.2.1'] WITHIN 300 SECONDS").is_err());
        assert!(
            fields("[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.2']").is_err()
        );
        assert!(fields("[network-traffic:dst_port = 443]").is_err());
        assert!(fields("[ipv4-addr:value = '192.0.2.1' AND ipv4-addr:value = '192.0.2.2']").is_err());
        assert!(fields("[ipv4-addr:value != '192.0.2.1']").is_err());
        assert!(fields("[ipv4-addr:value = '192.0.2.1'").is_err());
        assert!(fields("").is_err());
    }
}
