//! Generated engagements in the two forms that reach Liaison: the integrations face's JSON
//! (Siro's field names), and the engine's `EngagementIn` for loading in-process without HTTP.
//!
//! Both render the same generated item, so a data set loaded either way holds the same rows.

use crate::data::Engagement;
use chrono::{DateTime, SecondsFormat, Utc};
use liaison_domain::model::EngagementIn;
use serde::Serialize;

fn instant(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressJson<'a> {
    country: &'a str,
    street: &'a str,
    city: &'a str,
    state: &'a str,
    zip: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountJson<'a> {
    external_id: &'a str,
    name: &'a str,
    latitude: f64,
    longitude: f64,
    addresses: [AddressJson<'a>; 1],
    phone_numbers: [&'a str; 1],
    email_addresses: Vec<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactJson<'a> {
    external_id: &'a str,
    name: &'a str,
    email_addresses: [&'a str; 1],
    phone_numbers: [&'a str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OpportunityJson<'a> {
    external_id: &'a str,
    name: &'a str,
    amount: f64,
    disposition: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    closed_at: Option<String>,
    remote_created_at: String,
    copy_engagement_relationships: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TypeJson<'a> {
    external_id: &'a str,
    name: &'a str,
    activity_type: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RepJson<'a> {
    external_id: &'a str,
    email: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EngagementJson<'a> {
    external_id: &'a str,
    subject: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<&'a str>,
    start_time: String,
    end_time: String,
    start_time_localized: &'a str,
    remote_created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote_updated_at: Option<String>,
    engagement_type: TypeJson<'a>,
    account: AccountJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<ContactJson<'a>>,
    opportunity: OpportunityJson<'a>,
    engagement_users: [RepJson<'a>; 1],
}

/// Appends the engagement's JSON to `out`. `with_remote_updated_at: false` leaves the field
/// out, so that the payload can never be refused as stale (the scenarios' updates).
pub fn engagement_json(e: &Engagement, with_remote_updated_at: bool, out: &mut Vec<u8>) {
    let a = &e.account;
    let o = &e.opportunity;
    let doc = EngagementJson {
        external_id: &e.external_id,
        subject: &e.subject,
        content: e.content.as_deref(),
        direction: e.direction,
        start_time: instant(&e.start),
        end_time: instant(&e.end),
        start_time_localized: &e.start_localized,
        remote_created_at: instant(&e.remote_created_at),
        remote_updated_at: with_remote_updated_at.then(|| instant(&e.remote_updated_at)),
        engagement_type: TypeJson {
            external_id: e.engagement_type.external_id,
            name: e.engagement_type.name,
            activity_type: e.engagement_type.activity_type,
        },
        account: AccountJson {
            external_id: &a.external_id,
            name: &a.name,
            latitude: a.latitude,
            longitude: a.longitude,
            addresses: [AddressJson {
                country: a.address.country,
                street: &a.address.street,
                city: a.address.city,
                state: a.address.state,
                zip: &a.address.zip,
            }],
            phone_numbers: [&a.phone],
            email_addresses: a.email.iter().map(String::as_str).collect(),
        },
        contact: e.contact.as_ref().map(|c| ContactJson {
            external_id: &c.external_id,
            name: &c.name,
            email_addresses: [&c.email],
            phone_numbers: [&c.phone],
        }),
        opportunity: OpportunityJson {
            external_id: &o.external_id,
            name: &o.name,
            amount: o.amount,
            disposition: o.disposition,
            closed_at: o.closed_at.as_ref().map(instant),
            remote_created_at: instant(&o.remote_created_at),
            copy_engagement_relationships: true,
        },
        engagement_users: [RepJson {
            external_id: &e.rep.external_id,
            email: &e.rep.email,
            name: &e.rep.name,
        }],
    };
    serde_json::to_writer(out, &doc).expect("serialising to a Vec cannot fail");
}

/// A batch body: a JSON array of engagements.
pub fn batch_json(items: &[Engagement]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.len() * 1_600);
    out.push(b'[');
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        engagement_json(e, true, &mut out);
    }
    out.push(b']');
    out
}

/// The same engagement as the engine's input: `engagement_json` read by the integrations
/// face's own reader, so the engine loader writes what an HTTP sync of it would.
pub fn engagement_in(e: &Engagement) -> EngagementIn {
    let mut json = Vec::with_capacity(1_600);
    engagement_json(e, true, &mut json);
    let v: serde_json::Value = serde_json::from_slice(&json).expect("the renderer writes JSON");
    liaison_api::integrations::read_engagement(&v).expect("generated engagements are valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Generator;

    #[test]
    fn json_carries_the_nested_objects() {
        let e = Generator::new(3).engagement(42);
        let mut out = Vec::new();
        engagement_json(&e, true, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["externalId"], "e-0000000042");
        assert!(v["account"]["externalId"].is_string());
        assert!(v["opportunity"]["externalId"].is_string());
        assert_eq!(v["engagementUsers"].as_array().unwrap().len(), 1);
        let input = engagement_in(&e);
        assert_eq!(input.external_id, "e-0000000042");
    }
}
