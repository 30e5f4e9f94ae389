//! The store conformance suite against PostgreSQL, when `LIAISON_TEST_POSTGRES_URL` names a
//! server: each test creates its own database, migrates it, and drops it afterwards.

use liaison_store::Store;
use liaison_store_postgres::PgStore;
use liaison_store_tests::with_database;
use sqlx::{Connection, Executor, PgConnection};
use std::future::Future;

const URL_VAR: &str = "LIAISON_TEST_POSTGRES_URL";

async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(PgStore) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(base) = std::env::var(URL_VAR) else {
        println!("skipped: set {URL_VAR} to run the PostgreSQL conformance suite");
        return;
    };
    let name = format!("liaison_test_{}", uuid::Uuid::now_v7().simple());
    // The database does not exist yet: connecting creates it.
    let store = PgStore::connect(&with_database(&base, &name))
        .await
        .expect("create and connect");
    store.migrate().await.expect("migrate");
    // Spawned so that a failing test still has its database dropped before its panic goes on.
    let outcome = tokio::spawn(test(store.clone())).await;
    store.close().await;
    let mut admin = PgConnection::connect(&base)
        .await
        .expect("maintenance connection");
    let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    admin
        .execute(sqlx::AssertSqlSafe(drop))
        .await
        .expect("drop database");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

liaison_store_tests::conformance_tests!(with_store);
