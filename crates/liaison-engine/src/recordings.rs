//! Recordings: create, update, read, delete, and their links to CRM records. Which engagement
//! a recording is of is decided by `liaison_domain::matching`; `linking` gathers what the rule
//! needs and keeps each engagement's `recordingId` true to its links.

use crate::linking::{self, LinkTarget, RecordingView, Resolved};
use crate::reads::{MAX_PAGE, Page};
use crate::records::Unit;
use crate::saving::Saved;
use crate::{Caller, Engine, in_write_tx, store_error};
use liaison_domain::field::RecordingField;
use liaison_domain::matching::{Decision, Settings};
use liaison_domain::model::*;
use liaison_domain::scope::Scope;
use liaison_domain::*;
use liaison_store::prelude::*;
use liaison_store::{EventAction, Key, RecordingQuery, Store, WriteTx};

/// The filters of a list of recordings.
#[derive(Debug, Clone, Default)]
pub struct RecordingFilters {
    pub recorded_gt: Option<time::Instant>,
    pub recorded_lt: Option<time::Instant>,
    pub updated_gt: Option<time::Instant>,
    pub updated_gte: Option<time::Instant>,
    pub updated_lt: Option<time::Instant>,
    pub updated_lte: Option<time::Instant>,
}

impl Saved for Recording {
    fn entity(&self) -> &'static str {
        "recording"
    }
    fn uuid(&self) -> uuid::Uuid {
        self.id.uuid()
    }
    fn same_as(&self, new: &Self) -> bool {
        *self
            == Recording {
                updated_at: self.updated_at,
                ..new.clone()
            }
    }
    fn touch(&mut self, at: time::Instant) {
        self.updated_at = at;
    }
    fn action(old: Option<&Self>, new: &Self) -> EventAction {
        match old {
            None => EventAction::Created,
            Some(o) => crate::records::lifecycle_action(
                o.deleted_at.is_some(),
                new.deleted_at.is_some(),
                false,
            ),
        }
    }
    async fn write<T: WriteTx>(&self, tx: &mut T, old: Option<&Self>) -> Result<()> {
        tx.put_recording(self, old.is_none())
            .await
            .map_err(store_error)
    }
}

fn invalid(field: RecordingField, message: impl Into<String>) -> Error {
    Error::Invalid(Issue::custom(vec![field.into()], message).into())
}

impl<S: Store> Engine<S> {
    /// Creates a recording and links it before returning: to what its recorder named, else to
    /// its deep link's engagement, else to the engagement the matching rule picks.
    pub async fn create_recording(&self, caller: &Caller, input: RecordingIn) -> Result<Recording> {
        caller.require(Scope::EngagementsWrite)?;
        // A user access token records for its user unless the body names another.
        let user = input.user.or(caller.user()).ok_or_else(|| {
            Error::Invalid(Issue::required(vec![RecordingField::User.into()], "string").into())
        })?;
        require_recorder(caller, user)?;
        recording_issues(
            input.duration_ms,
            input.latitude,
            input.longitude,
            input.deep_link.as_deref(),
            input.transcript.as_ref(),
        )
        .into_result(())
        .map_err(Error::Invalid)?;
        in_write_tx!(self, tx => async {
            let settings = self.settings_in(&mut tx, caller.org).await?;
            if tx.get_recording(caller.org, input.id).await.map_err(store_error)?.is_some() {
                return Err(Error::Conflict(format!(
                    "a recording with id `{}` already exists; PATCH updates it",
                    input.id
                )));
            }
            crate::users::named_user(&mut tx, caller.org, user, RecordingField::User).await?;
            let mut unit = Unit::new(&mut tx, caller.org, caller.connection, time::now());
            let mut links = Links::default();
            let mut standing = matching::Standing::Automatic;
            let mut title = input.title.clone();
            let mut consumed = false;
            let mut link_opportunity = None;
            if let Some(raw) = &input.deep_link {
                let link = DeepLink::parse(raw).unwrap_or_default();
                consumed = link.appointment_id.is_some() || link.opportunity_id.is_some();
                link_opportunity = link.opportunity_id.clone();
                if let Some(ext) = &link.appointment_id {
                    let e = linking::find_live(&mut unit, caller, RecordKind::Engagement, ext)
                        .await?
                        .ok_or_else(|| invalid(RecordingField::DeepLink, format!("No engagement has the appointmentId `{ext}`")))?;
                    standing = matching::Standing::DeepLink(e);
                }
                if let Some(ext) = &link.opportunity_id {
                    let o = linking::find_live(&mut unit, caller, RecordKind::Opportunity, ext)
                        .await?
                        .ok_or_else(|| invalid(RecordingField::DeepLink, format!("No opportunity has the opportunityId `{ext}`")))?;
                    links.opportunity = Some(o);
                }
                if title.is_none() {
                    title = link.title;
                }
            }
            for (i, (kind, raw)) in input.crm_objects.iter().enumerate() {
                let found = linking::find_named(&mut unit, caller, kind.record_kind(), raw).await?;
                let Some(id) = found else {
                    return Err(Error::Invalid(Issue::custom(
                        vec![RecordingField::CrmObjects.into(), i.into(), "objectId".into()],
                        format!("No {} has the id `{raw}`", kind.as_str().to_lowercase()),
                    ).into()));
                };
                if *kind == LinkKind::Engagement {
                    standing = matching::Standing::Manual(Some(id));
                } else {
                    links.set(*kind, Some(id));
                }
            }
            if let Some(o) = input.opportunity {
                linking::require_live(&mut unit, RecordKind::Opportunity, o, RecordingField::Opportunity).await?;
                links.opportunity = Some(o);
            }
            if let Some(e) = input.engagement {
                linking::require_live(&mut unit, RecordKind::Engagement, e, RecordingField::Engagement).await?;
                standing = matching::Standing::Manual(Some(e));
            }
            let transcript = input.transcript.clone();
            let recording = Recording {
                id: input.id,
                org: caller.org,
                user,
                title,
                date_created: input.date_created,
                duration_ms: input.duration_ms.map(|d| d.unsigned_abs()),
                speech_end_ms: transcript.as_ref().and_then(Transcript::speech_end_ms),
                latitude: input.latitude,
                longitude: input.longitude,
                deep_link: input.deep_link.clone(),
                links,
                standing,
                rule: None,
                linked_at: None,
                details: input.details.clone(),
                deleted_at: None,
                created_at: unit.now,
                updated_at: unit.now,
            };
            let stored = linking::settle(&mut unit, None, recording, &settings).await?;
            unit.tx
                .put_transcript(caller.org, stored.id, transcript.as_ref())
                .await
                .map_err(store_error)?;
            if let Some(raw) = &input.deep_link {
                crate::mobile_events::deep_link_events(&mut *unit.tx, &stored, raw, consumed, link_opportunity.as_deref()).await?;
            }
            Ok(stored)
        }.await)
    }

    /// Changes a recording's own fields; a change of its time or place matches it again.
    pub async fn update_recording(
        &self,
        caller: &Caller,
        id: RecordingId,
        patch: RecordingPatch,
    ) -> Result<RecordingView> {
        caller.require(Scope::EngagementsWrite)?;
        in_write_tx!(self, tx => async {
            let settings = self.settings_in(&mut tx, caller.org).await?;
            let old = live_recording(&mut tx, caller, id).await?;
            let mut new = old.clone();
            let p = patch.clone();
            p.title.apply_to(&mut new.title);
            if let Some(at) = p.date_created {
                new.date_created = at;
            }
            let mut duration = new.duration_ms.and_then(|d| i64::try_from(d).ok());
            p.duration_ms.apply_to(&mut duration);
            p.latitude.apply_to(&mut new.latitude);
            p.longitude.apply_to(&mut new.longitude);
            let mut transcript = None;
            if !matches!(p.transcript, Patch::Absent) {
                let mut t = tx.get_transcript(caller.org, id).await.map_err(store_error)?;
                p.transcript.apply_to(&mut t);
                transcript = Some(t);
            }
            recording_issues(
                duration,
                new.latitude,
                new.longitude,
                None,
                transcript.as_ref().and_then(Option::as_ref),
            )
            .into_result(())
            .map_err(Error::Invalid)?;
            new.duration_ms = duration.map(i64::unsigned_abs);
            if let Some(t) = &transcript {
                new.speech_end_ms = t.as_ref().and_then(Transcript::speech_end_ms);
            }
            for (k, v) in &p.details {
                if v.is_null() {
                    new.details.remove(k);
                } else {
                    new.details.insert(k.clone(), v.clone());
                }
            }
            let mut unit = Unit::new(&mut tx, caller.org, caller.connection, time::now());
            let stored = linking::settle(&mut unit, Some(&old), new, &settings).await?;
            if let Some(t) = &transcript {
                unit.tx.put_transcript(caller.org, id, t.as_ref()).await.map_err(store_error)?;
            }
            linking::view(unit.tx, stored).await
        }.await)
    }

    /// One recording; with `crm`, what it is linked to (else `crm` is left `None` unread).
    pub async fn get_recording(
        &self,
        caller: &Caller,
        id: RecordingId,
        crm: bool,
    ) -> Result<RecordingView> {
        caller.require(Scope::EngagementsRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        let r = live_recording(&mut tx, caller, id).await?;
        if !crm {
            return Ok(RecordingView {
                recording: r,
                crm: None,
            });
        }
        linking::view(&mut tx, r).await
    }

    pub async fn list_recordings(
        &self,
        caller: &Caller,
        filters: &RecordingFilters,
        cursor: Option<&str>,
        limit: u32,
        crm: bool,
    ) -> Result<Page<RecordingView>> {
        caller.require(Scope::EngagementsRead)?;
        let fingerprint = format!(
            "recordings|{}|{:?}|{filters:?}",
            caller.org,
            caller.recorder()
        );
        let after = self.decode_cursor(&fingerprint, cursor)?;
        let limit = limit.clamp(1, MAX_PAGE);
        let mut tx = self.store.read().await.map_err(store_error)?;
        let rows = tx
            .list_recordings(
                caller.org,
                &RecordingQuery {
                    recorded_gt: filters.recorded_gt,
                    recorded_lt: filters.recorded_lt,
                    updated_gt: filters.updated_gt,
                    updated_gte: filters.updated_gte,
                    updated_lt: filters.updated_lt,
                    updated_lte: filters.updated_lte,
                    user: caller.recorder(),
                    after: after.map(|k| RecordingId::from_uuid(k.id)),
                    limit: limit + 1,
                    ..RecordingQuery::default()
                },
            )
            .await
            .map_err(store_error)?;
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            items.push(if crm {
                linking::view(&mut tx, r).await?
            } else {
                RecordingView {
                    recording: r,
                    crm: None,
                }
            });
        }
        Ok(self.finish_page(items, limit, &fingerprint, |v| Key {
            sort_at: v.recording.created_at,
            id: v.recording.id.uuid(),
        }))
    }

    /// What was said, when the recording has a transcript.
    pub async fn recording_transcript(
        &self,
        caller: &Caller,
        id: RecordingId,
    ) -> Result<(Recording, Option<Transcript>)> {
        caller.require(Scope::EngagementsRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        let r = live_recording(&mut tx, caller, id).await?;
        let t = tx
            .get_transcript(caller.org, id)
            .await
            .map_err(store_error)?;
        Ok((r, t))
    }

    /// Soft-deletes a recording; the engagements it was linked to no longer show it.
    pub async fn delete_recording(&self, caller: &Caller, id: RecordingId) -> Result<()> {
        caller.require(Scope::EngagementsWrite)?;
        in_write_tx!(self, tx => async {
            let old = live_recording(&mut tx, caller, id).await?;
            let mut unit = Unit::new(&mut tx, caller.org, caller.connection, time::now());
            let new = Recording {
                deleted_at: Some(unit.now),
                ..old.clone()
            };
            unit.put(Some(&old), new).await?;
            linking::refresh_engagements(&mut unit, &[old.links.engagement]).await
        }.await)
    }

    /// Links a recording to a CRM record by hand: a manual decision that matching never
    /// overrides. Returns the record linked.
    pub async fn link_recording(
        &self,
        caller: &Caller,
        id: RecordingId,
        kind: LinkKind,
        target: LinkTarget,
    ) -> Result<Resolved> {
        caller.require(Scope::EngagementsWrite)?;
        in_write_tx!(self, tx => async {
            let settings = self.settings_in(&mut tx, caller.org).await?;
            let old = live_recording(&mut tx, caller, id).await?;
            let mut unit = Unit::new(&mut tx, caller.org, caller.connection, time::now());
            let target = linking::resolve_target(&mut unit, kind, &target).await?;
            let mut new = old.clone();
            if kind == LinkKind::Engagement {
                new.standing = matching::Standing::Manual(Some(target.id));
            } else {
                new.links.set(kind, Some(target.id));
            }
            linking::settle(&mut unit, Some(&old), new, &settings).await?;
            Ok(target.clone())
        }.await)
    }

    /// Unlinks a recording from every CRM record, by hand: it stays unlinked until someone
    /// links it again.
    pub async fn unlink_recording(&self, caller: &Caller, id: RecordingId) -> Result<()> {
        caller.require(Scope::EngagementsWrite)?;
        in_write_tx!(self, tx => async {
            let settings = self.settings_in(&mut tx, caller.org).await?;
            let old = live_recording(&mut tx, caller, id).await?;
            let mut unit = Unit::new(&mut tx, caller.org, caller.connection, time::now());
            let new = Recording {
                links: Links::default(),
                standing: matching::Standing::Manual(None),
                ..old.clone()
            };
            linking::settle(&mut unit, Some(&old), new, &settings).await?;
            Ok(())
        }.await)
    }

    /// Why the recording is linked where it is: the rule that decided, every candidate with
    /// its scores, and the settings used, as the rule decides it now.
    pub async fn explain_recording(&self, caller: &Caller, id: RecordingId) -> Result<Decision> {
        caller.require(Scope::EngagementsRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        let settings = self.settings_in(&mut tx, caller.org).await?;
        let r = live_recording(&mut tx, caller, id).await?;
        linking::decide(&mut tx, &r, &settings).await
    }

    /// The organization's matching settings (the defaults until someone sets them).
    pub async fn matching_settings(&self, caller: &Caller) -> Result<Settings> {
        self.settings_of(caller.org).await
    }

    pub(crate) async fn settings_of(&self, org: OrgId) -> Result<Settings> {
        let mut tx = self.store.read().await.map_err(store_error)?;
        self.settings_in(&mut tx, org).await
    }

    /// The settings, read in a transaction the caller already holds (a reader opened only
    /// for them would cost more than the read itself).
    pub(crate) async fn settings_in<T: ReadTx>(&self, tx: &mut T, org: OrgId) -> Result<Settings> {
        let stored = tx
            .get_setting(&linking::settings_key(org))
            .await
            .map_err(store_error)?;
        Ok(match stored {
            Some(s) => linking::decode_settings(&s)?,
            None => self.default_matching,
        })
    }

    /// Sets the organization's matching settings. Links already made stay until their
    /// recordings are matched again (a rematch applies the new settings to a time range).
    pub async fn put_matching_settings(
        &self,
        caller: &Caller,
        settings: Settings,
    ) -> Result<Settings> {
        caller.require(Scope::EngagementsWrite)?;
        in_write_tx!(self, tx => async {
            tx.put_setting(&linking::settings_key(caller.org), &linking::encode_settings(&settings))
                .await
                .map_err(store_error)?;
            Ok(settings)
        }.await)
    }
}

/// A live recording of the caller's organization, or 404.
async fn live_recording<T: ReadTx>(
    tx: &mut T,
    caller: &Caller,
    id: RecordingId,
) -> Result<Recording> {
    match tx
        .get_recording(caller.org, id)
        .await
        .map_err(store_error)?
    {
        Some(r) if r.deleted_at.is_none() && caller.recorder().is_none_or(|me| me == r.user) => {
            Ok(r)
        }
        _ => Err(Error::NotFound("Recording")),
    }
}

/// A user access token records for its own user only (unless its user administers the
/// organization).
pub(crate) fn require_recorder(caller: &Caller, user: UserId) -> Result<()> {
    match caller.recorder() {
        Some(me) if me != user => Err(Error::Forbidden(
            "a user access token records for its own user only".into(),
        )),
        _ => Ok(()),
    }
}
