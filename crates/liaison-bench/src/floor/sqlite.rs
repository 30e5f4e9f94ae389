//! The storage floor on SQLite: rusqlite called inline on the task, as Liaison's backend
//! runs it, with Liaison's statement shapes where the planner cares (`+org_id`).

use super::*;
use rusqlite::{Connection, OptionalExtension, Row, params};

fn ts(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn event(
    c: &Connection,
    org: Uuid,
    entity: &str,
    id: Uuid,
    after: &str,
    now: &DateTime<Utc>,
) -> rusqlite::Result<()> {
    c.prepare_cached(&numbered(INSERT_EVENT))?.execute(params![
        Uuid::now_v7(),
        org,
        entity,
        id,
        "created",
        after,
        ts(now)
    ])?;
    Ok(())
}

/// The `created` event of record `id`.
fn record_event(
    c: &Connection,
    f: &FloorIds,
    kind: &str,
    id: Uuid,
    ext: &str,
    data: &str,
    now: &DateTime<Utc>,
) -> rusqlite::Result<()> {
    let after = event_after(id, f.org, kind, ext, now, data);
    event(c, f.org, kind, id, &after, now)
}

/// `$n` placeholders (shared with PostgreSQL) become SQLite's `?n`.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

/// A record's columns as `?1..?20`, in the order of `INSERT_RECORD`.
fn record_params<'a>(
    id: Uuid,
    f: &FloorIds,
    r: &'a RecordWrite<'_>,
    now: &DateTime<Utc>,
) -> [Box<dyn rusqlite::ToSql + 'a>; 20] {
    let c = r.cols;
    [
        Box::new(id),
        Box::new(f.org),
        Box::new(f.connection),
        Box::new(r.kind),
        Box::new(r.ext),
        Box::new(r.account),
        Box::new(r.contact),
        Box::new(r.opportunity),
        Box::new(r.engagement_type),
        Box::new(ts(&r.sort_at)),
        Box::new(r.remote_updated_at.as_ref().map(ts)),
        Box::new(ts(now)),
        Box::new(r.data),
        Box::new(c.title.as_str()),
        Box::new(c.title_key.as_str()),
        Box::new(c.start_time.as_ref().map(ts)),
        Box::new(c.end_time.as_ref().map(ts)),
        Box::new(c.direction),
        Box::new(c.remote_created_at.as_ref().map(ts)),
        Box::new(r.remote_data.as_ref()),
    ]
}

fn ensure_record(
    c: &Connection,
    f: &FloorIds,
    r: &RecordWrite<'_>,
    now: &DateTime<Utc>,
) -> rusqlite::Result<Uuid> {
    let found: Option<Uuid> = c
        .prepare_cached(&numbered(FIND_RECORD))?
        .query_row(params![f.org, f.connection, r.kind, r.ext], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let id = Uuid::now_v7();
    c.prepare_cached(&numbered(INSERT_RECORD))?
        .execute(rusqlite::params_from_iter(record_params(id, f, r, now)))?;
    record_event(c, f, r.kind, id, r.ext, r.data, now)?;
    Ok(id)
}

fn upsert_record(
    c: &Connection,
    f: &FloorIds,
    r: &RecordWrite<'_>,
    now: &DateTime<Utc>,
) -> rusqlite::Result<Uuid> {
    let id: Uuid = c.prepare_cached(&numbered(UPSERT_RECORD))?.query_row(
        rusqlite::params_from_iter(record_params(Uuid::now_v7(), f, r, now)),
        |r| r.get(0),
    )?;
    record_event(c, f, r.kind, id, r.ext, r.data, now)?;
    Ok(id)
}

/// The records a sync only references: found, or created with what is known.
/// Returns (account, contact, engagement type, CRM user).
pub(super) fn nested(
    c: &Connection,
    f: &FloorIds,
    s: &Shape,
    now: &DateTime<Utc>,
) -> rusqlite::Result<(Uuid, Option<Uuid>, Uuid, Uuid)> {
    let account = ensure_record(c, f, &s.account.row("account", now), now)?;
    let contact = match &s.contact {
        Some(contact) => Some(ensure_record(c, f, &contact.row("contact", now), now)?),
        None => None,
    };
    let found: Option<Uuid> = c
        .prepare_cached(&numbered(FIND_TYPE))?
        .query_row(params![f.org, f.connection, s.type_ext], |r| r.get(0))
        .optional()?;
    let etype = match found {
        Some(id) => id,
        None => {
            let id = Uuid::now_v7();
            c.prepare_cached(&numbered(INSERT_TYPE))?.execute(params![
                id,
                f.org,
                f.connection,
                s.type_ext,
                s.type_name,
                s.activity_type,
                ts(now)
            ])?;
            id
        }
    };
    let found: Option<Uuid> = c
        .prepare_cached(&numbered(FIND_CRM_USER))?
        .query_row(params![f.org, f.connection, s.rep_ext], |r| r.get(0))
        .optional()?;
    let rep = match found {
        Some(id) => id,
        None => {
            let id = Uuid::now_v7();
            c.prepare_cached(&numbered(INSERT_CRM_USER))?
                .execute(params![
                    id,
                    f.org,
                    f.connection,
                    s.rep_ext,
                    s.rep_email,
                    s.rep_name,
                    s.rep_email.to_lowercase(),
                    s.rep_name.to_lowercase(),
                    ts(now)
                ])?;
            id
        }
    };
    Ok((account, contact, etype, rep))
}

pub(super) fn sync_one(c: &Connection, f: &FloorIds, w: &WriteRow<'_>) -> rusqlite::Result<()> {
    let s = w.shape;
    let now = &w.now;
    let (account, contact, etype, rep) = nested(c, f, s, now)?;
    let opportunity = upsert_record(c, f, &w.opportunity(account, contact), now)?;
    let engagement = upsert_record(
        c,
        f,
        &w.engagement(account, contact, opportunity, etype),
        now,
    )?;
    let participant = Uuid::now_v7();
    let inserted = c
        .prepare_cached(&numbered(INSERT_PARTICIPANT))?
        .execute(params![
            participant,
            f.org,
            f.connection,
            engagement,
            rep,
            s.rep_name,
            ts(now)
        ])?;
    if inserted > 0 {
        event(
            c,
            f.org,
            "participant",
            participant,
            &participant_after(participant, engagement, rep, &s.rep_name),
            now,
        )?;
    }
    Ok(())
}

fn at(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// Decodes every column of a record row, as a backend must.
fn record(r: &Row) -> rusqlite::Result<RecordRow> {
    touch!(r.get, 3: String);
    touch!(r.get, 9: Option<Uuid>, 12: i64, 14: Option<i64>, 15: Option<Uuid>);
    Ok(RecordRow {
        id: r.get(0)?,
        org: r.get(1)?,
        connection: r.get(2)?,
        external_id: r.get(4)?,
        account: r.get(5)?,
        contact: r.get(6)?,
        lead: r.get(7)?,
        opportunity: r.get(8)?,
        engagement_type: r.get(10)?,
        recording_id: r.get(11)?,
        remote_updated_at: r.get::<_, Option<i64>>(13)?.map(at),
        created_at: at(r.get(16)?),
        updated_at: at(r.get(17)?),
        data: r.get(18)?,
    })
}

/// `… WHERE id IN (?2, …) AND +org_id = ?1`, Liaison's shape for rows by id.
fn by_ids(cols: &str, table: &str, column: &str, n: usize, extra: &str) -> String {
    let mut sql = format!("SELECT {cols} FROM {table} WHERE {column} IN (");
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("?{}", i + 2));
    }
    sql.push_str(&format!(") AND +org_id = ?1{extra}"));
    sql
}

fn ids_params(org: Uuid, ids: &[Uuid]) -> Vec<Uuid> {
    std::iter::once(org).chain(ids.iter().copied()).collect()
}

/// The rows a read returns around its engagements: accounts, types, participants and
/// the participants' CRM users.
fn around(c: &Connection, org: Uuid, engagements: Vec<RecordRow>) -> rusqlite::Result<Read> {
    let mut read = Read::default();
    let accounts = distinct(engagements.iter().filter_map(|e| e.account));
    if !accounts.is_empty() {
        let mut stmt =
            c.prepare_cached(&by_ids(RECORD_COLS, "records", "id", accounts.len(), ""))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(ids_params(org, &accounts)))?;
        while let Some(row) = rows.next()? {
            read.accounts.push(record(row)?);
        }
    }
    let types = distinct(engagements.iter().filter_map(|e| e.engagement_type));
    if !types.is_empty() {
        let mut stmt = c.prepare_cached(&by_ids(
            TYPE_COLS,
            "engagement_types",
            "id",
            types.len(),
            "",
        ))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(ids_params(org, &types)))?;
        while let Some(r) = rows.next()? {
            touch!(r.get, 1: Uuid, 2: Uuid, 3: Option<String>, 6: i64, 7: i64);
            read.types.push(TypeRow {
                id: r.get(0)?,
                name: r.get(4)?,
                activity_type: r.get(5)?,
            });
        }
    }
    let parents: Vec<Uuid> = engagements.iter().map(|e| e.id).collect();
    let sql = by_ids(
        PARTICIPANT_COLS,
        "participants",
        "parent_id",
        parents.len(),
        " AND deleted_at IS NULL",
    ) + " ORDER BY id";
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(ids_params(org, &parents)))?;
    while let Some(r) = rows.next()? {
        touch!(r.get, 3: String, 8: Option<i64>);
        read.participants.push(ParticipantRow {
            id: r.get(0)?,
            org: r.get(1)?,
            connection: r.get(2)?,
            parent: r.get(4)?,
            crm_user: r.get(5)?,
            name: r.get(6)?,
            share: r.get(7)?,
            created_at: at(r.get(9)?),
            updated_at: at(r.get(10)?),
        });
    }
    let reps = distinct(read.participants.iter().map(|p| p.crm_user));
    if !reps.is_empty() {
        let mut stmt =
            c.prepare_cached(&by_ids(CRM_USER_COLS, "crm_users", "id", reps.len(), ""))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(ids_params(org, &reps)))?;
        while let Some(r) = rows.next()? {
            touch!(
                r.get,
                1: Uuid, 2: Uuid, 3: String, 4: Option<String>, 6: Option<Uuid>, 7: i64, 8: i64,
            );
            read.crm_users.push(CrmUserRow {
                id: r.get(0)?,
                name: r.get(5)?,
            });
        }
    }
    read.engagements = engagements;
    Ok(read)
}

pub(super) fn get_by_id(c: &Connection, org: Uuid, id: Uuid) -> rusqlite::Result<Read> {
    let sql = format!("SELECT {RECORD_COLS} FROM records WHERE id = ?1 AND org_id = ?2");
    let e = c
        .prepare_cached(&sql)?
        .query_row(params![id, org], record)?;
    around(c, org, vec![e])
}

pub(super) fn list(c: &Connection, org: Uuid, after: Option<Uuid>) -> rusqlite::Result<Read> {
    let mut sql = format!(
        "SELECT {RECORD_COLS} FROM records WHERE org_id = ?1 AND kind = 'engagement' \
         AND deleted_at IS NULL AND merged_into IS NULL"
    );
    if after.is_some() {
        sql.push_str(" AND id > ?2");
    }
    sql.push_str(" ORDER BY id ASC LIMIT 101");
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = match after {
        Some(a) => stmt.query(params![org, a])?,
        None => stmt.query(params![org])?,
    };
    let mut page = Vec::with_capacity(101);
    while let Some(r) = rows.next()? {
        page.push(record(r)?);
    }
    page.truncate(100);
    if page.is_empty() {
        return Ok(Read::default());
    }
    around(c, org, page)
}
