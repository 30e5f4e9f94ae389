//! The storage floor on PostgreSQL: sqlx, as Liaison's backend, with its statement shapes
//! (`= ANY($n)` for lists of ids).

use super::*;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

type Ts = DateTime<Utc>;

async fn event(
    c: &mut PgConnection,
    org: Uuid,
    entity: &str,
    id: Uuid,
    after: String,
    now: &Ts,
) -> sqlx::Result<()> {
    // Liaison numbers a transaction's events as it inserts them at commit; the floor draws
    // from the same sequence.
    sqlx::query(
        "INSERT INTO events (seq, id, org_id, entity, entity_id, action, before, after, at) \
         VALUES (nextval('events_seq'), $1, $2, $3, $4, $5, NULL, $6, $7)",
    )
    .bind(Uuid::now_v7())
    .bind(org)
    .bind(entity)
    .bind(id)
    .bind("created")
    .bind(after)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The `created` event of record `id`.
async fn record_event(
    c: &mut PgConnection,
    f: &FloorIds,
    kind: &str,
    id: Uuid,
    ext: &str,
    data: &str,
    now: &Ts,
) -> sqlx::Result<()> {
    let after = event_after(id, f.org, kind, ext, now, data);
    event(c, f.org, kind, id, after, now).await
}

/// Binds a record's columns as `$1..$20`, in the order of `INSERT_RECORD`.
fn bind_record<'q>(
    sql: &'q str,
    id: Uuid,
    f: &FloorIds,
    r: &'q RecordWrite<'_>,
    now: Ts,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let c = r.cols;
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(f.org)
        .bind(f.connection)
        .bind(r.kind)
        .bind(r.ext)
        .bind(r.account)
        .bind(r.contact)
        .bind(r.opportunity)
        .bind(r.engagement_type)
        .bind(r.sort_at)
        .bind(r.remote_updated_at)
        .bind(now)
        .bind(r.data)
        .bind(&c.title)
        .bind(&c.title_key)
        .bind(c.start_time)
        .bind(c.end_time)
        .bind(c.direction)
        .bind(c.remote_created_at)
        .bind(r.remote_data.as_ref())
}

async fn ensure_record(
    c: &mut PgConnection,
    f: &FloorIds,
    r: &RecordWrite<'_>,
    now: &Ts,
) -> sqlx::Result<Uuid> {
    let found: Option<Uuid> = sqlx::query_scalar(FIND_RECORD)
        .bind(f.org)
        .bind(f.connection)
        .bind(r.kind)
        .bind(r.ext)
        .fetch_optional(&mut *c)
        .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    let id = Uuid::now_v7();
    bind_record(INSERT_RECORD, id, f, r, *now)
        .execute(&mut *c)
        .await?;
    record_event(c, f, r.kind, id, r.ext, r.data, now).await?;
    Ok(id)
}

async fn upsert_record(
    c: &mut PgConnection,
    f: &FloorIds,
    r: &RecordWrite<'_>,
    now: &Ts,
) -> sqlx::Result<Uuid> {
    let row = bind_record(UPSERT_RECORD, Uuid::now_v7(), f, r, *now)
        .fetch_one(&mut *c)
        .await?;
    let id: Uuid = row.try_get(0)?;
    record_event(c, f, r.kind, id, r.ext, r.data, now).await?;
    Ok(id)
}

pub(super) async fn nested(
    c: &mut PgConnection,
    f: &FloorIds,
    s: &Shape,
    now: &Ts,
) -> sqlx::Result<(Uuid, Option<Uuid>, Uuid, Uuid)> {
    let account = ensure_record(c, f, &s.account.row("account", now), now).await?;
    let contact = match &s.contact {
        Some(contact) => Some(ensure_record(c, f, &contact.row("contact", now), now).await?),
        None => None,
    };
    let found: Option<Uuid> = sqlx::query_scalar(FIND_TYPE)
        .bind(f.org)
        .bind(f.connection)
        .bind(s.type_ext)
        .fetch_optional(&mut *c)
        .await?;
    let etype = match found {
        Some(id) => id,
        None => {
            let id = Uuid::now_v7();
            sqlx::query(INSERT_TYPE)
                .bind(id)
                .bind(f.org)
                .bind(f.connection)
                .bind(s.type_ext)
                .bind(s.type_name)
                .bind(s.activity_type)
                .bind(now)
                .execute(&mut *c)
                .await?;
            id
        }
    };
    let found: Option<Uuid> = sqlx::query_scalar(FIND_CRM_USER)
        .bind(f.org)
        .bind(f.connection)
        .bind(&s.rep_ext)
        .fetch_optional(&mut *c)
        .await?;
    let rep = match found {
        Some(id) => id,
        None => {
            let id = Uuid::now_v7();
            sqlx::query(INSERT_CRM_USER)
                .bind(id)
                .bind(f.org)
                .bind(f.connection)
                .bind(&s.rep_ext)
                .bind(&s.rep_email)
                .bind(&s.rep_name)
                .bind(s.rep_email.to_lowercase())
                .bind(s.rep_name.to_lowercase())
                .bind(now)
                .execute(&mut *c)
                .await?;
            id
        }
    };
    Ok((account, contact, etype, rep))
}

pub(super) async fn sync_one(
    c: &mut PgConnection,
    f: &FloorIds,
    w: &WriteRow<'_>,
) -> sqlx::Result<()> {
    let s = w.shape;
    let now = &w.now;
    let (account, contact, etype, rep) = nested(c, f, s, now).await?;
    let opportunity = upsert_record(c, f, &w.opportunity(account, contact), now).await?;
    let engagement = upsert_record(
        c,
        f,
        &w.engagement(account, contact, opportunity, etype),
        now,
    )
    .await?;
    let participant = Uuid::now_v7();
    let inserted = sqlx::query(INSERT_PARTICIPANT)
        .bind(participant)
        .bind(f.org)
        .bind(f.connection)
        .bind(engagement)
        .bind(rep)
        .bind(&s.rep_name)
        .bind(now)
        .execute(&mut *c)
        .await?;
    if inserted.rows_affected() > 0 {
        event(
            c,
            f.org,
            "participant",
            participant,
            participant_after(participant, engagement, rep, &s.rep_name),
            now,
        )
        .await?;
    }
    Ok(())
}

fn record(r: &PgRow) -> sqlx::Result<RecordRow> {
    touch!(r.try_get, 3: String);
    touch!(r.try_get, 9: Option<Uuid>, 12: Ts, 14: Option<Ts>, 15: Option<Uuid>);
    Ok(RecordRow {
        id: r.try_get(0)?,
        org: r.try_get(1)?,
        connection: r.try_get(2)?,
        external_id: r.try_get(4)?,
        account: r.try_get(5)?,
        contact: r.try_get(6)?,
        lead: r.try_get(7)?,
        opportunity: r.try_get(8)?,
        engagement_type: r.try_get(10)?,
        recording_id: r.try_get(11)?,
        remote_updated_at: r.try_get(13)?,
        created_at: r.try_get(16)?,
        updated_at: r.try_get(17)?,
        data: r.try_get(18)?,
    })
}

async fn around(
    c: &mut PgConnection,
    org: Uuid,
    engagements: Vec<RecordRow>,
) -> sqlx::Result<Read> {
    let mut read = Read::default();
    let accounts = distinct(engagements.iter().filter_map(|e| e.account));
    if !accounts.is_empty() {
        let sql = format!("SELECT {RECORD_COLS} FROM records WHERE id = ANY($1) AND org_id = $2");
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&accounts)
            .bind(org)
            .fetch_all(&mut *c)
            .await?
        {
            read.accounts.push(record(&row)?);
        }
    }
    let types = distinct(engagements.iter().filter_map(|e| e.engagement_type));
    if !types.is_empty() {
        let sql =
            format!("SELECT {TYPE_COLS} FROM engagement_types WHERE id = ANY($1) AND org_id = $2");
        for r in sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&types)
            .bind(org)
            .fetch_all(&mut *c)
            .await?
        {
            touch!(r.try_get, 1: Uuid, 2: Uuid, 3: Option<String>, 6: Ts, 7: Ts);
            read.types.push(TypeRow {
                id: r.try_get(0)?,
                name: r.try_get(4)?,
                activity_type: r.try_get(5)?,
            });
        }
    }
    let parents: Vec<Uuid> = engagements.iter().map(|e| e.id).collect();
    let sql = format!(
        "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = $1 \
         AND deleted_at IS NULL AND parent_id = ANY($2) ORDER BY id"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(&parents)
        .fetch_all(&mut *c)
        .await?
    {
        touch!(r.try_get, 3: String, 8: Option<Ts>);
        read.participants.push(ParticipantRow {
            id: r.try_get(0)?,
            org: r.try_get(1)?,
            connection: r.try_get(2)?,
            parent: r.try_get(4)?,
            crm_user: r.try_get(5)?,
            name: r.try_get(6)?,
            share: r.try_get(7)?,
            created_at: r.try_get(9)?,
            updated_at: r.try_get(10)?,
        });
    }
    let reps = distinct(read.participants.iter().map(|p| p.crm_user));
    if !reps.is_empty() {
        let sql =
            format!("SELECT {CRM_USER_COLS} FROM crm_users WHERE id = ANY($1) AND org_id = $2");
        for r in sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&reps)
            .bind(org)
            .fetch_all(&mut *c)
            .await?
        {
            touch!(
                r.try_get,
                1: Uuid, 2: Uuid, 3: String, 4: Option<String>, 6: Option<Uuid>, 7: Ts, 8: Ts,
            );
            read.crm_users.push(CrmUserRow {
                id: r.try_get(0)?,
                name: r.try_get(5)?,
            });
        }
    }
    read.engagements = engagements;
    Ok(read)
}

pub(super) async fn get_by_id(c: &mut PgConnection, org: Uuid, id: Uuid) -> sqlx::Result<Read> {
    let sql = format!("SELECT {RECORD_COLS} FROM records WHERE id = $1 AND org_id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(org)
        .fetch_one(&mut *c)
        .await?;
    let e = record(&row)?;
    around(c, org, vec![e]).await
}

pub(super) async fn list(
    c: &mut PgConnection,
    org: Uuid,
    after: Option<Uuid>,
) -> sqlx::Result<Read> {
    let mut sql = format!(
        "SELECT {RECORD_COLS} FROM records WHERE org_id = $1 AND kind = 'engagement' \
         AND deleted_at IS NULL AND merged_into IS NULL"
    );
    if after.is_some() {
        sql.push_str(" AND id > $2");
    }
    sql.push_str(" ORDER BY id ASC LIMIT 101");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org);
    if let Some(a) = after {
        q = q.bind(a);
    }
    let rows = q.fetch_all(&mut *c).await?;
    let page: Vec<RecordRow> = rows
        .iter()
        .take(100)
        .map(record)
        .collect::<sqlx::Result<_>>()?;
    if page.is_empty() {
        return Ok(Read::default());
    }
    around(c, org, page).await
}
