//! What the recordings routes answer: the org-token contract's recording, its `crm` links,
//! utterances, a link's target, and Liaison's own match explanation and settings.

use liaison_domain::RecordingId;
use liaison_domain::matching::{Decision, Settings};
use liaison_domain::time::format_instant;
use liaison_engine::{CrmLinks, LinkedRef, RecordingView, Resolved};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A linked CRM record: Liaison's id and the CRM's.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkOut {
    pub(super) id: String,
    pub(super) external_id: String,
}

impl From<LinkedRef> for LinkOut {
    fn from(l: LinkedRef) -> Self {
        LinkOut {
            id: l.id.to_string(),
            external_id: l.external_id,
        }
    }
}

/// What a recording is linked to in the CRM: its own links, and where it names none of a
/// kind, its engagement's (with the engagement's reps as `users`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrmOut {
    pub(super) integration_connection_id: String,
    pub(super) users: Vec<LinkOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) engagement: Option<LinkOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) opportunity: Option<LinkOut>,
    pub(super) contacts: Vec<LinkOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) account: Option<LinkOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) lead: Option<LinkOut>,
}

impl From<CrmLinks> for CrmOut {
    fn from(c: CrmLinks) -> Self {
        CrmOut {
            integration_connection_id: c.connection.to_string(),
            users: c
                .users
                .into_iter()
                .map(|(id, external_id)| LinkOut {
                    id: id.to_string(),
                    external_id,
                })
                .collect(),
            engagement: c.engagement.map(LinkOut::from),
            opportunity: c.opportunity.map(LinkOut::from),
            contacts: c.contacts.into_iter().map(LinkOut::from).collect(),
            account: c.account.map(LinkOut::from),
            lead: c.lead.map(LinkOut::from),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct WebLinks {
    pub(super) web: SelfLink,
}

#[derive(Serialize, ToSchema)]
#[serde(rename = "SelfLink")]
pub struct SelfLink {
    /// Where the recording is read in Liaison's API.
    #[serde(rename = "self")]
    pub(super) self_: String,
}

/// A recording, as the org-token contract shows it. Fields Liaison does not know are `null`
/// rather than made up (`title`, `durationInMilliseconds`, `latitude`, `longitude`, `result`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordingOut {
    pub(super) id: String,
    pub(super) organization_id: String,
    pub(super) user_id: String,
    #[schema(required)]
    pub(super) title: Option<String>,
    /// The duration given, else where the last utterance ends.
    #[schema(required)]
    pub(super) duration_in_milliseconds: Option<u64>,
    #[schema(required)]
    pub(super) latitude: Option<f64>,
    #[schema(required)]
    pub(super) longitude: Option<f64>,
    /// `OPEN`, `WON` or `LOST`, from the recorder's `result` (`in progress`, `closed`,
    /// `not closed`).
    #[schema(required, pattern = "^(OPEN|WON|LOST)$")]
    pub(super) result: Option<&'static str>,
    /// When recording began (`dateCreated`).
    #[schema(format = DateTime)]
    pub(super) created_at: String,
    #[schema(format = DateTime)]
    pub(super) date_created: String,
    #[schema(format = DateTime)]
    pub(super) updated_at: String,
    pub(super) deleted: bool,
    #[schema(required, format = DateTime)]
    pub(super) deleted_at: Option<String>,
    pub(super) links: WebLinks,
    /// Liaison's own: the deep link it was recorded from.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) deep_link: Option<String>,
    /// With `showCrmLinks=true`: what it is linked to, `null` until it is linked.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CrmOut>)]
    pub(super) crm: Option<Option<CrmOut>>,
}

pub(super) fn result_code(details: &Map<String, Value>) -> Option<&'static str> {
    match details.get("result").and_then(Value::as_str)? {
        "closed" => Some("WON"),
        "not closed" => Some("LOST"),
        "in progress" => Some("OPEN"),
        _ => None,
    }
}

pub(super) fn recording_out(v: RecordingView, show_crm: bool) -> RecordingOut {
    let r = v.recording;
    let recorded = format_instant(&r.date_created);
    RecordingOut {
        id: r.id.to_string(),
        organization_id: r.org.to_string(),
        user_id: r.user.to_string(),
        title: r.title,
        duration_in_milliseconds: r.duration_ms.or(r.speech_end_ms),
        latitude: r.latitude,
        longitude: r.longitude,
        result: result_code(&r.details),
        created_at: recorded.clone(),
        date_created: recorded,
        updated_at: format_instant(&r.updated_at),
        deleted: r.deleted_at.is_some(),
        deleted_at: r.deleted_at.as_ref().map(format_instant),
        links: WebLinks {
            web: SelfLink {
                self_: format!("/v1/core/recordings/{}", r.id),
            },
        },
        deep_link: r.deep_link,
        crm: show_crm.then(|| v.crm.map(CrmOut::from)),
    }
}

/// A page of recordings: `cursor` names the next page, `null` on the last.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordingPage {
    pub(super) data: Vec<RecordingOut>,
    #[schema(required)]
    pub(super) cursor: Option<String>,
    pub(super) page_size: u32,
    pub(super) has_next_page: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UtteranceOut {
    pub(super) utterance: String,
    pub(super) start_time_in_millis: u64,
    pub(super) end_time_in_millis: u64,
    pub(super) speaker_tag: String,
    pub(super) redacted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) confidence: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Utterances {
    pub(super) utterances: Vec<UtteranceOut>,
    pub(super) is_low_data_mode: bool,
    #[schema(value_type = Object)]
    pub(super) speaker_map: Map<String, Value>,
}

/// The transcript as the gateway contract pages it (one page, whole).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UtterancePage {
    pub(super) data: Utterances,
    #[schema(required)]
    pub(super) page_size: Option<u32>,
    #[schema(required)]
    pub(super) cursor: Option<u32>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkedOut {
    pub(super) id: String,
    pub(super) external_id: String,
    #[schema(pattern = "^(ACCOUNT|LEAD|OPPORTUNITY|ENGAGEMENT|CONTACT)$")]
    pub(super) data_type: &'static str,
    /// Its name (an engagement's subject); empty when the CRM gave none.
    pub(super) name: String,
    /// Its last activity as the CRM gave it, an engagement's start, else its last change.
    #[schema(format = DateTime)]
    pub(super) last_activity_at: String,
}

impl From<Resolved> for LinkedOut {
    fn from(r: Resolved) -> Self {
        LinkedOut {
            id: r.id.to_string(),
            external_id: r.external_id,
            data_type: r.kind.as_str(),
            name: r.name.unwrap_or_default(),
            last_activity_at: format_instant(&r.last_activity_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CandidateOut {
    pub(super) engagement_id: String,
    /// In [0, 1]: the weighted sum of the components.
    pub(super) score: f64,
    /// The share of the shorter span that lies in the other.
    pub(super) overlap: f64,
    /// How near the start times are.
    pub(super) proximity: f64,
    /// How near the account, when the recording has a location.
    #[schema(required)]
    pub(super) geo: Option<f64>,
    pub(super) start_distance_ms: i64,
    #[schema(required)]
    pub(super) distance_meters: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsOut {
    /// How long before an engagement's start a recording may begin.
    #[schema(maximum = 1440)]
    pub(super) before_minutes: u32,
    /// How long after an engagement's end a recording may begin.
    #[schema(maximum = 1440)]
    pub(super) after_minutes: u32,
    /// By how much the best candidate must beat the runner-up, in [0, 1].
    #[schema(minimum = 0, maximum = 1)]
    pub(super) margin: f64,
    /// The farthest a recording may be made from the engagement's account (`null`: no limit).
    #[schema(required, minimum = 100, maximum = 100000)]
    pub(super) max_distance_meters: Option<u32>,
}

impl From<Settings> for SettingsOut {
    fn from(s: Settings) -> Self {
        SettingsOut {
            before_minutes: s.before_minutes(),
            after_minutes: s.after_minutes(),
            margin: s.margin(),
            max_distance_meters: s.max_distance_meters(),
        }
    }
}

/// Why a recording is linked where it is.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatchOut {
    pub(super) recording_id: String,
    /// The engagement the rule links, `null` for none.
    #[schema(required)]
    pub(super) engagement_id: Option<String>,
    /// `MANUAL`, `DEEP_LINK`, `SOLE_CANDIDATE`, `CLEAR_WINNER`, `TIE` or `NO_CANDIDATE`.
    pub(super) rule: &'static str,
    /// Every eligible engagement, best first.
    pub(super) candidates: Vec<CandidateOut>,
    pub(super) settings: SettingsOut,
}

pub(super) fn match_out(id: RecordingId, d: Decision) -> MatchOut {
    MatchOut {
        recording_id: id.to_string(),
        engagement_id: d.linked.map(|e| e.to_string()),
        rule: d.rule.as_str(),
        candidates: d
            .candidates
            .into_iter()
            .map(|c| CandidateOut {
                engagement_id: c.engagement.to_string(),
                score: c.score,
                overlap: c.overlap,
                proximity: c.proximity,
                geo: c.geo,
                start_distance_ms: c.start_distance_ms,
                distance_meters: c.distance_meters,
            })
            .collect(),
        settings: d.settings.into(),
    }
}

/// A recording a rematch moved, or would move.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeOut {
    pub(super) recording_id: String,
    /// The engagement it was linked to, `null` for none.
    #[schema(required)]
    pub(super) from_engagement_id: Option<String>,
    /// The engagement the rule links now, `null` for none.
    #[schema(required)]
    pub(super) to_engagement_id: Option<String>,
    pub(super) rule: &'static str,
}

/// What a rematch did (or, with `dryRun`, would do).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RematchOut {
    pub(super) dry_run: bool,
    /// The recordings decided again: those of the range whose link is the rule's to make.
    pub(super) evaluated: u64,
    /// How many of them moved (or would).
    pub(super) changed: u64,
    /// The first 1,000 of those.
    pub(super) changes: Vec<ChangeOut>,
    pub(super) settings: SettingsOut,
}

pub(super) fn rematch_out(r: liaison_engine::RematchReport, dry_run: bool) -> RematchOut {
    RematchOut {
        dry_run,
        evaluated: r.evaluated,
        changed: r.changed,
        changes: r
            .changes
            .into_iter()
            .map(|c| ChangeOut {
                recording_id: c.recording.to_string(),
                from_engagement_id: c.from.map(|e| e.to_string()),
                to_engagement_id: c.to.map(|e| e.to_string()),
                rule: c.rule.as_str(),
            })
            .collect(),
        settings: r.settings.into(),
    }
}
