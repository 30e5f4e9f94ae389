//! The one error type of Liaison's rules. Each face maps it to its own envelope; a 5xx never
//! shows its cause to the client (the cause is logged with the request id).

use crate::field::Param;
use crate::issues::Issues;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such record for this caller (also what another tenant's id gets: no existence leak).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input parsed but broke a rule.
    #[error("invalid input: {0}")]
    Invalid(Issues),
    /// The request itself is malformed (not JSON, a bad query parameter, a bad cursor).
    #[error("{0}")]
    BadRequest(String),
    /// A request parameter a rule refused; `message` names it as `{param}`, which the face
    /// spells.
    #[error("{param:?}: {message}")]
    BadParam { param: Param, message: String },
    /// A unique value is already taken.
    #[error("{0}")]
    Conflict(String),
    /// A concurrent write won a race (a unique key, a deadlock). The whole unit of work is
    /// retried; a client sees it (as a conflict) only when the retries ran out.
    #[error("{0}")]
    Contention(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body is in a format the endpoint does not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The caller's token used up its request rate; it may call again after `retry_after`.
    #[error("rate limit of {} requests per minute exceeded", .window.limit)]
    RateLimited {
        window: RateWindow,
        retry_after: std::time::Duration,
    },
    /// Anything the caller cannot fix; the message is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Where a token stands against its request rate, as the `RateLimit-*` headers tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    /// Requests allowed per minute.
    pub limit: u32,
    /// Requests that may still be made at once.
    pub remaining: u32,
    /// Until the whole limit is available again.
    pub reset: std::time::Duration,
}

impl From<Issues> for Error {
    fn from(issues: Issues) -> Self {
        Error::Invalid(issues)
    }
}
