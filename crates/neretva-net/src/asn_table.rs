//! Exact lookup of autonomous system numbers.

use std::collections::HashMap;
use std::fmt;

use crate::asn::Asn;
use crate::hash::BuildFxHasher;

/// A map from ASNs to values; an ASN may have several values, for instance
/// when two constituents claim it, kept in insertion order.
#[derive(Clone)]
pub struct AsnTable<V> {
    numbers: HashMap<Asn, Vec<V>, BuildFxHasher>,
}

impl<V> AsnTable<V> {
    /// Makes an empty table.
    pub fn new() -> Self {
        Self { numbers: HashMap::default() }
    }

    /// Adds an ASN and its value.
    pub fn insert(&mut self, asn: Asn, value: V) {
        self.numbers.entry(asn).or_default().push(value);
    }

    /// The values of the ASN, in insertion order; empty when it is not in
    /// the table.
    pub fn get(&self, asn: Asn) -> &[V] {
        self.numbers.get(&asn).map_or(&[], Vec::as_slice)
    }

    /// Whether the ASN has at least one value.
    pub fn contains(&self, asn: Asn) -> bool {
        self.numbers.contains_key(&asn)
    }

    /// Every ASN with each of its values, in ascending order of ASN.
    pub fn iter(&self) -> impl Iterator<Item = (Asn, &V)> {
        let mut numbers: Vec<_> = self.numbers.iter().collect();
        numbers.sort_unstable_by_key(|&(asn, _)| *asn);
        numbers.into_iter().flat_map(|(&asn, values)| values.iter().map(move |value| (asn, value)))
    }

    /// The number of distinct ASNs.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// Whether the table holds no ASN.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }
}

impl<V> Default for AsnTable<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: fmt::Debug> fmt::Debug for AsnTable<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> Extend<(Asn, V)> for AsnTable<V> {
    fn extend<I: IntoIterator<Item = (Asn, V)>>(&mut self, iter: I) {
        for (asn, value) in iter {
            self.insert(asn, value);
        }
    }
}

impl<V> FromIterator<(Asn, V)> for AsnTable<V> {
    fn from_iter<I: IntoIterator<Item = (Asn, V)>>(iter: I) -> Self {
        let mut table = Self::new();
        table.extend(iter);
        table
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    fn asn(text: &str) -> Asn {
        text.parse().unwrap()
    }

    #[test]
    fn keeps_every_owner() {
        let table: AsnTable<&str> =
            [(asn("AS64500"), "isp"), (asn("64496"), "cert"), (asn("as64500"), "university")]
                .into_iter()
                .collect();
        assert_eq!(table.get(asn("AS64500")), ["isp", "university"]);
        assert_eq!(table.get(asn("AS64497")), [] as [&str; 0]);
        assert!(table.contains(asn("AS64496")));
        assert!(!table.contains(asn("AS1")));
        assert_eq!(table.len(), 2);
        assert!(!table.is_empty());
        expect![[r#"{AS64496: "cert", AS64500: "isp", AS64500: "university"}"#]]
            .assert_eq(&format!("{table:?}"));
    }
}
