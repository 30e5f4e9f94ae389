//! `liaison export` and `liaison import` as an operator moves a database with them: SQLite to
//! PostgreSQL and back, compared entity by entity and through every list of the API; a second
//! import that changes nothing; an import cut short that resumes; and the files refused.

mod common;

use common::{TestServer, fresh_database_url};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_liaison");

fn liaison(args: &[&str], url: &str) -> Output {
    Command::new(BIN)
        .args(args)
        .env("LIAISON_DATABASE_URL", url)
        .env("LIAISON_LOG", "warn")
        .output()
        .expect("run liaison")
}

fn succeeded(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn failed(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "succeeded: {stderr}");
    stderr
}

/// A temp file path, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(ext: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(format!(
            "liaison-export-{}.{ext}",
            uuid::Uuid::now_v7().simple()
        )))
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A database with one of everything an export carries: two organizations, records of every
/// kind (deleted, merged and private ones among them) with their raw payloads, engagement
/// types, CRM users, a workspace user, participants (one removed), a revoked token, events.
/// Returns the tokens to read it with: acme's, globex's, and a revoked one.
/// What `fill` made that a test reads back: the tokens of acme and globex, a revoked one,
/// and a user access token of acme's app with the app's list.
struct Filled {
    acme: String,
    globex: String,
    revoked: String,
    access: String,
    apps: String,
}

async fn fill(s: &TestServer) -> Filled {
    s.sync(json!({
        "externalId": "eng-full", "direction": "OUTBOUND", "content": "Discussed the kitchen.",
        "subject": "Full payload", "startTime": "2024-02-28 20:09:58.692",
        "startTimeLocalized": "2024-02-28T12:09:58", "endTime": "2024-02-28T21:09:58.692Z",
        "remoteCreatedAt": "2024-02-01T00:00:00Z", "remoteUpdatedAt": "2024-02-27T00:00:00Z",
        "customField": {"kept": ["as", "sent"]},
        "engagementType": {"name": "In-home visit", "activityType": "APPOINTMENT", "externalId": "type-visit"},
        "account": {"externalId": "acct-full", "name": "Full Account", "latitude": 37.77,
            "longitude": -122.42, "phoneNumbers": ["+1 555 0100"], "owner": {"externalId": "owner-1"}},
        "contact": {"externalId": "contact-full", "name": "Cora Contact"},
        "lead": {"externalId": "lead-full", "firstName": "Lee", "lastName": "Lead"},
        "engagementUsers": [
            {"externalId": "rep-a", "email": "a@example.com", "shareOfSale": 0.5, "name": "Ann Rep"},
            {"externalId": "rep-b", "email": "b@example.com", "shareOfSale": 0.5, "name": "Bob Rep"}
        ],
        "opportunity": {"externalId": "opp-full", "name": "Full Opp", "amount": 1234.5,
            "disposition": "OPEN", "copyEngagementRelationships": true}
    }))
    .await;
    // Rep b leaves the engagement: a removed participant.
    s.sync(json!({"externalId": "eng-full",
        "engagementUsers": [{"externalId": "rep-b", "deletedAt": "2024-03-01T00:00:00Z"}]}))
        .await;
    s.sync_opportunity(json!({
        "externalId": "opp-two", "name": "Second Opp", "amount": 10, "closedAt": "2026-03-01T00:00:00Z",
        "disposition": "WON", "account": {"externalId": "acct-full"},
        "opportunityContacts": [
            {"externalId": "contact-full", "isPrimary": true},
            {"externalId": "contact-two", "name": "Second Contact"}
        ],
        "opportunityUsers": [{"externalId": "rep-a", "email": "a@example.com"}]
    }))
    .await;
    let batch: Vec<Value> = (0..40)
        .map(|i| {
            json!({"externalId": format!("e{i}"), "subject": format!("Visit {i}"),
                "startTime": format!("2026-01-{:02}T10:00:00Z", i % 28 + 1),
                "engagementType": {"name": "call", "activityType": "CALL"},
                "isPrivate": i % 7 == 0,
                "account": {"externalId": format!("a{}", i % 5)},
                "engagementUsers": [{"externalId": format!("rep-{}", i % 3), "name": format!("Rep {}", i % 3)}]})
        })
        .collect();
    let r = s
        .put("/v1/integrations/sync/batch/engagements", json!(batch))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // A deleted engagement, and an account merged into another.
    s.sync(json!({"externalId": "e3", "deletedAt": "2026-02-01T00:00:00Z"}))
        .await;
    s.sync(json!({"externalId": "e4",
        "account": {"externalId": "a0", "mergedFromExternalIds": ["a1"]}}))
        .await;
    let org = identity(s, &s.token).await["organizationId"].clone();
    let r = s
        .post(
            "/v1/core/users",
            json!({"email": "a@example.com", "firstName": "Ann", "organizationId": org}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // Ann records the visit: linked to it, with a transcript, and a second recording deleted.
    let ann = r.body["id"].clone();
    for (id, at) in [
        (
            "0193f0a8-7c1e-7000-8000-000000000001",
            "2024-02-28T20:15:00Z",
        ),
        (
            "0193f0a8-7c1e-7000-8000-000000000002",
            "2024-02-28T20:40:00Z",
        ),
    ] {
        let r = s
            .put(
                "/v1/core/recordings",
                json!({"id": id, "dateCreated": at, "userId": ann, "title": "Kitchen visit",
                    "latitude": 37.7701, "longitude": -122.4199, "conversationType": "sales",
                    "utterances": [{"utterance": "Hello there.", "speakerTag": "0",
                        "startTimeInMillis": 0, "endTimeInMillis": 1200, "confidence": 0.9}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    }
    let r = s
        .delete("/v1/core/recordings/0193f0a8-7c1e-7000-8000-000000000002")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = s
        .put("/v1/core/matching/settings", json!({"beforeMinutes": 45}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    let globex = s.token_for("globex", "salesforce", "all").await;
    let r = s
        .call(
            Method::PUT,
            "/v1/integrations/sync/engagements",
            Some(&globex),
            Some(json!({"externalId": "g1", "subject": "Globex call",
                "engagementUsers": [{"externalId": "g-rep"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let revoked = s.token_for("acme", "crm", "read").await;
    s.revoke(&revoked).await;

    // What Ann's app reported.
    let r = s
        .post(
            "/v1/core/mobile-events",
            json!({"eventCode": "recorderStateChange", "userId": ann,
                "recordingId": "0193f0a8-7c1e-7000-8000-000000000001",
                "event": {"value": "stop", "trigger": "buttonPress"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");

    // Ann's app, its tokens (one revoked), and a deleted app.
    let mut clients = Vec::new();
    for name in ["Field app", "Retired app"] {
        let r = s
            .post(
                "/v1/core/oauth/apps",
                json!({"appName": name, "owner": ann, "organizationId": org}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        clients.push((r.body["clientID"].clone(), r.body["clientSecret"].clone()));
    }
    let (client, secret) = &clients[0];
    let mut access = Vec::new();
    for scope in ["read", "write"] {
        let r = s
            .post(
                &format!(
                    "/v1/core/oauth/apps/{}/access-token",
                    client.as_str().unwrap()
                ),
                json!({"clientSecret": secret, "userId": ann, "scope": scope}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        access.push((
            r.body["accessTokenId"].clone(),
            r.body["accessToken"].clone(),
        ));
    }
    let r = s
        .call(
            Method::DELETE,
            &format!(
                "/v1/core/oauth/apps/{}/access-token/{}",
                client.as_str().unwrap(),
                access[1].0.as_str().unwrap()
            ),
            Some(&s.token),
            Some(json!({"clientSecret": secret, "userId": ann})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = s
        .delete(&format!(
            "/v1/core/oauth/apps/{}",
            clients[1].0.as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    Filled {
        acme: s.token.clone(),
        globex,
        revoked,
        access: access[0].1.as_str().unwrap().to_owned(),
        apps: format!(
            "/v1/core/oauth/apps?organizationId={}&owner={}",
            org.as_str().unwrap(),
            ann.as_str().unwrap()
        ),
    }
}

async fn identity(s: &TestServer, token: &str) -> Value {
    let r = s
        .call(
            Method::GET,
            "/v1/core/auth/caller-identity",
            Some(token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body
}

/// Every list of the API that takes no path parameter, as `token` reads it, page by page,
/// and every record of those lists read by id where the API has such a read.
async fn everything(s: &TestServer, token: &str) -> Vec<(String, Value)> {
    let doc = s.get("/openapi.json").await.body;
    let mut seen = Vec::new();
    let paths = doc["paths"].as_object().expect("paths");
    for (path, item) in paths {
        // A list that needs a parameter is read by the test that knows its value.
        let needs_parameter = item["get"]["parameters"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["in"] == "query" && p["required"] == true)
        });
        if item.get("get").is_none()
            || needs_parameter
            || path.contains('{')
            || ["/healthz", "/readyz", "/metrics"].contains(&path.as_str())
        {
            continue;
        }
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}?limit=7&cursor={c}"),
                None => format!("{path}?limit=7"),
            };
            let r = s.call(Method::GET, &url, Some(token), None).await;
            assert_eq!(r.status, StatusCode::OK, "GET {url}: {r:?}");
            let rows = match &r.body {
                Value::Array(rows) => rows.clone(),
                Value::Object(o) if o.contains_key("data") => o["data"]
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![o["data"].clone()]),
                other => vec![other.clone()],
            };
            let by_id = format!("{path}/{{id}}");
            for row in &rows {
                if let (Some(id), true) = (row["id"].as_str(), paths.contains_key(&by_id)) {
                    let one = format!("{path}/{id}");
                    let r = s.call(Method::GET, &one, Some(token), None).await;
                    seen.push((one, json!({"status": r.status.as_u16(), "body": r.body})));
                }
            }
            seen.push((url, Value::Array(rows)));
            let next = match &r.body {
                Value::Object(o) => o.get("cursor").and_then(Value::as_str).map(str::to_owned),
                _ => r
                    .headers
                    .get("x-next-cursor")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            };
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    seen
}

/// The lines of an export as JSON, without what differs between two exports of one content:
/// the header (its id and time) and each event's number in its source.
fn content(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .expect("the export")
        .lines()
        .skip(1)
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("a JSON line");
            if let Some(e) = v.get_mut("event") {
                e.as_object_mut().expect("an event").remove("seq");
            }
            v
        })
        .collect()
}

fn count(lines: &[Value], key: &str) -> usize {
    lines.iter().filter(|l| l.get(key).is_some()).count()
}

async fn move_database(source: TestServer) {
    let Filled {
        acme,
        globex,
        revoked,
        access,
        apps,
    } = fill(&source).await;
    let file = TempFile::new("jsonl");
    let out = liaison(&["export", "--to", file.path()], &source.database_url);
    let said = succeeded(&out);
    assert!(said.contains("exported"), "{said}");
    let exported = content(&file.0);
    // One of everything, hidden records and removed participants among them.
    for (key, at_least) in [
        ("setting", 1),
        ("org", 2),
        ("connection", 2),
        ("token", 4),
        ("engagement_type", 2),
        ("crm_user", 5),
        ("user", 1),
        ("record", 50),
        ("participant", 40),
        ("recording", 2),
        ("app", 2),
        ("access_token", 2),
        ("mobile_event", 1),
        ("event", 100),
        ("end", 1),
    ] {
        assert!(count(&exported, key) >= at_least, "{key}: {said}");
    }
    let hidden = exported
        .iter()
        .filter_map(|l| l.get("record"))
        .filter(|r| !r["row"]["deleted_at"].is_null() || !r["row"]["merged_into"].is_null())
        .count();
    assert_eq!(hidden, 2, "the deleted engagement and the merged account");
    assert!(
        exported
            .iter()
            .filter_map(|l| l.get("record"))
            .any(|r| r["remote_data"]["customField"] == json!({"kept": ["as", "sent"]})),
        "raw payloads travel"
    );

    let before = everything(&source, &acme).await;
    assert!(before.len() > 60, "too little was read: {before:?}");
    let before_globex = everything(&source, &globex).await;
    let target_url = fresh_database_url(&other_backend(&source.database_url));
    let said = succeeded(&liaison(&["import", file.path()], &target_url));
    assert!(said.contains("imported"), "{said}");
    assert!(!said.contains(" 0 written"), "{said}");

    // A second import of the file changes nothing: it knows it was done.
    let said = succeeded(&liaison(&["import", file.path()], &target_url));
    assert!(said.contains(" 0 written"), "{said}");
    assert!(said.contains("applied by an earlier import"), "{said}");

    // The target exports what the source did, entity for entity.
    let again = TempFile::new("jsonl");
    succeeded(&liaison(&["export", "--to", again.path()], &target_url));
    assert_eq!(content(&again.0), exported);
    // An export of the target imported into it (another file, so compared row by row)
    // changes nothing either.
    let said = succeeded(&liaison(&["import", again.path()], &target_url));
    assert!(said.contains(" 0 written"), "{said}");
    assert!(!said.contains("applied by an earlier import"), "{said}");

    // Through the API, every list and every record reads the same, with the same tokens.
    let target = TestServer::open(&target_url).await;
    assert_eq!(everything(&target, &acme).await, before);
    assert_eq!(everything(&target, &globex).await, before_globex);
    assert_eq!(
        identity(&target, &acme).await,
        identity(&source, &acme).await
    );
    let r = target
        .call(
            Method::GET,
            "/v1/integrations/engagements",
            Some(&revoked),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    // OAuth apps travel, deleted ones and revoked tokens as they were, and a live access
    // token reads on the target.
    let there = target.get(&apps).await;
    assert_eq!(there.status, StatusCode::OK, "{there:?}");
    assert_eq!(there.body, source.get(&apps).await.body);
    assert_eq!(there.body["data"][0]["deleted"], true, "{there:?}");
    let r = target
        .as_user(Method::GET, "/v1/core/recordings", &access, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // A recording's transcript, links and decision travel with it.
    let recording = "/v1/core/recordings/0193f0a8-7c1e-7000-8000-000000000001";
    for path in [
        format!("{recording}/utterances"),
        format!("{recording}/match"),
        format!("{recording}?showCrmLinks=true"),
    ] {
        let there = target.get(&path).await;
        assert_eq!(there.status, StatusCode::OK, "{path}: {there:?}");
        assert_eq!(there.body, source.get(&path).await.body, "{path}");
    }
    assert_eq!(
        target.get(&format!("{recording}/match")).await.body["data"]["rule"],
        "SOLE_CANDIDATE"
    );
    // A cursor made by the source continues on the target: the key that signs them moved.
    let first = source
        .call(
            Method::GET,
            "/v1/integrations/engagements?limit=5",
            Some(&acme),
            None,
        )
        .await;
    let cursor = first.body["cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let page = format!("/v1/integrations/engagements?limit=5&cursor={cursor}");
    let on_source = source.call(Method::GET, &page, Some(&acme), None).await;
    let on_target = target.call(Method::GET, &page, Some(&acme), None).await;
    assert_eq!(on_target.status, StatusCode::OK, "{on_target:?}");
    assert_eq!(on_target.body, on_source.body);
    // And the target keeps working: a new sync lands beside the moved records.
    target
        .sync(json!({"externalId": "after-the-move", "account": {"externalId": "acct-full"}}))
        .await;
    target.stop().await;
    source.stop().await;
}

/// The backend to move to: the other one when PostgreSQL is at hand, else SQLite again.
fn other_backend(url: &str) -> String {
    match (
        url.starts_with("sqlite:"),
        std::env::var("LIAISON_TEST_POSTGRES_URL"),
    ) {
        (true, Ok(pg)) => pg,
        _ => "sqlite:".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_moves_to_postgres_with_nothing_lost() {
    move_database(common::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_moves_to_sqlite_with_nothing_lost() {
    let Some(source) = common::postgres().await else {
        return;
    };
    move_database(source).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_cut_short_resumes_where_it_stopped() {
    let source = common::sqlite().await;
    fill(&source).await;
    let file = TempFile::new("jsonl");
    succeeded(&liaison(
        &["export", "--to", file.path()],
        &source.database_url,
    ));
    let text = std::fs::read_to_string(&file.0).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    for like in ["sqlite:".to_owned(), other_backend("sqlite:")] {
        let target = fresh_database_url(&like);
        // The file as a copy interrupted two thirds of the way through would leave it.
        let cut = TempFile::new("jsonl");
        let kept = lines.len() * 2 / 3;
        std::fs::write(&cut.0, lines[..kept].join("\n") + "\n").unwrap();
        let said = failed(&liaison(&["import", cut.path()], &target));
        assert!(said.contains("before its last line"), "{said}");
        // The whole file then takes only what is missing.
        let said = succeeded(&liaison(&["import", file.path()], &target));
        assert!(
            said.contains(&format!(
                "{} lines were applied by an earlier import",
                kept - 1
            )),
            "{said}"
        );
        let again = TempFile::new("jsonl");
        succeeded(&liaison(&["export", "--to", again.path()], &target));
        assert_eq!(content(&again.0), content(&file.0));
        TestServer::open(&target).await.stop().await;
    }
    source.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_organization_exports_alone_and_bad_files_are_refused() {
    let source = common::sqlite().await;
    let Filled { globex, .. } = fill(&source).await;
    let url = source.database_url.clone();

    let file = TempFile::new("jsonl");
    succeeded(&liaison(
        &["export", "--org", "globex", "--to", file.path()],
        &url,
    ));
    let lines = content(&file.0);
    assert_eq!(count(&lines, "org"), 1);
    assert!(
        lines
            .iter()
            .filter_map(|l| l.get("record"))
            .all(|r| { r["row"]["org"] == lines.iter().find_map(|l| l.get("org")).unwrap()["id"] })
    );
    let target = fresh_database_url("sqlite:");
    succeeded(&liaison(&["import", file.path()], &target));
    let moved = TestServer::open(&target).await;
    assert_eq!(
        everything(&moved, &globex).await,
        everything(&source, &globex).await
    );
    moved.stop().await;

    // An export never overwrites a file, names organizations that exist, and leaves no file
    // behind when it fails.
    let said = failed(&liaison(&["export", "--to", file.path()], &url));
    assert!(said.contains("exists"), "{said}");
    let nowhere = TempFile::new("jsonl");
    let said = failed(&liaison(
        &["export", "--org", "initech", "--to", nowhere.path()],
        &url,
    ));
    assert!(said.contains("initech"), "{said}");
    assert!(!nowhere.0.exists());

    // An import reads only whole Liaison exports it knows the format of.
    let target = fresh_database_url("sqlite:");
    for (text, says) in [
        ("", "not a Liaison export"),
        (
            "{\"setting\": {\"key\": \"k\", \"value\": \"v\"}}\n",
            "not a Liaison export",
        ),
        ("not json\n", "line 1"),
        (
            "{\"liaison\": {\"format\": 99, \"id\": \"0190b5a6-0000-7000-8000-000000000000\", \
             \"exported_at\": \"2026-01-01T00:00:00Z\", \"backend\": \"sqlite\", \"org\": null}}\n",
            "format 99",
        ),
    ] {
        let bad = TempFile::new("jsonl");
        std::fs::write(&bad.0, text).unwrap();
        let said = failed(&liaison(&["import", bad.path()], &target));
        assert!(said.contains(says), "{text:?}: {said}");
    }
    // A file whose lines were added to or taken from is not whole.
    let original = std::fs::read_to_string(&file.0).unwrap();
    let mut lines: Vec<&str> = original.lines().collect();
    lines.remove(lines.len() - 2);
    let changed = TempFile::new("jsonl");
    std::fs::write(&changed.0, lines.join("\n") + "\n").unwrap();
    let said = failed(&liaison(&["import", changed.path()], &target));
    assert!(said.contains("the file was changed"), "{said}");
    // An organization of the same name made here (as `serve` makes `default`) is another one:
    // the import refuses to merge the two and says why.
    let set_up = fresh_database_url("sqlite:");
    succeeded(&liaison(&["token", "create", "--org", "globex"], &set_up));
    let said = failed(&liaison(&["import", file.path()], &set_up));
    assert!(said.contains("`globex` is already here"), "{said}");
    TestServer::open(&set_up).await.stop().await;
    let said = failed(&liaison(&["import", "/nonexistent/export.jsonl"], &target));
    assert!(said.contains("/nonexistent/export.jsonl"), "{said}");
    TestServer::open(&target).await.stop().await;
    source.stop().await;
}
