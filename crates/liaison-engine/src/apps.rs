//! OAuth apps and user access tokens. An organization registers an app with one of its API
//! tokens; the app's client secret, shown once, lets it get access tokens that act for one
//! workspace user each, read-only or read-write, until they expire. Deleting an app revokes
//! its tokens. Secrets and tokens are kept only as hashes.

use crate::auth::Credential;
use crate::users::named_user;
use crate::{Caller, Engine, Page, in_write_tx, store_error};
use liaison_domain::field::AppField;
use liaison_domain::scope::{AccessScope, Scope};
use liaison_domain::time::{Instant, now};
use liaison_domain::*;
use liaison_store::prelude::*;
use liaison_store::{
    AccessToken, AccessTokenQuery, AppQuery, CredentialPage, CredentialSort, OAuthApp, Store,
};
use std::time::Duration;

/// Prefix of every user access token, so that a leaked one is recognisable.
pub const ACCESS_TOKEN_PREFIX: &str = "liat_";
/// Prefix of every client secret.
const CLIENT_SECRET_PREFIX: &str = "lics_";
/// Who every access token is meant for: this server's API.
pub const AUDIENCE: &str = "liaison";
/// How long an access token lives unless the server says otherwise.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(16 * 3600);
/// The longest lifetime a server may give its access tokens: a year.
pub const MAX_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(366 * 86_400);
/// The most apps or tokens one page holds.
pub const MAX_APP_PAGE: u32 = 100;

/// An app to register.
#[derive(Debug, Clone)]
pub struct AppIn {
    pub name: String,
    /// The workspace user it belongs to.
    pub owner: UserId,
    /// The organization the request names: it must be the caller's.
    pub organization: String,
}

/// An app as registered: its client secret is shown once, never stored.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub app: OAuthApp,
    pub secret: String,
}

/// An access token as issued: the token is shown once, never stored.
#[derive(Debug, Clone)]
pub struct NewAccessToken {
    pub token: AccessToken,
    pub secret: String,
}

/// A page of apps or tokens as a face asks for it: filters on the creation time, an order,
/// and either the cursor of the page wanted or its number (a cursor wins).
#[derive(Debug, Clone, Default)]
pub struct AppPage {
    pub created_after: Option<Instant>,
    pub created_before: Option<Instant>,
    pub sort: CredentialSort,
    pub descending: bool,
    pub cursor: Option<String>,
    /// From 1.
    pub page: Option<u32>,
    /// At most `MAX_APP_PAGE`.
    pub limit: u32,
}

fn invalid(field: AppField, message: impl Into<String>) -> Error {
    Error::Invalid(Issue::custom(vec![field.into()], message).into())
}

impl AppPage {
    /// What a cursor of this list is bound to: the same filters and order.
    fn fingerprint(&self, what: &str, scope: &str) -> String {
        format!(
            "{what}|{scope}|{:?}|{:?}|{:?}|{}",
            self.created_after, self.created_before, self.sort, self.descending
        )
    }
}

impl<S: Store> Engine<S> {
    /// The store's page for `page` (`limit + 1` rows, so that `finish_page` knows whether
    /// more follow).
    fn credential_page(&self, page: &AppPage, fingerprint: &str) -> Result<CredentialPage> {
        let limit = page.limit.clamp(1, MAX_APP_PAGE);
        let after = self.decode_cursor(fingerprint, page.cursor.as_deref())?;
        let offset = match (&after, page.page) {
            (None, Some(n)) => n
                .saturating_sub(1)
                .checked_mul(limit)
                .ok_or_else(|| Error::BadRequest("the page is past every result".into()))?,
            _ => 0,
        };
        Ok(CredentialPage {
            created_after: page.created_after,
            created_before: page.created_before,
            sort: page.sort,
            descending: page.descending,
            after,
            offset,
            limit: limit + 1,
        })
    }

    /// Registers an app of the caller's organization, owned by one of its users.
    pub async fn create_app(&self, caller: &Caller, input: AppIn) -> Result<NewApp> {
        caller.require_api_token()?;
        caller.require(Scope::UsersWrite)?;
        caller.require_org(&input.organization)?;
        in_write_tx!(self, tx => async {
            named_user(&mut tx, caller.org, input.owner, AppField::Owner).await?;
            let secret = secret::generate(CLIENT_SECRET_PREFIX);
            let at = now();
            let app = OAuthApp {
                client_id: ClientId::new(),
                org: caller.org,
                connection: caller.connection,
                name: input.name.clone(),
                owner: input.owner,
                secret_hash: secret::hash(&secret),
                created_at: at,
                updated_at: at,
                deleted_at: None,
            };
            tx.insert_app(&app).await.map_err(store_error)?;
            Ok(NewApp { app, secret })
        }.await)
    }

    /// One page of the organization's apps (deleted ones too), all or one owner's.
    pub async fn list_apps(
        &self,
        caller: &Caller,
        organization: &str,
        owner: Option<UserId>,
        page: &AppPage,
    ) -> Result<Page<OAuthApp>> {
        caller.require_api_token()?;
        caller.require(Scope::UsersRead)?;
        caller.require_org(organization)?;
        let owner_key = owner.map(|o| o.to_string()).unwrap_or_default();
        let fingerprint = page.fingerprint("apps", &format!("{}|{owner_key}", caller.org));
        let query = AppQuery {
            owner,
            page: self.credential_page(page, &fingerprint)?,
        };
        let mut tx = self.store.read().await.map_err(store_error)?;
        let apps = tx
            .list_apps(caller.org, &query)
            .await
            .map_err(store_error)?;
        let limit = query.page.limit - 1;
        Ok(self.finish_page(apps, limit, &fingerprint, |a| {
            page.sort
                .key_of(a.created_at, a.updated_at, a.client_id.uuid())
        }))
    }

    /// An app of the caller's organization, deleted or not.
    pub async fn get_app(&self, caller: &Caller, id: ClientId) -> Result<OAuthApp> {
        caller.require_api_token()?;
        caller.require(Scope::UsersRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        own_app(&mut tx, caller, id).await
    }

    /// Deletes an app softly and revokes its tokens. Deleting a deleted app changes nothing.
    pub async fn delete_app(&self, caller: &Caller, id: ClientId) -> Result<()> {
        caller.require_api_token()?;
        caller.require(Scope::UsersWrite)?;
        in_write_tx!(self, tx => async {
            own_app(&mut tx, caller, id).await?;
            tx.delete_app(id, now()).await.map_err(store_error)
        }.await)?;
        self.tokens.forget(
            |c| matches!(c.credential, Credential::Access { client_id, .. } if client_id == id),
        );
        Ok(())
    }

    /// Issues an access token of app `id` for `user`, to a caller that proves the app's
    /// client secret.
    pub async fn create_access_token(
        &self,
        caller: &Caller,
        id: ClientId,
        client_secret: &str,
        user: UserId,
        scope: AccessScope,
    ) -> Result<NewAccessToken> {
        caller.require_api_token()?;
        caller.require(Scope::UsersWrite)?;
        in_write_tx!(self, tx => async {
            let app = own_app(&mut tx, caller, id).await?;
            if app.deleted_at.is_some() {
                return Err(Error::Conflict("this OAuth app was deleted; it issues no tokens".into()));
            }
            if !secret::verify(client_secret, &app.secret_hash) {
                return Err(invalid(AppField::ClientSecret, "The client secret is not this app's"));
            }
            if named_user(&mut tx, caller.org, user, AppField::User).await?.disabled {
                return Err(invalid(AppField::User, format!("The user {user} is disabled")));
            }
            let secret = secret::generate(ACCESS_TOKEN_PREFIX);
            let at = now();
            let expires_at = chrono::Duration::from_std(self.access_token_ttl.min(MAX_ACCESS_TOKEN_TTL))
                .ok()
                .and_then(|ttl| at.checked_add_signed(ttl))
                .ok_or_else(|| Error::Internal("the access token lifetime is out of range".into()))?;
            let token = AccessToken {
                id: AccessTokenId::new(),
                org: caller.org,
                client_id: id,
                user,
                scope,
                hash: secret::hash(&secret),
                expires_at,
                created_at: at,
                updated_at: at,
                revoked_at: None,
            };
            tx.insert_access_token(&token).await.map_err(store_error)?;
            Ok(NewAccessToken { token, secret })
        }.await)
    }

    /// One page of an app's tokens (revoked and expired ones too), all or one user's.
    pub async fn list_access_tokens(
        &self,
        caller: &Caller,
        id: ClientId,
        user: Option<UserId>,
        page: &AppPage,
    ) -> Result<Page<AccessToken>> {
        caller.require_api_token()?;
        caller.require(Scope::UsersRead)?;
        let user_key = user.map(|u| u.to_string()).unwrap_or_default();
        let fingerprint = page.fingerprint("access_tokens", &format!("{id}|{user_key}"));
        let query = AccessTokenQuery {
            client_id: id,
            user,
            page: self.credential_page(page, &fingerprint)?,
        };
        let mut tx = self.store.read().await.map_err(store_error)?;
        own_app(&mut tx, caller, id).await?;
        let tokens = tx
            .list_access_tokens(caller.org, &query)
            .await
            .map_err(store_error)?;
        let limit = query.page.limit - 1;
        Ok(self.finish_page(tokens, limit, &fingerprint, |t| {
            page.sort.key_of(t.created_at, t.updated_at, t.id.uuid())
        }))
    }

    /// A token of app `id`.
    pub async fn get_access_token(
        &self,
        caller: &Caller,
        id: ClientId,
        token: AccessTokenId,
    ) -> Result<AccessToken> {
        caller.require_api_token()?;
        caller.require(Scope::UsersRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        own_access_token(&mut tx, caller, id, token).await
    }

    /// Revokes a token of app `id`, for a caller that proves the app's client secret and
    /// names the user the token acts for. Revoking a revoked token changes nothing.
    pub async fn revoke_access_token(
        &self,
        caller: &Caller,
        id: ClientId,
        token: AccessTokenId,
        client_secret: &str,
        user: UserId,
    ) -> Result<()> {
        caller.require_api_token()?;
        caller.require(Scope::UsersWrite)?;
        in_write_tx!(self, tx => async {
            let app = own_app(&mut tx, caller, id).await?;
            let t = own_access_token(&mut tx, caller, id, token).await?;
            if !secret::verify(client_secret, &app.secret_hash) {
                return Err(invalid(AppField::ClientSecret, "The client secret is not this app's"));
            }
            if t.user != user {
                return Err(invalid(AppField::User, format!("The token does not act for {user}")));
            }
            tx.revoke_access_token(token, now()).await.map_err(store_error)
        }.await)?;
        self.tokens
            .forget(|c| matches!(c.credential, Credential::Access { id: t, .. } if t == token));
        Ok(())
    }

    /// Resolves a user access token: live, unexpired, of a live app, for a user who is not
    /// disabled. Anything else is just "invalid".
    pub async fn authenticate_access(&self, presented: &str) -> Result<Caller> {
        let invalid = || Error::Unauthorized("invalid or expired access token".into());
        if !presented.starts_with(ACCESS_TOKEN_PREFIX) {
            return Err(invalid());
        }
        let hash = secret::hash(presented);
        let at = now();
        let generation = self.tokens.generation();
        if let Some(caller) = self.tokens.get(&hash) {
            return match caller.credential {
                Credential::Access { expires_at, .. } if expires_at > at => Ok(caller),
                _ => Err(invalid()),
            };
        }
        let mut tx = self.store.read().await.map_err(store_error)?;
        let token = tx
            .get_access_token_by_hash(&hash)
            .await
            .map_err(store_error)?
            .ok_or_else(invalid)?;
        // The lookup was by hash; compare again in constant time (see `authenticate`).
        if token.revoked_at.is_some()
            || token.expires_at <= at
            || !secret::verify(presented, &token.hash)
        {
            return Err(invalid());
        }
        let app = tx
            .get_app(token.client_id)
            .await
            .map_err(store_error)?
            .filter(|a| a.deleted_at.is_none() && a.org == token.org)
            .ok_or_else(invalid)?;
        let user = tx
            .get_user(token.org, token.user)
            .await
            .map_err(store_error)?
            .filter(|u| !u.disabled)
            .ok_or_else(invalid)?;
        let caller = Caller {
            org: token.org,
            connection: app.connection,
            scopes: token.scope.scopes(),
            rate_limit: None,
            credential: Credential::Access {
                id: token.id,
                client_id: token.client_id,
                user: token.user,
                admin: user.is_admin,
                expires_at: token.expires_at,
            },
        };
        self.tokens.put(hash, caller.clone(), generation);
        Ok(caller)
    }
}

/// App `id` when it is the caller's organization's; another's is not found.
async fn own_app<T: AppsRead>(tx: &mut T, caller: &Caller, id: ClientId) -> Result<OAuthApp> {
    tx.get_app(id)
        .await
        .map_err(store_error)?
        .filter(|a| a.org == caller.org)
        .ok_or(Error::NotFound("OAuth app"))
}

async fn own_access_token<T: AppsRead>(
    tx: &mut T,
    caller: &Caller,
    id: ClientId,
    token: AccessTokenId,
) -> Result<AccessToken> {
    own_app(tx, caller, id).await?;
    tx.get_access_token(token)
        .await
        .map_err(store_error)?
        .filter(|t| t.client_id == id && t.org == caller.org)
        .ok_or(Error::NotFound("Access token"))
}
