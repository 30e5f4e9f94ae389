//! What /proc says about a process: its peak resident set (VmHWM), its CPU time, and the
//! machine the figures were taken on. Linux only, like the benchmark's targets.
//!
//! Every reader returns `None` rather than failing: a missing figure is reported as such.

use std::sync::OnceLock;

/// Peak resident set size in KiB since the process started or its peak was last reset.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmHWM:")
}

fn status_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Resets the peak RSS to the current RSS, so that the next reading is this scenario's own
/// peak ("5" in clear_refs, Linux 4.0 and later). Fails silently where not permitted: the
/// reading is then the peak since the process started, which is still an upper bound.
pub fn reset_peak_rss(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// User plus system CPU time of every thread of the process, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; everything after the last
    // ')' is space-separated, starting with field 3 (state). utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy CPU time of the whole machine (all cores), in clock ticks: the first line of
/// /proc/stat less idle and iowait.
pub fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy = v.get(0..3)?.iter().sum::<u64>() + v.get(5..8)?.iter().sum::<u64>();
    Some(busy)
}

/// Waits until the rest of the machine (everything but `ours`) has used less than
/// `threshold` percent of one core over a one-second sample, for at most `max_wait`. Returns
/// the last sample: other people's builds on a shared machine would otherwise end up in the
/// figures.
pub async fn wait_for_quiet(
    ours: &[u32],
    threshold: f64,
    max_wait: std::time::Duration,
) -> Option<f64> {
    let deadline = std::time::Instant::now() + max_wait;
    let mut last = None;
    // Bounded by the deadline; each round sleeps a second.
    for _ in 0..=max_wait.as_secs() + 1 {
        let ours_before: u64 = ours.iter().filter_map(|p| cpu_ticks(*p)).sum();
        let busy_before = machine_busy_ticks()?;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let ours_after: u64 = ours.iter().filter_map(|p| cpu_ticks(*p)).sum();
        let busy_after = machine_busy_ticks()?;
        let other = (busy_after.saturating_sub(busy_before))
            .saturating_sub(ours_after.saturating_sub(ours_before)) as f64
            / ticks_per_second()
            * 100.0;
        last = Some(other);
        if other < threshold || std::time::Instant::now() >= deadline {
            break;
        }
    }
    last
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every mainstream Linux).
pub fn ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The machine, for the report: cores, CPU model, memory.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    });
    let mem = mem_kib.map_or("unknown memory".into(), |k| {
        format!("{:.1} GiB RAM", k as f64 / 1024.0 / 1024.0)
    });
    format!("{cores} cores ({model}), {mem}")
}

/// The Liaison code this binary was built from (recorded by the build script).
pub fn built_from() -> &'static str {
    env!("LIAISON_BENCH_BUILT_FROM")
}
