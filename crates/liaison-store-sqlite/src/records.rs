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
        let rows = self.built(&list::select(org, &plan), record)?;
        Ok(plan.finish(rows))
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
        let cols = list::cols("r", true, false);
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
                "INSERT INTO records ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                 ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, \
                 ?24, ?25, ?26, ?27)",
                *RECORD_WRITE_COLUMNS
            ),
            record_params(r),
        )?;
        if r.kind == RecordKind::Opportunity {
            list::put_contacts(self.c(), r.org, r.id.uuid(), &r.indexed.contacts, false)?;
        }
        Ok(())
    }

    async fn update_record(&mut self, old: &RecordRow, r: &RecordRow) -> Result<()> {
        // Only the columns that changed are set: SQLite then leaves alone every index that
        // covers none of them (most updates change a few fields and `updated_at`).
        let changed = changed_columns(old, r);
        let mut set = Vec::new();
        let mut values = Vec::new();
        for (i, value) in record_params(r).into_iter().enumerate() {
            if i == 0 || changed[i] {
                values.push(value);
                if i > 0 {
                    set.push(format!("{} = ?{}", RECORD_WRITE_NAMES[i], values.len()));
                }
            }
        }
        if !set.is_empty() {
            self.exec(
                &format!("UPDATE records SET {} WHERE id = ?1", set.join(", ")),
                rusqlite::params_from_iter(values),
            )?;
        }
        if r.kind == RecordKind::Opportunity && old.indexed.contacts != r.indexed.contacts {
            list::put_contacts(self.c(), r.org, r.id.uuid(), &r.indexed.contacts, true)?;
        }
        Ok(())
    }
}
