//! What operators ask of a running server, outside every face: liveness (`/healthz`),
//! readiness (`/readyz`), Prometheus metrics (`/metrics`), and a request id on every answer.

use crate::AppState;
use crate::docs::Routes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use liaison_store::Store;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How often histogram samples are folded into their buckets between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);
/// How long `/readyz` waits for the database before it says the server is not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

const REQUESTS: &str = "liaison_http_requests_total";
const DURATION: &str = "liaison_http_request_duration_seconds";
/// Latency buckets, in seconds: from a cached read to a batch of a thousand.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The service's own routes, with their descriptions.
pub fn routes<S: Store>() -> Routes<S> {
    Routes::new()
        .op(__path_healthz, healthz)
        .op(__path_readyz, readyz::<S>)
        .op(__path_metrics, metrics::<S>)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// Liveness: 200 while the server runs.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "Operations",
    security(()),
    responses((status = 200, description = "The server runs", body = Health)),
)]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct Readiness {
    /// `ready`, or `unavailable`.
    status: &'static str,
    /// Why the server is not ready (the database does not answer, or lacks migrations).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// Readiness: 200 only when the database answers and holds every migration of this build.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "Operations",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "The database does not answer, or lacks migrations", body = Readiness),
    ),
)]
async fn readyz<S: Store>(State(state): State<AppState<S>>) -> Response {
    let reason = match tokio::time::timeout(READY_TIMEOUT, state.engine.ready()).await {
        Ok(Ok(())) => {
            return axum::Json(Readiness {
                status: "ready",
                reason: None,
            })
            .into_response();
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            "the database does not answer, or lacks migrations".to_owned()
        }
        Err(_) => format!(
            "the database did not answer within {} s",
            READY_TIMEOUT.as_secs()
        ),
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(Readiness {
            status: "unavailable",
            reason: Some(reason),
        }),
    )
        .into_response()
}

/// The process's Prometheus recorder, installed on first use.
fn prometheus() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.into()), BUCKETS)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| tracing::error!(error = %e, "metrics are unavailable"))
                .ok()?;
            // Histograms keep their samples until upkeep folds them into the buckets: without
            // it, a server nobody scrapes would hold every latency it ever measured.
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "metrics upkeep could not start");
                return None;
            }
            Some(handle)
        })
        .as_ref()
}

/// Starts recording; `app` calls it once, so that the first scrape already counts what came
/// before it.
pub fn init_metrics() {
    prometheus();
}

/// Metrics in the Prometheus text format: requests by face, route and status, their
/// latencies, the database's connections and the outbox.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "Operations",
    security(()),
    responses(
        (status = 200, description = "Every metric, in the Prometheus text format", body = String, content_type = "text/plain"),
        (status = 503, description = "Metrics could not be set up in this process", body = String, content_type = "text/plain"),
    ),
)]
async fn metrics<S: Store>(State(state): State<AppState<S>>) -> Response {
    let Some(handle) = prometheus() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics are unavailable\n").into_response();
    };
    match state.engine.gauges().await {
        Ok(g) => {
            let pool = |state: &'static str, n: u32| {
                metrics::gauge!("liaison_db_connections", "state" => state).set(f64::from(n));
            };
            pool("max", g.pool.max);
            pool("open", g.pool.open);
            pool("in_use", g.pool.in_use);
            let (first, last) = g.outbox.unwrap_or((1, 0));
            metrics::gauge!("liaison_outbox_events").set((last - first + 1) as f64);
            metrics::gauge!("liaison_outbox_last_seq").set(last as f64);
            metrics::gauge!("liaison_store_up").set(1.0);
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the store did not answer");
            metrics::gauge!("liaison_store_up").set(0.0);
        }
    }
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

/// Which face a path belongs to, for metrics.
fn face_of(path: &str) -> &'static str {
    let under = |base: &str| {
        path.strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under(crate::INTEGRATIONS_BASE) || under(crate::INTEGRATIONS_PUBLISHED_BASE) {
        "integrations"
    } else {
        "service"
    }
}

/// A method as a label: the standard ones by name, any other as `other`, so that a client
/// cannot grow the label set.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts every request by face, route template, method and status, and records its latency.
/// A path no route matched counts as route `unmatched`.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let face = face_of(req.uri().path());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(DURATION, "face" => face, "route" => route.clone(), "method" => method)
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(REQUESTS, "face" => face, "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}

/// The longest request id kept from a client.
const MAX_REQUEST_ID: usize = 128;

/// Whether a client's `X-Request-Id` is kept: 1 to 128 characters of letters, digits and
/// `-_.:~+/=@` (UUIDs, ULIDs, hex, base64 and most tracing ids). Anything else is replaced.
fn sane_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_REQUEST_ID
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.:~+/=@".contains(c))
}

/// Drops a client's request id that is not sane, so that the next layer makes one.
pub async fn keep_sane_request_id(mut req: Request, next: Next) -> Response {
    if let Some(v) = req.headers().get(&crate::REQUEST_ID)
        && !sane_request_id(v)
    {
        req.headers_mut().remove(&crate::REQUEST_ID);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_kept_and_replaced() {
        for kept in [
            "0190a6f2-9b7c-7d3e-8f00-123456789abc",
            "01HZX3N9Q4K8V2",
            "req_42",
            "abc+/=",
            "a",
            &"x".repeat(128),
        ] {
            assert!(
                sane_request_id(&HeaderValue::from_str(kept).unwrap()),
                "{kept}"
            );
        }
        for replaced in [
            "",
            "has space",
            "semi;colon",
            "quote\"",
            "tab\t",
            &"x".repeat(129),
        ] {
            assert!(
                !sane_request_id(&HeaderValue::from_str(replaced).unwrap()),
                "{replaced:?}"
            );
        }
        assert!(!sane_request_id(
            &HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()
        ));
    }
}
