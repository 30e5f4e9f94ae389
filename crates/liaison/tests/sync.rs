//! The sync rules of the integrations face, through HTTP, on both backends: the seed
//! payloads, nested resolution, types, soft deletes, merges, reps, idempotency, stale writes,
//! concurrency and the outbox.

mod common;

use common::TestServer;
use common::schema::assert_conforms;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Seed 002 §3.2, with a real address for the rep.
fn quickstart_engagement() -> Value {
    json!({
        "externalId": "appt-456",
        "startTime": "2026-02-15T14:00:00Z",
        "endTime": "2026-02-15T15:00:00Z",
        "subject": "Smith Kitchen Remodel Consultation",
        "engagementType": {"activityType": "MEETING", "name": "meeting"},
        "engagementUsers": [
            {"externalId": "rep-123-from-your-crm", "email": "john.sales@example.com", "name": "John Sales"}
        ],
        "account": {"externalId": "account-789"},
        "opportunity": {"externalId": "opp-101"}
    })
}

/// Seed 002 §3.3.
fn quickstart_opportunity() -> Value {
    json!({
        "externalId": "opp-101",
        "name": "Smith Kitchen Remodel",
        "amount": 45000,
        "closedAt": "2026-03-01T00:00:00Z",
        "disposition": "WON",
        "account": {"externalId": "account-789"},
        "opportunityUsers": [
            {"externalId": "rep-123-from-your-crm", "email": "john.sales@example.com", "name": "John Sales"}
        ]
    })
}

fn address(city: &str) -> Value {
    json!({"country": "US", "street": "1 Main St", "city": city, "state": "CA", "zip": "94000"})
}

/// Seed 001's payload with every field filled in.
fn full_engagement() -> Value {
    let account = json!({
        "externalId": "acct-full", "name": "Full Account", "latitude": 37.77, "longitude": -122.42,
        "addresses": [address("San Francisco")], "phoneNumbers": ["+1 555 0100"],
        "emailAddresses": ["office@full.example"], "lastActivityAt": "2026-01-02T03:04:05Z",
        "owner": {"externalId": "owner-1"}
    });
    json!({
        "externalId": "eng-full",
        "direction": "OUTBOUND",
        "content": "Discussed the kitchen.",
        "subject": "Full payload",
        "startTime": "2024-02-28 20:09:58.692",
        "startTimeLocalized": "2024-02-28T12:09:58",
        "endTime": "2024-02-28T21:09:58.692Z",
        "remoteCreatedAt": "2024-02-01T00:00:00Z",
        "remoteUpdatedAt": "2024-02-27T00:00:00Z",
        "deletedAt": null,
        "engagementType": {"name": "In-home visit", "activityType": "APPOINTMENT", "externalId": "type-visit"},
        "account": account,
        "engagementUsers": [
            {"externalId": "rep-a", "email": "a@example.com", "shareOfSale": 0.5, "name": "Ann Rep", "deletedAt": null},
            {"externalId": "rep-b", "email": "b@example.com", "shareOfSale": 0.5, "name": "Bob Rep"}
        ],
        "opportunity": {
            "externalId": "opp-full", "name": "Full Opp", "amount": 1234.5, "closedAt": "2024-03-01",
            "remoteCreatedAt": "2024-02-01T00:00:00Z", "lastActivityAt": "2024-02-28T00:00:00Z",
            "disposition": "OPEN", "copyEngagementRelationships": true
        },
        "lead": {
            "externalId": "lead-full", "firstName": "Lee", "lastName": "Lead", "latitude": 1.5, "longitude": 2.5,
            "addresses": [address("Oakland")], "phoneNumbers": ["+1 555 0101"], "emailAddresses": ["lee@example.com"],
            "lastActivityAt": "2024-02-28T00:00:00Z", "deletedAt": null, "owner": {"externalId": "owner-1"},
            "mergedFromExternalIds": []
        },
        "contact": {
            "externalId": "contact-full", "name": "Carla Contact", "latitude": 3.5, "longitude": 4.5,
            "account": {"externalId": "acct-full"},
            "addresses": [address("Berkeley")], "phoneNumbers": ["+1 555 0102"], "emailAddresses": ["carla@example.com"],
            "lastActivityAt": "2024-02-28T00:00:00Z", "owner": {"externalId": "owner-1"}
        }
    })
}

async fn quickstart_round_trips(s: &TestServer) {
    let e = s.sync(quickstart_engagement()).await;
    let r = s
        .put("/v1/integrations/sync/engagements", quickstart_engagement())
        .await;
    assert_conforms("/v1/integrations/sync/engagements", "put", 200, &r.body);
    assert_eq!(e["externalId"], "appt-456");
    assert_eq!(e["engagementType"], "meeting");
    assert_eq!(e["startTime"], "2026-02-15T14:00:00.000Z");
    assert_eq!(e["endTime"], "2026-02-15T15:00:00.000Z");
    assert_eq!(e["account"]["externalId"], "account-789");
    assert_eq!(e["engagementUsers"].as_array().unwrap().len(), 1);
    assert_eq!(e["engagementUsers"][0]["name"], "John Sales");

    let o = s.sync_opportunity(quickstart_opportunity()).await;
    assert_conforms(
        "/v1/integrations/sync/opportunities",
        "put",
        200,
        &json!({"data": o.clone()}),
    );
    // The nested `{externalId}` of the engagement and the opportunity sync are one record.
    assert_eq!(o["id"], e["opportunityId"]);
    assert_eq!(o["accountId"], e["accountId"]);
    assert_eq!(o["amount"], 45000.0);
    assert_eq!(o["disposition"], "WON");
    assert_eq!(
        o["opportunityUsers"][0]["userId"],
        e["engagementUsers"][0]["userId"]
    );

    // Seed 002 §4.1: the engagement read back by id.
    let got = s
        .get(&format!(
            "/v1/integrations/engagements/{}",
            e["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_conforms("/v1/integrations/engagements/{id}", "get", 200, &got.body);
    assert_eq!(got.body["opportunityId"], o["id"]);
    assert_eq!(got.body["accountId"], e["accountId"]);
    let by_ext = s
        .get("/v1/integrations/engagements/appt-456?idType=external")
        .await;
    assert_eq!(by_ext.body["id"], e["id"]);
    let opp = s
        .get(&format!(
            "/v1/integrations/opportunities/{}",
            o["id"].as_str().unwrap()
        ))
        .await;
    assert_conforms("/v1/integrations/opportunities/{id}", "get", 200, &opp.body);
    assert_eq!(opp.body["name"], "Smith Kitchen Remodel");
}

async fn full_payload_round_trips(s: &TestServer) {
    let e = s.sync(full_engagement()).await;
    assert_eq!(e["direction"], "OUTBOUND");
    assert_eq!(e["content"], "Discussed the kitchen.");
    assert_eq!(e["startTime"], "2024-02-28T20:09:58.692Z");
    assert_eq!(e["startTimeLocalized"], "2024-02-28T12:09:58");
    assert_eq!(e["engagementType"], "In-home visit");
    assert_eq!(e["activityType"], "APPOINTMENT");
    assert_eq!(e["account"]["name"], "Full Account");
    assert_eq!(e["account"]["latitude"], 37.77);
    assert_eq!(e["account"]["addresses"][0]["city"], "San Francisco");
    assert_eq!(e["account"]["phoneNumbers"], json!(["+1 555 0100"]));
    assert_eq!(
        e["account"]["emailAddresses"],
        json!(["office@full.example"])
    );
    assert_eq!(e["engagementUsers"].as_array().unwrap().len(), 2);
    assert_eq!(e["engagementUsers"][0]["shareOfSale"], 0.5);
    assert!(e["contactId"].is_string() && e["leadId"].is_string());
    let got = s
        .get(&format!(
            "/v1/integrations/engagements/{}",
            e["id"].as_str().unwrap()
        ))
        .await;
    assert_conforms("/v1/integrations/engagements/{id}", "get", 200, &got.body);
    // Everything read back equals what the sync answered.
    let mut expected = e.clone();
    expected.as_object_mut().unwrap().remove("updatedAt");
    let mut actual = got.body.clone();
    actual.as_object_mut().unwrap().remove("updatedAt");
    assert_eq!(actual, expected);
    // copyEngagementRelationships put the engagement's account, contact and lead on the
    // opportunity.
    let o = s
        .get(&format!(
            "/v1/integrations/opportunities/{}",
            e["opportunityId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(o.body["accountId"], e["accountId"]);
    assert_eq!(o.body["contactId"], e["contactId"]);
    assert_eq!(o.body["leadId"], e["leadId"]);
    assert_eq!(o.body["amount"], 1234.5);
    assert_eq!(o.body["closedAt"], "2024-03-01T00:00:00.000Z");
    // A second identical sync changes nothing.
    let again = s.sync(full_engagement()).await;
    assert_eq!(again, e);
}

async fn nested_external_ids_resolve_and_fill_in(s: &TestServer) {
    // An account known only by its external id is created as a stub...
    let e = s
        .sync(json!({"externalId": "e1", "account": {"externalId": "acc-1"}}))
        .await;
    let stub = e["account"].clone();
    assert_eq!(stub["externalId"], "acc-1");
    assert!(stub.get("name").is_none());
    // ...filled in by a later sync...
    let e2 = s
        .sync(json!({"externalId": "e2", "account": {"externalId": "acc-1", "name": "Acme"}}))
        .await;
    assert_eq!(e2["accountId"], stub["id"]);
    assert_eq!(e2["account"]["name"], "Acme");
    // ...and a bare reference resolves to it without clearing what is known.
    let e3 = s
        .sync(json!({"externalId": "e3", "account": {"externalId": "acc-1"}}))
        .await;
    assert_eq!(e3["account"]["name"], "Acme");
    let accounts = s.get("/v1/integrations/accounts").await;
    assert_eq!(accounts.body.as_array().unwrap().len(), 1);
    assert_conforms("/v1/integrations/accounts", "get", 200, &accounts.body);
}

async fn engagement_type_id_overrides_the_object(s: &TestServer) {
    let e = s
        .sync(
            json!({"externalId": "t1", "engagementType": {"name": "Call", "activityType": "CALL"}}),
        )
        .await;
    let call_type = e["engagementTypeId"].as_str().unwrap().to_owned();
    let e2 = s
        .sync(json!({
            "externalId": "t2",
            "engagementTypeId": call_type,
            "engagementType": {"name": "Visit", "activityType": "APPOINTMENT"}
        }))
        .await;
    assert_eq!(e2["engagementType"], "Call");
    assert_eq!(e2["activityType"], "CALL");
    let unknown = s
        .put(
            "/v1/integrations/sync/engagements",
            json!({"externalId": "t3", "engagementTypeId": uuid::Uuid::now_v7().to_string()}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unknown.body["issues"][0]["path"],
        json!(["engagementTypeId"])
    );
    let bad = s
        .put(
            "/v1/integrations/sync/engagements",
            json!({"externalId": "t4", "engagementType": {"name": "X", "activityType": "LUNCH"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["issues"][0]["code"], "invalid_enum_value");
    assert_eq!(
        bad.body["issues"][0]["path"],
        json!(["engagementType", "activityType"])
    );
    // Nothing of the refused payloads was stored.
    assert_eq!(
        s.get("/v1/integrations/engagements?externalId=t3")
            .await
            .body["data"],
        json!([])
    );
    assert_eq!(
        s.get("/v1/integrations/engagements?externalId=t4")
            .await
            .body["data"],
        json!([])
    );
}

async fn deleted_at_hides_and_a_clean_sync_restores(s: &TestServer) {
    let e = s
        .sync(json!({"externalId": "d1", "subject": "Hello"}))
        .await;
    let id = e["id"].as_str().unwrap().to_owned();
    s.sync(json!({"externalId": "d1", "deletedAt": "2026-01-01T00:00:00Z"}))
        .await;
    assert_eq!(
        s.get(&format!("/v1/integrations/engagements/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("/v1/integrations/engagements").await.body["data"],
        json!([])
    );
    let back = s.sync(json!({"externalId": "d1"})).await;
    assert_eq!(back["id"], e["id"]);
    assert_eq!(back["subject"], "Hello");
    assert_eq!(
        s.get(&format!("/v1/integrations/engagements/{id}"))
            .await
            .status,
        StatusCode::OK
    );
}

async fn a_reps_deleted_at_removes_that_rep(s: &TestServer) {
    let reps = json!([
        {"externalId": "r1", "name": "One"},
        {"externalId": "r2", "name": "Two"}
    ]);
    let e = s
        .sync(json!({"externalId": "reps", "engagementUsers": reps}))
        .await;
    assert_eq!(e["engagementUsers"].as_array().unwrap().len(), 2);
    let e = s
        .sync(json!({"externalId": "reps", "engagementUsers": [{"externalId": "r1", "deletedAt": "2026-01-01T00:00:00Z"}]}))
        .await;
    let names: Vec<&str> = e["engagementUsers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Two"]);
    // `null` removes every rep.
    let e = s
        .sync(json!({"externalId": "reps", "engagementUsers": null}))
        .await;
    assert_eq!(e["engagementUsers"], json!([]));
}

async fn merges_move_every_reference(s: &TestServer) {
    let e1 = s
        .sync(json!({"externalId": "m1", "account": {"externalId": "old-acc", "name": "Old"}}))
        .await;
    let o = s
        .sync_opportunity(json!({"externalId": "m-opp", "account": {"externalId": "old-acc"}}))
        .await;
    let old_id = e1["accountId"].as_str().unwrap().to_owned();
    // The CRM merged old-acc into new-acc.
    let e2 = s
        .sync(json!({"externalId": "m2", "account": {"externalId": "new-acc", "name": "New", "mergedFromExternalIds": ["old-acc"]}}))
        .await;
    let new_id = e2["accountId"].as_str().unwrap().to_owned();
    assert_ne!(old_id, new_id);
    let e1 = s
        .get(&format!(
            "/v1/integrations/engagements/{}",
            e1["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(e1.body["accountId"], new_id.as_str());
    assert_eq!(e1.body["account"]["name"], "New");
    let o = s
        .get(&format!(
            "/v1/integrations/opportunities/{}",
            o["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(o.body["accountId"], new_id.as_str());
    assert_eq!(
        s.get(&format!("/v1/integrations/accounts/{old_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let accounts = s.get("/v1/integrations/accounts").await.body;
    assert_eq!(accounts.as_array().unwrap().len(), 1);
    // Creating an account under the merged external id is refused.
    let again = s
        .post(
            "/v1/integrations/accounts",
            json!({"externalId": "old-acc", "addresses": []}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
    // A later reference to the merged external id lands on the survivor.
    let e3 = s
        .sync(json!({"externalId": "m3", "account": {"externalId": "old-acc"}}))
        .await;
    assert_eq!(e3["accountId"], new_id.as_str());

    // mergedToExternalId, for contacts: the opportunity's contact list follows too.
    s.sync_opportunity(json!({"externalId": "c-opp", "opportunityContacts": [
        {"externalId": "c-old", "name": "Old C", "isPrimary": true},
        {"externalId": "c-other", "name": "Other C"}
    ]}))
    .await;
    let merged = s
        .sync(json!({"externalId": "m4", "contact": {"externalId": "c-old", "mergedToExternalId": "c-new"}}))
        .await;
    let opp = s
        .get("/v1/integrations/opportunities?externalId=c-opp")
        .await
        .body["data"][0]
        .clone();
    assert_eq!(opp["contactId"], merged["contactId"]);
    assert!(
        opp["contactIds"]
            .as_array()
            .unwrap()
            .contains(&merged["contactId"])
    );
}

async fn copy_engagement_relationships(s: &TestServer) {
    let e = s
        .sync(json!({
            "externalId": "copy",
            "account": {"externalId": "copy-acc"},
            "contact": {"externalId": "copy-contact"},
            "lead": {"externalId": "copy-lead"},
            "opportunity": {"externalId": "copy-opp", "copyEngagementRelationships": true}
        }))
        .await;
    let o = s
        .get(&format!(
            "/v1/integrations/opportunities/{}",
            e["opportunityId"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(o["accountId"], e["accountId"]);
    assert_eq!(o["contactId"], e["contactId"]);
    assert_eq!(o["leadId"], e["leadId"]);
    // Without the flag, nothing is copied.
    let e = s
        .sync(json!({"externalId": "nocopy", "account": {"externalId": "nc-acc"}, "opportunity": {"externalId": "nc-opp"}}))
        .await;
    let o = s
        .get(&format!(
            "/v1/integrations/opportunities/{}",
            e["opportunityId"].as_str().unwrap()
        ))
        .await
        .body;
    assert!(o.get("accountId").is_none());
}

async fn reps_link_by_email_then_name_and_explicit_mapping_wins(s: &TestServer) {
    let org = s.get("/v1/core/auth/caller-identity").await.body["organizationId"].clone();
    let mk = |email: &str, first: &str, last: &str| json!({"email": email, "organizationId": org, "firstName": first, "lastName": last});
    let john = s
        .post(
            "/v1/core/users",
            mk("John.Sales@Example.com", "John", "Sales"),
        )
        .await;
    assert_eq!(john.status, StatusCode::OK, "{john:?}");
    assert_conforms("/v1/core/users", "post", 200, &john.body);
    let jane = s
        .post("/v1/core/users", mk("jane@example.com", "Jane", "Closer"))
        .await
        .body;
    let pat = s
        .post("/v1/core/users", mk("pat@example.com", "Pat", "Mapped"))
        .await
        .body;
    let john_id = john.body["id"].as_str().unwrap().to_owned();

    s.sync(json!({"externalId": "l1", "startTime": "2026-01-01T10:00:00Z",
        "engagementUsers": [{"externalId": "crm-john", "email": "JOHN.SALES@example.COM", "name": "Someone Else"}]}))
        .await;
    s.sync(
        json!({"externalId": "l2", "startTime": "2026-01-02T10:00:00Z",
        "engagementUsers": [{"externalId": "crm-jane", "name": "  jane   closer "}]}),
    )
    .await;
    let mine = s
        .get(&format!("/v1/integrations/users/{john_id}/engagements"))
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_conforms(
        "/v1/integrations/users/{id}/engagements",
        "get",
        200,
        &mine.body,
    );
    let ids: Vec<&str> = mine
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["externalId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["l1"]);
    let hers = s
        .get(&format!(
            "/v1/integrations/users/{}/engagements",
            jane["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(hers.body[0]["externalId"], "l2");

    // Map crm-john explicitly to Pat: the mapping wins over the email match.
    let put = s
        .put(
            &format!("/v1/core/users/{}", pat["id"].as_str().unwrap()),
            json!({"externalId": "crm-john"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{put:?}");
    assert_eq!(put.body["externalId"], "crm-john");
    let pats = s
        .get(&format!(
            "/v1/integrations/users/{}/engagements",
            pat["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(pats.body[0]["externalId"], "l1");
    assert_eq!(
        s.get(&format!("/v1/integrations/users/{john_id}/engagements"))
            .await
            .body,
        json!([])
    );
    // A rep synced after the mapping exists is linked by it too.
    s.sync(
        json!({"externalId": "l3", "startTime": "2026-01-03T10:00:00Z",
        "engagementUsers": [{"externalId": "crm-john"}]}),
    )
    .await;
    let pats = s
        .get(&format!(
            "/v1/integrations/users/{}/engagements",
            pat["id"].as_str().unwrap()
        ))
        .await;
    let ids: Vec<&str> = pats
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["externalId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["l3", "l1"], "newest first");
    // The CRM user shows its link.
    let crm = s.get("/v1/integrations/users").await.body;
    let linked = crm["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["externalId"] == "crm-john")
        .unwrap();
    assert_eq!(linked["userId"], pat["id"]);
}

async fn user_engagements_page_both_ways(s: &TestServer) {
    let org = s.get("/v1/core/auth/caller-identity").await.body["organizationId"].clone();
    let rep = s
        .post(
            "/v1/core/users",
            json!({"email": "rep@example.com", "organizationId": org}),
        )
        .await
        .body;
    for day in 1..=5 {
        s.sync(json!({"externalId": format!("p{day}"), "startTime": format!("2026-03-0{day}T09:00:00Z"),
            "engagementUsers": [{"externalId": "crm-rep", "email": "rep@example.com"}]}))
            .await;
    }
    let base = format!(
        "/v1/integrations/users/{}/engagements",
        rep["id"].as_str().unwrap()
    );
    let ext = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["externalId"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = s.get(&format!("{base}?limit=2")).await.body;
    assert_eq!(ext(&first), ["p5", "p4"]);
    let next = s
        .get(&format!(
            "{base}?limit=2&startingAfter={}",
            first[1]["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(ext(&next), ["p3", "p2"]);
    let prev = s
        .get(&format!(
            "{base}?limit=2&startingBefore={}",
            next[0]["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(ext(&prev), ["p5", "p4"]);
    assert_eq!(
        s.get(&format!(
            "/v1/integrations/users/{}/engagements",
            uuid::Uuid::now_v7()
        ))
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

async fn idempotent_sync_changes_nothing(s: &TestServer) {
    let first = s.sync(full_engagement()).await;
    let events = s.events().await.len();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second = s.sync(full_engagement()).await;
    assert_eq!(second["updatedAt"], first["updatedAt"]);
    assert_eq!(
        s.events().await.len(),
        events,
        "a repeated payload appends no event"
    );
    // A payload naming one rep twice is folded into one rep, so it too repeats as a no-op.
    let twice = json!({"externalId": "twice", "engagementUsers": [
        {"externalId": "dup", "name": "First"}, {"externalId": "dup", "email": "dup@example.com", "name": "Second"}
    ]});
    let t1 = s.sync(twice.clone()).await;
    assert_eq!(t1["engagementUsers"].as_array().unwrap().len(), 1);
    assert_eq!(t1["engagementUsers"][0]["name"], "Second");
    let n = s.events().await.len();
    assert_eq!(s.sync(twice).await, t1);
    assert_eq!(s.events().await.len(), n);
    let o1 = s.sync_opportunity(quickstart_opportunity()).await;
    let n = s.events().await.len();
    let o2 = s.sync_opportunity(quickstart_opportunity()).await;
    assert_eq!(o1["updatedAt"], o2["updatedAt"]);
    assert_eq!(s.events().await.len(), n);
}

async fn absent_keeps_and_null_clears(s: &TestServer) {
    s.sync(
        json!({"externalId": "n1", "subject": "S", "content": "C", "direction": "INBOUND",
        "account": {"externalId": "n-acc", "name": "N", "phoneNumbers": ["1"]}}),
    )
    .await;
    let e = s.sync(json!({"externalId": "n1", "content": null, "account": {"externalId": "n-acc", "phoneNumbers": null}})).await;
    assert_eq!(e["subject"], "S");
    assert_eq!(e["direction"], "INBOUND");
    assert!(e.get("content").is_none());
    assert_eq!(e["account"]["name"], "N");
    assert_eq!(e["account"]["phoneNumbers"], json!([]));
    let e = s.sync(json!({"externalId": "n1", "account": null})).await;
    assert!(e.get("accountId").is_none() && e["account"].is_null());
}

async fn stale_writes_are_ignored(s: &TestServer) {
    s.sync(
        json!({"externalId": "st", "subject": "new", "remoteUpdatedAt": "2026-02-02T00:00:00Z"}),
    )
    .await;
    let e = s.sync(json!({"externalId": "st", "subject": "old", "remoteUpdatedAt": "2026-02-01T00:00:00Z"})).await;
    assert_eq!(e["subject"], "new");
    let e = s.sync(json!({"externalId": "st", "subject": "newer", "remoteUpdatedAt": "2026-02-03T00:00:00Z"})).await;
    assert_eq!(e["subject"], "newer");
    // Without a remoteUpdatedAt the CRM says nothing of order: the write lands.
    let e = s
        .sync(json!({"externalId": "st", "subject": "unordered"}))
        .await;
    assert_eq!(e["subject"], "unordered");
}

async fn concurrent_syncs_make_one_record(s: &TestServer) {
    let mut tasks = Vec::new();
    for i in 0..16 {
        let client = s.client.clone();
        let url = format!("{}/v1/integrations/sync/engagements", s.base);
        let token = s.token.clone();
        tasks.push(tokio::spawn(async move {
            client
                .put(url)
                .bearer_auth(token)
                .json(&json!({"externalId": "race", "subject": format!("try {i}"),
                    "account": {"externalId": "race-acc"}, "engagementUsers": [{"externalId": "race-rep"}]}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let list = s
        .get("/v1/integrations/engagements?externalId=race")
        .await
        .body;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.get("/v1/integrations/accounts")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        list["data"][0]["engagementUsers"].as_array().unwrap().len(),
        1
    );
}

async fn every_change_lands_in_the_outbox(s: &TestServer) {
    let before = s.events().await.len();
    let e = s.sync(quickstart_engagement()).await;
    let events = s.events().await;
    let new: Vec<_> = events[before..].iter().collect();
    let kinds: Vec<(&str, &str)> = new
        .iter()
        .map(|e| (e.entity.as_str(), e.action.as_str()))
        .collect();
    for expected in [
        ("engagement", "created"),
        ("account", "created"),
        ("opportunity", "created"),
        ("engagement_type", "created"),
        ("crm_user", "created"),
        ("participant", "created"),
    ] {
        assert!(
            kinds.contains(&expected),
            "{expected:?} missing from {kinds:?}"
        );
    }
    let created = new.iter().find(|ev| ev.entity == "engagement").unwrap();
    assert!(created.before.is_none());
    assert_eq!(created.entity_id.to_string(), e["id"].as_str().unwrap());
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    // An update records the old and the new version.
    s.sync(json!({"externalId": "appt-456", "subject": "Renamed"}))
        .await;
    let last = s.events().await.pop().unwrap();
    assert_eq!(last.action.as_str(), "updated");
    let old: Value = serde_json::from_str(last.before.as_deref().unwrap()).unwrap();
    let new: Value = serde_json::from_str(last.after.as_deref().unwrap()).unwrap();
    assert_eq!(old["data"]["subject"], "Smith Kitchen Remodel Consultation");
    assert_eq!(new["data"]["subject"], "Renamed");
    // A soft delete is a `deleted` event.
    s.delete(&format!(
        "/v1/integrations/engagements/{}",
        e["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(s.events().await.pop().unwrap().action.as_str(), "deleted");
}

/// The paths of a 422's issues, in order.
fn issue_paths(r: &common::Reply) -> Vec<&Value> {
    r.body["issues"]
        .as_array()
        .unwrap_or_else(|| panic!("no issues in {r:?}"))
        .iter()
        .map(|i| &i["path"])
        .collect()
}

/// A batch lands whole or not at all: one bad item (by the schema or by a rule) refuses the
/// batch with a 422 that lists every bad field of every item under its index, and nothing of
/// it is written. A valid batch conforms to the published schema.
async fn a_batch_lands_whole_or_not_at_all(s: &TestServer) {
    let events = s.events().await.len();
    let r = s
        .put(
            "/v1/integrations/sync/batch/engagements",
            json!([
                {"externalId": "b1", "subject": "one", "account": {"externalId": "b-acc"}},
                {"subject": "no id"},
                {"externalId": "b3", "direction": "SIDEWAYS", "startTime": "soon", "engagementTypeId": "not-a-type"},
                {"externalId": "b4"}
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.body["name"], "ZodError");
    let paths = issue_paths(&r);
    assert_eq!(
        paths,
        [
            &json!([1, "externalId"]),
            &json!([2, "direction"]),
            &json!([2, "startTime"]),
            &json!([2, "engagementTypeId"])
        ]
    );
    // Refused by a rule rather than by the schema: the same, under the item's index.
    let r = s
        .put(
            "/v1/integrations/sync/batch/engagements",
            json!([
                {"externalId": "b1", "account": {"externalId": "b-acc"}},
                {"externalId": "b2", "engagementTypeId": uuid::Uuid::now_v7().to_string()},
                {"externalId": "b5", "startTime": "2026-01-02T00:00:00Z"},
                {"externalId": "b5", "endTime": "2026-01-01T00:00:00Z"}
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let paths = issue_paths(&r);
    assert_eq!(
        paths,
        [&json!([1, "engagementTypeId"]), &json!([3, "endTime"])]
    );
    assert_eq!(
        s.get("/v1/integrations/engagements").await.body["data"],
        json!([]),
        "nothing of a refused batch is written"
    );
    assert_eq!(
        s.get("/v1/integrations/accounts").await.body,
        json!([]),
        "not even the records nested in its good items"
    );
    assert_eq!(
        s.events().await.len(),
        events,
        "and nothing reaches the outbox"
    );

    let ok = s
        .put(
            "/v1/integrations/sync/batch/engagements",
            json!([quickstart_engagement(), full_engagement()]),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    assert_conforms(
        "/v1/integrations/sync/batch/engagements",
        "put",
        200,
        &ok.body,
    );
    let opp = s
        .put(
            "/v1/integrations/sync/batch/opportunities",
            json!([quickstart_opportunity(), {"externalId": "bo2", "amount": -5}]),
        )
        .await;
    assert_eq!(opp.status, StatusCode::UNPROCESSABLE_ENTITY, "{opp:?}");
    assert_eq!(opp.body["issues"][0]["path"], json!([1, "amount"]));
    let opp = s
        .put(
            "/v1/integrations/sync/batch/opportunities",
            json!([quickstart_opportunity()]),
        )
        .await;
    assert_eq!(opp.body["data"][0]["externalId"], "opp-101");
}

async fn soft_delete_removed_reconciles_a_window(s: &TestServer) {
    for (ext, day) in [("w1", "01"), ("w2", "02"), ("w3", "03"), ("w-out", "20")] {
        s.sync(json!({"externalId": ext, "startTime": format!("2026-04-{day}T10:00:00Z")}))
            .await;
    }
    s.sync(json!({"externalId": "w-none"})).await;
    let r = s
        .post(
            "/v1/integrations/sync/engagements/soft-delete-removed",
            json!({"validExternalIds": ["w2"], "fromTime": "2026-04-01T00:00:00Z", "toTime": "2026-04-03T23:59:59Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body, json!({"data": {"success": true}}));
    let list = s.get("/v1/integrations/engagements").await.body;
    let mut ext: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["externalId"].as_str().unwrap())
        .collect();
    ext.sort();
    assert_eq!(ext, ["w-none", "w-out", "w2"]);
    let bad = s
        .post(
            "/v1/integrations/sync/engagements/soft-delete-removed",
            json!({"fromTime": "2026-04-03T00:00:00Z", "toTime": "2026-04-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let paths: Vec<&Value> = bad.body["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["path"])
        .collect();
    assert!(paths.contains(&&json!(["validExternalIds"])) && paths.contains(&&json!(["toTime"])));
}

async fn lists_page_with_cursors(s: &TestServer) {
    let batch: Vec<Value> = (0..25)
        .map(|i| json!({"externalId": format!("pg-{i:02}")}))
        .collect();
    s.put(
        "/v1/integrations/sync/batch/engagements",
        Value::Array(batch),
    )
    .await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/integrations/engagements?limit=10&cursor={c}"),
            None => "/v1/integrations/engagements?limit=10".to_owned(),
        };
        let page = s.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert_conforms("/v1/integrations/engagements", "get", 200, &page.body);
        for e in page.body["data"].as_array().unwrap() {
            seen.push(e["externalId"].as_str().unwrap().to_owned());
        }
        assert_eq!(page.body["hasNextPage"], page.body["cursor"].is_string());
        match page.body["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("pg-{i:02}")).collect();
    assert_eq!(seen, expected, "every record once, in creation order");
    // A cursor is bound to its query and checked for tampering.
    let page = s.get("/v1/integrations/engagements?limit=10").await.body;
    let c = page["cursor"].as_str().unwrap();
    let other = s
        .get(&format!(
            "/v1/integrations/engagements?limit=10&recordingId=x&cursor={c}"
        ))
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    let mut tampered = c.to_owned();
    tampered.replace_range(0..1, if c.starts_with('A') { "B" } else { "A" });
    assert_eq!(
        s.get(&format!("/v1/integrations/engagements?cursor={tampered}"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

async fn a_batch_lands_the_last_version_of_what_it_repeats(s: &TestServer) {
    // Nested records recur in a batch, and may change and change back within it: the last
    // version each payload states is what remains.
    let item = |ext: &str, acc_name: &str, type_name: &str, rep_name: &str| {
        json!({"externalId": ext,
            "account": {"externalId": "rep-acc", "name": acc_name},
            "engagementType": {"externalId": "t-1", "name": type_name, "activityType": "MEETING"},
            "engagementUsers": [{"externalId": "rep-1", "name": rep_name}]})
    };
    let r = s
        .put(
            "/v1/integrations/sync/batch/engagements",
            json!([
                item("rb1", "Acme", "Visit", "Ann"),
                item("rb2", "Acme Corp", "Call", "Ann B"),
                item("rb3", "Acme", "Visit", "Ann"),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let last = &r.body["data"][2];
    assert_eq!(last["account"]["name"], "Acme");
    assert_eq!(last["engagementType"], "Visit");
    let crm = s.get("/v1/integrations/users").await.body;
    assert_eq!(crm["data"][0]["name"], "Ann");
    let e = s
        .get("/v1/integrations/engagements/rb2?idType=external")
        .await
        .body;
    assert_eq!(
        e["account"]["name"], "Acme",
        "one account, in its last state"
    );
    assert_eq!(e["engagementType"], "Visit", "one type, in its last state");
}

/// What the CRM sent about each record is kept as it sent it, fields Liaison does not model
/// included, each record's apart from the records nested in it; later syncs merge into it.
async fn raw_payloads_are_kept_and_merged(s: &TestServer) {
    let first = s
        .sync(json!({
            "externalId": "raw-1",
            "subject": "Roof",
            "crmStage": "new",
            "account": {"externalId": "acc-raw", "name": "Acme", "crmTier": "gold"}
        }))
        .await;
    let raw =
        |r: Option<String>| -> Value { serde_json::from_str(&r.expect("remote data")).unwrap() };
    assert_eq!(
        raw(s.engagement("raw-1").await.remote_data),
        json!({"externalId": "raw-1", "subject": "Roof", "crmStage": "new"})
    );
    let account = first["account"]["id"]
        .as_str()
        .expect("account id")
        .to_owned();
    assert_eq!(
        raw(s.account(&account).await.remote_data),
        json!({"externalId": "acc-raw", "name": "Acme", "crmTier": "gold"})
    );
    let partial = json!({"externalId": "raw-1", "crmStage": "won", "crmTags": [1, {"a": null}]});
    s.sync(partial.clone()).await;
    assert_eq!(
        raw(s.engagement("raw-1").await.remote_data),
        json!({"externalId": "raw-1", "subject": "Roof", "crmStage": "won", "crmTags": [1, {"a": null}]})
    );
    let events = s.events().await.len();
    s.sync(partial).await;
    assert_eq!(
        s.events().await.len(),
        events,
        "the same payload again changes nothing"
    );
}

/// Privacy is set by a face that carries it (here, the engine directly), kept by syncs that
/// do not mention it, cleared by `null`, and filters lists.
async fn privacy_is_kept_and_filters(s: &TestServer) {
    use liaison_domain::Patch;
    use liaison_store::{Field, Filter, Value as V};
    s.sync(json!({"externalId": "open-1", "subject": "Open"}))
        .await;
    s.sync_through_engine(liaison_domain::model::EngagementIn {
        external_id: "secret-1".into(),
        subject: Patch::Value("Secret".into()),
        is_private: Patch::Value(true),
        ..Default::default()
    })
    .await;
    s.sync(json!({"externalId": "secret-1", "subject": "Still secret"}))
        .await;
    assert!(
        s.engagement("secret-1").await.data.is_private,
        "kept by a sync that does not say"
    );
    let private = |b| {
        liaison_engine::Listing::default().and(Filter::eq(Field::IsPrivate, V::Bool(b)).unwrap())
    };
    assert_eq!(s.engagement_ids(&private(true)).await, vec!["secret-1"]);
    assert_eq!(s.engagement_ids(&private(false)).await, vec!["open-1"]);
    s.sync_through_engine(liaison_domain::model::EngagementIn {
        external_id: "secret-1".into(),
        is_private: Patch::Null,
        ..Default::default()
    })
    .await;
    assert!(
        !s.engagement("secret-1").await.data.is_private,
        "null makes it public"
    );
    assert!(s.engagement_ids(&private(true)).await.is_empty());
}

/// A read loads the related records it is asked for, and no others.
async fn reads_load_only_the_expansions_asked_for(s: &TestServer) {
    use liaison_engine::Expand;
    s.sync(full_engagement()).await;
    let bare = s.engagement_view("eng-full", Expand::NONE).await;
    assert!(bare.record.refs.account.is_some() && bare.record.refs.engagement_type.is_some());
    assert!(bare.engagement_type.is_none() && bare.account.is_none() && bare.contact.is_none());
    assert!(bare.lead.is_none() && bare.opportunity.is_none() && bare.participants.is_empty());
    let some = s
        .engagement_view(
            "eng-full",
            Expand {
                account: true,
                participants: true,
                ..Expand::NONE
            },
        )
        .await;
    assert_eq!(some.account.unwrap().external_id, "acct-full");
    assert!(!some.participants.is_empty());
    assert!(some.engagement_type.is_none() && some.contact.is_none());
    let all = s.engagement_view("eng-full", Expand::ALL).await;
    assert!(all.engagement_type.is_some());
    for (got, want) in [
        (
            all.contact.map(|r| r.external_id),
            &bare.record.refs.contact,
        ),
        (all.lead.map(|r| r.external_id), &bare.record.refs.lead),
        (
            all.opportunity.map(|r| r.external_id),
            &bare.record.refs.opportunity,
        ),
    ] {
        assert_eq!(
            got.is_some(),
            want.is_some(),
            "a linked record is loaded when asked"
        );
    }
}

/// The engine's cursors go both ways in any order: walking forward page by page, then back
/// from the last page, each yields every engagement once, in order; a cursor is refused when
/// edited or used with another query.
async fn cursors_walk_both_ways_in_any_order(s: &TestServer) {
    use liaison_engine::Listing;
    use liaison_store::{Dir, Sort, SortField};
    // Start times with ties and gaps; two engagements have none.
    for (i, day) in [3, 1, 2, 2, 0, 5, 2, 0, 4].into_iter().enumerate() {
        let start = (day > 0).then(|| format!("2026-05-0{day}T10:00:00Z"));
        s.sync(json!({"externalId": format!("c{i}"), "startTime": start, "subject": format!("s{}", 9 - i)}))
            .await;
    }
    for field in [
        SortField::StartTime,
        SortField::Title,
        SortField::CreatedAt,
        SortField::Id,
    ] {
        for dir in [Dir::Asc, Dir::Desc] {
            let base = Listing {
                sort: Sort { field, dir },
                limit: 2,
                ..Listing::default()
            };
            let whole = s
                .engagement_page(&Listing {
                    limit: 100,
                    ..base.clone()
                })
                .await
                .unwrap()
                .0;
            assert_eq!(whole.len(), 9);
            let (mut forward, mut pages) = (vec![], vec![]);
            let mut cursor = None;
            loop {
                let (ids, next, prev) = s
                    .engagement_page(&Listing {
                        cursor: cursor.clone(),
                        ..base.clone()
                    })
                    .await
                    .unwrap();
                assert_eq!(prev.is_some(), cursor.is_some(), "a later page leads back");
                forward.extend(ids);
                pages.push(prev);
                match next {
                    Some(n) => cursor = Some(n),
                    None => break,
                }
            }
            assert_eq!(forward, whole, "forward, {field:?} {dir:?}");
            // Back from the last page: every page before it, nearest first.
            let mut back: Vec<Vec<String>> = vec![];
            let mut cursor = pages.last().cloned().flatten();
            while let Some(c) = cursor {
                let (ids, _, prev) = s
                    .engagement_page(&Listing {
                        cursor: Some(c),
                        ..base.clone()
                    })
                    .await
                    .unwrap();
                back.push(ids);
                cursor = prev;
            }
            let last = forward.len() - forward.len().saturating_sub(1) / 2 * 2;
            let mut walked: Vec<String> = back.into_iter().rev().flatten().collect();
            walked.extend(forward[forward.len() - last..].iter().cloned());
            assert_eq!(walked, whole, "backward, {field:?} {dir:?}");
        }
    }
    let base = Listing {
        limit: 2,
        ..Listing::default()
    };
    let next = s.engagement_page(&base).await.unwrap().1.unwrap();
    let edited = format!("{}x", next);
    let other = Listing {
        sort: Sort {
            field: SortField::Title,
            dir: Dir::Asc,
        },
        ..base.clone()
    };
    for (listing, what) in [
        (
            Listing {
                cursor: Some(edited),
                ..base.clone()
            },
            "an edited cursor",
        ),
        (
            Listing {
                cursor: Some(next),
                ..other
            },
            "a cursor of another query",
        ),
    ] {
        let refused = s.engagement_page(&listing).await;
        assert!(
            matches!(refused, Err(liaison_domain::Error::BadRequest(_))),
            "{what}: {refused:?}"
        );
    }
}

on_both!(
    cursors_walk_both_ways_in_any_order,
    reads_load_only_the_expansions_asked_for,
    raw_payloads_are_kept_and_merged,
    privacy_is_kept_and_filters,
    a_batch_lands_the_last_version_of_what_it_repeats,
    quickstart_round_trips,
    full_payload_round_trips,
    nested_external_ids_resolve_and_fill_in,
    engagement_type_id_overrides_the_object,
    deleted_at_hides_and_a_clean_sync_restores,
    a_reps_deleted_at_removes_that_rep,
    merges_move_every_reference,
    copy_engagement_relationships,
    reps_link_by_email_then_name_and_explicit_mapping_wins,
    user_engagements_page_both_ways,
    idempotent_sync_changes_nothing,
    absent_keeps_and_null_clears,
    stale_writes_are_ignored,
    concurrent_syncs_make_one_record,
    every_change_lands_in_the_outbox,
    a_batch_lands_whole_or_not_at_all,
    soft_delete_removed_reconciles_a_window,
    lists_page_with_cursors,
);
