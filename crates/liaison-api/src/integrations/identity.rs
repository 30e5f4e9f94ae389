//! Who am I: the token behind the request, as `GET /v1/core/auth/caller-identity` reports it.

use super::schema;
use super::wire::CallerIdentity;
use super::{ApiResult, Authed};
use crate::docs::Routes;
use axum::Json;
use liaison_domain::Error;
use liaison_domain::time::format_instant;
use liaison_engine::Credential;
use liaison_store::Store;

pub(super) fn routes<S: Store>() -> Routes<S> {
    Routes::new().op(__path_caller_identity, caller_identity)
}

/// The token the request carries: its organization, connection and scopes.
#[utoipa::path(
    get,
    path = "/core/auth/caller-identity",
    tag = "Auth",
    responses((status = 200, description = "The caller", body = CallerIdentity), schema::Reads),
)]
async fn caller_identity(Authed(caller): Authed) -> ApiResult<Json<CallerIdentity>> {
    // `Authed` admits API tokens only.
    let Credential::Token {
        id,
        name,
        created_at,
    } = caller.credential
    else {
        return Err(Error::Unauthorized("expected an organization API token".into()).into());
    };
    Ok(Json(CallerIdentity {
        token_id: id.to_string(),
        token_name: name,
        organization_id: caller.org.to_string(),
        integration_connection_id: caller.connection.to_string(),
        scopes: caller
            .scopes
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        // Liaison has no organization groups and records no creating user.
        authorized_org_group_id: None,
        parent_org_group_token_id: None,
        created_at: format_instant(&created_at),
        created_by: None,
    }))
}
