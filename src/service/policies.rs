//! The policy versions a server decides under: the active one, which every
//! replica re-reads from the store at a short interval, and each version
//! earlier tickets were received under, loaded once on first use (versions
//! never change, so a loaded one never goes stale).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::intake::receipt_time;
use crate::domain::policy::version::{SEED_ACTIVATED_BY, SEED_NOTE};
use crate::domain::policy::{Policy, PolicyVersion};
use crate::error::{Error, Result};
use crate::store::PolicyStore;

/// A policy with the number it is stored under. Intake takes one of these
/// per request, so a ticket is decided wholly under one version.
#[derive(Debug, Clone)]
pub struct Versioned {
    pub number: i64,
    pub policy: Arc<Policy>,
}

pub struct Policies {
    store: Arc<dyn PolicyStore>,
    active: RwLock<Versioned>,
    /// Versions loaded so far, by number. A few versions a year: never trimmed.
    versions: Mutex<HashMap<i64, Arc<Policy>>>,
}

impl Policies {
    /// Inserts version 1, the published policy, when the store has no
    /// version yet, and loads the active version.
    pub async fn load(store: Arc<dyn PolicyStore>, now: DateTime<Utc>) -> Result<Self> {
        seed(&*store, now).await?;
        let stored = store
            .active_policy()
            .await?
            .ok_or_else(|| Error::Internal("no policy version after seeding".into()))?;
        let policy = Arc::new(load_version(&stored)?);
        Ok(Self {
            store,
            active: RwLock::new(Versioned {
                number: stored.number,
                policy: policy.clone(),
            }),
            versions: Mutex::new(HashMap::from([(stored.number, policy)])),
        })
    }

    /// The active version as of the last refresh: one snapshot, to decide a
    /// whole request under.
    pub fn active(&self) -> Versioned {
        self.active
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Version `number`, from memory or else from the store (`NotFound` if
    /// there is no such version).
    pub async fn version(&self, number: i64) -> Result<Arc<Policy>> {
        if let Some(policy) = self.cached(number) {
            return Ok(policy);
        }
        let stored = self.store.get_policy_version(number).await?;
        let policy = Arc::new(load_version(&stored)?);
        let mut versions = self
            .versions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(versions.entry(number).or_insert(policy).clone())
    }

    fn cached(&self, number: i64) -> Option<Arc<Policy>> {
        self.versions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&number)
            .cloned()
    }

    /// Reads which version is active and switches to it when it is newer
    /// (numbers only grow). Returns the active number.
    pub async fn refresh(&self) -> Result<i64> {
        let number = self.store.active_policy_number().await?;
        let current = self.active().number;
        if number <= current {
            return Ok(current);
        }
        let policy = self.version(number).await?;
        let mut active = self
            .active
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if number > active.number {
            tracing::info!(
                version = number,
                label = policy.version(),
                "policy version activated"
            );
            *active = Versioned { number, policy };
        }
        Ok(active.number)
    }

    /// Refreshes every `interval`, for as long as the task runs; a failed
    /// read keeps the version in use and is retried at the next tick.
    pub async fn keep_fresh(self: Arc<Self>, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = self.refresh().await {
                tracing::warn!(error = %err, "could not read the active policy version");
            }
        }
    }
}

/// Inserts version 1, the published policy built into the binary, unless
/// the store has a version. Replicas starting together may all try: one
/// inserts it, the others lose the race to it, which is just as good.
pub async fn seed(store: &dyn PolicyStore, now: DateTime<Utc>) -> Result<()> {
    if store.active_policy_number().await? > 0 {
        return Ok(());
    }
    let published = Policy::standard();
    match store
        .activate_policy(
            0,
            Policy::published_document(),
            published.version(),
            SEED_ACTIVATED_BY,
            SEED_NOTE,
            receipt_time(now),
        )
        .await
    {
        Ok(_) | Err(Error::PolicyVersionRaced { .. }) => Ok(()),
        Err(err) => Err(err),
    }
}

/// A stored version's policy. Every stored document was checked when it was
/// activated; one that no longer loads is a bug, not bad input.
fn load_version(version: &PolicyVersion) -> Result<Policy> {
    Policy::from_document(&version.document).map_err(|problems| {
        Error::Internal(format!(
            "stored policy version {} does not load: {problems}",
            version.number
        ))
    })
}
