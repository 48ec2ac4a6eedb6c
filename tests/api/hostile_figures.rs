//! Figures for hostile clients, printed rather than asserted: run them on
//! purpose, one at a time, against the `ticketd` binary of this build.
//!
//!     cargo test --test api -- --ignored --nocapture hostile_figures::idle_connections
//!     cargo test --test api -- --ignored --nocapture hostile_figures::one_credentials_flood
//!
//! `idle_connections`: ticketd runs with 512 open files (`ulimit -n 512`),
//! one peer (127.0.0.2) opens 3,000 connections and sends nothing, and a
//! load balancer (127.0.0.1) health-checks on a fresh connection 50 times.
//! `one_credentials_flood`: one credential sends 30,000 CreateTicket calls,
//! 1,000 at a time, with the default limits; meanwhile another credential
//! creates tickets from five callers, one call after another each, and its
//! outcomes are counted.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ticketd::client::{Bearer, ticket_client};
use ticketd::proto::pb;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tonic::transport::Channel;

use crate::helpers::*;
use crate::support::figures::percentile;
use crate::support::process::Ticketd;
use crate::support::raw::{RawConnection, frame};

async fn connect_from(source: [u8; 4], addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    socket.connect(addr).await
}

#[tokio::test]
#[ignore = "prints figures; run on purpose"]
async fn idle_connections() {
    const IDLE: usize = 3_000;
    const PROBES: usize = 50;
    let path = std::env::temp_dir().join(format!("ticketd_idle_{}.db", uuid::Uuid::new_v4()));
    let server =
        Ticketd::start_with_open_files(&format!("sqlite://{}", path.display()), Some(512)).await;

    let opening = Instant::now();
    let mut idle = Vec::with_capacity(IDLE);
    let mut not_connected = 0;
    for _ in 0..IDLE {
        match tokio::time::timeout(
            Duration::from_millis(100),
            connect_from([127, 0, 0, 2], server.addr),
        )
        .await
        {
            Ok(Ok(stream)) => idle.push(stream),
            _ => not_connected += 1,
        }
    }
    let opened_in = opening.elapsed();

    let mut latencies = Vec::new();
    let mut failures = 0;
    let probing = Instant::now();
    for _ in 0..PROBES {
        let started = Instant::now();
        let addr = server.addr;
        let probe = async move {
            let mut raw = RawConnection::open(addr).await;
            raw.post(
                "/grpc.health.v1.Health/Check",
                &[("content-type", "application/grpc"), ("te", "trailers")],
                frame(&[]),
            )
            .await
        };
        match tokio::time::timeout(Duration::from_secs(1), tokio::spawn(probe)).await {
            Ok(Ok(answer))
                if answer
                    .status
                    .as_ref()
                    .is_some_and(|s| s.code() == tonic::Code::Ok) =>
            {
                latencies.push(started.elapsed())
            }
            _ => failures += 1,
        }
    }
    latencies.sort();
    println!(
        "idle connections: {} opened from 127.0.0.2 in {opened_in:?} ({not_connected} not connected); \
         health checks from 127.0.0.1 on fresh connections: {} ok, {failures} failed (1 s timeout), \
         p50 {:?}, p99 {:?}, max {:?}, over {:?}",
        idle.len(),
        latencies.len(),
        percentile(&mut latencies, 50),
        percentile(&mut latencies, 99),
        latencies.last().copied().unwrap_or_default(),
        probing.elapsed(),
    );
    drop(idle);
    drop(server);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
#[ignore = "prints figures; run on purpose"]
async fn one_credentials_flood() {
    const FLOOD: usize = 30_000;
    const AT_ONCE: usize = 1_000;
    let db = PgDatabase::create().await;
    let server = Ticketd::start(&db.url).await;
    let flooder = ticketd::client::issue_admin_token(&db.url, "flooder")
        .await
        .unwrap();
    let other = ticketd::client::issue_admin_token(&db.url, "other")
        .await
        .unwrap();
    let client = |token: &str| {
        let channel = Channel::from_shared(format!("http://{}", server.addr))
            .unwrap()
            .connect_lazy();
        ticket_client(channel, Bearer::new(token).unwrap())
    };
    client(&other)
        .create_account(new_account("acme", pb::Plan::Pro))
        .await
        .unwrap();

    let outcome =
        |result: Result<tonic::Response<pb::CreateTicketResponse>, tonic::Status>| match result {
            Ok(_) => "OK".to_owned(),
            Err(status) => {
                let reason = tonic_types::StatusExt::get_details_error_info(&status)
                    .map(|i| i.reason)
                    .unwrap_or_default();
                format!("{:?} {reason}", status.code())
            }
        };
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let flood_tally = Arc::new(std::sync::Mutex::new(BTreeMap::<String, usize>::new()));
    let started = Instant::now();
    let mut workers = Vec::new();
    // Four connections, as a client library with a small channel pool.
    let channels: Vec<_> = (0..4).map(|_| client(&flooder)).collect();
    for worker in 0..AT_ONCE {
        let mut client = channels[worker % channels.len()].clone();
        let (next, tally) = (next.clone(), flood_tally.clone());
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < FLOOD {
                let result = client.create_ticket(chat_ticket("acme")).await;
                *tally.lock().unwrap().entry(outcome(result)).or_default() += 1;
            }
        }));
    }
    // The other credential: five callers, one call after another each.
    let flooding = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let victim_tally = Arc::new(std::sync::Mutex::new(BTreeMap::<String, usize>::new()));
    let mut victims = Vec::new();
    for _ in 0..5 {
        let mut victim = client(&other);
        let (flooding, tally) = (flooding.clone(), victim_tally.clone());
        victims.push(tokio::spawn(async move {
            while flooding.load(std::sync::atomic::Ordering::Relaxed) {
                let result = victim.create_ticket(chat_ticket("acme")).await;
                *tally.lock().unwrap().entry(outcome(result)).or_default() += 1;
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    flooding.store(false, std::sync::atomic::Ordering::Relaxed);
    for victim in victims {
        victim.await.unwrap();
    }
    let victim_tally = victim_tally.lock().unwrap().clone();
    let victim_calls: usize = victim_tally.values().sum();
    let victim_ok = victim_tally.get("OK").copied().unwrap_or(0);
    println!(
        "flood of {FLOOD} CreateTicket calls, {AT_ONCE} at a time, over {:?}: flooder {:?}; \
         other credential: {victim_ok} of {victim_calls} ok ({:.1}%), {:?}",
        started.elapsed(),
        flood_tally.lock().unwrap(),
        100.0 * victim_ok as f64 / victim_calls.max(1) as f64,
        victim_tally,
    );
}
