//! Synthetic shared intelligence of `events_latency --web --intel N`: MISP events read by
//! Neretva's own MISP JSON reader and stored through `Store::create_intel_event` (which
//! correlates each on write), so the sharing pages list, filter and correlate a realistic set.
//!
//! Deterministic (fixed xorshift seed): `ATTRIBUTES` attributes per event (addresses, domains,
//! URLs, SHA-256 hashes and e-mail addresses, a fifth of them from a pool of 2,000 values that
//! recur across events), TLP CLEAR 20 %, GREEN 40 %, AMBER 30 %, RED 10 %, distribution "this
//! community" or wider for 80 %, owned by the operating CERT (60 %) or one of the
//! organisations, dated over the 120 days before 2026-11-28.

use std::fmt::Write as _;
use std::time::Instant;

use neretva_intel::misp::{self, ImportContext, Limits};
use neretva_intel::model::OrgRef;
use neretva_model::Uuid;
use neretva_store::intel::IntelEventQuery;
use neretva_store::{Actor, Store};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::rng::Rng;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const SEED: u64 = 0x696E_7465_6C21_0001;
const END: OffsetDateTime = datetime!(2026-11-28 00:00 UTC);
const DAYS: u64 = 120;
/// Attributes per event.
pub(crate) const ATTRIBUTES: usize = 50;
/// The info of every event of this data set begins with this.
const INFO_PREFIX: &str = "Bench intel";

/// The intel events of this data set the store holds.
pub(crate) async fn count_intel(store: &dyn Store) -> Result<usize> {
    let mut count = 0;
    let mut query =
        IntelEventQuery { text: Some(INFO_PREFIX.to_owned()), limit: 1_000, ..IntelEventQuery::default() };
    loop {
        let page = store.list_intel_events(&query).await?;
        count += page.len();
        let Some(last) = page.last() else { return Ok(count) };
        query.before = Some(last.seq);
    }
}

/// An attribute value: numbers below 2,000 are the pool's values that recur across events.
fn value(n: u64) -> (&'static str, &'static str, String) {
    match n % 5 {
        0 => (
            "ip-dst",
            "Network activity",
            format!("{}.{}.{}.{}", 31 + (n >> 16) % 180, (n >> 8) % 256, n % 256, 1 + n % 250),
        ),
        1 => ("domain", "Network activity", format!("c2-{n}.threat{}.example", n % 40)),
        2 => ("url", "Network activity", format!("https://drop{n}.example/payload/{}", n % 89)),
        3 => (
            "sha256",
            "Payload delivery",
            format!("{:016x}{:016x}{:016x}{:016x}", n, n ^ 0x5555, n.wrapping_mul(31), n.rotate_left(17)),
        ),
        _ => ("email-src", "Payload delivery", format!("sender{n}@spam{}.example", n % 120)),
    }
}

/// The MISP JSON of event `index`.
fn event_json(index: usize, owner: &OrgRef) -> String {
    let mut rng = Rng::new(SEED ^ index as u64);
    let day = END - time::Duration::days(rng.below(DAYS) as i64);
    let timestamp = day.unix_timestamp();
    let tlp = match rng.below(100) {
        0..=19 => "clear",
        20..=59 => "green",
        60..=89 => "amber",
        _ => "red",
    };
    let distribution = if rng.percent(80) { 1 + rng.below(3) } else { 0 };
    let uuid = Uuid::from_u128((u128::from(SEED) << 64) | index as u128);
    let mut attributes = String::new();
    for n in 0..ATTRIBUTES {
        let serial =
            if rng.percent(20) { rng.below(2_000) } else { 1_000_000 + (index * ATTRIBUTES + n) as u64 };
        let (kind, category, text) = value(serial);
        let attribute = Uuid::from_u128((u128::from(SEED ^ 0xA77) << 64) | (index * ATTRIBUTES + n) as u128);
        let _ = write!(
            attributes,
            r#"{}{{"uuid":"{attribute}","type":"{kind}","category":"{category}","value":"{text}","to_ids":{},"distribution":"5","timestamp":"{timestamp}","comment":""}}"#,
            if n > 0 { "," } else { "" },
            rng.percent(70)
        );
    }
    format!(
        r#"{{"Event":{{"uuid":"{uuid}","info":"{INFO_PREFIX} {index}: campaign {} against {}","date":"{}","threat_level_id":"{}","analysis":"{}","distribution":"{distribution}","published":true,"timestamp":"{timestamp}","publish_timestamp":"{timestamp}","Orgc":{{"uuid":"{}","name":"{}"}},"Tag":[{{"name":"tlp:{tlp}"}}],"Attribute":[{attributes}]}}}}"#,
        rng.below(400),
        ["energy", "banking", "telecoms", "health", "government"][rng.below(5) as usize],
        misp::format_date(day.date()),
        1 + rng.below(4),
        rng.below(3),
        owner.uuid,
        owner.name,
    )
}

/// Stores events `from..total`; the operating CERT owns 60 % of them, the organisations the rest.
pub(crate) async fn load(
    store: &dyn Store,
    operator: &OrgRef,
    orgs: &[OrgRef],
    from: usize,
    total: usize,
) -> Result<()> {
    let actor = Actor("bench:intel_data".into());
    let started = Instant::now();
    for index in from..total {
        let owner = if index % 5 < 3 { operator } else { &orgs[index % orgs.len()] };
        let context = ImportContext { now: END, default_org: Some(owner.clone()) };
        let imported = misp::parse(&event_json(index, owner), &context, &Limits::default())?;
        if let Some(problem) = imported.problems.first() {
            return Err(format!("generated intel event {index}: {problem}").into());
        }
        for event in &imported.events {
            store.create_intel_event(&actor, owner.uuid, event).await?;
        }
        if (index + 1).is_multiple_of(500) || index + 1 == total {
            eprintln!(
                "loaded {} intel events ({:.0} events/s, {} attributes each)",
                index + 1,
                (index + 1 - from) as f64 / started.elapsed().as_secs_f64().max(1e-9),
                ATTRIBUTES
            );
        }
    }
    Ok(())
}
