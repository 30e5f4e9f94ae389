//! What matching needs from the store, and what its decisions change there: a recording's
//! candidates (the rep's appointments near it, with their types, reps and places), the
//! records a link or deep link names, the links written with their events, and each linked
//! engagement's `recordingId` (its most recently linked live recording).

use crate::records::{Unit, decode, load};
use crate::{Caller, store_error};
use liaison_domain::field::RecordingField;
use liaison_domain::matching::{Candidate, Decision, GeoPoint, Settings, Span, Standing};
use liaison_domain::model::*;
use liaison_domain::time::Instant;
use liaison_domain::*;
use liaison_store::{Field, Filter, ReadTx, RecordQuery, RecordRow, Value, WriteTx};
use std::collections::{BTreeSet, HashMap};

/// A recording as the faces show it: the row, and the CRM records it is linked to, filled in
/// from its engagement where it names none of its own.
#[derive(Debug, Clone)]
pub struct RecordingView {
    pub recording: Recording,
    /// `None` until it is linked to something.
    pub crm: Option<CrmLinks>,
}

/// A linked CRM record: Liaison's id and the CRM's.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedRef {
    pub id: RecordId,
    pub external_id: String,
}

/// What a recording is linked to in the CRM, as the `crm` object of the contract lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct CrmLinks {
    pub connection: ConnectionId,
    /// The engagement's reps, as CRM users: `(id, external id)`.
    pub users: Vec<(CrmUserId, String)>,
    pub engagement: Option<LinkedRef>,
    pub opportunity: Option<LinkedRef>,
    pub contacts: Vec<LinkedRef>,
    pub account: Option<LinkedRef>,
    pub lead: Option<LinkedRef>,
}

/// Where a link goes: by Liaison's id, or by the CRM's within a connection.
#[derive(Debug, Clone)]
pub enum LinkTarget {
    Id(RecordId),
    External {
        external_id: String,
        connection: ConnectionId,
    },
}

/// A CRM record a link resolved to, with what the link's answer shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub kind: LinkKind,
    pub id: RecordId,
    pub external_id: String,
    pub name: Option<String>,
    /// Its last activity as the CRM gave it; for an engagement, its start; else when Liaison
    /// last changed it.
    pub last_activity_at: Instant,
}

fn resolved(kind: LinkKind, row: RecordRow) -> Result<Resolved> {
    let (name, activity) = match row.kind {
        RecordKind::Engagement => {
            let e = decode::<Engagement>(row.clone())?;
            (e.data.subject, e.data.start_time)
        }
        RecordKind::Opportunity => {
            let o = decode::<Opportunity>(row.clone())?;
            (o.data.name, o.data.last_activity_at)
        }
        RecordKind::Account => {
            let a = decode::<Account>(row.clone())?;
            (a.data.name, a.data.profile.last_activity_at)
        }
        RecordKind::Contact => {
            let c = decode::<Contact>(row.clone())?;
            (c.data.name, c.data.profile.last_activity_at)
        }
        RecordKind::Lead => {
            let l = decode::<Lead>(row.clone())?;
            let name = [l.data.first_name, l.data.last_name]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (
                (!name.is_empty()).then_some(name),
                l.data.profile.last_activity_at,
            )
        }
    };
    Ok(Resolved {
        kind,
        id: row.id,
        external_id: row.external_id,
        name,
        last_activity_at: activity.unwrap_or(row.updated_at),
    })
}

/// The live record of `kind` whose CRM id is `external_id`, in the caller's connection first,
/// else in any connection of the organization (the earliest created, when several have it).
pub(crate) async fn find_live<T: WriteTx>(
    unit: &mut Unit<'_, T>,
    caller: &Caller,
    kind: RecordKind,
    external_id: &str,
) -> Result<Option<RecordId>> {
    let own = unit
        .tx
        .get_record_by_external(caller.org, caller.connection, kind, external_id)
        .await
        .map_err(store_error)?;
    if let Some(r) = own.filter(RecordRow::is_live) {
        return Ok(Some(r.id));
    }
    let filter = Filter::eq(Field::ExternalId, Value::Text(external_id.to_owned()))
        .map_err(|e| Error::Internal(e.to_string()))?;
    let mut q = RecordQuery::new(kind);
    q.groups = vec![vec![filter]];
    q.limit = 1;
    q.remote_data = false;
    let rows = unit
        .tx
        .list_records(caller.org, &q)
        .await
        .map_err(store_error)?;
    Ok(rows.into_iter().next().map(|r| r.id))
}

/// A record a recorder named by Liaison's id or, failing that, by the CRM's.
pub(crate) async fn find_named<T: WriteTx>(
    unit: &mut Unit<'_, T>,
    caller: &Caller,
    kind: RecordKind,
    raw: &str,
) -> Result<Option<RecordId>> {
    if let Some(id) = RecordId::parse(raw)
        && live_of(unit.tx, unit.org, kind, id).await?.is_some()
    {
        return Ok(Some(id));
    }
    find_live(unit, caller, kind, raw).await
}

async fn live_of<T: ReadTx>(
    tx: &mut T,
    org: OrgId,
    kind: RecordKind,
    id: RecordId,
) -> Result<Option<RecordRow>> {
    Ok(tx
        .get_record(org, id)
        .await
        .map_err(store_error)?
        .filter(|r| r.kind == kind && r.is_live()))
}

/// `id` names a live record of `kind`, or the input is refused at `field`.
pub(crate) async fn require_live<T: WriteTx>(
    unit: &mut Unit<'_, T>,
    kind: RecordKind,
    id: RecordId,
    field: RecordingField,
) -> Result<()> {
    match live_of(unit.tx, unit.org, kind, id).await? {
        Some(_) => Ok(()),
        None => Err(Error::Invalid(
            Issue::custom(
                vec![field.into()],
                format!("No {} has the id `{id}`", kind.as_str()),
            )
            .into(),
        )),
    }
}

/// The live record a link names, or 404.
pub(crate) async fn resolve_target<T: WriteTx>(
    unit: &mut Unit<'_, T>,
    kind: LinkKind,
    target: &LinkTarget,
) -> Result<Resolved> {
    let row = match target {
        LinkTarget::Id(id) => live_of(unit.tx, unit.org, kind.record_kind(), *id).await?,
        LinkTarget::External {
            external_id,
            connection,
        } => unit
            .tx
            .get_record_by_external(unit.org, *connection, kind.record_kind(), external_id)
            .await
            .map_err(store_error)?
            .filter(RecordRow::is_live),
    };
    let row = row.ok_or(Error::NotFound(noun(kind)))?;
    resolved(kind, row)
}

fn noun(kind: LinkKind) -> &'static str {
    match kind {
        LinkKind::Engagement => "Engagement",
        LinkKind::Opportunity => "Opportunity",
        LinkKind::Account => "Account",
        LinkKind::Contact => "Contact",
        LinkKind::Lead => "Lead",
    }
}

/// The engagements that may be the recording's, as the rule reads them: every engagement of
/// the recording's user near its time, with its type, its reps' users and its account's place.
async fn candidates<T: ReadTx>(
    tx: &mut T,
    recording: &Recording,
    settings: &Settings,
) -> Result<Vec<Candidate>> {
    let org = recording.org;
    let rows = tx
        .engagements_of_user_within(org, recording.user, settings.window(recording.span()))
        .await
        .map_err(store_error)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let engagements: Vec<Record<Engagement>> =
        rows.into_iter().map(decode).collect::<Result<_>>()?;
    let type_ids: Vec<EngagementTypeId> = engagements
        .iter()
        .filter_map(|e| e.refs.engagement_type)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let types: HashMap<EngagementTypeId, values::ActivityType> = tx
        .get_engagement_types(org, &type_ids)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|t| (t.id, t.activity_type))
        .collect();
    let ids: Vec<RecordId> = engagements.iter().map(|e| e.id).collect();
    let places = tx.participants_of(org, &ids).await.map_err(store_error)?;
    let crm_ids: Vec<CrmUserId> = places
        .iter()
        .map(|p| p.crm_user)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let users: HashMap<CrmUserId, Option<UserId>> = tx
        .get_crm_users(org, &crm_ids)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|u| (u.id, u.user))
        .collect();
    let account_ids: Vec<RecordId> = engagements
        .iter()
        .filter_map(|e| e.refs.account)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut located: HashMap<RecordId, GeoPoint> = HashMap::new();
    for row in tx
        .get_records(org, &account_ids)
        .await
        .map_err(store_error)?
    {
        if row.kind != RecordKind::Account {
            continue;
        }
        let a = decode::<Account>(row)?;
        if let (Some(lat), Some(lng)) = (a.data.profile.latitude, a.data.profile.longitude)
            && let Some(p) = GeoPoint::new(lat, lng)
        {
            located.insert(a.id, p);
        }
    }
    Ok(engagements
        .iter()
        .map(|e| Candidate {
            engagement: e.id,
            activity_type: e.refs.engagement_type.and_then(|t| types.get(&t).copied()),
            span: e
                .data
                .start_time
                .map(|start| Span::of_engagement(start, e.data.end_time)),
            live: e.is_live(),
            rep_users: places
                .iter()
                .filter(|p| p.parent == e.id && p.deleted_at.is_none())
                .filter_map(|p| users.get(&p.crm_user).copied().flatten())
                .collect(),
            location: e.refs.account.and_then(|a| located.get(&a).copied()),
        })
        .collect())
}

/// The CRM users of an engagement's live reps.
async fn reps<T: ReadTx>(tx: &mut T, org: OrgId, engagement: RecordId) -> Result<Vec<CrmUser>> {
    let places = tx
        .participants_of(org, &[engagement])
        .await
        .map_err(store_error)?;
    let ids: Vec<CrmUserId> = places
        .iter()
        .filter(|p| p.deleted_at.is_none())
        .map(|p| p.crm_user)
        .collect();
    tx.get_crm_users(org, &ids).await.map_err(store_error)
}

/// The workspace users an engagement's live reps are linked to.
pub(crate) async fn rep_users<T: ReadTx>(
    tx: &mut T,
    org: OrgId,
    engagement: RecordId,
) -> Result<Vec<UserId>> {
    let users: BTreeSet<UserId> = reps(tx, org, engagement)
        .await?
        .into_iter()
        .filter_map(|u| u.user)
        .collect();
    Ok(users.into_iter().collect())
}

/// A decision as it stands now that its engagement may have changed: a deep link to an
/// engagement deleted since no longer decides. (Engagements are not merged: the contract
/// merges accounts, contacts, leads and opportunities only.)
async fn standing_now<T: ReadTx>(tx: &mut T, org: OrgId, standing: Standing) -> Result<Standing> {
    let Standing::DeepLink(e) = standing else {
        return Ok(standing);
    };
    let live = tx
        .get_record(org, e)
        .await
        .map_err(store_error)?
        .is_some_and(|r| r.is_live());
    Ok(if live { standing } else { Standing::Automatic })
}

/// What the rule decides for the recording now.
pub(crate) async fn decide<T: ReadTx>(
    tx: &mut T,
    recording: &Recording,
    settings: &Settings,
) -> Result<Decision> {
    let standing = standing_now(tx, recording.org, recording.standing).await?;
    decide_as(tx, recording, standing, settings).await
}

/// What the rule decides for the recording with `standing` as it stands now.
async fn decide_as<T: ReadTx>(
    tx: &mut T,
    recording: &Recording,
    standing: Standing,
    settings: &Settings,
) -> Result<Decision> {
    let candidates = candidates(tx, recording, settings).await?;
    Ok(matching::decide(
        &recording.for_matching(),
        standing,
        &candidates,
        settings,
    ))
}

/// Decides the recording's engagement link, writes the recording (with its event, when it
/// changed), and keeps the `recordingId` of the engagements it left and joined true.
pub(crate) async fn settle<T: WriteTx>(
    unit: &mut Unit<'_, T>,
    old: Option<&Recording>,
    mut new: Recording,
    settings: &Settings,
) -> Result<Recording> {
    new.standing = standing_now(unit.tx, new.org, new.standing).await?;
    let decision = decide_as(unit.tx, &new, new.standing, settings).await?;
    let before = old.and_then(|o| o.links.engagement);
    new.links.engagement = decision.linked;
    new.rule = Some(decision.rule);
    if new.links.engagement != before {
        new.linked_at = new.links.engagement.map(|_| unit.now);
    }
    let stored = unit.put(old, new).await?;
    if stored.links.engagement != before {
        refresh_engagements(unit, &[before, stored.links.engagement]).await?;
    }
    Ok(stored)
}

/// Sets each engagement's `recordingId` to its most recently linked live recording (none when
/// it has none left).
pub(crate) async fn refresh_engagements<T: WriteTx>(
    unit: &mut Unit<'_, T>,
    engagements: &[Option<RecordId>],
) -> Result<()> {
    let ids: BTreeSet<RecordId> = engagements.iter().flatten().copied().collect();
    for id in ids {
        let Some(old) = load::<Engagement, _>(unit.tx, unit.org, id).await? else {
            continue;
        };
        let linked = unit
            .tx
            .recordings_linked_to(unit.org, id)
            .await
            .map_err(store_error)?;
        let latest = linked.iter().max_by_key(|r| (r.linked_at, r.id));
        let mut new = old.clone();
        new.recording_id = latest.map(|r| r.id.to_string());
        unit.put(Some(&old), new).await?;
    }
    Ok(())
}

/// The recording with the CRM records it is linked to: its own links, and where it names
/// none of a kind, its engagement's.
pub(crate) async fn view<T: ReadTx>(tx: &mut T, recording: Recording) -> Result<RecordingView> {
    let org = recording.org;
    let links = recording.links;
    let engagement = match links.engagement {
        Some(id) => tx.get_record(org, id).await.map_err(store_error)?,
        None => None,
    };
    let refs = engagement.as_ref().map(|e| e.refs).unwrap_or_default();
    let slots = [
        links.opportunity.or(refs.opportunity),
        links.account.or(refs.account),
        links.contact.or(refs.contact),
        links.lead.or(refs.lead),
    ];
    let wanted: Vec<RecordId> = slots.iter().flatten().copied().collect();
    let rows: HashMap<RecordId, RecordRow> = tx
        .get_records(org, &wanted)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let linked = |id: Option<RecordId>| {
        id.and_then(|id| rows.get(&id)).map(|r| LinkedRef {
            id: r.id,
            external_id: r.external_id.clone(),
        })
    };
    let [opportunity, account, contact, lead] = slots.map(linked);
    let connection = engagement.as_ref().map(|e| e.connection).or_else(|| {
        slots
            .iter()
            .flatten()
            .find_map(|id| rows.get(id))
            .map(|r| r.connection)
    });
    let Some(connection) = connection else {
        return Ok(RecordingView {
            recording,
            crm: None,
        });
    };
    let mut users = Vec::new();
    if let Some(e) = &engagement {
        users = reps(tx, org, e.id)
            .await?
            .into_iter()
            .map(|u| (u.id, u.external_id))
            .collect();
    }
    Ok(RecordingView {
        crm: Some(CrmLinks {
            connection,
            users,
            engagement: engagement.map(|e| LinkedRef {
                id: e.id,
                external_id: e.external_id,
            }),
            opportunity,
            contacts: contact.into_iter().collect(),
            account,
            lead,
        }),
        recording,
    })
}

/// Where an organization's matching settings are kept.
pub(crate) fn settings_key(org: OrgId) -> String {
    format!("matching_settings:{org}")
}

pub(crate) fn encode_settings(s: &Settings) -> String {
    serde_json::json!({
        "before_minutes": s.before_minutes(),
        "after_minutes": s.after_minutes(),
        "margin": s.margin(),
        "max_distance_meters": s.max_distance_meters(),
    })
    .to_string()
}

pub(crate) fn decode_settings(text: &str) -> Result<Settings> {
    let corrupt = || Error::Internal(format!("stored matching settings are corrupt: {text}"));
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| corrupt())?;
    let minutes = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_u64)
            .and_then(|m| u32::try_from(m).ok())
            .ok_or_else(corrupt)
    };
    let margin = v
        .get("margin")
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(corrupt)?;
    let distance = match v.get("max_distance_meters") {
        None | Some(serde_json::Value::Null) => None,
        Some(d) => Some(
            d.as_u64()
                .and_then(|m| u32::try_from(m).ok())
                .ok_or_else(corrupt)?,
        ),
    };
    Settings::new(
        minutes("before_minutes")?,
        minutes("after_minutes")?,
        margin,
    )
    .and_then(|s| s.with_max_distance(distance))
    .map_err(|_| corrupt())
}
