//! Mobile events (`/v1/core/mobile-events`): the org-token contract's list and read, and
//! Liaison's own `POST` that records one (with an organization token, or a user access token
//! for its user).

use super::engagements::page_size;
use super::{ApiResult, Authed, Body, IdPath, Params, UserAuthed, schema};
use crate::AppState;
use crate::decode::{Obj, Reader, only_known};
use crate::docs::Routes;
use crate::request::{BODY_LIMIT, param_instant, query_values};
use axum::Json;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::StatusCode;
use liaison_domain::field::MobileEventField;
use liaison_domain::model::{EventCode, MobileEvent, MobileEventIn};
use liaison_domain::time::format_instant;
use liaison_domain::{Error, Issue, MobileEventId, Patch, PathSeg, RecordingId, UserId};
use liaison_engine::{MAX_PAGE, MobileEventFilters};
use liaison_store::Store;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub(super) fn routes<S: Store>() -> Routes<S> {
    Routes::new()
        .op(__path_list, list::<S>)
        .op(__path_get_one, get_one::<S>)
        .op(__path_create, create::<S>)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// This face's spelling of an event's fields.
pub(super) fn spell(f: MobileEventField) -> &'static str {
    match f {
        MobileEventField::User => "userId",
        MobileEventField::Recording => "recordingId",
        MobileEventField::Payload => "event",
    }
}

/// An event as the contract shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MobileEventOut {
    id: String,
    /// Absent when the event is of no recording.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    recording_id: Option<String>,
    /// The CRM's ids of the opportunities it concerns.
    external_opportunity_ids: Vec<String>,
    user_id: String,
    organization_id: String,
    #[schema(value_type = EventCodeName)]
    event_code: String,
    /// What happened, in the shape the code fixes.
    #[schema(value_type = Object)]
    event: Map<String, Value>,
    created_at: String,
}

/// What kind of event it is.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
enum EventCodeName {
    RecorderStateChange,
    NetworkStatusChange,
    AppStateChange,
    ConsentStatusChanged,
    RecordingMetadataChanged,
    DeeplinkReceived,
    DeeplinkConsumed,
    UserAuthStatusChanged,
}

impl From<MobileEvent> for MobileEventOut {
    fn from(e: MobileEvent) -> Self {
        MobileEventOut {
            id: e.id.to_string(),
            recording_id: e.recording.map(|r| r.to_string()),
            external_opportunity_ids: e.external_opportunity_ids,
            user_id: e.user.to_string(),
            organization_id: e.org.to_string(),
            event_code: e.code.as_str().to_owned(),
            event: e.payload,
            created_at: format_instant(&e.created_at),
        }
    }
}

/// A page of events: as the contract has it, an array of arrays, here one array for each
/// recording the page's events are of, in the order they first appear (events of no
/// recording: one array for each user).
#[derive(Serialize, ToSchema)]
pub struct MobileEventPage {
    data: Vec<Vec<MobileEventOut>>,
    /// The cursor of the next page; `null` on the last.
    #[schema(required)]
    cursor: Option<String>,
}

/// The page's events grouped as `MobileEventPage` says.
fn grouped(events: Vec<MobileEvent>) -> Vec<Vec<MobileEventOut>> {
    let mut keys: Vec<(Option<RecordingId>, Option<UserId>)> = Vec::new();
    let mut groups: Vec<Vec<MobileEventOut>> = Vec::new();
    for e in events {
        let key = match e.recording {
            Some(r) => (Some(r), None),
            None => (None, Some(e.user)),
        };
        match keys.iter().position(|k| *k == key) {
            Some(i) => groups[i].push(e.into()),
            None => {
                keys.push(key);
                groups.push(vec![e.into()]);
            }
        }
    }
    groups
}

/// The body of `POST /core/mobile-events`.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
pub struct MobileEventCreate {
    event_code: EventCodeName,
    /// What happened, in the shape the code fixes (`{value, trigger}` for
    /// `recorderStateChange`, `{fullUrl}` for the deep link codes, …).
    #[schema(value_type = Object)]
    event: Value,
    /// The workspace user it is of; defaults to a user access token's user.
    user_id: Option<String>,
    /// The recording it is of.
    recording_id: Option<String>,
    /// The CRM's ids of the opportunities it concerns.
    external_opportunity_ids: Option<Vec<String>>,
    /// When it happened (ISO 8601); defaults to when it is recorded.
    created_at: Option<String>,
}

fn create_body(r: &mut Reader, o: &Obj) -> Option<MobileEventIn> {
    only_known(
        r,
        o,
        &[
            "eventCode",
            "event",
            "userId",
            "recordingId",
            "externalOpportunityIds",
            "createdAt",
        ],
    );
    let code = r.required_string(o, "eventCode").and_then(|raw| {
        let code = EventCode::parse(&raw);
        if code.is_none() {
            r.issues.push(Issue::bad_enum(
                vec![PathSeg::Key("eventCode".into())],
                &EventCode::names(),
                &raw,
            ));
        }
        code
    });
    let payload = match r.object(o, "event") {
        Patch::Value(obj) => Some(obj.map.clone()),
        // Present but no object: already reported.
        Patch::Absent if o.map.contains_key("event") => None,
        _ => {
            r.issues.push(Issue::required(
                vec![MobileEventField::Payload.into()],
                "object",
            ));
            None
        }
    };
    let user = r.id(o, "userId", liaison_domain::field::Field::Id, UserId::parse);
    let recording = r.id(
        o,
        "recordingId",
        liaison_domain::field::Field::RecordingId,
        RecordingId::parse,
    );
    let opportunities = r.external_id_list(o, "externalOpportunityIds");
    let created_at = r.instant(o, "createdAt");
    Some(MobileEventIn {
        code: code?,
        payload: payload?,
        user: user.as_value().copied(),
        recording: recording.as_value().copied(),
        external_opportunity_ids: opportunities.as_value().cloned().unwrap_or_default(),
        created_at: created_at.as_value().copied(),
    })
}

fn event_code(name: &str) -> Result<EventCode, Error> {
    EventCode::parse(name).ok_or_else(|| {
        Error::BadRequest(format!(
            "`{name}` is not an event code; known: {}",
            EventCode::names().join(", ")
        ))
    })
}

/// The codes `eventCodeIn` lists, repeated or as a comma list. An empty name is no code.
fn codes_in(query: Option<&str>) -> Result<Vec<EventCode>, Error> {
    let mut out = Vec::new();
    for v in query_values(query, "eventCodeIn")? {
        for name in v.split(',').map(str::trim) {
            out.push(event_code(name)?);
        }
    }
    Ok(out)
}

/// An id a filter names; text that cannot be one is a bad request.
fn filter_id<I>(
    params: &std::collections::HashMap<String, String>,
    key: &str,
    parse: fn(&str) -> Option<I>,
) -> Result<Option<I>, Error> {
    match params.get(key).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => parse(raw)
            .map(Some)
            .ok_or_else(|| Error::BadRequest(format!("`{key}` is not an id: {raw}"))),
    }
}

/// The organization's mobile events, oldest first.
#[utoipa::path(
    get,
    path = "/core/mobile-events",
    tag = "Mobile events",
    params(
        ("createdAtGt" = Option<String>, Query, description = "Only those created after (ISO 8601)"),
        ("createdAtLt" = Option<String>, Query, description = "Only those created before (ISO 8601)"),
        ("cursor" = Option<String>, Query, description = "The `cursor` of the previous page"),
        ("pageSize" = Option<u32>, Query, description = "Events per page: 1 to 1,000, default 100", minimum = 1, maximum = 1000),
        ("eventCode" = Option<EventCodeName>, Query, description = "Only events of this code"),
        ("eventCodeIn" = Option<Vec<EventCodeName>>, Query, description = "Only events of these codes (at most 10), repeated or comma-separated", max_items = 10),
        ("userId" = Option<String>, Query, description = "Only this workspace user's"),
        ("recordingId" = Option<String>, Query, description = "Only this recording's"),
    ),
    responses((status = 200, description = "A page", body = MobileEventPage), schema::Reads),
)]
async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Params(params): Params,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<MobileEventPage>> {
    let limit = page_size(&params)?;
    if limit > MAX_PAGE {
        return Err(Error::BadRequest(format!("`pageSize` must be at most {MAX_PAGE}")).into());
    }
    let filters = MobileEventFilters {
        created_gt: param_instant(&params, "createdAtGt")?,
        created_lt: param_instant(&params, "createdAtLt")?,
        // Given empty, it names no code: a bad request, as the contract's enum has it.
        code: params.get("eventCode").map(|n| event_code(n)).transpose()?,
        codes_in: codes_in(query.as_deref())?,
        user: filter_id(&params, "userId", UserId::parse)?,
        recording: filter_id(&params, "recordingId", RecordingId::parse)?,
    };
    let page = st
        .engine
        .list_mobile_events(
            &caller,
            &filters,
            params.get("cursor").map(String::as_str),
            limit,
        )
        .await?;
    Ok(Json(MobileEventPage {
        data: grouped(page.items),
        cursor: page.next_cursor,
    }))
}

/// One mobile event.
#[utoipa::path(
    get,
    path = "/core/mobile-events/{id}",
    tag = "Mobile events",
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, description = "The event", body = MobileEventOut), schema::Reads),
)]
async fn get_one<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    IdPath(id): IdPath,
) -> ApiResult<Json<MobileEventOut>> {
    let id = super::id_of(&id, "Mobile event", MobileEventId::parse)?;
    Ok(Json(st.engine.get_mobile_event(&caller, id).await?.into()))
}

/// Liaison's own: record what the app reports. The payload must have its code's shape.
#[utoipa::path(
    post,
    path = "/core/mobile-events",
    tag = "Mobile events",
    request_body = MobileEventCreate,
    responses((status = 201, description = "Recorded", body = MobileEventOut), schema::Writes),
    security(("bearerAuth" = []), ("SiroAuthToken" = [])),
)]
async fn create<S: Store>(
    State(st): State<AppState<S>>,
    UserAuthed(caller): UserAuthed,
    Body(body): Body,
) -> ApiResult<(StatusCode, Json<MobileEventOut>)> {
    let input = super::inputs::parse(&body, vec![], create_body).map_err(Error::from)?;
    let event = st.engine.record_mobile_event(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(event.into())))
}
