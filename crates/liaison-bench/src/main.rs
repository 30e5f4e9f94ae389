//! `liaison-bench`: Liaison's benchmark. A data generator, a load generator, and for every
//! figure the floors it is compared with (a bare HTTP server, and raw SQL on the same rows).
//!
//! The measured servers run as child processes of this same binary (hidden subcommands), so
//! that their memory and CPU are their own; everything else runs in this process.

mod bench;
mod child;
mod data;
mod db;
mod floor;
mod layers;
mod load;
mod loader;
mod match_recording;
mod matching;
mod plans;
mod procfs;
mod render;
mod report;
mod scenario;

use bench::Settings;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use loader::LoaderKind;
use scenario::{Mix, Scenario};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "liaison-bench",
    version,
    about = "Liaison's benchmark: data generator, load generator, HTTP and storage floors",
    long_about = "Liaison's benchmark: data generator, load generator, HTTP and storage floors.\n\n\
        Every figure is measured against a real Liaison server running in a child process (its \
        peak RSS and CPU are read from /proc), and is reported beside two floors measured in the \
        same run: the HTTP floor (a bare axum server answering a fixed body of the same size, \
        same process model, same load generator and concurrency) and the storage floor (raw \
        SQL writing and reading the same rows: rusqlite on SQLite, sqlx on PostgreSQL, as \
        Liaison's backends). Ratios are figure ÷ floor.\n\n\
        Build and run in release mode: cargo run --release -p liaison-bench -- <command>"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every scenario briefly on a temporary SQLite database (and on a fresh PostgreSQL
    /// database when LIAISON_TEST_POSTGRES_URL is set); prints the table. For CI: fails only
    /// when a scenario errors (non-2xx answers, lost connections), never on a figure.
    Quick {
        #[command(flatten)]
        opts: Opts,
        /// Engagements loaded per backend.
        #[arg(long, default_value_t = 2_000)]
        engagements: u64,
        /// PostgreSQL server to create (and drop) a liaison_bench_<uuid> database on.
        #[arg(long, env = "LIAISON_TEST_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// Every figure in BENCHMARKS.md: per backend, the data set grown through --sizes with
    /// the reads measured at each size; at --main-size every scenario, the page-depth series
    /// and open-loop latencies. Writes the Markdown to --out as well.
    Full {
        #[command(flatten)]
        opts: Opts,
        /// PostgreSQL server to create (and drop) a liaison_bench_<uuid> database on; without
        /// it only SQLite is measured.
        #[arg(long, env = "LIAISON_TEST_POSTGRES_URL")]
        postgres_url: Option<String>,
        /// Data-set sizes (engagements) for SQLite, smallest first.
        #[arg(long, value_delimiter = ',', default_value = "100000,1000000,10000000")]
        sizes: Vec<u64>,
        /// Data-set sizes for PostgreSQL.
        #[arg(long, value_delimiter = ',', default_value = "100000,1000000,10000000")]
        postgres_sizes: Vec<u64>,
        /// The size at which every scenario is measured.
        #[arg(long, default_value_t = 1_000_000)]
        main_size: u64,
        /// The size at which every scenario is measured on PostgreSQL (default: --main-size).
        #[arg(long)]
        postgres_main_size: Option<u64>,
        /// How the data set is loaded.
        #[arg(long, value_enum, default_value_t = LoaderKind::Engine)]
        loader: LoaderKind,
        /// Directory for the temporary SQLite database (it needs several GiB at 10M).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Skip SQLite (measure PostgreSQL only).
        #[arg(long)]
        skip_sqlite: bool,
        /// Where the Markdown report is written.
        #[arg(long, default_value = "liaison-bench-results.md")]
        out: PathBuf,
    },
    /// Chosen scenarios on a chosen database, loaded up to --engagements first.
    Run {
        #[command(flatten)]
        opts: Opts,
        /// `sqlite:<file>` or `postgres://…/<db>`; kept afterwards. Default: a temporary
        /// SQLite database.
        #[arg(long)]
        database_url: Option<String>,
        /// Engagements of the data set (loaded if the database holds fewer).
        #[arg(long, default_value_t = 100_000)]
        engagements: u64,
        /// Scenarios to run, comma-separated (default: all).
        #[arg(long, value_enum, value_delimiter = ',')]
        scenarios: Vec<Scenario>,
        #[arg(long, value_enum, default_value_t = LoaderKind::Engine)]
        loader: LoaderKind,
    },
    /// Loads (or grows) a data set and exits.
    Load {
        #[command(flatten)]
        opts: Opts,
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        engagements: u64,
        #[arg(long, value_enum, default_value_t = LoaderKind::Engine)]
        loader: LoaderKind,
    },
    /// How well recordings are linked to their engagements: a seeded mix of reps' days and the
    /// recordings made at them (with the engagement each truly belongs to, and noise: early,
    /// late, back to back, second reps, moved appointments, missing locations, recordings of no
    /// appointment), decided by the matching rule; prints precision and recall.
    Matching {
        /// Users: nine in ten are reps with a working day of appointments each day, one in ten
        /// managers who ride along on others' appointments.
        #[arg(long, default_value_t = 500)]
        reps: u32,
        /// Working days generated.
        #[arg(long, default_value_t = 20)]
        days: u32,
        /// Seed of the mix: the same seed gives the same recordings and engagements.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// What linking a recording costs against many engagements: engagements loaded in process
    /// (each given one of --reps reps), a workspace user per rep, then recordings created one
    /// by one at appointments of theirs, each timed when matched, when there is nothing to
    /// find (the floor: the same writes), and when only decided again (`/match`).
    MatchRecording {
        /// Engagements loaded first.
        #[arg(long, default_value_t = 100_000)]
        engagements: u64,
        /// Reps the engagements are spread over.
        #[arg(long, default_value_t = 1_000)]
        reps: u64,
        /// Recordings made and timed.
        #[arg(long, default_value_t = 2_000)]
        recordings: u64,
        /// An empty database to fill (`sqlite:…` or `postgres://…`); a temporary SQLite file
        /// by default.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// What the rate limiter and the metrics layer cost: GETs by id sent in process, with no
    /// HTTP, through the application as shipped and through it without one or both of them,
    /// in alternating rounds over one database; prints each one's CPU time per request.
    Layers {
        /// `sqlite:<file>` or `postgres://…/<db>` (a temporary SQLite file by default).
        #[arg(long)]
        database_url: Option<String>,
        /// Engagements synced first (the GETs pick among them).
        #[arg(long, default_value_t = 5_000)]
        engagements: u64,
        /// Rounds; each measures every application, in an order that turns each round.
        #[arg(long, default_value_t = 10)]
        rounds: u32,
        /// Requests measured per application per round.
        #[arg(long, default_value_t = 5_000)]
        requests: u32,
        /// Only one application (0: as shipped, 1: without metrics, 2: without the limiter,
        /// 3: without either), e.g. under `valgrind --tool=callgrind` to count instructions.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=3))]
        only: Option<u8>,
    },
    /// (internal) Runs the Liaison server on an existing database; prints its address.
    #[command(hide = true)]
    ServeLiaison {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
    /// (internal) Runs the response floor server on an existing database; prints its address.
    #[command(hide = true)]
    ServeResponseFloor {
        #[arg(long)]
        database_url: String,
        /// The organization read.
        #[arg(long)]
        org: uuid::Uuid,
        /// The id a list page starts after (the first page without it).
        #[arg(long)]
        after: Option<uuid::Uuid>,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
    /// (internal) Runs the HTTP floor server; prints its address.
    #[command(hide = true)]
    ServeFloor {
        #[arg(long)]
        body_size: usize,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
}

/// Options every measuring command takes. Durations default per command (quick: 0.8 s
/// measured, 0.2 s warm-up, 0.4 s per floor; otherwise 10 s, 2 s and 5 s).
#[derive(Args, Clone)]
struct Opts {
    /// Seconds measured per scenario, after the warm-up.
    #[arg(long)]
    duration: Option<f64>,
    /// Seconds of warm-up per measurement (sent, not recorded).
    #[arg(long)]
    warmup: Option<f64>,
    /// Seconds measured per floor.
    #[arg(long)]
    floor_duration: Option<f64>,
    /// Concurrent connections (closed loop), or connections available to the open loop.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Engagements per batch (sync-batch and loading); Liaison accepts up to 1,000.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=1000))]
    batch_size: u64,
    /// Concurrent connections for sync-batch. Default: 1 for quick, 2 otherwise.
    #[arg(long)]
    batch_concurrency: Option<usize>,
    /// Open loop: requests per second for every scenario, latency counted from each request's
    /// scheduled time (coordinated omission included). Default: closed loop.
    #[arg(long)]
    rate: Option<f64>,
    /// The mixed scenario's request mix, in parts.
    #[arg(long, default_value = "get-by-id=60,list-first-page=20,sync-single=20")]
    mix: Mix,
    /// Seed of the data set (one seed per database: the content of engagement N follows it).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Organizations: the first is measured, the others share a tenth of its data set.
    #[arg(long, default_value_t = 1)]
    orgs: usize,
    /// Worker threads of the load generator (it shares the cores with the server).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Seconds after which a request counts as failed.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Hard cap on requests per measurement.
    #[arg(long, default_value_t = 50_000_000)]
    max_requests: u64,
    /// Distinct write templates (accounts, reps and types the writes spread over).
    #[arg(long)]
    templates: Option<u64>,
    /// Stored engagements sampled for get-by-id.
    #[arg(long)]
    sample_ids: Option<u64>,
    /// Depth of list-deep-page's cursor, as a fraction of the data set.
    #[arg(long, default_value_t = 0.9)]
    deep_fraction: f64,
    /// The deepest list cursor paged to, in engagements (paging costs one request per 1,000).
    #[arg(long, default_value_t = 1_000_000)]
    max_depth: u64,
    /// Before each measurement, wait up to this many seconds for the rest of the machine to go
    /// quiet (other processes under --quiet-threshold percent of a core). Default: 0 for
    /// quick, 180 otherwise.
    #[arg(long)]
    quiet_wait: Option<f64>,
    /// What counts as quiet, in percent of one core used by other processes.
    #[arg(long, default_value_t = 25.0)]
    quiet_threshold: f64,
    /// Where the servers' logs go (default: a temporary directory, removed afterwards).
    #[arg(long)]
    log_dir: Option<PathBuf>,
}

impl Opts {
    fn settings(&self, quick: bool, log_dir: PathBuf) -> Settings {
        let secs = |v: Option<f64>, quick_default: f64, default: f64| {
            Duration::from_secs_f64(
                v.unwrap_or(if quick { quick_default } else { default })
                    .max(0.0),
            )
        };
        Settings {
            warmup: secs(self.warmup, 0.2, 2.0),
            duration: secs(self.duration, 0.8, 10.0),
            floor_duration: secs(self.floor_duration, 0.4, 5.0),
            concurrency: self.concurrency.max(1),
            batch_size: self.batch_size,
            batch_concurrency: self
                .batch_concurrency
                .unwrap_or(if quick { 1 } else { 2 })
                .max(1),
            // A batch takes seconds on a slow backend: in quick mode the first one counts.
            batch_warmup: if quick {
                Duration::ZERO
            } else {
                secs(self.warmup, 0.2, 2.0)
            },
            rate: self.rate.filter(|r| *r > 0.0),
            mix: self.mix,
            seed: self.seed,
            orgs: self.orgs.max(1),
            timeout: Duration::from_secs_f64(self.timeout.max(0.1)),
            max_requests: self.max_requests,
            templates: self
                .templates
                .unwrap_or(if quick { 256 } else { scenario::TEMPLATES }),
            sample_ids: self
                .sample_ids
                .unwrap_or(if quick { 2_000 } else { 100_000 }),
            deep_fraction: self.deep_fraction.clamp(0.0, 1.0),
            floor_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_depth: self.max_depth,
            quiet_wait: secs(self.quiet_wait, 0.0, 180.0),
            quiet_threshold: self.quiet_threshold,
            log_dir,
        }
    }
}

/// The scenario list for `--help`, from the scenarios' own descriptions.
fn scenario_help() -> String {
    let mut out = String::from("Scenarios:\n");
    for s in Scenario::ALL {
        let help = s
            .to_possible_value()
            .and_then(|v| v.get_help().map(|h| h.to_string()))
            .unwrap_or_default();
        out.push_str(&format!("  {:<22} {help}\n", s.name()));
    }
    out.push_str(
        "\nEvery figure in BENCHMARKS.md:\n  cargo run --release -p liaison-bench -- full \
         --postgres-url postgres://postgres@127.0.0.1:5432/postgres\n",
    );
    out
}

fn main() -> anyhow::Result<()> {
    let help = scenario_help();
    let matches = Cli::command()
        .after_help(help.clone())
        .mut_subcommand("run", |c| c.after_help(help.clone()))
        .mut_subcommand("quick", |c| c.after_help(help.clone()))
        .mut_subcommand("full", |c| c.after_help(help.clone()))
        .get_matches();
    let cli = Cli::from_arg_matches(&matches)?;
    let opts = match &cli.command {
        Command::ServeLiaison {
            database_url,
            listen,
        } => return child::serve_liaison(database_url, listen),
        Command::ServeFloor { body_size, listen } => return child::serve_floor(*body_size, listen),
        Command::Layers {
            database_url,
            engagements,
            rounds,
            requests,
            only,
        } => {
            return layers::run(layers::Plan {
                database_url: database_url.clone(),
                engagements: *engagements,
                rounds: *rounds,
                requests: *requests,
                only: only.map(usize::from),
            });
        }
        Command::MatchRecording {
            engagements,
            reps,
            recordings,
            database_url,
            seed,
        } => {
            if let Some(url) = database_url {
                db::check_url(url)?;
            }
            let plan = match_recording::Plan {
                engagements: *engagements,
                reps: *reps,
                recordings: *recordings,
                database_url: database_url.clone(),
                seed: *seed,
            };
            return tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(match_recording::run(plan));
        }
        Command::Matching { reps, days, seed } => {
            return matching::run(matching::Plan {
                reps: *reps,
                days: *days,
                seed: *seed,
            });
        }
        Command::ServeResponseFloor {
            database_url,
            org,
            after,
            listen,
        } => return child::serve_response_floor(database_url, *org, *after, listen),
        Command::Quick { opts, .. }
        | Command::Full { opts, .. }
        | Command::Run { opts, .. }
        | Command::Load { opts, .. } => opts.clone(),
    };
    // Logs live as long as the run; a directory the user names is kept.
    let temp_logs = match &opts.log_dir {
        Some(_) => None,
        None => Some(
            tempfile::Builder::new()
                .prefix("liaison-bench-logs-")
                .tempdir()?,
        ),
    };
    let log_dir = match (&opts.log_dir, &temp_logs) {
        (Some(d), _) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        (None, Some(t)) => t.path().to_owned(),
        (None, None) => unreachable!("a temporary directory is made when none is named"),
    };
    // The load generator's runtime is small on purpose: the server child needs the cores.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.client_threads.max(1))
        .enable_all()
        .build()?;
    let command_line = format!(
        "cargo run --release -p liaison-bench -- {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    );
    let run = async move {
        match cli.command {
            Command::Quick {
                opts,
                engagements,
                postgres_url,
            } => {
                plans::quick(
                    opts.settings(true, log_dir),
                    plans::QuickOptions {
                        engagements,
                        postgres_url,
                    },
                )
                .await
            }
            Command::Full {
                opts,
                postgres_url,
                sizes,
                postgres_sizes,
                main_size,
                postgres_main_size,
                loader,
                data_dir,
                skip_sqlite,
                out,
            } => {
                plans::full(
                    opts.settings(false, log_dir),
                    plans::FullOptions {
                        postgres_url,
                        sizes,
                        postgres_sizes,
                        main_size,
                        postgres_main_size: postgres_main_size.unwrap_or(main_size),
                        loader,
                        data_dir,
                        out,
                        skip_sqlite,
                        command: command_line,
                    },
                )
                .await
            }
            Command::Run {
                opts,
                database_url,
                engagements,
                scenarios,
                loader,
            } => {
                if let Some(url) = &database_url {
                    db::check_url(url)?;
                }
                plans::run(
                    opts.settings(false, log_dir),
                    plans::RunOptions {
                        database_url,
                        engagements,
                        scenarios,
                        loader,
                    },
                )
                .await
            }
            Command::Load {
                opts,
                database_url,
                engagements,
                loader,
            } => {
                db::check_url(&database_url)?;
                plans::load(
                    opts.settings(false, log_dir),
                    &database_url,
                    engagements,
                    loader,
                )
                .await
            }
            Command::ServeLiaison { .. }
            | Command::ServeFloor { .. }
            | Command::ServeResponseFloor { .. }
            | Command::Layers { .. }
            | Command::Matching { .. }
            | Command::MatchRecording { .. } => {
                unreachable!("handled before the runtime starts")
            }
        }
    };
    runtime.block_on(async move {
        // SIGINT or SIGTERM drops the run, and with it every child server and every database
        // it made.
        tokio::select! {
            result = run => result,
            _ = liaison::shutdown_signal() => Err(anyhow::anyhow!("interrupted")),
        }
    })
}
