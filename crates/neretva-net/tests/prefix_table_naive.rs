//! Compares `PrefixTable` with a linear scan over random IPv4 and IPv6
//! prefix sets that are full of nested and repeated networks.

use std::cmp::Reverse;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use neretva_net::{Cidr, PrefixTable, PrefixTableBuilder};
use proptest::prelude::*;

/// Leading bits that random networks share, so that they nest and repeat.
const V4_BASES: [u32; 4] = [0x0a00_0000, 0xc000_0200, 0, u32::MAX];
const V6_BASES: [u128; 4] = [0x2001_0db8 << 96, 0x2a02_0000_1234 << 80, 0, u128::MAX];

/// Blueprint of a network: which base, random bits, whether to zero most of
/// the random bits, the prefix length and the family.
type Blueprint = (usize, u128, bool, u8, bool);

fn blueprint() -> impl Strategy<Value = Blueprint> {
    (0..4usize, any::<u128>(), any::<bool>(), any::<u8>(), any::<bool>())
}

/// An address near one of the bases: the random bits flip the low bits of the
/// base, or only a few of them when `sparse` is set.
fn address((base, bits, sparse, _, v6): Blueprint) -> IpAddr {
    if v6 {
        let noise = if sparse { bits & 0xff00_0000_0000_0000_00ff } else { bits >> 8 };
        IpAddr::V6(Ipv6Addr::from(V6_BASES[base] ^ noise))
    } else {
        let bits = bits as u32;
        let noise = if sparse { bits & 0x00f0_000f } else { bits >> 8 };
        IpAddr::V4(Ipv4Addr::from(V4_BASES[base] ^ noise))
    }
}

fn network(blueprint: Blueprint) -> Cidr {
    let address = address(blueprint);
    let max = if address.is_ipv4() { 33 } else { 129 };
    Cidr::truncating(address, blueprint.3 % max).expect("length within range")
}

/// The networks of the table: random ones, then repeats of some of them with
/// other values.
fn entries() -> impl Strategy<Value = Vec<(Cidr, u32)>> {
    (prop::collection::vec(blueprint(), 0..80), prop::collection::vec(any::<prop::sample::Index>(), 0..10))
        .prop_map(|(blueprints, repeats)| {
            let mut networks: Vec<Cidr> = blueprints.into_iter().map(network).collect();
            if !networks.is_empty() {
                let repeated: Vec<Cidr> = repeats.iter().map(|i| *i.get(&networks)).collect();
                networks.extend(repeated);
            }
            networks.into_iter().zip(0..).collect()
        })
}

/// Addresses to look up: random ones near the bases, plus the first and last
/// address of every network and one address inside each.
fn queries(entries: &[(Cidr, u32)], random: &[Blueprint]) -> Vec<IpAddr> {
    let mut queries: Vec<IpAddr> = random.iter().copied().map(address).collect();
    for (i, (cidr, _)) in entries.iter().enumerate() {
        queries.push(cidr.network());
        queries.push(cidr.last());
        let inside =
            Cidr::truncating(address(random[i % random.len()]), cidr.prefix_len()).map(|c| c.last()).ok();
        queries.extend(inside.filter(|&a| cidr.contains(a)));
    }
    queries
}

fn build(entries: &[(Cidr, u32)]) -> PrefixTable<u32> {
    let mut builder = PrefixTableBuilder::new();
    for &(cidr, value) in entries {
        builder.insert(cidr, value);
    }
    builder.build()
}

/// Sorts most specific first, keeping insertion order among repeats of one
/// network (two different networks of one length cannot both match).
fn most_specific_first(mut matches: Vec<(Cidr, u32)>) -> Vec<(Cidr, u32)> {
    matches.sort_by_key(|(cidr, _)| Reverse(cidr.prefix_len()));
    matches
}

fn naive_all_matches(entries: &[(Cidr, u32)], address: IpAddr) -> Vec<(Cidr, u32)> {
    most_specific_first(entries.iter().copied().filter(|(cidr, _)| cidr.contains(address)).collect())
}

fn owned<'a>(matches: impl Iterator<Item = (Cidr, &'a u32)>) -> Vec<(Cidr, u32)> {
    matches.map(|(cidr, &value)| (cidr, value)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn lookups_agree_with_a_linear_scan(
        entries in entries(),
        random in prop::collection::vec(blueprint(), 1..40),
    ) {
        let table = build(&entries);
        let queries = queries(&entries, &random);
        let mut batch = Vec::new();
        table.longest_match_many(&queries, &mut batch);
        prop_assert_eq!(batch.len(), queries.len());
        for (&address, &batched) in queries.iter().zip(&batch) {
            let expected = naive_all_matches(&entries, address);
            let longest = table.longest_match(address).map(|(cidr, &value)| (cidr, value));
            prop_assert_eq!(longest, expected.first().copied(), "longest match of {}", address);
            let batched = batched.map(|(cidr, &value)| (cidr, value));
            prop_assert_eq!(batched, longest, "batched longest match of {}", address);
            prop_assert_eq!(
                owned(table.all_matches(address)),
                expected,
                "all matches of {}",
                address
            );
        }
    }

    #[test]
    fn overlaps_agree_with_a_linear_scan(
        entries in entries(),
        random in prop::collection::vec(blueprint(), 1..20),
    ) {
        let table = build(&entries);
        let probes = entries
            .iter()
            .map(|&(cidr, _)| cidr)
            .chain(random.into_iter().map(network));
        for probe in probes {
            let covering = most_specific_first(
                entries.iter().copied().filter(|(cidr, _)| cidr.contains_cidr(&probe)).collect(),
            );
            prop_assert_eq!(owned(table.covering(&probe)), covering, "covering {}", probe);

            let mut covered: Vec<(Cidr, u32)> =
                entries.iter().copied().filter(|(cidr, _)| probe.contains_cidr(cidr)).collect();
            covered.sort_by_key(|&(cidr, _)| cidr);
            prop_assert_eq!(owned(table.covered_by(&probe)), covered, "covered by {}", probe);

            let exact: Vec<u32> = entries
                .iter()
                .filter(|(cidr, _)| *cidr == probe)
                .map(|&(_, value)| value)
                .collect();
            let values: Vec<u32> = table.get(&probe).copied().collect();
            prop_assert_eq!(values, exact, "values of {}", probe);
        }
    }

    #[test]
    fn iteration_is_sorted_and_complete(entries in entries()) {
        let table = build(&entries);
        let mut sorted = entries.clone();
        sorted.sort_by_key(|&(cidr, _)| cidr);
        prop_assert_eq!(owned(table.iter()), sorted);
        prop_assert_eq!(table.value_count(), entries.len());
        let mut distinct: Vec<Cidr> = entries.iter().map(|&(cidr, _)| cidr).collect();
        distinct.sort();
        distinct.dedup();
        prop_assert_eq!(table.len(), distinct.len());
    }
}
