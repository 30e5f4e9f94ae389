//! Inputs: what a sync or an edit says about a record. `external_id` is the key; every other
//! field patches.

use super::*;
use crate::ids::*;
use crate::patch::Patch;
use crate::time::Instant;
use crate::values::*;

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
