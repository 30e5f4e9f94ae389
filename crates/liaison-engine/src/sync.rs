//! CRM → hub sync: upserts of engagements and opportunities with everything nested in them
//! (accounts, contacts, leads, engagement types, reps), merges, soft deletes and the
//! reconciliation of engagements removed upstream.

use crate::keys::Keys;
use crate::records::{Unit, load};
use crate::views::{EngagementView, Expand, OpportunityView};
use crate::{Caller, Engine, in_write_tx, store_error};
use liaison_domain::model::*;
use liaison_domain::scope::Scope;
use liaison_domain::time::Instant;
use liaison_domain::*;
use liaison_store::prelude::*;
use liaison_store::{
    Cmp, Dir, Field, Filter, RecordQuery, Seek, Side, Sort, SortField, Store, Test, Value, WriteTx,
    sort_key,
};
use std::collections::HashSet;
use std::future::Future;

/// The deletion state of the record a sync is about: a sync without `deletedAt` says the
/// record exists upstream, so a soft-deleted record comes back. (Records nested in it keep
/// their state when the payload is silent: a bare reference says nothing about them.)
fn subject_deleted_at(deleted_at: Patch<Instant>) -> Option<Instant> {
    match deleted_at {
        Patch::Value(at) => Some(at),
        Patch::Null | Patch::Absent => None,
    }
}

impl<T: WriteTx> Unit<'_, T> {
    /// Applies `deletedAt`, `owner` and both merge directions of a nested record's lifecycle.
    async fn apply_lifecycle<E: Entity>(
        &mut self,
        old: Option<&Record<E>>,
        mut rec: Record<E>,
        life: Lifecycle,
    ) -> Result<RecordId> {
        life.deleted_at.apply_to(&mut rec.deleted_at);
        match life.owner {
            Patch::Absent => {}
            Patch::Null => rec.refs.owner = None,
            Patch::Value(ext) => {
                rec.refs.owner = Some(
                    self.upsert_crm_user(&ext, Patch::Absent, Patch::Absent)
                        .await?
                        .id,
                )
            }
        }
        let rec = self.put(old, rec).await?;
        if life.merged_from.is_empty() && life.merged_to.is_none() && rec.merged_into.is_none() {
            return Ok(rec.id);
        }
        for loser_ext in &life.merged_from {
            if *loser_ext == rec.external_id {
                continue;
            }
            // A loser never synced before is recorded as merged, so that a later reference to
            // it still lands on the survivor.
            let loser = match self.load_ext::<E>(loser_ext).await? {
                Some(l) => l.id,
                None => {
                    let fresh = self.fresh::<E>(loser_ext);
                    self.put(None, fresh).await?.id
                }
            };
            self.merge::<E>(loser, rec.id).await?;
        }
        if let Some(survivor_ext) = life.merged_to.filter(|s| *s != rec.external_id) {
            let survivor = self.resolve::<E>(&survivor_ext).await?;
            self.merge::<E>(rec.id, survivor).await?;
        }
        self.survivor(E::KIND, rec.id).await
    }

    pub async fn upsert_account(&mut self, input: AccountIn) -> Result<RecordId> {
        if let Some((seen, id)) = self.memo.accounts.get(&input.external_id)
            && *seen == input
        {
            return Ok(*id);
        }
        let id = self.apply_account(input.clone()).await?;
        self.memo
            .accounts
            .insert(input.external_id.clone(), (input, id));
        Ok(id)
    }

    async fn apply_account(&mut self, input: AccountIn) -> Result<RecordId> {
        let old = self.load_ext::<Account>(&input.external_id).await?;
        let mut rec = old
            .clone()
            .unwrap_or_else(|| self.fresh(&input.external_id));
        let life = input.lifecycle.clone();
        merge_remote(&mut rec.remote_data, input.remote_data.as_ref());
        input.apply(&mut rec.data);
        self.apply_lifecycle(old.as_ref(), rec, life).await
    }

    pub async fn upsert_contact(&mut self, input: ContactIn) -> Result<RecordId> {
        if let Some((seen, id)) = self.memo.contacts.get(&input.external_id)
            && *seen == input
        {
            return Ok(*id);
        }
        let id = self.apply_contact(input.clone()).await?;
        self.memo
            .contacts
            .insert(input.external_id.clone(), (input, id));
        Ok(id)
    }

    async fn apply_contact(&mut self, input: ContactIn) -> Result<RecordId> {
        let old = self.load_ext::<Contact>(&input.external_id).await?;
        let mut rec = old
            .clone()
            .unwrap_or_else(|| self.fresh(&input.external_id));
        merge_remote(&mut rec.remote_data, input.remote_data.as_ref());
        ContactIn::apply_fields(input.name, input.profile, &mut rec.data);
        match input.account {
            Patch::Absent => {}
            Patch::Null => rec.refs.account = None,
            Patch::Value(a) => rec.refs.account = Some(self.upsert_account(a).await?),
        }
        self.apply_lifecycle(old.as_ref(), rec, input.lifecycle)
            .await
    }

    pub async fn upsert_lead(&mut self, input: LeadIn) -> Result<RecordId> {
        let old = self.load_ext::<Lead>(&input.external_id).await?;
        let mut rec = old
            .clone()
            .unwrap_or_else(|| self.fresh(&input.external_id));
        let life = input.lifecycle.clone();
        merge_remote(&mut rec.remote_data, input.remote_data.as_ref());
        input.apply_fields(&mut rec.data);
        self.apply_lifecycle(old.as_ref(), rec, life).await
    }

    async fn upsert_engagement_type(
        &mut self,
        input: EngagementTypeIn,
    ) -> Result<EngagementTypeId> {
        // The key the store matches on: the external id when there is one, else the name.
        let key = match &input.external_id {
            Some(ext) => (Some(ext.clone()), String::new()),
            None => (None, input.name.clone()),
        };
        if let Some((seen, id)) = self.memo.types.get(&key)
            && *seen == input
        {
            return Ok(*id);
        }
        let id = self.apply_engagement_type(input.clone()).await?;
        self.memo.types.insert(key, (input, id));
        Ok(id)
    }

    async fn apply_engagement_type(&mut self, input: EngagementTypeIn) -> Result<EngagementTypeId> {
        let found = self
            .tx
            .find_engagement_type(
                self.org,
                self.connection,
                input.external_id.as_deref(),
                &input.name,
            )
            .await
            .map_err(store_error)?;
        let new = match &found {
            Some(t) => EngagementType {
                name: input.name,
                activity_type: input.activity_type,
                ..t.clone()
            },
            None => EngagementType {
                id: EngagementTypeId::new(),
                org: self.org,
                connection: self.connection,
                external_id: input.external_id,
                name: input.name,
                activity_type: input.activity_type,
                created_at: self.now,
                updated_at: self.now,
            },
        };
        Ok(self.put(found.as_ref(), new).await?.id)
    }

    /// An engagement type id given in a payload must name one of this organization's types;
    /// otherwise the payload is invalid at that field.
    async fn check_type_id(&mut self, id: EngagementTypeId) -> Result<EngagementTypeId> {
        let found = self
            .tx
            .get_engagement_types(self.org, &[id])
            .await
            .map_err(store_error)?;
        if found.is_empty() {
            let field = Field::EngagementType;
            let issue = Issue::unknown(vec![field.into()], field, &id.to_string());
            return Err(Issues::from(issue).into());
        }
        Ok(id)
    }

    pub async fn upsert_opportunity(
        &mut self,
        input: OpportunityIn,
        engagement: Option<&Refs>,
    ) -> Result<Record<Opportunity>> {
        // Every check that can refuse the payload runs before the first write.
        let account_override = match input.account_id.as_value().copied() {
            Some(id) => match load::<Account, T>(self.tx, self.org, id).await? {
                Some(a) if a.is_live() => Some(id),
                _ => {
                    let field = Field::Account;
                    let issue = Issue::unknown(vec![field.into()], field, &id.to_string());
                    return Err(Issues::from(issue).into());
                }
            },
            None => None,
        };
        let old = self.load_ext::<Opportunity>(&input.external_id).await?;
        let mut rec = old
            .clone()
            .unwrap_or_else(|| self.fresh(&input.external_id));
        merge_remote(&mut rec.remote_data, input.remote_data.as_ref());
        OpportunityFields {
            name: input.name,
            amount: input.amount,
            closed_at: input.closed_at,
            remote_created_at: input.remote_created_at,
            last_activity_at: input.last_activity_at,
            disposition: input.disposition,
        }
        .apply(&mut rec.data);
        match engagement {
            // Synced for itself, the opportunity is what the payload says it is.
            None => rec.deleted_at = subject_deleted_at(input.deleted_at),
            Some(_) => input.deleted_at.apply_to(&mut rec.deleted_at),
        }
        match (account_override, input.account) {
            (Some(id), _) => rec.refs.account = Some(id),
            (None, Patch::Value(a)) => rec.refs.account = Some(self.upsert_account(a).await?),
            (None, Patch::Null) => rec.refs.account = None,
            (None, Patch::Absent) => {}
        }
        match input.contact {
            Patch::Value(c) => rec.refs.contact = Some(self.upsert_contact(c).await?),
            Patch::Null => rec.refs.contact = None,
            Patch::Absent => {}
        }
        match input.contacts {
            Patch::Value(list) => {
                let mut ids = Vec::with_capacity(list.len());
                let mut primary = None;
                for item in list {
                    let id = self.upsert_contact(item.contact).await?;
                    if item.is_primary && primary.is_none() {
                        primary = Some(id);
                    }
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                if let Some(p) = primary {
                    rec.refs.contact = Some(p);
                }
                rec.data.contact_ids = ids;
            }
            Patch::Null => rec.data.contact_ids.clear(),
            Patch::Absent => {}
        }
        if let (true, Some(e)) = (input.copy_engagement_relationships, engagement) {
            if e.account.is_some() {
                rec.refs.account = e.account;
            }
            if e.contact.is_some() {
                rec.refs.contact = e.contact;
            }
            if e.lead.is_some() {
                rec.refs.lead = e.lead;
            }
        }
        let rec = self.put(old.as_ref(), rec).await?;
        self.set_participants(ParentKind::Opportunity, rec.id, old.is_none(), input.users)
            .await?;
        Ok(rec)
    }

    pub async fn upsert_engagement(&mut self, input: EngagementIn) -> Result<Record<Engagement>> {
        let old = self.load_ext::<Engagement>(&input.external_id).await?;
        if let Some(old) = &old
            && rules::is_stale(
                old.remote_updated_at,
                input.remote_updated_at.as_value().copied(),
            )
        {
            return Ok(old.clone());
        }
        let mut rec = old
            .clone()
            .unwrap_or_else(|| self.fresh(&input.external_id));
        merge_remote(&mut rec.remote_data, input.remote_data.as_ref());
        EngagementFields {
            direction: input.direction,
            subject: input.subject,
            content: input.content,
            start_time: input.start_time,
            start_time_localized: input.start_time_localized,
            end_time: input.end_time,
            remote_created_at: input.remote_created_at,
            is_private: input.is_private,
        }
        .apply(&mut rec.data);
        // The check runs on the merged record: a payload may move only one end.
        rules::check_times(
            rec.data.start_time,
            rec.data.end_time,
            vec![Field::EndTime.into()],
        )?;
        let type_override = match input.engagement_type_id.as_value().copied() {
            Some(id) => Some(self.check_type_id(id).await?),
            None => None,
        };
        input.remote_updated_at.apply_to(&mut rec.remote_updated_at);
        rec.deleted_at = subject_deleted_at(input.deleted_at);
        match (type_override, input.engagement_type) {
            (Some(id), _) => rec.refs.engagement_type = Some(id),
            (None, Patch::Value(t)) => {
                rec.refs.engagement_type = Some(self.upsert_engagement_type(t).await?)
            }
            (None, Patch::Null) => rec.refs.engagement_type = None,
            (None, Patch::Absent) => {}
        }
        match input.account {
            Patch::Value(a) => rec.refs.account = Some(self.upsert_account(a).await?),
            Patch::Null => rec.refs.account = None,
            Patch::Absent => {}
        }
        match input.contact {
            Patch::Value(c) => rec.refs.contact = Some(self.upsert_contact(c).await?),
            Patch::Null => rec.refs.contact = None,
            Patch::Absent => {}
        }
        match input.lead {
            Patch::Value(l) => rec.refs.lead = Some(self.upsert_lead(l).await?),
            Patch::Null => rec.refs.lead = None,
            Patch::Absent => {}
        }
        match input.opportunity {
            Patch::Value(o) => {
                let refs = rec.refs;
                rec.refs.opportunity = Some(self.upsert_opportunity(o, Some(&refs)).await?.id)
            }
            Patch::Null => rec.refs.opportunity = None,
            Patch::Absent => {}
        }
        let rec = self.put(old.as_ref(), rec).await?;
        self.set_participants(ParentKind::Engagement, rec.id, old.is_none(), input.users)
            .await?;
        Ok(rec)
    }
}

/// What a sync endpoint takes: an input that upserts one record, and the view it answers.
pub(crate) trait Syncable: Clone + Send + Sync + 'static {
    type Entity: Entity;
    type View: Send;

    fn upsert<T: WriteTx>(
        self,
        unit: &mut Unit<'_, T>,
    ) -> impl Future<Output = Result<Record<Self::Entity>>> + Send;

    /// Adds the write keys of everything the upsert may write.
    fn keys(&self, keys: &mut Keys);

    fn views<T: ReadTx>(
        tx: &mut T,
        org: OrgId,
        records: Vec<Record<Self::Entity>>,
        expand: Expand,
    ) -> impl Future<Output = Result<Vec<Self::View>>> + Send;
}

impl Syncable for EngagementIn {
    type Entity = Engagement;
    type View = EngagementView;

    async fn upsert<T: WriteTx>(self, unit: &mut Unit<'_, T>) -> Result<Record<Engagement>> {
        unit.upsert_engagement(self).await
    }

    fn keys(&self, keys: &mut Keys) {
        keys.engagement(self)
    }

    async fn views<T: ReadTx>(
        tx: &mut T,
        org: OrgId,
        records: Vec<Record<Engagement>>,
        expand: Expand,
    ) -> Result<Vec<EngagementView>> {
        crate::views::engagement_views(tx, org, records, expand).await
    }
}

impl Syncable for OpportunityIn {
    type Entity = Opportunity;
    type View = OpportunityView;

    async fn upsert<T: WriteTx>(self, unit: &mut Unit<'_, T>) -> Result<Record<Opportunity>> {
        unit.upsert_opportunity(self, None).await
    }

    fn keys(&self, keys: &mut Keys) {
        keys.opportunity(self)
    }

    async fn views<T: ReadTx>(
        tx: &mut T,
        org: OrgId,
        records: Vec<Record<Opportunity>>,
        expand: Expand,
    ) -> Result<Vec<OpportunityView>> {
        crate::views::opportunity_views(tx, org, records, expand).await
    }
}

/// The write keys of `inputs`, to take before the first write.
fn write_keys<'a, I: Syncable>(
    caller: &Caller,
    inputs: impl IntoIterator<Item = &'a I>,
) -> Vec<i64> {
    let mut keys = Keys::new(caller.org, caller.connection);
    for input in inputs {
        input.keys(&mut keys);
    }
    keys.into_sorted()
}

impl<S: Store> Engine<S> {
    fn unit<'t>(&self, tx: &'t mut S::Tx, caller: &Caller, now: Instant) -> Unit<'t, S::Tx> {
        Unit::new(tx, caller.org, caller.connection, now)
    }

    pub async fn sync_engagement(
        &self,
        caller: &Caller,
        input: EngagementIn,
        expand: Expand,
    ) -> Result<EngagementView> {
        self.sync_one(caller, Scope::EngagementsWrite, input, expand)
            .await
    }

    pub async fn sync_engagements(
        &self,
        caller: &Caller,
        items: Vec<EngagementIn>,
        expand: Expand,
    ) -> Result<Vec<EngagementView>> {
        self.sync_many(caller, Scope::EngagementsWrite, items, expand)
            .await
    }

    pub async fn sync_opportunity(
        &self,
        caller: &Caller,
        input: OpportunityIn,
        expand: Expand,
    ) -> Result<OpportunityView> {
        self.sync_one(caller, Scope::OpportunitiesWrite, input, expand)
            .await
    }

    pub async fn sync_opportunities(
        &self,
        caller: &Caller,
        items: Vec<OpportunityIn>,
        expand: Expand,
    ) -> Result<Vec<OpportunityView>> {
        self.sync_many(caller, Scope::OpportunitiesWrite, items, expand)
            .await
    }

    async fn sync_one<I: Syncable>(
        &self,
        caller: &Caller,
        scope: Scope,
        input: I,
        expand: Expand,
    ) -> Result<I::View> {
        caller.require(scope)?;
        let keys = write_keys(caller, [&input]);
        in_write_tx!(self, tx => async {
            tx.lock_keys(&keys).await.map_err(store_error)?;
            let mut unit = self.unit(&mut tx, caller, time::now());
            let rec = input.clone().upsert(&mut unit).await?;
            let mut views = I::views(unit.tx, caller.org, vec![rec], expand).await?;
            Ok(views.remove(0))
        }.await)
    }

    /// Syncs a batch as a whole, in one transaction: every item lands, or none does. An item
    /// that breaks a rule does not stop the others from being checked, so the refusal lists
    /// every broken rule, each under its item's index.
    async fn sync_many<I: Syncable>(
        &self,
        caller: &Caller,
        scope: Scope,
        items: Vec<I>,
        expand: Expand,
    ) -> Result<Vec<I::View>> {
        caller.require(scope)?;
        let keys = write_keys(caller, &items);
        in_write_tx!(self, tx => async {
            tx.lock_keys(&keys).await.map_err(store_error)?;
            let mut unit = self.unit(&mut tx, caller, time::now());
            let mut records = Vec::with_capacity(items.len());
            let mut refused = Issues::default();
            for (i, input) in items.iter().enumerate() {
                match input.clone().upsert(&mut unit).await {
                    Ok(rec) => records.push(rec),
                    Err(Error::Invalid(issues)) => {
                        refused.0.extend(issues.prefixed(&[PathSeg::Index(i)]).0);
                    }
                    Err(e) => return Err(e),
                }
            }
            // Returning the refusal drops the transaction: nothing of the batch is kept.
            refused.into_result(())?;
            I::views(unit.tx, caller.org, records, expand).await
        }.await)
    }

    /// Soft-deletes the caller's engagements that start within `[from, to]` and whose
    /// external id is not in `valid`: the CRM says these are all that exist in the window.
    pub async fn soft_delete_removed(
        &self,
        caller: &Caller,
        valid: Vec<String>,
        from: Instant,
        to: Instant,
    ) -> Result<u64> {
        caller.require(Scope::EngagementsWrite)?;
        let valid: HashSet<String> = valid.into_iter().collect();
        in_write_tx!(self, tx => async {
            let mut unit = self.unit(&mut tx, caller, time::now());
            let bad = |e: liaison_store::QueryError| Error::Internal(e.to_string());
            let mut query = RecordQuery::new(RecordKind::Engagement)
                .and(Filter::eq(Field::Connection, Value::Id(caller.connection.uuid())).map_err(bad)?)
                .and(Filter::new(Field::StartTime, Test::Cmp(Cmp::Gte, Value::Time(from))).map_err(bad)?)
                .and(Filter::new(Field::StartTime, Test::Cmp(Cmp::Lte, Value::Time(to))).map_err(bad)?);
            query.sort = Sort { field: SortField::StartTime, dir: Dir::Asc };
            query.limit = 500;
            let mut removed = 0u64;
            loop {
                let rows = unit.tx.list_records(caller.org, &query).await.map_err(store_error)?;
                let Some(last) = rows.last() else { break };
                query.seek = Some(Seek { side: Side::After, key: sort_key(last, query.sort.field) });
                let full = rows.len() as u32 == query.limit;
                for row in rows {
                    if valid.contains(&row.external_id) {
                        continue;
                    }
                    let old: Record<Engagement> = crate::records::decode(row)?;
                    let mut new = old.clone();
                    new.deleted_at = Some(unit.now);
                    unit.put(Some(&old), new).await?;
                    removed += 1;
                }
                if !full {
                    break;
                }
            }
            Ok(removed)
        }.await)
    }
}
