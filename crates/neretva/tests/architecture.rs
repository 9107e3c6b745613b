//! The crate boundaries of ARCHITECTURE.md, checked against `cargo metadata`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;

/// Each workspace crate's direct dependencies (normal and dev), by crate name.
fn dependencies() -> BTreeMap<String, Vec<(String, Option<String>)>> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|dep| {
                    (dep["name"].as_str().unwrap().to_owned(), dep["kind"].as_str().map(str::to_owned))
                })
                .collect();
            (package["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[track_caller]
fn assert_only(
    dependencies: &BTreeMap<String, Vec<(String, Option<String>)>>,
    dependency: &str,
    allowed: &[&str],
) {
    for (krate, deps) in dependencies {
        let uses = deps.iter().any(|(name, kind)| name == dependency && kind.as_deref() != Some("dev"));
        assert!(!uses || allowed.contains(&krate.as_str()), "{krate} must not depend on {dependency}");
    }
}

#[test]
fn crate_boundaries_hold() {
    let deps = dependencies();
    assert!(deps.contains_key("neretva-model") && deps.contains_key("neretva-server"));
    // Pure crates: no IO, no async runtime, no HTTP, no SQL.
    for pure in [
        "neretva-model",
        "neretva-net",
        "neretva-incident",
        "neretva-mail",
        "neretva-stix",
        "neretva-intel",
        "neretva-notify",
        "neretva-governance",
        "neretva-learning",
    ] {
        for forbidden in ["tokio", "axum", "rusqlite", "tokio-postgres", "reqwest", "async-trait", "lettre"] {
            assert!(
                !deps[pure].iter().any(|(name, _)| name == forbidden),
                "{pure} must not depend on {forbidden}"
            );
        }
    }
    // Only the store backends know SQL, only the server knows HTTP, only the binary knows clap and anyhow.
    assert_only(&deps, "rusqlite", &["neretva-store-sqlite"]);
    assert_only(&deps, "tokio-postgres", &["neretva-store-postgres"]);
    assert_only(&deps, "deadpool-postgres", &["neretva-store-postgres"]);
    assert_only(&deps, "axum", &["neretva-server", "neretva"]);
    assert_only(&deps, "clap", &["neretva"]);
    assert_only(&deps, "anyhow", &["neretva"]);
    // E-mail is sent from one place, and notifications know no HTTP and no SQL.
    assert_only(&deps, "lettre", &["neretva-notifier"]);
    for forbidden in ["neretva-server", "axum", "rusqlite", "tokio-postgres"] {
        assert!(
            !deps["neretva-notifier"]
                .iter()
                .any(|(name, kind)| name == forbidden && kind.as_deref() != Some("dev")),
            "neretva-notifier must not depend on {forbidden}"
        );
    }
    // E-mail is parsed in one place.
    assert_only(&deps, "mail-parser", &["neretva-mail"]);
    // STIX is read and written in one place; it stays free of storage and HTTP.
    for forbidden in ["neretva-store", "neretva-server", "neretva-pipeline", "neretva-feeds"] {
        assert!(
            !deps["neretva-stix"].iter().any(|(name, _)| name == forbidden),
            "neretva-stix must not depend on {forbidden}"
        );
    }
    // Only the binary names concrete backends.
    assert_only(&deps, "neretva-store-sqlite", &["neretva", "neretva-store-tests"]);
    assert_only(&deps, "neretva-store-postgres", &["neretva", "neretva-store-tests"]);
}
