//! Accounts: create, read, update, delete. Lists are bare arrays, paged by `X-Next-Cursor`.

use super::IdPath;
use super::inputs;
use super::schema;
use super::wire::AccountOut;
use super::{ApiResult, Authed, Body, Params, bare_list};
use crate::AppState;
use crate::decode::{Obj, Reader};
use crate::docs::Routes;
use crate::request::BODY_LIMIT;
use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use liaison_domain::model::AccountIn;
use liaison_domain::{Error, Issue, RecordId};
use liaison_store::Store;

pub(super) fn routes<S: Store>() -> Routes<S> {
    Routes::new()
        .op(__path_list, list::<S>)
        .op(__path_create, create::<S>)
        .op(__path_get_one, get_one::<S>)
        .op(__path_update, update::<S>)
        .op(__path_delete_one, delete_one::<S>)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The create body: `externalId` plus either coordinates or addresses, as the contract's
/// `anyOf` has it.
fn create_body(r: &mut Reader, o: &Obj) -> Option<AccountIn> {
    let input = inputs::account(r, o)?;
    let has_coordinates =
        input.profile.latitude.as_value().is_some() && input.profile.longitude.as_value().is_some();
    let has_addresses = input.profile.addresses.as_value().is_some();
    if !has_coordinates && !has_addresses {
        r.issues.push(Issue::custom(
            vec![],
            "Either latitude and longitude, or addresses, are required",
        ));
        return None;
    }
    Some(input)
}

/// The update body: the account's own fields, each optional.
fn update_body(r: &mut Reader, o: &Obj) -> Option<AccountIn> {
    Some(AccountIn {
        name: r.string(o, "name"),
        profile: inputs::profile(r, o),
        ..AccountIn::default()
    })
}

fn account_id(raw: &str) -> Result<RecordId, Error> {
    super::id_of(raw, "Account", RecordId::parse)
}

/// List accounts in creation order: a bare array; the next page's cursor is in `X-Next-Cursor`.
#[utoipa::path(
    get,
    path = "/integrations/accounts",
    tag = "Accounts",
    params(schema::Paging),
    responses(
        (status = 200, description = "A page", body = Vec<AccountOut>, headers(("X-Next-Cursor" = String, description = "The next page's cursor; absent on the last page"))),
        schema::Reads,
    ),
)]
async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Params(params): Params,
) -> ApiResult<Response> {
    let limit = super::engagements::page_size(&params)?;
    let page = st
        .engine
        .list_accounts(
            &caller,
            &liaison_engine::Listing {
                cursor: params.get("cursor").cloned(),
                limit,
                ..liaison_engine::Listing::default()
            },
        )
        .await?;
    let data: Vec<AccountOut> = page.items.into_iter().map(Into::into).collect();
    Ok(bare_list(data, page.next_cursor))
}

/// Create an account.
#[utoipa::path(
    post,
    path = "/integrations/accounts",
    tag = "Accounts",
    request_body = schema::AccountCreate,
    responses((status = 200, description = "The account as stored", body = AccountOut), schema::Writes),
)]
async fn create<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<AccountOut>> {
    let input = inputs::parse(&body, vec![], create_body).map_err(Error::from)?;
    Ok(Json(st.engine.create_account(&caller, input).await?.into()))
}

/// One account.
#[utoipa::path(
    get,
    path = "/integrations/accounts/{id}",
    tag = "Accounts",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, description = "The account", body = AccountOut), schema::Reads),
)]
async fn get_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
) -> ApiResult<Json<AccountOut>> {
    Ok(Json(
        st.engine
            .get_account(&caller, account_id(&id)?)
            .await?
            .into(),
    ))
}

/// Change an account's own fields.
#[utoipa::path(
    put,
    path = "/integrations/accounts/{id}",
    tag = "Accounts",
    params(("id" = String, Path, description = "The account's id")),
    request_body = schema::AccountUpdate,
    responses((status = 200, description = "The account as stored", body = AccountOut), schema::Writes),
)]
async fn update<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
    Body(body): Body,
) -> ApiResult<Json<AccountOut>> {
    let input = inputs::parse(&body, vec![], update_body).map_err(Error::from)?;
    Ok(Json(
        st.engine
            .update_account(&caller, account_id(&id)?, input)
            .await?
            .into(),
    ))
}

/// Soft-delete an account.
#[utoipa::path(
    delete,
    path = "/integrations/accounts/{id}",
    tag = "Accounts",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, description = "Deleted", body = bool, content_type = "application/json"), schema::Writes),
)]
async fn delete_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
) -> ApiResult<Json<bool>> {
    st.engine.delete_account(&caller, account_id(&id)?).await?;
    Ok(Json(true))
}
