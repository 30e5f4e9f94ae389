//! Engagement users and opportunity users: a rep's place on a record, edited directly.

use super::IdPath;
use super::engagements::page_size;
use super::wire::{EngagementUserOut, OpportunityUserOut, shift_point};
use super::{ApiResult, Authed, Body, Params, bare_list};
use crate::AppState;
use crate::decode::{Obj, Reader};
use crate::docs::Routes;
use crate::request::BODY_LIMIT;
use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use liaison_domain::model::{ParentKind, ParticipantPatch};
use liaison_domain::values::Share;
use liaison_domain::{CrmUserId, Error, Issue, Issues, ParticipantId, Patch, RecordId};
use liaison_engine::ParticipantView;
use liaison_store::Store;

pub(super) fn routes<S: Store>() -> Routes<S> {
    Routes::new()
        .op(engagement_users::__path_list, engagement_users::list::<S>)
        .op(
            engagement_users::__path_create,
            engagement_users::create::<S>,
        )
        .op(
            engagement_users::__path_get_one,
            engagement_users::get_one::<S>,
        )
        .op(
            engagement_users::__path_update,
            engagement_users::update::<S>,
        )
        .op(
            engagement_users::__path_delete_one,
            engagement_users::delete_one::<S>,
        )
        .op(opportunity_users::__path_list, opportunity_users::list::<S>)
        .op(
            opportunity_users::__path_create,
            opportunity_users::create::<S>,
        )
        .op(
            opportunity_users::__path_get_one,
            opportunity_users::get_one::<S>,
        )
        .op(
            opportunity_users::__path_update,
            opportunity_users::update::<S>,
        )
        .op(
            opportunity_users::__path_delete_one,
            opportunity_users::delete_one::<S>,
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The operations of one of the two resources, each described with its own path and shapes.
macro_rules! resource {
    ($module:ident, $kind:ty, $tag:literal, $list:literal, $one:literal, $parent:literal,
     $input:ty, $output:ty) => {
        mod $module {
            use super::super::schema;
            use super::*;

            #[doc = concat!("List ", $tag, " in creation order: a bare array; the next page's cursor is in `X-Next-Cursor`.")]
            #[utoipa::path(
                get,
                path = $list,
                tag = $tag,
                params(
                    ($parent = Option<String>, Query, description = "Only the reps of this record"),
                    ("userId" = Option<String>, Query, description = "Only this CRM user's places"),
                    schema::Paging,
                ),
                responses(
                    (status = 200, description = "A page", body = Vec<$output>, headers(("X-Next-Cursor" = String, description = "The next page's cursor; absent on the last page"))),
                    schema::Reads,
                ),
            )]
            pub(super) async fn list<S: Store>(
                st: State<AppState<S>>,
                caller: Authed,
                params: Params,
            ) -> ApiResult<Response> {
                super::list::<S, $kind>(st, caller, params).await
            }

            #[doc = concat!("Put a CRM user on a record (`", $parent, "` and `userId` required).")]
            #[utoipa::path(
                post,
                path = $list,
                tag = $tag,
                request_body = $input,
                responses((status = 200, description = "As stored", body = $output), schema::Writes),
            )]
            pub(super) async fn create<S: Store>(
                st: State<AppState<S>>,
                caller: Authed,
                body: Body,
            ) -> ApiResult<Response> {
                super::create::<S, $kind>(st, caller, body).await
            }

            #[doc = concat!("One of the ", $tag, ".")]
            #[utoipa::path(
                get,
                path = $one,
                tag = $tag,
                params(("id" = String, Path)),
                responses((status = 200, description = "The rep's place", body = $output), schema::Reads),
            )]
            pub(super) async fn get_one<S: Store>(
                st: State<AppState<S>>,
                caller: Authed,
                id: IdPath,
            ) -> ApiResult<Response> {
                super::get_one::<S, $kind>(st, caller, id).await
            }

            /// Change a rep's place: move it, or change its name or share.
            #[utoipa::path(
                put,
                path = $one,
                tag = $tag,
                params(("id" = String, Path)),
                request_body = $input,
                responses((status = 200, description = "As stored", body = $output), schema::Writes),
            )]
            pub(super) async fn update<S: Store>(
                st: State<AppState<S>>,
                caller: Authed,
                id: IdPath,
                body: Body,
            ) -> ApiResult<Response> {
                super::update::<S, $kind>(st, caller, id, body).await
            }

            /// Take a rep off a record.
            #[utoipa::path(
                delete,
                path = $one,
                tag = $tag,
                params(("id" = String, Path)),
                responses((status = 200, description = "Deleted", body = bool, content_type = "application/json"), schema::Writes),
            )]
            pub(super) async fn delete_one<S: Store>(
                st: State<AppState<S>>,
                caller: Authed,
                id: IdPath,
            ) -> ApiResult<Json<bool>> {
                super::delete_one::<S, $kind>(st, caller, id).await
            }
        }
    };
}

resource!(
    engagement_users,
    Eng,
    "Engagement users",
    "/integrations/engagement-users",
    "/integrations/engagement-users/{id}",
    "engagementId",
    schema::EngagementUserIn,
    EngagementUserOut
);
resource!(
    opportunity_users,
    Opp,
    "Opportunity users",
    "/integrations/opportunity-users",
    "/integrations/opportunity-users/{id}",
    "opportunityId",
    schema::OpportunityUserIn,
    OpportunityUserOut
);

/// What differs between the two resources: the parent's field name and the wire shape.
trait Kind: Send + Sync + 'static {
    const KIND: ParentKind;
    const PARENT_FIELD: &'static str;
    type Out: serde::Serialize + From<ParticipantView>;
    /// Reads the share field, if the resource has one.
    fn share(r: &mut Reader, o: &Obj) -> Patch<Share>;
}

struct Eng;
struct Opp;

impl Kind for Eng {
    const KIND: ParentKind = ParentKind::Engagement;
    const PARENT_FIELD: &'static str = "engagementId";
    type Out = EngagementUserOut;

    fn share(r: &mut Reader, o: &Obj) -> Patch<Share> {
        r.bounded(o, "shareOfSale", Some(0.0), Some(1.0), "shareOfSale")
            .map(|n| Share::parse(n).expect("bounded to 0..=1"))
    }
}

impl Kind for Opp {
    const KIND: ParentKind = ParentKind::Opportunity;
    const PARENT_FIELD: &'static str = "opportunityId";
    type Out = OpportunityUserOut;

    /// `amountPercentage` is a percentage; it is kept as the same fraction a sync's
    /// `shareOfSale` carries.
    fn share(r: &mut Reader, o: &Obj) -> Patch<Share> {
        r.bounded(
            o,
            "amountPercentage",
            Some(0.0),
            Some(100.0),
            "amountPercentage",
        )
        .map(|n| Share::parse(shift_point(n, -2)).expect("bounded to 0..=100"))
    }
}

/// A body as sent: its ids still text, so that a missing one (422) is told apart from one
/// that names nothing (404).
struct BodyIn {
    parent: Option<String>,
    crm_user: Option<String>,
    name: Patch<String>,
    share: Patch<Share>,
}

fn body<K: Kind>(r: &mut Reader, o: &Obj) -> Option<BodyIn> {
    Some(BodyIn {
        parent: r.string(o, K::PARENT_FIELD).as_value().cloned(),
        crm_user: r.string(o, "userId").as_value().cloned(),
        name: r.string(o, "name"),
        share: K::share(r, o),
    })
}

fn parent_id<K: Kind>(raw: &str) -> Result<RecordId, Error> {
    super::id_of(raw, K::KIND.record_kind().noun(), RecordId::parse)
}

fn crm_user_id(raw: &str) -> Result<CrmUserId, Error> {
    super::id_of(raw, "User", CrmUserId::parse)
}

fn participant_id<K: Kind>(raw: &str) -> Result<ParticipantId, Error> {
    let noun = match K::KIND {
        ParentKind::Engagement => "Engagement user",
        ParentKind::Opportunity => "Opportunity user",
    };
    super::id_of(raw, noun, ParticipantId::parse)
}

impl BodyIn {
    fn patch<K: Kind>(self) -> Result<ParticipantPatch, Error> {
        Ok(ParticipantPatch {
            parent: self.parent.as_deref().map(parent_id::<K>).transpose()?,
            crm_user: self.crm_user.as_deref().map(crm_user_id).transpose()?,
            name: self.name,
            share: self.share,
        })
    }
}

async fn list<S: Store, K: Kind>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Params(params): Params,
) -> ApiResult<Response> {
    let limit = page_size(&params)?;
    // A filter on an id that cannot exist matches nothing rather than erroring.
    let parent = params.get(K::PARENT_FIELD).map(|p| RecordId::parse(p));
    let crm_user = params.get("userId").map(|u| CrmUserId::parse(u));
    if matches!(parent, Some(None)) || matches!(crm_user, Some(None)) {
        return Ok(bare_list(Vec::<K::Out>::new(), None));
    }
    let page = st
        .engine
        .list_participants(
            &caller,
            K::KIND,
            parent.flatten(),
            crm_user.flatten(),
            params.get("cursor").map(String::as_str),
            limit,
        )
        .await?;
    let data: Vec<K::Out> = page.items.into_iter().map(Into::into).collect();
    Ok(bare_list(data, page.next_cursor))
}

async fn create<S: Store, K: Kind>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(b): Body,
) -> ApiResult<Response> {
    let input = super::inputs::parse(&b, vec![], body::<K>).map_err(Error::from)?;
    let mut missing = Issues::default();
    if input.parent.is_none() {
        missing.push(Issue::required(vec![K::PARENT_FIELD.into()], "string"));
    }
    if input.crm_user.is_none() {
        missing.push(Issue::required(vec!["userId".into()], "string"));
    }
    missing.into_result(()).map_err(Error::from)?;
    let parent = parent_id::<K>(input.parent.as_deref().unwrap_or_default())?;
    let crm_user = crm_user_id(input.crm_user.as_deref().unwrap_or_default())?;
    let view = st
        .engine
        .create_participant(&caller, K::KIND, parent, crm_user, input.patch::<K>()?)
        .await?;
    Ok(Json(K::Out::from(view)).into_response())
}

async fn get_one<S: Store, K: Kind>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    let view = st
        .engine
        .get_participant(&caller, K::KIND, participant_id::<K>(&id)?)
        .await?;
    Ok(Json(K::Out::from(view)).into_response())
}

async fn update<S: Store, K: Kind>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
    Body(b): Body,
) -> ApiResult<Response> {
    let id = participant_id::<K>(&id)?;
    let input = super::inputs::parse(&b, vec![], body::<K>).map_err(Error::from)?;
    let view = st
        .engine
        .update_participant(&caller, K::KIND, id, input.patch::<K>()?)
        .await?;
    Ok(Json(K::Out::from(view)).into_response())
}

async fn delete_one<S: Store, K: Kind>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
) -> ApiResult<Json<bool>> {
    st.engine
        .delete_participant(&caller, K::KIND, participant_id::<K>(&id)?)
        .await?;
    Ok(Json(true))
}
