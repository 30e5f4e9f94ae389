//! Mobile events. (SQLite.)

use super::*;
use liaison_domain::model::MobileEvent;

impl MobileEventsRead for SqliteTx {
    async fn get_mobile_event(
        &mut self,
        org: OrgId,
        id: MobileEventId,
    ) -> Result<Option<MobileEvent>> {
        self.one(
            &format!(
                "SELECT {MOBILE_EVENT_COLUMNS} FROM mobile_events WHERE org_id = ?1 AND id = ?2"
            ),
            params![org.uuid(), id.uuid()],
            mobile_event,
        )
    }

    async fn list_mobile_events(
        &mut self,
        org: OrgId,
        query: &MobileEventQuery,
    ) -> Result<Vec<MobileEvent>> {
        let mut sql = Sql::new(String::new());
        query.render(org, &mut sql);
        self.built(&sql, mobile_event)
    }
}

impl MobileEventsWrite for SqliteTx {
    async fn insert_mobile_event(&mut self, e: &MobileEvent) -> Result<()> {
        self.exec(
            &format!("INSERT INTO mobile_events ({MOBILE_EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
            params![
                e.id.uuid(),
                e.org.uuid(),
                e.user.uuid(),
                e.recording.map(|r| r.uuid()),
                encode_opportunity_ids(&e.external_opportunity_ids),
                e.code.as_str(),
                encode_payload(&e.payload),
                ts(&e.created_at),
            ],
        )?;
        Ok(())
    }
}
