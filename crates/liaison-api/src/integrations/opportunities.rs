//! Opportunities: sync (single and batch), reads and deletes.

use super::IdPath;
use super::engagements::{batch_envelope, check_batch, listing, page_size, record_ref};
use super::inputs::{self, parse, parse_batch};
use super::schema;
use super::wire::{Data, ListPage, OpportunityOut};
use super::{ApiResult, Authed, Body, Params, list_envelope};
use crate::AppState;
use crate::docs::Routes;
use crate::request::{BATCH_BODY_LIMIT, BODY_LIMIT};
use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use liaison_domain::Error;
use liaison_store::Store;

pub(super) fn routes<S: Store>() -> Routes<S> {
    let batch = Routes::new()
        .op(__path_sync_batch, sync_batch::<S>)
        .layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT));
    Routes::new()
        .op(__path_sync_one, sync_one::<S>)
        .op(__path_list, list::<S>)
        .op(__path_get_one, get_one::<S>)
        .op(__path_delete_one, delete_one::<S>)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .merge(batch)
}

/// Sync an opportunity: create it, or update the one with its `externalId`, with its account,
/// contacts and reps.
#[utoipa::path(
    put,
    path = "/integrations/sync/opportunities",
    tag = "Opportunities",
    request_body = schema::OpportunityIn,
    responses((status = 200, description = "The opportunity as stored", body = Data<OpportunityOut>), schema::Writes),
)]
async fn sync_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<Data<OpportunityOut>>> {
    let input =
        parse(&body, vec![], |r, o| inputs::opportunity(r, o, false)).map_err(Error::from)?;
    let view = st
        .engine
        .sync_opportunity(&caller, input, super::VIEW)
        .await?;
    Ok(Json(Data {
        data: OpportunityOut::from(view),
    }))
}

/// Sync up to 1,000 opportunities at once, all or nothing.
#[utoipa::path(
    put,
    path = "/integrations/sync/batch/opportunities",
    tag = "Opportunities",
    request_body = schema::OpportunityBatch,
    responses((status = 200, description = "Every opportunity of the batch as stored, in request order", body = Data<Vec<OpportunityOut>>), schema::Writes),
)]
async fn sync_batch<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<Data<Vec<OpportunityOut>>>> {
    check_batch(&body)?;
    let items = parse_batch(&body, |r, o| inputs::opportunity(r, o, false))?;
    let views = st
        .engine
        .sync_opportunities(&caller, items, super::VIEW)
        .await?;
    Ok(Json(batch_envelope::<_, OpportunityOut>(views)))
}

/// List opportunities in creation order.
#[utoipa::path(
    get,
    path = "/integrations/opportunities",
    tag = "Opportunities",
    params(schema::RecordFilters, schema::Paging),
    responses((status = 200, description = "A page", body = ListPage<OpportunityOut>), schema::Reads),
)]
async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Params(params): Params,
) -> ApiResult<Json<ListPage<OpportunityOut>>> {
    let limit = page_size(&params)?;
    let page = st
        .engine
        .list_opportunities(&caller, &listing(&params, limit)?, super::VIEW)
        .await?;
    let data: Vec<OpportunityOut> = page.items.into_iter().map(Into::into).collect();
    Ok(Json(list_envelope(
        data,
        page.next_cursor,
        limit.min(liaison_engine::MAX_PAGE),
    )))
}

/// One opportunity, by its Liaison id or (with `idType=external`) its external id.
#[utoipa::path(
    get,
    path = "/integrations/opportunities/{id}",
    tag = "Opportunities",
    params(
        ("id" = String, Path, description = "The opportunity's id"),
        ("idType" = inline(Option<schema::IdType>), Query),
    ),
    responses((status = 200, description = "The opportunity", body = OpportunityOut), schema::Reads),
)]
async fn get_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
    Params(params): Params,
) -> ApiResult<Json<OpportunityOut>> {
    let r = record_ref(id, &params, "Opportunity")?;
    Ok(Json(
        st.engine
            .get_opportunity(&caller, &r, super::VIEW)
            .await?
            .into(),
    ))
}

/// Soft-delete an opportunity.
#[utoipa::path(
    delete,
    path = "/integrations/opportunities/{id}",
    tag = "Opportunities",
    params(
        ("id" = String, Path, description = "The opportunity's id"),
        ("idType" = inline(Option<schema::IdType>), Query),
    ),
    responses((status = 200, description = "Deleted", body = bool, content_type = "application/json"), schema::Writes),
)]
async fn delete_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
    Params(params): Params,
) -> ApiResult<Json<bool>> {
    let r = record_ref(id, &params, "Opportunity")?;
    st.engine.delete_opportunity(&caller, &r).await?;
    Ok(Json(true))
}
