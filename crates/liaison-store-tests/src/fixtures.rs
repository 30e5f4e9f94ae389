//! Builders for the rows the suite writes: each fills every field with something plausible
//! so that a test only spells out what it is about.

use chrono::DateTime;
use liaison_domain::model::*;
use liaison_domain::scope::ScopeSet;
use liaison_domain::time::now;
use liaison_domain::values::{ActivityType, Share};
use liaison_domain::*;
use liaison_store::*;

/// An org with one connection, committed.
pub struct Tenant {
    pub org: OrgId,
    pub connection: ConnectionId,
}

pub async fn tenant<S: Store>(store: &S) -> Tenant {
    let org = Org {
        id: OrgId::new(),
        name: format!("org-{}", uuid::Uuid::now_v7().simple()),
        created_at: now(),
    };
    let connection = Connection {
        id: ConnectionId::new(),
        org: org.id,
        name: "crm".into(),
        created_at: now(),
    };
    let mut tx = begin(store).await;
    tx.insert_org(&org).await.expect("insert org");
    tx.insert_connection(&connection)
        .await
        .expect("insert connection");
    tx.commit().await.expect("commit");
    Tenant {
        org: org.id,
        connection: connection.id,
    }
}

/// Runs `$body` twice with `$tx` bound: in a read session, then in a write transaction (the
/// reads of the contract hold in both).
macro_rules! each_session {
    ($store:expr, $tx:ident, $body:block) => {{
        {
            #[allow(unused_mut)]
            let mut $tx = read($store).await;
            $body
        }
        {
            #[allow(unused_mut)]
            let mut $tx = begin($store).await;
            $body
        }
    }};
}
pub(crate) use each_session;

pub async fn begin<S: Store>(store: &S) -> S::Tx {
    store.begin().await.expect("begin")
}

pub async fn read<S: Store>(store: &S) -> ReadOnly<S::Tx> {
    store.read().await.expect("read")
}

/// An instant from microseconds since the epoch.
pub fn at(micros: i64) -> Instant {
    DateTime::from_timestamp_micros(micros).expect("instant in range")
}

/// A base instant with microsecond precision, and `minutes` after it.
pub fn minute(minutes: i64) -> Instant {
    at(1_709_150_998_692_123 + minutes * 60_000_000)
}

pub fn record(t: &Tenant, kind: RecordKind, external_id: &str) -> RecordRow {
    let created = now();
    Record {
        id: RecordId::new(),
        org: t.org,
        connection: t.connection,
        kind,
        external_id: external_id.into(),
        refs: Refs::default(),
        recording_id: None,
        sort_at: created,
        remote_updated_at: None,
        deleted_at: None,
        merged_into: None,
        created_at: created,
        updated_at: created,
        indexed: Indexed::default(),
        remote_data: None,
        data: "{}".into(),
    }
}

/// An engagement whose data carries `startTime` (and whose `sort_at` is it) when given.
pub fn engagement(t: &Tenant, external_id: &str, start: Option<Instant>) -> RecordRow {
    let mut r = record(t, RecordKind::Engagement, external_id);
    if let Some(s) = start {
        r.sort_at = s;
        r.indexed.start_time = Some(s);
        r.data = serde_json::json!({ "startTime": liaison_domain::time::format_instant(&s) })
            .to_string();
    }
    r
}

pub async fn insert_all<S: Store>(store: &S, rows: &[RecordRow]) {
    let mut tx = begin(store).await;
    for r in rows {
        tx.insert_record(r).await.expect("insert record");
    }
    tx.commit().await.expect("commit");
}

pub fn crm_user(t: &Tenant, external_id: &str, user: Option<UserId>) -> CrmUser {
    CrmUser {
        id: CrmUserId::new(),
        org: t.org,
        connection: t.connection,
        external_id: external_id.into(),
        email: None,
        name: None,
        user,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn workspace_user(org: OrgId) -> WorkspaceUser {
    WorkspaceUser {
        id: UserId::new(),
        org,
        email: None,
        phone_number: None,
        first_name: None,
        last_name: None,
        member_team_id: None,
        coach_team_ids: vec![],
        external_id: None,
        disabled: false,
        billable: false,
        is_admin: false,
        contact_settings: None,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn participant(t: &Tenant, parent: &RecordRow, crm_user: CrmUserId) -> Participant {
    Participant {
        id: ParticipantId::new(),
        org: t.org,
        connection: t.connection,
        parent_kind: match parent.kind {
            RecordKind::Opportunity => ParentKind::Opportunity,
            _ => ParentKind::Engagement,
        },
        parent: parent.id,
        crm_user,
        name: None,
        share: None,
        deleted_at: None,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn engagement_type(t: &Tenant, external_id: Option<&str>, name: &str) -> EngagementType {
    EngagementType {
        id: EngagementTypeId::new(),
        org: t.org,
        connection: t.connection,
        external_id: external_id.map(Into::into),
        name: name.into(),
        activity_type: ActivityType::Meeting,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn token(t: &Tenant, hash: &str) -> Token {
    Token {
        id: TokenId::new(),
        org: t.org,
        connection: t.connection,
        name: "sync".into(),
        prefix: "lsn_abc".into(),
        hash: hash.into(),
        scopes: ScopeSet::parse("read,engagements:write").expect("scopes"),
        created_at: now(),
        revoked_at: None,
        rate_limit: None,
    }
}

pub fn event(org: OrgId, entity: &str) -> Event {
    Event {
        id: EventId::new(),
        seq: 0,
        org,
        entity: entity.into(),
        entity_id: uuid::Uuid::now_v7(),
        action: EventAction::Created,
        before: None,
        after: Some(r#"{"a": 1}"#.into()),
        at: now(),
    }
}

pub fn share(v: f64) -> Share {
    Share::parse(v).expect("share in range")
}

/// Ids of rows, to compare lists without caring about the other columns.
pub fn ids(rows: &[RecordRow]) -> Vec<RecordId> {
    rows.iter().map(|r| r.id).collect()
}

pub fn by_key<T, K: Ord>(mut v: Vec<T>, key: impl FnMut(&T) -> K) -> Vec<T> {
    v.sort_by_key(key);
    v
}

pub fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(r: liaison_store::Result<T>, what: &str) {
    assert!(
        matches!(r, Err(StoreError::Conflict(_))),
        "{what}: expected a Conflict, got {r:?}"
    );
}
