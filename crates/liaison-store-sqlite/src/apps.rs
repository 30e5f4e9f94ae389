//! OAuth apps and their user access tokens. (SQLite.)

use super::*;

impl AppsRead for SqliteTx {
    async fn get_app(&mut self, id: ClientId) -> Result<Option<OAuthApp>> {
        self.one(
            &format!("SELECT {APP_COLUMNS} FROM oauth_apps WHERE client_id = ?1"),
            params![id.uuid()],
            app,
        )
    }

    async fn list_apps(&mut self, org: OrgId, query: &AppQuery) -> Result<Vec<OAuthApp>> {
        let mut sql = Sql::new(String::new());
        query.render(org, &mut sql);
        self.built(&sql, app)
    }

    async fn get_access_token(&mut self, id: AccessTokenId) -> Result<Option<AccessToken>> {
        self.one(
            &format!("SELECT {ACCESS_TOKEN_COLUMNS} FROM access_tokens WHERE id = ?1"),
            params![id.uuid()],
            access_token,
        )
    }

    async fn get_access_token_by_hash(&mut self, hash: &str) -> Result<Option<AccessToken>> {
        self.one(
            &format!("SELECT {ACCESS_TOKEN_COLUMNS} FROM access_tokens WHERE hash = ?1"),
            params![hash],
            access_token,
        )
    }

    async fn list_access_tokens(
        &mut self,
        org: OrgId,
        query: &AccessTokenQuery,
    ) -> Result<Vec<AccessToken>> {
        let mut sql = Sql::new(String::new());
        query.render(org, &mut sql);
        self.built(&sql, access_token)
    }
}

impl AppsWrite for SqliteTx {
    async fn insert_app(&mut self, a: &OAuthApp) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO oauth_apps ({APP_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                a.client_id.uuid(),
                a.org.uuid(),
                a.connection.uuid(),
                a.name.as_str(),
                a.owner.uuid(),
                a.secret_hash.as_str(),
                ts(&a.created_at),
                ts(&a.updated_at),
                ots(&a.deleted_at),
            ],
        )?;
        Ok(())
    }

    async fn delete_app(&mut self, id: ClientId, at: DateTime<Utc>) -> Result<bool> {
        let n = self.exec(
            "UPDATE oauth_apps SET deleted_at = ?2, updated_at = ?2 \
             WHERE client_id = ?1 AND deleted_at IS NULL",
            params![id.uuid(), ts(&at)],
        )?;
        self.revoke_tokens_where("client_id", id.uuid(), at)?;
        Ok(n > 0)
    }

    async fn insert_access_token(&mut self, t: &AccessToken) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO access_tokens ({ACCESS_TOKEN_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            params![
                t.id.uuid(),
                t.org.uuid(),
                t.client_id.uuid(),
                t.user.uuid(),
                t.scope.as_str(),
                t.hash.as_str(),
                ts(&t.expires_at),
                ts(&t.created_at),
                ts(&t.updated_at),
                ots(&t.revoked_at),
            ],
        )?;
        Ok(())
    }

    async fn revoke_access_token(&mut self, id: AccessTokenId, at: DateTime<Utc>) -> Result<bool> {
        Ok(self.revoke_tokens_where("id", id.uuid(), at)? > 0)
    }
}

impl SqliteTx {
    /// Revokes the live access tokens whose `column` is `value`: how many.
    fn revoke_tokens_where(
        &self,
        column: &str,
        value: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> Result<usize> {
        self.exec(
            &format!(
                "UPDATE access_tokens SET revoked_at = ?2, updated_at = ?2 \
                 WHERE {column} = ?1 AND revoked_at IS NULL"
            ),
            params![value, ts(&at)],
        )
    }
}
