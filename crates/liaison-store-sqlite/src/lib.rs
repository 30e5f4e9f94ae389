//! The SQLite backend: embedded, WAL, the default. One writer connection (SQLite has one writer
//! at a time; queueing in the pool is cheaper than BUSY retries) and a pool of readers.

mod rows;

use chrono::{DateTime, Utc};
use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::Result;
use liaison_store::*;
use rows::*;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite:` URL.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL is durable across application crashes; only a power loss can lose
            // the last transactions, and it never corrupts the database.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(backend)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await
            .map_err(backend)?;
        Ok(SqliteStore { writer, readers })
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps a sqlx error, turning unique violations into `Conflict`.
fn db(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        if d.is_unique_violation() {
            return StoreError::Conflict(d.message().to_owned());
        }
    }
    StoreError::Backend(e.to_string())
}

impl Store for SqliteStore {
    type Tx = SqliteTx;

    async fn begin(&self) -> Result<SqliteTx> {
        // IMMEDIATE takes the write lock up front, so a transaction never fails half-way
        // because another writer got there first.
        let tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db)?;
        Ok(SqliteTx::Write(tx))
    }

    async fn read(&self) -> Result<SqliteTx> {
        Ok(SqliteTx::Read(self.readers.acquire().await.map_err(db)?))
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.writer).await.map_err(backend)
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }
}

pub enum SqliteTx {
    Write(Transaction<'static, Sqlite>),
    Read(PoolConnection<Sqlite>),
}

impl SqliteTx {
    fn c(&mut self) -> &mut SqliteConnection {
        match self {
            SqliteTx::Write(tx) => tx,
            SqliteTx::Read(conn) => conn,
        }
    }
}

pub(crate) fn ts(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn ots(t: &Option<DateTime<Utc>>) -> Option<i64> {
    t.as_ref().map(ts)
}

const RECORD_COLS: &str = "id, org_id, connection_id, kind, external_id, account_id, contact_id, \
    lead_id, opportunity_id, owner_id, engagement_type_id, recording_id, sort_at, \
    remote_updated_at, deleted_at, merged_into, created_at, updated_at, data";
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

fn push_ids<'a, T: Copy + Into<uuid::Uuid>>(
    qb: &mut QueryBuilder<Sqlite>,
    ids: impl IntoIterator<Item = &'a T>,
) where
    T: 'a,
{
    let mut sep = qb.separated(", ");
    for id in ids {
        let u: uuid::Uuid = (*id).into();
        sep.push_bind(u);
    }
}

impl StoreTx for SqliteTx {
    async fn commit(self) -> Result<()> {
        match self {
            SqliteTx::Write(tx) => tx.commit().await.map_err(db),
            SqliteTx::Read(_) => Ok(()),
        }
    }

    async fn get_record(&mut self, org: OrgId, id: RecordId) -> Result<Option<RecordRow>> {
        let sql = format!("SELECT {RECORD_COLS} FROM records WHERE id = $1 AND org_id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .bind(org.uuid())
            .fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| record(&r))
            .transpose()
    }

    async fn get_record_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        kind: RecordKind,
        external_id: &str,
    ) -> Result<Option<RecordRow>> {
        let sql = format!(
            "SELECT {RECORD_COLS} FROM records \
             WHERE org_id = $1 AND connection_id = $2 AND kind = $3 AND external_id = $4"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(connection.uuid())
            .bind(kind.as_str())
            .bind(external_id)
            .fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| record(&r))
            .transpose()
    }

    async fn get_records(&mut self, org: OrgId, ids: &[RecordId]) -> Result<Vec<RecordRow>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut qb =
            QueryBuilder::new(format!("SELECT {RECORD_COLS} FROM records WHERE org_id = "));
        qb.push_bind(org.uuid()).push(" AND id IN (");
        push_ids(&mut qb, ids);
        qb.push(")");
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(record).collect()
    }

    async fn insert_record(&mut self, r: &RecordRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO records ({RECORD_COLS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        );
        bind_record(sqlx::query(sqlx::AssertSqlSafe(sql)), r)
            .execute(self.c())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn update_record(&mut self, r: &RecordRow) -> Result<()> {
        let sql = "UPDATE records SET org_id = $2, connection_id = $3, kind = $4, \
            external_id = $5, account_id = $6, contact_id = $7, lead_id = $8, \
            opportunity_id = $9, owner_id = $10, engagement_type_id = $11, recording_id = $12, \
            sort_at = $13, remote_updated_at = $14, deleted_at = $15, merged_into = $16, \
            created_at = $17, updated_at = $18, data = $19 WHERE id = $1";
        bind_record(sqlx::query(sql), r)
            .execute(self.c())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn list_records(&mut self, org: OrgId, q: &RecordQuery) -> Result<Vec<RecordRow>> {
        let mut qb =
            QueryBuilder::new(format!("SELECT {RECORD_COLS} FROM records WHERE org_id = "));
        qb.push_bind(org.uuid());
        qb.push(" AND kind = ").push_bind(q.kind.as_str());
        if let Some(c) = q.connection {
            qb.push(" AND connection_id = ").push_bind(c.uuid());
        }
        if let Some(e) = &q.external_id {
            qb.push(" AND external_id = ").push_bind(e.clone());
        }
        if let Some(r) = &q.recording_id {
            qb.push(" AND recording_id = ").push_bind(r.clone());
        }
        if let Some((from, to)) = &q.start_between {
            qb.push(" AND sort_at >= ").push_bind(ts(from));
            qb.push(" AND sort_at <= ").push_bind(ts(to));
            qb.push(" AND json_extract(data, '$.startTime') IS NOT NULL");
        }
        if !q.include_hidden {
            qb.push(" AND deleted_at IS NULL AND merged_into IS NULL");
        }
        match (q.order, &q.after) {
            (Order::IdAsc, Some(k)) => {
                qb.push(" AND id > ").push_bind(k.id);
            }
            (Order::SortDesc, Some(k)) => {
                qb.push(" AND (sort_at < ").push_bind(ts(&k.sort_at));
                qb.push(" OR (sort_at = ").push_bind(ts(&k.sort_at));
                qb.push(" AND id < ").push_bind(k.id).push("))");
            }
            _ => {}
        }
        qb.push(match q.order {
            Order::IdAsc => " ORDER BY id ASC",
            Order::SortDesc => " ORDER BY sort_at DESC, id DESC",
        });
        qb.push(" LIMIT ").push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(record).collect()
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
        let mut sql =
            format!("SELECT {RECORD_COLS} FROM records WHERE org_id = $1 AND ({column} = $2");
        if target_kind == RecordKind::Contact {
            sql.push_str(
                " OR (kind = 'opportunity' AND EXISTS (SELECT 1 FROM \
                 json_each(records.data, '$.contactIds') WHERE value = $3))",
            );
        }
        sql.push_str(") ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(target.uuid())
            .bind(target.to_string())
            .fetch_all(self.c())
            .await
            .map_err(db)?;
        rows.iter().map(record).collect()
    }

    async fn list_user_engagements(
        &mut self,
        org: OrgId,
        q: &UserEngagementQuery,
    ) -> Result<Vec<RecordRow>> {
        let cols = RECORD_COLS
            .split(", ")
            .map(|c| format!("r.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut qb = QueryBuilder::new(format!("SELECT {cols} FROM records r WHERE r.org_id = "));
        qb.push_bind(org.uuid());
        qb.push(
            " AND r.kind = 'engagement' AND r.deleted_at IS NULL AND r.merged_into IS NULL \
             AND EXISTS (SELECT 1 FROM participants p JOIN crm_users c ON c.id = p.crm_user_id \
             WHERE p.parent_id = r.id AND p.deleted_at IS NULL AND c.user_id = ",
        );
        qb.push_bind(q.user.uuid()).push(")");
        if let Some(k) = &q.after {
            qb.push(" AND (r.sort_at < ").push_bind(ts(&k.sort_at));
            qb.push(" OR (r.sort_at = ").push_bind(ts(&k.sort_at));
            qb.push(" AND r.id < ").push_bind(k.id).push("))");
        }
        if let Some(k) = &q.before {
            qb.push(" AND (r.sort_at > ").push_bind(ts(&k.sort_at));
            qb.push(" OR (r.sort_at = ").push_bind(ts(&k.sort_at));
            qb.push(" AND r.id > ").push_bind(k.id).push("))");
        }
        // A page before a key is the `limit` nearest to it, so it is read in ascending order
        // and turned around by the caller.
        if q.before.is_some() && q.after.is_none() {
            qb.push(" ORDER BY r.sort_at ASC, r.id ASC");
        } else {
            qb.push(" ORDER BY r.sort_at DESC, r.id DESC");
        }
        qb.push(" LIMIT ").push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        let mut out: Vec<RecordRow> = rows.iter().map(record).collect::<Result<_>>()?;
        if q.before.is_some() && q.after.is_none() {
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
        let mut qb = QueryBuilder::new(format!(
            "SELECT {TYPE_COLS} FROM engagement_types WHERE org_id = "
        ));
        qb.push_bind(org.uuid()).push(" AND id IN (");
        push_ids(&mut qb, ids);
        qb.push(")");
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(engagement_type).collect()
    }

    async fn find_engagement_type(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: Option<&str>,
        name: &str,
    ) -> Result<Option<EngagementType>> {
        let row = match external_id {
            Some(ext) => {
                let sql = format!(
                    "SELECT {TYPE_COLS} FROM engagement_types \
                     WHERE org_id = $1 AND connection_id = $2 AND external_id = $3"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(org.uuid())
                    .bind(connection.uuid())
                    .bind(ext)
                    .fetch_optional(self.c())
                    .await
            }
            None => {
                let sql = format!(
                    "SELECT {TYPE_COLS} FROM engagement_types WHERE org_id = $1 \
                     AND connection_id = $2 AND external_id IS NULL AND name = $3"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(org.uuid())
                    .bind(connection.uuid())
                    .bind(name)
                    .fetch_optional(self.c())
                    .await
            }
        }
        .map_err(db)?;
        row.map(|r| engagement_type(&r)).transpose()
    }

    async fn put_engagement_type(&mut self, t: &EngagementType) -> Result<()> {
        let sql = format!(
            "INSERT INTO engagement_types ({TYPE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET external_id = excluded.external_id, \
             name = excluded.name, activity_type = excluded.activity_type, \
             updated_at = excluded.updated_at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id.uuid())
            .bind(t.org.uuid())
            .bind(t.connection.uuid())
            .bind(t.external_id.as_deref())
            .bind(t.name.as_str())
            .bind(t.activity_type.as_str())
            .bind(ts(&t.created_at))
            .bind(ts(&t.updated_at))
            .execute(self.c())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn get_crm_users(&mut self, org: OrgId, ids: &[CrmUserId]) -> Result<Vec<CrmUser>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut qb = QueryBuilder::new(format!(
            "SELECT {CRM_USER_COLS} FROM crm_users WHERE org_id = "
        ));
        qb.push_bind(org.uuid()).push(" AND id IN (");
        push_ids(&mut qb, ids);
        qb.push(")");
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(crm_user).collect()
    }

    async fn get_crm_user_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<Option<CrmUser>> {
        let sql = format!(
            "SELECT {CRM_USER_COLS} FROM crm_users \
             WHERE org_id = $1 AND connection_id = $2 AND external_id = $3"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(connection.uuid())
            .bind(external_id)
            .fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| crm_user(&r))
            .transpose()
    }

    async fn put_crm_user(&mut self, u: &CrmUser, insert: bool) -> Result<()> {
        let (email_key, name_key) = crm_user_keys(u);
        let sql = if insert {
            "INSERT INTO crm_users (id, org_id, connection_id, external_id, email, name, \
             user_id, created_at, updated_at, email_key, name_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        } else {
            "UPDATE crm_users SET org_id = $2, connection_id = $3, external_id = $4, email = $5, \
             name = $6, user_id = $7, created_at = $8, updated_at = $9, email_key = $10, \
             name_key = $11 WHERE id = $1"
        };
        sqlx::query(sql)
            .bind(u.id.uuid())
            .bind(u.org.uuid())
            .bind(u.connection.uuid())
            .bind(u.external_id.as_str())
            .bind(u.email.as_deref())
            .bind(u.name.as_deref())
            .bind(u.user.map(UserId::uuid))
            .bind(ts(&u.created_at))
            .bind(ts(&u.updated_at))
            .bind(email_key)
            .bind(name_key)
            .execute(self.c())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn list_crm_users(
        &mut self,
        org: OrgId,
        after: Option<CrmUserId>,
        limit: u32,
    ) -> Result<Vec<CrmUser>> {
        let mut qb = QueryBuilder::new(format!(
            "SELECT {CRM_USER_COLS} FROM crm_users WHERE org_id = "
        ));
        qb.push_bind(org.uuid());
        if let Some(a) = after {
            qb.push(" AND id > ").push_bind(a.uuid());
        }
        qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(crm_user).collect()
    }

    async fn crm_users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> Result<Vec<CrmUser>> {
        let sql = format!(
            "SELECT {CRM_USER_COLS} FROM crm_users WHERE org_id = $1 AND \
             (external_id = $2 OR email_key = $3 OR name_key = $4) ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(external_id)
            .bind(email_key)
            .bind(name_key)
            .fetch_all(self.c())
            .await
            .map_err(db)?;
        rows.iter().map(crm_user).collect()
    }

    async fn get_user(&mut self, org: OrgId, id: UserId) -> Result<Option<WorkspaceUser>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1 AND org_id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .bind(org.uuid())
            .fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| user(&r))
            .transpose()
    }

    async fn put_user(&mut self, u: &WorkspaceUser, insert: bool) -> Result<()> {
        let (email_key, name_key) = user_keys(u);
        let sql = if insert {
            "INSERT INTO users (id, org_id, email, phone_number, first_name, last_name, \
             member_team_id, coach_team_ids, external_id, disabled, billable, is_admin, \
             contact_settings, created_at, updated_at, email_key, name_key) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        } else {
            "UPDATE users SET org_id = $2, email = $3, phone_number = $4, first_name = $5, \
             last_name = $6, member_team_id = $7, coach_team_ids = $8, external_id = $9, \
             disabled = $10, billable = $11, is_admin = $12, contact_settings = $13, \
             created_at = $14, updated_at = $15, email_key = $16, name_key = $17 WHERE id = $1"
        };
        sqlx::query(sql)
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
            .bind(ts(&u.created_at))
            .bind(ts(&u.updated_at))
            .bind(email_key)
            .bind(name_key)
            .execute(self.c())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn list_users(&mut self, org: OrgId, q: &UserQuery) -> Result<Vec<WorkspaceUser>> {
        let mut qb = QueryBuilder::new(format!("SELECT {USER_COLS} FROM users WHERE org_id = "));
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
        let sql = format!(
            "SELECT {USER_COLS} FROM users WHERE org_id = $1 AND \
             (external_id = $2 OR email_key = $3 OR name_key = $4) ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(external_id)
            .bind(email_key)
            .bind(name_key)
            .fetch_all(self.c())
            .await
            .map_err(db)?;
        rows.iter().map(user).collect()
    }

    async fn get_participant(
        &mut self,
        org: OrgId,
        id: ParticipantId,
    ) -> Result<Option<Participant>> {
        let sql =
            format!("SELECT {PARTICIPANT_COLS} FROM participants WHERE id = $1 AND org_id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .bind(org.uuid())
            .fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| participant(&r))
            .transpose()
    }

    async fn find_participant(
        &mut self,
        org: OrgId,
        parent: RecordId,
        crm_user: CrmUserId,
    ) -> Result<Option<Participant>> {
        let sql = format!(
            "SELECT {PARTICIPANT_COLS} FROM participants \
             WHERE org_id = $1 AND parent_id = $2 AND crm_user_id = $3"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(parent.uuid())
            .bind(crm_user.uuid())
            .fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| participant(&r))
            .transpose()
    }

    async fn participants_of(
        &mut self,
        org: OrgId,
        parents: &[RecordId],
    ) -> Result<Vec<Participant>> {
        if parents.is_empty() {
            return Ok(vec![]);
        }
        let mut qb = QueryBuilder::new(format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = "
        ));
        qb.push_bind(org.uuid())
            .push(" AND deleted_at IS NULL AND parent_id IN (");
        push_ids(&mut qb, parents);
        qb.push(") ORDER BY id");
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(participant).collect()
    }

    async fn put_participant(&mut self, p: &Participant, insert: bool) -> Result<()> {
        let sql = if insert {
            "INSERT INTO participants (id, org_id, connection_id, parent_kind, parent_id, \
             crm_user_id, name, share, deleted_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        } else {
            "UPDATE participants SET org_id = $2, connection_id = $3, parent_kind = $4, \
             parent_id = $5, crm_user_id = $6, name = $7, share = $8, deleted_at = $9, \
             created_at = $10, updated_at = $11 WHERE id = $1"
        };
        sqlx::query(sql)
            .bind(p.id.uuid())
            .bind(p.org.uuid())
            .bind(p.connection.uuid())
            .bind(p.parent_kind.as_str())
            .bind(p.parent.uuid())
            .bind(p.crm_user.uuid())
            .bind(p.name.as_deref())
            .bind(p.share.map(|s| s.get()))
            .bind(ots(&p.deleted_at))
            .bind(ts(&p.created_at))
            .bind(ts(&p.updated_at))
            .execute(self.c())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn list_participants(
        &mut self,
        org: OrgId,
        kind: ParentKind,
        q: &ParticipantQuery,
    ) -> Result<Vec<Participant>> {
        let mut qb = QueryBuilder::new(format!(
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
        sqlx::query(
            "INSERT INTO events (id, org_id, entity, entity_id, action, before, after, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.id.uuid())
        .bind(e.org.uuid())
        .bind(e.entity.as_str())
        .bind(e.entity_id)
        .bind(e.action.as_str())
        .bind(e.before.as_deref())
        .bind(e.after.as_deref())
        .bind(ts(&e.at))
        .execute(self.c())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn list_events(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(self.c())
            .await
            .map_err(db)?;
        rows.iter().map(event).collect()
    }

    async fn get_org_by_name(&mut self, name: &str) -> Result<Option<Org>> {
        sqlx::query("SELECT id, name, created_at FROM orgs WHERE name = $1")
            .bind(name)
            .fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| org(&r))
            .transpose()
    }

    async fn get_org(&mut self, id: OrgId) -> Result<Option<Org>> {
        sqlx::query("SELECT id, name, created_at FROM orgs WHERE id = $1")
            .bind(id.uuid())
            .fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| org(&r))
            .transpose()
    }

    async fn insert_org(&mut self, o: &Org) -> Result<()> {
        sqlx::query("INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(o.id.uuid())
            .bind(o.name.as_str())
            .bind(ts(&o.created_at))
            .execute(self.c())
            .await
            .map_err(db)?;
        Ok(())
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
        sqlx::query(
            "SELECT id, org_id, name, created_at FROM connections WHERE org_id = $1 AND name = $2",
        )
        .bind(org.uuid())
        .bind(name)
        .fetch_optional(self.c())
        .await
        .map_err(db)?
        .map(|r| connection(&r))
        .transpose()
    }

    async fn insert_connection(&mut self, c: &Connection) -> Result<()> {
        sqlx::query(
            "INSERT INTO connections (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(c.id.uuid())
        .bind(c.org.uuid())
        .bind(c.name.as_str())
        .bind(ts(&c.created_at))
        .execute(self.c())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn insert_token(&mut self, t: &Token) -> Result<()> {
        let sql = format!(
            "INSERT INTO tokens ({TOKEN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id.uuid())
            .bind(t.org.uuid())
            .bind(t.connection.uuid())
            .bind(t.name.as_str())
            .bind(t.prefix.as_str())
            .bind(t.hash.as_str())
            .bind(t.scopes.to_string())
            .bind(ts(&t.created_at))
            .bind(ots(&t.revoked_at))
            .execute(self.c())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn get_token_by_hash(&mut self, hash: &str) -> Result<Option<Token>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| token(&r))
            .transpose()
    }

    async fn get_token(&mut self, id: TokenId) -> Result<Option<Token>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .fetch_optional(self.c())
            .await
            .map_err(db)?
            .map(|r| token(&r))
            .transpose()
    }

    async fn list_tokens(&mut self) -> Result<Vec<Token>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.c())
            .await
            .map_err(db)?;
        rows.iter().map(token).collect()
    }

    async fn revoke_token(&mut self, id: TokenId, at: DateTime<Utc>) -> Result<bool> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.uuid())
                .bind(ts(&at))
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
