//! What an export reads and an import checks: every organization, connection and setting,
//! engagement types and participants page by page (removed ones too), and which events the
//! outbox already holds.

use crate::fixtures::*;
use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::prelude::*;
use liaison_store::*;

pub async fn what_an_export_reads<S: Store>(store: &S) {
    let (a, b) = (tenant(store).await, tenant(store).await);
    let second = Connection {
        id: ConnectionId::new(),
        org: a.org,
        name: "second".into(),
        created_at: minute(3),
    };
    let key = format!("export-{}", uuid::Uuid::now_v7().simple());
    let types: Vec<EngagementType> = (0..5)
        .map(|i| engagement_type(&a, Some(&format!("T-{i}")), &format!("type {i}")))
        .collect();
    let elsewhere = engagement_type(&b, Some("T-0"), "type 0");
    let parent = engagement(&a, "e", None);
    let mut people: Vec<Participant> = (0..3)
        .map(|_| participant(&a, &parent, CrmUserId::new()))
        .collect();
    people[1].deleted_at = Some(minute(5));
    let on_b = participant(&b, &engagement(&b, "e", None), CrmUserId::new());
    let (mine, theirs) = (event(a.org, "engagement"), event(b.org, "account"));
    let mut tx = begin(store).await;
    tx.insert_connection(&second).await.unwrap();
    tx.put_setting(&key, "one").await.unwrap();
    tx.put_setting(&key, "two").await.unwrap();
    tx.put_setting_if_absent(&format!("{key}-b"), "b")
        .await
        .unwrap();
    for t in types.iter().chain([&elsewhere]) {
        tx.put_engagement_type(t).await.unwrap();
    }
    for p in people.iter().chain([&on_b]) {
        tx.put_participant(p, true).await.unwrap();
    }
    tx.append_event(&mine).await.unwrap();
    tx.append_event(&theirs).await.unwrap();
    tx.commit().await.unwrap();

    each_session!(store, tx, {
        let orgs = tx.list_orgs().await.unwrap();
        assert!(orgs.windows(2).all(|w| w[0].id < w[1].id), "in id order");
        assert!(orgs.iter().any(|o| o.id == a.org) && orgs.iter().any(|o| o.id == b.org));
        assert_eq!(orgs.len() as i64, tx.count_orgs().await.unwrap());

        let conns = tx.list_connections(a.org).await.unwrap();
        assert_eq!(
            conns.iter().map(|c| c.id).collect::<Vec<_>>(),
            [a.connection, second.id],
            "the organization's own, in id order"
        );
        assert_eq!(conns[1], second);
        assert_eq!(tx.list_connections(OrgId::new()).await.unwrap(), []);

        let settings = tx.list_settings().await.unwrap();
        assert!(settings.windows(2).all(|w| w[0].0 < w[1].0), "in key order");
        let mine_only: Vec<_> = settings
            .iter()
            .filter(|(k, _)| k.starts_with(&key))
            .cloned()
            .collect();
        assert_eq!(
            mine_only,
            [
                (key.clone(), "two".to_owned()),
                (format!("{key}-b"), "b".to_owned())
            ],
            "put_setting replaces"
        );

        let mut seen = vec![];
        let mut after = None;
        loop {
            let page = tx.list_engagement_types(a.org, after, 2).await.unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            seen.extend(page);
        }
        assert_eq!(
            seen, types,
            "every type of the organization once, in id order"
        );

        let ids: Vec<ParticipantId> = people.iter().map(|p| p.id).chain([on_b.id]).collect();
        let mut got = tx.get_participants(a.org, &ids).await.unwrap();
        got.sort_by_key(|p| p.id);
        assert_eq!(
            got, people,
            "removed ones too, and none of another organization"
        );
        assert_eq!(tx.get_participants(a.org, &[]).await.unwrap(), []);
        let mut q = ParticipantQuery {
            limit: 10,
            ..ParticipantQuery::default()
        };
        let live = tx
            .list_participants(a.org, ParentKind::Engagement, &q)
            .await
            .unwrap();
        assert_eq!(live.len(), 2);
        q.include_deleted = true;
        let every = tx
            .list_participants(a.org, ParentKind::Engagement, &q)
            .await
            .unwrap();
        assert_eq!(every, people);

        let unknown = EventId::new();
        let mut known = tx
            .known_events(&[mine.id, unknown, theirs.id])
            .await
            .unwrap();
        known.sort();
        let mut want = vec![mine.id, theirs.id];
        want.sort();
        assert_eq!(known, want);
        assert_eq!(tx.known_events(&[]).await.unwrap(), []);
    });

    // Refreshing the planner's statistics, while a session is open, changes no answer.
    let mut open = store.read().await.unwrap();
    store.refresh_statistics().await.unwrap();
    let mut tx = store.read().await.unwrap();
    for tx in [&mut open, &mut tx] {
        let mut got = tx.get_participants(a.org, &[people[0].id]).await.unwrap();
        assert_eq!(got.pop().as_ref(), Some(&people[0]));
    }
}
