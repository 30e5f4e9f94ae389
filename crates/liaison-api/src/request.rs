//! What every face needs from a request: its JSON body within a size limit, its bearer token,
//! and its query parameters, each failing with a domain error the face renders.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use liaison_domain::{Error, RateWindow};
use liaison_engine::{Caller, Engine};
use liaison_store::Store;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The largest single-record body.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The largest batch body, and the most items a batch may carry.
pub const BATCH_BODY_LIMIT: usize = 10 * 1024 * 1024;
pub const BATCH_ITEM_LIMIT: usize = 1000;

/// Reads the body as JSON. The size limit is the route's `DefaultBodyLimit`. A body that says
/// it is something other than JSON is refused unread; one that says nothing is read as JSON.
pub async fn json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Value, Error> {
    if let Some(declared) = req.headers().get(axum::http::header::CONTENT_TYPE) {
        check_json(declared)?;
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge("the request body is too large".into())
        } else {
            Error::BadRequest(format!("could not read the request body: {e}"))
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::BadRequest(
            "the request body is empty; expected JSON".into(),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::BadRequest(format!(
            "malformed JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

/// `application/json`, or any `+json` type, with any parameters.
fn check_json(declared: &axum::http::HeaderValue) -> Result<(), Error> {
    let refuse = || {
        Error::UnsupportedMediaType(
            "the request body must be JSON (Content-Type: application/json)".into(),
        )
    };
    let essence = declared
        .to_str()
        .map_err(|_| refuse())?
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) if sub == "json" || sub.ends_with("+json") => Ok(()),
        _ => Err(refuse()),
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(parts: &Parts) -> Result<&str, Error> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| Error::Unauthorized("missing Authorization header".into()))?;
    let value = header
        .to_str()
        .map_err(|_| Error::Unauthorized("malformed Authorization header".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| Error::Unauthorized("expected `Authorization: Bearer <token>`".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Error::Unauthorized(
            "expected `Authorization: Bearer <token>`".into(),
        ));
    }
    Ok(token.trim())
}

/// The caller of a request, authenticated by its bearer token and counted against its rate.
/// Every face authenticates through this, so every face limits the same way.
pub async fn authenticate<S: Store>(parts: &Parts, engine: &Engine<S>) -> Result<Caller, Error> {
    let caller = engine.authenticate(bearer(parts)?).await?;
    admit(parts, engine, caller)
}

/// Counts a request of a caller authenticated otherwise (by a face's own credential) against
/// its rate, as `authenticate` does.
pub fn admit<S: Store>(parts: &Parts, engine: &Engine<S>, caller: Caller) -> Result<Caller, Error> {
    let admitted = engine.admit(&caller);
    if let Some(slot) = parts.extensions.get::<RateSlot>() {
        match &admitted {
            Ok(Some(window)) | Err(Error::RateLimited { window, .. }) => slot.fill(*window),
            _ => {}
        }
    }
    admitted.map(|_| caller)
}

/// Where the request's token stands against its rate, once `authenticate` has counted it. The
/// layer that put it in the request's extensions writes it out as `RateLimit-*` headers.
#[derive(Clone, Default)]
pub struct RateSlot(Arc<OnceLock<RateWindow>>);

impl RateSlot {
    fn fill(&self, window: RateWindow) {
        let _ = self.0.set(window);
    }
}

const RATE_LIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const RATE_LIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATE_LIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// Whole seconds for a header: rounded up, so that a client that waits that long is served.
pub fn header_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The layer behind `RateSlot`: every answer to a request that a token was counted for
/// carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the
/// whole limit is available again).
pub async fn rate_headers(mut req: Request, next: Next) -> Response {
    let slot = RateSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut response = next.run(req).await;
    if let Some(w) = slot.0.get() {
        let h = response.headers_mut();
        h.insert(RATE_LIMIT_LIMIT, HeaderValue::from(w.limit));
        h.insert(RATE_LIMIT_REMAINING, HeaderValue::from(w.remaining));
        h.insert(RATE_LIMIT_RESET, HeaderValue::from(header_seconds(w.reset)));
    }
    response
}

/// Query parameters as a map; a repeated parameter keeps its last value. Every parameter has
/// a name, and none holds the NUL character: no store keeps it, so it could match nothing.
pub fn query_params(parts: &Parts) -> Result<HashMap<String, String>, Error> {
    let query = parts.uri.query().unwrap_or("");
    let pairs = serde_urlencoded_pairs(query)
        .map_err(|e| Error::BadRequest(format!("malformed query string: {e}")))?;
    if pairs.iter().any(|(k, _)| k.is_empty()) {
        return Err(Error::BadRequest(
            "malformed query string: a parameter has no name".into(),
        ));
    }
    if let Some((key, _)) = pairs
        .iter()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err(Error::BadRequest(format!(
            "`{key}` must not contain the NUL character (U+0000)"
        )));
    }
    Ok(pairs.into_iter().collect())
}

/// The one parameter of a route's path (`{id}`), decoded: UTF-8 without NUL, or a bad
/// request the face renders in its envelope.
pub async fn path_param<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<String, Error> {
    let axum::extract::Path(value) =
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::BadRequest(format!("bad path: {}", e.body_text())))?;
    if value.contains('\0') {
        return Err(Error::BadRequest(
            "the path must not contain the NUL character (U+0000)".into(),
        ));
    }
    Ok(value)
}
/// Every value a query string gives `key`, in order: a repeated parameter keeps them all.
pub fn query_values(query: Option<&str>, key: &str) -> Result<Vec<String>, Error> {
    let pairs = serde_urlencoded_pairs(query.unwrap_or(""))
        .map_err(|e| Error::BadRequest(format!("malformed query string: {e}")))?;
    Ok(pairs
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .collect())
}

fn serde_urlencoded_pairs(query: &str) -> Result<Vec<(String, String)>, String> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(
        &format!("/?{query}").parse().map_err(|e| format!("{e}"))?,
    )
    .map(|q| q.0)
    .map_err(|e| e.body_text())
}

/// Parses an optional numeric parameter. Given empty, it is not a number.
pub fn param_u32(params: &HashMap<String, String>, key: &str) -> Result<Option<u32>, Error> {
    match params.get(key).map(|s| s.trim()) {
        None => Ok(None),
        Some(raw) => raw
            .parse::<f64>()
            .ok()
            .filter(|n| n.fract() == 0.0 && *n >= 1.0 && *n <= f64::from(u32::MAX))
            .map(|n| Some(n as u32))
            .ok_or_else(|| Error::BadRequest(format!("`{key}` must be a positive whole number"))),
    }
}

/// Parses an optional boolean parameter (`true`/`false`). Given empty, it is neither.
pub fn param_bool(params: &HashMap<String, String>, key: &str) -> Result<Option<bool>, Error> {
    match params.get(key).map(|s| s.trim()) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(Error::BadRequest(format!("`{key}` must be true or false"))),
    }
}

/// Parses an optional ISO 8601 timestamp parameter. Given empty, it is absent.
pub fn param_instant(
    params: &HashMap<String, String>,
    key: &str,
) -> Result<Option<liaison_domain::time::Instant>, Error> {
    match params.get(key).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => liaison_domain::time::parse_instant(raw)
            .map(Some)
            .ok_or_else(|| {
                Error::BadRequest(format!("`{key}` is not an ISO 8601 timestamp: {raw}"))
            }),
    }
}
