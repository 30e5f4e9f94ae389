//! The contract of the people around records: engagement types, CRM users, workspace users,
//! participants, and a rep's engagements reached through them.

use crate::fixtures::*;
use liaison_domain::model::*;
use liaison_domain::rules::{email_key, name_key};
use liaison_domain::values::ActivityType;
use liaison_domain::*;
use liaison_store::*;

pub async fn user_engagements<S: Store>(store: &S) {
    let t = tenant(store).await;
    let rep = UserId::new();
    let linked = crm_user(&t, "crm-1", Some(rep));
    let also_linked = crm_user(&t, "crm-2", Some(rep));
    let unlinked = crm_user(&t, "crm-3", None);
    let someone_else = crm_user(&t, "crm-4", Some(UserId::new()));

    let e1 = engagement(&t, "e1", Some(minute(10)));
    let e2 = engagement(&t, "e2", Some(minute(11)));
    let e3 = engagement(&t, "e3", Some(minute(11)));
    let e9 = engagement(&t, "e9", Some(minute(16)));
    let only_unlinked = engagement(&t, "x1", Some(minute(12)));
    let left = engagement(&t, "x2", Some(minute(13)));
    let mut deleted = engagement(&t, "x3", Some(minute(14)));
    deleted.deleted_at = Some(minute(20));
    let mut merged = engagement(&t, "x4", Some(minute(15)));
    merged.merged_into = Some(e1.id);
    let theirs = engagement(&t, "x5", Some(minute(9)));
    let opp = record(&t, RecordKind::Opportunity, "o1");

    let mut gone = participant(&t, &left, linked.id);
    gone.deleted_at = Some(minute(20));
    let participants = [
        participant(&t, &e1, linked.id),
        participant(&t, &e2, also_linked.id),
        // Two of the rep's CRM users on one engagement still list it once.
        participant(&t, &e3, linked.id),
        participant(&t, &e3, also_linked.id),
        participant(&t, &e9, linked.id),
        participant(&t, &only_unlinked, unlinked.id),
        gone,
        participant(&t, &deleted, linked.id),
        participant(&t, &merged, linked.id),
        participant(&t, &theirs, someone_else.id),
        participant(&t, &opp, linked.id),
    ];
    let rows = [
        &e1,
        &e2,
        &e3,
        &e9,
        &only_unlinked,
        &left,
        &deleted,
        &merged,
        &theirs,
        &opp,
    ];
    let mut tx = begin(store).await;
    for r in rows {
        tx.insert_record(r).await.unwrap();
    }
    for u in [&linked, &also_linked, &unlinked, &someone_else] {
        tx.put_crm_user(u, true).await.unwrap();
    }
    for p in &participants {
        tx.put_participant(p, true).await.unwrap();
    }
    tx.commit().await.unwrap();

    let (newer_tie, older_tie) = if e2.id > e3.id {
        (&e2, &e3)
    } else {
        (&e3, &e2)
    };
    let key = |r: &RecordRow| {
        Some(Key {
            sort_at: r.sort_at,
            id: r.id.uuid(),
        })
    };
    let q = |after, before, limit| UserEngagementQuery {
        user: rep,
        after,
        before,
        limit,
    };
    let cases = [
        (
            "all",
            q(None, None, 10),
            vec![&e9, newer_tie, older_tie, &e1],
        ),
        ("first page", q(None, None, 2), vec![&e9, newer_tie]),
        (
            "next page",
            q(key(newer_tie), None, 2),
            vec![older_tie, &e1],
        ),
        ("past the end", q(key(&e1), None, 2), vec![]),
        (
            "previous page",
            q(None, key(older_tie), 2),
            vec![&e9, newer_tie],
        ),
        // Before a key means the nearest newer ones, still newest first.
        (
            "nearest before",
            q(None, key(&e1), 2),
            vec![newer_tie, older_tie],
        ),
        ("one before", q(None, key(older_tie), 1), vec![newer_tie]),
        ("before the start", q(None, key(&e9), 2), vec![]),
        (
            "between",
            q(key(&e9), key(&e1), 10),
            vec![newer_tie, older_tie],
        ),
    ];
    each_session!(store, tx, {
        for (name, query, want) in &cases {
            let got = tx.list_user_engagements(t.org, query).await.unwrap();
            let want: Vec<RecordRow> = want.iter().map(|r| (*r).clone()).collect();
            assert_eq!(got, want, "{name}");
        }
        let nobody = UserEngagementQuery {
            user: UserId::new(),
            ..q(None, None, 10)
        };
        assert!(
            tx.list_user_engagements(t.org, &nobody)
                .await
                .unwrap()
                .is_empty()
        );
    });
}

pub async fn engagement_types<S: Store>(store: &S) {
    let t = tenant(store).await;
    let other = Tenant {
        org: t.org,
        connection: ConnectionId::new(),
    };
    let by_ext = engagement_type(&t, Some("T-1"), "Meeting");
    let mut by_name = engagement_type(&t, None, "Call");
    by_name.activity_type = ActivityType::Call;
    let named_call = engagement_type(&t, Some("T-2"), "Call");
    let elsewhere = engagement_type(&other, Some("T-1"), "Meeting");
    let mut tx = begin(store).await;
    for et in [&by_ext, &by_name, &named_call, &elsewhere] {
        tx.put_engagement_type(et).await.unwrap();
    }
    tx.commit().await.unwrap();

    each_session!(store, tx, {
        let c = t.connection;
        for (ext, name, want) in [
            // An external id decides alone: the name is not consulted.
            (Some("T-1"), "anything", Some(&by_ext)),
            (Some("T-9"), "Meeting", None),
            (None, "Call", Some(&by_name)),
            // By name only among types without an external id.
            (None, "Meeting", None),
            (None, "call", None),
        ] {
            let got = tx.find_engagement_type(t.org, c, ext, name).await.unwrap();
            assert_eq!(got.as_ref(), want, "{ext:?} {name}");
        }
        let got = tx
            .find_engagement_type(t.org, other.connection, Some("T-1"), "Meeting")
            .await
            .unwrap();
        assert_eq!(got, Some(elsewhere.clone()), "per connection");
        let mut got = tx
            .get_engagement_types(t.org, &[by_name.id, by_ext.id, EngagementTypeId::new()])
            .await
            .unwrap();
        got.sort_by_key(|e| e.id);
        assert_eq!(got, vec![by_ext.clone(), by_name.clone()]);
        assert!(
            tx.get_engagement_types(t.org, &[])
                .await
                .unwrap()
                .is_empty()
        );
    });

    let mut tx = begin(store).await;
    assert_conflict(
        tx.put_engagement_type(&engagement_type(&t, Some("T-1"), "New"))
            .await,
        "external id taken",
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert_conflict(
        tx.put_engagement_type(&engagement_type(&t, None, "Call"))
            .await,
        "name taken among types without external id",
    );
    drop(tx);
    let mut tx = begin(store).await;
    let meeting = engagement_type(&t, None, "Meeting");
    tx.put_engagement_type(&meeting)
        .await
        .expect("a name held only by a type with an external id is free");
    tx.commit().await.unwrap();

    // Putting an existing id updates what a sync may change and keeps when it was created.
    let renamed = EngagementType {
        external_id: Some("T-3".into()),
        name: "Phone".into(),
        activity_type: ActivityType::Text,
        created_at: minute(-50),
        updated_at: minute(50),
        ..by_name.clone()
    };
    let mut tx = begin(store).await;
    tx.put_engagement_type(&renamed).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    let got = tx.get_engagement_types(t.org, &[by_name.id]).await.unwrap();
    let want = EngagementType {
        created_at: by_name.created_at,
        ..renamed
    };
    assert_eq!(got, vec![want]);
}

pub async fn crm_users<S: Store>(store: &S) {
    let t = tenant(store).await;
    let rep = UserId::new();
    let mut a = crm_user(&t, "crm-a", Some(rep));
    a.email = Some("  Ada@Example.COM ".into());
    a.name = Some("Ada   Lovelace".into());
    a.created_at = minute(0);
    a.updated_at = minute(1);
    let mut b = crm_user(&t, "crm-b", None);
    b.email = Some("bob@example.com".into());
    let mut c = crm_user(&t, "crm-c", None);
    c.name = Some("ada lovelace".into());
    let mut tx = begin(store).await;
    for u in [&a, &b, &c] {
        tx.put_crm_user(u, true).await.unwrap();
    }
    tx.commit().await.unwrap();

    let ada_email = email_key("ada@example.com");
    let ada_name = name_key("Ada Lovelace");
    let bob_email = email_key("Bob@example.com");
    each_session!(store, tx, {
        let mut got = tx
            .get_crm_users(t.org, &[b.id, a.id, CrmUserId::new()])
            .await
            .unwrap();
        got.sort_by_key(|u| u.id);
        assert_eq!(got, by_key(vec![a.clone(), b.clone()], |u| u.id));
        assert!(tx.get_crm_users(t.org, &[]).await.unwrap().is_empty());
        let by_ext = |ext: &'static str| (t.connection, ext);
        for ((connection, ext), want) in [
            (by_ext("crm-a"), Some(&a)),
            (by_ext("CRM-A"), None),
            ((ConnectionId::new(), "crm-a"), None),
        ] {
            let got = tx
                .get_crm_user_by_external(t.org, connection, ext)
                .await
                .unwrap();
            assert_eq!(got.as_ref(), want, "{ext}");
        }
        // Keys are matched in their folded form: trimmed, lower-case, white space collapsed.
        for (ext, email, name, want) in [
            (Some("crm-b"), None, None, vec![&b]),
            (None, ada_email.as_deref(), None, vec![&a]),
            (None, bob_email.as_deref(), None, vec![&b]),
            (None, None, ada_name.as_deref(), vec![&a, &c]),
            (Some("crm-c"), ada_email.as_deref(), None, vec![&a, &c]),
            (None, None, None, vec![]),
            (Some("nobody"), Some("nobody"), Some("nobody"), vec![]),
        ] {
            let got = tx
                .crm_users_matching(t.org, ext, email, name)
                .await
                .unwrap();
            let want = by_key(want.into_iter().cloned().collect(), |u| u.id);
            assert_eq!(got, want, "{ext:?} {email:?} {name:?}");
        }
    });

    // Updating refreshes the match keys along with the fields.
    let a2 = CrmUser {
        email: None,
        name: Some("Ada King".into()),
        user: None,
        updated_at: minute(5),
        ..a.clone()
    };
    let mut tx = begin(store).await;
    tx.put_crm_user(&a2, false).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(tx.get_crm_users(t.org, &[a.id]).await.unwrap(), vec![a2]);
    let by_name = tx
        .crm_users_matching(t.org, None, ada_email.as_deref(), ada_name.as_deref())
        .await
        .unwrap();
    assert_eq!(by_name, vec![c.clone()]);
    let king = tx
        .crm_users_matching(t.org, None, None, name_key("ada KING").as_deref())
        .await
        .unwrap();
    assert_eq!(king.len(), 1);

    let all = sorted(vec![a.id, b.id, c.id]);
    let first = tx.list_crm_users(t.org, None, 2).await.unwrap();
    assert_eq!(first.iter().map(|u| u.id).collect::<Vec<_>>(), all[..2]);
    let rest = tx
        .list_crm_users(t.org, Some(first[1].id), 2)
        .await
        .unwrap();
    assert_eq!(rest.iter().map(|u| u.id).collect::<Vec<_>>(), all[2..]);
    let none = tx.list_crm_users(t.org, Some(all[2]), 2).await.unwrap();
    assert!(none.is_empty());
    drop(tx);

    let mut tx = begin(store).await;
    assert_conflict(
        tx.put_crm_user(&crm_user(&t, "crm-b", None), true).await,
        "external id taken",
    );
    drop(tx);
    let mut tx = begin(store).await;
    let elsewhere = Tenant {
        org: t.org,
        connection: ConnectionId::new(),
    };
    tx.put_crm_user(&crm_user(&elsewhere, "crm-b", None), true)
        .await
        .expect("external ids are per connection");
    tx.commit().await.unwrap();
}

pub async fn workspace_users<S: Store>(store: &S) {
    let t = tenant(store).await;
    let full = WorkspaceUser {
        email: Some("Rep@Example.com".into()),
        phone_number: Some("+1 555 0100".into()),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        member_team_id: Some("team-1".into()),
        coach_team_ids: vec!["team-2".into(), "team-3".into()],
        external_id: Some("rep-1".into()),
        disabled: true,
        billable: true,
        is_admin: true,
        contact_settings: Some(serde_json::json!({"sms": true, "hours": [9, 17.5], "x": null})),
        created_at: minute(0),
        updated_at: minute(1),
        ..workspace_user(t.org)
    };
    let bare = workspace_user(t.org);
    let bare2 = workspace_user(t.org);
    let mut tx = begin(store).await;
    for u in [&full, &bare, &bare2] {
        tx.put_user(u, true)
            .await
            .expect("users without an external id never collide");
    }
    tx.commit().await.unwrap();

    each_session!(store, tx, {
        for u in [&full, &bare, &bare2] {
            assert_eq!(tx.get_user(t.org, u.id).await.unwrap().as_ref(), Some(u));
        }
        assert_eq!(tx.get_user(t.org, UserId::new()).await.unwrap(), None);
        for (ext, email, name, want) in [
            (Some("rep-1"), None, None, vec![&full]),
            (None, email_key("rep@example.COM"), None, vec![&full]),
            (None, None, name_key("ada  LOVELACE"), vec![&full]),
            (Some("rep-2"), None, None, vec![]),
            (None, None, None, vec![]),
        ] {
            let got = tx
                .users_matching(t.org, ext, email.as_deref(), name.as_deref())
                .await
                .unwrap();
            assert_eq!(got, by_key(want.into_iter().cloned().collect(), |u| u.id));
        }
    });

    // Every field flips: Some to None, true to false, and the other way round.
    let emptied = WorkspaceUser {
        id: full.id,
        created_at: minute(3),
        updated_at: minute(4),
        ..workspace_user(t.org)
    };
    let filled = WorkspaceUser {
        id: bare.id,
        external_id: Some("rep-2".into()),
        ..full.clone()
    };
    let mut tx = begin(store).await;
    tx.put_user(&emptied, false).await.unwrap();
    tx.put_user(&filled, false).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        tx.get_user(t.org, full.id).await.unwrap(),
        Some(emptied.clone())
    );
    assert_eq!(
        tx.get_user(t.org, bare.id).await.unwrap(),
        Some(filled.clone())
    );
    let stale = tx
        .users_matching(t.org, Some("rep-1"), None, None)
        .await
        .unwrap();
    assert!(stale.is_empty(), "the old external id is released");

    let all = sorted(vec![full.id, bare.id, bare2.id]);
    let list = |disabled, external_id: Option<&str>, after, limit| UserQuery {
        disabled,
        external_id: external_id.map(Into::into),
        after,
        limit,
    };
    for (name, q, want) in [
        ("all", list(None, None, None, 10), all.clone()),
        ("first page", list(None, None, None, 2), all[..2].to_vec()),
        (
            "next page",
            list(None, None, Some(all[1]), 2),
            all[2..].to_vec(),
        ),
        ("disabled", list(Some(true), None, None, 10), vec![bare.id]),
        (
            "enabled",
            list(Some(false), None, None, 10),
            sorted(vec![full.id, bare2.id]),
        ),
        (
            "external id",
            list(None, Some("rep-2"), None, 10),
            vec![bare.id],
        ),
        ("no such id", list(None, Some("rep-1"), None, 10), vec![]),
    ] {
        let got = tx.list_users(t.org, &q).await.unwrap();
        assert_eq!(got.iter().map(|u| u.id).collect::<Vec<_>>(), want, "{name}");
    }
    drop(tx);

    let mut tx = begin(store).await;
    let mut taken = workspace_user(t.org);
    taken.external_id = Some("rep-2".into());
    assert_conflict(
        tx.put_user(&taken, true).await,
        "insert with a taken external id",
    );
    drop(tx);
    let mut tx = begin(store).await;
    let moved = WorkspaceUser {
        external_id: Some("rep-2".into()),
        ..bare2.clone()
    };
    assert_conflict(
        tx.put_user(&moved, false).await,
        "update onto a taken external id",
    );
    drop(tx);
    let other = tenant(store).await;
    let mut tx = begin(store).await;
    let mut theirs = workspace_user(other.org);
    theirs.external_id = Some("rep-2".into());
    tx.put_user(&theirs, true)
        .await
        .expect("external ids are per org");
    tx.commit().await.unwrap();
}

pub async fn participants<S: Store>(store: &S) {
    let t = tenant(store).await;
    let engagements: Vec<RecordRow> = (0..3)
        .map(|i| engagement(&t, &format!("e{i}"), Some(minute(i))))
        .collect();
    let opp = record(&t, RecordKind::Opportunity, "o");
    let users: Vec<CrmUserId> = (0..2).map(|_| CrmUserId::new()).collect();
    let mut all = vec![];
    for e in &engagements {
        for u in &users {
            all.push(participant(&t, e, *u));
        }
    }
    all[0].name = Some("Ada".into());
    all[0].share = Some(share(0.25));
    all[1].share = Some(share(1.0));
    all[1].deleted_at = Some(minute(9));
    let on_opp = Participant {
        share: Some(share(0.0)),
        ..participant(&t, &opp, users[0])
    };
    all.push(on_opp.clone());
    let mut tx = begin(store).await;
    for p in &all {
        tx.put_participant(p, true).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(on_opp.parent_kind, ParentKind::Opportunity);

    each_session!(store, tx, {
        for p in &all {
            assert_eq!(
                tx.get_participant(t.org, p.id).await.unwrap().as_ref(),
                Some(p)
            );
        }
        let missing = tx.get_participant(t.org, ParticipantId::new()).await;
        assert_eq!(missing.unwrap(), None);
        let e0 = engagements[0].id;
        let found = tx.find_participant(t.org, e0, users[0]).await.unwrap();
        assert_eq!(found.as_ref(), Some(&all[0]));
        let deleted = tx.find_participant(t.org, e0, users[1]).await.unwrap();
        assert_eq!(
            deleted.as_ref(),
            Some(&all[1]),
            "finding includes deleted ones"
        );
        let found = tx.find_participant(t.org, opp.id, users[0]).await.unwrap();
        assert_eq!(found.as_ref(), Some(&on_opp));
        let none = tx.find_participant(t.org, opp.id, users[1]).await.unwrap();
        assert_eq!(none, None);
    });

    let mut tx = read(store).await;
    let parents = [engagements[0].id, engagements[2].id, opp.id];
    let got = tx.participants_of(t.org, &parents).await.unwrap();
    let want: Vec<Participant> = all
        .iter()
        .filter(|p| parents.contains(&p.parent) && p.deleted_at.is_none())
        .cloned()
        .collect();
    assert_eq!(got, by_key(want, |p| p.id), "live ones, in creation order");
    assert!(tx.participants_of(t.org, &[]).await.unwrap().is_empty());

    let live_engagement: Vec<ParticipantId> = sorted(
        all.iter()
            .filter(|p| p.parent_kind == ParentKind::Engagement && p.deleted_at.is_none())
            .map(|p| p.id)
            .collect(),
    );
    assert_eq!(live_engagement.len(), 5);
    let pq = |parent, crm_user, after, limit| ParticipantQuery {
        parent,
        crm_user,
        include_deleted: false,
        after,
        limit,
    };
    let e0 = Some(engagements[0].id);
    for (name, kind, q, want) in [
        (
            "all",
            ParentKind::Engagement,
            pq(None, None, None, 10),
            live_engagement.clone(),
        ),
        (
            "page",
            ParentKind::Engagement,
            pq(None, None, None, 2),
            live_engagement[..2].to_vec(),
        ),
        (
            "next page",
            ParentKind::Engagement,
            pq(None, None, Some(live_engagement[1]), 2),
            live_engagement[2..4].to_vec(),
        ),
        (
            "opportunity",
            ParentKind::Opportunity,
            pq(None, None, None, 10),
            vec![on_opp.id],
        ),
        (
            "parent",
            ParentKind::Engagement,
            pq(e0, None, None, 10),
            vec![all[0].id],
        ),
        (
            "crm user",
            ParentKind::Engagement,
            pq(None, Some(users[1]), None, 10),
            sorted(vec![all[3].id, all[5].id]),
        ),
        (
            "wrong kind",
            ParentKind::Opportunity,
            pq(e0, None, None, 10),
            vec![],
        ),
    ] {
        let got = tx.list_participants(t.org, kind, &q).await.unwrap();
        assert_eq!(got.iter().map(|p| p.id).collect::<Vec<_>>(), want, "{name}");
    }
    drop(tx);

    // Updating flips every optional field.
    let emptied = Participant {
        name: None,
        share: None,
        deleted_at: Some(minute(30)),
        updated_at: minute(31),
        ..all[0].clone()
    };
    let restored = Participant {
        name: Some("Bob".into()),
        share: Some(share(0.5)),
        deleted_at: None,
        updated_at: minute(32),
        ..all[1].clone()
    };
    let mut tx = begin(store).await;
    tx.put_participant(&emptied, false).await.unwrap();
    tx.put_participant(&restored, false).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        tx.get_participant(t.org, all[0].id).await.unwrap(),
        Some(emptied)
    );
    assert_eq!(
        tx.get_participant(t.org, all[1].id).await.unwrap(),
        Some(restored.clone())
    );
    let got = tx
        .participants_of(t.org, &[engagements[0].id])
        .await
        .unwrap();
    assert_eq!(got, vec![restored]);
    drop(tx);

    // The pair is unique whether or not the holder is deleted.
    let mut tx = begin(store).await;
    assert_conflict(
        tx.put_participant(&participant(&t, &engagements[0], users[0]), true)
            .await,
        "pair taken by a deleted participant",
    );
    drop(tx);
    let mut tx = begin(store).await;
    let moved = Participant {
        crm_user: users[0],
        ..all[3].clone()
    };
    assert_conflict(
        tx.put_participant(&moved, false).await,
        "update onto a taken pair",
    );
}
