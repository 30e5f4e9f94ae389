//! The SQLite backend: embedded, WAL, the default. Statements run inline on the calling task
//! through rusqlite: each takes microseconds, far less than handing it to another thread.
//! One writer connection (SQLite has one writer at a time; waiting for it in a queue is cheaper
//! than BUSY retries) and a small pool of read-only connections that never block it.

mod list;
mod rows;
mod sql;
mod writer;

use chrono::{DateTime, Utc};
use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::Result;
use liaison_store::*;
use list::{RECORD_COLS, RECORD_WRITE_COLS};
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

    fn migrations() -> rusqlite_migration::Migrations<'static> {
        rusqlite_migration::Migrations::new(vec![
            rusqlite_migration::M::up(include_str!("../migrations/0001_core.sql")),
            rusqlite_migration::M::up(include_str!("../migrations/0002_record_columns.sql")),
        ])
    }
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

    async fn read(&self) -> Result<SqliteTx> {
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
    "id, org_id, connection_id, name, prefix, hash, scopes, created_at, revoked_at";
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

impl StoreTx for SqliteTx {
    async fn lock_keys(&mut self, _keys: &[i64]) -> Result<()> {
        // One write transaction at a time: nobody else holds a lock to queue behind.
        Ok(())
    }

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

    async fn get_record(&mut self, org: OrgId, id: RecordId) -> Result<Option<RecordRow>> {
        self.one(
            &format!(
                "SELECT {} FROM records WHERE id = ?1 AND org_id = ?2",
                *RECORD_COLS
            ),
            params![id.uuid(), org.uuid()],
            record,
        )
    }

    async fn get_record_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        kind: RecordKind,
        external_id: &str,
    ) -> Result<Option<RecordRow>> {
        self.one(
            &format!(
                "SELECT {} FROM records \
                 WHERE org_id = ?1 AND connection_id = ?2 AND kind = ?3 AND external_id = ?4",
                *RECORD_COLS
            ),
            params![org.uuid(), connection.uuid(), kind.as_str(), external_id],
            record,
        )
    }

    async fn get_records(&mut self, org: OrgId, ids: &[RecordId]) -> Result<Vec<RecordRow>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        self.built(&by_ids(&RECORD_COLS, "records", org, ids), record)
    }

    async fn insert_record(&mut self, r: &RecordRow) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO records ({RECORD_WRITE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                 ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, \
                 ?24, ?25, ?26, ?27)"
            ),
            record_params(r),
        )?;
        if r.kind == RecordKind::Opportunity {
            list::put_contacts(self.c(), r.org, r.id.uuid(), &r.indexed.contacts, false)?;
        }
        Ok(())
    }

    async fn update_record(&mut self, r: &RecordRow) -> Result<()> {
        self.exec(
            "UPDATE records SET org_id = ?2, connection_id = ?3, kind = ?4, \
             external_id = ?5, account_id = ?6, contact_id = ?7, lead_id = ?8, \
             opportunity_id = ?9, owner_id = ?10, engagement_type_id = ?11, recording_id = ?12, \
             sort_at = ?13, remote_updated_at = ?14, deleted_at = ?15, merged_into = ?16, \
             created_at = ?17, updated_at = ?18, data = ?19, title = ?20, start_time = ?21, \
             end_time = ?22, direction = ?23, is_private = ?24, remote_created_at = ?25, \
             remote_data = ?26, title_key = ?27 WHERE id = ?1",
            record_params(r),
        )?;
        if r.kind == RecordKind::Opportunity {
            list::put_contacts(self.c(), r.org, r.id.uuid(), &r.indexed.contacts, true)?;
        }
        Ok(())
    }

    async fn list_records(&mut self, org: OrgId, q: &RecordQuery) -> Result<Vec<RecordRow>> {
        let plan = q.plan();
        let mut rows = self.built(&list::select(org, &plan), record)?;
        if plan.reverse {
            rows.reverse();
        }
        Ok(rows)
    }

    async fn records_referencing(
        &mut self,
        org: OrgId,
        target_kind: RecordKind,
        target: RecordId,
    ) -> Result<Vec<RecordRow>> {
        let column = match target_kind {
            RecordKind::Account => "account_id",
            RecordKind::Contact => "contact_id",
            RecordKind::Lead => "lead_id",
            RecordKind::Opportunity => "opportunity_id",
            RecordKind::Engagement => return Ok(vec![]),
        };
        let mut sql = format!(
            "SELECT {} FROM records WHERE org_id = ?1 AND ({column} = ?2",
            *RECORD_COLS
        );
        if target_kind == RecordKind::Contact {
            sql.push_str(
                " OR id IN (SELECT opportunity_id FROM opportunity_contacts \
                 WHERE org_id = ?1 AND contact_id = ?2)",
            );
        }
        sql.push_str(") ORDER BY id");
        self.all(&sql, params![org.uuid(), target.uuid()], record)
    }

    async fn list_user_engagements(
        &mut self,
        org: OrgId,
        q: &UserEngagementQuery,
    ) -> Result<Vec<RecordRow>> {
        let cols = list::record_cols("r");
        // From the rep outwards: their CRM users, those users' live places on records, the
        // live engagements among them. Its cost follows the rep's engagements, not the
        // organization's.
        let mut s = Sql::new(format!(
            "SELECT DISTINCT {cols} FROM crm_users c \
             JOIN participants p ON p.crm_user_id = c.id AND p.deleted_at IS NULL \
             JOIN records r ON r.id = p.parent_id \
             WHERE c.user_id = "
        ));
        s.bind(q.user.uuid());
        s.push(" AND c.org_id = ").bind(org.uuid());
        s.push(" AND r.kind = 'engagement' AND r.deleted_at IS NULL AND r.merged_into IS NULL");
        if let Some(k) = &q.after {
            s.push(" AND (r.sort_at, r.id) < (").bind(ts(&k.sort_at));
            s.push(", ").bind(k.id).push(")");
        }
        if let Some(k) = &q.before {
            s.push(" AND (r.sort_at, r.id) > (").bind(ts(&k.sort_at));
            s.push(", ").bind(k.id).push(")");
        }
        // A page before a key is the `limit` nearest to it, so it is read in ascending order
        // and turned around.
        let backwards = q.before.is_some() && q.after.is_none();
        s.push(if backwards {
            " ORDER BY r.sort_at ASC, r.id ASC"
        } else {
            " ORDER BY r.sort_at DESC, r.id DESC"
        });
        s.push(" LIMIT ").bind(i64::from(q.limit));
        let mut out = self.built(&s, record)?;
        if backwards {
            out.reverse();
        }
        Ok(out)
    }

    async fn get_engagement_types(
        &mut self,
        org: OrgId,
        ids: &[EngagementTypeId],
    ) -> Result<Vec<EngagementType>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        self.built(
            &by_ids(TYPE_COLS, "engagement_types", org, ids),
            engagement_type,
        )
    }

    async fn find_engagement_type(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: Option<&str>,
        name: &str,
    ) -> Result<Option<EngagementType>> {
        match external_id {
            Some(ext) => self.one(
                &format!(
                    "SELECT {TYPE_COLS} FROM engagement_types \
                     WHERE org_id = ?1 AND connection_id = ?2 AND external_id = ?3"
                ),
                params![org.uuid(), connection.uuid(), ext],
                engagement_type,
            ),
            None => self.one(
                &format!(
                    "SELECT {TYPE_COLS} FROM engagement_types WHERE org_id = ?1 \
                     AND connection_id = ?2 AND external_id IS NULL AND name = ?3"
                ),
                params![org.uuid(), connection.uuid(), name],
                engagement_type,
            ),
        }
    }

    async fn put_engagement_type(&mut self, t: &EngagementType) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO engagement_types ({TYPE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (id) DO UPDATE SET external_id = excluded.external_id, \
                 name = excluded.name, activity_type = excluded.activity_type, \
                 updated_at = excluded.updated_at"
            ),
            params![
                t.id.uuid(),
                t.org.uuid(),
                t.connection.uuid(),
                t.external_id.as_deref(),
                t.name.as_str(),
                t.activity_type.as_str(),
                ts(&t.created_at),
                ts(&t.updated_at),
            ],
        )?;
        Ok(())
    }

    async fn get_crm_users(&mut self, org: OrgId, ids: &[CrmUserId]) -> Result<Vec<CrmUser>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        self.built(&by_ids(CRM_USER_COLS, "crm_users", org, ids), crm_user)
    }

    async fn get_crm_user_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<Option<CrmUser>> {
        self.one(
            &format!(
                "SELECT {CRM_USER_COLS} FROM crm_users \
                 WHERE org_id = ?1 AND connection_id = ?2 AND external_id = ?3"
            ),
            params![org.uuid(), connection.uuid(), external_id],
            crm_user,
        )
    }

    async fn put_crm_user(&mut self, u: &CrmUser, insert: bool) -> Result<()> {
        let (email_key, name_key) = crm_user_keys(u);
        let sql = if insert {
            "INSERT INTO crm_users (id, org_id, connection_id, external_id, email, name, \
             user_id, created_at, updated_at, email_key, name_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        } else {
            "UPDATE crm_users SET org_id = ?2, connection_id = ?3, external_id = ?4, email = ?5, \
             name = ?6, user_id = ?7, created_at = ?8, updated_at = ?9, email_key = ?10, \
             name_key = ?11 WHERE id = ?1"
        };
        self.exec(
            sql,
            params![
                u.id.uuid(),
                u.org.uuid(),
                u.connection.uuid(),
                u.external_id.as_str(),
                u.email.as_deref(),
                u.name.as_deref(),
                u.user.map(UserId::uuid),
                ts(&u.created_at),
                ts(&u.updated_at),
                email_key,
                name_key,
            ],
        )?;
        Ok(())
    }

    async fn list_crm_users(
        &mut self,
        org: OrgId,
        after: Option<CrmUserId>,
        limit: u32,
    ) -> Result<Vec<CrmUser>> {
        let mut s = Sql::new(format!(
            "SELECT {CRM_USER_COLS} FROM crm_users WHERE org_id = "
        ));
        s.bind(org.uuid());
        if let Some(a) = after {
            s.push(" AND id > ").bind(a.uuid());
        }
        s.push(" ORDER BY id LIMIT ").bind(i64::from(limit));
        self.built(&s, crm_user)
    }

    async fn crm_users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> Result<Vec<CrmUser>> {
        self.all(
            &matching_sql(CRM_USER_COLS, "crm_users"),
            params![org.uuid(), external_id, email_key, name_key],
            crm_user,
        )
    }

    async fn get_user(&mut self, org: OrgId, id: UserId) -> Result<Option<WorkspaceUser>> {
        self.one(
            &format!("SELECT {USER_COLS} FROM users WHERE id = ?1 AND org_id = ?2"),
            params![id.uuid(), org.uuid()],
            user,
        )
    }

    async fn put_user(&mut self, u: &WorkspaceUser, insert: bool) -> Result<()> {
        let (email_key, name_key) = user_keys(u);
        let sql = if insert {
            "INSERT INTO users (id, org_id, email, phone_number, first_name, last_name, \
             member_team_id, coach_team_ids, external_id, disabled, billable, is_admin, \
             contact_settings, created_at, updated_at, email_key, name_key) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
        } else {
            "UPDATE users SET org_id = ?2, email = ?3, phone_number = ?4, first_name = ?5, \
             last_name = ?6, member_team_id = ?7, coach_team_ids = ?8, external_id = ?9, \
             disabled = ?10, billable = ?11, is_admin = ?12, contact_settings = ?13, \
             created_at = ?14, updated_at = ?15, email_key = ?16, name_key = ?17 WHERE id = ?1"
        };
        self.exec(
            sql,
            params![
                u.id.uuid(),
                u.org.uuid(),
                u.email.as_deref(),
                u.phone_number.as_deref(),
                u.first_name.as_deref(),
                u.last_name.as_deref(),
                u.member_team_id.as_deref(),
                serde_json::to_string(&u.coach_team_ids).map_err(backend)?,
                u.external_id.as_deref(),
                u.disabled,
                u.billable,
                u.is_admin,
                u.contact_settings.as_ref().map(|v| v.to_string()),
                ts(&u.created_at),
                ts(&u.updated_at),
                email_key,
                name_key,
            ],
        )?;
        Ok(())
    }

    async fn list_users(&mut self, org: OrgId, q: &UserQuery) -> Result<Vec<WorkspaceUser>> {
        let mut s = Sql::new(format!("SELECT {USER_COLS} FROM users WHERE org_id = "));
        s.bind(org.uuid());
        if let Some(d) = q.disabled {
            s.push(" AND disabled = ").bind(d);
        }
        if let Some(e) = &q.external_id {
            s.push(" AND external_id = ").bind(e.as_str());
        }
        if let Some(a) = q.after {
            s.push(" AND id > ").bind(a.uuid());
        }
        s.push(" ORDER BY id LIMIT ").bind(i64::from(q.limit));
        self.built(&s, user)
    }

    async fn users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> Result<Vec<WorkspaceUser>> {
        self.all(
            &matching_sql(USER_COLS, "users"),
            params![org.uuid(), external_id, email_key, name_key],
            user,
        )
    }

    async fn get_participant(
        &mut self,
        org: OrgId,
        id: ParticipantId,
    ) -> Result<Option<Participant>> {
        self.one(
            &format!("SELECT {PARTICIPANT_COLS} FROM participants WHERE id = ?1 AND org_id = ?2"),
            params![id.uuid(), org.uuid()],
            participant,
        )
    }

    async fn find_participant(
        &mut self,
        org: OrgId,
        parent: RecordId,
        crm_user: CrmUserId,
    ) -> Result<Option<Participant>> {
        self.one(
            &format!(
                "SELECT {PARTICIPANT_COLS} FROM participants \
                 WHERE org_id = ?1 AND parent_id = ?2 AND crm_user_id = ?3"
            ),
            params![org.uuid(), parent.uuid(), crm_user.uuid()],
            participant,
        )
    }

    async fn participants_of(
        &mut self,
        org: OrgId,
        parents: &[RecordId],
    ) -> Result<Vec<Participant>> {
        if parents.is_empty() {
            return Ok(vec![]);
        }
        let mut s = Sql::new(format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = "
        ));
        // By parent first (the pair index), the organization only as a filter: see `by_ids`.
        s.bind(org.uuid())
            .push(" AND deleted_at IS NULL AND parent_id IN (");
        s.bind_list(parents.iter().map(|p| p.uuid()));
        s.push(") ORDER BY id");
        s.text = s.text.replacen("WHERE org_id = ", "WHERE +org_id = ", 1);
        self.built(&s, participant)
    }

    async fn put_participant(&mut self, p: &Participant, insert: bool) -> Result<()> {
        let sql = if insert {
            "INSERT INTO participants (id, org_id, connection_id, parent_kind, parent_id, \
             crm_user_id, name, share, deleted_at, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        } else {
            "UPDATE participants SET org_id = ?2, connection_id = ?3, parent_kind = ?4, \
             parent_id = ?5, crm_user_id = ?6, name = ?7, share = ?8, deleted_at = ?9, \
             created_at = ?10, updated_at = ?11 WHERE id = ?1"
        };
        self.exec(
            sql,
            params![
                p.id.uuid(),
                p.org.uuid(),
                p.connection.uuid(),
                p.parent_kind.as_str(),
                p.parent.uuid(),
                p.crm_user.uuid(),
                p.name.as_deref(),
                p.share.map(|s| s.get()),
                ots(&p.deleted_at),
                ts(&p.created_at),
                ts(&p.updated_at),
            ],
        )?;
        Ok(())
    }

    async fn list_participants(
        &mut self,
        org: OrgId,
        kind: ParentKind,
        q: &ParticipantQuery,
    ) -> Result<Vec<Participant>> {
        let mut s = Sql::new(format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = "
        ));
        s.bind(org.uuid());
        s.push(" AND parent_kind = ").bind(kind.as_str());
        s.push(" AND deleted_at IS NULL");
        if let Some(p) = q.parent {
            s.push(" AND parent_id = ").bind(p.uuid());
        }
        if let Some(c) = q.crm_user {
            s.push(" AND crm_user_id = ").bind(c.uuid());
        }
        if let Some(a) = q.after {
            s.push(" AND id > ").bind(a.uuid());
        }
        s.push(" ORDER BY id LIMIT ").bind(i64::from(q.limit));
        self.built(&s, participant)
    }

    async fn append_event(&mut self, e: &Event) -> Result<()> {
        self.exec(
            "INSERT INTO events (id, org_id, entity, entity_id, action, before, after, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                e.id.uuid(),
                e.org.uuid(),
                e.entity.as_str(),
                e.entity_id,
                e.action.as_str(),
                e.before.as_deref(),
                e.after.as_deref(),
                ts(&e.at),
            ],
        )?;
        Ok(())
    }

    async fn list_events(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<Event>> {
        self.all(
            &format!(
                "SELECT {EVENT_COLS} FROM events WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ),
            params![org.uuid(), after_seq, i64::from(limit)],
            event,
        )
    }

    async fn get_org_by_name(&mut self, name: &str) -> Result<Option<Org>> {
        self.one(
            "SELECT id, name, created_at FROM orgs WHERE name = ?1",
            params![name],
            org,
        )
    }

    async fn get_org(&mut self, id: OrgId) -> Result<Option<Org>> {
        self.one(
            "SELECT id, name, created_at FROM orgs WHERE id = ?1",
            params![id.uuid()],
            org,
        )
    }

    async fn insert_org(&mut self, o: &Org) -> Result<()> {
        self.exec(
            "INSERT INTO orgs (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![o.id.uuid(), o.name.as_str(), ts(&o.created_at)],
        )?;
        Ok(())
    }

    async fn count_orgs(&mut self) -> Result<i64> {
        self.c()
            .query_row("SELECT COUNT(*) FROM orgs", [], |r| r.get(0))
            .map_err(db)
    }

    async fn get_connection_by_name(
        &mut self,
        org: OrgId,
        name: &str,
    ) -> Result<Option<liaison_store::Connection>> {
        self.one(
            "SELECT id, org_id, name, created_at FROM connections WHERE org_id = ?1 AND name = ?2",
            params![org.uuid(), name],
            connection,
        )
    }

    async fn insert_connection(&mut self, c: &liaison_store::Connection) -> Result<()> {
        self.exec(
            "INSERT INTO connections (id, org_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                c.id.uuid(),
                c.org.uuid(),
                c.name.as_str(),
                ts(&c.created_at)
            ],
        )?;
        Ok(())
    }

    async fn insert_token(&mut self, t: &Token) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO tokens ({TOKEN_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                t.id.uuid(),
                t.org.uuid(),
                t.connection.uuid(),
                t.name.as_str(),
                t.prefix.as_str(),
                t.hash.as_str(),
                t.scopes.to_string(),
                ts(&t.created_at),
                ots(&t.revoked_at),
            ],
        )?;
        Ok(())
    }

    async fn get_token_by_hash(&mut self, hash: &str) -> Result<Option<Token>> {
        self.one(
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = ?1"),
            params![hash],
            token,
        )
    }

    async fn get_token(&mut self, id: TokenId) -> Result<Option<Token>> {
        self.one(
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = ?1"),
            params![id.uuid()],
            token,
        )
    }

    async fn list_tokens(&mut self) -> Result<Vec<Token>> {
        self.all(
            &format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY id"),
            [],
            token,
        )
    }

    async fn revoke_token(&mut self, id: TokenId, at: DateTime<Utc>) -> Result<bool> {
        let n = self.exec(
            "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id.uuid(), ts(&at)],
        )?;
        Ok(n > 0)
    }

    async fn get_setting(&mut self, key: &str) -> Result<Option<String>> {
        self.c()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)
    }

    async fn put_setting_if_absent(&mut self, key: &str, value: &str) -> Result<()> {
        self.exec(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            params![key, value],
        )?;
        Ok(())
    }
}
