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

use neretva_model::Uuid;
use neretva_model::org::{EntityType, OrganisationFields};
use neretva_model::user::{Role, Scope};
use neretva_server::auth::{PasswordParams, new_token};
use neretva_server::{AppState, ServerConfig, app};
use neretva_store::{Actor, NewUser, Store};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use incident_data::{count_incidents, load, pool_value};

#[path = "support/incident_data.rs"]
mod incident_data;
// Not every draw of the shared generator is used here.
#[allow(dead_code)]
#[path = "support/rng.rs"]
mod rng;

type BoxError = Box<dyn Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

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
