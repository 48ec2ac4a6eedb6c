//! A TCP proxy in front of PostgreSQL with a switch, to cut the database
//! from under a running server: connections refused, or accepted and then
//! never answered.

use std::net::SocketAddr;

use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::admin_url;

/// How the proxy fails the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Up,
    /// Live connections cut; the port is closed, so connecting is refused
    /// at once (the database's host is up, its server is not).
    Refused,
    /// Live connections cut; new ones are accepted and then hear nothing
    /// (a database that hangs, or a network that drops its answers).
    Blackhole,
}

/// A TCP proxy in front of PostgreSQL with a switch.
pub struct DbProxy {
    addr: SocketAddr,
    link: watch::Sender<Link>,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl DbProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (link, watching) = watch::channel(Link::Up);
        let accept_loop = tokio::spawn(accept_loop(listener, upstream, watching));
        Self {
            addr,
            link,
            accept_loop,
        }
    }

    pub fn set(&self, link: Link) {
        self.link.send_replace(link);
    }

    /// `database_url` with its host and port replaced by the proxy's.
    pub fn url_for(&self, database_url: &str) -> String {
        let options: PgConnectOptions = database_url.parse().unwrap();
        let mut url = options.to_url_lossy();
        url.set_host(Some(&self.addr.ip().to_string())).unwrap();
        url.set_port(Some(self.addr.port())).unwrap();
        url.to_string()
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        // Dropping the sender ends every connection's task too.
        self.accept_loop.abort();
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, mut link: watch::Receiver<Link>) {
    let addr = listener.local_addr().unwrap();
    let mut listener = Some(listener);
    loop {
        let state = *link.borrow_and_update();
        if state == Link::Refused {
            // A closed port: the kernel refuses connections.
            listener = None;
        } else if listener.is_none() {
            listener = Some(
                TcpListener::bind(addr)
                    .await
                    .expect("bind the proxy's port again"),
            );
        }
        let accepted = async {
            match &listener {
                Some(listener) => listener.accept().await.ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = accepted => {
                if let Some((socket, _)) = accepted {
                    tokio::spawn(forward(socket, upstream, link.clone()));
                }
            }
            changed = link.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Forwards one connection while the link is up; in a blackhole, holds it
/// and forwards nothing. Either way the connection is cut when the link
/// changes.
async fn forward(mut client: TcpStream, upstream: SocketAddr, mut link: watch::Receiver<Link>) {
    let state = *link.borrow_and_update();
    if state != Link::Up {
        let _ = link.changed().await;
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = link.wait_for(|state| *state != Link::Up) => {}
    }
}

/// Where the tests' PostgreSQL listens.
pub async fn postgres_addr() -> SocketAddr {
    let options: PgConnectOptions = admin_url().parse().unwrap();
    tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .unwrap()
        .next()
        .expect("the PostgreSQL host resolves")
}
