//! How well the matching rule links recordings to the engagements they belong to: a seeded mix
//! of reps' working days (appointments, some back to back, some with a second rep, some moved
//! in the CRM after the fact, some without coordinates) and the recordings made at them (early,
//! late, short, without a location, and some of no appointment at all), each with the
//! engagement it truly belongs to. Every recording is decided against its user's engagements
//! and the outcome is scored against the truth: precision and recall, overall and per kind of
//! noise.

use crate::report::thousands;
use chrono::{DateTime, TimeDelta, Utc};
use liaison_domain::matching::{Candidate, GeoPoint, Recording, Settings, Span, Standing, decide};
use liaison_domain::values::ActivityType;
use liaison_domain::{RecordId, UserId};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// What one run generates.
pub struct Plan {
    pub reps: u32,
    pub days: u32,
    pub seed: u64,
}

/// What makes a recording hard, for the breakdown; a recording may be several at once, and
/// is counted under each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Noise {
    BackToBack,
    SecondRep,
    MovedInCrm,
    NoLocation,
    AccountWithoutLocation,
    Instant,
    NoAppointment,
}

impl Noise {
    fn label(self) -> &'static str {
        match self {
            Noise::BackToBack => "next to a back-to-back appointment",
            Noise::SecondRep => "recorded by a second rep",
            Noise::MovedInCrm => "appointment moved in the CRM, not in fact",
            Noise::NoLocation => "recording without a location",
            Noise::AccountWithoutLocation => "account without coordinates",
            Noise::Instant => "recording with no duration",
            Noise::NoAppointment => "recording of no appointment",
        }
    }
}

struct Generated {
    engagements: Vec<Candidate>,
    recordings: Vec<(Recording, Option<RecordId>, Vec<Noise>)>,
}

/// An appointment as it happened, beside what the CRM says of it.
struct Visit {
    id: RecordId,
    actual: Span,
    place: GeoPoint,
    reps: Vec<UserId>,
    noise: Vec<Noise>,
}

fn day_start(day: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(1_772_000_000, 0).expect("a valid instant")
        + TimeDelta::days(i64::from(day))
}

/// A place in the area the accounts are spread over, about 55 by 42 km.
fn somewhere(rng: &mut SmallRng) -> GeoPoint {
    GeoPoint::new(
        40.7 + rng.random_range(-0.25..0.25),
        -74.0 + rng.random_range(-0.25..0.25),
    )
    .expect("in range")
}

fn minutes(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

fn generate(plan: &Plan) -> Generated {
    let mut rng = SmallRng::seed_from_u64(plan.seed);
    let users: Vec<UserId> = (0..plan.reps).map(|_| UserId::new()).collect();
    // One in ten is a manager, who has no appointments of their own and rides along on others'.
    let (managers, sellers) = users.split_at(users.len() / 10);
    let mut riding: HashMap<UserId, Vec<Span>> = HashMap::new();
    let mut engagements = Vec::new();
    let mut visits = Vec::new();
    for day in 0..plan.days {
        for &user in sellers {
            // A working day from about 08:00 to 17:00, a quarter of it back to back.
            let mut t = day_start(day) + minutes(8 * 60 + rng.random_range(0..60));
            let end_of_day = day_start(day) + minutes(17 * 60);
            let mut day_spans = Vec::new();
            while t < end_of_day {
                let length = [45, 60, 90][rng.random_range(0..3)];
                let crm = Span::new(t, t + minutes(length)).expect("a forward span");
                day_spans.push(crm);
                let gap = if rng.random_bool(0.25) {
                    0
                } else {
                    rng.random_range(30..=120)
                };
                t = crm.end() + minutes(gap);
            }
            let mut previous_actual: Option<Span> = None;
            for (i, &crm) in day_spans.iter().enumerate() {
                let mut noise = Vec::new();
                let before = i.checked_sub(1).map(|p| day_spans[p]);
                let after = day_spans.get(i + 1).copied();
                if before.is_some_and(|b| b.end() == crm.start())
                    || after.is_some_and(|a| a.start() == crm.end())
                {
                    noise.push(Noise::BackToBack);
                }
                // One in twenty happens at another time than the CRM says, into time the rep
                // has free (no one is at two visits at once).
                let mut actual = crm;
                if rng.random_bool(0.05) {
                    let shift =
                        rng.random_range(15..=45) * if rng.random_bool(0.5) { 1 } else { -1 };
                    let moved = Span::new(crm.start() + minutes(shift), crm.end() + minutes(shift))
                        .expect("a forward span");
                    let clashes = |o: Option<Span>| {
                        o.is_some_and(|o| o.start() < moved.end() && moved.start() < o.end())
                    };
                    if !clashes(previous_actual) && !clashes(after) {
                        noise.push(Noise::MovedInCrm);
                        actual = moved;
                    }
                }
                previous_actual = Some(actual);
                let mut reps = vec![user];
                if !managers.is_empty() && rng.random_bool(0.1) {
                    let manager = managers[rng.random_range(0..managers.len())];
                    // With an hour to travel between two ride-alongs.
                    let reach = Span::new(actual.start() - minutes(60), actual.end() + minutes(60))
                        .expect("a forward span");
                    let spans = riding.entry(manager).or_default();
                    if !spans.iter().any(|s| s.intersects(&reach)) {
                        spans.push(actual);
                        reps.push(manager);
                    }
                }
                let place = somewhere(&mut rng);
                let account_located = rng.random_bool(0.8);
                if !account_located {
                    noise.push(Noise::AccountWithoutLocation);
                }
                let id = RecordId::new();
                engagements.push(Candidate {
                    engagement: id,
                    activity_type: Some(if rng.random_bool(0.8) {
                        ActivityType::Appointment
                    } else {
                        ActivityType::Meeting
                    }),
                    span: Some(crm),
                    live: true,
                    rep_users: reps.clone(),
                    location: account_located.then_some(place),
                });
                // What else a CRM holds at that time: a cancelled copy, a call logged.
                let appointment = engagements.last().expect("just pushed").clone();
                if rng.random_bool(0.03) {
                    engagements.push(Candidate {
                        engagement: RecordId::new(),
                        live: false,
                        ..appointment.clone()
                    });
                }
                if rng.random_bool(0.03) {
                    engagements.push(Candidate {
                        engagement: RecordId::new(),
                        activity_type: Some(ActivityType::Call),
                        ..appointment
                    });
                }
                visits.push(Visit {
                    id,
                    actual,
                    place,
                    reps,
                    noise,
                });
            }
        }
    }
    let mut recordings = Vec::new();
    for v in &visits {
        for (i, &user) in v.reps.iter().enumerate() {
            // The rep records nine visits in ten; a second rep, three in ten.
            if !rng.random_bool(if i == 0 { 0.9 } else { 0.3 }) {
                continue;
            }
            let mut noise = v.noise.clone();
            if i > 0 {
                noise.push(Noise::SecondRep);
            }
            let length = (v.actual.end() - v.actual.start()).num_minutes();
            let start = v.actual.start() + minutes(rng.random_range(-15..=20));
            let span = if rng.random_bool(0.05) {
                noise.push(Noise::Instant);
                Span::instant(start)
            } else {
                let recorded = (length as f64 * rng.random_range(0.5..1.05)) as i64;
                Span::new(start, start + minutes(recorded.max(1))).expect("a forward span")
            };
            let location = if rng.random_bool(0.7) {
                GeoPoint::new(
                    v.place.latitude() + rng.random_range(-0.0005..0.0005),
                    v.place.longitude() + rng.random_range(-0.0005..0.0005),
                )
            } else {
                noise.push(Noise::NoLocation);
                None
            };
            recordings.push((
                Recording {
                    user,
                    span,
                    location,
                },
                Some(v.id),
                noise,
            ));
        }
    }
    // Recordings of no appointment: made when the rep is at none (a walk-in, a test), though
    // perhaps near one in time.
    let mut busy: HashMap<UserId, Vec<Span>> = HashMap::new();
    for v in &visits {
        for &u in &v.reps {
            busy.entry(u).or_default().push(v.actual);
        }
    }
    for day in 0..plan.days {
        for &user in &users {
            if !rng.random_bool(0.3) {
                continue;
            }
            let start = day_start(day) + minutes(rng.random_range(7 * 60..21 * 60));
            let span =
                Span::new(start, start + minutes(rng.random_range(5..40))).expect("a forward span");
            let clash = busy
                .get(&user)
                .is_some_and(|spans| spans.iter().any(|b| b.intersects(&span)));
            if clash {
                continue;
            }
            // Made somewhere else than any appointment, seven in ten with a location.
            let location = rng.random_bool(0.7).then(|| somewhere(&mut rng));
            let mut noise = vec![Noise::NoAppointment];
            if location.is_none() {
                noise.push(Noise::NoLocation);
            }
            recordings.push((
                Recording {
                    user,
                    span,
                    location,
                },
                None,
                noise,
            ));
        }
    }
    Generated {
        engagements,
        recordings,
    }
}

#[derive(Default)]
struct Tally {
    recordings: u64,
    /// Recordings that belong to an engagement.
    with_truth: u64,
    linked: u64,
    correct: u64,
}

impl Tally {
    fn add(&mut self, truth: Option<RecordId>, linked: Option<RecordId>) {
        self.recordings += 1;
        self.with_truth += u64::from(truth.is_some());
        self.linked += u64::from(linked.is_some());
        self.correct += u64::from(linked.is_some() && linked == truth);
    }

    fn precision(&self) -> Option<f64> {
        (self.linked > 0).then(|| self.correct as f64 / self.linked as f64)
    }

    fn recall(&self) -> Option<f64> {
        (self.with_truth > 0).then(|| self.correct as f64 / self.with_truth as f64)
    }
}

fn share(v: Option<f64>) -> String {
    v.map_or("–".to_owned(), |v| format!("{v:.4}"))
}

pub fn run(plan: Plan) -> anyhow::Result<()> {
    anyhow::ensure!(
        plan.reps > 0 && plan.days > 0,
        "--reps and --days must be at least 1"
    );
    let generated = generate(&plan);
    let mut by_user: HashMap<UserId, Vec<Candidate>> = HashMap::new();
    for e in &generated.engagements {
        for &u in &e.rep_users {
            by_user.entry(u).or_default().push(e.clone());
        }
    }
    let settings = Settings::default();
    let mut all = Tally::default();
    let mut by_noise: BTreeMap<Noise, Tally> = BTreeMap::new();
    let mut clean = Tally::default();
    let mut rules: BTreeMap<&'static str, u64> = BTreeMap::new();
    let started = std::time::Instant::now();
    for (recording, truth, noise) in &generated.recordings {
        let candidates = by_user
            .get(&recording.user)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let d = decide(recording, Standing::Automatic, candidates, &settings);
        all.add(*truth, d.linked);
        if noise.is_empty() {
            clean.add(*truth, d.linked);
        }
        for n in noise {
            by_noise.entry(*n).or_default().add(*truth, d.linked);
        }
        *rules.entry(d.rule.as_str()).or_default() += 1;
    }
    let elapsed = started.elapsed();
    let mut out = String::new();
    writeln!(
        out,
        "{} reps, {} days: {} engagements, {} recordings, decided in {:.2} s \
         (tolerances {} and {} minutes, margin {}, largest distance {} m)\n",
        plan.reps,
        plan.days,
        thousands(generated.engagements.len() as f64),
        thousands(generated.recordings.len() as f64),
        elapsed.as_secs_f64(),
        settings.before_minutes(),
        settings.after_minutes(),
        settings.margin(),
        settings
            .max_distance_meters()
            .map_or("none".to_owned(), |m| m.to_string()),
    )?;
    writeln!(
        out,
        "| recordings | count | of an engagement | linked | linked rightly | precision | recall |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|")?;
    let row = |out: &mut String, label: &str, t: &Tally| {
        writeln!(
            out,
            "| {label} | {} | {} | {} | {} | {} | {} |",
            thousands(t.recordings as f64),
            thousands(t.with_truth as f64),
            thousands(t.linked as f64),
            thousands(t.correct as f64),
            share(t.precision()),
            share(t.recall()),
        )
    };
    row(&mut out, "**all**", &all)?;
    row(&mut out, "with none of the noise below", &clean)?;
    for (n, t) in &by_noise {
        row(&mut out, n.label(), t)?;
    }
    writeln!(out, "\n| rule that decided | recordings |\n|---|---:|")?;
    for (rule, n) in &rules {
        writeln!(out, "| {rule} | {} |", thousands(*n as f64))?;
    }
    print!("{out}");
    Ok(())
}
