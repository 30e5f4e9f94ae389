//! Who am I: the token behind the request, as `GET /v1/core/auth/caller-identity` reports it.

use super::{ApiResult, Authed};
use crate::AppState;
use axum::routing::get;
use axum::{Json, Router};
use liaison_domain::time::format_instant;
use liaison_store::Store;
use serde_json::{Value, json};

pub fn router<S: Store>() -> Router<AppState<S>> {
    Router::new().route("/core/auth/caller-identity", get(caller_identity))
}

async fn caller_identity(Authed(caller): Authed) -> ApiResult<Json<Value>> {
    Ok(Json(json!({
        "tokenId": caller.token.to_string(),
        "tokenName": caller.token_name,
        "organizationId": caller.org.to_string(),
        "integrationConnectionId": caller.connection.to_string(),
        "scopes": caller.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        // Liaison has no organization groups and records no creating user.
        "authorizedOrgGroupId": null,
        "parentOrgGroupTokenId": null,
        "createdAt": format_instant(&caller.token_created_at),
        "createdBy": null,
    })))
}
