//! The PostgreSQL harness: a fresh schema per test in the database that
//! `NERETVA_TEST_POSTGRES_URL` names, dropped when the test ends.

use std::sync::Arc;

use async_trait::async_trait;
use neretva_store::{Store, StoreError};
use neretva_store_postgres::PostgresStore;
use neretva_store_tests::Harness;
use tokio_postgres::NoTls;
use uuid::Uuid;

use crate::Story;

const URL_VARIABLE: &str = "NERETVA_TEST_POSTGRES_URL";

struct PostgresHarness {
    store: PostgresStore,
    url: String,
}

#[async_trait]
impl Harness for PostgresHarness {
    fn store(&self) -> &dyn Store {
        &self.store
    }

    async fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        self.store.execute_raw(sql).await
    }

    async fn reopen(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(Arc::new(PostgresStore::connect(&self.url).await?))
    }
}

/// The URL with the schema first on the search path.
fn with_schema(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-csearch_path%3D{schema}")
}

/// Runs a story in a new schema; does nothing when no server is configured.
pub(crate) async fn run(story: Story) {
    let Ok(url) = std::env::var(URL_VARIABLE) else {
        return;
    };
    let (admin, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap_or_else(|error| {
        let cause = std::error::Error::source(&error).map(|cause| format!(": {cause}"));
        panic!(
            "{URL_VARIABLE} is set to {url:?}, but PostgreSQL cannot be reached: {error}{}",
            cause.unwrap_or_default()
        )
    });
    let connection = tokio::spawn(connection);
    let schema = format!("neretva_test_{}", Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap_or_else(|error| panic!("cannot create the schema {schema}: {error}"));

    let url = with_schema(&url, &schema);
    let outcome = tokio::spawn(async move {
        let store = PostgresStore::connect(&url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let harness = PostgresHarness { store, url };
        story(&harness).await;
    })
    .await;

    // The schema goes whether the story passed or not; the story's connections closed with it.
    let dropped = admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await;
    drop(admin);
    let _ = connection.await;
    match outcome {
        Ok(()) => dropped.unwrap_or_else(|error| panic!("cannot drop the schema {schema}: {error}")),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => panic!("the story did not finish: {error}"),
    }
}
