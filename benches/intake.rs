//! CreateTicket throughput and latency on each store, from one command:
//!
//!     cargo bench --bench intake -- [--seconds 10] [--concurrency 8,32] [--stores sqlite,postgres]
//!
//! Starts the real `ticketd` binary per store on a fresh database, warms it
//! up, then drives CreateTicket from closed-loop clients. Beside each store's
//! figures it measures ClassifyPriority (no database) on the same server as
//! the transport ceiling, and prints the ratios measured in the same run.
//! PostgreSQL is expected on 127.0.0.1:5432 (override with BENCH_DATABASE_URL).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ticketd::proto::pb;
use ticketd::proto::pb::policy_service_client::PolicyServiceClient;
use ticketd::proto::pb::ticket_service_client::TicketServiceClient;
use tonic::transport::Channel;

struct Options {
    seconds: u64,
    warmup_seconds: u64,
    concurrency: Vec<usize>,
    stores: Vec<String>,
}

fn options() -> Options {
    let mut options = Options {
        seconds: 10,
        warmup_seconds: 2,
        concurrency: vec![8, 32],
        stores: vec!["sqlite".into(), "postgres".into()],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--seconds" => options.seconds = value().parse().expect("--seconds N"),
            "--warmup-seconds" => {
                options.warmup_seconds = value().parse().expect("--warmup-seconds N")
            }
            "--concurrency" => {
                options.concurrency = value()
                    .split(',')
                    .map(|c| c.parse().expect("--concurrency 8,32"))
                    .collect()
            }
            "--stores" => options.stores = value().split(',').map(str::to_owned).collect(),
            // cargo bench passes --bench; nothing else is expected.
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

/// A ticketd child process, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start(database: &str) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_ticketd"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            database,
        ])
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
        addr: format!("http://127.0.0.1:{port}"),
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
    panic!("ticketd did not start on {database}");
}

#[derive(Clone, Copy)]
enum Call {
    CreateTicket,
    ClassifyPriority,
}

struct Run {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl Run {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

fn chat_ticket(n: usize) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        account: "accounts/bench".into(),
        origin: Some(pb::create_ticket_request::Origin::Chat(pb::ChatSession {
            chat_session_id: format!("bench-{n}"),
            transcript_uri: String::new(),
            first_message: "The webinar stream keeps freezing".into(),
        })),
        subject: "Webinar stream freezes".into(),
        description: String::new(),
        impact: Some(impact()),
        request_id: format!("bench-{}", uuid::Uuid::new_v4()),
    }
}

fn impact() -> pb::Impact {
    pb::Impact {
        kind: pb::RequestKind::Problem.into(),
        scope: pb::ImpactScope::Degraded.into(),
        workaround: pb::Workaround::Partial.into(),
    }
}

/// `concurrency` clients, each sending its next request when the last is
/// answered, for `duration`.
async fn drive(channel: &Channel, call: Call, concurrency: usize, duration: Duration) -> Run {
    let started = Instant::now();
    let deadline = started + duration;
    let workers = (0..concurrency).map(|worker| {
        let mut tickets = TicketServiceClient::new(channel.clone());
        let mut policy = PolicyServiceClient::new(channel.clone());
        tokio::spawn(async move {
            let (mut latencies, mut errors, mut n) = (Vec::new(), 0usize, worker * 1_000_000);
            while Instant::now() < deadline {
                n += 1;
                let sent = Instant::now();
                let ok = match call {
                    Call::CreateTicket => tickets.create_ticket(chat_ticket(n)).await.is_ok(),
                    Call::ClassifyPriority => policy
                        .classify_priority(pb::ClassifyPriorityRequest {
                            impact: Some(impact()),
                        })
                        .await
                        .is_ok(),
                };
                if ok {
                    latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        })
    });
    let mut run = Run {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
    };
    for worker in workers.collect::<Vec<_>>() {
        let (latencies, errors) = worker.await.expect("worker");
        run.requests += latencies.len();
        run.errors += errors;
        run.latencies_us.extend(latencies);
    }
    run.elapsed = started.elapsed();
    run.latencies_us.sort_unstable();
    run
}

fn database_for(store: &str) -> (String, Option<String>) {
    let unique = format!("ticketd_bench_{}", uuid::Uuid::new_v4().simple());
    match store {
        "sqlite" => {
            let path = std::env::temp_dir().join(format!("{unique}.db"));
            (format!("sqlite://{}", path.display()), None)
        }
        "postgres" => {
            let base = std::env::var("BENCH_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            (format!("{base}/{unique}"), Some(unique))
        }
        other => panic!("unknown store {other}; use sqlite or postgres"),
    }
}

fn cleanup(store: &str, url: &str, pg_name: Option<String>) {
    if let Some(name) = pg_name {
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-qc"])
            .arg(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
            .status();
    } else if store == "sqlite" {
        let path = url.trim_start_matches("sqlite://");
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
}

fn row(label: &str, concurrency: usize, run: &Run) {
    println!(
        "| {label} | {concurrency} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
        run.rps(),
        run.percentile_ms(0.50),
        run.percentile_ms(0.99),
        run.percentile_ms(0.999),
        run.errors
    );
}

#[tokio::main]
async fn main() {
    let options = options();
    let duration = Duration::from_secs(options.seconds);
    println!(
        "ticketd intake benchmark: {} s per cell after {} s warm-up, closed loop, one HTTP/2 connection; \
         {} cores",
        options.seconds,
        options.warmup_seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!("| call / store | clients | RPS | p50 ms | p99 ms | p99.9 ms | errors |");
    println!("|---|---|---|---|---|---|---|");
    let mut create_rps: Vec<(String, usize, f64)> = Vec::new();
    let mut notes = Vec::new();
    for store in &options.stores {
        let (url, pg_name) = database_for(store);
        let server = start(&url).await;
        let channel = Channel::from_shared(server.addr.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        TicketServiceClient::new(channel.clone())
            .create_account(pb::CreateAccountRequest {
                account_id: "bench".into(),
                account: Some(pb::Account {
                    display_name: "Bench".into(),
                    plan: pb::Plan::Business.into(),
                    ..Default::default()
                }),
            })
            .await
            .expect("create the bench account");
        let idle_kib = server.resident_kib();
        drive(
            &channel,
            Call::CreateTicket,
            8,
            Duration::from_secs(options.warmup_seconds),
        )
        .await;
        for &concurrency in &options.concurrency {
            let create = drive(&channel, Call::CreateTicket, concurrency, duration).await;
            row(&format!("CreateTicket / {store}"), concurrency, &create);
            let ceiling = drive(&channel, Call::ClassifyPriority, concurrency, duration).await;
            row(
                &format!("ClassifyPriority (no database) / {store}"),
                concurrency,
                &ceiling,
            );
            notes.push(format!(
                "{store}, {concurrency} clients: CreateTicket at {:.2} × the transport ceiling",
                create.rps() / ceiling.rps()
            ));
            create_rps.push((store.clone(), concurrency, create.rps()));
        }
        notes.push(format!(
            "{store}: server resident memory {} KiB idle, {} KiB after load",
            idle_kib.map_or("?".into(), |k| k.to_string()),
            server.resident_kib().map_or("?".into(), |k| k.to_string())
        ));
        drop(channel);
        drop(server);
        cleanup(store, &url, pg_name);
    }
    println!();
    for note in notes {
        println!("- {note}");
    }
    for &concurrency in &options.concurrency {
        let rps = |store: &str| {
            create_rps
                .iter()
                .find(|(s, c, _)| s == store && *c == concurrency)
                .map(|(_, _, rps)| *rps)
        };
        if let (Some(sqlite), Some(postgres)) = (rps("sqlite"), rps("postgres")) {
            println!(
                "- {concurrency} clients: CreateTicket on SQLite / on PostgreSQL = {:.2}",
                sqlite / postgres
            );
        }
    }
}
