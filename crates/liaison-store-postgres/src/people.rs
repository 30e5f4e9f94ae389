//! The people around records: engagement types, CRM users, workspace users, participants.
//! (PostgreSQL.)

use super::*;

impl PeopleRead for PgTx {
    async fn get_engagement_types(
        &mut self,
        org: OrgId,
        ids: &[EngagementTypeId],
    ) -> Result<Vec<EngagementType>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql =
            format!("SELECT {TYPE_COLS} FROM engagement_types WHERE org_id = $1 AND id = ANY($2)");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(uuids(ids));
        self.all(q, engagement_type).await
    }

    async fn find_engagement_type(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: Option<&str>,
        name: &str,
    ) -> Result<Option<EngagementType>> {
        let lock = self.lock();
        let q = match external_id {
            Some(ext) => {
                let sql = format!(
                    "SELECT {TYPE_COLS} FROM engagement_types \
                     WHERE org_id = $1 AND connection_id = $2 AND external_id = $3{lock}"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(org.uuid())
                    .bind(connection.uuid())
                    .bind(ext)
            }
            None => {
                let sql = format!(
                    "SELECT {TYPE_COLS} FROM engagement_types WHERE org_id = $1 \
                     AND connection_id = $2 AND external_id IS NULL AND name = $3{lock}"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(org.uuid())
                    .bind(connection.uuid())
                    .bind(name)
            }
        };
        self.optional(q, engagement_type).await
    }

    async fn get_crm_users(&mut self, org: OrgId, ids: &[CrmUserId]) -> Result<Vec<CrmUser>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql =
            format!("SELECT {CRM_USER_COLS} FROM crm_users WHERE org_id = $1 AND id = ANY($2)");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(uuids(ids));
        self.all(q, crm_user).await
    }

    async fn get_crm_user_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<Option<CrmUser>> {
        let sql = format!(
            "SELECT {CRM_USER_COLS} FROM crm_users \
             WHERE org_id = $1 AND connection_id = $2 AND external_id = $3{}",
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(connection.uuid())
            .bind(external_id);
        self.optional(q, crm_user).await
    }

    async fn list_crm_users(
        &mut self,
        org: OrgId,
        after: Option<CrmUserId>,
        limit: u32,
    ) -> Result<Vec<CrmUser>> {
        // A missing cursor reads as the nil UUID, below every real id.
        let sql = format!(
            "SELECT {CRM_USER_COLS} FROM crm_users WHERE org_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(after.map_or(Uuid::nil(), CrmUserId::uuid))
            .bind(i64::from(limit));
        self.all(q, crm_user).await
    }

    async fn list_engagement_types(
        &mut self,
        org: OrgId,
        after: Option<EngagementTypeId>,
        limit: u32,
    ) -> Result<Vec<EngagementType>> {
        // A missing cursor reads as the nil UUID, below every real id.
        let sql = format!(
            "SELECT {TYPE_COLS} FROM engagement_types WHERE org_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(after.map_or(Uuid::nil(), EngagementTypeId::uuid))
            .bind(i64::from(limit));
        self.all(q, engagement_type).await
    }

    async fn crm_users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> Result<Vec<CrmUser>> {
        let keys = (external_id, email_key, name_key);
        self.matching(CRM_USER_COLS, "crm_users", org, keys, crm_user)
            .await
    }

    async fn get_user(&mut self, org: OrgId, id: UserId) -> Result<Option<WorkspaceUser>> {
        let sql = format!(
            "SELECT {USER_COLS} FROM users WHERE id = $1 AND org_id = $2{}",
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .bind(org.uuid());
        self.optional(q, user).await
    }

    async fn list_users(&mut self, org: OrgId, q: &UserQuery) -> Result<Vec<WorkspaceUser>> {
        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {USER_COLS} FROM users WHERE org_id = "));
        qb.push_bind(org.uuid());
        if let Some(d) = q.disabled {
            qb.push(" AND disabled = ").push_bind(d);
        }
        if let Some(e) = &q.external_id {
            qb.push(" AND external_id = ").push_bind(e.clone());
        }
        if let Some(a) = q.after {
            qb.push(" AND id > ").push_bind(a.uuid());
        }
        qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(user).collect()
    }

    async fn users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> Result<Vec<WorkspaceUser>> {
        let keys = (external_id, email_key, name_key);
        self.matching(USER_COLS, "users", org, keys, user).await
    }

    async fn get_participant(
        &mut self,
        org: OrgId,
        id: ParticipantId,
    ) -> Result<Option<Participant>> {
        let sql = format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE id = $1 AND org_id = $2{}",
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .bind(org.uuid());
        self.optional(q, participant).await
    }

    async fn find_participant(
        &mut self,
        org: OrgId,
        parent: RecordId,
        crm_user: CrmUserId,
    ) -> Result<Option<Participant>> {
        let sql = format!(
            "SELECT {PARTICIPANT_COLS} FROM participants \
             WHERE org_id = $1 AND parent_id = $2 AND crm_user_id = $3{}",
            self.lock()
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(parent.uuid())
            .bind(crm_user.uuid());
        self.optional(q, participant).await
    }

    async fn get_participants(
        &mut self,
        org: OrgId,
        ids: &[ParticipantId],
    ) -> Result<Vec<Participant>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = $1 AND id = ANY($2)"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(uuids(ids));
        self.all(q, participant).await
    }

    async fn participants_of(
        &mut self,
        org: OrgId,
        parents: &[RecordId],
    ) -> Result<Vec<Participant>> {
        if parents.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = $1 \
             AND deleted_at IS NULL AND parent_id = ANY($2) ORDER BY id"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(uuids(parents));
        self.all(q, participant).await
    }

    async fn list_participants(
        &mut self,
        org: OrgId,
        kind: ParentKind,
        q: &ParticipantQuery,
    ) -> Result<Vec<Participant>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = "
        ));
        qb.push_bind(org.uuid());
        qb.push(" AND parent_kind = ").push_bind(kind.as_str());
        if !q.include_deleted {
            qb.push(" AND deleted_at IS NULL");
        }
        if let Some(p) = q.parent {
            qb.push(" AND parent_id = ").push_bind(p.uuid());
        }
        if let Some(c) = q.crm_user {
            qb.push(" AND crm_user_id = ").push_bind(c.uuid());
        }
        if let Some(a) = q.after {
            qb.push(" AND id > ").push_bind(a.uuid());
        }
        qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(participant).collect()
    }
}

impl PeopleWrite for PgTx {
    async fn put_engagement_type(&mut self, t: &EngagementType) -> Result<()> {
        let sql = format!(
            "INSERT INTO engagement_types ({TYPE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET external_id = excluded.external_id, \
             name = excluded.name, activity_type = excluded.activity_type, \
             updated_at = excluded.updated_at"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id.uuid())
            .bind(t.org.uuid())
            .bind(t.connection.uuid())
            .bind(t.external_id.as_deref())
            .bind(t.name.as_str())
            .bind(t.activity_type.as_str())
            .bind(t.created_at)
            .bind(t.updated_at);
        self.guarded(q).await?;
        Ok(())
    }

    async fn put_crm_user(&mut self, u: &CrmUser, insert: bool) -> Result<()> {
        let (email_key, name_key) = crm_user_keys(u);
        let sql = if insert {
            "INSERT INTO crm_users (id, org_id, connection_id, external_id, email, name, \
             user_id, created_at, updated_at, email_key, name_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING"
        } else {
            "UPDATE crm_users SET org_id = $2, connection_id = $3, external_id = $4, email = $5, \
             name = $6, user_id = $7, created_at = $8, updated_at = $9, email_key = $10, \
             name_key = $11 WHERE id = $1"
        };
        let q = sqlx::query(sql)
            .bind(u.id.uuid())
            .bind(u.org.uuid())
            .bind(u.connection.uuid())
            .bind(u.external_id.as_str())
            .bind(u.email.as_deref())
            .bind(u.name.as_deref())
            .bind(u.user.map(UserId::uuid))
            .bind(u.created_at)
            .bind(u.updated_at)
            .bind(email_key)
            .bind(name_key);
        if insert {
            inserted(q.execute(self.c()).await.map_err(db)?, "crm_users")
        } else {
            self.guarded(q).await.map(drop)
        }
    }

    async fn put_user(&mut self, u: &WorkspaceUser, insert: bool) -> Result<()> {
        let (email_key, name_key) = user_keys(u);
        let sql = if insert {
            "INSERT INTO users (id, org_id, email, phone_number, first_name, last_name, \
             member_team_id, coach_team_ids, external_id, disabled, billable, is_admin, \
             contact_settings, created_at, updated_at, email_key, name_key) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT DO NOTHING"
        } else {
            "UPDATE users SET org_id = $2, email = $3, phone_number = $4, first_name = $5, \
             last_name = $6, member_team_id = $7, coach_team_ids = $8, external_id = $9, \
             disabled = $10, billable = $11, is_admin = $12, contact_settings = $13, \
             created_at = $14, updated_at = $15, email_key = $16, name_key = $17 WHERE id = $1"
        };
        let q = sqlx::query(sql)
            .bind(u.id.uuid())
            .bind(u.org.uuid())
            .bind(u.email.as_deref())
            .bind(u.phone_number.as_deref())
            .bind(u.first_name.as_deref())
            .bind(u.last_name.as_deref())
            .bind(u.member_team_id.as_deref())
            .bind(serde_json::to_string(&u.coach_team_ids).map_err(backend)?)
            .bind(u.external_id.as_deref())
            .bind(u.disabled)
            .bind(u.billable)
            .bind(u.is_admin)
            .bind(u.contact_settings.as_ref().map(|v| v.to_string()))
            .bind(u.created_at)
            .bind(u.updated_at)
            .bind(email_key)
            .bind(name_key);
        if insert {
            inserted(q.execute(self.c()).await.map_err(db)?, "users")
        } else {
            self.guarded(q).await.map(drop)
        }
    }

    async fn put_participant(&mut self, p: &Participant, insert: bool) -> Result<()> {
        let sql = if insert {
            "INSERT INTO participants (id, org_id, connection_id, parent_kind, parent_id, \
             crm_user_id, name, share, deleted_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING"
        } else {
            "UPDATE participants SET org_id = $2, connection_id = $3, parent_kind = $4, \
             parent_id = $5, crm_user_id = $6, name = $7, share = $8, deleted_at = $9, \
             created_at = $10, updated_at = $11 WHERE id = $1"
        };
        let q = sqlx::query(sql)
            .bind(p.id.uuid())
            .bind(p.org.uuid())
            .bind(p.connection.uuid())
            .bind(p.parent_kind.as_str())
            .bind(p.parent.uuid())
            .bind(p.crm_user.uuid())
            .bind(p.name.as_deref())
            .bind(p.share.map(|s| s.get()))
            .bind(p.deleted_at)
            .bind(p.created_at)
            .bind(p.updated_at);
        if insert {
            inserted(q.execute(self.c()).await.map_err(db)?, "participants")
        } else {
            self.guarded(q).await.map(drop)
        }
    }
}
