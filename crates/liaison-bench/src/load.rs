//! The load generator: closed loop (fixed concurrency) or open loop (fixed arrival rate, with
//! latency counted from each request's scheduled time so that coordinated omission is not hidden).
//!
//! It is lean on purpose, since the client shares two cores with the server: hyper 1 client
//! connections with keep-alive, request bodies serialised before the clock starts, one
//! histogram per worker merged at the end. The same driver runs the storage floor's callers.

use crate::procfs;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A worker gives up after this many failures in a row: the server is gone or refusing, and
/// hammering it further only hides the first error under thousands of copies.
const MAX_CONSECUTIVE_ERRORS: u32 = 50;
/// Latencies are recorded in microseconds up to this bound (anything slower saturates).
const HIST_MAX_MICROS: u64 = 300_000_000;

/// One request, fully built before it is timed.
#[derive(Clone)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub body: Bytes,
}

/// Builds request number `seq` (unique within a run); the rng is the worker's own.
pub type Source = Arc<dyn Fn(u64, &mut SmallRng) -> Req + Send + Sync>;

/// How a run is paced and bounded.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Requests before this much time has passed are sent but not recorded.
    pub warmup: Duration,
    pub duration: Duration,
    /// Open loop at this many requests per second; closed loop when `None`.
    pub rate: Option<f64>,
    /// A hard cap on requests, whatever the duration.
    pub max_requests: u64,
    /// One request taking longer than this counts as an error.
    pub timeout: Duration,
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Successful requests in the measured window.
    pub ok: u64,
    /// Failed requests (non-2xx, transport errors, timeouts), warm-up included.
    pub errors: u64,
    pub first_error: Option<String>,
    /// Microseconds.
    pub hist: Histogram<u64>,
    /// From the start of the measured window to the last recorded completion.
    pub window: Duration,
    pub bytes: u64,
    /// CPU the watched process used during the window, in percent of one core.
    pub server_cpu: Option<f64>,
    /// CPU this process used during the window, in percent of one core.
    pub client_cpu: Option<f64>,
    /// CPU every other process used during the window, in percent of one core.
    pub other_cpu: Option<f64>,
}

impl Measurement {
    pub fn throughput(&self) -> f64 {
        let secs = self.window.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    /// A latency quantile in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.hist.max() as f64 / 1000.0
    }
}

/// A failed call. `broken` says the connection (or session) cannot be reused.
#[derive(Debug)]
pub struct CallError {
    pub message: String,
    pub broken: bool,
}

/// Something the driver calls in a loop: an HTTP connection, or a storage-floor session.
pub trait Caller: Send + 'static {
    /// Performs call `seq`; returns the bytes received.
    fn call(&mut self, seq: u64) -> impl Future<Output = Result<u64, CallError>> + Send;
    /// Drops whatever state a timed-out call left behind.
    fn reset(&mut self);
}

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIST_MAX_MICROS, 3).expect("static histogram bounds are valid")
}

struct WorkerOut {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    hist: Histogram<u64>,
    bytes: u64,
    last_done: Option<Instant>,
}

/// Runs `callers` (one task each, so their number is the concurrency) under `plan`. `watch`
/// is a process whose CPU use over the measured window is reported (the server's).
pub async fn drive<C: Caller>(plan: Plan, callers: Vec<C>, watch: Option<u32>) -> Measurement {
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let end = measure_from + plan.duration;
    let overtime = end + plan.duration * 4 + Duration::from_secs(30);
    let next = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from).await;
        (
            Instant::now(),
            watch.and_then(procfs::cpu_ticks),
            procfs::cpu_ticks(std::process::id()),
            procfs::machine_busy_ticks(),
        )
    });
    let mut tasks = Vec::with_capacity(callers.len());
    for mut caller in callers {
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = WorkerOut {
                ok: 0,
                errors: 0,
                first_error: None,
                hist: new_histogram(),
                bytes: 0,
                last_done: None,
            };
            let mut consecutive = 0u32;
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= plan.max_requests {
                    break;
                }
                let scheduled = match plan.rate {
                    Some(rate) => {
                        let at = start + Duration::from_secs_f64(seq as f64 / rate);
                        if at >= end {
                            break;
                        }
                        tokio::time::sleep_until(at).await;
                        at
                    }
                    None => {
                        let now = Instant::now();
                        // A worker whose every answer took longer than the window (a big
                        // batch on a slow backend) goes on until it has one measured answer,
                        // within a hard limit, so that no figure is made of nothing.
                        if now >= end && (out.ok > 0 || now >= overtime) {
                            break;
                        }
                        now
                    }
                };
                let result = tokio::time::timeout(plan.timeout, caller.call(seq)).await;
                let done = Instant::now();
                let failure = match result {
                    Ok(Ok(bytes)) => {
                        consecutive = 0;
                        if scheduled >= measure_from {
                            let micros = done.duration_since(scheduled).as_micros() as u64;
                            out.hist.saturating_record(micros.max(1));
                            out.ok += 1;
                            out.bytes += bytes;
                            out.last_done = Some(done);
                        }
                        None
                    }
                    Ok(Err(e)) => {
                        if e.broken {
                            caller.reset();
                        }
                        Some(e.message)
                    }
                    Err(_) => {
                        caller.reset();
                        Some(format!("no answer within {:?}", plan.timeout))
                    }
                };
                if let Some(message) = failure {
                    out.errors += 1;
                    out.first_error.get_or_insert(message);
                    consecutive += 1;
                    if consecutive >= MAX_CONSECUTIVE_ERRORS {
                        break;
                    }
                }
            }
            out
        }));
    }
    let mut m = Measurement {
        ok: 0,
        errors: 0,
        first_error: None,
        hist: new_histogram(),
        window: Duration::ZERO,
        bytes: 0,
        server_cpu: None,
        client_cpu: None,
        other_cpu: None,
    };
    let mut last_done = None;
    for t in tasks {
        match t.await {
            Ok(out) => {
                m.ok += out.ok;
                m.errors += out.errors;
                if m.first_error.is_none() {
                    m.first_error = out.first_error;
                }
                let _ = m.hist.add(&out.hist);
                m.bytes += out.bytes;
                last_done = last_done.max(out.last_done);
            }
            Err(e) => {
                m.errors += 1;
                m.first_error.get_or_insert(format!("worker failed: {e}"));
            }
        }
    }
    let finished = Instant::now();
    m.window = last_done
        .unwrap_or(finished)
        .saturating_duration_since(measure_from);
    if let Ok((at, server0, client0, busy0)) = sampler.await {
        let wall = finished.saturating_duration_since(at).as_secs_f64();
        let percent = |before: Option<u64>, after: Option<u64>| {
            let (b, a) = (before?, after?);
            (wall > 0.0)
                .then(|| (a.saturating_sub(b)) as f64 / procfs::ticks_per_second() / wall * 100.0)
        };
        m.server_cpu = percent(server0, watch.and_then(procfs::cpu_ticks));
        m.client_cpu = percent(client0, procfs::cpu_ticks(std::process::id()));
        // Whatever else ran on the machine meanwhile (other builds, PostgreSQL's own processes
        // on that backend): the figure is only as clean as this is small.
        let busy = percent(busy0, procfs::machine_busy_ticks());
        m.other_cpu =
            busy.map(|b| (b - m.server_cpu.unwrap_or(0.0) - m.client_cpu.unwrap_or(0.0)).max(0.0));
    }
    m
}

/// One keep-alive HTTP/1.1 connection to a server on loopback.
pub struct Conn {
    addr: SocketAddr,
    host: HeaderValue,
    auth: Option<HeaderValue>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    pub fn new(addr: SocketAddr, token: Option<&str>) -> Self {
        Conn {
            addr,
            host: HeaderValue::from_str(&addr.to_string())
                .expect("a socket address is a valid header"),
            auth: token.map(|t| {
                HeaderValue::from_str(&format!("Bearer {t}")).expect("tokens are header-safe")
            }),
            sender: None,
        }
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, CallError> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let broken = |e: &dyn std::fmt::Display| CallError {
                message: format!("connecting to {}: {e}", self.addr),
                broken: true,
            };
            let stream = TcpStream::connect(self.addr)
                .await
                .map_err(|e| broken(&e))?;
            // Requests are small and answered whole; Nagle would only add delay.
            stream.set_nodelay(true).map_err(|e| broken(&e))?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| broken(&e))?;
            tokio::spawn(conn);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("set just above");
        sender.ready().await.map_err(|e| CallError {
            message: format!("connection lost: {e}"),
            broken: true,
        })?;
        Ok(sender)
    }

    /// Sends one request and reads the whole answer. With `keep` the body is returned
    /// (setup calls that read JSON); without, it is only counted (measured calls).
    pub async fn send(
        &mut self,
        req: &Req,
        keep: bool,
    ) -> Result<(StatusCode, u64, Bytes), CallError> {
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(req.path.as_str())
            .header(HOST, self.host.clone());
        if let Some(a) = &self.auth {
            builder = builder.header(AUTHORIZATION, a.clone());
        }
        if !req.body.is_empty() {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let request = builder
            .body(Full::new(req.body.clone()))
            .map_err(|e| CallError {
                message: format!("building the request: {e}"),
                broken: false,
            })?;
        let sender = self.sender().await?;
        let lost = |e: hyper::Error| CallError {
            message: format!("request failed: {e}"),
            broken: true,
        };
        let response = sender.send_request(request).await.map_err(lost)?;
        let status = response.status();
        let mut body = response.into_body();
        let mut len = 0u64;
        let mut kept = Vec::new();
        // Every frame is read: an unread body would keep the connection from being reused.
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(lost)?;
            if let Some(data) = frame.data_ref() {
                len += data.len() as u64;
                if keep || !status.is_success() {
                    kept.extend_from_slice(data);
                }
            }
        }
        Ok((status, len, Bytes::from(kept)))
    }

    /// A setup call that must succeed; returns the body.
    pub async fn expect_ok(&mut self, req: &Req) -> anyhow::Result<Bytes> {
        let (status, _, body) = self
            .send(req, true)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        if !status.is_success() {
            anyhow::bail!(
                "{} {} answered {status}: {}",
                req.method,
                req.path,
                snippet(&body)
            );
        }
        Ok(body)
    }
}

/// The start of a body, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    text.replace('\n', " ")
}

/// A measured HTTP worker: its connection, its share of the request source, its rng.
pub struct HttpCaller {
    conn: Conn,
    source: Source,
    rng: SmallRng,
}

impl HttpCaller {
    pub fn new(addr: SocketAddr, token: Option<&str>, source: Source, worker: usize) -> Self {
        HttpCaller {
            conn: Conn::new(addr, token),
            source,
            rng: SmallRng::seed_from_u64(0x5EED_0000 + worker as u64),
        }
    }
}

impl Caller for HttpCaller {
    async fn call(&mut self, seq: u64) -> Result<u64, CallError> {
        let req = (self.source)(seq, &mut self.rng);
        let (status, len, body) = self.conn.send(&req, false).await?;
        if status.is_success() {
            Ok(len)
        } else {
            Err(CallError {
                message: format!(
                    "{} {} answered {status}: {}",
                    req.method,
                    req.path,
                    snippet(&body)
                ),
                broken: false,
            })
        }
    }

    fn reset(&mut self) {
        self.conn.sender = None;
    }
}

/// `concurrency` HTTP callers sharing one source.
pub fn http_callers(
    addr: SocketAddr,
    token: Option<&str>,
    source: &Source,
    concurrency: usize,
) -> Vec<HttpCaller> {
    (0..concurrency)
        .map(|w| HttpCaller::new(addr, token, source.clone(), w))
        .collect()
}
