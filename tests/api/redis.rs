//! What instances share through a real redis-server: cached answers (counted per layer,
//! reaching a peer, exact after a purchase), change announcements, the stream cap as leases
//! (released at the end of a stream, expiring after a crash), and the outage: Redis killed
//! under load loses no request, `/health` says degraded while `/health/ready` stays 200,
//! and everything recovers when Redis is back.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chinook::config::Config;
use chinook::media::encode::Rendition;
use serde_json::{json, Value};

use crate::helpers::{self, require_redis, use_redis, TestApp, TestDatabase, DEMO_PASSWORD};
use crate::purchases::{buy, new_customer};
use crate::streaming::{give_audio, place_rendition};

const ADMIN: &str = "andrew@chinookcorp.com";

/// The app on the shared test Redis, under a prefix of its own.
pub(crate) async fn on_redis(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let url = require_redis();
    TestApp::spawn_with(|config| {
        use_redis(config, &url);
        adjust(config);
    })
    .await
}

/// A value of a counter in `app`'s `/metrics` text, 0 when the series is absent.
fn counter(app: &TestApp, series: &str) -> u64 {
    let text = app.state.metrics.render().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{series} ")))
        .map(|n| n.parse().unwrap())
        .unwrap_or(0)
}

fn cache(app: &TestApp, layer: &str, result: &str) -> u64 {
    counter(
        app,
        &format!("cache_requests_total{{layer=\"{layer}\",result=\"{result}\"}}"),
    )
}

pub(crate) async fn until(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_answer_is_computed_once_then_served_from_memory_here_and_from_redis_on_a_peer() {
    // Staff reports are the answers kept in memory and shared over Redis; public catalog
    // answers are kept per instance by generation (tests/api/answer_cache.rs).
    let first = on_redis(|_| {}).await;
    let second = first.spawn_peer().await;
    let token = first.login(ADMIN, DEMO_PASSWORD).await;
    let computed = sales(&first, &token).await;
    assert_eq!(cache(&first, "memory", "miss"), 1);
    assert_eq!(cache(&first, "redis", "miss"), 1);
    let remembered = sales(&first, &token).await;
    assert_eq!(remembered, computed);
    assert_eq!(cache(&first, "memory", "hit"), 1);
    assert_eq!(
        cache(&first, "redis", "miss"),
        1,
        "a memory hit asks Redis nothing"
    );

    let shared = sales(&second, &token).await;
    assert_eq!(shared, computed);
    assert_eq!(cache(&second, "memory", "miss"), 1);
    assert_eq!(cache(&second, "redis", "hit"), 1);
    assert_eq!(cache(&second, "redis", "miss"), 0);
}

#[tokio::test]
async fn a_taxonomy_change_on_one_instance_is_announced_over_redis_and_reaches_the_others_cache() {
    let first = on_redis(|_| {}).await;
    let second = first.spawn_peer().await;
    let token = first.login(ADMIN, DEMO_PASSWORD).await;
    let path = "/api/v1/taxonomies?type=mood";
    let (_, before) = second.get_json(path).await;
    let redis_wakeups = counter(&second, "change_feed_wakeups_total{source=\"redis\"}");

    let created = first
        .client
        .post(first.url("/api/v1/admin/taxonomies/mood"))
        .bearer_auth(&token)
        .json(&json!({"name": "Quuxish"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    until(
        "the new term on the second instance",
        Duration::from_secs(10),
        async || {
            let (status, tree) = second.get_json(path).await;
            status == 200 && tree.to_string().contains("Quuxish")
        },
    )
    .await;
    assert!(!before.to_string().contains("Quuxish"));
    assert!(
        counter(&second, "change_feed_wakeups_total{source=\"redis\"}") > redis_wakeups,
        "the second instance was woken by the Redis announcement"
    );
}

async fn sales(app: &TestApp, token: &str) -> Value {
    let response = app
        .get_authed("/api/v1/staff/reports/sales?group_by=genre", token)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_purchase_through_one_instance_is_in_the_next_report_of_every_instance() {
    let first = on_redis(|_| {}).await;
    let second = first.spawn_peer().await;
    let admin = first.login(ADMIN, DEMO_PASSWORD).await;
    let before = sales(&first, &admin).await;
    assert_eq!(sales(&second, &admin).await, before);
    assert_eq!(
        cache(&second, "redis", "hit"),
        1,
        "the peer reused the report"
    );

    let customer = new_customer(&first, "cache-buyer@example.com").await;
    let bought = buy(&first, &customer, "cache-1", &json!({"track_ids": [1]})).await;
    assert_eq!(bought.status(), 201);

    for app in [&second, &first] {
        let after = sales(app, &admin).await;
        let units = |report: &Value| report["totals"]["units"].as_i64().unwrap();
        let invoices = |report: &Value| report["totals"]["invoices"].as_i64().unwrap();
        assert_eq!(units(&after), units(&before) + 1);
        assert_eq!(invoices(&after), invoices(&before) + 1);
    }
}

/// A response whose body is far larger than the socket buffers, left unread: the stream
/// stays open, holding its place, until it is dropped.
async fn hold_stream(address: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{address}/api/v1/tracks/1/stream"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn stream_status(app: &TestApp, token: &str) -> u16 {
    let response = app.get_authed("/api/v1/tracks/1/stream", token).await;
    let status = response.status().as_u16();
    drop(response);
    status
}

async fn big_audio(app: &TestApp) {
    give_audio(app, 1, 1_000).await;
    place_rendition(app, 1, Rendition::Stream, &vec![0x55; 40_000_000]).await;
}

fn one_stream_each(config: &mut Config) {
    config.max_streams_per_account = 1;
    config.stream_chunk_bytes = 4096;
}

#[tokio::test]
async fn the_stream_cap_holds_across_instances_and_a_finished_stream_frees_its_place_on_all() {
    let first = on_redis(|config| {
        one_stream_each(config);
        // Long, so only the release at the end of the stream can free the place in time.
        config.stream_lease_ttl = Duration::from_secs(600);
    })
    .await;
    big_audio(&first).await;
    let media = first.state.config.media_dir.clone();
    let second = first.spawn_peer_with(|c| c.media_dir = media).await;
    let admin = first.login(ADMIN, DEMO_PASSWORD).await;

    let playing = hold_stream(&first.address, &admin).await;
    assert_eq!(playing.status(), 200);
    assert_eq!(
        stream_status(&second, &admin).await,
        429,
        "the cap is shared"
    );
    drop(playing);
    until(
        "the place freed on the other instance",
        Duration::from_secs(20),
        async || stream_status(&second, &admin).await != 429,
    )
    .await;
}

#[tokio::test]
async fn a_crashed_instances_streams_stop_counting_when_their_leases_expire() {
    let url = require_redis();
    let survivor = on_redis(|config| {
        one_stream_each(config);
        config.stream_lease_ttl = Duration::from_secs(3);
    })
    .await;
    big_audio(&survivor).await;
    let admin = survivor.login(ADMIN, DEMO_PASSWORD).await;
    let config = &survivor.state.config;
    // Another instance as its own process, on the same database, media and Redis prefix.
    let database = TestDatabase::sharing(config.database_url.clone());
    let mut command = helpers::chinook(&database);
    command
        .env("CHINOOK_REDIS_URL", &url)
        .env("CHINOOK_REDIS_PREFIX", &config.redis_prefix)
        .env("CHINOOK_MEDIA_DIR", &config.media_dir)
        .env("CHINOOK_MAX_STREAMS_PER_ACCOUNT", "1")
        .env("CHINOOK_STREAM_CHUNK_BYTES", "4096")
        .env("CHINOOK_STREAM_LEASE_TTL_SECS", "3");
    let (mut doomed, port) = helpers::serve(command).await;

    let playing = hold_stream(&format!("http://127.0.0.1:{port}"), &admin).await;
    assert_eq!(playing.status(), 200);
    // The crash: no graceful stop, nothing released.
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    drop(playing);
    assert_eq!(
        stream_status(&survivor, &admin).await,
        429,
        "the dead instance's lease still holds the place"
    );
    until(
        "the dead instance's lease to expire",
        Duration::from_secs(30),
        async || stream_status(&survivor, &admin).await == 200,
    )
    .await;
}

/// A redis-server of the test's own, to kill and restart.
struct OwnRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl OwnRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let binary =
            std::env::var("CHINOOK_TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {binary} ({e}); scripts/test installs it"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Default)]
struct Load {
    answered: AtomicU64,
    failed: AtomicU64,
}

#[tokio::test]
async fn redis_killed_under_load_fails_no_request_degrades_health_and_recovers_when_back() {
    let mut redis = OwnRedis::start();
    let app = TestApp::spawn_with(|config| {
        use_redis(config, &redis.url());
        // Many requests from one address: a limit the load stays under, but one that is
        // counted in Redis.
        config.rate_limits = Some(chinook::config::RateLimits {
            anonymous: chinook::config::Rate::parse("1000000/min").unwrap(),
            ..Default::default()
        });
    })
    .await;
    let health = async |app: &TestApp| {
        let (status, body) = app.get_json("/health").await;
        (
            status,
            body["status"].clone(),
            body["redis"]["status"].clone(),
        )
    };
    assert_eq!(health(&app).await, (200, json!("ok"), json!("ok")));

    let load = Arc::new(Load::default());
    let stop = tokio_util::sync::CancellationToken::new();
    let paths = [
        "/api/v1/genres",
        "/api/v1/taxonomies?type=genre",
        "/api/v1/tracks?sort=-popularity&limit=5",
    ];
    let mut workers = Vec::new();
    for worker in 0..4 {
        let (client, address, load, stop) = (
            app.client.clone(),
            app.address.clone(),
            load.clone(),
            stop.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut n = worker;
            while !stop.is_cancelled() {
                let path = paths[n % paths.len()];
                n += 1;
                match client.get(format!("{address}{path}")).send().await {
                    Ok(r) if r.status() == 200 => load.answered.fetch_add(1, Ordering::Relaxed),
                    Ok(r) => {
                        eprintln!("{path}: {}", r.status());
                        load.failed.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(e) => {
                        eprintln!("{path}: {e}");
                        load.failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    let shared = app.state.redis.clone().expect("configured");
    until(
        "load before the outage",
        Duration::from_secs(10),
        async || load.answered.load(Ordering::Relaxed) > 50,
    )
    .await;

    redis.kill();
    let killed = Instant::now();
    until("the breaker to open", Duration::from_secs(1), async || {
        shared.degraded()
    })
    .await;
    println!("the breaker opened {:?} after the kill", killed.elapsed());
    let at_kill = load.answered.load(Ordering::Relaxed);
    until(
        "load during the outage",
        Duration::from_secs(10),
        async || load.answered.load(Ordering::Relaxed) > at_kill + 50,
    )
    .await;
    assert_eq!(
        health(&app).await,
        (200, json!("degraded"), json!("degraded"))
    );
    assert_eq!(app.get_json("/health/ready").await.0, 200);
    assert_eq!(
        redis_degraded_gauge(&app).await,
        1.0,
        "Prometheus sees the outage"
    );

    redis.restart();
    until("Redis in use again", Duration::from_secs(20), async || {
        health(&app).await == (200, json!("ok"), json!("ok"))
    })
    .await;
    let at_restart = load.answered.load(Ordering::Relaxed);
    until("load after recovery", Duration::from_secs(10), async || {
        load.answered.load(Ordering::Relaxed) > at_restart + 50
    })
    .await;
    stop.cancel();
    for worker in workers {
        worker.await.unwrap();
    }
    println!(
        "{} requests answered, {} failed",
        load.answered.load(Ordering::Relaxed),
        load.failed.load(Ordering::Relaxed)
    );
    assert_eq!(load.failed.load(Ordering::Relaxed), 0, "a request failed");
    assert!(!shared.degraded());
    assert_eq!(redis_degraded_gauge(&app).await, 0.0);
}

/// `redis_degraded` as the app's `/metrics` shows it; there must be one.
async fn redis_degraded_gauge(app: &TestApp) -> f64 {
    let scrape = crate::metrics::scrape(app).await;
    let (_, _, value) = scrape
        .matching("redis_degraded", &[])
        .next()
        .expect("/metrics has redis_degraded");
    *value
}

#[tokio::test]
async fn an_instance_starts_and_serves_while_its_redis_is_unreachable() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_with(|config| {
        use_redis(config, &format!("redis://127.0.0.1:{port}"));
        config.rate_limits = Some(chinook::config::RateLimits::default());
    })
    .await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    for _ in 0..3 {
        sales(&app, &token).await;
    }
    let (status, health) = app.get_json("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["redis"]["status"], "degraded");
    assert!(health["problems"].to_string().contains("redis"), "{health}");
    assert_eq!(app.get_json("/health/ready").await.0, 200);
    // The memory layer still answers; Redis is never asked while it is out.
    assert_eq!(cache(&app, "memory", "hit"), 2);
    assert_eq!(
        cache(&app, "redis", "hit") + cache(&app, "redis", "miss"),
        0
    );
}
