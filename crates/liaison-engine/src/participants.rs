//! Reps as the CRM names them: CRM users, their link to workspace users, and their place on
//! engagements and opportunities (participants).

use crate::records::{Unit, load};
use crate::store_error;
use liaison_domain::model::*;
use liaison_domain::rules::{LinkCandidates, choose_link, email_key, name_key};
use liaison_domain::*;
use liaison_store::WriteTx;

impl<T: WriteTx> Unit<'_, T> {
    /// Finds or creates the CRM user with `external_id`, applies what the sync says of them and
    /// (re)links them to a workspace user.
    pub async fn upsert_crm_user(
        &mut self,
        external_id: &str,
        email: Patch<String>,
        name: Patch<String>,
    ) -> Result<CrmUser> {
        if let Some((e, n, user)) = self.memo.crm_users.get(external_id)
            && *e == email
            && *n == name
        {
            return Ok(user.clone());
        }
        let user = self
            .apply_crm_user(external_id, email.clone(), name.clone())
            .await?;
        self.memo
            .crm_users
            .insert(external_id.to_owned(), (email, name, user.clone()));
        Ok(user)
    }

    async fn apply_crm_user(
        &mut self,
        external_id: &str,
        email: Patch<String>,
        name: Patch<String>,
    ) -> Result<CrmUser> {
        let old = self
            .tx
            .get_crm_user_by_external(self.org, self.connection, external_id)
            .await
            .map_err(store_error)?;
        let mut new = old.clone().unwrap_or_else(|| CrmUser {
            id: CrmUserId::new(),
            org: self.org,
            connection: self.connection,
            external_id: external_id.to_owned(),
            email: None,
            name: None,
            user: None,
            created_at: self.now,
            updated_at: self.now,
        });
        email.apply_to(&mut new.email);
        name.apply_to(&mut new.name);
        // Linking only needs recomputing when what it depends on may have changed.
        let keys_changed = old
            .as_ref()
            .is_none_or(|o| o.email != new.email || o.name != new.name);
        if keys_changed {
            new.user = self.link_for(&new).await?;
        }
        self.put(old.as_ref(), new).await
    }

    /// The workspace user a CRM user should be linked to now.
    pub async fn link_for(&mut self, crm: &CrmUser) -> Result<Option<UserId>> {
        let email = crm.email.as_deref().and_then(email_key);
        let name = crm.name.as_deref().and_then(name_key);
        let users = self
            .tx
            .users_matching(
                self.org,
                Some(&crm.external_id),
                email.as_deref(),
                name.as_deref(),
            )
            .await
            .map_err(store_error)?;
        let mut c = LinkCandidates::default();
        for u in users.iter().filter(|u| !u.disabled) {
            let (ue, un) = liaison_store::user_keys(u);
            if u.external_id.as_deref() == Some(crm.external_id.as_str()) {
                c.explicit.push(u.id);
            }
            if email.is_some() && ue == email {
                c.by_email.push(u.id);
            }
            if name.is_some() && un == name {
                c.by_name.push(u.id);
            }
        }
        Ok(choose_link(&c))
    }

    /// Applies a sync's rep list to one parent: named reps are added or updated, a rep with
    /// `deletedAt` is removed, `null` removes every rep. `created` says the parent was created
    /// by this unit, so it has no participants yet and none need looking up.
    pub async fn set_participants(
        &mut self,
        parent_kind: ParentKind,
        parent: RecordId,
        created: bool,
        reps: Patch<Vec<ParticipantIn>>,
    ) -> Result<()> {
        match reps {
            Patch::Absent => Ok(()),
            Patch::Null => {
                let current = self
                    .tx
                    .participants_of(self.org, &[parent])
                    .await
                    .map_err(store_error)?;
                for p in current {
                    let mut gone = p.clone();
                    gone.deleted_at = Some(self.now);
                    self.put(Some(&p), gone).await?;
                }
                Ok(())
            }
            Patch::Value(list) => {
                for rep in ParticipantIn::fold(list) {
                    let crm = self
                        .upsert_crm_user(&rep.external_id, rep.email, rep.name.clone())
                        .await?;
                    let old = if created {
                        None
                    } else {
                        self.tx
                            .find_participant(self.org, parent, crm.id)
                            .await
                            .map_err(store_error)?
                    };
                    let mut new = old.clone().unwrap_or_else(|| Participant {
                        id: ParticipantId::new(),
                        org: self.org,
                        connection: self.connection,
                        parent_kind,
                        parent,
                        crm_user: crm.id,
                        name: None,
                        share: None,
                        deleted_at: None,
                        created_at: self.now,
                        updated_at: self.now,
                    });
                    rep.name.apply_to(&mut new.name);
                    rep.share.apply_to(&mut new.share);
                    // A rep named again without `deletedAt` is back on the record.
                    match rep.deleted_at {
                        Patch::Value(at) => new.deleted_at = Some(at),
                        Patch::Null | Patch::Absent => new.deleted_at = None,
                    }
                    if old.is_none() && new.deleted_at.is_some() {
                        continue;
                    }
                    self.put(old.as_ref(), new).await?;
                }
                Ok(())
            }
        }
    }

    /// A live parent record of this organization, or `NotFound`.
    pub async fn live_parent(&mut self, kind: ParentKind, id: RecordId) -> Result<()> {
        let live = match kind {
            ParentKind::Engagement => load::<Engagement, T>(self.tx, self.org, id)
                .await?
                .is_some_and(|r| r.is_live()),
            ParentKind::Opportunity => load::<Opportunity, T>(self.tx, self.org, id)
                .await?
                .is_some_and(|r| r.is_live()),
        };
        if live {
            Ok(())
        } else {
            Err(Error::NotFound(kind.record_kind().noun()))
        }
    }
}
