//! The integrations face's request bodies and envelopes as the OpenAPI document describes them.
//! The face reads bodies field by field (`inputs`), so these types are descriptions only: each
//! mirrors what its reader accepts, with the limits `rules` sets. They are never built.
#![allow(dead_code)]

use liaison_domain::rules::{MAX_EXTERNAL_ID, MAX_LONG_TEXT, MAX_TEXT};
use liaison_domain::values::{ActivityType, Direction, Disposition};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr, schema::ArrayBuilder};
use utoipa::{IntoResponses, PartialSchema, ToSchema};

/// A string schema limited to the values `all` spells.
fn spelled(all: &[&str], description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .enum_values(Some(all.iter().copied()))
        .description(Some(description))
        .into()
}

macro_rules! spelled_enum {
    ($name:ident, $all:expr, $doc:literal) => {
        #[doc = $doc]
        pub struct $name;
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                spelled($all, $doc)
            }
        }
        impl ToSchema for $name {}
    };
}

spelled_enum!(
    DirectionName,
    Direction::ALL,
    "Which way the engagement went."
);
spelled_enum!(
    ActivityTypeName,
    ActivityType::ALL,
    "The kind of activity. MEETING, EVENT and APPOINTMENT are appointments."
);
spelled_enum!(
    DispositionName,
    Disposition::ALL,
    "Where the opportunity stands."
);

/// `{error}`: what was wrong with the request.
#[derive(ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

/// A key (a string) or an array index (a whole number).
pub struct PathStep;

impl PartialSchema for PathStep {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Integer]))
            .description(Some("A key, or an array index"))
            .into()
    }
}

impl ToSchema for PathStep {}

/// One bad field of a refused body.
#[derive(ToSchema)]
pub struct ZodIssue {
    /// `invalid_type`, `invalid_enum_value`, `invalid_string`, `invalid_date`, `too_small`,
    /// `too_big` or `custom`.
    pub code: String,
    /// Where the field is: keys and array indexes from the body's root.
    #[schema(inline, value_type = Vec<PathStep>)]
    pub path: Vec<serde_json::Value>,
    pub message: String,
    #[schema(nullable = false)]
    pub expected: Option<String>,
    #[schema(nullable = false)]
    pub received: Option<String>,
    #[schema(nullable = false)]
    pub options: Option<Vec<String>>,
    #[schema(nullable = false)]
    pub minimum: Option<f64>,
    #[schema(nullable = false)]
    pub maximum: Option<f64>,
}

/// A body refused as a whole: every bad field, with its path.
#[derive(ToSchema)]
pub struct ZodError {
    /// Always `ZodError`.
    pub name: String,
    #[schema(inline)]
    pub issues: Vec<ZodIssue>,
}

#[derive(Deserialize, ToSchema)]
pub struct Address {
    #[schema(max_length = 4096)]
    pub country: String,
    #[schema(max_length = 4096)]
    pub street: String,
    #[schema(max_length = 4096)]
    pub city: String,
    #[schema(max_length = 4096)]
    pub state: String,
    #[schema(max_length = 4096)]
    pub zip: String,
}

/// Where and how to reach a record, as every account, contact and lead has it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileIn {
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub addresses: Option<Vec<Address>>,
    pub phone_numbers: Option<Vec<String>>,
    pub email_addresses: Option<Vec<String>>,
    #[schema(format = DateTime)]
    pub last_activity_at: Option<String>,
}

/// A record's life in the CRM: its deletion, its owner, its merges.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleIn {
    /// When the CRM deleted it.
    #[schema(format = DateTime)]
    pub deleted_at: Option<String>,
    pub owner: Option<OwnerIn>,
    /// The surviving record, if this one was merged into another.
    #[schema(max_length = 512)]
    pub merged_to_external_id: Option<String>,
    /// The records merged into this one.
    pub merged_from_external_ids: Option<Vec<String>>,
}

/// A record's owner in the CRM.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnerIn {
    #[schema(min_length = 1, max_length = 512)]
    pub external_id: String,
}

/// An account as a sync sends it. Liaison requires its `externalId`: without one an account
/// can be neither matched nor found again.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountIn {
    /// The account's id in the CRM.
    #[schema(min_length = 1, max_length = 512)]
    pub external_id: String,
    #[schema(max_length = 4096)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub profile: ProfileIn,
    #[serde(flatten)]
    pub lifecycle: LifecycleIn,
}

/// An account's own fields, each optional: the body of an account update.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountUpdate {
    #[schema(max_length = 4096)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub profile: ProfileIn,
}

/// An account to create: `externalId` with coordinates or addresses (or both).
pub struct AccountCreate;

impl PartialSchema for AccountCreate {
    fn schema() -> RefOr<Schema> {
        let needs = |fields: &[&str]| {
            let mut o = ObjectBuilder::new();
            for f in fields {
                o = o.required(*f);
            }
            o.build()
        };
        AllOfBuilder::new()
            .item(AccountIn::schema())
            .item(
                AnyOfBuilder::new()
                    .item(needs(&["latitude", "longitude"]))
                    .item(needs(&["addresses"])),
            )
            .description(Some(
                "An account to create: `externalId`, and either `latitude` and `longitude` or \
                 `addresses`.",
            ))
            .into()
    }
}

impl ToSchema for AccountCreate {}

/// A contact as a sync sends it, with the account it belongs to.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactIn {
    #[schema(min_length = 1, max_length = 512)]
    pub external_id: String,
    #[schema(max_length = 4096)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub profile: ProfileIn,
    pub account: Option<AccountIn>,
    #[serde(flatten)]
    pub lifecycle: LifecycleIn,
}

/// A lead as a sync sends it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadIn {
    #[schema(min_length = 1, max_length = 512)]
    pub external_id: String,
    #[schema(max_length = 4096)]
    pub first_name: Option<String>,
    #[schema(max_length = 4096)]
    pub last_name: Option<String>,
    #[serde(flatten)]
    pub profile: ProfileIn,
    #[serde(flatten)]
    pub lifecycle: LifecycleIn,
}

/// A rep on a synced record, matched to a CRM user by `externalId`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepIn {
    #[schema(min_length = 1, max_length = 512)]
    pub external_id: String,
    #[schema(max_length = 4096)]
    pub email: Option<String>,
    #[schema(max_length = 4096)]
    pub name: Option<String>,
    /// The rep's share of the sale, from 0 to 1.
    #[schema(minimum = 0, maximum = 1)]
    pub share_of_sale: Option<f64>,
    #[schema(format = DateTime)]
    pub deleted_at: Option<String>,
}

/// An engagement's type, found by `externalId` or by `name` and created when new.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EngagementTypeIn {
    #[schema(max_length = 512)]
    pub external_id: Option<String>,
    #[schema(min_length = 1, max_length = 4096)]
    pub name: String,
    #[schema(value_type = ActivityTypeName)]
    pub activity_type: String,
}

/// An opportunity's own fields, as both a sync of it and an engagement's sync send them.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityFieldsIn {
    #[schema(min_length = 1, max_length = 512)]
    pub external_id: String,
    #[schema(max_length = 4096)]
    pub name: Option<String>,
    #[schema(minimum = 0)]
    pub amount: Option<f64>,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    #[schema(format = DateTime)]
    pub remote_created_at: Option<String>,
    #[schema(format = DateTime)]
    pub last_activity_at: Option<String>,
    #[schema(value_type = Option<DispositionName>)]
    pub disposition: Option<String>,
}

/// An opportunity inside an engagement's sync.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NestedOpportunityIn {
    #[serde(flatten)]
    pub opportunity: OpportunityFieldsIn,
    /// Give the opportunity the engagement's account, contact and lead.
    #[schema(nullable = false)]
    pub copy_engagement_relationships: Option<bool>,
}

/// One engagement of a sync.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EngagementIn {
    /// The engagement's id in the CRM.
    #[schema(min_length = 1, max_length = 512)]
    pub external_id: String,
    #[schema(value_type = Option<DirectionName>)]
    pub direction: Option<String>,
    #[schema(max_length = 1048576)]
    pub content: Option<String>,
    #[schema(max_length = 4096)]
    pub subject: Option<String>,
    #[schema(format = DateTime)]
    pub start_time: Option<String>,
    /// The start as the CRM shows it locally, without a time zone.
    #[schema(max_length = 4096)]
    pub start_time_localized: Option<String>,
    /// Not before `startTime`.
    #[schema(format = DateTime)]
    pub end_time: Option<String>,
    #[schema(format = DateTime)]
    pub remote_created_at: Option<String>,
    /// A sync older than the stored one is ignored.
    #[schema(format = DateTime)]
    pub remote_updated_at: Option<String>,
    #[schema(format = DateTime)]
    pub deleted_at: Option<String>,
    /// An engagement type's Liaison id; wins over `engagementType`.
    pub engagement_type_id: Option<String>,
    pub engagement_type: Option<EngagementTypeIn>,
    pub account: Option<AccountIn>,
    pub contact: Option<ContactIn>,
    pub lead: Option<LeadIn>,
    pub opportunity: Option<NestedOpportunityIn>,
    pub engagement_users: Option<Vec<RepIn>>,
}

/// A contact of an opportunity: a contact, and whether it is the primary one.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityContactIn {
    #[serde(flatten)]
    pub contact: ContactIn,
    #[schema(nullable = false)]
    pub is_primary: Option<bool>,
}

/// One opportunity of a sync.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityIn {
    #[serde(flatten)]
    pub opportunity: OpportunityFieldsIn,
    #[schema(format = DateTime)]
    pub deleted_at: Option<String>,
    /// An account's Liaison id; wins over `account`.
    pub account_id: Option<String>,
    pub account: Option<AccountIn>,
    pub contact: Option<ContactIn>,
    pub opportunity_contacts: Option<Vec<OpportunityContactIn>>,
    pub opportunity_users: Option<Vec<RepIn>>,
}

/// The engagements still in the CRM between two times: every other one synced in that window
/// is soft-deleted.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SoftDeleteRemovedIn {
    pub valid_external_ids: Vec<String>,
    #[schema(format = DateTime)]
    pub from_time: String,
    /// Not before `fromTime`.
    #[schema(format = DateTime)]
    pub to_time: String,
}

/// An engagement user to create or change.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EngagementUserIn {
    /// Required to create.
    #[schema(nullable = false)]
    pub engagement_id: Option<String>,
    /// The CRM user; required to create.
    #[schema(nullable = false)]
    pub user_id: Option<String>,
    #[schema(max_length = 4096)]
    pub name: Option<String>,
    #[schema(minimum = 0, maximum = 1)]
    pub share_of_sale: Option<f64>,
}

/// An opportunity user to create or change.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityUserIn {
    /// Required to create.
    #[schema(nullable = false)]
    pub opportunity_id: Option<String>,
    /// The CRM user; required to create.
    #[schema(nullable = false)]
    pub user_id: Option<String>,
    #[schema(max_length = 4096)]
    pub name: Option<String>,
    /// The rep's share in percent, from 0 to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub amount_percentage: Option<f64>,
}

/// A workspace user to create.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserCreate {
    #[schema(min_length = 1, max_length = 4096)]
    pub email: String,
    /// The caller's own organization.
    #[schema(min_length = 1, max_length = 4096)]
    pub organization_id: String,
    /// Accepted and ignored: Liaison keeps no passwords.
    #[schema(deprecated, max_length = 4096)]
    pub password: Option<String>,
    #[schema(max_length = 4096)]
    pub phone_number: Option<String>,
    #[schema(max_length = 4096)]
    pub first_name: Option<String>,
    #[schema(max_length = 4096)]
    pub last_name: Option<String>,
    #[schema(max_length = 4096)]
    pub member_team_id: Option<String>,
    /// The CRM user's external id this user records as.
    #[schema(max_length = 512)]
    pub external_id: Option<String>,
    pub coach_team_ids: Option<Vec<String>>,
    pub is_admin: Option<bool>,
    pub billable: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub contact_settings: Option<serde_json::Value>,
}

/// A workspace user's fields to change, each optional.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate {
    #[schema(max_length = 4096)]
    pub email: Option<String>,
    #[schema(max_length = 4096)]
    pub phone_number: Option<String>,
    #[schema(max_length = 4096)]
    pub first_name: Option<String>,
    #[schema(max_length = 4096)]
    pub last_name: Option<String>,
    #[schema(max_length = 4096)]
    pub member_team_id: Option<String>,
    #[schema(max_length = 512)]
    pub external_id: Option<String>,
    pub disabled: Option<bool>,
    pub billable: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub contact_settings: Option<serde_json::Value>,
    /// Must be the caller's own organization.
    #[schema(max_length = 4096)]
    pub organization_id: Option<String>,
}

/// A batch: at most 1,000 items, valid as a whole.
fn batch_of<T: ToSchema>() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(RefOr::Ref(
            utoipa::openapi::Ref::from_schema_name(T::name()),
        ))
        .max_items(Some(crate::BATCH_ITEM_LIMIT))
        .description(Some(
            "At most 1,000 items. One bad item refuses the whole batch, and nothing of it is \
             written.",
        ))
        .into()
}

macro_rules! batch {
    ($name:ident, $item:ty) => {
        pub struct $name;
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                batch_of::<$item>()
            }
        }
        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push((<$item>::name().into(), <$item>::schema()));
                <$item>::schemas(schemas);
            }
        }
    };
}

batch!(EngagementBatch, EngagementIn);
batch!(OpportunityBatch, OpportunityIn);

const _: () = {
    assert!(MAX_EXTERNAL_ID == 512);
    assert!(MAX_TEXT == 4096);
    assert!(MAX_LONG_TEXT == 1048576);
};

spelled_enum!(
    IdType,
    &["internal", "external"],
    "Which id the path holds: Liaison's (`internal`, the default) or the CRM's (`external`)."
);

/// A refusal in the face's envelope, its body a reference to `schema`.
fn refusal(description: &str, schema: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .into()
}

const BAD_REQUEST: (&str, &str) = (
    "400",
    "A query parameter, path or cursor that cannot be read.",
);
const UNAUTHORIZED: (&str, &str) = ("401", "No token, or one that is unknown or revoked.");
const FORBIDDEN: (&str, &str) = ("403", "The token lacks the scope the operation needs.");
const TOO_MANY: (&str, &str) = (
    "429",
    "The token made more requests than its rate allows; `Retry-After` says when to return.",
);
const INTERNAL: (&str, &str) = (
    "500",
    "A fault of the server: the request id in its logs tells what.",
);

fn refusals(list: &[(&str, &str)], invalid: bool) -> BTreeMap<String, RefOr<Response>> {
    let mut out: BTreeMap<String, RefOr<Response>> = list
        .iter()
        .map(|(status, description)| (status.to_string(), refusal(description, "ErrorBody")))
        .collect();
    if let Some(RefOr::T(too_many)) = out.get_mut(TOO_MANY.0) {
        too_many.headers.insert(
            "Retry-After".into(),
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some("Seconds to wait before the next request."))
                .build(),
        );
    }
    if invalid {
        out.insert(
            "422".into(),
            refusal(
                "The body is refused: every bad field, with its path.",
                "ZodError",
            ),
        );
    }
    out
}

/// What a read can answer besides its data.
pub struct Reads;

impl IntoResponses for Reads {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refusals(
            &[
                BAD_REQUEST,
                UNAUTHORIZED,
                FORBIDDEN,
                ("404", "Nothing of that id in the token's connection."),
                TOO_MANY,
                INTERNAL,
            ],
            false,
        )
    }
}

/// What a write can answer besides its data.
pub struct Writes;

impl IntoResponses for Writes {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refusals(
            &[
                BAD_REQUEST,
                UNAUTHORIZED,
                FORBIDDEN,
                (
                    "404",
                    "Something the path or body names is not in the token's connection.",
                ),
                (
                    "409",
                    "A concurrent write won, or the write conflicts with what is stored.",
                ),
                ("413", "The body is larger than the operation takes."),
                ("415", "The body is not JSON."),
                TOO_MANY,
                INTERNAL,
            ],
            true,
        )
    }
}

/// The schemas every refusal names.
pub(super) fn envelopes() -> [(String, RefOr<Schema>); 2] {
    [
        (ErrorBody::name().into(), ErrorBody::schema()),
        (ZodError::name().into(), ZodError::schema()),
    ]
}

/// The paging parameters of a list.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// The cursor the previous page gave (`cursor`, or the `X-Next-Cursor` header).
    pub cursor: Option<String>,
    /// Records per page (at most 1,000; default 100).
    #[param(minimum = 1, maximum = 4294967295.0)]
    pub limit: Option<u64>,
    /// The same as `limit`.
    #[param(minimum = 1, maximum = 4294967295.0)]
    pub page_size: Option<u64>,
}

/// The filters of a list of synced records.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RecordFilters {
    /// Only the record with this external id.
    pub external_id: Option<String>,
    /// Only records linked to this recording.
    pub recording_id: Option<String>,
}
