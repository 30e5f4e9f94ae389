//! The kinds' own fields: accounts, contacts, leads, opportunities and engagements.

use super::record::titled;
use super::*;
use crate::ids::*;
use crate::patch::Patch;
use crate::time::Instant;
use crate::values::*;
use serde::{Deserialize, Serialize};

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

pub(super) fn join_names(first: Option<&str>, last: Option<&str>) -> Option<String> {
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
