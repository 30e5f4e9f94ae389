//! OAuth apps and their user access tokens. (PostgreSQL.)

use super::*;
use list::Pg;

impl AppsRead for PgTx {
    async fn get_app(&mut self, id: ClientId) -> Result<Option<OAuthApp>> {
        let sql = format!("SELECT {APP_COLUMNS} FROM oauth_apps WHERE client_id = $1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.uuid());
        self.optional(q, app).await
    }

    async fn list_apps(&mut self, org: OrgId, query: &AppQuery) -> Result<Vec<OAuthApp>> {
        let mut out = Pg(QueryBuilder::new(""));
        query.render(org, &mut out);
        let rows = out.0.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(app).collect()
    }

    async fn get_access_token(&mut self, id: AccessTokenId) -> Result<Option<AccessToken>> {
        let sql = format!("SELECT {ACCESS_TOKEN_COLUMNS} FROM access_tokens WHERE id = $1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.uuid());
        self.optional(q, access_token).await
    }

    async fn get_access_token_by_hash(&mut self, hash: &str) -> Result<Option<AccessToken>> {
        let sql = format!("SELECT {ACCESS_TOKEN_COLUMNS} FROM access_tokens WHERE hash = $1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(hash.to_owned());
        self.optional(q, access_token).await
    }

    async fn list_access_tokens(
        &mut self,
        org: OrgId,
        query: &AccessTokenQuery,
    ) -> Result<Vec<AccessToken>> {
        let mut out = Pg(QueryBuilder::new(""));
        query.render(org, &mut out);
        let rows = out.0.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(access_token).collect()
    }
}

impl AppsWrite for PgTx {
    async fn insert_app(&mut self, a: &OAuthApp) -> Result<()> {
        let sql = format!(
            "INSERT INTO oauth_apps ({APP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT DO NOTHING"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(a.client_id.uuid())
            .bind(a.org.uuid())
            .bind(a.connection.uuid())
            .bind(a.name.as_str())
            .bind(a.owner.uuid())
            .bind(a.secret_hash.as_str())
            .bind(a.created_at)
            .bind(a.updated_at)
            .bind(a.deleted_at)
            .execute(self.c())
            .await
            .map_err(db)?;
        inserted(done, "oauth_apps")
    }

    async fn delete_app(&mut self, id: ClientId, at: Instant) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE oauth_apps SET deleted_at = $2, updated_at = $2 \
             WHERE client_id = $1 AND deleted_at IS NULL",
        )
        .bind(id.uuid())
        .bind(at)
        .execute(self.c())
        .await
        .map_err(db)?;
        self.revoke_tokens_where("client_id", id.uuid(), at).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_access_token(&mut self, t: &AccessToken) -> Result<()> {
        let sql = format!(
            "INSERT INTO access_tokens ({ACCESS_TOKEN_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id.uuid())
            .bind(t.org.uuid())
            .bind(t.client_id.uuid())
            .bind(t.user.uuid())
            .bind(t.scope.as_str())
            .bind(t.hash.as_str())
            .bind(t.expires_at)
            .bind(t.created_at)
            .bind(t.updated_at)
            .bind(t.revoked_at)
            .execute(self.c())
            .await
            .map_err(db)?;
        inserted(done, "access_tokens")
    }

    async fn revoke_access_token(&mut self, id: AccessTokenId, at: Instant) -> Result<bool> {
        Ok(self.revoke_tokens_where("id", id.uuid(), at).await? > 0)
    }
}

impl PgTx {
    /// Revokes the live access tokens whose `column` is `value`: how many.
    async fn revoke_tokens_where(&mut self, column: &str, value: Uuid, at: Instant) -> Result<u64> {
        let sql = format!(
            "UPDATE access_tokens SET revoked_at = $2, updated_at = $2 \
             WHERE {column} = $1 AND revoked_at IS NULL"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .bind(at)
            .execute(self.c())
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }
}
