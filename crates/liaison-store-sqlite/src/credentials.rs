//! Organizations, connections, tokens, and the settings every instance shares.
//! (SQLite.)

use super::*;

impl CredentialsRead for SqliteTx {
    async fn get_org_by_name(&mut self, name: &str) -> Result<Option<Org>> {
        self.one(
            "SELECT id, name, created_at FROM orgs WHERE name = ?1",
            params![name],
            org,
        )
    }

    async fn get_org(&mut self, id: OrgId) -> Result<Option<Org>> {
        self.one(
            "SELECT id, name, created_at FROM orgs WHERE id = ?1",
            params![id.uuid()],
            org,
        )
    }

    async fn count_orgs(&mut self) -> Result<i64> {
        self.c()
            .query_row("SELECT COUNT(*) FROM orgs", [], |r| r.get(0))
            .map_err(db)
    }

    async fn list_orgs(&mut self) -> Result<Vec<Org>> {
        self.all("SELECT id, name, created_at FROM orgs ORDER BY id", [], org)
    }

    async fn list_connections(&mut self, org: OrgId) -> Result<Vec<liaison_store::Connection>> {
        self.all(
            "SELECT id, org_id, name, created_at FROM connections WHERE org_id = ?1 ORDER BY id",
            params![org.uuid()],
            connection,
        )
    }

    async fn get_connection_by_name(
        &mut self,
        org: OrgId,
        name: &str,
    ) -> Result<Option<liaison_store::Connection>> {
        self.one(
            "SELECT id, org_id, name, created_at FROM connections WHERE org_id = ?1 AND name = ?2",
            params![org.uuid(), name],
            connection,
        )
    }

    async fn get_token_by_hash(&mut self, hash: &str) -> Result<Option<Token>> {
        self.one(
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = ?1"),
            params![hash],
            token,
        )
    }

    async fn get_token(&mut self, id: TokenId) -> Result<Option<Token>> {
        self.one(
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = ?1"),
            params![id.uuid()],
            token,
        )
    }

    async fn list_tokens(&mut self) -> Result<Vec<Token>> {
        self.all(
            &format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY id"),
            [],
            token,
        )
    }

    async fn get_setting(&mut self, key: &str) -> Result<Option<String>> {
        self.c()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)
    }

    async fn list_settings(&mut self) -> Result<Vec<(String, String)>> {
        self.all("SELECT key, value FROM settings ORDER BY key", [], setting)
    }
}

impl CredentialsWrite for SqliteTx {
    async fn insert_org(&mut self, o: &Org) -> Result<()> {
        self.exec(
            "INSERT INTO orgs (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![o.id.uuid(), o.name.as_str(), ts(&o.created_at)],
        )?;
        Ok(())
    }

    async fn insert_connection(&mut self, c: &liaison_store::Connection) -> Result<()> {
        self.exec(
            "INSERT INTO connections (id, org_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                c.id.uuid(),
                c.org.uuid(),
                c.name.as_str(),
                ts(&c.created_at)
            ],
        )?;
        Ok(())
    }

    async fn insert_token(&mut self, t: &Token) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO tokens ({TOKEN_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            params![
                t.id.uuid(),
                t.org.uuid(),
                t.connection.uuid(),
                t.name.as_str(),
                t.prefix.as_str(),
                t.hash.as_str(),
                t.scopes.to_string(),
                ts(&t.created_at),
                ots(&t.revoked_at),
                rate_limit_column(t.rate_limit),
            ],
        )?;
        Ok(())
    }

    async fn revoke_token(&mut self, id: TokenId, at: DateTime<Utc>) -> Result<bool> {
        let n = self.exec(
            "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id.uuid(), ts(&at)],
        )?;
        Ok(n > 0)
    }

    async fn put_setting_if_absent(&mut self, key: &str, value: &str) -> Result<()> {
        self.exec(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            params![key, value],
        )?;
        Ok(())
    }

    async fn put_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.exec(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}
