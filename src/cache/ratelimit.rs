//! Request rate limits by GCRA (the generic cell rate algorithm): each key keeps one number,
//! its theoretical arrival time (TAT). A request is allowed when the TAT, pushed one
//! interval on, lies no further than `burst` intervals ahead of now. With Redis the TAT
//! lives there and one Lua script reads and moves it atomically, so every instance draws
//! from the same allowance; without Redis, or while its breaker is open, each instance
//! keeps its own, in a bounded cache (moka): a key idle for longer than the longest window
//! is the same as a fresh one, so it expires then, and past `LOCAL_KEYS` the least used go
//! first; no request ever sweeps the whole map.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use moka::ops::compute::Op;

use super::connection::Redis;
use crate::config::{Rate, RateLimits};

/// What a limit is counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Per client IP.
    Anonymous,
    /// Per signed-in account.
    Account,
    /// Login and registration, per client IP.
    Login,
    /// Writes (any method but GET, HEAD and OPTIONS) per signed-in account, on top of
    /// `Account`: writes share one database writer, so one account's must not fill it.
    Write,
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::Anonymous => "anonymous",
            Class::Account => "account",
            Class::Login => "login",
            Class::Write => "write",
        }
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The burst: the most requests that can be made at once.
    pub limit: u64,
    /// Requests that could still be made right now.
    pub remaining: u64,
    /// Until the allowance is whole again.
    pub reset: Duration,
    /// Until the next request would be allowed (zero when this one was).
    pub retry_after: Duration,
    /// The time `limit` requests take to replenish at the sustained rate.
    pub window: Duration,
}

/// GCRA in microseconds: the decision, and the new TAT to keep when allowed.
fn gcra(now: u64, tat: Option<u64>, interval: u64, burst: u64) -> (Decision, Option<u64>) {
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    let capacity = burst * interval;
    let window = Duration::from_micros(capacity);
    if now + capacity < new_tat {
        let decision = Decision {
            allowed: false,
            limit: burst,
            remaining: 0,
            reset: Duration::from_micros(tat - now),
            retry_after: Duration::from_micros(new_tat - capacity - now),
            window,
        };
        return (decision, None);
    }
    let decision = Decision {
        allowed: true,
        limit: burst,
        remaining: (now + capacity - new_tat) / interval,
        reset: Duration::from_micros(new_tat - now),
        retry_after: Duration::ZERO,
        window,
    };
    (decision, Some(new_tat))
}

/// The same as `gcra`, run inside Redis on its clock. Returns allowed (0 or 1), remaining,
/// retry-after and reset in microseconds.
static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local capacity = burst * interval
if now + capacity < new_tat then
  return {0, 0, new_tat - capacity - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, math.floor((now + capacity - new_tat) / interval), 0, new_tat - now}
",
    )
});

/// Keys kept in-process at most.
const LOCAL_KEYS: u64 = 100_000;

pub struct RateLimiter {
    limits: RateLimits,
    redis: Option<Arc<Redis>>,
    /// TATs in microseconds since `epoch`.
    local: moka::sync::Cache<String, u64>,
    epoch: Instant,
}

impl RateLimiter {
    pub fn new(limits: RateLimits, redis: Option<Arc<Redis>>) -> Self {
        Self::with_capacity(limits, redis, LOCAL_KEYS)
    }

    pub fn with_capacity(limits: RateLimits, redis: Option<Arc<Redis>>, keys: u64) -> Self {
        let longest = [
            limits.anonymous,
            limits.account,
            limits.login,
            limits.writes,
        ]
        .iter()
        .map(|rate| {
            rate.interval()
                .saturating_mul(rate.burst.min(u32::MAX as u64) as u32)
        })
        .max()
        .unwrap_or(Duration::from_secs(60))
        .max(Duration::from_secs(1));
        Self {
            limits,
            redis,
            local: moka::sync::Cache::builder()
                .max_capacity(keys)
                .time_to_idle(longest)
                .build(),
            epoch: Instant::now(),
        }
    }

    fn rate(&self, class: Class) -> Rate {
        match class {
            Class::Anonymous => self.limits.anonymous,
            Class::Account => self.limits.account,
            Class::Login => self.limits.login,
            Class::Write => self.limits.writes,
        }
    }

    /// Counts one request of `class` by `who` (an address or an account id).
    pub async fn check(&self, class: Class, who: &str) -> Decision {
        let rate = self.rate(class);
        let interval = (rate.interval().as_micros() as u64).max(1);
        let key = format!("rl:{}:{who}", class.label());
        if let Some(redis) = &self.redis {
            if let Some(decision) = shared(redis, &key, interval, rate.burst).await {
                return decision;
            }
        }
        self.check_local(key, interval, rate.burst)
    }

    fn check_local(&self, key: String, interval: u64, burst: u64) -> Decision {
        let now = self.epoch.elapsed().as_micros() as u64;
        let mut decision = None;
        // One key's check and update run under that key's lock, never the whole map's.
        self.local.entry(key).and_compute_with(|entry| {
            let (made, new_tat) = gcra(now, entry.map(|e| e.into_value()), interval, burst);
            decision = Some(made);
            match new_tat {
                Some(tat) => Op::Put(tat),
                None => Op::Nop,
            }
        });
        decision.expect("the closure ran")
    }
}

async fn shared(redis: &Redis, key: &str, interval: u64, burst: u64) -> Option<Decision> {
    let key = redis.key(key);
    let (allowed, remaining, retry, reset): (u8, u64, u64, u64) = redis
        .call("rate limit", |mut c| async move {
            SCRIPT
                .key(key)
                .arg(interval)
                .arg(burst)
                .invoke_async(&mut c)
                .await
        })
        .await?;
    Some(Decision {
        allowed: allowed == 1,
        limit: burst,
        remaining,
        reset: Duration::from_micros(reset),
        retry_after: Duration::from_micros(retry),
        window: Duration::from_micros(burst * interval),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_at_once_then_one_request_per_interval() {
        let (interval, burst) = (600_000, 3);
        let mut tat = None;
        for expected_remaining in [2, 1, 0] {
            let (decision, next) = gcra(0, tat, interval, burst);
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
            tat = next;
        }
        let (refused, next) = gcra(0, tat, interval, burst);
        assert!(!refused.allowed && next.is_none());
        assert_eq!(refused.retry_after, Duration::from_micros(interval));
        assert_eq!(refused.reset, Duration::from_micros(3 * interval));
        // One interval later, exactly one more.
        let (allowed, next) = gcra(interval, tat, interval, burst);
        assert!(allowed.allowed);
        assert_eq!(allowed.remaining, 0);
        assert!(!gcra(interval, next, interval, burst).0.allowed);
        // After a long pause the whole burst is back, no more.
        let (rested, _) = gcra(100 * interval, next, interval, burst);
        assert_eq!(rested.remaining, burst - 1);
    }

    #[test]
    fn in_process_keys_are_limited_separately() {
        let limits = RateLimits {
            anonymous: Rate::parse("60/min burst 2").unwrap(),
            ..RateLimits::default()
        };
        let limiter = RateLimiter::new(limits, None);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(limiter.check(Class::Anonymous, "a").await.allowed);
            assert!(limiter.check(Class::Anonymous, "a").await.allowed);
            assert!(!limiter.check(Class::Anonymous, "a").await.allowed);
            assert!(limiter.check(Class::Anonymous, "b").await.allowed);
            assert!(limiter.check(Class::Login, "a").await.allowed);
        });
    }

    #[test]
    fn the_in_process_limiter_keeps_a_bounded_number_of_keys() {
        let limits = RateLimits {
            anonymous: Rate::parse("60/min burst 2").unwrap(),
            ..RateLimits::default()
        };
        let limiter = RateLimiter::with_capacity(limits, None, 1_000);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            // Fifty thousand addresses inside their window, none of them expired.
            for i in 0..50_000 {
                assert!(
                    limiter
                        .check(Class::Anonymous, &i.to_string())
                        .await
                        .allowed
                );
            }
        });
        limiter.local.run_pending_tasks();
        assert!(
            limiter.local.entry_count() <= 1_000,
            "{} keys",
            limiter.local.entry_count()
        );
        // A key that stayed is still limited.
        rt.block_on(async {
            assert!(limiter.check(Class::Anonymous, "x").await.allowed);
            assert!(limiter.check(Class::Anonymous, "x").await.allowed);
            assert!(!limiter.check(Class::Anonymous, "x").await.allowed);
        });
    }
}
