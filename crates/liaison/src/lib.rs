//! The Liaison binary's library half: configuration, backend choice, and the server's life
//! (bootstrap, serving, graceful shutdown). `main.rs` is only the command line over it.

pub mod transfer;

use anyhow::{Context, bail};
use liaison_engine::Engine;
use liaison_store::Store;
use liaison_store_postgres::PgStore;
use liaison_store_sqlite::SqliteStore;
use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use tokio::net::TcpListener;

/// mimalloc over the system allocator: the server allocates many small, short-lived values
/// per request, and glibc's malloc and free were a tenth of the batch-sync profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How log lines are written, from `LIAISON_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One line of text per event; coloured only when stderr is a terminal.
    Text,
    /// One JSON object per line, with the fields of the spans it happened in (a request's
    /// `request_id` among them).
    Json,
}

impl LogFormat {
    pub fn from_env() -> anyhow::Result<LogFormat> {
        match std::env::var("LIAISON_LOG_FORMAT").as_deref() {
            Err(_) | Ok("") | Ok("text") => Ok(LogFormat::Text),
            Ok("json") => Ok(LogFormat::Json),
            Ok(other) => bail!("LIAISON_LOG_FORMAT must be `text` or `json`, not `{other}`"),
        }
    }
}

/// Sends logs to stderr in `format`, filtered by `LIAISON_LOG` (default `info`).
pub fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("LIAISON_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite:liaison.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            bail!("unsupported database URL `{url}`: use sqlite:<file> or postgres://…")
        }
    }
}

/// Runs `$body` with `$store` bound to the opened, migrated backend that `$url` names. The
/// backend is chosen once, here; everything after is generic over `Store`.
#[macro_export]
macro_rules! with_store {
    ($url:expr, |$store:ident| $body:expr) => {{
        match $crate::Backend::of($url)? {
            $crate::Backend::Sqlite => {
                let $store = $crate::open_sqlite($url).await?;
                $body
            }
            $crate::Backend::Postgres => {
                let $store = $crate::open_postgres($url).await?;
                $body
            }
        }
    }};
}

pub async fn open_sqlite(url: &str) -> anyhow::Result<SqliteStore> {
    let store = SqliteStore::connect(url)
        .await
        .with_context(|| format!("opening {url}"))?;
    store
        .migrate()
        .await
        .context("applying SQLite migrations")?;
    Ok(store)
}

pub async fn open_postgres(url: &str) -> anyhow::Result<PgStore> {
    let store = PgStore::connect(url)
        .await
        .context("connecting to PostgreSQL")?;
    store
        .migrate()
        .await
        .context("applying PostgreSQL migrations")?;
    Ok(store)
}

/// The default request rate of tokens that carry none of their own, as `--rate-limit` and
/// `LIAISON_RATE_LIMIT` give it: requests per minute, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit(pub Option<NonZeroU32>);

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit(Some(liaison_engine::DEFAULT_RATE_LIMIT))
    }
}

impl std::str::FromStr for RateLimit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(RateLimit(None));
        }
        s.parse::<NonZeroU32>()
            .map(|n| RateLimit(Some(n)))
            .map_err(|_| {
                format!(
                    "`{s}` is not a rate limit: give requests per minute (1 to {}) or `off`",
                    u32::MAX
                )
            })
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("off"),
        }
    }
}

/// How long something lives, as a flag gives it: a whole number with a unit, `s`, `m`, `h` or
/// `d` (`90m`, `16h`); a bare number is seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime(pub std::time::Duration);

impl std::str::FromStr for Lifetime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
            Some(i) => s.split_at(i),
            None => (s, "s"),
        };
        let scale = match unit.trim() {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => 0,
        };
        digits
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0 && scale > 0)
            .and_then(|n| n.checked_mul(scale))
            .map(|secs| Lifetime(std::time::Duration::from_secs(secs)))
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a lifetime: give a positive whole number of s, m, h or d (`16h`)"
                )
            })
    }
}

impl std::fmt::Display for Lifetime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.as_secs();
        match secs {
            s if s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            s if s % 3600 == 0 => write!(f, "{}h", s / 3600),
            s if s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl Default for Lifetime {
    fn default() -> Self {
        Lifetime(liaison_engine::DEFAULT_ACCESS_TOKEN_TTL)
    }
}

/// The farthest a recording may be from an appointment's account and still be matched to it,
/// as `--match-max-distance` gives it: meters, or `none` (place then only scores).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxDistance(pub Option<u32>);

impl std::str::FromStr for MaxDistance {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("none") {
            return Ok(MaxDistance(None));
        }
        s.parse::<u32>()
            .map(|m| MaxDistance(Some(m)))
            .map_err(|_| format!("`{s}` is not a distance: give whole meters or `none`"))
    }
}

impl std::fmt::Display for MaxDistance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(m) => write!(f, "{m}"),
            None => f.write_str("none"),
        }
    }
}

/// The matching settings the `--match-*` flags give, checked as an organization's are.
pub fn matching_defaults(
    before_minutes: u32,
    after_minutes: u32,
    margin: f64,
    max_distance: MaxDistance,
) -> anyhow::Result<liaison_domain::matching::Settings> {
    liaison_domain::matching::Settings::new(before_minutes, after_minutes, margin)
        .and_then(|s| s.with_max_distance(max_distance.0))
        .map_err(|e| anyhow::anyhow!("the default matching settings: {e}"))
}

/// How a server runs, beyond its database and address.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub rate_limit: RateLimit,
    /// How long the user access tokens it issues live.
    pub access_token_ttl: Lifetime,
    /// The matching settings of organizations that have set none of their own.
    pub matching: liaison_domain::matching::Settings,
}

/// A server bound to its address, ready to run.
pub struct Server<S: Store> {
    pub engine: Arc<Engine<S>>,
    pub listener: TcpListener,
    /// On a fresh database, the token created for organization `default` (shown once).
    pub bootstrap_token: Option<String>,
}

impl<S: Store> Server<S> {
    /// Builds the engine (bootstrapping an empty database) and binds the listener, with the
    /// default settings.
    pub async fn bind(store: S, listen: &str) -> anyhow::Result<Self> {
        Server::bind_with(store, listen, &Settings::default()).await
    }

    pub async fn bind_with(store: S, listen: &str, settings: &Settings) -> anyhow::Result<Self> {
        if settings.access_token_ttl.0 > liaison_engine::MAX_ACCESS_TOKEN_TTL {
            bail!(
                "the access token lifetime ({}) must be at most {}",
                settings.access_token_ttl,
                Lifetime(liaison_engine::MAX_ACCESS_TOKEN_TTL)
            );
        }
        let engine = Arc::new(
            Engine::new(store)
                .await?
                .with_rate_limit(settings.rate_limit.0)
                .with_access_token_ttl(settings.access_token_ttl.0)
                .with_matching_defaults(settings.matching),
        );
        let bootstrap_token = engine.bootstrap().await?.map(|t| t.secret);
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        Ok(Server {
            engine,
            listener,
            bootstrap_token,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish and closes the
    /// store. Every acknowledged write was committed before its response was sent.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = liaison_api::app(self.engine.clone());
        let rematcher = tokio::spawn(rematch(self.engine.clone()));
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP");
        // A pass cut short rolls back; the next start reads its events again.
        rematcher.abort();
        let _ = rematcher.await;
        self.engine.store().close().await;
        served
    }
}

/// How long the matching worker waits when the outbox holds nothing new, and after a failure.
const REMATCH_IDLE: std::time::Duration = std::time::Duration::from_millis(200);
const REMATCH_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// Follows the outbox for as long as the server runs, matching recordings again as the
/// engagements around them change.
async fn rematch<S: Store>(engine: Arc<Engine<S>>) {
    loop {
        match engine.rematch_pending().await {
            Ok(0) => tokio::time::sleep(REMATCH_IDLE).await,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "matching recordings again failed; retrying");
                tokio::time::sleep(REMATCH_RETRY).await;
            }
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::Lifetime;
    use std::time::Duration;

    #[test]
    fn lifetimes_read_with_their_unit_and_print_back() {
        for (text, secs, shown) in [
            ("16h", 57_600, "16h"),
            ("90m", 5_400, "90m"),
            ("45", 45, "45s"),
            ("2d", 172_800, "2d"),
            ("120s", 120, "2m"),
        ] {
            let l: Lifetime = text.parse().unwrap();
            assert_eq!(l.0, Duration::from_secs(secs), "{text}");
            assert_eq!(l.to_string(), shown);
        }
        for bad in ["", "0h", "h", "-1h", "1.5h", "3w", "16 hours"] {
            assert!(bad.parse::<Lifetime>().is_err(), "{bad}");
        }
    }
}
