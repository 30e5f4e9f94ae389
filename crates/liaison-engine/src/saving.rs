//! The one way any entity is written: compare with what is stored, and only when something
//! changed bump `updated_at`, write, and append the outbox event in the same transaction. An
//! entity is `Saved`; none is written any other way, so none can change without its event.

use crate::records::{Unit, encode, lifecycle_action};
use crate::store_error;
use liaison_domain::model::*;
use liaison_domain::time::Instant;
use liaison_domain::*;
use liaison_store::{Event, EventAction, WriteTx};
use serde::Serialize;
use std::future::Future;

/// An entity the outbox records.
pub(crate) trait Saved: Serialize + Clone + Send + Sync {
    /// Its name in events (`engagement`, `crm_user`, …).
    fn entity(&self) -> &'static str;
    fn uuid(&self) -> uuid::Uuid;
    /// Fills in what is derived from the entity's own fields, before it is compared.
    fn derive(&mut self) {}
    /// Whether `new` says nothing `self` does not: the times the store sets are left out.
    fn same_as(&self, new: &Self) -> bool;
    fn touch(&mut self, at: Instant);
    /// What the change from `old` is, for the event.
    fn action(old: Option<&Self>, _new: &Self) -> EventAction {
        if old.is_some() {
            EventAction::Updated
        } else {
            EventAction::Created
        }
    }
    /// Writes the entity: a new row without `old`, else over the stored `old`.
    fn write<T: WriteTx>(
        &self,
        tx: &mut T,
        old: Option<&Self>,
    ) -> impl Future<Output = Result<()>> + Send;
}

impl<T: WriteTx> Unit<'_, T> {
    /// Writes `new` when it differs from `old` (or is new), with its outbox event, and returns
    /// what is stored now. The same input twice changes nothing.
    pub async fn put<V: Saved>(&mut self, old: Option<&V>, mut new: V) -> Result<V> {
        new.derive();
        if let Some(old) = old
            && old.same_as(&new)
        {
            return Ok(old.clone());
        }
        new.touch(self.now);
        new.write(self.tx, old).await?;
        let action = V::action(old, &new);
        self.tx
            .append_event(&Event {
                id: EventId::new(),
                seq: 0,
                org: self.org,
                entity: new.entity().to_owned(),
                entity_id: new.uuid(),
                action,
                before: old.map(to_json).transpose()?,
                after: Some(to_json(&new)?),
                at: self.now,
            })
            .await
            .map_err(store_error)?;
        Ok(new)
    }
}

fn to_json<V: Serialize>(v: &V) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(e.to_string()))
}

impl<E: Entity> Saved for Record<E> {
    fn entity(&self) -> &'static str {
        E::KIND.as_str()
    }
    fn uuid(&self) -> uuid::Uuid {
        self.id.uuid()
    }
    fn derive(&mut self) {
        self.sort_at = self.data.sort_at().unwrap_or(self.created_at);
        self.indexed = self.data.indexed();
    }
    fn same_as(&self, new: &Self) -> bool {
        self.same_content(new)
    }
    fn touch(&mut self, at: Instant) {
        self.updated_at = at;
    }
    fn action(old: Option<&Self>, new: &Self) -> EventAction {
        match old {
            None => EventAction::Created,
            Some(old) => lifecycle_action(
                old.deleted_at.is_some(),
                new.deleted_at.is_some(),
                old.merged_into.is_none() && new.merged_into.is_some(),
            ),
        }
    }
    async fn write<T: WriteTx>(&self, tx: &mut T, old: Option<&Self>) -> Result<()> {
        let row = encode(self)?;
        match old {
            None => tx.insert_record(&row).await,
            Some(old) => tx.update_record(&encode(old)?, &row).await,
        }
        .map_err(store_error)
    }
}

impl Saved for CrmUser {
    fn entity(&self) -> &'static str {
        "crm_user"
    }
    fn uuid(&self) -> uuid::Uuid {
        self.id.uuid()
    }
    fn same_as(&self, new: &Self) -> bool {
        self.email == new.email && self.name == new.name && self.user == new.user
    }
    fn touch(&mut self, at: Instant) {
        self.updated_at = at;
    }
    async fn write<T: WriteTx>(&self, tx: &mut T, old: Option<&Self>) -> Result<()> {
        tx.put_crm_user(self, old.is_none())
            .await
            .map_err(store_error)
    }
}

impl Saved for Participant {
    fn entity(&self) -> &'static str {
        "participant"
    }
    fn uuid(&self) -> uuid::Uuid {
        self.id.uuid()
    }
    fn same_as(&self, new: &Self) -> bool {
        self.name == new.name
            && self.share == new.share
            && self.deleted_at == new.deleted_at
            && self.parent == new.parent
            && self.crm_user == new.crm_user
    }
    fn touch(&mut self, at: Instant) {
        self.updated_at = at;
    }
    fn action(old: Option<&Self>, new: &Self) -> EventAction {
        match old {
            None => EventAction::Created,
            Some(o) => lifecycle_action(o.deleted_at.is_some(), new.deleted_at.is_some(), false),
        }
    }
    async fn write<T: WriteTx>(&self, tx: &mut T, old: Option<&Self>) -> Result<()> {
        tx.put_participant(self, old.is_none())
            .await
            .map_err(store_error)
    }
}

impl Saved for WorkspaceUser {
    fn entity(&self) -> &'static str {
        "user"
    }
    fn uuid(&self) -> uuid::Uuid {
        self.id.uuid()
    }
    fn same_as(&self, new: &Self) -> bool {
        *self
            == WorkspaceUser {
                updated_at: self.updated_at,
                ..new.clone()
            }
    }
    fn touch(&mut self, at: Instant) {
        self.updated_at = at;
    }
    async fn write<T: WriteTx>(&self, tx: &mut T, old: Option<&Self>) -> Result<()> {
        tx.put_user(self, old.is_none()).await.map_err(store_error)
    }
}

impl Saved for EngagementType {
    fn entity(&self) -> &'static str {
        "engagement_type"
    }
    fn uuid(&self) -> uuid::Uuid {
        self.id.uuid()
    }
    fn same_as(&self, new: &Self) -> bool {
        self.name == new.name && self.activity_type == new.activity_type
    }
    fn touch(&mut self, at: Instant) {
        self.updated_at = at;
    }
    async fn write<T: WriteTx>(&self, tx: &mut T, _old: Option<&Self>) -> Result<()> {
        tx.put_engagement_type(self).await.map_err(store_error)
    }
}
