//! Observed data prepared for matching: each observed-data object with its time interval, its
//! count and the cyber-observable objects it refers to.

use std::collections::HashMap;

use serde_json::Value;

use crate::matcher::MatchError;
use crate::timestamp::Timestamp;

/// The observations one or more bundles hold, ready for [`crate::matcher::Matcher::evaluate`].
///
/// Built as the reference matcher (STIX 2.1 mode) builds them: the objects of all the given
/// bundles form one pool; every `observed-data` object is one observation whose objects are
/// itself and the pool objects its `object_refs` name (a reference that resolves nowhere is
/// ignored). As an extension, an observed-data object without `object_refs` may embed its
/// objects in the deprecated `objects` dictionary, whose keys references then name.
#[derive(Debug, Clone, Default)]
pub struct Observations<'a> {
    pub(crate) list: Vec<Observation<'a>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Observation<'a> {
    pub(crate) id: &'a str,
    pub(crate) first: Timestamp,
    pub(crate) last: Timestamp,
    pub(crate) number: u64,
    /// What references resolve against, with the identifier (or key) each is known by.
    pub(crate) targets: Vec<(&'a str, &'a Value)>,
    /// The objects an object type selects from: the targets without repeated identifiers, each
    /// with its `type`.
    pub(crate) roots: Vec<(Option<&'a str>, &'a Value)>,
}

impl<'a> Observations<'a> {
    /// Reads observations from a bundle, a list of bundles, a list of objects or one object.
    pub fn from_json(input: &'a Value) -> Result<Observations<'a>, MatchError> {
        let mut objects: Vec<(String, &'a Value)> = Vec::new();
        match input {
            Value::Array(items) => {
                for (n, item) in items.iter().enumerate() {
                    collect(item, &format!("[{n}]"), &mut objects)?;
                }
            }
            Value::Object(_) => collect(input, "", &mut objects)?,
            _ => {
                return Err(MatchError::observation(
                    "",
                    "expected a bundle, a list of bundles or STIX objects",
                ));
            }
        }
        Observations::from_objects(&objects)
    }

    /// The number of observations (observed-data objects).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are no observations.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The identifier of the observed-data object of observation `index`.
    pub fn observed_data_id(&self, index: usize) -> Option<&'a str> {
        self.list.get(index).map(|o| o.id)
    }

    fn from_objects(objects: &[(String, &'a Value)]) -> Result<Observations<'a>, MatchError> {
        let mut pool: HashMap<&'a str, &'a Value> = HashMap::with_capacity(objects.len());
        let mut observed: Vec<(&str, &'a Value)> = Vec::new();
        for (path, object) in objects {
            let Some(map) = object.as_object() else {
                return Err(MatchError::observation(path, "not a JSON object"));
            };
            let Some(kind) = map.get("type").and_then(Value::as_str) else {
                return Err(MatchError::observation(path, "no type"));
            };
            if kind == "observed-data" {
                observed.push((path, object));
                continue;
            }
            let Some(id) = map.get("id").and_then(Value::as_str) else {
                return Err(MatchError::observation(path, "no id"));
            };
            pool.insert(id, object);
        }
        let mut list = Vec::with_capacity(observed.len());
        for (path, object) in observed {
            list.push(observation(path, object, &pool)?);
        }
        Ok(Observations { list })
    }
}

fn collect<'a>(item: &'a Value, path: &str, out: &mut Vec<(String, &'a Value)>) -> Result<(), MatchError> {
    if item.get("type").and_then(Value::as_str) == Some("bundle") {
        match item.get("objects") {
            Some(Value::Array(objects)) => {
                for (n, object) in objects.iter().enumerate() {
                    out.push((format!("{path}.objects[{n}]").trim_start_matches('.').to_owned(), object));
                }
                Ok(())
            }
            None => Ok(()),
            Some(_) => Err(MatchError::observation(&format!("{path}.objects"), "not a list")),
        }
    } else {
        out.push((path.to_owned(), item));
        Ok(())
    }
}

fn observation<'a>(
    path: &str,
    object: &'a Value,
    pool: &HashMap<&'a str, &'a Value>,
) -> Result<Observation<'a>, MatchError> {
    let field = |name: &str| object.get(name);
    let id = field("id").and_then(Value::as_str).ok_or_else(|| MatchError::observation(path, "no id"))?;
    let (Some(first), Some(last), Some(number)) =
        (field("first_observed"), field("last_observed"), field("number_observed"))
    else {
        return Err(MatchError::observation(
            path,
            "observed-data must have all of number_observed, first_observed, last_observed",
        ));
    };
    let time = |value: &Value, name: &str| {
        value.as_str().and_then(Timestamp::parse_lenient).ok_or_else(|| {
            MatchError::observation(&format!("{path}.{name}"), &format!("invalid timestamp {value}"))
        })
    };
    let first = time(first, "first_observed")?;
    let last = time(last, "last_observed")?;
    let number = match number.as_u64() {
        Some(n) if n >= 1 => n,
        _ => {
            return Err(MatchError::observation(
                &format!("{path}.number_observed"),
                &format!("invalid number_observed (must be an integer >= 1): {number}"),
            ));
        }
    };
    let mut targets: Vec<(&'a str, &'a Value)> = Vec::new();
    match (field("object_refs"), field("objects")) {
        (Some(Value::Array(refs)), _) => {
            targets.push((id, object));
            for reference in refs {
                if let Some(target) = reference.as_str().and_then(|r| pool.get_key_value(r)) {
                    targets.push((target.0, target.1));
                }
            }
        }
        (Some(_), _) => return Err(MatchError::observation(&format!("{path}.object_refs"), "not a list")),
        (None, Some(Value::Object(embedded))) => {
            for (key, value) in embedded {
                if !value.is_object() {
                    return Err(MatchError::observation(
                        &format!("{path}.objects.{key}"),
                        "not a JSON object",
                    ));
                }
                targets.push((key.as_str(), value));
            }
        }
        (None, _) => {
            return Err(MatchError::observation(
                path,
                "observed-data must have object_refs (or embedded objects)",
            ));
        }
    }
    let roots = dedupe(&targets);
    Ok(Observation { id, first, last, number, targets, roots })
}

/// The targets keyed by identifier: first position, last object (a Python dictionary's order).
fn dedupe<'a>(targets: &[(&'a str, &'a Value)]) -> Vec<(Option<&'a str>, &'a Value)> {
    let kind = |v: &'a Value| v.get("type").and_then(Value::as_str);
    let mut roots: Vec<(Option<&'a str>, &'a Value)> = Vec::with_capacity(targets.len());
    let mut ids: Vec<&'a str> = Vec::with_capacity(targets.len());
    if targets.len() <= 16 {
        for (id, value) in targets {
            match ids.iter().position(|known| known == id) {
                Some(at) => roots[at] = (kind(value), value),
                None => {
                    ids.push(id);
                    roots.push((kind(value), value));
                }
            }
        }
    } else {
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(targets.len());
        for (id, value) in targets {
            match index.get(id) {
                Some(&at) => roots[at] = (kind(value), value),
                None => {
                    index.insert(id, roots.len());
                    roots.push((kind(value), value));
                }
            }
        }
    }
    roots
}
