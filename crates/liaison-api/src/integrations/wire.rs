//! The integrations face's response shapes, as the Siro contract names them. Optional fields
//! the contract types as plain strings are left out when unset (a `null` would break the
//! published schema); fields it marks nullable are sent as `null`.

use liaison_domain::model::*;
use liaison_domain::time::{Instant, format_instant};
use liaison_engine::{EngagementView, OpportunityView, ParticipantView};
use serde::Serialize;
use utoipa::ToSchema;

fn t(i: &Instant) -> String {
    format_instant(i)
}

fn ot(i: &Option<Instant>) -> Option<String> {
    i.as_ref().map(format_instant)
}

/// `x` times `10^places`, moving the point of the shortest decimal that reads back as `x`:
/// a share of 0.07 is 7 percent, where `0.07 * 100.0` is 7.000000000000001.
pub(super) fn shift_point(x: f64, places: i32) -> f64 {
    let text = format!("{x:e}");
    text.split_once('e')
        .and_then(|(mantissa, exp)| {
            let exp: i32 = exp.parse().ok()?;
            format!("{mantissa}e{}", exp + places).parse().ok()
        })
        .unwrap_or(x * 10f64.powi(places))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountOut {
    pub id: String,
    pub external_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub longitude: Option<f64>,
    #[schema(value_type = Vec<super::schema::Address>)]
    pub addresses: Vec<liaison_domain::values::Address>,
    pub phone_numbers: Vec<String>,
    pub email_addresses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub last_activity_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<Record<Account>> for AccountOut {
    fn from(r: Record<Account>) -> Self {
        let p = r.data.profile;
        AccountOut {
            id: r.id.to_string(),
            external_id: r.external_id,
            latitude: p.latitude,
            longitude: p.longitude,
            addresses: p.addresses,
            phone_numbers: p.phone_numbers,
            email_addresses: p.email_addresses,
            name: r.data.name,
            last_activity_at: ot(&p.last_activity_at),
            created_at: t(&r.created_at),
            updated_at: t(&r.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EngagementUserOut {
    pub id: String,
    pub engagement_id: String,
    /// The CRM user (see `GET /v1/integrations/users/{id}`).
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub share_of_sale: Option<f64>,
    pub organization_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub integration_connection_id: String,
}

impl From<ParticipantView> for EngagementUserOut {
    fn from(v: ParticipantView) -> Self {
        let p = v.participant;
        EngagementUserOut {
            id: p.id.to_string(),
            engagement_id: p.parent.to_string(),
            user_id: p.crm_user.to_string(),
            name: p.name.or(v.crm_user.name),
            share_of_sale: p.share.map(|s| s.get()),
            organization_id: p.org.to_string(),
            created_at: t(&p.created_at),
            updated_at: t(&p.updated_at),
            integration_connection_id: p.connection.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityUserOut {
    pub id: String,
    pub opportunity_id: String,
    /// The CRM user (see `GET /v1/integrations/users/{id}`).
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// The rep's share of the sale in percent (`shareOfSale` 0.5 is 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub amount_percentage: Option<f64>,
    pub organization_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub integration_connection_id: String,
}

impl From<ParticipantView> for OpportunityUserOut {
    fn from(v: ParticipantView) -> Self {
        let p = v.participant;
        OpportunityUserOut {
            id: p.id.to_string(),
            opportunity_id: p.parent.to_string(),
            user_id: p.crm_user.to_string(),
            name: p.name.or(v.crm_user.name),
            amount_percentage: p.share.map(|s| shift_point(s.get(), 2)),
            organization_id: p.org.to_string(),
            created_at: t(&p.created_at),
            updated_at: t(&p.updated_at),
            integration_connection_id: p.connection.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EngagementOut {
    pub id: String,
    pub external_id: String,
    /// The engagement type's name; empty when the CRM never sent a type.
    pub engagement_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::ActivityTypeName>, nullable = false)]
    pub activity_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub engagement_type_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub organization_id: String,
    pub integration_connection_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::DirectionName>, nullable = false)]
    pub direction: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub start_time_localized: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub remote_created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub remote_updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub recording_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub opportunity_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub contact_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub lead_id: Option<String>,
    #[schema(required)]
    pub account: Option<AccountOut>,
    pub engagement_users: Vec<EngagementUserOut>,
}

impl From<EngagementView> for EngagementOut {
    fn from(v: EngagementView) -> Self {
        let r = v.record;
        let e = r.data;
        EngagementOut {
            id: r.id.to_string(),
            external_id: r.external_id,
            engagement_type: v
                .engagement_type
                .as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            activity_type: v.engagement_type.as_ref().map(|t| t.activity_type.as_str()),
            engagement_type_id: v.engagement_type.as_ref().map(|t| t.id.to_string()),
            created_at: t(&r.created_at),
            updated_at: t(&r.updated_at),
            organization_id: r.org.to_string(),
            integration_connection_id: r.connection.to_string(),
            direction: e.direction.map(|d| d.as_str()),
            subject: e.subject,
            content: e.content,
            start_time: ot(&e.start_time),
            start_time_localized: e.start_time_localized,
            end_time: ot(&e.end_time),
            remote_created_at: ot(&e.remote_created_at),
            remote_updated_at: ot(&r.remote_updated_at),
            recording_id: r.recording_id,
            opportunity_id: r.refs.opportunity.map(|i| i.to_string()),
            account_id: r.refs.account.map(|i| i.to_string()),
            contact_id: r.refs.contact.map(|i| i.to_string()),
            lead_id: r.refs.lead.map(|i| i.to_string()),
            account: v.account.map(AccountOut::from),
            engagement_users: v.participants.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityOut {
    pub id: String,
    pub external_id: String,
    #[schema(required)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub amount: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub closed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::DispositionName>, nullable = false)]
    pub disposition: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub remote_created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub last_activity_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub recording_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub contact_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub lead_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contact_ids: Vec<String>,
    pub organization_id: String,
    pub integration_connection_id: String,
    #[schema(required)]
    pub account: Option<AccountOut>,
    pub opportunity_users: Vec<OpportunityUserOut>,
}

impl From<OpportunityView> for OpportunityOut {
    fn from(v: OpportunityView) -> Self {
        let r = v.record;
        let o = r.data;
        OpportunityOut {
            id: r.id.to_string(),
            external_id: r.external_id,
            name: o.name,
            amount: o.amount.map(|a| a.get()),
            closed_at: ot(&o.closed_at),
            disposition: o.disposition.map(|d| d.as_str()),
            remote_created_at: ot(&o.remote_created_at),
            last_activity_at: ot(&o.last_activity_at),
            created_at: t(&r.created_at),
            updated_at: t(&r.updated_at),
            recording_id: r.recording_id,
            account_id: r.refs.account.map(|i| i.to_string()),
            contact_id: r.refs.contact.map(|i| i.to_string()),
            lead_id: r.refs.lead.map(|i| i.to_string()),
            contact_ids: o.contact_ids.iter().map(|i| i.to_string()).collect(),
            organization_id: r.org.to_string(),
            integration_connection_id: r.connection.to_string(),
            account: v.account.map(AccountOut::from),
            opportunity_users: v.participants.into_iter().map(Into::into).collect(),
        }
    }
}

/// A CRM user as synced. The contract leaves its shape open; these are its fields.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrmUserOut {
    pub id: String,
    pub external_id: String,
    #[schema(required)]
    pub email: Option<String>,
    #[schema(required)]
    pub name: Option<String>,
    /// The workspace user this CRM user is linked to.
    #[schema(required)]
    pub user_id: Option<String>,
    pub organization_id: String,
    pub integration_connection_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<CrmUser> for CrmUserOut {
    fn from(u: CrmUser) -> Self {
        CrmUserOut {
            id: u.id.to_string(),
            external_id: u.external_id,
            email: u.email,
            name: u.name,
            user_id: u.user.map(|i| i.to_string()),
            organization_id: u.org.to_string(),
            integration_connection_id: u.connection.to_string(),
            created_at: t(&u.created_at),
            updated_at: t(&u.updated_at),
        }
    }
}

/// A workspace user, every contract field present (nullable ones as `null`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserOut {
    pub id: String,
    #[schema(required)]
    pub email: Option<String>,
    pub organization_id: String,
    #[schema(required)]
    pub phone_number: Option<String>,
    #[schema(required)]
    pub first_name: Option<String>,
    #[schema(required)]
    pub last_name: Option<String>,
    #[schema(required)]
    pub member_team_id: Option<String>,
    pub coach_team_ids: Vec<String>,
    #[schema(required)]
    pub external_id: Option<String>,
    #[schema(format = DateTime, required)]
    pub created_at: Option<String>,
    pub disabled: bool,
    pub billable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, nullable = false)]
    pub contact_settings: Option<serde_json::Value>,
}

impl From<WorkspaceUser> for UserOut {
    fn from(u: WorkspaceUser) -> Self {
        UserOut {
            id: u.id.to_string(),
            email: u.email,
            organization_id: u.org.to_string(),
            phone_number: u.phone_number,
            first_name: u.first_name,
            last_name: u.last_name,
            member_team_id: u.member_team_id,
            coach_team_ids: u.coach_team_ids,
            external_id: u.external_id,
            created_at: Some(t(&u.created_at)),
            disabled: u.disabled,
            billable: u.billable,
            contact_settings: u.contact_settings,
        }
    }
}

/// The token behind a request.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallerIdentity {
    pub token_id: String,
    pub token_name: String,
    pub organization_id: String,
    pub integration_connection_id: String,
    pub scopes: Vec<String>,
    /// Liaison has no organization groups: always `null`.
    #[schema(required)]
    pub authorized_org_group_id: Option<String>,
    /// Always `null`.
    #[schema(required)]
    pub parent_org_group_token_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Liaison records no creating user: always `null`.
    #[schema(required)]
    pub created_by: Option<String>,
}

/// `{data}`: one answer in the contract's envelope.
#[derive(Serialize, ToSchema)]
pub struct Data<T> {
    pub data: T,
}

/// A page of a list in the contract's envelope.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListPage<T> {
    pub data: Vec<T>,
    pub page_size: u32,
    pub limit: u32,
    /// Never counted: always `null`.
    #[schema(required)]
    pub total: Option<u32>,
    pub has_next_page: bool,
    /// The `cursor` of the next page; `null` on the last.
    #[schema(required)]
    pub cursor: Option<String>,
}

/// A page of users: `cursor` names the next page, `null` on the last.
#[derive(Serialize, ToSchema)]
pub struct CursorPage<T> {
    pub data: Vec<T>,
    #[schema(required)]
    pub cursor: Option<String>,
}

impl<V, T: From<V>> From<liaison_engine::Page<V>> for CursorPage<T> {
    fn from(page: liaison_engine::Page<V>) -> Self {
        CursorPage {
            data: page.items.into_iter().map(T::from).collect(),
            cursor: page.next_cursor,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Success {
    pub success: bool,
}
