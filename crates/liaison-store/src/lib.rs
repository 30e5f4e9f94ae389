//! The storage contract. The engine speaks only to these traits; each backend (SQLite,
//! PostgreSQL) implements them with its own SQL and migrations. The primitives are small on
//! purpose: every rule lives in the engine, written once.

use chrono::{DateTime, Utc};
use liaison_domain::model::*;
use liaison_domain::scope::ScopeSet;
use liaison_domain::*;
use std::future::Future;

mod apps;
mod mobile_events;
mod query;
mod recordings;
pub use apps::*;
pub use mobile_events::*;
pub use query::*;
pub use recordings::*;

pub type Instant = DateTime<Utc>;
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the string names the constraint.
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// The backend failed (I/O, connection, corrupt row).
    #[error("storage failure: {0}")]
    Backend(String),
}

/// A synced record as stored: the kind's own fields are JSON text.
pub type RecordRow = Record<String>;

/// The columns of `records` a record is written with, in the order both backends bind them
/// (`?1`/`$1` is `id`): the bookkeeping, `data`, the list columns, the raw payload, and the
/// title's search key.
pub const RECORD_WRITE_NAMES: [&str; 27] = [
    "id",
    "org_id",
    "connection_id",
    "kind",
    "external_id",
    "account_id",
    "contact_id",
    "lead_id",
    "opportunity_id",
    "owner_id",
    "engagement_type_id",
    "recording_id",
    "sort_at",
    "remote_updated_at",
    "deleted_at",
    "merged_into",
    "created_at",
    "updated_at",
    "data",
    "title",
    "start_time",
    "end_time",
    "direction",
    "is_private",
    "remote_created_at",
    "remote_data",
    "title_key",
];

/// `RECORD_WRITE_NAMES` as a column list.
pub static RECORD_WRITE_COLUMNS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| RECORD_WRITE_NAMES.join(", "));

/// Which of `RECORD_WRITE_NAMES` differ between two versions of one record.
pub fn changed_columns(old: &RecordRow, new: &RecordRow) -> [bool; 27] {
    let (a, b) = (&old.indexed, &new.indexed);
    [
        old.id != new.id,
        old.org != new.org,
        old.connection != new.connection,
        old.kind != new.kind,
        old.external_id != new.external_id,
        old.refs.account != new.refs.account,
        old.refs.contact != new.refs.contact,
        old.refs.lead != new.refs.lead,
        old.refs.opportunity != new.refs.opportunity,
        old.refs.owner != new.refs.owner,
        old.refs.engagement_type != new.refs.engagement_type,
        old.recording_id != new.recording_id,
        old.sort_at != new.sort_at,
        old.remote_updated_at != new.remote_updated_at,
        old.deleted_at != new.deleted_at,
        old.merged_into != new.merged_into,
        old.created_at != new.created_at,
        old.updated_at != new.updated_at,
        old.data != new.data,
        a.title != b.title,
        a.start_time != b.start_time,
        a.end_time != b.end_time,
        a.direction != b.direction,
        a.is_private != b.is_private,
        a.remote_created_at != b.remote_created_at,
        old.remote_data != new.remote_data,
        // The search key follows the title.
        a.title != b.title,
    ]
}

/// The written columns a record is read back with (all but the search key), from the table or
/// alias `t`; a backend adds the opportunity's contacts after them, its own way. Without
/// `remote_data`, a `NULL` stands in the raw payload's place.
pub fn record_read_columns(t: &str, remote_data: bool) -> String {
    RECORD_WRITE_NAMES
        .iter()
        .filter(|c| **c != "title_key")
        .map(|c| match *c {
            "remote_data" if !remote_data => "NULL AS remote_data".to_owned(),
            c => format!("{t}.{c}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A record's place in `sort`: what a cursor holds to continue after (or before) it.
pub fn sort_key<T>(r: &Record<T>, sort: SortField) -> SortKey {
    let value = match sort {
        SortField::Id => None,
        SortField::CreatedAt => Some(Value::Time(r.created_at)),
        SortField::UpdatedAt => Some(Value::Time(r.updated_at)),
        SortField::StartTime => r.indexed.start_time.map(Value::Time),
        SortField::EndTime => r.indexed.end_time.map(Value::Time),
        SortField::Title => r.indexed.title.clone().map(Value::Text),
    };
    SortKey {
        value,
        id: r.id.uuid(),
    }
}

/// A position in a list that goes by `sort_at` then id (a rep's engagements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub sort_at: Instant,
    pub id: uuid::Uuid,
}

/// A page of a rep's engagements, newest first.
#[derive(Debug, Clone)]
pub struct UserEngagementQuery {
    pub user: UserId,
    /// Older than this key (the next page).
    pub after: Option<Key>,
    /// Newer than this key (the previous page); results still come newest first.
    pub before: Option<Key>,
    pub limit: u32,
}

#[derive(Debug, Clone, Default)]
pub struct ParticipantQuery {
    pub parent: Option<RecordId>,
    pub crm_user: Option<CrmUserId>,
    /// Include the participants removed from their parent.
    pub include_deleted: bool,
    pub after: Option<ParticipantId>,
    pub limit: u32,
}

#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub disabled: Option<bool>,
    pub external_id: Option<String>,
    pub after: Option<UserId>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub created_at: Instant,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Connection {
    pub id: ConnectionId,
    pub org: OrgId,
    pub name: String,
    pub created_at: Instant,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Token {
    pub id: TokenId,
    pub org: OrgId,
    pub connection: ConnectionId,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart in listings.
    pub prefix: String,
    pub hash: String,
    pub scopes: ScopeSet,
    pub created_at: Instant,
    pub revoked_at: Option<Instant>,
    /// Requests per minute this token may make, instead of the server's default.
    pub rate_limit: Option<std::num::NonZeroU32>,
}

/// A token's rate limit as both backends store it: a positive integer, or NULL.
pub fn rate_limit_column(limit: Option<std::num::NonZeroU32>) -> Option<i64> {
    limit.map(|n| i64::from(n.get()))
}

/// A token's rate limit as both backends store it (a positive integer, or NULL), read back.
pub fn stored_rate_limit(stored: Option<i64>) -> Result<Option<std::num::NonZeroU32>> {
    stored
        .map(|n| {
            u32::try_from(n)
                .ok()
                .and_then(std::num::NonZeroU32::new)
                .ok_or_else(|| StoreError::Backend(format!("corrupt row: rate limit {n}")))
        })
        .transpose()
}

/// What happened to an entity, as the outbox records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventAction {
    Created,
    Updated,
    Deleted,
    Restored,
    Merged,
}

impl EventAction {
    pub fn as_str(self) -> &'static str {
        match self {
            EventAction::Created => "created",
            EventAction::Updated => "updated",
            EventAction::Deleted => "deleted",
            EventAction::Restored => "restored",
            EventAction::Merged => "merged",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            EventAction::Created,
            EventAction::Updated,
            EventAction::Deleted,
            EventAction::Restored,
            EventAction::Merged,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// One outbox row: what changed, with the old and new versions as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    /// Assigned by the store on append; strictly increasing in commit order per backend.
    pub seq: i64,
    pub org: OrgId,
    /// `account`, `contact`, `lead`, `opportunity`, `engagement`, `engagement_type`,
    /// `crm_user`, `participant` or `user`.
    pub entity: String,
    pub entity_id: uuid::Uuid,
    pub action: EventAction,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: Instant,
}

/// Synced records, read. Every method that names records takes the organization: nothing
/// crosses tenants.
pub trait RecordsRead: Send {
    fn get_record(
        &mut self,
        org: OrgId,
        id: RecordId,
    ) -> impl Future<Output = Result<Option<RecordRow>>> + Send;
    fn get_record_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        kind: RecordKind,
        external_id: &str,
    ) -> impl Future<Output = Result<Option<RecordRow>>> + Send;
    fn get_records(
        &mut self,
        org: OrgId,
        ids: &[RecordId],
    ) -> impl Future<Output = Result<Vec<RecordRow>>> + Send;
    fn list_records(
        &mut self,
        org: OrgId,
        query: &RecordQuery,
    ) -> impl Future<Output = Result<Vec<RecordRow>>> + Send;
    /// Records (live or not) whose link of `target_kind` is `target`; for contacts also
    /// opportunities that list it among their contacts.
    fn records_referencing(
        &mut self,
        org: OrgId,
        target_kind: RecordKind,
        target: RecordId,
    ) -> impl Future<Output = Result<Vec<RecordRow>>> + Send;
    /// Live engagements with a live participant whose CRM user is linked to the workspace user.
    fn list_user_engagements(
        &mut self,
        org: OrgId,
        query: &UserEngagementQuery,
    ) -> impl Future<Output = Result<Vec<RecordRow>>> + Send;
}

/// Synced records, written.
pub trait RecordsWrite: RecordsRead {
    fn insert_record(&mut self, row: &RecordRow) -> impl Future<Output = Result<()>> + Send;
    /// Writes `new` over the stored row, which is `old` (as read in this transaction): a
    /// backend may write only the columns that differ, and so leave untouched the indexes
    /// of the columns that did not change.
    fn update_record(
        &mut self,
        old: &RecordRow,
        new: &RecordRow,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// The people around records, read: engagement types, CRM users, workspace users and their
/// places on engagements and opportunities.
pub trait PeopleRead: Send {
    fn get_engagement_types(
        &mut self,
        org: OrgId,
        ids: &[EngagementTypeId],
    ) -> impl Future<Output = Result<Vec<EngagementType>>> + Send;
    /// By external id when given, else by exact name among types without an external id.
    fn find_engagement_type(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: Option<&str>,
        name: &str,
    ) -> impl Future<Output = Result<Option<EngagementType>>> + Send;
    fn get_crm_users(
        &mut self,
        org: OrgId,
        ids: &[CrmUserId],
    ) -> impl Future<Output = Result<Vec<CrmUser>>> + Send;
    fn get_crm_user_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> impl Future<Output = Result<Option<CrmUser>>> + Send;
    fn list_crm_users(
        &mut self,
        org: OrgId,
        after: Option<CrmUserId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<CrmUser>>> + Send;
    /// Every engagement type of the organization, in id order.
    fn list_engagement_types(
        &mut self,
        org: OrgId,
        after: Option<EngagementTypeId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<EngagementType>>> + Send;
    /// CRM users whose external id, email key or name key equals one given.
    fn crm_users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> impl Future<Output = Result<Vec<CrmUser>>> + Send;
    fn get_user(
        &mut self,
        org: OrgId,
        id: UserId,
    ) -> impl Future<Output = Result<Option<WorkspaceUser>>> + Send;
    fn list_users(
        &mut self,
        org: OrgId,
        query: &UserQuery,
    ) -> impl Future<Output = Result<Vec<WorkspaceUser>>> + Send;
    /// Workspace users whose explicit external id, email key or name key equals one given.
    fn users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> impl Future<Output = Result<Vec<WorkspaceUser>>> + Send;
    fn get_participant(
        &mut self,
        org: OrgId,
        id: ParticipantId,
    ) -> impl Future<Output = Result<Option<Participant>>> + Send;
    fn find_participant(
        &mut self,
        org: OrgId,
        parent: RecordId,
        crm_user: CrmUserId,
    ) -> impl Future<Output = Result<Option<Participant>>> + Send;
    /// These participants, removed from their parent or not, in no particular order.
    fn get_participants(
        &mut self,
        org: OrgId,
        ids: &[ParticipantId],
    ) -> impl Future<Output = Result<Vec<Participant>>> + Send;
    /// Live participants of these parents, in creation order.
    fn participants_of(
        &mut self,
        org: OrgId,
        parents: &[RecordId],
    ) -> impl Future<Output = Result<Vec<Participant>>> + Send;
    /// Participants of one parent kind (the live ones, unless the query includes the
    /// removed), in id order.
    fn list_participants(
        &mut self,
        org: OrgId,
        kind: ParentKind,
        query: &ParticipantQuery,
    ) -> impl Future<Output = Result<Vec<Participant>>> + Send;
}

/// The people around records, written.
pub trait PeopleWrite: PeopleRead {
    fn put_engagement_type(
        &mut self,
        t: &EngagementType,
    ) -> impl Future<Output = Result<()>> + Send;
    fn put_crm_user(
        &mut self,
        u: &CrmUser,
        insert: bool,
    ) -> impl Future<Output = Result<()>> + Send;
    fn put_user(
        &mut self,
        u: &WorkspaceUser,
        insert: bool,
    ) -> impl Future<Output = Result<()>> + Send;
    fn put_participant(
        &mut self,
        p: &Participant,
        insert: bool,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// The outbox, read in commit order.
pub trait OutboxRead: Send {
    fn list_events(
        &mut self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Event>>> + Send;
    /// The numbers of the oldest and the newest event of every organization; `None` while the
    /// outbox is empty.
    fn outbox_span(&mut self) -> impl Future<Output = Result<Option<(i64, i64)>>> + Send;
    /// Which of these events the outbox holds.
    fn known_events(
        &mut self,
        ids: &[EventId],
    ) -> impl Future<Output = Result<Vec<EventId>>> + Send;
}

/// The outbox, appended to in the transaction of the change it records.
pub trait OutboxWrite: OutboxRead {
    fn append_event(&mut self, e: &Event) -> impl Future<Output = Result<()>> + Send;
}

/// Tenancy and credentials (organizations, connections, tokens) and the settings every
/// instance shares, read.
pub trait CredentialsRead: Send {
    fn get_org_by_name(&mut self, name: &str) -> impl Future<Output = Result<Option<Org>>> + Send;
    fn get_org(&mut self, id: OrgId) -> impl Future<Output = Result<Option<Org>>> + Send;
    fn count_orgs(&mut self) -> impl Future<Output = Result<i64>> + Send;
    /// Every organization, in id order.
    fn list_orgs(&mut self) -> impl Future<Output = Result<Vec<Org>>> + Send;
    /// The organization's connections, in id order.
    fn list_connections(
        &mut self,
        org: OrgId,
    ) -> impl Future<Output = Result<Vec<Connection>>> + Send;
    fn get_connection_by_name(
        &mut self,
        org: OrgId,
        name: &str,
    ) -> impl Future<Output = Result<Option<Connection>>> + Send;
    fn get_token_by_hash(
        &mut self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<Token>>> + Send;
    fn get_token(&mut self, id: TokenId) -> impl Future<Output = Result<Option<Token>>> + Send;
    fn list_tokens(&mut self) -> impl Future<Output = Result<Vec<Token>>> + Send;
    fn get_setting(&mut self, key: &str) -> impl Future<Output = Result<Option<String>>> + Send;
    /// Every shared setting as `(key, value)`, in key order.
    fn list_settings(&mut self) -> impl Future<Output = Result<Vec<(String, String)>>> + Send;
}

/// Tenancy, credentials and shared settings, written.
pub trait CredentialsWrite: CredentialsRead {
    fn insert_org(&mut self, org: &Org) -> impl Future<Output = Result<()>> + Send;
    fn insert_connection(&mut self, c: &Connection) -> impl Future<Output = Result<()>> + Send;
    fn insert_token(&mut self, t: &Token) -> impl Future<Output = Result<()>> + Send;
    fn revoke_token(
        &mut self,
        id: TokenId,
        at: Instant,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn put_setting_if_absent(
        &mut self,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Sets the setting, over any value it had.
    fn put_setting(&mut self, key: &str, value: &str) -> impl Future<Output = Result<()>> + Send;
}

/// What a read-only session can do: every read of every aggregate, and no write. The
/// webhooks aggregate joins it (and `WriteTx`) when it is built.
pub trait ReadTx:
    RecordsRead
    + PeopleRead
    + OutboxRead
    + CredentialsRead
    + RecordingsRead
    + AppsRead
    + MobileEventsRead
{
}

impl<
    T: RecordsRead
        + PeopleRead
        + OutboxRead
        + CredentialsRead
        + RecordingsRead
        + AppsRead
        + MobileEventsRead,
> ReadTx for T
{
}

/// A write transaction: every read and every write, committed as one, or rolled back when
/// dropped.
pub trait WriteTx:
    ReadTx
    + RecordsWrite
    + PeopleWrite
    + OutboxWrite
    + CredentialsWrite
    + RecordingsWrite
    + AppsWrite
    + MobileEventsWrite
{
    fn commit(self) -> impl Future<Output = Result<()>> + Send;
    /// Takes each key's exclusive lock until the transaction ends, smallest key first. A
    /// writer that takes the keys of everything it is about to write before writing any of it
    /// queues behind a writer holding one of them, where taking row locks as it goes could
    /// deadlock with a writer that takes them in another order. A backend that runs one write
    /// transaction at a time (SQLite) has nothing to do.
    fn lock_keys(&mut self, keys: &[i64]) -> impl Future<Output = Result<()>> + Send;
}

/// A backend's session seen through the read traits only: what `Store::read` hands out, so
/// that a read session cannot call a write, by its type.
pub struct ReadOnly<T>(T);

impl<T> ReadOnly<T> {
    /// For backends: wraps a session opened read-only.
    pub fn new(session: T) -> Self {
        ReadOnly(session)
    }

    fn inner(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: RecordsRead> RecordsRead for ReadOnly<T> {
    fn get_record(
        &mut self,
        org: OrgId,
        id: RecordId,
    ) -> impl Future<Output = Result<Option<RecordRow>>> + Send {
        self.0.get_record(org, id)
    }
    fn get_record_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        kind: RecordKind,
        external_id: &str,
    ) -> impl Future<Output = Result<Option<RecordRow>>> + Send {
        self.0
            .get_record_by_external(org, connection, kind, external_id)
    }
    fn get_records(
        &mut self,
        org: OrgId,
        ids: &[RecordId],
    ) -> impl Future<Output = Result<Vec<RecordRow>>> + Send {
        self.0.get_records(org, ids)
    }
    fn list_records(
        &mut self,
        org: OrgId,
        query: &RecordQuery,
    ) -> impl Future<Output = Result<Vec<RecordRow>>> + Send {
        self.0.list_records(org, query)
    }
    fn records_referencing(
        &mut self,
        org: OrgId,
        target_kind: RecordKind,
        target: RecordId,
    ) -> impl Future<Output = Result<Vec<RecordRow>>> + Send {
        self.0.records_referencing(org, target_kind, target)
    }
    fn list_user_engagements(
        &mut self,
        org: OrgId,
        query: &UserEngagementQuery,
    ) -> impl Future<Output = Result<Vec<RecordRow>>> + Send {
        self.0.list_user_engagements(org, query)
    }
}

impl<T: PeopleRead> PeopleRead for ReadOnly<T> {
    fn get_engagement_types(
        &mut self,
        org: OrgId,
        ids: &[EngagementTypeId],
    ) -> impl Future<Output = Result<Vec<EngagementType>>> + Send {
        self.0.get_engagement_types(org, ids)
    }
    fn find_engagement_type(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: Option<&str>,
        name: &str,
    ) -> impl Future<Output = Result<Option<EngagementType>>> + Send {
        self.0
            .find_engagement_type(org, connection, external_id, name)
    }
    fn get_crm_users(
        &mut self,
        org: OrgId,
        ids: &[CrmUserId],
    ) -> impl Future<Output = Result<Vec<CrmUser>>> + Send {
        self.0.get_crm_users(org, ids)
    }
    fn get_crm_user_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> impl Future<Output = Result<Option<CrmUser>>> + Send {
        self.0
            .get_crm_user_by_external(org, connection, external_id)
    }
    fn list_crm_users(
        &mut self,
        org: OrgId,
        after: Option<CrmUserId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<CrmUser>>> + Send {
        self.0.list_crm_users(org, after, limit)
    }
    fn list_engagement_types(
        &mut self,
        org: OrgId,
        after: Option<EngagementTypeId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<EngagementType>>> + Send {
        self.0.list_engagement_types(org, after, limit)
    }
    fn get_participants(
        &mut self,
        org: OrgId,
        ids: &[ParticipantId],
    ) -> impl Future<Output = Result<Vec<Participant>>> + Send {
        self.0.get_participants(org, ids)
    }
    fn crm_users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> impl Future<Output = Result<Vec<CrmUser>>> + Send {
        self.0
            .crm_users_matching(org, external_id, email_key, name_key)
    }
    fn get_user(
        &mut self,
        org: OrgId,
        id: UserId,
    ) -> impl Future<Output = Result<Option<WorkspaceUser>>> + Send {
        self.0.get_user(org, id)
    }
    fn list_users(
        &mut self,
        org: OrgId,
        query: &UserQuery,
    ) -> impl Future<Output = Result<Vec<WorkspaceUser>>> + Send {
        self.0.list_users(org, query)
    }
    fn users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> impl Future<Output = Result<Vec<WorkspaceUser>>> + Send {
        self.0.users_matching(org, external_id, email_key, name_key)
    }
    fn get_participant(
        &mut self,
        org: OrgId,
        id: ParticipantId,
    ) -> impl Future<Output = Result<Option<Participant>>> + Send {
        self.0.get_participant(org, id)
    }
    fn find_participant(
        &mut self,
        org: OrgId,
        parent: RecordId,
        crm_user: CrmUserId,
    ) -> impl Future<Output = Result<Option<Participant>>> + Send {
        self.0.find_participant(org, parent, crm_user)
    }
    fn participants_of(
        &mut self,
        org: OrgId,
        parents: &[RecordId],
    ) -> impl Future<Output = Result<Vec<Participant>>> + Send {
        self.0.participants_of(org, parents)
    }
    fn list_participants(
        &mut self,
        org: OrgId,
        kind: ParentKind,
        query: &ParticipantQuery,
    ) -> impl Future<Output = Result<Vec<Participant>>> + Send {
        self.0.list_participants(org, kind, query)
    }
}

impl<T: OutboxRead> OutboxRead for ReadOnly<T> {
    fn list_events(
        &mut self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Event>>> + Send {
        self.0.list_events(org, after_seq, limit)
    }
    fn outbox_span(&mut self) -> impl Future<Output = Result<Option<(i64, i64)>>> + Send {
        self.0.outbox_span()
    }
    fn known_events(
        &mut self,
        ids: &[EventId],
    ) -> impl Future<Output = Result<Vec<EventId>>> + Send {
        self.0.known_events(ids)
    }
}

impl<T: CredentialsRead> CredentialsRead for ReadOnly<T> {
    fn get_org_by_name(&mut self, name: &str) -> impl Future<Output = Result<Option<Org>>> + Send {
        self.0.get_org_by_name(name)
    }
    fn get_org(&mut self, id: OrgId) -> impl Future<Output = Result<Option<Org>>> + Send {
        self.0.get_org(id)
    }
    fn count_orgs(&mut self) -> impl Future<Output = Result<i64>> + Send {
        self.0.count_orgs()
    }
    fn list_orgs(&mut self) -> impl Future<Output = Result<Vec<Org>>> + Send {
        self.0.list_orgs()
    }
    fn list_connections(
        &mut self,
        org: OrgId,
    ) -> impl Future<Output = Result<Vec<Connection>>> + Send {
        self.0.list_connections(org)
    }
    fn get_connection_by_name(
        &mut self,
        org: OrgId,
        name: &str,
    ) -> impl Future<Output = Result<Option<Connection>>> + Send {
        self.0.get_connection_by_name(org, name)
    }
    fn get_token_by_hash(
        &mut self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<Token>>> + Send {
        self.0.get_token_by_hash(hash)
    }
    fn get_token(&mut self, id: TokenId) -> impl Future<Output = Result<Option<Token>>> + Send {
        self.0.get_token(id)
    }
    fn list_tokens(&mut self) -> impl Future<Output = Result<Vec<Token>>> + Send {
        self.0.list_tokens()
    }
    fn get_setting(&mut self, key: &str) -> impl Future<Output = Result<Option<String>>> + Send {
        self.0.get_setting(key)
    }
    fn list_settings(&mut self) -> impl Future<Output = Result<Vec<(String, String)>>> + Send {
        self.0.list_settings()
    }
}

/// Every session trait, for `use liaison_store::prelude::*`: a method of a trait is called
/// only where the trait is in scope.
pub mod prelude {
    pub use crate::{
        AppsRead, AppsWrite, CredentialsRead, CredentialsWrite, MobileEventsRead,
        MobileEventsWrite, OutboxRead, OutboxWrite, PeopleRead, PeopleWrite, ReadTx,
        RecordingsRead, RecordingsWrite, RecordsRead, RecordsWrite, WriteTx,
    };
}

/// A backend: where transactions come from. Chosen once at startup.
pub trait Store: Clone + Send + Sync + 'static {
    type Tx: WriteTx;

    /// A write transaction. Backends serialise or lock so that two writers of one external id
    /// cannot both insert; a loser sees `StoreError::Conflict` and the engine retries.
    fn begin(&self) -> impl Future<Output = Result<Self::Tx>> + Send;
    /// A read-only session over one consistent snapshot (the queries behind one view agree
    /// with each other); it never blocks writers. Keep it short: it pins that snapshot.
    fn read(&self) -> impl Future<Output = Result<ReadOnly<Self::Tx>>> + Send;
    /// Applies the embedded migrations.
    fn migrate(&self) -> impl Future<Output = Result<()>> + Send;
    /// Whether the database answers and holds every migration this build knows: the
    /// readiness probe. An error says which of the two failed.
    fn ready(&self) -> impl Future<Output = Result<()>> + Send;
    /// Brings what the database's query planner knows of its tables up to date, after a load
    /// (an import) made them many times larger than when their statements were first planned.
    fn refresh_statistics(&self) -> impl Future<Output = Result<()>> + Send;
    /// The connections the store holds and how many of them are in use now, for metrics.
    fn pool_use(&self) -> PoolUse;
    /// Which backend this is, for logs and benchmarks.
    fn backend_name(&self) -> &'static str;
    /// Closes every connection (after the server has drained).
    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// A store's connections at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// The most connections the store opens.
    pub max: u32,
    /// Connections open now.
    pub open: u32,
    /// Of those, held by a session now.
    pub in_use: u32,
}

/// The keys an engine fills in and a backend indexes, derived once in the domain.
pub fn user_keys(u: &WorkspaceUser) -> (Option<String>, Option<String>) {
    (
        u.email.as_deref().and_then(rules::email_key),
        u.full_name().as_deref().and_then(rules::name_key),
    )
}

pub fn crm_user_keys(u: &CrmUser) -> (Option<String>, Option<String>) {
    (
        u.email.as_deref().and_then(rules::email_key),
        u.name.as_deref().and_then(rules::name_key),
    )
}
