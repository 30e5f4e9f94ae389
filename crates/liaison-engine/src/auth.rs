//! Tokens and callers: creating, listing and revoking API tokens, and turning an API token or
//! a user access token into the `Caller` every engine call takes. Verified tokens are cached
//! briefly.

use crate::{Engine, in_write_tx, store_error};
use liaison_domain::scope::{Scope, ScopeSet};
use liaison_domain::time::{Instant, now};
use liaison_domain::{
    AccessTokenId, ClientId, ConnectionId, Error, OrgId, Result, TokenId, UserId, secret,
};
use liaison_store::prelude::*;
use liaison_store::{Connection, Org, Store, Token, WriteTx};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant as Clock};

/// Prefix of every API token, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "lia_";
/// How long a verified token is trusted without asking the store again. A revocation made
/// through another instance takes effect within this time.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// Who is calling: resolved once per request from its credential.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub org: OrgId,
    pub connection: ConnectionId,
    pub scopes: ScopeSet,
    /// The token's own requests per minute, when it has one.
    pub rate_limit: Option<NonZeroU32>,
    pub credential: Credential,
}

/// What a caller proved who it is with.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    /// An organization's API token.
    Token {
        id: TokenId,
        name: String,
        created_at: Instant,
    },
    /// A user access token of an OAuth app: it acts for one workspace user until it expires.
    Access {
        id: AccessTokenId,
        client_id: ClientId,
        user: UserId,
        /// Whether the user is an administrator of the organization.
        admin: bool,
        expires_at: Instant,
    },
}

impl Caller {
    /// The workspace user a user access token acts for; `None` for an API token.
    pub fn user(&self) -> Option<UserId> {
        match &self.credential {
            Credential::Access { user, .. } => Some(*user),
            Credential::Token { .. } => None,
        }
    }

    /// Whose recordings alone the caller may see and change: a user access token's user,
    /// unless that user administers the organization. `None`: the whole organization's.
    pub fn recorder(&self) -> Option<UserId> {
        match &self.credential {
            Credential::Access {
                user, admin: false, ..
            } => Some(*user),
            _ => None,
        }
    }

    /// What the caller's requests are counted under: its API token, or the app its access
    /// token was issued to (so that issuing more tokens buys no more requests).
    pub fn rate_key(&self) -> uuid::Uuid {
        match &self.credential {
            Credential::Token { id, .. } => id.uuid(),
            Credential::Access { client_id, .. } => client_id.uuid(),
        }
    }

    /// Refuses a user access token: what only an organization's API token may do.
    pub fn require_api_token(&self) -> Result<()> {
        match self.credential {
            Credential::Token { .. } => Ok(()),
            Credential::Access { .. } => Err(Error::Forbidden(
                "a user access token cannot do this; use an organization API token".into(),
            )),
        }
    }

    /// An organization a request names (by its id's text) must be the caller's: any other
    /// is not found.
    pub fn require_org(&self, named: &str) -> Result<()> {
        if OrgId::parse(named) == Some(self.org) {
            Ok(())
        } else {
            Err(Error::NotFound("Organization"))
        }
    }

    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this token lacks the `{scope}` scope"
            )))
        }
    }
}

/// A token as created: the secret is shown once, never stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: Token,
    pub secret: String,
}

#[derive(Default)]
pub(crate) struct TokenCache {
    entries: RwLock<HashMap<String, (Caller, Clock)>>,
    /// Counts the forgettings: a caller read from the store before one is not cached after
    /// it, so that a revocation racing a verification is never undone.
    generation: AtomicU64,
}

impl TokenCache {
    /// Taken before a token is read from the store, and handed back to `put`.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub(crate) fn get(&self, hash: &str) -> Option<Caller> {
        let entries = self.entries.read().ok()?;
        let (caller, at) = entries.get(hash)?;
        (at.elapsed() < CACHE_TTL).then(|| caller.clone())
    }

    pub(crate) fn put(&self, hash: String, caller: Caller, generation: u64) {
        if let Ok(mut entries) = self.entries.write() {
            // Checked under the lock `forget` takes: no forgetting can slip in between.
            if self.generation() != generation {
                return;
            }
            if entries.len() > 10_000 {
                entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            entries.insert(hash, (caller, Clock::now()));
        }
    }

    /// Forgets the callers of the tokens `gone` says are revoked.
    pub(crate) fn forget(&self, gone: impl Fn(&Caller) -> bool) {
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.retain(|_, (c, _)| !gone(c));
        }
    }
}

impl<S: Store> Engine<S> {
    /// Resolves a bearer token. Unknown and revoked tokens are both just "invalid".
    pub async fn authenticate(&self, bearer: &str) -> Result<Caller> {
        let invalid = || Error::Unauthorized("invalid API token".into());
        if !bearer.starts_with(TOKEN_PREFIX) {
            return Err(invalid());
        }
        let hash = secret::hash(bearer);
        let generation = self.tokens.generation();
        if let Some(caller) = self.tokens.get(&hash) {
            // The cache holds both kinds of credential; this one takes API tokens only.
            return match caller.credential {
                Credential::Token { .. } => Ok(caller),
                Credential::Access { .. } => Err(invalid()),
            };
        }
        let mut tx = self.store.read().await.map_err(store_error)?;
        let token = tx
            .get_token_by_hash(&hash)
            .await
            .map_err(store_error)?
            .ok_or_else(invalid)?;
        // The lookup was by hash; compare again in constant time so that no timing of the
        // index lookup can be turned into knowledge of a stored hash.
        if token.revoked_at.is_some() || !secret::verify(bearer, &token.hash) {
            return Err(invalid());
        }
        let caller = Caller {
            org: token.org,
            connection: token.connection,
            scopes: token.scopes,
            rate_limit: token.rate_limit,
            credential: Credential::Token {
                id: token.id,
                name: token.name,
                created_at: token.created_at,
            },
        };
        self.tokens.put(hash, caller.clone(), generation);
        Ok(caller)
    }

    /// Creates a token for `org`/`connection`, creating both when missing. `rate_limit`: its
    /// own requests per minute, instead of the server's default.
    pub async fn create_token(
        &self,
        org_name: &str,
        connection_name: &str,
        token_name: &str,
        scopes: ScopeSet,
        rate_limit: Option<NonZeroU32>,
    ) -> Result<NewToken> {
        if org_name.trim().is_empty() || connection_name.trim().is_empty() {
            return Err(Error::BadRequest(
                "organization and connection names must not be empty".into(),
            ));
        }
        in_write_tx!(self, tx => async {
            let (org, connection) = ensure_org_connection(&mut tx, org_name, connection_name).await?;
            let secret = secret::generate(TOKEN_PREFIX);
            let token = Token {
                id: TokenId::new(),
                org,
                connection,
                name: token_name.to_owned(),
                prefix: secret[..TOKEN_PREFIX.len() + 6].to_owned(),
                hash: secret::hash(&secret),
                scopes: scopes.clone(),
                created_at: now(),
                revoked_at: None,
                rate_limit,
            };
            tx.insert_token(&token).await.map_err(store_error)?;
            Ok(NewToken { token, secret })
        }.await)
    }

    /// On an empty database: creates organization `default`, its connection `default` and a
    /// token with every scope. `None` when the database already has an organization.
    pub async fn bootstrap(&self) -> Result<Option<NewToken>> {
        let mut tx = self.store.read().await.map_err(store_error)?;
        let orgs = tx.count_orgs().await.map_err(store_error)?;
        drop(tx);
        if orgs > 0 {
            return Ok(None);
        }
        self.create_token("default", "default", "bootstrap", Scope::all(), None)
            .await
            .map(Some)
    }

    pub async fn list_tokens(&self) -> Result<Vec<(Token, String)>> {
        let mut tx = self.store.read().await.map_err(store_error)?;
        let tokens = tx.list_tokens().await.map_err(store_error)?;
        let mut out = Vec::with_capacity(tokens.len());
        for t in tokens {
            let org = tx
                .get_org(t.org)
                .await
                .map_err(store_error)?
                .map(|o| o.name)
                .unwrap_or_default();
            out.push((t, org));
        }
        Ok(out)
    }

    /// Revokes a token; `NotFound` when there is no such live token.
    pub async fn revoke_token(&self, id: TokenId) -> Result<()> {
        let revoked = in_write_tx!(self, tx => async {
            if tx.get_token(id).await.map_err(store_error)?.is_none() {
                return Err(Error::NotFound("Token"));
            }
            tx.revoke_token(id, now()).await.map_err(store_error)
        }.await)?;
        self.tokens
            .forget(|c| matches!(c.credential, Credential::Token { id: t, .. } if t == id));
        if revoked {
            Ok(())
        } else {
            Err(Error::Conflict("the token was already revoked".into()))
        }
    }
}

async fn ensure_org_connection<T: WriteTx>(
    tx: &mut T,
    org_name: &str,
    connection_name: &str,
) -> Result<(OrgId, ConnectionId)> {
    let org = match tx.get_org_by_name(org_name).await.map_err(store_error)? {
        Some(o) => o,
        None => {
            let o = Org {
                id: OrgId::new(),
                name: org_name.to_owned(),
                created_at: now(),
            };
            tx.insert_org(&o).await.map_err(store_error)?;
            o
        }
    };
    let connection = match tx
        .get_connection_by_name(org.id, connection_name)
        .await
        .map_err(store_error)?
    {
        Some(c) => c,
        None => {
            let c = Connection {
                id: ConnectionId::new(),
                org: org.id,
                name: connection_name.to_owned(),
                created_at: now(),
            };
            tx.insert_connection(&c).await.map_err(store_error)?;
            c
        }
    };
    Ok((org.id, connection.id))
}
