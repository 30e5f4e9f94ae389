//! Recordings and their transcripts. (SQLite.)

use super::*;
use liaison_domain::matching::{LONGEST_APPOINTMENT, Span};

const RECORDING_COLS: &str = "id, org_id, user_id, title, date_created, duration_ms, \
    speech_end_ms, latitude, longitude, deep_link, engagement_id, opportunity_id, account_id, \
    contact_id, lead_id, standing, rule, linked_at, details, deleted_at, created_at, updated_at";

fn recording(r: &rusqlite::Row) -> Result<Recording> {
    let get = |i: usize| -> Result<Option<uuid::Uuid>> { r.get(i).map_err(backend) };
    let id = |i: usize| -> Result<Option<RecordId>> { Ok(get(i)?.map(RecordId::from_uuid)) };
    let ms = |i: usize| -> Result<Option<u64>> {
        let v: Option<i64> = r.get(i).map_err(backend)?;
        v.map(|v| u64::try_from(v).map_err(|_| backend("negative milliseconds")))
            .transpose()
    };
    let time = |i: usize| -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = r.get(i).map_err(backend)?;
        v.map(|v| DateTime::from_timestamp_micros(v).ok_or_else(|| backend("instant out of range")))
            .transpose()
    };
    let required = |i: usize| time(i)?.ok_or_else(|| backend("missing instant"));
    let links = Links {
        engagement: id(10)?,
        opportunity: id(11)?,
        account: id(12)?,
        contact: id(13)?,
        lead: id(14)?,
    };
    let standing: String = r.get(15).map_err(backend)?;
    let rule: Option<String> = r.get(16).map_err(backend)?;
    let details: String = r.get(18).map_err(backend)?;
    Ok(Recording {
        id: RecordingId::from_uuid(r.get(0).map_err(backend)?),
        org: OrgId::from_uuid(r.get(1).map_err(backend)?),
        user: UserId::from_uuid(r.get(2).map_err(backend)?),
        title: r.get(3).map_err(backend)?,
        date_created: required(4)?,
        duration_ms: ms(5)?,
        speech_end_ms: ms(6)?,
        latitude: r.get(7).map_err(backend)?,
        longitude: r.get(8).map_err(backend)?,
        deep_link: r.get(9).map_err(backend)?,
        standing: standing_from(&standing, links.engagement)
            .ok_or_else(|| backend("corrupt row: recording standing"))?,
        links,
        rule: rule
            .map(|r| rule_from(&r).ok_or_else(|| backend("corrupt row: recording rule")))
            .transpose()?,
        linked_at: time(17)?,
        details: serde_json::from_str(&details).map_err(backend)?,
        deleted_at: time(19)?,
        created_at: required(20)?,
        updated_at: required(21)?,
    })
}

fn transcript(r: &rusqlite::Row) -> Result<Transcript> {
    let body: String = r.get(0).map_err(backend)?;
    decode_transcript(&body)
}

fn ms_column(v: Option<u64>) -> Result<Option<i64>> {
    v.map(|v| i64::try_from(v).map_err(|_| backend("milliseconds out of range")))
        .transpose()
}

impl RecordingsRead for SqliteTx {
    async fn get_recording(&mut self, org: OrgId, id: RecordingId) -> Result<Option<Recording>> {
        self.one(
            &format!("SELECT {RECORDING_COLS} FROM recordings WHERE id = ?1 AND org_id = ?2"),
            params![id.uuid(), org.uuid()],
            recording,
        )
    }

    async fn list_recordings(&mut self, org: OrgId, q: &RecordingQuery) -> Result<Vec<Recording>> {
        let mut s = Sql::new(format!(
            "SELECT {RECORDING_COLS} FROM recordings WHERE org_id = "
        ));
        s.bind(org.uuid());
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
                s.push(&format!(" AND {test} ")).bind(ts(&at));
            }
        }
        if let Some(u) = q.user {
            s.push(" AND user_id = ").bind(u.uuid());
        }
        if !q.include_deleted {
            s.push(" AND deleted_at IS NULL");
        }
        if let Some(a) = q.after {
            s.push(" AND id > ").bind(a.uuid());
        }
        s.push(" ORDER BY id LIMIT ").bind(i64::from(q.limit));
        self.built(&s, recording)
    }

    async fn recordings_linked_to(
        &mut self,
        org: OrgId,
        engagement: RecordId,
    ) -> Result<Vec<Recording>> {
        self.all(
            &format!(
                "SELECT {RECORDING_COLS} FROM recordings WHERE org_id = ?1 \
                 AND engagement_id = ?2 AND deleted_at IS NULL ORDER BY id"
            ),
            params![org.uuid(), engagement.uuid()],
            recording,
        )
    }

    async fn get_transcript(&mut self, org: OrgId, id: RecordingId) -> Result<Option<Transcript>> {
        self.one(
            "SELECT body FROM recording_transcripts WHERE recording_id = ?1 AND org_id = ?2",
            params![id.uuid(), org.uuid()],
            transcript,
        )
    }

    async fn recordings_of_user_between(
        &mut self,
        org: OrgId,
        user: UserId,
        began: Span,
    ) -> Result<Vec<Recording>> {
        self.all(
            &format!(
                "SELECT {RECORDING_COLS} FROM recordings WHERE org_id = ?1 AND user_id = ?2 \
                 AND date_created >= ?3 AND date_created <= ?4 AND deleted_at IS NULL ORDER BY id"
            ),
            params![
                org.uuid(),
                user.uuid(),
                ts(&began.start()),
                ts(&began.end())
            ],
            recording,
        )
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
        self.all(
            &format!(
                "SELECT DISTINCT {cols} FROM crm_users c \
                 JOIN participants p ON p.crm_user_id = c.id AND p.deleted_at IS NULL \
                 JOIN records r ON r.id = p.parent_id \
                 WHERE c.user_id = ?1 AND c.org_id = ?2 AND r.kind = 'engagement' \
                 AND r.deleted_at IS NULL AND r.merged_into IS NULL \
                 AND r.start_time <= ?3 AND r.start_time >= ?4 \
                 AND COALESCE(r.end_time, r.start_time) >= ?5 ORDER BY r.id"
            ),
            params![
                user.uuid(),
                org.uuid(),
                ts(&window.end()),
                ts(&earliest),
                ts(&window.start())
            ],
            record,
        )
    }
}

impl RecordingsWrite for SqliteTx {
    async fn put_recording(&mut self, r: &Recording, insert: bool) -> Result<()> {
        let sql = if insert {
            "INSERT INTO recordings (id, org_id, user_id, title, date_created, duration_ms, \
             speech_end_ms, latitude, longitude, deep_link, engagement_id, opportunity_id, \
             account_id, contact_id, lead_id, standing, rule, linked_at, details, deleted_at, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
             ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
        } else {
            "UPDATE recordings SET org_id = ?2, user_id = ?3, title = ?4, date_created = ?5, \
             duration_ms = ?6, speech_end_ms = ?7, latitude = ?8, longitude = ?9, \
             deep_link = ?10, engagement_id = ?11, opportunity_id = ?12, account_id = ?13, \
             contact_id = ?14, lead_id = ?15, standing = ?16, rule = ?17, linked_at = ?18, \
             details = ?19, deleted_at = ?20, created_at = ?21, updated_at = ?22 \
             WHERE id = ?1 AND org_id = ?2"
        };
        let link = |l: Option<RecordId>| l.map(RecordId::uuid);
        self.exec(
            sql,
            params![
                r.id.uuid(),
                r.org.uuid(),
                r.user.uuid(),
                r.title,
                ts(&r.date_created),
                ms_column(r.duration_ms)?,
                ms_column(r.speech_end_ms)?,
                r.latitude,
                r.longitude,
                r.deep_link,
                link(r.links.engagement),
                link(r.links.opportunity),
                link(r.links.account),
                link(r.links.contact),
                link(r.links.lead),
                standing_code(&r.standing),
                r.rule.map(|r| r.as_str()),
                ots(&r.linked_at),
                serde_json::Value::Object(r.details.clone()).to_string(),
                ots(&r.deleted_at),
                ts(&r.created_at),
                ts(&r.updated_at),
            ],
        )?;
        Ok(())
    }

    async fn put_transcript(
        &mut self,
        org: OrgId,
        id: RecordingId,
        transcript: Option<&Transcript>,
    ) -> Result<()> {
        match transcript {
            Some(t) => self.exec(
                "INSERT INTO recording_transcripts (recording_id, org_id, body) \
                 VALUES (?1, ?2, ?3) ON CONFLICT (org_id, recording_id) DO UPDATE SET body = excluded.body",
                params![id.uuid(), org.uuid(), encode_transcript(t)?],
            )?,
            None => self.exec(
                "DELETE FROM recording_transcripts WHERE recording_id = ?1 AND org_id = ?2",
                params![id.uuid(), org.uuid()],
            )?,
        };
        Ok(())
    }
}
