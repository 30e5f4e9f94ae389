//! Mobile events. (PostgreSQL.)

use super::*;
use list::Pg;

impl MobileEventsRead for PgTx {
    async fn get_mobile_event(
        &mut self,
        org: OrgId,
        id: MobileEventId,
    ) -> Result<Option<MobileEvent>> {
        let sql = format!(
            "SELECT {MOBILE_EVENT_COLUMNS} FROM mobile_events WHERE org_id = $1 AND id = $2"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(id.uuid());
        self.optional(q, mobile_event).await
    }

    async fn list_mobile_events(
        &mut self,
        org: OrgId,
        query: &MobileEventQuery,
    ) -> Result<Vec<MobileEvent>> {
        let mut out = Pg(QueryBuilder::new(""));
        query.render(org, &mut out);
        let rows = out.0.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(mobile_event).collect()
    }
}

impl MobileEventsWrite for PgTx {
    async fn insert_mobile_event(&mut self, e: &MobileEvent) -> Result<()> {
        let sql = format!(
            "INSERT INTO mobile_events ({MOBILE_EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT DO NOTHING"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(e.id.uuid())
            .bind(e.org.uuid())
            .bind(e.user.uuid())
            .bind(e.recording.map(|r| r.uuid()))
            .bind(encode_opportunity_ids(&e.external_opportunity_ids))
            .bind(e.code.as_str())
            .bind(encode_payload(&e.payload))
            .bind(e.created_at)
            .execute(self.c())
            .await
            .map_err(db)?;
        inserted(done, "mobile_events")
    }
}
