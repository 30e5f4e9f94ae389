//! Liaison's HTTP faces. Each face is a thin translation between a published contract and the
//! engine; this module assembles them into one application with the layers they share.

pub mod decode;
pub mod integrations;
mod request;

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use liaison_engine::Engine;
use liaison_store::Store;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

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

/// The whole application: every face, the health check, and the shared layers.
pub fn app<S: Store>(engine: Arc<Engine<S>>) -> Router {
    let state = AppState { engine };
    Router::new()
        .route("/healthz", get(healthz))
        // Each face under its prefix, with its own envelope for what it does not serve. The
        // integrations face also answers under its published base path, so a client set up
        // with that base URL needs only a new host.
        .nest("/v1", integrations::router::<S>())
        .nest(INTEGRATIONS_PUBLISHED_BASE, integrations::router::<S>())
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
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The base path of Siro's published API (`…/api-externalApi/v1`), served as well as `/v1`.
pub const INTEGRATIONS_PUBLISHED_BASE: &str = "/api-externalApi/v1";

/// A path outside every face.
async fn no_face(uri: axum::http::Uri) -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"error": format!("no API is served at {}", uri.path())})),
    )
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}
