//! ticketd as a child process, and what the kernel says about processes:
//! resident memory and CPU time.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A ticketd child process, killed on drop.
pub struct Server {
    child: Child,
    pub url: String,
    /// An administrator's bearer token, issued on the database before start.
    pub token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--worker-threads` for every ticketd this bench starts; 0 leaves
/// ticketd's default (one per core). Set once, from `--server-threads`.
pub static WORKER_THREADS: std::sync::OnceLock<u16> = std::sync::OnceLock::new();

/// The binary to run: `TICKETD_BIN` when set (a copy that a concurrent build
/// into the same target directory cannot replace mid-run), else the one
/// cargo built with this bench.
fn binary() -> String {
    std::env::var("TICKETD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ticketd").to_owned())
}

impl Server {
    /// Spawns `ticketd serve` on a free port and waits until its health
    /// service reports TicketService SERVING, which it does only after a
    /// database round trip. Returns the server and the time from spawn to
    /// that answer.
    pub async fn start(database: &str) -> (Server, Duration) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let token = ticketd::client::issue_admin_token(database, &format!("bench-{port}"))
            .await
            .expect("issue the benchmark's credential");
        let spawned = Instant::now();
        let child = Command::new(binary())
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database",
                database,
                // The load client is one credential; measure the server,
                // not its rate limit.
                "--rate-limit-rps",
                "0",
            ])
            .args(match WORKER_THREADS.get().copied().unwrap_or(0) {
                0 => vec![],
                threads => vec!["--worker-threads".to_owned(), threads.to_string()],
            })
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ticketd");
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            token,
        };
        let deadline = spawned + Duration::from_secs(30);
        while Instant::now() < deadline {
            if server.serving().await {
                return (server, spawned.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("ticketd did not report SERVING within 30 s on {database}");
    }

    async fn serving(&self) -> bool {
        let Ok(channel) = Channel::from_shared(self.url.clone())
            .expect("a valid URL")
            .connect()
            .await
        else {
            return false;
        };
        HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: "support.v1.TicketService".into(),
            })
            .await
            .is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Resident set size in KiB, and its high-water mark, from /proc.
pub fn resident_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Clock ticks per second of /proc's CPU times: USER_HZ, 100 on every Linux
/// this runs on (reading it properly needs sysconf, hence libc).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time (user + system) a process has used, and with `children` also
/// what its waited-for children used.
pub fn cpu_seconds(pid: &str, children: bool) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it do not.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
    let mut ticks = tick(11)? + tick(12)?;
    if children {
        ticks += tick(13)? + tick(14)?;
    }
    Some(ticks as f64 / TICKS_PER_SECOND)
}

/// CPU time used so far by PostgreSQL: every process named `postgres`, with
/// what its exited children used. Backends that have exited (pgbench's, when
/// it ends) were reaped by the postmaster, so they still count, in its
/// children's time.
pub fn postgres_cpu_seconds() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .filter_map(|e| cpu_seconds(&e.file_name().to_string_lossy(), true))
        .sum()
}

/// CPU time all processes together have used (every core's busy time).
pub fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next() else {
        return 0.0;
    };
    // user nice system idle iowait irq softirq steal ...
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let busy: u64 = ticks
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 3 && i != 4)
        .map(|(_, t)| t)
        .sum();
    busy as f64 / TICKS_PER_SECOND
}
