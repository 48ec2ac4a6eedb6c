//! WatchSlaStatus at scale, from one command:
//!
//!     cargo bench --bench watch -- [--streams 10000] [--accounts 100] [--rate 50] [--seconds 10]
//!
//! Starts the real `ticketd` binary on a fresh PostgreSQL database and:
//! 1. opens `--streams` watch streams over 20 HTTP/2 connections, each
//!    filtered to one of `--accounts` accounts, and reports the server's
//!    resident memory per stream and its CPU while they sit idle;
//! 2. creates tickets at `--rate` per second, spread over the accounts, and
//!    reports receipt-to-delivery latency over every delivery (the server
//!    stamps `occur_time` before the insert commits, so this bounds
//!    commit-to-delivery from above);
//! 3. measures closed-loop CreateTicket throughput at 8 clients with no
//!    watcher, then with 1,000 watchers (one per account written to), so the
//!    cost of the doorbell and fan-out shows as a ratio from the same run.
//!
//! PostgreSQL is expected on 127.0.0.1:5432 (override with BENCH_DATABASE_URL).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ticketd::client::{AuthedChannel, Bearer};
use ticketd::proto::pb;
use ticketd::proto::pb::ticket_service_client::TicketServiceClient;
use ticketd::proto::pb::watch_sla_status_response::Update;
use tokio::sync::Mutex;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

struct Options {
    streams: usize,
    accounts: usize,
    rate: u64,
    seconds: u64,
}

fn options() -> Options {
    let mut options = Options {
        streams: 10_000,
        accounts: 100,
        rate: 50,
        seconds: 10,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--streams" => options.streams = value().parse().expect("--streams N"),
            "--accounts" => options.accounts = value().parse().expect("--accounts N"),
            "--rate" => options.rate = value().parse().expect("--rate N"),
            "--seconds" => options.seconds = value().parse().expect("--seconds N"),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

/// A ticketd child process on its own database, killed and dropped on drop.
struct Server {
    child: Child,
    addr: String,
    database: String,
    bearer: Bearer,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-qc"])
            .arg(format!(
                r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#,
                self.database
            ))
            .status();
    }
}

impl Server {
    async fn start() -> Self {
        let database = format!("ticketd_bench_{}", uuid::Uuid::new_v4().simple());
        let base = std::env::var("BENCH_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let url = format!("{base}/{database}");
        let token = ticketd::client::issue_admin_token(&url, "bench")
            .await
            .expect("issue the benchmark's credential");
        let child = Command::new(env!("CARGO_BIN_EXE_ticketd"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database", &url])
            // One credential drives everything, and thousands of streams
            // open at once: measure the hub, not the admission limits.
            .args(["--rate-limit-rps", "0", "--max-in-flight", "20000"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ticketd");
        let server = Self {
            child,
            addr: format!("http://127.0.0.1:{port}"),
            database,
            bearer: Bearer::new(&token).unwrap(),
        };
        for _ in 0..200 {
            if Channel::from_shared(server.addr.clone())
                .unwrap()
                .connect()
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("ticketd did not start");
    }

    fn status_field(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a numeric field")
    }

    fn resident_kib(&self) -> u64 {
        self.status_field("VmRSS:")
    }

    /// User plus system CPU time of the server so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("the server's /proc stat");
        // Fields after the parenthesised command name; utime and stime are 14 and 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // USER_HZ is 100 on Linux.
        Duration::from_millis(ticks * 10)
    }

    async fn channel(&self) -> AuthedChannel {
        let channel = Channel::from_shared(self.addr.clone())
            .unwrap()
            .connect()
            .await
            .expect("connect");
        InterceptedService::new(channel, self.bearer.clone())
    }
}

fn account_id(n: usize) -> String {
    format!("team-{n:05}")
}

async fn create_accounts(client: &mut TicketServiceClient<AuthedChannel>, count: usize) {
    for n in 0..count {
        client
            .create_account(pb::CreateAccountRequest {
                account_id: account_id(n),
                account: Some(pb::Account {
                    display_name: format!("Team {n}"),
                    plan: pb::Plan::Business.into(),
                    ..Default::default()
                }),
            })
            .await
            .expect("create account");
    }
}

fn ticket(account: usize, n: u64) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        account: format!("accounts/{}", account_id(account)),
        origin: Some(pb::create_ticket_request::Origin::Chat(pb::ChatSession {
            chat_session_id: format!("bench-{n}"),
            transcript_uri: String::new(),
            first_message: "The webinar stream keeps freezing".into(),
        })),
        subject: "Webinar stream freezes".into(),
        description: String::new(),
        impact: Some(pb::Impact {
            kind: pb::RequestKind::Problem.into(),
            scope: pb::ImpactScope::Degraded.into(),
            workaround: pb::Workaround::Partial.into(),
        }),
        request_id: String::new(),
    }
}

/// What the watchers saw: delivery latencies in microseconds.
#[derive(Default)]
struct Deliveries {
    latencies_us: Mutex<Vec<u64>>,
    snapshots_done: AtomicUsize,
    errors: AtomicUsize,
}

/// Opens `count` streams round-robin over `channels`, stream `i` filtered
/// to account `i % accounts`; returns once every snapshot has ended.
async fn open_watchers(
    channels: &[AuthedChannel],
    count: usize,
    accounts: usize,
    seen: Arc<Deliveries>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let mut client = TicketServiceClient::new(channels[i % channels.len()].clone());
        let seen = seen.clone();
        tasks.push(tokio::spawn(async move {
            let request = pb::WatchSlaStatusRequest {
                account: format!("accounts/{}", account_id(i % accounts)),
                ..Default::default()
            };
            let mut stream = match client.watch_sla_status(request).await {
                Ok(stream) => stream.into_inner(),
                Err(status) => {
                    eprintln!("watch refused: {status}");
                    seen.errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            };
            loop {
                match stream.message().await {
                    Ok(Some(update)) => match update.update {
                        Some(Update::SnapshotEnd(_)) => {
                            seen.snapshots_done.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(Update::Event(event)) => {
                            let occurred = event.event.and_then(|e| e.occur_time).unwrap();
                            let now = SystemTime::now()
                                .duration_since(SystemTime::UNIX_EPOCH)
                                .unwrap();
                            let at = Duration::new(occurred.seconds as u64, occurred.nanos as u32);
                            let latency = now.saturating_sub(at).as_micros() as u64;
                            seen.latencies_us.lock().await.push(latency);
                        }
                        _ => {}
                    },
                    Ok(None) => return,
                    Err(status) => {
                        eprintln!("watch ended: {status}");
                        seen.errors.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
        }));
        // Pace the opening a little so the server's accept queue keeps up.
        if i % 500 == 499 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let started = Instant::now();
    while seen.snapshots_done.load(Ordering::Relaxed) + seen.errors.load(Ordering::Relaxed) < count
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "streams did not open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tasks
}

/// Creates tickets at `rate` per second for `duration`, round-robin over accounts.
async fn steady_creates(
    channel: &AuthedChannel,
    rate: u64,
    duration: Duration,
    accounts: usize,
) -> u64 {
    let mut client = TicketServiceClient::new(channel.clone());
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let deadline = Instant::now() + duration;
    let mut n = 0;
    while Instant::now() < deadline {
        ticker.tick().await;
        let mut client = client.clone();
        let account = (n as usize) % accounts;
        tokio::spawn(async move { client.create_ticket(ticket(account, n)).await });
        n += 1;
    }
    let _ = &mut client;
    n
}

/// Closed-loop CreateTicket from 8 clients for `duration`: requests per second.
async fn intake_rps(channel: &AuthedChannel, duration: Duration, accounts: usize) -> f64 {
    let started = Instant::now();
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let mut client = TicketServiceClient::new(channel.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                while started.elapsed() < duration {
                    let n = worker * 10_000_000 + done;
                    if client
                        .create_ticket(ticket((n as usize) % accounts, n))
                        .await
                        .is_ok()
                    {
                        done += 1;
                    }
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let options = options();
    let duration = Duration::from_secs(options.seconds);
    println!(
        "ticketd watch benchmark: {} streams over 20 connections, {} accounts, {} cores",
        options.streams,
        options.accounts,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1 and 2: many streams, idle then under a steady create load.
    let server = Server::start().await;
    let control = server.channel().await;
    create_accounts(
        &mut TicketServiceClient::new(control.clone()),
        options.accounts.max(1000),
    )
    .await;
    let idle_before = server.resident_kib();
    let mut channels = Vec::new();
    for _ in 0..20 {
        channels.push(server.channel().await);
    }
    let seen = Arc::new(Deliveries::default());
    let opened = Instant::now();
    let watchers = open_watchers(&channels, options.streams, options.accounts, seen.clone()).await;
    let open_time = opened.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let with_streams = server.resident_kib();
    let cpu_before = server.cpu();
    let idle_window = Instant::now();
    tokio::time::sleep(duration).await;
    let idle_cpu = (server.cpu() - cpu_before).as_secs_f64() / idle_window.elapsed().as_secs_f64();
    let refused = seen.errors.load(Ordering::Relaxed);

    let created = steady_creates(&control, options.rate, duration, options.accounts).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let loaded = server.resident_kib();
    let mut latencies = std::mem::take(&mut *seen.latencies_us.lock().await);
    latencies.sort_unstable();
    let expected = created as usize * (options.streams / options.accounts.max(1));

    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| streams open (refused or ended) | {} ({refused}) in {:.1} s |",
        options.streams,
        open_time.as_secs_f64()
    );
    println!("| server RSS before streams | {} KiB |", idle_before);
    println!(
        "| server RSS with streams idle | {} KiB ({:.1} KiB per stream) |",
        with_streams,
        (with_streams.saturating_sub(idle_before)) as f64 / options.streams as f64
    );
    println!(
        "| server CPU with streams idle | {:.2} % of one core |",
        idle_cpu * 100.0
    );
    println!(
        "| steady load | {created} tickets at {}/s, {} deliveries (expected {expected}) |",
        options.rate,
        latencies.len()
    );
    println!(
        "| receipt-to-delivery p50 / p99 / max | {:.2} / {:.2} / {:.2} ms |",
        percentile_ms(&latencies, 0.50),
        percentile_ms(&latencies, 0.99),
        percentile_ms(&latencies, 1.0)
    );
    println!("| server RSS under load | {} KiB |", loaded);
    for watcher in watchers {
        watcher.abort();
    }
    drop(channels);
    drop(server);

    // 3: intake with 0 and 1,000 watchers, on a fresh server each.
    let mut rps = Vec::new();
    for watchers in [0, 1000] {
        let server = Server::start().await;
        let channel = server.channel().await;
        create_accounts(&mut TicketServiceClient::new(channel.clone()), 1000).await;
        let mut channels = Vec::new();
        for _ in 0..4 {
            channels.push(server.channel().await);
        }
        let seen = Arc::new(Deliveries::default());
        let tasks = open_watchers(&channels, watchers, 1000, seen.clone()).await;
        // Warm-up, then the measured run.
        intake_rps(&channel, Duration::from_secs(2), 1000).await;
        let measured = intake_rps(&channel, duration, 1000).await;
        println!(
            "| CreateTicket, 8 clients, {watchers} watchers | {measured:.0} RPS ({} deliveries) |",
            seen.latencies_us.lock().await.len()
        );
        rps.push(measured);
        for task in tasks {
            task.abort();
        }
    }
    println!(
        "| CreateTicket with 1,000 watchers / with none | {:.2} |",
        rps[1] / rps[0]
    );
}
