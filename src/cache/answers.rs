//! Computed answers (taxonomy trees, sales reports, popular tracks) kept as JSON in two
//! layers: this process's memory (moka), then Redis, shared by every instance.
//!
//! Keys carry the version of the data they were computed from (the change feed's last
//! change the index holds, or the sales data's version), so a change anywhere makes every
//! instance ask for a new key: nothing has to be deleted, and an instance can never serve
//! an answer older than the data it has seen. Stale entries age out by TTL.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use prometheus::IntCounterVec;
use serde::Serialize;

use super::connection::Redis;
use crate::error::ApiResult;

/// Answers kept in memory at most, per process.
const MEMORY_ENTRIES: u64 = 10_000;

#[derive(Clone)]
pub struct Answers {
    memory: moka::sync::Cache<String, Arc<str>>,
    redis: Option<Arc<Redis>>,
    ttl: Duration,
    requests: IntCounterVec,
}

impl Answers {
    pub fn new(redis: Option<Arc<Redis>>, ttl: Duration, requests: IntCounterVec) -> Self {
        // Every series there can be starts at zero, so a scrape shows the whole set.
        let layers: &[&str] = if redis.is_some() {
            &["memory", "redis"]
        } else {
            &["memory"]
        };
        for layer in layers {
            for result in ["hit", "miss"] {
                requests.with_label_values(&[layer, result]);
            }
        }
        Self {
            memory: moka::sync::Cache::builder()
                .max_capacity(MEMORY_ENTRIES)
                .time_to_live(ttl)
                .build(),
            redis,
            ttl,
            requests,
        }
    }

    fn count(&self, layer: &str, hit: bool) {
        self.requests
            .with_label_values(&[layer, if hit { "hit" } else { "miss" }])
            .inc();
    }

    /// The JSON answer for `key`: from memory, else from Redis, else computed by `compute`
    /// and kept in both.
    pub async fn json<T, F, Fut>(&self, key: String, compute: F) -> ApiResult<Arc<str>>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let stored = key.clone();
        self.json_as(key, || async move { Ok((compute().await?, stored)) })
            .await
    }

    /// As `json`, for answers that learn while computed which key they are true for (e.g. the
    /// data version of the snapshot they were read from): the answer is kept under that key,
    /// which may differ from the one looked up.
    pub async fn json_as<T, F, Fut>(&self, key: String, compute: F) -> ApiResult<Arc<str>>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<(T, String)>>,
    {
        if let Some(found) = self.memory.get(&key) {
            self.count("memory", true);
            return Ok(found);
        }
        self.count("memory", false);
        if let Some(redis) = &self.redis {
            let shared_key = redis.key(&format!("answer:{key}"));
            let found = redis
                .call("cache get", |mut c| async move {
                    redis::cmd("GET")
                        .arg(shared_key)
                        .query_async::<Option<String>>(&mut c)
                        .await
                })
                .await;
            // A call that could not be made is no lookup, so it counts as neither.
            if let Some(found) = found {
                self.count("redis", found.is_some());
                if let Some(json) = found {
                    let json: Arc<str> = json.into();
                    self.memory.insert(key, json.clone());
                    return Ok(json);
                }
            }
        }
        let (answer, key) = compute().await?;
        let json: Arc<str> = serde_json::to_string(&answer)
            .map_err(anyhow::Error::from)?
            .into();
        if let Some(redis) = &self.redis {
            let shared_key = redis.key(&format!("answer:{key}"));
            let value = json.to_string();
            let ttl = self.ttl.as_secs().max(1);
            redis
                .call("cache set", |mut c| async move {
                    redis::cmd("SET")
                        .arg(shared_key)
                        .arg(value)
                        .arg("EX")
                        .arg(ttl)
                        .query_async::<()>(&mut c)
                        .await
                })
                .await;
        }
        self.memory.insert(key, json.clone());
        Ok(json)
    }
}

/// A cached JSON answer as a response.
pub fn respond(json: Arc<str>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(json.to_string())
}
