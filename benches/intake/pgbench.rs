//! pgbench as the reference: the statements one CreateTicket runs, straight
//! from a libpq client written in C, on the same database.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::load::percentile_ms;

/// The pgbench script holding CreateTicket's statements.
pub const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/create_ticket.pgbench");

/// The script to run: `--pgbench-script` (to measure another statement
/// sequence against the same ticketd), else [`SCRIPT`].
pub static SCRIPT_IN_USE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn script() -> &'static str {
    SCRIPT_IN_USE.get().map_or(SCRIPT, String::as_str)
}

/// `PGBENCH` when set, else `pgbench` on PATH, else the newest PostgreSQL's.
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("PGBENCH") {
        return path.into();
    }
    let on_path = Command::new("pgbench").arg("--version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return "pgbench".into();
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin/pgbench"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| "pgbench".into())
}

pub fn version() -> String {
    Command::new(binary())
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|err| format!("pgbench not runnable: {err}"))
}

/// One pgbench run's figures.
pub struct Run {
    pub tps: f64,
    pub transactions: u64,
    pub failed: u64,
    latencies_us: Vec<u32>,
}

impl Run {
    pub fn percentile_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies_us, p)
    }
}

/// What a run asks of pgbench.
pub struct Load<'a> {
    pub database_url: &'a str,
    pub account: &'a str,
    pub clients: usize,
    pub duration: Duration,
    /// Open loop: `-R`, transactions per second over all clients. pgbench
    /// then measures each latency from the scheduled start.
    pub rate: Option<f64>,
}

/// Runs the script with prepared statements (as sqlx sends them: parsed
/// once per connection, then bound and executed) and a transaction log, from
/// which the latency percentiles come.
pub fn run(load: &Load<'_>, scratch: &Path) -> Run {
    let prefix = scratch.join(format!("pgbench-{}", uuid::Uuid::new_v4().simple()));
    let mut command = Command::new(binary());
    command
        .args(["--no-vacuum", "--protocol=prepared", "--file", script()])
        .arg(format!("--client={}", load.clients))
        // Two threads, like the load client's two runtime workers on two cores.
        .arg(format!("--jobs={}", load.clients.min(2)))
        .arg(format!("--time={}", load.duration.as_secs().max(1)))
        .arg(format!("--define=account={}", load.account))
        .arg("--log")
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg(load.database_url);
    if let Some(rate) = load.rate {
        command.arg(format!("--rate={rate:.0}"));
    }
    let output = command.output().expect("run pgbench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let number = |label: &str| {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let mut latencies_us = read_logs(&prefix);
    latencies_us.sort_unstable();
    Run {
        tps: number("tps = ").expect("pgbench printed its tps"),
        transactions: number("number of transactions actually processed:").unwrap_or(0.0) as u64,
        failed: number("number of failed transactions:").unwrap_or(0.0) as u64,
        latencies_us,
    }
}

/// Reads and removes the per-transaction logs (`PREFIX.PID[.THREAD]`); the
/// third field of each line is the latency in µs.
fn read_logs(prefix: &Path) -> Vec<u32> {
    let dir = prefix.parent().expect("a scratch directory");
    let stem = format!("{}.", prefix.file_name().unwrap().to_string_lossy());
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir)
        .expect("read the scratch directory")
        .flatten()
    {
        if !entry.file_name().to_string_lossy().starts_with(&stem) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        latencies.extend(
            text.lines()
                .filter_map(|line| line.split_whitespace().nth(2))
                .filter_map(|us| us.parse::<u32>().ok()),
        );
        let _ = std::fs::remove_file(entry.path());
    }
    latencies
}
