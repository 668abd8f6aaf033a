//! What an authenticated range request needs to know, kept in memory so that once warm it
//! costs no SQL: the account behind a bearer token or a signed URL's session, and whether a
//! customer owns a track. (A track's stored master is remembered by the media store, whose
//! changes this module carries to the other instances.)
//!
//! Every entry is bounded in number and lives at most `CHINOOK_AUTH_CACHE_SECS`, and a
//! token's entry never outlives the token's expiry. Changes drop entries at once on this
//! instance and, through a Redis channel, on every other one: a logout drops its token and
//! its session (signed URLs check the session on every request), and a saved master or a
//! deleted track drops the track's master. Ownership is only ever remembered when true, and
//! owning only grows (a purchase adds rows, nothing removes them): a purchase makes no entry
//! wrong, and the next request after it asks the database, which sees it. When Redis is down
//! or not configured, the TTL bounds how long a peer may lag.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::cache::Redis;
use crate::db::Db;
use crate::error::ApiResult;
use crate::media::MediaStore;
use crate::memo::Memo;
use crate::store::accounts::{self, Account, Live};
use crate::store::library;

/// Entries per cache, at most.
const ENTRIES: u64 = 100_000;

/// The Redis channel (under the key prefix) that carries invalidations.
const CHANNEL: &str = "warm-invalidate";

#[derive(Clone)]
pub struct Warm {
    /// Token hash → its account and expiry.
    tokens: Memo<String, Live>,
    /// Session id → its account and expiry.
    sessions: Memo<String, Option<Live>>,
    /// (customer, track) pairs known to be owned.
    owned: Memo<(i64, i64), bool>,
    media: MediaStore,
    redis: Option<Arc<Redis>>,
}

/// A change that makes entries wrong, as sent between instances.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    /// A token, by its hash, was revoked.
    Logout(String),
    /// A track's master was replaced or removed; `None`: every track's.
    Master(Option<i64>),
}

impl Change {
    fn encode(&self) -> String {
        match self {
            Change::Logout(hash) => format!("logout:{hash}"),
            Change::Master(Some(track)) => format!("master:{track}"),
            Change::Master(None) => "master:*".to_string(),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let (kind, value) = text.split_once(':')?;
        match (kind, value) {
            ("logout", _) => Some(Change::Logout(value.to_string())),
            ("master", "*") => Some(Change::Master(None)),
            ("master", _) => value.parse().ok().map(|t| Change::Master(Some(t))),
            _ => None,
        }
    }
}

impl Warm {
    pub fn new(redis: Option<Arc<Redis>>, ttl: Duration, media: MediaStore) -> Self {
        Self {
            tokens: Memo::new(ENTRIES, ttl),
            sessions: Memo::new(ENTRIES, ttl),
            owned: Memo::new(ENTRIES, ttl),
            media,
            redis,
        }
    }

    /// The account of a live bearer token, as `accounts::authenticate` answers.
    pub async fn authenticate(&self, db: &Db, token: &str) -> ApiResult<Account> {
        let hash = accounts::token_hash(token);
        if let Some(live) = self.tokens.get(&hash) {
            if live.is_live() {
                return Ok(live.account);
            }
            self.tokens.invalidate(&hash);
        }
        let live = self
            .tokens
            .get_or(hash, || accounts::authenticate_live(db, token), |_| true)
            .await?;
        Ok(live.account)
    }

    /// The account of a live `session` of `account`, as `accounts::session_account` answers.
    pub async fn session_account(
        &self,
        db: &Db,
        account: i64,
        session: &str,
    ) -> ApiResult<Option<Account>> {
        let key = session.to_string();
        if let Some(Some(live)) = self.sessions.get(&key) {
            if live.is_live() {
                return Ok((live.account.id == account).then_some(live.account));
            }
            self.sessions.invalidate(&key);
        }
        let found = self
            .sessions
            .get_or(
                key,
                || accounts::session_live(db, account, session),
                Option::is_some,
            )
            .await?;
        Ok(found
            .filter(|live| live.account.id == account)
            .map(|live| live.account))
    }

    /// Whether `customer` owns `track`.
    pub async fn owns(&self, db: &Db, customer: i64, track: i64) -> ApiResult<bool> {
        self.owned
            .get_or(
                (customer, track),
                || library::owns(db, customer, track),
                |owned| *owned,
            )
            .await
    }

    fn apply(&self, change: &Change) {
        match change {
            Change::Logout(hash) => {
                self.tokens.invalidate(hash);
                if let Some(session) = hash.get(..32) {
                    self.sessions.invalidate(&session.to_string());
                }
            }
            Change::Master(track) => self.media.forget_master(*track),
        }
    }

    /// Applies `change` here, then tells the other instances.
    async fn announce(&self, change: Change) {
        self.apply(&change);
        self.publish(&change).await;
    }

    async fn publish(&self, change: &Change) {
        if let Some(redis) = &self.redis {
            redis.publish(CHANNEL, change.encode()).await;
        }
    }

    /// The token was revoked: it and its session's signed URLs stop working everywhere.
    pub async fn logged_out(&self, token: &str) {
        self.announce(Change::Logout(accounts::token_hash(token)))
            .await;
    }

    /// Tells the other instances of every master this instance's media store saw change,
    /// until `shutdown`. Announcements missed because too many came at once become one
    /// "every master".
    pub async fn forward_master_changes(self, shutdown: CancellationToken) {
        let mut changes = self.media.master_changes();
        loop {
            let change = tokio::select! {
                _ = shutdown.cancelled() => return,
                change = changes.recv() => change,
            };
            match change {
                Ok(track) => self.publish(&Change::Master(track)).await,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    self.publish(&Change::Master(None)).await
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Applies the other instances' announcements until `shutdown`, resubscribing after a
    /// Redis outage. Entries cached while the subscription was down may have missed a change,
    /// so everything is dropped whenever it comes back.
    pub async fn follow(self, shutdown: CancellationToken) {
        let Some(redis) = self.redis.clone() else {
            return;
        };
        loop {
            match redis.subscriber(CHANNEL).await {
                Ok(mut pubsub) => {
                    self.clear();
                    let mut messages = pubsub.on_message();
                    loop {
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            message = messages.next() => match message {
                                Some(message) => {
                                    let text: String = message.get_payload().unwrap_or_default();
                                    if let Some(change) = Change::decode(&text) {
                                        self.apply(&change);
                                    }
                                }
                                None => break,
                            },
                        }
                    }
                    tracing::warn!(
                        "the Redis subscription for cache invalidations ended; resubscribing"
                    );
                }
                Err(e) => {
                    tracing::debug!(error = %e, "cannot subscribe to cache invalidations; retrying")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    fn clear(&self) {
        self.tokens.clear();
        self.sessions.clear();
        self.owned.clear();
        self.media.forget_master(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_survive_the_trip_between_instances() {
        for change in [
            Change::Logout("ab".repeat(32)),
            Change::Master(Some(3503)),
            Change::Master(None),
        ] {
            assert_eq!(Change::decode(&change.encode()), Some(change));
        }
        assert_eq!(Change::decode("master:x"), None);
        assert_eq!(Change::decode("nonsense"), None);
    }
}
