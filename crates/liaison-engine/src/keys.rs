//! The write keys of a sync: one per record, CRM user and engagement type its payload names,
//! taken together before the first write (`WriteTx::lock_keys`). Two batches that share an
//! account, written side by side, would otherwise lock its row and the others they share in
//! whatever order their items come, and could deadlock; taking every key first, in one order,
//! makes the later batch wait for the earlier instead.

use liaison_domain::model::*;
use liaison_domain::{ConnectionId, OrgId, Patch};

/// The keys of one unit of work, scoped to the caller's connection (external ids are).
pub(crate) struct Keys {
    scope: [u8; 32],
    keys: Vec<i64>,
}

impl Keys {
    pub fn new(org: OrgId, connection: ConnectionId) -> Self {
        let mut scope = [0u8; 32];
        scope[..16].copy_from_slice(org.uuid().as_bytes());
        scope[16..].copy_from_slice(connection.uuid().as_bytes());
        Keys {
            scope,
            keys: Vec::new(),
        }
    }

    /// Sorted, without repeats.
    pub fn into_sorted(mut self) -> Vec<i64> {
        self.keys.sort_unstable();
        self.keys.dedup();
        self.keys
    }

    /// The key of `(what, id)`: FNV-1a over the scope, `what` and `id`, so that every
    /// Liaison process sharing a database derives the same key. A collision only makes two
    /// unrelated writers queue.
    fn add(&mut self, what: &str, id: &str) {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut h = OFFSET;
        for b in self
            .scope
            .iter()
            .chain(what.as_bytes())
            .chain(&[0xff])
            .chain(id.as_bytes())
        {
            h = (h ^ u64::from(*b)).wrapping_mul(PRIME);
        }
        self.keys.push(h as i64);
    }

    fn record(&mut self, kind: RecordKind, external_id: &str, life: Option<&Lifecycle>) {
        self.add(kind.as_str(), external_id);
        if let Some(life) = life {
            for other in life.merged_from.iter().chain(&life.merged_to) {
                self.add(kind.as_str(), other);
            }
            if let Patch::Value(owner) = &life.owner {
                self.crm_user(owner);
            }
        }
    }

    fn crm_user(&mut self, external_id: &str) {
        self.add("crm_user", external_id);
    }

    fn reps(&mut self, reps: &Patch<Vec<ParticipantIn>>) {
        if let Patch::Value(list) = reps {
            for rep in list {
                self.crm_user(&rep.external_id);
            }
        }
    }

    fn account(&mut self, a: &Patch<AccountIn>) {
        if let Patch::Value(a) = a {
            self.record(RecordKind::Account, &a.external_id, Some(&a.lifecycle));
        }
    }

    fn contact(&mut self, c: &ContactIn) {
        self.record(RecordKind::Contact, &c.external_id, Some(&c.lifecycle));
        self.account(&c.account);
    }

    pub fn opportunity(&mut self, o: &OpportunityIn) {
        self.record(RecordKind::Opportunity, &o.external_id, None);
        self.account(&o.account);
        if let Patch::Value(c) = &o.contact {
            self.contact(c);
        }
        if let Patch::Value(list) = &o.contacts {
            for c in list {
                self.contact(&c.contact);
            }
        }
        self.reps(&o.users);
    }

    pub fn engagement(&mut self, e: &EngagementIn) {
        self.record(RecordKind::Engagement, &e.external_id, None);
        if let Patch::Value(t) = &e.engagement_type {
            match &t.external_id {
                Some(ext) => self.add("engagement_type", ext),
                None => self.add("engagement_type_name", &t.name),
            }
        }
        self.account(&e.account);
        if let Patch::Value(c) = &e.contact {
            self.contact(c);
        }
        if let Patch::Value(l) = &e.lead {
            self.record(RecordKind::Lead, &l.external_id, Some(&l.lifecycle));
        }
        if let Patch::Value(o) = &e.opportunity {
            self.opportunity(o);
        }
        self.reps(&e.users);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(e: &EngagementIn, org: OrgId, connection: ConnectionId) -> Vec<i64> {
        let mut k = Keys::new(org, connection);
        k.engagement(e);
        k.into_sorted()
    }

    #[test]
    fn keys_name_what_a_payload_touches_and_only_in_its_connection() {
        let (org, conn) = (OrgId::new(), ConnectionId::new());
        let account = AccountIn {
            external_id: "acc-1".into(),
            ..Default::default()
        };
        let e = EngagementIn {
            external_id: "eng-1".into(),
            account: Patch::Value(account.clone()),
            ..Default::default()
        };
        let both = keys_of(&e, org, conn);
        assert_eq!(both.len(), 2);
        // The same account nested in another engagement shares its key.
        let other = EngagementIn {
            external_id: "eng-2".into(),
            account: Patch::Value(account),
            ..Default::default()
        };
        let shared: Vec<_> = keys_of(&other, org, conn)
            .into_iter()
            .filter(|k| both.contains(k))
            .collect();
        assert_eq!(shared.len(), 1);
        // Another connection's "acc-1" is another account.
        assert!(
            keys_of(&e, org, ConnectionId::new())
                .iter()
                .all(|k| !both.contains(k))
        );
        // An account and a contact with the same external id are different records.
        let contact = EngagementIn {
            external_id: "eng-1".into(),
            contact: Patch::Value(ContactIn {
                external_id: "acc-1".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_ne!(keys_of(&contact, org, conn), both);
    }
}
