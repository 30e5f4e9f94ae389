//! OAuth apps and user access tokens through HTTP, on both backends: an app issues tokens
//! that record for their user in `x-siro-auth-token`, `read` tokens only read, revoking a
//! token or deleting its app shuts it out, lists page and sort as the contract has them, and
//! bad requests are refused with nothing written.

mod common;

use common::schema::assert_conforms;
use common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const APPS: &str = "/v1/core/oauth/apps";

async fn org_of(s: &TestServer, token: &str) -> String {
    let r = s
        .call(
            Method::GET,
            "/v1/core/auth/caller-identity",
            Some(token),
            None,
        )
        .await;
    r.body["organizationId"].as_str().unwrap().to_owned()
}

/// Registers an app owned by `owner`: its client id and secret.
async fn app(s: &TestServer, name: &str, owner: &str) -> (String, String) {
    let org = org_of(s, &s.token).await;
    let r = s
        .post(
            APPS,
            json!({"appName": name, "owner": owner, "organizationId": org}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_conforms(APPS, "post", 201, &r.body);
    assert_eq!(r.body["appName"], name);
    let secret = r.body["clientSecret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("lics_"), "{secret}");
    (r.body["clientID"].as_str().unwrap().to_owned(), secret)
}

async fn issue(s: &TestServer, client: &str, secret: &str, user: &str, scope: &str) -> Reply {
    s.post(
        &format!("{APPS}/{client}/access-token"),
        json!({"clientSecret": secret, "userId": user, "scope": scope}),
    )
    .await
}

/// Issues a token: its id and the token itself.
async fn token(
    s: &TestServer,
    client: &str,
    secret: &str,
    user: &str,
    scope: &str,
) -> (String, String) {
    let r = issue(s, client, secret, user, scope).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_conforms(
        &format!("{APPS}/{{clientId}}/access-token"),
        "post",
        201,
        &r.body,
    );
    let t = r.body["accessToken"].as_str().unwrap().to_owned();
    assert!(t.starts_with("liat_"), "{t}");
    (r.body["accessTokenId"].as_str().unwrap().to_owned(), t)
}

async fn revoke_token(s: &TestServer, path: &str, secret: &str, user: &str) -> Reply {
    let body = json!({"clientSecret": secret, "userId": user});
    s.call(Method::DELETE, path, Some(&s.token), Some(body))
        .await
}

fn recording(id: &str, at: &str) -> Value {
    json!({"id": id, "dateCreated": at, "title": "Kitchen visit",
        "durationInMilliseconds": 1_800_000})
}

async fn apps_issue_tokens_that_act_for_their_user(s: &TestServer) {
    let ann = s.workspace_user("ann@example.com").await;
    let (client, secret) = app(s, "Field app", &ann).await;
    let r = s.get(&format!("{APPS}/{client}")).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms(&format!("{APPS}/{{clientId}}"), "get", 200, &r.body);
    let a = &r.body["data"];
    assert_eq!(
        (
            &a["appName"],
            &a["clientId"],
            &a["owner"],
            &a["deleted"],
            &a["deletedAt"]
        ),
        (
            &json!("Field app"),
            &json!(client),
            &json!(ann),
            &json!(false),
            &Value::Null
        )
    );
    assert_eq!(a["organizationId"], org_of(s, &s.token).await);

    let (write_id, write) = token(s, &client, &secret, &ann, "write").await;
    let r = s
        .get(&format!("{APPS}/{client}/access-token/{write_id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms(
        &format!("{APPS}/{{clientId}}/access-token/{{tokenId}}"),
        "get",
        200,
        &r.body,
    );
    let t = &r.body["data"];
    assert_eq!(
        (
            &t["oAuthAppId"],
            &t["userId"],
            &t["subject"],
            &t["scope"],
            &t["revokedAt"]
        ),
        (
            &json!(client),
            &json!(ann),
            &json!(ann),
            &json!("write"),
            &Value::Null
        )
    );
    let created = chrono::DateTime::parse_from_rfc3339(t["createdAt"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(t["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, chrono::Duration::hours(16));

    // The token records for its user: no `userId` needed.
    let id = uuid::Uuid::new_v4().to_string();
    let body = recording(&id, "2026-03-02T15:00:00Z");
    let r = s
        .as_user(Method::PUT, "/v1/core/recordings", &write, Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let path = format!("/v1/core/recordings/{id}");
    let mine = s.as_user(Method::GET, &path, &write, None).await;
    assert_eq!(mine.status, StatusCode::OK, "{mine:?}");
    assert_eq!(mine.body["userId"], ann);
    assert_eq!(
        mine.body,
        s.get(&path).await.body,
        "both credentials read the same"
    );

    // It is taken by the user-scoped operations only.
    for path in [
        "/v1/integrations/engagements",
        APPS,
        "/v1/core/matching/settings",
    ] {
        let r = s.as_user(Method::GET, path, &write, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {r:?}");
        assert!(
            r.body["error"]
                .as_str()
                .unwrap()
                .contains("organization API token"),
            "{path}: {r:?}"
        );
    }
    // An API token is no access token, nor the other way round.
    let r = s.as_user(Method::GET, &path, &s.token, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    let r = s.call(Method::GET, &path, Some(&write), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");

    // A `read` token reads and writes nothing.
    let (_, read) = token(s, &client, &secret, &ann, "read").await;
    let r = s.as_user(Method::GET, &path, &read, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let other = uuid::Uuid::new_v4().to_string();
    let body = recording(&other, "2026-03-02T16:00:00Z");
    let r = s
        .as_user(Method::PUT, "/v1/core/recordings", &read, Some(body))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    let r = s.as_user(Method::DELETE, &path, &read, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(
        s.get(&format!("/v1/core/recordings/{other}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Revoking proves the app's secret and names the token's user.
    let revoke = format!("{APPS}/{client}/access-token/{write_id}");
    let bob = s.workspace_user("bob@example.com").await;
    for (body, status) in [
        (None, StatusCode::BAD_REQUEST),
        (
            Some(json!({"clientSecret": "lics_no", "userId": ann})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(json!({"clientSecret": secret, "userId": bob})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(json!({"clientSecret": secret})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = s
            .call(Method::DELETE, &revoke, Some(&s.token), body.clone())
            .await;
        assert_eq!(r.status, status, "{body:?}: {r:?}");
    }
    let r = s.as_user(Method::GET, &path, &write, None).await;
    assert_eq!(r.status, StatusCode::OK, "still live: {r:?}");
    // A revoked token is refused at once; revoking it again changes nothing.
    for _ in 0..2 {
        let r = revoke_token(s, &revoke, &secret, &ann).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_conforms(
            &format!("{APPS}/{{clientId}}/access-token/{{tokenId}}"),
            "delete",
            200,
            &r.body,
        );
        assert_eq!(r.body, json!({"tokenId": write_id}));
    }
    let r = s.as_user(Method::GET, &path, &write, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert!(!s.get(&revoke).await.body["data"]["revokedAt"].is_null());

    // Deleting the app revokes every token it issued, and it issues no more.
    let r = s.delete(&format!("{APPS}/{client}")).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms(&format!("{APPS}/{{clientId}}"), "delete", 200, &r.body);
    assert_eq!(r.body, json!({"clientId": client}));
    let r = s.as_user(Method::GET, &path, &read, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    let gone = s.get(&format!("{APPS}/{client}")).await;
    assert_eq!(gone.body["data"]["deleted"], true, "{gone:?}");
    assert!(gone.body["data"]["deletedAt"].is_string(), "{gone:?}");
    let r = issue(s, &client, &secret, &ann, "write").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
}

/// A user's token sees and changes that user's recordings only, unless the user is an
/// administrator; keys the contract does not name are ignored, as its validator does.
async fn a_token_keeps_to_its_user(s: &TestServer) {
    let ann = s.workspace_user("ann@example.com").await;
    let bob = s.workspace_user("bob@example.com").await;
    let org = org_of(s, &s.token).await;
    let boss = {
        let body = json!({"email": "boss@example.com", "organizationId": org, "isAdmin": true});
        let r = s.post("/v1/core/users", body).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.body["id"].as_str().unwrap().to_owned()
    };
    let body = json!({"appName": "Field app", "owner": ann, "organizationId": org, "extra": 1});
    let r = s.post(APPS, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let client = r.body["clientID"].as_str().unwrap().to_owned();
    let secret = r.body["clientSecret"].as_str().unwrap().to_owned();
    let body = json!({"clientId": client, "clientSecret": secret, "userId": ann, "scope": "write"});
    let r = s.post(&format!("{APPS}/{client}/access-token"), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let anns = r.body["accessToken"].as_str().unwrap().to_owned();
    let (_, boss_token) = token(s, &client, &secret, &boss, "read").await;

    let bobs_recording = uuid::Uuid::new_v4().to_string();
    let mut body = recording(&bobs_recording, "2026-03-03T10:00:00Z");
    body["userId"] = json!(bob);
    assert_eq!(
        s.put("/v1/core/recordings", body.clone()).await.status,
        StatusCode::CREATED
    );
    let anns_recording = uuid::Uuid::new_v4().to_string();
    let r = s
        .as_user(
            Method::PUT,
            "/v1/core/recordings",
            &anns,
            Some(recording(&anns_recording, "2026-03-03T11:00:00Z")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");

    // Ann records for nobody else, and finds only her own.
    let mut for_bob = recording(&uuid::Uuid::new_v4().to_string(), "2026-03-03T12:00:00Z");
    for_bob["userId"] = json!(bob);
    let r = s
        .as_user(Method::PUT, "/v1/core/recordings", &anns, Some(for_bob))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    let bobs = format!("/v1/core/recordings/{bobs_recording}");
    for (method, path) in [
        (Method::GET, bobs.clone()),
        (Method::GET, format!("{bobs}/utterances")),
        (Method::DELETE, bobs.clone()),
    ] {
        let r = s.as_user(method.clone(), &path, &anns, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {r:?}");
    }
    let ids = |r: &Reply| -> Vec<String> {
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = s
        .as_user(Method::GET, "/v1/core/recordings", &anns, None)
        .await;
    assert_eq!(ids(&r), [anns_recording.as_str()], "{r:?}");
    // The administrator's token, like an API token, sees everyone's.
    let r = s
        .as_user(Method::GET, "/v1/core/recordings", &boss_token, None)
        .await;
    assert_eq!(ids(&r).len(), 2, "{r:?}");
    let r = s.as_user(Method::GET, &bobs, &boss_token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        s.get(&bobs).await.status,
        StatusCode::OK,
        "Bob's recording is still there"
    );
}

async fn list(s: &TestServer, path: &str) -> Reply {
    let r = s.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {r:?}");
    r
}

fn names(r: &Reply, key: &str) -> Vec<String> {
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a[key].as_str().unwrap().to_owned())
        .collect()
}

async fn lists_page_and_sort(s: &TestServer) {
    let ann = s.workspace_user("ann@example.com").await;
    let bob = s.workspace_user("bob@example.com").await;
    let org = org_of(s, &s.token).await;
    let mut made = Vec::new();
    for name in ["first", "second", "third"] {
        made.push(app(s, name, &ann).await);
    }
    app(s, "bob's", &bob).await;
    let of_ann = format!("{APPS}?organizationId={org}&owner={ann}");

    let newest = list(s, &of_ann).await;
    assert_conforms(APPS, "get", 200, &newest.body);
    assert_eq!(names(&newest, "appName"), ["third", "second", "first"]);
    assert_eq!(newest.body["limit"], 100);
    let oldest = list(
        s,
        &format!("{of_ann}&sortDirection=asc&sortField=dateUpdated"),
    )
    .await;
    assert_eq!(names(&oldest, "appName"), ["first", "second", "third"]);

    // By cursor, each app once; by page number, the same split.
    let first = list(s, &format!("{of_ann}&limit=2")).await;
    assert_eq!(names(&first, "appName"), ["third", "second"]);
    assert_eq!(first.body["hasNextPage"], true);
    let cursor = first.body["cursor"].as_str().unwrap();
    let rest = list(s, &format!("{of_ann}&limit=2&cursor={cursor}")).await;
    assert_eq!(names(&rest, "appName"), ["first"]);
    assert_eq!(
        (&rest.body["hasNextPage"], &rest.body["cursor"]),
        (&json!(false), &Value::Null)
    );
    let page_two = list(s, &format!("{of_ann}&limit=2&page=2")).await;
    assert_eq!(names(&page_two, "appName"), ["first"]);
    let later = list(s, &format!("{of_ann}&fromDate=2999-01-01T00:00:00Z")).await;
    assert_eq!(names(&later, "appName"), Vec::<String>::new());
    let earlier = list(s, &format!("{of_ann}&toDate=2999-01-01T00:00:00Z")).await;
    assert_eq!(names(&earlier, "appName").len(), 3);

    // Tokens: the app's, all or one user's.
    let (client, secret) = &made[0];
    for who in [&ann, &ann, &bob] {
        token(s, client, secret, who, "read").await;
    }
    let (other_client, other_secret) = &made[1];
    token(s, other_client, other_secret, &ann, "read").await;
    let tokens = format!("{APPS}/{client}/access-token");
    let anns = list(s, &format!("{tokens}?owner={ann}")).await;
    assert_conforms(
        &format!("{APPS}/{{clientId}}/access-token"),
        "get",
        200,
        &anns.body,
    );
    assert_eq!(names(&anns, "userId"), [ann.clone(), ann.clone()]);
    let bobs = list(s, &format!("{tokens}?owner={bob}&limit=1")).await;
    assert_eq!(names(&bobs, "userId"), [bob.as_str()]);
    assert_eq!(bobs.body["hasNextPage"], false);

    // A cursor belongs to its list.
    let bad = [
        (format!("{APPS}?owner={ann}"), StatusCode::BAD_REQUEST),
        (
            format!("{APPS}?organizationId={org}"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{APPS}?organizationId={org}&owner=ann"),
            StatusCode::BAD_REQUEST,
        ),
        (format!("{of_ann}&limit=101"), StatusCode::BAD_REQUEST),
        (format!("{of_ann}&limit=0"), StatusCode::BAD_REQUEST),
        (
            format!("{of_ann}&sortField=appName"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{of_ann}&sortDirection=up"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{of_ann}&fromDate=yesterday"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{of_ann}&sortDirection=asc&cursor={cursor}"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{tokens}?owner={ann}&cursor={cursor}"),
            StatusCode::BAD_REQUEST,
        ),
        (tokens.clone(), StatusCode::BAD_REQUEST),
        (
            format!("{APPS}?organizationId={}&owner={ann}", uuid::Uuid::now_v7()),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (path, status) in bad {
        let r = s.get(&path).await;
        assert_eq!(r.status, status, "{path}: {r:?}");
        assert!(r.body["error"].is_string(), "{path}: {r:?}");
    }
}

fn issue_path(r: &Reply) -> Vec<Value> {
    r.body["issues"]
        .as_array()
        .unwrap_or_else(|| panic!("no issues: {r:?}"))
        .iter()
        .map(|i| i["path"].clone())
        .collect()
}

async fn bad_requests_are_refused_and_nothing_written(s: &TestServer) {
    let ann = s.workspace_user("ann@example.com").await;
    let org = org_of(s, &s.token).await;
    let (client, secret) = app(s, "Field app", &ann).await;
    let of_org = format!("{APPS}?organizationId={org}&owner={ann}");
    let apps_before = list(s, &of_org).await.body;
    let tokens = format!("{APPS}/{client}/access-token?owner={ann}");

    for (body, path) in [
        (
            json!({"appName": "x", "owner": uuid::Uuid::now_v7(), "organizationId": org}),
            json!(["owner"]),
        ),
        (
            json!({"appName": "x", "owner": "ann", "organizationId": org}),
            json!(["owner"]),
        ),
        (
            json!({"appName": "", "owner": ann, "organizationId": org}),
            json!(["appName"]),
        ),
        (
            json!({"owner": ann, "organizationId": org}),
            json!(["appName"]),
        ),
    ] {
        let r = s.post(APPS, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {r:?}");
        assert_eq!(r.body["name"], "ZodError");
        assert_eq!(issue_path(&r), vec![path], "{body}");
    }
    let elsewhere = json!({"appName": "x", "owner": ann, "organizationId": uuid::Uuid::now_v7()});
    assert_eq!(s.post(APPS, elsewhere).await.status, StatusCode::NOT_FOUND);
    assert_eq!(list(s, &of_org).await.body, apps_before);

    for (body, path) in [
        (
            json!({"clientSecret": "lics_wrong", "userId": ann, "scope": "read"}),
            json!(["clientSecret"]),
        ),
        (
            json!({"clientSecret": secret, "userId": uuid::Uuid::now_v7(), "scope": "read"}),
            json!(["userId"]),
        ),
        (
            json!({"clientSecret": secret, "userId": ann, "scope": "admin"}),
            json!(["scope"]),
        ),
        (
            json!({"clientSecret": secret, "userId": ann}),
            json!(["scope"]),
        ),
        (
            json!({"clientSecret": secret, "userId": ann, "scope": "Read"}),
            json!(["scope"]),
        ),
    ] {
        let r = s
            .post(&format!("{APPS}/{client}/access-token"), body.clone())
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {r:?}");
        assert_eq!(issue_path(&r), vec![path], "{body}");
    }
    assert_eq!(
        names(&list(s, &tokens).await, "userId"),
        Vec::<String>::new()
    );

    // Another organization's apps are not there; a token without `users:write` makes none.
    let globex = s.token_for("globex", "crm", "all").await;
    let r = s
        .call(
            Method::GET,
            &format!("{APPS}/{client}"),
            Some(&globex),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let r = s
        .call(
            Method::DELETE,
            &format!("{APPS}/{client}"),
            Some(&globex),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let body = json!({"clientSecret": secret, "userId": ann, "scope": "read"});
    let r = s
        .call(
            Method::POST,
            &format!("{APPS}/{client}/access-token"),
            Some(&globex),
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let reader = s.token_for("acme", "crm", "read").await;
    let body = json!({"appName": "x", "owner": ann, "organizationId": org});
    let r = s.call(Method::POST, APPS, Some(&reader), Some(body)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    let r = s.call(Method::GET, &of_org, Some(&reader), None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    for path in [
        format!("{APPS}/not-an-id"),
        format!("{APPS}/{}", uuid::Uuid::now_v7()),
        format!("{APPS}/{client}/access-token/{}", uuid::Uuid::now_v7()),
    ] {
        assert_eq!(s.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(list(s, &of_org).await.body, apps_before);

    // A disabled user gets no token, and a disabled user's token stops working at once, even
    // one this server has just verified.
    let (_, live) = token(s, &client, &secret, &ann, "read").await;
    let r = s
        .as_user(Method::GET, "/v1/core/recordings", &live, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let disable = Some(json!({"disabled": true}));
    let r = s
        .call(
            Method::PUT,
            &format!("/v1/core/users/{ann}"),
            Some(&s.token),
            disable,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let body = json!({"clientSecret": secret, "userId": ann, "scope": "read"});
    let r = s.post(&format!("{APPS}/{client}/access-token"), body).await;
    assert_eq!(issue_path(&r), vec![json!(["userId"])], "{r:?}");
    let r = s
        .as_user(Method::GET, "/v1/core/recordings", &live, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
}

on_both!(
    apps_issue_tokens_that_act_for_their_user,
    a_token_keeps_to_its_user,
    lists_page_and_sort,
    bad_requests_are_refused_and_nothing_written,
);

/// A token outlives nothing: past its lifetime (here one second, from an engine on the same
/// database) the server refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_expires() {
    let s = common::sqlite().await;
    let ann = s.workspace_user("ann@example.com").await;
    let (client, secret) = app(&s, "Field app", &ann).await;
    let store = liaison::open_sqlite(&s.database_url).await.expect("sqlite");
    let engine = liaison_engine::Engine::new(store)
        .await
        .expect("engine")
        .with_access_token_ttl(std::time::Duration::from_secs(1));
    let caller = engine.authenticate(&s.token).await.expect("caller");
    let issued = engine
        .create_access_token(
            &caller,
            liaison_domain::ClientId::parse(&client).unwrap(),
            &secret,
            liaison_domain::UserId::parse(&ann).unwrap(),
            liaison_domain::scope::AccessScope::Read,
        )
        .await
        .expect("token");
    let r = s
        .as_user(Method::GET, "/v1/core/recordings", &issued.secret, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let r = s
        .as_user(Method::GET, "/v1/core/recordings", &issued.secret, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert!(r.headers.contains_key("www-authenticate"));
    s.stop().await;
}
