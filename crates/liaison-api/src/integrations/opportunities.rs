//! Opportunities: sync (single and batch), reads and deletes.

use super::IdPath;
use super::engagements::{batch_envelope, check_batch, listing, page_size, record_ref};
use super::inputs::{self, parse, parse_batch};
use super::wire::OpportunityOut;
use super::{ApiResult, Authed, Body, Params, list_envelope};
use crate::AppState;
use crate::request::{BATCH_BODY_LIMIT, BODY_LIMIT};
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use liaison_domain::Error;
use liaison_store::Store;
use serde_json::{Value, json};

pub fn router<S: Store>() -> Router<AppState<S>> {
    let batch = Router::new()
        .route(
            "/integrations/sync/batch/opportunities",
            put(sync_batch::<S>),
        )
        .layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT));
    Router::new()
        .route("/integrations/sync/opportunities", put(sync_one::<S>))
        .route("/integrations/opportunities", get(list::<S>))
        .route(
            "/integrations/opportunities/{id}",
            get(get_one::<S>).delete(delete_one::<S>),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .merge(batch)
}

async fn sync_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    let input =
        parse(&body, vec![], |r, o| inputs::opportunity(r, o, false)).map_err(Error::from)?;
    let view = st
        .engine
        .sync_opportunity(&caller, input, super::VIEW)
        .await?;
    Ok(Json(json!({"data": OpportunityOut::from(view)})))
}

async fn sync_batch<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    check_batch(&body)?;
    let items = parse_batch(&body, |r, o| inputs::opportunity(r, o, false))?;
    let views = st
        .engine
        .sync_opportunities(&caller, items, super::VIEW)
        .await?;
    Ok(Json(batch_envelope::<_, OpportunityOut>(views)))
}

async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Params(params): Params,
) -> ApiResult<Json<Value>> {
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
