//! What reads return: a record with the records around it that the caller asked for (its
//! type, its account, contact, lead and opportunity, its reps), and nothing else. Each kind of
//! related record is loaded in bulk, so a page of N costs one query per expansion asked for.

use crate::records::decode;
use crate::store_error;
use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::ReadTx;
use std::collections::HashMap;

/// The related records a read loads beside each record. What is not asked for is not read:
/// its place in the view stays empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Expand {
    /// An engagement's type.
    pub engagement_type: bool,
    /// The linked account, contact, lead and opportunity (those the kind has), when live.
    pub account: bool,
    pub contact: bool,
    pub lead: bool,
    pub opportunity: bool,
    /// The reps, each with their CRM user.
    pub participants: bool,
}

impl Expand {
    pub const NONE: Expand = Expand {
        engagement_type: false,
        account: false,
        contact: false,
        lead: false,
        opportunity: false,
        participants: false,
    };
    pub const ALL: Expand = Expand {
        engagement_type: true,
        account: true,
        contact: true,
        lead: true,
        opportunity: true,
        participants: true,
    };
}

#[derive(Debug, Clone)]
pub struct ParticipantView {
    pub participant: Participant,
    pub crm_user: CrmUser,
}

/// An engagement with what the read asked for around it.
#[derive(Debug, Clone)]
pub struct EngagementView {
    pub record: Record<Engagement>,
    pub engagement_type: Option<EngagementType>,
    pub account: Option<Record<Account>>,
    pub contact: Option<Record<Contact>>,
    pub lead: Option<Record<Lead>>,
    pub opportunity: Option<Record<Opportunity>>,
    pub participants: Vec<ParticipantView>,
}

/// An opportunity with what the read asked for around it.
#[derive(Debug, Clone)]
pub struct OpportunityView {
    pub record: Record<Opportunity>,
    pub account: Option<Record<Account>>,
    pub contact: Option<Record<Contact>>,
    pub lead: Option<Record<Lead>>,
    pub participants: Vec<ParticipantView>,
}

/// The live records of kind `E` among `ids`, when `asked`; no query otherwise.
async fn live<E: Entity, T: ReadTx>(
    tx: &mut T,
    org: OrgId,
    asked: bool,
    ids: impl Iterator<Item = RecordId>,
) -> Result<HashMap<RecordId, Record<E>>> {
    let mut ids: Vec<RecordId> = if asked { ids.collect() } else { vec![] };
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    ids.sort();
    ids.dedup();
    let rows = tx.get_records(org, &ids).await.map_err(store_error)?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        if row.kind == E::KIND {
            let r: Record<E> = decode(row)?;
            if r.is_live() {
                out.insert(r.id, r);
            }
        }
    }
    Ok(out)
}

pub(crate) async fn participant_views<T: ReadTx>(
    tx: &mut T,
    org: OrgId,
    participants: Vec<Participant>,
) -> Result<Vec<ParticipantView>> {
    let mut ids: Vec<CrmUserId> = participants.iter().map(|p| p.crm_user).collect();
    ids.sort();
    ids.dedup();
    let users: HashMap<CrmUserId, CrmUser> = tx
        .get_crm_users(org, &ids)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    participants
        .into_iter()
        .map(|p| {
            let crm_user = users.get(&p.crm_user).cloned().ok_or_else(|| {
                Error::Internal(format!("participant {} lost its CRM user", p.id))
            })?;
            Ok(ParticipantView {
                participant: p,
                crm_user,
            })
        })
        .collect()
}

async fn participants_by_parent<T: ReadTx>(
    tx: &mut T,
    org: OrgId,
    asked: bool,
    parents: &[RecordId],
) -> Result<HashMap<RecordId, Vec<ParticipantView>>> {
    if !asked || parents.is_empty() {
        return Ok(HashMap::new());
    }
    let all = tx
        .participants_of(org, parents)
        .await
        .map_err(store_error)?;
    let mut out: HashMap<RecordId, Vec<ParticipantView>> = HashMap::new();
    for v in participant_views(tx, org, all).await? {
        out.entry(v.participant.parent).or_default().push(v);
    }
    Ok(out)
}

pub(crate) async fn engagement_views<T: ReadTx>(
    tx: &mut T,
    org: OrgId,
    records: Vec<Record<Engagement>>,
    expand: Expand,
) -> Result<Vec<EngagementView>> {
    if records.is_empty() {
        return Ok(vec![]);
    }
    let refs = |f: fn(&Refs) -> Option<RecordId>| records.iter().filter_map(move |r| f(&r.refs));
    let accounts = live::<Account, T>(tx, org, expand.account, refs(|r| r.account)).await?;
    let contacts = live::<Contact, T>(tx, org, expand.contact, refs(|r| r.contact)).await?;
    let leads = live::<Lead, T>(tx, org, expand.lead, refs(|r| r.lead)).await?;
    let opps = live::<Opportunity, T>(tx, org, expand.opportunity, refs(|r| r.opportunity)).await?;
    let mut type_ids: Vec<EngagementTypeId> = if expand.engagement_type {
        records
            .iter()
            .filter_map(|r| r.refs.engagement_type)
            .collect()
    } else {
        vec![]
    };
    type_ids.sort();
    type_ids.dedup();
    let types: HashMap<EngagementTypeId, EngagementType> = if type_ids.is_empty() {
        HashMap::new()
    } else {
        tx.get_engagement_types(org, &type_ids)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|t| (t.id, t))
            .collect()
    };
    let ids: Vec<RecordId> = records.iter().map(|r| r.id).collect();
    let mut reps = participants_by_parent(tx, org, expand.participants, &ids).await?;
    Ok(records
        .into_iter()
        .map(|record| EngagementView {
            engagement_type: record
                .refs
                .engagement_type
                .and_then(|t| types.get(&t).cloned()),
            account: record.refs.account.and_then(|a| accounts.get(&a).cloned()),
            contact: record.refs.contact.and_then(|c| contacts.get(&c).cloned()),
            lead: record.refs.lead.and_then(|l| leads.get(&l).cloned()),
            opportunity: record.refs.opportunity.and_then(|o| opps.get(&o).cloned()),
            participants: reps.remove(&record.id).unwrap_or_default(),
            record,
        })
        .collect())
}

pub(crate) async fn opportunity_views<T: ReadTx>(
    tx: &mut T,
    org: OrgId,
    records: Vec<Record<Opportunity>>,
    expand: Expand,
) -> Result<Vec<OpportunityView>> {
    if records.is_empty() {
        return Ok(vec![]);
    }
    let refs = |f: fn(&Refs) -> Option<RecordId>| records.iter().filter_map(move |r| f(&r.refs));
    let accounts = live::<Account, T>(tx, org, expand.account, refs(|r| r.account)).await?;
    let contacts = live::<Contact, T>(tx, org, expand.contact, refs(|r| r.contact)).await?;
    let leads = live::<Lead, T>(tx, org, expand.lead, refs(|r| r.lead)).await?;
    let ids: Vec<RecordId> = records.iter().map(|r| r.id).collect();
    let mut reps = participants_by_parent(tx, org, expand.participants, &ids).await?;
    Ok(records
        .into_iter()
        .map(|record| OpportunityView {
            account: record.refs.account.and_then(|a| accounts.get(&a).cloned()),
            contact: record.refs.contact.and_then(|c| contacts.get(&c).cloned()),
            lead: record.refs.lead.and_then(|l| leads.get(&l).cloned()),
            participants: reps.remove(&record.id).unwrap_or_default(),
            record,
        })
        .collect())
}
