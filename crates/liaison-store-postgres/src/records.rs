//! Synced records: reads by id, external id and list, reverse links, and writes.
//! (PostgreSQL.)

use super::*;

impl RecordsRead for PgTx {
    async fn get_record(&mut self, org: OrgId, id: RecordId) -> Result<Option<RecordRow>> {
        let sql = format!(
            "SELECT {} FROM records WHERE id = $1 AND org_id = $2{}",
            *RECORD_COLS,
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .bind(org.uuid());
        self.optional(q, record).await
    }

    async fn get_record_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        kind: RecordKind,
        external_id: &str,
    ) -> Result<Option<RecordRow>> {
        let sql = format!(
            "SELECT {} FROM records \
             WHERE org_id = $1 AND connection_id = $2 AND kind = $3 AND external_id = $4{}",
            *RECORD_COLS,
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(connection.uuid())
            .bind(kind.as_str())
            .bind(external_id);
        self.optional(q, record).await
    }

    async fn get_records(&mut self, org: OrgId, ids: &[RecordId]) -> Result<Vec<RecordRow>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {} FROM records WHERE org_id = $1 AND id = ANY($2)",
            *RECORD_COLS
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(uuids(ids));
        self.all(q, record).await
    }

    async fn list_records(&mut self, org: OrgId, q: &RecordQuery) -> Result<Vec<RecordRow>> {
        let plan = q.plan();
        let rows = list::select(org, &plan)
            .build()
            .fetch_all(self.c())
            .await
            .map_err(db)?;
        let out: Vec<RecordRow> = rows.iter().map(record).collect::<Result<_>>()?;
        Ok(plan.finish(out))
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
            "SELECT {} FROM records WHERE org_id = $1 AND ({column} = $2",
            *RECORD_COLS
        );
        if target_kind == RecordKind::Contact {
            sql.push_str(
                " OR id IN (SELECT opportunity_id FROM opportunity_contacts \
                 WHERE org_id = $1 AND contact_id = $2)",
            );
        }
        sql.push_str(") ORDER BY id");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(target.uuid());
        self.all(q, record).await
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
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT DISTINCT {cols} FROM crm_users c \
             JOIN participants p ON p.crm_user_id = c.id AND p.deleted_at IS NULL \
             JOIN records r ON r.id = p.parent_id WHERE c.user_id = "
        ));
        qb.push_bind(q.user.uuid());
        qb.push(" AND c.org_id = ").push_bind(org.uuid());
        qb.push(" AND r.kind = 'engagement' AND r.deleted_at IS NULL AND r.merged_into IS NULL");
        if let Some(k) = q.after {
            qb.push(" AND (r.sort_at, r.id) < (").push_bind(k.sort_at);
            qb.push(", ").push_bind(k.id).push(")");
        }
        if let Some(k) = q.before {
            qb.push(" AND (r.sort_at, r.id) > (").push_bind(k.sort_at);
            qb.push(", ").push_bind(k.id).push(")");
        }
        // A page before a key is the `limit` nearest to it, so it is read in ascending order
        // and turned around here.
        let backwards = q.before.is_some() && q.after.is_none();
        qb.push(if backwards {
            " ORDER BY r.sort_at ASC, r.id ASC"
        } else {
            " ORDER BY r.sort_at DESC, r.id DESC"
        });
        qb.push(" LIMIT ").push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        let mut out: Vec<RecordRow> = rows.iter().map(record).collect::<Result<_>>()?;
        if backwards {
            out.reverse();
        }
        Ok(out)
    }
}

impl RecordsWrite for PgTx {
    async fn insert_record(&mut self, r: &RecordRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO records ({}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23, $24, $25, $26, $27) ON CONFLICT DO NOTHING",
            *RECORD_WRITE_COLUMNS
        );
        let done = bind_record(sqlx::query(sqlx::AssertSqlSafe(sql)), r)
            .execute(self.c())
            .await
            .map_err(db)?;
        inserted(done, "records")?;
        if r.kind == RecordKind::Opportunity {
            list::put_contacts(self.c(), r.org, r.id.uuid(), &r.indexed.contacts, false).await?;
        }
        Ok(())
    }

    async fn update_record(&mut self, old: &RecordRow, r: &RecordRow) -> Result<()> {
        // Every column is set: `updated_at` is indexed and always changes, so PostgreSQL
        // cannot keep the update on the heap page (HOT) and writes every index entry anyway;
        // naming fewer columns would save bytes, not index writes. The only unique key an
        // update can break is the identity. Checking it in the same statement spares a
        // savepoint round trip per update; a key taken by a transaction still uncommitted is
        // the one case left to the constraint.
        let sql = "UPDATE records SET org_id = $2, connection_id = $3, kind = $4, \
            external_id = $5, account_id = $6, contact_id = $7, lead_id = $8, \
            opportunity_id = $9, owner_id = $10, engagement_type_id = $11, recording_id = $12, \
            sort_at = $13, remote_updated_at = $14, deleted_at = $15, merged_into = $16, \
            created_at = $17, updated_at = $18, data = $19, title = $20, start_time = $21, \
            end_time = $22, direction = $23, is_private = $24, remote_created_at = $25, \
            remote_data = $26, title_key = $27 WHERE id = $1 AND NOT EXISTS \
            (SELECT 1 FROM records WHERE org_id = $2 AND connection_id = $3 AND kind = $4 \
            AND external_id = $5 AND id <> $1)";
        let done = bind_record(sqlx::query(sql), r)
            .execute(self.c())
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            let taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM records WHERE org_id = $1 AND connection_id = $2 \
                 AND kind = $3 AND external_id = $4 AND id <> $5)",
            )
            .bind(r.org.uuid())
            .bind(r.connection.uuid())
            .bind(r.kind.as_str())
            .bind(r.external_id.as_str())
            .bind(r.id.uuid())
            .fetch_one(self.c())
            .await
            .map_err(db)?;
            if taken {
                return Err(key_taken("records"));
            }
        }
        if r.kind == RecordKind::Opportunity && old.indexed.contacts != r.indexed.contacts {
            list::put_contacts(self.c(), r.org, r.id.uuid(), &r.indexed.contacts, true).await?;
        }
        Ok(())
    }
}
