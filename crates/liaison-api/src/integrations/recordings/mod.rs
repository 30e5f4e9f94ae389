//! Recordings (`/v1/core/recordings`): create, update, read, delete, their transcripts, their
//! links to CRM records, and why matching linked each where it did (`/match`, Liaison's own),
//! with the organization's matching settings (`/v1/core/matching/settings`).
//!
//! With an organization token, reads answer the org-token contract's shapes
//! (`external-api.openapi.json`); writes take the gateway contract's bodies
//! (`gateway-api-subset.openapi.json`), with Liaison's own fields beside them.

mod inputs;
mod wire;

use inputs::*;
use wire::*;

use super::wire::Data;
use super::{ApiResult, Authed, Body, Params, UserAuthed, schema};
use crate::AppState;
use crate::docs::Routes;
use crate::request::{param_bool, param_instant};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use liaison_domain::model::Transcript;
use liaison_domain::{Error, RecordingId};
use liaison_engine::RecordingFilters;
use liaison_store::Store;
use serde_json::{Map, Value};

/// A recording's body: a transcript of up to 5 MiB, written as JSON (escapes included), and
/// the rest.
const RECORDING_BODY_LIMIT: usize = 12 * 1024 * 1024;

/// Recordings per page unless the request says.
const DEFAULT_PAGE: u32 = 25;

pub(super) fn routes<S: Store>() -> Routes<S> {
    Routes::new()
        .op(__path_create, create::<S>)
        .op(__path_update, update::<S>)
        .op(__path_list, list::<S>)
        .op(__path_get_one, get_one::<S>)
        .op(__path_delete_one, delete_one::<S>)
        .op(__path_utterances, utterances::<S>)
        .op(__path_link, link::<S>)
        .op(__path_unlink, unlink::<S>)
        .op(__path_explain, explain::<S>)
        .op(__path_get_settings, get_settings::<S>)
        .op(__path_put_settings, put_settings::<S>)
        .op(__path_rematch, rematch::<S>)
        .layer(DefaultBodyLimit::max(RECORDING_BODY_LIMIT))
}

fn recording_id(raw: &str) -> Result<RecordingId, Error> {
    super::id_of(raw, "Recording", RecordingId::parse)
}

/// Create a recording. It is linked before this returns: to the records it names, else to its
/// deep link's appointment, else to the engagement the matching rule picks.
#[utoipa::path(
    put,
    path = "/core/recordings",
    tag = "Recordings",
    request_body = RecordingCreate,
    responses((status = 201, description = "Created; the body is `null`", body = Option<String>), schema::Writes),
    security(("bearerAuth" = []), ("SiroAuthToken" = [])),
)]
async fn create<S: Store>(
    State(st): State<AppState<S>>,
    UserAuthed(caller): UserAuthed,
    Body(body): Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let input = super::inputs::parse(&body, vec![], create_body).map_err(Error::from)?;
    st.engine.create_recording(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(Value::Null)))
}

/// Update a recording: the fields given change. A new time or place matches it again.
#[utoipa::path(
    patch,
    path = "/core/recordings",
    tag = "Recordings",
    request_body = RecordingUpdate,
    responses((status = 200, description = "The recording as stored", body = Data<RecordingOut>), schema::Writes),
    security(("bearerAuth" = []), ("SiroAuthToken" = [])),
)]
async fn update<S: Store>(
    State(st): State<AppState<S>>,
    UserAuthed(caller): UserAuthed,
    Body(body): Body,
) -> ApiResult<Json<Data<RecordingOut>>> {
    let (id, patch) = super::inputs::parse(&body, vec![], update_body).map_err(Error::from)?;
    let view = st.engine.update_recording(&caller, id, patch).await?;
    Ok(Json(Data {
        data: recording_out(view, true),
    }))
}

/// List the organization's recordings, in id order.
#[utoipa::path(
    get,
    path = "/core/recordings",
    tag = "Recordings",
    params(
        ("createdAt:gt" = Option<String>, Query, description = "Recorded strictly after (ISO 8601)"),
        ("createdAt:lt" = Option<String>, Query, description = "Recorded strictly before"),
        ("dateCreated:gt" = Option<String>, Query, description = "The same as `createdAt:gt`"),
        ("dateCreated:lt" = Option<String>, Query, description = "The same as `createdAt:lt`"),
        ("updatedAt:gt" = Option<String>, Query, description = "Changed strictly after"),
        ("updatedAt:gte" = Option<String>, Query, description = "Changed at or after (for polling)"),
        ("updatedAt:lt" = Option<String>, Query, description = "Changed strictly before"),
        ("updatedAt:lte" = Option<String>, Query, description = "Changed at or before"),
        ("showCrmLinks" = Option<bool>, Query, description = "Include `crm`: what each recording is linked to"),
        ("cursor" = Option<String>, Query, description = "The cursor the previous page gave"),
        ("pageSize" = Option<u64>, Query, minimum = 1, maximum = 4294967295.0, description = "Recordings per page (default 25, at most 1,000)"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 4294967295.0, description = "The same as `pageSize`"),
    ),
    responses((status = 200, description = "A page", body = RecordingPage), schema::Reads),
    security(("bearerAuth" = []), ("SiroAuthToken" = [])),
)]
async fn list<S: Store>(
    State(st): State<AppState<S>>,
    UserAuthed(caller): UserAuthed,
    Params(params): Params,
) -> ApiResult<Json<RecordingPage>> {
    let limit = super::engagements::page_size_or(&params, DEFAULT_PAGE)?;
    let filters = RecordingFilters {
        recorded_gt: tighter(
            param_instant(&params, "createdAt:gt")?,
            param_instant(&params, "dateCreated:gt")?,
            true,
        ),
        recorded_lt: tighter(
            param_instant(&params, "createdAt:lt")?,
            param_instant(&params, "dateCreated:lt")?,
            false,
        ),
        updated_gt: param_instant(&params, "updatedAt:gt")?,
        updated_gte: param_instant(&params, "updatedAt:gte")?,
        updated_lt: param_instant(&params, "updatedAt:lt")?,
        updated_lte: param_instant(&params, "updatedAt:lte")?,
    };
    let show_crm = param_bool(&params, "showCrmLinks")?.unwrap_or(false);
    let page = st
        .engine
        .list_recordings(
            &caller,
            &filters,
            params.get("cursor").map(String::as_str),
            limit,
            show_crm,
        )
        .await?;
    let page_size = page.items.len() as u32;
    Ok(Json(RecordingPage {
        has_next_page: page.next_cursor.is_some(),
        cursor: page.next_cursor,
        page_size,
        data: page
            .items
            .into_iter()
            .map(|v| recording_out(v, show_crm))
            .collect(),
    }))
}

/// One recording.
#[utoipa::path(
    get,
    path = "/core/recordings/{id}",
    tag = "Recordings",
    params(
        ("id" = String, Path, description = "The recording's id"),
        ("showCrmLinks" = Option<bool>, Query, description = "Include `crm`: what it is linked to"),
    ),
    responses((status = 200, description = "The recording", body = RecordingOut), schema::Reads),
    security(("bearerAuth" = []), ("SiroAuthToken" = [])),
)]
async fn get_one<S: Store>(
    State(st): State<AppState<S>>,
    UserAuthed(caller): UserAuthed,
    Path(id): Path<String>,
    Params(params): Params,
) -> ApiResult<Json<RecordingOut>> {
    let show_crm = param_bool(&params, "showCrmLinks")?.unwrap_or(false);
    let view = st
        .engine
        .get_recording(&caller, recording_id(&id)?, show_crm)
        .await?;
    Ok(Json(recording_out(view, show_crm)))
}

/// Soft-delete a recording. The engagements it was linked to no longer show it.
#[utoipa::path(
    delete,
    path = "/core/recordings/{id}",
    tag = "Recordings",
    params(("id" = String, Path, description = "The recording's id")),
    responses((status = 200, description = "Deleted; the body is `null`", body = Option<String>), schema::Writes),
    security(("bearerAuth" = []), ("SiroAuthToken" = [])),
)]
async fn delete_one<S: Store>(
    State(st): State<AppState<S>>,
    UserAuthed(caller): UserAuthed,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    st.engine
        .delete_recording(&caller, recording_id(&id)?)
        .await?;
    Ok(Json(Value::Null))
}

/// What was said. A transcript given as text is one utterance spanning the recording.
#[utoipa::path(
    get,
    path = "/core/recordings/{id}/utterances",
    tag = "Recordings",
    params(("id" = String, Path, description = "The recording's id")),
    responses((status = 200, description = "Its utterances, in order", body = UtterancePage), schema::Reads),
    security(("bearerAuth" = []), ("SiroAuthToken" = [])),
)]
async fn utterances<S: Store>(
    State(st): State<AppState<S>>,
    UserAuthed(caller): UserAuthed,
    Path(id): Path<String>,
) -> ApiResult<Json<UtterancePage>> {
    let (recording, transcript) = st
        .engine
        .recording_transcript(&caller, recording_id(&id)?)
        .await?;
    let list = match transcript {
        None => Vec::new(),
        Some(Transcript::Text(text)) => vec![UtteranceOut {
            utterance: text,
            start_time_in_millis: 0,
            end_time_in_millis: recording.duration_ms.unwrap_or(0),
            speaker_tag: "0".into(),
            redacted: false,
            confidence: None,
        }],
        Some(Transcript::Utterances(list)) => list
            .into_iter()
            .map(|u| UtteranceOut {
                utterance: u.utterance,
                start_time_in_millis: u.start_time_in_millis,
                end_time_in_millis: u.end_time_in_millis,
                speaker_tag: u.speaker_tag,
                redacted: false,
                confidence: u.confidence,
            })
            .collect(),
    };
    Ok(Json(UtterancePage {
        data: Utterances {
            utterances: list,
            is_low_data_mode: false,
            speaker_map: Map::new(),
        },
        page_size: None,
        cursor: None,
    }))
}

/// Link a recording to a CRM record by hand. Automatic matching never overrides it.
#[utoipa::path(
    put,
    path = "/core/recordings/{id}/link",
    tag = "Recordings",
    params(("id" = String, Path, description = "The recording's id")),
    request_body = LinkBody,
    responses((status = 200, description = "The record linked", body = Data<LinkedOut>), schema::Writes),
    security(("bearerAuth" = []), ("SiroAuthToken" = [])),
)]
async fn link<S: Store>(
    State(st): State<AppState<S>>,
    UserAuthed(caller): UserAuthed,
    Path(id): Path<String>,
    Body(body): Body,
) -> ApiResult<Json<Data<LinkedOut>>> {
    let id = recording_id(&id)?;
    let (kind, target) = super::inputs::parse(&body, vec![], link_body).map_err(Error::from)?;
    let linked = st.engine.link_recording(&caller, id, kind, target).await?;
    Ok(Json(Data {
        data: linked.into(),
    }))
}

/// Unlink a recording from every CRM record, by hand: it stays unlinked until linked again.
#[utoipa::path(
    delete,
    path = "/core/recordings/{id}/link",
    tag = "Recordings",
    params(("id" = String, Path, description = "The recording's id")),
    responses((status = 200, description = "Unlinked", body = Data<bool>), schema::Writes),
    security(("bearerAuth" = []), ("SiroAuthToken" = [])),
)]
async fn unlink<S: Store>(
    State(st): State<AppState<S>>,
    UserAuthed(caller): UserAuthed,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<bool>>> {
    st.engine
        .unlink_recording(&caller, recording_id(&id)?)
        .await?;
    Ok(Json(Data { data: true }))
}

/// Liaison's own: how matching decides the recording's engagement now: the rule that decided,
/// every candidate with its score and what it is made of, and the settings used.
#[utoipa::path(
    get,
    path = "/core/recordings/{id}/match",
    tag = "Recordings",
    params(("id" = String, Path, description = "The recording's id")),
    responses((status = 200, description = "The decision", body = Data<MatchOut>), schema::Reads),
)]
async fn explain<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<MatchOut>>> {
    let id = recording_id(&id)?;
    let decision = st.engine.explain_recording(&caller, id).await?;
    Ok(Json(Data {
        data: match_out(id, decision),
    }))
}

/// Liaison's own: the organization's matching settings.
#[utoipa::path(
    get,
    path = "/core/matching/settings",
    tag = "Recordings",
    responses((status = 200, description = "The settings", body = Data<SettingsOut>), schema::Reads),
)]
async fn get_settings<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
) -> ApiResult<Json<Data<SettingsOut>>> {
    caller.require(liaison_domain::scope::Scope::EngagementsRead)?;
    let s = st.engine.matching_settings(&caller).await?;
    Ok(Json(Data { data: s.into() }))
}

/// Liaison's own: sets the organization's matching settings; a field left out takes the
/// server's default. Links already made stay until their recordings are matched again.
#[utoipa::path(
    put,
    path = "/core/matching/settings",
    tag = "Recordings",
    request_body = SettingsIn,
    responses((status = 200, description = "The settings as stored", body = Data<SettingsOut>), schema::Writes),
)]
async fn put_settings<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<Data<SettingsOut>>> {
    let defaults = st.engine.matching_defaults();
    let settings = super::inputs::parse(&body, vec![], |r, o| settings_body(r, o, defaults))
        .map_err(Error::from)?;
    let s = st.engine.put_matching_settings(&caller, settings).await?;
    Ok(Json(Data { data: s.into() }))
}

/// Liaison's own: decides again every recording made in a range whose link is the rule's to
/// make, under the settings as they are now; with `dryRun`, only reports what would change,
/// so that the effect of a setting can be seen before it is applied.
#[utoipa::path(
    post,
    path = "/core/matching/rematch",
    tag = "Recordings",
    request_body = RematchIn,
    responses((status = 200, description = "What changed, or would", body = Data<RematchOut>), schema::Writes),
)]
async fn rematch<S: Store>(
    State(st): State<AppState<S>>,
    Authed(caller): Authed,
    Body(body): Body,
) -> ApiResult<Json<Data<RematchOut>>> {
    let (from, to, dry_run) =
        super::inputs::parse(&body, vec![], rematch_body).map_err(Error::from)?;
    let report = st.engine.rematch_range(&caller, from, to, dry_run).await?;
    Ok(Json(Data {
        data: rematch_out(report, dry_run),
    }))
}
