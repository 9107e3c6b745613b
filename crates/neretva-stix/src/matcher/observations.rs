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
    ///
    /// One pass reads every object while it is at hand: the pool gives each identifier a slot
    /// (an object pooled later under the same identifier takes the slot over, as in a
    /// dictionary), and every observed-data object is checked and keeps its references as
    /// slots. A second pass, over those slots, builds the observations. The error reported is
    /// the first (in input order) of reading the objects, else the first of the observed-data
    /// objects.
    pub fn from_json(input: &'a Value) -> Result<Observations<'a>, MatchError> {
        let mut reader = Reader::default();
        match input {
            Value::Array(items) => {
                // Most items are bundles of an observed-data object and one or two others.
                reader.index.reserve(items.len() * 2);
                reader.slots.reserve(items.len() * 2);
                reader.refs.reserve(items.len() * 2);
                reader.observed.reserve(items.len());
                for (n, item) in items.iter().enumerate() {
                    reader.item(item, Some(n))?;
                }
            }
            Value::Object(_) => reader.item(input, None)?,
            _ => {
                return Err(MatchError::observation(
                    "",
                    "expected a bundle, a list of bundles or STIX objects",
                ));
            }
        }
        reader.finish()
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
}

/// An identifier of the pool, with the object (and its type) last pooled under it, if any.
struct Slot<'a> {
    key: &'a str,
    object: Option<(&'a str, &'a Value)>,
}

/// An observed-data object as read: checked, its references not yet resolved.
struct Observed<'a> {
    id: &'a str,
    object: &'a Value,
    first: Timestamp,
    last: Timestamp,
    number: u64,
    refs: Refs<'a>,
}

enum Refs<'a> {
    /// The `object_refs` list, until the end of the bundle it is in.
    List(&'a [Value]),
    /// Slots of the pool, a range of [`Reader::refs`].
    Pool(Range<usize>),
    /// The deprecated `objects` dictionary.
    Embedded(&'a serde_json::Map<String, Value>),
}

#[derive(Default)]
struct Reader<'a> {
    index: FastMap<&'a str, u32>,
    slots: Vec<Slot<'a>>,
    refs: Vec<u32>,
    observed: Vec<Observed<'a>>,
    /// The identifiers (and slots) of the objects pooled from the current bundle, and the
    /// observed-data objects (indexes into `observed`) whose references are still a list.
    local: Vec<(&'a str, u32)>,
    unresolved: Vec<usize>,
    /// The first error of an observed-data object: reported if reading all objects succeeds.
    deferred: Option<MatchError>,
}

impl<'a> Reader<'a> {
    fn slot(&mut self, key: &'a str) -> u32 {
        let slots = &mut self.slots;
        *self.index.entry(key).or_insert_with(|| {
            slots.push(Slot { key, object: None });
            u32::try_from(slots.len() - 1).unwrap_or(u32::MAX)
        })
    }

    /// One item of the input: a bundle (its objects) or an object.
    fn item(&mut self, item: &'a Value, index: Option<usize>) -> Result<(), MatchError> {
        let [kind, objects] = match item.as_object() {
            Some(map) => fields(map, |key| match key {
                "type" => Some(0),
                "objects" => Some(1),
                _ => None,
            }),
            None => [None, None],
        };
        if kind.and_then(Value::as_str) != Some("bundle") {
            self.object(Origin { item: index, object: None }, item)?;
            self.resolve_local();
            return Ok(());
        }
        match objects {
            Some(Value::Array(objects)) => {
                for (n, object) in objects.iter().enumerate() {
                    self.object(Origin { item: index, object: Some(n) }, object)?;
                }
                self.resolve_local();
                Ok(())
            }
            None => Ok(()),
            Some(_) => {
                let path = Origin { item: index, object: None }.path();
                Err(MatchError::observation(&format!("{path}.objects").replace("..", "."), "not a list"))
            }
        }
    }

    fn object(&mut self, origin: Origin, object: &'a Value) -> Result<(), MatchError> {
        let Some(map) = object.as_object() else {
            return Err(MatchError::observation(&origin.path(), "not a JSON object"));
        };
        // One pass for the properties of every kind of object: an observed-data object's are
        // found on the way to its `type`, and other objects have few properties after it.
        let [kind, id, first, last, number, object_refs, embedded] = fields(map, |key| match key {
            "type" => Some(0),
            "id" => Some(1),
            "first_observed" => Some(2),
            "last_observed" => Some(3),
            "number_observed" => Some(4),
            "object_refs" => Some(5),
            "objects" => Some(6),
            _ => None,
        });
        let Some(kind) = kind.and_then(Value::as_str) else {
            return Err(MatchError::observation(&origin.path(), "no type"));
        };
        if kind == "observed-data" {
            if self.deferred.is_none()
                && let Err(error) =
                    self.observed(origin, object, id, [first, last, number, object_refs, embedded])
            {
                self.deferred = Some(error);
            }
            return Ok(());
        }
        let Some(id) = id.and_then(Value::as_str) else {
            return Err(MatchError::observation(&origin.path(), "no id"));
        };
        let slot = self.slot(id);
        self.slots[slot as usize].object = Some((kind, object));
        self.local.push((id, slot));
        Ok(())
    }

    /// Turns the references of the current bundle's observed-data objects into slots: those
    /// naming an object of the same bundle (usually all) without hashing them again.
    fn resolve_local(&mut self) {
        for at in 0..self.unresolved.len() {
            let n = self.unresolved[at];
            let Refs::List(list) = self.observed[n].refs else { continue };
            let start = self.refs.len();
            for reference in list {
                let Some(reference) = reference.as_str() else { continue };
                let local = if self.local.len() <= 16 {
                    self.local.iter().find(|(id, _)| *id == reference).map(|&(_, slot)| slot)
                } else {
                    None
                };
                let slot = match local {
                    Some(slot) => slot,
                    None => self.slot(reference),
                };
                self.refs.push(slot);
            }
            self.observed[n].refs = Refs::Pool(start..self.refs.len());
        }
        self.unresolved.clear();
        self.local.clear();
    }

    /// Checks an observed-data object, as the reference does, and keeps it.
    fn observed(
        &mut self,
        origin: Origin,
        object: &'a Value,
        id: Option<&'a Value>,
        [first, last, number, object_refs, embedded]: [Option<&'a Value>; 5],
    ) -> Result<(), MatchError> {
        let error = |suffix: &str, reason: &str| {
            let path = origin.path();
            MatchError::observation(
                &if suffix.is_empty() { path } else { format!("{path}.{suffix}") },
                reason,
            )
        };
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
        let refs = match (object_refs, embedded) {
            (Some(Value::Array(refs)), _) => {
                self.unresolved.push(self.observed.len());
                Refs::List(refs)
            }
            (Some(_), _) => return Err(error("object_refs", "not a list")),
            (None, Some(Value::Object(embedded))) => {
                if let Some((key, _)) = embedded.iter().find(|(_, value)| !value.is_object()) {
                    return Err(error(&format!("objects.{key}"), "not a JSON object"));
                }
                Refs::Embedded(embedded)
            }
            (None, _) => return Err(error("", "observed-data must have object_refs (or embedded objects)")),
        };
        self.observed.push(Observed { id, object, first, last, number, refs });
        Ok(())
    }

    /// Resolves the references of every observed-data object against the complete pool.
    fn finish(self) -> Result<Observations<'a>, MatchError> {
        if let Some(error) = self.deferred {
            return Err(error);
        }
        let mut observations = Observations {
            list: Vec::with_capacity(self.observed.len()),
            targets: Vec::with_capacity(self.observed.len() + self.refs.len()),
            roots: Vec::with_capacity(self.observed.len() + self.refs.len()),
        };
        // Per slot, the observation that last met it (plus one) and the position of its root.
        let mut seen: Vec<(u32, u32)> = vec![(0, 0); self.slots.len()];
        for (n, observed) in self.observed.iter().enumerate() {
            let stamp = u32::try_from(n + 1).unwrap_or(u32::MAX);
            let targets_start = observations.targets.len();
            let roots_start = observations.roots.len();
            match &observed.refs {
                Refs::Pool(range) => {
                    observations.targets.push((observed.id, observed.object));
                    observations.roots.push((Some("observed-data"), observed.object));
                    for &slot in &self.refs[range.clone()] {
                        let Slot { key, object: Some((kind, value)) } = self.slots[slot as usize] else {
                            continue;
                        };
                        observations.targets.push((key, value));
                        // Keyed by identifier: the first position, the last object.
                        let mark = &mut seen[slot as usize];
                        if mark.0 == stamp {
                            observations.roots[mark.1 as usize] = (Some(kind), value);
                        } else if key == observed.id {
                            observations.roots[roots_start] = (Some(kind), value);
                            *mark = (stamp, u32::try_from(roots_start).unwrap_or(u32::MAX));
                        } else {
                            *mark = (stamp, u32::try_from(observations.roots.len()).unwrap_or(u32::MAX));
                            observations.roots.push((Some(kind), value));
                        }
                    }
                }
                // Resolved at the end of every bundle.
                Refs::List(_) => {}
                Refs::Embedded(embedded) => {
                    // Dictionary keys are distinct: every object is a root.
                    for (key, value) in *embedded {
                        observations.targets.push((key.as_str(), value));
                        observations.roots.push((value.get("type").and_then(Value::as_str), value));
                    }
                }
            }
            observations.list.push(Observation {
                id: observed.id,
                first: observed.first,
                last: observed.last,
                number: observed.number,
                targets: targets_start..observations.targets.len(),
                roots: roots_start..observations.roots.len(),
            });
        }
        Ok(observations)
    }
}
