//! OAuth apps and their user access tokens (`/v1/core/oauth/apps`), as the org-token contract
//! has them. The tokens issued here go in `x-siro-auth-token` on the user-scoped recording
//! operations.

use super::wire::Data;
use super::{ApiResult, Authed, Body, IdPath, Params, list_envelope, schema};
use crate::AppState;
use crate::decode::{Obj, Reader};
use crate::docs::Routes;
use crate::request::{BODY_LIMIT, param_instant, param_u32};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use liaison_domain::field::AppField;
use liaison_domain::scope::AccessScope;
use liaison_domain::time::format_instant;
use liaison_domain::{AccessTokenId, ClientId, Error, Issue, PathSeg, UserId};
use liaison_engine::{AUDIENCE, AppIn, AppPage, MAX_APP_PAGE};
use liaison_store::{AccessToken, CredentialSort, OAuthApp, Store};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

use super::wire::ListPage;

pub(super) fn routes<S: Store>() -> Routes<S> {
    Routes::new()
        .op(__path_create_app, create_app::<S>)
        .op(__path_list_apps, list_apps::<S>)
        .op(__path_get_app, get_app::<S>)
        .op(__path_delete_app, delete_app::<S>)
        .op(__path_create_token, create_token::<S>)
        .op(__path_list_tokens, list_tokens::<S>)
        .op(__path_get_token, get_token::<S>)
        .op(__path_delete_token, delete_token::<S>)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// This face's spelling of an app's fields.
pub(super) fn spell_app(f: AppField) -> &'static str {
    match f {
        AppField::Name => "appName",
        AppField::Owner => "owner",
        AppField::Organization => "organizationId",
        AppField::ClientSecret => "clientSecret",
        AppField::User => "userId",
        AppField::Scope => "scope",
    }
}

fn client_id(raw: &str) -> Result<ClientId, Error> {
    super::id_of(raw, "OAuth app", ClientId::parse)
}

/// An OAuth app as the contract shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppOut {
    app_name: String,
    client_id: String,
    /// The organization that owns the app.
    organization_id: String,
    /// The workspace user the app belongs to.
    owner: String,
    deleted: bool,
    created_at: String,
    updated_at: String,
    #[schema(required)]
    deleted_at: Option<String>,
}

impl From<OAuthApp> for AppOut {
    fn from(a: OAuthApp) -> Self {
        AppOut {
            app_name: a.name,
            client_id: a.client_id.to_string(),
            organization_id: a.org.to_string(),
            owner: a.owner.to_string(),
            deleted: a.deleted_at.is_some(),
            created_at: format_instant(&a.created_at),
            updated_at: format_instant(&a.updated_at),
            deleted_at: a.deleted_at.as_ref().map(format_instant),
        }
    }
}

/// A newly registered app: its client secret is shown this once.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppCreated {
    app_name: String,
    /// Spelled as the contract spells it.
    #[serde(rename = "clientID")]
    #[schema(rename = "clientID")]
    client_id: String,
    client_secret: String,
}

/// A user access token as the contract shows it (never the token itself).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenOut {
    access_token_id: String,
    /// The app the token was issued to.
    o_auth_app_id: String,
    /// The workspace user the token acts for: also its subject.
    user_id: String,
    audience: String,
    subject: String,
    /// `read` (GET only) or `write`.
    scope: String,
    expires_at: String,
    created_at: String,
    updated_at: String,
    #[schema(required)]
    revoked_at: Option<String>,
}

impl From<AccessToken> for AccessTokenOut {
    fn from(t: AccessToken) -> Self {
        AccessTokenOut {
            access_token_id: t.id.to_string(),
            o_auth_app_id: t.client_id.to_string(),
            user_id: t.user.to_string(),
            audience: AUDIENCE.to_owned(),
            subject: t.user.to_string(),
            scope: t.scope.as_str().to_owned(),
            expires_at: format_instant(&t.expires_at),
            created_at: format_instant(&t.created_at),
            updated_at: format_instant(&t.updated_at),
            revoked_at: t.revoked_at.as_ref().map(format_instant),
        }
    }
}

/// A newly issued access token: shown this once. It goes in `x-siro-auth-token`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenCreated {
    access_token_id: String,
    access_token: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppDeleted {
    client_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenDeleted {
    token_id: String,
}

/// The body of `POST /core/oauth/apps`.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(as = AppCreate)]
#[serde(rename_all = "camelCase")]
pub struct AppCreate {
    #[schema(min_length = 1)]
    app_name: String,
    /// The workspace user the app belongs to.
    #[schema(min_length = 1)]
    owner: String,
    /// The token's own organization.
    #[schema(min_length = 1)]
    organization_id: String,
}

/// The body of `POST /core/oauth/apps/{clientId}/access-token`.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenCreate {
    /// The client secret `POST /core/oauth/apps` returned.
    client_secret: String,
    /// The workspace user the token acts for.
    user_id: String,
    /// `read` allows GET only; `write` allows every method.
    scope: AccessScopeName,
}

/// The body of `DELETE /core/oauth/apps/{clientId}/access-token/{tokenId}`.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenRevoke {
    /// The app's client secret.
    client_secret: String,
    /// The workspace user the token acts for.
    user_id: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
enum AccessScopeName {
    Read,
    Write,
}

// The contract's OAuth bodies are not strict: as its validator does, keys they do not name
// are ignored (a guide's `clientId` beside the path's among them).

fn app_body(r: &mut Reader, o: &Obj) -> Option<AppIn> {
    let name = r.required_string(o, "appName");
    let owner = r.required_string(o, "owner");
    let organization = r.required_string(o, "organizationId");
    let owner = owner.and_then(|raw| user_of(r, o, "owner", &raw));
    Some(AppIn {
        name: name?,
        owner: owner?,
        organization: organization?,
    })
}

/// A workspace user's id; text that cannot be one names no user.
fn user_of(r: &mut Reader, o: &Obj, key: &str, raw: &str) -> Option<UserId> {
    let id = UserId::parse(raw);
    if id.is_none() {
        let mut path = o.path.clone();
        path.push(PathSeg::Key(key.to_owned()));
        r.issues
            .push(Issue::custom(path, format!("Unknown user: {raw}")));
    }
    id
}

struct TokenIn {
    secret: String,
    user: UserId,
    scope: AccessScope,
}

/// What revoking a token proves: the app's secret, and the user the token acts for.
struct RevokeIn {
    secret: String,
    user: UserId,
}

fn revoke_body(r: &mut Reader, o: &Obj) -> Option<RevokeIn> {
    let secret = r.required_string(o, "clientSecret");
    let user = r.required_string(o, "userId");
    let user = user.and_then(|raw| user_of(r, o, "userId", &raw));
    Some(RevokeIn {
        secret: secret?,
        user: user?,
    })
}

fn token_body(r: &mut Reader, o: &Obj) -> Option<TokenIn> {
    let secret = r.required_string(o, "clientSecret");
    let user = r.required_string(o, "userId");
    let user = user.and_then(|raw| user_of(r, o, "userId", &raw));
    let scope = r.required_string(o, "scope").and_then(|raw| {
        let scope = AccessScope::parse(&raw);
        if scope.is_none() {
            r.issues.push(Issue::bad_enum(
                [o.path.clone(), vec![PathSeg::App(AppField::Scope)]].concat(),
                &AccessScope::NAMES,
                &raw,
            ));
        }
        scope
    });
    Some(TokenIn {
        secret: secret?,
        user: user?,
        scope: scope?,
    })
}

/// The page the query asks for: `fromDate`/`toDate` on the creation time, `sortField`
/// (`dateCreated`, `dateUpdated`) and `sortDirection` (default `desc`), `limit` (1–100,
/// default 100), and `cursor` or, without one, `page`.
fn app_page(params: &HashMap<String, String>) -> Result<AppPage, Error> {
    let limit = param_u32(params, "limit")?.unwrap_or(MAX_APP_PAGE);
    if limit > MAX_APP_PAGE {
        return Err(Error::BadRequest(format!(
            "`limit` must be at most {MAX_APP_PAGE}"
        )));
    }
    let sort = match params.get("sortField").map(String::as_str) {
        None | Some("dateCreated") => CredentialSort::Created,
        Some("dateUpdated") => CredentialSort::Updated,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "`sortField` must be dateCreated or dateUpdated, not `{other}`"
            )));
        }
    };
    let descending = match params.get("sortDirection").map(String::as_str) {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "`sortDirection` must be asc or desc, not `{other}`"
            )));
        }
    };
    Ok(AppPage {
        created_after: param_instant(params, "fromDate")?,
        created_before: param_instant(params, "toDate")?,
        sort,
        descending,
        cursor: params.get("cursor").filter(|c| !c.is_empty()).cloned(),
        page: param_u32(params, "page")?,
        limit,
    })
}

/// A required query parameter.
fn required<'a>(params: &'a HashMap<String, String>, key: &str) -> Result<&'a str, Error> {
    params
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::BadRequest(format!("`{key}` is required")))
}

/// The `owner` of a list: a workspace user's id.
fn owner_param(params: &HashMap<String, String>) -> Result<UserId, Error> {
    let raw = required(params, "owner")?;
    UserId::parse(raw)
        .ok_or_else(|| Error::BadRequest(format!("`owner` must be a user's id, not `{raw}`")))
}

/// Register an OAuth app. Its client secret is in this answer only.
#[utoipa::path(
    post,
    path = "/core/oauth/apps",
    tag = "OAuth apps",
    request_body = AppCreate,
    responses((status = 201, description = "Registered", body = AppCreated), schema::Writes),
)]
async fn create_app<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<(StatusCode, Json<AppCreated>)> {
    let input = super::inputs::parse(&body, vec![], app_body).map_err(Error::from)?;
    let made = st.engine.create_app(&caller, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(AppCreated {
            app_name: made.app.name,
            client_id: made.app.client_id.to_string(),
            client_secret: made.secret,
        }),
    ))
}

/// The organization's OAuth apps, deleted ones included (`deleted: true`), newest first
/// unless the query says.
#[utoipa::path(
    get,
    path = "/core/oauth/apps",
    tag = "OAuth apps",
    params(
        ("organizationId" = String, Query, description = "The token's organization"),
        ("owner" = String, Query, description = "Only this workspace user's apps"),
        CredentialPaging,
    ),
    responses((status = 200, description = "A page", body = ListPage<AppOut>), schema::Reads),
)]
async fn list_apps<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Params(params): Params,
) -> ApiResult<Json<ListPage<AppOut>>> {
    let organization = required(&params, "organizationId")?;
    let owner = owner_param(&params)?;
    let page = app_page(&params)?;
    let listed = st
        .engine
        .list_apps(&caller, organization, Some(owner), &page)
        .await?;
    Ok(Json(list_envelope(
        listed.items.into_iter().map(AppOut::from).collect(),
        listed.next_cursor,
        page.limit,
    )))
}

/// One OAuth app of the organization.
#[utoipa::path(
    get,
    path = "/core/oauth/apps/{clientId}",
    tag = "OAuth apps",
    params(("clientId" = String, Path, description = "The app's client id")),
    responses((status = 200, description = "The app", body = Data<AppOut>), schema::Reads),
)]
async fn get_app<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
) -> ApiResult<Json<Data<AppOut>>> {
    let app = st.engine.get_app(&caller, client_id(&id)?).await?;
    Ok(Json(Data { data: app.into() }))
}

/// Delete an OAuth app (softly: it stays readable) and revoke every token it was issued.
#[utoipa::path(
    delete,
    path = "/core/oauth/apps/{clientId}",
    tag = "OAuth apps",
    params(("clientId" = String, Path, description = "The app's client id")),
    responses((status = 200, description = "Deleted", body = AppDeleted), schema::Writes),
)]
async fn delete_app<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
) -> ApiResult<Json<AppDeleted>> {
    let id = client_id(&id)?;
    st.engine.delete_app(&caller, id).await?;
    Ok(Json(AppDeleted {
        client_id: id.to_string(),
    }))
}

/// Issue a user access token of the app, for one workspace user. The token is in this
/// answer only; it expires after `LIAISON_ACCESS_TOKEN_TTL` (16 hours unless configured).
#[utoipa::path(
    post,
    path = "/core/oauth/apps/{clientId}/access-token",
    tag = "OAuth apps",
    params(("clientId" = String, Path, description = "The app's client id")),
    request_body = AccessTokenCreate,
    responses((status = 201, description = "Issued", body = AccessTokenCreated), schema::Writes),
)]
async fn create_token<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
    Body(body): Body,
) -> ApiResult<(StatusCode, Json<AccessTokenCreated>)> {
    let id = client_id(&id)?;
    let input = super::inputs::parse(&body, vec![], token_body).map_err(Error::from)?;
    let issued = st
        .engine
        .create_access_token(&caller, id, &input.secret, input.user, input.scope)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AccessTokenCreated {
            access_token_id: issued.token.id.to_string(),
            access_token: issued.secret,
        }),
    ))
}

/// The app's access tokens, revoked and expired ones included, newest first unless the query
/// says.
#[utoipa::path(
    get,
    path = "/core/oauth/apps/{clientId}/access-token",
    tag = "OAuth apps",
    params(
        ("clientId" = String, Path, description = "The app's client id"),
        ("owner" = String, Query, description = "Only the tokens that act for this workspace user"),
        CredentialPaging,
    ),
    responses((status = 200, description = "A page", body = ListPage<AccessTokenOut>), schema::Reads),
)]
async fn list_tokens<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
    Params(params): Params,
) -> ApiResult<Json<ListPage<AccessTokenOut>>> {
    let id = client_id(&id)?;
    let owner = owner_param(&params)?;
    let page = app_page(&params)?;
    let listed = st
        .engine
        .list_access_tokens(&caller, id, Some(owner), &page)
        .await?;
    Ok(Json(list_envelope(
        listed.items.into_iter().map(AccessTokenOut::from).collect(),
        listed.next_cursor,
        page.limit,
    )))
}

fn token_id(raw: &str) -> Result<AccessTokenId, Error> {
    super::id_of(raw, "Access token", AccessTokenId::parse)
}

/// One access token of the app.
#[utoipa::path(
    get,
    path = "/core/oauth/apps/{clientId}/access-token/{tokenId}",
    tag = "OAuth apps",
    params(
        ("clientId" = String, Path, description = "The app's client id"),
        ("tokenId" = String, Path, description = "The token's id"),
    ),
    responses((status = 200, description = "The token", body = Data<AccessTokenOut>), schema::Reads),
)]
async fn get_token<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Path((app, token)): Path<(String, String)>,
) -> ApiResult<Json<Data<AccessTokenOut>>> {
    let t = st
        .engine
        .get_access_token(&caller, client_id(&app)?, token_id(&token)?)
        .await?;
    Ok(Json(Data { data: t.into() }))
}

/// Revoke an access token of the app: it is refused from now on. The body proves the app's
/// client secret and names the user the token acts for.
#[utoipa::path(
    delete,
    path = "/core/oauth/apps/{clientId}/access-token/{tokenId}",
    tag = "OAuth apps",
    params(
        ("clientId" = String, Path, description = "The app's client id"),
        ("tokenId" = String, Path, description = "The token's id"),
    ),
    request_body = AccessTokenRevoke,
    responses((status = 200, description = "Revoked", body = AccessTokenDeleted), schema::Writes),
)]
async fn delete_token<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Path((app, token)): Path<(String, String)>,
    Body(body): Body,
) -> ApiResult<Json<AccessTokenDeleted>> {
    let token = token_id(&token)?;
    let app = client_id(&app)?;
    let input = super::inputs::parse(&body, vec![], revoke_body).map_err(Error::from)?;
    st.engine
        .revoke_access_token(&caller, app, token, &input.secret, input.user)
        .await?;
    Ok(Json(AccessTokenDeleted {
        token_id: token.to_string(),
    }))
}

/// The paging and ordering of the lists of apps and tokens.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct CredentialPaging {
    /// Only those created after this time.
    from_date: Option<String>,
    /// Only those created before this time.
    to_date: Option<String>,
    /// Per page: 1 to 100, default 100.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The `cursor` of the previous page; wins over `page`.
    cursor: Option<String>,
    /// The page number, from 1, when no cursor is given.
    #[param(minimum = 1)]
    page: Option<u32>,
    /// `dateCreated` (default) or `dateUpdated`.
    sort_field: Option<String>,
    /// `desc` (default) or `asc`.
    sort_direction: Option<String>,
}
