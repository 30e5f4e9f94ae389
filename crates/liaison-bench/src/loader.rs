//! Loading a data set: in batches through the API (PUT /v1/integrations/sync/batch/engagements)
//! or straight through the engine in-process (`Engine::sync_engagements`, skipping HTTP).
//!
//! Generation runs on a thread of its own, a couple of batches ahead of the writes, so the
//! writer never waits for the generator. Loads go in index order and are idempotent: an
//! interrupted load resumes where the data set's prefix ends.

use crate::data::Generator;
use crate::db::Tenant;
use crate::load::{Conn, Req};
use crate::render;
use anyhow::{Context, bail};
use bytes::Bytes;
use hyper::Method;
use liaison_domain::model::EngagementIn;
use liaison_engine::{Caller, Engine};
use liaison_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a data set reaches the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LoaderKind {
    /// PUT /v1/integrations/sync/batch/engagements against the running server.
    Http,
    /// `Engine::sync_engagements` in this process, on the database directly (no server).
    Engine,
}

/// How a load went.
#[derive(Debug, Clone, Copy)]
pub struct LoadStats {
    pub engagements: u64,
    pub elapsed: Duration,
}

impl LoadStats {
    pub fn rate(&self) -> f64 {
        self.engagements as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Prints progress now and then, so a long load shows it is alive.
struct Progress {
    what: String,
    total: u64,
    done: u64,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new(what: String, total: u64) -> Self {
        let now = Instant::now();
        Progress {
            what,
            total,
            done: 0,
            started: now,
            last: now,
        }
    }

    fn add(&mut self, n: u64) {
        self.done += n;
        if self.last.elapsed() >= Duration::from_secs(10) {
            self.last = Instant::now();
            let rate = self.done as f64 / self.started.elapsed().as_secs_f64();
            eprintln!(
                "  {}: {}/{} ({rate:.0}/s)",
                self.what, self.done, self.total
            );
        }
    }
}

/// Batches of `batch` indices covering `range`.
pub(crate) fn batches(range: Range<u64>, batch: u64) -> impl Iterator<Item = Range<u64>> {
    let batch = batch.max(1);
    (range.start..range.end)
        .step_by(batch as usize)
        .map(move |s| s..(s + batch).min(range.end))
}

/// Loads engagements `range` for `tenant` through the engine, in-process. The database must
/// not be served by another process meanwhile (SQLite has one writer).
pub async fn load_engine(
    url: &str,
    tenant: &Tenant,
    generator: Generator,
    range: Range<u64>,
    batch: u64,
) -> anyhow::Result<LoadStats> {
    // SQLite has one writer, so batches in flight together would only queue for it.
    // PostgreSQL writes them side by side: each batch is a chain of round trips that leaves
    // both the server and this process idle while the other works.
    let in_flight = match liaison::Backend::of(url)? {
        liaison::Backend::Sqlite => 1,
        liaison::Backend::Postgres => 4,
    };
    liaison::with_store!(url, |store| {
        let engine = Arc::new(Engine::new(store).await?);
        let caller = engine.authenticate(&tenant.token).await?;
        let result = load_through(
            engine.clone(),
            caller,
            &tenant.name,
            generator,
            range,
            batch,
            in_flight,
        )
        .await;
        engine.store().close().await;
        result
    })
}

async fn load_through<S: Store + 'static>(
    engine: Arc<Engine<S>>,
    caller: Caller,
    org: &str,
    generator: Generator,
    range: Range<u64>,
    batch: u64,
    in_flight: usize,
) -> anyhow::Result<LoadStats> {
    type Batch = Vec<EngagementIn>;
    let total = range.end.saturating_sub(range.start);
    let (tx, rx) = tokio::sync::mpsc::channel::<Batch>(in_flight + 1);
    let producer = std::thread::spawn(move || {
        for b in batches(range, batch) {
            let items: Batch = b
                .map(|i| render::engagement_in(&generator.engagement(i)))
                .collect();
            if tx.blocking_send(items).is_err() {
                break;
            }
        }
    });
    let progress = Progress::new(format!("{org} (engine)"), total);
    let workers = vec![(); in_flight];
    let loaded = share(rx, progress, workers, move |(), items: Batch| {
        let (engine, caller) = (engine.clone(), caller.clone());
        async move {
            let n = items.len() as u64;
            engine
                .sync_engagements(&caller, items, liaison_engine::Expand::NONE)
                .await
                .map_err(|e| anyhow::anyhow!("loading through the engine: {e}"))?;
            Ok(((), n))
        }
    })
    .await;
    let _ = producer.join();
    loaded
}

/// Loads engagements `range` for `tenant` through the API of the server at `addr`, with two
/// batches in flight so that the server parses one while it writes the other.
pub async fn load_http(
    addr: SocketAddr,
    tenant: &Tenant,
    generator: Generator,
    range: Range<u64>,
    batch: u64,
) -> anyhow::Result<LoadStats> {
    const IN_FLIGHT: usize = 2;
    let total = range.end.saturating_sub(range.start);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(IN_FLIGHT * 2);
    let producer = std::thread::spawn(move || {
        for b in batches(range, batch) {
            let items: Vec<_> = b.map(|i| generator.engagement(i)).collect();
            if tx
                .blocking_send(Bytes::from(render::batch_json(&items)))
                .is_err()
            {
                break;
            }
        }
    });
    let progress = Progress::new(format!("{} (http)", tenant.name), total);
    let conns = (0..IN_FLIGHT)
        .map(|_| Conn::new(addr, Some(&tenant.token)))
        .collect();
    let loaded = share(rx, progress, conns, |mut conn: Conn, body| async move {
        let req = Req {
            method: Method::PUT,
            path: "/v1/integrations/sync/batch/engagements".into(),
            body,
        };
        let answer = conn.expect_ok(&req).await?;
        let n = check_batch_answer(&answer)?;
        Ok((conn, n))
    })
    .await;
    let _ = producer.join();
    loaded
}

/// Hands the batches of `rx` to one worker per element of `workers`, each running `write`
/// with its own state (a connection, say), until `rx` runs dry or a write fails. `write`
/// answers how many engagements the batch held. On a failure the channel is closed, so the
/// producer and the other workers stop at their next batch.
async fn share<T, W, F, Fut>(
    rx: tokio::sync::mpsc::Receiver<T>,
    progress: Progress,
    workers: Vec<W>,
    write: F,
) -> anyhow::Result<LoadStats>
where
    T: Send + 'static,
    W: Send + 'static,
    F: Fn(W, T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<(W, u64)>> + Send + 'static,
{
    let started = Instant::now();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let progress = Arc::new(std::sync::Mutex::new(progress));
    let mut tasks = tokio::task::JoinSet::new();
    for mut state in workers {
        let (rx, progress, write) = (rx.clone(), progress.clone(), write.clone());
        tasks.spawn(async move {
            let mut loaded = 0u64;
            loop {
                let Some(batch) = rx.lock().await.recv().await else {
                    break;
                };
                let (back, n) = write(state, batch).await?;
                state = back;
                loaded += n;
                if let Ok(mut p) = progress.lock() {
                    p.add(n);
                }
            }
            Ok::<u64, anyhow::Error>(loaded)
        });
    }
    let mut loaded = 0;
    let mut failure = None;
    while let Some(done) = tasks.join_next().await {
        match done.context("a loader task failed")? {
            Ok(n) => loaded += n,
            Err(e) => {
                failure = failure.or(Some(e));
                rx.lock().await.close();
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(LoadStats {
        engagements: loaded,
        elapsed: started.elapsed(),
    })
}

/// Counts the items of a batch answer, failing on any item that did not land. Items that
/// failed carry an `error` key; the generated payloads never contain that text, so a plain
/// scan avoids parsing a megabyte of JSON on the client's share of the cores.
pub fn check_batch_answer(body: &[u8]) -> anyhow::Result<u64> {
    let needle = br#""error":"#;
    if body.windows(needle.len()).any(|w| w == needle) {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let failed = v["data"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i.get("error").is_some()).cloned());
        bail!("a batch item did not land: {}", failed.unwrap_or(v));
    }
    // Each landed item is one engagement object with exactly one "engagementUsers" key.
    let marker = br#""engagementUsers":"#;
    Ok(body.windows(marker.len()).filter(|w| w == marker).count() as u64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn batches_cover_the_range() {
        let all: Vec<_> = super::batches(3..1_004, 500).collect();
        assert_eq!(all, vec![3..503, 503..1_003, 1_003..1_004]);
    }
}
