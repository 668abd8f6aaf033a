//! Which PostgreSQL server a read goes to.
//!
//! Reads go to the replicas in the rotation, round robin; with none in it they go to the
//! primary. A read that cannot reach its replica is run again on the primary and the replica
//! is ejected, so a replica dying loses no request. After an account writes, its reads stay
//! on the primary until a replica has replayed past the primary's WAL position at that write
//! (read-your-writes); where that position is unknown, for a configured window instead.
//! Analytics reads (reports) take any reachable replica, even a lagging one, to keep heavy
//! scans off the primary.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus::IntCounterVec;
use tokio_util::sync::CancellationToken;

use super::counted::{Conn, Pool, Queries};
use super::replica::{Replica, ReplicaStatus};
use crate::config::Config;

/// Who a read is for, which decides where it may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFor {
    /// Anyone: a replica in the rotation will do.
    Anyone,
    /// A signed-in account, which must see its own latest writes.
    Account(i64),
    /// Reports: any reachable replica, however far behind, before the primary.
    Analytics,
    /// A request that has written: only the primary has its write for sure.
    Primary,
}

/// Where an account's last write stands in the primary's WAL.
#[derive(Debug, Clone, Copy)]
struct Write {
    /// `pg_current_wal_insert_lsn()` after the write; `None` when it could not be read.
    lsn: Option<i64>,
    at: Instant,
}

/// The replicas of a PostgreSQL primary and the accounts that must read from the primary.
pub struct Router {
    replicas: Vec<Replica>,
    next: AtomicUsize,
    writes: Mutex<HashMap<i64, Write>>,
    max_lag: Duration,
    interval: Duration,
    window: Duration,
}

impl Router {
    /// The statements of every replica's pool count under role `replica` in `queries`; with
    /// no replicas that role does not appear.
    pub fn new(config: &Config, queries: &IntCounterVec) -> anyhow::Result<Self> {
        let replicas = config
            .replica_urls
            .iter()
            .map(|url| {
                let counter = Queries::of(queries, "replica");
                Replica::new(url, config.db_max_connections, counter)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            replicas,
            next: AtomicUsize::new(0),
            writes: Mutex::new(HashMap::new()),
            max_lag: config.max_replica_lag,
            interval: config.replica_check_interval,
            window: config.read_your_writes_window,
        })
    }

    pub fn has_replicas(&self) -> bool {
        !self.replicas.is_empty()
    }

    /// The replica the next read of `reader` goes to, or `None` for the primary.
    pub fn choose(&self, reader: ReadFor) -> Option<&Replica> {
        if self.replicas.is_empty() || reader == ReadFor::Primary {
            return None;
        }
        let needs = match reader {
            ReadFor::Account(id) => match self.pending_write(id) {
                Pending::None => None,
                Pending::Lsn(lsn) => Some(lsn),
                Pending::Unknown => return None,
            },
            _ => None,
        };
        let usable = |r: &Replica| match reader {
            ReadFor::Analytics => r.reachable(),
            ReadFor::Primary => false,
            _ => r.in_rotation() && needs.is_none_or(|lsn| r.replay_lsn() >= Some(lsn)),
        };
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..self.replicas.len())
            .map(|i| &self.replicas[(start + i) % self.replicas.len()])
            .find(|r| usable(r))
    }

    /// Runs `read` on the chosen replica; when that replica cannot be reached (or fails with
    /// an error a standby can raise and the primary cannot), ejects it and runs `read` again
    /// on `primary`.
    pub async fn read<T, F, Fut>(
        &self,
        primary: &Pool,
        reader: ReadFor,
        read: F,
    ) -> Result<T, sqlx::Error>
    where
        F: Fn(Pool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        let Some(replica) = self.choose(reader) else {
            return read(primary.clone()).await;
        };
        match read(replica.pool.clone()).await {
            Err(e) if replica_trouble(&e) => {
                replica.record_failure(&e);
                tracing::debug!(replica = %replica.name, error = %e, "read retried on the primary");
                read(primary.clone()).await
            }
            other => other,
        }
    }

    /// A connection for several reads (a snapshot, or a domain function that takes one):
    /// from the chosen replica, or from `primary` when that replica cannot give one. The pool
    /// tests a connection before handing it out, so a replica that died is noticed here.
    pub async fn acquire(&self, primary: &Pool, reader: ReadFor) -> Result<Conn, sqlx::Error> {
        if let Some(replica) = self.choose(reader) {
            match replica.pool.acquire().await {
                Ok(conn) => return Ok(conn),
                Err(e) if replica_trouble(&e) => replica.record_failure(&e),
                Err(e) => return Err(e),
            }
        }
        primary.acquire().await
    }

    /// Notes that `account` has just written, at the primary's WAL position `lsn`.
    pub fn note_write(&self, account: i64, lsn: Option<i64>) {
        if self.replicas.is_empty() {
            return;
        }
        let mut writes = self.writes.lock().expect("never poisoned");
        writes.insert(
            account,
            Write {
                lsn,
                at: Instant::now(),
            },
        );
    }

    fn pending_write(&self, account: i64) -> Pending {
        let writes = self.writes.lock().expect("never poisoned");
        match writes.get(&account) {
            None => Pending::None,
            Some(Write { lsn: Some(lsn), .. }) => Pending::Lsn(*lsn),
            Some(Write { lsn: None, at }) if at.elapsed() < self.window => Pending::Unknown,
            Some(_) => Pending::None,
        }
    }

    /// Forgets writes every replica has replayed, and unknown positions past the window, so
    /// the map holds only accounts that still need the primary.
    fn forget_replayed_writes(&self) {
        let slowest = self.replicas.iter().map(|r| r.replay_lsn()).min().flatten();
        let window = self.window;
        self.writes
            .lock()
            .expect("never poisoned")
            .retain(|_, w| match w.lsn {
                Some(lsn) => slowest.is_none_or(|replayed| replayed < lsn),
                None => w.at.elapsed() < window,
            });
    }

    /// Checks every replica once against the primary's current WAL position.
    pub async fn check(&self, primary: &Pool) {
        let primary_lsn = match current_lsn(primary).await {
            Ok(lsn) => lsn,
            Err(e) => {
                // Without the primary's position lag cannot be judged; the replicas keep their
                // last state until the primary answers again.
                tracing::warn!(error = %e, "replica check: the primary's WAL position is unreadable");
                return;
            }
        };
        let due = self.replicas.iter().filter(|r| !r.cooling_down());
        let checks = due.map(|replica| async move {
            let check = tokio::time::timeout(
                self.interval.max(Duration::from_secs(1)),
                replica.check(primary_lsn, self.max_lag),
            )
            .await;
            match check {
                Ok(Ok(())) => {}
                Ok(Err(e)) => replica.record_failure(&e),
                Err(_) => replica.record_failure(&"the check timed out"),
            }
        });
        futures_util::future::join_all(checks).await;
        self.forget_replayed_writes();
    }

    /// Checks the replicas every interval until `shutdown` is cancelled.
    pub async fn watch(&self, primary: Pool, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => self.check(&primary).await,
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// Every replica's pool, for metrics.
    pub fn pools(&self) -> impl Iterator<Item = &Pool> {
        self.replicas.iter().map(|r| &r.pool)
    }

    pub fn statuses(&self) -> Vec<ReplicaStatus> {
        self.replicas.iter().map(Replica::status).collect()
    }

    pub async fn close(&self) {
        for replica in &self.replicas {
            if tokio::time::timeout(Duration::from_secs(1), replica.pool.raw().close())
                .await
                .is_err()
            {
                tracing::warn!(replica = %replica.name, "gave up waiting for replica connections");
            }
        }
    }
}

enum Pending {
    None,
    Lsn(i64),
    Unknown,
}

/// The primary's current WAL position, in bytes since `0/0`. It is the *insert* position:
/// with `synchronous_commit = off` a commit returns before its WAL is written, so the write
/// position (`pg_current_wal_lsn()`) can still be short of a transaction that has committed,
/// and a replica that has replayed that far would wrongly count as having the write.
pub async fn current_lsn(primary: &Pool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::BIGINT")
        .fetch_one(primary)
        .await
}

/// Errors that say the replica, not the query, is the problem: it cannot be reached, it is
/// shutting down or starting up, or recovery cancelled the query (SQLSTATE class 08 and 57,
/// and 40001 from a conflict with recovery).
fn replica_trouble(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57") || code == "40001"
        }),
        _ => false,
    }
}
