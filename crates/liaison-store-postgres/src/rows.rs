//! Row decoding and record binding for PostgreSQL: native uuid and timestamptz columns to the
//! domain's typed ids and instants.

use crate::db;
use chrono::{DateTime, Utc};
use liaison_domain::model::*;
use liaison_domain::scope::ScopeSet;
use liaison_domain::values::{ActivityType, Direction, Share};
use liaison_domain::*;
use liaison_store::Result;
use liaison_store::*;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Row};
use uuid::Uuid;

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt row: {what}"))
}

fn t(r: &PgRow, col: &str) -> Result<DateTime<Utc>> {
    r.try_get(col).map_err(db)
}

fn ot(r: &PgRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    r.try_get(col).map_err(db)
}

fn u(r: &PgRow, col: &str) -> Result<Uuid> {
    r.try_get(col).map_err(db)
}

fn ou(r: &PgRow, col: &str) -> Result<Option<Uuid>> {
    r.try_get(col).map_err(db)
}

fn s(r: &PgRow, col: &str) -> Result<String> {
    r.try_get(col).map_err(db)
}

fn os(r: &PgRow, col: &str) -> Result<Option<String>> {
    r.try_get(col).map_err(db)
}

pub fn record(r: &PgRow) -> Result<RecordRow> {
    let kind = s(r, "kind")?;
    Ok(Record {
        id: RecordId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        kind: RecordKind::parse(&kind).ok_or_else(|| corrupt("record kind"))?,
        external_id: s(r, "external_id")?,
        refs: Refs {
            account: ou(r, "account_id")?.map(RecordId::from_uuid),
            contact: ou(r, "contact_id")?.map(RecordId::from_uuid),
            lead: ou(r, "lead_id")?.map(RecordId::from_uuid),
            opportunity: ou(r, "opportunity_id")?.map(RecordId::from_uuid),
            owner: ou(r, "owner_id")?.map(CrmUserId::from_uuid),
            engagement_type: ou(r, "engagement_type_id")?.map(EngagementTypeId::from_uuid),
        },
        recording_id: os(r, "recording_id")?,
        sort_at: t(r, "sort_at")?,
        remote_updated_at: ot(r, "remote_updated_at")?,
        deleted_at: ot(r, "deleted_at")?,
        merged_into: ou(r, "merged_into")?.map(RecordId::from_uuid),
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
        data: s(r, "data")?,
        indexed: Indexed {
            title: os(r, "title")?,
            start_time: ot(r, "start_time")?,
            end_time: ot(r, "end_time")?,
            direction: os(r, "direction")?
                .map(|d| Direction::parse(&d).ok_or_else(|| corrupt("direction")))
                .transpose()?,
            is_private: r.try_get("is_private").map_err(db)?,
            remote_created_at: ot(r, "remote_created_at")?,
            contacts: r
                .try_get::<Option<Vec<Uuid>>, _>("contacts")
                .map_err(db)?
                .unwrap_or_default()
                .into_iter()
                .map(RecordId::from_uuid)
                .collect(),
        },
        remote_data: os(r, "remote_data")?,
    })
}

/// Binds a record's columns as `$1..$27`, in `RECORD_WRITE_COLUMNS` order.
pub fn bind_record<'q>(
    q: Query<'q, Postgres, PgArguments>,
    r: &RecordRow,
) -> Query<'q, Postgres, PgArguments> {
    q.bind(r.id.uuid())
        .bind(r.org.uuid())
        .bind(r.connection.uuid())
        .bind(r.kind.as_str())
        .bind(r.external_id.clone())
        .bind(r.refs.account.map(RecordId::uuid))
        .bind(r.refs.contact.map(RecordId::uuid))
        .bind(r.refs.lead.map(RecordId::uuid))
        .bind(r.refs.opportunity.map(RecordId::uuid))
        .bind(r.refs.owner.map(CrmUserId::uuid))
        .bind(r.refs.engagement_type.map(EngagementTypeId::uuid))
        .bind(r.recording_id.clone())
        .bind(r.sort_at)
        .bind(r.remote_updated_at)
        .bind(r.deleted_at)
        .bind(r.merged_into.map(RecordId::uuid))
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.data.clone())
        .bind(r.indexed.title.clone())
        .bind(r.indexed.start_time)
        .bind(r.indexed.end_time)
        .bind(r.indexed.direction.map(|d| d.as_str()))
        .bind(r.indexed.is_private)
        .bind(r.indexed.remote_created_at)
        .bind(r.remote_data.clone())
        .bind(r.indexed.title_key())
}

pub fn engagement_type(r: &PgRow) -> Result<EngagementType> {
    Ok(EngagementType {
        id: EngagementTypeId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        external_id: os(r, "external_id")?,
        name: s(r, "name")?,
        activity_type: ActivityType::parse(&s(r, "activity_type")?)
            .ok_or_else(|| corrupt("activity type"))?,
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
    })
}

pub fn crm_user(r: &PgRow) -> Result<CrmUser> {
    Ok(CrmUser {
        id: CrmUserId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        external_id: s(r, "external_id")?,
        email: os(r, "email")?,
        name: os(r, "name")?,
        user: ou(r, "user_id")?.map(UserId::from_uuid),
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
    })
}

pub fn user(r: &PgRow) -> Result<WorkspaceUser> {
    let coach: String = s(r, "coach_team_ids")?;
    Ok(WorkspaceUser {
        id: UserId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        email: os(r, "email")?,
        phone_number: os(r, "phone_number")?,
        first_name: os(r, "first_name")?,
        last_name: os(r, "last_name")?,
        member_team_id: os(r, "member_team_id")?,
        coach_team_ids: serde_json::from_str(&coach).map_err(|_| corrupt("coach_team_ids"))?,
        external_id: os(r, "external_id")?,
        disabled: r.try_get("disabled").map_err(db)?,
        billable: r.try_get("billable").map_err(db)?,
        is_admin: r.try_get("is_admin").map_err(db)?,
        contact_settings: os(r, "contact_settings")?
            .map(|v| serde_json::from_str(&v))
            .transpose()
            .map_err(|_| corrupt("contact_settings"))?,
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
    })
}

pub fn participant(r: &PgRow) -> Result<Participant> {
    Ok(Participant {
        id: ParticipantId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        parent_kind: ParentKind::parse(&s(r, "parent_kind")?)
            .ok_or_else(|| corrupt("parent kind"))?,
        parent: RecordId::from_uuid(u(r, "parent_id")?),
        crm_user: CrmUserId::from_uuid(u(r, "crm_user_id")?),
        name: os(r, "name")?,
        share: r
            .try_get::<Option<f64>, _>("share")
            .map_err(db)?
            .and_then(Share::parse),
        deleted_at: ot(r, "deleted_at")?,
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
    })
}

pub fn token(r: &PgRow) -> Result<Token> {
    Ok(Token {
        id: TokenId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        name: s(r, "name")?,
        prefix: s(r, "prefix")?,
        hash: s(r, "hash")?,
        scopes: ScopeSet::parse(&s(r, "scopes")?).map_err(|_| corrupt("scopes"))?,
        created_at: t(r, "created_at")?,
        revoked_at: ot(r, "revoked_at")?,
        rate_limit: stored_rate_limit(r.try_get("rate_limit").map_err(db)?)?,
    })
}

pub fn event(r: &PgRow) -> Result<Event> {
    Ok(Event {
        seq: r.try_get("seq").map_err(db)?,
        id: EventId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        entity: s(r, "entity")?,
        entity_id: u(r, "entity_id")?,
        action: EventAction::parse(&s(r, "action")?).ok_or_else(|| corrupt("event action"))?,
        before: os(r, "before")?,
        after: os(r, "after")?,
        at: t(r, "at")?,
    })
}

pub fn event_id(r: &PgRow) -> Result<EventId> {
    Ok(EventId::from_uuid(u(r, "id")?))
}

pub fn setting(r: &PgRow) -> Result<(String, String)> {
    Ok((s(r, "key")?, s(r, "value")?))
}

pub fn org(r: &PgRow) -> Result<Org> {
    Ok(Org {
        id: OrgId::from_uuid(u(r, "id")?),
        name: s(r, "name")?,
        created_at: t(r, "created_at")?,
    })
}

pub fn connection(r: &PgRow) -> Result<Connection> {
    Ok(Connection {
        id: ConnectionId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        name: s(r, "name")?,
        created_at: t(r, "created_at")?,
    })
}
