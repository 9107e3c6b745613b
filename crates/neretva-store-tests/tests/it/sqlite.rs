//! The SQLite harness: a fresh database file in a temporary directory per test.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use neretva_store::{Store, StoreError};
use neretva_store_sqlite::SqliteStore;
use neretva_store_tests::Harness;
use uuid::Uuid;

use crate::Story;

/// A directory removed when the test ends, whether it passes or not.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("neretva-store-test-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct SqliteHarness {
    store: SqliteStore,
    path: PathBuf,
    _dir: TempDir,
}

#[async_trait]
impl Harness for SqliteHarness {
    fn store(&self) -> &dyn Store {
        &self.store
    }

    async fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        self.store.execute_raw(sql).await
    }

    async fn reopen(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(Arc::new(SqliteStore::open(&self.path)?))
    }
}

pub(crate) async fn run(story: Story) {
    let dir = TempDir::new();
    let path = dir.0.join("neretva.db");
    let store = SqliteStore::open(&path).expect("open a new database file");
    store.migrate().await.expect("migrate");
    let harness = SqliteHarness { store, path, _dir: dir };
    story(&harness).await;
}
