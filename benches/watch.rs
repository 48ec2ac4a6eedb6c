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
//! Two attack scenarios run instead when asked for:
//!
//!     cargo bench --bench watch -- --stalled 2000 [--events 600]
//!     cargo bench --bench watch -- --burst 2000
//!
//! `--stalled N` writes `--events` tickets (4 KiB descriptions), then opens N
//! streams resuming from the start of the log over raw HTTP/2 with a 16-byte
//! window, never read, and reports the server's resident memory at its
//! peak, once the server has ended the
//! stalled streams, and after every connection has closed. `--burst N`
//! opens N streams at once and reports how many were refused, and with what,
//! and whether the health check and CreateTicket kept answering meanwhile.
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
    stalled: Option<usize>,
    events: usize,
    burst: Option<usize>,
}

fn options() -> Options {
    let mut options = Options {
        streams: 10_000,
        accounts: 100,
        rate: 50,
        seconds: 10,
        stalled: None,
        events: 600,
        burst: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--streams" => options.streams = value().parse().expect("--streams N"),
            "--accounts" => options.accounts = value().parse().expect("--accounts N"),
            "--rate" => options.rate = value().parse().expect("--rate N"),
            "--seconds" => options.seconds = value().parse().expect("--seconds N"),
            "--stalled" => options.stalled = Some(value().parse().expect("--stalled N")),
            "--events" => options.events = value().parse().expect("--events N"),
            "--burst" => options.burst = Some(value().parse().expect("--burst N")),
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
    token: String,
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
        Self::start_with(&[]).await
    }

    async fn start_with(extra: &[&str]) -> Self {
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
        // TICKETD_BIN runs another build (an earlier commit's, say) under
        // the same load.
        let binary =
            std::env::var("TICKETD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ticketd").into());
        let child = Command::new(binary)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database", &url])
            // One credential drives everything, and thousands of streams
            // open at once: measure the hub, not the admission limits.
            .args(["--rate-limit-rps", "0", "--max-in-flight", "20000"])
            .args(extra)
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
            token,
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

    fn bearer_token(&self) -> String {
        self.token.clone()
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
    if let Some(streams) = options.stalled {
        return stalled::run(streams, options.events).await;
    }
    if let Some(streams) = options.burst {
        return burst::run(streams).await;
    }
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

/// Streams whose client never reads: what they cost the server, and whether
/// it gets that memory back.
mod stalled {
    use super::*;
    use prost::Message;

    /// One WatchSlaStatus call over raw HTTP/2, as a gRPC frame.
    pub fn watch_request(addr: &str, token: &str) -> (http::Request<()>, bytes::Bytes) {
        let request =
            http::Request::post(format!("{addr}/support.v1.TicketService/WatchSlaStatus"))
                .header("content-type", "application/grpc")
                .header("te", "trailers")
                .header("authorization", format!("Bearer {token}"))
                .body(())
                .unwrap();
        // From the start of the log: each stream catches up on its own.
        let body = pb::WatchSlaStatusRequest {
            resume_cursor: "v1.0.0".into(),
            ..Default::default()
        }
        .encode_to_vec();
        let mut frame = vec![0u8];
        frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
        frame.extend_from_slice(&body);
        (request, frame.into())
    }

    pub async fn run(streams: usize, events: usize) {
        let slow_consumer_ms = 5_000;
        let server =
            Server::start_with(&["--watch-slow-consumer-ms", &slow_consumer_ms.to_string()]).await;
        let control = server.channel().await;
        create_accounts(&mut TicketServiceClient::new(control.clone()), 1).await;
        // Tickets as people write them: a few KiB of description each.
        let description = "The webinar stream freezes every few minutes. ".repeat(90);
        let mut client = TicketServiceClient::new(control.clone());
        for n in 0..events as u64 {
            let mut request = ticket(0, n);
            request.description = description.clone();
            client.create_ticket(request).await.expect("create ticket");
        }
        let before = server.resident_kib();
        let mut peak = before;
        let token = server.bearer_token();
        let per_connection = 100;
        let mut connections = Vec::new();
        let mut held = Vec::new();
        let mut clients = Vec::new();
        let mut refused = 0;
        for c in 0..streams.div_ceil(per_connection) {
            let tcp = tokio::net::TcpStream::connect(server.addr.trim_start_matches("http://"))
                .await
                .expect("connect");
            let (mut client, connection) = h2::client::Builder::new()
                .initial_window_size(16)
                .handshake::<_, bytes::Bytes>(tcp)
                .await
                .expect("HTTP/2 handshake");
            connections.push(tokio::spawn(connection));
            for _ in 0..per_connection.min(streams - c * per_connection) {
                client = client.ready().await.expect("stream capacity");
                let (request, frame) = watch_request(&server.addr, &token);
                let (response, mut send) = client.send_request(request, false).unwrap();
                send.send_data(frame, true).unwrap();
                match tokio::time::timeout(Duration::from_secs(30), response).await {
                    // A refusal comes as a trailers-only response: status 200
                    // with grpc-status among the headers.
                    Ok(Ok(response))
                        if response.status() == 200
                            && !response.headers().contains_key("grpc-status") =>
                    {
                        held.push(response)
                    }
                    Ok(Ok(response)) => {
                        if refused == 0 {
                            eprintln!("refused: {:?}", response.headers());
                        }
                        refused += 1
                    }
                    _ => refused += 1,
                }
                if held.len() % 100 == 0 {
                    peak = peak.max(server.resident_kib());
                }
            }
            clients.push(client);
        }
        let opened = server.resident_kib();
        // Past the slow-consumer timeout every stalled stream has been ended;
        // the last to open may first wait their turn to read the log.
        let settle = Instant::now();
        while settle.elapsed() < Duration::from_millis(slow_consumer_ms + 25_000) {
            peak = peak.max(server.resident_kib());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let ended = server.resident_kib();
        // What one stalled stream had been sent: read it out now.
        let mut probe = held.pop().expect("a stream").into_body();
        let mut received = 0;
        while let Ok(Some(Ok(data))) =
            tokio::time::timeout(Duration::from_secs(2), probe.data()).await
        {
            received += data.len();
            let _ = probe.flow_control().release_capacity(data.len());
        }
        let trailers = tokio::time::timeout(Duration::from_secs(2), probe.trailers()).await;
        drop(held);
        drop(clients);
        for connection in connections {
            connection.abort();
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
        let closed = server.resident_kib();
        println!(
            "ticketd stalled-watch benchmark: {streams} streams, 16-byte window, never read; {events} tickets written; {} cores",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!();
        println!("| measure | value |");
        println!("|---|---|");
        println!(
            "| streams held (refused) | {} ({refused}) |",
            streams - refused
        );
        println!("| server RSS before streams | {before} KiB |");
        println!(
            "| server RSS with streams open | {opened} KiB ({:.1} KiB per stream) |",
            opened.saturating_sub(before) as f64 / streams as f64
        );
        println!(
            "| server RSS peak | {peak} KiB ({:.1} KiB per stream) |",
            peak.saturating_sub(before) as f64 / streams as f64
        );
        println!("| server RSS once the slow-consumer timeout ended them | {ended} KiB |");
        println!("| server RSS 15 s after every connection closed | {closed} KiB |");
        println!(
            "| one stalled stream, read out afterwards | {received} bytes, then {trailers:?} |"
        );
    }
}

/// Many streams opened at the same moment: what is refused, and whether the
/// replica stays healthy and keeps taking tickets meanwhile.
mod burst {
    use super::*;
    use std::collections::BTreeMap;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    pub async fn run(streams: usize) {
        let server = Server::start().await;
        let control = server.channel().await;
        create_accounts(&mut TicketServiceClient::new(control.clone()), 10).await;
        // Open tickets, so every snapshot has rows to read.
        let mut client = TicketServiceClient::new(control.clone());
        for n in 0..200 {
            client
                .create_ticket(ticket(n as usize % 10, n))
                .await
                .expect("create ticket");
        }
        let mut channels = Vec::new();
        for _ in 0..20 {
            channels.push(server.channel().await);
        }
        let outcomes: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
        let stop = Arc::new(tokio::sync::Notify::new());
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..streams {
            let mut client = TicketServiceClient::new(channels[i % channels.len()].clone());
            let outcomes = outcomes.clone();
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                let request = pb::WatchSlaStatusRequest {
                    account: format!("accounts/{}", account_id(i % 10)),
                    ..Default::default()
                };
                let outcome = match client.watch_sla_status(request).await {
                    Err(status) => format!("{:?}", status.code()),
                    Ok(stream) => {
                        let mut stream = stream.into_inner();
                        loop {
                            match stream.message().await {
                                Ok(Some(pb::WatchSlaStatusResponse {
                                    update: Some(Update::SnapshotEnd(_)),
                                    ..
                                })) => break "snapshot received".to_owned(),
                                Ok(Some(_)) => {}
                                Ok(None) => break "ended without a snapshot".to_owned(),
                                Err(status) => break format!("{:?}", status.code()),
                            }
                        }
                    }
                };
                let wait = Instant::now();
                *outcomes.lock().await.entry(outcome).or_default() += 1;
                // Hold the stream open until the burst is over.
                let _ = tokio::time::timeout(Duration::from_secs(120), stop.notified()).await;
                wait.elapsed()
            }));
        }
        // Meanwhile: a health check every 100 ms and a ticket every 50 ms.
        let health_channel = tonic::transport::Channel::from_shared(server.addr.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut health = HealthClient::new(health_channel);
        let mut creates = TicketServiceClient::new(control.clone());
        let mut health_results: BTreeMap<String, usize> = BTreeMap::new();
        let mut health_latency = Vec::new();
        let (mut created, mut create_failed) = (0, 0);
        let mut n = 1_000;
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        while outcomes.lock().await.values().sum::<usize>() < streams
            && started.elapsed() < Duration::from_secs(120)
        {
            tick.tick().await;
            n += 1;
            match creates.create_ticket(ticket(n as usize % 10, n)).await {
                Ok(_) => created += 1,
                Err(_) => create_failed += 1,
            }
            if n % 2 == 0 {
                let asked = Instant::now();
                let answer = health
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await;
                health_latency.push(asked.elapsed().as_micros() as u64);
                let answer = match answer {
                    Ok(response) => format!("{:?}", response.into_inner().status()),
                    Err(status) => format!("{:?}", status.code()),
                };
                *health_results.entry(answer).or_default() += 1;
            }
        }
        let elapsed = started.elapsed();
        stop.notify_waiters();
        for task in tasks {
            task.abort();
        }
        health_latency.sort_unstable();
        println!(
            "ticketd watch-burst benchmark: {streams} WatchSlaStatus opened at once over 20 connections, 200 open tickets; {} cores",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!();
        println!("| measure | value |");
        println!("|---|---|");
        for (outcome, count) in outcomes.lock().await.iter() {
            println!("| streams: {outcome} | {count} |");
        }
        println!(
            "| every stream answered after | {:.2} s |",
            elapsed.as_secs_f64()
        );
        println!("| CreateTicket during the burst: ok / failed | {created} / {create_failed} |");
        for (answer, count) in &health_results {
            println!("| health checks answered {answer} | {count} |");
        }
        println!(
            "| health check latency p50 / p99 | {:.2} / {:.2} ms |",
            percentile_ms(&health_latency, 0.5),
            percentile_ms(&health_latency, 0.99)
        );
    }
}
