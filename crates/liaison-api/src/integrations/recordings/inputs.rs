//! The recordings routes' bodies and query parameters, read as the gateway contract spells
//! them (with Liaison's own fields beside), and their schemas for the OpenAPI document.

use crate::decode::{Obj, Reader, only_known};
use liaison_domain::field::RecordingField;
use liaison_domain::matching::Settings;
use liaison_domain::model::*;
use liaison_domain::time::Instant;
use liaison_domain::{ConnectionId, Issue, Patch, PathSeg, RecordId, RecordingId, UserId};
use liaison_engine::LinkTarget;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The contract's fields Liaison keeps as given, with the JSON type each must have.
pub(super) const CREATE_DETAILS: &[(&str, &str)] = &[
    ("isPrivate", "boolean"),
    ("enableAutomaticSplit", "boolean"),
    ("conversationType", "string"),
    ("source", "object"),
    ("originalDeviceId", "string"),
    ("os", "string"),
    ("osVersion", "string|number"),
    ("deviceType", "string"),
    ("codeVersion", "string"),
    ("transcriptionLanguage", "string"),
    ("recordingSettings", "object"),
    ("integrationConnectionId", "string"),
    ("result", "result"),
];

pub(super) const UPDATE_DETAILS: &[(&str, &str)] = &[
    ("conversationType", "string"),
    ("transcriptionStatus", "string"),
    ("terminatedUngraciously", "boolean"),
    ("numberOfExpectedChunks", "number"),
    ("expectedChunksOutstanding", "string[]"),
    ("isPrivate", "boolean"),
    ("notes", "string"),
    ("discoverable", "boolean"),
    ("result", "result"),
    ("advancedBookmarksChecked", "boolean"),
    ("doNotDelete", "boolean"),
    ("conversationQualityTag", "string"),
    ("consentSignatureBase64", "string"),
    ("customerConsentAttested", "boolean"),
    ("repConsentAttested", "boolean"),
];

/// The values of `result` the contract allows.
pub(super) const RESULTS: [&str; 3] = ["closed", "not closed", "in progress"];

pub(super) fn details(
    r: &mut Reader,
    o: &Obj,
    allowed: &[(&str, &str)],
    nulls: bool,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, kind) in allowed {
        let Some(v) = o.map.get(*key) else { continue };
        let fits = match (*kind, v) {
            (_, Value::Null) => nulls,
            ("boolean", Value::Bool(_)) | ("number", Value::Number(_)) => true,
            ("object", Value::Object(_)) => true,
            ("string", Value::String(s)) => {
                s.len() <= liaison_domain::rules::MAX_TEXT && !s.contains('\0')
            }
            ("string|number", Value::String(_) | Value::Number(_)) => true,
            ("string[]", Value::Array(items)) => items.iter().all(Value::is_string),
            ("result", Value::String(s)) => RESULTS.contains(&s.as_str()),
            _ => false,
        };
        if fits {
            out.insert((*key).to_owned(), v.clone());
        } else {
            let mut path = o.path.clone();
            path.push(PathSeg::Key((*key).to_owned()));
            r.issues
                .push(Issue::wrong_type(path, kind, crate::decode::type_name(v)));
        }
    }
    out
}

/// `durationInMilliseconds`: a whole number (its sign is the domain's to check).
pub(super) fn duration(r: &mut Reader, o: &Obj) -> Patch<i64> {
    match r.number(o, "durationInMilliseconds") {
        Patch::Value(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Patch::Value(n as i64),
        Patch::Value(_) => {
            r.issues.push(Issue::wrong_type(
                vec![PathSeg::Key("durationInMilliseconds".into())],
                "integer",
                "float",
            ));
            Patch::Absent
        }
        Patch::Null => Patch::Null,
        Patch::Absent => Patch::Absent,
    }
}

/// `transcript` (text) or `utterances` (timed); both is refused.
pub(super) fn transcript(r: &mut Reader, o: &Obj) -> Patch<Transcript> {
    let text = match o.map.get("transcript") {
        None => Patch::Absent,
        Some(Value::Null) => Patch::Null,
        Some(Value::String(s)) => Patch::Value(Transcript::Text(s.clone())),
        Some(other) => {
            r.issues.push(Issue::wrong_type(
                vec![PathSeg::Key("transcript".into())],
                "string",
                crate::decode::type_name(other),
            ));
            Patch::Absent
        }
    };
    let timed = r.array(o, "utterances").map(|items| {
        let mut list = Vec::with_capacity(items.len());
        for (path, v) in items {
            let Some(u) = r.element(path, v) else {
                continue;
            };
            only_known(
                r,
                &u,
                &[
                    "utterance",
                    "speakerTag",
                    "startTimeInMillis",
                    "endTimeInMillis",
                    "confidence",
                ],
            );
            let utterance = match r.long_string(&u, "utterance") {
                Patch::Value(s) => Some(s),
                Patch::Null | Patch::Absent => {
                    if !u.map.contains_key("utterance") || u.map["utterance"].is_null() {
                        let mut p = u.path.clone();
                        p.push(PathSeg::Key("utterance".into()));
                        r.issues.push(Issue::required(p, "string"));
                    }
                    None
                }
            };
            let speaker = r.required_string_allow_empty(&u, "speakerTag");
            let start = millis(r, &u, "startTimeInMillis");
            let end = millis(r, &u, "endTimeInMillis");
            let confidence = r.number(&u, "confidence").as_value().copied();
            if let (Some(utterance), Some(speaker_tag), Some(start), Some(end)) =
                (utterance, speaker, start, end)
            {
                list.push(Utterance {
                    utterance,
                    speaker_tag,
                    start_time_in_millis: start,
                    end_time_in_millis: end,
                    confidence,
                });
            }
        }
        Transcript::Utterances(list)
    });
    match (text, timed) {
        (Patch::Absent, t) | (t, Patch::Absent) => t,
        _ => {
            r.issues.push(Issue::custom(
                vec![PathSeg::Key("utterances".into())],
                "Give `transcript` or `utterances`, not both",
            ));
            Patch::Absent
        }
    }
}

pub(super) fn millis(r: &mut Reader, o: &Obj, key: &str) -> Option<u64> {
    let n = r.required_number(o, key)?;
    if n.fract() == 0.0 && (0.0..9.0e15).contains(&n) {
        Some(n as u64)
    } else {
        let mut path = o.path.clone();
        path.push(PathSeg::Key(key.to_owned()));
        r.issues
            .push(Issue::too_small(path, 0.0, "whole number of milliseconds"));
        None
    }
}

pub(super) const CREATE_KEYS: &[&str] = &[
    "id",
    "dateCreated",
    "title",
    "engagementId",
    "opportunityId",
    "crmObjects",
    "userId",
    "durationInMilliseconds",
    "latitude",
    "longitude",
    "deepLink",
    "transcript",
    "utterances",
];

pub(super) fn create_body(r: &mut Reader, o: &Obj) -> Option<RecordingIn> {
    let known: Vec<&str> = CREATE_KEYS
        .iter()
        .copied()
        .chain(CREATE_DETAILS.iter().map(|(k, _)| *k))
        .collect();
    only_known(r, o, &known);
    let id = r.required_string(o, "id");
    let id = id.and_then(|raw| {
        let parsed = RecordingId::parse(&raw);
        if parsed.is_none() {
            r.issues.push(Issue::custom(
                vec![PathSeg::Key("id".into())],
                "The recording's id must be a UUID",
            ));
        }
        parsed
    });
    let date_created = r.required_instant(o, "dateCreated");
    let engagement = r.id(
        o,
        "engagementId",
        liaison_domain::field::Field::Id,
        RecordId::parse,
    );
    let opportunity = r.id(
        o,
        "opportunityId",
        liaison_domain::field::Field::Opportunity,
        RecordId::parse,
    );
    let user = r.id(o, "userId", liaison_domain::field::Field::Id, UserId::parse);
    let crm_objects = match r.array(o, "crmObjects") {
        Patch::Value(items) => items
            .into_iter()
            .filter_map(|(path, v)| {
                let item = r.element(path, v)?;
                only_known(r, &item, &["objectType", "objectId"]);
                let kind = r.required_string(&item, "objectType");
                let object = r.required_external_id(&item, "objectId");
                let kind = kind.and_then(|k| {
                    let link = crm_object_link(&k);
                    if link.is_none() {
                        let mut p = item.path.clone();
                        p.push(PathSeg::Key("objectType".into()));
                        r.issues.push(Issue::bad_enum(
                            p,
                            &[
                                "Opportunity",
                                "Account",
                                "Contact",
                                "Lead",
                                "Engagement",
                                "Event",
                                "ServiceAppointment",
                            ],
                            &k,
                        ));
                    }
                    link
                });
                Some((kind?, object?))
            })
            .collect(),
        _ => Vec::new(),
    };
    let input = RecordingIn {
        id: RecordingId::new(),
        user: user.as_value().copied(),
        title: r.string(o, "title").as_value().cloned(),
        date_created: Instant::default(),
        duration_ms: duration(r, o).as_value().copied(),
        latitude: r.number(o, "latitude").as_value().copied(),
        longitude: r.number(o, "longitude").as_value().copied(),
        deep_link: r.long_string(o, "deepLink").as_value().cloned(),
        engagement: engagement.as_value().copied(),
        opportunity: opportunity.as_value().copied(),
        crm_objects,
        transcript: transcript(r, o).as_value().cloned(),
        details: details(r, o, CREATE_DETAILS, false),
    };
    Some(RecordingIn {
        id: id?,
        date_created: date_created?,
        ..input
    })
}

pub(super) const UPDATE_KEYS: &[&str] = &[
    "id",
    "title",
    "dateCreated",
    "durationInMilliseconds",
    "latitude",
    "longitude",
    "transcript",
    "utterances",
];

pub(super) fn update_body(r: &mut Reader, o: &Obj) -> Option<(RecordingId, RecordingPatch)> {
    let known: Vec<&str> = UPDATE_KEYS
        .iter()
        .copied()
        .chain(UPDATE_DETAILS.iter().map(|(k, _)| *k))
        .collect();
    only_known(r, o, &known);
    let id = r.required_string(o, "id");
    let patch = RecordingPatch {
        title: r.string(o, "title"),
        date_created: r.instant(o, "dateCreated").as_value().copied(),
        duration_ms: duration(r, o),
        latitude: r.number(o, "latitude"),
        longitude: r.number(o, "longitude"),
        transcript: transcript(r, o),
        details: details(r, o, UPDATE_DETAILS, true),
    };
    Some((id.and_then(|raw| RecordingId::parse(&raw))?, patch))
}

/// A recording to create: the gateway contract's body, and Liaison's own fields.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct RecordingCreate {
    /// The recording's id, a UUID the recorder chooses.
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = DateTime)]
    date_created: String,
    #[schema(max_length = 4096)]
    title: Option<String>,
    /// Links the recording to this engagement (Liaison's id) by hand.
    #[schema(format = Uuid)]
    engagement_id: Option<String>,
    /// Links the recording to this opportunity (Liaison's id) by hand.
    #[schema(format = Uuid)]
    opportunity_id: Option<String>,
    /// CRM records to link by hand, by Liaison's id or the CRM's.
    crm_objects: Option<Vec<CrmObject>>,
    /// Liaison's own: the workspace user who recorded (required with an organization token).
    #[schema(format = Uuid)]
    user_id: Option<String>,
    /// Liaison's own: how long the recording lasts; without it, until its last utterance ends.
    #[schema(minimum = 0)]
    duration_in_milliseconds: Option<i64>,
    /// Liaison's own: where it was recorded (with `longitude`).
    #[schema(minimum = -90, maximum = 90)]
    latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    longitude: Option<f64>,
    /// Liaison's own: the deep link the app was opened with
    /// (`siro://record?appointmentId=…&title=…&opportunityId=…`); its appointment is linked.
    deep_link: Option<String>,
    /// Liaison's own: the transcript as text (at most 5 MiB)…
    transcript: Option<String>,
    /// …or as timed utterances (not both).
    utterances: Option<Vec<UtteranceIn>>,
    is_private: Option<bool>,
    enable_automatic_split: Option<bool>,
    conversation_type: Option<String>,
    #[schema(value_type = Option<Object>)]
    source: Option<Value>,
    original_device_id: Option<String>,
    os: Option<String>,
    /// A string or a number.
    #[schema(value_type = Option<Value>)]
    os_version: Option<Value>,
    device_type: Option<String>,
    code_version: Option<String>,
    transcription_language: Option<String>,
    #[schema(value_type = Option<Object>)]
    recording_settings: Option<Value>,
    integration_connection_id: Option<String>,
    #[schema(pattern = "^(closed|not closed|in progress)$")]
    result: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct CrmObject {
    #[schema(pattern = "^(Opportunity|Account|Contact|Lead|Engagement|Event|ServiceAppointment)$")]
    object_type: String,
    #[schema(min_length = 1, max_length = 512)]
    object_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct UtteranceIn {
    utterance: String,
    speaker_tag: String,
    #[schema(minimum = 0)]
    start_time_in_millis: u64,
    #[schema(minimum = 0)]
    end_time_in_millis: u64,
    #[schema(minimum = 0, maximum = 1)]
    confidence: Option<f64>,
}

/// Changes to a recording: the fields given change, the others keep.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct RecordingUpdate {
    #[schema(format = Uuid)]
    id: String,
    title: Option<String>,
    #[schema(format = DateTime)]
    date_created: Option<String>,
    #[schema(minimum = 0)]
    duration_in_milliseconds: Option<i64>,
    #[schema(minimum = -90, maximum = 90)]
    latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    longitude: Option<f64>,
    transcript: Option<String>,
    utterances: Option<Vec<UtteranceIn>>,
    conversation_type: Option<String>,
    transcription_status: Option<String>,
    terminated_ungraciously: Option<bool>,
    number_of_expected_chunks: Option<f64>,
    expected_chunks_outstanding: Option<Vec<String>>,
    is_private: Option<bool>,
    notes: Option<String>,
    discoverable: Option<bool>,
    #[schema(pattern = "^(closed|not closed|in progress)$")]
    result: Option<String>,
    advanced_bookmarks_checked: Option<bool>,
    do_not_delete: Option<bool>,
    conversation_quality_tag: Option<String>,
    consent_signature_base64: Option<String>,
    customer_consent_attested: Option<bool>,
    rep_consent_attested: Option<bool>,
}

/// The later of two lower bounds, the earlier of two upper ones.
pub(super) fn tighter(a: Option<Instant>, b: Option<Instant>, later: bool) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if later { a.max(b) } else { a.min(b) }),
        (a, b) => a.or(b),
    }
}

/// Where a link goes.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct LinkBody {
    /// `ACCOUNT`, `LEAD`, `OPPORTUNITY`, `ENGAGEMENT` or `CONTACT`.
    #[schema(pattern = "^(ACCOUNT|LEAD|OPPORTUNITY|ENGAGEMENT|CONTACT)$")]
    data_type: String,
    /// The record's Liaison id; or give `externalId` and `integrationConnectionId`.
    #[schema(format = Uuid)]
    id: Option<String>,
    #[schema(min_length = 1, max_length = 512)]
    external_id: Option<String>,
    #[schema(format = Uuid)]
    integration_connection_id: Option<String>,
    /// What asked for the link; every link made here is a manual decision, whatever it says.
    trigger: Option<String>,
}

pub(super) const TRIGGERS: [&str; 17] = [
    "FUZZY_MATCH_RECORDINGS_FOR_ENGAGEMENT",
    "FUZZY_MATCH_ENGAGEMENTS_FOR_RECORDING",
    "FUZZY_MATCH_RECORDINGS_FOR_OPPORTUNITY",
    "FUZZY_MATCH_OPPORTUNITIES_FOR_RECORDING",
    "OPPORTUNITY_DEEPLINK_ADMIN",
    "OPPORTUNITY_DEEPLINK",
    "CRM_DEEPLINK",
    "AUDIO_UPLOAD_DEEPLINK",
    "CONTACT_MATCH_AUDIO_UPLOAD",
    "USER_LINK_WEB",
    "USER_LINK_MOBILE",
    "USER_LINK_POST_RECORDING",
    "USER_UNLINK",
    "USER_APPOINTMENT_LIST",
    "CALENDAR_MATCH",
    "EXTERNAL_API_LINK",
    "RECORDING_HARD_DELETED",
];

pub(super) fn link_body(r: &mut Reader, o: &Obj) -> Option<(LinkKind, LinkTarget)> {
    only_known(
        r,
        o,
        &[
            "dataType",
            "id",
            "externalId",
            "integrationConnectionId",
            "trigger",
        ],
    );
    let kind = r.required_string(o, "dataType").and_then(|k| {
        let kind = LinkKind::parse(&k);
        if kind.is_none() {
            r.issues.push(Issue::bad_enum(
                vec![PathSeg::Key("dataType".into())],
                &LinkKind::ALL.map(LinkKind::as_str),
                &k,
            ));
        }
        kind
    });
    if let Patch::Value(t) = r.string(o, "trigger")
        && !TRIGGERS.contains(&t.as_str())
    {
        r.issues.push(Issue::bad_enum(
            vec![PathSeg::Key("trigger".into())],
            &TRIGGERS,
            &t,
        ));
    }
    let id = r.string(o, "id").as_value().cloned();
    let external = r.external_id(o, "externalId").as_value().cloned();
    let connection = r.string(o, "integrationConnectionId").as_value().cloned();
    let target = match (id, external, connection) {
        (Some(id), None, None) => match RecordId::parse(&id) {
            Some(id) => Some(LinkTarget::Id(id)),
            None => {
                r.issues.push(Issue::custom(
                    vec![RecordingField::LinkTarget.into()],
                    format!("Not a Liaison id: {id}"),
                ));
                None
            }
        },
        (None, Some(external_id), Some(c)) => match ConnectionId::parse(&c) {
            Some(connection) => Some(LinkTarget::External {
                external_id,
                connection,
            }),
            None => {
                r.issues.push(Issue::custom(
                    vec![PathSeg::Key("integrationConnectionId".into())],
                    format!("Not a connection id: {c}"),
                ));
                None
            }
        },
        _ => {
            r.issues.push(Issue::custom(
                vec![RecordingField::LinkTarget.into()],
                "Give either `id`, or `externalId` with `integrationConnectionId`",
            ));
            None
        }
    };
    Some((kind?, target?))
}

/// Matching settings to set; a field left out takes its default.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct SettingsIn {
    #[schema(maximum = 1440)]
    before_minutes: Option<u32>,
    #[schema(maximum = 1440)]
    after_minutes: Option<u32>,
    #[schema(minimum = 0, maximum = 1)]
    margin: Option<f64>,
    /// `null`: no limit.
    #[schema(minimum = 100, maximum = 100000)]
    max_distance_meters: Option<u32>,
}

/// The settings a body gives; a field it leaves out takes its value from `defaults`.
pub(super) fn settings_body(r: &mut Reader, o: &Obj, defaults: Settings) -> Option<Settings> {
    only_known(
        r,
        o,
        &[
            "beforeMinutes",
            "afterMinutes",
            "margin",
            "maxDistanceMeters",
        ],
    );
    let before = r.bounded(o, "beforeMinutes", Some(0.0), Some(1440.0), "number");
    let after = r.bounded(o, "afterMinutes", Some(0.0), Some(1440.0), "number");
    let margin = r.bounded(o, "margin", Some(0.0), Some(1.0), "number");
    let distance = r.bounded(
        o,
        "maxDistanceMeters",
        Some(100.0),
        Some(100000.0),
        "number",
    );
    let whole = |r: &mut Reader, key: &str, v: Patch<f64>| -> Option<Option<u32>> {
        match v {
            Patch::Value(n) if n.fract() == 0.0 => Some(Some(n as u32)),
            Patch::Value(_) => {
                r.issues.push(Issue::wrong_type(
                    vec![PathSeg::Key(key.into())],
                    "integer",
                    "float",
                ));
                None
            }
            _ => Some(None),
        }
    };
    let before = whole(r, "beforeMinutes", before)?;
    let after = whole(r, "afterMinutes", after)?;
    let distance_given = !matches!(distance, Patch::Absent);
    let max_distance = match distance {
        Patch::Null => None,
        other => whole(r, "maxDistanceMeters", other)?,
    };
    let settings = Settings::new(
        before.unwrap_or(defaults.before_minutes()),
        after.unwrap_or(defaults.after_minutes()),
        margin.as_value().copied().unwrap_or(defaults.margin()),
    )
    .and_then(|s| {
        s.with_max_distance(if distance_given {
            max_distance
        } else {
            defaults.max_distance_meters()
        })
    });
    match settings {
        Ok(s) => Some(s),
        Err(e) => {
            r.issues.push(Issue::custom(vec![], e.to_string()));
            None
        }
    }
}

/// A range of recordings to match again.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct RematchIn {
    /// Recordings made at or after this.
    #[schema(format = DateTime)]
    from: String,
    /// Recordings made at or before this (at most 366 days after `from`).
    #[schema(format = DateTime)]
    to: String,
    /// Only report what would change.
    dry_run: Option<bool>,
}

pub(super) fn rematch_body(r: &mut Reader, o: &Obj) -> Option<(Instant, Instant, bool)> {
    only_known(r, o, &["from", "to", "dryRun"]);
    let from = r.required_instant(o, "from");
    let to = r.required_instant(o, "to");
    let dry_run = r.boolean(o, "dryRun").as_value().copied().unwrap_or(false);
    Some((from?, to?, dry_run))
}
