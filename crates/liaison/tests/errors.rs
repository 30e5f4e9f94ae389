//! Bad input and bad credentials, through HTTP, on both backends: every refusal has the right
//! status and envelope, names the field, and changes nothing.

mod common;

use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SYNC: &str = "/v1/integrations/sync/engagements";

fn paths(r: &common::Reply) -> Vec<Value> {
    r.body["issues"]
        .as_array()
        .unwrap_or_else(|| panic!("no issues in {r:?}"))
        .iter()
        .map(|i| i["path"].clone())
        .collect()
}

/// Asserts a 422 in the Zod envelope whose issues name exactly `expected` paths.
fn assert_issues(r: &common::Reply, expected: &[Value]) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.body["name"], "ZodError");
    for issue in r.body["issues"].as_array().unwrap() {
        assert!(
            issue["code"].is_string() && issue["message"].is_string(),
            "{issue}"
        );
    }
    let mut got = paths(r);
    got.sort_by_key(|v| v.to_string());
    let mut want = expected.to_vec();
    want.sort_by_key(|v| v.to_string());
    assert_eq!(got, want, "{r:?}");
}

async fn nothing_stored(s: &TestServer) {
    let list = s.get("/v1/integrations/engagements").await;
    assert_eq!(
        list.body["data"],
        json!([]),
        "a refused write stored something"
    );
    assert_eq!(s.get("/v1/integrations/accounts").await.body, json!([]));
}

async fn malformed_json_is_400_saying_where(s: &TestServer) {
    let r = s
        .raw(
            Method::PUT,
            SYNC,
            b"{\"externalId\": \"x\",\n \"subject\": }".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let msg = r.body["error"].as_str().unwrap();
    assert!(msg.contains("line 2"), "{msg}");
    let r = s.raw(Method::PUT, SYNC, Vec::new()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"].is_string());
    let r = s.raw(Method::PUT, SYNC, b"[1, 2]".to_vec()).await;
    assert_issues(&r, &[json!([])]);
    nothing_stored(s).await;
}

async fn every_bad_field_is_named(s: &TestServer) {
    let r = s
        .put(
            SYNC,
            json!({
                "direction": "SIDEWAYS",
                "subject": 42,
                "startTime": "next tuesday",
                "deletedAt": "yesterday",
                "engagementType": {"name": "X", "activityType": "LUNCH"},
                "engagementUsers": [{"name": "no id", "shareOfSale": 1.5}, {"externalId": "ok", "shareOfSale": -0.1}],
                "opportunity": {"externalId": "o", "amount": -1, "disposition": "MAYBE"},
                "account": {"name": "no external id", "latitude": "north"},
                "contact": {"externalId": "c", "account": {"externalId": 7}},
                "lead": "not an object"
            }),
        )
        .await;
    assert_issues(
        &r,
        &[
            json!(["externalId"]),
            json!(["direction"]),
            json!(["subject"]),
            json!(["startTime"]),
            json!(["deletedAt"]),
            json!(["engagementType", "activityType"]),
            json!(["engagementUsers", 0, "externalId"]),
            json!(["engagementUsers", 0, "shareOfSale"]),
            json!(["engagementUsers", 1, "shareOfSale"]),
            json!(["opportunity", "amount"]),
            json!(["opportunity", "disposition"]),
            json!(["account", "externalId"]),
            json!(["account", "latitude"]),
            json!(["contact", "account", "externalId"]),
            json!(["lead"]),
        ],
    );
    let issues = r.body["issues"].as_array().unwrap();
    let by_path = |p: Value| issues.iter().find(|i| i["path"] == p).unwrap().clone();
    assert_eq!(by_path(json!(["externalId"]))["message"], "Required");
    assert_eq!(by_path(json!(["direction"]))["code"], "invalid_enum_value");
    assert_eq!(by_path(json!(["subject"]))["expected"], "string");
    assert_eq!(by_path(json!(["subject"]))["received"], "number");
    assert_eq!(by_path(json!(["startTime"]))["code"], "invalid_date");
    assert_eq!(
        by_path(json!(["opportunity", "amount"]))["code"],
        "too_small"
    );
    assert_eq!(
        by_path(json!(["engagementUsers", 0, "shareOfSale"]))["code"],
        "too_big"
    );
    nothing_stored(s).await;
}

async fn empty_external_id_is_refused(s: &TestServer) {
    let r = s.put(SYNC, json!({"externalId": "  "})).await;
    assert_issues(&r, &[json!(["externalId"])]);
    let r = s.put(SYNC, json!({"externalId": null})).await;
    assert_issues(&r, &[json!(["externalId"])]);
}

async fn end_before_start_is_refused(s: &TestServer) {
    let r = s
        .put(SYNC, json!({"externalId": "t", "startTime": "2026-01-01T10:00:00Z", "endTime": "2026-01-01T09:00:00Z"}))
        .await;
    assert_issues(&r, &[json!(["endTime"])]);
    nothing_stored(s).await;
    // Moving one end past the stored other end is refused too, and changes nothing.
    s.sync(json!({"externalId": "t", "startTime": "2026-01-01T10:00:00Z", "endTime": "2026-01-01T11:00:00Z"}))
        .await;
    let r = s
        .put(
            SYNC,
            json!({"externalId": "t", "endTime": "2026-01-01T08:00:00Z"}),
        )
        .await;
    assert_issues(&r, &[json!(["endTime"])]);
    let e = s
        .get("/v1/integrations/engagements?externalId=t")
        .await
        .body["data"][0]
        .clone();
    assert_eq!(e["endTime"], "2026-01-01T11:00:00.000Z");
}

async fn opportunity_bad_input(s: &TestServer) {
    let r = s
        .put(
            "/v1/integrations/sync/opportunities",
            json!({"amount": "lots", "closedAt": "soon", "accountId": 5, "opportunityUsers": {"externalId": "x"}}),
        )
        .await;
    assert_issues(
        &r,
        &[
            json!(["externalId"]),
            json!(["amount"]),
            json!(["closedAt"]),
            json!(["accountId"]),
            json!(["opportunityUsers"]),
        ],
    );
    // An accountId override must name an account of this organization.
    let r = s
        .put(
            "/v1/integrations/sync/opportunities",
            json!({"externalId": "o", "accountId": uuid::Uuid::now_v7().to_string()}),
        )
        .await;
    assert_issues(&r, &[json!(["accountId"])]);
    assert_eq!(
        s.get("/v1/integrations/opportunities").await.body["data"],
        json!([])
    );
}

async fn oversized_bodies_are_413(s: &TestServer) {
    let big = "x".repeat(1024 * 1024 + 1);
    let r = s
        .put(SYNC, json!({"externalId": "big", "content": big}))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{r:?}");
    assert!(r.body["error"].is_string());
    // A batch may be up to 10 MiB...
    let items: Vec<Value> = (0..4)
        .map(|i| json!({"externalId": format!("b{i}"), "content": "y".repeat(600_000)}))
        .collect();
    let r = s
        .put(
            "/v1/integrations/sync/batch/engagements",
            Value::Array(items),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.status);
    // ...but not more, and at most 1,000 items.
    let items: Vec<Value> = (0..11)
        .map(|i| json!({"externalId": format!("c{i}"), "content": "y".repeat(1_000_000)}))
        .collect();
    let r = s
        .put(
            "/v1/integrations/sync/batch/engagements",
            Value::Array(items),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The unread rest of the body leaves the connection unusable; the client is told so.
    assert_eq!(r.headers["connection"], "close");
    let items: Vec<Value> = (0..1001)
        .map(|i| json!({"externalId": format!("d{i}")}))
        .collect();
    let r = s
        .put(
            "/v1/integrations/sync/batch/engagements",
            Value::Array(items),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body["error"].as_str().unwrap().contains("1000"));
    let r = s
        .put(
            "/v1/integrations/sync/batch/opportunities",
            json!({"externalId": "not an array"}),
        )
        .await;
    assert_issues(&r, &[json!([])]);
    let list = s.get("/v1/integrations/engagements?limit=1000").await.body;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        4,
        "only the accepted batch landed"
    );
}

async fn unknown_and_foreign_ids_are_404(s: &TestServer) {
    let e = s
        .sync(json!({"externalId": "mine", "account": {"externalId": "acc"}}))
        .await;
    let id = e["id"].as_str().unwrap();
    let other = s.token_for("globex", "crm", "all").await;
    for path in [
        format!("/v1/integrations/engagements/{id}"),
        format!(
            "/v1/integrations/accounts/{}",
            e["accountId"].as_str().unwrap()
        ),
        format!("/v1/integrations/opportunities/{}", uuid::Uuid::now_v7()),
        "/v1/integrations/engagements/mine?idType=external".to_owned(),
    ] {
        let r = s.call(Method::GET, &path, Some(&other), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {r:?}");
        assert!(r.body["error"].is_string());
        let r = s.call(Method::DELETE, &path, Some(&other), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    for path in [
        "/v1/integrations/engagements/not-a-uuid".to_owned(),
        format!("/v1/integrations/engagements/{}", uuid::Uuid::now_v7()),
        "/v1/integrations/engagements/nope?idType=external".to_owned(),
        format!(
            "/v1/integrations/engagements/{}",
            e["accountId"].as_str().unwrap()
        ),
        "/v1/no/such/route".to_owned(),
    ] {
        assert_eq!(s.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    // A query parameter outside its published enum is a bad request naming it.
    for method in [Method::GET, Method::DELETE] {
        let path = format!("/v1/integrations/engagements/{id}?idType=sideways");
        let r = s.call(method, &path, Some(&s.token), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
        assert!(
            r.body["error"].as_str().unwrap().contains("idType"),
            "{r:?}"
        );
    }
    // Still there for its owner.
    assert_eq!(
        s.get(&format!("/v1/integrations/engagements/{id}"))
            .await
            .status,
        StatusCode::OK
    );
}

async fn credentials_are_checked(s: &TestServer) {
    let r = s
        .call(Method::GET, "/v1/integrations/engagements", None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body["error"].is_string());
    assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer");
    for bad in ["lia_wrong", "not-even-prefixed", ""] {
        let r = s
            .call(Method::GET, "/v1/integrations/engagements", Some(bad), None)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
    let r = s
        .client
        .get(format!("{}/v1/integrations/engagements", s.base))
        .header("authorization", format!("Basic {}", s.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The health check needs no token.
    let r = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    // A revoked token stops working.
    let temp = s.token_for("acme", "crm", "all").await;
    assert_eq!(
        s.call(
            Method::GET,
            "/v1/core/auth/caller-identity",
            Some(&temp),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    s.revoke(&temp).await;
    assert_eq!(
        s.call(
            Method::GET,
            "/v1/core/auth/caller-identity",
            Some(&temp),
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn read_scopes_cannot_write(s: &TestServer) {
    let reader = s.token_for("acme", "crm", "read").await;
    let e = s.sync(json!({"externalId": "scoped"})).await;
    let id = e["id"].as_str().unwrap();
    let writes: Vec<(Method, String, Value)> = vec![
        (Method::PUT, SYNC.into(), json!({"externalId": "x"})),
        (
            Method::PUT,
            "/v1/integrations/sync/batch/engagements".into(),
            json!([{"externalId": "x"}]),
        ),
        (
            Method::POST,
            "/v1/integrations/sync/engagements/soft-delete-removed".into(),
            json!({"validExternalIds": [], "fromTime": "2026-01-01T00:00:00Z", "toTime": "2026-01-02T00:00:00Z"}),
        ),
        (
            Method::DELETE,
            format!("/v1/integrations/engagements/{id}"),
            Value::Null,
        ),
        (
            Method::PUT,
            "/v1/integrations/sync/opportunities".into(),
            json!({"externalId": "x"}),
        ),
        (
            Method::PUT,
            "/v1/integrations/sync/batch/opportunities".into(),
            json!([{"externalId": "x"}]),
        ),
        (
            Method::POST,
            "/v1/integrations/accounts".into(),
            json!({"externalId": "x", "addresses": []}),
        ),
        (
            Method::POST,
            "/v1/integrations/engagement-users".into(),
            json!({"engagementId": id, "userId": id}),
        ),
        (
            Method::POST,
            "/v1/integrations/opportunity-users".into(),
            json!({"opportunityId": id, "userId": id}),
        ),
        (
            Method::POST,
            "/v1/core/users".into(),
            json!({"email": "a@b.c", "organizationId": e["organizationId"]}),
        ),
    ];
    for (method, path, body) in writes {
        let body = (!body.is_null()).then_some(body);
        let r = s.call(method.clone(), &path, Some(&reader), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}: {r:?}");
        assert!(r.body["error"].as_str().unwrap().contains("scope"));
    }
    // Reads work, and nothing was changed.
    let r = s
        .call(
            Method::GET,
            &format!("/v1/integrations/engagements/{id}"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        s.get("/v1/integrations/engagements").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A token without engagements:read cannot read engagements.
    let users_only = s.token_for("acme", "crm", "users:read").await;
    let r = s
        .call(
            Method::GET,
            "/v1/integrations/engagements",
            Some(&users_only),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn bad_query_parameters_are_400(s: &TestServer) {
    for q in [
        "limit=0",
        "limit=-3",
        "limit=abc",
        "limit=1.5",
        "pageSize=x",
    ] {
        let r = s.get(&format!("/v1/integrations/engagements?{q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(r.body["error"].is_string());
    }
    let r = s.get("/v1/integrations/engagements?cursor=garbage").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.get("/v1/core/users?disabled=sometimes").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Given but empty is not a value either, nor a parameter without a name (the API fuzzer
    // found each of these accepted).
    for path in [
        "/v1/integrations/engagements?limit=",
        "/v1/integrations/accounts?pageSize=",
        "/v1/core/users?disabled=",
        "/v1/core/users?excludeSiroUsers=",
        "/v1/integrations/engagements/00000000-0000-0000-0000-000000000000?idType=",
        "/v1/integrations/engagement-users?=x",
        "/v1/integrations/engagements?limit=5&=",
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {r:?}");
        assert!(r.body["error"].is_string(), "{path}");
    }
    // What a parameter may be empty as stays accepted: a text filter or a cursor.
    let r = s
        .get("/v1/integrations/engagements?externalId=&cursor=&limit=5")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

async fn wrong_method_is_405(s: &TestServer) {
    let r = s
        .call(
            Method::POST,
            "/v1/integrations/engagements",
            Some(&s.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.body["error"].is_string(), "{r:?}");
}

/// No store keeps the NUL character (PostgreSQL refuses it): wherever a client sends one, it
/// is refused the same way on both backends, naming the field, and nothing is written.
async fn nul_characters_are_refused_naming_the_field(s: &TestServer) {
    let nul = "a\u{0}b";
    let cases = [
        (json!({"externalId": nul}), json!(["externalId"])),
        (
            json!({"externalId": "e", "subject": nul}),
            json!(["subject"]),
        ),
        (
            json!({"externalId": "e", "content": nul}),
            json!(["content"]),
        ),
        (
            json!({"externalId": "e", "startTimeLocalized": nul}),
            json!(["startTimeLocalized"]),
        ),
        (
            json!({"externalId": "e", "engagementType": {"name": nul, "activityType": "CALL"}}),
            json!(["engagementType", "name"]),
        ),
        (
            json!({"externalId": "e", "engagementType": {"externalId": nul, "name": "n", "activityType": "CALL"}}),
            json!(["engagementType", "externalId"]),
        ),
        (
            json!({"externalId": "e", "account": {"externalId": nul}}),
            json!(["account", "externalId"]),
        ),
        (
            json!({"externalId": "e", "account": {"externalId": "a", "name": nul}}),
            json!(["account", "name"]),
        ),
        (
            json!({"externalId": "e", "account": {"externalId": "a", "emailAddresses": [nul]}}),
            json!(["account", "emailAddresses", 0]),
        ),
        (
            json!({"externalId": "e", "account": {"externalId": "a", "mergedFromExternalIds": [nul]}}),
            json!(["account", "mergedFromExternalIds", 0]),
        ),
        (
            json!({"externalId": "e", "contact": {"externalId": "c", "phoneNumbers": [nul]}}),
            json!(["contact", "phoneNumbers", 0]),
        ),
        (
            json!({"externalId": "e", "lead": {"externalId": "l", "firstName": nul}}),
            json!(["lead", "firstName"]),
        ),
        (
            json!({"externalId": "e", "engagementUsers": [{"externalId": "r", "email": nul}]}),
            json!(["engagementUsers", 0, "email"]),
        ),
        (
            json!({"externalId": "e", "engagementUsers": [{"externalId": nul}]}),
            json!(["engagementUsers", 0, "externalId"]),
        ),
        (
            json!({"externalId": "e", "opportunity": {"externalId": "o", "name": nul}}),
            json!(["opportunity", "name"]),
        ),
    ];
    for (body, path) in cases {
        let r = s.put(SYNC, body.clone()).await;
        assert_issues(&r, &[path]);
    }
    let r = s
        .post(
            "/v1/core/users",
            json!({"email": nul, "organizationId": "x"}),
        )
        .await;
    assert_issues(&r, &[json!(["email"])]);
    nothing_stored(s).await;
    // In a query parameter or a path: a bad request, in the face's envelope.
    for path in [
        "/v1/integrations/engagements?externalId=a%00b",
        "/v1/integrations/opportunities?recordingId=%00",
        "/v1/integrations/engagements/a%00b?idType=external",
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {r:?}");
        assert!(
            r.body["error"].as_str().unwrap().contains("U+0000"),
            "{r:?}"
        );
    }
}

/// Bodies of other types are refused unread with 415; a body that declares no type is read
/// as JSON.
async fn non_json_bodies_are_415(s: &TestServer) {
    let body = br#"{"externalId": "typed"}"#.to_vec();
    for content_type in [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
    ] {
        for path in [SYNC, "/v1/integrations/sync/batch/engagements"] {
            let r = s
                .raw_as(Method::PUT, path, Some(content_type), body.clone())
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{content_type}: {r:?}"
            );
            assert!(r.body["error"].is_string(), "{r:?}");
        }
    }
    nothing_stored(s).await;
    let r = s
        .raw_as(
            Method::PUT,
            SYNC,
            Some("application/json; charset=utf-8"),
            body.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = s.raw_as(Method::PUT, SYNC, None, body).await;
    assert_eq!(r.status, StatusCode::OK, "no Content-Type: {r:?}");
}

/// A path that is not UTF-8 is a bad request in the face's JSON envelope.
async fn a_path_that_is_not_utf8_is_400(s: &TestServer) {
    for path in [
        "/v1/integrations/engagements/%ff%fe",
        "/v1/integrations/accounts/%c3",
        "/v1/integrations/engagement-users/%80",
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {r:?}");
        assert!(r.body["error"].is_string(), "{path}: {r:?}");
    }
}

/// External ids are at most 512 bytes, short texts 4,096, an engagement's content 1 MiB: a
/// longer one is refused naming its field.
async fn texts_have_bounds(s: &TestServer) {
    let at = |n: usize| "é".repeat(n / 2);
    let r = s.put(SYNC, json!({"externalId": at(514)})).await;
    assert_issues(&r, &[json!(["externalId"])]);
    assert_eq!(r.body["issues"][0]["maximum"], 512.0);
    let r = s
        .put(
            SYNC,
            json!({"externalId": "e", "account": {"externalId": at(600)}}),
        )
        .await;
    assert_issues(&r, &[json!(["account", "externalId"])]);
    let r = s
        .put(
            SYNC,
            json!({"externalId": "e", "subject": "s".repeat(4097)}),
        )
        .await;
    assert_issues(&r, &[json!(["subject"])]);
    let r = s
        .put(SYNC, json!({"externalId": "e", "engagementUsers": [{"externalId": "r", "name": "n".repeat(4097)}]}))
        .await;
    assert_issues(&r, &[json!(["engagementUsers", 0, "name"])]);
    nothing_stored(s).await;
    // At the bound itself, all is well.
    s.sync(
        json!({"externalId": at(512), "subject": "s".repeat(4096), "content": "c".repeat(900_000)}),
    )
    .await;
}

/// The face answers under `/v1` and under its published base path alike, and what it does
/// not serve is answered in its envelope; a path outside every face gets a JSON 404 too.
async fn the_face_answers_under_both_bases_in_its_envelope(s: &TestServer) {
    for base in ["/v1", "/api-externalApi/v1"] {
        let r = s
            .put(
                &format!("{base}/integrations/sync/engagements"),
                json!({"externalId": format!("via-{}", base.len())}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{base}: {r:?}");
        let r = s.get(&format!("{base}/integrations/engagements")).await;
        assert_eq!(r.status, StatusCode::OK, "{base}: {r:?}");
        let r = s.get(&format!("{base}/integrations/nothing-here")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{base}");
        assert_eq!(r.body, json!({"error": "Route not found"}), "{base}");
        let r = s
            .call(
                Method::PATCH,
                &format!("{base}/integrations/engagements"),
                Some(&s.token),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{base}");
        assert!(r.body["error"].is_string(), "{base}: {r:?}");
    }
    let listed = s
        .get("/api-externalApi/v1/integrations/engagements")
        .await
        .body["data"]
        .clone();
    assert_eq!(
        listed,
        s.get("/v1/integrations/engagements").await.body["data"]
    );
    assert_eq!(listed.as_array().unwrap().len(), 2, "one store behind both");
    let r = s.get("/elsewhere").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body["error"].is_string(), "{r:?}");
}

/// Rules name fields by the domain's names; this face's bodies spell them as Siro does, in
/// paths and in messages alike.
async fn rule_messages_spell_fields_as_the_face_does(s: &TestServer) {
    let both = s
        .put(
            SYNC,
            json!({"externalId": "t", "startTime": "2026-01-02T00:00:00Z", "endTime": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_issues(&both, &[json!(["endTime"])]);
    assert_eq!(
        both.body["issues"][0]["message"],
        "endTime must not be before startTime"
    );
    s.sync(json!({"externalId": "t", "startTime": "2026-01-02T00:00:00Z"}))
        .await;
    // Only the end moves: the engine checks it against the stored start.
    let one = s
        .put(
            SYNC,
            json!({"externalId": "t", "endTime": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_issues(&one, &[json!(["endTime"])]);
    assert_eq!(
        one.body["issues"][0]["message"],
        "endTime must not be before startTime"
    );
    let r = s
        .put(SYNC, json!({"externalId": "t", "engagementTypeId": "nope"}))
        .await;
    assert_issues(&r, &[json!(["engagementTypeId"])]);
    assert_eq!(
        r.body["issues"][0]["message"],
        "Unknown engagementTypeId: nope"
    );
    let org = s.get("/v1/core/auth/caller-identity").await.body["organizationId"].clone();
    let user = s
        .post(
            "/v1/core/users",
            json!({"email": "rep@example.com", "organizationId": org}),
        )
        .await;
    let path = format!(
        "/v1/integrations/users/{}/engagements?startingAfter=nope",
        user.body["id"].as_str().unwrap()
    );
    let r = s.get(&path).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert_eq!(
        r.body["error"],
        "startingAfter must be the id of one of this user's engagements"
    );
}

on_both!(
    rule_messages_spell_fields_as_the_face_does,
    the_face_answers_under_both_bases_in_its_envelope,
    nul_characters_are_refused_naming_the_field,
    non_json_bodies_are_415,
    a_path_that_is_not_utf8_is_400,
    texts_have_bounds,
    malformed_json_is_400_saying_where,
    every_bad_field_is_named,
    empty_external_id_is_refused,
    end_before_start_is_refused,
    opportunity_bad_input,
    oversized_bodies_are_413,
    unknown_and_foreign_ids_are_404,
    credentials_are_checked,
    read_scopes_cannot_write,
    bad_query_parameters_are_400,
    wrong_method_is_405,
);
