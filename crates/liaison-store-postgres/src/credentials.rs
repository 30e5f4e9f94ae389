//! Organizations, connections, tokens, and the settings every instance shares.
//! (PostgreSQL.)

use super::*;

impl CredentialsRead for PgTx {
    async fn get_org_by_name(&mut self, name: &str) -> Result<Option<Org>> {
        let q = sqlx::query("SELECT id, name, created_at FROM orgs WHERE name = $1").bind(name);
        self.optional(q, org).await
    }

    async fn get_org(&mut self, id: OrgId) -> Result<Option<Org>> {
        let q = sqlx::query("SELECT id, name, created_at FROM orgs WHERE id = $1").bind(id.uuid());
        self.optional(q, org).await
    }

    async fn count_orgs(&mut self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM orgs")
            .fetch_one(self.c())
            .await
            .map_err(db)?;
        row.try_get(0).map_err(db)
    }

    async fn list_orgs(&mut self) -> Result<Vec<Org>> {
        let q = sqlx::query("SELECT id, name, created_at FROM orgs ORDER BY id");
        self.all(q, org).await
    }

    async fn list_connections(&mut self, org: OrgId) -> Result<Vec<Connection>> {
        let q = sqlx::query(
            "SELECT id, org_id, name, created_at FROM connections WHERE org_id = $1 ORDER BY id",
        )
        .bind(org.uuid());
        self.all(q, connection).await
    }

    async fn get_connection_by_name(
        &mut self,
        org: OrgId,
        name: &str,
    ) -> Result<Option<Connection>> {
        let q = sqlx::query(
            "SELECT id, org_id, name, created_at FROM connections WHERE org_id = $1 AND name = $2",
        )
        .bind(org.uuid())
        .bind(name);
        self.optional(q, connection).await
    }

    async fn get_token_by_hash(&mut self, hash: &str) -> Result<Option<Token>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = $1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(hash);
        self.optional(q, token).await
    }

    async fn get_token(&mut self, id: TokenId) -> Result<Option<Token>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = $1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.uuid());
        self.optional(q, token).await
    }

    async fn list_tokens(&mut self) -> Result<Vec<Token>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY id");
        self.all(sqlx::query(sqlx::AssertSqlSafe(sql)), token).await
    }

    async fn get_setting(&mut self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(self.c())
            .await
            .map_err(db)?;
        row.map(|r| r.try_get(0).map_err(db)).transpose()
    }

    async fn list_settings(&mut self) -> Result<Vec<(String, String)>> {
        let q = sqlx::query("SELECT key, value FROM settings ORDER BY key");
        self.all(q, setting).await
    }
}

impl CredentialsWrite for PgTx {
    async fn insert_org(&mut self, o: &Org) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(o.id.uuid())
        .bind(o.name.as_str())
        .bind(o.created_at)
        .execute(self.c())
        .await
        .map_err(db)?;
        inserted(done, "orgs")
    }

    async fn insert_connection(&mut self, c: &Connection) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO connections (id, org_id, name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(c.id.uuid())
        .bind(c.org.uuid())
        .bind(c.name.as_str())
        .bind(c.created_at)
        .execute(self.c())
        .await
        .map_err(db)?;
        inserted(done, "connections")
    }

    async fn insert_token(&mut self, t: &Token) -> Result<()> {
        let sql = format!(
            "INSERT INTO tokens ({TOKEN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT DO NOTHING"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id.uuid())
            .bind(t.org.uuid())
            .bind(t.connection.uuid())
            .bind(t.name.as_str())
            .bind(t.prefix.as_str())
            .bind(t.hash.as_str())
            .bind(t.scopes.to_string())
            .bind(t.created_at)
            .bind(t.revoked_at)
            .bind(rate_limit_column(t.rate_limit))
            .execute(self.c())
            .await
            .map_err(db)?;
        inserted(done, "tokens")
    }

    async fn revoke_token(&mut self, id: TokenId, at: Instant) -> Result<bool> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.uuid())
                .bind(at)
                .execute(self.c())
                .await
                .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_setting_if_absent(&mut self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(self.c())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn put_setting(&mut self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(self.c())
        .await
        .map_err(db)?;
        Ok(())
    }
}
