//! Results and their tables: one row per scenario and backend with its figure, latencies, the
//! two floors as ratios, and the server's peak RSS and CPU; plus growth and page-depth tables.
//!
//! Tables are Markdown so that a run's output can be pasted into BENCHMARKS.md unchanged.

use std::fmt::Write as _;

/// A floor measured beside a scenario: its throughput, or why it is missing.
#[derive(Debug, Clone)]
pub enum FloorFigure {
    Measured(f64),
    Failed(String),
    Skipped,
}

#[derive(Debug, Clone)]
pub struct Figures {
    /// "req/s", or "eng/s" for batches.
    pub unit: &'static str,
    pub rate: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub concurrency: usize,
    /// The arrival rate of an open-loop run.
    pub open_loop: Option<f64>,
    pub response_bytes: u64,
    pub http_floor: FloorFigure,
    pub storage_floor: FloorFigure,
    /// Reads only: the same rows by raw SQL, encoded into the same JSON by serde_json.
    pub response_floor: FloorFigure,
    pub rss_mib: Option<f64>,
    pub server_cpu: Option<f64>,
    pub client_cpu: Option<f64>,
    pub other_cpu: Option<f64>,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    NotAvailable(&'static str),
    Failed(String),
    Measured(Box<Figures>),
}

#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub backend: &'static str,
    /// Engagements of the data set the measured organization holds.
    pub stored: u64,
    pub outcome: Outcome,
}

impl Row {
    /// Whether this row must fail a run: the scenario or one of its floors errored.
    pub fn failure(&self) -> Option<String> {
        match &self.outcome {
            Outcome::NotAvailable(_) => None,
            Outcome::Failed(e) => Some(e.clone()),
            Outcome::Measured(f) => {
                if f.errors > 0 {
                    return Some(format!(
                        "{} failed requests; first: {}",
                        f.errors,
                        f.first_error.as_deref().unwrap_or("?")
                    ));
                }
                for (name, floor) in [
                    ("HTTP", &f.http_floor),
                    ("storage", &f.storage_floor),
                    ("response", &f.response_floor),
                ] {
                    if let FloorFigure::Failed(e) = floor {
                        return Some(format!("the {name} floor failed: {e}"));
                    }
                }
                None
            }
        }
    }
}

/// 12345.6 → "12,346".
pub fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A count of engagements: 100000 → "100k", 1000000 → "1M".
pub fn count(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000_000 => format!("{:.2}M", n as f64 / 1e6),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => thousands(n as f64),
    }
}

fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn ratio(figure: f64, floor: &FloorFigure, unit: &str) -> String {
    match floor {
        FloorFigure::Measured(f) if *f > 0.0 => {
            format!("{:.3} ({} {unit})", figure / f, thousands(*f))
        }
        FloorFigure::Measured(_) => "–".into(),
        FloorFigure::Failed(_) => "failed".into(),
        FloorFigure::Skipped => "–".into(),
    }
}

fn percent(x: Option<f64>) -> String {
    x.map_or("–".into(), |c| format!("{c:.0}%"))
}

/// Server / client / everything else, in percent of one core.
fn cpu(f: &Figures) -> String {
    format!(
        "{} / {} / {}",
        percent(f.server_cpu),
        percent(f.client_cpu),
        percent(f.other_cpu)
    )
}

/// The main table: every row, figure and ratios.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "| scenario | backend | stored | throughput | p50 ms | p90 ms | p99 ms | max ms \
         | ÷ HTTP floor | ÷ storage floor | ÷ response floor | server peak RSS | CPU server / client / other | response bytes | conc. |\n",
    );
    out.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let _ = write!(
            out,
            "| {} | {} | {} ",
            r.scenario,
            r.backend,
            count(r.stored)
        );
        match &r.outcome {
            Outcome::NotAvailable(why) => {
                let _ = writeln!(out, "| {why} | | | | | | | | | | | |");
            }
            Outcome::Failed(e) => {
                let e = e.replace('|', "/");
                let _ = writeln!(out, "| FAILED: {e} | | | | | | | | | | | |");
            }
            Outcome::Measured(f) => {
                let open = f
                    .open_loop
                    .map(|r| format!(" (open loop at {} req/s)", thousands(r)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "| {} {}{open}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    thousands(f.rate),
                    f.unit,
                    if f.errors > 0 {
                        format!(" ({} errors)", f.errors)
                    } else {
                        String::new()
                    },
                    ms(f.p50),
                    ms(f.p90),
                    ms(f.p99),
                    ms(f.max),
                    ratio(f.rate, &f.http_floor, f.unit),
                    ratio(f.rate, &f.storage_floor, f.unit),
                    ratio(f.rate, &f.response_floor, f.unit),
                    f.rss_mib.map_or("–".into(), |m| format!("{m:.0} MiB")),
                    cpu(f),
                    thousands(f.response_bytes as f64),
                    f.concurrency,
                );
            }
        }
    }
    out
}

/// Rows that failed, for the exit status.
pub fn failures(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter_map(|r| {
            r.failure()
                .map(|e| format!("{} on {}: {e}", r.scenario, r.backend))
        })
        .collect()
}

/// A page-depth measurement: the same list request continued from a cursor `depth` deep.
#[derive(Debug, Clone)]
pub struct DepthRow {
    pub backend: &'static str,
    pub stored: u64,
    pub depth: u64,
    pub rate: f64,
    pub p50: f64,
    pub p99: f64,
    pub errors: u64,
}

pub fn depth_table(rows: &[DepthRow]) -> String {
    let mut out = String::from(
        "| backend | stored | engagements before the page | req/s | p50 ms | p99 ms |\n\
         |---|---|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}{} | {} | {} |",
            r.backend,
            count(r.stored),
            thousands(r.depth as f64),
            thousands(r.rate),
            if r.errors > 0 {
                format!(" ({} errors)", r.errors)
            } else {
                String::new()
            },
            ms(r.p50),
            ms(r.p99),
        );
    }
    out
}

/// Bytes in MiB or GiB.
fn size(b: u64) -> String {
    let mib = b as f64 / (1u64 << 20) as f64;
    if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

/// How reads grow with the data: get-by-id and the list pages per stored size.
pub fn growth_table(rows: &[Row], sizes: &[(&'static str, u64, Option<u64>)]) -> String {
    let mut out = String::from(
        "| backend | stored | database size | get-by-id req/s (p99 ms) | list-first-page req/s (p99 ms) | list-deep-page req/s (p99 ms) |\n\
         |---|---|---:|---:|---:|---:|\n",
    );
    for &(backend, stored, bytes) in sizes {
        let cell = |name: &str| {
            rows.iter()
                .find(|r| r.backend == backend && r.stored == stored && r.scenario == name)
                .map_or("–".to_owned(), |r| match &r.outcome {
                    Outcome::Measured(f) if f.open_loop.is_none() => {
                        format!("{} ({})", thousands(f.rate), ms(f.p99))
                    }
                    Outcome::Measured(_) => "–".into(),
                    Outcome::Failed(_) => "failed".into(),
                    Outcome::NotAvailable(_) => "n/a".into(),
                })
        };
        let _ = writeln!(
            out,
            "| {backend} | {} | {} | {} | {} | {} |",
            count(stored),
            bytes.map_or("–".into(), size),
            cell("get-by-id"),
            cell("list-first-page"),
            cell("list-deep-page"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(count(100_000), "100k");
        assert_eq!(count(10_000_000), "10M");
        assert_eq!(count(1_250_000), "1.25M");
    }
}
