//! The circuit breaker in front of Redis: one failure opens it, and while it is open every
//! feature uses its in-process form without waiting on Redis; after a pause one call is let
//! through as a probe, and its success closes the breaker again. State changes are logged
//! once each, not per request.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    /// One probe is out; others keep falling back until it answers.
    HalfOpen {
        since: Instant,
    },
}

pub struct Breaker {
    state: Mutex<State>,
    /// How long the breaker stays open before a probe.
    pause: Duration,
    /// A probe not heard from in this long (its request was abandoned) lets another through.
    probe_timeout: Duration,
}

impl Breaker {
    pub fn new(pause: Duration, probe_timeout: Duration) -> Self {
        Self {
            state: Mutex::new(State::Closed),
            pause,
            probe_timeout,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a call may go to Redis now.
    pub fn allow(&self) -> bool {
        let mut state = self.state();
        let now = Instant::now();
        match *state {
            State::Closed => true,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen { since: now };
                true
            }
            State::Open { .. } => false,
            State::HalfOpen { since } if now.duration_since(since) > self.probe_timeout => {
                *state = State::HalfOpen { since: now };
                true
            }
            State::HalfOpen { .. } => false,
        }
    }

    pub fn succeeded(&self) {
        let mut state = self.state();
        if *state != State::Closed {
            *state = State::Closed;
            tracing::info!("redis answers again; the circuit breaker is closed");
        }
    }

    pub fn failed(&self, what: &str, error: &str) {
        let mut state = self.state();
        let reopened = !matches!(*state, State::Closed);
        *state = State::Open {
            until: Instant::now() + self.pause,
        };
        if !reopened {
            tracing::warn!(
                operation = what,
                error,
                "redis failed; the circuit breaker is open and features run in-process"
            );
        } else {
            tracing::debug!(operation = what, error, "redis probe failed");
        }
    }

    /// Whether Redis is being bypassed (open, or waiting on a probe).
    pub fn is_open(&self) -> bool {
        *self.state() != State::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_failure_opens_it_and_a_successful_probe_closes_it() {
        let breaker = Breaker::new(Duration::from_millis(30), Duration::from_secs(5));
        assert!(breaker.allow());
        breaker.failed("test", "down");
        assert!(breaker.is_open());
        assert!(!breaker.allow(), "open: calls fall back");
        std::thread::sleep(Duration::from_millis(40));
        assert!(breaker.allow(), "the probe goes through");
        assert!(!breaker.allow(), "only one probe at a time");
        breaker.failed("test", "still down");
        assert!(!breaker.allow());
        std::thread::sleep(Duration::from_millis(40));
        assert!(breaker.allow());
        breaker.succeeded();
        assert!(!breaker.is_open());
        assert!(breaker.allow() && breaker.allow());
    }
}
