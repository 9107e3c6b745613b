//! Observed data prepared for matching: each observed-data object with its time interval, its
//! count and the cyber-observable objects it refers to.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

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
    /// What references resolve against, per observation, with the identifier (or key) each
    /// object is known by.
    targets: Vec<(&'a str, &'a Value)>,
    /// The objects an object type selects from, per observation: the targets without repeated
    /// identifiers, each with its `type`.
    roots: Vec<(Option<&'a str>, &'a Value)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Observation<'a> {
    pub(crate) id: &'a str,
    pub(crate) first: Timestamp,
    pub(crate) last: Timestamp,
    pub(crate) number: u64,
    targets: Range<usize>,
    roots: Range<usize>,
}

/// Where an object came from, for error messages: its index in the input list (if the input
/// is a list) and in its bundle's `objects` (if it came from a bundle).
#[derive(Debug, Clone, Copy)]
struct Origin {
    item: Option<usize>,
    object: Option<usize>,
}

impl Origin {
    fn path(self) -> String {
        let mut path = String::new();
        if let Some(item) = self.item {
            path.push_str(&format!("[{item}]"));
        }
        if let Some(object) = self.object {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&format!("objects[{object}]"));
        }
        path
    }
}

/// FNV-1a: identifiers are short and come from the caller's own data.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// The values of several properties, found in one pass over the object's properties.
fn fields<'a, const N: usize>(
    map: &'a serde_json::Map<String, Value>,
    names: [&str; N],
) -> [Option<&'a Value>; N] {
    let mut found = [None; N];
    for (key, value) in map {
        if let Some(at) = names.iter().position(|name| *name == key) {
            found[at] = Some(value);
        }
    }
    found
}

impl<'a> Observations<'a> {
    /// Reads observations from a bundle, a list of bundles, a list of objects or one object.
    pub fn from_json(input: &'a Value) -> Result<Observations<'a>, MatchError> {
        let mut objects: Vec<(Origin, &'a Value)> = Vec::new();
        match input {
            Value::Array(items) => {
                for (n, item) in items.iter().enumerate() {
                    collect(item, Some(n), &mut objects)?;
                }
            }
            Value::Object(_) => collect(input, None, &mut objects)?,
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

    pub(crate) fn targets(&self, observation: &Observation<'a>) -> &[(&'a str, &'a Value)] {
        &self.targets[observation.targets.clone()]
    }

    pub(crate) fn roots(&self, observation: &Observation<'a>) -> &[(Option<&'a str>, &'a Value)] {
        &self.roots[observation.roots.clone()]
    }

    fn from_objects(objects: &[(Origin, &'a Value)]) -> Result<Observations<'a>, MatchError> {
        let mut pool: FastMap<&'a str, &'a Value> = FastMap::default();
        pool.reserve(objects.len());
        let mut observed: Vec<(Origin, &'a Value)> = Vec::new();
        for &(origin, object) in objects {
            let Some(map) = object.as_object() else {
                return Err(MatchError::observation(&origin.path(), "not a JSON object"));
            };
            let [kind, id] = fields(map, ["type", "id"]);
            let Some(kind) = kind.and_then(Value::as_str) else {
                return Err(MatchError::observation(&origin.path(), "no type"));
            };
            if kind == "observed-data" {
                observed.push((origin, object));
                continue;
            }
            let Some(id) = id.and_then(Value::as_str) else {
                return Err(MatchError::observation(&origin.path(), "no id"));
            };
            pool.insert(id, object);
        }
        let mut observations = Observations {
            list: Vec::with_capacity(observed.len()),
            targets: Vec::with_capacity(objects.len()),
            roots: Vec::with_capacity(objects.len()),
        };
        for (origin, object) in observed {
            observations.add(origin, object, &pool)?;
        }
        Ok(observations)
    }

    fn add(
        &mut self,
        origin: Origin,
        object: &'a Value,
        pool: &FastMap<&'a str, &'a Value>,
    ) -> Result<(), MatchError> {
        let error = |suffix: &str, reason: &str| {
            let path = origin.path();
            MatchError::observation(
                &if suffix.is_empty() { path } else { format!("{path}.{suffix}") },
                reason,
            )
        };
        let Some(map) = object.as_object() else { return Err(error("", "not a JSON object")) };
        let [id, first, last, number, object_refs, embedded] = fields(
            map,
            ["id", "first_observed", "last_observed", "number_observed", "object_refs", "objects"],
        );
        let id = id.and_then(Value::as_str).ok_or_else(|| error("", "no id"))?;
        let (Some(first), Some(last), Some(number)) = (first, last, number) else {
            return Err(error(
                "",
                "observed-data must have all of number_observed, first_observed, last_observed",
            ));
        };
        let time = |value: &Value, name: &str| {
            value
                .as_str()
                .and_then(Timestamp::parse_lenient)
                .ok_or_else(|| error(name, &format!("invalid timestamp {value}")))
        };
        let first = time(first, "first_observed")?;
        let last = time(last, "last_observed")?;
        let number = match number.as_u64() {
            Some(n) if n >= 1 => n,
            _ => {
                return Err(error(
                    "number_observed",
                    &format!("invalid number_observed (must be an integer >= 1): {number}"),
                ));
            }
        };
        let targets_start = self.targets.len();
        match (object_refs, embedded) {
            (Some(Value::Array(refs)), _) => {
                self.targets.push((id, object));
                for reference in refs {
                    if let Some((&key, &value)) = reference.as_str().and_then(|r| pool.get_key_value(r)) {
                        self.targets.push((key, value));
                    }
                }
            }
            (Some(_), _) => return Err(error("object_refs", "not a list")),
            (None, Some(Value::Object(embedded))) => {
                for (key, value) in embedded {
                    if !value.is_object() {
                        return Err(error(&format!("objects.{key}"), "not a JSON object"));
                    }
                    self.targets.push((key.as_str(), value));
                }
            }
            (None, _) => return Err(error("", "observed-data must have object_refs (or embedded objects)")),
        }
        let roots_start = self.roots.len();
        dedupe(&self.targets[targets_start..], &mut self.roots);
        self.list.push(Observation {
            id,
            first,
            last,
            number,
            targets: targets_start..self.targets.len(),
            roots: roots_start..self.roots.len(),
        });
        Ok(())
    }
}

fn collect<'a>(
    item: &'a Value,
    index: Option<usize>,
    out: &mut Vec<(Origin, &'a Value)>,
) -> Result<(), MatchError> {
    let [kind, objects] = match item.as_object() {
        Some(map) => fields(map, ["type", "objects"]),
        None => [None, None],
    };
    if kind.and_then(Value::as_str) == Some("bundle") {
        match objects {
            Some(Value::Array(objects)) => {
                out.extend(
                    objects
                        .iter()
                        .enumerate()
                        .map(|(n, object)| (Origin { item: index, object: Some(n) }, object)),
                );
                Ok(())
            }
            None => Ok(()),
            Some(_) => {
                let path = Origin { item: index, object: None }.path();
                Err(MatchError::observation(&format!("{path}.objects").replace("..", "."), "not a list"))
            }
        }
    } else {
        out.push((Origin { item: index, object: None }, item));
        Ok(())
    }
}

/// The targets keyed by identifier: first position, last object (a Python dictionary's order).
fn dedupe<'a>(targets: &[(&'a str, &'a Value)], roots: &mut Vec<(Option<&'a str>, &'a Value)>) {
    let kind = |v: &'a Value| v.get("type").and_then(Value::as_str);
    let start = roots.len();
    if targets.len() <= 16 {
        let mut ids: [&str; 16] = [""; 16];
        let mut count = 0;
        for &(id, value) in targets {
            match ids[..count].iter().position(|known| *known == id) {
                Some(at) => roots[start + at] = (kind(value), value),
                None => {
                    ids[count] = id;
                    count += 1;
                    roots.push((kind(value), value));
                }
            }
        }
    } else {
        let mut index: FastMap<&str, usize> = FastMap::default();
        for &(id, value) in targets {
            match index.get(id) {
                Some(&at) => roots[at] = (kind(value), value),
                None => {
                    index.insert(id, roots.len());
                    roots.push((kind(value), value));
                }
            }
        }
    }
}
