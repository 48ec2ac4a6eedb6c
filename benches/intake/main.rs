//! Intake throughput and latency, measured against what PostgreSQL itself
//! does with the same SQL. One run, on one machine:
//!
//!     bench/intake.sh                            # the run recorded in BENCHMARKS.md
//!     cargo bench --bench intake -- [--rounds 3] [--seconds 10] [--concurrency 8,32]
//!         [--warmup-seconds 5] [--open-loop-seconds 20] [--connections 1]
//!         [--stores postgres,sqlite] [--restarts 5] [--pgbench-script FILE]
//!         [--max-wait-seconds 300] [--server-threads 1]
//!
//! On a fresh database that ticketd creates and migrates, the run
//! - times ticketd's start-up on the migrated database (spawn to SERVING);
//! - warms up, then for each round and each concurrency runs, interleaved,
//!   pgbench with `bench/create_ticket.pgbench` (the statements one
//!   CreateTicket executes) and CreateTicket through ticketd, closed loop,
//!   then ClassifyPriority (no database) for the transport ceiling;
//! - runs CreateTicket open loop at half the measured peak, and pgbench at
//!   the same rate;
//! - waits before each cell until other processes leave the cores alone
//!   (for at most `--max-wait-seconds`), and measures a cell again when
//!   they disturbed it;
//! - starts ticketd with `--worker-threads 1` (`--server-threads`; 0 for its
//!   default of one per core): the two cores are shared with PostgreSQL and
//!   the load client, and one thread leaves the database more of them;
//! - prints medians over the rounds, the ratio ticketd RPS / pgbench TPS,
//!   CPU per request of each process, and ticketd's resident memory.
//!
//! The load client on its own, against any running ticketd:
//!
//!     cargo bench --bench intake -- load --target http://127.0.0.1:50051
//!         [--mode closed|open] [--concurrency 8] [--rate 1000] [--connections 1]
//!         [--seconds 10] [--warmup-seconds 2] [--calls N] [--mix create=9,classify=1,get=0]
//!         [--account bench]
//!
//! PostgreSQL is expected on 127.0.0.1:5432 (BENCH_DATABASE_URL overrides the
//! server URL, without a database name).

mod load;
mod pgbench;
mod server;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use load::{Call, Mix, Report, Stop, Target};
use server::Server;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        // cargo bench passes --bench to every bench binary.
        .filter(|a| a != "--bench")
        .collect();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match args.first().map(String::as_str) {
        Some("load") => runtime.block_on(load_command(Flags::parse(&args[1..]))),
        _ => runtime.block_on(suite(Flags::parse(&args))),
    }
}

/// `--name value` pairs, each read at most once with a default.
struct Flags(BTreeMap<String, String>);

impl Flags {
    fn parse(args: &[String]) -> Self {
        let mut flags = BTreeMap::new();
        let mut args = args.iter();
        while let Some(name) = args.next() {
            let Some(name) = name.strip_prefix("--") else {
                panic!("unexpected argument {name:?}; flags are --name value");
            };
            let value = args
                .next()
                .unwrap_or_else(|| panic!("--{name} needs a value"));
            flags.insert(name.to_owned(), value.clone());
        }
        Self(flags)
    }

    fn take<T: std::str::FromStr>(&mut self, name: &str, default: T) -> T {
        match self.0.remove(name) {
            Some(value) => value
                .parse()
                .unwrap_or_else(|_| panic!("--{name}: cannot read {value:?}")),
            None => default,
        }
    }

    fn list(&mut self, name: &str, default: &str) -> Vec<String> {
        self.take(name, default.to_owned())
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Fails on flags nobody read: a misspelt flag should not silently
    /// leave a default in place.
    fn done(self) {
        if let Some(name) = self.0.keys().next() {
            panic!("unknown flag --{name}");
        }
    }
}

async fn load_command(mut flags: Flags) {
    let url: String = flags.take("target", "http://127.0.0.1:50051".to_owned());
    let token: String = flags.take("token", std::env::var("TICKETD_TOKEN").unwrap_or_default());
    let mode: String = flags.take("mode", "closed".to_owned());
    let concurrency: usize = flags.take("concurrency", 8);
    let rate: f64 = flags.take("rate", 0.0);
    let max_in_flight: usize = flags.take("max-in-flight", 1024);
    let connections: usize = flags.take("connections", 1);
    let seconds: f64 = flags.take("seconds", 10.0);
    let warmup: f64 = flags.take("warmup-seconds", 2.0);
    let calls: u64 = flags.take("calls", 0);
    let account: String = flags.take("account", "bench".to_owned());
    let mix = Mix::parse(&flags.take("mix", "create".to_owned())).unwrap_or_else(|e| panic!("{e}"));
    flags.done();

    let target = Arc::new(
        Target::connect(&url, &token, connections, &account)
            .await
            .unwrap_or_else(|err| panic!("cannot reach {url}: {err:#}")),
    );
    let measure = Duration::from_secs_f64(seconds);
    let report = match mode.as_str() {
        "closed" => {
            if warmup > 0.0 {
                let warm = Stop::After(Duration::from_secs_f64(warmup));
                load::closed_loop(&target, mix, concurrency, warm).await;
            }
            let stop = if calls > 0 {
                Stop::Calls(calls)
            } else {
                Stop::After(measure)
            };
            load::closed_loop(&target, mix, concurrency, stop).await
        }
        "open" => {
            assert!(rate > 0.0, "--mode open needs --rate");
            if warmup > 0.0 {
                let warm = Duration::from_secs_f64(warmup);
                load::open_loop(&target, mix, rate, max_in_flight, warm).await;
            }
            load::open_loop(&target, mix, rate, max_in_flight, measure).await
        }
        other => panic!("--mode {other}: closed or open"),
    };
    println!(
        "{mode} loop, {} connection(s), {}; {:.1} s",
        connections,
        if mode == "open" {
            format!("{rate:.0} calls/s asked, at most {max_in_flight} in flight")
        } else {
            format!("{concurrency} clients")
        },
        report.elapsed.as_secs_f64()
    );
    println!();
    println!("| call | answered | RPS | p50 ms | p99 ms | p99.9 ms | errors |");
    println!("|---|---|---|---|---|---|---|");
    for call in Call::ALL.into_iter().filter(|&c| mix.includes(c)) {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
            call.name(),
            report.ok(call),
            report.rps(call),
            report.percentile_ms(call, 0.50),
            report.percentile_ms(call, 0.99),
            report.percentile_ms(call, 0.999),
            report.errors(call)
        );
    }
    if report.skipped() > 0 {
        println!(
            "\n{} calls not sent: {max_in_flight} were already waiting (the server fell behind the rate)",
            report.skipped()
        );
    }
}

/// One measured cell: throughput, latency and the CPU each party spent.
#[derive(Debug, Clone, Copy)]
struct Cell {
    rps: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    errors: u64,
    /// CPU µs per request: ticketd, PostgreSQL, and the load generator
    /// (this process, or pgbench).
    cpu_server: f64,
    cpu_db: f64,
    cpu_client: f64,
    /// See [`other_load`].
    other_load: f64,
}

impl Cell {
    fn cpu_total(&self) -> f64 {
        self.cpu_server + self.cpu_db + self.cpu_client
    }
}

/// CPU seconds used so far by each party.
#[derive(Clone, Copy)]
struct Cpu {
    server: f64,
    db: f64,
    client: f64,
    children: f64,
    machine: f64,
    at: Instant,
}

impl Cpu {
    fn now(server: Option<u32>) -> Self {
        let mine = server::cpu_seconds("self", false).unwrap_or(0.0);
        Self {
            machine: server::machine_busy_seconds(),
            at: Instant::now(),
            server: server
                .and_then(|pid| server::cpu_seconds(&pid.to_string(), false))
                .unwrap_or(0.0),
            db: server::postgres_cpu_seconds(),
            client: mine,
            children: server::cpu_seconds("self", true).unwrap_or(0.0) - mine,
        }
    }
}

/// Cores' worth of CPU that processes outside the measurement (neither
/// ticketd, PostgreSQL nor the load generator) used between two readings: a
/// busy neighbour makes a cell's figures worth less.
fn other_load(before: &Cpu, after: &Cpu) -> f64 {
    let ours = (after.server - before.server)
        + (after.db - before.db)
        + (after.client - before.client)
        + (after.children - before.children);
    let busy = after.machine - before.machine;
    ((busy - ours) / after.at.duration_since(before.at).as_secs_f64()).max(0.0)
}

fn per_request_us(seconds: f64, requests: f64) -> f64 {
    if requests > 0.0 {
        seconds * 1e6 / requests
    } else {
        f64::NAN
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The cells of one kind at one concurrency, one per round.
#[derive(Default)]
struct Figures(BTreeMap<(&'static str, usize), Vec<Cell>>);

impl Figures {
    fn push(&mut self, kind: &'static str, clients: usize, cell: Cell) {
        self.0.entry((kind, clients)).or_default().push(cell);
    }

    fn rounds(&self, kind: &'static str, clients: usize) -> &[Cell] {
        self.0.get(&(kind, clients)).map_or(&[], Vec::as_slice)
    }

    /// The median over rounds of each figure on its own.
    fn median(&self, kind: &'static str, clients: usize) -> Option<Cell> {
        let cells = self.rounds(kind, clients);
        if cells.is_empty() {
            return None;
        }
        let of = |f: fn(&Cell) -> f64| median(&mut cells.iter().map(f).collect::<Vec<_>>());
        Some(Cell {
            rps: of(|c| c.rps),
            p50: of(|c| c.p50),
            p99: of(|c| c.p99),
            p999: of(|c| c.p999),
            errors: cells.iter().map(|c| c.errors).sum(),
            cpu_server: of(|c| c.cpu_server),
            cpu_db: of(|c| c.cpu_db),
            cpu_client: of(|c| c.cpu_client),
            other_load: cells.iter().map(|c| c.other_load).fold(0.0, f64::max),
        })
    }
}

struct Bench {
    database_url: Option<String>,
    server: Server,
    target: Arc<Target>,
    scratch: PathBuf,
    seconds: Duration,
    /// How long to wait for other processes to leave the cores alone
    /// before a cell; 0 measures regardless.
    max_wait: Duration,
}

/// Cores' worth of CPU that other processes may use during a cell before
/// it counts as disturbed and is measured again.
const DISTURBED: f64 = 0.25;
/// Busy cores below which the machine counts as quiet before a cell.
const QUIET: f64 = 0.15;
/// Times a disturbed cell is measured again.
const RETRIES: usize = 2;

/// `--max-wait-seconds`: see [`Bench::max_wait`].
static MAX_WAIT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// What a cell runs.
#[derive(Clone, Copy)]
enum Work {
    Pgbench {
        clients: usize,
        rate: Option<f64>,
    },
    Ticketd {
        call: Call,
        clients: usize,
        rate: Option<f64>,
    },
}

impl Bench {
    /// Waits until the machine is quiet, for at most `max_wait`.
    async fn quiet(&self) {
        let started = Instant::now();
        let mut said = false;
        while started.elapsed() < self.max_wait {
            let before = server::machine_busy_seconds();
            tokio::time::sleep(Duration::from_secs(1)).await;
            let busy = server::machine_busy_seconds() - before;
            if busy < QUIET {
                return;
            }
            if !said {
                eprintln!("  waiting for other processes: {busy:.2} cores busy");
                said = true;
            }
        }
        if said {
            eprintln!("  still busy after {:?}; measuring anyway", self.max_wait);
        }
    }

    /// Runs one cell on a quiet machine (after a checkpoint when it writes),
    /// and again, up to [`RETRIES`] times, while others disturbed it.
    async fn cell(&self, label: &str, work: Work) -> Cell {
        let mut attempt = 0;
        loop {
            self.quiet().await;
            let cell = match work {
                Work::Pgbench { clients, rate } => {
                    self.checkpoint().await;
                    progress_start(label);
                    self.pgbench(clients, rate)
                }
                Work::Ticketd {
                    call,
                    clients,
                    rate,
                } => {
                    if call == Call::Create {
                        self.checkpoint().await;
                    }
                    progress_start(label);
                    self.ticketd(call, clients, rate).await
                }
            };
            let clients = match work {
                Work::Pgbench { clients, .. } | Work::Ticketd { clients, .. } => clients,
            };
            progress(clients, &cell);
            if cell.other_load <= DISTURBED || attempt == RETRIES || self.max_wait.is_zero() {
                return cell;
            }
            attempt += 1;
            eprintln!("  disturbed by other processes; measuring again");
        }
    }

    async fn checkpoint(&self) {
        // Each cell starts just after a checkpoint, so none pays for the
        // full-page writes and dirty buffers that an earlier cell left.
        if let Some(url) = &self.database_url {
            let mut conn = PgConnection::connect(url)
                .await
                .expect("connect for CHECKPOINT");
            sqlx::query("CHECKPOINT")
                .execute(&mut conn)
                .await
                .expect("CHECKPOINT");
            let _ = conn.close().await;
        }
    }

    async fn ticketd(&self, call: Call, clients: usize, open_rate: Option<f64>) -> Cell {
        let pid = Some(self.server.pid());
        let before = Cpu::now(pid);
        let report = match open_rate {
            None => {
                let stop = Stop::After(self.seconds);
                load::closed_loop(&self.target, Mix::only(call), clients, stop).await
            }
            Some(rate) => {
                load::open_loop(&self.target, Mix::only(call), rate, 1024, self.seconds).await
            }
        };
        let after = Cpu::now(pid);
        let n = report.ok(call) as f64;
        cell_of(&report, call, |c| Cell {
            cpu_server: per_request_us(after.server - before.server, n),
            cpu_db: per_request_us(after.db - before.db, n),
            cpu_client: per_request_us(after.client - before.client, n),
            other_load: other_load(&before, &after),
            ..c
        })
    }

    fn pgbench(&self, clients: usize, rate: Option<f64>) -> Cell {
        let url = self
            .database_url
            .as_deref()
            .expect("pgbench runs on PostgreSQL");
        let before = Cpu::now(None);
        let run = pgbench::run(
            &pgbench::Load {
                database_url: url,
                account: &self.target.account,
                clients,
                duration: self.seconds,
                rate,
            },
            &self.scratch,
        );
        let after = Cpu::now(None);
        let n = run.transactions as f64;
        Cell {
            rps: run.tps,
            p50: run.percentile_ms(0.50),
            p99: run.percentile_ms(0.99),
            p999: run.percentile_ms(0.999),
            errors: run.failed,
            cpu_server: 0.0,
            cpu_db: per_request_us(after.db - before.db, n),
            cpu_client: per_request_us(after.children - before.children, n),
            other_load: other_load(&before, &after),
        }
    }
}

fn cell_of(report: &Report, call: Call, finish: impl FnOnce(Cell) -> Cell) -> Cell {
    finish(Cell {
        rps: report.rps(call),
        p50: report.percentile_ms(call, 0.50),
        p99: report.percentile_ms(call, 0.99),
        p999: report.percentile_ms(call, 0.999),
        errors: report.errors(call) + report.skipped(),
        cpu_server: f64::NAN,
        cpu_db: f64::NAN,
        cpu_client: f64::NAN,
        other_load: 0.0,
    })
}

fn progress_start(label: &str) {
    eprint!("  {label:<28}");
}

fn progress(clients: usize, cell: &Cell) {
    eprintln!(
        " {clients:>3} clients: {:>7.0}/s  p50 {:>6.2}  p99 {:>6.2}  p99.9 {:>6.2} ms  \
         errors {}  CPU µs/req: server {:.0} db {:.0} client {:.0}; others {:.2} cores",
        cell.rps,
        cell.p50,
        cell.p99,
        cell.p999,
        cell.errors,
        cell.cpu_server,
        cell.cpu_db,
        cell.cpu_client,
        cell.other_load
    );
}

async fn suite(mut flags: Flags) {
    let rounds: usize = flags.take("rounds", 3);
    let seconds: u64 = flags.take("seconds", 10);
    let warmup: u64 = flags.take("warmup-seconds", 5);
    let open_seconds: u64 = flags.take("open-loop-seconds", 20);
    let connections: usize = flags.take("connections", 1);
    let restarts: usize = flags.take("restarts", 5);
    let concurrency: Vec<usize> = flags
        .list("concurrency", "8,32")
        .iter()
        .map(|c| c.parse().expect("--concurrency 8,32"))
        .collect();
    let stores = flags.list("stores", "postgres");
    let script: String = flags.take("pgbench-script", pgbench::SCRIPT.to_owned());
    let threads: u16 = flags.take("server-threads", 1);
    server::WORKER_THREADS.set(threads).expect("set once");
    MAX_WAIT
        .set(Duration::from_secs(flags.take("max-wait-seconds", 300)))
        .expect("set once");
    flags.done();
    pgbench::SCRIPT_IN_USE
        .set(script.clone())
        .expect("set once");

    let command: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    println!("# ticketd intake benchmark");
    println!();
    let command = std::env::var("BENCH_COMMAND")
        .unwrap_or_else(|_| format!("cargo bench --bench intake -- {}", command.join(" ")));
    println!("Command: `{}`", command.trim());
    println!();
    println!(
        "{rounds} rounds of {seconds} s per cell after {warmup} s of warm-up (not counted); \
         closed loop over {connections} HTTP/2 connection(s); open loop {open_seconds} s."
    );
    println!();
    for line in machine() {
        println!("- {line}");
    }
    println!("- pgbench script: {script}");
    match threads {
        0 => println!("- ticketd: its default worker threads, one per core"),
        1 => println!(
            "- ticketd: `--worker-threads 1`, as on a machine it shares with PostgreSQL \
             (`--server-threads 0` runs its default, one per core)"
        ),
        n => println!("- ticketd: `--worker-threads {n}`"),
    }
    let settings: Vec<String> = std::env::vars()
        .filter(|(name, _)| name.starts_with("TICKETD_") && name != "TICKETD_TOKEN")
        .map(|(name, value)| format!("`{name}={value}`"))
        .collect();
    if !settings.is_empty() {
        println!(
            "- ticketd settings from the environment: {}",
            settings.join(", ")
        );
    }
    for store in &stores {
        match store.as_str() {
            "postgres" => {
                postgres_suite(
                    rounds,
                    seconds,
                    warmup,
                    open_seconds,
                    connections,
                    restarts,
                    &concurrency,
                )
                .await
            }
            "sqlite" => sqlite_suite(rounds, seconds, warmup, connections, &concurrency).await,
            other => panic!("unknown store {other}; use postgres or sqlite"),
        }
    }
}

fn machine() -> Vec<String> {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let memory_gib = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0 / 1024.0);
    let commit = std::process::Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "describe",
            "--always",
            "--dirty",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    vec![
        format!(
            "Machine: {} cores ({model}), {memory_gib:.1} GiB, Linux {}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            read("/proc/sys/kernel/osrelease").trim()
        ),
        format!("ticketd at commit {commit}"),
        pgbench::version(),
    ]
}

fn admin_base() -> String {
    std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

async fn postgres_settings(url: &str) -> Vec<String> {
    let mut conn = PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL");
    let version: String = sqlx::query_scalar("SELECT version()")
        .fetch_one(&mut conn)
        .await
        .expect("version()");
    let mut settings = Vec::new();
    for name in [
        "synchronous_commit",
        "fsync",
        "wal_sync_method",
        "shared_buffers",
        "max_wal_size",
        "checkpoint_timeout",
    ] {
        let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
            .fetch_one(&mut conn)
            .await
            .expect("SHOW");
        settings.push(format!("{name}={value}"));
    }
    vec![version, settings.join(", ")]
}

#[allow(clippy::too_many_arguments)]
async fn postgres_suite(
    rounds: usize,
    seconds: u64,
    warmup: u64,
    open_seconds: u64,
    connections: usize,
    restarts: usize,
    concurrency: &[usize],
) {
    let base = admin_base();
    let name = format!("ticketd_bench_{}", uuid::Uuid::new_v4().simple());
    let url = format!("{base}/{name}");
    for line in postgres_settings(&format!("{base}/postgres")).await {
        println!("- {line}");
    }
    let synchronous: String = {
        let mut conn = PgConnection::connect(&format!("{base}/postgres"))
            .await
            .unwrap();
        sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    if synchronous != "on" {
        println!(
            "- **synchronous_commit is {synchronous}: commits are not durable, figures not comparable**"
        );
    }

    eprintln!("starting ticketd on a new database (it creates and migrates it)");
    let (first, first_ready) = Server::start(&url).await;
    drop(first);
    // Start-up on the migrated database, several times: the slowest counts.
    let mut ready = Vec::new();
    let mut server = None;
    for _ in 0..restarts.max(1) {
        drop(server.take());
        let (started, took) = Server::start(&url).await;
        ready.push(took);
        server = Some(started);
    }
    let server = server.expect("a running server");
    let target = Arc::new(
        Target::connect(&server.url, &server.token, connections, "bench")
            .await
            .expect("connect the load client"),
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = server::resident_kib(server.pid());

    let scratch = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let mut bench = Bench {
        database_url: Some(url.clone()),
        server,
        target,
        scratch,
        seconds: Duration::from_secs(warmup),
        max_wait: MAX_WAIT.get().copied().unwrap_or_default(),
    };
    let busiest = concurrency.iter().copied().max().unwrap_or(8);
    eprintln!("warm-up: {warmup} s of each, not counted");
    bench.ticketd(Call::Create, busiest, None).await;
    bench.pgbench(busiest, None);
    bench.ticketd(Call::Classify, busiest, None).await;

    bench.seconds = Duration::from_secs(seconds);
    let mut figures = Figures::default();
    for round in 1..=rounds {
        eprintln!("round {round} of {rounds}");
        for &clients in concurrency {
            // Alternate which goes first, so neither always runs on a
            // database the other has just grown.
            for pgbench_first in [round % 2 == 1, round % 2 == 0] {
                if pgbench_first {
                    let work = Work::Pgbench {
                        clients,
                        rate: None,
                    };
                    let cell = bench.cell("pgbench (same SQL)", work).await;
                    figures.push("pgbench", clients, cell);
                } else {
                    let work = Work::Ticketd {
                        call: Call::Create,
                        clients,
                        rate: None,
                    };
                    let cell = bench.cell("CreateTicket", work).await;
                    figures.push("create", clients, cell);
                }
            }
            let work = Work::Ticketd {
                call: Call::Classify,
                clients,
                rate: None,
            };
            let cell = bench.cell("ClassifyPriority (no db)", work).await;
            figures.push("classify", clients, cell);
        }
    }
    let loaded = server::resident_kib(bench.server.pid());

    // Open loop at half the best closed-loop rate.
    let peak = concurrency
        .iter()
        .filter_map(|&c| figures.median("create", c))
        .map(|c| c.rps)
        .fold(0.0, f64::max);
    let half = peak / 2.0;
    bench.seconds = Duration::from_secs(open_seconds);
    eprintln!("open loop at {half:.0}/s for {open_seconds} s");
    let work = Work::Ticketd {
        call: Call::Create,
        clients: 0,
        rate: Some(half),
    };
    let open_ticketd = bench.cell("CreateTicket open loop", work).await;
    let work = Work::Pgbench {
        clients: busiest,
        rate: Some(half),
    };
    let open_pgbench = bench.cell("pgbench open loop", work).await;
    let after = server::resident_kib(bench.server.pid());

    let integrity = integrity(&url).await;
    print_postgres_report(PostgresReport {
        rounds,
        concurrency,
        figures: &figures,
        peak,
        half,
        busiest,
        open_ticketd,
        open_pgbench,
        first_ready,
        ready: &ready,
        idle,
        loaded,
        after,
        integrity,
    });

    let Bench {
        server,
        target,
        scratch,
        ..
    } = bench;
    drop(target);
    drop(server);
    let _ = std::fs::remove_dir_all(scratch);
    if let Ok(mut admin) = PgConnection::connect(&format!("{base}/postgres")).await {
        let _ = sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
            .execute(&mut admin)
            .await;
    }
}

/// Every ticket, from ticketd or from pgbench, has its RECEIVED event.
async fn integrity(url: &str) -> String {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let (tickets, events, orphans): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_events), \
         (SELECT count(*) FROM tickets t WHERE NOT EXISTS \
            (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id))",
    )
    .fetch_one(&mut conn)
    .await
    .expect("count tickets");
    format!("{tickets} tickets and {events} events written; {orphans} tickets without an event")
}

struct PostgresReport<'a> {
    rounds: usize,
    concurrency: &'a [usize],
    figures: &'a Figures,
    peak: f64,
    half: f64,
    busiest: usize,
    open_ticketd: Cell,
    open_pgbench: Cell,
    first_ready: Duration,
    ready: &'a [Duration],
    idle: Option<(u64, u64)>,
    loaded: Option<(u64, u64)>,
    after: Option<(u64, u64)>,
    integrity: String,
}

fn ms3(c: &Cell) -> String {
    format!("{:.2} / {:.2} / {:.2}", c.p50, c.p99, c.p999)
}

fn mib(kib: Option<(u64, u64)>, peak: bool) -> String {
    kib.map_or("?".into(), |(rss, hwm)| {
        format!("{:.1}", if peak { hwm } else { rss } as f64 / 1024.0)
    })
}

fn print_postgres_report(r: PostgresReport<'_>) {
    println!();
    println!("## CreateTicket through ticketd against pgbench running the same SQL");
    println!();
    println!("Medians of {} rounds. Latencies in ms.", r.rounds);
    println!();
    println!(
        "| clients | pgbench TPS | ticketd RPS | ticketd / pgbench | pgbench p50 / p99 / p99.9 | \
         ticketd p50 / p99 / p99.9 | ratio in each round | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &clients in r.concurrency {
        let (Some(pg), Some(td)) = (
            r.figures.median("pgbench", clients),
            r.figures.median("create", clients),
        ) else {
            continue;
        };
        let per_round: Vec<String> = r
            .figures
            .rounds("pgbench", clients)
            .iter()
            .zip(r.figures.rounds("create", clients))
            .map(|(p, t)| format!("{:.2}", t.rps / p.rps))
            .collect();
        println!(
            "| {clients} | {:.0} | {:.0} | **{:.2}** | {} | {} | {} | {} / {} |",
            pg.rps,
            td.rps,
            td.rps / pg.rps,
            ms3(&pg),
            ms3(&td),
            per_round.join(", "),
            pg.errors,
            td.errors
        );
    }
    println!();
    println!("Transport ceiling, ClassifyPriority (no database), same server:");
    println!();
    println!("| clients | RPS | p50 / p99 / p99.9 | errors |");
    println!("|---|---|---|---|");
    for &clients in r.concurrency {
        if let Some(c) = r.figures.median("classify", clients) {
            println!("| {clients} | {:.0} | {} | {} |", c.rps, ms3(&c), c.errors);
        }
    }
    println!();
    println!("CPU time per request (µs, medians), from /proc: where the two cores go.");
    println!();
    println!("| path | clients | ticketd | PostgreSQL | load generator | total |");
    println!("|---|---|---|---|---|---|");
    for &clients in r.concurrency {
        for (kind, label) in [
            ("pgbench", "pgbench"),
            ("create", "CreateTicket"),
            ("classify", "ClassifyPriority"),
        ] {
            if let Some(c) = r.figures.median(kind, clients) {
                println!(
                    "| {label} | {clients} | {:.0} | {:.0} | {:.0} | {:.0} |",
                    c.cpu_server,
                    c.cpu_db,
                    c.cpu_client,
                    c.cpu_total()
                );
            }
        }
    }
    let disturbed = r
        .figures
        .0
        .values()
        .flatten()
        .map(|c| c.other_load)
        .fold(0.0, f64::max);
    println!();
    println!(
        "Processes outside the measurement used at most {disturbed:.2} cores during any cell; \
         normally under 0.1; more means something else ran during the cell."
    );
    println!();
    println!(
        "## Open loop at half the peak: {:.0} per second (peak {:.0} RPS), Poisson arrivals",
        r.half, r.peak
    );
    println!();
    println!("| path | achieved / s | p50 / p99 / p99.9 ms | errors or not sent |");
    println!("|---|---|---|---|");
    println!(
        "| CreateTicket through ticketd (latency from the scheduled send) | {:.0} | {} | {} |",
        r.open_ticketd.rps,
        ms3(&r.open_ticketd),
        r.open_ticketd.errors
    );
    println!(
        "| pgbench `--rate`, {} clients (latency from the scheduled start) | {:.0} | {} | {} |",
        r.busiest,
        r.open_pgbench.rps,
        ms3(&r.open_pgbench),
        r.open_pgbench.errors
    );
    println!();
    println!("## ticketd's memory and start-up");
    println!();
    let mut ready: Vec<f64> = r.ready.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    let slowest = ready.iter().copied().fold(0.0, f64::max);
    println!(
        "- Resident memory: {} MiB idle after start-up; {} MiB after the closed-loop rounds; \
         peak {} MiB over the whole run (VmHWM); {} MiB after the open loop.",
        mib(r.idle, false),
        mib(r.loaded, false),
        mib(r.after, true),
        mib(r.after, false)
    );
    println!(
        "- Spawn to SERVING (health answers after a database round trip) on the migrated database: \
         median {:.0} ms, slowest {slowest:.0} ms of {} starts. First start, creating and migrating \
         the database: {:.0} ms.",
        median(&mut ready),
        r.ready.len(),
        r.first_ready.as_secs_f64() * 1000.0
    );
    println!("- {}", r.integrity);
}

async fn sqlite_suite(
    rounds: usize,
    seconds: u64,
    warmup: u64,
    connections: usize,
    concurrency: &[usize],
) {
    let path = std::env::temp_dir().join(format!(
        "ticketd_bench_{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let url = format!("sqlite://{}", path.display());
    let (server, ready) = Server::start(&url).await;
    let target = Arc::new(
        Target::connect(&server.url, &server.token, connections, "bench")
            .await
            .expect("connect the load client"),
    );
    let mut bench = Bench {
        database_url: None,
        server,
        target,
        scratch: std::env::temp_dir(),
        seconds: Duration::from_secs(warmup),
        max_wait: MAX_WAIT.get().copied().unwrap_or_default(),
    };
    bench.ticketd(Call::Create, 8, None).await;
    bench.seconds = Duration::from_secs(seconds);
    let mut figures = Figures::default();
    for round in 1..=rounds {
        eprintln!("SQLite round {round} of {rounds}");
        for &clients in concurrency {
            let work = Work::Ticketd {
                call: Call::Create,
                clients,
                rate: None,
            };
            let cell = bench.cell("CreateTicket on SQLite", work).await;
            figures.push("create", clients, cell);
        }
    }
    let after = server::resident_kib(bench.server.pid());
    println!();
    println!("## CreateTicket on the embedded SQLite store (medians of {rounds} rounds)");
    println!();
    println!("| clients | RPS | p50 / p99 / p99.9 ms | ticketd CPU µs/req | errors |");
    println!("|---|---|---|---|---|");
    for &clients in concurrency {
        if let Some(c) = figures.median("create", clients) {
            println!(
                "| {clients} | {:.0} | {} | {:.0} | {} |",
                c.rps,
                ms3(&c),
                c.cpu_server,
                c.errors
            );
        }
    }
    println!();
    println!(
        "- Start-up on a new file: {:.0} ms; resident memory after the load {} MiB (peak {} MiB).",
        ready.as_secs_f64() * 1000.0,
        mib(after, false),
        mib(after, true)
    );
    drop(bench);
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
