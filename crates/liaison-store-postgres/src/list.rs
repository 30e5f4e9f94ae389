//! Synced records in PostgreSQL: the column lists, the rendering of a list `Plan` into SQL,
//! an opportunity's contact rows, and the backfill of the columns derived from `data` for rows
//! written before those columns existed.

use crate::db;
use liaison_domain::model::{RecordKind, indexed_of};
use liaison_domain::{OrgId, RecordId};
use liaison_store::{Plan, Result, SqlOut, Value};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use std::sync::LazyLock;
use uuid::Uuid;

/// The columns a record is read with from the table or alias `t`: the written ones (but the
/// search key) and an opportunity's contacts, in order.
pub fn record_cols(t: &str) -> String {
    cols(t, true, true)
}

/// As `record_cols`, but with a `NULL` for the raw payload without `remote_data` and for the
/// contacts without `contacts` (see `Plan::reads_contacts`).
pub fn cols(t: &str, remote_data: bool, contacts: bool) -> String {
    let plain = liaison_store::record_read_columns(t, remote_data);
    if !contacts {
        return format!("{plain}, NULL::uuid[] AS contacts");
    }
    format!(
        "{plain}, CASE WHEN {t}.kind = 'opportunity' THEN ARRAY(SELECT contact_id FROM \
         opportunity_contacts WHERE opportunity_id = {t}.id ORDER BY position) END AS contacts"
    )
}

pub static RECORD_COLS: LazyLock<String> = LazyLock::new(|| record_cols("records"));

/// A statement under construction, with PostgreSQL's `$n` placeholders.
pub(crate) struct Pg(pub QueryBuilder<Postgres>);

impl SqlOut for Pg {
    const FIND: &'static str = "strpos";
    const TRUE: &'static str = "true";
    const FALSE: &'static str = "false";

    fn text(&mut self, sql: &str) {
        self.0.push(sql);
    }
    fn value(&mut self, v: &Value) {
        let qb = &mut self.0;
        match v {
            Value::Id(u) => qb.push_bind(*u),
            Value::Text(s) => qb.push_bind(s.clone()),
            Value::Time(t) => qb.push_bind(*t),
            Value::Bool(b) => qb.push_bind(*b),
            Value::ActivityType(a) => qb.push_bind(a.as_str()),
            Value::Direction(d) => qb.push_bind(d.as_str()),
        };
    }
}

/// `SELECT … FROM records` for a plan; the caller hands the rows it reads to `plan.finish`.
pub fn select(org: OrgId, plan: &Plan) -> QueryBuilder<Postgres> {
    let mut out = Pg(QueryBuilder::new(""));
    let columns = cols("records", plan.remote_data, plan.reads_contacts());
    plan.render(&columns, org.uuid(), &mut out);
    out.0
}

/// Replaces an opportunity's contact rows with `contacts`, in order.
pub async fn put_contacts(
    c: &mut PgConnection,
    org: OrgId,
    opportunity: Uuid,
    contacts: &[RecordId],
    replace: bool,
) -> Result<()> {
    if replace {
        sqlx::query("DELETE FROM opportunity_contacts WHERE opportunity_id = $1")
            .bind(opportunity)
            .execute(&mut *c)
            .await
            .map_err(db)?;
    }
    if contacts.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = contacts.iter().map(|r| r.uuid()).collect();
    sqlx::query(
        "INSERT INTO opportunity_contacts (opportunity_id, position, org_id, contact_id) \
         SELECT $1, n - 1, $2, c FROM unnest($3::uuid[]) WITH ORDINALITY AS t (c, n)",
    )
    .bind(opportunity)
    .bind(org.uuid())
    .bind(&ids)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    Ok(())
}

/// One batch of backfilled columns, one array per column.
#[derive(Default)]
struct Backfill {
    ids: Vec<Uuid>,
    titles: Vec<Option<String>>,
    title_keys: Vec<Option<String>>,
    starts: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    ends: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    directions: Vec<Option<String>>,
    private: Vec<bool>,
    remote_created: Vec<Option<chrono::DateTime<chrono::Utc>>>,
}

const BACKFILL_MARK: &str = "backfill_record_columns";
const BACKFILL_BATCH: i64 = 1000;

/// Fills the derived columns of the rows a migration marked, in one transaction, then drops
/// the mark. Instances starting together take turns; the later ones find no mark. A row whose
/// data cannot be read keeps empty columns and is logged.
pub async fn backfill(pool: &sqlx::PgPool) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    // Class 0x4c49 ('LI') as for the outbox; key 1 is the backfill.
    sqlx::query("SELECT pg_advisory_xact_lock(19529, 1)")
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let mark: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(BACKFILL_MARK)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    if mark.is_none() {
        return tx.commit().await.map_err(db);
    }
    let mut after = Uuid::nil();
    let mut filled = 0u64;
    loop {
        let rows = sqlx::query(
            "SELECT id, org_id, kind, data FROM records WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(BACKFILL_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("id").map_err(db)?;
        // One statement per batch: the columns of every row side by side.
        let mut cols = Backfill::default();
        for row in rows {
            let id: Uuid = row.try_get("id").map_err(db)?;
            let org: Uuid = row.try_get("org_id").map_err(db)?;
            let kind: String = row.try_get("kind").map_err(db)?;
            let data: String = row.try_get("data").map_err(db)?;
            let Some(kind) = RecordKind::parse(&kind) else {
                continue;
            };
            let ix = match indexed_of(kind, &data) {
                Ok(ix) => ix,
                Err(e) => {
                    tracing::warn!(record = %id, error = %e, "unreadable record data; its list columns stay empty");
                    continue;
                }
            };
            if kind == RecordKind::Opportunity {
                put_contacts(&mut tx, OrgId::from_uuid(org), id, &ix.contacts, true).await?;
            }
            cols.ids.push(id);
            cols.title_keys.push(ix.title_key());
            cols.titles.push(ix.title);
            cols.starts.push(ix.start_time);
            cols.ends.push(ix.end_time);
            cols.directions
                .push(ix.direction.map(|d| d.as_str().to_owned()));
            cols.private.push(ix.is_private);
            cols.remote_created.push(ix.remote_created_at);
        }
        filled += cols.ids.len() as u64;
        sqlx::query(
            "UPDATE records SET title = u.title, start_time = u.start_time, \
             end_time = u.end_time, direction = u.direction, is_private = u.is_private, \
             remote_created_at = u.remote_created_at, title_key = u.title_key \
             FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], \
             $5::text[], $6::boolean[], $7::timestamptz[], $8::text[]) \
             AS u (id, title, start_time, end_time, direction, is_private, remote_created_at, \
             title_key) WHERE records.id = u.id",
        )
        .bind(&cols.ids)
        .bind(&cols.titles)
        .bind(&cols.starts)
        .bind(&cols.ends)
        .bind(&cols.directions)
        .bind(&cols.private)
        .bind(&cols.remote_created)
        .bind(&cols.title_keys)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    sqlx::query("DELETE FROM settings WHERE key = $1")
        .bind(BACKFILL_MARK)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    if filled > 0 {
        tracing::info!(
            records = filled,
            "filled the list columns of existing records"
        );
    }
    Ok(())
}
