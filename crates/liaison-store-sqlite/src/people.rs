//! The people around records: engagement types, CRM users, workspace users, participants.
//! (SQLite.)

use super::*;

impl PeopleRead for SqliteTx {
    async fn get_engagement_types(
        &mut self,
        org: OrgId,
        ids: &[EngagementTypeId],
    ) -> Result<Vec<EngagementType>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        self.built(
            &by_ids(TYPE_COLS, "engagement_types", org, ids),
            engagement_type,
        )
    }

    async fn find_engagement_type(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: Option<&str>,
        name: &str,
    ) -> Result<Option<EngagementType>> {
        match external_id {
            Some(ext) => self.one(
                &format!(
                    "SELECT {TYPE_COLS} FROM engagement_types \
                     WHERE org_id = ?1 AND connection_id = ?2 AND external_id = ?3"
                ),
                params![org.uuid(), connection.uuid(), ext],
                engagement_type,
            ),
            None => self.one(
                &format!(
                    "SELECT {TYPE_COLS} FROM engagement_types WHERE org_id = ?1 \
                     AND connection_id = ?2 AND external_id IS NULL AND name = ?3"
                ),
                params![org.uuid(), connection.uuid(), name],
                engagement_type,
            ),
        }
    }

    async fn get_crm_users(&mut self, org: OrgId, ids: &[CrmUserId]) -> Result<Vec<CrmUser>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        self.built(&by_ids(CRM_USER_COLS, "crm_users", org, ids), crm_user)
    }

    async fn get_crm_user_by_external(
        &mut self,
        org: OrgId,
        connection: ConnectionId,
        external_id: &str,
    ) -> Result<Option<CrmUser>> {
        self.one(
            &format!(
                "SELECT {CRM_USER_COLS} FROM crm_users \
                 WHERE org_id = ?1 AND connection_id = ?2 AND external_id = ?3"
            ),
            params![org.uuid(), connection.uuid(), external_id],
            crm_user,
        )
    }

    async fn list_crm_users(
        &mut self,
        org: OrgId,
        after: Option<CrmUserId>,
        limit: u32,
    ) -> Result<Vec<CrmUser>> {
        let mut s = Sql::new(format!(
            "SELECT {CRM_USER_COLS} FROM crm_users WHERE org_id = "
        ));
        s.bind(org.uuid());
        if let Some(a) = after {
            s.push(" AND id > ").bind(a.uuid());
        }
        s.push(" ORDER BY id LIMIT ").bind(i64::from(limit));
        self.built(&s, crm_user)
    }

    async fn list_engagement_types(
        &mut self,
        org: OrgId,
        after: Option<EngagementTypeId>,
        limit: u32,
    ) -> Result<Vec<EngagementType>> {
        let mut s = Sql::new(format!(
            "SELECT {TYPE_COLS} FROM engagement_types WHERE org_id = "
        ));
        s.bind(org.uuid());
        if let Some(a) = after {
            s.push(" AND id > ").bind(a.uuid());
        }
        s.push(" ORDER BY id LIMIT ").bind(i64::from(limit));
        self.built(&s, engagement_type)
    }

    async fn crm_users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> Result<Vec<CrmUser>> {
        self.all(
            &matching_sql(CRM_USER_COLS, "crm_users"),
            params![org.uuid(), external_id, email_key, name_key],
            crm_user,
        )
    }

    async fn get_user(&mut self, org: OrgId, id: UserId) -> Result<Option<WorkspaceUser>> {
        self.one(
            &format!("SELECT {USER_COLS} FROM users WHERE id = ?1 AND org_id = ?2"),
            params![id.uuid(), org.uuid()],
            user,
        )
    }

    async fn list_users(&mut self, org: OrgId, q: &UserQuery) -> Result<Vec<WorkspaceUser>> {
        let mut s = Sql::new(format!("SELECT {USER_COLS} FROM users WHERE org_id = "));
        s.bind(org.uuid());
        if let Some(d) = q.disabled {
            s.push(" AND disabled = ").bind(d);
        }
        if let Some(e) = &q.external_id {
            s.push(" AND external_id = ").bind(e.as_str());
        }
        if let Some(a) = q.after {
            s.push(" AND id > ").bind(a.uuid());
        }
        s.push(" ORDER BY id LIMIT ").bind(i64::from(q.limit));
        self.built(&s, user)
    }

    async fn users_matching(
        &mut self,
        org: OrgId,
        external_id: Option<&str>,
        email_key: Option<&str>,
        name_key: Option<&str>,
    ) -> Result<Vec<WorkspaceUser>> {
        self.all(
            &matching_sql(USER_COLS, "users"),
            params![org.uuid(), external_id, email_key, name_key],
            user,
        )
    }

    async fn get_participant(
        &mut self,
        org: OrgId,
        id: ParticipantId,
    ) -> Result<Option<Participant>> {
        self.one(
            &format!("SELECT {PARTICIPANT_COLS} FROM participants WHERE id = ?1 AND org_id = ?2"),
            params![id.uuid(), org.uuid()],
            participant,
        )
    }

    async fn find_participant(
        &mut self,
        org: OrgId,
        parent: RecordId,
        crm_user: CrmUserId,
    ) -> Result<Option<Participant>> {
        self.one(
            &format!(
                "SELECT {PARTICIPANT_COLS} FROM participants \
                 WHERE org_id = ?1 AND parent_id = ?2 AND crm_user_id = ?3"
            ),
            params![org.uuid(), parent.uuid(), crm_user.uuid()],
            participant,
        )
    }

    async fn get_participants(
        &mut self,
        org: OrgId,
        ids: &[ParticipantId],
    ) -> Result<Vec<Participant>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        self.built(
            &by_ids(PARTICIPANT_COLS, "participants", org, ids),
            participant,
        )
    }

    async fn participants_of(
        &mut self,
        org: OrgId,
        parents: &[RecordId],
    ) -> Result<Vec<Participant>> {
        if parents.is_empty() {
            return Ok(vec![]);
        }
        let mut s = Sql::new(format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = "
        ));
        // By parent first (the pair index), the organization only as a filter: see `by_ids`.
        s.bind(org.uuid())
            .push(" AND deleted_at IS NULL AND parent_id IN (");
        s.bind_list(parents.iter().map(|p| p.uuid()));
        s.push(") ORDER BY id");
        s.text = s.text.replacen("WHERE org_id = ", "WHERE +org_id = ", 1);
        self.built(&s, participant)
    }

    async fn list_participants(
        &mut self,
        org: OrgId,
        kind: ParentKind,
        q: &ParticipantQuery,
    ) -> Result<Vec<Participant>> {
        let mut s = Sql::new(format!(
            "SELECT {PARTICIPANT_COLS} FROM participants WHERE org_id = "
        ));
        s.bind(org.uuid());
        s.push(" AND parent_kind = ").bind(kind.as_str());
        if !q.include_deleted {
            s.push(" AND deleted_at IS NULL");
        }
        if let Some(p) = q.parent {
            s.push(" AND parent_id = ").bind(p.uuid());
        }
        if let Some(c) = q.crm_user {
            s.push(" AND crm_user_id = ").bind(c.uuid());
        }
        if let Some(a) = q.after {
            s.push(" AND id > ").bind(a.uuid());
        }
        s.push(" ORDER BY id LIMIT ").bind(i64::from(q.limit));
        self.built(&s, participant)
    }
}

impl PeopleWrite for SqliteTx {
    async fn put_engagement_type(&mut self, t: &EngagementType) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO engagement_types ({TYPE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (id) DO UPDATE SET external_id = excluded.external_id, \
                 name = excluded.name, activity_type = excluded.activity_type, \
                 updated_at = excluded.updated_at"
            ),
            params![
                t.id.uuid(),
                t.org.uuid(),
                t.connection.uuid(),
                t.external_id.as_deref(),
                t.name.as_str(),
                t.activity_type.as_str(),
                ts(&t.created_at),
                ts(&t.updated_at),
            ],
        )?;
        Ok(())
    }

    async fn put_crm_user(&mut self, u: &CrmUser, insert: bool) -> Result<()> {
        let (email_key, name_key) = crm_user_keys(u);
        let sql = if insert {
            "INSERT INTO crm_users (id, org_id, connection_id, external_id, email, name, \
             user_id, created_at, updated_at, email_key, name_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        } else {
            "UPDATE crm_users SET org_id = ?2, connection_id = ?3, external_id = ?4, email = ?5, \
             name = ?6, user_id = ?7, created_at = ?8, updated_at = ?9, email_key = ?10, \
             name_key = ?11 WHERE id = ?1"
        };
        self.exec(
            sql,
            params![
                u.id.uuid(),
                u.org.uuid(),
                u.connection.uuid(),
                u.external_id.as_str(),
                u.email.as_deref(),
                u.name.as_deref(),
                u.user.map(UserId::uuid),
                ts(&u.created_at),
                ts(&u.updated_at),
                email_key,
                name_key,
            ],
        )?;
        Ok(())
    }

    async fn put_user(&mut self, u: &WorkspaceUser, insert: bool) -> Result<()> {
        let (email_key, name_key) = user_keys(u);
        let sql = if insert {
            "INSERT INTO users (id, org_id, email, phone_number, first_name, last_name, \
             member_team_id, coach_team_ids, external_id, disabled, billable, is_admin, \
             contact_settings, created_at, updated_at, email_key, name_key) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
        } else {
            "UPDATE users SET org_id = ?2, email = ?3, phone_number = ?4, first_name = ?5, \
             last_name = ?6, member_team_id = ?7, coach_team_ids = ?8, external_id = ?9, \
             disabled = ?10, billable = ?11, is_admin = ?12, contact_settings = ?13, \
             created_at = ?14, updated_at = ?15, email_key = ?16, name_key = ?17 WHERE id = ?1"
        };
        self.exec(
            sql,
            params![
                u.id.uuid(),
                u.org.uuid(),
                u.email.as_deref(),
                u.phone_number.as_deref(),
                u.first_name.as_deref(),
                u.last_name.as_deref(),
                u.member_team_id.as_deref(),
                serde_json::to_string(&u.coach_team_ids).map_err(backend)?,
                u.external_id.as_deref(),
                u.disabled,
                u.billable,
                u.is_admin,
                u.contact_settings.as_ref().map(|v| v.to_string()),
                ts(&u.created_at),
                ts(&u.updated_at),
                email_key,
                name_key,
            ],
        )?;
        Ok(())
    }

    async fn put_participant(&mut self, p: &Participant, insert: bool) -> Result<()> {
        let sql = if insert {
            "INSERT INTO participants (id, org_id, connection_id, parent_kind, parent_id, \
             crm_user_id, name, share, deleted_at, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        } else {
            "UPDATE participants SET org_id = ?2, connection_id = ?3, parent_kind = ?4, \
             parent_id = ?5, crm_user_id = ?6, name = ?7, share = ?8, deleted_at = ?9, \
             created_at = ?10, updated_at = ?11 WHERE id = ?1"
        };
        self.exec(
            sql,
            params![
                p.id.uuid(),
                p.org.uuid(),
                p.connection.uuid(),
                p.parent_kind.as_str(),
                p.parent.uuid(),
                p.crm_user.uuid(),
                p.name.as_deref(),
                p.share.map(|s| s.get()),
                ots(&p.deleted_at),
                ts(&p.created_at),
                ts(&p.updated_at),
            ],
        )?;
        Ok(())
    }
}
