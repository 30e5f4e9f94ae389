//! What the rate limiter and the metrics layer cost. Over HTTP their cost is smaller than what
//! a shared machine's noise moves from one run to the next, so this measures it where little
//! else varies: in one process, with no HTTP, the same GETs by id go through the application
//! as shipped and through the same application without the limiter, its `RateLimit-*`
//! headers and the metrics layer, in alternating rounds over one database. The process's CPU
//! time per request of each is compared. Without the HTTP server's own work in the baseline,
//! the share found is an upper bound on the share of a served request.

use crate::data::Generator;
use crate::loader::batches;
use crate::render;
use crate::scenario::LIST_PATH;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cpu_time::ProcessTime;
use liaison_api::Layers;
use liaison_domain::scope::Scope;
use liaison_engine::{Engine, Expand};
use liaison_store::Store;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// What one `layers` run does.
pub struct Plan {
    /// `sqlite:<file>` or `postgres://…`; a temporary SQLite file when none is named.
    pub database_url: Option<String>,
    pub engagements: u64,
    pub rounds: u32,
    pub requests: u32,
    /// Only the variant of this number (0: as shipped, 1: without metrics, 2: without the
    /// limiter, 3: without either), for a run under an instruction counter such as callgrind.
    pub only: Option<usize>,
}

/// Requests sent before each measured round, not counted.
const WARMUP: u32 = 200;

pub fn run(plan: Plan) -> anyhow::Result<()> {
    anyhow::ensure!(plan.engagements > 0, "--engagements must be at least 1");
    anyhow::ensure!(
        plan.rounds > 0 && plan.requests > 0,
        "--rounds and --requests must be at least 1"
    );
    let dir = tempfile::Builder::new()
        .prefix("liaison-bench-layers-")
        .tempdir()?;
    let url = plan
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", dir.path().join("layers.db").display()));
    // One worker, as a busy server's request has one core's worth of it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        liaison::with_store!(&url, |store| {
            let result = measure(&store, &plan).await;
            store.close().await;
            result
        })
    })
}

struct Variant {
    name: &'static str,
    app: Router,
    /// Per round: CPU time and wall time per request.
    cpu: Vec<Duration>,
    wall: Vec<Duration>,
}

async fn measure<S: Store>(store: &S, plan: &Plan) -> anyhow::Result<()> {
    let shipped = Arc::new(
        Engine::new(store.clone())
            .await?
            .with_rate_limit(NonZeroU32::new(u32::MAX)),
    );
    let bare = Arc::new(Engine::new(store.clone()).await?.with_rate_limit(None));
    let token = shipped
        .create_token("layers", "crm", "bench", Scope::all(), None)
        .await?
        .secret;
    let caller = shipped.authenticate(&token).await?;
    let generator = Generator::new(42);
    let mut ids = Vec::with_capacity(plan.engagements as usize);
    for batch in batches(0..plan.engagements, 500) {
        let items = batch
            .map(|i| render::engagement_in(&generator.engagement(i)))
            .collect();
        let views = shipped
            .sync_engagements(&caller, items, Expand::NONE)
            .await?;
        ids.extend(views.iter().map(|v| v.record.id.uuid()));
    }
    let limited = |on: bool| if on { shipped.clone() } else { bare.clone() };
    let variant = |name, limiter: bool, metrics: bool| Variant {
        name,
        app: liaison_api::app_with(
            limited(limiter),
            Layers {
                metrics,
                rate_headers: limiter,
            },
        ),
        cpu: vec![],
        wall: vec![],
    };
    let mut variants: Vec<Variant> = [
        variant("as shipped", true, true),
        variant("without the metrics layer", true, false),
        variant("without the limiter and its headers", false, true),
        variant("without either", false, false),
    ]
    .into_iter()
    .enumerate()
    .filter(|(i, _)| plan.only.is_none_or(|only| only == *i))
    .map(|(_, v)| v)
    .collect();
    anyhow::ensure!(!variants.is_empty(), "--only takes 0 to 3");
    let send = |app: Router, id: uuid::Uuid| {
        let token = token.clone();
        async move {
            let req = Request::get(format!("{LIST_PATH}/{id}"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())?;
            let response = app.oneshot(req).await?;
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
            anyhow::ensure!(
                status == StatusCode::OK,
                "GET by id answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
            Ok::<(), anyhow::Error>(())
        }
    };
    for round in 0..plan.rounds {
        // Each round sends the same ids to every variant, in an order that turns each round.
        let n = variants.len();
        for k in 0..n {
            let v = (k + round as usize) % n;
            let variant = &mut variants[v];
            let mut rng = SmallRng::seed_from_u64(u64::from(round));
            for _ in 0..WARMUP {
                send(variant.app.clone(), ids[rng.random_range(0..ids.len())]).await?;
            }
            let (cpu0, wall0) = (ProcessTime::try_now()?, Instant::now());
            for _ in 0..plan.requests {
                send(variant.app.clone(), ids[rng.random_range(0..ids.len())]).await?;
            }
            let (cpu, wall) = (cpu0.try_elapsed()?, wall0.elapsed());
            variant.cpu.push(cpu / plan.requests);
            variant.wall.push(wall / plan.requests);
        }
        let each: Vec<String> = variants
            .iter()
            .map(|v| format!("{:.1}", micros(v.cpu[round as usize])))
            .collect();
        eprintln!(
            "round {}/{}: {} µs of CPU per request",
            round + 1,
            plan.rounds,
            each.join(", ")
        );
    }
    report(&variants, plan, store.backend_name());
    Ok(())
}

fn report(variants: &[Variant], plan: &Plan, backend: &str) {
    println!(
        "GET by id, in process, {backend}, {} engagements, {} rounds of {} requests each\n",
        plan.engagements, plan.rounds, plan.requests
    );
    println!(
        "| application | CPU µs/request, median (min–max) | wall µs/request, median | \
         what it leaves out costs, of a request as shipped: median of the rounds (min–max) |"
    );
    println!("|---|---:|---:|---:|");
    let shipped = &variants[0];
    for v in variants {
        let (lo, hi) = (
            v.cpu.iter().min().copied().unwrap_or_default(),
            v.cpu.iter().max().copied().unwrap_or_default(),
        );
        // Rounds are paired: each share compares two runs of the same ids, side by side.
        let mut shares: Vec<f64> = shipped
            .cpu
            .iter()
            .zip(&v.cpu)
            .map(|(with, without)| (micros(*with) - micros(*without)) / micros(*with))
            .collect();
        shares.sort_by(f64::total_cmp);
        let share = if std::ptr::eq(v, shipped) {
            "–".to_owned()
        } else {
            format!(
                "{:.1}% ({:.1}% to {:.1}%)",
                100.0 * shares[shares.len() / 2],
                100.0 * shares[0],
                100.0 * shares[shares.len() - 1]
            )
        };
        println!(
            "| {} | {:.1} ({:.1}–{:.1}) | {:.1} | {share} |",
            v.name,
            micros(median(&v.cpu)),
            micros(lo),
            micros(hi),
            micros(median(&v.wall)),
        );
    }
}

fn median(values: &[Duration]) -> Duration {
    let mut v = values.to_vec();
    v.sort();
    v[v.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
