//! What linking a recording costs against a store of many engagements: engagements loaded
//! through the engine in process (the data set's, each given one of `reps` reps, so that a
//! rep's history is `engagements / reps` long), a workspace user per rep, then recordings
//! created one after another at appointments of theirs. Each is timed three ways: created and
//! matched (the rep's appointments near it found, scored and linked), created by a user with
//! no engagements at all (the same writes with nothing to find: the floor), and its decision
//! made again alone (`/match`, reads only).

use crate::data::Generator;
use crate::load::new_histogram;
use crate::loader::batches;
use crate::render;
use crate::report::{count, thousands};
use chrono::TimeDelta;
use hdrhistogram::Histogram;
use liaison_domain::model::{RecordingIn, UserIn};
use liaison_domain::scope::Scope;
use liaison_domain::{RecordId, RecordingId, UserId};
use liaison_engine::{Caller, Engine, Expand, RecordRef};
use liaison_store::Store;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

pub struct Plan {
    pub engagements: u64,
    pub reps: u64,
    pub recordings: u64,
    /// A database to fill (it must hold no organization `bench`); a temporary SQLite file
    /// when `None`.
    pub database_url: Option<String>,
    pub seed: u64,
}

/// Engagements synced per batch while loading.
const BATCH: u64 = 500;

/// The rep engagement `index` is given: spread evenly, not in runs.
fn rep_of(index: u64, reps: u64) -> u64 {
    index.wrapping_mul(2_654_435_761) % reps
}

pub async fn run(plan: Plan) -> anyhow::Result<()> {
    anyhow::ensure!(plan.reps > 0, "--reps must be at least 1");
    anyhow::ensure!(plan.engagements > 0, "--engagements must be at least 1");
    let temp = std::env::temp_dir().join(format!(
        "liaison-match-{}.db",
        uuid::Uuid::now_v7().simple()
    ));
    let url = plan
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", temp.display()));
    let result = liaison::with_store!(&url, |store| {
        let outcome = measure(store.clone(), &plan, &url).await;
        store.close().await;
        outcome
    });
    if plan.database_url.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
        }
    }
    result
}

struct Times {
    matched: Histogram<u64>,
    floor: Histogram<u64>,
    explain: Histogram<u64>,
}

fn micros(since: Instant) -> u64 {
    since.elapsed().as_micros().max(1) as u64
}

async fn measure<S: Store>(store: S, plan: &Plan, url: &str) -> anyhow::Result<()> {
    let engine = Engine::new(store).await?.with_rate_limit(None);
    let token = engine
        .create_token("bench", "crm", "match-recording", Scope::all(), None)
        .await?
        .secret;
    let caller = engine.authenticate(&token).await?;
    let generator = Generator::new(plan.seed);

    let started = Instant::now();
    for b in batches(0..plan.engagements, BATCH) {
        let items = b
            .map(|i| {
                let mut e = generator.engagement(i);
                e.rep = generator.rep(rep_of(i, plan.reps));
                render::engagement_in(&e)
            })
            .collect();
        engine
            .sync_engagements(&caller, items, Expand::NONE)
            .await?;
    }
    let load_secs = started.elapsed().as_secs_f64();
    let users = users(&engine, &caller, &generator, plan.reps).await?;
    let nobody = user(&engine, &caller, "nobody@bench.example.com").await?;

    let mut rng = SmallRng::seed_from_u64(plan.seed);
    let mut times = Times {
        matched: new_histogram(),
        floor: new_histogram(),
        explain: new_histogram(),
    };
    let (mut rightly, mut made, mut drawn) = (0u64, 0u64, 0u64);
    while made < plan.recordings {
        drawn += 1;
        anyhow::ensure!(
            drawn <= plan.recordings.saturating_mul(100).max(10_000),
            "the data set has too few appointments to record at"
        );
        let i = rng.random_range(0..plan.engagements);
        let e = generator.engagement(i);
        if !matches!(
            e.engagement_type.activity_type,
            "MEETING" | "APPOINTMENT" | "EVENT"
        ) {
            continue;
        }
        made += 1;
        let length = (e.end - e.start - TimeDelta::minutes(5)).max(TimeDelta::minutes(1));
        let recording = |user: UserId| RecordingIn {
            id: RecordingId::new(),
            user: Some(user),
            title: None,
            date_created: e.start + TimeDelta::minutes(2),
            duration_ms: Some(length.num_milliseconds()),
            latitude: None,
            longitude: None,
            deep_link: None,
            engagement: None,
            opportunity: None,
            crm_objects: Vec::new(),
            transcript: None,
            details: Default::default(),
        };
        let at = Instant::now();
        let linked = engine
            .create_recording(&caller, recording(users[rep_of(i, plan.reps) as usize]))
            .await?;
        times.matched.record(micros(at))?;
        let at = Instant::now();
        engine.explain_recording(&caller, linked.id).await?;
        times.explain.record(micros(at))?;
        let at = Instant::now();
        engine.create_recording(&caller, recording(nobody)).await?;
        times.floor.record(micros(at))?;
        if linked.links.engagement == Some(engagement_id(&engine, &caller, &e.external_id).await?) {
            rightly += 1;
        }
    }
    report(plan, url, load_secs, &times, rightly, made);
    Ok(())
}

async fn user<S: Store>(
    engine: &Engine<S>,
    caller: &Caller,
    email: &str,
) -> anyhow::Result<UserId> {
    let input = UserIn {
        email: email.to_owned(),
        organization_id: caller.org.to_string(),
        phone_number: None,
        first_name: None,
        last_name: None,
        member_team_id: None,
        external_id: None,
        coach_team_ids: Vec::new(),
        is_admin: false,
        billable: None,
        contact_settings: None,
    };
    Ok(engine.create_user(caller, input).await?.id)
}

/// A workspace user per rep, by the rep's email, so that rep linking joins the two.
async fn users<S: Store>(
    engine: &Engine<S>,
    caller: &Caller,
    generator: &Generator,
    reps: u64,
) -> anyhow::Result<Vec<UserId>> {
    let mut out = Vec::with_capacity(reps as usize);
    for r in 0..reps {
        out.push(user(engine, caller, &generator.rep(r).email).await?);
    }
    Ok(out)
}

async fn engagement_id<S: Store>(
    engine: &Engine<S>,
    caller: &Caller,
    external_id: &str,
) -> anyhow::Result<RecordId> {
    let view = engine
        .get_engagement(
            caller,
            &RecordRef::External(external_id.to_owned()),
            Expand::NONE,
        )
        .await?;
    Ok(view.record.id)
}

fn ms(h: &Histogram<u64>, q: f64) -> String {
    format!("{:.3}", h.value_at_quantile(q) as f64 / 1000.0)
}

fn report(plan: &Plan, url: &str, load_secs: f64, t: &Times, rightly: u64, made: u64) {
    let backend = if url.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    println!(
        "{backend}: {} engagements of {} reps ({} each), loaded in {:.0} s ({}/s); {} recordings",
        count(plan.engagements),
        count(plan.reps),
        count(plan.engagements / plan.reps),
        load_secs,
        thousands(plan.engagements as f64 / load_secs),
        count(made),
    );
    println!();
    println!("| one recording | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|");
    for (what, h) in [
        ("created and matched", &t.matched),
        ("created with nothing to find (floor)", &t.floor),
        ("decided again alone (`/match`)", &t.explain),
    ] {
        println!(
            "| {what} | {} | {} | {:.3} |",
            ms(h, 0.5),
            ms(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    println!();
    let added = |q: f64| {
        (t.matched.value_at_quantile(q) as f64 - t.floor.value_at_quantile(q) as f64) / 1000.0
    };
    println!(
        "matching adds {:.3} ms at p50 and {:.3} ms at p99 to a create; {} of {} linked to the \
         appointment they were made at",
        added(0.5),
        added(0.99),
        count(rightly),
        count(made)
    );
}
