//! One benchmark session: one backend's database with its data set, the Liaison server child
//! on it, and the measurement of each scenario beside its HTTP and storage floors.
//!
//! The session owns every process and database it creates; dropping it (also on error or
//! panic) kills the children and removes what it made.

use crate::child::ServerChild;
use crate::data::Generator;
use crate::db::{Backend, Database, RawDb, Tenant, create_tenants};
use crate::floor::{Floor, FloorOp, floor_callers};
use crate::load::{Conn, Measurement, Plan, Req, drive, http_callers};
use crate::loader::{LoadStats, LoaderKind, load_engine, load_http};
use crate::procfs;
use crate::report::{DepthRow, Figures, FloorFigure, Outcome, Row};
use crate::scenario::{self, DeepCursor, Fixture, Mix, Scenario, Writes};
use anyhow::{Context, bail};
use bytes::Bytes;
use hyper::Method;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How every measurement of a session is run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub warmup: Duration,
    pub duration: Duration,
    /// Each floor's measured time (they vary less than Liaison's figures).
    pub floor_duration: Duration,
    pub concurrency: usize,
    pub batch_size: u64,
    pub batch_concurrency: usize,
    /// sync-batch's warm-up (a batch can take seconds).
    pub batch_warmup: Duration,
    /// Open loop at this rate for every scenario (floors stay closed loop).
    pub rate: Option<f64>,
    pub mix: Mix,
    pub seed: u64,
    pub orgs: usize,
    pub timeout: Duration,
    pub max_requests: u64,
    pub templates: u64,
    /// Stored engagements sampled for get-by-id.
    pub sample_ids: u64,
    /// How deep list-deep-page's cursor goes, as a fraction of the data set.
    pub deep_fraction: f64,
    /// Worker threads of the storage floor's own runtime (the server child gets one per core).
    pub floor_threads: usize,
    /// The deepest cursor paged to (paging costs a request per 1,000 engagements).
    pub max_depth: u64,
    /// Before each measurement, wait up to this long for other processes to use less than
    /// `quiet_threshold` percent of a core (zero: do not wait).
    pub quiet_wait: Duration,
    pub quiet_threshold: f64,
    pub log_dir: PathBuf,
}

impl Settings {
    fn plan(&self, duration: Duration, rate: Option<f64>) -> Plan {
        Plan {
            warmup: self.warmup,
            duration,
            rate,
            max_requests: self.max_requests,
            timeout: self.timeout,
        }
    }

    fn plan_for(&self, scenario: Scenario, duration: Duration, rate: Option<f64>) -> Plan {
        let mut plan = self.plan(duration, rate);
        if scenario == Scenario::SyncBatch {
            plan.warmup = self.batch_warmup;
        }
        plan
    }

    fn concurrency_of(&self, s: Scenario) -> usize {
        if s == Scenario::SyncBatch {
            self.batch_concurrency
        } else {
            self.concurrency
        }
    }
}

pub struct Session {
    pub db: Database,
    /// Set-up reads (what is loaded, which ids exist), on the client's runtime.
    pub raw: RawDb,
    /// The storage floor's own runtime, sized like the server's, and its connections (opened
    /// on it: sqlx connections belong to the runtime that opened them).
    floor_rt: Option<tokio::runtime::Runtime>,
    floor_raw: RawDb,
    pub tenants: Vec<Tenant>,
    pub generator: Generator,
    pub settings: Settings,
    server: Option<ServerChild>,
    /// Distinguishes this session's new external ids from every other run's.
    run_id: u32,
    measurements: u32,
}

impl Session {
    /// Prepares a database: migrations (through Liaison, in-process), organizations and tokens.
    pub async fn open(db: Database, settings: Settings) -> anyhow::Result<Session> {
        let tenants = create_tenants(&db.url, settings.orgs)
            .await
            .with_context(|| format!("preparing {}", db.url))?;
        let raw = RawDb::open(&db.url).await?;
        let floor_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(settings.floor_threads.max(1))
            .thread_name("storage-floor")
            .enable_all()
            .build()?;
        let url = db.url.clone();
        let floor_raw = floor_rt
            .spawn(async move { RawDb::open(&url).await })
            .await
            .context("opening the storage floor's connections")??;
        let run_id = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            & 0xFFFF_FFFF) as u32;
        Ok(Session {
            generator: Generator::new(settings.seed),
            db,
            raw,
            floor_rt: Some(floor_rt),
            floor_raw,
            tenants,
            settings,
            server: None,
            run_id,
            measurements: 0,
        })
    }

    pub fn backend(&self) -> &'static str {
        self.db.backend.name()
    }

    pub fn main(&self) -> &Tenant {
        &self.tenants[0]
    }

    fn log(&self, name: &str) -> PathBuf {
        self.settings
            .log_dir
            .join(format!("{}-{name}.log", self.backend().to_lowercase()))
    }

    /// Starts the Liaison server child on the session's database.
    pub async fn start_server(&mut self) -> anyhow::Result<()> {
        if self.server.is_none() {
            let args = vec![
                "serve-liaison".to_owned(),
                "--database-url".to_owned(),
                self.db.url.clone(),
                "--listen".to_owned(),
                "127.0.0.1:0".to_owned(),
            ];
            self.server = Some(ServerChild::spawn("liaison", &args, &self.log("liaison"))?);
        }
        Ok(())
    }

    pub async fn stop_server(&mut self) -> anyhow::Result<()> {
        match self.server.take() {
            Some(s) => s.stop().await,
            None => Ok(()),
        }
    }

    fn server(&mut self) -> anyhow::Result<&mut ServerChild> {
        let server = self
            .server
            .as_mut()
            .context("the Liaison server is not running")?;
        if server.exited() {
            bail!("the Liaison server died: {}", server.log_tail());
        }
        Ok(server)
    }

    /// Grows the data set to `target` engagements for the main organization (a tenth of that,
    /// shared, for the neighbours). HTTP loads need the server running; engine loads stop it.
    pub async fn load_to(
        &mut self,
        target: u64,
        loader: LoaderKind,
    ) -> anyhow::Result<Option<LoadStats>> {
        let neighbours = self.tenants.len().saturating_sub(1) as u64;
        let mut plan = Vec::new();
        for (k, t) in self.tenants.iter().enumerate() {
            let want = if k == 0 {
                target
            } else {
                target / 10 / neighbours
            };
            let have = self.raw.loaded(t).await?;
            if have < want {
                plan.push((t.clone(), have..want));
            }
        }
        if plan.is_empty() {
            return Ok(None);
        }
        let total: u64 = plan.iter().map(|(_, r)| r.end - r.start).sum();
        eprintln!(
            "{}: loading {total} engagements ({loader:?})",
            self.backend()
        );
        let started = std::time::Instant::now();
        if loader == LoaderKind::Engine {
            self.stop_server().await?;
        } else {
            self.start_server().await?;
        }
        let size = self.settings.batch_size;
        for (t, range) in plan {
            for chunk in analyze_points(self.db.backend, range) {
                match loader {
                    LoaderKind::Engine => {
                        load_engine(&self.db.url, &t, self.generator, chunk, size).await?;
                    }
                    LoaderKind::Http => {
                        let addr = self.server()?.addr;
                        load_http(addr, &t, self.generator, chunk, size).await?;
                    }
                }
                self.raw.analyze().await?;
            }
        }
        let stats = LoadStats {
            engagements: total,
            elapsed: started.elapsed(),
        };
        eprintln!(
            "{}: loaded {total} in {:.1}s ({:.0} engagements/s)",
            self.backend(),
            stats.elapsed.as_secs_f64(),
            stats.rate()
        );
        Ok(Some(stats))
    }

    /// Pages once through the main organization's engagements (1,000 per page) and keeps the
    /// cursors at the given depths (rounded down to whole pages).
    pub async fn cursors_at(&mut self, depths: &[u64]) -> anyhow::Result<Vec<DeepCursor>> {
        let addr = self.server()?.addr;
        let mut conn = Conn::new(addr, Some(&self.main().token));
        let max = self.settings.max_depth;
        let mut wanted: Vec<u64> = depths
            .iter()
            .map(|d| (*d).min(max) / 1000 * 1000)
            .filter(|d| *d > 0)
            .collect();
        wanted.sort();
        wanted.dedup();
        let Some(&deepest) = wanted.last() else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = 0u64;
        // Bounded by the pages the deepest cursor needs, whatever the server answers.
        for _ in 0..deepest / 1000 {
            let mut path = format!("{}?limit=1000", scenario::LIST_PATH);
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", scenario::query_escape(c)));
            }
            let body = conn
                .expect_ok(&Req {
                    method: Method::GET,
                    path,
                    body: Bytes::new(),
                })
                .await?;
            let page: Page = serde_json::from_slice(&body).context("reading a list page")?;
            let (Some(next), Some(last)) = (page.cursor, page.data.last()) else {
                break;
            };
            seen += page.data.len() as u64;
            if wanted.contains(&seen) {
                out.push(DeepCursor {
                    cursor: scenario::query_escape(&next),
                    after: last.id,
                    depth: seen,
                });
            }
            cursor = Some(next);
            if seen.is_multiple_of(100_000) {
                eprintln!("  paged through {seen} engagements");
            }
        }
        Ok(out)
    }

    /// What the scenarios need from the data set: sampled ids and the deep cursor; plus the
    /// cursors at `depths` (found in the same pass through the pages).
    pub async fn fixture(&mut self, depths: &[u64]) -> anyhow::Result<(Fixture, Vec<DeepCursor>)> {
        self.start_server().await?;
        let tenant = self.main().clone();
        let loaded = self.raw.loaded(&tenant).await?;
        let n = self.settings.sample_ids.min(loaded);
        let externals: Vec<String> = (0..n)
            .map(|k| Generator::engagement_external_id(self.generator.sample(k, loaded)))
            .collect();
        let ids = self.raw.engagement_ids(&tenant, &externals).await?;
        let depth = ((loaded as f64 * self.settings.deep_fraction) as u64)
            .min(self.settings.max_depth)
            / 1000
            * 1000;
        let mut all: Vec<u64> = depths.to_vec();
        all.push(depth);
        let cursors = self.cursors_at(&all).await?;
        let deep = cursors.iter().find(|c| c.depth == depth).cloned();
        let series = cursors
            .into_iter()
            .filter(|c| depths.contains(&c.depth))
            .collect();
        Ok((
            Fixture {
                tenant,
                loaded,
                ids: Arc::new(ids),
                deep,
            },
            series,
        ))
    }

    /// Waits (bounded) for the machine to be quiet, so that other processes' work stays out
    /// of the figures; says so when it did not get quiet.
    async fn settle(&self) {
        if self.settings.quiet_wait.is_zero() {
            return;
        }
        let mut ours = vec![std::process::id()];
        ours.extend(self.server.as_ref().map(|s| s.pid()));
        let other = procfs::wait_for_quiet(
            &ours,
            self.settings.quiet_threshold,
            self.settings.quiet_wait,
        )
        .await;
        if let Some(o) = other.filter(|o| *o >= self.settings.quiet_threshold) {
            eprintln!(
                "  the machine is busy ({o:.0}% of a core used by other processes); measuring anyway"
            );
        }
    }

    fn prefix(&mut self, kind: &str) -> String {
        self.measurements += 1;
        format!("{kind}{:08x}{:03}", self.run_id, self.measurements)
    }

    /// Measures one scenario on Liaison, then its HTTP floor and its storage floor.
    pub async fn measure(&mut self, scenario: Scenario, fixture: &Fixture) -> Row {
        let backend = self.backend();
        let row = |outcome| Row {
            scenario: scenario.name().to_owned(),
            backend,
            stored: fixture.loaded,
            outcome,
        };
        if let Some(why) = scenario.unavailable() {
            return row(Outcome::NotAvailable(why));
        }
        let started = std::time::Instant::now();
        let outcome = match self
            .measure_available(scenario, fixture, self.settings.rate)
            .await
        {
            Ok(f) => row(Outcome::Measured(Box::new(f))),
            Err(e) => row(Outcome::Failed(format!("{e:#}"))),
        };
        eprintln!(
            "{}: {} measured in {:.1}s",
            backend,
            scenario.name(),
            started.elapsed().as_secs_f64()
        );
        outcome
    }

    /// Measures one scenario open loop at `rate`, without floors: latency under a fixed load.
    pub async fn measure_open(&mut self, scenario: Scenario, fixture: &Fixture, rate: f64) -> Row {
        eprintln!(
            "{}: {} open loop at {rate:.0}/s",
            self.backend(),
            scenario.name()
        );
        let outcome = match self.measure_available(scenario, fixture, Some(rate)).await {
            Ok(f) => Outcome::Measured(Box::new(f)),
            Err(e) => Outcome::Failed(format!("{e:#}")),
        };
        Row {
            scenario: scenario.name().to_owned(),
            backend: self.backend(),
            stored: fixture.loaded,
            outcome,
        }
    }

    async fn measure_available(
        &mut self,
        scenario: Scenario,
        fixture: &Fixture,
        rate: Option<f64>,
    ) -> anyhow::Result<Figures> {
        let s = self.settings.clone();
        let kind = if scenario == Scenario::SyncBatch {
            "b"
        } else {
            "s"
        };
        let prefix = self.prefix(kind);
        let writes = Arc::new(if scenario.writes() {
            Writes::new(self.generator, fixture.loaded, &prefix, s.templates)
        } else {
            Writes::new(self.generator, fixture.loaded, &prefix, 1)
        });
        let source = scenario::source(scenario, fixture, &writes, s.batch_size, s.mix)?;
        let token = fixture.tenant.token.clone();
        let concurrency = s.concurrency_of(scenario);
        let server = self.server()?;
        let (addr, pid) = (server.addr, server.pid());

        // A few requests first: they must succeed, and their answers size the HTTP floor.
        let mut conn = Conn::new(addr, Some(&token));
        let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(1);
        let mut sizes = Vec::new();
        // A batch probe is as costly as a batch, so one does.
        let probes = if scenario == Scenario::SyncBatch {
            1
        } else {
            3u64
        };
        for k in 0..probes {
            let req = source(9_900_000_000 + k, &mut rng);
            sizes.push(conn.expect_ok(&req).await?.len());
        }
        sizes.sort();
        let response_bytes = sizes[sizes.len() / 2];

        self.settle().await;
        procfs::reset_peak_rss(pid);
        let m = drive(
            s.plan_for(scenario, s.duration, rate),
            http_callers(addr, Some(&token), &source, concurrency),
            Some(pid),
        )
        .await;
        let rss_mib = procfs::peak_rss_kib(pid).map(|k| k as f64 / 1024.0);
        let per_request = if scenario == Scenario::SyncBatch {
            s.batch_size as f64
        } else {
            1.0
        };

        let (http_floor, storage_floor, response_floor) = if rate.is_some() {
            (
                FloorFigure::Skipped,
                FloorFigure::Skipped,
                FloorFigure::Skipped,
            )
        } else {
            let http = self
                .http_floor(scenario, &source, response_bytes, concurrency)
                .await
                .map_or_else(
                    |e| FloorFigure::Failed(format!("{e:#}")),
                    |m| floor_figure(&m, per_request),
                );
            let storage = self
                .storage_floor(scenario, fixture, &writes, concurrency)
                .await
                .map_or_else(
                    |e| FloorFigure::Failed(format!("{e:#}")),
                    |m| floor_figure(&m, per_request),
                );
            let response = match scenario.reads_one_shape() {
                true => self
                    .response_floor(scenario, fixture, &source, concurrency)
                    .await
                    .map_or_else(
                        |e| FloorFigure::Failed(format!("{e:#}")),
                        |m| floor_figure(&m, per_request),
                    ),
                false => FloorFigure::Skipped,
            };
            (http, storage, response)
        };
        Ok(figures(
            &m,
            per_request,
            concurrency,
            rate,
            response_bytes as u64,
            http_floor,
            storage_floor,
            response_floor,
            rss_mib,
        ))
    }

    /// The HTTP floor: the same requests, same concurrency, same process model, against a
    /// server that answers a fixed body of the scenario's typical response size.
    async fn http_floor(
        &mut self,
        scenario: Scenario,
        source: &crate::load::Source,
        body_size: usize,
        concurrency: usize,
    ) -> anyhow::Result<Measurement> {
        let args = vec![
            "serve-floor".to_owned(),
            "--body-size".to_owned(),
            body_size.to_string(),
            "--listen".to_owned(),
            "127.0.0.1:0".to_owned(),
        ];
        self.child_floor(
            "HTTP floor",
            "http-floor",
            &args,
            scenario,
            source,
            concurrency,
        )
        .await
    }

    /// A floor served by a child of its own, driven as Liaison is.
    async fn child_floor(
        &mut self,
        name: &str,
        log: &str,
        args: &[String],
        scenario: Scenario,
        source: &crate::load::Source,
        concurrency: usize,
    ) -> anyhow::Result<Measurement> {
        let floor = ServerChild::spawn(name, args, &self.log(log))?;
        self.settle().await;
        let s = &self.settings;
        let m = drive(
            s.plan_for(scenario, s.floor_duration, None),
            http_callers(floor.addr, None, source, concurrency),
            Some(floor.pid()),
        )
        .await;
        floor.stop().await?;
        Ok(m)
    }

    /// The response floor: the same requests answered by a server that reads the same rows
    /// with the storage floor's statements and encodes the face's JSON with serde_json.
    async fn response_floor(
        &mut self,
        scenario: Scenario,
        fixture: &Fixture,
        source: &crate::load::Source,
        concurrency: usize,
    ) -> anyhow::Result<Measurement> {
        let mut args = vec![
            "serve-response-floor".to_owned(),
            "--database-url".to_owned(),
            self.db.url.clone(),
            "--org".to_owned(),
            fixture.tenant.org.to_string(),
            "--listen".to_owned(),
            "127.0.0.1:0".to_owned(),
        ];
        if scenario == Scenario::ListDeepPage
            && let Some(deep) = &fixture.deep
        {
            args.extend(["--after".to_owned(), deep.after.to_string()]);
        }
        self.child_floor(
            "response floor",
            "response-floor",
            &args,
            scenario,
            source,
            concurrency,
        )
        .await
    }

    /// The storage floor, on a runtime of its own sized like the server's (the client's
    /// runtime is deliberately small).
    async fn storage_floor(
        &mut self,
        scenario: Scenario,
        fixture: &Fixture,
        writes: &Writes,
        concurrency: usize,
    ) -> anyhow::Result<Measurement> {
        let s = self.settings.clone();
        let op = match scenario {
            Scenario::SyncSingle => FloorOp::Sync,
            Scenario::SyncBatch => FloorOp::Batch(s.batch_size),
            Scenario::GetById => FloorOp::GetById(fixture.ids.clone()),
            Scenario::ListFirstPage => FloorOp::List(None),
            Scenario::ListDeepPage => FloorOp::List(fixture.deep.as_ref().map(|d| d.after)),
            Scenario::Mixed => FloorOp::Mixed(s.mix, fixture.ids.clone()),
            other => bail!("{} has no storage floor", other.name()),
        };
        let floor = Arc::new(Floor::new(
            self.floor_raw.clone(),
            fixture.tenant.org,
            writes,
            self.prefix("f"),
            op,
        ));
        let plan = s.plan_for(scenario, s.floor_duration, None);
        self.settle().await;
        let rt = self.floor_rt.as_ref().context("the session is closed")?;
        rt.spawn(async move {
            if scenario.writes() {
                floor
                    .prepare()
                    .await
                    .context("preparing the storage floor")?;
            }
            Ok(drive(plan, floor_callers(floor, concurrency), None).await)
        })
        .await
        .context("the storage floor's task failed")?
    }

    /// list-deep-page at several depths (the cost of page N should not depend on N).
    pub async fn depth_series(
        &mut self,
        stored: u64,
        cursors: Vec<DeepCursor>,
    ) -> anyhow::Result<Vec<DepthRow>> {
        let s = self.settings.clone();
        let token = self.main().token.clone();
        let addr = self.server()?.addr;
        let mut rows = Vec::new();
        let first = DeepCursor {
            cursor: String::new(),
            after: Uuid::nil(),
            depth: 0,
        };
        for c in std::iter::once(first).chain(cursors) {
            eprintln!("{}: list page at depth {}", self.backend(), c.depth);
            let path = if c.depth == 0 {
                format!("{}?limit=100", scenario::LIST_PATH)
            } else {
                format!("{}?limit=100&cursor={}", scenario::LIST_PATH, c.cursor)
            };
            let source: crate::load::Source = Arc::new(move |_, _| Req {
                method: Method::GET,
                path: path.clone(),
                body: Bytes::new(),
            });
            self.settle().await;
            let m = drive(
                s.plan(s.floor_duration, None),
                http_callers(addr, Some(&token), &source, s.concurrency),
                None,
            )
            .await;
            rows.push(DepthRow {
                backend: self.backend(),
                stored,
                depth: c.depth,
                rate: m.throughput(),
                p50: m.ms(0.5),
                p99: m.ms(0.99),
                errors: m.errors,
            });
        }
        Ok(rows)
    }

    /// Stops the server and closes the pools (the database itself goes when `db` is dropped).
    pub async fn close(mut self) -> anyhow::Result<Database> {
        let stopped = self.stop_server().await;
        self.raw.close().await;
        if let Some(rt) = self.floor_rt.take() {
            let raw = self.floor_raw.clone();
            let _ = rt.spawn(async move { raw.close().await }).await;
            rt.shutdown_background();
        }
        stopped?;
        // Moved out field by field: Session has a Drop of its own.
        let db = std::mem::replace(&mut self.db, Database::none());
        Ok(db)
    }

    pub async fn size_bytes(&self) -> Option<u64> {
        self.db.size_bytes(&self.raw).await
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // A runtime may not be dropped from async code; this one just stops its threads.
        if let Some(rt) = self.floor_rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Splits a PostgreSQL load at the points where autovacuum would have refreshed the planner's
/// statistics (the data doubling while small, then every 100,000 engagements), so that the
/// bench can run ANALYZE there. SQLite loads go in one piece.
fn analyze_points(backend: Backend, range: std::ops::Range<u64>) -> Vec<std::ops::Range<u64>> {
    if backend != Backend::Postgres {
        return vec![range];
    }
    let mut cuts: Vec<u64> = (10..17).map(|k| 1u64 << k).collect();
    cuts.extend((1..=range.end / 100_000).map(|k| k * 100_000));
    let mut out = Vec::new();
    let mut start = range.start;
    for cut in cuts
        .into_iter()
        .filter(|c| *c > range.start && *c < range.end)
    {
        out.push(start..cut);
        start = cut;
    }
    out.push(start..range.end);
    out
}

#[derive(serde::Deserialize)]
struct Page {
    data: Vec<PageItem>,
    cursor: Option<String>,
}

#[derive(serde::Deserialize)]
struct PageItem {
    id: Uuid,
}

fn floor_figure(m: &Measurement, per_request: f64) -> FloorFigure {
    if m.errors > 0 {
        FloorFigure::Failed(format!(
            "{} errors; first: {}",
            m.errors,
            m.first_error.as_deref().unwrap_or("?")
        ))
    } else {
        FloorFigure::Measured(m.throughput() * per_request)
    }
}

#[allow(clippy::too_many_arguments)]
fn figures(
    m: &Measurement,
    per_request: f64,
    concurrency: usize,
    rate: Option<f64>,
    response_bytes: u64,
    http_floor: FloorFigure,
    storage_floor: FloorFigure,
    response_floor: FloorFigure,
    rss_mib: Option<f64>,
) -> Figures {
    Figures {
        unit: if per_request > 1.0 { "eng/s" } else { "req/s" },
        rate: m.throughput() * per_request,
        p50: m.ms(0.5),
        p90: m.ms(0.9),
        p99: m.ms(0.99),
        max: m.max_ms(),
        errors: m.errors,
        first_error: m.first_error.clone(),
        concurrency,
        open_loop: rate,
        response_bytes,
        http_floor,
        storage_floor,
        response_floor,
        rss_mib,
        server_cpu: m.server_cpu,
        client_cpu: m.client_cpu,
        other_cpu: m.other_cpu,
    }
}
