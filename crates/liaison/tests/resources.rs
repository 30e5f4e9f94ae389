//! The integrations face's directly edited resources, through HTTP, on both backends: accounts,
//! engagement and opportunity users, workspace and CRM users, caller identity, tenant isolation.

mod common;

use common::TestServer;
use common::schema::assert_conforms;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

fn address(city: &str) -> Value {
    json!({"country": "US", "street": "1 Main St", "city": city, "state": "CA", "zip": "94000"})
}

/// The `path` of every issue of a 422 body.
fn issue_paths(body: &Value) -> Vec<Value> {
    assert_eq!(body["name"], "ZodError", "{body}");
    body["issues"]
        .as_array()
        .unwrap_or_else(|| panic!("no issues in {body}"))
        .iter()
        .map(|i| i["path"].clone())
        .collect()
}

/// The ids of a bare-array list.
fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(id)
        .collect()
}

/// An unknown id of the right shape, and one of no shape at all: both must answer 404, never
/// 400, so that probing ids tells a client nothing.
fn unknown_ids() -> [String; 2] {
    [uuid::Uuid::now_v7().to_string(), "not-an-id".to_owned()]
}

async fn org_id(s: &TestServer, token: &str) -> String {
    let r = s
        .call(
            Method::GET,
            "/v1/core/auth/caller-identity",
            Some(token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["organizationId"].as_str().unwrap().to_owned()
}

async fn accounts_create_and_the_any_of(s: &TestServer) {
    // Neither coordinates nor addresses: the contract's anyOf admits neither branch.
    for body in [
        json!({"externalId": "acc-none", "name": "None"}),
        json!({"externalId": "acc-half", "latitude": 1.0}),
        json!({"externalId": "acc-nulls", "latitude": null, "longitude": null, "addresses": null}),
    ] {
        let r = s.post("/v1/integrations/accounts", body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {r:?}");
        assert!(!issue_paths(&r.body).is_empty());
    }
    let missing_ext = s
        .post(
            "/v1/integrations/accounts",
            json!({"addresses": [address("Nowhere")]}),
        )
        .await;
    assert_eq!(missing_ext.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(issue_paths(&missing_ext.body).contains(&json!(["externalId"])));
    let none = s.get("/v1/integrations/accounts").await;
    assert_eq!(none.body, json!([]), "a refused create stores nothing");

    // The coordinates branch.
    let r = s
        .post(
            "/v1/integrations/accounts",
            json!({"externalId": "acc-geo", "name": "Geo", "latitude": 37.5, "longitude": -122.25,
                "phoneNumbers": ["+1 555 0100"], "emailAddresses": ["geo@example.com"]}),
        )
        .await;
    // The contract answers a create with 200, not 201.
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/integrations/accounts", "post", 200, &r.body);
    let geo = r.body;
    assert_eq!(geo["externalId"], "acc-geo");
    assert_eq!(geo["name"], "Geo");
    assert_eq!(geo["latitude"], 37.5);
    assert_eq!(geo["longitude"], -122.25);
    assert_eq!(geo["addresses"], json!([]));
    assert_eq!(geo["phoneNumbers"], json!(["+1 555 0100"]));
    assert_eq!(geo["emailAddresses"], json!(["geo@example.com"]));
    assert!(uuid::Uuid::parse_str(geo["id"].as_str().unwrap()).is_ok());

    // The addresses branch.
    let r = s
        .post(
            "/v1/integrations/accounts",
            json!({"externalId": "acc-addr", "addresses": [address("Oakland")]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/integrations/accounts", "post", 200, &r.body);
    assert_eq!(r.body["addresses"], json!([address("Oakland")]));
    assert!(r.body.get("latitude").is_none() && r.body.get("name").is_none());

    // The same external id in the same connection is a conflict, whatever else differs.
    let dup = s
        .post(
            "/v1/integrations/accounts",
            json!({"externalId": "acc-geo", "addresses": [address("Elsewhere")]}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{dup:?}");
    assert!(dup.body["error"].is_string());
    // An account first known through a sync is taken too.
    s.sync(json!({"externalId": "e-acc", "account": {"externalId": "acc-synced"}}))
        .await;
    let dup = s
        .post(
            "/v1/integrations/accounts",
            json!({"externalId": "acc-synced", "latitude": 0.0, "longitude": 0.0}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{dup:?}");

    let got = s
        .get(&format!("/v1/integrations/accounts/{}", id(&geo)))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_conforms("/v1/integrations/accounts/{id}", "get", 200, &got.body);
    assert_eq!(got.body, geo, "a read returns what the create answered");
    assert_eq!(
        s.get("/v1/integrations/accounts")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

async fn accounts_page_by_header(s: &TestServer) {
    let mut created = Vec::new();
    for i in 0..7 {
        let r = s
            .post(
                "/v1/integrations/accounts",
                json!({"externalId": format!("page-{i}"), "latitude": i as f64, "longitude": 0.0}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        created.push(id(&r.body));
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/integrations/accounts?limit=3&cursor={c}"),
            None => "/v1/integrations/accounts?limit=3".to_owned(),
        };
        let page = s.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert_conforms("/v1/integrations/accounts", "get", 200, &page.body);
        let items = ids_of(&page.body);
        assert!(items.len() <= 3);
        seen.extend(items);
        pages += 1;
        match page.headers.get("x-next-cursor") {
            Some(c) => cursor = Some(c.to_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3, "7 accounts in pages of 3");
    assert_eq!(seen, created, "every account once, in creation order");
    // The last page carries no header; a full list in one page carries none either.
    let all = s.get("/v1/integrations/accounts").await;
    assert!(all.headers.get("x-next-cursor").is_none());
    assert_eq!(ids_of(&all.body), created);
    // A cursor is checked for tampering.
    let first = s.get("/v1/integrations/accounts?limit=3").await;
    let c = first.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let mut tampered = c.clone();
    tampered.replace_range(0..1, if c.starts_with('A') { "B" } else { "A" });
    let bad = s
        .get(&format!(
            "/v1/integrations/accounts?limit=3&cursor={tampered}"
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{bad:?}");
}

async fn accounts_update_and_delete(s: &TestServer) {
    let created = s
        .post(
            "/v1/integrations/accounts",
            json!({"externalId": "acc-upd", "name": "Before", "latitude": 1.5, "longitude": 2.5,
                "addresses": [address("Fresno")], "phoneNumbers": ["1", "2"],
                "emailAddresses": ["a@example.com"]}),
        )
        .await
        .body;
    let path = format!("/v1/integrations/accounts/{}", id(&created));

    // Absent keeps: only the name moves.
    let r = s.put(&path, json!({"name": "After"})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/integrations/accounts/{id}", "put", 200, &r.body);
    assert_eq!(r.body["name"], "After");
    assert_eq!(r.body["externalId"], "acc-upd");
    assert_eq!(r.body["latitude"], 1.5);
    assert_eq!(r.body["addresses"], json!([address("Fresno")]));
    assert_eq!(r.body["phoneNumbers"], json!(["1", "2"]));
    assert_eq!(r.body["emailAddresses"], json!(["a@example.com"]));
    assert_eq!(r.body["createdAt"], created["createdAt"]);

    // `null` clears a list to empty; a value replaces one.
    let r = s
        .put(
            &path,
            json!({"phoneNumbers": null, "emailAddresses": ["b@example.com"], "longitude": 3.5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/integrations/accounts/{id}", "put", 200, &r.body);
    assert_eq!(r.body["phoneNumbers"], json!([]));
    assert_eq!(r.body["emailAddresses"], json!(["b@example.com"]));
    assert_eq!(r.body["longitude"], 3.5);
    assert_eq!(r.body["name"], "After");
    assert_eq!(s.get(&path).await.body, r.body, "the update was stored");

    // A bad field is refused and changes nothing.
    let bad = s.put(&path, json!({"latitude": "north"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issue_paths(&bad.body), [json!(["latitude"])]);
    assert_eq!(s.get(&path).await.body, r.body);

    // An engagement on the account stops showing it once it is deleted.
    let e = s
        .sync(json!({"externalId": "e-upd", "account": {"externalId": "acc-upd"}}))
        .await;
    assert_eq!(e["accountId"], created["id"]);

    let del = s.delete(&path).await;
    assert_eq!(del.status, StatusCode::OK, "{del:?}");
    assert_conforms("/v1/integrations/accounts/{id}", "delete", 200, &del.body);
    assert_eq!(del.body, json!(true));
    assert_eq!(s.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.put(&path, json!({"name": "Ghost"})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.delete(&path).await.status,
        StatusCode::NOT_FOUND,
        "deleted once only"
    );
    let list = s.get("/v1/integrations/accounts").await.body;
    assert!(!ids_of(&list).contains(&id(&created)), "{list}");
    let e = s
        .get(&format!("/v1/integrations/engagements/{}", id(&e)))
        .await
        .body;
    assert!(e["account"].is_null(), "{e}");

    for unknown in unknown_ids() {
        let p = format!("/v1/integrations/accounts/{unknown}");
        assert_eq!(s.get(&p).await.status, StatusCode::NOT_FOUND, "{p}");
        assert_eq!(
            s.put(&p, json!({"name": "x"})).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(s.delete(&p).await.status, StatusCode::NOT_FOUND);
    }
    // An id of another kind of record is no account.
    let as_account = format!("/v1/integrations/accounts/{}", e["id"].as_str().unwrap());
    assert_eq!(s.get(&as_account).await.status, StatusCode::NOT_FOUND);
}

async fn engagement_users_crud(s: &TestServer) {
    let e1 = s
        .sync(json!({"externalId": "eu-1", "engagementUsers": [
            {"externalId": "rep-1", "email": "one@example.com", "name": "Rep One", "shareOfSale": 1}
        ]}))
        .await;
    let e2 = s
        .sync(json!({"externalId": "eu-2", "engagementUsers": [
            {"externalId": "rep-2", "email": "two@example.com", "name": "Rep Two"}
        ]}))
        .await;
    let rep1 = e1["engagementUsers"][0]["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let rep2 = e2["engagementUsers"][0]["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (e1_id, e2_id) = (id(&e1), id(&e2));

    // The synced rep is readable as an engagement user.
    let synced = s
        .get(&format!(
            "/v1/integrations/engagement-users?engagementId={e1_id}"
        ))
        .await;
    assert_eq!(synced.status, StatusCode::OK);
    assert_conforms(
        "/v1/integrations/engagement-users",
        "get",
        200,
        &synced.body,
    );
    assert_eq!(synced.body.as_array().unwrap().len(), 1);
    assert_eq!(synced.body[0]["userId"], rep1.as_str());
    assert_eq!(synced.body[0]["id"], e1["engagementUsers"][0]["id"]);

    // Rep two joins engagement one.
    let r = s
        .post(
            "/v1/integrations/engagement-users",
            json!({"engagementId": e1_id, "userId": rep2, "name": "Guest", "shareOfSale": 0.25}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/integrations/engagement-users", "post", 200, &r.body);
    let added = r.body;
    assert_eq!(added["engagementId"], e1_id.as_str());
    assert_eq!(added["userId"], rep2.as_str());
    assert_eq!(added["name"], "Guest");
    assert_eq!(added["shareOfSale"], 0.25);
    assert_eq!(added["organizationId"], e1["organizationId"]);
    assert_eq!(
        added["integrationConnectionId"],
        e1["integrationConnectionId"]
    );
    let eu_path = format!("/v1/integrations/engagement-users/{}", id(&added));

    // The same pair again, whether added here or by a sync, is a conflict.
    for user in [&rep2, &rep1] {
        let dup = s
            .post(
                "/v1/integrations/engagement-users",
                json!({"engagementId": e1_id, "userId": user}),
            )
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT, "{dup:?}");
    }

    let got = s.get(&eu_path).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_conforms(
        "/v1/integrations/engagement-users/{id}",
        "get",
        200,
        &got.body,
    );
    assert_eq!(got.body, added);

    // Filters: by engagement, by CRM user, by both.
    let by_eng = s
        .get(&format!(
            "/v1/integrations/engagement-users?engagementId={e1_id}"
        ))
        .await
        .body;
    assert_conforms("/v1/integrations/engagement-users", "get", 200, &by_eng);
    let mut users: Vec<&str> = by_eng
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap())
        .collect();
    users.sort();
    let mut expected = vec![rep1.as_str(), rep2.as_str()];
    expected.sort();
    assert_eq!(users, expected);
    let by_user = s
        .get(&format!("/v1/integrations/engagement-users?userId={rep2}"))
        .await
        .body;
    assert_conforms("/v1/integrations/engagement-users", "get", 200, &by_user);
    let mut engs: Vec<&str> = by_user
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["engagementId"].as_str().unwrap())
        .collect();
    engs.sort();
    let mut expected = vec![e1_id.as_str(), e2_id.as_str()];
    expected.sort();
    assert_eq!(engs, expected);
    let both = s
        .get(&format!(
            "/v1/integrations/engagement-users?engagementId={e2_id}&userId={rep2}"
        ))
        .await
        .body;
    assert_eq!(both.as_array().unwrap().len(), 1);
    assert_eq!(both[0]["id"], e2["engagementUsers"][0]["id"]);
    let none = s
        .get(&format!(
            "/v1/integrations/engagement-users?engagementId={e2_id}&userId={rep1}"
        ))
        .await
        .body;
    assert_eq!(none, json!([]));
    let all = s.get("/v1/integrations/engagement-users").await.body;
    assert_conforms("/v1/integrations/engagement-users", "get", 200, &all);
    assert_eq!(all.as_array().unwrap().len(), 3);
    // A bare array: the next page's cursor comes in `X-Next-Cursor`.
    let first = s
        .get(&format!(
            "/v1/integrations/engagement-users?engagementId={e1_id}&limit=1"
        ))
        .await;
    assert_conforms("/v1/integrations/engagement-users", "get", 200, &first.body);
    let c = first.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let second = s
        .get(&format!(
            "/v1/integrations/engagement-users?engagementId={e1_id}&limit=1&cursor={c}"
        ))
        .await;
    assert!(second.headers.get("x-next-cursor").is_none());
    let mut paged = [ids_of(&first.body), ids_of(&second.body)].concat();
    paged.sort();
    let mut expected = ids_of(&by_eng);
    expected.sort();
    assert_eq!(paged, expected);
    // The cursor is bound to its filter.
    let other = s
        .get(&format!(
            "/v1/integrations/engagement-users?engagementId={e2_id}&limit=1&cursor={c}"
        ))
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST, "{other:?}");

    // Update: the name and the share move, the rest stays.
    let r = s
        .put(&eu_path, json!({"name": "Renamed", "shareOfSale": 0.75}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms(
        "/v1/integrations/engagement-users/{id}",
        "put",
        200,
        &r.body,
    );
    assert_eq!(r.body["name"], "Renamed");
    assert_eq!(r.body["shareOfSale"], 0.75);
    assert_eq!(r.body["engagementId"], e1_id.as_str());
    assert_eq!(r.body["userId"], rep2.as_str());
    assert_eq!(r.body["createdAt"], added["createdAt"]);
    let eng = s
        .get(&format!("/v1/integrations/engagements/{e1_id}"))
        .await
        .body;
    let on_eng = eng["engagementUsers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userId"] == rep2.as_str())
        .expect("the rep is on the engagement");
    assert_eq!(on_eng["name"], "Renamed");
    assert_eq!(on_eng["shareOfSale"], 0.75);
    let too_big = s.put(&eu_path, json!({"shareOfSale": 1.5})).await;
    assert_eq!(too_big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issue_paths(&too_big.body), [json!(["shareOfSale"])]);
    // Moving the rep onto a record where they already are is a conflict too.
    let clash = s.put(&eu_path, json!({"engagementId": e2_id})).await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{clash:?}");

    let del = s.delete(&eu_path).await;
    assert_eq!(del.status, StatusCode::OK, "{del:?}");
    assert_conforms(
        "/v1/integrations/engagement-users/{id}",
        "delete",
        200,
        &del.body,
    );
    assert_eq!(del.body, json!(true));
    assert_eq!(s.get(&eu_path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.put(&eu_path, json!({"name": "x"})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.delete(&eu_path).await.status, StatusCode::NOT_FOUND);
    let eng = s
        .get(&format!("/v1/integrations/engagements/{e1_id}"))
        .await
        .body;
    let reps: Vec<&Value> = eng["engagementUsers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["userId"])
        .collect();
    assert_eq!(
        reps,
        [&json!(rep1)],
        "the removed rep is off the engagement"
    );
    let by_user = s
        .get(&format!("/v1/integrations/engagement-users?userId={rep2}"))
        .await
        .body;
    assert_eq!(by_user.as_array().unwrap().len(), 1);
    // The pair may be added again once removed.
    let again = s
        .post(
            "/v1/integrations/engagement-users",
            json!({"engagementId": e1_id, "userId": rep2}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    // ...as a new engagement user: what the removed one had does not come back.
    assert!(again.body.get("shareOfSale").is_none(), "{}", again.body);
    assert_eq!(
        again.body["name"], "Rep Two",
        "the CRM user's name, as for any unnamed rep"
    );
    assert_conforms(
        "/v1/integrations/engagement-users",
        "post",
        200,
        &again.body,
    );

    // Unknown parents and users answer 404; missing ones are a validation error.
    for unknown in unknown_ids() {
        let r = s
            .post(
                "/v1/integrations/engagement-users",
                json!({"engagementId": unknown, "userId": rep1}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
        let r = s
            .post(
                "/v1/integrations/engagement-users",
                json!({"engagementId": e2_id, "userId": unknown}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
        let p = format!("/v1/integrations/engagement-users/{unknown}");
        assert_eq!(s.get(&p).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            s.put(&p, json!({"name": "x"})).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(s.delete(&p).await.status, StatusCode::NOT_FOUND);
        let r = s
            .get(&format!(
                "/v1/integrations/engagement-users?engagementId={unknown}"
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, json!([]));
    }
    // A workspace user's id is not a CRM user's.
    let org = org_id(s, &s.token).await;
    let ws = s
        .post(
            "/v1/core/users",
            json!({"email": "ws@example.com", "organizationId": org}),
        )
        .await
        .body;
    let r = s
        .post(
            "/v1/integrations/engagement-users",
            json!({"engagementId": e2_id, "userId": id(&ws)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    // An opportunity is not an engagement.
    let opp = s.sync_opportunity(json!({"externalId": "eu-opp"})).await;
    let r = s
        .post(
            "/v1/integrations/engagement-users",
            json!({"engagementId": id(&opp), "userId": rep1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    // A deleted engagement takes no new reps.
    s.delete(&format!("/v1/integrations/engagements/{e2_id}"))
        .await;
    let r = s
        .post(
            "/v1/integrations/engagement-users",
            json!({"engagementId": e2_id, "userId": rep1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");

    let r = s.post("/v1/integrations/engagement-users", json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let paths = issue_paths(&r.body);
    assert!(paths.contains(&json!(["engagementId"])), "{paths:?}");
    assert!(paths.contains(&json!(["userId"])), "{paths:?}");
    let r = s
        .post(
            "/v1/integrations/engagement-users",
            json!({"engagementId": e1_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issue_paths(&r.body), [json!(["userId"])]);
    // An engagement user is not an opportunity user.
    let as_opp_user = format!("/v1/integrations/opportunity-users/{}", id(&again.body));
    assert_eq!(s.get(&as_opp_user).await.status, StatusCode::NOT_FOUND);
}

async fn opportunity_users_crud(s: &TestServer) {
    let o1 = s
        .sync_opportunity(json!({"externalId": "ou-1", "opportunityUsers": [
            {"externalId": "orep-1", "name": "Half", "shareOfSale": 0.5}
        ]}))
        .await;
    let o2 = s
        .sync_opportunity(json!({"externalId": "ou-2", "opportunityUsers": [
            {"externalId": "orep-2", "name": "Other"}
        ]}))
        .await;
    let (o1_id, o2_id) = (id(&o1), id(&o2));
    let rep1 = o1["opportunityUsers"][0]["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let rep2 = o2["opportunityUsers"][0]["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    // CRM users are shared by both kinds of record: an engagement's rep can join an opportunity.
    let e = s
        .sync(json!({"externalId": "ou-eng", "engagementUsers": [{"externalId": "orep-3"}]}))
        .await;
    let rep3 = e["engagementUsers"][0]["userId"]
        .as_str()
        .unwrap()
        .to_owned();

    // A sync's shareOfSale 0.5 reads back as 50 percent.
    let synced = s
        .get(&format!(
            "/v1/integrations/opportunity-users?opportunityId={o1_id}"
        ))
        .await;
    assert_eq!(synced.status, StatusCode::OK);
    assert_conforms(
        "/v1/integrations/opportunity-users",
        "get",
        200,
        &synced.body,
    );
    assert_eq!(synced.body.as_array().unwrap().len(), 1);
    assert_eq!(synced.body[0]["amountPercentage"], 50.0);
    assert_eq!(synced.body[0]["userId"], rep1.as_str());
    assert_eq!(o1["opportunityUsers"][0]["amountPercentage"], 50.0);

    let r = s
        .post(
            "/v1/integrations/opportunity-users",
            json!({"opportunityId": o1_id, "userId": rep3, "name": "Third", "amountPercentage": 30}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/integrations/opportunity-users", "post", 200, &r.body);
    let added = r.body;
    assert_eq!(added["opportunityId"], o1_id.as_str());
    assert_eq!(added["userId"], rep3.as_str());
    assert_eq!(added["name"], "Third");
    // Percent in, percent out: what a client wrote reads back unchanged.
    assert_eq!(added["amountPercentage"], 30.0);
    let ou_path = format!("/v1/integrations/opportunity-users/{}", id(&added));

    let dup = s
        .post(
            "/v1/integrations/opportunity-users",
            json!({"opportunityId": o1_id, "userId": rep3}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{dup:?}");
    let dup = s
        .post(
            "/v1/integrations/opportunity-users",
            json!({"opportunityId": o1_id, "userId": rep1}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{dup:?}");

    let got = s.get(&ou_path).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_conforms(
        "/v1/integrations/opportunity-users/{id}",
        "get",
        200,
        &got.body,
    );
    assert_eq!(got.body, added);

    // Filters.
    let by_opp = s
        .get(&format!(
            "/v1/integrations/opportunity-users?opportunityId={o1_id}"
        ))
        .await
        .body;
    assert_conforms("/v1/integrations/opportunity-users", "get", 200, &by_opp);
    assert_eq!(by_opp.as_array().unwrap().len(), 2);
    let by_user = s
        .get(&format!("/v1/integrations/opportunity-users?userId={rep2}"))
        .await
        .body;
    assert_eq!(by_user.as_array().unwrap().len(), 1);
    assert_eq!(by_user[0]["opportunityId"], o2_id.as_str());
    let both = s
        .get(&format!(
            "/v1/integrations/opportunity-users?opportunityId={o1_id}&userId={rep3}"
        ))
        .await
        .body;
    assert_eq!(ids_of(&both), [id(&added)]);
    // The engagement's rep is not an opportunity user until added as one.
    let on_eng = s
        .get(&format!(
            "/v1/integrations/opportunity-users?opportunityId={}",
            id(&e)
        ))
        .await
        .body;
    assert_eq!(on_eng, json!([]));

    // Update: percent in, the fraction stored, percent out.
    let r = s
        .put(&ou_path, json!({"name": "Renamed", "amountPercentage": 75}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms(
        "/v1/integrations/opportunity-users/{id}",
        "put",
        200,
        &r.body,
    );
    assert_eq!(r.body["name"], "Renamed");
    assert_eq!(r.body["amountPercentage"], 75.0);
    assert_eq!(r.body["opportunityId"], o1_id.as_str());
    // The share is the same one a sync writes: the opportunity shows it.
    let opp = s
        .get(&format!("/v1/integrations/opportunities/{o1_id}"))
        .await
        .body;
    let on_opp = opp["opportunityUsers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userId"] == rep3.as_str())
        .expect("the rep is on the opportunity");
    assert_eq!(on_opp["amountPercentage"], 75.0);
    assert_eq!(on_opp["name"], "Renamed");
    // ...and a sync's shareOfSale lands in the same place.
    s.sync_opportunity(json!({"externalId": "ou-1", "opportunityUsers": [
        {"externalId": "orep-3", "shareOfSale": 0.2}
    ]}))
    .await;
    assert_eq!(s.get(&ou_path).await.body["amountPercentage"], 20.0);
    s.sync_opportunity(json!({"externalId": "ou-1", "opportunityUsers": [
        {"externalId": "orep-3", "shareOfSale": 0.07}
    ]}))
    .await;
    assert_eq!(s.get(&ou_path).await.body["amountPercentage"], 7.0);
    // Percent in, percent out, for every whole percent and a few fractions: in binary floating
    // point 7 / 100 * 100 is 7.000000000000001, so a bare division and multiplication is not
    // enough.
    let fractions = [12.5, 33.3, 57.75, 0.01];
    for p in (0..=100).map(f64::from).chain(fractions) {
        let r = s.put(&ou_path, json!({"amountPercentage": p})).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["amountPercentage"], p, "{p} percent");
    }
    for bad in [json!(101), json!(-1), json!("half")] {
        let r = s.put(&ou_path, json!({"amountPercentage": bad})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {r:?}");
        assert_eq!(issue_paths(&r.body), [json!(["amountPercentage"])]);
    }
    let r = s.put(&ou_path, json!({"amountPercentage": 100})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["amountPercentage"], 100.0);

    let del = s.delete(&ou_path).await;
    assert_eq!(del.status, StatusCode::OK, "{del:?}");
    assert_conforms(
        "/v1/integrations/opportunity-users/{id}",
        "delete",
        200,
        &del.body,
    );
    assert_eq!(del.body, json!(true));
    assert_eq!(s.get(&ou_path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&ou_path).await.status, StatusCode::NOT_FOUND);
    let opp = s
        .get(&format!("/v1/integrations/opportunities/{o1_id}"))
        .await
        .body;
    let reps: Vec<&Value> = opp["opportunityUsers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["userId"])
        .collect();
    assert_eq!(reps, [&json!(rep1)]);

    for unknown in unknown_ids() {
        let r = s
            .post(
                "/v1/integrations/opportunity-users",
                json!({"opportunityId": unknown, "userId": rep1}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
        let r = s
            .post(
                "/v1/integrations/opportunity-users",
                json!({"opportunityId": o2_id, "userId": unknown}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
        let p = format!("/v1/integrations/opportunity-users/{unknown}");
        assert_eq!(s.get(&p).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            s.put(&p, json!({"name": "x"})).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(s.delete(&p).await.status, StatusCode::NOT_FOUND);
    }
    // An engagement is not an opportunity.
    let r = s
        .post(
            "/v1/integrations/opportunity-users",
            json!({"opportunityId": id(&e), "userId": rep1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");

    let r = s
        .post("/v1/integrations/opportunity-users", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let paths = issue_paths(&r.body);
    assert!(paths.contains(&json!(["opportunityId"])), "{paths:?}");
    assert!(paths.contains(&json!(["userId"])), "{paths:?}");
    let r = s
        .post(
            "/v1/integrations/opportunity-users",
            json!({"userId": rep2, "amountPercentage": 10}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issue_paths(&r.body), [json!(["opportunityId"])]);
}

async fn core_users_crud(s: &TestServer) {
    let org = org_id(s, &s.token).await;

    let r = s.post("/v1/core/users", json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let paths = issue_paths(&r.body);
    assert!(paths.contains(&json!(["email"])), "{paths:?}");
    assert!(paths.contains(&json!(["organizationId"])), "{paths:?}");
    let r = s
        .post("/v1/core/users", json!({"email": "x@example.com"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issue_paths(&r.body), [json!(["organizationId"])]);
    // Another organization's id, or none at all, is not the caller's to add users to.
    for other in unknown_ids() {
        let r = s
            .post(
                "/v1/core/users",
                json!({"email": "x@example.com", "organizationId": other}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    }
    let other_org = org_id(s, &s.token_for("elsewhere", "crm", "all").await).await;
    let r = s
        .post(
            "/v1/core/users",
            json!({"email": "x@example.com", "organizationId": other_org}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let empty = s.get("/v1/core/users").await;
    assert_eq!(
        empty.body["data"],
        json!([]),
        "refused creates store nothing"
    );

    let r = s
        .post(
            "/v1/core/users",
            json!({"email": "ann@example.com", "organizationId": org, "firstName": "Ann",
                "lastName": "Rep", "externalId": "crm-ann", "phoneNumber": "+1 555 0199",
                "password": "ignored"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/core/users", "post", 200, &r.body);
    let ann = r.body;
    assert_eq!(ann["email"], "ann@example.com");
    assert_eq!(ann["organizationId"], org.as_str());
    assert_eq!(ann["firstName"], "Ann");
    assert_eq!(ann["externalId"], "crm-ann");
    assert_eq!(ann["disabled"], false);
    assert!(ann.get("password").is_none());
    let r = s
        .post(
            "/v1/core/users",
            json!({"email": "bob@example.com", "organizationId": org}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/core/users", "post", 200, &r.body);
    let bob = r.body;
    assert!(bob["firstName"].is_null() && bob["externalId"].is_null());

    // One external id maps to one user.
    let dup = s
        .post(
            "/v1/core/users",
            json!({"email": "carl@example.com", "organizationId": org, "externalId": "crm-ann"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{dup:?}");
    let dup = s
        .put(
            &format!("/v1/core/users/{}", id(&bob)),
            json!({"externalId": "crm-ann"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{dup:?}");

    let got = s.get(&format!("/v1/core/users/{}", id(&ann))).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_conforms("/v1/core/users/{id}", "get", 200, &got.body);
    assert_eq!(got.body, ann);

    let list = s.get("/v1/core/users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_conforms("/v1/core/users", "get", 200, &list.body);
    assert_eq!(ids_of(&list.body["data"]), [id(&ann), id(&bob)]);
    assert!(list.body["cursor"].is_null());
    let by_ext = s.get("/v1/core/users?externalId=crm-ann").await.body;
    assert_conforms("/v1/core/users", "get", 200, &by_ext);
    assert_eq!(ids_of(&by_ext["data"]), [id(&ann)]);
    assert_eq!(
        s.get("/v1/core/users?externalId=nobody").await.body["data"],
        json!([])
    );
    let r = s.get("/v1/core/users?excludeSiroUsers=maybe").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(r.body["error"].is_string());
    assert_eq!(
        s.get("/v1/core/users?disabled=sometimes").await.status,
        StatusCode::BAD_REQUEST
    );
    let r = s.get("/v1/core/users?excludeSiroUsers=true").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);

    // Paging through `cursor`.
    let first = s.get("/v1/core/users?limit=1").await.body;
    assert_conforms("/v1/core/users", "get", 200, &first);
    assert_eq!(ids_of(&first["data"]), [id(&ann)]);
    let c = first["cursor"].as_str().expect("a next page");
    let second = s
        .get(&format!("/v1/core/users?limit=1&cursor={c}"))
        .await
        .body;
    assert_conforms("/v1/core/users", "get", 200, &second);
    assert_eq!(ids_of(&second["data"]), [id(&bob)]);
    assert!(second["cursor"].is_null());

    // Update: disable, rename, remap.
    let path = format!("/v1/core/users/{}", id(&ann));
    let r = s
        .put(
            &path,
            json!({"disabled": true, "firstName": "Anne", "lastName": null, "externalId": "crm-anne"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/core/users/{id}", "put", 200, &r.body);
    assert_eq!(r.body["disabled"], true);
    assert_eq!(r.body["firstName"], "Anne");
    assert!(r.body["lastName"].is_null());
    assert_eq!(r.body["externalId"], "crm-anne");
    assert_eq!(r.body["email"], "ann@example.com", "absent keeps");
    assert_eq!(r.body["phoneNumber"], "+1 555 0199");
    assert_eq!(s.get(&path).await.body, r.body);
    // The old mapping is free again.
    let carl = s
        .post(
            "/v1/core/users",
            json!({"email": "carl@example.com", "organizationId": org, "externalId": "crm-ann"}),
        )
        .await;
    assert_eq!(carl.status, StatusCode::OK, "{carl:?}");

    let disabled = s.get("/v1/core/users?disabled=true").await.body;
    assert_conforms("/v1/core/users", "get", 200, &disabled);
    assert_eq!(ids_of(&disabled["data"]), [id(&ann)]);
    let enabled = s.get("/v1/core/users?disabled=false").await.body;
    assert_eq!(ids_of(&enabled["data"]), [id(&bob), id(&carl.body)]);
    let r = s.put(&path, json!({"disabled": false})).await;
    assert_eq!(r.body["disabled"], false);
    // A user can be kept in its own organization but not moved to another.
    let r = s.put(&path, json!({"organizationId": org})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = s.put(&path, json!({"organizationId": other_org})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let r = s.put(&path, json!({"disabled": "yes"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issue_paths(&r.body), [json!(["disabled"])]);

    for unknown in unknown_ids() {
        let p = format!("/v1/core/users/{unknown}");
        assert_eq!(s.get(&p).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            s.put(&p, json!({"firstName": "x"})).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

async fn crm_users_list_and_read(s: &TestServer) {
    let empty = s.get("/v1/integrations/users").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_conforms("/v1/integrations/users", "get", 200, &empty.body);
    assert_eq!(empty.body, json!({"data": [], "cursor": null}));

    let e = s
        .sync(json!({"externalId": "crm-e", "engagementUsers": [
            {"externalId": "crm-a", "email": "a@example.com", "name": "Rep A"},
            {"externalId": "crm-b", "name": "Rep B"}
        ]}))
        .await;
    let list = s.get("/v1/integrations/users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_conforms("/v1/integrations/users", "get", 200, &list.body);
    let data = list.body["data"].as_array().unwrap();
    let mut ext: Vec<&str> = data
        .iter()
        .map(|u| u["externalId"].as_str().unwrap())
        .collect();
    ext.sort();
    assert_eq!(ext, ["crm-a", "crm-b"]);
    assert!(list.body["cursor"].is_null());
    let a = data.iter().find(|u| u["externalId"] == "crm-a").unwrap();
    assert_eq!(a["email"], "a@example.com");
    assert_eq!(a["name"], "Rep A");
    assert_eq!(a["organizationId"], e["organizationId"]);
    assert_eq!(a["integrationConnectionId"], e["integrationConnectionId"]);
    let on_engagement: Vec<&Value> = e["engagementUsers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["userId"])
        .collect();
    assert!(
        on_engagement.contains(&&a["id"]),
        "userId is the CRM user's id"
    );

    // `pageSize` (the contract's name) and `limit` both page.
    for size in ["pageSize", "limit"] {
        let first = s
            .get(&format!("/v1/integrations/users?{size}=1"))
            .await
            .body;
        assert_conforms("/v1/integrations/users", "get", 200, &first);
        assert_eq!(first["data"].as_array().unwrap().len(), 1);
        let c = first["cursor"].as_str().expect("a second page");
        let second = s
            .get(&format!("/v1/integrations/users?{size}=1&cursor={c}"))
            .await
            .body;
        assert_eq!(second["data"].as_array().unwrap().len(), 1);
        assert_ne!(second["data"][0]["id"], first["data"][0]["id"]);
        assert!(second["cursor"].is_null());
    }

    let one = s
        .get(&format!(
            "/v1/integrations/users/{}",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_conforms("/v1/integrations/users/{id}", "get", 200, &one.body);
    assert_eq!(&one.body["data"], a);

    for unknown in unknown_ids() {
        let r = s.get(&format!("/v1/integrations/users/{unknown}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    }
    // A workspace user is not a CRM user.
    let org = org_id(s, &s.token).await;
    let ws = s
        .post(
            "/v1/core/users",
            json!({"email": "ws@example.com", "organizationId": org}),
        )
        .await
        .body;
    let r = s.get(&format!("/v1/integrations/users/{}", id(&ws))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
}

async fn caller_identity_names_the_token(s: &TestServer) {
    let r = s.get("/v1/core/auth/caller-identity").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/core/auth/caller-identity", "get", 200, &r.body);
    let caller = s.caller(&s.token).await;
    assert_eq!(r.body["organizationId"], caller.org.to_string());
    assert_eq!(
        r.body["integrationConnectionId"],
        caller.connection.to_string()
    );
    let liaison_engine::Credential::Token { id, .. } = caller.credential else {
        panic!("the test token is an API token")
    };
    assert_eq!(r.body["tokenId"], id.to_string());
    assert_eq!(r.body["tokenName"], "test");
    // Whatever a sync writes carries the same organization.
    let e = s.sync(json!({"externalId": "who"})).await;
    assert_eq!(e["organizationId"], r.body["organizationId"]);

    let other = s.token_for("other-org", "crm", "engagements:read").await;
    let o = s
        .call(
            Method::GET,
            "/v1/core/auth/caller-identity",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(o.status, StatusCode::OK);
    assert_conforms("/v1/core/auth/caller-identity", "get", 200, &o.body);
    assert_ne!(o.body["organizationId"], r.body["organizationId"]);
    assert_eq!(o.body["scopes"], json!(["engagements:read"]));
    let anonymous = s
        .call(Method::GET, "/v1/core/auth/caller-identity", None, None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

/// Everything of organization `acme` that another caller might try to reach.
struct Fixture {
    engagement: Value,
    opportunity: Value,
    account: String,
    engagement_user: String,
    opportunity_user: String,
    core_user: String,
    crm_user: String,
}

async fn acme_fixture(s: &TestServer) -> Fixture {
    let engagement = s
        .sync(json!({"externalId": "iso-e", "subject": "Acme's", "account": {"externalId": "iso-acc", "name": "Acme Co"},
            "opportunity": {"externalId": "iso-o"}, "engagementUsers": [{"externalId": "iso-rep", "name": "Rep"}]}))
        .await;
    let opportunity = s
        .sync_opportunity(json!({"externalId": "iso-o", "opportunityUsers": [{"externalId": "iso-rep", "shareOfSale": 1}]}))
        .await;
    let org = org_id(s, &s.token).await;
    let core_user = s
        .post(
            "/v1/core/users",
            json!({"email": "iso@example.com", "organizationId": org, "externalId": "iso-rep"}),
        )
        .await;
    assert_eq!(core_user.status, StatusCode::OK, "{core_user:?}");
    Fixture {
        account: engagement["accountId"].as_str().unwrap().to_owned(),
        engagement_user: id(&engagement["engagementUsers"][0]),
        opportunity_user: id(&opportunity["opportunityUsers"][0]),
        crm_user: engagement["engagementUsers"][0]["userId"]
            .as_str()
            .unwrap()
            .to_owned(),
        core_user: id(&core_user.body),
        engagement,
        opportunity,
    }
}

async fn another_organization_sees_nothing(s: &TestServer) {
    let f = acme_fixture(s).await;
    let other = s.token_for("other-org", "crm", "all").await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let other = other.clone();
        async move { s.call(method, &path, Some(&other), body).await }
    };
    let (e, o) = (id(&f.engagement), id(&f.opportunity));

    // Every id of acme answers 404, for reads and writes alike.
    let by_id = [
        format!("/v1/integrations/engagements/{e}"),
        "/v1/integrations/engagements/iso-e?idType=external".to_owned(),
        format!("/v1/integrations/opportunities/{o}"),
        format!("/v1/integrations/accounts/{}", f.account),
        format!("/v1/integrations/engagement-users/{}", f.engagement_user),
        format!("/v1/integrations/opportunity-users/{}", f.opportunity_user),
        format!("/v1/core/users/{}", f.core_user),
        format!("/v1/integrations/users/{}", f.crm_user),
        format!("/v1/integrations/users/{}/engagements", f.core_user),
    ];
    for path in &by_id {
        let r = call(Method::GET, path.clone(), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {path}: {r:?}");
    }
    for path in [
        format!("/v1/integrations/accounts/{}", f.account),
        format!("/v1/integrations/engagement-users/{}", f.engagement_user),
        format!("/v1/integrations/opportunity-users/{}", f.opportunity_user),
        format!("/v1/core/users/{}", f.core_user),
    ] {
        let r = call(Method::PUT, path.clone(), Some(json!({"name": "Taken"}))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "PUT {path}: {r:?}");
    }
    for path in [
        format!("/v1/integrations/engagements/{e}"),
        format!("/v1/integrations/opportunities/{o}"),
        format!("/v1/integrations/accounts/{}", f.account),
        format!("/v1/integrations/engagement-users/{}", f.engagement_user),
        format!("/v1/integrations/opportunity-users/{}", f.opportunity_user),
    ] {
        let r = call(Method::DELETE, path.clone(), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "DELETE {path}: {r:?}");
    }
    // Nor can acme's records be linked to from outside.
    let r = call(
        Method::POST,
        "/v1/integrations/engagement-users".into(),
        Some(json!({"engagementId": e, "userId": f.crm_user})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let r = call(
        Method::POST,
        "/v1/integrations/opportunity-users".into(),
        Some(json!({"opportunityId": o, "userId": f.crm_user})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let r = call(
        Method::PUT,
        "/v1/integrations/sync/opportunities".into(),
        Some(json!({"externalId": "steal", "accountId": f.account})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");

    // Every list is empty, filtered on acme's ids or not.
    for path in [
        "/v1/integrations/engagements",
        "/v1/integrations/opportunities",
    ] {
        let r = call(Method::GET, path.into(), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["data"], json!([]), "{path}");
    }
    for path in [
        "/v1/integrations/accounts".to_owned(),
        "/v1/integrations/engagement-users".to_owned(),
        format!("/v1/integrations/engagement-users?engagementId={e}"),
        format!("/v1/integrations/engagement-users?userId={}", f.crm_user),
        "/v1/integrations/opportunity-users".to_owned(),
        format!("/v1/integrations/opportunity-users?opportunityId={o}"),
    ] {
        let r = call(Method::GET, path.clone(), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, json!([]), "{path}");
    }
    for path in [
        "/v1/core/users",
        "/v1/core/users?externalId=iso-rep",
        "/v1/integrations/users",
    ] {
        let r = call(Method::GET, path.into(), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, json!({"data": [], "cursor": null}), "{path}");
    }

    // Acme's records came through all of that untouched.
    for path in &by_id {
        let r = s.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path} as acme: {r:?}");
    }
    assert_eq!(
        s.get(&format!("/v1/integrations/accounts/{}", f.account))
            .await
            .body["name"],
        "Acme Co"
    );

    // The same external ids synced by the other organization are records of its own.
    let r = call(
        Method::PUT,
        "/v1/integrations/sync/engagements".into(),
        Some(json!({"externalId": "iso-e", "subject": "Theirs", "account": {"externalId": "iso-acc"},
            "opportunity": {"externalId": "iso-o"}, "engagementUsers": [{"externalId": "iso-rep"}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let theirs = &r.body["data"];
    assert_ne!(theirs["id"], f.engagement["id"]);
    assert_ne!(theirs["accountId"], f.engagement["accountId"]);
    assert_ne!(theirs["opportunityId"], f.engagement["opportunityId"]);
    assert_ne!(
        theirs["engagementUsers"][0]["userId"],
        f.engagement["engagementUsers"][0]["userId"]
    );
    assert_ne!(theirs["organizationId"], f.engagement["organizationId"]);
    assert!(
        theirs["account"].get("name").is_none(),
        "acme's account name stays acme's"
    );
    let ours = s
        .get(&format!("/v1/integrations/engagements/{e}"))
        .await
        .body;
    assert_eq!(ours["subject"], "Acme's");
    assert_eq!(ours["account"]["name"], "Acme Co");
    let r = call(
        Method::POST,
        "/v1/integrations/accounts".into(),
        Some(json!({"externalId": "iso-acc-2", "latitude": 0.0, "longitude": 0.0})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // Each side lists exactly its own.
    let mine = s.get("/v1/integrations/engagements").await.body;
    assert_eq!(ids_of(&mine["data"]), [e.as_str()]);
    let r = call(Method::GET, "/v1/integrations/engagements".into(), None).await;
    assert_eq!(ids_of(&r.body["data"]), [id(theirs)]);
    assert_eq!(
        ids_of(&s.get("/v1/integrations/accounts").await.body),
        [f.account.as_str()]
    );
    // Acme's core user maps `iso-rep`, and mapping it in another organization is no conflict:
    // the mapping is per organization.
    let other_org = org_id(s, &other).await;
    let r = call(
        Method::POST,
        "/v1/core/users".into(),
        Some(json!({"email": "iso@example.com", "organizationId": other_org, "externalId": "iso-rep"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let mapped = s.get("/v1/core/users?externalId=iso-rep").await.body;
    assert_eq!(ids_of(&mapped["data"]), [f.core_user.as_str()]);
}

async fn a_second_connection_keeps_its_own_external_ids(s: &TestServer) {
    let f = acme_fixture(s).await;
    let crm2 = s.token_for("acme", "crm2", "all").await;
    let r = s
        .call(
            Method::PUT,
            "/v1/integrations/sync/engagements",
            Some(&crm2),
            Some(json!({"externalId": "iso-e", "subject": "From crm2", "account": {"externalId": "iso-acc"},
                "opportunity": {"externalId": "iso-o"}, "engagementUsers": [{"externalId": "iso-rep"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_conforms("/v1/integrations/sync/engagements", "put", 200, &r.body);
    let second = r.body["data"].clone();
    // One organization, two connections: the same external ids name different records.
    assert_eq!(second["organizationId"], f.engagement["organizationId"]);
    assert_ne!(
        second["integrationConnectionId"],
        f.engagement["integrationConnectionId"]
    );
    assert_ne!(second["id"], f.engagement["id"]);
    assert_ne!(second["accountId"], f.engagement["accountId"]);
    assert_ne!(second["opportunityId"], f.engagement["opportunityId"]);
    assert_ne!(
        second["engagementUsers"][0]["userId"],
        f.engagement["engagementUsers"][0]["userId"]
    );
    let first = s
        .get(&format!(
            "/v1/integrations/engagements/{}",
            id(&f.engagement)
        ))
        .await
        .body;
    assert_eq!(first["subject"], "Acme's");

    // Each connection resolves an external id to its own record.
    let mine = s
        .get("/v1/integrations/engagements/iso-e?idType=external")
        .await;
    assert_eq!(mine.body["id"], f.engagement["id"]);
    let theirs = s
        .call(
            Method::GET,
            "/v1/integrations/engagements/iso-e?idType=external",
            Some(&crm2),
            None,
        )
        .await;
    assert_eq!(theirs.body["id"], second["id"]);
    let filtered = s
        .call(
            Method::GET,
            "/v1/integrations/engagements?externalId=iso-e",
            Some(&crm2),
            None,
        )
        .await;
    assert_eq!(ids_of(&filtered.body["data"]), [id(&second)]);
    let filtered = s.get("/v1/integrations/engagements?externalId=iso-e").await;
    assert_eq!(ids_of(&filtered.body["data"]), [id(&f.engagement)]);

    // An account created directly is unique per connection, not per organization.
    let r = s
        .call(
            Method::POST,
            "/v1/integrations/accounts",
            Some(&crm2),
            Some(json!({"externalId": "only-crm2", "latitude": 0.0, "longitude": 0.0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = s
        .post(
            "/v1/integrations/accounts",
            json!({"externalId": "only-crm2", "latitude": 0.0, "longitude": 0.0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // The CRM users of both connections are the organization's, one per connection.
    let crm_users = s.get("/v1/integrations/users").await.body;
    let reps: Vec<&Value> = crm_users["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["externalId"] == "iso-rep")
        .collect();
    assert_eq!(reps.len(), 2, "{crm_users}");
    assert_ne!(
        reps[0]["integrationConnectionId"],
        reps[1]["integrationConnectionId"]
    );
    // Acme's core user maps `iso-rep`, so both connections' reps link to it.
    for rep in reps {
        assert_eq!(rep["userId"], f.core_user.as_str(), "{rep}");
    }
}

on_both!(
    accounts_create_and_the_any_of,
    accounts_page_by_header,
    accounts_update_and_delete,
    engagement_users_crud,
    opportunity_users_crud,
    core_users_crud,
    crm_users_list_and_read,
    caller_identity_names_the_token,
    another_organization_sees_nothing,
    a_second_connection_keeps_its_own_external_ids,
);
