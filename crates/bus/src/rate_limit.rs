//! Fixed-window rate limits shared by all nodes.
//!
//! A limit is "at most `limit` hits per `window` for one key" (a key is, for
//! example, `login:user:alice` or `login:ip:127.0.0.1`). The same algorithm
//! runs in Redis (one Lua script: INCR, set the expiry on the first hit, read
//! the remaining time; atomic, so concurrent nodes count exactly) and in
//! process for the embedded default, so both deployments behave alike.
//!
//! If Redis is unreachable the limiter falls back to this node's own counters
//! instead of failing open or refusing every login: limits become per node
//! until Redis is back, which is logged and counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::RedisLink;

/// The verdict for one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Over the limit; the window reopens after this long.
    Limited {
        retry_after: Duration,
    },
}

/// Shared or local fixed-window limiter. Cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    /// Where the counters live when several nodes must agree.
    redis: Option<RedisLink>,
    /// This node's counters: the embedded default, and the fallback while Redis
    /// is unreachable.
    local: Arc<Mutex<LocalWindows>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("shared", &self.redis.is_some())
            .finish()
    }
}

const SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
";

impl RateLimiter {
    /// Counters in this process only.
    pub fn local() -> Self {
        Self {
            redis: None,
            local: Arc::default(),
        }
    }

    /// Counters in Redis, shared by every node using the same Redis.
    pub fn shared(redis: RedisLink) -> Self {
        Self {
            redis: Some(redis),
            local: Arc::default(),
        }
    }

    /// Counts one hit on `key` and says whether it is within `limit` per
    /// `window`. A `limit` of 0 disables the check.
    pub async fn hit(&self, key: &str, limit: u32, window: Duration) -> Decision {
        if limit == 0 {
            return Decision::Allowed;
        }
        if let Some(redis) = &self.redis {
            match Self::hit_redis(redis, key, window).await {
                Ok((count, ttl)) => return decide(count, limit, ttl),
                Err(e) => {
                    metrics::counter!("passerelle_rate_limit_fallback_total").increment(1);
                    tracing::warn!(error = %e, "rate limiter: redis unreachable, using per-node counters");
                }
            }
        }
        let (count, ttl) = self.hit_local(key, window);
        decide(count, limit, ttl)
    }

    async fn hit_redis(
        redis: &RedisLink,
        key: &str,
        window: Duration,
    ) -> Result<(u64, Duration), redis::RedisError> {
        let mut conn = redis.connection();
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        let (count, ttl_ms): (u64, i64) = redis::Script::new(SCRIPT)
            .key(redis.key(&format!("rl:{key}")))
            .arg(window_ms)
            .invoke_async(&mut conn)
            .await?;
        let ttl = Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(window_ms));
        Ok((count, ttl))
    }

    fn hit_local(&self, key: &str, window: Duration) -> (u64, Duration) {
        let now = Instant::now();
        // A poisoned lock only means another thread panicked mid-update of a
        // counter; the counters are still usable.
        let mut windows = self.local.lock().unwrap_or_else(|p| p.into_inner());
        windows.hit(key, window, now)
    }
}

fn decide(count: u64, limit: u32, ttl: Duration) -> Decision {
    if count > u64::from(limit) {
        Decision::Limited {
            retry_after: ttl.max(Duration::from_secs(1)),
        }
    } else {
        Decision::Allowed
    }
}

/// In-process fixed windows, pruned as they expire.
#[derive(Default)]
struct LocalWindows {
    windows: HashMap<String, (Instant, Duration, u64)>,
    hits_since_prune: u32,
}

impl LocalWindows {
    fn hit(&mut self, key: &str, window: Duration, now: Instant) -> (u64, Duration) {
        self.hits_since_prune += 1;
        if self.hits_since_prune >= 1024 {
            self.hits_since_prune = 0;
            self.windows
                .retain(|_, (start, len, _)| now.duration_since(*start) < *len);
        }
        let entry = self
            .windows
            .entry(key.to_owned())
            .or_insert((now, window, 0));
        if now.duration_since(entry.0) >= entry.1 {
            *entry = (now, window, 0);
        }
        entry.2 += 1;
        let remaining = entry.1.saturating_sub(now.duration_since(entry.0));
        (entry.2, remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_window_counts_and_reopens() {
        let mut w = LocalWindows::default();
        let t0 = Instant::now();
        let win = Duration::from_secs(10);
        assert_eq!(w.hit("k", win, t0).0, 1);
        assert_eq!(w.hit("k", win, t0).0, 2);
        assert_eq!(w.hit("other", win, t0).0, 1);
        let (n, left) = w.hit("k", win, t0 + Duration::from_secs(4));
        assert_eq!(n, 3);
        assert_eq!(left, Duration::from_secs(6));
        assert_eq!(w.hit("k", win, t0 + Duration::from_secs(10)).0, 1);
    }

    #[test]
    fn decisions_follow_the_limit() {
        let ttl = Duration::from_millis(1500);
        assert_eq!(decide(2, 2, ttl), Decision::Allowed);
        assert_eq!(decide(3, 2, ttl), Decision::Limited { retry_after: ttl });
        assert_eq!(
            decide(3, 2, Duration::from_millis(10)),
            Decision::Limited {
                retry_after: Duration::from_secs(1)
            },
            "Retry-After is never below one second"
        );
    }
}
