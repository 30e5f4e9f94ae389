//! The `liaison` binary as an operator uses it: first start, token commands, migrate, and a
//! graceful SIGTERM that lets an in-flight write finish.

mod common;

use futures::StreamExt;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_liaison");

struct TempDb(PathBuf);

impl TempDb {
    fn new() -> Self {
        TempDb(
            std::env::temp_dir().join(format!("liaison-cli-{}.db", uuid::Uuid::now_v7().simple())),
        )
    }
    fn url(&self) -> String {
        format!("sqlite:{}", self.0.display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn liaison(args: &[&str], db: &TempDb) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("LIAISON_DATABASE_URL", db.url())
        .env("LIAISON_LOG", "warn")
        .output()
        .expect("run liaison")
}

/// Starts `serve`, waits for /healthz, and returns the child with its stdout lines so far.
fn serve(db: &TempDb, port: u16) -> (Child, Vec<String>) {
    serve_with(db, port, &[])
}

/// As `serve`, with more environment.
fn serve_with(db: &TempDb, port: u16, env: &[(&str, &str)]) -> (Child, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("LIAISON_DATABASE_URL", db.url())
        .env("LIAISON_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if probe::blocking_get(port) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The banner, if any, is printed before the server listens.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    (child, rx.try_iter().collect())
}

mod probe {
    /// A health check without an async runtime.
    pub fn blocking_get(port: u16) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.starts_with("HTTP/1.1 200")
    }
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn first_start_prints_a_token_once_and_it_works() {
    let db = TempDb::new();
    let port = free_port();
    let (mut child, lines) = serve(&db, port);
    let token = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("lia_").map(|t| format!("lia_{t}")))
        .unwrap_or_else(|| panic!("no token in {lines:?}"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let identity: Value = rt.block_on(async {
        reqwest::Client::new()
            .get(format!(
                "http://127.0.0.1:{port}/v1/core/auth/caller-identity"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert!(identity["organizationId"].is_string(), "{identity}");
    sigterm(&child);
    assert!(
        child.wait().unwrap().success(),
        "a clean exit after SIGTERM"
    );

    // The second start prints no token.
    let (mut child, lines) = serve(&db, port);
    assert!(!lines.iter().any(|l| l.contains("lia_")), "{lines:?}");
    sigterm(&child);
    assert!(child.wait().unwrap().success());
}

/// The environment sets the matching defaults of organizations without settings of their own
/// (and what a settings write leaves out), and the lifetime of user access tokens; values out
/// of range stop `serve` before it listens.
#[test]
fn matching_defaults_and_token_lifetime_come_from_the_environment() {
    let db = TempDb::new();
    let port = free_port();
    let env = [
        ("LIAISON_MATCH_BEFORE_MINUTES", "5"),
        ("LIAISON_MATCH_MARGIN", "0.25"),
        ("LIAISON_MATCH_MAX_DISTANCE", "none"),
        ("LIAISON_ACCESS_TOKEN_TTL", "2h"),
    ];
    let (mut child, lines) = serve_with(&db, port, &env);
    let token = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("lia_").map(|t| format!("lia_{t}")))
        .unwrap_or_else(|| panic!("no token in {lines:?}"));
    let base = format!("http://127.0.0.1:{port}/v1/core");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| -> Value {
        rt.block_on(async {
            let mut req = reqwest::Client::new()
                .request(method, format!("{base}{path}"))
                .bearer_auth(&token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let r = req.send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            r.json().await.unwrap()
        })
    };
    let settings = call(reqwest::Method::GET, "/matching/settings", None);
    assert_eq!(
        settings["data"],
        json!({"beforeMinutes": 5, "afterMinutes": 60, "margin": 0.25, "maxDistanceMeters": null}),
    );
    let put = call(
        reqwest::Method::PUT,
        "/matching/settings",
        Some(json!({"afterMinutes": 30})),
    );
    assert_eq!(
        put["data"],
        json!({"beforeMinutes": 5, "afterMinutes": 30, "margin": 0.25, "maxDistanceMeters": null}),
    );
    let org = call(reqwest::Method::GET, "/auth/caller-identity", None)["organizationId"].clone();
    let user = call(
        reqwest::Method::POST,
        "/users",
        Some(json!({"email": "ann@example.com", "organizationId": org})),
    )["id"]
        .clone();
    let app = call(
        reqwest::Method::POST,
        "/oauth/apps",
        Some(json!({"appName": "Field app", "owner": user, "organizationId": org})),
    );
    let client = app["clientID"].as_str().unwrap();
    let issued = call(
        reqwest::Method::POST,
        &format!("/oauth/apps/{client}/access-token"),
        Some(json!({"clientSecret": app["clientSecret"], "userId": user, "scope": "read"})),
    );
    let t = call(
        reqwest::Method::GET,
        &format!(
            "/oauth/apps/{client}/access-token/{}",
            issued["accessTokenId"].as_str().unwrap()
        ),
        None,
    );
    let at =
        |k: &str| chrono::DateTime::parse_from_rfc3339(t["data"][k].as_str().unwrap()).unwrap();
    assert_eq!(
        at("expiresAt") - at("createdAt"),
        chrono::Duration::hours(2)
    );
    sigterm(&child);
    assert!(child.wait().unwrap().success());

    for (key, value, said) in [
        ("LIAISON_MATCH_MARGIN", "1.5", "margin"),
        ("LIAISON_MATCH_BEFORE_MINUTES", "2000", "tolerance"),
        ("LIAISON_MATCH_MAX_DISTANCE", "10", "distance"),
        ("LIAISON_ACCESS_TOKEN_TTL", "400d", "lifetime"),
        ("LIAISON_ACCESS_TOKEN_TTL", "soon", "lifetime"),
    ] {
        let db = TempDb::new();
        let out = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("LIAISON_DATABASE_URL", db.url())
            .env(key, value)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{key}={value} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(said), "{key}={value}: {err}");
    }
}

/// Starts `serve` with `env`, makes one request, stops it, and returns what it wrote to stderr.
fn serve_and_log(env: &[(&str, &str)]) -> String {
    let db = TempDb::new();
    let port = free_port();
    let child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("LIAISON_DATABASE_URL", db.url())
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !probe::blocking_get(port) {
        std::thread::sleep(Duration::from_millis(50));
    }
    sigterm(&child);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn logs_are_plain_text_off_a_terminal_or_json_lines_with_the_request_id() {
    let text = serve_and_log(&[("LIAISON_LOG", "info")]);
    assert!(text.contains("liaison is ready"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes off a terminal: {text:?}"
    );

    let json = serve_and_log(&[
        ("LIAISON_LOG", "info,tower_http=debug"),
        ("LIAISON_LOG_FORMAT", "json"),
    ]);
    let lines: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "liaison is ready"),
        "{json}"
    );
    let in_request = lines
        .iter()
        .find(|l| l["span"]["name"] == "request")
        .unwrap_or_else(|| panic!("no line from inside a request: {json}"));
    let id = in_request["span"]["request_id"].as_str().unwrap();
    assert!(uuid::Uuid::try_parse(id).is_ok(), "{in_request}");

    let bad = Command::new(BIN)
        .args(["migrate"])
        .env("LIAISON_DATABASE_URL", TempDb::new().url())
        .env("LIAISON_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("LIAISON_LOG_FORMAT"),
        "{bad:?}"
    );
}

#[test]
fn token_commands() {
    let db = TempDb::new();
    let out = liaison(
        &["token", "create", "--org", "acme", "--scopes", "read"],
        &db,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.trim();
    assert!(
        token.starts_with("lia_") && !token.contains('\n'),
        "only the token: {stdout:?}"
    );

    let out = liaison(&["token", "list"], &db);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(!listing.contains(token), "a listing never shows secrets");
    let row = listing
        .lines()
        .find(|l| l.contains("acme"))
        .expect("a row for acme");
    assert!(row.contains("active") && row.contains("engagements:read") && !row.contains(":write"));
    let id = row.split_whitespace().next().unwrap().to_owned();

    let out = liaison(&["token", "revoke", &id], &db);
    assert!(out.status.success());
    let listing = String::from_utf8(liaison(&["token", "list"], &db).stdout).unwrap();
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("revoked"))
    );

    // Errors are reported and exit non-zero.
    for args in [
        vec!["token", "revoke", &id],
        vec!["token", "revoke", "not-an-id"],
        vec![
            "token",
            "create",
            "--org",
            "acme",
            "--scopes",
            "engagements:destroy",
        ],
        vec!["token", "create", "--org", ""],
    ] {
        let out = liaison(&args, &db);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn migrate_creates_the_database_and_bad_urls_fail() {
    let db = TempDb::new();
    let out = liaison(&["migrate"], &db);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.0.exists());
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", "mysql://nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn sigterm_lets_an_in_flight_batch_finish() {
    let db = TempDb::new();
    let token = String::from_utf8(liaison(&["token", "create", "--org", "acme"], &db).stdout)
        .unwrap()
        .trim()
        .to_owned();
    let port = free_port();
    let (mut child, _) = serve(&db, port);
    let items: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"externalId": format!("g{i}"), "account": {"externalId": format!("a{i}")},
            "engagementUsers": [{"externalId": format!("r{}", i % 10)}]})
        })
        .collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        // The body goes out in two halves with the signal in between, so the request is
        // certainly in flight when the server is told to stop.
        let body = serde_json::to_vec(&items).unwrap();
        let (first, second) = body.split_at(body.len() / 2);
        let (first, second) = (first.to_vec(), second.to_vec());
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(
            futures::stream::once(async move {
                let _ = wait.await;
                Ok(second)
            }),
        );
        let request = reqwest::Client::new()
            .put(format!(
                "http://127.0.0.1:{port}/v1/integrations/sync/batch/engagements"
            ))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(stream))
            .send();
        let pending = tokio::spawn(request);
        tokio::time::sleep(Duration::from_millis(200)).await;
        sigterm(&child);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = go.send(());
        pending.await.unwrap().map(|r| r.status())
    });
    let exit = child.wait().unwrap();
    // The batch was in flight when the signal came: it finished and was acknowledged.
    assert_eq!(
        status.expect("the in-flight request completes"),
        reqwest::StatusCode::OK
    );
    assert!(exit.success());
    // And what was acknowledged is there after a restart.
    let (mut child, _) = serve(&db, port);
    let count = rt.block_on(async {
        let page: Value = reqwest::Client::new()
            .get(format!(
                "http://127.0.0.1:{port}/v1/integrations/engagements?limit=1000"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["data"].as_array().unwrap().len()
    });
    assert_eq!(count, 1000);
    sigterm(&child);
    child.wait().unwrap();
}

#[test]
fn a_postgres_database_is_created_on_first_use() {
    let Ok(admin) = std::env::var("LIAISON_TEST_POSTGRES_URL") else {
        eprintln!("LIAISON_TEST_POSTGRES_URL is not set: skipping the PostgreSQL half");
        return;
    };
    let name = format!("liaison_test_{}", uuid::Uuid::now_v7().simple());
    let url = common::with_database(&admin, &name);
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .args(["--database-url", &url])
            .env("LIAISON_LOG", "warn")
            .output()
            .unwrap()
    };
    let created = run(&[
        "token",
        "create",
        "--org",
        "acme",
        "--connection",
        "hubspot",
    ]);
    let listed = run(&["token", "list"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    });
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(
        String::from_utf8(created.stdout)
            .unwrap()
            .trim()
            .starts_with("lia_")
    );
    assert!(String::from_utf8(listed.stdout).unwrap().contains("acme"));
}

#[test]
fn a_backup_taken_during_writes_holds_every_write_acknowledged_before_it() {
    let db = TempDb::new();
    // A limit of its own, far above the default: the writers go as fast as they can.
    let create = [
        "token",
        "create",
        "--org",
        "acme",
        "--rate-limit",
        "1000000",
    ];
    let token = String::from_utf8(liaison(&create, &db).stdout)
        .unwrap()
        .trim()
        .to_owned();
    let port = free_port();
    let (mut child, _) = serve(&db, port);
    let copy = TempDb::new();
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u32>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Four writers sync engagements one by one, each noting what was acknowledged.
    let writers: Vec<_> = (0..4u32)
        .map(|w| {
            let (acked, stop, token) = (acked.clone(), stop.clone(), token.clone());
            rt.spawn(async move {
                let client = reqwest::Client::new();
                let mut i = w;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = client
                        .put(format!(
                            "http://127.0.0.1:{port}/v1/integrations/sync/engagements"
                        ))
                        .bearer_auth(&token)
                        .json(&json!({"externalId": format!("w{i}"), "subject": "Visit"}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), reqwest::StatusCode::OK);
                    acked.lock().unwrap().push(i);
                    i += 4;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before: Vec<u32> = acked.lock().unwrap().clone();
    let out = liaison(&["backup", "--to", copy.0.to_str().unwrap()], &db);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        rt.block_on(w).unwrap();
    }
    let after = acked.lock().unwrap().len();
    assert!(
        before.len() > 20 && after > before.len(),
        "writes kept going"
    );
    sigterm(&child);
    child.wait().unwrap();

    // The copy is a sound database holding every write acknowledged before the backup began.
    let c = rusqlite::Connection::open(&copy.0).unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut stmt = c
        .prepare("SELECT external_id FROM records WHERE kind = 'engagement'")
        .unwrap();
    let held: std::collections::HashSet<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for i in &before {
        assert!(
            held.contains(&format!("w{i}")),
            "w{i} was acknowledged but is not in the copy"
        );
    }
    drop(stmt);
    drop(c);
    // The copy opens as a Liaison database of its own.
    let out = liaison(&["token", "list"], &copy);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A backup never overwrites a file, and PostgreSQL is pg_dump's.
    let out = liaison(&["backup", "--to", copy.0.to_str().unwrap()], &db);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists"));
    let out = Command::new(BIN)
        .args(["backup", "--to", "/tmp/never-written.db"])
        .env(
            "LIAISON_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/none",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}

#[test]
fn rate_limits_are_set_per_server_and_per_token() {
    let db = TempDb::new();
    let out = liaison(
        &[
            "token",
            "create",
            "--org",
            "acme",
            "--rate-limit",
            "5",
            "--name",
            "slow",
        ],
        &db,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(liaison(&["token", "list"], &db).stdout).unwrap();
    let row = listing
        .lines()
        .find(|l| l.contains("acme"))
        .expect("the token");
    assert!(row.split_whitespace().any(|w| w == "5"), "{listing}");
    for bad in [vec!["--rate-limit", "0"], vec!["--rate-limit", "many"]] {
        let mut args = vec!["token", "create", "--org", "acme"];
        args.extend(bad);
        assert!(!liaison(&args, &db).status.success());
    }
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIAISON_DATABASE_URL", db.url())
        .env("LIAISON_RATE_LIMIT", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("requests per minute") && err.contains("off"),
        "{err}"
    );
}
