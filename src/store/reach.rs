//! Knowing whether the database can be reached without asking the pool.
//!
//! The pool cannot tell a busy database from a gone one: a caller waiting
//! for a connection waits the same acquire timeout whether every connection
//! is in use or sqlx is retrying a refused (or unanswered) connect. Health
//! checks therefore ping over a [`Dedicated`] connection of their own, and
//! on PostgreSQL a [`Circuit`] uses the same connection to decide, within
//! [`DETECT_TIMEOUT`], that the database is unreachable, after which calls
//! fail at once until a probe gets through again.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection};
use tokio::sync::{Mutex, mpsc, watch};

use crate::error::{Error, Result};

/// How long the health check's ping may take before the database counts as
/// unreachable: longer than a loaded database takes to answer, so a replica
/// whose database is merely busy is not taken out of rotation.
pub const HEALTH_PING_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a probe may take before a suspected outage counts as one. With
/// [`SUSPECT_AFTER`] and [`PROBE_SPACING`], it bounds how long a call waits
/// at the start of an outage (the README promises about a quarter second).
const DETECT_TIMEOUT: Duration = Duration::from_millis(200);

/// A call that has waited this long for a pooled connection asks for a
/// probe: either the pool is busy (the probe gets through at once and
/// nothing changes) or it is retrying connects to a database that is gone.
const SUSPECT_AFTER: Duration = Duration::from_millis(25);

/// Least time between probes while the database answers, so a pool that is
/// busy for a long time costs a ping every 50 ms at most.
const PROBE_SPACING: Duration = Duration::from_millis(50);

/// How often an open circuit probes for the database coming back.
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// While the circuit is open, a probe may take this long: calls are not
/// waiting on it, and a database that takes longer than [`DETECT_TIMEOUT`]
/// to take a new connection (far away, or under load) must still be able
/// to close the circuit.
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(2);

/// One connection outside the pool, kept open between pings and opened
/// again when it fails, so a ping answers whether the database does, never
/// whether the pool has a connection free.
pub struct Dedicated<C: Connection> {
    options: C::Options,
    conn: Mutex<Option<C>>,
}

impl<C: Connection> Dedicated<C> {
    pub fn new(options: C::Options) -> Self {
        Self {
            options,
            conn: Mutex::new(None),
        }
    }

    /// A round trip on the kept connection, or on a new one when it fails
    /// (a restart or an idle timeout cuts it without the database being
    /// gone); UNAVAILABLE when neither answers within `within`.
    pub async fn ping(&self, within: Duration) -> Result<()> {
        let attempt = async {
            let mut slot = self.conn.lock().await;
            // Taken out while in use: a ping cut short by the timeout leaves
            // a connection in an unknown state, which must not be reused.
            if let Some(mut kept) = slot.take()
                && kept.ping().await.is_ok()
            {
                *slot = Some(kept);
                return Ok(());
            }
            let mut fresh = self.options.connect().await?;
            fresh.ping().await?;
            *slot = Some(fresh);
            Ok(())
        };
        tokio::time::timeout(within, attempt)
            .await
            .unwrap_or_else(|_| {
                Err(Error::Unavailable(format!(
                    "the database did not answer a ping within {within:?}"
                )))
            })
    }
}

/// Whether the database is known unreachable, and the probe that decides.
/// Open means unreachable: calls fail at once instead of each waiting the
/// pool's acquire timeout, until a probe gets through.
pub struct Circuit<C: Connection> {
    probe: Dedicated<C>,
    open: watch::Sender<bool>,
    /// Wakes the prober; one pending request is enough.
    kick: mpsc::Sender<()>,
    /// When the circuit last closed: pooled connections idle since before
    /// then were open across the outage and have likely been cut.
    closed_at: std::sync::Mutex<Option<Instant>>,
}

impl<C: Connection> std::fmt::Debug for Dedicated<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedicated").finish_non_exhaustive()
    }
}

impl<C: Connection + 'static> std::fmt::Debug for Circuit<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Circuit")
            .field("open", &self.is_open())
            .finish_non_exhaustive()
    }
}

impl<C: Connection + 'static> Circuit<C> {
    /// A closed circuit, and its prober running on the current runtime
    /// until the circuit is dropped.
    pub fn start(options: C::Options) -> Arc<Self> {
        let (kick, kicks) = mpsc::channel(1);
        let circuit = Arc::new(Self {
            probe: Dedicated::new(options),
            open: watch::Sender::new(false),
            kick,
            closed_at: std::sync::Mutex::new(None),
        });
        tokio::spawn(run_prober(Arc::downgrade(&circuit), kicks));
        circuit
    }

    pub fn is_open(&self) -> bool {
        *self.open.borrow()
    }

    /// Whether a pooled connection idle for `idle_for` was idle across
    /// the last outage, so it should be pinged before it is handed out:
    /// otherwise each connection the outage cut fails one call after it.
    pub fn idle_across_outage(&self, idle_for: Duration) -> bool {
        let closed_at = *self.closed_at.lock().unwrap_or_else(|e| e.into_inner());
        let released = Instant::now().checked_sub(idle_for);
        matches!((closed_at, released), (Some(closed), Some(released)) if released <= closed)
    }

    /// Runs `acquire` (a pooled connection, a transaction's start) unless
    /// the database is known unreachable; if it waits long, asks for a
    /// probe, and gives up as soon as the probe finds the database gone.
    /// Only for futures that have sent nothing the database must see: they
    /// may be dropped part way.
    pub async fn guard<T>(
        &self,
        acquire: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T> {
        let mut open = self.open.subscribe();
        if *open.borrow_and_update() {
            return Err(unreachable());
        }
        let mut acquire = std::pin::pin!(acquire);
        let suspect = tokio::time::sleep(SUSPECT_AFTER);
        let mut suspect = std::pin::pin!(suspect);
        let mut suspected = false;
        loop {
            tokio::select! {
                result = &mut acquire => {
                    return result.map_err(|err| {
                        if is_connection_error(&err) {
                            self.trip();
                        }
                        Error::from(err)
                    });
                }
                () = &mut suspect, if !suspected => {
                    suspected = true;
                    let _ = self.kick.try_send(());
                }
                opened = open.wait_for(|open| *open) => {
                    if opened.is_ok() {
                        return Err(unreachable());
                    }
                }
            }
        }
    }

    /// The health check: a ping on the dedicated connection, whose answer
    /// also opens or closes the circuit.
    pub async fn ping(&self, within: Duration) -> Result<()> {
        let result = self.probe.ping(within).await;
        match &result {
            Ok(()) => self.set_open(false),
            Err(_) => self.trip(),
        }
        result
    }

    /// A call met a broken connection: unreachable until a probe says not.
    fn trip(&self) {
        self.set_open(true);
        let _ = self.kick.try_send(());
    }

    fn set_open(&self, open: bool) {
        let changed = self.open.send_if_modified(|state| {
            let changed = *state != open;
            *state = open;
            changed
        });
        if changed && open {
            tracing::warn!("database unreachable: calls that need it fail at once");
        } else if changed {
            *self.closed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            tracing::info!("database reachable again");
        }
    }
}

/// Probes when asked; while the database is unreachable, again every
/// [`RETRY_EVERY`] until it answers. Ends when the circuit is dropped.
async fn run_prober<C: Connection + 'static>(
    circuit: Weak<Circuit<C>>,
    mut kicks: mpsc::Receiver<()>,
) {
    while kicks.recv().await.is_some() {
        loop {
            let Some(circuit) = circuit.upgrade() else {
                return;
            };
            let within = if circuit.is_open() {
                RECOVERY_TIMEOUT
            } else {
                DETECT_TIMEOUT
            };
            let reachable = circuit.probe.ping(within).await.is_ok();
            circuit.set_open(!reachable);
            drop(circuit);
            if reachable {
                tokio::time::sleep(PROBE_SPACING).await;
                break;
            }
            tokio::time::sleep(RETRY_EVERY).await;
        }
    }
}

fn unreachable() -> Error {
    Error::Unavailable("the database is unreachable (the last probe failed)".into())
}

/// Errors that say the connection or the database server is gone, as
/// opposed to a pool that is merely busy or a statement that failed.
fn is_connection_error(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}
