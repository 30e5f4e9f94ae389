//! Accounts: create, read, update, delete. Lists are bare arrays, paged by `X-Next-Cursor`.

use super::IdPath;
use super::inputs;
use super::wire::AccountOut;
use super::{ApiResult, Authed, Body, Params, bare_list};
use crate::AppState;
use crate::decode::{Obj, Reader};
use crate::request::BODY_LIMIT;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use liaison_domain::model::AccountIn;
use liaison_domain::{Error, Issue, RecordId};
use liaison_store::Store;

pub fn router<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/integrations/accounts", get(list::<S>).post(create::<S>))
        .route(
            "/integrations/accounts/{id}",
            get(get_one::<S>).put(update::<S>).delete(delete_one::<S>),
        )
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

async fn create<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<AccountOut>> {
    let input = inputs::parse(&body, vec![], create_body).map_err(Error::from)?;
    Ok(Json(st.engine.create_account(&caller, input).await?.into()))
}

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

async fn delete_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
) -> ApiResult<Json<bool>> {
    st.engine.delete_account(&caller, account_id(&id)?).await?;
    Ok(Json(true))
}
