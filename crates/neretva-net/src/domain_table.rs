//! Most-specific-suffix match over domain names.

use std::collections::HashMap;
use std::fmt;
use std::mem::size_of;

use crate::domain::DomainName;
use crate::hash::BuildFxHasher;

/// A map from domain names to values that finds the registered names a name
/// lies under.
///
/// `mail.example.ba` matches a registered `example.ba` and a registered
/// `ba`, but not `ample.ba`. A lookup hashes the name and then each of its
/// ancestors, most specific first, skipping those with more labels than any
/// registered name.
///
/// The same name may be inserted several times, for instance when two
/// constituents claim it; the methods that return one value return the first
/// one inserted, and those that return an iterator yield every value, in
/// insertion order.
#[derive(Clone)]
pub struct DomainSuffixTable<V> {
    names: HashMap<DomainName, Vec<V>, BuildFxHasher>,
    /// The most labels of any registered name.
    max_labels: usize,
}

impl<V> DomainSuffixTable<V> {
    /// Makes an empty table.
    pub fn new() -> Self {
        Self { names: HashMap::default(), max_labels: 0 }
    }

    /// Adds a name and its value.
    pub fn insert(&mut self, name: DomainName, value: V) {
        self.max_labels = self.max_labels.max(name.label_count());
        self.names.entry(name).or_default().push(value);
    }

    /// The values of exactly this name, in insertion order; empty when it is
    /// not in the table.
    pub fn get(&self, name: &DomainName) -> &[V] {
        self.names.get(name).map_or(&[], Vec::as_slice)
    }

    /// The most specific registered name that `name` equals or lies under,
    /// with its first value.
    pub fn longest_match(&self, name: &DomainName) -> Option<(&DomainName, &V)> {
        let (registered, values) = self.longest_match_values(name)?;
        Some((registered, values.first()?))
    }

    /// The most specific registered name that `name` equals or lies under,
    /// with all its values.
    pub fn longest_match_values(&self, name: &DomainName) -> Option<(&DomainName, &[V])> {
        self.ancestors(name).next()
    }

    /// Every registered name that `name` equals or lies under, with each of
    /// its values, most specific first.
    pub fn all_matches(&self, name: &DomainName) -> impl Iterator<Item = (&DomainName, &V)> {
        self.ancestors(name)
            .flat_map(|(registered, values)| values.iter().map(move |value| (registered, value)))
    }

    /// Every name with each of its values, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&DomainName, &V)> {
        self.names.iter().flat_map(|(name, values)| values.iter().map(move |value| (name, value)))
    }

    /// The number of distinct names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the table holds no name.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The approximate heap bytes used by the table, not counting heap memory
    /// that the values themselves own.
    pub fn memory_bytes(&self) -> usize {
        let slots = self.names.capacity() * (size_of::<(DomainName, Vec<V>)>() + 1);
        let owned: usize = self
            .names
            .iter()
            .map(|(name, values)| name.as_str().len() + values.capacity() * size_of::<V>())
            .sum();
        slots + owned
    }

    /// The registered names among `name` and its ancestors, most specific
    /// first.
    fn ancestors<'a>(&'a self, name: &DomainName) -> impl Iterator<Item = (&'a DomainName, &'a [V])> {
        let too_deep = name.label_count().saturating_sub(self.max_labels);
        name.suffixes()
            .skip(too_deep)
            .filter_map(|suffix| self.names.get_key_value(suffix))
            .map(|(registered, values)| (registered, values.as_slice()))
    }
}

impl<V> Default for DomainSuffixTable<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: fmt::Debug> fmt::Debug for DomainSuffixTable<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> Extend<(DomainName, V)> for DomainSuffixTable<V> {
    fn extend<I: IntoIterator<Item = (DomainName, V)>>(&mut self, iter: I) {
        for (name, value) in iter {
            self.insert(name, value);
        }
    }
}

impl<V> FromIterator<(DomainName, V)> for DomainSuffixTable<V> {
    fn from_iter<I: IntoIterator<Item = (DomainName, V)>>(iter: I) -> Self {
        let mut table = Self::new();
        table.extend(iter);
        table
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn name(text: &str) -> DomainName {
        text.parse().unwrap()
    }

    fn sample() -> DomainSuffixTable<&'static str> {
        [
            ("ba", "registry"),
            ("example.ba", "example"),
            ("example.ba", "example-2"),
            ("cert.example.ba", "cert"),
            ("ample.ba", "ample"),
            ("gov.hr", "government"),
        ]
        .into_iter()
        .map(|(text, owner)| (name(text), owner))
        .collect()
    }

    #[track_caller]
    fn check(input: &str, expect: Expect) {
        let table = sample();
        let input = name(input);
        let longest = table.longest_match(&input).map(|(registered, owner)| format!("{registered} {owner}"));
        let all: Vec<String> =
            table.all_matches(&input).map(|(registered, owner)| format!("{registered} {owner}")).collect();
        expect.assert_eq(&format!("{longest:?} | {}", all.join(", ")));
    }

    #[test]
    fn matches_whole_labels_most_specific_first() {
        check(
            "mail.example.ba",
            expect![[
                r#"Some("example.ba example") | example.ba example, example.ba example-2, ba registry"#
            ]],
        );
        check(
            "Example.BA.",
            expect![[
                r#"Some("example.ba example") | example.ba example, example.ba example-2, ba registry"#
            ]],
        );
        check(
            "a.b.c.d.e.cert.example.ba",
            expect![[
                r#"Some("cert.example.ba cert") | cert.example.ba cert, example.ba example, example.ba example-2, ba registry"#
            ]],
        );
        check("sample.ba", expect![[r#"Some("ba registry") | ba registry"#]]);
        check("www.ample.ba", expect![[r#"Some("ample.ba ample") | ample.ba ample, ba registry"#]]);
        check("gov.rs", expect!["None | "]);
        check("hr", expect!["None | "]);
        check("ministry.gov.hr", expect![[r#"Some("gov.hr government") | gov.hr government"#]]);
    }

    #[test]
    fn exact_get_and_sizes() {
        let table = sample();
        assert_eq!(table.get(&name("example.ba")), ["example", "example-2"]);
        assert!(table.get(&name("mail.example.ba")).is_empty());
        assert_eq!(table.len(), 5);
        assert!(table.memory_bytes() > 0);
        assert_eq!(
            table.longest_match_values(&name("x.example.ba")),
            Some((&name("example.ba"), &["example", "example-2"][..]))
        );
        let empty = DomainSuffixTable::<u8>::default();
        assert!(empty.is_empty());
        assert_eq!(empty.longest_match(&name("example.ba")), None);
    }
}
