//! The mobile events contract: events round-trip, lists filter by time, code, user and
//! recording and page oldest first, and another organization sees nothing.

use crate::fixtures::*;
use liaison_domain::model::{EventCode, MobileEvent, deep_link_payload};
use liaison_domain::*;
use liaison_store::*;

pub fn mobile_event(org: OrgId, user: UserId, code: EventCode, at: i64) -> MobileEvent {
    MobileEvent {
        id: MobileEventId::new(),
        org,
        user,
        recording: None,
        external_opportunity_ids: vec![],
        code,
        payload: deep_link_payload("siro://record?appointmentId=a1"),
        created_at: minute(at),
    }
}

pub async fn mobile_events_round_trip_and_filter<S: Store>(store: &S) {
    let t = tenant(store).await;
    let other = tenant(store).await;
    let (ann, bob) = (UserId::new(), UserId::new());
    let recording = RecordingId::new();
    let mut received = mobile_event(t.org, ann, EventCode::DeeplinkReceived, 1);
    received.recording = Some(recording);
    received.external_opportunity_ids = vec!["opp-1".into(), "opp 2".into()];
    let mut consumed = mobile_event(t.org, ann, EventCode::DeeplinkConsumed, 1);
    consumed.recording = Some(recording);
    let mut online = mobile_event(t.org, bob, EventCode::NetworkStatusChange, 2);
    online.payload = serde_json::json!({"value": "online"})
        .as_object()
        .cloned()
        .unwrap();
    let late = mobile_event(t.org, ann, EventCode::DeeplinkReceived, 3);
    let foreign = mobile_event(other.org, ann, EventCode::DeeplinkReceived, 1);
    let mut tx = begin(store).await;
    for e in [&received, &consumed, &online, &late, &foreign] {
        tx.insert_mobile_event(e).await.unwrap();
    }
    tx.commit().await.unwrap();

    // Oldest first; two at one time in id order.
    let mut first_two = [received.clone(), consumed.clone()];
    first_two.sort_by_key(|e| e.id);
    let all = |q: MobileEventQuery| MobileEventQuery { limit: 10, ..q };
    each_session!(store, tx, {
        assert_eq!(
            tx.get_mobile_event(t.org, received.id).await.unwrap(),
            Some(received.clone())
        );
        assert_eq!(
            tx.get_mobile_event(other.org, received.id).await.unwrap(),
            None
        );
        let everything = tx
            .list_mobile_events(t.org, &all(MobileEventQuery::default()))
            .await
            .unwrap();
        let expected: Vec<MobileEvent> = first_two
            .iter()
            .cloned()
            .chain([online.clone(), late.clone()])
            .collect();
        assert_eq!(everything, expected);
        let page = tx
            .list_mobile_events(
                t.org,
                &MobileEventQuery {
                    after: Some(Key {
                        sort_at: first_two[1].created_at,
                        id: first_two[1].id.uuid(),
                    }),
                    limit: 1,
                    ..MobileEventQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page, vec![online.clone()]);
        let ids = |events: Vec<MobileEvent>| -> Vec<MobileEventId> {
            events.into_iter().map(|e| e.id).collect()
        };
        for (query, want) in [
            (
                MobileEventQuery {
                    codes: vec![EventCode::DeeplinkReceived],
                    ..MobileEventQuery::default()
                },
                vec![received.id, late.id],
            ),
            (
                MobileEventQuery {
                    codes: vec![EventCode::DeeplinkConsumed, EventCode::NetworkStatusChange],
                    ..MobileEventQuery::default()
                },
                vec![consumed.id, online.id],
            ),
            (
                MobileEventQuery {
                    user: Some(bob),
                    ..MobileEventQuery::default()
                },
                vec![online.id],
            ),
            (
                MobileEventQuery {
                    recording: Some(recording),
                    ..MobileEventQuery::default()
                },
                first_two.iter().map(|e| e.id).collect(),
            ),
            (
                MobileEventQuery {
                    created_gt: Some(minute(1)),
                    created_lt: Some(minute(3)),
                    ..MobileEventQuery::default()
                },
                vec![online.id],
            ),
        ] {
            let mut got = ids(tx
                .list_mobile_events(t.org, &all(query.clone()))
                .await
                .unwrap());
            let mut want = want;
            got.sort();
            want.sort();
            assert_eq!(got, want, "{query:?}");
        }
        assert_eq!(
            tx.list_mobile_events(other.org, &all(MobileEventQuery::default()))
                .await
                .unwrap(),
            vec![foreign.clone()]
        );
    });
}
