//! Single flight: concurrent callers asking for the same key share one computation, so a
//! burst of first requests for a new file costs one render, not one each.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub struct Flights<T> {
    inflight: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
    runs: AtomicU64,
}

impl<T> Default for Flights<T> {
    fn default() -> Self {
        Self {
            inflight: Mutex::default(),
            runs: AtomicU64::new(0),
        }
    }
}

impl<T: Clone> Flights<T> {
    /// `make`'s answer for `key`, made once for every caller that asks while it is made. A
    /// failure is not shared: the next caller tries again.
    pub async fn run<E, F>(&self, key: &str, make: impl FnOnce() -> F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let cell = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            inflight.entry(key.to_string()).or_default().clone()
        };
        let result = cell
            .get_or_try_init(|| {
                self.runs.fetch_add(1, Ordering::Relaxed);
                make()
            })
            .await
            .cloned();
        let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        if inflight.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            inflight.remove(key);
        }
        result
    }

    /// How many computations were started.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_callers_share_one_run_and_later_ones_run_again() {
        let flights = Flights::<u32>::default();
        let (gate, opened) = tokio::sync::oneshot::channel::<()>();
        let opened = tokio::sync::Mutex::new(Some(opened));
        let calls = (0..20).map(|_| {
            flights.run("k", || async {
                if let Some(wait) = opened.lock().await.take() {
                    let _ = wait.await;
                }
                Ok::<_, ()>(7)
            })
        });
        let all = futures_util::future::join_all(calls);
        let (answers, _) = tokio::join!(all, async { gate.send(()).unwrap() });
        assert!(answers.iter().all(|a| *a == Ok(7)));
        assert_eq!(flights.runs(), 1);
        assert_eq!(flights.run("k", || async { Ok::<_, ()>(8) }).await, Ok(8));
        assert_eq!(flights.runs(), 2);
    }
}
