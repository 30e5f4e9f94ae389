//! Liaison's engine: the orchestration of every capability, written once and generic over the
//! `Store`. Faces call it with parsed inputs and an authenticated `Caller`; it owns the rules.

mod apps;
mod auth;
mod keys;
mod limits;
mod linking;
mod mobile_events;
mod participants;
mod people;
mod reads;
mod recordings;
mod records;
mod rematch;
mod saving;
mod sync;
pub mod transfer;
mod users;
mod views;

pub use apps::{
    ACCESS_TOKEN_PREFIX, AUDIENCE, AppIn, AppPage, DEFAULT_ACCESS_TOKEN_TTL, MAX_ACCESS_TOKEN_TTL,
    MAX_APP_PAGE, NewAccessToken, NewApp,
};
pub use auth::{Caller, Credential, NewToken};
pub use limits::DEFAULT_RATE_LIMIT;
pub use linking::{CrmLinks, LinkTarget, LinkedRef, RecordingView, Resolved};
pub use mobile_events::{MAX_EVENT_CODES, MobileEventFilters};
pub use reads::{Listing, MAX_PAGE, Page, RecordRef};
pub use recordings::RecordingFilters;
pub use rematch::{MAX_LISTED_CHANGES, RematchChange, RematchReport};
pub use views::{EngagementView, Expand, OpportunityView, ParticipantView};

use liaison_domain::cursor::CursorCodec;
use liaison_domain::{Error, Result};
use liaison_store::prelude::*;
use liaison_store::{Store, StoreError, WriteTx};

/// The operators' gauges at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    pub pool: liaison_store::PoolUse,
    /// The numbers of the oldest and the newest outbox event, when there is one.
    pub outbox: Option<(i64, i64)>,
}

/// How often a write that lost a race is run before giving up with 409.
const WRITE_ATTEMPTS: u32 = 4;

pub struct Engine<S: Store> {
    store: S,
    cursors: CursorCodec,
    tokens: auth::TokenCache,
    limits: limits::RateLimits,
    /// The matching settings of an organization that has set none.
    default_matching: liaison_domain::matching::Settings,
    /// How long a user access token lives.
    access_token_ttl: std::time::Duration,
}

impl<S: Store> Engine<S> {
    /// Wraps a migrated store. Loads (or creates, once per database) the key that signs
    /// cursors, so that every instance on one database accepts every other's cursors.
    pub async fn new(store: S) -> Result<Self> {
        let key = {
            let mut tx = store.begin().await.map_err(store_error)?;
            let fresh = liaison_domain::secret::generate("");
            tx.put_setting_if_absent("cursor_key", &fresh)
                .await
                .map_err(store_error)?;
            let key = tx
                .get_setting("cursor_key")
                .await
                .map_err(store_error)?
                .unwrap_or(fresh);
            tx.commit().await.map_err(store_error)?;
            key
        };
        Ok(Engine {
            store,
            cursors: CursorCodec::new(key.as_bytes()),
            tokens: auth::TokenCache::default(),
            limits: limits::RateLimits::new(Some(DEFAULT_RATE_LIMIT)),
            default_matching: liaison_domain::matching::Settings::default(),
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
        })
    }

    /// Requests per minute for tokens that carry no limit of their own; `None` for none.
    pub fn with_rate_limit(mut self, default: Option<std::num::NonZeroU32>) -> Self {
        self.limits = limits::RateLimits::new(default);
        self
    }

    /// How long the user access tokens issued from now on live.
    pub fn with_access_token_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.access_token_ttl = ttl;
        self
    }

    /// The matching settings of organizations that have set none of their own.
    pub fn matching_defaults(&self) -> liaison_domain::matching::Settings {
        self.default_matching
    }

    /// Sets the matching settings of organizations that have set none of their own.
    pub fn with_matching_defaults(mut self, settings: liaison_domain::matching::Settings) -> Self {
        self.default_matching = settings;
        self
    }

    /// Counts one request of `caller` against its token's rate: where it stands (`None` when
    /// nothing limits it), or `RateLimited` when it must wait. A batch is one request.
    pub fn admit(&self, caller: &Caller) -> Result<Option<liaison_domain::RateWindow>> {
        self.limits.admit(caller.rate_key(), caller.rate_limit)
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Whether the store answers and holds every migration: what `/readyz` reports.
    pub async fn ready(&self) -> Result<()> {
        self.store.ready().await.map_err(store_error)
    }

    /// What the operators' gauges show: the store's connections and the outbox.
    pub async fn gauges(&self) -> Result<Gauges> {
        let mut tx = self.store.read().await.map_err(store_error)?;
        let outbox = tx.outbox_span().await.map_err(store_error)?;
        drop(tx);
        Ok(Gauges {
            pool: self.store.pool_use(),
            outbox,
        })
    }
}

/// Storage failures are internal errors, except a lost race on a unique key, which is
/// contention (retried by `in_write_tx!` before it reaches a client).
pub(crate) fn store_error(e: StoreError) -> Error {
    match e {
        StoreError::Conflict(what) => Error::Contention(format!("conflicting write: {what}")),
        StoreError::Backend(what) => Error::Internal(what),
    }
}

/// Runs `$body` in a write transaction bound to `$tx`, committing on success and retrying the
/// whole unit when it lost a race on a unique key (two first syncs of one external id).
macro_rules! in_write_tx {
    ($engine:expr, $tx:ident => $body:expr) => {{
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut $tx = $engine.store.begin().await.map_err($crate::store_error)?;
            let result: liaison_domain::Result<_> = $body;
            match result {
                Ok(value) => {
                    $tx.commit().await.map_err($crate::store_error)?;
                    break Ok(value);
                }
                Err(liaison_domain::Error::Contention(_)) if attempt < $crate::WRITE_ATTEMPTS => {
                    drop($tx);
                    continue;
                }
                Err(e) => break Err(e),
            }
        }
    }};
}
pub(crate) use in_write_tx;
