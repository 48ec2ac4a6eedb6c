//! Client-side helpers for Rust callers (the benchmarks, the tests): the
//! bearer-token channel of `ticketd-client`, and issuing a credential straight
//! on a database, which needs the server's store.

pub use ticketd_client::client::*;

/// Issues an administrator credential directly on `database`, as
/// `ticketd admin credentials issue` does, and returns its token; for tools
/// that start their own server on a fresh database (the benchmarks).
pub async fn issue_admin_token(database: &str, name: &str) -> anyhow::Result<String> {
    use crate::domain::Clock;
    let store = crate::store::open_for_admin(
        database,
        &crate::store::PoolConfig {
            max_connections: 1,
            acquire_timeout: std::time::Duration::from_secs(10),
            batch: Default::default(),
        },
    )
    .await?;
    let now = crate::clock::SystemClock.now();
    let issued = crate::auth::issue(&*store, name, crate::domain::access::Role::Admin, &[], now)
        .await
        .map_err(|err| anyhow::anyhow!("issuing a credential: {err}"))?;
    Ok(issued.token)
}
