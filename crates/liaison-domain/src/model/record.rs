//! The bookkeeping every synced record shares, its indexed fields and raw payload, and the
//! `Entity` trait each kind's own fields implement.

use super::*;
use crate::ids::*;
use crate::time::Instant;
use crate::values::*;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// The kinds of synced CRM record.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Account,
    Contact,
    Lead,
    Opportunity,
    Engagement,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] = [
        RecordKind::Account,
        RecordKind::Contact,
        RecordKind::Lead,
        RecordKind::Opportunity,
        RecordKind::Engagement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Account => "account",
            RecordKind::Contact => "contact",
            RecordKind::Lead => "lead",
            RecordKind::Opportunity => "opportunity",
            RecordKind::Engagement => "engagement",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The human name used in error messages.
    pub fn noun(self) -> &'static str {
        match self {
            RecordKind::Account => "Account",
            RecordKind::Contact => "Contact",
            RecordKind::Lead => "Lead",
            RecordKind::Opportunity => "Opportunity",
            RecordKind::Engagement => "Engagement",
        }
    }
}

/// The links from one record to others. Which ones a kind uses: engagements all of them but
/// `owner`; opportunities account/contact/lead; contacts account and owner; accounts and leads
/// owner.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Refs {
    pub account: Option<RecordId>,
    pub contact: Option<RecordId>,
    pub lead: Option<RecordId>,
    pub opportunity: Option<RecordId>,
    pub owner: Option<CrmUserId>,
    pub engagement_type: Option<EngagementTypeId>,
}

impl Refs {
    /// The slot that points at records of `kind`, if any.
    pub fn slot_mut(&mut self, kind: RecordKind) -> Option<&mut Option<RecordId>> {
        match kind {
            RecordKind::Account => Some(&mut self.account),
            RecordKind::Contact => Some(&mut self.contact),
            RecordKind::Lead => Some(&mut self.lead),
            RecordKind::Opportunity => Some(&mut self.opportunity),
            RecordKind::Engagement => None,
        }
    }
}

/// A synced record: shared bookkeeping around the kind's own fields.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record<T> {
    pub id: RecordId,
    pub org: OrgId,
    pub connection: ConnectionId,
    pub kind: RecordKind,
    pub external_id: String,
    #[serde(default)]
    pub refs: Refs,
    /// The recording linked to this record (set by the recordings capability).
    pub recording_id: Option<String>,
    /// The order of lists that go by time: an engagement's start, else its creation.
    pub sort_at: Instant,
    pub remote_updated_at: Option<Instant>,
    pub deleted_at: Option<Instant>,
    pub merged_into: Option<RecordId>,
    pub created_at: Instant,
    pub updated_at: Instant,
    /// What lists filter, order and search on, derived from `data` on every save and stored
    /// in columns of their own. Left out of events: it repeats `data`.
    #[serde(skip)]
    pub indexed: Indexed,
    /// What the source sent about this record, as a JSON object: the keys of every sync
    /// merged, the latest value of each kept. Left out of events, which carry `data`.
    #[serde(skip)]
    pub remote_data: Option<String>,
    pub data: T,
}

/// What a source sent about one record, as it sent it: the text of a JSON object. Kept as
/// text from the request to the store, so that a new record's payload is serialised once and
/// never parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteData(String);

impl RemoteData {
    /// The payload of an object, with the keys `leave_out` names left out (the records nested
    /// in it, which keep their own).
    pub fn of(object: &serde_json::Map<String, serde_json::Value>, leave_out: &[&str]) -> Self {
        struct Without<'a>(
            &'a serde_json::Map<String, serde_json::Value>,
            &'a [&'a str],
        );
        impl serde::Serialize for Without<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(None)?;
                for (k, v) in self.0.iter().filter(|(k, _)| !self.1.contains(&k.as_str())) {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
        RemoteData(
            serde_json::to_string(&Without(object, leave_out))
                .expect("a JSON value always serialises"),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

type Object = serde_json::Map<String, serde_json::Value>;

/// Folds what a sync sent about a record into what earlier syncs sent: the keys sent replace
/// their earlier values, the keys not sent stay. Stored data that is no JSON object (it
/// never is, unless edited by hand) is replaced.
pub fn merge_remote(stored: &mut Option<String>, sent: Option<&RemoteData>) {
    let Some(sent) = sent else { return };
    let Some(old) = stored.as_deref() else {
        *stored = Some(sent.0.clone());
        return;
    };
    if old == sent.0 {
        return;
    }
    let new: Object = serde_json::from_str(&sent.0).expect("RemoteData is an object's text");
    let mut merged: Object = match serde_json::from_str(old) {
        Ok(m) => m,
        Err(_) => {
            *stored = Some(sent.0.clone());
            return;
        }
    };
    if new.iter().all(|(k, v)| merged.get(k) == Some(v)) {
        return;
    }
    merged.extend(new);
    *stored = Some(serde_json::Value::Object(merged).to_string());
}

/// The fields of a record that lists filter, order and search on. Derived from the kind's own
/// fields by `Entity::indexed`, so that no store reads them out of the stored JSON.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Indexed {
    /// An engagement's subject; an account's, contact's or opportunity's name; a lead's full
    /// name.
    pub title: Option<String>,
    pub start_time: Option<Instant>,
    pub end_time: Option<Instant>,
    pub direction: Option<Direction>,
    pub is_private: bool,
    pub remote_created_at: Option<Instant>,
    /// Every contact of an opportunity, in its order.
    pub contacts: Vec<RecordId>,
}

impl Indexed {
    /// The title as searches compare it: lower-cased, so that a search ignores case the same
    /// way on every backend.
    pub fn title_key(&self) -> Option<String> {
        self.title.as_deref().map(search_key)
    }
}

/// The form in which a title and a search for it are compared.
pub fn search_key(s: &str) -> String {
    s.to_lowercase()
}

impl<T> Record<T> {
    /// Visible in reads and lists: neither soft-deleted nor merged away.
    pub fn is_live(&self) -> bool {
        self.deleted_at.is_none() && self.merged_into.is_none()
    }

    pub fn map_data<U>(self, f: impl FnOnce(T) -> U) -> Record<U> {
        Record {
            id: self.id,
            org: self.org,
            connection: self.connection,
            kind: self.kind,
            external_id: self.external_id,
            refs: self.refs,
            recording_id: self.recording_id,
            sort_at: self.sort_at,
            remote_updated_at: self.remote_updated_at,
            deleted_at: self.deleted_at,
            merged_into: self.merged_into,
            created_at: self.created_at,
            updated_at: self.updated_at,
            indexed: self.indexed,
            remote_data: self.remote_data,
            data: f(self.data),
        }
    }

    /// The parts a sync may change, for the "did anything change?" test that keeps upserts
    /// idempotent. Times the store sets (`updated_at`) are left out on purpose.
    pub fn same_content(&self, other: &Record<T>) -> bool
    where
        T: PartialEq,
    {
        self.external_id == other.external_id
            && self.refs == other.refs
            && self.recording_id == other.recording_id
            && self.sort_at == other.sort_at
            && self.remote_updated_at == other.remote_updated_at
            && self.deleted_at == other.deleted_at
            && self.merged_into == other.merged_into
            && self.remote_data == other.remote_data
            && self.data == other.data
    }
}

/// The kind-specific fields of a synced record.
pub trait Entity:
    Serialize + DeserializeOwned + Clone + PartialEq + Default + Send + Sync + 'static
{
    const KIND: RecordKind;

    /// The instant lists sort by, when the kind has one of its own.
    fn sort_at(&self) -> Option<Instant> {
        None
    }

    /// The fields lists filter, order and search on.
    fn indexed(&self) -> Indexed;
}

/// The columns of a stored record's data, read by its kind: what a migration fills in for
/// rows written before those columns existed.
pub fn indexed_of(kind: RecordKind, data: &str) -> serde_json::Result<Indexed> {
    fn of<E: Entity>(data: &str) -> serde_json::Result<Indexed> {
        serde_json::from_str::<E>(data).map(|e| e.indexed())
    }
    match kind {
        RecordKind::Account => of::<Account>(data),
        RecordKind::Contact => of::<Contact>(data),
        RecordKind::Lead => of::<Lead>(data),
        RecordKind::Opportunity => of::<Opportunity>(data),
        RecordKind::Engagement => of::<Engagement>(data),
    }
}

pub(super) fn titled(title: &Option<String>) -> Indexed {
    Indexed {
        title: title.clone(),
        ..Indexed::default()
    }
}
