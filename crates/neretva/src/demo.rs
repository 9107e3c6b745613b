//! `neretva demo`: a demonstration instance with a fictional constituency.

use std::process::ExitCode;

use anyhow::Context as _;
use neretva_model::Uuid;
use neretva_model::org::{EntityType, Organisation};
use neretva_model::registry_io;
use neretva_model::taxii::{Sharing, Writers};
use neretva_model::tlp::Tlp;
use neretva_model::user::Role;
use neretva_pipeline::IngestOptions;
use neretva_pipeline::config::FeedConfig;
use neretva_pipeline::process::Context;
use neretva_pipeline::sources::{DirectorySourceConfig, SourceConfig};
use neretva_server::auth;
use neretva_server::registry::RegistrySnapshot;
use neretva_store::taxii::{AddObjects, CollectionFields, STIX_MEDIA_TYPE};
use neretva_store::{Actor, ImportMode, NewUser, Store};

use crate::commands::{migrate_quietly, serve};
use crate::config::{Config, Database};
use crate::{open_store, output};

/// The fictional constituency: organisations, contacts, documentation-range networks.
const CONSTITUENCY: &[u8] = include_bytes!("../demo/constituency.json");

/// One demo user per role.
struct DemoUser {
    username: &'static str,
    role: Role,
    password: &'static str,
}

const USERS: &[DemoUser] = &[
    DemoUser { username: "admin", role: Role::Admin, password: "demo-admin-password" },
    DemoUser { username: "analyst", role: Role::Analyst, password: "demo-analyst-password" },
    DemoUser { username: "auditor", role: Role::Auditor, password: "demo-auditor-password" },
    DemoUser { username: "constituent", role: Role::Constituent, password: "demo-constituent-password" },
    DemoUser { username: "community", role: Role::Community, password: "demo-community-password" },
    DemoUser { username: "authority", role: Role::Authority, password: "demo-authority-password" },
    DemoUser { username: "police", role: Role::LawEnforcement, password: "demo-police-password" },
];

/// The sectors the demo's competent authority supervises.
const AUTHORITY_SECTORS: &[&str] = &["energy"];

/// The feeds the demo configures when the configuration names none: the parsers that need no
/// options, each under its own name (as `neretva feeds list` names it), with its provider.
/// They take uploads (`POST /api/v1/reports`, the feeds page) and `neretva ingest`; only
/// `shadowserver` also watches a directory ([`with_demo_feeds`]).
const DEMO_FEEDS: &[(&str, &str)] = &[
    ("shadowserver", "Shadowserver"),
    ("abusech-feodotracker", "abuse.ch"),
    ("abusech-urlhaus", "abuse.ch"),
    ("abusech-threatfox", "abuse.ch"),
    ("spamhaus-drop", "Spamhaus"),
    ("blocklistde", "Blocklist.de"),
    ("ci-army", "CINS Army"),
    ("dshield-block", "DShield"),
    ("dataplane", "Dataplane.org"),
    ("openphish", "OpenPhish"),
    ("openphish-commercial", "OpenPhish"),
    ("phishtank", "PhishTank"),
    ("microsoft-ctip", "Microsoft"),
    ("microsoft-bingmurls", "Microsoft"),
    ("n6", "CERT Polska"),
    ("zoneh", "Zone-H"),
    ("cert-eu", "CERT-EU"),
    ("shodan", "Shodan"),
    ("anubisnetworks", "Bitsight"),
    ("certstream", "Calidog"),
    ("surbl", "SURBL"),
    ("malwarepatrol", "MalwarePatrol"),
    ("hibp-callback", "Have I Been Pwned"),
    ("cznic-haas", "CZ.NIC"),
    ("cznic-proki", "CZ.NIC"),
    ("turris-greylist", "CZ.NIC"),
    ("eset", "ESET"),
    ("spamhaus-cert", "Spamhaus"),
    ("danger-rulez", "Danger Rulez"),
    ("fraunhofer-dga", "Fraunhofer FKIE"),
    ("vxvault", "VX Vault"),
    ("cymru-cap", "Team Cymru"),
    ("cymru-full-bogons", "Team Cymru"),
    ("bambenek", "Bambenek Consulting"),
    ("alienvault", "AlienVault"),
    ("alienvault-otx", "AlienVault"),
    ("intelmq-json", "IntelMQ"),
    ("misp-feed", "MISP"),
    ("stix-indicators", "STIX"),
];

/// Reports of yesterday (`@DAY@` is its date) about the demo constituency's networks, stored
/// through the pipeline of the demo feeds: (feed, file name, report). Their rows name
/// addresses, domains and ASes of demo organisations, and a few concern no one in the
/// constituency.
const DEMO_REPORTS: &[(&str, &str, &str)] = &[
    ("shadowserver", "@DAY@-scan_dns-ba-geo.csv", include_str!("../demo/reports/scan_dns.csv")),
    (
        "shadowserver",
        "@DAY@-event4_sinkhole_http-ba-geo.csv",
        include_str!("../demo/reports/event4_sinkhole_http.csv"),
    ),
    ("abusech-feodotracker", "ipblocklist.json", include_str!("../demo/reports/feodo_ipblocklist.json")),
    ("abusech-urlhaus", "country-ba.csv", include_str!("../demo/reports/urlhaus_country.csv")),
];

/// The configuration the demo runs with: the given one, plus [`DEMO_FEEDS`] when it configures
/// no feed (a configured pipeline is the user's, and the demo then adds no feed and no report).
/// The `shadowserver` feed also watches the drop directory ([`drop_dir`]).
pub(crate) fn with_demo_feeds(config: &Config) -> Config {
    let mut config = config.clone();
    if config.pipeline.feeds.is_empty() {
        let drop = drop_dir(&config);
        config.pipeline.feeds = DEMO_FEEDS
            .iter()
            .map(|(parser, provider)| FeedConfig {
                provider: Some((*provider).to_owned()),
                source: (*parser == "shadowserver").then(|| {
                    SourceConfig::Directory(DirectorySourceConfig {
                        path: drop.clone(),
                        pattern: None,
                        poll_seconds: 5,
                        done_dir: Some(drop.join("done")),
                    })
                }),
                ..FeedConfig::for_parser(parser)
            })
            .collect();
    }
    config
}

/// Where the demo's `shadowserver` feed picks up reports while the demo serves: `drop` in the
/// data directory; processed files move to `drop/done`.
fn drop_dir(config: &Config) -> std::path::PathBuf {
    config.data_dir.join("drop")
}

pub(crate) async fn run(config: &Config, reset: bool, no_serve: bool) -> anyhow::Result<ExitCode> {
    if reset && let Database::Sqlite(path) = &config.database {
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", path.display());
            if std::path::Path::new(&file).exists() {
                std::fs::remove_file(&file).with_context(|| format!("cannot remove {file}"))?;
            }
        }
    }
    let own_feeds = !config.pipeline.feeds.is_empty();
    let config = &with_demo_feeds(config);
    let store = open_store(config).await?;
    migrate_quietly(store.as_ref()).await?;
    let fresh = store.list_orgs().await?.is_empty();
    if fresh {
        load(store.as_ref(), config).await?;
        if !own_feeds {
            load_reports(store.as_ref(), config).await?;
        }
    }
    let url = format!("http://{}/", config.listen);
    output::line(&format!("Neretva demo on {} ({})", url, store.backend()));
    output::line("Log in with one of these users (demo passwords, never use them in production):");
    for user in USERS {
        output::line(&format!("  {:<12} {:<28} ({})", user.username, user.password, user.role));
    }
    if !fresh {
        output::line("(the demo database already existed; pass --reset to start afresh)");
    }
    if !own_feeds {
        let done = drop_dir(config).join("done");
        std::fs::create_dir_all(&done).with_context(|| format!("cannot create {}", done.display()))?;
        output::line(&format!(
            "Shadowserver reports dropped into {} are picked up while the demo serves.",
            drop_dir(config).display()
        ));
    }
    if no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    serve(store, config).await
}

async fn load(store: &dyn Store, config: &Config) -> anyhow::Result<()> {
    let actor = Actor("system:demo".into());
    let document = registry_io::parse_json(
        CONSTITUENCY,
        &config.server.authority_levels,
        time::OffsetDateTime::now_utc(),
    )
    .map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("the built-in demo constituency is invalid:\n  {}", lines.join("\n  "))
    })?;
    store.import_registry(&actor, &document, ImportMode::CreateOnly).await?;
    let orgs = store.list_orgs().await?;
    let find =
        |predicate: &dyn Fn(&Organisation) -> bool| orgs.iter().find(|org| predicate(org)).map(|org| org.id);
    let operator = find(&|org| org.fields.short_name.eq_ignore_ascii_case(&config.server.operator_org))
        .with_context(|| {
            format!("the demo data has no operator organisation {}", config.server.operator_org)
        })?;
    let energy = find(&|org| {
        org.fields.sector.as_deref() == Some("energy") && org.fields.entity_type == EntityType::Essential
    })
    .unwrap_or(operator);
    let community = find(&|org| org.fields.sector.as_deref() == Some("research")).unwrap_or(operator);
    let police = find(&|org| org.fields.short_name == "ADI-BIH").unwrap_or(operator);
    for user in USERS {
        let org_id = match user.role {
            Role::Constituent => energy,
            Role::Community => community,
            Role::LawEnforcement => police,
            _ => operator,
        };
        let params = config.server.password_params;
        let password = user.password.to_owned();
        let password_hash =
            tokio::task::spawn_blocking(move || auth::hash_secret(params, &password)).await??;
        store
            .create_user(
                &actor,
                &NewUser {
                    org_id,
                    username: user.username.into(),
                    display_name: Some(format!("Demo {}", user.role)),
                    email: None,
                    role: user.role,
                    sectors: if user.role == Role::Authority {
                        AUTHORITY_SECTORS.iter().map(|s| (*s).to_owned()).collect()
                    } else {
                        Vec::new()
                    },
                    language: None,
                    password_hash: Some(password_hash),
                },
            )
            .await?;
    }
    load_taxii(store, &actor, operator, energy, community).await
}

/// TAXII collections, one per sharing scope, each with a few indicators.
async fn load_taxii(
    store: &dyn Store,
    actor: &Actor,
    operator: Uuid,
    energy: Uuid,
    community: Uuid,
) -> anyhow::Result<()> {
    let collections = [
        (
            "Public blocklist",
            Sharing::Public,
            Tlp::Clear,
            "public",
            &["185.220.101.1", "evil-update.example"][..],
        ),
        (
            "Community indicators",
            Sharing::Community,
            Tlp::Green,
            "community",
            &["198.51.100.23", "login-banka.example", "203.0.113.66"][..],
        ),
        (
            "Energy sector group",
            Sharing::Groups(vec![energy, community]),
            Tlp::Amber,
            "energy",
            &["192.0.2.200", "scada-update.example"][..],
        ),
        ("CERT internal", Sharing::Organisation, Tlp::AmberStrict, "internal", &["198.51.100.99"][..]),
    ];
    for (title, sharing, tlp, alias, values) in collections {
        let fields = CollectionFields {
            title: title.into(),
            description: Some(format!("Demo collection shared with scope {}", sharing.kind())),
            alias: Some(alias.into()),
            media_types: vec![STIX_MEDIA_TYPE.into()],
            owner_org: operator,
            sharing,
            writers: Writers::Owner,
            default_tlp: tlp,
        };
        let collection = store.create_collection(actor, Uuid::new_v4(), &fields).await?;
        let items: Vec<serde_json::Value> = values
            .iter()
            .map(|value| {
                let kind =
                    if value.parse::<std::net::Ipv4Addr>().is_ok() { "ipv4-addr" } else { "domain-name" };
                serde_json::json!({
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": format!("indicator--{}", Uuid::new_v4()),
                    "created": "2026-11-01T08:00:00.000Z",
                    "modified": "2026-11-01T08:00:00.000Z",
                    "name": format!("Demo indicator {value}"),
                    "indicator_types": ["malicious-activity"],
                    "pattern": format!("[{kind}:value = '{value}']"),
                    "pattern_type": "stix",
                    "valid_from": "2026-11-01T08:00:00Z",
                    "object_marking_refs": [neretva_stix::object::marking::tlp_id(tlp)],
                })
            })
            .collect();
        let (objects, failures) = neretva_server::taxii::prepare_objects(&items, tlp);
        anyhow::ensure!(failures.is_empty(), "the demo indicators are invalid: {failures:?}");
        let request = AddObjects {
            status_id: Uuid::now_v7(),
            collection_id: collection.id,
            org_id: operator,
            user_id: None,
            objects,
            failures,
        };
        store.add_objects(actor, &request).await?;
    }
    Ok(())
}

/// Stores [`DEMO_REPORTS`] through the demo's pipeline, as uploads of yesterday's reports; each
/// must parse without an error.
async fn load_reports(store: &dyn Store, config: &Config) -> anyhow::Result<()> {
    let pipeline = crate::ingest::build_pipeline(config, None)?;
    let registry = RegistrySnapshot::load(store, &config.server.operator_org).await?;
    let now = time::OffsetDateTime::now_utc();
    let day = (now - time::Duration::days(1)).date().to_string();
    let context = Context { store, index: &registry.index, now };
    for (feed, name, report) in DEMO_REPORTS {
        let name = name.replace("@DAY@", &day);
        let data = report.replace("@DAY@", &day).into_bytes();
        let outcome =
            pipeline.ingest(&context, feed, &format!("demo#{name}"), data, IngestOptions::default()).await?;
        anyhow::ensure!(
            outcome.errors.is_empty() && outcome.counts.events > 0,
            "the demo report {name} does not parse: {:?}",
            outcome.errors
        );
    }
    Ok(())
}
