//! Recordings through HTTP, on both backends: capture, automatic linking (a sole candidate, a
//! deep link, a tie), manual links that stick, deletes that free their engagement, settings,
//! and bad input refused with nothing written.

mod common;

use common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// An appointment of `rep_email` from `start` to `end`, at an account in Austin.
fn appointment(ext: &str, start: &str, end: &str, rep_email: &str) -> Value {
    json!({
        "externalId": ext,
        "startTime": start,
        "endTime": end,
        "subject": format!("Visit {ext}"),
        "engagementType": {"activityType": "APPOINTMENT", "name": "appointment"},
        "engagementUsers": [{"externalId": format!("crm-{rep_email}"), "email": rep_email}],
        "account": {"externalId": format!("acct-{ext}"), "latitude": 30.2672, "longitude": -97.7431},
        "opportunity": {"externalId": format!("opp-{ext}")}
    })
}

async fn record(s: &TestServer, body: Value) -> Reply {
    s.put("/v1/core/recordings", body).await
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn engagement(s: &TestServer, id: &str) -> Value {
    let r = s.get(&format!("/v1/integrations/engagements/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body
}

async fn matched(s: &TestServer, id: &str) -> Value {
    let r = s.get(&format!("/v1/core/recordings/{id}/match")).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["data"].clone()
}

/// Seed 002 §4: sync an appointment, record at its time, and find the recording on it, with
/// every link the recording's `crm` shows.
async fn a_recording_at_an_appointment_links_to_it(s: &TestServer) {
    let user = s.workspace_user("rep@example.com").await;
    let e = s
        .sync(appointment(
            "appt-1",
            "2026-02-15T14:00:00Z",
            "2026-02-15T15:00:00Z",
            "rep@example.com",
        ))
        .await;
    let id = new_id();
    let r = record(
        s,
        json!({
            "id": id, "dateCreated": "2026-02-15T14:05:00Z", "title": "Kitchen visit",
            "userId": user, "durationInMilliseconds": 3_000_000,
            "latitude": 30.2675, "longitude": -97.7429, "conversationType": "sales",
            "utterances": [
                {"utterance": "Thanks for having me.", "speakerTag": "0", "startTimeInMillis": 0, "endTimeInMillis": 1800},
                {"utterance": "Happy to.", "speakerTag": "1", "startTimeInMillis": 2000, "endTimeInMillis": 2900, "confidence": 0.93}
            ]
        }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body, Value::Null);
    assert_eq!(
        engagement(s, e["id"].as_str().unwrap()).await["recordingId"],
        id
    );
    // The engagement list finds it by its recording.
    let found = s
        .get(&format!("/v1/integrations/engagements?recordingId={id}"))
        .await;
    assert_eq!(found.body["data"][0]["id"], e["id"], "{found:?}");

    let got = s
        .get(&format!("/v1/core/recordings/{id}?showCrmLinks=true"))
        .await;
    assert_eq!(got.status, StatusCode::OK, "{got:?}");
    let b = &got.body;
    assert_eq!(b["id"], id);
    assert_eq!(b["userId"], user);
    assert_eq!(b["title"], "Kitchen visit");
    assert_eq!(b["durationInMilliseconds"], 3_000_000);
    assert_eq!(b["createdAt"], "2026-02-15T14:05:00.000Z");
    assert_eq!(b["deleted"], false);
    let crm = &b["crm"];
    assert_eq!(crm["engagement"]["externalId"], "appt-1");
    assert_eq!(crm["engagement"]["id"], e["id"]);
    assert_eq!(crm["opportunity"]["externalId"], "opp-appt-1");
    assert_eq!(crm["account"]["externalId"], "acct-appt-1");
    assert_eq!(crm["users"][0]["externalId"], "crm-rep@example.com");
    assert_eq!(crm["integrationConnectionId"], e["integrationConnectionId"]);
    // Without the flag, no `crm`.
    let plain = s.get(&format!("/v1/core/recordings/{id}")).await.body;
    assert!(plain.get("crm").is_none(), "{plain}");

    let m = matched(s, &id).await;
    assert_eq!(m["rule"], "SOLE_CANDIDATE");
    assert_eq!(m["engagementId"], e["id"]);
    assert_eq!(m["candidates"].as_array().unwrap().len(), 1);
    let c = &m["candidates"][0];
    assert!(c["score"].as_f64().unwrap() > 0.8, "{m}");
    assert!(c["distanceMeters"].as_f64().unwrap() < 100.0, "{m}");
    assert_eq!(m["settings"]["beforeMinutes"], 60);

    let u = s.get(&format!("/v1/core/recordings/{id}/utterances")).await;
    assert_eq!(u.status, StatusCode::OK, "{u:?}");
    let list = u.body["data"]["utterances"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["utterance"], "Happy to.");
    assert_eq!(list[1]["confidence"], 0.93);
    assert_eq!(list[1]["redacted"], false);

    let page = s.get("/v1/core/recordings?showCrmLinks=true").await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert_eq!(page.body["data"][0]["id"], id);
    assert_eq!(
        page.body["data"][0]["crm"]["engagement"]["externalId"],
        "appt-1"
    );
    assert_eq!(page.body["cursor"], Value::Null);
    let later = s
        .get("/v1/core/recordings?createdAt:gt=2026-02-15T14:05:00Z")
        .await;
    assert_eq!(later.body["data"].as_array().unwrap().len(), 0, "{later:?}");
    let earlier = s
        .get("/v1/core/recordings?dateCreated:lt=2026-02-15T14:05:00.001Z")
        .await;
    assert_eq!(
        earlier.body["data"].as_array().unwrap().len(),
        1,
        "{earlier:?}"
    );
}

/// A recording far from every appointment, or of a rep with none, links to nothing and says
/// so; two appointments that fit equally well are a tie, left unlinked with both visible.
async fn no_candidate_and_ties_stay_unlinked(s: &TestServer) {
    let user = s.workspace_user("rep@example.com").await;
    let other = s.workspace_user("other@example.com").await;
    s.sync(appointment(
        "a",
        "2026-03-02T09:00:00Z",
        "2026-03-02T10:00:00Z",
        "rep@example.com",
    ))
    .await;
    s.sync(appointment(
        "b",
        "2026-03-02T09:00:00Z",
        "2026-03-02T10:00:00Z",
        "rep@example.com",
    ))
    .await;
    let far = new_id();
    let r = record(
        s,
        json!({"id": far, "dateCreated": "2026-03-02T15:00:00Z", "userId": user}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let m = matched(s, &far).await;
    assert_eq!(m["rule"], "NO_CANDIDATE");
    assert_eq!(m["engagementId"], Value::Null);
    let theirs = new_id();
    record(
        s,
        json!({"id": theirs, "dateCreated": "2026-03-02T09:00:00Z", "userId": other}),
    )
    .await;
    assert_eq!(matched(s, &theirs).await["rule"], "NO_CANDIDATE");

    let tie = new_id();
    record(
        s,
        json!({"id": tie, "dateCreated": "2026-03-02T09:00:00Z", "userId": user, "durationInMilliseconds": 3_600_000}),
    )
    .await;
    let m = matched(s, &tie).await;
    assert_eq!(m["rule"], "TIE", "{m}");
    assert_eq!(m["candidates"].as_array().unwrap().len(), 2);
    let got = s
        .get(&format!("/v1/core/recordings/{tie}?showCrmLinks=true"))
        .await
        .body;
    assert_eq!(got["crm"], Value::Null, "{got}");
}

/// A deep link names its appointment and opportunity; the link is made whatever the time.
async fn a_deep_link_decides(s: &TestServer) {
    let user = s.workspace_user("rep@example.com").await;
    let near = s
        .sync(appointment(
            "near",
            "2026-04-01T09:00:00Z",
            "2026-04-01T10:00:00Z",
            "rep@example.com",
        ))
        .await;
    let named = s
        .sync(appointment(
            "named",
            "2026-04-03T09:00:00Z",
            "2026-04-03T10:00:00Z",
            "rep@example.com",
        ))
        .await;
    let id = new_id();
    let r = record(
        s,
        json!({"id": id, "dateCreated": "2026-04-01T09:00:00Z", "userId": user,
               "deepLink": "siro://record?appointmentId=named&title=Roof+check&opportunityId=opp-near"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let m = matched(s, &id).await;
    assert_eq!(m["rule"], "DEEP_LINK");
    assert_eq!(m["engagementId"], named["id"]);
    // The appointment at its time is still shown as a candidate.
    assert_eq!(m["candidates"][0]["engagementId"], near["id"]);
    let got = s
        .get(&format!("/v1/core/recordings/{id}?showCrmLinks=true"))
        .await
        .body;
    assert_eq!(got["title"], "Roof check");
    assert_eq!(got["crm"]["engagement"]["externalId"], "named");
    assert_eq!(got["crm"]["opportunity"]["externalId"], "opp-near", "{got}");
    assert_eq!(
        engagement(s, named["id"].as_str().unwrap()).await["recordingId"],
        id
    );
    assert_eq!(
        engagement(s, near["id"].as_str().unwrap()).await["recordingId"],
        Value::Null
    );
    // Its appointment deleted, the deep link decides nothing: the rule links what fits.
    let r = s
        .delete(&format!(
            "/v1/integrations/engagements/{}",
            named["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let m = linked_eventually(s, &id, &near["id"]).await;
    assert_eq!(m["rule"], "SOLE_CANDIDATE", "{m}");
}

/// A link made by hand stands: a change of the recording's time does not move it, and an
/// unlink by hand leaves it unlinked.
async fn manual_links_stick(s: &TestServer) {
    let user = s.workspace_user("rep@example.com").await;
    let first = s
        .sync(appointment(
            "first",
            "2026-05-04T09:00:00Z",
            "2026-05-04T10:00:00Z",
            "rep@example.com",
        ))
        .await;
    let second = s
        .sync(appointment(
            "second",
            "2026-05-04T13:00:00Z",
            "2026-05-04T14:00:00Z",
            "rep@example.com",
        ))
        .await;
    let id = new_id();
    record(
        s,
        json!({"id": id, "dateCreated": "2026-05-04T09:00:00Z", "userId": user}),
    )
    .await;
    assert_eq!(matched(s, &id).await["engagementId"], first["id"]);

    let path = format!("/v1/core/recordings/{id}/link");
    let r = s
        .put(
            &path,
            json!({"dataType": "ENGAGEMENT", "externalId": "second",
                   "integrationConnectionId": second["integrationConnectionId"], "trigger": "FUZZY_MATCH_ENGAGEMENTS_FOR_RECORDING"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["data"]["id"], second["id"]);
    assert_eq!(r.body["data"]["dataType"], "ENGAGEMENT");
    assert_eq!(r.body["data"]["name"], "Visit second");
    assert_eq!(r.body["data"]["lastActivityAt"], "2026-05-04T13:00:00.000Z");
    assert_eq!(
        engagement(s, second["id"].as_str().unwrap()).await["recordingId"],
        id
    );
    assert_eq!(
        engagement(s, first["id"].as_str().unwrap()).await["recordingId"],
        Value::Null
    );

    // Moving the recording onto the first appointment's time keeps the manual link.
    let moved = s
        .call(
            Method::PATCH,
            "/v1/core/recordings",
            Some(&s.token),
            Some(json!({"id": id, "dateCreated": "2026-05-04T09:10:00Z", "notes": "kept"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    let m = matched(s, &id).await;
    assert_eq!(m["rule"], "MANUAL");
    assert_eq!(m["engagementId"], second["id"]);

    // Another kind of link by id sits beside it.
    let account = engagement(s, first["id"].as_str().unwrap()).await["accountId"].clone();
    let r = s
        .put(&path, json!({"dataType": "ACCOUNT", "id": account}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let got = s
        .get(&format!("/v1/core/recordings/{id}?showCrmLinks=true"))
        .await
        .body;
    assert_eq!(got["crm"]["account"]["externalId"], "acct-first", "{got}");
    assert_eq!(got["crm"]["engagement"]["externalId"], "second");

    let r = s.delete(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["data"], true);
    let m = matched(s, &id).await;
    assert_eq!(m["rule"], "MANUAL");
    assert_eq!(m["engagementId"], Value::Null);
    assert_eq!(
        engagement(s, second["id"].as_str().unwrap()).await["recordingId"],
        Value::Null
    );
    let got = s
        .get(&format!("/v1/core/recordings/{id}?showCrmLinks=true"))
        .await
        .body;
    assert_eq!(got["crm"], Value::Null);

    // Both ids, or neither, is refused; so is a record that does not exist.
    for body in [
        json!({"dataType": "ENGAGEMENT"}),
        json!({"dataType": "ENGAGEMENT", "id": first["id"], "externalId": "first", "integrationConnectionId": first["integrationConnectionId"]}),
        json!({"dataType": "MEETING", "id": first["id"]}),
    ] {
        let r = s.put(&path, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {r:?}");
    }
    let r = s
        .put(
            &path,
            json!({"dataType": "ENGAGEMENT", "id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
}

/// A deleted recording is gone, and its engagement no longer names it.
async fn a_deleted_recording_frees_its_engagement(s: &TestServer) {
    let user = s.workspace_user("rep@example.com").await;
    let e = s
        .sync(appointment(
            "x",
            "2026-06-01T09:00:00Z",
            "2026-06-01T10:00:00Z",
            "rep@example.com",
        ))
        .await;
    let older = new_id();
    let newer = new_id();
    record(
        s,
        json!({"id": older, "dateCreated": "2026-06-01T09:00:00Z", "userId": user}),
    )
    .await;
    record(
        s,
        json!({"id": newer, "dateCreated": "2026-06-01T09:30:00Z", "userId": user}),
    )
    .await;
    let eid = e["id"].as_str().unwrap();
    // The most recently linked recording is the one the engagement shows.
    assert_eq!(engagement(s, eid).await["recordingId"], newer);
    let r = s.delete(&format!("/v1/core/recordings/{newer}")).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(engagement(s, eid).await["recordingId"], older);
    s.delete(&format!("/v1/core/recordings/{older}")).await;
    assert_eq!(engagement(s, eid).await["recordingId"], Value::Null);
    for path in [
        format!("/v1/core/recordings/{older}"),
        format!("/v1/core/recordings/{older}/utterances"),
        format!("/v1/core/recordings/{older}/match"),
    ] {
        assert_eq!(s.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        s.delete(&format!("/v1/core/recordings/{older}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.get("/v1/core/recordings").await.body["data"], json!([]));
}

/// The organization's settings change which engagements are candidates.
async fn settings_round_trip_and_apply(s: &TestServer) {
    let user = s.workspace_user("rep@example.com").await;
    s.sync(appointment(
        "s",
        "2026-07-01T09:00:00Z",
        "2026-07-01T10:00:00Z",
        "rep@example.com",
    ))
    .await;
    let r = s.get("/v1/core/matching/settings").await;
    assert_eq!(
        r.body["data"],
        json!({"beforeMinutes": 60, "afterMinutes": 60, "margin": 0.15, "maxDistanceMeters": 3000})
    );
    let r = s
        .put(
            "/v1/core/matching/settings",
            json!({"beforeMinutes": 10, "afterMinutes": 5, "margin": 0.3, "maxDistanceMeters": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["data"]["maxDistanceMeters"], Value::Null);
    assert_eq!(s.get("/v1/core/matching/settings").await.body, r.body);
    let early = new_id();
    record(
        s,
        json!({"id": early, "dateCreated": "2026-07-01T08:30:00Z", "userId": user}),
    )
    .await;
    let m = matched(s, &early).await;
    assert_eq!(m["rule"], "NO_CANDIDATE", "{m}");
    assert_eq!(m["settings"]["beforeMinutes"], 10);
    for bad in [
        json!({"beforeMinutes": 1441}),
        json!({"margin": 1.5}),
        json!({"maxDistanceMeters": 50}),
        json!({"beforeMinutes": 1.5}),
        json!({"beforeMinutes": "ten"}),
        json!({"tolerance": 3}),
    ] {
        let r = s.put("/v1/core/matching/settings", bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {r:?}");
    }
    assert_eq!(s.get("/v1/core/matching/settings").await.body, r.body);
}

fn paths(r: &Reply) -> Vec<String> {
    r.body["issues"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|i| {
            i["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect()
}

/// Each bad input is a 422 naming its field, and writes nothing.
async fn bad_input_is_refused_and_nothing_written(s: &TestServer) {
    let user = s.workspace_user("rep@example.com").await;
    let base = |id: &str| json!({"id": id, "dateCreated": "2026-08-01T09:00:00Z", "userId": user});
    let with = |id: &str, key: &str, v: Value| {
        let mut b = base(id);
        b[key] = v;
        b
    };
    let long = "a".repeat(5 * 1024 * 1024 + 1);
    let cases: Vec<(Value, &str)> = vec![
        (
            with(&new_id(), "userId", json!(uuid::Uuid::now_v7().to_string())),
            "userId",
        ),
        (
            with(&new_id(), "durationInMilliseconds", json!(-1)),
            "durationInMilliseconds",
        ),
        (
            with(&new_id(), "durationInMilliseconds", json!(1.5)),
            "durationInMilliseconds",
        ),
        (
            {
                let mut b = with(&new_id(), "latitude", json!(91.0));
                b["longitude"] = json!(0.0);
                b
            },
            "latitude",
        ),
        (with(&new_id(), "latitude", json!(10.0)), "longitude"),
        (with(&new_id(), "deepLink", json!("not a link")), "deepLink"),
        (
            with(
                &new_id(),
                "deepLink",
                json!("siro://record?appointmentId=nobody"),
            ),
            "deepLink",
        ),
        (with(&new_id(), "transcript", json!(long)), "transcript"),
        (
            with(
                &new_id(),
                "utterances",
                json!([{"utterance": "x", "speakerTag": "0", "startTimeInMillis": 20, "endTimeInMillis": 10}]),
            ),
            "utterances.0.endTimeInMillis",
        ),
        (with(&new_id(), "surprise", json!(1)), "surprise"),
        (with(&new_id(), "result", json!("maybe")), "result"),
        (
            with(
                &new_id(),
                "engagementId",
                json!(uuid::Uuid::now_v7().to_string()),
            ),
            "engagementId",
        ),
        (
            with(
                &new_id(),
                "crmObjects",
                json!([{"objectType": "Opportunity", "objectId": "nope"}]),
            ),
            "crmObjects.0.objectId",
        ),
        (base("not-a-uuid"), "id"),
        (json!({"id": new_id(), "userId": user}), "dateCreated"),
    ];
    for (body, field) in cases {
        let r = record(s, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {r:?}");
        assert!(
            paths(&r).iter().any(|p| p == field),
            "{field}: {:?}",
            paths(&r)
        );
        if let Some(id) = body["id"].as_str() {
            let got = s.get(&format!("/v1/core/recordings/{id}")).await;
            assert_eq!(got.status, StatusCode::NOT_FOUND, "{field}: written anyway");
        }
    }
    // With an organization token, the user must be named.
    let r = record(
        s,
        json!({"id": new_id(), "dateCreated": "2026-08-01T09:00:00Z"}),
    )
    .await;
    assert_eq!(paths(&r), ["userId"], "{r:?}");
    assert_eq!(s.get("/v1/core/recordings").await.body["data"], json!([]));

    // The same id twice is a conflict, and the first stays as it was.
    let id = new_id();
    assert_eq!(
        record(s, with(&id, "title", json!("one"))).await.status,
        StatusCode::CREATED
    );
    let again = record(s, with(&id, "title", json!("two"))).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
    assert_eq!(
        s.get(&format!("/v1/core/recordings/{id}")).await.body["title"],
        "one"
    );
    // A bad update changes nothing either.
    let r = s
        .call(
            Method::PATCH,
            "/v1/core/recordings",
            Some(&s.token),
            Some(json!({"id": id, "title": "three", "durationInMilliseconds": -5})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(
        s.get(&format!("/v1/core/recordings/{id}")).await.body["title"],
        "one"
    );
    let r = s
        .call(
            Method::PATCH,
            "/v1/core/recordings",
            Some(&s.token),
            Some(json!({"id": new_id(), "title": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    // Query parameters are checked too.
    for q in ["createdAt:gt=yesterday", "pageSize=0", "showCrmLinks=maybe"] {
        let r = s.get(&format!("/v1/core/recordings?{q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {r:?}");
    }
    assert_eq!(
        s.get("/v1/core/recordings/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
}

/// Recordings page by cursor, each seen once.
async fn recordings_page(s: &TestServer) {
    let user = s.workspace_user("rep@example.com").await;
    let mut ids: Vec<String> = (0..7).map(|_| new_id()).collect();
    for id in &ids {
        record(
            s,
            json!({"id": id, "dateCreated": "2026-09-01T09:00:00Z", "userId": user}),
        )
        .await;
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/core/recordings?pageSize=3&cursor={c}"),
            None => "/v1/core/recordings?pageSize=3".to_owned(),
        };
        let page = s.get(&path).await.body;
        for r in page["data"].as_array().unwrap() {
            seen.push(r["id"].as_str().unwrap().to_owned());
        }
        match page["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

/// The recording's engagement link once the matching worker has caught up: polled until
/// `want` holds (the worker follows the outbox beside the requests, within a second or so).
async fn linked_eventually(s: &TestServer, id: &str, want: &Value) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let m = matched(s, id).await;
        let got = s
            .get(&format!("/v1/core/recordings/{id}?showCrmLinks=true"))
            .await
            .body;
        let linked = got["crm"]["engagement"]["id"].clone();
        if &linked == want {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the link never became {want}: {got} {m}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Matching runs again as the engagements change: a recording made before its appointment
/// is synced links when it arrives, a better appointment arriving later takes the link, a
/// reschedule away or a delete frees it, and a link made by hand never moves.
async fn links_follow_the_engagements(s: &TestServer) {
    let user = s.workspace_user("rep@example.com").await;
    let id = new_id();
    record(
        s,
        json!({"id": id, "dateCreated": "2026-10-05T09:00:00Z", "userId": user, "durationInMilliseconds": 3_600_000}),
    )
    .await;
    assert_eq!(matched(s, &id).await["rule"], "NO_CANDIDATE");

    // Late: the appointment is synced after the recording.
    let late = s
        .sync(appointment(
            "late",
            "2026-10-05T09:30:00Z",
            "2026-10-05T10:30:00Z",
            "rep@example.com",
        ))
        .await;
    linked_eventually(s, &id, &late["id"]).await;
    assert_eq!(
        engagement(s, late["id"].as_str().unwrap()).await["recordingId"],
        id
    );

    // Better: one that fits exactly arrives and beats it by more than the margin.
    let exact = s
        .sync(appointment(
            "exact",
            "2026-10-05T09:00:00Z",
            "2026-10-05T10:00:00Z",
            "rep@example.com",
        ))
        .await;
    let m = linked_eventually(s, &id, &exact["id"]).await;
    assert_eq!(m["rule"], "CLEAR_WINNER", "{m}");
    assert_eq!(
        engagement(s, late["id"].as_str().unwrap()).await["recordingId"],
        Value::Null
    );

    // Rescheduled away: the exact one moves to another day; the late one is left.
    let mut moved = appointment(
        "exact",
        "2026-10-06T09:00:00Z",
        "2026-10-06T10:00:00Z",
        "rep@example.com",
    );
    moved["subject"] = json!("Visit exact, moved");
    s.sync(moved).await;
    linked_eventually(s, &id, &late["id"]).await;

    // Deleted: nothing is left.
    let r = s
        .delete(&format!(
            "/v1/integrations/engagements/{}",
            late["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let m = linked_eventually(s, &id, &Value::Null).await;
    assert_eq!(m["rule"], "NO_CANDIDATE", "{m}");

    // A link made by hand stays when a better appointment arrives.
    let other = new_id();
    record(
        s,
        json!({"id": other, "dateCreated": "2026-10-07T09:00:00Z", "userId": user}),
    )
    .await;
    let far = s
        .sync(appointment(
            "far",
            "2026-10-07T09:50:00Z",
            "2026-10-07T10:50:00Z",
            "rep@example.com",
        ))
        .await;
    linked_eventually(s, &other, &far["id"]).await;
    let r = s
        .put(
            &format!("/v1/core/recordings/{other}/link"),
            json!({"dataType": "ENGAGEMENT", "id": far["id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // A recording the worker moves shows when it has read past the better appointment.
    let marker = new_id();
    record(
        s,
        json!({"id": marker, "dateCreated": "2026-10-07T09:00:00Z", "userId": user}),
    )
    .await;
    assert_eq!(matched(s, &marker).await["engagementId"], far["id"]);
    let near = s
        .sync(appointment(
            "near",
            "2026-10-07T09:00:00Z",
            "2026-10-07T10:00:00Z",
            "rep@example.com",
        ))
        .await;
    linked_eventually(s, &marker, &near["id"]).await;
    let m = matched(s, &other).await;
    assert_eq!(m["rule"], "MANUAL");
    assert_eq!(m["engagementId"], far["id"]);
}

/// A rematch applies settings changed since to a range of recordings: a dry run only says
/// what would move; the real one moves it, and leaves links made by hand alone.
async fn a_rematch_previews_then_applies(s: &TestServer) {
    let user = s.workspace_user("rep@example.com").await;
    let e = s
        .sync(appointment(
            "r",
            "2026-11-02T09:00:00Z",
            "2026-11-02T10:00:00Z",
            "rep@example.com",
        ))
        .await;
    let early = new_id();
    let by_hand = new_id();
    for id in [&early, &by_hand] {
        let r = record(
            s,
            json!({"id": id, "dateCreated": "2026-11-02T08:30:00Z", "userId": user}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    }
    s.put(
        &format!("/v1/core/recordings/{by_hand}/link"),
        json!({"dataType": "ENGAGEMENT", "id": e["id"]}),
    )
    .await;
    s.matching_caught_up().await;
    assert_eq!(matched(s, &early).await["engagementId"], e["id"]);
    // Settings apply to what is decided from now on; the link made stays until a rematch.
    let r = s
        .put("/v1/core/matching/settings", json!({"beforeMinutes": 10}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let linked = |v: Value| v["crm"]["engagement"]["id"].clone();
    let path = format!("/v1/core/recordings/{early}?showCrmLinks=true");
    assert_eq!(linked(s.get(&path).await.body), e["id"]);

    let range =
        json!({"from": "2026-11-01T00:00:00Z", "to": "2026-11-03T00:00:00Z", "dryRun": true});
    let r = s.post("/v1/core/matching/rematch", range.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let d = &r.body["data"];
    assert_eq!(d["dryRun"], true);
    assert_eq!(d["evaluated"], 1, "the manual one is not the rule's: {d}");
    assert_eq!(d["changed"], 1);
    assert_eq!(
        d["changes"][0],
        json!({"recordingId": early, "fromEngagementId": e["id"], "toEngagementId": null, "rule": "NO_CANDIDATE"})
    );
    assert_eq!(d["settings"]["beforeMinutes"], 10);
    assert_eq!(
        linked(s.get(&path).await.body),
        e["id"],
        "a dry run writes nothing"
    );

    let mut apply = range.clone();
    apply["dryRun"] = json!(false);
    let r = s.post("/v1/core/matching/rematch", apply.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["data"]["changed"], 1);
    assert_eq!(linked(s.get(&path).await.body), Value::Null);
    assert_eq!(
        engagement(s, e["id"].as_str().unwrap()).await["recordingId"],
        by_hand
    );
    // Again, nothing is left to change.
    let r = s.post("/v1/core/matching/rematch", apply).await;
    assert_eq!(r.body["data"]["changed"], 0, "{r:?}");
    // An empty range finds nothing.
    let r = s
        .post(
            "/v1/core/matching/rematch",
            json!({"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.body["data"]["evaluated"], 0, "{r:?}");

    for (body, status) in [
        (
            json!({"from": "2026-11-03T00:00:00Z", "to": "2026-11-01T00:00:00Z"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"to": "2026-11-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z", "dry": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"from": "yesterday", "to": "2026-11-02T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = s.post("/v1/core/matching/rematch", body.clone()).await;
        assert_eq!(r.status, status, "{body}: {r:?}");
    }
}

on_both!(
    a_rematch_previews_then_applies,
    links_follow_the_engagements,
    a_recording_at_an_appointment_links_to_it,
    no_candidate_and_ties_stay_unlinked,
    a_deep_link_decides,
    manual_links_stick,
    a_deleted_recording_frees_its_engagement,
    settings_round_trip_and_apply,
    bad_input_is_refused_and_nothing_written,
    recordings_page,
);
