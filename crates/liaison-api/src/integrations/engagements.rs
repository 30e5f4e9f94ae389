//! Engagements: sync (single and batch), reconciliation of removed ones, reads, deletes, and a
//! rep's engagement list.

use super::IdPath;
use super::inputs::{self, parse, parse_batch};
use super::schema;
use super::wire::{Data, EngagementOut, ListPage, Success};
use super::{ApiError, ApiResult, Authed, Body, DEFAULT_PAGE, Params, list_envelope};
use crate::AppState;
use crate::decode::Reader;
use crate::docs::Routes;
use crate::request::{BATCH_BODY_LIMIT, BATCH_ITEM_LIMIT, BODY_LIMIT, param_u32};
use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use liaison_domain::{Error, Issue, RecordId, UserId};
use liaison_engine::{Listing, RecordRef};
use liaison_store::Store;
use liaison_store::{Field, Filter, Value as FieldValue};
use serde_json::Value;
use std::collections::HashMap;

pub(super) fn routes<S: Store>() -> Routes<S> {
    let batch = Routes::new()
        .op(__path_sync_batch, sync_batch::<S>)
        .layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT));
    Routes::new()
        .op(__path_sync_one, sync_one::<S>)
        .op(__path_soft_delete_removed, soft_delete_removed::<S>)
        .op(__path_list, list::<S>)
        .op(__path_get_one, get_one::<S>)
        .op(__path_delete_one, delete_one::<S>)
        .op(__path_user_engagements, user_engagements::<S>)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .merge(batch)
}

/// Sync an engagement: create it, or update the one with its `externalId`, with the account,
/// contact, lead, opportunity, type and reps it names.
#[utoipa::path(
    put,
    path = "/integrations/sync/engagements",
    tag = "Engagements",
    request_body = schema::EngagementIn,
    responses((status = 200, description = "The engagement as stored", body = Data<EngagementOut>), schema::Writes),
)]
async fn sync_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<Data<EngagementOut>>> {
    let input = parse(&body, vec![], inputs::engagement).map_err(Error::from)?;
    let view = st
        .engine
        .sync_engagement(&caller, input, super::VIEW)
        .await?;
    Ok(Json(Data {
        data: EngagementOut::from(view),
    }))
}

/// Checks a batch's item count before any item is read.
pub(super) fn check_batch(body: &Value) -> Result<(), Error> {
    match body.as_array() {
        Some(items) if items.len() > BATCH_ITEM_LIMIT => Err(Error::PayloadTooLarge(format!(
            "a batch carries at most {BATCH_ITEM_LIMIT} items; this one has {}",
            items.len()
        ))),
        _ => Ok(()),
    }
}

/// Sync up to 1,000 engagements at once, all or nothing.
#[utoipa::path(
    put,
    path = "/integrations/sync/batch/engagements",
    tag = "Engagements",
    request_body = schema::EngagementBatch,
    responses((status = 200, description = "Every engagement of the batch as stored, in request order", body = Data<Vec<EngagementOut>>), schema::Writes),
)]
async fn sync_batch<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<Data<Vec<EngagementOut>>>> {
    check_batch(&body)?;
    let items = parse_batch(&body, inputs::engagement)?;
    let views = st
        .engine
        .sync_engagements(&caller, items, super::VIEW)
        .await?;
    Ok(Json(batch_envelope::<_, EngagementOut>(views)))
}

/// `{data: [...]}`: every record of the batch, in request order.
pub(super) fn batch_envelope<V, O: From<V>>(views: Vec<V>) -> Data<Vec<O>> {
    Data {
        data: views.into_iter().map(O::from).collect(),
    }
}

/// Soft-delete every engagement synced between `fromTime` and `toTime` whose external id is
/// not in `validExternalIds`.
#[utoipa::path(
    post,
    path = "/integrations/sync/engagements/soft-delete-removed",
    tag = "Engagements",
    request_body = schema::SoftDeleteRemovedIn,
    responses((status = 200, description = "Done", body = Data<Success>), schema::Writes),
)]
async fn soft_delete_removed<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<Data<Success>>> {
    let (valid, from, to) = parse(&body, vec![], |r: &mut Reader, o| {
        let valid = match r.external_id_list(o, "validExternalIds") {
            liaison_domain::Patch::Value(items) => Some(items),
            liaison_domain::Patch::Null => {
                r.issues.push(Issue::wrong_type(
                    vec!["validExternalIds".into()],
                    "array",
                    "null",
                ));
                None
            }
            liaison_domain::Patch::Absent => {
                if !o.map.contains_key("validExternalIds") {
                    r.issues
                        .push(Issue::required(vec!["validExternalIds".into()], "array"));
                }
                None
            }
        };
        let from = r.required_instant(o, "fromTime");
        let to = r.required_instant(o, "toTime");
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            r.issues.push(Issue::custom(
                vec!["toTime".into()],
                "toTime must not be before fromTime",
            ));
        }
        Some((valid?, from?, to?))
    })
    .map_err(Error::from)?;
    st.engine
        .soft_delete_removed(&caller, valid, from, to)
        .await?;
    Ok(Json(Data {
        data: Success { success: true },
    }))
}

pub(super) fn page_size(params: &HashMap<String, String>) -> Result<u32, Error> {
    page_size_or(params, DEFAULT_PAGE)
}

/// `limit`, else `pageSize` (the face takes either), else `default`.
pub(super) fn page_size_or(params: &HashMap<String, String>, default: u32) -> Result<u32, Error> {
    let limit = param_u32(params, "limit")?.or(param_u32(params, "pageSize")?);
    Ok(limit.unwrap_or(default))
}

/// The list the query parameters ask for: `externalId` and `recordingId` filters, in creation
/// order, from `cursor`, `limit` records a page.
pub(super) fn listing(params: &HashMap<String, String>, limit: u32) -> Result<Listing, Error> {
    let mut listing = Listing {
        cursor: params.get("cursor").cloned(),
        limit,
        ..Listing::default()
    };
    for (param, field) in [
        ("externalId", Field::ExternalId),
        ("recordingId", Field::RecordingId),
    ] {
        if let Some(v) = params.get(param).filter(|s| !s.is_empty()) {
            let filter = Filter::eq(field, FieldValue::Text(v.clone()))
                .map_err(|e| Error::Internal(e.to_string()))?;
            listing = listing.and(filter);
        }
    }
    Ok(listing)
}

/// List engagements in creation order.
#[utoipa::path(
    get,
    path = "/integrations/engagements",
    tag = "Engagements",
    params(schema::RecordFilters, schema::Paging),
    responses((status = 200, description = "A page", body = ListPage<EngagementOut>), schema::Reads),
)]
async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Params(params): Params,
) -> ApiResult<Json<ListPage<EngagementOut>>> {
    let limit = page_size(&params)?;
    let page = st
        .engine
        .list_engagements(&caller, &listing(&params, limit)?, super::VIEW)
        .await?;
    let data: Vec<EngagementOut> = page.items.into_iter().map(Into::into).collect();
    Ok(Json(list_envelope(
        data,
        page.next_cursor,
        limit.min(liaison_engine::MAX_PAGE),
    )))
}

/// `idType=internal` (the default) or `external`.
pub(super) fn record_ref(
    id: String,
    params: &HashMap<String, String>,
    noun: &'static str,
) -> Result<RecordRef, Error> {
    match params.get("idType").map(String::as_str) {
        None | Some("internal") => Ok(RecordRef::Internal(super::id_of(
            &id,
            noun,
            RecordId::parse,
        )?)),
        Some("external") => Ok(RecordRef::External(id)),
        Some(other) => Err(Error::BadRequest(format!(
            "`idType` must be `internal` or `external`, not `{other}`"
        ))),
    }
}

/// One engagement, by its Liaison id or (with `idType=external`) its external id.
#[utoipa::path(
    get,
    path = "/integrations/engagements/{id}",
    tag = "Engagements",
    params(
        ("id" = String, Path, description = "The engagement's id"),
        ("idType" = inline(Option<schema::IdType>), Query),
    ),
    responses((status = 200, description = "The engagement", body = EngagementOut), schema::Reads),
)]
async fn get_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
    Params(params): Params,
) -> ApiResult<Json<EngagementOut>> {
    let r = record_ref(id, &params, "Engagement")?;
    Ok(Json(
        st.engine
            .get_engagement(&caller, &r, super::VIEW)
            .await?
            .into(),
    ))
}

/// Soft-delete an engagement.
#[utoipa::path(
    delete,
    path = "/integrations/engagements/{id}",
    tag = "Engagements",
    params(
        ("id" = String, Path, description = "The engagement's id"),
        ("idType" = inline(Option<schema::IdType>), Query),
        ("integrationPlatform" = Option<String>, Query, description = "Accepted; the token already names one connection"),
    ),
    responses((status = 200, description = "Deleted", body = bool, content_type = "application/json"), schema::Writes),
)]
async fn delete_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
    Params(params): Params,
) -> ApiResult<Json<bool>> {
    // `integrationPlatform` picks a connection in the contract; here the token already names
    // exactly one, so it is accepted and needs no effect.
    let r = record_ref(id, &params, "Engagement")?;
    st.engine.delete_engagement(&caller, &r).await?;
    Ok(Json(true))
}

/// A workspace user's appointments (meetings, appointments and events), by start time.
#[utoipa::path(
    get,
    path = "/integrations/users/{id}/engagements",
    tag = "Engagements",
    params(
        ("id" = String, Path, description = "The workspace user's id"),
        ("cursor" = Option<String>, Query, deprecated, description = "Deprecated; ignored"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 4294967295.0, description = "Engagements per page (at most 1,000; default 100)"),
        ("startingAfter" = Option<String>, Query, description = "The id of one of the user's engagements: the page starts after it"),
        ("startingBefore" = Option<String>, Query, description = "The id of one of the user's engagements: the page ends before it"),
    ),
    responses((status = 200, description = "The engagements", body = Vec<EngagementOut>), schema::Reads),
)]
async fn user_engagements<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
    Params(params): Params,
) -> ApiResult<Json<Vec<EngagementOut>>> {
    let limit = param_u32(&params, "limit")?.unwrap_or(DEFAULT_PAGE);
    let views = st
        .engine
        .user_engagements(
            &caller,
            super::id_of(&id, "User", UserId::parse)?,
            params.get("startingAfter").map(String::as_str),
            params.get("startingBefore").map(String::as_str),
            limit,
            super::VIEW,
        )
        .await
        .map_err(ApiError)?;
    Ok(Json(views.into_iter().map(Into::into).collect()))
}
