//! Group commit for the one writer connection. Concurrent write units share one SQLite
//! transaction, each inside a savepoint of its own; the last unit in the queue commits for all.
//!
//! A unit's `commit` returns only once the COMMIT that includes it has succeeded, so an
//! acknowledged write is as durable as with a transaction of its own; a unit that fails or is
//! dropped rolls back to its savepoint and leaves the others untouched. What it saves: the
//! pages every write touches (the outbox's last leaf, the tails of the indexes) are written to
//! the WAL once per group instead of once per request.

use crate::db;
use liaison_store::{Result, StoreError};
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

/// A group commits when the queue behind it is empty, or when it has grown this large or this
/// old: under a steady stream of writes the queue may never empty, and no acknowledgement may
/// wait on that.
const MAX_GROUP: usize = 64;
const MAX_GROUP_AGE: std::time::Duration = std::time::Duration::from_millis(5);

/// The writer connection and the group being built on it.
pub struct Writer {
    pub conn: Connection,
    /// An outer transaction is open, since this instant.
    open: bool,
    opened_at: std::time::Instant,
    /// Units whose savepoint was released, waiting for the COMMIT that makes them durable.
    pending: Vec<oneshot::Sender<Result<(), String>>>,
}

/// The shared writer, and how many units are queued for it.
#[derive(Clone)]
pub struct WriterQueue {
    writer: Arc<Mutex<Writer>>,
    queued: Arc<AtomicUsize>,
}

/// One unit of work holding the writer.
pub struct Unit {
    guard: Option<OwnedMutexGuard<Writer>>,
    queue: WriterQueue,
}

/// Counts a unit as queued until it holds the writer; a unit abandoned while queued makes sure
/// the group it was counted in still gets committed.
struct Queued<'a>(&'a WriterQueue, bool);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        if self.0.queued.fetch_sub(1, Ordering::AcqRel) == 1 && !self.1 {
            let queue = self.0.clone();
            tokio::spawn(async move {
                let guard = queue.writer.clone().lock_owned().await;
                queue.finish(guard);
            });
        }
    }
}

impl WriterQueue {
    pub fn new(conn: Connection) -> Self {
        WriterQueue {
            writer: Arc::new(Mutex::new(Writer {
                conn,
                open: false,
                opened_at: std::time::Instant::now(),
                pending: Vec::new(),
            })),
            queued: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Waits for the writer and opens a unit (a savepoint in the group's transaction).
    pub async fn begin(&self) -> Result<Unit> {
        self.queued.fetch_add(1, Ordering::AcqRel);
        let mut queued = Queued(self, false);
        let mut guard = self.writer.clone().lock_owned().await;
        queued.1 = true;
        drop(queued);
        if !guard.open {
            // IMMEDIATE takes the write lock up front (other processes on the file included),
            // so the group never fails half-way because another writer got there first.
            guard.conn.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
            guard.open = true;
            guard.opened_at = std::time::Instant::now();
        }
        if let Err(e) = guard.conn.execute_batch("SAVEPOINT unit") {
            self.finish(guard);
            return Err(db(e));
        }
        Ok(Unit {
            guard: Some(guard),
            queue: self.clone(),
        })
    }

    /// Hands the writer on. The last unit in the queue (or the one that finds the group full or
    /// old) commits the group and tells every waiting unit how it went.
    fn finish(&self, mut guard: OwnedMutexGuard<Writer>) {
        let due = self.queued.load(Ordering::Acquire) == 0
            || guard.pending.len() >= MAX_GROUP
            || guard.opened_at.elapsed() >= MAX_GROUP_AGE;
        if guard.open && due {
            let outcome = guard
                .conn
                .execute_batch("COMMIT")
                .map_err(|e| e.to_string());
            if outcome.is_err() {
                let _ = guard.conn.execute_batch("ROLLBACK");
            }
            guard.open = false;
            for waiter in guard.pending.drain(..) {
                let _ = waiter.send(outcome.clone());
            }
        }
    }

    /// Whether a unit (or anything else) holds the writer at this moment.
    pub fn busy(&self) -> bool {
        self.writer.try_lock().is_err()
    }

    /// Locks the writer outside any unit (migrations, shutdown), after committing any group
    /// still open.
    pub async fn exclusive(&self) -> OwnedMutexGuard<Writer> {
        let mut guard = self.writer.clone().lock_owned().await;
        if guard.open {
            let outcome = guard
                .conn
                .execute_batch("COMMIT")
                .map_err(|e| e.to_string());
            guard.open = false;
            for waiter in guard.pending.drain(..) {
                let _ = waiter.send(outcome.clone());
            }
        }
        guard
    }
}

impl Unit {
    pub fn conn(&self) -> &Connection {
        &self
            .guard
            .as_ref()
            .expect("a live unit holds the writer")
            .conn
    }

    /// Keeps the unit's changes and waits until the group holding them is committed.
    pub async fn commit(mut self) -> Result<()> {
        let mut guard = self.guard.take().expect("a live unit holds the writer");
        if let Err(e) = guard.conn.execute_batch("RELEASE unit") {
            let _ = guard.conn.execute_batch("ROLLBACK TO unit; RELEASE unit");
            self.queue.finish(guard);
            return Err(db(e));
        }
        let (tx, rx) = oneshot::channel();
        guard.pending.push(tx);
        self.queue.finish(guard);
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Backend(format!("commit failed: {e}"))),
            Err(_) => Err(StoreError::Backend(
                "the writer went away before committing".into(),
            )),
        }
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        // Dropped without commit: nothing of this unit may remain; the group goes on.
        if let Some(guard) = self.guard.take() {
            if let Err(e) = guard.conn.execute_batch("ROLLBACK TO unit; RELEASE unit") {
                tracing::error!(error = %e, "rollback to savepoint failed");
            }
            self.queue.finish(guard);
        }
    }
}
