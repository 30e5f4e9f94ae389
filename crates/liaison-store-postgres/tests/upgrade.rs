//! A database made by the earlier schemas, written as their code wrote it, opens under the
//! current build with nothing lost and its new columns filled in. Runs when
//! `LIAISON_TEST_POSTGRES_URL` names a server; the test makes and drops its own database.

use liaison_store::Store;
use liaison_store_postgres::PgStore;
use liaison_store_tests::{Legacy, check_upgraded, legacy, with_database};
use sqlx::{Connection, Executor, PgConnection};

const URL_VAR: &str = "LIAISON_TEST_POSTGRES_URL";
/// The migrations of the schema before the list columns, exactly as they shipped.
const EARLIER: [(&str, &str); 2] = [
    ("0001_core.sql", include_str!("../migrations/0001_core.sql")),
    (
        "0002_events_numbered_at_commit.sql",
        include_str!("../migrations/0002_events_numbered_at_commit.sql"),
    ),
];

async fn write_earlier_schema(url: &str, old: &Legacy) {
    let dir = std::env::temp_dir().join(format!(
        "liaison-migrations-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, sql) in EARLIER {
        std::fs::write(dir.join(name), sql).unwrap();
    }
    let mut c = PgConnection::connect(url).await.unwrap();
    let migrator = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
    migrator.run(&mut c).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    sqlx::query("INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(old.org.id.uuid())
        .bind(&old.org.name)
        .bind(old.org.created_at)
        .execute(&mut c)
        .await
        .unwrap();
    let k = &old.connection;
    sqlx::query("INSERT INTO connections (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(k.id.uuid())
        .bind(k.org.uuid())
        .bind(&k.name)
        .bind(k.created_at)
        .execute(&mut c)
        .await
        .unwrap();
    let t = &old.token;
    sqlx::query(
        "INSERT INTO tokens (id, org_id, connection_id, name, prefix, hash, scopes, created_at, \
         revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(t.id.uuid())
    .bind(t.org.uuid())
    .bind(t.connection.uuid())
    .bind(&t.name)
    .bind(&t.prefix)
    .bind(&t.hash)
    .bind(t.scopes.to_string())
    .bind(t.created_at)
    .bind(t.revoked_at)
    .execute(&mut c)
    .await
    .unwrap();
    let e = &old.engagement_type;
    sqlx::query(
        "INSERT INTO engagement_types (id, org_id, connection_id, external_id, name, \
         activity_type, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.id.uuid())
    .bind(e.org.uuid())
    .bind(e.connection.uuid())
    .bind(&e.external_id)
    .bind(&e.name)
    .bind(e.activity_type.as_str())
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(&mut c)
    .await
    .unwrap();
    for r in &old.records {
        sqlx::query(
            "INSERT INTO records (id, org_id, connection_id, kind, external_id, account_id, \
             contact_id, lead_id, opportunity_id, owner_id, engagement_type_id, recording_id, \
             sort_at, remote_updated_at, deleted_at, merged_into, created_at, updated_at, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19)",
        )
        .bind(r.id.uuid())
        .bind(r.org.uuid())
        .bind(r.connection.uuid())
        .bind(r.kind.as_str())
        .bind(&r.external_id)
        .bind(r.refs.account.map(|i| i.uuid()))
        .bind(r.refs.contact.map(|i| i.uuid()))
        .bind(r.refs.lead.map(|i| i.uuid()))
        .bind(r.refs.opportunity.map(|i| i.uuid()))
        .bind(r.refs.owner.map(|i| i.uuid()))
        .bind(r.refs.engagement_type.map(|i| i.uuid()))
        .bind(&r.recording_id)
        .bind(r.sort_at)
        .bind(r.remote_updated_at)
        .bind(r.deleted_at)
        .bind(r.merged_into.map(|i| i.uuid()))
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(&r.data)
        .execute(&mut c)
        .await
        .unwrap();
    }
    for e in &old.events {
        sqlx::query(
            "INSERT INTO events (seq, id, org_id, entity, entity_id, action, before, after, at) \
             VALUES (nextval('events_seq'), $1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.id.uuid())
        .bind(e.org.uuid())
        .bind(&e.entity)
        .bind(e.entity_id)
        .bind(e.action.as_str())
        .bind(&e.before)
        .bind(&e.after)
        .bind(e.at)
        .execute(&mut c)
        .await
        .unwrap();
    }
    c.close().await.unwrap();
}

#[tokio::test]
async fn an_earlier_schema_database_upgrades_with_nothing_lost() {
    let Ok(base) = std::env::var(URL_VAR) else {
        println!("skipped: set {URL_VAR} to run the PostgreSQL upgrade test");
        return;
    };
    let name = format!("liaison_test_{}", uuid::Uuid::now_v7().simple());
    let url = with_database(&base, &name);
    let mut admin = PgConnection::connect(&base).await.unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .await
        .unwrap();
    let old = legacy();
    write_earlier_schema(&url, &old).await;
    let outcome = tokio::spawn({
        let url = url.clone();
        async move {
            let store = PgStore::connect(&url).await.unwrap();
            store.migrate().await.expect("upgrade");
            check_upgraded(&store, &old).await;
            store.migrate().await.expect("second migrate");
            store.close().await;
        }
    })
    .await;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .await
        .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
