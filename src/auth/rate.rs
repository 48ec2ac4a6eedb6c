//! Per-credential rate limits: a token bucket each, refilled continuously.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests per second and the burst a credential may spend at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// Buckets by credential id. Only authenticated credentials get one, so the
/// map is bounded by the number of credentials issued.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `None` (or a zero rate) means unlimited.
    pub fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit: limit.filter(|l| l.per_second > 0.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key` at `now`; when there is none, says how
    /// long until there will be.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let burst = limit.burst.max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / limit.per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: f64, burst: f64) -> RateLimiter {
        RateLimiter::new(Some(RateLimit { per_second, burst }))
    }

    #[test]
    fn a_burst_is_allowed_then_the_next_call_waits_for_one_token() {
        let limiter = limiter(10.0, 3.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take("a", t0), Ok(()));
        }
        let wait = limiter.take("a", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-9, "{wait:?}");
        // One token is back after 100 ms, and only one.
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(limiter.take("a", t1), Ok(()));
        assert!(limiter.take("a", t1).is_err());
    }

    #[test]
    fn credentials_have_separate_buckets() {
        let limiter = limiter(1.0, 1.0);
        let t0 = Instant::now();
        assert!(limiter.take("a", t0).is_ok());
        assert!(limiter.take("a", t0).is_err());
        assert!(limiter.take("b", t0).is_ok());
    }

    #[test]
    fn refill_stops_at_the_burst() {
        let limiter = limiter(100.0, 2.0);
        let t0 = Instant::now();
        assert!(limiter.take("a", t0).is_ok());
        let later = t0 + Duration::from_secs(60);
        assert!(limiter.take("a", later).is_ok());
        assert!(limiter.take("a", later).is_ok());
        assert!(limiter.take("a", later).is_err());
    }

    #[test]
    fn no_limit_or_a_zero_rate_allows_everything() {
        let t0 = Instant::now();
        for limiter in [RateLimiter::new(None), limiter(0.0, 0.0)] {
            for _ in 0..10_000 {
                assert!(limiter.take("a", t0).is_ok());
            }
        }
    }
}
