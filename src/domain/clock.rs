//! Where "now" comes from. The domain only reads the time; the
//! implementations (the system clock, and a manual clock for tests that
//! cross deadlines without sleeping) live in `crate::clock`.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

/// A source of the current time that can also wait for a moment to come.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Completes once [`now`](Self::now) has reached `deadline`.
    fn sleep_until(&self, deadline: DateTime<Utc>)
    -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}
