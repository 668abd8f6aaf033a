//! What an authenticated range request needs to know, kept in memory so that once warm it
//! costs no SQL: the account behind a bearer token or a signed URL's session, whether a
//! customer owns a track, and a track's stored master (or that it has none).
//!
//! Every entry is bounded in number and lives at most `CHINOOK_AUTH_CACHE_SECS`. Changes drop
//! entries at once on this instance and, through a Redis channel, on every other one: a
//! logout drops its token and its session (signed URLs check the session on every request),
//! and an upload drops the track's master. Ownership is only ever remembered when true, and
//! owning only grows (a purchase adds rows, nothing removes them): a purchase makes no entry
//! wrong, and the next request after it asks the database, which sees it. When Redis is down or not configured, the TTL bounds how long a peer may lag.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::cache::Redis;
use crate::db::Db;
use crate::error::ApiResult;
use crate::media::{self, AudioFile};
use crate::store::accounts::{self, Account};
use crate::store::library;

/// Entries per cache, at most.
const ENTRIES: u64 = 100_000;

/// The Redis channel (under the key prefix) that carries invalidations.
const CHANNEL: &str = "warm-invalidate";

#[derive(Clone)]
pub struct Warm {
    /// Token hash → account.
    tokens: moka::sync::Cache<String, Account>,
    /// Session id → account.
    sessions: moka::sync::Cache<String, Account>,
    /// (customer, track) pairs known to be owned.
    owned: moka::sync::Cache<(i64, i64), ()>,
    /// Track → its stored master, or `None` when it plays its generated song.
    masters: moka::sync::Cache<i64, Option<AudioFile>>,
    redis: Option<Arc<Redis>>,
}

fn cache<K, V>(ttl: Duration) -> moka::sync::Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    moka::sync::Cache::builder()
        .max_capacity(ENTRIES)
        .time_to_live(ttl)
        .build()
}

/// A change that makes entries wrong, as sent between instances.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    /// A token, by its hash, was revoked.
    Logout(String),
    /// A track's master was replaced or removed.
    Master(i64),
}

impl Change {
    fn encode(&self) -> String {
        match self {
            Change::Logout(hash) => format!("logout:{hash}"),
            Change::Master(track) => format!("master:{track}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let (kind, value) = text.split_once(':')?;
        match kind {
            "logout" => Some(Change::Logout(value.to_string())),
            "master" => value.parse().ok().map(Change::Master),
            _ => None,
        }
    }
}

impl Warm {
    pub fn new(redis: Option<Arc<Redis>>, ttl: Duration) -> Self {
        Self {
            tokens: cache(ttl),
            sessions: cache(ttl),
            owned: cache(ttl),
            masters: cache(ttl),
            redis,
        }
    }

    /// The account of a live bearer token, as `accounts::authenticate` answers.
    pub async fn authenticate(&self, db: &Db, token: &str) -> ApiResult<Account> {
        let hash = accounts::token_hash(token);
        if let Some(account) = self.tokens.get(&hash) {
            return Ok(account);
        }
        let account = accounts::authenticate(db, token).await?;
        self.tokens.insert(hash, account.clone());
        Ok(account)
    }

    /// The account of a live `session` of `account`, as `accounts::session_account` answers.
    pub async fn session_account(
        &self,
        db: &Db,
        account: i64,
        session: &str,
    ) -> ApiResult<Option<Account>> {
        if let Some(found) = self.sessions.get(session) {
            return Ok((found.id == account).then_some(found));
        }
        let found = accounts::session_account(db, account, session).await?;
        if let Some(found) = &found {
            self.sessions.insert(session.to_string(), found.clone());
        }
        Ok(found)
    }

    /// Whether `customer` owns `track`.
    pub async fn owns(&self, db: &Db, customer: i64, track: i64) -> ApiResult<bool> {
        if self.owned.contains_key(&(customer, track)) {
            return Ok(true);
        }
        let owned = library::owns(db, customer, track).await?;
        if owned {
            self.owned.insert((customer, track), ());
        }
        Ok(owned)
    }

    /// A track's stored master, as `media::audio_of` answers.
    pub async fn audio_of(&self, db: &Db, track: i64) -> ApiResult<Option<AudioFile>> {
        if let Some(found) = self.masters.get(&track) {
            return Ok(found);
        }
        let found = media::audio_of(db, track).await?;
        self.masters.insert(track, found.clone());
        Ok(found)
    }

    fn apply(&self, change: &Change) {
        match change {
            Change::Logout(hash) => {
                self.tokens.invalidate(hash);
                if let Some(session) = hash.get(..32) {
                    self.sessions.invalidate(session);
                }
            }
            Change::Master(track) => self.masters.invalidate(track),
        }
    }

    /// Applies `change` here, then tells the other instances.
    async fn announce(&self, change: Change) {
        self.apply(&change);
        if let Some(redis) = &self.redis {
            redis.publish(CHANNEL, change.encode()).await;
        }
    }

    /// The token was revoked: it and its session's signed URLs stop working everywhere.
    pub async fn logged_out(&self, token: &str) {
        self.announce(Change::Logout(accounts::token_hash(token)))
            .await;
    }

    /// The track's master was replaced or removed.
    pub async fn master_changed(&self, track: i64) {
        self.announce(Change::Master(track)).await;
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
        self.tokens.invalidate_all();
        self.sessions.invalidate_all();
        self.owned.invalidate_all();
        self.masters.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_survive_the_trip_between_instances() {
        for change in [Change::Logout("ab".repeat(32)), Change::Master(3503)] {
            assert_eq!(Change::decode(&change.encode()), Some(change));
        }
        assert_eq!(Change::decode("master:x"), None);
        assert_eq!(Change::decode("nonsense"), None);
    }
}
