//! The write unit: load and save typed records through a transaction, with the outbox event
//! of every change appended in the same transaction, and the reference rules every sync
//! shares (resolve an external id, follow merges, move references on merge).

use crate::store_error;
use liaison_domain::model::*;
use liaison_domain::time::Instant;
use liaison_domain::*;
use liaison_store::{EventAction, ReadTx, RecordRow, WriteTx};
use std::collections::HashMap;

/// Merges chain (A into B, later B into C); a chain longer than this is treated as a cycle.
const MAX_MERGE_HOPS: usize = 32;

/// One organization's connection, writing inside one transaction at one instant.
pub(crate) struct Unit<'t, T: WriteTx> {
    pub tx: &'t mut T,
    pub org: OrgId,
    pub connection: ConnectionId,
    pub now: Instant,
    pub memo: Memo,
}

/// What this unit already applied, by external id: the last input and the id it resolved to.
/// Applying the same input again is a no-op (upserts are idempotent), so a batch in which one
/// account, rep or engagement type recurs a hundred times reads and compares it once. A merge
/// can change what an external id resolves to, so any merge clears the memo.
#[derive(Default)]
pub(crate) struct Memo {
    pub accounts: HashMap<String, (AccountIn, RecordId)>,
    pub contacts: HashMap<String, (ContactIn, RecordId)>,
    pub types: HashMap<(Option<String>, String), (EngagementTypeIn, EngagementTypeId)>,
    pub crm_users: HashMap<String, (Patch<String>, Patch<String>, CrmUser)>,
}

impl Memo {
    pub fn clear(&mut self) {
        *self = Memo::default();
    }
}

pub(crate) fn decode<E: Entity>(row: RecordRow) -> Result<Record<E>> {
    if row.kind != E::KIND {
        return Err(Error::Internal(format!(
            "record {} is a {}, not a {}",
            row.id,
            row.kind.as_str(),
            E::KIND.as_str()
        )));
    }
    let id = row.id;
    let data: E = serde_json::from_str(&row.data)
        .map_err(|e| Error::Internal(format!("record {id} has unreadable data: {e}")))?;
    Ok(row.map_data(|_| data))
}

pub(crate) fn encode<E: Entity>(rec: &Record<E>) -> Result<RecordRow> {
    let data = serde_json::to_string(&rec.data).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(rec.clone().map_data(|_| data))
}

/// Loads a record of kind `E` by id within the org; `None` for another kind or another org.
pub(crate) async fn load<E: Entity, T: ReadTx>(
    tx: &mut T,
    org: OrgId,
    id: RecordId,
) -> Result<Option<Record<E>>> {
    match tx.get_record(org, id).await.map_err(store_error)? {
        Some(row) if row.kind == E::KIND => decode(row).map(Some),
        _ => Ok(None),
    }
}

impl<'t, T: WriteTx> Unit<'t, T> {
    pub fn new(tx: &'t mut T, org: OrgId, connection: ConnectionId, now: Instant) -> Self {
        Unit {
            tx,
            org,
            connection,
            now,
            memo: Memo::default(),
        }
    }

    pub async fn load_ext<E: Entity>(&mut self, external_id: &str) -> Result<Option<Record<E>>> {
        self.tx
            .get_record_by_external(self.org, self.connection, E::KIND, external_id)
            .await
            .map_err(store_error)?
            .map(decode)
            .transpose()
    }

    /// A new, empty record of kind `E` for `external_id`.
    pub fn fresh<E: Entity>(&self, external_id: &str) -> Record<E> {
        Record {
            id: RecordId::new(),
            org: self.org,
            connection: self.connection,
            kind: E::KIND,
            external_id: external_id.to_owned(),
            refs: Refs::default(),
            recording_id: None,
            sort_at: self.now,
            remote_updated_at: None,
            deleted_at: None,
            merged_into: None,
            created_at: self.now,
            updated_at: self.now,
            indexed: Indexed::default(),
            remote_data: None,
            data: E::default(),
        }
    }

    /// The record that stands for `id` now: itself, or the end of its merge chain.
    pub async fn survivor(&mut self, kind: RecordKind, mut id: RecordId) -> Result<RecordId> {
        for _ in 0..MAX_MERGE_HOPS {
            let row = self
                .tx
                .get_record(self.org, id)
                .await
                .map_err(store_error)?;
            match row {
                Some(r) if r.kind == kind => match r.merged_into {
                    Some(next) => id = next,
                    None => return Ok(id),
                },
                _ => return Ok(id),
            }
        }
        Err(Error::Internal(format!("merge chain of {id} does not end")))
    }

    /// The id a nested `{externalId}` refers to: the synced record (or what it was merged
    /// into), or a new record holding only the external id, filled in by a later sync.
    pub async fn resolve<E: Entity>(&mut self, external_id: &str) -> Result<RecordId> {
        match self.load_ext::<E>(external_id).await? {
            // Only a merged record needs its chain followed.
            Some(rec) if rec.merged_into.is_none() => Ok(rec.id),
            Some(rec) => self.survivor(E::KIND, rec.id).await,
            None => {
                let fresh = self.fresh::<E>(external_id);
                Ok(self.put(None, fresh).await?.id)
            }
        }
    }

    /// Merges `loser` into `survivor` (both of kind `E`): the loser disappears from reads and
    /// every record that referenced it now references the survivor.
    pub async fn merge<E: Entity>(&mut self, loser: RecordId, survivor: RecordId) -> Result<()> {
        self.memo.clear();
        // A loser merged before stands for its survivor by now, which holds the references
        // the first merge moved: that survivor is what merges, or they would stay behind.
        let loser = self.survivor(E::KIND, loser).await?;
        let survivor = self.survivor(E::KIND, survivor).await?;
        if loser == survivor {
            return Ok(());
        }
        let Some(old) = load::<E, T>(self.tx, self.org, loser).await? else {
            return Ok(());
        };
        if old.merged_into == Some(survivor) {
            return Ok(());
        }
        let mut merged = old.clone();
        merged.merged_into = Some(survivor);
        self.put(Some(&old), merged).await?;
        let referencing = self
            .tx
            .records_referencing(self.org, E::KIND, loser)
            .await
            .map_err(store_error)?;
        for row in referencing {
            self.repoint(row, E::KIND, loser, survivor).await?;
        }
        Ok(())
    }

    /// Moves one record's reference from `from` to `to`.
    async fn repoint(
        &mut self,
        row: RecordRow,
        kind: RecordKind,
        from: RecordId,
        to: RecordId,
    ) -> Result<()> {
        macro_rules! repoint_as {
            ($ty:ty) => {{
                let old: Record<$ty> = decode(row)?;
                let mut new = old.clone();
                if let Some(slot) = new.refs.slot_mut(kind) {
                    if *slot == Some(from) {
                        *slot = Some(to);
                    }
                }
                repoint_data(&mut new.data, kind, from, to);
                self.put(Some(&old), new).await?;
            }};
        }
        match row.kind {
            RecordKind::Account => repoint_as!(Account),
            RecordKind::Contact => repoint_as!(Contact),
            RecordKind::Lead => repoint_as!(Lead),
            RecordKind::Opportunity => repoint_as!(Opportunity),
            RecordKind::Engagement => repoint_as!(Engagement),
        }
        Ok(())
    }
}

/// References held inside a record's own fields (an opportunity's contact list).
fn repoint_data<E: Entity>(data: &mut E, kind: RecordKind, from: RecordId, to: RecordId) {
    if kind != RecordKind::Contact {
        return;
    }
    // Only opportunities hold references in their fields; reach them through `Any`.
    if let Some(o) = (data as &mut dyn std::any::Any).downcast_mut::<Opportunity>() {
        for id in o.contact_ids.iter_mut() {
            if *id == from {
                *id = to;
            }
        }
        let mut seen = std::collections::HashSet::new();
        o.contact_ids.retain(|id| seen.insert(*id));
    }
}

/// The event a change of lifecycle state is: a merge, a soft delete, a restore, or an update.
pub(crate) fn lifecycle_action(was_deleted: bool, is_deleted: bool, merged: bool) -> EventAction {
    if merged {
        EventAction::Merged
    } else if !was_deleted && is_deleted {
        EventAction::Deleted
    } else if was_deleted && !is_deleted {
        EventAction::Restored
    } else {
        EventAction::Updated
    }
}
