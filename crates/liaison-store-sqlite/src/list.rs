//! Synced records in SQLite: the column lists, the rendering of a list `Plan` into SQL, an
//! opportunity's contact rows, and the backfill of the columns derived from `data` for rows
//! written before those columns existed.

use crate::sql::{Bind, Sql};
use crate::{db, ts};
use liaison_domain::OrgId;
use liaison_domain::model::{RecordKind, indexed_of};
use liaison_store::{Plan, Result, SqlOut, Value};
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::LazyLock;

/// The columns a record is read with, in `rows::record` order, from the table or alias `t`:
/// the written ones (but the search key) and an opportunity's contacts, hex, in order.
pub fn record_cols(t: &str) -> String {
    cols(t, true, true)
}

/// As `record_cols`, but with a `NULL` for the raw payload without `remote_data` and for the
/// contacts without `contacts` (see `Plan::reads_contacts`).
pub fn cols(t: &str, remote_data: bool, contacts: bool) -> String {
    let plain = liaison_store::record_read_columns(t, remote_data);
    if !contacts {
        return format!("{plain}, NULL AS contacts");
    }
    format!(
        "{plain}, CASE WHEN {t}.kind = 'opportunity' THEN (SELECT group_concat(hex(contact_id), \
         ',' ORDER BY position) FROM opportunity_contacts WHERE opportunity_id = {t}.id) END"
    )
}

pub static RECORD_COLS: LazyLock<String> = LazyLock::new(|| record_cols("records"));

impl Bind for &Value {
    fn value(self) -> rusqlite::types::Value {
        match self {
            Value::Id(u) => (*u).value(),
            Value::Text(s) => s.as_str().value(),
            Value::Time(t) => ts(t).value(),
            Value::Bool(b) => b.value(),
            Value::ActivityType(a) => a.as_str().value(),
            Value::Direction(d) => d.as_str().value(),
        }
    }
}

impl SqlOut for Sql {
    const FIND: &'static str = "instr";
    const TRUE: &'static str = "1";
    const FALSE: &'static str = "0";

    fn text(&mut self, sql: &str) {
        self.push(sql);
    }
    fn value(&mut self, v: &Value) {
        self.bind(v);
    }
}

/// `SELECT … FROM records` for a plan; the caller hands the rows it reads to `plan.finish`.
pub fn select(org: OrgId, plan: &Plan) -> Sql {
    let mut s = Sql::new(String::new());
    let columns = cols("records", plan.remote_data, plan.reads_contacts());
    plan.render(&columns, org.uuid(), &mut s);
    s
}

/// Replaces an opportunity's contact rows with `contacts`, in order.
pub fn put_contacts(
    conn: &Connection,
    org: OrgId,
    opportunity: uuid::Uuid,
    contacts: &[liaison_domain::RecordId],
    replace: bool,
) -> Result<()> {
    if replace {
        conn.prepare_cached("DELETE FROM opportunity_contacts WHERE opportunity_id = ?1")
            .map_err(db)?
            .execute(params![opportunity])
            .map_err(db)?;
    }
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO opportunity_contacts (opportunity_id, position, org_id, contact_id) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(db)?;
    for (i, c) in contacts.iter().enumerate() {
        insert
            .execute(params![opportunity, i as i64, org.uuid(), c.uuid()])
            .map_err(db)?;
    }
    Ok(())
}

const BACKFILL_MARK: &str = "backfill_record_columns";
const BACKFILL_BATCH: i64 = 1000;

/// Fills the derived columns of the rows a migration marked, in one transaction, then drops
/// the mark. A row whose data cannot be read keeps empty columns and is logged.
pub fn backfill(conn: &mut Connection) -> Result<()> {
    let mark: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [BACKFILL_MARK],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    if mark.is_none() {
        return Ok(());
    }
    let tx = conn.transaction().map_err(db)?;
    let mut after = uuid::Uuid::nil();
    let mut filled = 0u64;
    loop {
        let rows: Vec<(uuid::Uuid, uuid::Uuid, String, String)> = {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id, org_id, kind, data FROM records WHERE id > ?1 ORDER BY id LIMIT ?2",
                )
                .map_err(db)?;
            stmt.query_map(params![after, BACKFILL_BATCH], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)?
        };
        let Some(last) = rows.last() else { break };
        after = last.0;
        for (id, org, kind, data) in rows {
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
            tx.prepare_cached(
                "UPDATE records SET title = ?2, start_time = ?3, end_time = ?4, direction = ?5, \
                 is_private = ?6, remote_created_at = ?7, title_key = ?8 WHERE id = ?1",
            )
            .map_err(db)?
            .execute(params![
                id,
                ix.title.as_deref(),
                ix.start_time.as_ref().map(ts),
                ix.end_time.as_ref().map(ts),
                ix.direction.map(|d| d.as_str()),
                ix.is_private,
                ix.remote_created_at.as_ref().map(ts),
                ix.title_key(),
            ])
            .map_err(db)?;
            if kind == RecordKind::Opportunity {
                put_contacts(&tx, OrgId::from_uuid(org), id, &ix.contacts, true)?;
            }
            filled += 1;
        }
    }
    tx.execute("DELETE FROM settings WHERE key = ?1", [BACKFILL_MARK])
        .map_err(db)?;
    tx.commit().map_err(db)?;
    if filled > 0 {
        tracing::info!(
            records = filled,
            "filled the list columns of existing records"
        );
    }
    Ok(())
}
