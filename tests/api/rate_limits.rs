//! Rate limits: the 429's shape and headers, the limit classes (address, account, login),
//! `X-Forwarded-For` only from trusted proxies, and one allowance shared by two instances
//! on one Redis.

use chinook::config::{Config, Rate, RateLimits};
use chinook::http::client_ip::Cidr;
use reqwest::Response;
use serde_json::json;

use crate::helpers::{assert_problem, require_redis, use_redis, TestApp, DEMO_PASSWORD};

const ADMIN: &str = "andrew@chinookcorp.com";

fn limits(anonymous: &str, account: &str, login: &str) -> RateLimits {
    RateLimits {
        anonymous: Rate::parse(anonymous).unwrap(),
        account: Rate::parse(account).unwrap(),
        login: Rate::parse(login).unwrap(),
        writes: Rate::parse("1000000/min").unwrap(),
    }
}

/// The app with `limits` and nothing shared, whatever the backend.
async fn in_process(limits: RateLimits, adjust: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_with(|config| {
        config.redis_url = None;
        config.rate_limits = Some(limits);
        adjust(config);
    })
    .await
}

fn header(response: &Response, name: &str) -> Option<u64> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

async fn get_from(app: &TestApp, path: &str, forwarded_for: Option<&str>) -> Response {
    let mut request = app.client.get(app.url(path));
    if let Some(xff) = forwarded_for {
        request = request.header("X-Forwarded-For", xff);
    }
    request.send().await.expect("the request is answered")
}

fn refused_count(app: &TestApp, class: &str) -> u64 {
    let text = app.state.metrics.render().unwrap();
    let line = format!("rate_limited_total{{class=\"{class}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .map(|n| n.parse().unwrap())
        .unwrap_or_else(|| panic!("no {line} in\n{text}"))
}

#[tokio::test]
async fn past_its_burst_an_address_gets_a_429_problem_with_retry_after_and_ratelimit_headers() {
    let app = in_process(limits("60/min burst 3", "600/min", "10/min"), |_| {}).await;
    for remaining in [2, 1, 0] {
        let allowed = get_from(&app, "/api/v1/genres", None).await;
        assert_eq!(allowed.status(), 200);
        assert_eq!(header(&allowed, "ratelimit-limit"), Some(3));
        assert_eq!(header(&allowed, "ratelimit-remaining"), Some(remaining));
        assert!(header(&allowed, "ratelimit-reset").unwrap() >= 1);
        assert_eq!(
            allowed.headers()["ratelimit-policy"],
            "3;w=3",
            "3 requests replenish in 3 s at 60/min"
        );
    }
    let refused = get_from(&app, "/api/v1/genres", None).await;
    let retry_after = header(&refused, "retry-after").expect("Retry-After in seconds");
    assert!(
        (1..=1).contains(&retry_after),
        "one request per second: {retry_after}"
    );
    assert_eq!(header(&refused, "ratelimit-remaining"), Some(0));
    assert_eq!(header(&refused, "ratelimit-limit"), Some(3));
    assert!(header(&refused, "ratelimit-reset").unwrap() >= 2);
    assert!(refused.headers().contains_key("x-request-id"));
    let problem = assert_problem(refused, 429).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("retry in"),
        "{problem}"
    );
    // Probes, scrapes, the docs and the store front are never refused.
    for path in [
        "/health",
        "/health/ready",
        "/health/live",
        "/metrics",
        "/docs",
        "/",
    ] {
        let answer = get_from(&app, path, None).await;
        assert_eq!(answer.status(), 200, "{path}");
        assert!(!answer.headers().contains_key("ratelimit-limit"), "{path}");
    }
    // Nor are cover images, which a page of the store front shows by the dozen.
    for album in 1..=30 {
        let cover = get_from(&app, &format!("/api/v1/albums/{album}/cover"), None).await;
        assert_ne!(cover.status(), 429, "album {album}'s cover");
        assert!(!cover.headers().contains_key("ratelimit-limit"));
    }
    assert_eq!(refused_count(&app, "anonymous"), 1);
    assert_eq!(refused_count(&app, "login"), 0);
}

#[tokio::test]
async fn a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = in_process(limits("60/min burst 2", "600/min", "10/min"), |_| {}).await;
    assert_eq!(
        get_from(&app, "/api/v1/genres", Some("192.0.2.1"))
            .await
            .status(),
        200
    );
    assert_eq!(
        get_from(&app, "/api/v1/genres", Some("192.0.2.2"))
            .await
            .status(),
        200
    );
    // Each request claimed another address; all came from 127.0.0.1, which is limited.
    let refused = get_from(&app, "/api/v1/genres", Some("192.0.2.3")).await;
    assert_problem(refused, 429).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_forwarded_address_is_the_client() {
    let app = in_process(limits("60/min burst 2", "600/min", "10/min"), |config| {
        config.trusted_proxies = vec![Cidr::parse("127.0.0.0/8").unwrap()];
    })
    .await;
    let client = "198.51.100.7";
    assert_eq!(
        get_from(&app, "/api/v1/genres", Some(client))
            .await
            .status(),
        200
    );
    // What the client put in front of its own address is its invention, not its identity.
    let chained = format!("6.6.6.6, {client}");
    assert_eq!(
        get_from(&app, "/api/v1/genres", Some(&chained))
            .await
            .status(),
        200
    );
    let refused = get_from(&app, "/api/v1/genres", Some(&format!("7.7.7.7, {client}"))).await;
    assert_problem(refused, 429).await;
    // Another client behind the same proxy has its own allowance, and so has the proxy.
    assert_eq!(
        get_from(&app, "/api/v1/genres", Some("198.51.100.8"))
            .await
            .status(),
        200
    );
    assert_eq!(get_from(&app, "/api/v1/genres", None).await.status(), 200);
}

#[tokio::test]
async fn login_is_limited_more_strictly_than_browsing_and_signed_in_accounts_have_their_own_allowance(
) {
    let app = in_process(
        limits("60/min burst 4", "600/min burst 10", "10/min burst 2"),
        |_| {},
    )
    .await;
    let wrong = json!({"email": ADMIN, "password": "not the password"});
    for _ in 0..2 {
        let attempt = app.post_json("/api/v1/auth/login", &wrong).await;
        assert_eq!(attempt.status(), 401);
    }
    let refused = app.post_json("/api/v1/auth/login", &wrong).await;
    assert_problem(refused, 429).await;
    assert_eq!(refused_count(&app, "login"), 1);
    // Browsing from the same address is not affected.
    assert_eq!(get_from(&app, "/api/v1/genres", None).await.status(), 200);

    let app = in_process(
        limits("60/min burst 2", "600/min burst 10", "10/min burst 2"),
        |_| {},
    )
    .await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(get_from(&app, "/api/v1/genres", None).await.status(), 200);
    }
    assert_problem(get_from(&app, "/api/v1/genres", None).await, 429).await;
    // The address is spent, but the account draws on its own, larger allowance.
    for remaining in (0..10).rev() {
        let mine = app.get_authed("/api/v1/me", &token).await;
        assert_eq!(mine.status(), 200);
        assert_eq!(header(&mine, "ratelimit-limit"), Some(10));
        assert_eq!(header(&mine, "ratelimit-remaining"), Some(remaining));
    }
    assert_problem(app.get_authed("/api/v1/me", &token).await, 429).await;
    assert_eq!(refused_count(&app, "account"), 1);
    // A made-up token buys no allowance of its own: it counts against the address.
    assert_problem(app.get_authed("/api/v1/genres", "made-up").await, 429).await;
}

#[tokio::test]
async fn two_instances_on_one_redis_draw_on_one_allowance() {
    let url = require_redis();
    let first = TestApp::spawn_with(|config| {
        use_redis(config, &url);
        config.rate_limits = Some(limits("60/min burst 4", "600/min", "10/min"));
    })
    .await;
    let second = first.spawn_peer().await;
    for app in [&first, &second, &first, &second] {
        assert_eq!(get_from(app, "/api/v1/genres", None).await.status(), 200);
    }
    for app in [&first, &second] {
        let refused = get_from(app, "/api/v1/genres", None).await;
        assert_eq!(header(&refused, "ratelimit-remaining"), Some(0));
        assert_problem(refused, 429).await;
    }
    assert!(first.state.redis.as_ref().is_some_and(|r| !r.degraded()));
    assert_eq!(refused_count(&first, "anonymous"), 1);
    assert_eq!(refused_count(&second, "anonymous"), 1);
}

#[tokio::test]
async fn an_accounts_writes_have_their_own_smaller_allowance_and_reads_go_on() {
    let mut limits = limits("60/min", "600/min burst 100", "10/min");
    limits.writes = Rate::parse("60/min burst 3").unwrap();
    let app = in_process(limits, |_| {}).await;
    let token = app.login("luisg@embraer.com.br", DEMO_PASSWORD).await;
    let create = |n: u32| {
        app.client
            .post(app.url("/api/v1/me/playlists"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("Mine {n}")}))
            .send()
    };
    for n in 0..3 {
        assert_eq!(create(n).await.unwrap().status(), 201);
    }
    let refused = create(3).await.unwrap();
    assert!(header(&refused, "retry-after").is_some());
    let problem = assert_problem(refused, 429).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("too many writes"),
        "{problem}"
    );
    assert_eq!(refused_count(&app, "write"), 1);
    // Reads by the same account still draw on the larger allowance.
    assert_eq!(
        app.get_authed("/api/v1/me/playlists", &token)
            .await
            .status(),
        200
    );
}
