//! Users: CRM users as synced (`/v1/integrations/users`) and workspace users, the reps
//! (`/v1/core/users`), whose `externalId` is the explicit mapping to a CRM user.

use super::IdPath;
use super::engagements::page_size;
use super::schema;
use super::wire::{CrmUserOut, CursorPage, Data, UserOut};
use super::{ApiResult, Authed, Body, Params};
use crate::AppState;
use crate::decode::{Obj, Reader};
use crate::docs::Routes;
use crate::request::{BODY_LIMIT, param_bool};
use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use liaison_domain::model::{UserIn, UserPatch};
use liaison_domain::{CrmUserId, Error, Issue, Patch, UserId};
use liaison_store::Store;
use serde_json::Value;

pub(super) fn routes<S: Store>() -> Routes<S> {
    Routes::new()
        .op(__path_list_crm, list_crm::<S>)
        .op(__path_get_crm, get_crm::<S>)
        .op(__path_list, list::<S>)
        .op(__path_create, create::<S>)
        .op(__path_get_one, get_one::<S>)
        .op(__path_update, update::<S>)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// List the CRM users synced into the token's connection.
#[utoipa::path(
    get,
    path = "/integrations/users",
    tag = "CRM users",
    params(
        schema::Paging,
    ),
    responses((status = 200, description = "A page", body = CursorPage<CrmUserOut>), schema::Reads),
)]
async fn list_crm<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Params(params): Params,
) -> ApiResult<Json<CursorPage<CrmUserOut>>> {
    let limit = page_size(&params)?;
    let page = st
        .engine
        .list_crm_users(&caller, params.get("cursor").map(String::as_str), limit)
        .await?;
    Ok(Json(page.into()))
}

/// One CRM user.
#[utoipa::path(
    get,
    path = "/integrations/users/{id}",
    tag = "CRM users",
    params(("id" = String, Path, description = "The CRM user's id")),
    responses((status = 200, description = "The CRM user", body = Data<CrmUserOut>), schema::Reads),
)]
async fn get_crm<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
) -> ApiResult<Json<Data<CrmUserOut>>> {
    let user = st
        .engine
        .get_crm_user(&caller, super::id_of(&id, "User", CrmUserId::parse)?)
        .await?;
    Ok(Json(Data {
        data: CrmUserOut::from(user),
    }))
}

fn user_id(raw: &str) -> Result<UserId, Error> {
    super::id_of(raw, "User", UserId::parse)
}

fn contact_settings(r: &mut Reader, o: &Obj) -> Patch<Value> {
    match o.map.get("contactSettings") {
        None => Patch::Absent,
        Some(Value::Null) => Patch::Null,
        Some(v @ Value::Object(_)) => Patch::Value(v.clone()),
        Some(other) => {
            r.issues.push(Issue::wrong_type(
                [o.path.clone(), vec!["contactSettings".into()]].concat(),
                "object",
                crate::decode::type_name(other),
            ));
            Patch::Absent
        }
    }
}

fn create_body(r: &mut Reader, o: &Obj) -> Option<UserIn> {
    let email = r.required_string(o, "email");
    let organization_id = r.required_string(o, "organizationId");
    // `password` is deprecated in the contract and ignored; it is never stored.
    let _ = r.string(o, "password");
    let input = UserIn {
        email: String::new(),
        organization_id: String::new(),
        phone_number: r.string(o, "phoneNumber").as_value().cloned(),
        first_name: r.string(o, "firstName").as_value().cloned(),
        last_name: r.string(o, "lastName").as_value().cloned(),
        member_team_id: r.string(o, "memberTeamId").as_value().cloned(),
        external_id: r.external_id(o, "externalId").as_value().cloned(),
        coach_team_ids: r
            .string_list(o, "coachTeamIds")
            .as_value()
            .cloned()
            .unwrap_or_default(),
        is_admin: r.boolean(o, "isAdmin").as_value().copied().unwrap_or(false),
        billable: r.boolean(o, "billable").as_value().copied(),
        contact_settings: contact_settings(r, o).as_value().cloned(),
    };
    Some(UserIn {
        email: email?,
        organization_id: organization_id?,
        ..input
    })
}

fn update_body(r: &mut Reader, o: &Obj) -> Option<UserPatch> {
    Some(UserPatch {
        email: r.string(o, "email"),
        phone_number: r.string(o, "phoneNumber"),
        first_name: r.string(o, "firstName"),
        last_name: r.string(o, "lastName"),
        member_team_id: r.string(o, "memberTeamId"),
        external_id: r.external_id(o, "externalId"),
        disabled: r.boolean(o, "disabled").as_value().copied(),
        billable: r.boolean(o, "billable").as_value().copied(),
        contact_settings: contact_settings(r, o),
        organization_id: r.string(o, "organizationId").as_value().cloned(),
    })
}

/// List the organization's workspace users.
#[utoipa::path(
    get,
    path = "/core/users",
    tag = "Users",
    params(
        ("disabled" = Option<bool>, Query, description = "Only disabled (`true`) or enabled (`false`) users"),
        ("excludeSiroUsers" = Option<bool>, Query, description = "Accepted; Liaison has no vendor users to hide"),
        ("externalId" = Option<String>, Query, description = "Only the user mapped to this CRM user's external id"),
        schema::Paging,
    ),
    responses((status = 200, description = "A page", body = CursorPage<UserOut>), schema::Reads),
)]
async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Params(params): Params,
) -> ApiResult<Json<CursorPage<UserOut>>> {
    let limit = page_size(&params)?;
    // `excludeSiroUsers` hides the vendor's own staff and bots in the contract; Liaison has no
    // such users, so the flag is accepted (and checked) but removes nobody.
    param_bool(&params, "excludeSiroUsers")?;
    let page = st
        .engine
        .list_users(
            &caller,
            param_bool(&params, "disabled")?,
            params.get("externalId").filter(|s| !s.is_empty()).cloned(),
            params.get("cursor").map(String::as_str),
            limit,
        )
        .await?;
    Ok(Json(page.into()))
}

/// Create a workspace user.
#[utoipa::path(
    post,
    path = "/core/users",
    tag = "Users",
    request_body = schema::UserCreate,
    responses((status = 200, description = "The user as stored", body = UserOut), schema::Writes),
)]
async fn create<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<UserOut>> {
    let input = super::inputs::parse(&body, vec![], create_body).map_err(Error::from)?;
    Ok(Json(st.engine.create_user(&caller, input).await?.into()))
}

/// One workspace user.
#[utoipa::path(
    get,
    path = "/core/users/{id}",
    tag = "Users",
    params(("id" = String, Path, description = "The user's id")),
    responses((status = 200, description = "The user", body = UserOut), schema::Reads),
)]
async fn get_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
) -> ApiResult<Json<UserOut>> {
    Ok(Json(
        st.engine.get_user(&caller, user_id(&id)?).await?.into(),
    ))
}

/// Change a workspace user.
#[utoipa::path(
    put,
    path = "/core/users/{id}",
    tag = "Users",
    params(("id" = String, Path, description = "The user's id")),
    request_body = schema::UserUpdate,
    responses((status = 200, description = "The user as stored", body = UserOut), schema::Writes),
)]
async fn update<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
    Body(body): Body,
) -> ApiResult<Json<UserOut>> {
    let input = super::inputs::parse(&body, vec![], update_body).map_err(Error::from)?;
    Ok(Json(
        st.engine
            .update_user(&caller, user_id(&id)?, input)
            .await?
            .into(),
    ))
}
