//! The storage floor: raw SQLite and PostgreSQL statements (no Liaison code) that write and
//! read the rows a scenario makes Liaison write and read, with the migrations' columns.
//! SQLite goes through rusqlite inline and PostgreSQL through sqlx: Liaison's own drivers.
//!
//! A sync is one transaction per engagement: look up (or create) the nested account, contact,
//! engagement type and rep, upsert the opportunity and the engagement, insert the participant,
//! one outbox event per row written. A get-by-id is the engagement by primary key plus its
//! account, type, participants and their CRM users; a list page is 101 engagements by keyset
//! plus the same for the page. Writes go to a floor organization of their own in the same
//! database (the same tables and indexes at the same size); reads go to the stored data set.

use crate::data::Engagement;
use crate::db::RawDb;
use crate::load::{CallError, Caller};
use crate::scenario::{Mix, MixPick, Writes};
use chrono::{DateTime, SecondsFormat, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rusqlite::TransactionBehavior;
use std::sync::Arc;
use uuid::Uuid;

const RECORD_COLS: &str = "id, org_id, connection_id, kind, external_id, account_id, contact_id, \
    lead_id, opportunity_id, owner_id, engagement_type_id, recording_id, sort_at, \
    remote_updated_at, deleted_at, merged_into, created_at, updated_at, data";
const TYPE_COLS: &str =
    "id, org_id, connection_id, external_id, name, activity_type, created_at, updated_at";
const CRM_USER_COLS: &str =
    "id, org_id, connection_id, external_id, email, name, user_id, created_at, updated_at";
const PARTICIPANT_COLS: &str = "id, org_id, connection_id, parent_kind, parent_id, \
    crm_user_id, name, share, deleted_at, created_at, updated_at";

const FIND_RECORD: &str = "SELECT id FROM records \
    WHERE org_id = $1 AND connection_id = $2 AND kind = $3 AND external_id = $4";
/// Every column of a record, the list columns and the raw payload included: Liaison has to
/// store them, so its floor does too.
macro_rules! insert_record {
    () => {
        "INSERT INTO records (id, org_id, connection_id, kind, external_id, account_id, \
         contact_id, lead_id, opportunity_id, owner_id, engagement_type_id, recording_id, \
         sort_at, remote_updated_at, deleted_at, merged_into, created_at, updated_at, data, \
         title, title_key, start_time, end_time, direction, is_private, remote_created_at, \
         remote_data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, NULL, $9, NULL, $10, $11, NULL, NULL, \
         $12, $12, $13, $14, $15, $16, $17, $18, FALSE, $19, $20)"
    };
}
const INSERT_RECORD: &str = insert_record!();
const UPSERT_RECORD: &str = concat!(
    insert_record!(),
    " ON CONFLICT (org_id, connection_id, kind, external_id) DO UPDATE SET \
    account_id = excluded.account_id, contact_id = excluded.contact_id, \
    opportunity_id = excluded.opportunity_id, engagement_type_id = excluded.engagement_type_id, \
    sort_at = excluded.sort_at, remote_updated_at = excluded.remote_updated_at, \
    updated_at = excluded.updated_at, data = excluded.data, title = excluded.title, \
    title_key = excluded.title_key, start_time = excluded.start_time, \
    end_time = excluded.end_time, direction = excluded.direction, \
    remote_created_at = excluded.remote_created_at, remote_data = excluded.remote_data \
    RETURNING id"
);
const FIND_TYPE: &str = "SELECT id FROM engagement_types \
    WHERE org_id = $1 AND connection_id = $2 AND external_id = $3";
const INSERT_TYPE: &str = "INSERT INTO engagement_types (id, org_id, connection_id, external_id, \
    name, activity_type, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)";
const FIND_CRM_USER: &str = "SELECT id FROM crm_users \
    WHERE org_id = $1 AND connection_id = $2 AND external_id = $3";
const INSERT_CRM_USER: &str = "INSERT INTO crm_users (id, org_id, connection_id, external_id, \
    email, name, email_key, name_key, user_id, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $9)";
const INSERT_PARTICIPANT: &str = "INSERT INTO participants (id, org_id, connection_id, \
    parent_kind, parent_id, crm_user_id, name, share, deleted_at, created_at, updated_at) \
    VALUES ($1, $2, $3, 'engagement', $4, $5, $6, NULL, NULL, $7, $7) \
    ON CONFLICT (parent_id, crm_user_id) DO NOTHING";
const INSERT_EVENT: &str = "INSERT INTO events (id, org_id, entity, entity_id, action, before, \
    after, at) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7)";

/// The rows one generated engagement becomes, serialised ahead of time.
struct Shape {
    account: Nested,
    contact: Option<Nested>,
    type_ext: &'static str,
    type_name: &'static str,
    activity_type: &'static str,
    rep_ext: String,
    rep_email: String,
    rep_name: String,
    opportunity_data: String,
    opportunity_cols: Listed,
    opportunity_remote: Remote,
    engagement_data: String,
    engagement_cols: Listed,
    engagement_remote: Remote,
    start: DateTime<Utc>,
    remote_updated_at: DateTime<Utc>,
}

/// A record a sync only references (an account, a contact): found, or created as sent.
struct Nested {
    ext: String,
    data: String,
    cols: Listed,
    remote: String,
}

/// The columns lists filter, order and search on, as Liaison derives them from the data.
struct Listed {
    title: String,
    title_key: String,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
    direction: Option<&'static str>,
    remote_created_at: Option<DateTime<Utc>>,
}

impl Listed {
    fn titled(title: &str) -> Listed {
        Listed {
            title: title.to_owned(),
            title_key: title.to_lowercase(),
            start_time: None,
            end_time: None,
            direction: None,
            remote_created_at: None,
        }
    }
}

/// A raw payload as Liaison keeps it (the object as sent, without the records nested in
/// it), but for its `externalId`, which differs from one write to the next.
struct Remote(String);

type JsonObject = serde_json::Map<String, serde_json::Value>;

impl Remote {
    fn of(object: &JsonObject, nested: &[&str]) -> Remote {
        let rest: JsonObject = object
            .iter()
            .filter(|(k, _)| k.as_str() != "externalId" && !nested.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let text = serde_json::Value::Object(rest).to_string();
        Remote(text[1..].to_owned())
    }

    fn with_ext(&self, ext: &str) -> String {
        format!(
            "{{\"externalId\":{},{}",
            serde_json::Value::from(ext),
            self.0
        )
    }
}

/// A record row as the floor writes it.
struct RecordWrite<'a> {
    kind: &'static str,
    ext: &'a str,
    account: Option<Uuid>,
    contact: Option<Uuid>,
    opportunity: Option<Uuid>,
    engagement_type: Option<Uuid>,
    sort_at: DateTime<Utc>,
    remote_updated_at: Option<DateTime<Utc>>,
    data: &'a str,
    cols: &'a Listed,
    remote_data: std::borrow::Cow<'a, str>,
}

impl Nested {
    fn row(&self, kind: &'static str, now: &DateTime<Utc>) -> RecordWrite<'_> {
        RecordWrite {
            kind,
            ext: &self.ext,
            account: None,
            contact: None,
            opportunity: None,
            engagement_type: None,
            sort_at: *now,
            remote_updated_at: None,
            data: &self.data,
            cols: &self.cols,
            remote_data: self.remote.as_str().into(),
        }
    }
}

fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn object(v: &serde_json::Value) -> &JsonObject {
    v.as_object().expect("the generator renders objects")
}

impl Shape {
    /// The `data` columns as Liaison's domain types serialise them (camelCase fields), and
    /// the raw payloads as the face keeps them from the JSON the scenario sends.
    fn of(e: &Engagement) -> Shape {
        let a = &e.account;
        let o = &e.opportunity;
        let mut sent = Vec::new();
        crate::render::engagement_json(e, true, &mut sent);
        let sent: serde_json::Value = serde_json::from_slice(&sent).expect("rendered JSON");
        let whole = |key: &str| object(&sent[key]).clone();
        let account_data = serde_json::json!({
            "name": a.name, "latitude": a.latitude, "longitude": a.longitude,
            "addresses": [{"country": a.address.country, "street": a.address.street,
                "city": a.address.city, "state": a.address.state, "zip": a.address.zip}],
            "phoneNumbers": [a.phone], "emailAddresses": a.email.iter().collect::<Vec<_>>(),
            "lastActivityAt": null,
        })
        .to_string();
        let contact = e.contact.as_ref().map(|c| {
            let data = serde_json::json!({
                "name": c.name, "latitude": null, "longitude": null, "addresses": [],
                "phoneNumbers": [c.phone], "emailAddresses": [c.email], "lastActivityAt": null,
            });
            Nested {
                ext: c.external_id.clone(),
                data: data.to_string(),
                cols: Listed::titled(&c.name),
                remote: serde_json::Value::Object(whole("contact")).to_string(),
            }
        });
        let opportunity_data = serde_json::json!({
            "name": o.name, "amount": o.amount, "closedAt": o.closed_at.as_ref().map(iso),
            "remoteCreatedAt": iso(&o.remote_created_at), "lastActivityAt": null,
            "disposition": o.disposition,
        })
        .to_string();
        let engagement_data = serde_json::json!({
            "direction": e.direction, "subject": e.subject, "content": e.content,
            "startTime": iso(&e.start), "startTimeLocalized": e.start_localized,
            "endTime": iso(&e.end), "remoteCreatedAt": iso(&e.remote_created_at),
        })
        .to_string();
        Shape {
            account: Nested {
                ext: a.external_id.clone(),
                data: account_data,
                cols: Listed::titled(&a.name),
                remote: serde_json::Value::Object(whole("account")).to_string(),
            },
            contact,
            type_ext: e.engagement_type.external_id,
            type_name: e.engagement_type.name,
            activity_type: e.engagement_type.activity_type,
            rep_ext: e.rep.external_id.clone(),
            rep_email: e.rep.email.clone(),
            rep_name: e.rep.name.clone(),
            opportunity_data,
            opportunity_cols: Listed {
                remote_created_at: Some(o.remote_created_at),
                ..Listed::titled(&o.name)
            },
            opportunity_remote: Remote::of(
                object(&sent["opportunity"]),
                &["account", "contact", "opportunityContacts"],
            ),
            engagement_data,
            engagement_cols: Listed {
                start_time: Some(e.start),
                end_time: Some(e.end),
                direction: e.direction,
                remote_created_at: Some(e.remote_created_at),
                ..Listed::titled(&e.subject)
            },
            engagement_remote: Remote::of(
                object(&sent),
                &["account", "contact", "lead", "opportunity"],
            ),
            start: e.start,
            remote_updated_at: e.remote_updated_at,
        }
    }
}

/// The outbox row of a write: the whole record as JSON, as Liaison's events carry it.
fn event_after(
    id: Uuid,
    org: Uuid,
    kind: &str,
    external_id: &str,
    now: &DateTime<Utc>,
    data: &str,
) -> String {
    format!(
        r#"{{"id":"{id}","org":"{org}","kind":"{kind}","external_id":"{external_id}","refs":{{}},"recording_id":null,"sort_at":"{t}","remote_updated_at":null,"deleted_at":null,"merged_into":null,"created_at":"{t}","updated_at":"{t}","data":{data}}}"#,
        t = iso(now)
    )
}

/// One write as the floor performs it.
struct WriteRow<'a> {
    shape: &'a Shape,
    engagement_ext: String,
    opportunity_ext: String,
    now: DateTime<Utc>,
}

impl WriteRow<'_> {
    fn opportunity(&self, account: Uuid, contact: Option<Uuid>) -> RecordWrite<'_> {
        let s = self.shape;
        RecordWrite {
            kind: "opportunity",
            ext: &self.opportunity_ext,
            account: Some(account),
            contact,
            opportunity: None,
            engagement_type: None,
            sort_at: self.now,
            remote_updated_at: None,
            data: &s.opportunity_data,
            cols: &s.opportunity_cols,
            remote_data: s.opportunity_remote.with_ext(&self.opportunity_ext).into(),
        }
    }

    fn engagement(
        &self,
        account: Uuid,
        contact: Option<Uuid>,
        opportunity: Uuid,
        engagement_type: Uuid,
    ) -> RecordWrite<'_> {
        let s = self.shape;
        RecordWrite {
            kind: "engagement",
            ext: &self.engagement_ext,
            account: Some(account),
            contact,
            opportunity: Some(opportunity),
            engagement_type: Some(engagement_type),
            sort_at: s.start,
            remote_updated_at: Some(s.remote_updated_at),
            data: &s.engagement_data,
            cols: &s.engagement_cols,
            remote_data: s.engagement_remote.with_ext(&self.engagement_ext).into(),
        }
    }
}

/// Reads columns with their types and drops them: decoding every column is part of what a
/// read costs, whether or not this floor needs the value.
macro_rules! touch {
    ($row:ident . $get:ident, $($i:literal: $t:ty),+ $(,)?) => {
        $(let _: $t = $row.$get($i)?;)+
    };
}

mod postgres;
pub(crate) mod response;
mod sqlite;

/// A record row, every column decoded (as a backend must).
pub(crate) struct RecordRow {
    id: Uuid,
    org: Uuid,
    connection: Uuid,
    external_id: String,
    account: Option<Uuid>,
    contact: Option<Uuid>,
    lead: Option<Uuid>,
    opportunity: Option<Uuid>,
    engagement_type: Option<Uuid>,
    recording_id: Option<String>,
    remote_updated_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    data: String,
}

pub(crate) struct TypeRow {
    id: Uuid,
    name: String,
    activity_type: String,
}

pub(crate) struct ParticipantRow {
    id: Uuid,
    org: Uuid,
    connection: Uuid,
    parent: Uuid,
    crm_user: Uuid,
    name: Option<String>,
    share: Option<f64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

pub(crate) struct CrmUserRow {
    id: Uuid,
    name: Option<String>,
}

/// What a read returns: its engagements and the rows around them.
#[derive(Default)]
pub(crate) struct Read {
    engagements: Vec<RecordRow>,
    accounts: Vec<RecordRow>,
    types: Vec<TypeRow>,
    participants: Vec<ParticipantRow>,
    crm_users: Vec<CrmUserRow>,
}

impl Read {
    /// The bytes of the records' `data` it read: what the storage floor reports.
    fn data_bytes(&self) -> u64 {
        self.engagements
            .iter()
            .chain(&self.accounts)
            .map(|r| r.data.len() as u64)
            .sum()
    }
}

fn distinct(ids: impl Iterator<Item = Uuid>) -> Vec<Uuid> {
    let mut v: Vec<Uuid> = ids.collect();
    v.sort();
    v.dedup();
    v
}

fn participant_after(id: Uuid, engagement: Uuid, rep: Uuid, name: &str) -> String {
    format!(
        r#"{{"id":"{id}","parent_kind":"engagement","parent":"{engagement}","crm_user":"{rep}","name":"{name}","share":null,"deleted_at":null}}"#
    )
}

/// Where the floor writes (its own organization) and reads (the data set's).
pub struct FloorIds {
    org: Uuid,
    connection: Uuid,
}

/// What one storage-floor measurement does.
pub enum FloorOp {
    Sync,
    Batch(u64),
    GetById(Arc<Vec<Uuid>>),
    List(Option<Uuid>),
    Mixed(Mix, Arc<Vec<Uuid>>),
}

/// The storage floor of one database, shared by its callers.
pub struct Floor {
    raw: RawDb,
    ids: FloorIds,
    read_org: Uuid,
    shapes: Vec<Shape>,
    prefix: String,
    op: FloorOp,
}

impl Floor {
    /// A floor for one measurement. `writes` supplies the rows (the same shapes the scenario
    /// sends to Liaison) and a prefix no earlier measurement used.
    pub fn new(raw: RawDb, read_org: Uuid, writes: &Writes, prefix: String, op: FloorOp) -> Floor {
        Floor {
            raw,
            ids: FloorIds {
                org: Uuid::now_v7(),
                connection: Uuid::now_v7(),
            },
            read_org,
            shapes: writes.shapes.iter().map(Shape::of).collect(),
            prefix,
            op,
        }
    }

    /// Creates the records the writes only reference (accounts, contacts, types, reps), as
    /// the data set holds them for Liaison, so that the floor does not pay for first syncs.
    pub async fn prepare(&self) -> anyhow::Result<()> {
        let now = Utc::now();
        match &self.raw {
            RawDb::Sqlite(db) => {
                let mut conn = db.writer().await;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                for s in &self.shapes {
                    sqlite::nested(&tx, &self.ids, s, &now)?;
                }
                tx.commit()?;
            }
            RawDb::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for s in &self.shapes {
                    postgres::nested(&mut tx, &self.ids, s, &now).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    fn write_row(&self, n: u64, updates: bool) -> WriteRow<'_> {
        // As in sync-single: one in ten writes goes to an engagement written before.
        let target = if updates && n % 10 == 9 { n - 9 } else { n };
        WriteRow {
            shape: &self.shapes[(target % self.shapes.len() as u64) as usize],
            engagement_ext: format!("{}-{target:010}", self.prefix),
            opportunity_ext: format!("o{}-{target:010}", self.prefix),
            now: Utc::now(),
        }
    }

    /// Writes `count` engagements from `first` on in one transaction (IMMEDIATE on SQLite,
    /// as Liaison's writes).
    async fn sync(&self, first: u64, count: u64, updates: bool) -> anyhow::Result<u64> {
        match &self.raw {
            RawDb::Sqlite(db) => {
                let mut conn = db.writer().await;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                for n in first..first + count {
                    sqlite::sync_one(&tx, &self.ids, &self.write_row(n, updates))?;
                }
                tx.commit()?;
            }
            RawDb::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for n in first..first + count {
                    postgres::sync_one(&mut tx, &self.ids, &self.write_row(n, updates)).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(0)
    }

    async fn get_by_id(&self, id: Uuid) -> anyhow::Result<u64> {
        Ok(read_one(&self.raw, self.read_org, id).await?.data_bytes())
    }

    async fn list(&self, after: Option<Uuid>) -> anyhow::Result<u64> {
        Ok(read_page(&self.raw, self.read_org, after)
            .await?
            .data_bytes())
    }

    async fn call(&self, seq: u64, rng: &mut SmallRng) -> anyhow::Result<u64> {
        match &self.op {
            FloorOp::Sync => self.sync(seq, 1, true).await,
            FloorOp::Batch(size) => self.sync(seq * size, *size, false).await,
            FloorOp::GetById(ids) => {
                let id = ids[rng.random_range(0..ids.len())];
                self.get_by_id(id).await
            }
            FloorOp::List(after) => self.list(*after).await,
            FloorOp::Mixed(mix, ids) => match mix.pick(rng) {
                MixPick::GetById => {
                    let id = ids[rng.random_range(0..ids.len())];
                    self.get_by_id(id).await
                }
                MixPick::ListFirstPage => self.list(None).await,
                MixPick::SyncSingle => self.sync(seq, 1, true).await,
            },
        }
    }
}

/// An engagement by id with the rows around it, by raw SQL.
pub(crate) async fn read_one(raw: &RawDb, org: Uuid, id: Uuid) -> anyhow::Result<Read> {
    Ok(match raw {
        RawDb::Sqlite(db) => {
            let c = db.reader().await?;
            sqlite::get_by_id(&c, org, id)?
        }
        RawDb::Postgres(pool) => {
            let mut c = pool.acquire().await?;
            postgres::get_by_id(&mut c, org, id).await?
        }
    })
}

/// A page of 100 engagements after `after` (by id) with the rows around them, by raw SQL.
pub(crate) async fn read_page(raw: &RawDb, org: Uuid, after: Option<Uuid>) -> anyhow::Result<Read> {
    Ok(match raw {
        RawDb::Sqlite(db) => {
            let c = db.reader().await?;
            sqlite::list(&c, org, after)?
        }
        RawDb::Postgres(pool) => {
            let mut c = pool.acquire().await?;
            postgres::list(&mut c, org, after).await?
        }
    })
}

/// One storage-floor worker.
pub struct FloorCaller {
    floor: Arc<Floor>,
    rng: SmallRng,
}

pub fn floor_callers(floor: Arc<Floor>, concurrency: usize) -> Vec<FloorCaller> {
    (0..concurrency)
        .map(|w| FloorCaller {
            floor: floor.clone(),
            rng: SmallRng::seed_from_u64(0xF100_0000 + w as u64),
        })
        .collect()
}

impl Caller for FloorCaller {
    async fn call(&mut self, seq: u64) -> Result<u64, CallError> {
        self.floor
            .call(seq, &mut self.rng)
            .await
            .map_err(|e| CallError {
                message: format!("storage floor: {e:#}"),
                broken: false,
            })
    }

    fn reset(&mut self) {}
}
