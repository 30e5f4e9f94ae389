//! Mobile events through HTTP, on both backends: recorded by the app (checked against their
//! code's shape) and by Liaison for a deep link, listed with every filter of the contract and
//! paged, read one by one, and kept to a user access token's own user.

mod common;

use common::schema::assert_conforms;
use common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const EVENTS: &str = "/v1/core/mobile-events";

async fn post(s: &TestServer, body: Value) -> Reply {
    s.post(EVENTS, body).await
}

/// Every event of a page, in order, whatever array it is grouped in.
fn flat(r: &Reply) -> Vec<Value> {
    r.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {r:?}"))
        .iter()
        .flat_map(|group| group.as_array().unwrap().clone())
        .collect()
}

fn codes(r: &Reply) -> Vec<String> {
    flat(r)
        .iter()
        .map(|e| e["eventCode"].as_str().unwrap().to_owned())
        .collect()
}

async fn events_are_recorded_listed_and_read(s: &TestServer) {
    let ann = s.workspace_user("ann@example.com").await;
    let bob = s.workspace_user("bob@example.com").await;
    // A recording made from a deep link reports it received and consumed.
    s.sync(json!({"externalId": "appt-7", "subject": "Visit",
        "startTime": "2026-04-01T15:00:00Z", "endTime": "2026-04-01T16:00:00Z"}))
        .await;
    let recording = uuid::Uuid::new_v4().to_string();
    let link = "siro://record?appointmentId=appt-7&title=Visit";
    let r = s
        .put(
            "/v1/core/recordings",
            json!({"id": recording, "dateCreated": "2026-04-01T15:02:00Z", "userId": ann,
                "deepLink": link}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");

    for (user, code, event, at) in [
        (
            &ann,
            "recorderStateChange",
            json!({"value": "start", "trigger": "deeplink"}),
            "2026-04-01T15:02:01Z",
        ),
        (
            &ann,
            "networkStatusChange",
            json!({"value": "offline"}),
            "2026-04-01T15:10:00Z",
        ),
        (
            &bob,
            "appStateChange",
            json!({"value": "background"}),
            "2026-04-01T15:20:00Z",
        ),
        (
            &bob,
            "consentStatusChanged",
            json!({"status": "granted"}),
            "2026-04-01T15:30:00Z",
        ),
    ] {
        let mut body = json!({"eventCode": code, "event": event, "userId": user, "createdAt": at});
        if user == &ann {
            body["recordingId"] = json!(recording);
            body["externalOpportunityIds"] = json!(["opp-7"]);
        }
        let r = post(s, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{code}: {r:?}");
        assert_conforms(&format!("{EVENTS}/{{id}}"), "get", 200, &r.body);
        let one = s
            .get(&format!("{EVENTS}/{}", r.body["id"].as_str().unwrap()))
            .await;
        assert_eq!(one.status, StatusCode::OK, "{one:?}");
        assert_eq!(one.body, r.body);
    }

    let all = s.get(EVENTS).await;
    assert_eq!(all.status, StatusCode::OK, "{all:?}");
    assert_conforms(EVENTS, "get", 200, &all.body);
    assert_eq!(
        codes(&all),
        [
            "deeplinkReceived",
            "deeplinkConsumed",
            "recorderStateChange",
            "networkStatusChange",
            "appStateChange",
            "consentStatusChanged"
        ]
    );
    // One array for Ann's recording, one for Bob's events of none.
    let groups = all.body["data"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{all:?}");
    assert_eq!(groups[0].as_array().unwrap().len(), 4);
    let received = &groups[0][0];
    assert_eq!(received["event"], json!({"fullUrl": link}));
    assert_eq!(received["recordingId"], recording);
    assert_eq!(received["userId"], ann);
    assert!(groups[1][0].get("recordingId").is_none(), "{all:?}");

    for (query, want) in [
        ("eventCode=deeplinkConsumed", vec!["deeplinkConsumed"]),
        (
            "eventCodeIn=appStateChange&eventCodeIn=networkStatusChange",
            vec!["networkStatusChange", "appStateChange"],
        ),
        (
            "eventCodeIn=appStateChange,consentStatusChanged",
            vec!["appStateChange", "consentStatusChanged"],
        ),
        (
            &format!("userId={bob}"),
            vec!["appStateChange", "consentStatusChanged"],
        ),
        (
            &format!("recordingId={recording}&eventCode=recorderStateChange"),
            vec!["recorderStateChange"],
        ),
        (
            "createdAtGt=2026-04-01T15:05:00Z&createdAtLt=2026-04-01T15:25:00Z",
            vec!["networkStatusChange", "appStateChange"],
        ),
        (
            "eventCode=appStateChange&eventCodeIn=appStateChange,networkStatusChange",
            vec!["appStateChange"],
        ),
        (
            "eventCode=appStateChange&eventCodeIn=networkStatusChange",
            vec![],
        ),
    ] {
        let r = s.get(&format!("{EVENTS}?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {r:?}");
        assert_eq!(codes(&r), want, "{query}");
    }

    // Pages of two see every event once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{EVENTS}?pageSize=2&cursor={c}"),
            None => format!("{EVENTS}?pageSize=2"),
        };
        let r = s.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert!(flat(&r).len() <= 2);
        seen.extend(codes(&r));
        match r.body["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, codes(&all));

    let eleven = (0..11)
        .map(|_| "eventCodeIn=appStateChange")
        .collect::<Vec<_>>()
        .join("&");
    for query in [
        "eventCode=recorderStarted".to_owned(),
        "eventCode=".to_owned(),
        "eventCodeIn=".to_owned(),
        "eventCodeIn=appStateChange,,networkStatusChange".to_owned(),
        eleven,
        "userId=ann".to_owned(),
        "createdAtGt=yesterday".to_owned(),
        "pageSize=0".to_owned(),
        "pageSize=1001".to_owned(),
        "cursor=forged".to_owned(),
    ] {
        let r = s.get(&format!("{EVENTS}?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {r:?}");
    }
    for path in [
        format!("{EVENTS}/nothing"),
        format!("{EVENTS}/{}", uuid::Uuid::now_v7()),
    ] {
        assert_eq!(s.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
}

async fn bad_events_are_refused_and_nothing_written(s: &TestServer) {
    let ann = s.workspace_user("ann@example.com").await;
    for (body, path) in [
        (
            json!({"eventCode": "recorderStateChange", "event": {"value": "rewind", "trigger": "unknown"}, "userId": ann}),
            json!(["event", "value"]),
        ),
        (
            json!({"eventCode": "recorderStateChange", "event": {"value": "stop"}, "userId": ann}),
            json!(["event", "trigger"]),
        ),
        (
            json!({"eventCode": "networkStatusChange", "event": {"value": "online", "speed": 3}, "userId": ann}),
            json!(["event", "speed"]),
        ),
        (
            json!({"eventCode": "recordingMetadataChanged", "event": {"title": 7}, "userId": ann}),
            json!(["event", "title"]),
        ),
        (
            json!({"eventCode": "teleport", "event": {}, "userId": ann}),
            json!(["eventCode"]),
        ),
        (
            json!({"eventCode": "appStateChange", "userId": ann}),
            json!(["event"]),
        ),
        (
            json!({"eventCode": "appStateChange", "event": "active", "userId": ann}),
            json!(["event"]),
        ),
        (
            json!({"eventCode": "appStateChange", "event": {"value": "active"}}),
            json!(["userId"]),
        ),
        (
            json!({"eventCode": "appStateChange", "event": {"value": "active"}, "userId": uuid::Uuid::now_v7()}),
            json!(["userId"]),
        ),
        (
            json!({"eventCode": "appStateChange", "event": {"value": "active"}, "userId": ann, "recordingId": uuid::Uuid::now_v7()}),
            json!(["recordingId"]),
        ),
        (
            json!({"eventCode": "appStateChange", "event": {"value": "active"}, "userId": ann, "mood": "good"}),
            json!(["mood"]),
        ),
        (
            json!({"eventCode": "appStateChange", "event": {"value": "active"}, "userId": ann, "createdAt": "soon"}),
            json!(["createdAt"]),
        ),
    ] {
        let r = post(s, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {r:?}");
        let paths: Vec<Value> = r.body["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["path"].clone())
            .collect();
        assert_eq!(paths, vec![path], "{body}");
    }
    // Another user's recording is not this event's.
    let bob = s.workspace_user("bob@example.com").await;
    let bobs = uuid::Uuid::new_v4().to_string();
    let r = s
        .put(
            "/v1/core/recordings",
            json!({"id": bobs, "dateCreated": "2026-04-02T09:00:00Z", "userId": bob}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let body = json!({"eventCode": "appStateChange", "event": {"value": "active"},
        "userId": ann, "recordingId": bobs});
    let r = post(s, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.body["issues"][0]["path"], json!(["recordingId"]));
    assert_eq!(flat(&s.get(EVENTS).await), Vec::<Value>::new());
}

/// A user access token records its own user's events and reads nothing else; an API token
/// without write scope records nothing.
async fn a_user_token_keeps_to_its_user(s: &TestServer) {
    let ann = s.workspace_user("ann@example.com").await;
    let bob = s.workspace_user("bob@example.com").await;
    let org = s.get("/v1/core/auth/caller-identity").await.body["organizationId"].clone();
    let app = s
        .post(
            "/v1/core/oauth/apps",
            json!({"appName": "Field app", "owner": ann, "organizationId": org}),
        )
        .await;
    let client = app.body["clientID"].as_str().unwrap();
    let issued = s
        .post(
            &format!("/v1/core/oauth/apps/{client}/access-token"),
            json!({"clientSecret": app.body["clientSecret"], "userId": ann, "scope": "write"}),
        )
        .await;
    let token = issued.body["accessToken"].as_str().unwrap();
    let body = json!({"eventCode": "userAuthStatusChanged", "event": {"status": "authenticated"}});
    let r = s
        .as_user(Method::POST, EVENTS, token, Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["userId"], ann);
    let mut for_bob = body.clone();
    for_bob["userId"] = json!(bob);
    let r = s
        .as_user(Method::POST, EVENTS, token, Some(for_bob.clone()))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(post(s, for_bob).await.status, StatusCode::CREATED);
    // The list is the org-token contract's.
    let r = s.as_user(Method::GET, EVENTS, token, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(flat(&s.get(EVENTS).await).len(), 2);
    let reader = s.token_for("acme", "crm", "read").await;
    let r = s
        .call(Method::POST, EVENTS, Some(&reader), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
}

on_both!(
    events_are_recorded_listed_and_read,
    bad_events_are_refused_and_nothing_written,
    a_user_token_keeps_to_its_user,
);
