//! The contract of synced records: round-trips, external ids and their uniqueness, tenant
//! isolation, list filters, keyset paging in both orders, and reverse links.

use crate::fixtures::*;
use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::*;

/// Irregular spacing, key order, number spelling and non-ASCII text: a backend that parses
/// and re-serialises the JSON would change it.
const ODD_JSON: &str = "{\"name\":  \"Zoë 🙂\", \"b\": 1, \"a\": [2.50, {\"z\": null}] }\n";

/// 9999-12-31T23:59:59.999999Z, the latest instant every backend holds.
const LATEST: i64 = 253_402_300_799_999_999;

pub async fn records_round_trip<S: Store>(store: &S) {
    let t = tenant(store).await;
    let mut full = record(&t, RecordKind::Engagement, "ext-full");
    full.refs = Refs {
        account: Some(RecordId::new()),
        contact: Some(RecordId::new()),
        lead: Some(RecordId::new()),
        opportunity: Some(RecordId::new()),
        owner: Some(CrmUserId::new()),
        engagement_type: Some(EngagementTypeId::new()),
    };
    full.recording_id = Some("rec-1".into());
    full.sort_at = at(-1_234_567);
    full.remote_updated_at = Some(at(LATEST));
    full.deleted_at = Some(minute(1));
    full.merged_into = Some(RecordId::new());
    full.created_at = minute(0);
    full.updated_at = minute(2);
    full.data = ODD_JSON.into();
    full.remote_data = Some(ODD_JSON.into());
    full.indexed = Indexed {
        title: Some("Zoë 🙂 Ünïcode".into()),
        start_time: Some(at(-1_234_567)),
        end_time: Some(at(LATEST)),
        direction: Some(values::Direction::Inbound),
        is_private: true,
        remote_created_at: Some(minute(-5)),
        contacts: vec![],
    };
    let bare = record(&t, RecordKind::Account, "ext-bare");
    // Only an opportunity keeps a contact list, in its order, repeats and all.
    let mut opp = record(&t, RecordKind::Opportunity, "ext-opp");
    let (c1, c2) = (RecordId::new(), RecordId::new());
    opp.indexed.contacts = vec![c2, c1, c2];

    let mut tx = begin(store).await;
    tx.insert_record(&full).await.expect("insert full");
    tx.insert_record(&bare).await.expect("insert bare");
    tx.insert_record(&opp).await.expect("insert opportunity");
    assert_eq!(
        tx.get_record(t.org, full.id).await.unwrap().as_ref(),
        Some(&full),
        "a transaction reads its own writes"
    );
    tx.commit().await.unwrap();

    each_session!(store, tx, {
        assert_eq!(
            tx.get_record(t.org, full.id).await.unwrap(),
            Some(full.clone())
        );
        assert_eq!(
            tx.get_record(t.org, bare.id).await.unwrap(),
            Some(bare.clone())
        );
        assert_eq!(
            tx.get_record(t.org, opp.id).await.unwrap(),
            Some(opp.clone())
        );
        assert_eq!(
            tx.list_records(t.org, &RecordQuery::new(RecordKind::Opportunity))
                .await
                .unwrap(),
            vec![opp.clone()],
            "a list of opportunities reads their contacts"
        );
        assert_eq!(tx.get_record(t.org, RecordId::new()).await.unwrap(), None);
        let mut got = tx
            .get_records(t.org, &[bare.id, full.id, RecordId::new()])
            .await
            .unwrap();
        got.sort_by_key(|r| r.id);
        assert_eq!(got, vec![full.clone(), bare.clone()]);
        assert!(tx.get_records(t.org, &[]).await.unwrap().is_empty());
        // A list reads the raw payload unless told not to; then every other column is read.
        let mut query = RecordQuery::new(RecordKind::Engagement);
        query.include_hidden = true;
        let listed = tx.list_records(t.org, &query).await.unwrap();
        assert_eq!(listed, vec![full.clone()]);
        query.remote_data = false;
        let shown = tx.list_records(t.org, &query).await.unwrap();
        let without = Record {
            remote_data: None,
            ..full.clone()
        };
        assert_eq!(shown, vec![without]);
    });

    // Every column changes, Some to None and None to Some.
    let other = ConnectionId::new();
    let emptied = Record {
        connection: other,
        external_id: "ext-full-2".into(),
        refs: Refs::default(),
        recording_id: None,
        sort_at: minute(10),
        remote_updated_at: None,
        deleted_at: None,
        merged_into: None,
        created_at: minute(11),
        updated_at: minute(12),
        indexed: Indexed::default(),
        remote_data: None,
        data: "[]".into(),
        ..full.clone()
    };
    let filled = Record {
        connection: other,
        kind: RecordKind::Lead,
        external_id: "ext-bare-2".into(),
        refs: full.refs,
        recording_id: Some("rec-2".into()),
        sort_at: at(LATEST),
        remote_updated_at: Some(at(-1)),
        deleted_at: Some(minute(20)),
        merged_into: Some(full.id),
        created_at: minute(21),
        updated_at: minute(22),
        indexed: Indexed {
            contacts: vec![],
            ..full.indexed.clone()
        },
        remote_data: Some("{}".into()),
        data: ODD_JSON.into(),
        ..bare.clone()
    };
    let fewer = Record {
        indexed: Indexed {
            contacts: vec![c1],
            ..Indexed::default()
        },
        ..opp.clone()
    };
    let mut tx = begin(store).await;
    tx.update_record(&full, &emptied)
        .await
        .expect("update full");
    tx.update_record(&bare, &filled).await.expect("update bare");
    tx.update_record(&opp, &fewer)
        .await
        .expect("update opportunity");
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        tx.get_record(t.org, full.id).await.unwrap().as_ref(),
        Some(&emptied)
    );
    assert_eq!(tx.get_record(t.org, bare.id).await.unwrap(), Some(filled));
    assert_eq!(tx.get_record(t.org, opp.id).await.unwrap(), Some(fewer));
    drop(tx);
    // An update of a few columns writes those and leaves every other as it was.
    let retitled = Record {
        updated_at: minute(30),
        indexed: Indexed {
            title: Some("Only the title".into()),
            ..emptied.indexed.clone()
        },
        ..emptied.clone()
    };
    let mut tx = begin(store).await;
    tx.update_record(&emptied, &retitled)
        .await
        .expect("update a few columns");
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(tx.get_record(t.org, full.id).await.unwrap(), Some(retitled));
}

pub async fn records_by_external_id<S: Store>(store: &S) {
    let t = tenant(store).await;
    let second = Connection {
        id: ConnectionId::new(),
        org: t.org,
        name: "second".into(),
        created_at: minute(0),
    };
    let mut tx = begin(store).await;
    tx.insert_connection(&second).await.unwrap();
    tx.commit().await.unwrap();
    let t2 = Tenant {
        org: t.org,
        connection: second.id,
    };
    // One external id may recur across connections and kinds.
    let eng = record(&t, RecordKind::Engagement, "E-1");
    let eng2 = record(&t2, RecordKind::Engagement, "E-1");
    let acc = record(&t, RecordKind::Account, "E-1");
    insert_all(store, &[eng.clone(), eng2.clone(), acc.clone()]).await;

    each_session!(store, tx, {
        let by = |c, k, e: &'static str| (c, k, e);
        for ((connection, kind, ext), want) in [
            (by(t.connection, RecordKind::Engagement, "E-1"), Some(&eng)),
            (by(second.id, RecordKind::Engagement, "E-1"), Some(&eng2)),
            (by(t.connection, RecordKind::Account, "E-1"), Some(&acc)),
            (by(second.id, RecordKind::Account, "E-1"), None),
            (by(t.connection, RecordKind::Contact, "E-1"), None),
            (by(t.connection, RecordKind::Engagement, "e-1"), None),
            (by(t.connection, RecordKind::Engagement, "E-2"), None),
        ] {
            let got = tx
                .get_record_by_external(t.org, connection, kind, ext)
                .await
                .unwrap();
            assert_eq!(got.as_ref(), want, "{kind:?} {ext}");
        }
    });
}

pub async fn records_unique_keys<S: Store>(store: &S) {
    let t = tenant(store).await;
    let a = record(&t, RecordKind::Contact, "A");
    let b = record(&t, RecordKind::Contact, "B");
    insert_all(store, &[a.clone(), b.clone()]).await;

    let mut tx = begin(store).await;
    let dup = record(&t, RecordKind::Contact, "A");
    assert_conflict(tx.insert_record(&dup).await, "same external id");
    drop(tx);

    let mut tx = begin(store).await;
    let same_id = Record {
        external_id: "C".into(),
        ..a.clone()
    };
    assert_conflict(tx.insert_record(&same_id).await, "same id");
    drop(tx);

    let mut tx = begin(store).await;
    let renamed = Record {
        external_id: "A".into(),
        ..b.clone()
    };
    assert_conflict(
        tx.update_record(&b, &renamed).await,
        "update onto a taken key",
    );
    drop(tx);

    // Within one transaction too, before anything is committed.
    let mut tx = begin(store).await;
    let d = record(&t, RecordKind::Lead, "D");
    tx.insert_record(&d).await.unwrap();
    let d2 = record(&t, RecordKind::Lead, "D");
    assert_conflict(tx.insert_record(&d2).await, "duplicate in one transaction");
    drop(tx);

    let mut tx = read(store).await;
    let mut q = RecordQuery::new(RecordKind::Contact);
    q.include_hidden = true;
    let all = tx.list_records(t.org, &q).await.unwrap();
    assert_eq!(all, vec![a, b], "refused writes leave no trace");
}

/// SQLite refuses only the statement; a backend whose errors poison the transaction must
/// contain them, or an engine that handles a conflict and carries on would break there.
pub async fn conflicts_leave_the_transaction_usable<S: Store>(store: &S) {
    let t = tenant(store).await;
    let r = record(&t, RecordKind::Engagement, "R");
    let cu = crm_user(&t, "crm-1", None);
    let mut u1 = workspace_user(t.org);
    u1.external_id = Some("rep-1".into());
    let u2 = workspace_user(t.org);
    let p = participant(&t, &r, cu.id);
    let et = engagement_type(&t, Some("T"), "Meeting");
    let tok = token(&t, &format!("hash-{}", uuid::Uuid::now_v7()));
    let mut tx = begin(store).await;
    tx.insert_record(&r).await.unwrap();
    tx.put_crm_user(&cu, true).await.unwrap();
    tx.put_user(&u1, true).await.unwrap();
    tx.put_user(&u2, true).await.unwrap();
    tx.put_participant(&p, true).await.unwrap();
    tx.put_engagement_type(&et).await.unwrap();
    tx.insert_token(&tok).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(store).await;
    let fresh = record(&t, RecordKind::Engagement, "fresh");
    tx.insert_record(&fresh).await.unwrap();
    let dup = record(&t, RecordKind::Engagement, "R");
    assert_conflict(tx.insert_record(&dup).await, "record");
    let mut moved = r.clone();
    moved.external_id = "fresh".into();
    assert_conflict(tx.update_record(&r, &moved).await, "record update");
    assert_conflict(
        tx.put_crm_user(&crm_user(&t, "crm-1", None), true).await,
        "crm user",
    );
    let mut taken = u2.clone();
    taken.external_id = Some("rep-1".into());
    assert_conflict(tx.put_user(&taken, false).await, "user update");
    assert_conflict(
        tx.put_participant(&participant(&t, &r, cu.id), true).await,
        "participant",
    );
    assert_conflict(
        tx.put_engagement_type(&engagement_type(&t, Some("T"), "Other"))
            .await,
        "engagement type",
    );
    let mut tok2 = token(&t, &tok.hash);
    tok2.name = "again".into();
    assert_conflict(tx.insert_token(&tok2).await, "token");
    let later = record(&t, RecordKind::Engagement, "later");
    tx.insert_record(&later)
        .await
        .expect("usable after conflicts");
    tx.append_event(&event(t.org, "engagement")).await.unwrap();
    tx.commit().await.expect("commit after conflicts");

    let mut tx = read(store).await;
    assert_eq!(tx.get_record(t.org, fresh.id).await.unwrap(), Some(fresh));
    assert_eq!(tx.get_record(t.org, later.id).await.unwrap(), Some(later));
    assert_eq!(tx.get_record(t.org, r.id).await.unwrap(), Some(r));
    assert_eq!(tx.get_user(t.org, u2.id).await.unwrap(), Some(u2));
    assert_eq!(tx.list_events(t.org, 0, 10).await.unwrap().len(), 1);
}

pub async fn tenants_are_isolated<S: Store>(store: &S) {
    let a = tenant(store).await;
    let b = tenant(store).await;
    let mut ua = workspace_user(a.org);
    ua.email = Some("rep@example.com".into());
    ua.first_name = Some("Ada".into());
    ua.external_id = Some("rep-a".into());
    let mut ca = crm_user(&a, "crm-a", Some(ua.id));
    ca.email = Some("rep@example.com".into());
    ca.name = Some("Ada".into());
    let mut ra = engagement(&a, "E", Some(minute(0)));
    ra.recording_id = Some("rec".into());
    let acc = record(&a, RecordKind::Account, "A");
    ra.refs.account = Some(acc.id);
    let pa = participant(&a, &ra, ca.id);
    let ta = engagement_type(&a, Some("T"), "Meeting");
    let mut tx = begin(store).await;
    for r in [&ra, &acc] {
        tx.insert_record(r).await.unwrap();
    }
    tx.put_user(&ua, true).await.unwrap();
    tx.put_crm_user(&ca, true).await.unwrap();
    tx.put_participant(&pa, true).await.unwrap();
    tx.put_engagement_type(&ta).await.unwrap();
    tx.append_event(&event(a.org, "engagement")).await.unwrap();
    tx.commit().await.unwrap();

    let keys = user_keys(&ua);
    each_session!(store, tx, {
        // Sanity: the owner sees everything the other tenant must not.
        assert!(tx.get_record(a.org, ra.id).await.unwrap().is_some());
        assert_eq!(tx.list_events(a.org, 0, 10).await.unwrap().len(), 1);

        let o = b.org;
        assert_eq!(tx.get_record(o, ra.id).await.unwrap(), None);
        assert!(
            tx.get_records(o, &[ra.id, acc.id])
                .await
                .unwrap()
                .is_empty()
        );
        let by_ext = tx
            .get_record_by_external(o, a.connection, RecordKind::Engagement, "E")
            .await
            .unwrap();
        assert_eq!(by_ext, None);
        for kind in RecordKind::ALL {
            let mut q = RecordQuery::new(kind);
            q.include_hidden = true;
            assert!(tx.list_records(o, &q).await.unwrap().is_empty());
        }
        let q = RecordQuery::new(RecordKind::Engagement)
            .and(Filter::eq(Field::RecordingId, Value::Text("rec".into())).unwrap());
        assert!(tx.list_records(o, &q).await.unwrap().is_empty());
        let refs = tx
            .records_referencing(o, RecordKind::Account, acc.id)
            .await
            .unwrap();
        assert!(refs.is_empty());
        let mine = UserEngagementQuery {
            user: ua.id,
            after: None,
            before: None,
            limit: 10,
        };
        assert!(tx.list_user_engagements(o, &mine).await.unwrap().is_empty());
        assert_eq!(tx.get_user(o, ua.id).await.unwrap(), None);
        let users = UserQuery {
            limit: 10,
            ..UserQuery::default()
        };
        assert!(tx.list_users(o, &users).await.unwrap().is_empty());
        let matching = tx
            .users_matching(o, Some("rep-a"), keys.0.as_deref(), keys.1.as_deref())
            .await
            .unwrap();
        assert!(matching.is_empty());
        assert!(tx.get_crm_users(o, &[ca.id]).await.unwrap().is_empty());
        let crm = tx
            .get_crm_user_by_external(o, a.connection, "crm-a")
            .await
            .unwrap();
        assert_eq!(crm, None);
        assert!(tx.list_crm_users(o, None, 10).await.unwrap().is_empty());
        let crm_matching = tx
            .crm_users_matching(o, Some("crm-a"), keys.0.as_deref(), keys.1.as_deref())
            .await
            .unwrap();
        assert!(crm_matching.is_empty());
        assert_eq!(tx.get_participant(o, pa.id).await.unwrap(), None);
        assert_eq!(tx.find_participant(o, ra.id, ca.id).await.unwrap(), None);
        assert!(tx.participants_of(o, &[ra.id]).await.unwrap().is_empty());
        let pq = ParticipantQuery {
            limit: 10,
            ..ParticipantQuery::default()
        };
        let listed = tx
            .list_participants(o, ParentKind::Engagement, &pq)
            .await
            .unwrap();
        assert!(listed.is_empty());
        assert!(
            tx.get_engagement_types(o, &[ta.id])
                .await
                .unwrap()
                .is_empty()
        );
        let found = tx
            .find_engagement_type(o, a.connection, Some("T"), "Meeting")
            .await
            .unwrap();
        assert_eq!(found, None);
        assert!(tx.list_events(o, 0, 10).await.unwrap().is_empty());
    });
}

pub async fn records_referencing_links<S: Store>(store: &S) {
    let t = tenant(store).await;
    let other = tenant(store).await;
    let acc = record(&t, RecordKind::Account, "acc");
    let con = record(&t, RecordKind::Contact, "con");
    let lead = record(&t, RecordKind::Lead, "lead");
    let list = |ids: &[RecordId]| Indexed {
        contacts: ids.to_vec(),
        ..Indexed::default()
    };

    let mut opp = record(&t, RecordKind::Opportunity, "opp");
    opp.refs.account = Some(acc.id);
    opp.indexed = list(&[RecordId::new(), con.id]);
    let mut opp_other_contacts = record(&t, RecordKind::Opportunity, "opp-2");
    opp_other_contacts.indexed = list(&[RecordId::new()]);
    let mut opp_by_column = record(&t, RecordKind::Opportunity, "opp-3");
    opp_by_column.refs.contact = Some(con.id);
    // Only opportunities carry a contact list; one given to another kind is not kept.
    let mut lead_with_list = record(&t, RecordKind::Lead, "lead-2");
    lead_with_list.indexed = list(&[con.id]);
    let mut eng = engagement(&t, "eng", Some(minute(0)));
    eng.refs = Refs {
        account: Some(acc.id),
        contact: Some(con.id),
        lead: Some(lead.id),
        opportunity: Some(opp.id),
        ..Refs::default()
    };
    // Hidden records still reference: a merge must repoint them too.
    eng.deleted_at = Some(minute(1));
    let mut con2 = record(&t, RecordKind::Contact, "con-2");
    con2.refs.account = Some(acc.id);
    con2.merged_into = Some(con.id);
    let mut foreign = record(&other, RecordKind::Contact, "con");
    foreign.refs.account = Some(acc.id);
    let mut foreign_opp = record(&other, RecordKind::Opportunity, "opp");
    foreign_opp.indexed = list(&[con.id]);
    insert_all(
        store,
        &[
            acc.clone(),
            con.clone(),
            lead.clone(),
            opp.clone(),
            opp_other_contacts,
            opp_by_column.clone(),
            lead_with_list,
            eng.clone(),
            con2.clone(),
        ],
    )
    .await;
    insert_all(store, &[foreign, foreign_opp]).await;

    let cases = [
        (RecordKind::Account, acc.id, vec![opp.id, eng.id, con2.id]),
        (
            RecordKind::Contact,
            con.id,
            vec![opp.id, opp_by_column.id, eng.id],
        ),
        (RecordKind::Lead, lead.id, vec![eng.id]),
        (RecordKind::Opportunity, opp.id, vec![eng.id]),
        (RecordKind::Engagement, eng.id, vec![]),
        (RecordKind::Account, RecordId::new(), vec![]),
    ];
    each_session!(store, tx, {
        for (kind, target, want) in &cases {
            let got = tx.records_referencing(t.org, *kind, *target).await.unwrap();
            assert_eq!(sorted(ids(&got)), sorted(want.clone()), "{kind:?}");
        }
    });
    let mut tx = read(store).await;
    let got = tx
        .records_referencing(t.org, RecordKind::Contact, con.id)
        .await
        .unwrap();
    assert_eq!(
        got.iter().find(|r| r.id == eng.id),
        Some(&eng),
        "whole rows"
    );
}
