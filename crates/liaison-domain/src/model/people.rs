//! The people around records: engagement types, CRM users, workspace users, participants.

use super::entities::join_names;
use super::*;
use crate::ids::*;
use crate::time::Instant;
use crate::values::*;
use serde::{Deserialize, Serialize};

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
