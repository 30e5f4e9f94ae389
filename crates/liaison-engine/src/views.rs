//! What reads return: a record with the records around it that faces embed (its type, its
//! account, its reps), loaded in bulk so that a page of N costs a fixed number of queries.

use crate::records::decode;
use crate::store_error;
use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::StoreTx;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct ParticipantView {
    pub participant: Participant,
    pub crm_user: CrmUser,
}

#[derive(Debug, Clone)]
pub struct EngagementView {
    pub record: Record<Engagement>,
    pub engagement_type: Option<EngagementType>,
    /// The linked account, when it is live.
    pub account: Option<Record<Account>>,
    pub participants: Vec<ParticipantView>,
}

#[derive(Debug, Clone)]
pub struct OpportunityView {
    pub record: Record<Opportunity>,
    pub account: Option<Record<Account>>,
    pub participants: Vec<ParticipantView>,
}

async fn accounts<T: StoreTx>(
    tx: &mut T,
    org: OrgId,
    ids: impl Iterator<Item = RecordId>,
) -> Result<HashMap<RecordId, Record<Account>>> {
    let mut ids: Vec<RecordId> = ids.collect();
    ids.sort();
    ids.dedup();
    let rows = tx.get_records(org, &ids).await.map_err(store_error)?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        if row.kind == RecordKind::Account {
            let a: Record<Account> = decode(row)?;
            if a.is_live() {
                out.insert(a.id, a);
            }
        }
    }
    Ok(out)
}

pub(crate) async fn participant_views<T: StoreTx>(
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

async fn participants_by_parent<T: StoreTx>(
    tx: &mut T,
    org: OrgId,
    parents: &[RecordId],
) -> Result<HashMap<RecordId, Vec<ParticipantView>>> {
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

pub(crate) async fn engagement_views<T: StoreTx>(
    tx: &mut T,
    org: OrgId,
    records: Vec<Record<Engagement>>,
) -> Result<Vec<EngagementView>> {
    if records.is_empty() {
        return Ok(vec![]);
    }
    let accounts = accounts(tx, org, records.iter().filter_map(|r| r.refs.account)).await?;
    let mut type_ids: Vec<EngagementTypeId> = records
        .iter()
        .filter_map(|r| r.refs.engagement_type)
        .collect();
    type_ids.sort();
    type_ids.dedup();
    let types: HashMap<EngagementTypeId, EngagementType> = tx
        .get_engagement_types(org, &type_ids)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let ids: Vec<RecordId> = records.iter().map(|r| r.id).collect();
    let mut reps = participants_by_parent(tx, org, &ids).await?;
    Ok(records
        .into_iter()
        .map(|record| EngagementView {
            engagement_type: record
                .refs
                .engagement_type
                .and_then(|t| types.get(&t).cloned()),
            account: record.refs.account.and_then(|a| accounts.get(&a).cloned()),
            participants: reps.remove(&record.id).unwrap_or_default(),
            record,
        })
        .collect())
}

pub(crate) async fn opportunity_views<T: StoreTx>(
    tx: &mut T,
    org: OrgId,
    records: Vec<Record<Opportunity>>,
) -> Result<Vec<OpportunityView>> {
    if records.is_empty() {
        return Ok(vec![]);
    }
    let accounts = accounts(tx, org, records.iter().filter_map(|r| r.refs.account)).await?;
    let ids: Vec<RecordId> = records.iter().map(|r| r.id).collect();
    let mut reps = participants_by_parent(tx, org, &ids).await?;
    Ok(records
        .into_iter()
        .map(|record| OpportunityView {
            account: record.refs.account.and_then(|a| accounts.get(&a).cloned()),
            participants: reps.remove(&record.id).unwrap_or_default(),
            record,
        })
        .collect())
}
