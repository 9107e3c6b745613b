//! Integration tests of the intel crate: MISP JSON cases under `test_data/misp/` (expected
//! outputs beside the inputs, re-blessed with `UPDATE_EXPECT=1`), the STIX mapping both ways,
//! the MISP feed, synchronisation rules and property tests.

#![allow(clippy::unwrap_used)]

mod feed;
mod misp;
mod properties;
mod stix;
mod sync;

use std::path::{Path, PathBuf};

use neretva_intel::misp::{ImportContext, Imported, Limits, parse};
use neretva_intel::model::OrgRef;
use time::macros::datetime;
use uuid::Uuid;

/// The files of a `test_data` directory with an extension, sorted.
pub(crate) fn cases(dir: &str, extension: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no cases in {}", dir.display());
    paths
}

pub(crate) fn context(with_org: bool) -> ImportContext {
    ImportContext {
        now: datetime!(2024-05-01 00:00 UTC),
        default_org: with_org.then(|| OrgRef {
            uuid: Uuid::from_u128(0x4e455245_5456_4100_8000_000000000001),
            name: "CERT Neretva".into(),
        }),
    }
}

/// Every event of the `ok` cases, read with the default organisation.
pub(crate) fn sample_events() -> Vec<neretva_intel::model::IntelEvent> {
    cases("misp/ok", "json")
        .iter()
        .flat_map(|path| read(&std::fs::read_to_string(path).unwrap(), true).events)
        .collect()
}

pub(crate) fn read(text: &str, with_org: bool) -> Imported {
    parse(text, &context(with_org), &Limits::default()).unwrap()
}
