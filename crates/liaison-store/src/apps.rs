//! OAuth apps and the user access tokens issued to them: the rows, and the one page query
//! both kinds are listed with, rendered once for both backends.

use crate::{Instant, Key, Result, SqlOut, Value};
use liaison_domain::scope::AccessScope;
use liaison_domain::*;
use std::future::Future;
use uuid::Uuid;

/// An OAuth app of an organization. Its client secret is stored only as a hash.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OAuthApp {
    pub client_id: ClientId,
    pub org: OrgId,
    /// The connection of the token that registered it: what its access tokens act in.
    pub connection: ConnectionId,
    pub name: String,
    /// The workspace user it belongs to.
    pub owner: UserId,
    pub secret_hash: String,
    pub created_at: Instant,
    pub updated_at: Instant,
    pub deleted_at: Option<Instant>,
}

/// A user access token. The token itself is stored only as a hash.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccessToken {
    pub id: AccessTokenId,
    pub org: OrgId,
    pub client_id: ClientId,
    /// The workspace user it acts for: its subject.
    pub user: UserId,
    pub scope: AccessScope,
    pub hash: String,
    pub expires_at: Instant,
    pub created_at: Instant,
    pub updated_at: Instant,
    pub revoked_at: Option<Instant>,
}

/// The time a page of apps or tokens is ordered by (ties broken by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CredentialSort {
    #[default]
    Created,
    Updated,
}

impl CredentialSort {
    fn column(self) -> &'static str {
        match self {
            CredentialSort::Created => "created_at",
            CredentialSort::Updated => "updated_at",
        }
    }

    /// The position a row has in this order.
    pub fn key_of(self, created_at: Instant, updated_at: Instant, id: Uuid) -> Key {
        let sort_at = match self {
            CredentialSort::Created => created_at,
            CredentialSort::Updated => updated_at,
        };
        Key { sort_at, id }
    }
}

/// One page of apps or of tokens.
#[derive(Debug, Clone, Default)]
pub struct CredentialPage {
    /// Created strictly after, strictly before.
    pub created_after: Option<Instant>,
    pub created_before: Option<Instant>,
    pub sort: CredentialSort,
    pub descending: bool,
    /// Start after this position in the order.
    pub after: Option<Key>,
    /// Rows to skip (page-numbered lists).
    pub offset: u32,
    pub limit: u32,
}

/// An organization's apps, all or one owner's.
#[derive(Debug, Clone, Default)]
pub struct AppQuery {
    pub owner: Option<UserId>,
    pub page: CredentialPage,
}

/// An app's tokens, all or one user's.
#[derive(Debug, Clone, Default)]
pub struct AccessTokenQuery {
    pub client_id: ClientId,
    pub user: Option<UserId>,
    pub page: CredentialPage,
}

pub const APP_COLUMNS: &str = "client_id, org_id, connection_id, name, owner_id, secret_hash, \
                               created_at, updated_at, deleted_at";
pub const ACCESS_TOKEN_COLUMNS: &str = "id, org_id, client_id, user_id, scope, hash, expires_at, \
                                        created_at, updated_at, revoked_at";

impl AppQuery {
    /// `SELECT` of the page from `oauth_apps`.
    pub fn render(&self, org: OrgId, out: &mut impl SqlOut) {
        let mut eq = vec![("org_id", org.uuid())];
        eq.extend(self.owner.map(|o| ("owner_id", o.uuid())));
        self.page
            .render(APP_COLUMNS, "oauth_apps", "client_id", &eq, out);
    }
}

impl AccessTokenQuery {
    /// `SELECT` of the page from `access_tokens`.
    pub fn render(&self, org: OrgId, out: &mut impl SqlOut) {
        let mut eq = vec![("org_id", org.uuid()), ("client_id", self.client_id.uuid())];
        eq.extend(self.user.map(|u| ("user_id", u.uuid())));
        self.page
            .render(ACCESS_TOKEN_COLUMNS, "access_tokens", "id", &eq, out);
    }
}

impl CredentialPage {
    fn render(
        &self,
        columns: &str,
        table: &str,
        id: &str,
        eq: &[(&str, Uuid)],
        out: &mut impl SqlOut,
    ) {
        out.text(&format!("SELECT {columns} FROM {table} WHERE "));
        for (i, (column, value)) in eq.iter().enumerate() {
            if i > 0 {
                out.text(" AND ");
            }
            out.text(&format!("{column} = "));
            out.value(&Value::Id(*value));
        }
        if let Some(t) = self.created_after {
            out.text(" AND created_at > ");
            out.value(&Value::Time(t));
        }
        if let Some(t) = self.created_before {
            out.text(" AND created_at < ");
            out.value(&Value::Time(t));
        }
        let key = self.sort.column();
        let (cmp, dir) = if self.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        if let Some(after) = self.after {
            out.text(&format!(" AND ({key}, {id}) {cmp} ("));
            out.value(&Value::Time(after.sort_at));
            out.text(", ");
            out.value(&Value::Id(after.id));
            out.text(")");
        }
        // Both numbers are bounded integers: written, not bound.
        out.text(&format!(
            " ORDER BY {key} {dir}, {id} {dir} LIMIT {} OFFSET {}",
            self.limit, self.offset
        ));
    }
}

/// Apps and tokens, read.
pub trait AppsRead: Send {
    /// The app with this client id, in any organization (client ids are unique): a token
    /// request names only the app.
    fn get_app(&mut self, id: ClientId) -> impl Future<Output = Result<Option<OAuthApp>>> + Send;
    fn list_apps(
        &mut self,
        org: OrgId,
        query: &AppQuery,
    ) -> impl Future<Output = Result<Vec<OAuthApp>>> + Send;
    fn get_access_token(
        &mut self,
        id: AccessTokenId,
    ) -> impl Future<Output = Result<Option<AccessToken>>> + Send;
    fn get_access_token_by_hash(
        &mut self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<AccessToken>>> + Send;
    fn list_access_tokens(
        &mut self,
        org: OrgId,
        query: &AccessTokenQuery,
    ) -> impl Future<Output = Result<Vec<AccessToken>>> + Send;
}

/// Apps and tokens, written.
pub trait AppsWrite: AppsRead {
    fn insert_app(&mut self, app: &OAuthApp) -> impl Future<Output = Result<()>> + Send;
    /// Marks the app deleted and revokes its live tokens, at `at`. False when it was already
    /// deleted.
    fn delete_app(
        &mut self,
        id: ClientId,
        at: Instant,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn insert_access_token(&mut self, t: &AccessToken) -> impl Future<Output = Result<()>> + Send;
    /// False when it was already revoked.
    fn revoke_access_token(
        &mut self,
        id: AccessTokenId,
        at: Instant,
    ) -> impl Future<Output = Result<bool>> + Send;
}

impl<T: AppsRead> AppsRead for crate::ReadOnly<T> {
    fn get_app(&mut self, id: ClientId) -> impl Future<Output = Result<Option<OAuthApp>>> + Send {
        self.inner().get_app(id)
    }
    fn list_apps(
        &mut self,
        org: OrgId,
        query: &AppQuery,
    ) -> impl Future<Output = Result<Vec<OAuthApp>>> + Send {
        self.inner().list_apps(org, query)
    }
    fn get_access_token(
        &mut self,
        id: AccessTokenId,
    ) -> impl Future<Output = Result<Option<AccessToken>>> + Send {
        self.inner().get_access_token(id)
    }
    fn get_access_token_by_hash(
        &mut self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<AccessToken>>> + Send {
        self.inner().get_access_token_by_hash(hash)
    }
    fn list_access_tokens(
        &mut self,
        org: OrgId,
        query: &AccessTokenQuery,
    ) -> impl Future<Output = Result<Vec<AccessToken>>> + Send {
        self.inner().list_access_tokens(org, query)
    }
}
