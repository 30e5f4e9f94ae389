//! Records which Liaison the benchmark binary was built from (commit, and how many paths of the
//! working tree differed from it), so that a report names the code it measured.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    // Rebuilt whenever any crate of the workspace or the checked-out commit changes: the
    // figures belong to that code, not to this crate alone.
    for path in [
        "../../crates",
        "../../Cargo.lock",
        "../../.git/HEAD",
        "../../.git/refs",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    let head = git(&["log", "-1", "--format=%h %s"]);
    let changed = git(&[
        "status",
        "--porcelain",
        "--",
        "../../crates",
        "../../Cargo.toml",
    ])
    .map(|s| s.lines().filter(|l| !l.contains("liaison-bench")).count());
    let built_from = match (head, changed) {
        (Some(h), Some(0)) => format!("commit {h}"),
        (Some(h), Some(n)) => format!("commit {h} with {n} uncommitted paths in crates/"),
        _ => "an unknown tree (git was not available at build time)".to_owned(),
    };
    println!("cargo:rustc-env=LIAISON_BENCH_BUILT_FROM={built_from}");
}
