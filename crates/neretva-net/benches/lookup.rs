//! Lookup throughput of the constituency tables.
//!
//! Run with `cargo bench -p neretva-net --bench lookup`. The prefix table
//! holds 1,000,000 pseudo-random networks (700,000 IPv4, 300,000 IPv6, some
//! nested); each benchmark looks up a fixed batch of addresses, half of them
//! inside a stored network and half drawn at random, so divan's item
//! throughput is lookups per second on one core: one `longest_match` call
//! per address, or one `longest_match_many` call per batch. Build time and
//! memory are printed once to standard error.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;
use std::time::Instant;

use divan::Bencher;
use divan::counter::ItemsCount;
use neretva_net::{Cidr, DomainName, DomainSuffixTable, PrefixTable, PrefixTableBuilder};

const V4_PREFIXES: usize = 700_000;
const V6_PREFIXES: usize = 300_000;
const DOMAINS: usize = 100_000;
/// Addresses or names looked up per benchmark iteration: enough that the
/// lookups spread over the whole table rather than a cached corner of it.
const BATCH: usize = 1 << 18;
const TLDS: [&str; 8] = ["ba", "hr", "rs", "me", "si", "com", "org", "eu"];

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

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn between(&mut self, low: u8, high: u8) -> u8 {
        low + self.below(u64::from(high - low) + 1) as u8
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn wide(&mut self) -> u128 {
        (u128::from(self.next()) << 64) | u128::from(self.next())
    }
}

/// A prefix length with roughly the shape of a global IPv4 routing table:
/// mostly /24, then /16 to /23, and a few short prefixes.
fn v4_len(rng: &mut XorShift) -> u8 {
    match rng.below(1000) {
        0..2 => rng.between(8, 15),
        2..200 => rng.between(16, 21),
        200..400 => rng.between(22, 23),
        400..900 => 24,
        _ => rng.between(25, 32),
    }
}

/// An IPv6 prefix length weighted toward /32 to /48.
fn v6_len(rng: &mut XorShift) -> u8 {
    match rng.below(100) {
        0..5 => rng.between(16, 31),
        5..20 => 32,
        20..45 => rng.between(33, 47),
        45..85 => 48,
        _ => rng.between(49, 64),
    }
}

fn cidr(address: IpAddr, len: u8) -> Cidr {
    Cidr::truncating(address, len).expect("prefix length within range")
}

/// Makes `count` networks of one family; 15 in 100 are more specifics of
/// an earlier network, so the table has nesting beyond chance overlaps.
fn networks(
    rng: &mut XorShift,
    count: usize,
    random_address: fn(&mut XorShift) -> IpAddr,
    random_len: fn(&mut XorShift) -> u8,
) -> Vec<Cidr> {
    let mut networks: Vec<Cidr> = Vec::with_capacity(count);
    while networks.len() < count {
        let network = if !networks.is_empty() && rng.chance(15) {
            let outer = networks[rng.below(networks.len() as u64) as usize];
            let len = (outer.prefix_len() + rng.between(1, 8)).min(outer.max_prefix_len());
            cidr(inside(rng, &outer), len)
        } else {
            cidr(random_address(rng), random_len(rng))
        };
        networks.push(network);
    }
    networks
}

/// A random unicast IPv4 address, 1.0.0.0 to 223.255.255.255.
fn random_v4(rng: &mut XorShift) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from((0x0100_0000 + rng.below(0xdf00_0000)) as u32))
}

/// A random global unicast IPv6 address, in 2000::/3.
fn random_v6(rng: &mut XorShift) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from((rng.wide() >> 3) | (1 << 125)))
}

/// A random address inside `network`.
fn inside(rng: &mut XorShift, network: &Cidr) -> IpAddr {
    let host_bits = network.max_prefix_len() - network.prefix_len();
    match network.network() {
        IpAddr::V4(base) => {
            let host = u32::try_from(rng.next() >> 32).expect("32 bits");
            let mask = u32::MAX.checked_shr(32 - u32::from(host_bits)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(base) | (host & mask)))
        }
        IpAddr::V6(base) => {
            let mask = u128::MAX.checked_shr(128 - u32::from(host_bits)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(base) | (rng.wide() & mask)))
        }
    }
}

/// Half addresses inside a random stored network, half random addresses of
/// the same family.
fn addresses(
    rng: &mut XorShift,
    count: usize,
    networks: &[Cidr],
    random_address: fn(&mut XorShift) -> IpAddr,
) -> Vec<IpAddr> {
    (0..count)
        .map(|_| {
            if rng.chance(50) {
                let network = networks[rng.below(networks.len() as u64) as usize];
                inside(rng, &network)
            } else {
                random_address(rng)
            }
        })
        .collect()
}

struct Prefixes {
    entries: Vec<(Cidr, u32)>,
    table: PrefixTable<u32>,
    mixed: Vec<IpAddr>,
    v4: Vec<IpAddr>,
    v6: Vec<IpAddr>,
}

static PREFIXES: LazyLock<Prefixes> = LazyLock::new(|| {
    let mut rng = XorShift(0x6e65_7265_7476_6121);
    let v4_networks = networks(&mut rng, V4_PREFIXES, random_v4, v4_len);
    let v6_networks = networks(&mut rng, V6_PREFIXES, random_v6, v6_len);
    let entries: Vec<(Cidr, u32)> =
        v4_networks.iter().chain(&v6_networks).zip(0..).map(|(&network, owner)| (network, owner)).collect();

    let started = Instant::now();
    let table = entries.iter().copied().collect::<PrefixTableBuilder<u32>>().build();
    let build_time = started.elapsed();

    let v4 = addresses(&mut rng, BATCH, &v4_networks, random_v4);
    let v6 = addresses(&mut rng, BATCH, &v6_networks, random_v6);
    let mixed: Vec<IpAddr> = (0..BATCH).map(|i| if rng.chance(70) { v4[i] } else { v6[i] }).collect();

    let hit_rate = |batch: &[IpAddr]| {
        let hits = batch.iter().filter(|&&a| table.longest_match(a).is_some()).count();
        100.0 * hits as f64 / batch.len() as f64
    };
    let depth = |batch: &[IpAddr]| {
        let matches: usize = batch.iter().map(|&a| table.all_matches(a).count()).sum();
        matches as f64 / batch.len() as f64
    };
    let memory = table.memory_bytes();
    eprintln!(
        "prefix table: {} entries, {} distinct prefixes ({} IPv4, {} IPv6)",
        entries.len(),
        table.len(),
        table.iter().filter(|(c, _)| c.is_ipv4()).count(),
        table.iter().filter(|(c, _)| c.is_ipv6()).count(),
    );
    eprintln!("prefix table: build {:.3} s", build_time.as_secs_f64());
    eprintln!(
        "prefix table: memory {:.1} MiB, {:.1} bytes per distinct prefix",
        memory as f64 / (1024.0 * 1024.0),
        memory as f64 / table.len() as f64
    );
    eprintln!(
        "prefix table: hit rate mixed {:.1}%, IPv4 {:.1}%, IPv6 {:.1}%; mean covering prefixes per address mixed {:.2}",
        hit_rate(&mixed),
        hit_rate(&v4),
        hit_rate(&v6),
        depth(&mixed),
    );
    Prefixes { entries, table, mixed, v4, v6 }
});

fn longest_match_batch(bencher: Bencher<'_, '_>, batch: fn(&Prefixes) -> &[IpAddr]) {
    let prefixes = &*PREFIXES;
    let table = &prefixes.table;
    let batch = batch(prefixes);
    bencher.counter(ItemsCount::new(batch.len())).bench(|| {
        let mut sum = 0u32;
        for &address in batch {
            if let Some((_, &owner)) = table.longest_match(black_box(address)) {
                sum = sum.wrapping_add(owner);
            }
        }
        sum
    });
}

#[divan::bench]
fn prefix_longest_match_mixed(bencher: Bencher<'_, '_>) {
    longest_match_batch(bencher, |p| &p.mixed);
}

#[divan::bench]
fn prefix_longest_match_ipv4(bencher: Bencher<'_, '_>) {
    longest_match_batch(bencher, |p| &p.v4);
}

#[divan::bench]
fn prefix_longest_match_ipv6(bencher: Bencher<'_, '_>) {
    longest_match_batch(bencher, |p| &p.v6);
}

fn longest_match_many_batch(bencher: Bencher<'_, '_>, batch: fn(&Prefixes) -> &[IpAddr]) {
    let prefixes = &*PREFIXES;
    let table = &prefixes.table;
    let batch = batch(prefixes);
    let mut results = Vec::with_capacity(batch.len());
    bencher.counter(ItemsCount::new(batch.len())).bench_local(|| {
        table.longest_match_many(black_box(batch), &mut results);
        results.iter().flatten().fold(0u32, |sum, &(_, &owner)| sum.wrapping_add(owner))
    });
}

#[divan::bench]
fn prefix_longest_match_many_mixed(bencher: Bencher<'_, '_>) {
    longest_match_many_batch(bencher, |p| &p.mixed);
}

#[divan::bench]
fn prefix_longest_match_many_ipv4(bencher: Bencher<'_, '_>) {
    longest_match_many_batch(bencher, |p| &p.v4);
}

#[divan::bench]
fn prefix_longest_match_many_ipv6(bencher: Bencher<'_, '_>) {
    longest_match_many_batch(bencher, |p| &p.v6);
}

#[divan::bench]
fn prefix_all_matches_mixed(bencher: Bencher<'_, '_>) {
    let prefixes = &*PREFIXES;
    let table = &prefixes.table;
    bencher.counter(ItemsCount::new(prefixes.mixed.len())).bench(|| {
        let mut sum = 0u32;
        for &address in &prefixes.mixed {
            for (_, &owner) in table.all_matches(black_box(address)) {
                sum = sum.wrapping_add(owner);
            }
        }
        sum
    });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn prefix_build(bencher: Bencher<'_, '_>) {
    let entries = &PREFIXES.entries;
    bencher
        .counter(ItemsCount::new(entries.len()))
        .with_inputs(|| entries.iter().copied().collect::<PrefixTableBuilder<u32>>())
        .bench_values(|builder| builder.build());
}

struct Domains {
    table: DomainSuffixTable<u32>,
    names: Vec<DomainName>,
    texts: Vec<String>,
}

fn label(rng: &mut XorShift) -> String {
    let len = rng.between(3, 12);
    (0..len).map(|_| char::from(b'a' + rng.below(26) as u8)).collect()
}

fn registered_name(rng: &mut XorShift) -> String {
    let tld = TLDS[rng.below(TLDS.len() as u64) as usize];
    if rng.chance(15) {
        format!("{}.{}.{tld}", label(rng), label(rng))
    } else {
        format!("{}.{tld}", label(rng))
    }
}

static DOMAINS_FIXTURE: LazyLock<Domains> = LazyLock::new(|| {
    let mut rng = XorShift(0x646f_6d61_696e_7321);
    let registered: Vec<String> = (0..DOMAINS).map(|_| registered_name(&mut rng)).collect();
    let started = Instant::now();
    let table: DomainSuffixTable<u32> = registered
        .iter()
        .zip(0..)
        .map(|(text, owner)| (text.parse().expect("generated names are valid"), owner))
        .collect();
    let build_time = started.elapsed();
    let texts: Vec<String> = (0..BATCH)
        .map(|_| {
            if rng.chance(50) {
                let zone = &registered[rng.below(registered.len() as u64) as usize];
                match rng.below(3) {
                    0 => zone.clone(),
                    1 => format!("www.{zone}"),
                    _ => format!("{}.mail.{zone}", label(&mut rng)),
                }
            } else {
                format!("{}.{}", label(&mut rng), registered_name(&mut rng))
            }
        })
        .collect();
    let names: Vec<DomainName> =
        texts.iter().map(|text| text.parse().expect("generated names are valid")).collect();
    let hits = names.iter().filter(|name| table.longest_match(name).is_some()).count();
    eprintln!(
        "domain table: {} names, build {:.3} s (parsing included), memory {:.1} MiB, {:.1} bytes per name, hit rate {:.1}%",
        table.len(),
        build_time.as_secs_f64(),
        table.memory_bytes() as f64 / (1024.0 * 1024.0),
        table.memory_bytes() as f64 / table.len() as f64,
        100.0 * hits as f64 / names.len() as f64,
    );
    Domains { table, names, texts }
});

#[divan::bench]
fn domain_longest_match(bencher: Bencher<'_, '_>) {
    let domains = &*DOMAINS_FIXTURE;
    bencher.counter(ItemsCount::new(domains.names.len())).bench(|| {
        let mut sum = 0u32;
        for name in &domains.names {
            if let Some((_, &owner)) = domains.table.longest_match(black_box(name)) {
                sum = sum.wrapping_add(owner);
            }
        }
        sum
    });
}

#[divan::bench]
fn domain_parse_and_longest_match(bencher: Bencher<'_, '_>) {
    let domains = &*DOMAINS_FIXTURE;
    bencher.counter(ItemsCount::new(domains.texts.len())).bench(|| {
        let mut sum = 0u32;
        for text in &domains.texts {
            let name: DomainName = black_box(text).parse().expect("valid name");
            if let Some((_, &owner)) = domains.table.longest_match(&name) {
                sum = sum.wrapping_add(owner);
            }
        }
        sum
    });
}
