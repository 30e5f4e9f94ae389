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

fn ensure_record(
    c: &Connection,
    f: &FloorIds,
    kind: &str,
    ext: &str,
    data: &str,
    now: &DateTime<Utc>,
) -> rusqlite::Result<Uuid> {
    let found: Option<Uuid> = c
        .prepare_cached(&numbered(FIND_RECORD))?
        .query_row(params![f.org, f.connection, kind, ext], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let id = Uuid::now_v7();
    c.prepare_cached(&numbered(INSERT_RECORD))?
        .execute(params![
            id,
            f.org,
            f.connection,
            kind,
            ext,
            None::<Uuid>,
            None::<Uuid>,
            None::<Uuid>,
            None::<Uuid>,
            ts(now),
            None::<i64>,
            ts(now),
            ts(now),
            data
        ])?;
    record_event(c, f, kind, id, ext, data, now)?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
fn upsert_record(
    c: &Connection,
    f: &FloorIds,
    kind: &str,
    ext: &str,
    refs: (Option<Uuid>, Option<Uuid>, Option<Uuid>, Option<Uuid>),
    sort_at: &DateTime<Utc>,
    remote_updated_at: Option<&DateTime<Utc>>,
    data: &str,
    now: &DateTime<Utc>,
) -> rusqlite::Result<Uuid> {
    let id: Uuid = c.prepare_cached(&numbered(UPSERT_RECORD))?.query_row(
        params![
            Uuid::now_v7(),
            f.org,
            f.connection,
            kind,
            ext,
            refs.0,
            refs.1,
            refs.2,
            refs.3,
            ts(sort_at),
            remote_updated_at.map(ts),
            ts(now),
            ts(now),
            data
        ],
        |r| r.get(0),
    )?;
    record_event(c, f, kind, id, ext, data, now)?;
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
    let account = ensure_record(c, f, "account", &s.account_ext, &s.account_data, now)?;
    let contact = match &s.contact {
        Some((ext, data)) => Some(ensure_record(c, f, "contact", ext, data, now)?),
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
    let opportunity = upsert_record(
        c,
        f,
        "opportunity",
        &w.opportunity_ext,
        (Some(account), contact, None, None),
        now,
        None,
        &s.opportunity_data,
        now,
    )?;
    let engagement = upsert_record(
        c,
        f,
        "engagement",
        &w.engagement_ext,
        (Some(account), contact, Some(opportunity), Some(etype)),
        &s.start,
        Some(&s.remote_updated_at),
        &s.engagement_data,
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

/// Decodes every column of a record row, as a backend must.
fn record(r: &Row) -> rusqlite::Result<Decoded> {
    let id: Uuid = r.get(0)?;
    touch!(r.get, 1: Uuid, 2: Uuid, 3: String, 4: String);
    let account: Option<Uuid> = r.get(5)?;
    touch!(r.get, 6: Option<Uuid>, 7: Option<Uuid>, 8: Option<Uuid>, 9: Option<Uuid>);
    let etype: Option<Uuid> = r.get(10)?;
    touch!(
        r.get,
        11: Option<String>, 12: i64, 13: Option<i64>, 14: Option<i64>, 15: Option<Uuid>,
        16: i64, 17: i64,
    );
    let data: String = r.get(18)?;
    Ok((id, account, etype, data.len()))
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
fn around(c: &Connection, org: Uuid, engagements: &[Decoded]) -> rusqlite::Result<u64> {
    let mut bytes = engagements.iter().map(|e| e.3 as u64).sum::<u64>();
    let accounts = distinct(engagements.iter().filter_map(|e| e.1));
    if !accounts.is_empty() {
        let mut stmt =
            c.prepare_cached(&by_ids(RECORD_COLS, "records", "id", accounts.len(), ""))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(ids_params(org, &accounts)))?;
        while let Some(row) = rows.next()? {
            bytes += record(row)?.3 as u64;
        }
    }
    let types = distinct(engagements.iter().filter_map(|e| e.2));
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
            touch!(
                r.get,
                0: Uuid, 1: Uuid, 2: Uuid, 3: Option<String>, 4: String, 5: String, 6: i64,
                7: i64,
            );
        }
    }
    let parents: Vec<Uuid> = engagements.iter().map(|e| e.0).collect();
    let sql = by_ids(
        PARTICIPANT_COLS,
        "participants",
        "parent_id",
        parents.len(),
        " AND deleted_at IS NULL",
    ) + " ORDER BY id";
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(ids_params(org, &parents)))?;
    let mut reps = Vec::new();
    while let Some(r) = rows.next()? {
        touch!(r.get, 0: Uuid, 1: Uuid, 2: Uuid, 3: String, 4: Uuid);
        reps.push(r.get::<_, Uuid>(5)?);
        touch!(r.get, 6: Option<String>, 7: Option<f64>, 8: Option<i64>, 9: i64, 10: i64);
    }
    let reps = distinct(reps.into_iter());
    if !reps.is_empty() {
        let mut stmt =
            c.prepare_cached(&by_ids(CRM_USER_COLS, "crm_users", "id", reps.len(), ""))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(ids_params(org, &reps)))?;
        while let Some(r) = rows.next()? {
            touch!(
                r.get,
                0: Uuid, 1: Uuid, 2: Uuid, 3: String, 4: Option<String>, 5: Option<String>,
                6: Option<Uuid>, 7: i64, 8: i64,
            );
        }
    }
    Ok(bytes)
}

pub(super) fn get_by_id(c: &Connection, org: Uuid, id: Uuid) -> rusqlite::Result<u64> {
    let sql = format!("SELECT {RECORD_COLS} FROM records WHERE id = ?1 AND org_id = ?2");
    let e = c
        .prepare_cached(&sql)?
        .query_row(params![id, org], record)?;
    around(c, org, &[e])
}

pub(super) fn list(c: &Connection, org: Uuid, after: Option<Uuid>) -> rusqlite::Result<u64> {
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
        return Ok(0);
    }
    around(c, org, &page)
}
