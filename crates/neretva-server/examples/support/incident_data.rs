//! Synthetic incidents of the benchmark examples (`incidents_latency`, and `events_latency
//! --web --incidents N`): deterministic (fixed xorshift seed), loaded through
//! `Store::write_incidents` in batches of 200, each incident with its playbook's tasks, its
//! timeline and its observables, some of which recur across incidents.

use std::time::Instant;

use neretva_incident::classification::RsitClass;
use neretva_incident::deadline::{DeadlineConfig, DeadlineInput, Submission};
use neretva_incident::evidence::Sha256;
use neretva_incident::incident::{Incident, IncidentDraft, IncidentSource, Severity};
use neretva_incident::observable::{Observable, ObservableEntry, ObservableKind};
use neretva_incident::playbook::seed_tasks;
use neretva_incident::report::StageKind;
use neretva_incident::workflow::Status;
use neretva_model::Uuid;
use neretva_model::tlp::{Pap, Tlp};
use neretva_store::incidents::{IncidentCursor, IncidentQuery, IncidentWrite, ObservableWrite};
use neretva_store::{Actor, Store};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::rng::Rng;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const SEED: u64 = 0x696E_6369_6465_6E74;
const BATCH: usize = 200;
/// The newest creation time, and how far back creation times reach.
const END: OffsetDateTime = datetime!(2026-11-28 00:00 UTC);
const DAYS: i64 = 120;

const WORDS: &[&str] = &[
    "phishing",
    "ransomware",
    "scanning",
    "defacement",
    "botnet",
    "credential",
    "leak",
    "outage",
    "malware",
    "intrusion",
    "exfiltration",
    "spam",
    "ddos",
    "vulnerable",
    "webshell",
    "supply-chain",
];

pub(crate) async fn count_incidents(store: &dyn Store) -> Result<usize> {
    let mut query = IncidentQuery { limit: 10_000, ..IncidentQuery::default() };
    let mut count = 0;
    loop {
        let page = store.list_incidents(&query).await?;
        count += page.len();
        let Some(last) = page.last() else { return Ok(count) };
        query.after = Some(IncidentCursor { id: last.incident.id, next_due: None });
        if page.len() < 10_000 {
            return Ok(count);
        }
    }
}

/// An observable of the pool: numbers below 2,000 are the values that recur across incidents.
pub(crate) fn pool_value(n: u64) -> Observable {
    let (kind, value) = match n % 5 {
        0 => (
            ObservableKind::Ipv4,
            format!("{}.{}.{}.{}", 31 + (n >> 16) % 180, (n >> 8) % 256, n % 256, 1 + n % 250),
        ),
        1 => (ObservableKind::Domain, format!("host{n}.{}.example", WORDS[(n % 16) as usize])),
        2 => (ObservableKind::Sha256, Sha256::of(&n.to_be_bytes()).to_string()),
        3 => (ObservableKind::Url, format!("https://site{n}.example/login/{}", n % 97)),
        _ => (ObservableKind::Email, format!("user{n}@mail{}.example", n % 300)),
    };
    Observable::parse(kind, &value).unwrap_or_else(|error| panic!("generated observable {value}: {error}"))
}

/// An incident's observable: a recurring one 30 % of the time, else a fresh one.
fn observable(rng: &mut Rng, serial: u64) -> Observable {
    if rng.percent(30) { pool_value(rng.below(2_000)) } else { pool_value(1_000_000 + serial) }
}

fn generate(rng: &mut Rng, index: usize, orgs: &[Uuid], per_incident: usize) -> IncidentWrite {
    let classes: Vec<RsitClass> = RsitClass::all().collect();
    let created = END - time::Duration::seconds((rng.below((DAYS * 86_400) as u64)) as i64);
    let org = *rng.pick(orgs);
    let words = [*rng.pick(WORDS), *rng.pick(WORDS), *rng.pick(WORDS)];
    let mut draft = IncidentDraft::titled(format!(
        "{} {} at organisation {} ({index})",
        words[0],
        words[1],
        org.as_u128() % 1000
    ));
    draft.description = format!(
        "Reported {}: {} observed against {} systems; {} follow-up pending. {}",
        words[2],
        words[0],
        words[1],
        words[2],
        "Details and logs are attached as evidence; the constituent keeps us informed. ".repeat(3)
    );
    draft.classification = *rng.pick(&classes);
    draft.severity = *rng.pick(&Severity::ALL);
    draft.tlp = match rng.below(100) {
        0..=4 => Tlp::Clear,
        5..=14 => Tlp::Green,
        15..=34 => Tlp::Amber,
        _ => Tlp::AmberStrict,
    };
    draft.pap = Pap::Amber;
    draft.reporter_org = Some(org);
    draft.affected_orgs = vec![org];
    let aware = rng.percent(60).then(|| created - time::Duration::hours(rng.below(48) as i64));
    draft.aware_at = aware;
    let id = Uuid::now_v7();
    let (mut incident, entry) = Incident::open(id, draft, IncidentSource::Analyst, None, created)
        .unwrap_or_else(|errors| panic!("generated incident: {errors:?}"));
    let steps: &[Status] = match rng.below(100) {
        0..=19 => &[],
        20..=34 => &[Status::Triage],
        35..=64 => &[Status::Triage, Status::InProgress],
        65..=84 => &[Status::Triage, Status::InProgress, Status::Resolved],
        _ => &[Status::Triage, Status::InProgress, Status::Resolved, Status::Closed],
    };
    let mut timeline = vec![entry];
    let mut at = created;
    for status in steps {
        at += time::Duration::hours(1 + rng.below(72) as i64);
        timeline.extend(incident.transition(*status, None, at.min(END)).ok());
    }
    let tasks = seed_tasks(id, incident.classification, created, Uuid::now_v7);
    let mut write = IncidentWrite::new(incident.clone(), None, "incident.create");
    if let Some(aware) = aware {
        let mut input = DeadlineInput::aware_at(aware);
        if rng.percent(70) {
            input.submissions.push(Submission {
                stage: StageKind::EarlyWarning,
                at: aware + time::Duration::hours(rng.below(30) as i64),
            });
        }
        input.handling_ended_at = incident.resolved_at.or(incident.closed_at);
        write.next_due = neretva_server::incidents::next_due(Some(&input), &DeadlineConfig::default(), END);
        write.deadlines = Some(input);
    }
    write.timeline = timeline;
    write.tasks = tasks;
    let mut seen = Vec::new();
    let mut serial = 0;
    while seen.len() < per_incident {
        // Fresh values are numbered apart per incident, so every incident gets `per_incident`.
        let observable = observable(rng, (index * per_incident * 4 + serial) as u64);
        serial += 1;
        if seen.contains(&observable) {
            continue;
        }
        seen.push(observable.clone());
        let entry = ObservableEntry {
            observable,
            ioc: rng.percent(80),
            note: None,
            added_by: None,
            added_at: created,
        };
        write.observables.push(ObservableWrite { entry, matches: None });
    }
    write
}

pub(crate) async fn load(
    store: &dyn Store,
    orgs: &[Uuid],
    from: usize,
    total: usize,
    per_incident: usize,
) -> Result<()> {
    let actor = Actor("bench:incident_data".into());
    let started = Instant::now();
    let mut index = from;
    while index < total {
        let mut rng = Rng::new(SEED ^ index as u64);
        let end = (index + BATCH).min(total);
        let writes: Vec<IncidentWrite> =
            (index..end).map(|i| generate(&mut rng, i, orgs, per_incident)).collect();
        store.write_incidents(&actor, &writes).await?;
        index = end;
        if index.is_multiple_of(2_000) || index == total {
            eprintln!(
                "loaded {index} incidents ({:.0} incidents/s)",
                (index - from) as f64 / started.elapsed().as_secs_f64().max(1e-9)
            );
        }
    }
    Ok(())
}
