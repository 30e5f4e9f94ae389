//! The response floor: the rows a read returns (the storage floor's statements) encoded by
//! serde_json into the JSON the integrations face answers, field for field, served over HTTP
//! by the HTTP floor's server. What a read costs above it is Liaison's own: its engine, its
//! views and its layers, not the database or the encoding.

use super::{CrmUserRow, ParticipantRow, Read, RecordRow, TypeRow};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

fn instant(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored time read back and written again, as a view does.
fn stored_instant(text: Option<String>) -> Option<String> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| instant(&t.with_timezone(&Utc)))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct EngagementData {
    direction: Option<String>,
    subject: Option<String>,
    content: Option<String>,
    start_time: Option<String>,
    start_time_localized: Option<String>,
    end_time: Option<String>,
    remote_created_at: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Address {
    country: String,
    street: String,
    city: String,
    state: String,
    zip: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AccountData {
    name: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    addresses: Vec<Address>,
    phone_numbers: Vec<String>,
    email_addresses: Vec<String>,
    last_activity_at: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountOut {
    id: String,
    external_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    longitude: Option<f64>,
    addresses: Vec<Address>,
    phone_numbers: Vec<String>,
    email_addresses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_activity_at: Option<String>,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RepOut {
    id: String,
    engagement_id: String,
    user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    share_of_sale: Option<f64>,
    organization_id: String,
    created_at: String,
    updated_at: String,
    integration_connection_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EngagementOut {
    id: String,
    external_id: String,
    engagement_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    activity_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    engagement_type_id: Option<String>,
    created_at: String,
    updated_at: String,
    organization_id: String,
    integration_connection_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_time_localized: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote_created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote_updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recording_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    opportunity_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lead_id: Option<String>,
    account: Option<AccountOut>,
    engagement_users: Vec<RepOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageOut {
    data: Vec<EngagementOut>,
    page_size: u32,
    limit: u32,
    total: Option<u32>,
    has_next_page: bool,
    cursor: Option<String>,
}

fn account(r: &RecordRow) -> AccountOut {
    let d: AccountData = serde_json::from_str(&r.data).unwrap_or_default();
    AccountOut {
        id: r.id.to_string(),
        external_id: r.external_id.clone(),
        latitude: d.latitude,
        longitude: d.longitude,
        addresses: d.addresses,
        phone_numbers: d.phone_numbers,
        email_addresses: d.email_addresses,
        name: d.name,
        last_activity_at: stored_instant(d.last_activity_at),
        created_at: instant(&r.created_at),
        updated_at: instant(&r.updated_at),
    }
}

/// The engagements of `read` in the face's shape, each with its account, type and reps.
fn engagements(read: &Read) -> Vec<EngagementOut> {
    let accounts: HashMap<Uuid, &RecordRow> = read.accounts.iter().map(|a| (a.id, a)).collect();
    let types: HashMap<Uuid, &TypeRow> = read.types.iter().map(|t| (t.id, t)).collect();
    let users: HashMap<Uuid, &CrmUserRow> = read.crm_users.iter().map(|u| (u.id, u)).collect();
    let mut reps: HashMap<Uuid, Vec<&ParticipantRow>> = HashMap::new();
    for p in &read.participants {
        reps.entry(p.parent).or_default().push(p);
    }
    read.engagements
        .iter()
        .map(|r| {
            let d: EngagementData = serde_json::from_str(&r.data).unwrap_or_default();
            let t = r.engagement_type.and_then(|t| types.get(&t));
            EngagementOut {
                id: r.id.to_string(),
                external_id: r.external_id.clone(),
                engagement_type: t.map(|t| t.name.clone()).unwrap_or_default(),
                activity_type: t.map(|t| t.activity_type.clone()),
                engagement_type_id: t.map(|t| t.id.to_string()),
                created_at: instant(&r.created_at),
                updated_at: instant(&r.updated_at),
                organization_id: r.org.to_string(),
                integration_connection_id: r.connection.to_string(),
                direction: d.direction,
                subject: d.subject,
                content: d.content,
                start_time: stored_instant(d.start_time),
                start_time_localized: d.start_time_localized,
                end_time: stored_instant(d.end_time),
                remote_created_at: stored_instant(d.remote_created_at),
                remote_updated_at: r.remote_updated_at.as_ref().map(instant),
                recording_id: r.recording_id.clone(),
                opportunity_id: r.opportunity.map(|i| i.to_string()),
                account_id: r.account.map(|i| i.to_string()),
                contact_id: r.contact.map(|i| i.to_string()),
                lead_id: r.lead.map(|i| i.to_string()),
                account: r.account.and_then(|a| accounts.get(&a)).map(|a| account(a)),
                engagement_users: reps
                    .get(&r.id)
                    .into_iter()
                    .flatten()
                    .map(|p| RepOut {
                        id: p.id.to_string(),
                        engagement_id: p.parent.to_string(),
                        user_id: p.crm_user.to_string(),
                        name: p
                            .name
                            .clone()
                            .or_else(|| users.get(&p.crm_user).and_then(|u| u.name.clone())),
                        share_of_sale: p.share,
                        organization_id: p.org.to_string(),
                        created_at: instant(&p.created_at),
                        updated_at: instant(&p.updated_at),
                        integration_connection_id: p.connection.to_string(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// `GET /v1/integrations/engagements/{id}`'s body.
pub(crate) fn one(read: &Read) -> Vec<u8> {
    let out = engagements(read).into_iter().next();
    serde_json::to_vec(&out).expect("serializes")
}

/// `GET /v1/integrations/engagements`'s body: a page of 100 and a cursor (the last id, as the
/// floor pages by id).
pub(crate) fn page(read: &Read) -> Vec<u8> {
    let data = engagements(read);
    let cursor = (data.len() == 100).then(|| data[99].id.clone());
    serde_json::to_vec(&PageOut {
        has_next_page: cursor.is_some(),
        cursor,
        data,
        page_size: 100,
        limit: 100,
        total: None,
    })
    .expect("serializes")
}
