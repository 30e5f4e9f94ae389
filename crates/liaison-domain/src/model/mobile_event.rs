//! Mobile events: what the recording app reports as it runs (the recorder starting and
//! stopping, the network, the app's state, consent, deep links), each of one user and maybe
//! of one recording, with a payload whose shape its code fixes.

use crate::{MobileEventId, OrgId, RecordingId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EventCode {
    RecorderStateChange,
    NetworkStatusChange,
    AppStateChange,
    ConsentStatusChanged,
    RecordingMetadataChanged,
    DeeplinkReceived,
    DeeplinkConsumed,
    UserAuthStatusChanged,
}

/// A payload key and the values it may take (`None`: any text).
type Shape = &'static [(&'static str, Option<&'static [&'static str]>)];

impl EventCode {
    pub const ALL: [EventCode; 8] = [
        EventCode::RecorderStateChange,
        EventCode::NetworkStatusChange,
        EventCode::AppStateChange,
        EventCode::ConsentStatusChanged,
        EventCode::RecordingMetadataChanged,
        EventCode::DeeplinkReceived,
        EventCode::DeeplinkConsumed,
        EventCode::UserAuthStatusChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventCode::RecorderStateChange => "recorderStateChange",
            EventCode::NetworkStatusChange => "networkStatusChange",
            EventCode::AppStateChange => "appStateChange",
            EventCode::ConsentStatusChanged => "consentStatusChanged",
            EventCode::RecordingMetadataChanged => "recordingMetadataChanged",
            EventCode::DeeplinkReceived => "deeplinkReceived",
            EventCode::DeeplinkConsumed => "deeplinkConsumed",
            EventCode::UserAuthStatusChanged => "userAuthStatusChanged",
        }
    }

    pub fn parse(s: &str) -> Option<EventCode> {
        EventCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn names() -> Vec<&'static str> {
        EventCode::ALL.iter().map(|c| c.as_str()).collect()
    }

    /// The keys this code's payload has, each required, and the values each may take.
    fn shape(self) -> Shape {
        match self {
            EventCode::RecorderStateChange => &[
                (
                    "value",
                    Some(&["start", "resume", "pause", "stop", "cancelled"]),
                ),
                (
                    "trigger",
                    Some(&[
                        "interruption",
                        "buttonPress",
                        "deeplink",
                        "maxRecordingTimeExceeded",
                        "unknown",
                    ]),
                ),
            ],
            EventCode::NetworkStatusChange => &[("value", Some(&["online", "offline"]))],
            EventCode::AppStateChange => &[("value", Some(&["background", "active", "inactive"]))],
            EventCode::ConsentStatusChanged => {
                &[("status", Some(&["requested", "granted", "declined"]))]
            }
            EventCode::RecordingMetadataChanged => &[("title", None)],
            EventCode::DeeplinkReceived | EventCode::DeeplinkConsumed => &[("fullUrl", None)],
            EventCode::UserAuthStatusChanged => {
                &[("status", Some(&["authenticated", "unauthenticated"]))]
            }
        }
    }
}

/// Where a payload breaks its code's shape: the payload key (none for the payload itself)
/// and what is wrong.
pub fn payload_issues(
    code: EventCode,
    payload: &Map<String, Value>,
) -> Vec<(Option<String>, String)> {
    let shape = code.shape();
    let mut out = Vec::new();
    for (key, allowed) in shape {
        match payload.get(*key) {
            None | Some(Value::Null) => {
                out.push((
                    Some((*key).to_owned()),
                    format!("Required for {}", code.as_str()),
                ));
            }
            Some(Value::String(v)) => {
                if let Some(allowed) = allowed
                    && !allowed.contains(&v.as_str())
                {
                    let listed: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
                    out.push((
                        Some((*key).to_owned()),
                        format!("Expected {}, received '{v}'", listed.join(" | ")),
                    ));
                }
            }
            Some(_) => out.push((Some((*key).to_owned()), "Expected string".into())),
        }
    }
    for key in payload.keys() {
        if !shape.iter().any(|(k, _)| k == key) {
            out.push((
                Some(key.clone()),
                format!("Unrecognized key for {}: `{key}`", code.as_str()),
            ));
        }
    }
    out
}

/// The payload of a deep link event (received or consumed): the link as it came.
pub fn deep_link_payload(url: &str) -> Map<String, Value> {
    let (key, _) = EventCode::DeeplinkReceived.shape()[0];
    [(key.to_owned(), Value::String(url.to_owned()))]
        .into_iter()
        .collect()
}

/// One event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MobileEvent {
    pub id: MobileEventId,
    pub org: OrgId,
    pub user: UserId,
    pub recording: Option<RecordingId>,
    /// The CRM's ids of the opportunities the event concerns.
    pub external_opportunity_ids: Vec<String>,
    pub code: EventCode,
    /// Valid for `code` (`payload_issues` is empty).
    pub payload: Map<String, Value>,
    pub created_at: DateTime<Utc>,
}

/// An event as a client reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct MobileEventIn {
    pub code: EventCode,
    pub payload: Map<String, Value>,
    /// Defaults to a user access token's user.
    pub user: Option<UserId>,
    pub recording: Option<RecordingId>,
    pub external_opportunity_ids: Vec<String>,
    /// When it happened; defaults to when it is recorded.
    pub created_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn each_code_takes_its_own_payload_only() {
        let ok = payload(json!({"value": "start", "trigger": "deeplink"}));
        assert!(payload_issues(EventCode::RecorderStateChange, &ok).is_empty());
        let bad = payload(json!({"value": "rewind"}));
        let issues = payload_issues(EventCode::RecorderStateChange, &bad);
        let keys: Vec<_> = issues.iter().map(|(k, _)| k.clone().unwrap()).collect();
        assert_eq!(keys, ["value", "trigger"]);
        let link = payload(json!({"fullUrl": "siro://record?appointmentId=a1"}));
        assert!(payload_issues(EventCode::DeeplinkReceived, &link).is_empty());
        let made = deep_link_payload("siro://record?appointmentId=a1");
        assert_eq!(made, link);
        assert!(payload_issues(EventCode::DeeplinkConsumed, &made).is_empty());
        assert_eq!(
            payload_issues(EventCode::NetworkStatusChange, &link).len(),
            2
        );
        let number = payload(json!({"title": 3}));
        assert_eq!(
            payload_issues(EventCode::RecordingMetadataChanged, &number),
            vec![(Some("title".to_owned()), "Expected string".to_owned())]
        );
        for code in EventCode::ALL {
            assert_eq!(EventCode::parse(code.as_str()), Some(code));
            // Exports spell codes through serde: the same names.
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        }
    }
}
