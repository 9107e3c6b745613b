//! Correlation of a new event against a large store (issue target: a 1,000-attribute event
//! against 1,000,000 stored attributes in under 50 ms).
//!
//! Run with `cargo bench -p neretva-intel --bench correlate`. The index holds 1,000,000
//! pseudo-random attribute values in 10,000 events (40% IPv4 addresses, 5% networks, 20%
//! domains, 15% URLs, 20% SHA-256 hashes); the new event has 1,000 attributes of the same mix,
//! half of them values already stored (so links are found), the rest new. Building the index is
//! setup, printed once to standard error, and not measured.

use std::hint::black_box;
use std::sync::LazyLock;
use std::time::Instant;

use divan::Bencher;
use divan::counter::ItemsCount;
use neretva_intel::correlate::{CorrelationIndex, Item, Source, SourceKind};
use neretva_intel::warninglist::WarningLists;
use uuid::Uuid;

const STORED: usize = 1_000_000;
const NEW: usize = 1_000;

fn main() {
    divan::main();
}

/// Marsaglia's xorshift64*, enough for reproducible benchmark data.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The `n`-th value of the mix, as (MISP type, canonical value).
fn value(n: u64, random: &mut XorShift) -> (&'static str, String) {
    let r = random.next();
    match n % 20 {
        0..=7 => {
            let address = std::net::Ipv4Addr::from(0x2d00_0000u32.wrapping_add((r % 0x4000_0000) as u32));
            ("ip-dst", address.to_string())
        }
        8 => {
            let network = (0x5b00_0000u32.wrapping_add((r % 0x0100_0000) as u32)) & 0xffff_ff00;
            ("ip-src", format!("{}/24", std::net::Ipv4Addr::from(network)))
        }
        9..=12 => ("domain", format!("h{:x}.example-{}.info", r % 50_000_000, r % 97)),
        13..=15 => ("url", format!("http://u{:x}.example-{}.biz/p/{}", r % 50_000_000, r % 89, r % 1000)),
        _ => ("sha256", format!("{:016x}{:016x}{:016x}{:016x}", r, r ^ 0x55, r.rotate_left(7), n)),
    }
}

struct Data {
    index: CorrelationIndex,
    new: Vec<(Source, &'static str, String)>,
    warninglists: WarningLists,
}

static DATA: LazyLock<Data> = LazyLock::new(|| {
    let start = Instant::now();
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut index = CorrelationIndex::default();
    let mut stored = Vec::with_capacity(NEW / 2);
    for n in 0..STORED as u64 {
        let (attr_type, text) = value(n, &mut random);
        let source = Source {
            kind: SourceKind::IntelAttribute,
            parent: Uuid::from_u128(u128::from(n / 100)),
            id: Uuid::from_u128((u128::from(n) + 1) << 64),
        };
        index.insert(Item { source, attr_type, value: &text });
        if n % (STORED as u64 / (NEW as u64 / 2)) == 0 {
            stored.push((attr_type, text));
        }
    }
    let parent = Uuid::from_u128(u128::MAX);
    let mut new = Vec::with_capacity(NEW);
    for (n, (attr_type, text)) in stored.into_iter().enumerate() {
        new.push((
            Source { kind: SourceKind::IntelAttribute, parent, id: Uuid::from_u128(n as u128) },
            attr_type,
            text,
        ));
    }
    let mut fresh = XorShift(0x1234_5678);
    while new.len() < NEW {
        let n = new.len() as u64 + 7_000_000;
        let (attr_type, text) = value(n, &mut fresh);
        new.push((
            Source { kind: SourceKind::IntelAttribute, parent, id: Uuid::from_u128(u128::from(n)) },
            attr_type,
            text,
        ));
    }
    eprintln!("index of {} values built in {:.1?}", index.len(), start.elapsed());
    Data { index, new, warninglists: WarningLists::default() }
});

/// One 1,000-attribute event correlated against the 1,000,000-value index.
#[divan::bench(sample_count = 20)]
fn event_of_1000_against_1000000(bencher: Bencher<'_, '_>) {
    let data = &*DATA;
    let items: Vec<Item<'_>> = data
        .new
        .iter()
        .map(|(source, attr_type, text)| Item { source: *source, attr_type, value: text })
        .collect();
    let check = data.index.correlate(&items, &data.warninglists);
    eprintln!(
        "{} links, {} over-correlating, {} warning-listed",
        check.links.len(),
        check.over_correlating.len(),
        check.warninglisted.len()
    );
    bencher
        .counter(ItemsCount::new(NEW))
        .bench(|| black_box(data.index.correlate(black_box(&items), &data.warninglists)));
}
