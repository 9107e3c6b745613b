//! Integration tests of the incident domain: data-driven cases under `test_data/` (expected
//! outputs beside the inputs, re-blessed with `UPDATE_EXPECT=1`) and one scenario through the
//! whole feature.

#![allow(clippy::unwrap_used)]

mod intake;
mod reports;
mod scenario;
mod summary;

use std::path::{Path, PathBuf};

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

pub(crate) fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(path)
}
