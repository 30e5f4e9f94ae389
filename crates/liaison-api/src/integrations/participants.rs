//! Engagement users and opportunity users: a rep's place on a record, edited directly.

use super::engagements::page_size;
use super::wire::{EngagementUserOut, OpportunityUserOut, shift_point};
use super::{ApiResult, Authed, Body, Params, bare_list};
use crate::AppState;
use crate::decode::{Obj, Reader};
use crate::request::BODY_LIMIT;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use liaison_domain::model::{ParentKind, ParticipantPatch};
use liaison_domain::values::Share;
use liaison_domain::{Error, Patch};
use liaison_engine::ParticipantView;
use liaison_store::Store;

pub fn router<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route(
            "/v1/integrations/engagement-users",
            get(list::<S, Eng>).post(create::<S, Eng>),
        )
        .route(
            "/v1/integrations/engagement-users/{id}",
            get(get_one::<S, Eng>)
                .put(update::<S, Eng>)
                .delete(delete_one::<S, Eng>),
        )
        .route(
            "/v1/integrations/opportunity-users",
            get(list::<S, Opp>).post(create::<S, Opp>),
        )
        .route(
            "/v1/integrations/opportunity-users/{id}",
            get(get_one::<S, Opp>)
                .put(update::<S, Opp>)
                .delete(delete_one::<S, Opp>),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

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

fn body<K: Kind>(r: &mut Reader, o: &Obj) -> Option<ParticipantPatch> {
    Some(ParticipantPatch {
        parent: r.string(o, K::PARENT_FIELD).as_value().cloned(),
        crm_user: r.string(o, "userId").as_value().cloned(),
        name: r.string(o, "name"),
        share: K::share(r, o),
    })
}

async fn list<S: Store, K: Kind>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Params(params): Params,
) -> ApiResult<Response> {
    let limit = page_size(&params)?;
    let page = st
        .engine
        .list_participants(
            &caller,
            K::KIND,
            params.get(K::PARENT_FIELD).map(String::as_str),
            params.get("userId").map(String::as_str),
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
    let view = st
        .engine
        .create_participant(&caller, K::KIND, input)
        .await?;
    Ok(Json(K::Out::from(view)).into_response())
}

async fn get_one<S: Store, K: Kind>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let view = st.engine.get_participant(&caller, K::KIND, &id).await?;
    Ok(Json(K::Out::from(view)).into_response())
}

async fn update<S: Store, K: Kind>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    Body(b): Body,
) -> ApiResult<Response> {
    let input = super::inputs::parse(&b, vec![], body::<K>).map_err(Error::from)?;
    let view = st
        .engine
        .update_participant(&caller, K::KIND, &id, input)
        .await?;
    Ok(Json(K::Out::from(view)).into_response())
}

async fn delete_one<S: Store, K: Kind>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<bool>> {
    st.engine.delete_participant(&caller, K::KIND, &id).await?;
    Ok(Json(true))
}
