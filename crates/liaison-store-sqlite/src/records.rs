//! Synced records: reads by id, external id and list, reverse links, and writes.
//! (SQLite.)

use super::*;

impl RecordsRead for SqliteTx {
    async fn get_record(&mut self, org: OrgId, id: RecordId) -> Result<Option<RecordRow>> {
        self.one(
            &format!(
                "SELECT {} FROM records WHERE id = ?1 AND org_id = ?2",
                *RECORD_COLS
            ),
            params![id.uuid(), org.uuid()],
            record,
        )
    }

    async fn get_record_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        kind: RecordKind,
        external_id: &str,
    ) -> Result<Option<RecordRow>> {
        self.one(
            &format!(
                "SELECT {} FROM records \
                 WHERE org_id = ?1 AND connection_id = ?2 AND kind = ?3 AND external_id = ?4",
                *RECORD_COLS
            ),
            params![org.uuid(), connection.uuid(), kind.as_str(), external_id],
            record,
        )
    }

    async fn get_records(&mut self, org: OrgId, ids: &[RecordId]) -> Result<Vec<RecordRow>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        self.built(&by_ids(&RECORD_COLS, "records", org, ids), record)
    }

    async fn list_records(&mut self, org: OrgId, q: &RecordQuery) -> Result<Vec<RecordRow>> {
        let plan = q.plan();
        let mut rows = self.built(&list::select(org, &plan), record)?;
        if plan.reverse {
            rows.reverse();
        }
        Ok(rows)
    }

    async fn records_referencing(
        &mut self,
        org: OrgId,
        target_kind: RecordKind,
        target: RecordId,
    ) -> Result<Vec<RecordRow>> {
        let column = match target_kind {
            RecordKind::Account => "account_id",
            RecordKind::Contact => "contact_id",
            RecordKind::Lead => "lead_id",
            RecordKind::Opportunity => "opportunity_id",
            RecordKind::Engagement => return Ok(vec![]),
        };
        let mut sql = format!(
            "SELECT {} FROM records WHERE org_id = ?1 AND ({column} = ?2",
            *RECORD_COLS
        );
        if target_kind == RecordKind::Contact {
            sql.push_str(
                " OR id IN (SELECT opportunity_id FROM opportunity_contacts \
                 WHERE org_id = ?1 AND contact_id = ?2)",
            );
        }
        sql.push_str(") ORDER BY id");
        self.all(&sql, params![org.uuid(), target.uuid()], record)
    }

    async fn list_user_engagements(
        &mut self,
        org: OrgId,
        q: &UserEngagementQuery,
    ) -> Result<Vec<RecordRow>> {
        let cols = list::record_cols("r");
        // From the rep outwards: their CRM users, those users' live places on records, the
        // live engagements among them. Its cost follows the rep's engagements, not the
        // organization's.
        let mut s = Sql::new(format!(
            "SELECT DISTINCT {cols} FROM crm_users c \
             JOIN participants p ON p.crm_user_id = c.id AND p.deleted_at IS NULL \
             JOIN records r ON r.id = p.parent_id \
             WHERE c.user_id = "
        ));
        s.bind(q.user.uuid());
        s.push(" AND c.org_id = ").bind(org.uuid());
        s.push(" AND r.kind = 'engagement' AND r.deleted_at IS NULL AND r.merged_into IS NULL");
        if let Some(k) = &q.after {
            s.push(" AND (r.sort_at, r.id) < (").bind(ts(&k.sort_at));
            s.push(", ").bind(k.id).push(")");
        }
        if let Some(k) = &q.before {
            s.push(" AND (r.sort_at, r.id) > (").bind(ts(&k.sort_at));
            s.push(", ").bind(k.id).push(")");
        }
        // A page before a key is the `limit` nearest to it, so it is read in ascending order
        // and turned around.
        let backwards = q.before.is_some() && q.after.is_none();
        s.push(if backwards {
            " ORDER BY r.sort_at ASC, r.id ASC"
        } else {
            " ORDER BY r.sort_at DESC, r.id DESC"
        });
        s.push(" LIMIT ").bind(i64::from(q.limit));
        let mut out = self.built(&s, record)?;
        if backwards {
            out.reverse();
        }
        Ok(out)
    }
}

impl RecordsWrite for SqliteTx {
    async fn insert_record(&mut self, r: &RecordRow) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO records ({RECORD_WRITE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                 ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, \
                 ?24, ?25, ?26, ?27)"
            ),
            record_params(r),
        )?;
        if r.kind == RecordKind::Opportunity {
            list::put_contacts(self.c(), r.org, r.id.uuid(), &r.indexed.contacts, false)?;
        }
        Ok(())
    }

    async fn update_record(&mut self, r: &RecordRow) -> Result<()> {
        self.exec(
            "UPDATE records SET org_id = ?2, connection_id = ?3, kind = ?4, \
             external_id = ?5, account_id = ?6, contact_id = ?7, lead_id = ?8, \
             opportunity_id = ?9, owner_id = ?10, engagement_type_id = ?11, recording_id = ?12, \
             sort_at = ?13, remote_updated_at = ?14, deleted_at = ?15, merged_into = ?16, \
             created_at = ?17, updated_at = ?18, data = ?19, title = ?20, start_time = ?21, \
             end_time = ?22, direction = ?23, is_private = ?24, remote_created_at = ?25, \
             remote_data = ?26, title_key = ?27 WHERE id = ?1",
            record_params(r),
        )?;
        if r.kind == RecordKind::Opportunity {
            list::put_contacts(self.c(), r.org, r.id.uuid(), &r.indexed.contacts, true)?;
        }
        Ok(())
    }
}
