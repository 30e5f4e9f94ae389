//! The SQLite backend: embedded, WAL, the default. Statements run inline on the calling task
//! through rusqlite: each takes microseconds, far less than handing it to another thread.
//! One writer connection (SQLite has one writer at a time; waiting for it in a queue is cheaper
//! than BUSY retries) and a small pool of read-only connections that never block it.

mod apps;
mod credentials;
mod list;
mod mobile_events;
mod outbox;
mod people;
mod recordings;
mod records;
mod rows;
mod sql;
mod writer;

use chrono::{DateTime, Utc};
use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::Result;
use liaison_store::*;
use list::RECORD_COLS;
use rows::*;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use sql::Sql;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use writer::WriterQueue;

/// How many read-only connections serve reads at once.
const READERS: usize = 8;
/// Prepared statements kept per connection; the store uses a few dozen distinct ones.
const STATEMENT_CACHE: usize = 256;

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: String,
    writer: WriterQueue,
    readers: Mutex<Vec<Connection>>,
    read_permits: Arc<Semaphore>,
    checkpointer: tokio::task::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.checkpointer.abort();
    }
}

/// How often the background task moves the WAL back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);
/// A WAL longer than this (in pages) is truncated by a checkpoint that waits for readers, so
/// that it cannot grow without bound under a constant stream of reads.
const WAL_RESTART_PAGES: i64 = 50_000;

/// Checkpoints the WAL on its own connection, off every request's path. PASSIVE never blocks
/// the writer or readers; when the WAL has grown long, a RESTART makes the next writer start
/// it over from the beginning.
async fn checkpointer(path: String) {
    let conn = match open(&path, false) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "the WAL checkpointer could not open the database");
            return;
        }
    };
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        match result {
            Ok((log, _)) if log > WAL_RESTART_PAGES => {
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(RESTART)");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}

/// The file a `sqlite:` URL names (`sqlite:liaison.db`, `sqlite://data/x.db`,
/// `sqlite:///abs/x.db`); query parameters are ignored.
fn path_of(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::Backend(format!("not a sqlite: URL: {url}")))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        // An in-memory database is private to one connection: readers would never see the
        // writer's data.
        return Err(StoreError::Backend(
            "SQLite needs a database file (sqlite:<file>); in-memory databases are not supported"
                .into(),
        ));
    }
    Ok(path.to_owned())
}

fn open(path: &str, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(db)?;
    // WAL with synchronous=NORMAL survives application crashes; only a power loss can lose
    // the last transactions, and it never corrupts the database.
    conn.execute_batch(
        "PRAGMA busy_timeout = 10000;
         PRAGMA synchronous = NORMAL;
         PRAGMA cache_size = -65536;
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(db)?;
    if !read_only {
        // The writer never checkpoints: a background task does (see `checkpointer`), so no
        // commit pays for copying the WAL back into the database. Its cache holds the hot
        // parts of the indexes every upsert walks.
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -262144;")
            .map_err(db)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "could not switch {path} to WAL (journal_mode is {mode})"
            )));
        }
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite:` URL.
    pub async fn connect(url: &str) -> Result<Self> {
        let path = path_of(url)?;
        let writer = open(&path, false)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                checkpointer: tokio::spawn(checkpointer(path.clone())),
                path,
                writer: WriterQueue::new(writer),
                readers: Mutex::new(Vec::new()),
                read_permits: Arc::new(Semaphore::new(READERS)),
            }),
        })
    }

    /// Every migration, in order; `PRAGMA user_version` counts those applied.
    const MIGRATIONS: [&'static str; 6] = [
        include_str!("../migrations/0001_core.sql"),
        include_str!("../migrations/0002_record_columns.sql"),
        include_str!("../migrations/0003_token_rate_limits.sql"),
        include_str!("../migrations/0004_recordings.sql"),
        include_str!("../migrations/0005_oauth_apps.sql"),
        include_str!("../migrations/0006_mobile_events.sql"),
    ];

    fn migrations() -> rusqlite_migration::Migrations<'static> {
        rusqlite_migration::Migrations::new(
            Self::MIGRATIONS
                .iter()
                .map(|m| rusqlite_migration::M::up(m))
                .collect(),
        )
    }

    /// A read session on a pooled reader (one opened when the pool has none free).
    async fn reader(&self) -> Result<SqliteTx> {
        let permit = self
            .inner
            .read_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(backend)?;
        let pooled = self.inner.readers.lock().map_err(backend)?.pop();
        let conn = match pooled {
            Some(c) => c,
            None => open(&self.inner.path, true)?,
        };
        // One read transaction for the whole session: the queries behind one view see one
        // snapshot, and the WAL read lock is taken once instead of once per statement.
        conn.execute_batch("BEGIN").map_err(db)?;
        Ok(SqliteTx(Session::Read {
            conn: Some(conn),
            store: self.inner.clone(),
            _permit: permit,
        }))
    }
}

/// Writes a consistent copy of the database a `sqlite:` URL names to the new file `to`, while
/// a server keeps writing to it: SQLite's `VACUUM INTO` on a read-only connection of its own
/// reads one snapshot, so the copy holds exactly the transactions committed before it began,
/// compacted. Nothing of the source is changed or locked against writers. Refused when `to`
/// exists.
pub async fn backup(url: &str, to: &std::path::Path) -> Result<()> {
    let source = path_of(url)?;
    if !std::path::Path::new(&source).exists() {
        return Err(StoreError::Backend(format!("{source} does not exist")));
    }
    if to.exists() {
        return Err(StoreError::Backend(format!(
            "{} exists: a backup is written to a new file",
            to.display()
        )));
    }
    let target = to
        .to_str()
        .ok_or_else(|| StoreError::Backend("the backup path is not UTF-8".into()))?
        .to_owned();
    tokio::task::spawn_blocking(move || {
        let conn = open(&source, true)?;
        conn.execute("VACUUM INTO ?1", [&target]).map_err(db)?;
        Ok(())
    })
    .await
    .map_err(backend)?
}

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps a rusqlite error, turning unique and primary-key violations into `Conflict`.
pub(crate) fn db(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e
        && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    {
        return StoreError::Conflict(msg.clone().unwrap_or_else(|| f.to_string()));
    }
    StoreError::Backend(e.to_string())
}

impl Store for SqliteStore {
    type Tx = SqliteTx;

    async fn begin(&self) -> Result<SqliteTx> {
        Ok(SqliteTx(Session::Write(self.inner.writer.begin().await?)))
    }

    async fn read(&self) -> Result<ReadOnly<SqliteTx>> {
        Ok(ReadOnly::new(self.reader().await?))
    }

    async fn ready(&self) -> Result<()> {
        let tx = self.reader().await?;
        let applied: i64 = tx
            .c()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        let known = Self::MIGRATIONS.len() as i64;
        if applied < known {
            return Err(StoreError::Backend(format!(
                "{applied} of {known} migrations applied"
            )));
        }
        Ok(())
    }

    async fn refresh_statistics(&self) -> Result<()> {
        // Nothing to refresh: SQLite plans a statement when it is prepared, from the schema and
        // its indexes (this store keeps no `sqlite_stat1`), so a plan never depends on how
        // many rows a table held then.
        Ok(())
    }

    fn pool_use(&self) -> PoolUse {
        let open = self.inner.readers.lock().map_or(0, |r| r.len()) as u32;
        let reading = READERS as u32 - self.inner.read_permits.available_permits() as u32;
        // The writer is always open; it is in use while a write unit or a batch holds it.
        let writing = u32::from(self.inner.writer.busy());
        PoolUse {
            max: READERS as u32 + 1,
            open: 1 + open + reading,
            in_use: reading + writing,
        }
    }

    async fn migrate(&self) -> Result<()> {
        let mut writer = self.inner.writer.exclusive().await;
        Self::migrations()
            .to_latest(&mut writer.conn)
            .map_err(backend)?;
        list::backfill(&mut writer.conn)
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    async fn close(&self) {
        // Readers are dropped; the writer checkpoints the WAL so the file stands alone.
        self.inner.checkpointer.abort();
        if let Ok(mut readers) = self.inner.readers.lock() {
            readers.clear();
        }
        let writer = self.inner.writer.exclusive().await;
        let _ = writer.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    }
}

/// A write transaction on the one writer connection, or a read session on a pooled reader.
pub struct SqliteTx(Session);

enum Session {
    Write(writer::Unit),
    /// Committed: nothing left to hold.
    Done,
    Read {
        conn: Option<Connection>,
        store: Arc<Inner>,
        _permit: OwnedSemaphorePermit,
    },
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        // A write unit rolls itself back on drop; a reader goes back to the pool.
        if let Session::Read { conn, store, .. } = &mut self.0
            && let Some(c) = conn.take()
            // Ends the read transaction; a connection that cannot is not reused.
            && c.execute_batch("COMMIT").is_ok()
            && let Ok(mut pool) = store.readers.lock()
        {
            pool.push(c);
        }
    }
}

impl SqliteTx {
    fn c(&self) -> &Connection {
        match &self.0 {
            Session::Write(unit) => unit.conn(),
            Session::Read { conn, .. } => conn.as_ref().expect("a reader holds its connection"),
            Session::Done => unreachable!("a committed session is consumed"),
        }
    }

    fn one<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: fn(&rusqlite::Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut stmt = self.c().prepare_cached(sql).map_err(db)?;
        let mut rows = stmt.query(params).map_err(db)?;
        match rows.next().map_err(db)? {
            Some(row) => map(row).map(Some),
            None => Ok(None),
        }
    }

    fn all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: fn(&rusqlite::Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.c().prepare_cached(sql).map_err(db)?;
        let mut rows = stmt.query(params).map_err(db)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db)? {
            out.push(map(row)?);
        }
        Ok(out)
    }

    fn built<T>(&self, q: &Sql, map: fn(&rusqlite::Row) -> Result<T>) -> Result<Vec<T>> {
        self.all(&q.text, rusqlite::params_from_iter(q.params.iter()), map)
    }

    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
        self.c()
            .prepare_cached(sql)
            .map_err(db)?
            .execute(params)
            .map_err(db)
    }
}

pub(crate) fn ts(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn ots(t: &Option<DateTime<Utc>>) -> Option<i64> {
    t.as_ref().map(ts)
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

/// `SELECT <cols> FROM <table> WHERE id IN (…) AND org_id = ?` for a list of ids. The unary
/// `+` keeps the planner on the primary key: without statistics it would otherwise walk the
/// organization's `(org_id, …)` index, a scan of every row the tenant has.
fn by_ids<I: Copy + Into<uuid::Uuid>>(cols: &str, table: &str, org: OrgId, ids: &[I]) -> Sql {
    let mut q = Sql::new(format!("SELECT {cols} FROM {table} WHERE id IN ("));
    q.bind_list(ids.iter().map(|i| (*i).into()));
    q.push(") AND +org_id = ").bind(org.uuid());
    q
}

/// Rows of `table` whose external id, email key or name key equals the one given: three index
/// seeks joined by UNION (an `OR` would scan the organization).
fn matching_sql(cols: &str, table: &str) -> String {
    format!(
        "SELECT {cols} FROM {table} WHERE org_id = ?1 AND external_id = ?2 \
         UNION SELECT {cols} FROM {table} WHERE org_id = ?1 AND email_key = ?3 \
         UNION SELECT {cols} FROM {table} WHERE org_id = ?1 AND name_key = ?4 ORDER BY 1"
    )
}

impl WriteTx for SqliteTx {
    async fn commit(self) -> Result<()> {
        // The session moves out of `self`; the reader (if any) returns to the pool on drop.
        let mut this = self;
        match std::mem::replace(&mut this.0, Session::Done) {
            Session::Write(unit) => unit.commit().await,
            other => {
                this.0 = other;
                Ok(())
            }
        }
    }

    async fn lock_keys(&mut self, _keys: &[i64]) -> Result<()> {
        // One write transaction at a time: nobody else holds a lock to queue behind.
        Ok(())
    }
}
