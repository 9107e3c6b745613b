//! MISP's `restSearch` filters: read from a request body ([`SearchRequest::from_json`]) and
//! matched against events and attributes ([`SearchFilter::event_matches`],
//! [`SearchFilter::attribute_matches`]).
//!
//! Text filters (`value`, `type`, `category`, `org`, `tags`, `eventinfo`) take one value or a
//! list; a value starting with `!` excludes, `%` matches any run of characters, and matching
//! ignores case. `tags` also takes MISP's `{"OR": […], "AND": […], "NOT": […]}`. Times take Unix
//! seconds or an age such as `7d`, `12h`, `30m`, `1w` (then counted back from now); a list of
//! two is a range. Keys this module does not know are ignored, as MISP ignores them; known keys
//! with bad values are errors naming the key.

use serde_json::{Map, Value};
use time::Date;
use uuid::Uuid;

use crate::model::{Attribute, IntelEvent};

/// The most results one search answers with.
pub const MAX_LIMIT: u32 = 1_000;

/// A bad filter value, with the key it was given under.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct FilterError {
    pub key: String,
    pub message: String,
}

fn error(key: &str, message: impl Into<String>) -> FilterError {
    FilterError { key: key.to_owned(), message: message.into() }
}

/// Terms of one text filter: any of `any`, all of `all`, none of `not`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms {
    pub any: Vec<String>,
    pub all: Vec<String>,
    pub not: Vec<String>,
}

impl Terms {
    pub fn is_empty(&self) -> bool {
        self.any.is_empty() && self.all.is_empty() && self.not.is_empty()
    }

    /// Whether the texts satisfy the terms; `matches(pattern, text)` compares one.
    fn accept<'a>(&self, texts: impl Iterator<Item = &'a str> + Clone) -> bool {
        let has = |pattern: &str| texts.clone().any(|text| like(pattern, text));
        (self.any.is_empty() || self.any.iter().any(|p| has(p)))
            && self.all.iter().all(|p| has(p))
            && !self.not.iter().any(|p| has(p))
    }
}

/// Whether `text` matches `pattern`, ignoring case; `%` in the pattern matches any run.
pub fn like(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let text = text.to_lowercase();
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, rest) = (parts[0], &parts[1..]);
    let Some(mut remaining) = text.strip_prefix(first) else { return false };
    let (last, middle) = rest.split_last().map_or(("", &[][..]), |(last, middle)| (*last, middle));
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// Which soft-deleted attributes count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Deleted {
    #[default]
    Live,
    Only,
    Both,
}

/// A closed range of Unix seconds; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl Range {
    fn contains(&self, value: i64) -> bool {
        self.from.is_none_or(|from| value >= from) && self.to.is_none_or(|to| value <= to)
    }
}

/// What an event or attribute must be to be found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    pub values: Terms,
    pub types: Terms,
    pub categories: Terms,
    /// The creator's or owner's name or uuid.
    pub orgs: Terms,
    pub tags: Terms,
    pub eventinfo: Terms,
    /// Event or attribute uuids.
    pub uuids: Vec<Uuid>,
    pub date_from: Option<Date>,
    pub date_to: Option<Date>,
    pub timestamp: Option<Range>,
    pub publish_timestamp: Option<Range>,
    pub published: Option<bool>,
    pub to_ids: Option<bool>,
    pub deleted: Deleted,
}

impl SearchFilter {
    /// Whether any attribute-level filter is set (then an event needs a matching attribute).
    pub fn filters_attributes(&self) -> bool {
        !self.values.is_empty()
            || !self.types.is_empty()
            || !self.categories.is_empty()
            || self.to_ids.is_some()
    }

    fn event_level(&self, event: &IntelEvent) -> bool {
        let date_ok = self.date_from.is_none_or(|from| event.date >= from)
            && self.date_to.is_none_or(|to| event.date <= to);
        let orgs = [event.orgc.name.as_str()]
            .into_iter()
            .chain(event.org.as_ref().map(|org| org.name.as_str()))
            .map(str::to_owned)
            .chain([event.orgc.uuid.to_string()])
            .chain(event.org.as_ref().map(|org| org.uuid.to_string()))
            .collect::<Vec<String>>();
        date_ok
            && self.published.is_none_or(|published| event.published == published)
            && self.timestamp.is_none_or(|range| range.contains(event.timestamp.unix_timestamp()))
            && self.publish_timestamp.is_none_or(|range| {
                event.publish_timestamp.is_some_and(|time| range.contains(time.unix_timestamp()))
            })
            && self.orgs.accept(orgs.iter().map(String::as_str))
            && self.eventinfo.accept(std::iter::once(event.info.as_str()))
    }

    fn attribute_level(&self, attribute: &Attribute) -> bool {
        let deleted_ok = match self.deleted {
            Deleted::Live => !attribute.deleted,
            Deleted::Only => attribute.deleted,
            Deleted::Both => true,
        };
        let (first, second) = attribute.value.split_once('|').unwrap_or((&attribute.value, ""));
        let values = [attribute.value.as_str(), first, second];
        deleted_ok
            && self.to_ids.is_none_or(|to_ids| attribute.to_ids == to_ids)
            && self.types.accept(std::iter::once(attribute.attr_type.as_str()))
            && self.categories.accept(std::iter::once(attribute.category.as_str()))
            && self.values.accept(values.into_iter().filter(|value| !value.is_empty()))
    }

    /// Whether an event is found: its own fields match, its tags (or, failing those, a matching
    /// attribute's tags) satisfy `tags`, a `uuid` names it or one of its attributes, and when
    /// attribute filters are set, one of its attributes matches them.
    pub fn event_matches(&self, event: &IntelEvent) -> bool {
        if !self.event_level(event) {
            return false;
        }
        let uuid_ok = self.uuids.is_empty()
            || self.uuids.contains(&event.uuid)
            || event.all_attributes().any(|(_, attribute)| self.uuids.contains(&attribute.uuid));
        if !uuid_ok {
            return false;
        }
        let event_tags = event.tags.iter().map(|tag| tag.name.as_str());
        if !self.filters_attributes() {
            let all_tags = event_tags.chain(
                event
                    .all_attributes()
                    .filter(|(_, attribute)| !attribute.deleted)
                    .flat_map(|(_, attribute)| attribute.tags.iter().map(|tag| tag.name.as_str())),
            );
            return self.tags.is_empty() || self.tags.accept(all_tags.collect::<Vec<_>>().into_iter());
        }
        event.all_attributes().any(|(_, attribute)| {
            self.attribute_level(attribute) && {
                let tags = event_tags.clone().chain(attribute.tags.iter().map(|tag| tag.name.as_str()));
                self.tags.accept(tags.collect::<Vec<_>>().into_iter())
            }
        })
    }

    /// Whether an attribute of `event` is found: the event-level filters hold for its event,
    /// and its own fields, its tags with the event's, and `uuid` (its own or its event's) match.
    pub fn attribute_matches(&self, event: &IntelEvent, attribute: &Attribute) -> bool {
        let tags = event.tags.iter().chain(&attribute.tags).map(|tag| tag.name.as_str());
        self.event_level(event)
            && self.attribute_level(attribute)
            && (self.uuids.is_empty()
                || self.uuids.contains(&attribute.uuid)
                || self.uuids.contains(&event.uuid))
            && self.tags.accept(tags.collect::<Vec<_>>().into_iter())
    }
}

/// A whole `restSearch` request: the filter, the numeric event ids, and the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRequest {
    pub filter: SearchFilter,
    /// `eventid`: numeric ids (uuids given there go to `filter.uuids`).
    pub event_ids: Vec<i64>,
    /// At most [`MAX_LIMIT`].
    pub limit: u32,
    /// 1-based.
    pub page: u32,
}

impl SearchRequest {
    /// How many matches to skip before the page.
    pub fn offset(&self) -> usize {
        (self.page.saturating_sub(1) as usize).saturating_mul(self.limit as usize)
    }

    /// Reads a request body; `now` is Unix seconds, for ages such as `7d`.
    pub fn from_json(body: &Map<String, Value>, now: i64) -> Result<SearchRequest, FilterError> {
        if let Some(format) = body.get("returnFormat").filter(|value| !value.is_null()) {
            match format.as_str() {
                Some("json") => {}
                _ => {
                    return Err(error("returnFormat", format!("only json is served, not {format}")));
                }
            }
        }
        let mut filter = SearchFilter {
            values: terms(body, "value")?,
            types: terms(body, "type")?,
            categories: terms(body, "category")?,
            orgs: terms(body, "org")?,
            tags: tag_terms(body)?,
            eventinfo: terms(body, "eventinfo")?,
            published: flag(body, "published")?,
            to_ids: flag(body, "to_ids")?,
            date_from: date(body, "from")?,
            date_to: date(body, "to")?,
            timestamp: range(body, "timestamp", now)?,
            publish_timestamp: range(body, "publish_timestamp", now)?,
            ..SearchFilter::default()
        };
        if let Some(last) = range(body, "last", now)? {
            // `last` is an age: published at most that long ago.
            let since = last.from.or(last.to);
            filter.publish_timestamp = Some(Range { from: since, to: None });
        }
        filter.deleted = match body.get("deleted") {
            None | Some(Value::Null) => Deleted::Live,
            Some(Value::Array(items)) if items.len() == 2 => Deleted::Both,
            Some(value) => match truth(value) {
                Some(true) => Deleted::Only,
                Some(false) => Deleted::Live,
                None => return Err(error("deleted", "expected 0, 1 or [0, 1]")),
            },
        };
        for text in strings(body, "uuid")? {
            filter.uuids.push(
                Uuid::parse_str(text.trim()).map_err(|_| error("uuid", format!("{text:?} is not a UUID")))?,
            );
        }
        let mut event_ids = Vec::new();
        for text in strings(body, "eventid")? {
            match (text.trim().parse::<i64>(), Uuid::parse_str(text.trim())) {
                (Ok(id), _) if id > 0 => event_ids.push(id),
                (_, Ok(uuid)) => filter.uuids.push(uuid),
                _ => return Err(error("eventid", format!("{text:?} is neither an event id nor a UUID"))),
            }
        }
        let limit = match number(body, "limit")? {
            None => MAX_LIMIT,
            Some(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => n as u32,
            Some(n) => return Err(error("limit", format!("must be 1 to {MAX_LIMIT}, not {n}"))),
        };
        let page = match number(body, "page")? {
            None => 1,
            Some(n) if (1..=1_000_000).contains(&n) => n as u32,
            Some(n) => return Err(error("page", format!("must be 1 or more, not {n}"))),
        };
        Ok(SearchRequest { filter, event_ids, limit, page })
    }
}

/// The strings under `key`: one, a list, or nothing; numbers are taken as their text.
fn strings(body: &Map<String, Value>, key: &str) -> Result<Vec<String>, FilterError> {
    let one = |value: &Value| match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        other => Err(error(key, format!("expected text or a list of text, not {other}"))),
    };
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            if items.len() > 1_000 {
                return Err(error(key, "at most 1000 values"));
            }
            items.iter().map(one).collect()
        }
        Some(Value::String(text)) if text.is_empty() => Ok(Vec::new()),
        Some(value) => one(value).map(|text| vec![text]),
    }
}

fn split_terms(items: Vec<String>) -> Terms {
    let mut terms = Terms::default();
    for item in items {
        match item.strip_prefix('!') {
            Some(negated) => terms.not.push(negated.to_owned()),
            None => terms.any.push(item),
        }
    }
    terms
}

fn terms(body: &Map<String, Value>, key: &str) -> Result<Terms, FilterError> {
    strings(body, key).map(split_terms)
}

fn tag_terms(body: &Map<String, Value>) -> Result<Terms, FilterError> {
    let key = "tags";
    match body.get(key) {
        Some(Value::Object(map)) => {
            let mut out = Terms::default();
            for (operator, items) in map {
                let mut one = Map::new();
                one.insert(key.to_owned(), items.clone());
                let texts = strings(&one, key)?;
                match operator.as_str() {
                    "OR" => out.any.extend(texts),
                    "AND" => out.all.extend(texts),
                    "NOT" => out.not.extend(texts),
                    other => return Err(error(key, format!("operators are OR, AND and NOT, not {other:?}"))),
                }
            }
            Ok(out)
        }
        _ => terms(body, key),
    }
}

fn truth(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(text) => match text.as_str() {
            "0" | "false" | "False" => Some(false),
            "1" | "true" | "True" => Some(true),
            _ => None,
        },
        _ => None,
    }
}

fn flag(body: &Map<String, Value>, key: &str) -> Result<Option<bool>, FilterError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        // Both values: no filter.
        Some(Value::Array(items)) if items.len() == 2 => Ok(None),
        Some(value) => truth(value).map(Some).ok_or_else(|| error(key, "expected 0 or 1, true or false")),
    }
}

fn number(body: &Map<String, Value>, key: &str) -> Result<Option<i64>, FilterError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => {
            number.as_i64().map(Some).ok_or_else(|| error(key, "expected a whole number"))
        }
        Some(Value::String(text)) => {
            text.trim().parse().map(Some).map_err(|_| error(key, format!("{text:?} is not a whole number")))
        }
        Some(other) => Err(error(key, format!("expected a whole number, not {other}"))),
    }
}

fn date(body: &Map<String, Value>, key: &str) -> Result<Option<Date>, FilterError> {
    let texts = strings(body, key)?;
    let Some(text) = texts.first() else { return Ok(None) };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format)
        .map(Some)
        .map_err(|_| error(key, format!("{text:?} is not a date (YYYY-MM-DD)")))
}

/// Unix seconds, or an age (`30s`, `15m`, `12h`, `7d`, `2w`) counted back from `now`.
fn instant(key: &str, text: &str, now: i64) -> Result<i64, FilterError> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    let unit = text.chars().last().unwrap_or(' ');
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => 0,
    };
    let amount = text[..text.len().saturating_sub(1)].parse::<i64>().ok().filter(|n| *n >= 0);
    match amount {
        Some(amount) if scale > 0 => Ok(now.saturating_sub(amount.saturating_mul(scale))),
        _ => Err(error(key, format!("{text:?} is neither Unix seconds nor an age such as 7d"))),
    }
}

fn range(body: &Map<String, Value>, key: &str, now: i64) -> Result<Option<Range>, FilterError> {
    let texts = strings(body, key)?;
    match texts.as_slice() {
        [] => Ok(None),
        [from] => Ok(Some(Range { from: Some(instant(key, from, now)?), to: None })),
        [from, to] => {
            Ok(Some(Range { from: Some(instant(key, from, now)?), to: Some(instant(key, to, now)?) }))
        }
        _ => Err(error(key, "expected one time or a list of two")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::misp::{self, ImportContext, Limits};

    fn event() -> IntelEvent {
        let document = json!({"Event": {
            "uuid": "10000000-0000-4000-8000-000000000001",
            "info": "Phishing wave against banks",
            "date": "2026-11-20",
            "timestamp": "1795000000",
            "publish_timestamp": "1795000100",
            "published": true,
            "Orgc": {"uuid": "20000000-0000-4000-8000-000000000002", "name": "CERT Creator"},
            "Tag": [{"name": "tlp:green"}],
            "Attribute": [
                {"uuid": "30000000-0000-4000-8000-000000000001", "type": "ip-dst", "value": "45.9.148.10",
                 "Tag": [{"name": "campaign:x"}]},
                {"uuid": "30000000-0000-4000-8000-000000000002", "type": "domain", "value": "evil-cdn.top",
                 "to_ids": false},
                {"uuid": "30000000-0000-4000-8000-000000000003", "type": "filename|sha256",
                 "value": "a.exe|0123456789012345678901234567890123456789012345678901234567890123",
                 "deleted": true}
            ]
        }});
        let context = ImportContext { now: time::OffsetDateTime::UNIX_EPOCH, default_org: None };
        let imported = misp::parse(&document.to_string(), &context, &Limits::default()).unwrap();
        assert!(imported.problems.is_empty(), "{:?}", imported.problems);
        imported.events.into_iter().next().unwrap()
    }

    fn request(body: Value) -> Result<SearchRequest, FilterError> {
        SearchRequest::from_json(body.as_object().unwrap(), 1_795_000_200)
    }

    fn found(body: Value) -> bool {
        request(body).unwrap().filter.event_matches(&event())
    }

    #[test]
    fn wildcards_match_like_sql_like() {
        assert!(like("45.9.%", "45.9.148.10"));
        assert!(like("%cdn%", "evil-CDN.top"));
        assert!(like("%.top", "evil-cdn.top"));
        assert!(!like("%.top", "evil-cdn.topx"));
        assert!(like("a%b%c", "abc"));
        assert!(!like("a%b%c", "acb"));
        assert!(like("EVIL-cdn.top", "evil-cdn.top"));
        assert!(!like("evil", "evil-cdn.top"));
        assert!(like("%", ""));
    }

    #[test]
    fn event_filters() {
        assert!(found(json!({"value": "45.9.148.10"})));
        assert!(found(json!({"value": "%cdn%", "type": "domain"})));
        assert!(!found(json!({"value": "%cdn%", "type": "ip-dst"})));
        assert!(!found(json!({"value": "192.0.2.1"})));
        // A deleted attribute is found only when asked for.
        assert!(!found(json!({"value": "a.exe"})));
        assert!(found(json!({"value": "a.exe", "deleted": 1})));
        assert!(found(json!({"tags": "tlp:green"})));
        assert!(found(json!({"tags": ["campaign:x"]})));
        assert!(!found(json!({"tags": ["!tlp:green"]})));
        assert!(found(json!({"tags": {"AND": ["tlp:green", "campaign:x"]}})));
        assert!(!found(json!({"tags": {"OR": ["tlp:red"], "NOT": ["tlp:green"]}})));
        assert!(found(json!({"org": "cert creator"})));
        assert!(!found(json!({"org": "!CERT Creator"})));
        assert!(found(json!({"eventinfo": "%phishing%"})));
        assert!(!found(json!({"eventinfo": "%ransom%"})));
        assert!(found(json!({"published": 1, "from": "2026-11-01", "to": "2026-11-30"})));
        assert!(!found(json!({"published": false})));
        assert!(!found(json!({"from": "2026-11-21"})));
        assert!(found(json!({"timestamp": "1795000000"})));
        assert!(!found(json!({"timestamp": ["1h", "1794999999"]})));
        assert!(found(json!({"last": "5m"})));
        assert!(!found(json!({"last": "10s"})));
        assert!(found(json!({"to_ids": 0})));
        assert!(found(json!({"uuid": "30000000-0000-4000-8000-000000000002"})));
        assert!(!found(json!({"uuid": "30000000-0000-4000-8000-000000000009"})));
        assert!(found(json!({"returnFormat": "json", "includeContext": 0, "metadata": 0})));
    }

    #[test]
    fn attribute_filters() {
        let event = event();
        let filter = request(json!({"type": "ip-dst", "tags": "tlp:green"})).unwrap().filter;
        let hits: Vec<&str> = event
            .attributes
            .iter()
            .filter(|attribute| filter.attribute_matches(&event, attribute))
            .map(|attribute| attribute.value.as_str())
            .collect();
        assert_eq!(hits, ["45.9.148.10"]);
        let filter = request(json!({"value": "0123456789012345678901234567890123456789012345678901234567890123", "deleted": [0, 1]}))
            .unwrap()
            .filter;
        assert_eq!(event.attributes.iter().filter(|a| filter.attribute_matches(&event, a)).count(), 1);
    }

    #[test]
    fn bad_values_name_their_key() {
        assert_eq!(request(json!({"returnFormat": "csv"})).unwrap_err().key, "returnFormat");
        assert_eq!(request(json!({"limit": 0})).unwrap_err().key, "limit");
        assert_eq!(request(json!({"limit": 5000})).unwrap_err().key, "limit");
        assert_eq!(request(json!({"from": "yesterday"})).unwrap_err().key, "from");
        assert_eq!(request(json!({"last": "5x"})).unwrap_err().key, "last");
        assert_eq!(request(json!({"published": "maybe"})).unwrap_err().key, "published");
        assert_eq!(request(json!({"uuid": "nope"})).unwrap_err().key, "uuid");
        assert_eq!(request(json!({"tags": {"XOR": ["a"]}})).unwrap_err().key, "tags");
        assert_eq!(request(json!({"value": {"a": 1}})).unwrap_err().key, "value");
        let paged = request(
            json!({"limit": "10", "page": 3, "eventid": ["7", "10000000-0000-4000-8000-000000000001"]}),
        )
        .unwrap();
        assert_eq!((paged.limit, paged.page, paged.offset()), (10, 3, 20));
        assert_eq!(paged.event_ids, [7]);
        assert_eq!(paged.filter.uuids.len(), 1);
    }
}
