//! Building many events of one shape: a slot per field instead of a sorted list built by
//! insertion.

use crate::error::ValueError;
use crate::event::{self, Event, Outcome, Prepared, PreparedField, Target};
use crate::fields::FieldId;
use crate::fields_table::EVENT_FIELDS;
use crate::report::Report;
use crate::text::Text;
use crate::value::Value;

// Which fields are set is one bit each in a `u128`.
const _: () = assert!(EVENT_FIELDS.len() <= 128);

/// What the texts last set on one field came to, so a feed column that repeats a few values
/// (country codes, protocols, cities) has each value sanitised once: see
/// [`EventBuilder::set_id_memo`].
///
/// It keeps up to [`FieldMemo::ENTRIES`] distinct texts; once it has seen
/// [`FieldMemo::TRIAL`] texts of which fewer than half were repeats, it stops remembering (a
/// column of host names or addresses), and the field is sanitised each time as by
/// [`EventBuilder::set_id`].
#[derive(Clone, Debug)]
pub struct FieldMemo {
    id: FieldId,
    /// Texts and the value each came to (`None`: the field is removed).
    entries: Vec<(Text, Option<Value>)>,
    lookups: u32,
    hits: u32,
    off: bool,
}

impl FieldMemo {
    /// The most distinct texts kept.
    pub const ENTRIES: usize = 16;
    /// How many texts are looked up before the memo judges whether it helps.
    pub const TRIAL: u32 = 256;

    /// An empty memo for one field.
    pub fn new(id: FieldId) -> Self {
        Self { id, entries: Vec::new(), lookups: 0, hits: 0, off: false }
    }

    /// The field it is for.
    pub fn field(&self) -> FieldId {
        self.id
    }
}

/// A member `extra.<key>` whose name an [`EventBuilder`] was given in advance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberSlot(u32);

/// Builds events one after another with the rules of [`Event`]'s setters, for parsers that
/// make many events of the same shape (the fields of one report type).
///
/// Each field has a slot and the members named in advance ([`EventBuilder::new`]) have one
/// each, so setting a value is a store into its slot (a later value replaces an earlier one, an
/// ignored value empties the slot, as on an [`Event`]); [`EventBuilder::build`] then moves the
/// values into a new event in field order, with one allocation for its fields and one for its
/// members, and leaves the builder empty for the next event. Members not named in advance are
/// kept aside and merged in by name.
#[derive(Clone, Debug)]
pub struct EventBuilder {
    /// One slot per field, by [`FieldId::index`].
    fields: Box<[Option<Value>]>,
    /// Bit `i` is set when `fields[i]` holds a value.
    set: u128,
    /// The members named in advance (full names `extra.<key>`), sorted and distinct.
    names: Box<[Text]>,
    /// Their values, by [`MemberSlot`].
    members: Box<[Option<Value>]>,
    /// How many of `members` hold a value.
    member_count: usize,
    /// Members not named in advance, sorted by full name.
    others: Vec<(Text, Value)>,
}

impl Default for EventBuilder {
    fn default() -> Self {
        Self::new([])
    }
}

impl EventBuilder {
    /// A builder that knows these members (full names `extra.<key>`) in advance; names that are
    /// not valid member names, and repeats, are skipped.
    pub fn new<'a>(member_names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<Text> = member_names
            .into_iter()
            .filter(|name| matches!(event::resolve(name), Ok(Target::Extra(_))))
            .map(Text::new)
            .collect();
        names.sort_unstable();
        names.dedup();
        Self {
            fields: vec![None; EVENT_FIELDS.len()].into_boxed_slice(),
            set: 0,
            members: vec![None; names.len()].into_boxed_slice(),
            names: names.into_boxed_slice(),
            member_count: 0,
            others: Vec::new(),
        }
    }

    /// The slot of a member named in advance (full name `extra.<key>`).
    pub fn member_slot(&self, name: &str) -> Option<MemberSlot> {
        let i = self.names.binary_search_by(|known| known.as_bytes().cmp(name.as_bytes())).ok()?;
        u32::try_from(i).ok().map(MemberSlot)
    }

    /// Copies a report's metadata in, as [`Report::stamp`] does for an event.
    pub fn stamp(&mut self, report: &Report) {
        report.stamp_with(|id, value| self.put(id, value));
    }

    /// [`Event::set_id`]: sets a field from text, sanitised and validated.
    pub fn set_id(&mut self, id: FieldId, text: &str) -> Result<(), ValueError> {
        let outcome = event::text_outcome(id, text)?;
        self.apply(id, outcome);
        Ok(())
    }

    /// [`EventBuilder::set_id`] for the memo's field, taking the value from the memo when the
    /// same text came before: the same result, each distinct text sanitised once.
    pub fn set_id_memo(&mut self, memo: &mut FieldMemo, text: &str) -> Result<(), ValueError> {
        let id = memo.id;
        if memo.off || event::IGNORED_VALUES.contains(&text) {
            return self.set_id(id, text);
        }
        memo.lookups += 1;
        if let Some((_, value)) = memo.entries.iter().find(|(known, _)| known.as_bytes() == text.as_bytes()) {
            memo.hits += 1;
            match value {
                Some(value) => self.put(id, value.clone()),
                None => self.apply(id, Outcome::Remove),
            }
            return Ok(());
        }
        if memo.lookups >= FieldMemo::TRIAL && memo.hits * 2 < memo.lookups {
            memo.off = true;
            memo.entries = Vec::new();
            return self.set_id(id, text);
        }
        let outcome = event::text_outcome(id, text)?;
        if memo.entries.len() < FieldMemo::ENTRIES {
            match &outcome {
                Outcome::Set(value) => memo.entries.push((Text::new(text), Some(value.clone()))),
                Outcome::Remove => memo.entries.push((Text::new(text), None)),
                Outcome::Members(_) => {}
            }
        }
        self.apply(id, outcome);
        Ok(())
    }

    /// [`Event::set_value_id`]: sets a field to a typed value, validated.
    pub fn set_value_id(&mut self, id: FieldId, value: Value) -> Result<(), ValueError> {
        let outcome = event::value_outcome(id, value)?;
        self.apply(id, outcome);
        Ok(())
    }

    /// [`Event::set_value`]: sets a field or member by name to a typed value.
    pub fn set_value(&mut self, name: &str, value: Value) -> Result<(), ValueError> {
        let target =
            event::resolve(name).map_err(|reason| ValueError::new(name, &value.to_string(), reason))?;
        match target {
            Target::Field(id) => self.set_value_id(id, value),
            Target::Extra(name) => {
                let value = event::member_value(name, value)?;
                self.put_member(name, value);
                Ok(())
            }
            Target::ExtraDict => self.set_value_id(FieldId::EXTRA, value),
        }
    }

    /// Sets a member named in advance to a typed value, as [`Event::set_value`] does for
    /// `extra.<key>`.
    pub fn set_member(&mut self, slot: MemberSlot, value: Value) -> Result<(), ValueError> {
        let i = slot.0 as usize;
        let value = match value {
            // Text, integers and booleans are stored as they are.
            Value::Str(_) | Value::Int(_) | Value::Bool(_) => value,
            other => event::member_value(&self.names[i], other)?,
        };
        self.put_slot(i, value);
        Ok(())
    }

    /// [`Event::set_prepared`]: sets a field prepared by [`Event::prepare`].
    pub fn set_prepared(&mut self, field: &PreparedField) -> Result<(), ValueError> {
        match &field.0 {
            Prepared::Set(id, value) => {
                self.put(*id, value.clone());
                Ok(())
            }
            Prepared::Remove(id) => {
                self.apply(*id, Outcome::Remove);
                Ok(())
            }
            Prepared::Text(id, text) => self.set_id(*id, text),
        }
    }

    /// [`Event::set_raw`]: stores raw data base64-encoded.
    pub fn set_raw(&mut self, data: &[u8]) {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(data);
        self.put(FieldId::RAW, Value::Str(encoded.into()));
    }

    /// The value of a field set so far.
    pub fn get_id(&self, id: FieldId) -> Option<&Value> {
        self.fields.get(id.index())?.as_ref()
    }

    /// Removes a field (for `extra`, every member).
    pub fn remove_id(&mut self, id: FieldId) {
        self.apply(id, Outcome::Remove);
    }

    /// Moves everything set into a new event and leaves the builder empty.
    pub fn build(&mut self) -> Event {
        // An exact count of items (`Range::map`) lets `collect` write each one straight into
        // the list: with `push`, each value went through the stack on its way.
        let set = self.set;
        let mut bits = set;
        let slots = &mut self.fields;
        let values: Vec<Value> = (0..set.count_ones())
            .map(|_| {
                let i = bits.trailing_zeros();
                bits &= bits - 1;
                // A bit is set exactly while its slot holds a value (`put`, `apply`).
                debug_assert!(slots[i as usize].is_some());
                slots[i as usize].take().unwrap_or(Value::Bool(false))
            })
            .collect();
        self.set = 0;
        let mut extra = Vec::new();
        if self.member_count > 0 || !self.others.is_empty() {
            extra.reserve_exact(self.member_count + self.others.len());
            let mut named = self.names.iter().zip(self.members.iter_mut());
            // `member_count` slots hold a value; the same exact count as for the fields.
            extra.extend((0..self.member_count).map(|_| {
                named
                    .by_ref()
                    .find_map(|(name, slot)| Some((name.clone(), slot.take()?)))
                    .unwrap_or_else(|| (Text::new(""), Value::Bool(false)))
            }));
            self.member_count = 0;
            // Members not named in advance (no name is in both lists), merged in by name.
            if !self.others.is_empty() {
                extra.append(&mut self.others);
                extra.sort_by(|a, b| a.0.cmp(&b.0));
            }
        }
        Event::from_parts(set, values, extra)
    }

    /// Empties the builder.
    pub fn clear(&mut self) {
        self.fields.iter_mut().for_each(|slot| *slot = None);
        self.set = 0;
        self.members.iter_mut().for_each(|slot| *slot = None);
        self.member_count = 0;
        self.others.clear();
    }

    fn put(&mut self, id: FieldId, value: Value) {
        let i = id.index();
        if let Some(slot) = self.fields.get_mut(i) {
            *slot = Some(value);
            self.set |= 1u128 << i;
        }
    }

    fn put_slot(&mut self, i: usize, value: Value) {
        let slot = &mut self.members[i];
        if slot.is_none() {
            self.member_count += 1;
        }
        *slot = Some(value);
    }

    /// Stores a member by its full name.
    fn put_member(&mut self, name: &str, value: Value) {
        if let Some(slot) = self.member_slot(name) {
            self.put_slot(slot.0 as usize, value);
            return;
        }
        match self.others.binary_search_by(|(known, _)| known.as_bytes().cmp(name.as_bytes())) {
            Ok(i) => self.others[i].1 = value,
            Err(i) => self.others.insert(i, (Text::new(name), value)),
        }
    }

    fn apply(&mut self, id: FieldId, outcome: Outcome) {
        match outcome {
            Outcome::Set(value) => self.put(id, value),
            Outcome::Remove if id == FieldId::EXTRA => {
                self.members.iter_mut().for_each(|slot| *slot = None);
                self.member_count = 0;
                self.others.clear();
            }
            Outcome::Remove => {
                let i = id.index();
                if let Some(slot) = self.fields.get_mut(i) {
                    *slot = None;
                    self.set &= !(1u128 << i);
                }
            }
            Outcome::Members(members) => {
                for (name, value) in members {
                    self.put_member(&name, value);
                }
            }
        }
    }
}
