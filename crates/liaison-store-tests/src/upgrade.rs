//! The upgrade contract: a database written under an earlier schema opens under the current
//! one with every record, token and event readable as before, and every column added since
//! filled in from what the rows already held.
//!
//! A backend's test writes `legacy()` into a database made by its earlier migrations, with the
//! SQL those migrations' code wrote, then migrates it and hands it to `check_upgraded`.

use crate::fixtures::*;
use liaison_domain::model::*;
use liaison_domain::scope::ScopeSet;
use liaison_domain::values::{ActivityType, Amount, Direction};
use liaison_domain::*;
use liaison_store::*;

/// What an earlier schema held: one organization's worth of rows. Each record's `indexed`
/// is what the upgrade must derive from its data; the earlier schema had no place for it.
pub struct Legacy {
    pub org: Org,
    pub connection: liaison_store::Connection,
    pub token: Token,
    pub engagement_type: EngagementType,
    pub records: Vec<RecordRow>,
    /// In append order; `seq` is what the store numbered them.
    pub events: Vec<Event>,
}

fn row<E: Entity>(t: &Tenant, external_id: &str, data: E, created: i64) -> RecordRow {
    let mut r = record(t, E::KIND, external_id);
    r.created_at = minute(created);
    r.updated_at = minute(created + 1);
    r.sort_at = data.sort_at().unwrap_or(r.created_at);
    r.indexed = data.indexed();
    r.data = serde_json::to_string(&data).expect("entity data serializes");
    r
}

pub fn legacy() -> Legacy {
    let org = Org {
        id: OrgId::new(),
        name: "acme".into(),
        created_at: minute(0),
    };
    let connection = liaison_store::Connection {
        id: ConnectionId::new(),
        org: org.id,
        name: "hubspot".into(),
        created_at: minute(0),
    };
    let t = Tenant {
        org: org.id,
        connection: connection.id,
    };
    let mut token = token(&t, "5d41402abc4b2a76b9719d911017c592");
    token.scopes = ScopeSet::parse("read,engagements:write").expect("scopes");
    token.created_at = minute(1);
    token.revoked_at = Some(minute(2));
    let engagement_type = EngagementType {
        activity_type: ActivityType::Appointment,
        created_at: minute(1),
        updated_at: minute(1),
        ..engagement_type(&t, Some("appt"), "Appointment")
    };
    let account = row(
        &t,
        "acc-1",
        Account {
            name: Some("Zoë's Roofing".into()),
            ..Account::default()
        },
        2,
    );
    let contact = row(
        &t,
        "con-1",
        Contact {
            name: Some("Jo Smith".into()),
            ..Contact::default()
        },
        3,
    );
    let other_contact = row(&t, "con-2", Contact::default(), 4);
    let lead = row(
        &t,
        "lead-1",
        Lead {
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            ..Lead::default()
        },
        5,
    );
    let mut opportunity = row(
        &t,
        "opp-1",
        Opportunity {
            name: Some("Roof 2027".into()),
            amount: Amount::parse(12_500.5),
            remote_created_at: Some(minute(-100)),
            contact_ids: vec![other_contact.id, contact.id],
            ..Opportunity::default()
        },
        6,
    );
    opportunity.refs.account = Some(account.id);
    opportunity.refs.contact = Some(contact.id);
    let mut engagement = row(
        &t,
        "eng-1",
        Engagement {
            direction: Some(Direction::Outbound),
            subject: Some("Inspection".into()),
            start_time: Some(at(1_780_000_000_123_456)),
            start_time_localized: Some("2026-05-28 16:26:40".into()),
            end_time: Some(at(1_780_003_600_123_456)),
            remote_created_at: Some(minute(-50)),
            ..Engagement::default()
        },
        7,
    );
    engagement.refs = Refs {
        account: Some(account.id),
        contact: Some(contact.id),
        opportunity: Some(opportunity.id),
        engagement_type: Some(engagement_type.id),
        ..Refs::default()
    };
    engagement.recording_id = Some("rec-9".into());
    engagement.remote_updated_at = Some(minute(8));
    let mut deleted = row(
        &t,
        "eng-2",
        Engagement {
            subject: Some("Cancelled".into()),
            ..Engagement::default()
        },
        8,
    );
    deleted.deleted_at = Some(minute(9));
    let records = vec![
        account,
        contact,
        other_contact,
        lead,
        opportunity,
        engagement,
        deleted,
    ];
    let events = records
        .iter()
        .enumerate()
        .map(|(i, r)| Event {
            seq: i as i64 + 1,
            at: r.created_at,
            entity_id: r.id.uuid(),
            after: Some(r.data.clone()),
            ..event(org.id, r.kind.as_str())
        })
        .collect();
    Legacy {
        org,
        connection,
        token,
        engagement_type,
        records,
        events,
    }
}

/// Everything `old` held reads back as it was written, the new columns are filled in, and the
/// store goes on working: lists find the upgraded rows by their new columns, and new writes
/// and events follow the old ones.
pub async fn check_upgraded<S: Store>(store: &S, old: &Legacy) {
    let org = old.org.id;
    let mut tx = read(store).await;
    assert_eq!(tx.get_org(org).await.unwrap(), Some(old.org.clone()));
    assert_eq!(
        tx.get_connection_by_name(org, &old.connection.name)
            .await
            .unwrap(),
        Some(old.connection.clone())
    );
    assert_eq!(
        tx.get_token_by_hash(&old.token.hash).await.unwrap(),
        Some(old.token.clone())
    );
    assert_eq!(
        tx.get_engagement_types(org, &[old.engagement_type.id])
            .await
            .unwrap(),
        vec![old.engagement_type.clone()]
    );
    for r in &old.records {
        assert_eq!(
            tx.get_record(org, r.id).await.unwrap().as_ref(),
            Some(r),
            "{} {}",
            r.kind.as_str(),
            r.external_id
        );
    }
    let events = tx.list_events(org, 0, 100).await.unwrap();
    assert_eq!(events.len(), old.events.len());
    for (got, want) in events.iter().zip(&old.events) {
        assert_eq!(
            Event {
                seq: want.seq,
                ..got.clone()
            },
            *want
        );
    }
    assert!(
        events.windows(2).all(|w| w[0].seq < w[1].seq),
        "events keep their order"
    );

    // The new columns serve lists.
    let eng = old
        .records
        .iter()
        .find(|r| r.external_id == "eng-1")
        .unwrap();
    let q = RecordQuery::new(RecordKind::Engagement)
        .and(
            Filter::new(
                Field::StartTime,
                Test::Cmp(Cmp::Gte, Value::Time(eng.indexed.start_time.unwrap())),
            )
            .unwrap(),
        )
        .and(
            Filter::eq(
                Field::ActivityType,
                Value::ActivityType(ActivityType::Appointment),
            )
            .unwrap(),
        );
    assert_eq!(ids(&tx.list_records(org, &q).await.unwrap()), vec![eng.id]);
    let q = RecordQuery {
        search: Some("roof".into()),
        sort: Sort {
            field: SortField::Title,
            dir: Dir::Desc,
        },
        ..RecordQuery::new(RecordKind::Account)
    };
    assert_eq!(tx.list_records(org, &q).await.unwrap().len(), 1);
    let contact = old
        .records
        .iter()
        .find(|r| r.external_id == "con-2")
        .unwrap();
    let opp = old
        .records
        .iter()
        .find(|r| r.external_id == "opp-1")
        .unwrap();
    assert_eq!(
        ids(&tx
            .records_referencing(org, RecordKind::Contact, contact.id)
            .await
            .unwrap()),
        vec![opp.id],
        "an opportunity's contacts became rows"
    );
    drop(tx);

    // Writes and events go on after the old ones.
    let mut tx = begin(store).await;
    let mut changed = eng.clone();
    changed.indexed.title = Some("Re-inspection".into());
    tx.update_record(eng, &changed).await.unwrap();
    tx.append_event(&event(org, "engagement")).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(tx.get_record(org, eng.id).await.unwrap(), Some(changed));
    let after = tx.list_events(org, 0, 100).await.unwrap();
    assert_eq!(after.len(), old.events.len() + 1);
    assert!(after.last().unwrap().seq > events.last().unwrap().seq);
    drop(tx);

    // Recordings, which the earlier schemas had no place for, link to the old records.
    let mut recording = crate::recordings::recording(org, UserId::new(), 30);
    recording.links.engagement = Some(eng.id);
    let mut tx = begin(store).await;
    tx.put_recording(&recording, true).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        tx.recordings_linked_to(org, eng.id).await.unwrap(),
        vec![recording]
    );
    drop(tx);

    // So do OAuth apps and their tokens, in the old organization and connection.
    let tenant = Tenant {
        org,
        connection: old.connection.id,
    };
    let app = crate::apps::app(&tenant, UserId::new(), 1);
    let token = crate::apps::access_token(&app, app.owner, 2);
    let mut tx = begin(store).await;
    tx.insert_app(&app).await.unwrap();
    tx.insert_access_token(&token).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(tx.get_app(app.client_id).await.unwrap(), Some(app));
    assert_eq!(
        tx.get_access_token_by_hash(&token.hash).await.unwrap(),
        Some(token)
    );
    drop(tx);

    // And mobile events.
    let event = crate::mobile_events::mobile_event(
        org,
        UserId::new(),
        liaison_domain::model::EventCode::DeeplinkReceived,
        5,
    );
    let mut tx = begin(store).await;
    tx.insert_mobile_event(&event).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        tx.get_mobile_event(org, event.id).await.unwrap(),
        Some(event)
    );
}
