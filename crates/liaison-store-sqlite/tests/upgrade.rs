//! A database made by the first schema, written as that schema's code wrote it, opens under
//! the current build with nothing lost and its new columns filled in.

use liaison_store::Store;
use liaison_store_sqlite::SqliteStore;
use liaison_store_tests::{Legacy, check_upgraded, legacy};
use rusqlite::{Connection, params};

fn us(t: &chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

/// The first schema, applied the way its build applied it, and `old` written with the
/// statements of that build.
fn write_first_schema(path: &str, old: &Legacy) {
    let mut c = Connection::open(path).unwrap();
    rusqlite_migration::Migrations::new(vec![rusqlite_migration::M::up(include_str!(
        "../migrations/0001_core.sql"
    ))])
    .to_latest(&mut c)
    .unwrap();
    c.execute(
        "INSERT INTO orgs (id, name, created_at) VALUES (?1, ?2, ?3)",
        params![old.org.id.uuid(), old.org.name, us(&old.org.created_at)],
    )
    .unwrap();
    let k = &old.connection;
    c.execute(
        "INSERT INTO connections (id, org_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![k.id.uuid(), k.org.uuid(), k.name, us(&k.created_at)],
    )
    .unwrap();
    let t = &old.token;
    c.execute(
        "INSERT INTO tokens (id, org_id, connection_id, name, prefix, hash, scopes, created_at, \
         revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            t.id.uuid(),
            t.org.uuid(),
            t.connection.uuid(),
            t.name,
            t.prefix,
            t.hash,
            t.scopes.to_string(),
            us(&t.created_at),
            t.revoked_at.as_ref().map(us)
        ],
    )
    .unwrap();
    let e = &old.engagement_type;
    c.execute(
        "INSERT INTO engagement_types (id, org_id, connection_id, external_id, name, \
         activity_type, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            e.id.uuid(),
            e.org.uuid(),
            e.connection.uuid(),
            e.external_id,
            e.name,
            e.activity_type.as_str(),
            us(&e.created_at),
            us(&e.updated_at)
        ],
    )
    .unwrap();
    for r in &old.records {
        c.execute(
            "INSERT INTO records (id, org_id, connection_id, kind, external_id, account_id, \
             contact_id, lead_id, opportunity_id, owner_id, engagement_type_id, recording_id, \
             sort_at, remote_updated_at, deleted_at, merged_into, created_at, updated_at, data) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
             ?17, ?18, ?19)",
            params![
                r.id.uuid(),
                r.org.uuid(),
                r.connection.uuid(),
                r.kind.as_str(),
                r.external_id,
                r.refs.account.map(|i| i.uuid()),
                r.refs.contact.map(|i| i.uuid()),
                r.refs.lead.map(|i| i.uuid()),
                r.refs.opportunity.map(|i| i.uuid()),
                r.refs.owner.map(|i| i.uuid()),
                r.refs.engagement_type.map(|i| i.uuid()),
                r.recording_id,
                us(&r.sort_at),
                r.remote_updated_at.as_ref().map(us),
                r.deleted_at.as_ref().map(us),
                r.merged_into.map(|i| i.uuid()),
                us(&r.created_at),
                us(&r.updated_at),
                r.data
            ],
        )
        .unwrap();
    }
    for e in &old.events {
        c.execute(
            "INSERT INTO events (id, org_id, entity, entity_id, action, before, after, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                e.id.uuid(),
                e.org.uuid(),
                e.entity,
                e.entity_id,
                e.action.as_str(),
                e.before,
                e.after,
                us(&e.at)
            ],
        )
        .unwrap();
    }
}

#[tokio::test]
async fn a_first_schema_database_upgrades_with_nothing_lost() {
    let path = std::env::temp_dir().join(format!(
        "liaison-upgrade-{}.db",
        uuid::Uuid::now_v7().simple()
    ));
    let path = path.display().to_string();
    let old = legacy();
    write_first_schema(&path, &old);
    let outcome = tokio::spawn({
        let path = path.clone();
        async move {
            let store = SqliteStore::connect(&format!("sqlite:{path}"))
                .await
                .unwrap();
            store.migrate().await.expect("upgrade");
            check_upgraded(&store, &old).await;
            // Migrating again finds nothing to do and changes nothing.
            store.migrate().await.expect("second migrate");
            store.close().await;
        }
    })
    .await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
