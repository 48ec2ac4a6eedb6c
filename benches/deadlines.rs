//! "Which open tickets are due in the next 30 minutes? First 100." at scale:
//!
//!     cargo bench --bench deadlines -- [--tickets 1000000] [--queries 2000]
//!
//! Seeds PostgreSQL with `--tickets` tickets in SQL (1 in 50 still waiting for
//! a first response, deadlines spread from a day ago to a day ahead; the rest
//! answered over the last 30 days), then asks ticketd ListTicketsByDeadline
//! `--queries` times, one at a time, and runs the very same SQL directly
//! through sqlx as the reference. Prints latency percentiles of both and the
//! ratio. PostgreSQL is expected on 127.0.0.1:5432 (BENCH_DATABASE_URL).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, PgPool};
use ticketd::proto::pb;
use ticketd::store::{DeadlineFilter, push_deadline_query};
use tonic::transport::Channel;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn percentiles(mut micros: Vec<u128>) -> (f64, f64, f64) {
    micros.sort_unstable();
    let at = |p: f64| micros[((micros.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0;
    (at(0.5), at(0.99), at(0.999))
}

#[tokio::main]
async fn main() {
    let tickets = arg("--tickets", 1_000_000);
    let queries = arg("--queries", 2_000) as usize;
    let base = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("ticketd_bench_{}", uuid::Uuid::new_v4().simple());
    let url = format!("{base}/{name}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = ticketd::client::issue_admin_token(&url, "bench")
        .await
        .expect("issue the benchmark's credential");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_ticketd"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database",
                &url,
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start ticketd"),
    );
    let addr = format!("http://127.0.0.1:{port}");
    let mut channel = None;
    for _ in 0..200 {
        if let Ok(c) = Channel::from_shared(addr.clone()).unwrap().connect().await {
            channel = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut client = ticketd::client::ticket_client(
        channel.expect("ticketd started"),
        ticketd::client::Bearer::new(&token).unwrap(),
    );
    client
        .create_account(pb::CreateAccountRequest {
            account_id: "bench".into(),
            account: Some(pb::Account {
                display_name: "Bench".into(),
                plan: pb::Plan::Business.into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();

    let pool = PgPool::connect(&url).await.unwrap();
    let seeding = Instant::now();
    sqlx::query(
        "INSERT INTO tickets (id, account_id, plan, channel, chat_session_id, first_message, \
         subject, description, request_kind, impact_scope, workaround, priority, priority_rule_id, \
         priority_rule_description, status, received_at, response_target_seconds, \
         response_due_at, policy_version, at_risk_at, first_response_at, first_responder, \
         first_response_method, sla_state, next_sla_check_at, version) \
         SELECT gen_random_uuid(), 'bench', 'business', 'chat', 'seed-' || n, 'seeded', \
         'Seeded ticket', '', 'problem', 'service_down', 'none', 'p1', 'seed', 'seeded', \
         CASE WHEN open THEN 'new' ELSE 'closed' END, due - interval '1 hour', 3600, due, 'seed', \
         due - interval '15 minutes', \
         CASE WHEN open THEN NULL ELSE due - interval '30 minutes' END, \
         CASE WHEN open THEN NULL ELSE 'seed' END, \
         CASE WHEN open THEN NULL ELSE 'email' END, \
         CASE WHEN open THEN 'on_track' ELSE 'met' END, NULL, 1 \
         FROM (SELECT n, n % 50 = 0 AS open, \
               CASE WHEN n % 50 = 0 \
                    THEN now() - interval '1 day' + (n / 50 % 2880) * interval '1 minute' \
                    ELSE now() - interval '30 days' + n * interval '1 second' END AS due \
               FROM generate_series(1, $1) AS n) AS seed",
    )
    .bind(i64::try_from(tickets).unwrap())
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE tickets").execute(&pool).await.unwrap();
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM tickets WHERE status = 'new'")
        .fetch_one(&pool)
        .await
        .unwrap();
    println!(
        "seeded {tickets} tickets ({open} awaiting a first response) in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let request = pb::ListTicketsByDeadlineRequest {
        due_within: Some(prost_types::Duration {
            seconds: 1800,
            nanos: 0,
        }),
        page_size: 100,
        ..Default::default()
    };
    // Warm both paths.
    for _ in 0..50 {
        client
            .list_tickets_by_deadline(request.clone())
            .await
            .unwrap();
    }
    let mut via_ticketd = Vec::with_capacity(queries);
    let mut returned = 0;
    for _ in 0..queries {
        let started = Instant::now();
        let page = client
            .list_tickets_by_deadline(request.clone())
            .await
            .unwrap()
            .into_inner();
        via_ticketd.push(started.elapsed().as_micros());
        returned = page.tickets.len();
    }

    let mut conn = PgConnection::connect(&url).await.unwrap();
    let mut direct = Vec::with_capacity(queries);
    for i in 0..queries + 50 {
        let filter = DeadlineFilter {
            now: chrono::Utc::now(),
            due_within: Some(chrono::Duration::minutes(30)),
            states: Vec::new(),
            plan: None,
            priority: None,
            channel: None,
        };
        let mut query = sqlx::QueryBuilder::<sqlx::Postgres>::new("SELECT * FROM tickets");
        // ticketd asks for one row more than the page, to know whether another follows.
        push_deadline_query(&mut query, &filter, None, 101);
        let started = Instant::now();
        let rows = query.build().fetch_all(&mut conn).await.unwrap();
        if i >= 50 {
            direct.push(started.elapsed().as_micros());
        }
        assert!(!rows.is_empty());
    }

    let (t50, t99, t999) = percentiles(via_ticketd);
    let (d50, d99, d999) = percentiles(direct);
    println!("{queries} sequential queries, each returning {returned} tickets:");
    println!();
    println!("| path | p50 ms | p99 ms | p99.9 ms |");
    println!("|---|---|---|---|");
    println!("| ListTicketsByDeadline through ticketd | {t50:.2} | {t99:.2} | {t999:.2} |");
    println!("| the same SQL through sqlx (reference) | {d50:.2} | {d99:.2} | {d999:.2} |");
    println!();
    println!(
        "- ticketd / direct SQL: p50 {:.2}×, p99 {:.2}×",
        t50 / d50,
        t99 / d99
    );

    drop(client);
    drop(server);
    pool.close().await;
    drop(conn);
    let mut admin = PgConnection::connect(&format!("{base}/postgres"))
        .await
        .unwrap();
    sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
        .execute(&mut admin)
        .await
        .unwrap();
}
