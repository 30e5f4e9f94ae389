//! The outbox: events appended with their change, read in commit order.
//! (SQLite.)

use super::*;

impl OutboxRead for SqliteTx {
    async fn list_events(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<Event>> {
        self.all(
            &format!(
                "SELECT {EVENT_COLS} FROM events WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ),
            params![org.uuid(), after_seq, i64::from(limit)],
            event,
        )
    }

    async fn outbox_span(&mut self) -> Result<Option<(i64, i64)>> {
        let span: (Option<i64>, Option<i64>) = self
            .c()
            .query_row("SELECT min(seq), max(seq) FROM events", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(db)?;
        Ok(span.0.zip(span.1))
    }

    async fn known_events(&mut self, ids: &[EventId]) -> Result<Vec<EventId>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut s = Sql::new("SELECT id FROM events WHERE id IN (".to_owned());
        s.bind_list(ids.iter().map(|i| i.uuid()));
        s.push(")");
        self.built(&s, event_id)
    }
}

impl OutboxWrite for SqliteTx {
    async fn append_event(&mut self, e: &Event) -> Result<()> {
        self.exec(
            "INSERT INTO events (id, org_id, entity, entity_id, action, before, after, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                e.id.uuid(),
                e.org.uuid(),
                e.entity.as_str(),
                e.entity_id,
                e.action.as_str(),
                e.before.as_deref(),
                e.after.as_deref(),
                ts(&e.at),
            ],
        )?;
        Ok(())
    }
}
