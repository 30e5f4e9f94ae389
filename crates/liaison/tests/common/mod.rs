//! The test harness: a real Liaison server on 127.0.0.1:0 over a database of its own (a temp
//! SQLite file, or a fresh PostgreSQL database when `LIAISON_TEST_POSTGRES_URL` is set).
#![allow(dead_code)]

pub mod schema;

use liaison::Server;
use liaison_domain::model::{Account, Engagement, EngagementIn, Record};
use liaison_domain::scope::{Scope, ScopeSet};
use liaison_engine::{Caller, EngagementView, Engine, Expand, Listing, RecordRef};
use liaison_store::{Event, Store};
use liaison_store_postgres::PgStore;
use liaison_store_sqlite::SqliteStore;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub enum Engines {
    Sqlite(Arc<Engine<SqliteStore>>),
    Postgres(Arc<Engine<PgStore>>),
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

pub struct TestServer {
    pub base: String,
    /// The database it serves.
    pub database_url: String,
    /// A token with every scope, for organization `acme`, connection `crm`.
    pub token: String,
    pub client: reqwest::Client,
    pub engines: Engines,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    cleanup: Option<Cleanup>,
}

/// A response: status and JSON body (`Value::Null` when the body is not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

async fn start<S: Store>(
    store: S,
    database_url: String,
    wrap: fn(Arc<Engine<S>>) -> Engines,
    cleanup: Cleanup,
) -> TestServer {
    let server = Server::bind(store, "127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let engine = server.engine.clone();
    let token = engine
        .create_token("acme", "crm", "test", Scope::all(), None)
        .await
        .expect("token")
        .secret;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    TestServer {
        base: format!("http://{addr}"),
        database_url,
        token,
        client: reqwest::Client::new(),
        engines: wrap(engine),
        shutdown: Some(tx),
        task: Some(task),
        cleanup: Some(cleanup),
    }
}

pub async fn sqlite() -> TestServer {
    let path =
        std::env::temp_dir().join(format!("liaison-test-{}.db", uuid::Uuid::now_v7().simple()));
    let url = format!("sqlite:{}", path.display());
    let store = liaison::open_sqlite(&url).await.expect("sqlite");
    start(store, url, Engines::Sqlite, Cleanup::File(path)).await
}

/// A database URL nobody has used yet, of the backend `like` names: a temp SQLite file, or a
/// new database on the server of `LIAISON_TEST_POSTGRES_URL`. `TestServer::open` serves it
/// and drops it when stopped.
pub fn fresh_database_url(like: &str) -> String {
    let name = format!("liaison_test_{}", uuid::Uuid::now_v7().simple());
    if like.starts_with("sqlite:") {
        format!(
            "sqlite:{}",
            std::env::temp_dir().join(format!("{name}.db")).display()
        )
    } else {
        let admin = std::env::var("LIAISON_TEST_POSTGRES_URL").expect("a PostgreSQL server");
        with_database(&admin, &name)
    }
}

impl TestServer {
    /// A server on an existing database (made by `fresh_database_url`), which it drops when
    /// stopped.
    pub async fn open(url: &str) -> TestServer {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let store = liaison::open_sqlite(url).await.expect("sqlite");
            let cleanup = Cleanup::File(path.into());
            start(store, url.to_owned(), Engines::Sqlite, cleanup).await
        } else {
            let admin_url = std::env::var("LIAISON_TEST_POSTGRES_URL").expect("PostgreSQL");
            let path = url.split('?').next().expect("a URL");
            let name = path.rsplit('/').next().expect("a database name").to_owned();
            let store = liaison::open_postgres(url).await.expect("postgres");
            let cleanup = Cleanup::Database { admin_url, name };
            start(store, url.to_owned(), Engines::Postgres, cleanup).await
        }
    }
}

/// `None` (and a note on stderr) when `LIAISON_TEST_POSTGRES_URL` is not set.
pub async fn postgres() -> Option<TestServer> {
    let Ok(admin_url) = std::env::var("LIAISON_TEST_POSTGRES_URL") else {
        eprintln!("LIAISON_TEST_POSTGRES_URL is not set: skipping the PostgreSQL half");
        return None;
    };
    let name = format!("liaison_test_{}", uuid::Uuid::now_v7().simple());
    let url = with_database(&admin_url, &name);
    let store = liaison::open_postgres(&url).await.expect("postgres");
    Some(
        start(
            store,
            url,
            Engines::Postgres,
            Cleanup::Database { admin_url, name },
        )
        .await,
    )
}

/// The same server URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// Drops a test database, cutting whatever is connected to it.
async fn drop_database(admin_url: &str, name: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await.expect("admin");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .expect("drop database");
}

impl TestServer {
    /// Stops the server gracefully and drops its database.
    pub async fn stop(mut self) {
        self.finish().await;
    }

    async fn finish(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server run");
        }
        match self.cleanup.take() {
            Some(Cleanup::File(path)) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Some(Cleanup::Database { admin_url, name }) => {
                drop_database(&admin_url, &name).await;
            }
            None => {}
        }
    }

    /// Takes the database away from the running server: a SQLite file loses its last
    /// migration (as a file from an older build would lack it); a PostgreSQL database is
    /// dropped, its connections cut.
    pub async fn break_database(&self) {
        match &self.cleanup {
            Some(Cleanup::File(path)) => {
                let c = rusqlite::Connection::open(path).expect("open the file");
                c.execute_batch("PRAGMA user_version = 1")
                    .expect("rewind the schema version");
            }
            Some(Cleanup::Database { admin_url, name }) => {
                drop_database(admin_url, name).await;
            }
            None => {}
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req.send().await.expect("request")).await
    }

    /// A new workspace user of the test token's organization: its id.
    pub async fn workspace_user(&self, email: &str) -> String {
        let who = self.get("/v1/core/auth/caller-identity").await;
        let org = who.body["organizationId"].clone();
        let r = self
            .post(
                "/v1/core/users",
                serde_json::json!({"email": email, "organizationId": org}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.body["id"].as_str().expect("an id").to_owned()
    }

    /// A request carrying a user access token in `x-siro-auth-token` (and no bearer token).
    pub async fn as_user(
        &self,
        method: Method,
        path: &str,
        access_token: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-siro-auth-token", access_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req.send().await.expect("request")).await
    }

    pub async fn raw(&self, method: Method, path: &str, body: Vec<u8>) -> Reply {
        self.raw_as(method, path, Some("application/json"), body)
            .await
    }

    /// A request with this body, declared as `content_type` (or as nothing).
    pub async fn raw_as(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .body(body);
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        reply(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, Some(&self.token), None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(&self.token), Some(body))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(&self.token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, Some(&self.token), None)
            .await
    }

    /// Syncs one engagement and returns its `data`, asserting success.
    pub async fn sync(&self, body: Value) -> Value {
        let r = self.put("/v1/integrations/sync/engagements", body).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.body["data"].clone()
    }

    pub async fn sync_opportunity(&self, body: Value) -> Value {
        let r = self.put("/v1/integrations/sync/opportunities", body).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.body["data"].clone()
    }

    /// A token for another organization/connection with the given scopes.
    pub async fn token_for(&self, org: &str, connection: &str, scopes: &str) -> String {
        self.limited_token(org, connection, scopes, None).await
    }

    /// As `token_for`, with the token's own requests per minute.
    pub async fn limited_token(
        &self,
        org: &str,
        connection: &str,
        scopes: &str,
        rate_limit: Option<u32>,
    ) -> String {
        let scopes = ScopeSet::parse(scopes).expect("scopes");
        let limit = rate_limit.map(|n| std::num::NonZeroU32::new(n).expect("a positive limit"));
        match &self.engines {
            Engines::Sqlite(e) => e.create_token(org, connection, "t", scopes, limit).await,
            Engines::Postgres(e) => e.create_token(org, connection, "t", scopes, limit).await,
        }
        .expect("token")
        .secret
    }

    pub async fn caller(&self, token: &str) -> Caller {
        match &self.engines {
            Engines::Sqlite(e) => e.authenticate(token).await,
            Engines::Postgres(e) => e.authenticate(token).await,
        }
        .expect("caller")
    }

    /// Returns once the matching worker has read every outbox event there is now: passes
    /// are run here until one finds nothing new (each pass, here or the server's own, moves
    /// the worker's place only after it has decided what its events concern).
    pub async fn matching_caught_up(&self) {
        loop {
            let read = match &self.engines {
                Engines::Sqlite(e) => e.rematch_pending().await,
                Engines::Postgres(e) => e.rematch_pending().await,
            }
            .expect("a matching pass");
            if read == 0 {
                return;
            }
        }
    }

    /// Every outbox event of the token's organization, oldest first.
    pub async fn events(&self) -> Vec<Event> {
        let caller = self.caller(&self.token).await;
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = match &self.engines {
                Engines::Sqlite(e) => e.events(&caller, after, 1000).await,
                Engines::Postgres(e) => e.events(&caller, after, 1000).await,
            }
            .expect("events");
            let Some(last) = page.last() else { break };
            after = last.seq;
            all.extend(page);
        }
        all
    }

    /// The engagement with this external id, with the related records `expand` asks for.
    pub async fn engagement_view(&self, external_id: &str, expand: Expand) -> EngagementView {
        let caller = self.caller(&self.token).await;
        let r = RecordRef::External(external_id.into());
        match &self.engines {
            Engines::Sqlite(e) => e.get_engagement(&caller, &r, expand).await,
            Engines::Postgres(e) => e.get_engagement(&caller, &r, expand).await,
        }
        .expect("engagement")
    }

    /// The engagement with this external id as the engine holds it.
    pub async fn engagement(&self, external_id: &str) -> Record<Engagement> {
        let caller = self.caller(&self.token).await;
        let r = RecordRef::External(external_id.into());
        match &self.engines {
            Engines::Sqlite(e) => e.get_engagement(&caller, &r, Expand::NONE).await,
            Engines::Postgres(e) => e.get_engagement(&caller, &r, Expand::NONE).await,
        }
        .expect("engagement")
        .record
    }

    pub async fn account(&self, id: &str) -> Record<Account> {
        let caller = self.caller(&self.token).await;
        let id = liaison_domain::RecordId::parse(id).expect("an account id");
        match &self.engines {
            Engines::Sqlite(e) => e.get_account(&caller, id).await,
            Engines::Postgres(e) => e.get_account(&caller, id).await,
        }
        .expect("account")
    }

    /// Syncs an engagement through the engine itself, for fields no face carries yet.
    pub async fn sync_through_engine(&self, input: EngagementIn) {
        let caller = self.caller(&self.token).await;
        match &self.engines {
            Engines::Sqlite(e) => e
                .sync_engagement(&caller, input, Expand::NONE)
                .await
                .map(|_| ()),
            Engines::Postgres(e) => e
                .sync_engagement(&caller, input, Expand::NONE)
                .await
                .map(|_| ()),
        }
        .expect("sync")
    }

    /// One page of engagements through the engine's list contract: external ids in order,
    /// and the cursors after and before it.
    pub async fn engagement_page(
        &self,
        listing: &Listing,
    ) -> Result<(Vec<String>, Option<String>, Option<String>), liaison_domain::Error> {
        let caller = self.caller(&self.token).await;
        let page = match &self.engines {
            Engines::Sqlite(e) => e.list_engagements(&caller, listing, Expand::NONE).await,
            Engines::Postgres(e) => e.list_engagements(&caller, listing, Expand::NONE).await,
        }?;
        let ids = page
            .items
            .into_iter()
            .map(|v| v.record.external_id)
            .collect();
        Ok((ids, page.next_cursor, page.prev_cursor))
    }

    /// Engagements through the engine's list contract, as ids in order.
    pub async fn engagement_ids(&self, listing: &Listing) -> Vec<String> {
        let caller = self.caller(&self.token).await;
        match &self.engines {
            Engines::Sqlite(e) => e.list_engagements(&caller, listing, Expand::NONE).await,
            Engines::Postgres(e) => e.list_engagements(&caller, listing, Expand::NONE).await,
        }
        .expect("list")
        .items
        .into_iter()
        .map(|v| v.record.external_id)
        .collect()
    }

    pub async fn revoke(&self, token: &str) {
        let caller = self.caller(token).await;
        let liaison_engine::Credential::Token { id, .. } = caller.credential else {
            panic!("not an API token: {token}")
        };
        match &self.engines {
            Engines::Sqlite(e) => e.revoke_token(id).await,
            Engines::Postgres(e) => e.revoke_token(id).await,
        }
        .expect("revoke")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // A test that panicked before `stop` still removes its SQLite file; a PostgreSQL
        // database left behind by a panic is named liaison_test_* and dropped by the next
        // `.ci/run`.
        if let Some(Cleanup::File(path)) = &self.cleanup {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// A response read whole: its body as JSON, or `null` when it is not JSON.
async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// Declares a test that runs on SQLite, and on PostgreSQL when configured.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let s = $crate::common::sqlite().await;
                super::$name(&s).await;
                s.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(s) = $crate::common::postgres().await {
                    super::$name(&s).await;
                    s.stop().await;
                }
            }
        }
    )+};
}
