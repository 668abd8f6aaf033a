//! A bounded, time-limited memo of lookups that an invalidation cannot lose to a race: an
//! answer read from the database before an invalidation is never kept after it. It imports
//! nothing from the crate, so any module may keep one.

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Memo<K, V> {
    entries: moka::sync::Cache<K, V>,
    /// Moves on every invalidation. A load that saw it move while it ran keeps nothing.
    epoch: Arc<AtomicU64>,
}

impl<K, V> Memo<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// At most `capacity` entries, each kept at most `ttl`.
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            epoch: Arc::default(),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.entries.get(key)
    }

    /// The remembered value of `key`, or what `load` answers, kept when `keep` says so and
    /// no invalidation happened while it ran.
    pub async fn get_or<E, F>(
        &self,
        key: K,
        load: impl FnOnce() -> F,
        keep: impl FnOnce(&V) -> bool,
    ) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        if let Some(found) = self.entries.get(&key) {
            return Ok(found);
        }
        let start = self.epoch.load(Ordering::SeqCst);
        let value = load().await?;
        if keep(&value) {
            self.entries.insert(key.clone(), value.clone());
            // An invalidation between the load and the insert would otherwise be undone:
            // either it moved the epoch before this check, or it removes the key after the
            // insert.
            if self.epoch.load(Ordering::SeqCst) != start {
                self.entries.invalidate(&key);
            }
        }
        Ok(value)
    }

    pub fn invalidate(&self, key: &K) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate(key);
    }

    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_load_that_an_invalidation_overtook_is_not_kept() {
        let memo: Memo<u8, u8> = Memo::new(10, Duration::from_secs(60));
        let stale = memo
            .get_or(
                1,
                || async {
                    memo.invalidate(&1);
                    Ok::<_, ()>(7)
                },
                |_| true,
            )
            .await;
        assert_eq!(stale, Ok(7));
        assert_eq!(memo.get(&1), None, "read before the invalidation");
        let fresh = memo.get_or(1, || async { Ok::<_, ()>(8) }, |_| true).await;
        assert_eq!(fresh, Ok(8));
        assert_eq!(memo.get(&1), Some(8));
        let refused = memo.get_or(2, || async { Ok::<_, ()>(9) }, |_| false).await;
        assert_eq!(refused, Ok(9));
        assert_eq!(memo.get(&2), None, "keep said no");
    }
}
