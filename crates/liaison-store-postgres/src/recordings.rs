//! Recordings and their transcripts. (PostgreSQL.)

use super::*;
use liaison_domain::matching::{LONGEST_APPOINTMENT, Span};

const RECORDING_COLS: &str = "id, org_id, user_id, title, date_created, duration_ms, \
    speech_end_ms, latitude, longitude, deep_link, engagement_id, opportunity_id, account_id, \
    contact_id, lead_id, standing, rule, linked_at, details, deleted_at, created_at, updated_at";

fn recording(r: &PgRow) -> Result<Recording> {
    let id = |i: usize| -> Result<Option<RecordId>> {
        Ok(r.try_get::<Option<Uuid>, _>(i)
            .map_err(db)?
            .map(RecordId::from_uuid))
    };
    let ms = |i: usize| -> Result<Option<u64>> {
        r.try_get::<Option<i64>, _>(i)
            .map_err(db)?
            .map(|v| u64::try_from(v).map_err(|_| backend("negative milliseconds")))
            .transpose()
    };
    let links = Links {
        engagement: id(10)?,
        opportunity: id(11)?,
        account: id(12)?,
        contact: id(13)?,
        lead: id(14)?,
    };
    let standing: String = r.try_get(15).map_err(db)?;
    let rule: Option<String> = r.try_get(16).map_err(db)?;
    let details: String = r.try_get(18).map_err(db)?;
    Ok(Recording {
        id: RecordingId::from_uuid(r.try_get(0).map_err(db)?),
        org: OrgId::from_uuid(r.try_get(1).map_err(db)?),
        user: UserId::from_uuid(r.try_get(2).map_err(db)?),
        title: r.try_get(3).map_err(db)?,
        date_created: r.try_get(4).map_err(db)?,
        duration_ms: ms(5)?,
        speech_end_ms: ms(6)?,
        latitude: r.try_get(7).map_err(db)?,
        longitude: r.try_get(8).map_err(db)?,
        deep_link: r.try_get(9).map_err(db)?,
        standing: standing_from(&standing, links.engagement)
            .ok_or_else(|| backend("corrupt row: recording standing"))?,
        links,
        rule: rule
            .map(|r| rule_from(&r).ok_or_else(|| backend("corrupt row: recording rule")))
            .transpose()?,
        linked_at: r.try_get(17).map_err(db)?,
        details: serde_json::from_str(&details).map_err(backend)?,
        deleted_at: r.try_get(19).map_err(db)?,
        created_at: r.try_get(20).map_err(db)?,
        updated_at: r.try_get(21).map_err(db)?,
    })
}

fn transcript(r: &PgRow) -> Result<Transcript> {
    let body: String = r.try_get(0).map_err(db)?;
    decode_transcript(&body)
}

fn ms_column(v: Option<u64>) -> Result<Option<i64>> {
    v.map(|v| i64::try_from(v).map_err(|_| backend("milliseconds out of range")))
        .transpose()
}

impl RecordingsRead for PgTx {
    async fn get_recording(&mut self, org: OrgId, id: RecordingId) -> Result<Option<Recording>> {
        let lock = self.lock();
        let sql =
            format!("SELECT {RECORDING_COLS} FROM recordings WHERE id = $1 AND org_id = $2{lock}");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.uuid())
            .bind(org.uuid());
        self.optional(q, recording).await
    }

    async fn list_recordings(&mut self, org: OrgId, q: &RecordingQuery) -> Result<Vec<Recording>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {RECORDING_COLS} FROM recordings WHERE org_id = "
        ));
        qb.push_bind(org.uuid());
        let bounds = [
            ("date_created >", q.recorded_gt),
            ("date_created <", q.recorded_lt),
            ("updated_at >", q.updated_gt),
            ("updated_at >=", q.updated_gte),
            ("updated_at <", q.updated_lt),
            ("updated_at <=", q.updated_lte),
        ];
        for (test, at) in bounds {
            if let Some(at) = at {
                qb.push(format!(" AND {test} ")).push_bind(at);
            }
        }
        if let Some(u) = q.user {
            qb.push(" AND user_id = ").push_bind(u.uuid());
        }
        if !q.include_deleted {
            qb.push(" AND deleted_at IS NULL");
        }
        if let Some(a) = q.after {
            qb.push(" AND id > ").push_bind(a.uuid());
        }
        qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(self.c()).await.map_err(db)?;
        rows.iter().map(recording).collect()
    }

    async fn recordings_linked_to(
        &mut self,
        org: OrgId,
        engagement: RecordId,
    ) -> Result<Vec<Recording>> {
        let sql = format!(
            "SELECT {RECORDING_COLS} FROM recordings WHERE org_id = $1 AND engagement_id = $2 \
             AND deleted_at IS NULL ORDER BY id"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(engagement.uuid());
        self.all(q, recording).await
    }

    async fn get_transcript(&mut self, org: OrgId, id: RecordingId) -> Result<Option<Transcript>> {
        let q = sqlx::query(
            "SELECT body FROM recording_transcripts WHERE recording_id = $1 AND org_id = $2",
        )
        .bind(id.uuid())
        .bind(org.uuid());
        self.optional(q, transcript).await
    }

    async fn recordings_of_user_between(
        &mut self,
        org: OrgId,
        user: UserId,
        began: Span,
    ) -> Result<Vec<Recording>> {
        let sql = format!(
            "SELECT {RECORDING_COLS} FROM recordings WHERE org_id = $1 AND user_id = $2 \
             AND date_created >= $3 AND date_created <= $4 AND deleted_at IS NULL ORDER BY id"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.uuid())
            .bind(user.uuid())
            .bind(began.start())
            .bind(began.end());
        self.all(q, recording).await
    }

    async fn engagements_of_user_within(
        &mut self,
        org: OrgId,
        user: UserId,
        window: Span,
    ) -> Result<Vec<RecordRow>> {
        let cols = list::cols("r", false, false);
        let earliest = window
            .start()
            .checked_sub_signed(LONGEST_APPOINTMENT)
            .unwrap_or(window.start());
        let sql = format!(
            "SELECT DISTINCT {cols} FROM crm_users c \
             JOIN participants p ON p.crm_user_id = c.id AND p.deleted_at IS NULL \
             JOIN records r ON r.id = p.parent_id \
             WHERE c.user_id = $1 AND c.org_id = $2 AND r.kind = 'engagement' \
             AND r.deleted_at IS NULL AND r.merged_into IS NULL \
             AND r.start_time <= $3 AND r.start_time >= $4 \
             AND COALESCE(r.end_time, r.start_time) >= $5 ORDER BY r.id"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user.uuid())
            .bind(org.uuid())
            .bind(window.end())
            .bind(earliest)
            .bind(window.start());
        self.all(q, record).await
    }
}

impl RecordingsWrite for PgTx {
    async fn put_recording(&mut self, r: &Recording, insert: bool) -> Result<()> {
        let sql = if insert {
            "INSERT INTO recordings (id, org_id, user_id, title, date_created, duration_ms, \
             speech_end_ms, latitude, longitude, deep_link, engagement_id, opportunity_id, \
             account_id, contact_id, lead_id, standing, rule, linked_at, details, deleted_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) ON CONFLICT DO NOTHING"
        } else {
            "UPDATE recordings SET org_id = $2, user_id = $3, title = $4, date_created = $5, \
             duration_ms = $6, speech_end_ms = $7, latitude = $8, longitude = $9, \
             deep_link = $10, engagement_id = $11, opportunity_id = $12, account_id = $13, \
             contact_id = $14, lead_id = $15, standing = $16, rule = $17, linked_at = $18, \
             details = $19, deleted_at = $20, created_at = $21, updated_at = $22 \
             WHERE id = $1 AND org_id = $2"
        };
        let link = |l: Option<RecordId>| l.map(RecordId::uuid);
        let q = sqlx::query(sql)
            .bind(r.id.uuid())
            .bind(r.org.uuid())
            .bind(r.user.uuid())
            .bind(r.title.as_deref())
            .bind(r.date_created)
            .bind(ms_column(r.duration_ms)?)
            .bind(ms_column(r.speech_end_ms)?)
            .bind(r.latitude)
            .bind(r.longitude)
            .bind(r.deep_link.as_deref())
            .bind(link(r.links.engagement))
            .bind(link(r.links.opportunity))
            .bind(link(r.links.account))
            .bind(link(r.links.contact))
            .bind(link(r.links.lead))
            .bind(standing_code(&r.standing))
            .bind(r.rule.map(|r| r.as_str()))
            .bind(r.linked_at)
            .bind(serde_json::Value::Object(r.details.clone()).to_string())
            .bind(r.deleted_at)
            .bind(r.created_at)
            .bind(r.updated_at);
        let done = q.execute(self.c()).await.map_err(db)?;
        if insert {
            inserted(done, "recordings")
        } else {
            Ok(())
        }
    }

    async fn put_transcript(
        &mut self,
        org: OrgId,
        id: RecordingId,
        transcript: Option<&Transcript>,
    ) -> Result<()> {
        let q = match transcript {
            Some(t) => sqlx::query(
                "INSERT INTO recording_transcripts (recording_id, org_id, body) \
                 VALUES ($1, $2, $3) ON CONFLICT (org_id, recording_id) DO UPDATE SET body = excluded.body",
            )
            .bind(id.uuid())
            .bind(org.uuid())
            .bind(encode_transcript(t)?),
            None => sqlx::query(
                "DELETE FROM recording_transcripts WHERE recording_id = $1 AND org_id = $2",
            )
            .bind(id.uuid())
            .bind(org.uuid()),
        };
        q.execute(self.c()).await.map_err(db)?;
        Ok(())
    }
}
