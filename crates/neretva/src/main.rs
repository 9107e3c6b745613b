//! The `neretva` binary: command line, configuration and wiring.
//!
//! **Architecture Invariant:** this is the only crate that knows clap, anyhow and which storage
//! backend runs; everything below it takes an `Arc<dyn Store>`.

mod cli;
mod commands;
mod config;
mod contact_points;
mod demo;
mod events;
mod exercises;
mod groups;
mod incidents;
mod ingest;
mod intel;
mod learning;
mod notify;
mod output;
mod records;
mod strategy;
mod taxii;
mod training;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use neretva_store::Store;

use crate::cli::{Cli, Command};
use crate::config::{Config, Database, Overrides};

/// mimalloc: parsing a Shadowserver report allocates per field, and mimalloc made it 1.8 times
/// faster than the system allocator in `bench/feeds.sh`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            output::error(&format!("error: {error:#}"));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let listen = match &cli.command {
        Command::Serve(args) => args.listen.clone(),
        Command::Demo(args) => args.listen.clone(),
        _ => None,
    };
    let mut overrides =
        Overrides { data_dir: cli.data_dir.clone(), database_url: cli.database_url.clone(), listen };
    if let Command::Demo(_) = &cli.command {
        // The demo keeps its own database unless told otherwise.
        overrides.data_dir.get_or_insert_with(|| "neretva-demo".into());
    }
    let env: Vec<(String, String)> = std::env::vars().collect();
    let raw = config::load_raw(cli.config.as_deref(), &env)?;
    let config = match config::compile(raw, &overrides) {
        Ok(config) => config,
        Err(errors) => {
            if let Command::CheckConfig(flag) = &cli.command {
                return Ok(commands::report_config_errors(&errors, flag.json));
            }
            anyhow::bail!("invalid configuration:\n  {}", errors.join("\n  "));
        }
    };
    init_logging(&config.log_level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(commands::dispatch(cli.command, config))
}

fn init_logging(level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|value| tracing_subscriber::EnvFilter::try_new(value).ok())
        .or_else(|| tracing_subscriber::EnvFilter::try_new(level).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Opens the configured database; refuses one written by a newer Neretva.
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match &config.database {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create data directory {}", dir.display()))?;
            }
            let store = neretva_store_sqlite::SqliteStore::open(path)
                .with_context(|| format!("cannot open SQLite database {}", path.display()))?;
            Arc::new(store)
        }
        Database::Postgres(url) => {
            let store = neretva_store_postgres::PostgresStore::connect(url)
                .await
                .with_context(|| format!("cannot connect to {}", config::redact_url(url)))?;
            Arc::new(store)
        }
    })
}
