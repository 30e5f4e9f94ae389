//! The integrations face: Siro's external API (`/v1/integrations/*`, `/v1/core/*`), field for
//! field. Errors use its envelope: `{error}`, or `{name: "ZodError", issues}` for validation;
//! so do its unknown routes, wrong methods and panics.

mod accounts;
mod apps;
mod engagements;
mod identity;
mod inputs;
mod mobile_events;
mod opportunities;
mod participants;
mod recordings;
mod schema;
mod users;
mod wire;

use crate::AppState;
use crate::docs::Routes;
use crate::request::{admit, authenticate, header_seconds, json_body, path_param, query_params};
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use liaison_domain::field::{AppField, Field, MobileEventField, Param, RecordingField};
use liaison_domain::{Error, Issues};
use liaison_engine::{Caller, Expand};
use liaison_store::Store;
use serde_json::{Value, json};
use std::collections::HashMap;
use utoipa::openapi::OpenApi;
use wire::ListPage;

/// Every route of the face, relative to its base (`/v1`), with the face's own answers for a
/// path it does not serve, a method a path does not take, and a handler that panicked; and
/// the description of every one of them.
pub fn router<S: Store>() -> (Router<AppState<S>>, OpenApi) {
    let (routes, mut doc) = Routes::new()
        .merge(engagements::routes())
        .merge(opportunities::routes())
        .merge(accounts::routes())
        .merge(participants::routes())
        .merge(users::routes())
        .merge(identity::routes())
        .merge(recordings::routes())
        .merge(apps::routes())
        .merge(mobile_events::routes())
        .split();
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(schema::envelopes());
    (enveloped(routes), doc)
}

/// `routes` with the face's 404, 405 and panic answers.
fn enveloped<T: Clone + Send + Sync + 'static>(routes: Router<T>) -> Router<T> {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                // The panic itself is logged by the hook; the client learns nothing of it.
                ApiError(Error::Internal("a handler panicked".into())).into_response()
            },
        ))
}

/// One engagement of a sync body, read exactly as the sync endpoints read it (for tools that
/// drive the engine with the face's inputs, such as the benchmark's loader).
pub fn read_engagement(v: &Value) -> Result<liaison_domain::model::EngagementIn, Issues> {
    inputs::parse(v, vec![], inputs::engagement)
}

/// What this face's engagement and opportunity shapes embed: the type, the account and the
/// reps. Everything else it shows is an id on the record itself.
pub(super) const VIEW: Expand = Expand {
    engagement_type: true,
    account: true,
    participants: true,
    ..Expand::NONE
};

/// How this face spells the domain's fields: Siro's names.
pub(super) fn spell(f: Field) -> &'static str {
    match f {
        Field::Id => "id",
        Field::Connection => "integrationConnectionId",
        Field::ExternalId => "externalId",
        Field::RecordingId => "recordingId",
        Field::Account => "accountId",
        Field::Contact => "contactId",
        Field::Lead => "leadId",
        Field::Opportunity => "opportunityId",
        Field::Owner => "owner",
        Field::EngagementType => "engagementTypeId",
        Field::ActivityType => "activityType",
        Field::Title => "subject",
        Field::Direction => "direction",
        Field::IsPrivate => "isPrivate",
        Field::StartTime => "startTime",
        Field::EndTime => "endTime",
        Field::CreatedAt => "createdAt",
        Field::UpdatedAt => "updatedAt",
        Field::RemoteCreatedAt => "remoteCreatedAt",
        Field::RemoteUpdatedAt => "remoteUpdatedAt",
        Field::DeletedAt => "deletedAt",
    }
}

/// How this face spells a recording's fields: the gateway contract's names, and Liaison's own
/// beside them.
pub(super) fn spell_recording(f: RecordingField) -> &'static str {
    match f {
        RecordingField::Id => "id",
        RecordingField::User => "userId",
        RecordingField::DeepLink => "deepLink",
        RecordingField::Engagement => "engagementId",
        RecordingField::Opportunity => "opportunityId",
        RecordingField::CrmObjects => "crmObjects",
        RecordingField::Duration => "durationInMilliseconds",
        RecordingField::Latitude => "latitude",
        RecordingField::Longitude => "longitude",
        RecordingField::Transcript => "transcript",
        RecordingField::Utterances => "utterances",
        RecordingField::LinkTarget => "id",
    }
}

/// This face's spelling of every domain field.
struct Siro;

impl liaison_domain::issues::Spelling for Siro {
    fn field(&self, f: Field) -> &'static str {
        spell(f)
    }
    fn recording(&self, f: RecordingField) -> &'static str {
        spell_recording(f)
    }
    fn app(&self, f: AppField) -> &'static str {
        apps::spell_app(f)
    }
    fn mobile_event(&self, f: MobileEventField) -> &'static str {
        mobile_events::spell(f)
    }
}

fn spell_param(p: Param) -> &'static str {
    match p {
        Param::PageAfter => "startingAfter",
        Param::PageBefore => "startingBefore",
    }
}

/// An id as a request gives it: text that cannot be one names nothing, a 404 for `noun`.
pub(super) fn id_of<I>(
    raw: &str,
    noun: &'static str,
    parse: fn(&str) -> Option<I>,
) -> Result<I, Error> {
    parse(raw).ok_or(Error::NotFound(noun))
}

/// A domain error rendered in this face's envelope.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl From<Issues> for ApiError {
    fn from(issues: Issues) -> Self {
        ApiError(Error::Invalid(issues))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The header, if any, an answer carries beside its body.
        let mut extra: Option<(header::HeaderName, HeaderValue)> = None;
        let (status, body) = match self.0 {
            Error::Invalid(issues) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"name": "ZodError", "issues": issues.spelled(&Siro).0}),
            ),
            Error::BadParam { param, message } => (
                StatusCode::BAD_REQUEST,
                json!({"error": message.replace("{param}", spell_param(param))}),
            ),
            Error::NotFound(what) => (
                StatusCode::NOT_FOUND,
                json!({"error": format!("{what} not found")}),
            ),
            Error::BadRequest(m) => (StatusCode::BAD_REQUEST, json!({"error": m})),
            Error::Conflict(m) => (StatusCode::CONFLICT, json!({"error": m})),
            Error::Contention(cause) => {
                tracing::warn!(%cause, "write contention outlasted its retries");
                (
                    StatusCode::CONFLICT,
                    json!({"error": "a concurrent write to the same record won; retry"}),
                )
            }
            Error::Forbidden(m) => (StatusCode::FORBIDDEN, json!({"error": m})),
            Error::UnsupportedMediaType(m) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, json!({"error": m}))
            }
            Error::PayloadTooLarge(m) => {
                // The rest of an oversized body is never read, so the connection cannot carry
                // another request: saying so keeps a client from reusing it and failing.
                extra = Some((header::CONNECTION, HeaderValue::from_static("close")));
                (StatusCode::PAYLOAD_TOO_LARGE, json!({"error": m}))
            }
            Error::Unauthorized(m) => {
                extra = Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
                (StatusCode::UNAUTHORIZED, json!({"error": m}))
            }
            Error::RateLimited {
                window,
                retry_after,
            } => {
                let wait = header_seconds(retry_after).max(1);
                extra = Some((header::RETRY_AFTER, HeaderValue::from(wait)));
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({"error": format!(
                        "rate limit exceeded: this token may make {} requests per minute; \
                         retry in {wait} s",
                        window.limit
                    )}),
                )
            }
            Error::Internal(cause) => {
                // The span of the request carries its id; the client gets only that it failed.
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "Internal server error"}),
                )
            }
        };
        let mut r = (status, axum::Json(body)).into_response();
        if let Some((name, value)) = extra {
            r.headers_mut().insert(name, value);
        }
        r
    }
}

/// The header the gateway contract's user access token travels in.
pub const ACCESS_TOKEN_HEADER: &str = "x-siro-auth-token";

/// The caller of a request, by its organization API token.
pub struct Authed(pub Caller);

impl<S: Store> FromRequestParts<AppState<S>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> ApiResult<Self> {
        match authenticate(parts, &state.engine).await {
            Err(Error::Unauthorized(_))
                if parts.headers.contains_key(ACCESS_TOKEN_HEADER)
                    && !parts.headers.contains_key(header::AUTHORIZATION) =>
            {
                Err(ApiError(Error::Unauthorized(format!(
                    "this operation takes an organization API token \
                     (`Authorization: Bearer <token>`); `{ACCESS_TOKEN_HEADER}` is taken by the \
                     user-scoped recording operations only"
                ))))
            }
            other => Ok(Authed(other?)),
        }
    }
}

/// The caller of an operation a user may call too (the gateway contract's): a user access
/// token in `x-siro-auth-token` when the request carries one, else an organization API token.
pub struct UserAuthed(pub Caller);

impl<S: Store> FromRequestParts<AppState<S>> for UserAuthed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> ApiResult<Self> {
        let Some(v) = parts.headers.get(ACCESS_TOKEN_HEADER) else {
            return Ok(UserAuthed(authenticate(parts, &state.engine).await?));
        };
        let token = v.to_str().map_err(|_| {
            Error::Unauthorized(format!("malformed `{ACCESS_TOKEN_HEADER}` header"))
        })?;
        let caller = state.engine.authenticate_access(token.trim()).await?;
        Ok(UserAuthed(admit(parts, &state.engine, caller)?))
    }
}

/// A JSON request body.
pub struct Body(pub Value);

impl<S: Store> FromRequest<AppState<S>> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState<S>) -> ApiResult<Self> {
        Ok(Body(json_body(req, state).await?))
    }
}

/// The `{id}` of a route's path.
pub struct IdPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        Ok(IdPath(path_param(parts, state).await?))
    }
}

/// The query parameters.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        Ok(Params(query_params(parts)?))
    }
}

async fn not_found() -> ApiError {
    ApiError(Error::NotFound("Route"))
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(json!({"error": "Method not allowed on this route"})),
    )
        .into_response()
}

/// The default page size of lists that do not say.
pub(crate) const DEFAULT_PAGE: u32 = 100;

/// A list response in the contract's envelope.
pub(crate) fn list_envelope<T>(data: Vec<T>, cursor: Option<String>, limit: u32) -> ListPage<T> {
    ListPage {
        data,
        page_size: limit,
        limit,
        total: None,
        has_next_page: cursor.is_some(),
        cursor,
    }
}

/// A bare-array list: the contract has no envelope for it, so the next page's cursor travels
/// in the `X-Next-Cursor` header (absent on the last page).
pub(crate) fn bare_list<T: serde::Serialize>(data: Vec<T>, cursor: Option<String>) -> Response {
    let mut r = axum::Json(data).into_response();
    if let Some(c) = cursor.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert("x-next-cursor", c);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body as HttpBody;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn answer(app: Router, method: &str, path: &str) -> (StatusCode, Value) {
        let req = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .body(HttpBody::empty())
            .unwrap();
        let resp = app.oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    async fn boom() -> &'static str {
        panic!("a bug")
    }

    /// What no handler of the face answers is still answered in its envelope.
    #[tokio::test]
    async fn unknown_routes_wrong_methods_and_panics_answer_in_the_envelope() {
        let face = || {
            enveloped(
                Router::new()
                    .route("/ok", get(|| async { "ok" }))
                    .route("/boom", get(boom)),
            )
        };
        let app = || Router::new().nest("/v1", face());
        let (status, body) = answer(app(), "GET", "/v1/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, json!({"error": "Internal server error"}));
        let (status, body) = answer(app(), "GET", "/v1/nowhere").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, json!({"error": "Route not found"}));
        let (status, body) = answer(app(), "DELETE", "/v1/ok").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(body["error"].is_string());
    }
}
