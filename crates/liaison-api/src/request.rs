//! What every face needs from a request: its JSON body within a size limit, its bearer token,
//! and its query parameters, each failing with a domain error the face renders.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use liaison_domain::Error;
use serde_json::Value;
use std::collections::HashMap;

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
pub fn bearer(parts: &Parts) -> Result<&str, Error> {
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
