//! Prometheus metrics: one registry per application (never the process-global default, so
//! several apps in one test process each count their own), the instruments the HTTP
//! middleware, search and streaming record into, and figures sampled at scrape time (pool
//! connections, open streams, index documents, resident memory).
//!
//! A metric is exported only while there is something real behind it: replica lag only
//! for replicas a check has measured.

use std::time::Instant;

use anyhow::Context;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    exponential_buckets, Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// What `/metrics` answers with: the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// The one `route` label of requests no route matched, so that scanners probing random
/// paths add one series, not one per path.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Methods kept as they are in labels; any other (actix accepts made-up ones) is `other`.
const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The registry and the instruments code records into. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    search_duration: HistogramVec,
    stream_bytes: IntCounter,
    cache_requests: IntCounterVec,
    rate_limited: IntCounterVec,
    feed_wakeups: IntCounterVec,
}

/// What is sampled when scraped rather than counted as it happens. Start-up says where each
/// figure comes from, so this module depends on none of the parts it reports on.
pub type Sources = Box<dyn Fn() -> Snapshot + Send + Sync>;

/// The figures of one scrape. A figure that is `None` has nothing real behind it yet.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Per pool: its role label, connections open and connections idle.
    pub pools: Vec<(&'static str, u32, usize)>,
    /// Per replica a check has measured: its name and lag in milliseconds.
    pub replica_lag_ms: Vec<(String, u64)>,
    /// Whether Redis's circuit breaker is open, when Redis is configured.
    pub redis_degraded: Option<bool>,
    /// Full streams and downloads playing now.
    pub open_streams: usize,
    /// Documents the index reader sees, once the index is warm.
    pub index_documents: Option<u64>,
}

impl Metrics {
    pub fn new(sources: Sources) -> anyhow::Result<Self> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by method, route pattern and status",
            ),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from a request's arrival until its response head is ready (a streamed \
                 body's transfer is not included), by method and route pattern",
            ),
            &["method", "route"],
        )?;
        let search_duration = HistogramVec::new(
            HistogramOpts::new(
                "search_query_duration_seconds",
                "Time the search index takes to run a search or suggest query",
            )
            // 0.25 ms to about 4 s: a warm query takes a few milliseconds.
            .buckets(exponential_buckets(0.000_25, 2.0, 15)?),
            &["operation"],
        )?;
        let stream_bytes = IntCounter::new(
            "stream_bytes_total",
            "Audio bytes handed to clients by streams, previews and downloads",
        )?;
        let cache_requests = IntCounterVec::new(
            Opts::new(
                "cache_requests_total",
                "Lookups of computed answers, by cache layer (memory, redis) and result (hit, \
                 miss); a Redis lookup happens only after a memory miss",
            ),
            &["layer", "result"],
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "rate_limited_total",
                "Requests refused by the rate limiter, by limit class (anonymous, account, \
                 login, write: a 429; subsonic: a Subsonic error)",
            ),
            &["class"],
        )?;
        let feed_wakeups = IntCounterVec::new(
            Opts::new(
                "change_feed_wakeups_total",
                "Times the change-feed follower woke to apply the catalog log, by what woke it \
                 (notify: PostgreSQL, redis: a Redis message, poll: the periodic check)",
            ),
            &["source"],
        )?;
        for class in ["anonymous", "account", "login", "write", "subsonic"] {
            rate_limited.with_label_values(&[class]);
        }
        let metrics = Self {
            registry,
            http_requests,
            http_duration,
            search_duration,
            stream_bytes,
            cache_requests,
            rate_limited,
            feed_wakeups,
        };
        metrics.register(Box::new(metrics.http_requests.clone()))?;
        metrics.register(Box::new(metrics.http_duration.clone()))?;
        metrics.register(Box::new(metrics.search_duration.clone()))?;
        metrics.register(Box::new(metrics.stream_bytes.clone()))?;
        metrics.register(Box::new(metrics.cache_requests.clone()))?;
        metrics.register(Box::new(metrics.rate_limited.clone()))?;
        metrics.register(Box::new(metrics.feed_wakeups.clone()))?;
        metrics.register(Box::new(Sampled::new(sources)?))?;
        Ok(metrics)
    }

    /// Adds an instrument; a name registered twice is an error.
    pub fn register(&self, collector: Box<dyn Collector>) -> anyhow::Result<()> {
        self.registry
            .register(collector)
            .context("registering a metric")
    }

    /// Counts one answered request. `route` is the matched pattern, or `None`.
    pub fn observe_request(
        &self,
        method: &str,
        route: Option<&str>,
        status: u16,
        started: Instant,
    ) {
        let method = KNOWN_METHODS
            .iter()
            .find(|known| **known == method)
            .copied()
            .unwrap_or("other");
        let route = route.unwrap_or(UNMATCHED_ROUTE);
        self.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(started.elapsed().as_secs_f64());
    }

    /// Runs `query` and records how long it took under `operation` (`search` or `suggest`).
    pub fn time_search<T>(&self, operation: &'static str, query: impl FnOnce() -> T) -> T {
        let _timer = self
            .search_duration
            .with_label_values(&[operation])
            .start_timer();
        query()
    }

    /// The counter of audio bytes sent; streaming bodies add each chunk as it goes out.
    pub fn stream_bytes(&self) -> IntCounter {
        self.stream_bytes.clone()
    }

    /// The counter of cache lookups by layer and result, for the answer cache.
    pub fn cache_requests(&self) -> IntCounterVec {
        self.cache_requests.clone()
    }

    /// Counts one request refused by the rate limit of `class`.
    pub fn rate_limited(&self, class: &str) {
        self.rate_limited.with_label_values(&[class]).inc();
    }

    /// The counter of change-feed wake-ups by source.
    pub fn feed_wakeups(&self) -> IntCounterVec {
        self.feed_wakeups.clone()
    }

    /// Everything, in the text exposition format.
    pub fn render(&self) -> anyhow::Result<String> {
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .context("encoding the metrics")?;
        String::from_utf8(text).context("the metrics are not UTF-8")
    }
}

/// Figures read at each scrape. Series are built afresh every time, so one whose source is
/// missing (the index while it warms, memory off Linux) is absent rather than a stale or
/// made-up zero.
struct Sampled {
    sources: Sources,
    descs: Vec<Desc>,
}

fn pool_gauge() -> prometheus::Result<IntGaugeVec> {
    IntGaugeVec::new(
        Opts::new(
            "db_pool_connections",
            "Database connections open in each pool, idle or in use",
        ),
        &["role", "state"],
    )
}

fn redis_gauge() -> prometheus::Result<IntGauge> {
    IntGauge::new(
        "redis_degraded",
        "1 while Redis's circuit breaker is open and rate limits, caches and stream caps run in-process; 0 while Redis answers",
    )
}

fn streams_gauge() -> prometheus::Result<IntGauge> {
    IntGauge::new(
        "active_streams",
        "Full streams and downloads playing now, each holding a place under the per-account cap",
    )
}

fn documents_gauge() -> prometheus::Result<IntGauge> {
    IntGauge::new(
        "index_documents",
        "Documents in the search index as its reader sees them",
    )
}

fn replica_lag_gauge() -> prometheus::Result<prometheus::GaugeVec> {
    prometheus::GaugeVec::new(
        Opts::new(
            "db_replica_lag_seconds",
            "How far each read replica is behind the primary, as its last health check found",
        ),
        &["replica"],
    )
}

fn memory_gauge() -> prometheus::Result<IntGauge> {
    IntGauge::new(
        "process_resident_memory_bytes",
        "Resident memory of this process",
    )
}

impl Sampled {
    fn new(sources: Sources) -> prometheus::Result<Self> {
        let mut descs = Vec::new();
        descs.extend(pool_gauge()?.desc().into_iter().cloned());
        descs.extend(streams_gauge()?.desc().into_iter().cloned());
        descs.extend(redis_gauge()?.desc().into_iter().cloned());
        descs.extend(documents_gauge()?.desc().into_iter().cloned());
        descs.extend(memory_gauge()?.desc().into_iter().cloned());
        descs.extend(replica_lag_gauge()?.desc().into_iter().cloned());
        Ok(Self { sources, descs })
    }

    fn sample(&self) -> prometheus::Result<Vec<MetricFamily>> {
        let mut families = Vec::new();

        let snapshot = (self.sources)();
        let pools = pool_gauge()?;
        for (role, size, idle) in snapshot.pools {
            let (size, idle) = (i64::from(size), idle as i64);
            // Added, not set: every replica's pool counts under the one `replica` role.
            pools.with_label_values(&[role, "idle"]).add(idle);
            pools
                .with_label_values(&[role, "in_use"])
                .add((size - idle).max(0));
        }
        families.extend(pools.collect());

        // Only replicas that a check has measured: one never reached has no lag to show.
        if !snapshot.replica_lag_ms.is_empty() {
            let lag = replica_lag_gauge()?;
            for (replica, ms) in snapshot.replica_lag_ms {
                lag.with_label_values(&[replica.as_str()])
                    .set(ms as f64 / 1000.0);
            }
            families.extend(lag.collect());
        }

        // Only with Redis configured: without it there is nothing to be degraded.
        if let Some(is_degraded) = snapshot.redis_degraded {
            let degraded = redis_gauge()?;
            degraded.set(i64::from(is_degraded));
            families.extend(degraded.collect());
        }

        let streams = streams_gauge()?;
        streams.set(snapshot.open_streams as i64);
        families.extend(streams.collect());

        if let Some(count) = snapshot.index_documents {
            let documents = documents_gauge()?;
            documents.set(count as i64);
            families.extend(documents.collect());
        }

        if let Some(bytes) = resident_memory_bytes() {
            let memory = memory_gauge()?;
            memory.set(bytes as i64);
            families.extend(memory.collect());
        }
        Ok(families)
    }
}

impl Collector for Sampled {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.sample().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "sampling metrics failed");
            Vec::new()
        })
    }
}

/// Resident set size from `/proc/self/statm` (its second field, in pages).
pub fn resident_memory_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(page_size).ok().map(|size| pages * size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let bytes = resident_memory_bytes().expect("statm is readable");
            assert!(bytes > 1 << 20, "{bytes} bytes resident");
        }
    }
}
