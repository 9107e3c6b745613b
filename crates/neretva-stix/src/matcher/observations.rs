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

/// A multiply-rotate hash over eight bytes at a time (as rustc's FxHash): identifiers are
/// `type--uuid` strings from the caller's own data, hashed once when pooled and once per
/// reference, so the hash is on the hot path of preparing observations.
#[derive(Default)]
struct Fx(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// The values of several properties, found in one pass over the object's properties that
/// stops once all are found; `pick` says which of them a property name is.
fn fields<const N: usize>(
    map: &serde_json::Map<String, Value>,
    pick: impl Fn(&str) -> Option<usize>,
) -> [Option<&Value>; N] {
    let mut found = [None; N];
    let mut left = N;
    for (key, value) in map {
        if let Some(at) = pick(key) {
            found[at] = Some(value);
            left -= 1;
            if left == 0 {
                break;
            }
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
        // The pool keeps each object's type, read once here.
        let mut pool: FastMap<&'a str, (&'a str, &'a Value)> = FastMap::default();
        pool.reserve(objects.len());
        let mut observed: Vec<(Origin, &'a Value)> = Vec::new();
        for &(origin, object) in objects {
            let Some(map) = object.as_object() else {
                return Err(MatchError::observation(&origin.path(), "not a JSON object"));
            };
            let [kind, id] = fields(map, |key| match key {
                "type" => Some(0),
                "id" => Some(1),
                _ => None,
            });
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
            pool.insert(id, (kind, object));
        }
        let mut observations = Observations {
            list: Vec::with_capacity(observed.len()),
            targets: Vec::with_capacity(objects.len()),
            roots: Vec::with_capacity(objects.len()),
        };
        let mut kinds = Vec::new();
        for (origin, object) in observed {
            observations.add(origin, object, &pool, &mut kinds)?;
        }
        Ok(observations)
    }

    fn add(
        &mut self,
        origin: Origin,
        object: &'a Value,
        pool: &FastMap<&'a str, (&'a str, &'a Value)>,
        kinds: &mut Vec<Option<&'a str>>,
    ) -> Result<(), MatchError> {
        let error = |suffix: &str, reason: &str| {
            let path = origin.path();
            MatchError::observation(
                &if suffix.is_empty() { path } else { format!("{path}.{suffix}") },
                reason,
            )
        };
        let Some(map) = object.as_object() else { return Err(error("", "not a JSON object")) };
        let [id, first, last, number, object_refs, embedded] = fields(map, |key| match key {
            "id" => Some(0),
            "first_observed" => Some(1),
            "last_observed" => Some(2),
            "number_observed" => Some(3),
            "object_refs" => Some(4),
            "objects" => Some(5),
            _ => None,
        });
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
        let first_text = first.as_str();
        let first = time(first, "first_observed")?;
        // Most observations are of one instant: the same text is not parsed twice.
        let last = match (first_text, last.as_str()) {
            (Some(a), Some(b)) if a == b => first,
            _ => time(last, "last_observed")?,
        };
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
        kinds.clear();
        match (object_refs, embedded) {
            (Some(Value::Array(refs)), _) => {
                self.targets.push((id, object));
                kinds.push(Some("observed-data"));
                for reference in refs {
                    if let Some((&key, &(kind, value))) =
                        reference.as_str().and_then(|r| pool.get_key_value(r))
                    {
                        self.targets.push((key, value));
                        kinds.push(Some(kind));
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
                    kinds.push(value.get("type").and_then(Value::as_str));
                }
            }
            (None, _) => return Err(error("", "observed-data must have object_refs (or embedded objects)")),
        }
        let roots_start = self.roots.len();
        dedupe(&self.targets[targets_start..], kinds, &mut self.roots);
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
        Some(map) => fields(map, |key| match key {
            "type" => Some(0),
            "objects" => Some(1),
            _ => None,
        }),
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
/// `kinds[i]` is the type of `targets[i]`.
fn dedupe<'a>(
    targets: &[(&'a str, &'a Value)],
    kinds: &[Option<&'a str>],
    roots: &mut Vec<(Option<&'a str>, &'a Value)>,
) {
    let start = roots.len();
    let typed = targets.iter().zip(kinds).map(|(&(id, value), &kind)| (id, kind, value));
    if targets.len() <= 16 {
        let mut ids: [&str; 16] = [""; 16];
        let mut count = 0;
        for (id, kind, value) in typed {
            match ids[..count].iter().position(|known| *known == id) {
                Some(at) => roots[start + at] = (kind, value),
                None => {
                    ids[count] = id;
                    count += 1;
                    roots.push((kind, value));
                }
            }
        }
    } else {
        let mut index: FastMap<&str, usize> = FastMap::default();
        for (id, kind, value) in typed {
            match index.get(id) {
                Some(&at) => roots[at] = (kind, value),
                None => {
                    index.insert(id, roots.len());
                    roots.push((kind, value));
                }
            }
        }
    }
}
