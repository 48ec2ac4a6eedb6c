//! The real `ticketd serve` as a child process, for tests that need what an
//! in-process server cannot give: a SIGKILL, or a file-descriptor limit.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// A `ticketd serve` child process on a port it picked, killed (SIGKILL)
/// when dropped.
pub struct Ticketd {
    child: Child,
    pub addr: SocketAddr,
}

impl Ticketd {
    /// Starts `ticketd serve` on `database_url` and waits until it logs the
    /// address it serves on.
    pub async fn start(database_url: &str) -> Self {
        Self::start_with_open_files(database_url, None).await
    }

    /// As [`Ticketd::start`], with at most `open_files` descriptors
    /// (`ulimit -n`) when given.
    pub async fn start_with_open_files(database_url: &str, open_files: Option<u32>) -> Self {
        let mut command = match open_files {
            None => Command::new(env!("CARGO_BIN_EXE_ticketd")),
            Some(n) => {
                let mut shell = Command::new("sh");
                shell
                    .arg("-c")
                    .arg(format!(r#"ulimit -n {n} && exec "$0" "$@""#))
                    .arg(env!("CARGO_BIN_EXE_ticketd"));
                shell
            }
        };
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start ticketd");
        let addr = serving_addr(&mut child).await;
        Self { child, addr }
    }

    /// SIGKILL: no shutdown, no draining, nothing flushed.
    pub fn kill(mut self) {
        self.child.kill().expect("kill ticketd");
        self.child.wait().expect("reap ticketd");
    }
}

impl Drop for Ticketd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until a `ticketd serve --log-format json` child logs the address it
/// serves on. Reads its log to the end on a thread of its own, so the server
/// never blocks on a full pipe; with TEST_LOG set, the log is echoed.
async fn serving_addr(child: &mut Child) -> SocketAddr {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if std::env::var_os("TEST_LOG").is_some() {
                eprintln!("ticketd: {line}");
            }
            if line.contains(r#""message":"ticketd serving""#)
                && let Some((_, rest)) = line.split_once(r#""addr":""#)
                && let Some((addr, _)) = rest.split_once('"')
            {
                let _ = addr_tx.send(addr.parse::<SocketAddr>().unwrap());
            }
        }
    });
    tokio::task::spawn_blocking(move || addr_rx.recv_timeout(std::time::Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("ticketd logs `ticketd serving addr=…` within 30 s")
}
