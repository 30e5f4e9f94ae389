//! The databases a benchmark runs on: a temporary SQLite file, a fresh PostgreSQL database it
//! creates and drops (`liaison_bench_<uuid>`), or one the user names; and raw sqlx pools on them.
//!
//! The raw connections serve the storage floor and the set-up reads (how much is loaded, which
//! ids exist); they mirror the pool shapes of Liaison's own backends so the floor compares.

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    pub fn of(url: &str) -> anyhow::Result<Backend> {
        Ok(match liaison::Backend::of(url)? {
            liaison::Backend::Sqlite => Backend::Sqlite,
            liaison::Backend::Postgres => Backend::Postgres,
        })
    }
}

enum Cleanup {
    Keep,
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

/// A database the benchmark runs on. Dropping it removes what the benchmark created.
pub struct Database {
    pub backend: Backend,
    pub url: String,
    cleanup: Cleanup,
}

impl Database {
    /// A SQLite file in a new temporary directory under `parent` (the system's by default),
    /// removed with it.
    pub fn temp_sqlite(parent: Option<&std::path::Path>) -> anyhow::Result<Database> {
        let dir = match parent {
            Some(p) => tempfile::Builder::new()
                .prefix("liaison-bench-")
                .tempdir_in(p),
            None => tempfile::Builder::new().prefix("liaison-bench-").tempdir(),
        }
        .context("creating a temporary directory")?;
        let url = format!("sqlite:{}", dir.path().join("liaison.db").display());
        Ok(Database {
            backend: Backend::Sqlite,
            url,
            cleanup: Cleanup::Dir(dir),
        })
    }

    /// No database: what a closed session leaves behind in its place.
    pub fn none() -> Database {
        Database {
            backend: Backend::Sqlite,
            url: String::new(),
            cleanup: Cleanup::Keep,
        }
    }

    /// A database the user named; left as it is afterwards.
    pub fn existing(url: &str) -> anyhow::Result<Database> {
        Ok(Database {
            backend: Backend::of(url)?,
            url: url.to_owned(),
            cleanup: Cleanup::Keep,
        })
    }

    /// A new database `liaison_bench_<uuid>` on the server `admin_url` points at, dropped
    /// (with its connections) when this value is dropped, unless `keep`.
    pub async fn fresh_postgres(admin_url: &str, keep: bool) -> anyhow::Result<Database> {
        let name = format!("liaison_bench_{}", Uuid::now_v7().simple());
        let mut conn = PgConnectOptions::from_str(admin_url)
            .context("parsing the PostgreSQL URL")?
            .connect()
            .await
            .with_context(|| format!("connecting to {admin_url}"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .with_context(|| format!("creating database {name}"))?;
        let _ = conn.close().await;
        Ok(Database {
            backend: Backend::Postgres,
            url: with_database(admin_url, &name)?,
            cleanup: if keep {
                Cleanup::Keep
            } else {
                Cleanup::Postgres {
                    admin_url: admin_url.to_owned(),
                    name,
                }
            },
        })
    }

    /// Bytes the database occupies on disk (SQLite: file, WAL and shared memory).
    pub async fn size_bytes(&self, raw: &RawDb) -> Option<u64> {
        match (self.backend, raw) {
            (Backend::Sqlite, _) => {
                let path = sqlite_path(&self.url).ok()?;
                let files = [
                    path.to_owned(),
                    format!("{path}-wal"),
                    format!("{path}-shm"),
                ];
                Some(
                    files
                        .iter()
                        .filter_map(|f| std::fs::metadata(f).ok())
                        .map(|m| m.len())
                        .sum(),
                )
            }
            (Backend::Postgres, RawDb::Postgres(pool)) => {
                sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                    .fetch_one(pool)
                    .await
                    .ok()
                    .map(|n| n as u64)
            }
            _ => None,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop cannot await, and may run inside a runtime: a thread with a runtime of its
            // own does the asynchronous work and is joined.
            let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    let mut conn = PgConnectOptions::from_str(&admin_url)?.connect().await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await?;
                    let _ = conn.close().await;
                    Ok(())
                })
            })
            .join();
            match dropped {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("could not drop database {}: {e:#}", self.url),
                Err(_) => eprintln!("could not drop database {}", self.url),
            }
        }
    }
}

/// `url` with its database name replaced by `name` (query parameters kept).
pub fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let scheme_end = url
        .find("://")
        .map(|i| i + 3)
        .context("a URL needs a scheme")?;
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    Ok(format!("{}/{name}{query}", &base[..host_end]))
}

/// Raw connections on the benchmark's database, shaped as Liaison's own backends shape theirs:
/// SQLite through rusqlite called inline (Liaison's driver; sqlx's SQLite feature must stay
/// off, as both link libsqlite3-sys), one writer and eight readers, WAL and the same pragmas;
/// PostgreSQL through sqlx with sixteen connections.
#[derive(Clone)]
pub enum RawDb {
    Sqlite(SqliteRaw),
    Postgres(PgPool),
}

/// Readers served at once, as in Liaison's SQLite backend.
const SQLITE_READERS: usize = 8;

#[derive(Clone)]
pub struct SqliteRaw {
    path: String,
    writer: Arc<tokio::sync::Mutex<rusqlite::Connection>>,
    readers: Arc<std::sync::Mutex<Vec<rusqlite::Connection>>>,
    permits: Arc<Semaphore>,
}

/// A pooled read-only connection, returned to the pool when dropped.
pub struct Reader {
    conn: Option<rusqlite::Connection>,
    pool: Arc<std::sync::Mutex<Vec<rusqlite::Connection>>>,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Reader {
    type Target = rusqlite::Connection;
    fn deref(&self) -> &rusqlite::Connection {
        self.conn
            .as_ref()
            .expect("a reader holds its connection until dropped")
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let (Some(c), Ok(mut pool)) = (self.conn.take(), self.pool.lock()) {
            pool.push(c);
        }
    }
}

/// Opens a connection with the pragmas Liaison's SQLite backend sets.
fn open_sqlite(path: &str, read_only: bool) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = rusqlite::Connection::open_with_flags(path, flags)?;
    conn.execute_batch(
        "PRAGMA busy_timeout = 10000;
         PRAGMA synchronous = NORMAL;
         PRAGMA cache_size = -65536;
         PRAGMA temp_store = MEMORY;",
    )?;
    if !read_only {
        // As Liaison's writer: no checkpoint inside commits (the server's background task
        // checkpoints the shared WAL), and a cache that holds the hot parts of the indexes.
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -262144;")?;
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    }
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

impl SqliteRaw {
    pub async fn writer(&self) -> tokio::sync::OwnedMutexGuard<rusqlite::Connection> {
        self.writer.clone().lock_owned().await
    }

    pub async fn reader(&self) -> anyhow::Result<Reader> {
        let permit = self.permits.clone().acquire_owned().await?;
        let pooled = self
            .readers
            .lock()
            .map_err(|_| anyhow::anyhow!("the reader pool is poisoned"))?
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_sqlite(&self.path, true)?,
        };
        Ok(Reader {
            conn: Some(conn),
            pool: self.readers.clone(),
            _permit: permit,
        })
    }
}

impl RawDb {
    pub async fn open(url: &str) -> anyhow::Result<RawDb> {
        Ok(match Backend::of(url)? {
            Backend::Sqlite => {
                let path = sqlite_path(url)?;
                let writer =
                    open_sqlite(&path, false).with_context(|| format!("opening {path}"))?;
                RawDb::Sqlite(SqliteRaw {
                    path,
                    writer: Arc::new(tokio::sync::Mutex::new(writer)),
                    readers: Arc::new(std::sync::Mutex::new(Vec::new())),
                    permits: Arc::new(Semaphore::new(SQLITE_READERS)),
                })
            }
            Backend::Postgres => RawDb::Postgres(
                PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(PgConnectOptions::from_str(url)?)
                    .await?,
            ),
        })
    }

    pub async fn close(&self) {
        match self {
            RawDb::Sqlite(s) => {
                if let Ok(mut readers) = s.readers.lock() {
                    readers.clear();
                }
            }
            RawDb::Postgres(pool) => pool.close().await,
        }
    }

    /// Refreshes PostgreSQL's planner statistics, as autovacuum would on a server where it is
    /// on (the test server here runs with autovacuum off). Without statistics the plans sqlx
    /// caches per connection may pick a wrong index for good; see BENCHMARKS.md. SQLite is left
    /// as Liaison leaves it.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        if let RawDb::Postgres(pool) = self {
            sqlx::query("ANALYZE").execute(pool).await?;
        }
        Ok(())
    }

    /// Whether the tenant holds engagement `external_id`.
    async fn has_engagement(&self, t: &Tenant, external_id: &str) -> anyhow::Result<bool> {
        Ok(match self {
            RawDb::Sqlite(s) => {
                let c = s.reader().await?;
                let mut stmt = c.prepare_cached(
                    "SELECT 1 FROM records WHERE org_id = ?1 AND connection_id = ?2 \
                     AND kind = 'engagement' AND external_id = ?3",
                )?;
                stmt.exists(rusqlite::params![t.org, t.connection, external_id])?
            }
            RawDb::Postgres(pool) => sqlx::query(
                "SELECT 1 FROM records WHERE org_id = $1 AND connection_id = $2 \
                 AND kind = 'engagement' AND external_id = $3",
            )
            .bind(t.org)
            .bind(t.connection)
            .bind(external_id)
            .fetch_optional(pool)
            .await?
            .is_some(),
        })
    }

    /// How many of the data set's engagements the tenant holds. Loads go in index order, so
    /// the loaded ones are a prefix 0..n: a binary search over point lookups finds n.
    pub async fn loaded(&self, t: &Tenant) -> anyhow::Result<u64> {
        let (mut lo, mut hi) = (0u64, 1u64);
        // Exponential probe for an upper bound, then bisect: about 2·log2(n) lookups.
        for _ in 0..40 {
            if !self
                .has_engagement(t, &crate::data::Generator::engagement_external_id(hi - 1))
                .await?
            {
                break;
            }
            lo = hi;
            hi *= 2;
        }
        for _ in 0..64 {
            if hi - lo <= 1 {
                break;
            }
            let mid = lo + (hi - lo) / 2;
            if self
                .has_engagement(t, &crate::data::Generator::engagement_external_id(mid - 1))
                .await?
            {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// The internal ids of the given engagements of the tenant (those that exist).
    pub async fn engagement_ids(
        &self,
        t: &Tenant,
        external_ids: &[String],
    ) -> anyhow::Result<Vec<Uuid>> {
        let mut out = Vec::with_capacity(external_ids.len());
        match self {
            RawDb::Sqlite(s) => {
                let c = s.reader().await?;
                let mut stmt = c.prepare_cached(
                    "SELECT id FROM records WHERE org_id = ?1 AND connection_id = ?2 \
                     AND kind = 'engagement' AND external_id = ?3",
                )?;
                for e in external_ids {
                    let mut rows = stmt.query(rusqlite::params![t.org, t.connection, e])?;
                    if let Some(row) = rows.next()? {
                        out.push(row.get(0)?);
                    }
                }
            }
            RawDb::Postgres(pool) => {
                for chunk in external_ids.chunks(1000) {
                    let ids: Vec<Uuid> = sqlx::query_scalar(
                        "SELECT id FROM records WHERE org_id = $1 AND connection_id = $2 \
                         AND kind = 'engagement' AND external_id = ANY($3)",
                    )
                    .bind(t.org)
                    .bind(t.connection)
                    .bind(chunk)
                    .fetch_all(pool)
                    .await?;
                    out.extend(ids);
                }
            }
        }
        Ok(out)
    }
}

/// The file of a `sqlite:` URL (`sqlite:x.db`, `sqlite://x.db`, `sqlite:///abs/x.db`).
fn sqlite_path(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .context("not a sqlite: URL")?;
    Ok(rest.split('?').next().unwrap_or("").to_owned())
}

/// An organization of the data set and the token the benchmark uses for it.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: String,
    pub token: String,
    pub org: Uuid,
    pub connection: Uuid,
}

/// The organization every measurement reads and writes.
pub const MAIN_ORG: &str = "bench";

pub fn org_name(k: usize) -> String {
    if k == 0 {
        MAIN_ORG.to_owned()
    } else {
        format!("bench-neighbour-{k}")
    }
}

/// Creates one token per organization (and the organizations, on first use) in-process, on the
/// database the server child will open, then closes the store.
pub async fn create_tenants(url: &str, orgs: usize) -> anyhow::Result<Vec<Tenant>> {
    use liaison_domain::scope::Scope;
    use liaison_store::Store;
    liaison::with_store!(url, |store| {
        let engine = liaison_engine::Engine::new(store).await?;
        let mut tenants = Vec::with_capacity(orgs);
        for k in 0..orgs.max(1) {
            let name = org_name(k);
            let created = engine
                .create_token(&name, "crm", "liaison-bench", Scope::all(), None)
                .await?;
            tenants.push(Tenant {
                name,
                token: created.secret,
                org: created.token.org.uuid(),
                connection: created.token.connection.uuid(),
            });
        }
        engine.store().close().await;
        Ok::<_, anyhow::Error>(tenants)
    })
}

/// Fails unless `url` is a database a benchmark may write to: `sqlite:` or `postgres://`.
pub fn check_url(url: &str) -> anyhow::Result<()> {
    if Backend::of(url).is_err() {
        bail!("`{url}` is neither sqlite:<file> nor postgres://…");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        let f = super::with_database;
        assert_eq!(
            f("postgres://postgres@127.0.0.1:5432/postgres", "x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(f("postgres://u@h", "x").unwrap(), "postgres://u@h/x");
        assert_eq!(
            f("postgresql://u@h:1/db?sslmode=disable", "x").unwrap(),
            "postgresql://u@h:1/x?sslmode=disable"
        );
    }
}
