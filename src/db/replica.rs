//! One read replica: its pool and its health, as the router's health task last saw it.
//!
//! A replica is in the rotation when its last check answered, it is in recovery (a standby,
//! not a promoted server), it lags no more than the allowed lag, and its circuit breaker is
//! closed. A failure (a check or a read that could not reach it) opens the breaker for a
//! cooldown. While it is open the replica gets neither reads nor checks; after it, one check
//! probes the replica (half-open): a good one closes the breaker, a failed one opens it again
//! for twice as long, up to a few seconds.

use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::counted::Queries;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{ConnectOptions, Row};

use super::counted::Pool;
use crate::config::DatabaseUrl;

/// The first cooldown after a failure; it doubles per consecutive failure up to the maximum.
const FIRST_COOLDOWN: Duration = Duration::from_millis(500);
const MAX_COOLDOWN: Duration = Duration::from_secs(5);

/// What one check of a replica found.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    /// The WAL position it has replayed, in bytes since `0/0`.
    pub replay_lsn: i64,
    /// How far behind the primary it is; zero when it has replayed everything the primary
    /// had written when the check began.
    pub lag: Duration,
}

/// The health state of one replica.
#[derive(Debug, Default)]
struct Health {
    /// The last successful check; `None` before the first one.
    last: Option<Observation>,
    /// Failures since the last good check.
    failures: u32,
    /// While set and in the future, the breaker is open: no reads are sent here.
    ejected_until: Option<Instant>,
    /// When the replica was last seen behind the primary, to measure lag while the replica
    /// has not replayed a transaction since it started (no replay timestamp yet).
    behind_since: Option<Instant>,
    /// Whether the last good check found it within the allowed lag.
    fresh: bool,
}

/// A replica as the router sees it: a name fit for logs, a pool and its health.
pub struct Replica {
    pub name: String,
    pub pool: Pool,
    health: Mutex<Health>,
}

/// A replica's state as `/health` reports it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReplicaStatus {
    /// The replica's URL without its password.
    pub name: String,
    /// `ok` (in the rotation), `lagging`, `ejected` or `unknown` (not checked yet).
    pub status: &'static str,
    pub lag_ms: Option<u64>,
    pub consecutive_failures: u32,
}

impl Replica {
    /// A lazily connected pool: a replica that is down at start-up must not stop the
    /// service, it just stays out of the rotation until a check reaches it.
    pub fn new(url: &DatabaseUrl, max_connections: u32, queries: Queries) -> anyhow::Result<Self> {
        let options = AnyConnectOptions::from_str(url.expose())?
            .log_statements(tracing::log::LevelFilter::Debug)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
        let pool = super::born_here(AnyPoolOptions::new(), max_connections)
            // A replica that does not answer quickly is treated as down and the read goes to
            // the primary; waiting out a long timeout would only delay the request.
            .acquire_timeout(Duration::from_secs(1))
            .connect_lazy_with(options);
        Ok(Self {
            name: url.redacted(),
            pool: Pool::new(pool, queries),
            health: Mutex::new(Health::default()),
        })
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health
            .lock()
            .expect("replica health is never poisoned")
    }

    /// Whether normal reads may go here now.
    pub fn in_rotation(&self) -> bool {
        let health = self.health();
        health.fresh && !Self::open(&health)
    }

    /// Whether reads that tolerate lag (analytics) may go here: reachable, however far behind.
    pub fn reachable(&self) -> bool {
        let health = self.health();
        health.last.is_some() && !Self::open(&health)
    }

    /// The WAL position this replica had replayed at its last good check.
    pub fn replay_lsn(&self) -> Option<i64> {
        self.health().last.map(|o| o.replay_lsn)
    }

    fn open(health: &Health) -> bool {
        health
            .ejected_until
            .is_some_and(|until| Instant::now() < until)
    }

    /// Whether the breaker is open, so the health task leaves the replica alone for now.
    pub fn cooling_down(&self) -> bool {
        Self::open(&self.health())
    }

    /// Opens the breaker: a check failed or a read could not reach the replica. Reads that
    /// were already under way when it opened and fail too do not lengthen the cooldown.
    pub fn record_failure(&self, error: &dyn std::fmt::Display) {
        let mut health = self.health();
        if Self::open(&health) {
            return;
        }
        health.failures = health.failures.saturating_add(1);
        let cooldown = FIRST_COOLDOWN
            .saturating_mul(1 << health.failures.saturating_sub(1).min(10))
            .min(MAX_COOLDOWN);
        health.ejected_until = Some(Instant::now() + cooldown);
        health.last = None;
        health.fresh = false;
        tracing::warn!(
            replica = %self.name,
            failures = health.failures,
            cooldown_ms = cooldown.as_millis() as u64,
            error = %error,
            "replica ejected from the rotation"
        );
    }

    /// Records a good check. The breaker closes once its cooldown has passed; a replica
    /// further behind than `max_lag` stays out of the rotation until it catches up.
    pub fn record_check(
        &self,
        replay_lsn: i64,
        primary_lsn: i64,
        replay_age: Option<Duration>,
        max_lag: Duration,
    ) {
        let mut health = self.health();
        let now = Instant::now();
        let lag = if replay_lsn >= primary_lsn {
            health.behind_since = None;
            Duration::ZERO
        } else {
            let since = *health.behind_since.get_or_insert(now);
            replay_age.unwrap_or_else(|| now - since)
        };
        let fresh = lag <= max_lag;
        let rejoins = !Self::open(&health) && health.ejected_until.is_some();
        if rejoins {
            tracing::info!(replica = %self.name, "replica back in the rotation");
            health.ejected_until = None;
        }
        if health.fresh && !fresh {
            tracing::warn!(replica = %self.name, lag_ms = lag.as_millis() as u64, "replica lags; reads avoid it");
        } else if !health.fresh && fresh && health.last.is_some() {
            tracing::info!(replica = %self.name, "replica caught up");
        }
        if health.ejected_until.is_none() {
            health.failures = 0;
        }
        health.fresh = fresh;
        health.last = Some(Observation { replay_lsn, lag });
    }

    /// One health check: is it a standby, what has it replayed, and how old is that.
    pub async fn check(&self, primary_lsn: i64, max_lag: Duration) -> Result<(), sqlx::Error> {
        let row = sqlx::query(
            "SELECT pg_is_in_recovery(), \
                    (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::BIGINT, \
                    EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::FLOAT8",
        )
        .fetch_one(&self.pool)
        .await?;
        let in_recovery: bool = row.try_get(0)?;
        let replay_lsn: Option<i64> = row.try_get(1)?;
        let replay_age: Option<f64> = row.try_get(2)?;
        match (in_recovery, replay_lsn) {
            (true, Some(replay_lsn)) => {
                let age = replay_age.map(|s| Duration::from_secs_f64(s.max(0.0)));
                self.record_check(replay_lsn, primary_lsn, age, max_lag);
                Ok(())
            }
            // A promoted or misconfigured server is not a replica of this primary: reading
            // from it could return anything.
            _ => {
                self.record_failure(&"the server is not a streaming standby");
                Ok(())
            }
        }
    }

    pub fn status(&self) -> ReplicaStatus {
        let health = self.health();
        let status = if Self::open(&health) {
            "ejected"
        } else if health.last.is_none() {
            "unknown"
        } else if !health.fresh {
            "lagging"
        } else {
            "ok"
        };
        ReplicaStatus {
            name: self.name.clone(),
            status,
            lag_ms: health.last.map(|o| o.lag.as_millis() as u64),
            consecutive_failures: health.failures,
        }
    }
}
