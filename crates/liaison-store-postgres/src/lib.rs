//! The PostgreSQL backend: for production and for many instances sharing one database.
//! Same contract and semantics as the SQLite backend; concurrency comes from row locks.

mod apps;
mod credentials;
mod list;
mod mobile_events;
mod outbox;
mod people;
mod recordings;
mod records;
mod rows;

use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::Result;
use liaison_store::*;
use list::RECORD_COLS;
use rows::*;
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgConnection, PgPoolOptions, PgQueryResult, PgRow,
};
use sqlx::query::Query;
use sqlx::{Acquire, ConnectOptions, Executor, PgPool, Postgres, QueryBuilder, Row, Transaction};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A pool of connections to one database; clones share it.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at a `postgres:` URL, creating the database if it is missing.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(PgConnectOptions::from_str(url).map_err(backend)?).await
    }

    /// As `connect`, from options already parsed.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self> {
        let pool = match pool(options.clone()).await {
            Ok(pool) => pool,
            Err(e) if has_code(&e, "3D000") => {
                create_database(&options).await?;
                pool(options).await.map_err(db)?
            }
            Err(e) => return Err(db(e)),
        };
        Ok(PgStore { pool })
    }
}

async fn pool(options: PgConnectOptions) -> sqlx::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
}

/// Creates the database the options name, from the server's maintenance database.
async fn create_database(options: &PgConnectOptions) -> Result<()> {
    // Without a database name the server uses the user name, so that is what is missing.
    let name = options
        .get_database()
        .unwrap_or(options.get_username())
        .to_owned();
    // `createdb` does the same: `postgres` itself can only be created from `template1`.
    let maintenance = if name == "postgres" {
        "template1"
    } else {
        "postgres"
    };
    let mut conn = options
        .clone()
        .database(maintenance)
        .connect()
        .await
        .map_err(db)?;
    let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
    let created = conn.execute(sqlx::AssertSqlSafe(sql)).await;
    // Several instances starting together race to create it; losing that race is success.
    match created {
        Err(e) if !has_code(&e, "42P04") && !has_code(&e, "23505") => Err(db(e)),
        _ => Ok(()),
    }
}

fn has_code(e: &sqlx::Error, code: &str) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some(code))
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps a sqlx error, turning unique violations into `Conflict`.
fn db(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        if d.is_unique_violation() {
            return StoreError::Conflict(d.constraint().unwrap_or(d.message()).to_owned());
        }
        // A deadlock or serialization failure rolled the transaction back; run again, it
        // succeeds (the engine retries conflicts as a whole unit).
        if matches!(d.code().as_deref(), Some("40P01" | "40001")) {
            return StoreError::Conflict(d.message().to_owned());
        }
    }
    StoreError::Backend(e.to_string())
}

/// Inserts end in `ON CONFLICT DO NOTHING` so that a duplicate refuses only this statement:
/// an error would abort the whole PostgreSQL transaction, where the contract (and SQLite)
/// leave it usable. No row written means a unique key was already taken.
fn inserted(done: PgQueryResult, table: &str) -> Result<()> {
    inserted_all(done, 1, table)
}

/// As `inserted`, for a statement inserting `rows` rows: any row not written was refused.
fn inserted_all(done: PgQueryResult, rows: usize, table: &str) -> Result<()> {
    if done.rows_affected() != rows as u64 {
        return Err(key_taken(table));
    }
    Ok(())
}

fn key_taken(table: &str) -> StoreError {
    StoreError::Conflict(format!("{table}: a row with this key already exists"))
}

impl Store for PgStore {
    type Tx = PgTx;

    async fn begin(&self) -> Result<PgTx> {
        Ok(PgTx {
            tx: self.pool.begin().await.map_err(db)?,
            write: true,
            events: Vec::new(),
        })
    }

    async fn read(&self) -> Result<ReadOnly<PgTx>> {
        // One snapshot for the session, so the queries behind one view agree with each other;
        // read-only, so it never takes a lock a writer could wait on.
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(db)?;
        Ok(ReadOnly::new(PgTx {
            tx,
            write: false,
            events: Vec::new(),
        }))
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await.map_err(backend)?;
        list::backfill(&self.pool).await
    }

    async fn ready(&self) -> Result<()> {
        let applied: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let missing = MIGRATOR
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .count();
        if missing > 0 {
            return Err(StoreError::Backend(format!(
                "{missing} of {} migrations not applied",
                MIGRATOR.iter().count()
            )));
        }
        Ok(())
    }

    async fn refresh_statistics(&self) -> Result<()> {
        // A cached generic plan depends on the statistics of the tables it reads: analyzing
        // them invalidates it on every connection, and the next execution plans again.
        sqlx::query("ANALYZE")
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    fn pool_use(&self) -> PoolUse {
        let open = self.pool.size();
        let idle = self.pool.num_idle() as u32;
        PoolUse {
            max: self.pool.options().get_max_connections(),
            open,
            in_use: open.saturating_sub(idle),
        }
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

pub struct PgTx {
    tx: Transaction<'static, Postgres>,
    /// A write transaction (READ COMMITTED; the reads an upsert decides on lock their row), or
    /// a read-only REPEATABLE READ one (one snapshot, never blocking anyone).
    write: bool,
    /// Events appended in this transaction, not yet written: they are numbered and inserted
    /// together at commit (see `write_events`).
    events: Vec<Event>,
}

impl PgTx {
    fn c(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Under READ COMMITTED two upserts of one record would both read the old row and the
    /// later commit would silently undo the earlier; locking what they read makes the second
    /// wait and then see the first's result.
    fn lock(&self) -> &'static str {
        if self.write { " FOR UPDATE" } else { "" }
    }

    /// Runs an update that a unique constraint may refuse. Updates cannot say `DO NOTHING`,
    /// so a savepoint keeps a refusal from aborting the surrounding transaction.
    async fn guarded(&mut self, q: Query<'_, Postgres, PgArguments>) -> Result<PgQueryResult> {
        if !self.write {
            return q.execute(&mut *self.tx).await.map_err(db);
        }
        let mut savepoint = self.tx.begin().await.map_err(db)?;
        match q.execute(&mut *savepoint).await {
            Ok(done) => {
                savepoint.commit().await.map_err(db)?;
                Ok(done)
            }
            Err(e) => {
                savepoint.rollback().await.map_err(db)?;
                Err(db(e))
            }
        }
    }

    /// Numbers and inserts the events appended in this transaction, in append order, in one
    /// statement. Readers page the outbox by `seq` and must never see N+1 before N is
    /// visible, so `seq` has to follow commit order: each org's advisory lock is taken first
    /// and held until the commit completes, so no other transaction draws numbers for that
    /// org between these and the commit. (Class 0x4c49, 'LI', keeps the lock apart from other
    /// advisory lock users; two orgs whose hashes collide only serialise their commits.)
    async fn write_events(&mut self) -> Result<()> {
        if self.events.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.events);
        let mut orgs: Vec<Uuid> = events.iter().map(|e| e.org.uuid()).collect();
        orgs.sort_unstable();
        orgs.dedup();
        // Locks in one order (by key), so two transactions writing the same orgs cannot
        // deadlock on them.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(19529, k) FROM \
             (SELECT DISTINCT hashtext(o::text) AS k FROM unnest($1::uuid[]) AS o ORDER BY k) AS l",
        )
        .bind(&orgs)
        .execute(self.c())
        .await
        .map_err(db)?;
        let mut ids = Vec::with_capacity(events.len());
        let mut org_ids = Vec::with_capacity(events.len());
        let mut entities = Vec::with_capacity(events.len());
        let mut entity_ids = Vec::with_capacity(events.len());
        let mut actions = Vec::with_capacity(events.len());
        let mut befores = Vec::with_capacity(events.len());
        let mut afters = Vec::with_capacity(events.len());
        let mut ats = Vec::with_capacity(events.len());
        for e in events {
            ids.push(e.id.uuid());
            org_ids.push(e.org.uuid());
            entities.push(e.entity);
            entity_ids.push(e.entity_id);
            actions.push(e.action.as_str());
            befores.push(e.before);
            afters.push(e.after);
            ats.push(e.at);
        }
        // The sort keeps the subquery from being flattened, so `nextval` runs row by row in
        // append order.
        let done = sqlx::query(
            "INSERT INTO events (seq, id, org_id, entity, entity_id, action, before, after, at) \
             SELECT nextval('events_seq'), id, org_id, entity, entity_id, action, before, after, \
             at FROM (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], \
             $5::text[], $6::text[], $7::text[], $8::timestamptz[]) WITH ORDINALITY \
             AS e (id, org_id, entity, entity_id, action, before, after, at, n) ORDER BY n) AS e \
             ON CONFLICT DO NOTHING",
        )
        .bind(&ids)
        .bind(&org_ids)
        .bind(&entities)
        .bind(&entity_ids)
        .bind(&actions)
        .bind(&befores)
        .bind(&afters)
        .bind(&ats)
        .execute(self.c())
        .await
        .map_err(db)?;
        inserted_all(done, ids.len(), "events")
    }

    /// The rows of `table` in the org matching any of an external id, an email key and a
    /// name key (CRM users and workspace users are linked on these), by id.
    async fn matching<T>(
        &mut self,
        cols: &str,
        table: &str,
        org: OrgId,
        (external_id, email_key, name_key): (Option<&str>, Option<&str>, Option<&str>),
        decode: fn(&PgRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        let sql = format!(
            "SELECT {cols} FROM {table} WHERE org_id = $1 AND \
             (external_id = $2 OR email_key = $3 OR name_key = $4) ORDER BY id"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(external_id)
            .bind(email_key)
            .bind(name_key);
        self.all(q, decode).await
    }

    async fn optional<T>(
        &mut self,
        q: Query<'_, Postgres, PgArguments>,
        decode: fn(&PgRow) -> Result<T>,
    ) -> Result<Option<T>> {
        q.fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| decode(&r))
            .transpose()
    }

    async fn all<T>(
        &mut self,
        q: Query<'_, Postgres, PgArguments>,
        decode: fn(&PgRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        q.fetch_all(self.c())
            .await
            .map_err(db)?
            .iter()
            .map(decode)
            .collect()
    }
}

const TYPE_COLS: &str =
    "id, org_id, connection_id, external_id, name, activity_type, created_at, updated_at";
const CRM_USER_COLS: &str =
    "id, org_id, connection_id, external_id, email, name, user_id, created_at, updated_at";
const USER_COLS: &str = "id, org_id, email, phone_number, first_name, last_name, \
    member_team_id, coach_team_ids, external_id, disabled, billable, is_admin, \
    contact_settings, created_at, updated_at";
const PARTICIPANT_COLS: &str = "id, org_id, connection_id, parent_kind, parent_id, \
    crm_user_id, name, share, deleted_at, created_at, updated_at";
const TOKEN_COLS: &str =
    "id, org_id, connection_id, name, prefix, hash, scopes, created_at, revoked_at, rate_limit";
const EVENT_COLS: &str = "seq, id, org_id, entity, entity_id, action, before, after, at";

fn uuids<T: Copy + Into<Uuid>>(ids: &[T]) -> Vec<Uuid> {
    ids.iter().map(|id| (*id).into()).collect()
}

impl WriteTx for PgTx {
    async fn commit(mut self) -> Result<()> {
        self.write_events().await?;
        self.tx.commit().await.map_err(db)
    }

    async fn lock_keys(&mut self, keys: &[i64]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        // The sort keeps the subquery whole, so the locks are taken in key order. The
        // one-bigint form of advisory locks never collides with the outbox's two-int form.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(k) FROM \
             (SELECT DISTINCT k FROM unnest($1::bigint[]) AS k ORDER BY k) AS l",
        )
        .bind(keys)
        .execute(self.c())
        .await
        .map_err(db)?;
        Ok(())
    }
}
