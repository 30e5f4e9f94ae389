//! The recordings contract: rows round-trip field for field, lists filter and page, an
//! engagement finds its linked recordings, transcripts are kept apart, another organization
//! sees nothing, and a rep's engagements near a time are found by their window.

use crate::fixtures::*;
use liaison_domain::matching::{Rule, Span, Standing};
use liaison_domain::model::*;
use liaison_domain::*;
use liaison_store::*;

pub fn recording(org: OrgId, user: UserId, recorded: i64) -> Recording {
    Recording {
        id: RecordingId::new(),
        org,
        user,
        title: Some("Kitchen visit".into()),
        date_created: minute(recorded),
        duration_ms: Some(1_800_000),
        speech_end_ms: Some(1_700_000),
        latitude: Some(30.25),
        longitude: Some(-97.75),
        deep_link: Some("siro://record?appointmentId=a1".into()),
        links: Links::default(),
        standing: Standing::Automatic,
        rule: None,
        linked_at: None,
        details: serde_json::json!({"conversationType": "sales", "source": {"os": "iOS"}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        deleted_at: None,
        created_at: minute(recorded + 1),
        updated_at: minute(recorded + 1),
    }
}

pub async fn recordings_round_trip<S: Store>(store: &S) {
    let t = tenant(store).await;
    let other = tenant(store).await;
    let user = UserId::new();
    let e = engagement(&t, "e1", Some(minute(10)));
    let o = record(&t, RecordKind::Opportunity, "o1");
    let plain = recording(t.org, user, 10);
    let mut linked = recording(t.org, user, 20);
    linked.links = Links {
        engagement: Some(e.id),
        opportunity: Some(o.id),
        account: Some(RecordId::new()),
        contact: Some(RecordId::new()),
        lead: Some(RecordId::new()),
    };
    linked.standing = Standing::DeepLink(e.id);
    linked.rule = Some(Rule::DeepLink);
    linked.linked_at = Some(minute(21));
    let mut bare = recording(t.org, user, 30);
    bare.title = None;
    bare.duration_ms = None;
    bare.speech_end_ms = None;
    bare.latitude = None;
    bare.longitude = None;
    bare.deep_link = None;
    bare.details = Default::default();
    bare.standing = Standing::Manual(None);
    bare.rule = Some(Rule::Manual);
    let transcript = Transcript::Utterances(vec![Utterance {
        utterance: "Zoë's roof — “fine”".into(),
        speaker_tag: "0".into(),
        start_time_in_millis: 0,
        end_time_in_millis: 900,
        confidence: Some(0.5),
    }]);

    let mut tx = begin(store).await;
    for r in [&plain, &linked, &bare] {
        tx.put_recording(r, true).await.unwrap();
    }
    tx.put_transcript(t.org, plain.id, Some(&transcript))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Another organization may use the same id: ids are the recorder's, unique per tenant.
    let mut twin = recording(other.org, user, 50);
    twin.id = plain.id;
    let mut tx = begin(store).await;
    tx.put_recording(&twin, true).await.unwrap();
    tx.put_transcript(other.org, twin.id, Some(&Transcript::Text("theirs".into())))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut r = read(store).await;
    assert_eq!(
        r.get_recording(other.org, plain.id).await.unwrap(),
        Some(twin)
    );
    assert_eq!(
        r.get_transcript(other.org, plain.id).await.unwrap(),
        Some(Transcript::Text("theirs".into()))
    );
    for want in [&plain, &linked, &bare] {
        assert_eq!(
            r.get_recording(t.org, want.id).await.unwrap().as_ref(),
            Some(want)
        );
        if want.id != plain.id {
            assert_eq!(r.get_recording(other.org, want.id).await.unwrap(), None);
        }
    }
    assert_eq!(
        r.get_transcript(t.org, plain.id).await.unwrap(),
        Some(transcript.clone())
    );
    assert_eq!(r.get_transcript(t.org, linked.id).await.unwrap(), None);
    assert_eq!(
        r.recordings_linked_to(t.org, e.id).await.unwrap(),
        vec![linked.clone()]
    );
    assert!(
        r.recordings_linked_to(other.org, e.id)
            .await
            .unwrap()
            .is_empty()
    );
    drop(r);

    // An update writes every field; a transcript is replaced, then removed.
    let mut changed = linked.clone();
    changed.links = Links::default();
    changed.standing = Standing::Manual(None);
    changed.title = Some("Renamed".into());
    changed.deleted_at = Some(minute(40));
    changed.updated_at = minute(40);
    let text = Transcript::Text("hello".into());
    let mut tx = begin(store).await;
    tx.put_recording(&changed, false).await.unwrap();
    tx.put_transcript(t.org, plain.id, Some(&text))
        .await
        .unwrap();
    tx.put_transcript(t.org, bare.id, Some(&text))
        .await
        .unwrap();
    tx.put_transcript(t.org, bare.id, None).await.unwrap();
    // A recording id is one row: inserting it again is refused.
    assert_conflict(tx.put_recording(&plain, true).await, "a second insert");
    tx.commit().await.unwrap();
    let mut r = read(store).await;
    assert_eq!(
        r.get_recording(t.org, linked.id).await.unwrap(),
        Some(changed)
    );
    assert!(
        r.recordings_linked_to(t.org, e.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(r.get_transcript(t.org, plain.id).await.unwrap(), Some(text));
    assert_eq!(r.get_transcript(t.org, bare.id).await.unwrap(), None);
    assert_eq!(
        r.get_transcript(other.org, plain.id).await.unwrap(),
        Some(Transcript::Text("theirs".into())),
        "a write to one organization's transcript leaves the other's"
    );
}

pub async fn recording_lists<S: Store>(store: &S) {
    let t = tenant(store).await;
    let other = tenant(store).await;
    let user = UserId::new();
    let mut all: Vec<Recording> = (0..6)
        .map(|i| {
            let mut r = recording(t.org, user, i * 10);
            r.updated_at = minute(100 + i);
            r
        })
        .collect();
    all[5].deleted_at = Some(minute(200));
    let mut tx = begin(store).await;
    for r in &all {
        tx.put_recording(r, true).await.unwrap();
    }
    tx.put_recording(&recording(other.org, user, 0), true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let ids = |v: Vec<Recording>| -> Vec<RecordingId> { v.into_iter().map(|r| r.id).collect() };
    let live: Vec<RecordingId> = sorted(all[..5].iter().map(|r| r.id).collect());
    let mut r = read(store).await;
    let q = RecordingQuery {
        limit: 100,
        ..RecordingQuery::default()
    };
    assert_eq!(ids(r.list_recordings(t.org, &q).await.unwrap()), live);
    let with_deleted = RecordingQuery {
        include_deleted: true,
        ..q.clone()
    };
    assert_eq!(
        r.list_recordings(t.org, &with_deleted).await.unwrap().len(),
        6
    );
    // Pages by id.
    let first = ids(r
        .list_recordings(
            t.org,
            &RecordingQuery {
                limit: 2,
                ..q.clone()
            },
        )
        .await
        .unwrap());
    assert_eq!(first, live[..2]);
    let rest = ids(r
        .list_recordings(
            t.org,
            &RecordingQuery {
                after: Some(first[1]),
                ..q.clone()
            },
        )
        .await
        .unwrap());
    assert_eq!(rest, live[2..]);
    // Each bound, strict or not, on the time it names.
    let cases = [
        (
            RecordingQuery {
                recorded_gt: Some(minute(20)),
                ..q.clone()
            },
            2,
        ),
        (
            RecordingQuery {
                recorded_lt: Some(minute(20)),
                ..q.clone()
            },
            2,
        ),
        (
            RecordingQuery {
                updated_gt: Some(minute(102)),
                ..q.clone()
            },
            2,
        ),
        (
            RecordingQuery {
                updated_gte: Some(minute(102)),
                ..q.clone()
            },
            3,
        ),
        (
            RecordingQuery {
                updated_lt: Some(minute(102)),
                ..q.clone()
            },
            2,
        ),
        (
            RecordingQuery {
                updated_lte: Some(minute(102)),
                ..q.clone()
            },
            3,
        ),
        (
            RecordingQuery {
                recorded_gt: Some(minute(0)),
                updated_lt: Some(minute(104)),
                ..q.clone()
            },
            3,
        ),
    ];
    for (i, (query, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            r.list_recordings(t.org, &query).await.unwrap().len(),
            want,
            "case {i}"
        );
    }
}

pub async fn engagements_near_a_recording<S: Store>(store: &S) {
    let t = tenant(store).await;
    let rep = UserId::new();
    let mine = crm_user(&t, "crm-1", Some(rep));
    let theirs = crm_user(&t, "crm-2", Some(UserId::new()));
    let ended = |ext: &str, start: i64, end: Option<i64>| {
        let mut e = engagement(&t, ext, Some(minute(start)));
        e.indexed.end_time = end.map(minute);
        e
    };
    let inside = ended("inside", 100, Some(160));
    let overlapping_start = ended("early", 40, Some(110));
    let instant = ended("instant", 150, None);
    let long_before = ended("long", 100 - 8 * 24 * 60, Some(200));
    let after = ended("after", 201, Some(230));
    let before = ended("before", 10, Some(89));
    let mut deleted = ended("deleted", 120, Some(130));
    deleted.deleted_at = Some(minute(300));
    let not_mine = ended("not-mine", 120, Some(130));
    let left = ended("left", 120, Some(130));
    let mut tx = begin(store).await;
    for e in [
        &inside,
        &overlapping_start,
        &instant,
        &long_before,
        &after,
        &before,
        &deleted,
        &not_mine,
        &left,
    ] {
        tx.insert_record(e).await.unwrap();
    }
    for u in [&mine, &theirs] {
        tx.put_crm_user(u, true).await.unwrap();
    }
    for e in [
        &inside,
        &overlapping_start,
        &instant,
        &long_before,
        &after,
        &before,
        &deleted,
    ] {
        tx.put_participant(&participant(&t, e, mine.id), true)
            .await
            .unwrap();
    }
    tx.put_participant(&participant(&t, &not_mine, theirs.id), true)
        .await
        .unwrap();
    let mut gone = participant(&t, &left, mine.id);
    gone.deleted_at = Some(minute(1));
    tx.put_participant(&gone, true).await.unwrap();
    tx.commit().await.unwrap();

    let window = Span::new(minute(90), minute(200)).unwrap();
    let mut r = read(store).await;
    let found: Vec<RecordId> = r
        .engagements_of_user_within(t.org, rep, window)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    // Touching the window's ends counts; a week-long engagement does not.
    let mut want = vec![inside.id, overlapping_start.id, instant.id];
    want.sort();
    assert_eq!(found, want);
    let other = tenant(store).await;
    assert!(
        r.engagements_of_user_within(other.org, rep, window)
            .await
            .unwrap()
            .is_empty()
    );
}
