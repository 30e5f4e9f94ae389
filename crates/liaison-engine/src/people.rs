//! Reps' places on engagements and opportunities (read and edited directly), CRM users, and
//! the outbox feed.

use crate::reads::{MAX_PAGE, Page};
use crate::records::Unit;
use crate::views::ParticipantView;
use crate::{Caller, Engine, in_write_tx, store_error};
use liaison_domain::model::*;
use liaison_domain::scope::Scope;
use liaison_domain::*;
use liaison_store::prelude::*;
use liaison_store::{Key, ParticipantQuery, Store};

impl<S: Store> Engine<S> {
    fn participant_scope(kind: ParentKind, write: bool) -> Scope {
        match (kind, write) {
            (ParentKind::Engagement, false) => Scope::EngagementsRead,
            (ParentKind::Engagement, true) => Scope::EngagementsWrite,
            (ParentKind::Opportunity, false) => Scope::OpportunitiesRead,
            (ParentKind::Opportunity, true) => Scope::OpportunitiesWrite,
        }
    }

    fn participant_noun(kind: ParentKind) -> &'static str {
        match kind {
            ParentKind::Engagement => "Engagement user",
            ParentKind::Opportunity => "Opportunity user",
        }
    }

    pub async fn get_participant(
        &self,
        caller: &Caller,
        kind: ParentKind,
        id: ParticipantId,
    ) -> Result<ParticipantView> {
        caller.require(Self::participant_scope(kind, false))?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        let p = self.live_participant(&mut tx, caller, kind, id).await?;
        let mut v = crate::views::participant_views(&mut tx, caller.org, vec![p]).await?;
        Ok(v.remove(0))
    }

    async fn live_participant<T: ReadTx>(
        &self,
        tx: &mut T,
        caller: &Caller,
        kind: ParentKind,
        id: ParticipantId,
    ) -> Result<Participant> {
        tx.get_participant(caller.org, id)
            .await
            .map_err(store_error)?
            .filter(|p| p.parent_kind == kind && p.deleted_at.is_none())
            .ok_or(Error::NotFound(Self::participant_noun(kind)))
    }

    pub async fn list_participants(
        &self,
        caller: &Caller,
        kind: ParentKind,
        parent: Option<RecordId>,
        crm_user: Option<CrmUserId>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<ParticipantView>> {
        caller.require(Self::participant_scope(kind, false))?;
        let fingerprint = format!(
            "participants|{}|{}|{:?}|{:?}",
            caller.org,
            kind.as_str(),
            parent.map(|p| p.to_string()),
            crm_user.map(|u| u.to_string()),
        );
        let after = self.decode_cursor(&fingerprint, cursor)?;
        let limit = limit.clamp(1, MAX_PAGE);
        let query = ParticipantQuery {
            parent,
            crm_user,
            after: after.map(|k| ParticipantId::from_uuid(k.id)),
            limit: limit + 1,
            ..ParticipantQuery::default()
        };
        let mut tx = self.store.read().await.map_err(store_error)?;
        let rows = tx
            .list_participants(caller.org, kind, &query)
            .await
            .map_err(store_error)?;
        let page = self.finish_page(rows, limit, &fingerprint, |p| Key {
            sort_at: p.created_at,
            id: p.id.uuid(),
        });
        let items = crate::views::participant_views(&mut tx, caller.org, page.items).await?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
            prev_cursor: None,
        })
    }

    /// Puts a rep on a live parent record. A rep removed from it before gets the same row
    /// back, fresh.
    pub async fn create_participant(
        &self,
        caller: &Caller,
        kind: ParentKind,
        parent_id: RecordId,
        crm_user: CrmUserId,
        input: ParticipantPatch,
    ) -> Result<ParticipantView> {
        caller.require(Self::participant_scope(kind, true))?;
        in_write_tx!(self, tx => async {
            let mut unit = Unit::new(&mut tx, caller.org, caller.connection, time::now());
            unit.live_parent(kind, parent_id).await?;
            let crm = self.crm_user_in(&mut unit, crm_user).await?;
            let old = unit.tx.find_participant(caller.org, parent_id, crm.id).await.map_err(store_error)?;
            if old.as_ref().is_some_and(|p| p.deleted_at.is_none()) {
                return Err(Error::Conflict(format!(
                    "user {} is already on this {}", crm.id, kind.as_str()
                )));
            }
            let mut new = old.clone().unwrap_or_else(|| Participant {
                id: ParticipantId::new(),
                org: caller.org,
                connection: caller.connection,
                parent_kind: kind,
                parent: parent_id,
                crm_user: crm.id,
                name: None,
                share: None,
                deleted_at: None,
                created_at: unit.now,
                updated_at: unit.now,
            });
            // A removed rep's row is reused (one per parent and user), but a create starts
            // afresh: the removed one's name and share do not come back unasked.
            new.deleted_at = None;
            new.name = None;
            new.share = None;
            input.name.clone().apply_to(&mut new.name);
            input.share.clone().apply_to(&mut new.share);
            let p = unit.put(old.as_ref(), new).await?;
            Ok(ParticipantView { participant: p, crm_user: crm })
        }.await)
    }

    async fn crm_user_in(&self, unit: &mut Unit<'_, S::Tx>, id: CrmUserId) -> Result<CrmUser> {
        unit.tx
            .get_crm_users(unit.org, &[id])
            .await
            .map_err(store_error)?
            .pop()
            .ok_or(Error::NotFound("User"))
    }

    pub async fn update_participant(
        &self,
        caller: &Caller,
        kind: ParentKind,
        id: ParticipantId,
        input: ParticipantPatch,
    ) -> Result<ParticipantView> {
        caller.require(Self::participant_scope(kind, true))?;
        in_write_tx!(self, tx => async {
            let old = self.live_participant(&mut tx, caller, kind, id).await?;
            let mut unit = Unit::new(&mut tx, caller.org, old.connection, time::now());
            let mut new = old.clone();
            if let Some(parent) = input.parent {
                unit.live_parent(kind, parent).await?;
                new.parent = parent;
            }
            let crm = self.crm_user_in(&mut unit, input.crm_user.unwrap_or(old.crm_user)).await?;
            new.crm_user = crm.id;
            if (new.parent, new.crm_user) != (old.parent, old.crm_user)
                && let Some(other) = unit.tx.find_participant(caller.org, new.parent, new.crm_user).await.map_err(store_error)?
                    && other.id != old.id {
                        return Err(Error::Conflict(format!(
                            "user {} is already on this {}", crm.id, kind.as_str()
                        )));
                    }
            input.name.clone().apply_to(&mut new.name);
            input.share.clone().apply_to(&mut new.share);
            let p = unit.put(Some(&old), new).await?;
            Ok(ParticipantView { participant: p, crm_user: crm })
        }.await)
    }

    pub async fn delete_participant(
        &self,
        caller: &Caller,
        kind: ParentKind,
        id: ParticipantId,
    ) -> Result<()> {
        caller.require(Self::participant_scope(kind, true))?;
        in_write_tx!(self, tx => async {
            let old = self.live_participant(&mut tx, caller, kind, id).await?;
            let mut unit = Unit::new(&mut tx, caller.org, old.connection, time::now());
            let mut new = old.clone();
            new.deleted_at = Some(unit.now);
            unit.put(Some(&old), new).await?;
            Ok(())
        }.await)
    }

    pub async fn list_crm_users(
        &self,
        caller: &Caller,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<CrmUser>> {
        caller.require(Scope::UsersRead)?;
        let fingerprint = format!("crm_users|{}", caller.org);
        let after = self.decode_cursor(&fingerprint, cursor)?;
        let limit = limit.clamp(1, MAX_PAGE);
        let mut tx = self.store.read().await.map_err(store_error)?;
        let items = tx
            .list_crm_users(
                caller.org,
                after.map(|k| CrmUserId::from_uuid(k.id)),
                limit + 1,
            )
            .await
            .map_err(store_error)?;
        Ok(self.finish_page(items, limit, &fingerprint, |u| Key {
            sort_at: u.created_at,
            id: u.id.uuid(),
        }))
    }

    pub async fn get_crm_user(&self, caller: &Caller, id: CrmUserId) -> Result<CrmUser> {
        caller.require(Scope::UsersRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        tx.get_crm_users(caller.org, &[id])
            .await
            .map_err(store_error)?
            .pop()
            .ok_or(Error::NotFound("User"))
    }

    /// The outbox of the caller's organization, oldest first, after `after_seq`.
    pub async fn events(
        &self,
        caller: &Caller,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<liaison_store::Event>> {
        let mut tx = self.store.read().await.map_err(store_error)?;
        tx.list_events(caller.org, after_seq, limit.clamp(1, MAX_PAGE))
            .await
            .map_err(store_error)
    }
}
