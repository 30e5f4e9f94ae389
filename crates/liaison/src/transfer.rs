//! `liaison export` and `liaison import` on a command line: files, the standard streams, and
//! progress shown as a bar on a terminal and as plain lines anywhere else.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use liaison_engine::transfer::{self, Tally};
use liaison_store::Store;
use liaison_store::prelude::*;
use std::io::{BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often progress is printed when no terminal shows a bar.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Writes every entity of the organization named `org` (or of all of them) to `to`, or to the
/// standard output for `-`. A file is written beside its place and renamed into it at the
/// end, so that a file at `to` is always a whole export.
pub async fn export<S: Store>(store: &S, org: Option<&str>, to: &Path) -> anyhow::Result<Tally> {
    let org = match org {
        None => None,
        Some(name) => {
            let mut tx = store.read().await?;
            let found = tx.get_org_by_name(name).await?;
            Some(
                found
                    .with_context(|| format!("no organization is named `{name}`"))?
                    .id,
            )
        }
    };
    let started = Instant::now();
    let mut shown = Progress::new("exporting", None);
    let tally = if to == Path::new("-") {
        let out = std::io::stdout().lock();
        transfer::export(store, org, out, |t| shown.update(t)).await?
    } else {
        if to.exists() {
            bail!("{} exists: export writes a new file", to.display());
        }
        let partial = partial_path(to);
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("creating {}", partial.display()))?;
        let result = transfer::export(store, org, &file, |t| shown.update(t)).await;
        let tally = match result {
            Ok(t) => t,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e.into());
            }
        };
        file.sync_all()?;
        std::fs::rename(&partial, to)
            .with_context(|| format!("moving the export to {}", to.display()))?;
        tally
    };
    shown.finish();
    eprintln!(
        "exported {} ({} lines, {}) in {:.1} s",
        tally.summary(),
        tally.lines,
        megabytes(tally.bytes),
        started.elapsed().as_secs_f64()
    );
    Ok(tally)
}

/// Loads the export at `from` (the standard input for `-`) into the store.
pub async fn import<S: Store>(store: &S, from: &Path) -> anyhow::Result<Tally> {
    let started = Instant::now();
    let (input, size): (Box<dyn Read>, Option<u64>) = if from == Path::new("-") {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file =
            std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let mut shown = Progress::new("importing", size);
    let result = transfer::import(store, BufReader::with_capacity(1 << 20, input), |t| {
        shown.update(t)
    })
    .await;
    shown.finish();
    let tally = result?;
    let resumed = if tally.resumed > 0 {
        format!(
            "; {} lines were applied by an earlier import of this file",
            tally.resumed
        )
    } else {
        String::new()
    };
    eprintln!(
        "imported {}: {} written, {} already there{resumed}, in {:.1} s",
        tally.summary(),
        tally.written,
        tally.unchanged,
        started.elapsed().as_secs_f64()
    );
    Ok(tally)
}

fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    to.with_file_name(name)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Progress on stderr: a bar (over the file's bytes, when known) on a terminal, else a line
/// every few seconds.
struct Progress {
    verb: &'static str,
    bar: Option<ProgressBar>,
    started: Instant,
    printed: Instant,
}

impl Progress {
    fn new(verb: &'static str, total_bytes: Option<u64>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let target = ProgressDrawTarget::stderr_with_hz(4);
            match total_bytes {
                Some(total) => ProgressBar::with_draw_target(Some(total), target).with_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:32}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
                    )
                    .expect("a valid template")
                    .progress_chars("=> "),
                ),
                None => ProgressBar::with_draw_target(None, target).with_style(
                    ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})")
                        .expect("a valid template"),
                ),
            }
        });
        let now = Instant::now();
        Progress {
            verb,
            bar,
            started: now,
            printed: now,
        }
    }

    fn update(&mut self, t: &Tally) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(t.bytes);
                bar.set_message(format!("{}: {} lines", self.verb, t.lines));
            }
            None if self.printed.elapsed() >= PLAIN_EVERY => {
                self.printed = Instant::now();
                let secs = self.started.elapsed().as_secs_f64();
                eprintln!(
                    "{}: {} lines, {} in {secs:.0} s ({:.0} lines/s)",
                    self.verb,
                    t.lines,
                    megabytes(t.bytes),
                    t.lines as f64 / secs.max(0.001)
                );
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
