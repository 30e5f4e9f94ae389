//! Row decoding and record binding for SQLite: microsecond integers to instants, blobs to ids.
//! Columns are read by position, in the order of the `*_COLS` lists in `lib.rs`.

use crate::{backend, ts};
use chrono::{DateTime, Utc};
use liaison_domain::model::*;
use liaison_domain::scope::{AccessScope, ScopeSet};
use liaison_domain::values::{ActivityType, Direction, Share};
use liaison_domain::*;
use liaison_store::Result;
use liaison_store::*;
use rusqlite::Row;
use rusqlite::types::{FromSql, ToSql};
use uuid::Uuid;

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt row: {what}"))
}

fn get<T: FromSql>(r: &Row, col: usize) -> Result<T> {
    r.get(col).map_err(backend)
}

fn instant(micros: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt("instant out of range"))
}

fn t(r: &Row, col: usize) -> Result<DateTime<Utc>> {
    instant(get(r, col)?)
}

fn ot(r: &Row, col: usize) -> Result<Option<DateTime<Utc>>> {
    get::<Option<i64>>(r, col)?.map(instant).transpose()
}

fn u(r: &Row, col: usize) -> Result<Uuid> {
    get(r, col)
}

fn ou(r: &Row, col: usize) -> Result<Option<Uuid>> {
    get(r, col)
}

pub fn record(r: &Row) -> Result<RecordRow> {
    let kind: String = get(r, 3)?;
    Ok(Record {
        id: RecordId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        connection: ConnectionId::from_uuid(u(r, 2)?),
        kind: RecordKind::parse(&kind).ok_or_else(|| corrupt("record kind"))?,
        external_id: get(r, 4)?,
        refs: Refs {
            account: ou(r, 5)?.map(RecordId::from_uuid),
            contact: ou(r, 6)?.map(RecordId::from_uuid),
            lead: ou(r, 7)?.map(RecordId::from_uuid),
            opportunity: ou(r, 8)?.map(RecordId::from_uuid),
            owner: ou(r, 9)?.map(CrmUserId::from_uuid),
            engagement_type: ou(r, 10)?.map(EngagementTypeId::from_uuid),
        },
        recording_id: get(r, 11)?,
        sort_at: t(r, 12)?,
        remote_updated_at: ot(r, 13)?,
        deleted_at: ot(r, 14)?,
        merged_into: ou(r, 15)?.map(RecordId::from_uuid),
        created_at: t(r, 16)?,
        updated_at: t(r, 17)?,
        data: get(r, 18)?,
        indexed: Indexed {
            title: get(r, 19)?,
            start_time: ot(r, 20)?,
            end_time: ot(r, 21)?,
            direction: get::<Option<String>>(r, 22)?
                .map(|d| Direction::parse(&d).ok_or_else(|| corrupt("direction")))
                .transpose()?,
            is_private: get(r, 23)?,
            remote_created_at: ot(r, 24)?,
            contacts: hex_ids(get::<Option<String>>(r, 26)?.as_deref())?,
        },
        remote_data: get(r, 25)?,
    })
}

/// The ids `group_concat(hex(id), ',')` made.
fn hex_ids(list: Option<&str>) -> Result<Vec<RecordId>> {
    let Some(list) = list.filter(|l| !l.is_empty()) else {
        return Ok(vec![]);
    };
    list.split(',')
        .map(|h| {
            Uuid::try_parse(h)
                .map(RecordId::from_uuid)
                .map_err(|_| corrupt("opportunity contact"))
        })
        .collect()
}

/// A record's columns as `?1..?27`, in `RECORD_WRITE_COLUMNS` order.
pub fn record_params(r: &RecordRow) -> [Box<dyn ToSql + '_>; 27] {
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
        Box::new(r.indexed.title.as_deref()),
        Box::new(r.indexed.start_time.as_ref().map(ts)),
        Box::new(r.indexed.end_time.as_ref().map(ts)),
        Box::new(r.indexed.direction.map(|d| d.as_str())),
        Box::new(r.indexed.is_private),
        Box::new(r.indexed.remote_created_at.as_ref().map(ts)),
        Box::new(r.remote_data.as_deref()),
        Box::new(r.indexed.title_key()),
    ]
}

pub fn engagement_type(r: &Row) -> Result<EngagementType> {
    Ok(EngagementType {
        id: EngagementTypeId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        connection: ConnectionId::from_uuid(u(r, 2)?),
        external_id: get(r, 3)?,
        name: get(r, 4)?,
        activity_type: ActivityType::parse(&get::<String>(r, 5)?)
            .ok_or_else(|| corrupt("activity type"))?,
        created_at: t(r, 6)?,
        updated_at: t(r, 7)?,
    })
}

pub fn crm_user(r: &Row) -> Result<CrmUser> {
    Ok(CrmUser {
        id: CrmUserId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        connection: ConnectionId::from_uuid(u(r, 2)?),
        external_id: get(r, 3)?,
        email: get(r, 4)?,
        name: get(r, 5)?,
        user: ou(r, 6)?.map(UserId::from_uuid),
        created_at: t(r, 7)?,
        updated_at: t(r, 8)?,
    })
}

pub fn user(r: &Row) -> Result<WorkspaceUser> {
    let coach: String = get(r, 7)?;
    let settings: Option<String> = get(r, 12)?;
    Ok(WorkspaceUser {
        id: UserId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        email: get(r, 2)?,
        phone_number: get(r, 3)?,
        first_name: get(r, 4)?,
        last_name: get(r, 5)?,
        member_team_id: get(r, 6)?,
        coach_team_ids: serde_json::from_str(&coach).map_err(|_| corrupt("coach_team_ids"))?,
        external_id: get(r, 8)?,
        disabled: get(r, 9)?,
        billable: get(r, 10)?,
        is_admin: get(r, 11)?,
        contact_settings: settings
            .map(|v| serde_json::from_str(&v))
            .transpose()
            .map_err(|_| corrupt("contact_settings"))?,
        created_at: t(r, 13)?,
        updated_at: t(r, 14)?,
    })
}

pub fn participant(r: &Row) -> Result<Participant> {
    Ok(Participant {
        id: ParticipantId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        connection: ConnectionId::from_uuid(u(r, 2)?),
        parent_kind: ParentKind::parse(&get::<String>(r, 3)?)
            .ok_or_else(|| corrupt("parent kind"))?,
        parent: RecordId::from_uuid(u(r, 4)?),
        crm_user: CrmUserId::from_uuid(u(r, 5)?),
        name: get(r, 6)?,
        share: get::<Option<f64>>(r, 7)?.and_then(Share::parse),
        deleted_at: ot(r, 8)?,
        created_at: t(r, 9)?,
        updated_at: t(r, 10)?,
    })
}

pub fn token(r: &Row) -> Result<Token> {
    Ok(Token {
        id: TokenId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        connection: ConnectionId::from_uuid(u(r, 2)?),
        name: get(r, 3)?,
        prefix: get(r, 4)?,
        hash: get(r, 5)?,
        scopes: ScopeSet::parse(&get::<String>(r, 6)?).map_err(|_| corrupt("scopes"))?,
        created_at: t(r, 7)?,
        revoked_at: ot(r, 8)?,
        rate_limit: stored_rate_limit(get(r, 9)?)?,
    })
}

pub fn event(r: &Row) -> Result<Event> {
    Ok(Event {
        seq: get(r, 0)?,
        id: EventId::from_uuid(u(r, 1)?),
        org: OrgId::from_uuid(u(r, 2)?),
        entity: get(r, 3)?,
        entity_id: u(r, 4)?,
        action: EventAction::parse(&get::<String>(r, 5)?).ok_or_else(|| corrupt("event action"))?,
        before: get(r, 6)?,
        after: get(r, 7)?,
        at: t(r, 8)?,
    })
}

pub fn event_id(r: &Row) -> Result<EventId> {
    Ok(EventId::from_uuid(u(r, 0)?))
}

pub fn setting(r: &Row) -> Result<(String, String)> {
    Ok((get(r, 0)?, get(r, 1)?))
}

pub fn org(r: &Row) -> Result<Org> {
    Ok(Org {
        id: OrgId::from_uuid(u(r, 0)?),
        name: get(r, 1)?,
        created_at: t(r, 2)?,
    })
}

pub fn connection(r: &Row) -> Result<Connection> {
    Ok(Connection {
        id: ConnectionId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        name: get(r, 2)?,
        created_at: t(r, 3)?,
    })
}

pub fn app(r: &Row) -> Result<OAuthApp> {
    Ok(OAuthApp {
        client_id: ClientId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        connection: ConnectionId::from_uuid(u(r, 2)?),
        name: get(r, 3)?,
        owner: UserId::from_uuid(u(r, 4)?),
        secret_hash: get(r, 5)?,
        created_at: t(r, 6)?,
        updated_at: t(r, 7)?,
        deleted_at: ot(r, 8)?,
    })
}

pub fn access_token(r: &Row) -> Result<AccessToken> {
    Ok(AccessToken {
        id: AccessTokenId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        client_id: ClientId::from_uuid(u(r, 2)?),
        user: UserId::from_uuid(u(r, 3)?),
        scope: AccessScope::parse(&get::<String>(r, 4)?).ok_or_else(|| corrupt("access scope"))?,
        hash: get(r, 5)?,
        expires_at: t(r, 6)?,
        created_at: t(r, 7)?,
        updated_at: t(r, 8)?,
        revoked_at: ot(r, 9)?,
    })
}

pub fn mobile_event(r: &Row) -> Result<MobileEvent> {
    Ok(MobileEvent {
        id: MobileEventId::from_uuid(u(r, 0)?),
        org: OrgId::from_uuid(u(r, 1)?),
        user: UserId::from_uuid(u(r, 2)?),
        recording: ou(r, 3)?.map(RecordingId::from_uuid),
        external_opportunity_ids: decode_opportunity_ids(&get::<String>(r, 4)?)?,
        code: decode_code(&get::<String>(r, 5)?)?,
        payload: decode_payload(&get::<String>(r, 6)?)?,
        created_at: t(r, 7)?,
    })
}
