//! The connection to Redis: one multiplexed connection that reconnects by itself, keys
//! under the configured prefix, a short timeout on every command, and the circuit breaker
//! that every call goes through. A call that cannot be made answers `None`, and its caller
//! falls back to the in-process form of its feature.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::breaker::Breaker;
use crate::config::Config;

/// How long the breaker stays open before probing Redis again.
const BREAKER_PAUSE: Duration = Duration::from_millis(500);

pub struct Redis {
    client: redis::Client,
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
    breaker: Breaker,
}

impl Redis {
    /// Sets up the connection without making it: Redis may be down at start-up, and the
    /// service starts all the same.
    pub fn open(config: &Config) -> anyhow::Result<Option<Self>> {
        let Some(url) = &config.redis_url else {
            return Ok(None);
        };
        let client = redis::Client::open(url.expose()).context("CHINOOK_REDIS_URL is invalid")?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.redis_timeout))
            .set_response_timeout(Some(config.redis_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), manager)
            .context("setting up the Redis connection")?;
        Ok(Some(Self {
            client,
            connection,
            prefix: config.redis_prefix.clone(),
            timeout: config.redis_timeout,
            breaker: Breaker::new(BREAKER_PAUSE, config.redis_timeout * 4),
        }))
    }

    /// `name` under this deployment's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Runs `call` unless the breaker is open; a failure or a timeout opens it. `None` means
    /// the caller falls back.
    pub async fn call<T, F, Fut>(&self, what: &'static str, call: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.breaker.allow() {
            return None;
        }
        match tokio::time::timeout(self.timeout, call(self.connection.clone())).await {
            Ok(Ok(value)) => {
                self.breaker.succeeded();
                Some(value)
            }
            Ok(Err(e)) => {
                self.breaker.failed(what, &e.to_string());
                None
            }
            Err(_) => {
                self.breaker.failed(what, "timed out");
                None
            }
        }
    }

    /// Whether features are running in-process because Redis failed.
    pub fn degraded(&self) -> bool {
        self.breaker.is_open()
    }

    /// Round trip of a `PING`, through the breaker.
    pub async fn ping(&self) -> Option<Duration> {
        let started = std::time::Instant::now();
        self.call("ping", |mut c| async move {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .map(|_| started.elapsed())
    }

    /// A connection of its own for subscribing, outside the breaker (the subscriber retries
    /// by itself).
    pub async fn subscriber(&self, channel: &str) -> redis::RedisResult<redis::aio::PubSub> {
        let mut pubsub = tokio::time::timeout(self.timeout.max(Duration::from_secs(1)), async {
            self.client.get_async_pubsub().await
        })
        .await
        .map_err(|_| {
            redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connecting to subscribe timed out",
            ))
        })??;
        pubsub.subscribe(self.key(channel)).await?;
        Ok(pubsub)
    }

    /// Announces `message` on `channel`; lost when Redis is down, which pollers make up for.
    pub async fn publish(&self, channel: &str, message: String) {
        let channel = self.key(channel);
        self.call("publish", |mut c| async move {
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(message)
                .query_async::<i64>(&mut c)
                .await
        })
        .await;
    }
}
