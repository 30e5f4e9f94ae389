//! The records Liaison keeps, and the inputs that change them.
//!
//! A synced CRM record (account, contact, lead, opportunity, engagement) is a `Record<T>`: the
//! bookkeeping every kind shares (ids, external id, links, soft-delete and merge state, times)
//! around the kind's own fields `T`. Inputs are separate types whose fields are `Patch`es, so
//! that "absent keeps, null clears" is written once, here.

use crate::ids::*;
use crate::patch::Patch;
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

fn titled(title: &Option<String>) -> Indexed {
    Indexed {
        title: title.clone(),
        ..Indexed::default()
    }
}

/// Contact details shared by accounts, contacts and leads.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_addresses: Vec<String>,
    pub last_activity_at: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfilePatch {
    pub latitude: Patch<f64>,
    pub longitude: Patch<f64>,
    pub addresses: Patch<Vec<Address>>,
    pub phone_numbers: Patch<Vec<String>>,
    pub email_addresses: Patch<Vec<String>>,
    pub last_activity_at: Patch<Instant>,
}

impl ProfilePatch {
    pub fn apply(self, p: &mut Profile) {
        self.latitude.apply_to(&mut p.latitude);
        self.longitude.apply_to(&mut p.longitude);
        self.addresses.apply_to_list(&mut p.addresses);
        self.phone_numbers.apply_to_list(&mut p.phone_numbers);
        self.email_addresses.apply_to_list(&mut p.email_addresses);
        self.last_activity_at.apply_to(&mut p.last_activity_at);
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub name: Option<String>,
    #[serde(flatten)]
    pub profile: Profile,
}

impl Entity for Account {
    const KIND: RecordKind = RecordKind::Account;

    fn indexed(&self) -> Indexed {
        titled(&self.name)
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub name: Option<String>,
    #[serde(flatten)]
    pub profile: Profile,
}

impl Entity for Contact {
    const KIND: RecordKind = RecordKind::Contact;

    fn indexed(&self) -> Indexed {
        titled(&self.name)
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lead {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(flatten)]
    pub profile: Profile,
}

impl Entity for Lead {
    const KIND: RecordKind = RecordKind::Lead;

    fn indexed(&self) -> Indexed {
        titled(&self.full_name())
    }
}

impl Lead {
    /// First and last name, either alone when the other is missing or blank.
    pub fn full_name(&self) -> Option<String> {
        join_names(self.first_name.as_deref(), self.last_name.as_deref())
    }
}

fn join_names(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [first, last]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    pub name: Option<String>,
    pub amount: Option<Amount>,
    pub closed_at: Option<Instant>,
    pub remote_created_at: Option<Instant>,
    pub last_activity_at: Option<Instant>,
    pub disposition: Option<Disposition>,
    /// Every contact of the opportunity (`opportunityContacts`); the primary one is also the
    /// `contact` link.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact_ids: Vec<RecordId>,
}

impl Entity for Opportunity {
    const KIND: RecordKind = RecordKind::Opportunity;

    fn indexed(&self) -> Indexed {
        Indexed {
            title: self.name.clone(),
            remote_created_at: self.remote_created_at,
            contacts: self.contact_ids.clone(),
            ..Indexed::default()
        }
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Engagement {
    pub direction: Option<Direction>,
    pub subject: Option<String>,
    pub content: Option<String>,
    pub start_time: Option<Instant>,
    /// Kept verbatim: a wall-clock time without zone, shown as-is.
    pub start_time_localized: Option<String>,
    pub end_time: Option<Instant>,
    pub remote_created_at: Option<Instant>,
    /// Seen only by callers with the private-engagement scopes. Written only when set, so
    /// that the data of every engagement that never was private reads as it always did.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_private: bool,
}

impl Entity for Engagement {
    const KIND: RecordKind = RecordKind::Engagement;

    fn sort_at(&self) -> Option<Instant> {
        self.start_time
    }

    fn indexed(&self) -> Indexed {
        Indexed {
            title: self.subject.clone(),
            start_time: self.start_time,
            end_time: self.end_time,
            direction: self.direction,
            is_private: self.is_private,
            remote_created_at: self.remote_created_at,
            contacts: Vec::new(),
        }
    }
}

/// An engagement type, per connection.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngagementType {
    pub id: EngagementTypeId,
    pub org: OrgId,
    pub connection: ConnectionId,
    pub external_id: Option<String>,
    pub name: String,
    pub activity_type: ActivityType,
    pub created_at: Instant,
    pub updated_at: Instant,
}

/// A CRM user (a rep as the CRM knows them), linked to at most one workspace user.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrmUser {
    pub id: CrmUserId,
    pub org: OrgId,
    pub connection: ConnectionId,
    pub external_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// The workspace user this CRM user is linked to (explicit mapping, else email, else name).
    pub user: Option<UserId>,
    pub created_at: Instant,
    pub updated_at: Instant,
}

/// A workspace user: a rep who records conversations.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceUser {
    pub id: UserId,
    pub org: OrgId,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub member_team_id: Option<String>,
    #[serde(default)]
    pub coach_team_ids: Vec<String>,
    /// The CRM user external id this rep is mapped to explicitly; wins over automatic linking.
    pub external_id: Option<String>,
    pub disabled: bool,
    pub billable: bool,
    pub is_admin: bool,
    pub contact_settings: Option<serde_json::Value>,
    pub created_at: Instant,
    pub updated_at: Instant,
}

impl WorkspaceUser {
    pub fn full_name(&self) -> Option<String> {
        join_names(self.first_name.as_deref(), self.last_name.as_deref())
    }
}

/// What a participant belongs to.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParentKind {
    Engagement,
    Opportunity,
}

impl ParentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParentKind::Engagement => "engagement",
            ParentKind::Opportunity => "opportunity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "engagement" => Some(ParentKind::Engagement),
            "opportunity" => Some(ParentKind::Opportunity),
            _ => None,
        }
    }

    pub fn record_kind(self) -> RecordKind {
        match self {
            ParentKind::Engagement => RecordKind::Engagement,
            ParentKind::Opportunity => RecordKind::Opportunity,
        }
    }
}

/// A rep on an engagement (an "engagement user") or an opportunity (an "opportunity user").
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub org: OrgId,
    pub connection: ConnectionId,
    pub parent_kind: ParentKind,
    pub parent: RecordId,
    pub crm_user: CrmUserId,
    pub name: Option<String>,
    pub share: Option<Share>,
    pub deleted_at: Option<Instant>,
    pub created_at: Instant,
    pub updated_at: Instant,
}

// ---------------------------------------------------------------------------------------------
// Inputs: what a sync says about a record. `external_id` is the key; every other field patches.

/// The fields a sync carries about a record of any kind besides its own.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lifecycle {
    pub deleted_at: Patch<Instant>,
    /// This record was merged into the record with this external id.
    pub merged_to: Option<String>,
    /// These records were merged into this one.
    pub merged_from: Vec<String>,
    /// The CRM user who owns the record, by external id.
    pub owner: Patch<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountIn {
    pub external_id: String,
    pub name: Patch<String>,
    pub profile: ProfilePatch,
    pub lifecycle: Lifecycle,
    /// The record as the source sent it, without the records nested in it.
    pub remote_data: Option<RemoteData>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactIn {
    pub external_id: String,
    pub name: Patch<String>,
    pub profile: ProfilePatch,
    pub account: Patch<AccountIn>,
    pub lifecycle: Lifecycle,
    /// The record as the source sent it, without the records nested in it.
    pub remote_data: Option<RemoteData>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LeadIn {
    pub external_id: String,
    pub first_name: Patch<String>,
    pub last_name: Patch<String>,
    pub profile: ProfilePatch,
    pub lifecycle: Lifecycle,
    /// The record as the source sent it, without the records nested in it.
    pub remote_data: Option<RemoteData>,
}

/// A rep as a sync names them in `engagementUsers` / `opportunityUsers`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParticipantIn {
    pub external_id: String,
    pub email: Patch<String>,
    pub name: Patch<String>,
    pub share: Patch<Share>,
    pub deleted_at: Patch<Instant>,
}

impl ParticipantIn {
    /// Folds a list in which one rep may appear more than once into one entry per rep, in
    /// order of first appearance, later fields overriding earlier ones. Without this, a
    /// payload naming a rep twice would flip between its two versions on every sync.
    pub fn fold(list: Vec<ParticipantIn>) -> Vec<ParticipantIn> {
        let mut out: Vec<ParticipantIn> = Vec::with_capacity(list.len());
        for rep in list {
            match out.iter_mut().find(|r| r.external_id == rep.external_id) {
                None => out.push(rep),
                Some(seen) => {
                    fn over<T>(a: &mut Patch<T>, b: Patch<T>) {
                        if !b.is_absent() {
                            *a = b;
                        }
                    }
                    over(&mut seen.email, rep.email);
                    over(&mut seen.name, rep.name);
                    over(&mut seen.share, rep.share);
                    over(&mut seen.deleted_at, rep.deleted_at);
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EngagementTypeIn {
    pub external_id: Option<String>,
    pub name: String,
    pub activity_type: ActivityType,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct OpportunityContactIn {
    pub contact: ContactIn,
    pub is_primary: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct OpportunityIn {
    pub external_id: String,
    pub name: Patch<String>,
    pub amount: Patch<Amount>,
    pub closed_at: Patch<Instant>,
    pub remote_created_at: Patch<Instant>,
    pub last_activity_at: Patch<Instant>,
    pub disposition: Patch<Disposition>,
    pub deleted_at: Patch<Instant>,
    /// An internal account id that overrides `account`.
    pub account_id: Patch<RecordId>,
    pub account: Patch<AccountIn>,
    pub contact: Patch<ContactIn>,
    pub contacts: Patch<Vec<OpportunityContactIn>>,
    /// Reps named here are added or updated; a rep with `deletedAt` is removed; `null` removes
    /// every rep. Reps not named are kept.
    pub users: Patch<Vec<ParticipantIn>>,
    /// Nested in an engagement: copy the engagement's account, contact and lead.
    pub copy_engagement_relationships: bool,
    /// The record as the source sent it, without the records nested in it.
    pub remote_data: Option<RemoteData>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct EngagementIn {
    pub external_id: String,
    pub direction: Patch<Direction>,
    pub subject: Patch<String>,
    pub content: Patch<String>,
    pub start_time: Patch<Instant>,
    pub start_time_localized: Patch<String>,
    pub end_time: Patch<Instant>,
    pub remote_created_at: Patch<Instant>,
    pub remote_updated_at: Patch<Instant>,
    pub deleted_at: Patch<Instant>,
    /// Absent keeps the engagement's privacy; `null` makes it public.
    pub is_private: Patch<bool>,
    /// An internal engagement type id that overrides `engagement_type`.
    pub engagement_type_id: Patch<EngagementTypeId>,
    pub engagement_type: Patch<EngagementTypeIn>,
    pub account: Patch<AccountIn>,
    pub contact: Patch<ContactIn>,
    pub lead: Patch<LeadIn>,
    pub opportunity: Patch<OpportunityIn>,
    /// As `OpportunityIn::users`.
    pub users: Patch<Vec<ParticipantIn>>,
    /// The record as the source sent it, without the records nested in it.
    pub remote_data: Option<RemoteData>,
}

impl AccountIn {
    pub fn apply(self, a: &mut Account) {
        self.name.apply_to(&mut a.name);
        self.profile.apply(&mut a.profile);
    }
}

impl ContactIn {
    pub fn apply_fields(name: Patch<String>, profile: ProfilePatch, c: &mut Contact) {
        name.apply_to(&mut c.name);
        profile.apply(&mut c.profile);
    }
}

impl LeadIn {
    pub fn apply_fields(self, l: &mut Lead) {
        self.first_name.apply_to(&mut l.first_name);
        self.last_name.apply_to(&mut l.last_name);
        self.profile.apply(&mut l.profile);
    }
}

/// The opportunity's own fields, split from its links.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OpportunityFields {
    pub name: Patch<String>,
    pub amount: Patch<Amount>,
    pub closed_at: Patch<Instant>,
    pub remote_created_at: Patch<Instant>,
    pub last_activity_at: Patch<Instant>,
    pub disposition: Patch<Disposition>,
}

impl OpportunityFields {
    pub fn apply(self, o: &mut Opportunity) {
        self.name.apply_to(&mut o.name);
        self.amount.apply_to(&mut o.amount);
        self.closed_at.apply_to(&mut o.closed_at);
        self.remote_created_at.apply_to(&mut o.remote_created_at);
        self.last_activity_at.apply_to(&mut o.last_activity_at);
        self.disposition.apply_to(&mut o.disposition);
    }
}

/// The engagement's own fields, split from its links.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EngagementFields {
    pub direction: Patch<Direction>,
    pub subject: Patch<String>,
    pub content: Patch<String>,
    pub start_time: Patch<Instant>,
    pub start_time_localized: Patch<String>,
    pub end_time: Patch<Instant>,
    pub remote_created_at: Patch<Instant>,
    pub is_private: Patch<bool>,
}

impl EngagementFields {
    pub fn apply(self, e: &mut Engagement) {
        self.direction.apply_to(&mut e.direction);
        self.subject.apply_to(&mut e.subject);
        self.content.apply_to(&mut e.content);
        self.start_time.apply_to(&mut e.start_time);
        self.start_time_localized
            .apply_to(&mut e.start_time_localized);
        self.end_time.apply_to(&mut e.end_time);
        self.remote_created_at.apply_to(&mut e.remote_created_at);
        match self.is_private {
            Patch::Absent => {}
            Patch::Null => e.is_private = false,
            Patch::Value(v) => e.is_private = v,
        }
    }
}

/// A new workspace user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserIn {
    pub email: String,
    pub organization_id: String,
    pub phone_number: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub member_team_id: Option<String>,
    pub external_id: Option<String>,
    pub coach_team_ids: Vec<String>,
    pub is_admin: bool,
    pub billable: Option<bool>,
    pub contact_settings: Option<serde_json::Value>,
}

/// A change to a workspace user. `external_id` sets the explicit CRM mapping.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserPatch {
    pub email: Patch<String>,
    pub phone_number: Patch<String>,
    pub first_name: Patch<String>,
    pub last_name: Patch<String>,
    pub member_team_id: Patch<String>,
    pub external_id: Patch<String>,
    pub disabled: Option<bool>,
    pub billable: Option<bool>,
    pub contact_settings: Patch<serde_json::Value>,
    pub organization_id: Option<String>,
}

/// A participant created or changed directly (engagement users, opportunity users).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParticipantPatch {
    /// Moves the rep to this engagement or opportunity.
    pub parent: Option<RecordId>,
    /// Makes the place another CRM user's.
    pub crm_user: Option<CrmUserId>,
    pub name: Patch<String>,
    pub share: Patch<Share>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_reps_fold_into_one_in_first_order() {
        let rep = |ext: &str, name: Patch<String>, email: Patch<String>| ParticipantIn {
            external_id: ext.into(),
            name,
            email,
            ..ParticipantIn::default()
        };
        let folded = ParticipantIn::fold(vec![
            rep("a", Patch::Value("A".into()), Patch::Value("a@x".into())),
            rep("b", Patch::Absent, Patch::Absent),
            rep("a", Patch::Value("A2".into()), Patch::Absent),
        ]);
        assert_eq!(folded.len(), 2);
        assert_eq!(folded[0].external_id, "a");
        assert_eq!(folded[0].name, Patch::Value("A2".into()));
        assert_eq!(folded[0].email, Patch::Value("a@x".into()));
        assert_eq!(folded[1].external_id, "b");
    }
}
