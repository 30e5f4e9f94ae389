//! The contract of what surrounds the records: orgs, connections, tokens, shared settings,
//! and the outbox, whose order readers rely on to never miss a change.

use crate::fixtures::*;
use liaison_domain::scope::ScopeSet;
use liaison_domain::*;
use liaison_store::*;
use std::sync::Mutex;
use std::time::Duration;

pub async fn events_in_order<S: Store>(store: &S) {
    let t = tenant(store).await;
    let other = tenant(store).await;
    let actions = [
        EventAction::Created,
        EventAction::Updated,
        EventAction::Deleted,
        EventAction::Restored,
        EventAction::Merged,
    ];
    let mut sent: Vec<Event> = actions
        .into_iter()
        .enumerate()
        .map(|(i, action)| Event {
            action,
            at: minute(i as i64),
            ..event(t.org, "engagement")
        })
        .collect();
    sent[1].before = Some("{\"b\" : 2 }".into());
    sent[2].after = None;
    sent[3].entity = "crm_user".into();
    let foreign = event(other.org, "account");

    let mut tx = begin(store).await;
    for e in &sent[..3] {
        tx.append_event(e).await.unwrap();
    }
    tx.append_event(&foreign).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(store).await;
    for e in &sent[3..] {
        tx.append_event(e).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    let got = tx.list_events(t.org, 0, 100).await.unwrap();
    assert_eq!(got.len(), sent.len());
    for pair in got.windows(2) {
        assert!(pair[0].seq < pair[1].seq, "seq strictly increases");
    }
    for (g, s) in got.iter().zip(&sent) {
        assert_eq!(
            g,
            &Event {
                seq: g.seq,
                ..s.clone()
            },
            "in append order, intact"
        );
    }
    let seqs: Vec<i64> = got.iter().map(|e| e.seq).collect();
    let after_first = tx.list_events(t.org, seqs[0], 100).await.unwrap();
    assert_eq!(after_first, got[1..].to_vec());
    let limited = tx.list_events(t.org, 0, 2).await.unwrap();
    assert_eq!(limited, got[..2].to_vec());
    let middle = tx.list_events(t.org, seqs[1], 2).await.unwrap();
    assert_eq!(middle, got[2..4].to_vec());
    assert!(tx.list_events(t.org, seqs[4], 10).await.unwrap().is_empty());
    let theirs = tx.list_events(other.org, 0, 10).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(
        theirs[0],
        Event {
            seq: theirs[0].seq,
            ..foreign
        }
    );
}

/// A reader pages the outbox by `seq`; if a transaction could commit an event numbered below
/// one already visible, a reader already past that number would never see it. So `seq` must
/// follow commit order, even when the later committer appended first.
pub async fn events_follow_commit_order<S: Store>(store: &S) {
    // A feed reads events after the last seq it saw, so what is visible must always be a
    // prefix of the final order: a reader must never see seq N+1 while N is still to come.
    // A slow transaction appends first and commits last, while a reader polls throughout.
    let t = tenant(store).await;
    let done = std::sync::atomic::AtomicBool::new(false);
    let seen = Mutex::new(Vec::<Vec<EventId>>::new());
    let visible = || async {
        let mut tx = read(store).await;
        tx.list_events(t.org, 0, 10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<EventId>>()
    };
    let unit = |pause_before: u64, pause_inside: u64| async move {
        tokio::time::sleep(Duration::from_millis(pause_before)).await;
        let e = event(t.org, "engagement");
        let mut tx = begin(store).await;
        tx.append_event(&e).await.unwrap();
        tokio::time::sleep(Duration::from_millis(pause_inside)).await;
        tx.commit().await.unwrap();
        // Acknowledged means visible.
        assert!(
            visible().await.contains(&e.id),
            "a committed event is visible"
        );
    };
    let writers = async {
        tokio::join!(unit(0, 300), unit(50, 0));
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let reader = async {
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let now = visible().await;
            seen.lock().unwrap().push(now);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::join!(writers, reader);
    let fin = visible().await;
    assert_eq!(fin.len(), 2);
    for observed in seen.into_inner().unwrap() {
        assert_eq!(
            observed[..],
            fin[..observed.len()],
            "saw {observed:?} before {fin:?}"
        );
    }
}

pub async fn a_dropped_unit_leaves_concurrent_ones_intact<S: Store>(store: &S) {
    // Writers queued behind a unit that is then abandoned still land, and nothing of the
    // abandoned unit does, whichever way the backend groups commits.
    let t = tenant(store).await;
    let abandoned = event(t.org, "engagement");
    let (kept_a, kept_b) = (event(t.org, "engagement"), event(t.org, "engagement"));
    let first = async {
        let mut tx = begin(store).await;
        tx.append_event(&abandoned).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        drop(tx);
    };
    let later = |e: &Event, pause: u64| {
        let e = e.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(pause)).await;
            let mut tx = begin(store).await;
            tx.append_event(&e).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    tokio::join!(first, later(&kept_a, 30), later(&kept_b, 60));
    let mut tx = read(store).await;
    let ids: Vec<EventId> = tx
        .list_events(t.org, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&kept_a.id) && ids.contains(&kept_b.id));
}

pub async fn orgs_and_connections<S: Store>(store: &S) {
    let mut tx = read(store).await;
    let before = tx.count_orgs().await.unwrap();
    drop(tx);
    let org = Org {
        id: OrgId::new(),
        name: format!("Acme {}", uuid::Uuid::now_v7()),
        created_at: minute(0),
    };
    let conn = Connection {
        id: ConnectionId::new(),
        org: org.id,
        name: "Salesforce".into(),
        created_at: minute(1),
    };
    let mut tx = begin(store).await;
    tx.insert_org(&org).await.unwrap();
    tx.insert_connection(&conn).await.unwrap();
    tx.commit().await.unwrap();

    each_session!(store, tx, {
        assert_eq!(tx.count_orgs().await.unwrap(), before + 1);
        assert_eq!(tx.get_org(org.id).await.unwrap(), Some(org.clone()));
        assert_eq!(tx.get_org(OrgId::new()).await.unwrap(), None);
        assert_eq!(
            tx.get_org_by_name(&org.name).await.unwrap(),
            Some(org.clone())
        );
        let upper = org.name.to_uppercase();
        assert_eq!(tx.get_org_by_name(&upper).await.unwrap(), None);
        let got = tx
            .get_connection_by_name(org.id, "Salesforce")
            .await
            .unwrap();
        assert_eq!(got, Some(conn.clone()));
        let got = tx.get_connection_by_name(org.id, "HubSpot").await.unwrap();
        assert_eq!(got, None);
        let got = tx.get_connection_by_name(OrgId::new(), "Salesforce").await;
        assert_eq!(got.unwrap(), None);
    });

    let mut tx = begin(store).await;
    let same_name = Org {
        id: OrgId::new(),
        ..org.clone()
    };
    assert_conflict(tx.insert_org(&same_name).await, "org name taken");
    drop(tx);
    let mut tx = begin(store).await;
    let same_conn = Connection {
        id: ConnectionId::new(),
        ..conn.clone()
    };
    assert_conflict(
        tx.insert_connection(&same_conn).await,
        "connection name taken",
    );
    drop(tx);
    let other = tenant(store).await;
    let mut tx = begin(store).await;
    let theirs = Connection {
        id: ConnectionId::new(),
        org: other.org,
        ..conn.clone()
    };
    tx.insert_connection(&theirs)
        .await
        .expect("connection names are per org");
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(tx.count_orgs().await.unwrap(), before + 2);
}

pub async fn tokens<S: Store>(store: &S) {
    let t = tenant(store).await;
    let unique = || format!("sha256-{}", uuid::Uuid::now_v7().simple());
    let live = Token {
        created_at: minute(0),
        ..token(&t, &unique())
    };
    let revoked = Token {
        scopes: ScopeSet::parse("all").unwrap(),
        revoked_at: Some(minute(1)),
        rate_limit: std::num::NonZeroU32::new(7),
        ..token(&t, &unique())
    };
    // The largest limit a token may carry comes back whole.
    let fast = Token {
        rate_limit: std::num::NonZeroU32::new(u32::MAX),
        ..token(&t, &unique())
    };
    let mut tx = begin(store).await;
    tx.insert_token(&live).await.unwrap();
    tx.insert_token(&revoked).await.unwrap();
    tx.insert_token(&fast).await.unwrap();
    tx.commit().await.unwrap();

    each_session!(store, tx, {
        for tok in [&live, &revoked, &fast] {
            assert_eq!(tx.get_token(tok.id).await.unwrap().as_ref(), Some(tok));
            let by_hash = tx.get_token_by_hash(&tok.hash).await.unwrap();
            assert_eq!(by_hash.as_ref(), Some(tok));
        }
        assert_eq!(tx.get_token(TokenId::new()).await.unwrap(), None);
        assert_eq!(tx.get_token_by_hash(&unique()).await.unwrap(), None);
        let listed: Vec<Token> = tx
            .list_tokens()
            .await
            .unwrap()
            .into_iter()
            .filter(|k| k.org == t.org)
            .collect();
        assert_eq!(
            listed,
            by_key(vec![live.clone(), revoked.clone(), fast.clone()], |k| k.id)
        );
    });

    let mut tx = begin(store).await;
    assert!(
        tx.revoke_token(live.id, minute(5)).await.unwrap(),
        "first revoke"
    );
    assert!(
        !tx.revoke_token(live.id, minute(6)).await.unwrap(),
        "second revoke"
    );
    assert!(!tx.revoke_token(revoked.id, minute(6)).await.unwrap());
    assert!(!tx.revoke_token(TokenId::new(), minute(6)).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    let got = tx.get_token(live.id).await.unwrap().unwrap();
    assert_eq!(
        got.revoked_at,
        Some(minute(5)),
        "the first revocation stands"
    );
    let got = tx.get_token(revoked.id).await.unwrap().unwrap();
    assert_eq!(got.revoked_at, Some(minute(1)));
    drop(tx);

    let mut tx = begin(store).await;
    let copy = Token {
        id: TokenId::new(),
        ..live.clone()
    };
    assert_conflict(tx.insert_token(&copy).await, "hash taken");
}

pub async fn settings<S: Store>(store: &S) {
    let key = format!("cursor-key-{}", uuid::Uuid::now_v7());
    let mut tx = read(store).await;
    assert_eq!(tx.get_setting(&key).await.unwrap(), None);
    drop(tx);
    for value in ["first", "second"] {
        let mut tx = begin(store).await;
        tx.put_setting_if_absent(&key, value).await.unwrap();
        tx.commit().await.unwrap();
    }
    let other = format!("{key}-other");
    let mut tx = begin(store).await;
    tx.put_setting_if_absent(&other, "a").await.unwrap();
    tx.put_setting_if_absent(&other, "b").await.unwrap();
    assert_eq!(tx.get_setting(&other).await.unwrap().as_deref(), Some("a"));
    tx.commit().await.unwrap();
    each_session!(store, tx, {
        assert_eq!(
            tx.get_setting(&key).await.unwrap().as_deref(),
            Some("first")
        );
        assert_eq!(tx.get_setting(&other).await.unwrap().as_deref(), Some("a"));
    });
}

/// The outbox's span covers every organization's events, oldest to newest.
pub async fn outbox_span<S: Store>(store: &S) {
    let mut tx = read(store).await;
    let before = tx.outbox_span().await.unwrap();
    drop(tx);
    let (a, b) = (tenant(store).await, tenant(store).await);
    let mut tx = begin(store).await;
    tx.append_event(&event(a.org, "engagement")).await.unwrap();
    tx.append_event(&event(b.org, "account")).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    let (first, last) = tx.outbox_span().await.unwrap().expect("events");
    let newest = tx.list_events(b.org, 0, 10).await.unwrap()[0].seq;
    let oldest_mine = tx.list_events(a.org, 0, 10).await.unwrap()[0].seq;
    assert_eq!(last, newest, "the newest event closes the span");
    match before {
        None => assert_eq!(first, oldest_mine, "an empty outbox's first event opens it"),
        Some((was_first, was_last)) => {
            assert_eq!(first, was_first, "older events still open it");
            assert!(oldest_mine > was_last);
        }
    }
}

/// A migrated store is ready, and says what its connections are doing.
pub async fn readiness_and_pool_use<S: Store>(store: &S) {
    store.ready().await.expect("a migrated store is ready");
    let idle = store.pool_use();
    assert!(
        idle.max >= 1 && idle.open <= idle.max && idle.in_use <= idle.open,
        "{idle:?}"
    );
    let tx = read(store).await;
    let reading = store.pool_use();
    assert!(
        reading.in_use >= 1,
        "a read session holds a connection: {reading:?}"
    );
    assert!(
        reading.in_use <= reading.open && reading.open <= reading.max,
        "{reading:?}"
    );
    drop(tx);
}
