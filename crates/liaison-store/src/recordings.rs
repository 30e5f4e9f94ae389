//! Recordings, read and written: the rows, their transcripts, and the engagements a recording
//! may be of.

use crate::{Instant, RecordRow, Result};
use liaison_domain::matching::{Rule, Span, Standing};
use liaison_domain::model::{Recording, Transcript};
use liaison_domain::*;
use std::future::Future;

/// A page of an organization's recordings, in id order.
#[derive(Debug, Clone, Default)]
pub struct RecordingQuery {
    /// Recorded (`date_created`) strictly after, strictly before.
    pub recorded_gt: Option<Instant>,
    pub recorded_lt: Option<Instant>,
    pub updated_gt: Option<Instant>,
    pub updated_gte: Option<Instant>,
    pub updated_lt: Option<Instant>,
    pub updated_lte: Option<Instant>,
    /// Only this user's.
    pub user: Option<UserId>,
    /// Include the deleted ones.
    pub include_deleted: bool,
    pub after: Option<RecordingId>,
    pub limit: u32,
}

/// How a recording's standing is stored: a code beside its engagement link.
pub fn standing_code(s: &Standing) -> &'static str {
    match s {
        Standing::Automatic => "AUTOMATIC",
        Standing::DeepLink(_) => "DEEP_LINK",
        Standing::Manual(_) => "MANUAL",
    }
}

/// The standing a stored code and engagement link stand for; `None` for an unknown code.
pub fn standing_from(code: &str, engagement: Option<RecordId>) -> Option<Standing> {
    Some(match (code, engagement) {
        ("AUTOMATIC", _) => Standing::Automatic,
        ("DEEP_LINK", Some(e)) => Standing::DeepLink(e),
        ("MANUAL", e) => Standing::Manual(e),
        _ => return None,
    })
}

pub fn rule_from(code: &str) -> Option<Rule> {
    [
        Rule::Manual,
        Rule::DeepLink,
        Rule::SoleCandidate,
        Rule::ClearWinner,
        Rule::Tie,
        Rule::NoCandidate,
    ]
    .into_iter()
    .find(|r| r.as_str() == code)
}

/// A transcript as stored: JSON text.
pub fn encode_transcript(t: &Transcript) -> Result<String> {
    serde_json::to_string(t).map_err(|e| crate::StoreError::Backend(e.to_string()))
}

pub fn decode_transcript(s: &str) -> Result<Transcript> {
    serde_json::from_str(s)
        .map_err(|e| crate::StoreError::Backend(format!("corrupt transcript: {e}")))
}

/// Recordings, read.
pub trait RecordingsRead: Send {
    fn get_recording(
        &mut self,
        org: OrgId,
        id: RecordingId,
    ) -> impl Future<Output = Result<Option<Recording>>> + Send;
    fn list_recordings(
        &mut self,
        org: OrgId,
        query: &RecordingQuery,
    ) -> impl Future<Output = Result<Vec<Recording>>> + Send;
    /// The live recordings whose engagement link is `engagement`.
    fn recordings_linked_to(
        &mut self,
        org: OrgId,
        engagement: RecordId,
    ) -> impl Future<Output = Result<Vec<Recording>>> + Send;
    fn get_transcript(
        &mut self,
        org: OrgId,
        id: RecordingId,
    ) -> impl Future<Output = Result<Option<Transcript>>> + Send;
    /// The live recordings of `user` that began within `began` (both ends included), in id
    /// order: the recordings a change to an engagement of theirs may concern.
    fn recordings_of_user_between(
        &mut self,
        org: OrgId,
        user: UserId,
        began: Span,
    ) -> impl Future<Output = Result<Vec<Recording>>> + Send;
    /// The live engagements that have a live participant linked to `user` and whose time meets
    /// `window` (starting at or before its end, ending at or after its start, and starting no
    /// more than `matching::LONGEST_APPOINTMENT` before it): a recording's candidates.
    fn engagements_of_user_within(
        &mut self,
        org: OrgId,
        user: UserId,
        window: Span,
    ) -> impl Future<Output = Result<Vec<RecordRow>>> + Send;
}

/// Recordings, written.
pub trait RecordingsWrite: RecordingsRead {
    fn put_recording(
        &mut self,
        r: &Recording,
        insert: bool,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Sets (or, with `None`, removes) a recording's transcript.
    fn put_transcript(
        &mut self,
        org: OrgId,
        id: RecordingId,
        transcript: Option<&Transcript>,
    ) -> impl Future<Output = Result<()>> + Send;
}

impl<T: RecordingsRead> RecordingsRead for crate::ReadOnly<T> {
    fn get_recording(
        &mut self,
        org: OrgId,
        id: RecordingId,
    ) -> impl Future<Output = Result<Option<Recording>>> + Send {
        self.inner().get_recording(org, id)
    }
    fn list_recordings(
        &mut self,
        org: OrgId,
        query: &RecordingQuery,
    ) -> impl Future<Output = Result<Vec<Recording>>> + Send {
        self.inner().list_recordings(org, query)
    }
    fn recordings_linked_to(
        &mut self,
        org: OrgId,
        engagement: RecordId,
    ) -> impl Future<Output = Result<Vec<Recording>>> + Send {
        self.inner().recordings_linked_to(org, engagement)
    }
    fn get_transcript(
        &mut self,
        org: OrgId,
        id: RecordingId,
    ) -> impl Future<Output = Result<Option<Transcript>>> + Send {
        self.inner().get_transcript(org, id)
    }
    fn engagements_of_user_within(
        &mut self,
        org: OrgId,
        user: UserId,
        window: Span,
    ) -> impl Future<Output = Result<Vec<RecordRow>>> + Send {
        self.inner().engagements_of_user_within(org, user, window)
    }
    fn recordings_of_user_between(
        &mut self,
        org: OrgId,
        user: UserId,
        began: Span,
    ) -> impl Future<Output = Result<Vec<Recording>>> + Send {
        self.inner().recordings_of_user_between(org, user, began)
    }
}
