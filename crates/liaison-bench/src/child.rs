//! The measured servers, each in a process of its own so that its RSS and CPU are its own: the
//! real Liaison server (the `liaison` library, as `liaison serve` runs it) and the HTTP floor.
//!
//! The parent re-executes its own binary with a hidden subcommand. The child prints its bound
//! address on stdout and runs until its stdin closes, which happens when the parent stops it,
//! drops it, or dies: no child can outlive the benchmark.

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use liaison::{RateLimit, Server, Settings, with_store};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tracing_subscriber::EnvFilter;

/// The line a child prints once it listens.
const READY: &str = "liaison-bench listening on ";
/// How long a child may take to open its database and bind.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a child may take to drain and close its database once asked to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running child server. Dropping it kills the child (also on error and panic paths).
pub struct ServerChild {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl ServerChild {
    /// Starts `liaison-bench <args>` and waits until it listens. Its stderr goes to `log`.
    pub fn spawn(name: &str, args: &[String], log: &Path) -> anyhow::Result<ServerChild> {
        let exe = std::env::current_exe().context("finding the benchmark's own binary")?;
        let stderr = std::fs::File::create(log)
            .with_context(|| format!("creating the log {}", log.display()))?;
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting the {name} server"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        let log_copy = log.to_owned();
        // The reader keeps draining stdout after the ready line, so that a child writing more
        // never blocks on a full pipe or dies of a closed one.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut tx = Some(tx);
            while let Some(Ok(line)) = lines.next() {
                match (line.strip_prefix(READY), tx.take()) {
                    (Some(addr), Some(tx)) => {
                        let _ = tx.send(addr.trim().to_owned());
                    }
                    (_, t) => {
                        tx = t;
                        if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&log_copy)
                        {
                            let _ = writeln!(f, "stdout: {line}");
                        }
                    }
                }
            }
        });
        let mut server = ServerChild {
            name: name.to_owned(),
            child,
            stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log: log.to_owned(),
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(addr) => {
                server.addr = addr
                    .parse()
                    .with_context(|| format!("the {name} server printed a bad address `{addr}`"))?;
                if !server.addr.ip().is_loopback() {
                    bail!("the {name} server listens on {addr}, not on loopback");
                }
                Ok(server)
            }
            Err(_) => bail!(
                "the {name} server did not start within {START_TIMEOUT:?}: {}",
                server.log_tail()
            ),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of the child's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        format!("{} (log {}):\n{tail}", self.name, self.log.display())
    }

    /// Whether the child has died on its own.
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Asks the child to stop (closes its stdin), waits for a graceful exit, kills it if it
    /// does not come in time.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        drop(self.stdin.take());
        let deadline = tokio::time::Instant::now() + STOP_TIMEOUT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => bail!(
                    "the {} server exited with {status}: {}",
                    self.name,
                    self.log_tail()
                ),
                Ok(None) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    bail!(
                        "the {} server did not stop within {STOP_TIMEOUT:?}; killed",
                        self.name
                    )
                }
            }
        }
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Resolves when stdin reaches end of file: the parent closed it or died.
async fn parent_gone() {
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 64];
    // Each read either returns data (ignored) or 0 at end of file; the loop ends at EOF or
    // error. Nothing writes to the pipe, so it iterates once in practice.
    while let Ok(n) = stdin.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

fn loopback(listen: &str) -> anyhow::Result<()> {
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("`{listen}` is not an address like 127.0.0.1:0"))?;
    if !addr.ip().is_loopback() {
        bail!("the benchmark serves on loopback only, not on {addr}");
    }
    Ok(())
}

/// A runtime as `#[tokio::main]` builds it for `liaison serve`: one worker per core.
fn server_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The child side of `serve-liaison`: the Liaison server exactly as `liaison serve` runs it
/// (same library, same layers, same logging set-up), on an existing, populated database.
pub fn serve_liaison(database_url: &str, listen: &str) -> anyhow::Result<()> {
    loopback(listen)?;
    // The binary's own subscriber: request spans are created at `info` as in production.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("LIAISON_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    server_runtime()?.block_on(async {
        with_store!(database_url, |store| {
            // Every request goes through the rate limiter, as in production, at a limit no
            // scenario reaches: the benchmark measures the limiter's cost, never its refusals.
            let settings = Settings {
                rate_limit: RateLimit(Some(std::num::NonZeroU32::MAX)),
                ..Settings::default()
            };
            let server = Server::bind_with(store, listen, &settings).await?;
            if server.bootstrap_token.is_some() {
                tracing::warn!("the database was empty; the benchmark creates its tokens first");
            }
            println!("{READY}{}", server.local_addr()?);
            server.run(parent_gone()).await
        })
    })
}

/// The child side of `serve-floor`: the HTTP floor. Any method on any path reads the request
/// body and answers 200 with a fixed JSON body of `body_size` bytes; what is left of a
/// scenario's cost above this is Liaison's.
pub fn serve_floor(body_size: usize, listen: &str) -> anyhow::Result<()> {
    loopback(listen)?;
    let body = Bytes::from(fixed_body(body_size));
    server_runtime()?.block_on(async move {
        let app = Router::new()
            .fallback(move |request_body: Bytes| {
                let body = body.clone();
                async move {
                    drop(request_body);
                    ([(CONTENT_TYPE, "application/json")], body).into_response()
                }
            })
            // Batches are up to 10 MiB in Liaison; the floor must accept what it accepts.
            .layer(DefaultBodyLimit::max(16 * 1024 * 1024));
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("{READY}{}", listener.local_addr()?);
        axum::serve(listener, app)
            .with_graceful_shutdown(parent_gone())
            .await?;
        Ok(())
    })
}

/// The child side of `serve-response-floor`: the response floor. `GET …/engagements/{id}`
/// reads that engagement, and `GET …/engagements` the page after `after` (by id), with the
/// storage floor's statements; each answer is the face's JSON, encoded by serde_json.
pub fn serve_response_floor(
    database_url: &str,
    org: uuid::Uuid,
    after: Option<uuid::Uuid>,
    listen: &str,
) -> anyhow::Result<()> {
    use crate::floor::{read_one, read_page, response};
    use axum::extract::{Path as UrlPath, State};
    use axum::http::StatusCode;
    use axum::routing::get;
    use std::sync::Arc;

    type Shared = Arc<crate::db::RawDb>;
    fn json(r: anyhow::Result<Vec<u8>>) -> axum::response::Response {
        match r {
            Ok(body) => ([(CONTENT_TYPE, "application/json")], body).into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")).into_response(),
        }
    }
    loopback(listen)?;
    server_runtime()?.block_on(async move {
        let raw: Shared = Arc::new(crate::db::RawDb::open(database_url).await?);
        let app = Router::new()
            .route(
                "/v1/integrations/engagements/{id}",
                get(
                    move |State(raw): State<Shared>, UrlPath(id): UrlPath<uuid::Uuid>| async move {
                        json(read_one(&raw, org, id).await.map(|r| response::one(&r)))
                    },
                ),
            )
            .route(
                "/v1/integrations/engagements",
                get(move |State(raw): State<Shared>| async move {
                    json(
                        read_page(&raw, org, after)
                            .await
                            .map(|r| response::page(&r)),
                    )
                }),
            )
            .with_state(raw.clone());
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("{READY}{}", listener.local_addr()?);
        axum::serve(listener, app)
            .with_graceful_shutdown(parent_gone())
            .await?;
        raw.close().await;
        Ok(())
    })
}

/// A JSON document of exactly `size` bytes (at least the 10 of its frame).
fn fixed_body(size: usize) -> Vec<u8> {
    let frame = br#"{"data":""}"#;
    let pad = size.saturating_sub(frame.len());
    let mut out = Vec::with_capacity(frame.len() + pad);
    out.extend_from_slice(br#"{"data":""#);
    out.extend(std::iter::repeat_n(b'x', pad));
    out.extend_from_slice(br#""}"#);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_body_has_the_size_asked() {
        for size in [0, 11, 12, 1000, 250_000] {
            let body = super::fixed_body(size);
            assert_eq!(body.len(), size.max(11));
            let _: serde_json::Value = serde_json::from_slice(&body).unwrap();
        }
    }
}
