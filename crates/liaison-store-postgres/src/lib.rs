//! The PostgreSQL backend: for production and for many instances sharing one database.
//! Same contract and semantics as the SQLite backend; concurrency comes from row locks.

mod list;
mod rows;

use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::Result;
use liaison_store::*;
use list::{RECORD_COLS, RECORD_WRITE_COLS};
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

    async fn read(&self) -> Result<PgTx> {
        // One snapshot for the session, so the queries behind one view agree with each other;
        // read-only, so it never takes a lock a writer could wait on.
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(db)?;
        Ok(PgTx {
            tx,
            write: false,
            events: Vec::new(),
        })
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await.map_err(backend)?;
        list::backfill(&self.pool).await
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
    "id, org_id, connection_id, name, prefix, hash, scopes, created_at, revoked_at";
const EVENT_COLS: &str = "seq, id, org_id, entity, entity_id, action, before, after, at";

fn uuids<T: Copy + Into<Uuid>>(ids: &[T]) -> Vec<Uuid> {
    ids.iter().map(|id| (*id).into()).collect()
}

impl StoreTx for PgTx {
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

    async fn commit(mut self) -> Result<()> {
        self.write_events().await?;
        self.tx.commit().await.map_err(db)
    }

    async fn get_record(&mut self, org: OrgId, id: RecordId) -> Result<Option<RecordRow>> {
        let sql = format!(
            "SELECT {} FROM records WHERE id = $1 AND org_id = $2{}",
            *RECORD_COLS,
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .bind(org.uuid());
        self.optional(q, record).await
    }

    async fn get_record_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        kind: RecordKind,
        external_id: &str,
    ) -> Result<Option<RecordRow>> {
        let sql = format!(
            "SELECT {} FROM records \
             WHERE org_id = $1 AND connection_id = $2 AND kind = $3 AND external_id = $4{}",
            *RECORD_COLS,
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(connection.uuid())
            .bind(kind.as_str())
            .bind(external_id);
        self.optional(q, record).await
    }

    async fn get_records(&mut self, org: OrgId, ids: &[RecordId]) -> Result<Vec<RecordRow>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {} FROM records WHERE org_id = $1 AND id = ANY($2)",
            *RECORD_COLS
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(uuids(ids));
        self.all(q, record).await
    }

    async fn insert_record(&mut self, r: &RecordRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO records ({RECORD_WRITE_COLS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23, $24, $25, $26, $27) ON CONFLICT DO NOTHING"
        );
        let done = bind_record(sqlx::query(sqlx::AssertSqlSafe(sql)), r)
            .execute(self.c())
            .await
            .map_err(db)?;
        inserted(done, "records")?;
        if r.kind == RecordKind::Opportunity {
            list::put_contacts(self.c(), r.org, r.id.uuid(), &r.indexed.contacts, false).await?;
        }
        Ok(())
    }

    async fn update_record(&mut self, r: &RecordRow) -> Result<()> {
        // The only unique key an update can break is the identity. Checking it in the same
        // statement spares a savepoint round trip per update; a key taken by a transaction
        // still uncommitted is the one case left to the constraint.
        let sql = "UPDATE records SET org_id = $2, connection_id = $3, kind = $4, \
            external_id = $5, account_id = $6, contact_id = $7, lead_id = $8, \
            opportunity_id = $9, owner_id = $10, engagement_type_id = $11, recording_id = $12, \
            sort_at = $13, remote_updated_at = $14, deleted_at = $15, merged_into = $16, \
            created_at = $17, updated_at = $18, data = $19, title = $20, start_time = $21, \
            end_time = $22, direction = $23, is_private = $24, remote_created_at = $25, \
            remote_data = $26, title_key = $27 WHERE id = $1 AND NOT EXISTS \
            (SELECT 1 FROM records WHERE org_id = $2 AND connection_id = $3 AND kind = $4 \
            AND external_id = $5 AND id <> $1)";
        let done = bind_record(sqlx::query(sql), r)
            .execute(self.c())
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            let taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM records WHERE org_id = $1 AND connection_id = $2 \
                 AND kind = $3 AND external_id = $4 AND id <> $5)",
            )
            .bind(r.org.uuid())
            .bind(r.connection.uuid())
            .bind(r.kind.as_str())
            .bind(r.external_id.as_str())
            .bind(r.id.uuid())
            .fetch_one(self.c())
            .await
            .map_err(db)?;
            if taken {
                return Err(key_taken("records"));
            }
        }
        if r.kind == RecordKind::Opportunity {
            list::put_contacts(self.c(), r.org, r.id.uuid(), &r.indexed.contacts, true).await?;
        }
        Ok(())
    }

    async fn list_records(&mut self, org: OrgId, q: &RecordQuery) -> Result<Vec<RecordRow>> {
        let plan = q.plan();
        let rows = list::select(org, &plan)
            .build()
            .fetch_all(self.c())
            .await
            .map_err(db)?;
        let mut out: Vec<RecordRow> = rows.iter().map(record).collect::<Result<_>>()?;
        if plan.reverse {
            out.reverse();
        }
        Ok(out)
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
            "SELECT {} FROM records WHERE org_id = $1 AND ({column} = $2",
            *RECORD_COLS
        );
        if target_kind == RecordKind::Contact {
            sql.push_str(
                " OR id IN (SELECT opportunity_id FROM opportunity_contacts \
                 WHERE org_id = $1 AND contact_id = $2)",
            );
        }
        sql.push_str(") ORDER BY id");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(target.uuid());
        self.all(q, record).await
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
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT DISTINCT {cols} FROM crm_users c \
             JOIN participants p ON p.crm_user_id = c.id AND p.deleted_at IS NULL \
             JOIN records r ON r.id = p.parent_id WHERE c.user_id = "
        ));
        qb.push_bind(q.user.uuid());
        qb.push(" AND c.org_id = ").push_bind(org.uuid());
        qb.push(" AND r.kind = 'engagement' AND r.deleted_at IS NULL AND r.merged_into IS NULL");
        if let Some(k) = q.after {
            qb.push(" AND (r.sort_at, r.id) < (").push_bind(k.sort_at);
            qb.push(", ").push_bind(k.id).push(")");
        }
        if let Some(k) = q.before {
            qb.push(" AND (r.sort_at, r.id) > (").push_bind(k.sort_at);
            qb.push(", ").push_bind(k.id).push(")");
        }
        // A page before a key is the `limit` nearest to it, so it is read in ascending order
        // and turned around here.
        let backwards = q.before.is_some() && q.after.is_none();
        qb.push(if backwards {
            " ORDER BY r.sort_at ASC, r.id ASC"
        } else {
            " ORDER BY r.sort_at DESC, r.id DESC"
        });
        qb.push(" LIMIT ").push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        let mut out: Vec<RecordRow> = rows.iter().map(record).collect::<Result<_>>()?;
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
        let sql =
            format!("SELECT {TYPE_COLS} FROM engagement_types WHERE org_id = $1 AND id = ANY($2)");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(uuids(ids));
        self.all(q, engagement_type).await
    }

    async fn find_engagement_type(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: Option<&str>,
        name: &str,
    ) -> Result<Option<EngagementType>> {
        let lock = self.lock();
        let q = match external_id {
            Some(ext) => {
                let sql = format!(
                    "SELECT {TYPE_COLS} FROM engagement_types \
                     WHERE org_id = $1 AND connection_id = $2 AND external_id = $3{lock}"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(org.uuid())
                    .bind(connection.uuid())
                    .bind(ext)
            }
            None => {
                let sql = format!(
                    "SELECT {TYPE_COLS} FROM engagement_types WHERE org_id = $1 \
                     AND connection_id = $2 AND external_id IS NULL AND name = $3{lock}"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(org.uuid())
                    .bind(connection.uuid())
                    .bind(name)
            }
        };
        self.optional(q, engagement_type).await
    }

    async fn put_engagement_type(&mut self, t: &EngagementType) -> Result<()> {
        let sql = format!(
            "INSERT INTO engagement_types ({TYPE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET external_id = excluded.external_id, \
             name = excluded.name, activity_type = excluded.activity_type, \
             updated_at = excluded.updated_at"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id.uuid())
            .bind(t.org.uuid())
            .bind(t.connection.uuid())
            .bind(t.external_id.as_deref())
            .bind(t.name.as_str())
            .bind(t.activity_type.as_str())
            .bind(t.created_at)
            .bind(t.updated_at);
        self.guarded(q).await?;
        Ok(())
    }

    async fn get_crm_users(&mut self, org: OrgId, ids: &[CrmUserId]) -> Result<Vec<CrmUser>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql =
            format!("SELECT {CRM_USER_COLS} FROM crm_users WHERE org_id = $1 AND id = ANY($2)");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(uuids(ids));
        self.all(q, crm_user).await
    }

    async fn get_crm_user_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<Option<CrmUser>> {
        let sql = format!(
            "SELECT {CRM_USER_COLS} FROM crm_users \
             WHERE org_id = $1 AND connection_id = $2 AND external_id = $3{}",
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(connection.uuid())
            .bind(external_id);
        self.optional(q, crm_user).await
    }

    async fn put_crm_user(&mut self, u: &CrmUser, insert: bool) -> Result<()> {
        let (email_key, name_key) = crm_user_keys(u);
        let sql = if insert {
            "INSERT INTO crm_users (id, org_id, connection_id, external_id, email, name, \
             user_id, created_at, updated_at, email_key, name_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING"
        } else {
            "UPDATE crm_users SET org_id = $2, connection_id = $3, external_id = $4, email = $5, \
             name = $6, user_id = $7, created_at = $8, updated_at = $9, email_key = $10, \
             name_key = $11 WHERE id = $1"
        };
        let q = sqlx::query(sql)
            .bind(u.id.uuid())
            .bind(u.org.uuid())
            .bind(u.connection.uuid())
            .bind(u.external_id.as_str())
            .bind(u.email.as_deref())
            .bind(u.name.as_deref())
            .bind(u.user.map(UserId::uuid))
            .bind(u.created_at)
            .bind(u.updated_at)
            .bind(email_key)
            .bind(name_key);
        if insert {
            inserted(q.execute(self.c()).await.map_err(db)?, "crm_users")
        } else {
            self.guarded(q).await.map(drop)
        }
    }

    async fn list_crm_users(
        &mut self,
        org: OrgId,
        after: Option<CrmUserId>,
        limit: u32,
    ) -> Result<Vec<CrmUser>> {
        // A missing cursor reads as the nil UUID, below every real id.
        let sql = format!(
            "SELECT {CRM_USER_COLS} FROM crm_users WHERE org_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(after.map_or(Uuid::nil(), CrmUserId::uuid))
            .bind(i64::from(limit));
        self.all(q, crm_user).await
    }

    async fn crm_users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> Result<Vec<CrmUser>> {
        let keys = (external_id, email_key, name_key);
        self.matching(CRM_USER_COLS, "crm_users", org, keys, crm_user)
            .await
    }

    async fn get_user(&mut self, org: OrgId, id: UserId) -> Result<Option<WorkspaceUser>> {
        let sql = format!(
            "SELECT {USER_COLS} FROM users WHERE id = $1 AND org_id = $2{}",
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .bind(org.uuid());
        self.optional(q, user).await
    }

    async fn put_user(&mut self, u: &WorkspaceUser, insert: bool) -> Result<()> {
        let (email_key, name_key) = user_keys(u);
        let sql = if insert {
            "INSERT INTO users (id, org_id, email, phone_number, first_name, last_name, \
             member_team_id, coach_team_ids, external_id, disabled, billable, is_admin, \
             contact_settings, created_at, updated_at, email_key, name_key) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT DO NOTHING"
        } else {
            "UPDATE users SET org_id = $2, email = $3, phone_number = $4, first_name = $5, \
             last_name = $6, member_team_id = $7, coach_team_ids = $8, external_id = $9, \
             disabled = $10, billable = $11, is_admin = $12, contact_settings = $13, \
             created_at = $14, updated_at = $15, email_key = $16, name_key = $17 WHERE id = $1"
        };
        let q = sqlx::query(sql)
            .bind(u.id.uuid())
            .bind(u.org.uuid())
            .bind(u.email.as_deref())
            .bind(u.phone_number.as_deref())
            .bind(u.first_name.as_deref())
            .bind(u.last_name.as_deref())
            .bind(u.member_team_id.as_deref())
            .bind(serde_json::to_string(&u.coach_team_ids).map_err(backend)?)
            .bind(u.external_id.as_deref())
            .bind(u.disabled)
            .bind(u.billable)
            .bind(u.is_admin)
            .bind(u.contact_settings.as_ref().map(|v| v.to_string()))
            .bind(u.created_at)
            .bind(u.updated_at)
            .bind(email_key)
            .bind(name_key);
        if insert {
            inserted(q.execute(self.c()).await.map_err(db)?, "users")
        } else {
            self.guarded(q).await.map(drop)
        }
    }

    async fn list_users(&mut self, org: OrgId, q: &UserQuery) -> Result<Vec<WorkspaceUser>> {
        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {USER_COLS} FROM users WHERE org_id = "));
        qb.push_bind(org.uuid());
        if let Some(d) = q.disabled {
            qb.push(" AND disabled = ").push_bind(d);
        }
        if let Some(e) = &q.external_id {
            qb.push(" AND external_id = ").push_bind(e.clone());
        }
        if let Some(a) = q.after {
            qb.push(" AND id > ").push_bind(a.uuid());
        }
        qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(user).collect()
    }

    async fn users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> Result<Vec<WorkspaceUser>> {
        let keys = (external_id, email_key, name_key);
        self.matching(USER_COLS, "users", org, keys, user).await
    }

    async fn get_participant(
        &mut self,
        org: OrgId,
        id: ParticipantId,
    ) -> Result<Option<Participant>> {
        let sql = format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE id = $1 AND org_id = $2{}",
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .bind(org.uuid());
        self.optional(q, participant).await
    }

    async fn find_participant(
        &mut self,
        org: OrgId,
        parent: RecordId,
        crm_user: CrmUserId,
    ) -> Result<Option<Participant>> {
        let sql = format!(
            "SELECT {PARTICIPANT_COLS} FROM participants \
             WHERE org_id = $1 AND parent_id = $2 AND crm_user_id = $3{}",
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(parent.uuid())
            .bind(crm_user.uuid());
        self.optional(q, participant).await
    }

    async fn participants_of(
        &mut self,
        org: OrgId,
        parents: &[RecordId],
    ) -> Result<Vec<Participant>> {
        if parents.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = $1 \
             AND deleted_at IS NULL AND parent_id = ANY($2) ORDER BY id"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(uuids(parents));
        self.all(q, participant).await
    }

    async fn put_participant(&mut self, p: &Participant, insert: bool) -> Result<()> {
        let sql = if insert {
            "INSERT INTO participants (id, org_id, connection_id, parent_kind, parent_id, \
             crm_user_id, name, share, deleted_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING"
        } else {
            "UPDATE participants SET org_id = $2, connection_id = $3, parent_kind = $4, \
             parent_id = $5, crm_user_id = $6, name = $7, share = $8, deleted_at = $9, \
             created_at = $10, updated_at = $11 WHERE id = $1"
        };
        let q = sqlx::query(sql)
            .bind(p.id.uuid())
            .bind(p.org.uuid())
            .bind(p.connection.uuid())
            .bind(p.parent_kind.as_str())
            .bind(p.parent.uuid())
            .bind(p.crm_user.uuid())
            .bind(p.name.as_deref())
            .bind(p.share.map(|s| s.get()))
            .bind(p.deleted_at)
            .bind(p.created_at)
            .bind(p.updated_at);
        if insert {
            inserted(q.execute(self.c()).await.map_err(db)?, "participants")
        } else {
            self.guarded(q).await.map(drop)
        }
    }

    async fn list_participants(
        &mut self,
        org: OrgId,
        kind: ParentKind,
        q: &ParticipantQuery,
    ) -> Result<Vec<Participant>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = "
        ));
        qb.push_bind(org.uuid());
        qb.push(" AND parent_kind = ").push_bind(kind.as_str());
        qb.push(" AND deleted_at IS NULL");
        if let Some(p) = q.parent {
            qb.push(" AND parent_id = ").push_bind(p.uuid());
        }
        if let Some(c) = q.crm_user {
            qb.push(" AND crm_user_id = ").push_bind(c.uuid());
        }
        if let Some(a) = q.after {
            qb.push(" AND id > ").push_bind(a.uuid());
        }
        qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(participant).collect()
    }

    async fn append_event(&mut self, e: &Event) -> Result<()> {
        if !self.write {
            return Err(StoreError::Backend(
                "append_event: a read session cannot write".into(),
            ));
        }
        self.events.push(e.clone());
        Ok(())
    }

    async fn list_events(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<Event>> {
        // This transaction's own events are written at commit, so they are not seen here.
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(after_seq)
            .bind(i64::from(limit));
        self.all(q, event).await
    }

    async fn get_org_by_name(&mut self, name: &str) -> Result<Option<Org>> {
        let q = sqlx::query("SELECT id, name, created_at FROM orgs WHERE name = $1").bind(name);
        self.optional(q, org).await
    }

    async fn get_org(&mut self, id: OrgId) -> Result<Option<Org>> {
        let q = sqlx::query("SELECT id, name, created_at FROM orgs WHERE id = $1").bind(id.uuid());
        self.optional(q, org).await
    }

    async fn insert_org(&mut self, o: &Org) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(o.id.uuid())
        .bind(o.name.as_str())
        .bind(o.created_at)
        .execute(self.c())
        .await
        .map_err(db)?;
        inserted(done, "orgs")
    }

    async fn count_orgs(&mut self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM orgs")
            .fetch_one(self.c())
            .await
            .map_err(db)?;
        row.try_get(0).map_err(db)
    }

    async fn get_connection_by_name(
        &mut self,
        org: OrgId,
        name: &str,
    ) -> Result<Option<Connection>> {
        let q = sqlx::query(
            "SELECT id, org_id, name, created_at FROM connections WHERE org_id = $1 AND name = $2",
        )
        .bind(org.uuid())
        .bind(name);
        self.optional(q, connection).await
    }

    async fn insert_connection(&mut self, c: &Connection) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO connections (id, org_id, name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(c.id.uuid())
        .bind(c.org.uuid())
        .bind(c.name.as_str())
        .bind(c.created_at)
        .execute(self.c())
        .await
        .map_err(db)?;
        inserted(done, "connections")
    }

    async fn insert_token(&mut self, t: &Token) -> Result<()> {
        let sql = format!(
            "INSERT INTO tokens ({TOKEN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT DO NOTHING"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id.uuid())
            .bind(t.org.uuid())
            .bind(t.connection.uuid())
            .bind(t.name.as_str())
            .bind(t.prefix.as_str())
            .bind(t.hash.as_str())
            .bind(t.scopes.to_string())
            .bind(t.created_at)
            .bind(t.revoked_at)
            .execute(self.c())
            .await
            .map_err(db)?;
        inserted(done, "tokens")
    }

    async fn get_token_by_hash(&mut self, hash: &str) -> Result<Option<Token>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = $1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(hash);
        self.optional(q, token).await
    }

    async fn get_token(&mut self, id: TokenId) -> Result<Option<Token>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = $1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.uuid());
        self.optional(q, token).await
    }

    async fn list_tokens(&mut self) -> Result<Vec<Token>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY id");
        self.all(sqlx::query(sqlx::AssertSqlSafe(sql)), token).await
    }

    async fn revoke_token(&mut self, id: TokenId, at: Instant) -> Result<bool> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.uuid())
                .bind(at)
                .execute(self.c())
                .await
                .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_setting(&mut self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(self.c())
            .await
            .map_err(db)?;
        row.map(|r| r.try_get(0).map_err(db)).transpose()
    }

    async fn put_setting_if_absent(&mut self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(self.c())
        .await
        .map_err(db)?;
        Ok(())
    }
}
