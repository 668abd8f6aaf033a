//! `/metrics`: scraped and parsed as Prometheus would, every metric has its type, requests
//! are counted exactly by route pattern, histograms add up, and label cardinality stays
//! bounded whatever paths and methods clients make up.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chinook::media::encode::Rendition;
use reqwest::Method;

use crate::helpers::{TestApp, DEMO_PASSWORD};

const STAFF: &str = "jane@chinookcorp.com";
const TRACK_PATTERN: &str = "/api/v1/tracks/{id}";

type Labels = BTreeMap<String, String>;

/// One scrape: the declared type of each metric and every sample.
pub(crate) struct Scrape {
    types: HashMap<String, String>,
    samples: Vec<(String, Labels, f64)>,
}

impl Scrape {
    fn parse(text: &str) -> Self {
        let mut types = HashMap::new();
        let mut samples = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(declaration) = line.strip_prefix("# TYPE ") {
                let (name, kind) = declaration.split_once(' ').expect("# TYPE name kind");
                assert!(
                    types.insert(name.to_string(), kind.to_string()).is_none(),
                    "{name} is declared twice"
                );
            } else if !line.starts_with('#') {
                samples.push(parse_sample(line));
            }
        }
        Self { types, samples }
    }

    /// Samples of `name` whose labels include `wanted`.
    pub(crate) fn matching<'a>(
        &'a self,
        name: &'a str,
        wanted: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a (String, Labels, f64)> + 'a {
        self.samples.iter().filter(move |(n, labels, _)| {
            n == name
                && wanted
                    .iter()
                    .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// The sum of the matching samples; 0 when there are none (a counter not yet touched).
    fn sum(&self, name: &str, wanted: &[(&str, &str)]) -> f64 {
        self.matching(name, wanted).map(|(_, _, v)| v).sum()
    }

    fn label_sets(&self, name: &str) -> BTreeSet<Labels> {
        self.matching(name, &[])
            .map(|(_, l, _)| l.clone())
            .collect()
    }

    fn label_values(&self, name: &str, label: &str) -> BTreeSet<String> {
        self.matching(name, &[])
            .filter_map(|(_, l, _)| l.get(label).cloned())
            .collect()
    }
}

/// `name{k="v",...} value`, with `\\`, `\"` and `\n` escapes in label values.
fn parse_sample(line: &str) -> (String, Labels, f64) {
    let name_end = line.find(['{', ' ']).expect("a sample has a value");
    let name = line[..name_end].to_string();
    let mut labels = Labels::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        loop {
            let (i, c) = chars.next().expect("labels are closed");
            match c {
                '}' => {
                    rest = &inner[i + 1..];
                    break;
                }
                ',' => {}
                '=' => {
                    assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                    let mut value = String::new();
                    loop {
                        match chars.next().expect("a value is closed").1 {
                            '"' => break,
                            '\\' => match chars.next().expect("an escape").1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                }
                other => key.push(other),
            }
        }
    }
    let value = rest.trim().split(' ').next().expect("a value");
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number.parse().unwrap_or_else(|_| panic!("{line}")),
    };
    (name, labels, value)
}

pub(crate) async fn scrape(app: &TestApp) -> Scrape {
    let response = app.get("/metrics").await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(&response.text().await.unwrap())
}

async fn scrape_text(app: &TestApp) -> String {
    app.get("/metrics").await.unwrap().text().await.unwrap()
}

async fn status_of(app: &TestApp, path: &str) -> u16 {
    app.get(path).await.unwrap().status().as_u16()
}

/// Every histogram series has cumulative buckets ending in `+Inf`, which equals `_count`.
fn assert_histograms_add_up(scrape: &Scrape, name: &str) {
    let counts = scrape.label_sets(&format!("{name}_count"));
    assert!(!counts.is_empty(), "{name} has no series");
    for labels in counts {
        let wanted: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let count = scrape.sum(&format!("{name}_count"), &wanted);
        let mut buckets: Vec<(f64, f64)> = scrape
            .matching(&format!("{name}_bucket"), &wanted)
            .map(|(_, l, v)| (l["le"].parse::<f64>().unwrap_or(f64::INFINITY), *v))
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(buckets.len() > 1, "{name} {labels:?} has no buckets");
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "{name} {labels:?} buckets are not cumulative: {buckets:?}"
        );
        assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, count));
    }
}

#[tokio::test]
async fn every_metric_is_exported_with_its_type_and_nothing_is_made_up() {
    let app = TestApp::spawn().await;
    assert_eq!(status_of(&app, "/api/v1/search?q=metallica").await, 200);
    let first = scrape(&app).await;
    for (name, kind) in [
        ("http_requests_total", "counter"),
        ("http_request_duration_seconds", "histogram"),
        ("db_pool_connections", "gauge"),
        ("search_query_duration_seconds", "histogram"),
        ("active_streams", "gauge"),
        ("index_documents", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
        ("cache_requests_total", "counter"),
        ("rate_limited_total", "counter"),
    ] {
        assert_eq!(
            first.types.get(name).map(String::as_str),
            Some(kind),
            "{name} should be a {kind}"
        );
        assert!(
            first.samples.iter().any(|(n, _, _)| n.starts_with(name)),
            "{name} has no samples"
        );
    }
    assert_eq!(
        first.types.get("stream_bytes_total").map(String::as_str),
        Some("counter")
    );
    // Nothing is measured for what does not exist yet: no replicas.
    assert!(
        !first.types.contains_key("db_replica_lag_seconds"),
        "db_replica_lag_seconds is made up"
    );
    assert!(first.sum("process_resident_memory_bytes", &[]) > 1_000_000.0);

    // Pools: each by role, idle and in use; reads share the writer's pool on PostgreSQL.
    let roles = first.label_values("db_pool_connections", "role");
    assert!(roles.contains("writer"), "{roles:?}");
    assert!(roles.is_subset(&["reader".into(), "writer".into()].into()));
    let states = first.label_values("db_pool_connections", "state");
    assert_eq!(states, ["idle".to_string(), "in_use".to_string()].into());
    assert!(first.sum("db_pool_connections", &[("role", "writer")]) >= 1.0);

    // The index's documents are those /health reports; its checks run statements.
    let (_, health) = app.get_json("/health").await;
    let documents = health["index"]["report"]["documents"].as_f64().unwrap();
    assert!(documents > 0.0);
    assert_eq!(first.sum("index_documents", &[]), documents);
    let after_health = scrape(&app).await;
    assert_eq!(
        after_health
            .types
            .get("db_queries_total")
            .map(String::as_str),
        Some("counter")
    );
    assert!(
        after_health
            .label_values("db_queries_total", "role")
            .is_subset(&roles),
        "statements are counted for the pools there are"
    );
    assert!(
        after_health.sum("db_queries_total", &[]) >= first.sum("db_queries_total", &[]) + 3.0,
        "the database round trip, row counts and change feed check each run a statement"
    );

    // Statements, not connections: a sign-in's several statements count one each.
    let before = scrape(&app).await.sum("db_queries_total", &[]);
    let token = app.login(STAFF, DEMO_PASSWORD).await;
    let after = scrape(&app).await.sum("db_queries_total", &[]);
    assert!(
        after >= before + 3.0,
        "a sign-in reads the account, sweeps its expired tokens and writes a new one, in one \
         transaction: {before} -> {after}"
    );
    assert!(!token.is_empty());
}

#[tokio::test]
async fn cache_lookups_and_rate_limit_refusals_are_counted_with_bounded_labels() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limits = Some(chinook::config::RateLimits {
            anonymous: chinook::config::Rate::parse("60/min burst 3").unwrap(),
            ..Default::default()
        });
    })
    .await;
    let before = scrape(&app).await;
    let layers = before.label_values("cache_requests_total", "layer");
    let expected_layers: BTreeSet<String> = if app.state.redis.is_some() {
        ["memory".into(), "public".into(), "redis".into()].into()
    } else {
        ["memory".into(), "public".into()].into()
    };
    assert_eq!(layers, expected_layers);
    assert_eq!(
        before.label_values("cache_requests_total", "result"),
        [
            "hit".to_string(),
            "miss".to_string(),
            "not_modified".to_string()
        ]
        .into()
    );
    assert_eq!(
        before.label_values("rate_limited_total", "class"),
        [
            "account".to_string(),
            "anonymous".into(),
            "login".into(),
            "subsonic".into(),
            "write".into()
        ]
        .into()
    );
    assert_eq!(before.sum("rate_limited_total", &[]), 0.0);

    // Three requests are allowed, the tree computed once and then kept as a public answer.
    for _ in 0..3 {
        assert_eq!(status_of(&app, "/api/v1/taxonomies?type=genre").await, 200);
    }
    assert_eq!(status_of(&app, "/api/v1/taxonomies?type=genre").await, 429);
    let after = scrape(&app).await;
    let public = |result| {
        after.sum(
            "cache_requests_total",
            &[("layer", "public"), ("result", result)],
        )
    };
    assert_eq!(public("miss"), 1.0);
    assert_eq!(public("hit"), 2.0);
    assert_eq!(
        after.sum("rate_limited_total", &[("class", "anonymous")]),
        1.0
    );
    assert_eq!(
        after.sum("http_requests_total", &[("status", "429")]),
        1.0,
        "a refusal is an answered request like any other"
    );
    assert_eq!(
        after.label_sets("cache_requests_total").len(),
        // Hits and misses per layer, and the public answers' revalidations.
        2 * layers.len() + 1
    );
    assert_eq!(after.label_sets("rate_limited_total").len(), 5);
}

#[tokio::test]
async fn requests_are_counted_exactly_by_route_pattern_and_histograms_add_up() {
    let app = TestApp::spawn().await;
    let token = app.login(STAFF, DEMO_PASSWORD).await;
    let before = scrape(&app).await;

    assert_eq!(status_of(&app, "/api/v1/tracks/1").await, 200);
    assert_eq!(status_of(&app, "/api/v1/tracks/2").await, 200);
    assert_eq!(status_of(&app, "/api/v1/tracks/99999999").await, 404);
    assert_eq!(status_of(&app, "/no/such/thing").await, 404);
    assert_eq!(status_of(&app, "/api/v1/search?q=love").await, 200);
    assert_eq!(status_of(&app, "/api/v1/search/suggest?q=meta").await, 200);
    let stream = app.get_authed("/api/v1/tracks/1/stream", &token).await;
    assert_eq!(stream.status(), 200);
    let received = stream.bytes().await.unwrap().len() as f64;
    assert!(received > 1000.0);

    let after = scrape(&app).await;
    let grew =
        |name: &str, wanted: &[(&str, &str)]| after.sum(name, wanted) - before.sum(name, wanted);
    let requests = |route: &str, status: &str| {
        grew(
            "http_requests_total",
            &[("method", "GET"), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests(TRACK_PATTERN, "200"), 2.0, "two ids, one series");
    assert_eq!(requests(TRACK_PATTERN, "404"), 1.0);
    assert_eq!(requests("unmatched", "404"), 1.0);
    assert_eq!(requests("/api/v1/search", "200"), 1.0);
    assert_eq!(requests("/api/v1/search/suggest", "200"), 1.0);
    assert_eq!(requests("/api/v1/tracks/{id}/stream", "200"), 1.0);
    assert_eq!(
        grew("http_requests_total", &[]),
        8.0,
        "the seven requests made, and the first scrape"
    );
    let routes = after.label_values("http_requests_total", "route");
    assert!(
        routes
            .iter()
            .all(|r| r == "unmatched" || !r.split('/').any(|s| s.parse::<u64>().is_ok())),
        "a raw path became a label: {routes:?}"
    );
    assert!(!routes.iter().any(|r| r.contains("no/such")));

    assert_eq!(
        grew(
            "search_query_duration_seconds_count",
            &[("operation", "search")]
        ),
        1.0
    );
    assert_eq!(
        grew(
            "search_query_duration_seconds_count",
            &[("operation", "suggest")]
        ),
        1.0
    );
    assert!(grew("stream_bytes_total", &[]) >= received);

    // Histograms: cumulative buckets, and as many observations as the counter has requests.
    assert_histograms_add_up(&after, "http_request_duration_seconds");
    assert_histograms_add_up(&after, "search_query_duration_seconds");
    for labels in after.label_sets("http_request_duration_seconds_count") {
        let wanted = [
            ("method", labels["method"].as_str()),
            ("route", labels["route"].as_str()),
        ];
        assert_eq!(
            after.sum("http_request_duration_seconds_count", &wanted),
            after.sum("http_requests_total", &wanted),
            "{labels:?}"
        );
    }

    // Nothing personal is exported.
    let text = scrape_text(&app).await;
    assert!(!text.contains(&token));
    assert!(!text.contains(STAFF));
}

#[tokio::test]
async fn random_paths_and_methods_keep_label_cardinality_bounded() {
    let app = TestApp::spawn().await;
    // One of each series that may exist before: an unmatched GET, and a scrape.
    assert_eq!(status_of(&app, "/definitely/not/here").await, 404);
    scrape(&app).await;
    let before = scrape(&app).await;
    for i in 0..200 {
        let path = format!("/{}/{i}", uuid::Uuid::new_v4());
        assert_eq!(status_of(&app, &path).await, 404);
    }
    for method in ["PROBE", "XYZZY", "BREW"] {
        let response = app
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                app.url("/x"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
    let after = scrape(&app).await;

    let new_series: BTreeSet<Labels> = after
        .label_sets("http_requests_total")
        .difference(&before.label_sets("http_requests_total"))
        .cloned()
        .collect();
    let expected: Labels = [
        ("method", "other"),
        ("route", "unmatched"),
        ("status", "404"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        new_series,
        [expected].into(),
        "200 random paths and 3 made-up methods add one series"
    );
    assert_eq!(
        after.sum(
            "http_requests_total",
            &[("method", "GET"), ("route", "unmatched")]
        ) - before.sum(
            "http_requests_total",
            &[("method", "GET"), ("route", "unmatched")]
        ),
        200.0
    );
    assert_eq!(
        after
            .label_sets("http_request_duration_seconds_bucket")
            .len(),
        before
            .label_sets("http_request_duration_seconds_bucket")
            .len()
            + after
                .matching(
                    "http_request_duration_seconds_bucket",
                    &[("method", "other")]
                )
                .count(),
        "only the one new method label adds buckets"
    );
}

#[tokio::test]
async fn an_open_stream_is_counted_until_it_ends() {
    let app = TestApp::spawn_with(|config| config.stream_chunk_bytes = 4096).await;
    // Far more than the socket buffers hold, so the unread response cannot finish.
    let samples = 40_000_000usize;
    crate::streaming::give_audio(&app, 1, 1_000).await;
    crate::streaming::place_rendition(&app, 1, Rendition::Stream, &vec![0x55; samples]).await;
    let token = app.login(STAFF, DEMO_PASSWORD).await;
    assert_eq!(scrape(&app).await.sum("active_streams", &[]), 0.0);

    let playing = app.get_authed("/api/v1/tracks/1/stream", &token).await;
    assert_eq!(playing.status(), 200);
    let open = scrape(&app).await;
    assert_eq!(open.sum("active_streams", &[]), 1.0);
    assert!(open.sum("stream_bytes_total", &[]) < samples as f64);

    // Hanging up ends the stream; each scrape is a round trip, so this polls without sleeping.
    drop(playing);
    let mut scrapes = 0;
    while scrape(&app).await.sum("active_streams", &[]) != 0.0 {
        scrapes += 1;
        assert!(scrapes < 5_000, "a dropped stream is still counted");
    }
}
