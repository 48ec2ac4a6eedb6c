//! Connections that never start talking, and more connections than the
//! server holds: the first are closed after the handshake timeout, the
//! others as soon as they are accepted, so descriptors are never all taken
//! and health checks keep getting through.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tonic::Code;

use crate::helpers::*;
use crate::support::raw::{RawConnection, frame};

const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

/// Whether the server closes `stream` within `within`; whatever it sends
/// first (its own HTTP/2 settings) is read and ignored.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 256];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

async fn health_is_served(raw: &mut RawConnection) {
    let answer = raw
        .post(
            HEALTH_CHECK,
            &[("content-type", "application/grpc"), ("te", "trailers")],
            frame(&[]),
        )
        .await;
    assert_eq!(answer.http, 200);
    assert_eq!(answer.status.map(|s| s.code()), Some(Code::Ok));
}

async fn connect_from(source: [u8; 4], addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    socket.connect(addr).await.expect("connect")
}

#[tokio::test]
async fn connections_that_never_finish_the_handshake_are_closed_after_the_timeout() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.handshake_timeout_ms = 300).await;
    let mut talking = RawConnection::open(app.addr).await;
    health_is_served(&mut talking).await;

    let started = tokio::time::Instant::now();
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let mut partial = TcpStream::connect(app.addr).await.unwrap();
    partial.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "a connection that sends nothing is closed"
    );
    assert!(
        closed_within(&mut partial, Duration::from_secs(5)).await,
        "a connection that sends part of the preface is closed"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "not before the timeout: {:?}",
        started.elapsed()
    );
    // A connection that finished its handshake is not held to the timeout.
    health_is_served(&mut talking).await;
}

#[tokio::test]
async fn beyond_the_connection_cap_new_connections_are_closed_at_once_and_health_recovers() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.max_connections = Some(5);
        c.handshake_timeout_ms = 1_500;
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..5 {
        idle.push(TcpStream::connect(app.addr).await.unwrap());
    }
    let mut sixth = TcpStream::connect(app.addr).await.unwrap();
    assert!(
        closed_within(&mut sixth, Duration::from_millis(1_000)).await,
        "the sixth connection is closed at once, not after the handshake timeout"
    );
    for stream in &mut idle {
        assert!(closed_within(stream, Duration::from_secs(5)).await);
    }
    // The idle ones have timed out; their slots serve health checks again.
    let mut probe = RawConnection::open(app.addr).await;
    health_is_served(&mut probe).await;
}

#[tokio::test]
async fn one_peer_gets_no_more_than_its_share_of_connections() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.max_connections = Some(100);
        c.max_connections_per_peer = Some(3);
        c.handshake_timeout_ms = 10_000;
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(connect_from([127, 0, 0, 1], app.addr).await);
    }
    let mut fourth = connect_from([127, 0, 0, 1], app.addr).await;
    assert!(
        closed_within(&mut fourth, Duration::from_secs(2)).await,
        "the peer's fourth connection is closed at once"
    );
    // Another address is served meanwhile.
    let other = connect_from([127, 0, 0, 2], app.addr).await;
    let mut probe = RawConnection::over(other, app.addr).await;
    health_is_served(&mut probe).await;
    drop(idle);
}

#[tokio::test]
async fn a_tls_handshake_that_stalls_after_its_first_bytes_is_closed_after_the_timeout() {
    let tls = |name: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name)
    };
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.tls_cert = Some(tls("server.pem"));
        c.tls_key = Some(tls("server.key").into());
        c.handshake_timeout_ms = 300;
    })
    .await;
    let mut stalled = TcpStream::connect(app.addr).await.unwrap();
    // A TLS record header announcing a 512-byte ClientHello, and its first
    // 40 bytes: past the first 24 bytes, short of a handshake.
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    hello.resize(45, 0);
    stalled.write_all(&hello).await.unwrap();
    assert!(
        closed_within(&mut stalled, Duration::from_secs(5)).await,
        "a stalled TLS handshake is closed"
    );
}
