//! Tokens and callers: creating, listing and revoking API tokens, and turning a bearer token
//! into the `Caller` every engine call takes. Verified tokens are cached briefly.

use crate::{Engine, in_write_tx, store_error};
use liaison_domain::scope::{Scope, ScopeSet};
use liaison_domain::time::{Instant, now};
use liaison_domain::{ConnectionId, Error, OrgId, Result, TokenId, secret};
use liaison_store::prelude::*;
use liaison_store::{Connection, Org, Store, Token, WriteTx};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::time::{Duration, Instant as Clock};

/// Prefix of every API token, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "lia_";
/// How long a verified token is trusted without asking the store again. A revocation made
/// through another instance takes effect within this time.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// Who is calling: resolved once per request from the bearer token.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub org: OrgId,
    pub connection: ConnectionId,
    pub token: TokenId,
    pub token_name: String,
    pub token_created_at: Instant,
    pub scopes: ScopeSet,
    /// The token's own requests per minute, when it has one.
    pub rate_limit: Option<NonZeroU32>,
}

impl Caller {
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
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<Caller> {
        let entries = self.entries.read().ok()?;
        let (caller, at) = entries.get(hash)?;
        (at.elapsed() < CACHE_TTL).then(|| caller.clone())
    }

    fn put(&self, hash: String, caller: Caller) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 10_000 {
                entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            entries.insert(hash, (caller, Clock::now()));
        }
    }

    fn forget(&self, token: TokenId) {
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|_, (c, _)| c.token != token);
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
        if let Some(caller) = self.tokens.get(&hash) {
            return Ok(caller);
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
            token: token.id,
            token_name: token.name,
            token_created_at: token.created_at,
            scopes: token.scopes,
            rate_limit: token.rate_limit,
        };
        self.tokens.put(hash, caller.clone());
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
        self.tokens.forget(id);
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
