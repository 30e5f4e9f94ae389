//! Reads, direct edits and deletes of synced records (engagements, opportunities, accounts),
//! with keyset pages and tamper-checked cursors both ways.

use crate::records::{Unit, decode, load};
use crate::sync::Syncable;
use crate::views::{EngagementView, Expand, OpportunityView};
use crate::{Caller, Engine, in_write_tx, store_error};
use liaison_domain::field::Param;
use liaison_domain::model::*;
use liaison_domain::scope::Scope;
use liaison_domain::*;
use liaison_store::prelude::*;
use liaison_store::{
    Field, Filter, Key, ReadTx, RecordQuery, Seek, Side, Sort, SortKey, Store, UserEngagementQuery,
    Value, WriteTx, sort_key,
};

/// One page of a list, and the cursors of the pages after and before it.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

/// A list of synced records as a face asks for it: filter groups (AND across, OR inside), a
/// title search, an order, the cursor of the page wanted, and its size.
#[derive(Debug, Clone)]
pub struct Listing {
    pub groups: Vec<Vec<Filter>>,
    pub search: Option<String>,
    pub sort: Sort,
    pub cursor: Option<String>,
    pub limit: u32,
}

impl Default for Listing {
    fn default() -> Self {
        Listing {
            groups: Vec::new(),
            search: None,
            sort: Sort::BY_ID,
            cursor: None,
            limit: 100,
        }
    }
}

impl Listing {
    /// Adds a filter that must hold on its own.
    pub fn and(mut self, filter: Filter) -> Self {
        self.groups.push(vec![filter]);
        self
    }
}

/// How a request names a record: by Liaison's id or by the CRM's (within the caller's
/// connection).
#[derive(Debug, Clone)]
pub enum RecordRef {
    Internal(RecordId),
    External(String),
}

/// The largest page any list serves.
pub const MAX_PAGE: u32 = 1000;

type CursorKey = (i64, uuid::Uuid);

fn key_of(k: &Key) -> CursorKey {
    (k.sort_at.timestamp_micros(), k.id)
}

fn key_from(c: CursorKey) -> Result<Key> {
    Ok(Key {
        sort_at: chrono::DateTime::from_timestamp_micros(c.0)
            .ok_or_else(|| Error::BadRequest("invalid cursor".into()))?,
        id: c.1,
    })
}

impl<S: Store> Engine<S> {
    pub(crate) fn decode_cursor(&self, query: &str, cursor: Option<&str>) -> Result<Option<Key>> {
        match cursor.filter(|c| !c.is_empty()) {
            None => Ok(None),
            Some(c) => {
                let k: CursorKey = self
                    .cursors
                    .decode(query, c)
                    .map_err(|e| Error::BadRequest(format!("invalid cursor: {e}")))?;
                key_from(k).map(Some)
            }
        }
    }

    pub(crate) fn encode_cursor(&self, query: &str, key: &Key) -> String {
        self.cursors.encode(query, &key_of(key))
    }

    /// Turns `limit + 1` rows into a page of `limit` and, when the extra row was there, the
    /// cursor that continues after the page's last row. For lists in id order only, without
    /// cursors back.
    pub(crate) fn finish_page<T>(
        &self,
        mut items: Vec<T>,
        limit: u32,
        fingerprint: &str,
        key: impl Fn(&T) -> Key,
    ) -> Page<T> {
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = match (more, items.last()) {
            (true, Some(last)) => Some(self.encode_cursor(fingerprint, &key(last))),
            _ => None,
        };
        Page {
            items,
            next_cursor,
            prev_cursor: None,
        }
    }

    /// Finds a live record of kind `E` by either kind of id; `NotFound` otherwise.
    async fn find<E: Entity, T: ReadTx>(
        &self,
        tx: &mut T,
        caller: &Caller,
        r: &RecordRef,
    ) -> Result<Record<E>> {
        let rec = match r {
            RecordRef::Internal(id) => load::<E, T>(tx, caller.org, *id).await?,
            RecordRef::External(ext) => tx
                .get_record_by_external(caller.org, caller.connection, E::KIND, ext)
                .await
                .map_err(store_error)?
                .map(decode)
                .transpose()?,
        };
        rec.filter(|r| r.is_live())
            .ok_or(Error::NotFound(E::KIND.noun()))
    }

    pub async fn get_engagement(
        &self,
        caller: &Caller,
        r: &RecordRef,
        expand: Expand,
    ) -> Result<EngagementView> {
        self.get_view::<EngagementIn>(caller, Scope::EngagementsRead, r, expand)
            .await
    }

    pub async fn list_engagements(
        &self,
        caller: &Caller,
        listing: &Listing,
        expand: Expand,
    ) -> Result<Page<EngagementView>> {
        self.list_views::<EngagementIn>(caller, Scope::EngagementsRead, listing, expand)
            .await
    }

    /// One live record of a synced kind, as its view.
    async fn get_view<I: Syncable>(
        &self,
        caller: &Caller,
        scope: Scope,
        r: &RecordRef,
        expand: Expand,
    ) -> Result<I::View> {
        caller.require(scope)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        let rec = self.find::<I::Entity, _>(&mut tx, caller, r).await?;
        let mut v = I::views(&mut tx, caller.org, vec![rec], expand).await?;
        Ok(v.remove(0))
    }

    /// A page of live records of a synced kind, as their views.
    async fn list_views<I: Syncable>(
        &self,
        caller: &Caller,
        scope: Scope,
        listing: &Listing,
        expand: Expand,
    ) -> Result<Page<I::View>> {
        caller.require(scope)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        let page = self.page::<I::Entity, _>(&mut tx, caller, listing).await?;
        let items = I::views(&mut tx, caller.org, page.items, expand).await?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
            prev_cursor: page.prev_cursor,
        })
    }

    /// One page of live records of kind `E`: `limit + 1` rows are read, to know whether
    /// another page follows in the direction of travel. An `externalId` filter is matched
    /// within the caller's connection, where external ids are unique.
    async fn page<E: Entity, T: ReadTx>(
        &self,
        tx: &mut T,
        caller: &Caller,
        listing: &Listing,
    ) -> Result<Page<Record<E>>> {
        let kind = E::KIND;
        let mut query = RecordQuery::new(kind);
        query.groups = listing.groups.clone();
        if query
            .groups
            .iter()
            .flatten()
            .any(|f| f.field() == Field::ExternalId)
        {
            query.groups.push(vec![
                Filter::eq(Field::Connection, Value::Id(caller.connection.uuid()))
                    .map_err(|e| Error::Internal(e.to_string()))?,
            ]);
        }
        query.search = listing.search.clone().filter(|s| !s.is_empty());
        query.sort = listing.sort;
        // A page is shown, never written back: its raw payloads stay unread.
        query.remote_data = false;
        query
            .check()
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        // The cursor is bound to everything that decides which rows come in which order.
        let fingerprint = format!(
            "records|{}|{}|{:?}|{:?}|{:?}",
            kind.as_str(),
            caller.org,
            query.groups,
            query.search,
            query.sort
        );
        let seek: Option<Seek> = match listing.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                self.cursors
                    .decode(&fingerprint, c)
                    .map_err(|e| Error::BadRequest(format!("invalid cursor: {e}")))?,
            ),
        };
        let limit = listing.limit.clamp(1, MAX_PAGE);
        query.seek = seek.clone();
        query.limit = limit + 1;
        let rows = tx
            .list_records(caller.org, &query)
            .await
            .map_err(store_error)?;
        let mut items = rows
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<Record<E>>>>()?;
        let more = items.len() > limit as usize;
        let backwards = matches!(&seek, Some(s) if s.side == Side::Before);
        if more {
            // The extra row is the one farthest from where the page starts.
            if backwards {
                items.remove(0);
            } else {
                items.pop();
            }
        }
        let cursor =
            |side: Side, key: SortKey| self.cursors.encode(&fingerprint, &Seek { side, key });
        let first = items.first().map(|r| sort_key(r, query.sort.field));
        let last = items.last().map(|r| sort_key(r, query.sort.field));
        // An empty page past a key still leads back to it.
        let anchor = seek.map(|s| s.key);
        let (next_cursor, prev_cursor) = if backwards {
            (
                last.or(anchor).map(|k| cursor(Side::After, k)),
                first.filter(|_| more).map(|k| cursor(Side::Before, k)),
            )
        } else {
            // The first page has nothing before it; any later one has at least its anchor.
            let prev = anchor.map(|a| first.unwrap_or(a));
            (
                last.filter(|_| more).map(|k| cursor(Side::After, k)),
                prev.map(|k| cursor(Side::Before, k)),
            )
        };
        Ok(Page {
            items,
            next_cursor,
            prev_cursor,
        })
    }

    /// Soft-deletes one live record of kind `E`.
    async fn delete_record<E: Entity>(&self, caller: &Caller, r: &RecordRef) -> Result<()> {
        in_write_tx!(self, tx => async {
            let old = self.find::<E, _>(&mut tx, caller, r).await?;
            let mut unit = Unit::new(&mut tx, caller.org, caller.connection, time::now());
            let mut new = old.clone();
            new.deleted_at = Some(unit.now);
            unit.put(Some(&old), new).await?;
            Ok(())
        }.await)
    }

    pub async fn delete_engagement(&self, caller: &Caller, r: &RecordRef) -> Result<()> {
        caller.require(Scope::EngagementsWrite)?;
        self.delete_record::<Engagement>(caller, r).await
    }

    /// A rep's engagements, newest first. `after`/`before` are engagement ids: the page
    /// continues past (older than) `after`, or comes just before (newer than) `before`.
    pub async fn user_engagements(
        &self,
        caller: &Caller,
        user: UserId,
        after: Option<&str>,
        before: Option<&str>,
        limit: u32,
        expand: Expand,
    ) -> Result<Vec<EngagementView>> {
        caller.require(Scope::EngagementsRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        tx.get_user(caller.org, user)
            .await
            .map_err(store_error)?
            .ok_or(Error::NotFound("User"))?;
        let mut anchor = async |raw: Option<&str>, param: Param| -> Result<Option<Key>> {
            let Some(raw) = raw.filter(|s| !s.is_empty()) else {
                return Ok(None);
            };
            let bad = || Error::BadParam {
                param,
                message: "{param} must be the id of one of this user's engagements".into(),
            };
            let id = RecordId::parse(raw).ok_or_else(bad)?;
            let rec = load::<Engagement, _>(&mut tx, caller.org, id)
                .await?
                .ok_or_else(bad)?;
            Ok(Some(Key {
                sort_at: rec.sort_at,
                id: rec.id.uuid(),
            }))
        };
        let after = anchor(after, Param::PageAfter).await?;
        let before = anchor(before, Param::PageBefore).await?;
        let query = UserEngagementQuery {
            user,
            after,
            before,
            limit: limit.clamp(1, MAX_PAGE),
        };
        let rows = tx
            .list_user_engagements(caller.org, &query)
            .await
            .map_err(store_error)?;
        let records = rows.into_iter().map(decode).collect::<Result<Vec<_>>>()?;
        crate::views::engagement_views(&mut tx, caller.org, records, expand).await
    }

    pub async fn get_opportunity(
        &self,
        caller: &Caller,
        r: &RecordRef,
        expand: Expand,
    ) -> Result<OpportunityView> {
        self.get_view::<OpportunityIn>(caller, Scope::OpportunitiesRead, r, expand)
            .await
    }

    pub async fn list_opportunities(
        &self,
        caller: &Caller,
        listing: &Listing,
        expand: Expand,
    ) -> Result<Page<OpportunityView>> {
        self.list_views::<OpportunityIn>(caller, Scope::OpportunitiesRead, listing, expand)
            .await
    }

    pub async fn delete_opportunity(&self, caller: &Caller, r: &RecordRef) -> Result<()> {
        caller.require(Scope::OpportunitiesWrite)?;
        self.delete_record::<Opportunity>(caller, r).await
    }

    pub async fn get_account(&self, caller: &Caller, id: RecordId) -> Result<Record<Account>> {
        caller.require(Scope::CompaniesRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        self.find::<Account, _>(&mut tx, caller, &RecordRef::Internal(id))
            .await
    }

    pub async fn list_accounts(
        &self,
        caller: &Caller,
        listing: &Listing,
    ) -> Result<Page<Record<Account>>> {
        caller.require(Scope::CompaniesRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        self.page::<Account, _>(&mut tx, caller, listing).await
    }

    /// Creates an account; an external id already synced in this connection is a conflict.
    pub async fn create_account(
        &self,
        caller: &Caller,
        input: AccountIn,
    ) -> Result<Record<Account>> {
        caller.require(Scope::CompaniesWrite)?;
        in_write_tx!(self, tx => async {
            let mut unit = Unit::new(&mut tx, caller.org, caller.connection, time::now());
            if let Some(existing) = unit.load_ext::<Account>(&input.external_id).await? {
                if let Some(survivor) = existing.merged_into {
                    return Err(Error::Conflict(format!(
                        "the account with externalId `{}` was merged into {survivor}",
                        input.external_id
                    )));
                }
                if existing.is_live() {
                    return Err(Error::Conflict(format!(
                        "an account with externalId `{}` already exists: {}",
                        input.external_id, existing.id
                    )));
                }
            }
            let id = unit.upsert_account(AccountIn {
                lifecycle: Lifecycle { deleted_at: Patch::Null, ..Lifecycle::default() },
                ..input.clone()
            }).await?;
            load::<Account, S::Tx>(unit.tx, caller.org, id).await?.ok_or(Error::NotFound("Account"))
        }.await)
    }

    pub async fn update_account(
        &self,
        caller: &Caller,
        id: RecordId,
        input: AccountIn,
    ) -> Result<Record<Account>> {
        caller.require(Scope::CompaniesWrite)?;
        in_write_tx!(self, tx => async {
            let old = self.find::<Account, _>(&mut tx, caller, &RecordRef::Internal(id)).await?;
            let mut unit = Unit::new(&mut tx, caller.org, old.connection, time::now());
            let mut new = old.clone();
            input.clone().apply(&mut new.data);
            unit.put(Some(&old), new).await
        }.await)
    }

    pub async fn delete_account(&self, caller: &Caller, id: RecordId) -> Result<()> {
        caller.require(Scope::CompaniesWrite)?;
        self.delete_record::<Account>(caller, &RecordRef::Internal(id))
            .await
    }
}
