//! Workspace users (the reps): create, read, update, and the relinking of CRM users that a
//! change of email, name or explicit mapping calls for.

use crate::reads::{MAX_PAGE, Page};
use crate::records::Unit;
use crate::{Caller, Engine, in_write_tx, store_error};
use liaison_domain::model::*;
use liaison_domain::rules::{email_key, name_key};
use liaison_domain::scope::Scope;
use liaison_domain::*;
use liaison_store::prelude::*;
use liaison_store::{Key, Store, UserQuery, WriteTx};

impl<T: WriteTx> Unit<'_, T> {
    async fn put_user(
        &mut self,
        old: Option<&WorkspaceUser>,
        new: WorkspaceUser,
    ) -> Result<WorkspaceUser> {
        if let Some(ext) = &new.external_id
            && old.and_then(|o| o.external_id.as_ref()) != Some(ext)
        {
            let taken = self
                .tx
                .list_users(
                    self.org,
                    &UserQuery {
                        external_id: Some(ext.clone()),
                        limit: 1,
                        ..UserQuery::default()
                    },
                )
                .await
                .map_err(store_error)?;
            if taken.iter().any(|u| u.id != new.id) {
                return Err(Error::Conflict(format!(
                    "another user is already mapped to externalId `{ext}`"
                )));
            }
        }
        if old == Some(&new) {
            return Ok(new);
        }
        let new = self.put(old, new).await?;
        // Relink every CRM user whose link may depend on this user, before and after.
        let mut keys: Vec<(Option<String>, Option<String>, Option<String>)> = Vec::new();
        for u in old.into_iter().chain(std::iter::once(&new)) {
            keys.push((
                u.external_id.clone(),
                u.email.as_deref().and_then(email_key),
                u.full_name().as_deref().and_then(name_key),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (ext, email, name) in keys {
            let crm_users = self
                .tx
                .crm_users_matching(self.org, ext.as_deref(), email.as_deref(), name.as_deref())
                .await
                .map_err(store_error)?;
            for crm in crm_users {
                if !seen.insert(crm.id) {
                    continue;
                }
                let mut relinked = crm.clone();
                relinked.user = self.link_for(&crm).await?;
                self.put(Some(&crm), relinked).await?;
            }
        }
        Ok(new)
    }
}

impl<S: Store> Engine<S> {
    pub async fn create_user(&self, caller: &Caller, input: UserIn) -> Result<WorkspaceUser> {
        caller.require(Scope::UsersWrite)?;
        caller.require_org(&input.organization_id)?;
        in_write_tx!(self, tx => async {
            let mut unit = Unit::new(&mut tx, caller.org, caller.connection, time::now());
            let input = input.clone();
            let user = WorkspaceUser {
                id: UserId::new(),
                org: caller.org,
                email: Some(input.email),
                phone_number: input.phone_number,
                first_name: input.first_name,
                last_name: input.last_name,
                member_team_id: input.member_team_id,
                coach_team_ids: input.coach_team_ids,
                external_id: input.external_id,
                disabled: false,
                billable: input.billable.unwrap_or(true),
                is_admin: input.is_admin,
                contact_settings: input.contact_settings,
                created_at: unit.now,
                updated_at: unit.now,
            };
            unit.put_user(None, user).await
        }.await)
    }

    pub async fn update_user(
        &self,
        caller: &Caller,
        id: UserId,
        patch: UserPatch,
    ) -> Result<WorkspaceUser> {
        caller.require(Scope::UsersWrite)?;
        if let Some(org) = &patch.organization_id {
            caller.require_org(org)?;
        }
        let saved = in_write_tx!(self, tx => async {
            let old = tx.get_user(caller.org, id).await.map_err(store_error)?.ok_or(Error::NotFound("User"))?;
            let mut unit = Unit::new(&mut tx, caller.org, caller.connection, time::now());
            let p = patch.clone();
            let mut new = old.clone();
            p.email.apply_to(&mut new.email);
            p.phone_number.apply_to(&mut new.phone_number);
            p.first_name.apply_to(&mut new.first_name);
            p.last_name.apply_to(&mut new.last_name);
            p.member_team_id.apply_to(&mut new.member_team_id);
            p.external_id.apply_to(&mut new.external_id);
            p.contact_settings.apply_to(&mut new.contact_settings);
            if let Some(d) = p.disabled { new.disabled = d; }
            if let Some(b) = p.billable { new.billable = b; }
            unit.put_user(Some(&old), new).await
        }.await);
        if let Ok(u) = &saved
            && u.disabled
        {
            // The user's access tokens stop here at once (elsewhere, within the cache's time).
            self.tokens.forget(|c| c.user() == Some(id));
        }
        saved
    }

    pub async fn get_user(&self, caller: &Caller, id: UserId) -> Result<WorkspaceUser> {
        caller.require(Scope::UsersRead)?;
        let mut tx = self.store.read().await.map_err(store_error)?;
        tx.get_user(caller.org, id)
            .await
            .map_err(store_error)?
            .ok_or(Error::NotFound("User"))
    }

    pub async fn list_users(
        &self,
        caller: &Caller,
        disabled: Option<bool>,
        external_id: Option<String>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<WorkspaceUser>> {
        caller.require(Scope::UsersRead)?;
        let fingerprint = format!("users|{}|{disabled:?}|{external_id:?}", caller.org);
        let after = self.decode_cursor(&fingerprint, cursor)?;
        let limit = limit.clamp(1, MAX_PAGE);
        let mut tx = self.store.read().await.map_err(store_error)?;
        let items = tx
            .list_users(
                caller.org,
                &UserQuery {
                    disabled,
                    external_id,
                    after: after.map(|k| UserId::from_uuid(k.id)),
                    limit: limit + 1,
                },
            )
            .await
            .map_err(store_error)?;
        Ok(self.finish_page(items, limit, &fingerprint, |u| Key {
            sort_at: u.created_at,
            id: u.id.uuid(),
        }))
    }
}

/// The organization's workspace user `id`, which an input names at `field`; an unknown one is
/// refused there. What every input that names a user (a recording's, an app's owner, a
/// token's, an event's) checks.
pub(crate) async fn named_user<T: ReadTx>(
    tx: &mut T,
    org: OrgId,
    id: UserId,
    field: impl Into<PathSeg>,
) -> Result<WorkspaceUser> {
    tx.get_user(org, id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| {
            Error::Invalid(Issue::custom(vec![field.into()], format!("Unknown user: {id}")).into())
        })
}
