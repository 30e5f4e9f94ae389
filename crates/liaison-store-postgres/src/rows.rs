//! Row decoding and record binding for PostgreSQL: native uuid and timestamptz columns to the
//! domain's typed ids and instants.

use crate::db;
use chrono::{DateTime, Utc};
use liaison_domain::model::*;
use liaison_domain::scope::{AccessScope, ScopeSet};
use liaison_domain::values::{ActivityType, Direction, Share};
use liaison_domain::*;
use liaison_store::Result;
use liaison_store::*;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{ColumnIndex, Postgres, Row};
use uuid::Uuid;

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt row: {what}"))
}

fn t<I: ColumnIndex<PgRow>>(r: &PgRow, col: I) -> Result<DateTime<Utc>> {
    r.try_get(col).map_err(db)
}

fn ot<I: ColumnIndex<PgRow>>(r: &PgRow, col: I) -> Result<Option<DateTime<Utc>>> {
    r.try_get(col).map_err(db)
}

fn u<I: ColumnIndex<PgRow>>(r: &PgRow, col: I) -> Result<Uuid> {
    r.try_get(col).map_err(db)
}

fn ou<I: ColumnIndex<PgRow>>(r: &PgRow, col: I) -> Result<Option<Uuid>> {
    r.try_get(col).map_err(db)
}

fn s<I: ColumnIndex<PgRow>>(r: &PgRow, col: I) -> Result<String> {
    r.try_get(col).map_err(db)
}

fn os<I: ColumnIndex<PgRow>>(r: &PgRow, col: I) -> Result<Option<String>> {
    r.try_get(col).map_err(db)
}

/// A record from a row of `RECORD_COLS` (or `list::record_cols`), by position: a lookup by
/// name costs a hash and a string comparison per column, and a page reads thousands.
pub fn record(r: &PgRow) -> Result<RecordRow> {
    let kind = s(r, 3)?;
    Ok(Record {
        id: RecordId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        connection: ConnectionId::from_uuid(u(r, 2)?),
        kind: RecordKind::parse(&kind).ok_or_else(|| corrupt("record kind"))?,
        external_id: s(r, 4)?,
        refs: Refs {
            account: ou(r, 5)?.map(RecordId::from_uuid),
            contact: ou(r, 6)?.map(RecordId::from_uuid),
            lead: ou(r, 7)?.map(RecordId::from_uuid),
            opportunity: ou(r, 8)?.map(RecordId::from_uuid),
            owner: ou(r, 9)?.map(CrmUserId::from_uuid),
            engagement_type: ou(r, 10)?.map(EngagementTypeId::from_uuid),
        },
        recording_id: os(r, 11)?,
        sort_at: t(r, 12)?,
        remote_updated_at: ot(r, 13)?,
        deleted_at: ot(r, 14)?,
        merged_into: ou(r, 15)?.map(RecordId::from_uuid),
        created_at: t(r, 16)?,
        updated_at: t(r, 17)?,
        data: s(r, 18)?,
        indexed: Indexed {
            title: os(r, 19)?,
            start_time: ot(r, 20)?,
            end_time: ot(r, 21)?,
            direction: os(r, 22)?
                .map(|d| Direction::parse(&d).ok_or_else(|| corrupt("direction")))
                .transpose()?,
            is_private: r.try_get(23).map_err(db)?,
            remote_created_at: ot(r, 24)?,
            contacts: r
                .try_get::<Option<Vec<Uuid>>, _>(26)
                .map_err(db)?
                .unwrap_or_default()
                .into_iter()
                .map(RecordId::from_uuid)
                .collect(),
        },
        remote_data: os(r, 25)?,
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

/// An engagement type from a row of `TYPE_COLS`, by position, as the others below.
pub fn engagement_type(r: &PgRow) -> Result<EngagementType> {
    Ok(EngagementType {
        id: EngagementTypeId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        connection: ConnectionId::from_uuid(u(r, 2)?),
        external_id: os(r, 3)?,
        name: s(r, 4)?,
        activity_type: ActivityType::parse(&s(r, 5)?).ok_or_else(|| corrupt("activity type"))?,
        created_at: t(r, 6)?,
        updated_at: t(r, 7)?,
    })
}

/// A CRM user from a row of `CRM_USER_COLS`.
pub fn crm_user(r: &PgRow) -> Result<CrmUser> {
    Ok(CrmUser {
        id: CrmUserId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        connection: ConnectionId::from_uuid(u(r, 2)?),
        external_id: s(r, 3)?,
        email: os(r, 4)?,
        name: os(r, 5)?,
        user: ou(r, 6)?.map(UserId::from_uuid),
        created_at: t(r, 7)?,
        updated_at: t(r, 8)?,
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

/// A participant from a row of `PARTICIPANT_COLS`.
pub fn participant(r: &PgRow) -> Result<Participant> {
    Ok(Participant {
        id: ParticipantId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        connection: ConnectionId::from_uuid(u(r, 2)?),
        parent_kind: ParentKind::parse(&s(r, 3)?).ok_or_else(|| corrupt("parent kind"))?,
        parent: RecordId::from_uuid(u(r, 4)?),
        crm_user: CrmUserId::from_uuid(u(r, 5)?),
        name: os(r, 6)?,
        share: r
            .try_get::<Option<f64>, _>(7)
            .map_err(db)?
            .and_then(Share::parse),
        deleted_at: ot(r, 8)?,
        created_at: t(r, 9)?,
        updated_at: t(r, 10)?,
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

pub fn app(r: &PgRow) -> Result<OAuthApp> {
    Ok(OAuthApp {
        client_id: ClientId::from_uuid(u(r, "client_id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        connection: ConnectionId::from_uuid(u(r, "connection_id")?),
        name: s(r, "name")?,
        owner: UserId::from_uuid(u(r, "owner_id")?),
        secret_hash: s(r, "secret_hash")?,
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
        deleted_at: ot(r, "deleted_at")?,
    })
}

pub fn access_token(r: &PgRow) -> Result<AccessToken> {
    Ok(AccessToken {
        id: AccessTokenId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        client_id: ClientId::from_uuid(u(r, "client_id")?),
        user: UserId::from_uuid(u(r, "user_id")?),
        scope: AccessScope::parse(&s(r, "scope")?).ok_or_else(|| corrupt("access scope"))?,
        hash: s(r, "hash")?,
        expires_at: t(r, "expires_at")?,
        created_at: t(r, "created_at")?,
        updated_at: t(r, "updated_at")?,
        revoked_at: ot(r, "revoked_at")?,
    })
}

pub fn mobile_event(r: &PgRow) -> Result<MobileEvent> {
    Ok(MobileEvent {
        id: MobileEventId::from_uuid(u(r, "id")?),
        org: OrgId::from_uuid(u(r, "org_id")?),
        user: UserId::from_uuid(u(r, "user_id")?),
        recording: ou(r, "recording_id")?.map(RecordingId::from_uuid),
        external_opportunity_ids: decode_opportunity_ids(&s(r, "external_opportunity_ids")?)?,
        code: decode_code(&s(r, "event_code")?)?,
        payload: decode_payload(&s(r, "payload")?)?,
        created_at: t(r, "created_at")?,
    })
}
