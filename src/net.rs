//! Admitting client connections. Every accepted connection holds a
//! descriptor and some memory until it closes, and a client that connects
//! and then says nothing would hold them forever: with the descriptors gone,
//! no one (load balancers' health checks included) can connect. So
//! connections are capped in total and per peer address, beyond the cap are
//! closed as soon as they are accepted, and one that has not sent its first
//! bytes within the handshake timeout is closed.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tokio_stream::Stream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Bytes a client sends before the server has anything to answer: the
/// HTTP/2 connection preface is 24, a TLS ClientHello and an HTTP/1.1
/// request line (gRPC-Web) are longer.
const HANDSHAKE_BYTES: usize = 24;

/// Refused connections are logged at most this often, with a count, so a
/// flood of them cannot flood the log too.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// How long accepting pauses after the listener fails (out of descriptors
/// or memory), instead of retrying in a busy loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Connections refused in one poll before yielding to other tasks.
const REFUSALS_PER_POLL: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub total: usize,
    pub per_peer: usize,
    pub handshake_timeout: Duration,
}

/// The soft limit on open files of this process, from /proc/self/limits;
/// `None` where that cannot be read or says unlimited.
pub fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The connections open now, in total and by peer address.
struct Admission {
    limits: ConnectionLimits,
    open: Mutex<Open>,
    refused: AtomicU64,
    last_warning: Mutex<Option<Instant>>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_peer: HashMap<IpAddr, usize>,
}

impl Admission {
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let from_peer = open.by_peer.get(&peer).copied().unwrap_or(0);
        if open.total >= self.limits.total || from_peer >= self.limits.per_peer {
            return None;
        }
        open.total += 1;
        *open.by_peer.entry(peer).or_insert(0) += 1;
        Some(Slot {
            admission: self.clone(),
            peer,
        })
    }

    fn release(&self, peer: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_peer.get_mut(&peer) {
            *n -= 1;
            if *n == 0 {
                open.by_peer.remove(&peer);
            }
        }
    }

    fn note_refusal(&self, peer: SocketAddr) {
        let refused = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last_warning.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *last = Some(Instant::now());
            self.refused.store(0, Ordering::Relaxed);
            tracing::warn!(
                %peer,
                refused,
                max_connections = self.limits.total,
                max_connections_per_peer = self.limits.per_peer,
                "connection limit reached; closing new connections"
            );
        }
    }
}

/// One admitted connection's place in the count, given back when dropped.
struct Slot {
    admission: Arc<Admission>,
    peer: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.admission.release(self.peer);
    }
}

/// The listener as a stream of admitted connections, for
/// `serve_with_incoming`; refused ones never leave it. Dropping it closes
/// the listening socket.
pub struct Incoming {
    listener: TcpListener,
    admission: Arc<Admission>,
    backoff: Option<Pin<Box<Sleep>>>,
}

impl Incoming {
    pub fn new(listener: TcpListener, limits: ConnectionLimits) -> Self {
        Self {
            listener,
            admission: Arc::new(Admission {
                limits,
                open: Mutex::new(Open::default()),
                refused: AtomicU64::new(0),
                last_warning: Mutex::new(None),
            }),
            backoff: None,
        }
    }
}

impl Stream for Incoming {
    type Item = io::Result<Conn>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut refusals = 0;
        loop {
            if let Some(backoff) = &mut this.backoff {
                std::task::ready!(backoff.as_mut().poll(cx));
                this.backoff = None;
            }
            let (stream, peer) = match this.listener.poll_accept(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(accepted)) => accepted,
                Poll::Ready(Err(err)) => {
                    tracing::warn!(error = %err, "cannot accept connections; pausing");
                    this.backoff = Some(Box::pin(tokio::time::sleep(ACCEPT_BACKOFF)));
                    continue;
                }
            };
            let Some(slot) = this.admission.admit(peer.ip().to_canonical()) else {
                drop(stream);
                this.admission.note_refusal(peer);
                refusals += 1;
                if refusals >= REFUSALS_PER_POLL {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                continue;
            };
            // Without TCP_NODELAY small responses wait on delayed ACKs (~40 ms).
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(error = %err, "cannot set TCP_NODELAY");
            }
            let keepalive = socket2::TcpKeepalive::new().with_time(Duration::from_secs(60));
            if let Err(err) = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive) {
                tracing::debug!(error = %err, "cannot set TCP keepalive");
            }
            let timeout = this.admission.limits.handshake_timeout;
            return Poll::Ready(Some(Ok(Conn {
                _slot: slot,
                stream,
                handshake: Some(Handshake {
                    received: 0,
                    deadline: Box::pin(tokio::time::sleep(timeout)),
                }),
            })));
        }
    }
}

/// An admitted TCP connection. Until its first bytes have arrived, a read
/// that would wait past the handshake deadline fails with `TimedOut`, which
/// ends the connection.
pub struct Conn {
    // First, so it is dropped first: the slot is free by the time the
    // client sees the connection close.
    _slot: Slot,
    stream: TcpStream,
    handshake: Option<Handshake>,
}

struct Handshake {
    received: usize,
    deadline: Pin<Box<Sleep>>,
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        let Some(handshake) = &mut this.handshake else {
            return polled;
        };
        match polled {
            Poll::Ready(Ok(())) => {
                handshake.received += buf.filled().len() - before;
                if handshake.received >= HANDSHAKE_BYTES {
                    this.handshake = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if handshake.deadline.as_mut().poll(cx).is_ready() => {
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client did not start talking within the handshake timeout",
                )))
            }
            other => other,
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(total: usize, per_peer: usize) -> Arc<Admission> {
        Arc::new(Admission {
            limits: ConnectionLimits {
                total,
                per_peer,
                handshake_timeout: Duration::from_secs(1),
            },
            open: Mutex::new(Open::default()),
            refused: AtomicU64::new(0),
            last_warning: Mutex::new(None),
        })
    }

    #[test]
    fn a_peer_gets_its_share_and_the_total_caps_everyone() {
        let admission = admission(3, 2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let c: IpAddr = [10, 0, 0, 3].into();
        let a1 = admission.admit(a).expect("first from a");
        let _a2 = admission.admit(a).expect("second from a");
        assert!(admission.admit(a).is_none(), "a is at its share");
        let _b1 = admission.admit(b).expect("b has its own share");
        assert!(admission.admit(c).is_none(), "the total is reached");
        drop(a1);
        let c1 = admission
            .admit(c)
            .expect("a closed connection frees a slot");
        assert_eq!(admission.open.lock().unwrap().total, 3);
        drop(c1);
        assert_eq!(admission.open.lock().unwrap().by_peer.get(&c), None);
    }

    #[test]
    fn the_open_file_limit_is_read_from_proc() {
        if std::path::Path::new("/proc/self/limits").exists() {
            assert!(open_file_limit().is_some_and(|n| n > 0));
        }
    }
}
