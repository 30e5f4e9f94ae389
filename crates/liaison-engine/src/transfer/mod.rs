//! Export and import: every entity of one organization or of all of them as JSON lines, read
//! from one snapshot of a store and loaded into any store, so that a database moves between
//! backends (SQLite to PostgreSQL and back) with nothing lost.
//!
//! A file is a header line, the shared settings, then one block per organization (the
//! organization, its connections, its tokens as hashes, its OAuth apps and their access tokens
//! as hashes, engagement types, CRM users, workspace
//! users, records of every kind with the deleted and merged ones, participants, recordings with
//! their transcripts, mobile events, events), and
//! a last line that counts the lines before it, so that a cut-short file is told from a whole
//! one. Each line is a JSON object with one key, which names what the line holds.

mod export;
mod import;

pub use export::export;
pub use import::import;

use liaison_domain::ids::*;
use liaison_domain::model::*;
use liaison_store::{
    AccessToken, Connection, Event, EventAction, Instant, OAuthApp, Org, RecordRow, StoreError,
    Token,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The version of the file format this build writes and reads.
pub const FORMAT: u32 = 1;

/// One line of an export file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    /// The first line.
    Liaison(Header),
    Setting(Setting),
    Org(Org),
    Connection(Connection),
    Token(Token),
    App(OAuthApp),
    AccessToken(AccessToken),
    EngagementType(EngagementType),
    CrmUser(CrmUser),
    User(WorkspaceUser),
    Record(RecordLine),
    Participant(Participant),
    Recording(RecordingLine),
    MobileEvent(MobileEvent),
    Event(EventLine),
    /// The last line.
    End(End),
}

/// What the file is: written first, checked before anything is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    /// Names this export: an import remembers, under it, how far it got.
    pub id: uuid::Uuid,
    pub exported_at: Instant,
    /// The backend it was read from.
    pub backend: String,
    /// The one organization exported, or none for all of them.
    pub org: Option<OrgId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
}

/// A synced record: its row with `data` as the JSON it is, and the raw payload the source
/// sent. The columns lists use are derived again from `data` on import.
#[derive(Debug, Serialize, Deserialize)]
pub struct RecordLine {
    pub row: Record<Box<RawValue>>,
    pub remote_data: Option<Box<RawValue>>,
}

/// A recording, with its transcript.
#[derive(Debug, Serialize, Deserialize)]
pub struct RecordingLine {
    pub recording: Recording,
    pub transcript: Option<Transcript>,
}

/// An outbox event. `seq` is its number in the source: the target numbers the events it takes
/// in again, in the file's order, which is the source's.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventLine {
    pub id: EventId,
    pub seq: i64,
    pub org: OrgId,
    pub entity: String,
    pub entity_id: uuid::Uuid,
    pub action: String,
    pub before: Option<Box<RawValue>>,
    pub after: Option<Box<RawValue>>,
    pub at: Instant,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct End {
    /// The lines before this one, the header among them.
    pub lines: u64,
}

/// What a line holds, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineKind {
    Header,
    Setting,
    Org,
    Connection,
    Token,
    App,
    AccessToken,
    EngagementType,
    CrmUser,
    User,
    Record,
    Participant,
    Recording,
    MobileEvent,
    Event,
    End,
}

impl LineKind {
    pub const ALL: [LineKind; 16] = [
        LineKind::Header,
        LineKind::Setting,
        LineKind::Org,
        LineKind::Connection,
        LineKind::Token,
        LineKind::App,
        LineKind::AccessToken,
        LineKind::EngagementType,
        LineKind::CrmUser,
        LineKind::User,
        LineKind::Record,
        LineKind::Participant,
        LineKind::Recording,
        LineKind::MobileEvent,
        LineKind::Event,
        LineKind::End,
    ];

    /// The plural a summary prints.
    pub fn plural(self) -> &'static str {
        match self {
            LineKind::Header => "headers",
            LineKind::Setting => "settings",
            LineKind::Org => "organizations",
            LineKind::Connection => "connections",
            LineKind::Token => "tokens",
            LineKind::App => "OAuth apps",
            LineKind::AccessToken => "access tokens",
            LineKind::EngagementType => "engagement types",
            LineKind::CrmUser => "CRM users",
            LineKind::User => "users",
            LineKind::Record => "records",
            LineKind::Participant => "participants",
            LineKind::Recording => "recordings",
            LineKind::MobileEvent => "mobile events",
            LineKind::Event => "events",
            LineKind::End => "ends",
        }
    }
}

impl Line {
    pub fn kind(&self) -> LineKind {
        match self {
            Line::Liaison(_) => LineKind::Header,
            Line::Setting(_) => LineKind::Setting,
            Line::Org(_) => LineKind::Org,
            Line::Connection(_) => LineKind::Connection,
            Line::Token(_) => LineKind::Token,
            Line::App(_) => LineKind::App,
            Line::AccessToken(_) => LineKind::AccessToken,
            Line::EngagementType(_) => LineKind::EngagementType,
            Line::CrmUser(_) => LineKind::CrmUser,
            Line::User(_) => LineKind::User,
            Line::Record(_) => LineKind::Record,
            Line::Participant(_) => LineKind::Participant,
            Line::Recording(_) => LineKind::Recording,
            Line::MobileEvent(_) => LineKind::MobileEvent,
            Line::Event(_) => LineKind::Event,
            Line::End(_) => LineKind::End,
        }
    }
}

/// How far an export or an import has got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Lines written or read.
    pub lines: u64,
    /// Bytes written or read.
    pub bytes: u64,
    /// Import only: entities written to the store (inserted or replaced).
    pub written: u64,
    /// Import only: entities the store already held as the file has them, or newer.
    pub unchanged: u64,
    /// Import only: lines an earlier import of the same file had already applied.
    pub resumed: u64,
    counts: [u64; LineKind::ALL.len()],
}

impl Tally {
    /// The lines of one kind written or read.
    pub fn count(&self, kind: LineKind) -> u64 {
        self.counts[kind as usize]
    }

    fn add(&mut self, kind: LineKind, bytes: u64) {
        self.lines += 1;
        self.bytes += bytes;
        self.counts[kind as usize] += 1;
    }

    /// The entities the file holds, by kind, as `3 organizations, 1,000 records, …`.
    pub fn summary(&self) -> String {
        LineKind::ALL
            .into_iter()
            .filter(|k| !matches!(k, LineKind::Header | LineKind::End))
            .filter(|k| self.count(*k) > 0)
            .map(|k| format!("{} {}", self.count(k), k.plural()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A line of the file is wrong, or cannot be loaded into this store.
    #[error("line {line}: {message}")]
    Line { line: u64, message: String },
    /// The file as a whole is wrong.
    #[error("{0}")]
    File(String),
}

impl RecordLine {
    fn of(mut row: RecordRow) -> Result<RecordLine, TransferError> {
        let id = row.id;
        let corrupt =
            |what: &str| TransferError::File(format!("record {id}: its stored {what} is not JSON"));
        let remote_data = match row.remote_data.take() {
            Some(text) => Some(RawValue::from_string(text).map_err(|_| corrupt("raw payload"))?),
            None => None,
        };
        let mut bad = false;
        let row = row.map_data(|data| {
            RawValue::from_string(data).unwrap_or_else(|_| {
                bad = true;
                RawValue::NULL.to_owned()
            })
        });
        if bad {
            return Err(corrupt("data"));
        }
        Ok(RecordLine { row, remote_data })
    }

    /// The row as a store holds it, with the columns lists use derived from `data` again.
    fn into_row(self) -> Result<RecordRow, String> {
        let mut row = self.row.map_data(|d| String::from(Box::<str>::from(d)));
        row.indexed = indexed_of(row.kind, &row.data)
            .map_err(|e| format!("the {} record's data does not fit: {e}", row.kind.as_str()))?;
        row.remote_data = self.remote_data.map(|r| String::from(Box::<str>::from(r)));
        Ok(row)
    }
}

impl EventLine {
    fn of(e: Event) -> Result<EventLine, TransferError> {
        let id = e.id;
        let raw = |text: Option<String>| {
            text.map(RawValue::from_string)
                .transpose()
                .map_err(|_| TransferError::File(format!("event {id}: its versions are not JSON")))
        };
        Ok(EventLine {
            id,
            seq: e.seq,
            org: e.org,
            entity: e.entity,
            entity_id: e.entity_id,
            action: e.action.as_str().to_owned(),
            before: raw(e.before)?,
            after: raw(e.after)?,
            at: e.at,
        })
    }

    fn into_event(self) -> Result<Event, String> {
        let action = EventAction::parse(&self.action)
            .ok_or_else(|| format!("unknown event action `{}`", self.action))?;
        let text = |r: Option<Box<RawValue>>| r.map(|r| String::from(Box::<str>::from(r)));
        Ok(Event {
            id: self.id,
            seq: 0,
            org: self.org,
            entity: self.entity,
            entity_id: self.entity_id,
            action,
            before: text(self.before),
            after: text(self.after),
            at: self.at,
        })
    }
}
