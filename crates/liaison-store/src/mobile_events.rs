//! Mobile events, read and written, with the one list query both backends render.

use crate::{Instant, Key, Result, SqlOut, Value};
use liaison_domain::model::{EventCode, MobileEvent};
use liaison_domain::*;
use std::future::Future;

/// A page of an organization's mobile events, oldest first (ties by id).
#[derive(Debug, Clone, Default)]
pub struct MobileEventQuery {
    /// Created strictly after, strictly before.
    pub created_gt: Option<Instant>,
    pub created_lt: Option<Instant>,
    /// Of any of these codes; empty: of any.
    pub codes: Vec<EventCode>,
    pub user: Option<UserId>,
    pub recording: Option<RecordingId>,
    pub after: Option<Key>,
    pub limit: u32,
}

pub const MOBILE_EVENT_COLUMNS: &str =
    "id, org_id, user_id, recording_id, external_opportunity_ids, event_code, payload, created_at";

impl MobileEventQuery {
    pub fn render(&self, org: OrgId, out: &mut impl SqlOut) {
        out.text(&format!(
            "SELECT {MOBILE_EVENT_COLUMNS} FROM mobile_events WHERE org_id = "
        ));
        out.value(&Value::Id(org.uuid()));
        if let Some(t) = self.created_gt {
            out.text(" AND created_at > ");
            out.value(&Value::Time(t));
        }
        if let Some(t) = self.created_lt {
            out.text(" AND created_at < ");
            out.value(&Value::Time(t));
        }
        if !self.codes.is_empty() {
            out.text(" AND event_code IN (");
            for (i, c) in self.codes.iter().enumerate() {
                if i > 0 {
                    out.text(", ");
                }
                out.value(&Value::Text(c.as_str().to_owned()));
            }
            out.text(")");
        }
        if let Some(u) = self.user {
            out.text(" AND user_id = ");
            out.value(&Value::Id(u.uuid()));
        }
        if let Some(r) = self.recording {
            out.text(" AND recording_id = ");
            out.value(&Value::Id(r.uuid()));
        }
        if let Some(k) = self.after {
            out.text(" AND (created_at, id) > (");
            out.value(&Value::Time(k.sort_at));
            out.text(", ");
            out.value(&Value::Id(k.id));
            out.text(")");
        }
        out.text(&format!(" ORDER BY created_at, id LIMIT {}", self.limit));
    }
}

/// An event's opportunity ids as stored: JSON text.
pub fn encode_opportunity_ids(ids: &[String]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

pub fn decode_opportunity_ids(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s)
        .map_err(|e| crate::StoreError::Backend(format!("corrupt opportunity ids: {e}")))
}

pub fn encode_payload(p: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::Value::Object(p.clone()).to_string()
}

pub fn decode_payload(s: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    serde_json::from_str(s)
        .map_err(|e| crate::StoreError::Backend(format!("corrupt event payload: {e}")))
}

pub fn decode_code(s: &str) -> Result<EventCode> {
    EventCode::parse(s)
        .ok_or_else(|| crate::StoreError::Backend(format!("corrupt row: event code {s}")))
}

/// Mobile events, read.
pub trait MobileEventsRead: Send {
    fn get_mobile_event(
        &mut self,
        org: OrgId,
        id: MobileEventId,
    ) -> impl Future<Output = Result<Option<MobileEvent>>> + Send;
    fn list_mobile_events(
        &mut self,
        org: OrgId,
        query: &MobileEventQuery,
    ) -> impl Future<Output = Result<Vec<MobileEvent>>> + Send;
}

/// Mobile events, written: they are only ever added.
pub trait MobileEventsWrite: MobileEventsRead {
    fn insert_mobile_event(&mut self, e: &MobileEvent) -> impl Future<Output = Result<()>> + Send;
}

impl<T: MobileEventsRead> MobileEventsRead for crate::ReadOnly<T> {
    fn get_mobile_event(
        &mut self,
        org: OrgId,
        id: MobileEventId,
    ) -> impl Future<Output = Result<Option<MobileEvent>>> + Send {
        self.inner().get_mobile_event(org, id)
    }
    fn list_mobile_events(
        &mut self,
        org: OrgId,
        query: &MobileEventQuery,
    ) -> impl Future<Output = Result<Vec<MobileEvent>>> + Send {
        self.inner().list_mobile_events(org, query)
    }
}
