//! Latency of the analyst queue (`GET /api/v1/incidents/queue`) and the incident search
//! (`GET /api/v1/incidents`) over HTTP, with 10,000 incidents and 100,000 observables.
//!
//! ```sh
//! cargo run --release -p neretva-server --example incidents_latency -- \
//!     --sqlite /tmp/neretva-incidents-bench/incidents-10000.sqlite --incidents 10000
//! # or: --database-url postgres://user@host/db
//! ```
//!
//! 1. Opens and migrates the store. When it holds fewer incidents than `--incidents`, it
//!    creates the constituency (the operating CERT and 50 organisations in 8 sectors) and loads
//!    synthetic incidents through `Store::write_incidents` in batches of 200, each with its
//!    playbook's tasks, its `created` timeline entry and `--observables-per-incident`
//!    observables (10 by default: 100,000 for 10,000 incidents). The data is deterministic
//!    (fixed xorshift seed): RSIT types, severities, TLPs (mostly AMBER+STRICT), statuses
//!    (new 20 %, triage 15 %, in progress 30 %, resolved 20 %, closed 15 %), creation times over
//!    the 120 days before 2026-11-28, awareness times (and so NIS2 deadlines) on 60 %, and
//!    observables drawn from a pool in which some addresses, domains and hashes recur across
//!    incidents.
//! 2. Serves the real application (`neretva_server::app`) on a socket of 127.0.0.1 and sends
//!    each scenario's request over one keep-alive HTTP/1.1 connection with an API token of an
//!    analyst of the operating CERT or of a constituent, one request at a time, after a warm-up.
//! 3. Prints a markdown table of p50, p95 and max (milliseconds, from writing the request to
//!    reading the whole body) and the number of incidents returned.
//!
//! Progress goes to standard error, the table to standard output.

use std::error::Error;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
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
use neretva_model::org::{EntityType, OrganisationFields};
use neretva_model::tlp::{Pap, Tlp};
use neretva_model::user::{Role, Scope};
use neretva_server::auth::{PasswordParams, new_token};
use neretva_server::{AppState, ServerConfig, app};
use neretva_store::incidents::{IncidentCursor, IncidentQuery, IncidentWrite, ObservableWrite};
use neretva_store::{Actor, NewUser, Store};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

type BoxError = Box<dyn Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

const SEED: u64 = 0x696E_6369_6465_6E74;
const BATCH: usize = 200;
const END: OffsetDateTime = datetime!(2026-11-28 00:00 UTC);
const DAYS: i64 = 120;
const OPERATOR: &str = "CERT-BIH";
const ORGS: usize = 50;
const SECTORS: &[&str] = &[
    "energy",
    "transport",
    "banking",
    "health",
    "drinking-water",
    "digital-infrastructure",
    "public-administration",
    "space",
];
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
const MIN_SAMPLES: usize = 20;

struct Options {
    sqlite: PathBuf,
    database_url: Option<String>,
    incidents: usize,
    observables: usize,
    requests: usize,
    warmup: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: incidents_latency [--sqlite PATH | --database-url URL] [--incidents N] \
         [--observables-per-incident N] [--requests N] [--warmup N]\n\
         defaults: --sqlite /tmp/neretva-incidents-bench/incidents.sqlite --incidents 10000 \
         --observables-per-incident 10 --requests 200 --warmup 20"
    );
    std::process::exit(2)
}

fn options() -> Options {
    let mut options = Options {
        sqlite: PathBuf::from("/tmp/neretva-incidents-bench/incidents.sqlite"),
        database_url: None,
        incidents: 10_000,
        observables: 10,
        requests: 200,
        warmup: 20,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        let number =
            |text: String| -> usize { text.replace(['_', ','], "").parse().unwrap_or_else(|_| usage()) };
        match arg.as_str() {
            "--sqlite" => options.sqlite = PathBuf::from(value()),
            "--database-url" => options.database_url = Some(value()),
            "--incidents" => options.incidents = number(value()),
            "--observables-per-incident" => options.observables = number(value()),
            "--requests" => options.requests = number(value()),
            "--warmup" => options.warmup = number(value()),
            _ => usage(),
        }
    }
    options
}

/// xorshift64* seeded through splitmix64.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The constituency: the operator and `ORGS` organisations, each in one of the sectors.
async fn constituency(store: &dyn Store) -> Result<(Uuid, Vec<Uuid>)> {
    let actor = Actor("bench:incidents_latency".into());
    let fields = |name: String, short: String, sector: &str, parent: Option<Uuid>| OrganisationFields {
        name,
        short_name: short,
        address: None,
        country: "BA".into(),
        sector: Some(sector.into()),
        subsector: None,
        entity_type: EntityType::Essential,
        authority_level: "State".into(),
        parent_id: parent,
    };
    let operator = match store.find_org(OPERATOR).await? {
        Some(org) => org.id,
        None => {
            store
                .create_org(
                    &actor,
                    &fields("CERT BiH".into(), OPERATOR.into(), "public-administration", None),
                )
                .await?
                .id
        }
    };
    let mut orgs = Vec::with_capacity(ORGS);
    for n in 0..ORGS {
        let short = format!("BENCH-{n:02}");
        let id = match store.find_org(&short).await? {
            Some(org) => org.id,
            None => {
                let sector = SECTORS[n % SECTORS.len()];
                store
                    .create_org(
                        &actor,
                        &fields(format!("Bench organisation {n}"), short, sector, Some(operator)),
                    )
                    .await?
                    .id
            }
        };
        orgs.push(id);
    }
    Ok((operator, orgs))
}

async fn count_incidents(store: &dyn Store) -> Result<usize> {
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
fn pool_value(n: u64) -> Observable {
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
    if rng.chance(30) { pool_value(rng.below(2_000)) } else { pool_value(1_000_000 + serial) }
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
    let aware = rng.chance(60).then(|| created - time::Duration::hours(rng.below(48) as i64));
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
        if rng.chance(70) {
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
            ioc: rng.chance(80),
            note: None,
            added_by: None,
            added_at: created,
        };
        write.observables.push(ObservableWrite { entry, matches: None });
    }
    write
}

async fn load(
    store: &dyn Store,
    orgs: &[Uuid],
    from: usize,
    total: usize,
    per_incident: usize,
) -> Result<()> {
    let actor = Actor("bench:incidents_latency".into());
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

async fn token(store: &dyn Store, username: &str, role: Role, org_id: Uuid) -> Result<String> {
    let actor = Actor("bench:incidents_latency".into());
    let user = match store.find_user(username).await? {
        Some(user) => user,
        None => {
            let new = NewUser {
                org_id,
                username: username.to_owned(),
                display_name: None,
                email: None,
                role,
                sectors: Vec::new(),
                language: None,
                password_hash: None,
            };
            store.create_user(&actor, &new).await?
        }
    };
    let (token, secret) = new_token(
        PasswordParams::insecure_fast(),
        user.id,
        "incidents_latency benchmark",
        Scope::Read,
        None,
    )?;
    store.create_token(&actor, &token).await?;
    Ok(secret)
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Connection {
    async fn open(address: std::net::SocketAddr) -> Result<Connection> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (read, writer) = stream.into_split();
        Ok(Connection { reader: BufReader::new(read), writer })
    }

    /// Sends a GET and reads the whole response; returns the status and the body.
    async fn get(&mut self, path: &str, token: &str) -> Result<(u16, Vec<u8>)> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: keep-alive\r\n\r\n"
        );
        self.writer.write_all(request.as_bytes()).await?;
        let mut line = String::new();
        self.reader.read_line(&mut line).await?;
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("bad status line")?;
        let mut length = None;
        loop {
            line.clear();
            self.reader.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length = length.ok_or("response without Content-Length")?;
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = options();
    let store: Arc<dyn Store> = match &options.database_url {
        Some(url) => Arc::new(neretva_store_postgres::PostgresStore::connect(url).await?),
        None => {
            if let Some(dir) = options.sqlite.parent() {
                std::fs::create_dir_all(dir)?;
            }
            Arc::new(neretva_store_sqlite::SqliteStore::open(&options.sqlite)?)
        }
    };
    store.migrate().await?;
    let (operator, orgs) = constituency(store.as_ref()).await?;
    let held = count_incidents(store.as_ref()).await?;
    if held < options.incidents {
        eprintln!("loading incidents {held} to {}", options.incidents);
        load(store.as_ref(), &orgs, held, options.incidents, options.observables).await?;
    }
    let held = count_incidents(store.as_ref()).await?;

    // A recurring address of the observable pool, held by about 15 of 10,000 incidents.
    let some_observable = pool_value(10).to_string();

    let analyst = token(store.as_ref(), "bench-analyst", Role::Analyst, operator).await?;
    let constituent = token(store.as_ref(), "bench-constituent", Role::Constituent, orgs[7]).await?;
    let config = ServerConfig {
        password_params: PasswordParams::insecure_fast(),
        operator_org: OPERATOR.into(),
        ..ServerConfig::default()
    };
    let state = AppState::new(Arc::clone(&store), config, None).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app(state)).await;
    });

    let encode = |text: &str| {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let scenarios: Vec<(&str, &str, String)> = vec![
        ("queue, first 50 (analyst)", "analyst", "/api/v1/incidents/queue?limit=50".into()),
        (
            "queue, first 50 (constituent, own organisation)",
            "constituent",
            "/api/v1/incidents/queue?limit=50".into(),
        ),
        ("search: newest 50 (analyst)", "analyst", "/api/v1/incidents?limit=50".into()),
        (
            "search: text in titles, `q=ransomware`",
            "analyst",
            "/api/v1/incidents?q=ransomware&limit=50".into(),
        ),
        (
            "search: text found nowhere",
            "analyst",
            "/api/v1/incidents?q=no-such-words-anywhere&limit=50".into(),
        ),
        (
            "search: an observable (`observable=`)",
            "analyst",
            format!("/api/v1/incidents?observable={}&limit=50", encode(&some_observable)),
        ),
        (
            "search: `status=in_progress&severity=high`",
            "analyst",
            "/api/v1/incidents?status=in_progress&severity=high&limit=50".into(),
        ),
        ("search: text (constituent)", "constituent", "/api/v1/incidents?q=phishing&limit=50".into()),
    ];

    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{held} incidents ({}), {} observables per incident, {} requests per scenario after {} warm-up requests, one at a time over HTTP\n",
        store.backend(),
        options.observables,
        options.requests,
        options.warmup
    );
    let _ =
        writeln!(out, "| scenario | p50 ms | p95 ms | max ms | incidents returned | requests | request |");
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    let mut connection = Connection::open(address).await?;
    for (name, user, uri) in scenarios {
        let token = if user == "analyst" { &analyst } else { &constituent };
        for _ in 0..options.warmup {
            connection.get(&uri, token).await?;
        }
        let mut samples = Vec::with_capacity(options.requests);
        let mut returned = 0;
        for _ in 0..options.requests.max(MIN_SAMPLES) {
            let started = Instant::now();
            let (status, body) = connection.get(&uri, token).await?;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            if status != 200 {
                return Err(format!("{uri}: status {status}: {}", String::from_utf8_lossy(&body)).into());
            }
            let body: serde_json::Value = serde_json::from_slice(&body)?;
            returned = body["items"].as_array().map_or(0, Vec::len);
        }
        samples.sort_by(f64::total_cmp);
        let row = format!(
            "| {name} | {:.1} | {:.1} | {:.1} | {returned} | {} | `{uri}` |",
            percentile(&samples, 50.0),
            percentile(&samples, 95.0),
            samples.last().copied().unwrap_or(f64::NAN),
            samples.len()
        );
        eprintln!("{row}");
        let _ = writeln!(out, "{row}");
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}
