//! The integrations face's request bodies, read into the domain's inputs exactly as the Siro
//! contract spells them. Absent fields keep, `null` clears; every bad field is reported.

use crate::decode::{Obj, Reader};
use liaison_domain::field::Field;
use liaison_domain::model::*;
use liaison_domain::values::*;
use liaison_domain::{EngagementTypeId, Issue, Issues, Patch, PathSeg, RecordId};
use serde_json::Value;

pub fn profile(r: &mut Reader, o: &Obj) -> ProfilePatch {
    ProfilePatch {
        latitude: r.number(o, "latitude"),
        longitude: r.number(o, "longitude"),
        addresses: addresses(r, o),
        phone_numbers: r.string_list(o, "phoneNumbers"),
        email_addresses: r.string_list(o, "emailAddresses"),
        last_activity_at: r.instant(o, "lastActivityAt"),
    }
}

fn addresses(r: &mut Reader, o: &Obj) -> Patch<Vec<Address>> {
    let items = r.array(o, "addresses");
    items.map(|items| {
        items
            .into_iter()
            .filter_map(|(path, v)| {
                let a = r.element(path, v)?;
                let country = r.required_string_allow_empty(&a, "country");
                let street = r.required_string_allow_empty(&a, "street");
                let city = r.required_string_allow_empty(&a, "city");
                let state = r.required_string_allow_empty(&a, "state");
                let zip = r.required_string_allow_empty(&a, "zip");
                Some(Address {
                    country: country?,
                    street: street?,
                    city: city?,
                    state: state?,
                    zip: zip?,
                })
            })
            .collect()
    })
}

fn lifecycle(r: &mut Reader, o: &Obj) -> Lifecycle {
    let owner = match r.object(o, "owner") {
        Patch::Value(owner) => match r.required_external_id(&owner, "externalId") {
            Some(ext) => Patch::Value(ext),
            None => Patch::Absent,
        },
        Patch::Null => Patch::Null,
        Patch::Absent => Patch::Absent,
    };
    Lifecycle {
        deleted_at: r.instant(o, "deletedAt"),
        merged_to: r.external_id(o, "mergedToExternalId").as_value().cloned(),
        merged_from: r
            .external_id_list(o, "mergedFromExternalIds")
            .as_value()
            .cloned()
            .unwrap_or_default(),
        owner,
    }
}

/// The object as sent, without the records nested in it (each keeps its own).
fn remote(o: &Obj, nested: &[&str]) -> Option<RemoteData> {
    Some(RemoteData::of(o.map, nested))
}

/// An account. The contract leaves a nested account's `externalId` optional, but an account
/// without one can be neither matched nor found again, so Liaison requires it.
pub fn account(r: &mut Reader, o: &Obj) -> Option<AccountIn> {
    let external_id = r.required_external_id(o, "externalId");
    let name = r.string(o, "name");
    let profile = profile(r, o);
    let lifecycle = lifecycle(r, o);
    Some(AccountIn {
        external_id: external_id?,
        name,
        profile,
        lifecycle,
        remote_data: remote(o, &[]),
    })
}

fn nested<T>(
    r: &mut Reader,
    o: &Obj,
    key: &str,
    read: impl FnOnce(&mut Reader, &Obj) -> Option<T>,
) -> Patch<T> {
    match r.object(o, key) {
        Patch::Value(inner) => match read(r, &inner) {
            Some(t) => Patch::Value(t),
            None => Patch::Absent,
        },
        Patch::Null => Patch::Null,
        Patch::Absent => Patch::Absent,
    }
}

pub fn contact(r: &mut Reader, o: &Obj) -> Option<ContactIn> {
    let external_id = r.required_external_id(o, "externalId");
    let name = r.string(o, "name");
    let profile = profile(r, o);
    let account = nested(r, o, "account", account);
    let lifecycle = lifecycle(r, o);
    Some(ContactIn {
        external_id: external_id?,
        name,
        profile,
        account,
        lifecycle,
        remote_data: remote(o, &["account"]),
    })
}

fn lead(r: &mut Reader, o: &Obj) -> Option<LeadIn> {
    let external_id = r.required_external_id(o, "externalId");
    let first_name = r.string(o, "firstName");
    let last_name = r.string(o, "lastName");
    let profile = profile(r, o);
    let lifecycle = lifecycle(r, o);
    Some(LeadIn {
        external_id: external_id?,
        first_name,
        last_name,
        profile,
        lifecycle,
        remote_data: remote(o, &[]),
    })
}

fn reps(r: &mut Reader, o: &Obj, key: &str) -> Patch<Vec<ParticipantIn>> {
    let items = r.array(o, key);
    items.map(|items| {
        items
            .into_iter()
            .filter_map(|(path, v)| {
                let u = r.element(path, v)?;
                let external_id = r.required_external_id(&u, "externalId");
                let email = r.string(&u, "email");
                let name = r.string(&u, "name");
                let share = r
                    .bounded(&u, "shareOfSale", Some(0.0), Some(1.0), "shareOfSale")
                    .map(|n| Share::parse(n).expect("bounded to 0..=1"));
                let deleted_at = r.instant(&u, "deletedAt");
                Some(ParticipantIn {
                    external_id: external_id?,
                    email,
                    name,
                    share,
                    deleted_at,
                })
            })
            .collect()
    })
}

fn engagement_type(r: &mut Reader, o: &Obj) -> Option<EngagementTypeIn> {
    let external_id = r.external_id(o, "externalId").as_value().cloned();
    let name = r.required_string(o, "name");
    let activity_type =
        match r.enumeration(o, "activityType", ActivityType::ALL, ActivityType::parse) {
            Patch::Value(a) => Some(a),
            Patch::Absent if o.map.contains_key("activityType") => None,
            _ => {
                r.issues.push(Issue::required(
                    [o.path.clone(), vec!["activityType".into()]].concat(),
                    "string",
                ));
                None
            }
        };
    Some(EngagementTypeIn {
        external_id,
        name: name?,
        activity_type: activity_type?,
    })
}

/// An opportunity, top-level (`nested == false`) or inside an engagement.
pub fn opportunity(r: &mut Reader, o: &Obj, nested_in_engagement: bool) -> Option<OpportunityIn> {
    let external_id = r.required_external_id(o, "externalId");
    let mut input = OpportunityIn {
        name: r.string(o, "name"),
        amount: r
            .bounded(o, "amount", Some(0.0), None, "amount")
            .map(|n| Amount::parse(n).expect("bounded to >= 0")),
        closed_at: r.instant(o, "closedAt"),
        remote_created_at: r.instant(o, "remoteCreatedAt"),
        last_activity_at: r.instant(o, "lastActivityAt"),
        disposition: r.enumeration(o, "disposition", Disposition::ALL, Disposition::parse),
        remote_data: remote(o, &["account", "contact", "opportunityContacts"]),
        ..OpportunityIn::default()
    };
    if nested_in_engagement {
        input.copy_engagement_relationships = r
            .boolean(o, "copyEngagementRelationships")
            .as_value()
            .copied()
            .unwrap_or(false);
    } else {
        input.deleted_at = r.instant(o, "deletedAt");
        input.account_id = r.id(o, "accountId", Field::Account, RecordId::parse);
        input.account = nested(r, o, "account", account);
        input.contact = nested(r, o, "contact", contact);
        let contacts = r.array(o, "opportunityContacts");
        input.contacts = contacts.map(|items| {
            items
                .into_iter()
                .filter_map(|(path, v)| {
                    let c = r.element(path, v)?;
                    let is_primary = r
                        .boolean(&c, "isPrimary")
                        .as_value()
                        .copied()
                        .unwrap_or(false);
                    Some(OpportunityContactIn {
                        contact: contact(r, &c)?,
                        is_primary,
                    })
                })
                .collect()
        });
        input.users = reps(r, o, "opportunityUsers");
    }
    input.external_id = external_id?;
    Some(input)
}

pub fn engagement(r: &mut Reader, o: &Obj) -> Option<EngagementIn> {
    let external_id = r.required_external_id(o, "externalId");
    let input = EngagementIn {
        external_id: String::new(),
        direction: r.enumeration(o, "direction", Direction::ALL, Direction::parse),
        subject: r.string(o, "subject"),
        content: r.long_string(o, "content"),
        start_time: r.instant(o, "startTime"),
        start_time_localized: r.string(o, "startTimeLocalized"),
        end_time: r.instant(o, "endTime"),
        remote_created_at: r.instant(o, "remoteCreatedAt"),
        remote_updated_at: r.instant(o, "remoteUpdatedAt"),
        deleted_at: r.instant(o, "deletedAt"),
        // The Siro sync contract has no privacy field: its syncs keep what is stored.
        is_private: Patch::Absent,
        engagement_type_id: r.id(
            o,
            "engagementTypeId",
            Field::EngagementType,
            EngagementTypeId::parse,
        ),
        engagement_type: nested(r, o, "engagementType", engagement_type),
        account: nested(r, o, "account", account),
        contact: nested(r, o, "contact", contact),
        lead: nested(r, o, "lead", lead),
        opportunity: nested(r, o, "opportunity", |r, o| opportunity(r, o, true)),
        users: reps(r, o, "engagementUsers"),
        remote_data: remote(o, &["account", "contact", "lead", "opportunity"]),
    };
    // When both ends come in one payload the order can be checked here; a payload that moves
    // one end is checked against the stored other end by the engine.
    if let (Patch::Value(s), Patch::Value(e)) = (&input.start_time, &input.end_time)
        && let Err(issues) = liaison_domain::rules::check_times(
            Some(*s),
            Some(*e),
            [o.path.clone(), vec!["endTime".into()]].concat(),
        )
    {
        issues.0.into_iter().for_each(|i| r.issues.push(i));
    }
    Some(EngagementIn {
        external_id: external_id?,
        ..input
    })
}

/// Reads one document (or batch item) with `read`.
pub fn parse<T>(
    v: &Value,
    path: Vec<PathSeg>,
    read: impl FnOnce(&mut Reader, &Obj) -> Option<T>,
) -> Result<T, Issues> {
    let mut r = Reader::default();
    let out = r.root(v, path).and_then(|o| read(&mut r, &o));
    match out {
        Some(t) => r.finish(t),
        None => Err(if r.issues.is_empty() {
            Issues::from(Issue::custom(vec![], "Invalid input"))
        } else {
            r.issues
        }),
    }
}

/// Reads a batch as a whole: an array whose items must all be valid. The refusal of a batch
/// with bad items lists every bad field of every item, under the item's index.
pub fn parse_batch<T>(
    v: &Value,
    read: impl Fn(&mut Reader, &Obj) -> Option<T>,
) -> Result<Vec<T>, Issues> {
    let Value::Array(items) = v else {
        return Err(Issues::from(Issue::wrong_type(
            vec![],
            "array",
            crate::decode::type_name(v),
        )));
    };
    let mut good = Vec::with_capacity(items.len());
    let mut bad = Issues::default();
    for (i, item) in items.iter().enumerate() {
        match parse(item, vec![PathSeg::Index(i)], &read) {
            Ok(t) => good.push(t),
            Err(issues) => bad.0.extend(issues.0),
        }
    }
    bad.into_result(good)
}
