//! The benchmark's runs: `quick` (every scenario briefly, for CI), `full` (every figure of
//! BENCHMARKS.md), `run` (chosen scenarios on a chosen database) and `load` (data only).
//!
//! Each run prints Markdown; `full` also writes it to a file, with the machine and the date.

use crate::bench::{Session, Settings};
use crate::db::{Backend, Database};
use crate::loader::LoaderKind;
use crate::procfs;
use crate::report::{self, DepthRow, Outcome, Row, count, thousands};
use crate::scenario::{Fixture, Scenario};
use anyhow::bail;
use std::fmt::Write as _;
use std::time::Instant;

/// The order scenarios run in: reads first, so that they see the data set as loaded.
const RUN_ORDER: [Scenario; 9] = [
    Scenario::GetById,
    Scenario::ListFirstPage,
    Scenario::ListDeepPage,
    Scenario::UnifiedFilteredList,
    Scenario::V2FilteredList,
    Scenario::StreamExport,
    Scenario::SyncSingle,
    Scenario::SyncBatch,
    Scenario::Mixed,
];

fn display_order(rows: &mut [Row]) {
    let rank = |name: &str| {
        Scenario::ALL
            .iter()
            .position(|s| s.name() == name)
            .unwrap_or(usize::MAX)
    };
    rows.sort_by_key(|r| (r.backend != "SQLite", r.stored, rank(&r.scenario)));
}

/// Runs `scenarios` on a session whose data set is in place.
async fn measure_all(
    session: &mut Session,
    scenarios: &[Scenario],
    depths: &[u64],
) -> anyhow::Result<(Vec<Row>, Vec<DepthRow>, Fixture)> {
    let (fixture, cursors) = session.fixture(depths).await?;
    let mut rows = Vec::new();
    for s in RUN_ORDER.iter().filter(|s| scenarios.contains(s)) {
        rows.push(session.measure(*s, &fixture).await);
    }
    let depth_rows = if depths.is_empty() {
        vec![]
    } else {
        session.depth_series(fixture.loaded, cursors).await?
    };
    Ok((rows, depth_rows, fixture))
}

pub struct QuickOptions {
    pub engagements: u64,
    pub postgres_url: Option<String>,
}

/// Every scenario briefly on a temporary SQLite database (and a fresh PostgreSQL database
/// when a URL is given). Fails only when a scenario errors; asserts no figure.
pub async fn quick(settings: Settings, o: QuickOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut targets = vec![Backend::Sqlite];
    match &o.postgres_url {
        Some(_) => targets.push(Backend::Postgres),
        None => notes.push(
            "PostgreSQL skipped: set LIAISON_TEST_POSTGRES_URL (or --postgres-url) to run it"
                .to_owned(),
        ),
    }
    for backend in targets {
        let db = match (backend, &o.postgres_url) {
            (Backend::Postgres, Some(url)) => Database::fresh_postgres(url, false).await?,
            _ => Database::temp_sqlite(None)?,
        };
        let mut session = Session::open(db, settings.clone()).await?;
        session.load_to(o.engagements, LoaderKind::Http).await?;
        let (mut r, _, fixture) = measure_all(&mut session, &Scenario::ALL, &[]).await?;
        // One open-loop pass too, so that mode keeps working.
        r.push(
            session
                .measure_open(Scenario::GetById, &fixture, 500.0)
                .await,
        );
        rows.extend(r);
        session.close().await?;
    }
    display_order(&mut rows);
    println!("{}", report::table(&rows));
    for n in &notes {
        println!("{n}");
    }
    println!(
        "quick mode: {} engagements per backend, {:?} per scenario, finished in {:.1} s",
        o.engagements,
        settings.duration,
        started.elapsed().as_secs_f64()
    );
    println!(
        "Liaison built from {}; {}.",
        procfs::built_from(),
        procfs::machine()
    );
    let failures = report::failures(&rows);
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("FAILED {f}");
        }
        bail!("{} scenario(s) failed", failures.len());
    }
    Ok(())
}

pub struct FullOptions {
    pub postgres_url: Option<String>,
    pub sizes: Vec<u64>,
    pub postgres_sizes: Vec<u64>,
    pub main_size: u64,
    pub postgres_main_size: u64,
    pub loader: LoaderKind,
    pub data_dir: Option<std::path::PathBuf>,
    pub out: std::path::PathBuf,
    pub skip_sqlite: bool,
    pub command: String,
}

/// A load's figures, for the report.
struct LoadRow {
    backend: &'static str,
    from: u64,
    to: u64,
    rate: f64,
    loader: LoaderKind,
}

/// The figures of a `full` run so far. The report is rewritten after every data-set size, so
/// a run stopped part way keeps what it measured.
struct FullReport {
    started: Instant,
    date: String,
    rows: Vec<Row>,
    open_rows: Vec<Row>,
    depth_rows: Vec<DepthRow>,
    loads: Vec<LoadRow>,
    sizes_seen: Vec<(&'static str, u64, Option<u64>)>,
    notes: Vec<String>,
}

impl FullReport {
    fn new() -> FullReport {
        FullReport {
            started: Instant::now(),
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            rows: Vec::new(),
            open_rows: Vec::new(),
            depth_rows: Vec::new(),
            loads: Vec::new(),
            sizes_seen: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The report as Markdown; `finished` is false while the run goes on.
    fn markdown(&self, settings: &Settings, command: &str, finished: bool) -> String {
        let mut rows = self.rows.clone();
        display_order(&mut rows);
        let mut md = String::new();
        if !finished {
            md.push_str("**Partial report: the run had not finished when this was written.**\n\n");
        }
        let _ = writeln!(md, "Run on {}: {}.", self.date, procfs::machine());
        let _ = writeln!(md, "Command: `{command}`");
        let _ = writeln!(md, "Liaison: built from {}.", procfs::built_from());
        let _ = writeln!(
            md,
            "Settings: {}s measured after {}s warm-up per scenario ({}s per floor), {} connections \
             ({} for batches of {}), mix {}, seed {}, {} organization(s); total wall time {:.0} s.\n",
            settings.duration.as_secs_f64(),
            settings.warmup.as_secs_f64(),
            settings.floor_duration.as_secs_f64(),
            settings.concurrency,
            settings.batch_concurrency,
            settings.batch_size,
            settings.mix,
            settings.seed,
            settings.orgs,
            self.started.elapsed().as_secs_f64()
        );
        md.push_str("### Scenarios\n\n");
        md.push_str(&report::table(&rows));
        md.push_str("\n### Growth\n\n");
        md.push_str(&report::growth_table(&rows, &self.sizes_seen));
        md.push_str("\n### Page depth (GET /v1/integrations/engagements?limit=100&cursor=…)\n\n");
        md.push_str(&report::depth_table(&self.depth_rows));
        md.push_str("\n### Open loop at half the closed-loop throughput\n\n");
        md.push_str(&report::table(&self.open_rows));
        md.push_str("\n### Loading\n\n| backend | loader | from | to | engagements/s |\n");
        md.push_str("|---|---|---:|---:|---:|\n");
        for l in &self.loads {
            let _ = writeln!(
                md,
                "| {} | {:?} | {} | {} | {} |",
                l.backend,
                l.loader,
                count(l.from),
                count(l.to),
                thousands(l.rate)
            );
        }
        md.push_str(
            "\nCPU is in percent of one core over the measured window: the Liaison server child, \
             this process (load generator; storage floor included when it runs), and everything \
             else on the machine (on PostgreSQL that includes the PostgreSQL server itself).\n",
        );
        for n in &self.notes {
            let _ = writeln!(md, "\n{n}");
        }
        md
    }
}

/// Every figure of BENCHMARKS.md: per backend, the data set grown through `sizes`; reads at
/// each size; every scenario, the page-depth series and open-loop latencies at the main size.
pub async fn full(settings: Settings, o: FullOptions) -> anyhow::Result<()> {
    let mut figures = FullReport::new();
    let mut backends = Vec::new();
    if !o.skip_sqlite {
        backends.push((Backend::Sqlite, o.sizes.clone(), o.main_size));
    }
    match &o.postgres_url {
        Some(_) => backends.push((
            Backend::Postgres,
            o.postgres_sizes.clone(),
            o.postgres_main_size,
        )),
        None => figures
            .notes
            .push("PostgreSQL not run: no --postgres-url given.".to_owned()),
    }
    for (backend, mut sizes, main_size) in backends {
        sizes.sort();
        sizes.dedup();
        let db = match (backend, &o.postgres_url) {
            (Backend::Postgres, Some(url)) => Database::fresh_postgres(url, false).await?,
            _ => Database::temp_sqlite(o.data_dir.as_deref())?,
        };
        let mut session = Session::open(db, settings.clone()).await?;
        for &size in &sizes {
            let before = session.raw.loaded(session.main()).await?;
            if let Some(stats) = session.load_to(size, o.loader).await? {
                figures.loads.push(LoadRow {
                    backend: session.backend(),
                    from: before,
                    to: size,
                    rate: stats.rate(),
                    loader: o.loader,
                });
            }
            let is_main = size == main_size;
            let scenarios: Vec<Scenario> = if is_main {
                Scenario::ALL.to_vec()
            } else {
                vec![
                    Scenario::GetById,
                    Scenario::ListFirstPage,
                    Scenario::ListDeepPage,
                ]
            };
            // Page depths as fractions of the data set, whole pages of 1,000.
            let mut depths: Vec<u64> = [0.001, 0.01, 0.1, 0.5, 0.9]
                .iter()
                .map(|f| ((size as f64 * f) as u64).min(settings.max_depth) / 1000 * 1000)
                .filter(|d| *d > 0)
                .collect();
            depths.dedup();
            let (r, d, fixture) = measure_all(&mut session, &scenarios, &depths).await?;
            if is_main {
                for s in [
                    Scenario::SyncSingle,
                    Scenario::GetById,
                    Scenario::ListFirstPage,
                ] {
                    // Half the closed-loop throughput: a load the server sustains, where the
                    // latencies show service time rather than queueing.
                    let closed = r.iter().find_map(|row| match &row.outcome {
                        Outcome::Measured(f) if row.scenario == s.name() => Some(f.rate),
                        _ => None,
                    });
                    if let Some(rate) = closed.filter(|r| *r > 1.0) {
                        figures
                            .open_rows
                            .push(session.measure_open(s, &fixture, rate / 2.0).await);
                    }
                }
            }
            figures.rows.extend(r);
            figures.depth_rows.extend(d);
            figures
                .sizes_seen
                .push((session.backend(), size, session.size_bytes().await));
            std::fs::write(&o.out, figures.markdown(&settings, &o.command, false))?;
            eprintln!("partial report written to {}", o.out.display());
        }
        session.close().await?;
    }

    let md = figures.markdown(&settings, &o.command, true);
    println!("{md}");
    std::fs::write(&o.out, &md)?;
    eprintln!("written to {}", o.out.display());
    let failures = report::failures(&figures.rows);
    if !failures.is_empty() {
        bail!(
            "{} scenario(s) failed: {}",
            failures.len(),
            failures.join("; ")
        );
    }
    Ok(())
}

pub struct RunOptions {
    pub database_url: Option<String>,
    pub engagements: u64,
    pub scenarios: Vec<Scenario>,
    pub loader: LoaderKind,
}

/// Chosen scenarios on a chosen database (a temporary SQLite one by default), loading it up
/// to the asked size first.
pub async fn run(settings: Settings, o: RunOptions) -> anyhow::Result<()> {
    let db = match &o.database_url {
        Some(url) => Database::existing(url)?,
        None => Database::temp_sqlite(None)?,
    };
    let mut session = Session::open(db, settings).await?;
    session.load_to(o.engagements, o.loader).await?;
    let scenarios = if o.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        o.scenarios.clone()
    };
    let (mut rows, _, _) = measure_all(&mut session, &scenarios, &[]).await?;
    session.close().await?;
    display_order(&mut rows);
    println!("{}", report::table(&rows));
    let failures = report::failures(&rows);
    if !failures.is_empty() {
        bail!(
            "{} scenario(s) failed: {}",
            failures.len(),
            failures.join("; ")
        );
    }
    Ok(())
}

/// Loads a data set and exits (to prepare a database once and measure it many times).
pub async fn load(
    settings: Settings,
    url: &str,
    engagements: u64,
    loader: LoaderKind,
) -> anyhow::Result<()> {
    let db = Database::existing(url)?;
    let mut session = Session::open(db, settings).await?;
    match session.load_to(engagements, loader).await? {
        Some(stats) => println!(
            "loaded {} engagements in {:.1} s ({:.0}/s)",
            stats.engagements,
            stats.elapsed.as_secs_f64(),
            stats.rate()
        ),
        None => println!("already loaded: {engagements} engagements"),
    }
    session.close().await?;
    Ok(())
}
