//! The outbox: events appended with their change, read in commit order.
//! (PostgreSQL.)

use super::*;

impl OutboxRead for PgTx {
    async fn list_events(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<Event>> {
        // This transaction's own events are written at commit, so they are not seen here.
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(after_seq)
            .bind(i64::from(limit));
        self.all(q, event).await
    }

    async fn outbox_span(&mut self) -> Result<Option<(i64, i64)>> {
        let (first, last): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT min(seq), max(seq) FROM events")
                .fetch_one(self.c())
                .await
                .map_err(db)?;
        Ok(first.zip(last))
    }

    async fn known_events(&mut self, ids: &[EventId]) -> Result<Vec<EventId>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let q = sqlx::query("SELECT id FROM events WHERE id = ANY($1)").bind(uuids(ids));
        self.all(q, event_id).await
    }
}

impl OutboxWrite for PgTx {
    async fn append_event(&mut self, e: &Event) -> Result<()> {
        if !self.write {
            return Err(StoreError::Backend(
                "append_event: a read session cannot write".into(),
            ));
        }
        self.events.push(e.clone());
        Ok(())
    }
}
