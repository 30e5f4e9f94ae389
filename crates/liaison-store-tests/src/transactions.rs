//! The contract of transactions: a dropped one leaves nothing, readers see only commits, and
//! concurrent read-modify-write cycles on one row serialise instead of losing updates.

use crate::fixtures::*;
use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::*;
use std::time::Duration;
use tokio::task::JoinSet;

pub async fn rollback_discards_everything<S: Store>(store: &S) {
    let t = tenant(store).await;
    let kept = record(&t, RecordKind::Account, "kept");
    let kept_token = token(&t, &format!("hash-{}", uuid::Uuid::now_v7()));
    let mut tx = begin(store).await;
    tx.insert_record(&kept).await.unwrap();
    tx.insert_token(&kept_token).await.unwrap();
    tx.commit().await.unwrap();

    let org = Org {
        id: OrgId::new(),
        name: format!("ghost {}", uuid::Uuid::now_v7()),
        created_at: minute(0),
    };
    let conn = Connection {
        id: ConnectionId::new(),
        org: org.id,
        name: "ghost".into(),
        created_at: minute(0),
    };
    let ghost = Tenant {
        org: org.id,
        connection: conn.id,
    };
    let r = record(&ghost, RecordKind::Engagement, "ghost");
    let cu = crm_user(&ghost, "ghost", None);
    let u = workspace_user(ghost.org);
    let p = participant(&ghost, &r, cu.id);
    let et = engagement_type(&ghost, None, "ghost");
    let tok = token(&ghost, &format!("hash-{}", uuid::Uuid::now_v7()));
    let key = format!("ghost-{}", uuid::Uuid::now_v7());
    let mut tx = begin(store).await;
    tx.insert_org(&org).await.unwrap();
    tx.insert_connection(&conn).await.unwrap();
    tx.insert_token(&tok).await.unwrap();
    tx.insert_record(&r).await.unwrap();
    tx.put_crm_user(&cu, true).await.unwrap();
    tx.put_user(&u, true).await.unwrap();
    tx.put_participant(&p, true).await.unwrap();
    tx.put_engagement_type(&et).await.unwrap();
    tx.append_event(&event(ghost.org, "engagement"))
        .await
        .unwrap();
    tx.put_setting_if_absent(&key, "ghost").await.unwrap();
    let changed = Record {
        data: r#"{"name": "changed"}"#.into(),
        ..kept.clone()
    };
    tx.update_record(&kept, &changed).await.unwrap();
    assert!(tx.revoke_token(kept_token.id, minute(1)).await.unwrap());
    drop(tx);

    let mut tx = read(store).await;
    let o = ghost.org;
    assert_eq!(tx.get_org(o).await.unwrap(), None);
    assert_eq!(tx.get_connection_by_name(o, "ghost").await.unwrap(), None);
    assert_eq!(tx.get_token(tok.id).await.unwrap(), None);
    assert_eq!(tx.get_record(o, r.id).await.unwrap(), None);
    assert!(tx.get_crm_users(o, &[cu.id]).await.unwrap().is_empty());
    assert_eq!(tx.get_user(o, u.id).await.unwrap(), None);
    assert_eq!(tx.get_participant(o, p.id).await.unwrap(), None);
    assert!(
        tx.get_engagement_types(o, &[et.id])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(tx.list_events(o, 0, 10).await.unwrap().is_empty());
    assert_eq!(tx.get_setting(&key).await.unwrap(), None);
    assert_eq!(tx.get_record(t.org, kept.id).await.unwrap(), Some(kept));
    assert_eq!(tx.get_token(kept_token.id).await.unwrap(), Some(kept_token));
}

pub async fn uncommitted_writes_are_invisible_to_readers<S: Store>(store: &S) {
    let t = tenant(store).await;
    let r = record(&t, RecordKind::Contact, "c");
    let key = format!("pending-{}", uuid::Uuid::now_v7());
    let mut writer = begin(store).await;
    writer.insert_record(&r).await.unwrap();
    writer.append_event(&event(t.org, "contact")).await.unwrap();
    writer.put_setting_if_absent(&key, "v").await.unwrap();

    // A reader neither waits for the writer nor sees its work.
    let mut reader = read(store).await;
    assert_eq!(reader.get_record(t.org, r.id).await.unwrap(), None);
    assert!(reader.list_events(t.org, 0, 10).await.unwrap().is_empty());
    assert_eq!(reader.get_setting(&key).await.unwrap(), None);

    writer.commit().await.unwrap();
    // A read session is one snapshot: the queries behind one view agree, so it still sees
    // the state it started in...
    assert_eq!(reader.get_record(t.org, r.id).await.unwrap(), None);
    assert!(reader.list_events(t.org, 0, 10).await.unwrap().is_empty());
    drop(reader);
    // ...and the next session sees the commit.
    let mut reader = read(store).await;
    assert_eq!(reader.get_record(t.org, r.id).await.unwrap(), Some(r));
    assert_eq!(reader.list_events(t.org, 0, 10).await.unwrap().len(), 1);
    assert_eq!(
        reader.get_setting(&key).await.unwrap().as_deref(),
        Some("v")
    );
}

/// The rows a read-modify-write race is run on; each keeps a counter.
#[derive(Clone)]
struct Counters {
    tenant_org: OrgId,
    connection: ConnectionId,
    record: RecordId,
    crm_user: CrmUserId,
    user: UserId,
    participant: ParticipantId,
    parent: RecordId,
    type_external_id: String,
}

/// Which read an upsert decides on: each must lock what it returns in a write transaction.
#[derive(Clone, Copy, Debug)]
enum Via {
    Record,
    RecordByExternal,
    CrmUserByExternal,
    User,
    Participant,
    ParticipantPair,
    EngagementType,
}

fn bump(n: &Option<String>) -> Option<String> {
    let n: u32 = n.as_deref().map_or(0, |s| s.parse().expect("a counter"));
    Some((n + 1).to_string())
}

/// Long enough that, without a lock, every racer reads before any writes.
async fn think() {
    tokio::time::sleep(Duration::from_millis(30)).await;
}

async fn increment<S: Store>(store: S, c: Counters, via: Via) {
    let mut tx = store.begin().await.expect("begin");
    let org = c.tenant_org;
    match via {
        Via::Record | Via::RecordByExternal => {
            let got = match via {
                Via::Record => tx.get_record(org, c.record).await,
                _ => {
                    tx.get_record_by_external(org, c.connection, RecordKind::Account, "counter")
                        .await
                }
            };
            let stored = got.unwrap().expect("the record");
            think().await;
            let n: serde_json::Value = serde_json::from_str(&stored.data).unwrap();
            let mut r = stored.clone();
            r.data = serde_json::json!({ "n": n["n"].as_u64().unwrap() + 1 }).to_string();
            tx.update_record(&stored, &r).await.unwrap();
        }
        Via::CrmUserByExternal => {
            let got = tx
                .get_crm_user_by_external(org, c.connection, "counter")
                .await;
            let mut u = got.unwrap().expect("the CRM user");
            think().await;
            u.name = bump(&u.name);
            tx.put_crm_user(&u, false).await.unwrap();
        }
        Via::User => {
            let mut u = tx.get_user(org, c.user).await.unwrap().expect("the user");
            think().await;
            u.first_name = bump(&u.first_name);
            tx.put_user(&u, false).await.unwrap();
        }
        Via::Participant | Via::ParticipantPair => {
            let got = match via {
                Via::Participant => tx.get_participant(org, c.participant).await,
                _ => tx.find_participant(org, c.parent, c.crm_user).await,
            };
            let mut p = got.unwrap().expect("the participant");
            think().await;
            p.name = bump(&p.name);
            tx.put_participant(&p, false).await.unwrap();
        }
        Via::EngagementType => {
            let got = tx
                .find_engagement_type(org, c.connection, Some(&c.type_external_id), "")
                .await;
            let mut t = got.unwrap().expect("the engagement type");
            think().await;
            t.name = bump(&Some(t.name)).unwrap();
            tx.put_engagement_type(&t).await.unwrap();
        }
    }
    tx.commit().await.expect("commit");
}

pub async fn concurrent_updates_of_one_record_serialise<S: Store>(store: &S) {
    let t = tenant(store).await;
    let mut r = record(&t, RecordKind::Account, "counter");
    r.data = r#"{"n": 0}"#.into();
    let cu = crm_user(&t, "counter", None);
    let u = workspace_user(t.org);
    let parent = engagement(&t, "parent", Some(minute(0)));
    let p = participant(&t, &parent, cu.id);
    let et = engagement_type(&t, Some("counter"), "0");
    let mut tx = begin(store).await;
    tx.insert_record(&r).await.unwrap();
    tx.insert_record(&parent).await.unwrap();
    tx.put_crm_user(&cu, true).await.unwrap();
    tx.put_user(&u, true).await.unwrap();
    tx.put_participant(&p, true).await.unwrap();
    tx.put_engagement_type(&et).await.unwrap();
    tx.commit().await.unwrap();
    let c = Counters {
        tenant_org: t.org,
        connection: t.connection,
        record: r.id,
        crm_user: cu.id,
        user: u.id,
        participant: p.id,
        parent: parent.id,
        type_external_id: "counter".into(),
    };

    // Each race mixes the two reads of a row where there are two.
    let races = [
        [Via::Record, Via::RecordByExternal, Via::Record],
        [Via::CrmUserByExternal; 3],
        [Via::User; 3],
        [Via::Participant, Via::ParticipantPair, Via::ParticipantPair],
        [Via::EngagementType; 3],
    ];
    for race in races {
        let mut set = JoinSet::new();
        for via in race {
            set.spawn(increment(store.clone(), c.clone(), via));
        }
        while let Some(done) = set.join_next().await {
            done.expect("racer");
        }
    }

    let mut tx = read(store).await;
    let r = tx.get_record(t.org, r.id).await.unwrap().unwrap();
    assert_eq!(r.data, r#"{"n":3}"#, "record");
    let cu = tx.get_crm_users(t.org, &[cu.id]).await.unwrap().remove(0);
    assert_eq!(cu.name.as_deref(), Some("3"), "CRM user");
    let u = tx.get_user(t.org, u.id).await.unwrap().unwrap();
    assert_eq!(u.first_name.as_deref(), Some("3"), "user");
    let p = tx.get_participant(t.org, p.id).await.unwrap().unwrap();
    assert_eq!(p.name.as_deref(), Some("3"), "participant");
    let et = tx
        .get_engagement_types(t.org, &[et.id])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(et.name, "3", "engagement type");
}

/// The engine's upsert: look up by external id, insert if missing, and start over on a
/// conflict. However the racers interleave, one record results.
pub async fn concurrent_inserts_of_one_external_id_make_one_record<S: Store>(store: &S) {
    let t = tenant(store).await;
    let mut set = JoinSet::new();
    for _ in 0..4 {
        let store = store.clone();
        let (org, connection) = (t.org, t.connection);
        set.spawn(async move {
            for _attempt in 0..10 {
                let mut tx = store.begin().await.expect("begin");
                let found = tx
                    .get_record_by_external(org, connection, RecordKind::Contact, "same")
                    .await
                    .unwrap();
                if found.is_none() {
                    think().await;
                    let t = Tenant { org, connection };
                    match tx
                        .insert_record(&record(&t, RecordKind::Contact, "same"))
                        .await
                    {
                        Ok(()) => {}
                        Err(StoreError::Conflict(_)) => continue,
                        Err(e) => panic!("insert: {e}"),
                    }
                }
                tx.commit().await.expect("commit");
                return;
            }
            panic!("no attempt succeeded");
        });
    }
    while let Some(done) = set.join_next().await {
        done.expect("racer");
    }
    let mut tx = read(store).await;
    let q = RecordQuery {
        include_hidden: true,
        ..RecordQuery::new(RecordKind::Contact)
    }
    .and(Filter::eq(Field::ExternalId, Value::Text("same".into())).unwrap());
    assert_eq!(tx.list_records(t.org, &q).await.unwrap().len(), 1);
}

/// A writer that takes a key another writer holds waits until that one ends; keys may come
/// in any order and repeat.
pub async fn locked_keys_make_writers_queue<S: Store>(store: &S) {
    // Keys are global to the database: draw ones no other test uses.
    let base = (uuid::Uuid::now_v7().as_u128() as i64) & !0xff;
    let mut first = begin(store).await;
    first
        .lock_keys(&[base + 7, base + 3, base + 7, base + 42])
        .await
        .unwrap();
    let second = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut tx = begin(&store).await;
            tx.lock_keys(&[base + 42, base + 1]).await.unwrap();
            tx.commit().await.unwrap();
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "a writer went on while another held one of its keys"
    );
    first.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the waiting writer goes on once the holder commits")
        .unwrap();

    // A writer rolled back releases its keys.
    let mut a = begin(store).await;
    a.lock_keys(&[base + 100]).await.unwrap();
    drop(a);
    let mut b = begin(store).await;
    b.lock_keys(&[base + 100]).await.unwrap();
    b.commit().await.unwrap();
}
