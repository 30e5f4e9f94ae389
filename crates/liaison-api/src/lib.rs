//! Liaison's HTTP faces. Each face is a thin translation between a published contract and the
//! engine; this module assembles them into one application with the layers they share.

pub mod decode;
mod docs;
pub mod integrations;
mod ops;
mod request;

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use liaison_engine::Engine;
use liaison_store::Store;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{InfoBuilder, LicenseBuilder, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

pub use request::{BATCH_BODY_LIMIT, BATCH_ITEM_LIMIT, BODY_LIMIT};

/// What every handler gets: the engine over the chosen backend.
pub struct AppState<S: Store> {
    pub engine: Arc<Engine<S>>,
}

impl<S: Store> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            engine: self.engine.clone(),
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: every face, the health check, the API's description with its docs
/// page, and the shared layers.
pub fn app<S: Store>(engine: Arc<Engine<S>>) -> Router {
    app_with(engine, Layers::ALL)
}

/// The shared layers that `app_with` may leave out, so that a benchmark can measure what they
/// cost. A server always has them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layers {
    /// Every request counted and timed for `/metrics`.
    pub metrics: bool,
    /// The `RateLimit-*` headers. The limiter is the engine's: `Engine::with_rate_limit(None)`
    /// turns it off.
    pub rate_headers: bool,
}

impl Layers {
    pub const ALL: Layers = Layers {
        metrics: true,
        rate_headers: true,
    };
}

/// `app`, with only the optional layers that `layers` names.
pub fn app_with<S: Store>(engine: Arc<Engine<S>>, layers: Layers) -> Router {
    ops::init_metrics();
    let state = AppState { engine };
    let (routes, doc) = described::<S>();
    let router = routes
        .merge(SwaggerUi::new(DOCS_PATH).url(OPENAPI_PATH, doc))
        .fallback(no_face)
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_| {
            // The panic itself is logged by the hook; the client learns nothing of it.
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(serde_json::json!({"error": "Internal server error"})),
            )
                .into_response()
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        );
    let router = if layers.rate_headers {
        router.layer(axum::middleware::from_fn(request::rate_headers))
    } else {
        router
    };
    let router = if layers.metrics {
        router.layer(axum::middleware::from_fn(ops::track))
    } else {
        router
    };
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(ops::keep_sane_request_id))
}

/// Where the API's OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Where its browsable docs page is served (its assets are inside the binary).
pub const DOCS_PATH: &str = "/docs";

/// The OpenAPI document of everything `app` serves.
pub fn openapi<S: Store>() -> OpenApi {
    described::<S>().1
}

/// Every route with its description, both made by the same declarations.
fn described<S: Store>() -> (Router<AppState<S>>, OpenApi) {
    let (health, health_doc) = ops::routes::<S>().split();
    let (integrations, integrations_doc) = integrations::router::<S>();
    let mut doc = health_doc.nest(INTEGRATIONS_BASE, integrations_doc);
    doc.info = InfoBuilder::new()
        .title("Liaison")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(DESCRIPTION))
        .license(Some(LicenseBuilder::new().name("Apache-2.0").build()))
        .build();
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token made by `liaison token create` (or printed by the first \
                         `liaison serve`): `Authorization: Bearer lia_…`.",
                    ))
                    .build(),
            ),
        );
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            ACCESS_TOKEN,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                integrations::ACCESS_TOKEN_HEADER,
                "A user access token issued by `POST /v1/core/oauth/apps/{clientId}/access-token`: \
                 `x-siro-auth-token: liat_…`. Taken by the user-scoped recording operations, \
                 beside an API token.",
            ))),
        );
    doc.security = Some(vec![SecurityRequirement::new::<_, _, &str>(BEARER, [])]);
    // Each face under its prefix, with its own envelope for what it does not serve. The
    // integrations face also answers under its published base path, so a client set up with
    // that base URL needs only a new host.
    let routes = health
        .nest(INTEGRATIONS_BASE, integrations.clone())
        .nest(INTEGRATIONS_PUBLISHED_BASE, integrations);
    (routes, doc)
}

const BEARER: &str = "bearerAuth";
/// The gateway contract's name for the user access token's scheme.
const ACCESS_TOKEN: &str = "SiroAuthToken";

const DESCRIPTION: &str = "Liaison, a self-hosted engagement hub. The integrations face \
(`/v1/integrations/*`, `/v1/core/*`) answers Siro's published integration API field for field; \
it is also served under Siro's published base path, `/api-externalApi/v1`. Errors are \
`{error}`, or `{name: \"ZodError\", issues}` when a body is refused.";

/// Where the integrations face is served.
const INTEGRATIONS_BASE: &str = "/v1";

/// The base path of Siro's published API (`…/api-externalApi/v1`), served as well as `/v1`.
pub const INTEGRATIONS_PUBLISHED_BASE: &str = "/api-externalApi/v1";

/// A path outside every face.
async fn no_face(uri: axum::http::Uri) -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"error": format!("no API is served at {}", uri.path())})),
    )
}
