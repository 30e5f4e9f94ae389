//! The store conformance suite against SQLite: each test gets a fresh database file in the
//! temporary directory, migrated before and removed after.

use liaison_store::Store;
use liaison_store_sqlite::SqliteStore;
use std::future::Future;

async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(SqliteStore) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let path =
        std::env::temp_dir().join(format!("liaison-test-{}.db", uuid::Uuid::now_v7().simple()));
    let store = SqliteStore::connect(&format!("sqlite:{}", path.display()))
        .await
        .expect("open database");
    store.migrate().await.expect("migrate");
    // Spawned so that a failing test still has its files removed before its panic goes on.
    let outcome = tokio::spawn(test(store.clone())).await;
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

liaison_store_tests::conformance_tests!(with_store);
