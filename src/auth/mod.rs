//! Identifying callers: bearer tokens checked against stored credentials,
//! with a short-lived cache so the hot path does not query the database,
//! batched last-use times, and per-credential rate limits. What a caller may
//! do once identified is `crate::domain::access`.

pub mod rate;
pub mod token;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::domain::access::{Credential, Principal, Role, check_channels};
use crate::domain::clock::Clock;
use crate::domain::policy::Channel;
use crate::error::{Error, Result};
use crate::store::CredentialStore;
use rate::{RateLimit, RateLimiter};

/// Cached credentials beyond this many are pruned of expired entries, so a
/// flood of made-up ids cannot grow memory without bound.
const CACHE_CAP: usize = 10_000;

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// How long a looked-up credential (or its absence) is trusted before the
    /// store is asked again; bounds how long a revocation takes to apply.
    pub cache_ttl: Duration,
    /// While the store cannot be reached, how long after the store last
    /// confirmed it a cached credential (or its absence) is still used.
    pub stale_if_error: Duration,
    /// How often last-use times are written.
    pub use_flush_interval: Duration,
    pub rate_limit: Option<RateLimit>,
}

/// A credential just issued, with the token shown this once.
pub struct Issued {
    pub credential: Credential,
    pub token: String,
}

/// Creates a credential and returns its token. Used by `ticketd admin` (on
/// the server's own database, never over an open RPC) and by tests.
pub async fn issue(
    store: &dyn CredentialStore,
    name: &str,
    role: Role,
    channels: &[Channel],
    now: DateTime<Utc>,
) -> Result<Issued> {
    check_name(name)?;
    check_channels(role, channels).map_err(|why| Error::invalid("channels", why))?;
    let new = token::generate().map_err(|e| Error::Internal(format!("random source: {e}")))?;
    let mut channels = channels.to_vec();
    channels.sort();
    channels.dedup();
    let credential = Credential {
        id: new.id,
        name: name.to_owned(),
        role,
        channels,
        secret_hash: new.secret_hash,
        create_time: now,
        revoke_time: None,
        last_use_time: None,
    };
    store.insert_credential(&credential).await?;
    Ok(Issued {
        credential,
        token: new.token,
    })
}

fn check_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "name",
            "must be 1 to 64 characters: letters, digits, '-', '_', '.', '@'",
        ))
    }
}

/// The token of a `Bearer <token>` value. The scheme is case-insensitive
/// (RFC 7235 section 2.1), so `bearer` and `BEARER` are the same scheme.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

struct Cached {
    credential: Option<Arc<Credential>>,
    fetched: Instant,
    /// When the store confirmed it, on the server's clock: bounds how long
    /// it stands in for the store during an outage.
    confirmed: DateTime<Utc>,
}

pub struct Authenticator {
    store: Arc<dyn CredentialStore>,
    clock: Arc<dyn Clock>,
    config: AuthConfig,
    cache: Mutex<HashMap<String, Cached>>,
    uses: Mutex<HashMap<String, DateTime<Utc>>>,
    limiter: RateLimiter,
}

impl Authenticator {
    pub fn new(store: Arc<dyn CredentialStore>, clock: Arc<dyn Clock>, config: AuthConfig) -> Self {
        Self {
            limiter: RateLimiter::new(config.rate_limit),
            store,
            clock,
            config,
            cache: Mutex::new(HashMap::new()),
            uses: Mutex::new(HashMap::new()),
        }
    }

    /// Identifies the caller from its `authorization` metadata values.
    /// More than one is refused rather than picking one: a proxy and a
    /// client that each add their own would otherwise decide, unseen, which
    /// identity a call has.
    pub async fn authenticate(&self, authorization: &[&[u8]]) -> Result<Principal> {
        let value = match authorization {
            [] => {
                return Err(Error::Unauthenticated(
                    "missing credentials: send metadata `authorization: Bearer <token>`",
                ));
            }
            [value] => value,
            _ => {
                return Err(Error::Unauthenticated(
                    "more than one authorization metadata entry: send exactly one",
                ));
            }
        };
        let token = std::str::from_utf8(value)
            .ok()
            .and_then(bearer_token)
            .ok_or(Error::Unauthenticated(
                "the authorization metadata must be `Bearer <token>`",
            ))?;
        let (id, secret) = token::parse(token).ok_or(Error::Unauthenticated(
            "the bearer token is not a ticketd token",
        ))?;
        let credential = self
            .lookup(id)
            .await?
            .filter(|c| token::matches(secret, &c.secret_hash))
            .ok_or(Error::Unauthenticated("unknown credential"))?;
        if credential.revoke_time.is_some() {
            return Err(Error::Unauthenticated("this credential was revoked"));
        }
        self.uses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(credential.id.clone(), self.clock.now());
        Ok(credential.principal())
    }

    /// Spends one request of the principal's rate limit.
    pub fn admit(&self, principal: &Principal) -> Result<()> {
        self.limiter
            .take(&principal.credential_id, Instant::now())
            .map_err(|retry_after| Error::RateLimited { retry_after })
    }

    /// The credential with `id`, from the cache while it is fresh. When the
    /// store cannot be reached, an entry it confirmed within the last
    /// `stale_if_error` is still used: callers that were valid a moment ago
    /// keep working through an outage (the secret is still checked against
    /// the stored hash), and calls that need no database keep being served.
    /// Past that bound the outage is the caller's answer (UNAVAILABLE).
    async fn lookup(&self, id: &str) -> Result<Option<Arc<Credential>>> {
        let stale = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(id) {
                Some(c) if c.fetched.elapsed() < self.config.cache_ttl => {
                    return Ok(c.credential.clone());
                }
                Some(c) => Some((c.credential.clone(), c.confirmed)),
                None => None,
            }
        };
        let fetched = match self.store.get_credential(id).await {
            Ok(found) => found.map(Arc::new),
            Err(err) => {
                let now = self.clock.now();
                let bound = chrono::Duration::from_std(self.config.stale_if_error)
                    .unwrap_or(chrono::Duration::MAX);
                return match stale {
                    Some((credential, confirmed)) if now - confirmed <= bound => {
                        tracing::warn!(error = %err, credential = id, "using a cached credential: store unavailable");
                        Ok(credential)
                    }
                    _ => Err(err),
                };
            }
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_CAP {
            let ttl = self.config.cache_ttl;
            cache.retain(|_, c| c.fetched.elapsed() < ttl);
            if cache.len() >= CACHE_CAP {
                cache.retain(|_, c| c.credential.is_some());
            }
        }
        cache.insert(
            id.to_owned(),
            Cached {
                credential: fetched.clone(),
                fetched: Instant::now(),
                confirmed: self.clock.now(),
            },
        );
        Ok(fetched)
    }

    /// Writes the last-use times gathered since the previous flush.
    pub async fn flush_uses(&self) -> Result<()> {
        let uses: Vec<_> =
            std::mem::take(&mut *self.uses.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .collect();
        if uses.is_empty() {
            return Ok(());
        }
        self.store.record_credential_use(&uses).await
    }

    /// Flushes last-use times every interval, for as long as it runs.
    pub async fn run_use_flusher(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(
            self.config
                .use_flush_interval
                .max(Duration::from_millis(10)),
        );
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = self.flush_uses().await {
                tracing::warn!(error = %err, "could not record credential last use");
            }
        }
    }
}
