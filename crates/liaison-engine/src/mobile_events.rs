//! Mobile events: recorded as the app reports them (checked against their code's shape), and
//! by Liaison itself when a recording arrives with a deep link; listed and read back.

use crate::recordings::require_recorder;
use crate::users::named_user;
use crate::{Caller, Engine, MAX_PAGE, Page, in_write_tx, store_error};
use liaison_domain::field::MobileEventField;
use liaison_domain::model::{
    EventCode, MobileEvent, MobileEventIn, deep_link_payload, payload_issues,
};
use liaison_domain::scope::Scope;
use liaison_domain::time::{Instant, now};
use liaison_domain::*;
use liaison_store::prelude::*;
use liaison_store::{Key, MobileEventQuery, Store};

/// The most codes one list may name.
pub const MAX_EVENT_CODES: usize = 10;

/// What a list of events may be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct MobileEventFilters {
    pub created_gt: Option<Instant>,
    pub created_lt: Option<Instant>,
    /// Of this code.
    pub code: Option<EventCode>,
    /// Of any of these codes (at most `MAX_EVENT_CODES`); empty: of any.
    pub codes_in: Vec<EventCode>,
    pub user: Option<UserId>,
    pub recording: Option<RecordingId>,
}

fn invalid(path: Vec<PathSeg>, message: impl Into<String>) -> Error {
    Error::Invalid(Issue::custom(path, message).into())
}

impl<S: Store> Engine<S> {
    /// Records one event of a user (a user access token's own, unless the input names one).
    pub async fn record_mobile_event(
        &self,
        caller: &Caller,
        input: MobileEventIn,
    ) -> Result<MobileEvent> {
        caller.require(Scope::EngagementsWrite)?;
        let mut issues = Issues::default();
        for (key, message) in payload_issues(input.code, &input.payload) {
            let mut path = vec![MobileEventField::Payload.into()];
            path.extend(key.map(PathSeg::Key));
            issues.push(Issue::custom(path, message));
        }
        issues.into_result(()).map_err(Error::Invalid)?;
        let user = input.user.or(caller.user()).ok_or_else(|| {
            Error::Invalid(Issue::required(vec![MobileEventField::User.into()], "string").into())
        })?;
        require_recorder(caller, user)?;
        in_write_tx!(self, tx => async {
            named_user(&mut tx, caller.org, user, MobileEventField::User).await?;
            if let Some(r) = input.recording {
                let known = tx
                    .get_recording(caller.org, r)
                    .await
                    .map_err(store_error)?
                    .filter(|k| k.deleted_at.is_none());
                // A user's token knows of no one else's recordings.
                let path = || vec![MobileEventField::Recording.into()];
                match known {
                    Some(k) if k.user == user => {}
                    Some(k) if caller.recorder().is_none() => {
                        return Err(invalid(path(), format!("The recording is {}'s, not {user}'s", k.user)));
                    }
                    _ => return Err(invalid(path(), format!("Unknown recording: {r}"))),
                }
            }
            let event = MobileEvent {
                id: MobileEventId::new(),
                org: caller.org,
                user,
                recording: input.recording,
                external_opportunity_ids: input.external_opportunity_ids.clone(),
                code: input.code,
                payload: input.payload.clone(),
                created_at: input.created_at.unwrap_or_else(now),
            };
            tx.insert_mobile_event(&event).await.map_err(store_error)?;
            Ok(event)
        }.await)
    }

    /// One page of the organization's events (a user access token's user's alone), oldest
    /// first.
    pub async fn list_mobile_events(
        &self,
        caller: &Caller,
        filters: &MobileEventFilters,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<MobileEvent>> {
        caller.require(Scope::EngagementsRead)?;
        // The list's length is what is bounded (there are fewer codes than that).
        if filters.codes_in.len() > MAX_EVENT_CODES {
            return Err(Error::BadRequest(format!(
                "at most {MAX_EVENT_CODES} event codes may be listed"
            )));
        }
        let mut codes_in = filters.codes_in.clone();
        codes_in.sort_by_key(|c| c.as_str());
        codes_in.dedup();
        // Both filters hold: the one code, if it is among the listed ones.
        let codes = match filters.code {
            Some(c) if codes_in.is_empty() || codes_in.contains(&c) => vec![c],
            Some(_) => vec![],
            None => codes_in.clone(),
        };
        let nothing = Page {
            items: vec![],
            next_cursor: None,
            prev_cursor: None,
        };
        if filters.code.is_some() && codes.is_empty() {
            return Ok(nothing);
        }
        let user = match (caller.recorder(), filters.user) {
            (Some(me), Some(named)) if me != named => return Ok(nothing),
            (me, named) => me.or(named),
        };
        let fingerprint = format!("mobile_events|{}|{user:?}|{filters:?}", caller.org);
        let after = self.decode_cursor(&fingerprint, cursor)?;
        let limit = limit.clamp(1, MAX_PAGE);
        let query = MobileEventQuery {
            created_gt: filters.created_gt,
            created_lt: filters.created_lt,
            codes,
            user,
            recording: filters.recording,
            after,
            limit: limit + 1,
        };
        let mut tx = self.store.read().await.map_err(store_error)?;
        let events = tx
            .list_mobile_events(caller.org, &query)
            .await
            .map_err(store_error)?;
        Ok(self.finish_page(events, limit, &fingerprint, |e| Key {
            sort_at: e.created_at,
            id: e.id.uuid(),
        }))
    }

    pub async fn get_mobile_event(
        &self,
        caller: &Caller,
        id: MobileEventId,
    ) -> Result<MobileEvent> {
        caller.require(Scope::EngagementsRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        tx.get_mobile_event(caller.org, id)
            .await
            .map_err(store_error)?
            .filter(|e| caller.recorder().is_none_or(|me| me == e.user))
            .ok_or(Error::NotFound("Mobile event"))
    }
}

/// What a recording that arrives with a deep link reports: the link was received, and, when
/// it named what the recording was linked to, consumed.
pub(crate) async fn deep_link_events<T: WriteTx>(
    tx: &mut T,
    recording: &liaison_domain::model::Recording,
    url: &str,
    consumed: bool,
    opportunity: Option<&str>,
) -> Result<()> {
    let payload = deep_link_payload(url);
    let codes: &[EventCode] = if consumed {
        &[EventCode::DeeplinkReceived, EventCode::DeeplinkConsumed]
    } else {
        &[EventCode::DeeplinkReceived]
    };
    for code in codes {
        let event = MobileEvent {
            id: MobileEventId::new(),
            org: recording.org,
            user: recording.user,
            recording: Some(recording.id),
            external_opportunity_ids: opportunity.map(str::to_owned).into_iter().collect(),
            code: *code,
            payload: payload.clone(),
            created_at: recording.date_created,
        };
        tx.insert_mobile_event(&event).await.map_err(store_error)?;
    }
    Ok(())
}
