//! Row decoding and record binding for SQLite: microsecond integers to instants, blobs to ids.

use crate::{backend, ts};
use chrono::{DateTime, Utc};
use liaison_domain::model::*;
use liaison_domain::scope::ScopeSet;
use liaison_domain::values::{ActivityType, Share};
use liaison_domain::*;
use liaison_store::Result;
use liaison_store::*;
use rusqlite::Row;
use rusqlite::types::{FromSql, ToSql};
use uuid::Uuid;

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt row: {what}"))
}

fn get<T: FromSql>(r: &Row, col: &str) -> Result<T> {
    r.get(col).map_err(backend)
}

fn instant(micros: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt("instant out of range"))
}

fn t(r: &Row, col: &str) -> Result<DateTime<Utc>> {
    instant(get(r, col)?)
}

fn ot(r: &Row, col: &str) -> Result<Option<DateTime<Utc>>> {
    get::<Option<i64>>(r, col)?.map(instant).transpose()
}

fn u(r: &Row, col: &str) -> Result<Uuid> {
    get(r, col)
}

fn ou(r: &Row, col: &str) -> Result<Option<Uuid>> {
    get(r, col)
}

pub fn record(r: &Row) -> Result<RecordRow> {
    let kind: String = get(r, "kind")?;
    Ok(Record {
        id: RecordId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        kind: RecordKind::parse(&kind).ok_or_else(|| corrupt("record kind"))?,
        external_id: get(r, "external_id")?,
        refs: Refs {
            account: ou(r, "account_id")?.map(RecordId::from_uuid),
            contact: ou(r, "contact_id")?.map(RecordId::from_uuid),
            lead: ou(r, "lead_id")?.map(RecordId::from_uuid),
            opportunity: ou(r, "opportunity_id")?.map(RecordId::from_uuid),
            owner: ou(r, "owner_id")?.map(CrmUserId::from_uuid),
            engagement_type: ou(r, "engagement_type_id")?.map(EngagementTypeId::from_uuid),
        },
        recording_id: get(r, "recording_id")?,
        sort_at: t(r, "sort_at")?,
        remote_updated_at: ot(r, "remote_updated_at")?,
        deleted_at: ot(r, "deleted_at")?,
        merged_into: ou(r, "merged_into")?.map(RecordId::from_uuid),
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
        data: get(r, "data")?,
    })
}

/// A record's columns as `?1..?19`, in `RECORD_COLS` order.
pub fn record_params(r: &RecordRow) -> [Box<dyn ToSql + '_>; 19] {
    [
        Box::new(r.id.uuid()),
        Box::new(r.org.uuid()),
        Box::new(r.connection.uuid()),
        Box::new(r.kind.as_str()),
        Box::new(r.external_id.as_str()),
        Box::new(r.refs.account.map(RecordId::uuid)),
        Box::new(r.refs.contact.map(RecordId::uuid)),
        Box::new(r.refs.lead.map(RecordId::uuid)),
        Box::new(r.refs.opportunity.map(RecordId::uuid)),
        Box::new(r.refs.owner.map(CrmUserId::uuid)),
        Box::new(r.refs.engagement_type.map(EngagementTypeId::uuid)),
        Box::new(r.recording_id.as_deref()),
        Box::new(ts(&r.sort_at)),
        Box::new(r.remote_updated_at.as_ref().map(ts)),
        Box::new(r.deleted_at.as_ref().map(ts)),
        Box::new(r.merged_into.map(RecordId::uuid)),
        Box::new(ts(&r.created_at)),
        Box::new(ts(&r.updated_at)),
        Box::new(r.data.as_str()),
    ]
}

pub fn engagement_type(r: &Row) -> Result<EngagementType> {
    Ok(EngagementType {
        id: EngagementTypeId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        external_id: get(r, "external_id")?,
        name: get(r, "name")?,
        activity_type: ActivityType::parse(&get::<String>(r, "activity_type")?)
            .ok_or_else(|| corrupt("activity type"))?,
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
    })
}

pub fn crm_user(r: &Row) -> Result<CrmUser> {
    Ok(CrmUser {
        id: CrmUserId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        external_id: get(r, "external_id")?,
        email: get(r, "email")?,
        name: get(r, "name")?,
        user: ou(r, "user_id")?.map(UserId::from_uuid),
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
    })
}

pub fn user(r: &Row) -> Result<WorkspaceUser> {
    let coach: String = get(r, "coach_team_ids")?;
    let settings: Option<String> = get(r, "contact_settings")?;
    Ok(WorkspaceUser {
        id: UserId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        email: get(r, "email")?,
        phone_number: get(r, "phone_number")?,
        first_name: get(r, "first_name")?,
        last_name: get(r, "last_name")?,
        member_team_id: get(r, "member_team_id")?,
        coach_team_ids: serde_json::from_str(&coach).map_err(|_| corrupt("coach_team_ids"))?,
        external_id: get(r, "external_id")?,
        disabled: get(r, "disabled")?,
        billable: get(r, "billable")?,
        is_admin: get(r, "is_admin")?,
        contact_settings: settings
            .map(|v| serde_json::from_str(&v))
            .transpose()
            .map_err(|_| corrupt("contact_settings"))?,
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
    })
}

pub fn participant(r: &Row) -> Result<Participant> {
    Ok(Participant {
        id: ParticipantId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        parent_kind: ParentKind::parse(&get::<String>(r, "parent_kind")?)
            .ok_or_else(|| corrupt("parent kind"))?,
        parent: RecordId::from_uuid(u(r, "parent_id")?),
        crm_user: CrmUserId::from_uuid(u(r, "crm_user_id")?),
        name: get(r, "name")?,
        share: get::<Option<f64>>(r, "share")?.and_then(Share::parse),
        deleted_at: ot(r, "deleted_at")?,
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
    })
}

pub fn token(r: &Row) -> Result<Token> {
    Ok(Token {
        id: TokenId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        name: get(r, "name")?,
        prefix: get(r, "prefix")?,
        hash: get(r, "hash")?,
        scopes: ScopeSet::parse(&get::<String>(r, "scopes")?).map_err(|_| corrupt("scopes"))?,
        created_at: t(r, "created_at")?,
        revoked_at: ot(r, "revoked_at")?,
    })
}

pub fn event(r: &Row) -> Result<Event> {
    Ok(Event {
        seq: get(r, "seq")?,
        id: EventId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        entity: get(r, "entity")?,
        entity_id: u(r, "entity_id")?,
        action: EventAction::parse(&get::<String>(r, "action")?)
            .ok_or_else(|| corrupt("event action"))?,
        before: get(r, "before")?,
        after: get(r, "after")?,
        at: t(r, "at")?,
    })
}

pub fn org(r: &Row) -> Result<Org> {
    Ok(Org {
        id: OrgId::from_uuid(u(r, "id")?),
        name: get(r, "name")?,
        created_at: t(r, "created_at")?,
    })
}

pub fn connection(r: &Row) -> Result<Connection> {
    Ok(Connection {
        id: ConnectionId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        name: get(r, "name")?,
        created_at: t(r, "created_at")?,
    })
}
