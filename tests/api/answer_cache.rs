//! Public catalog answers are kept whole and carry validators: a repeated read is served
//! from memory, a revalidation is a 304, and a catalog write makes every older answer and
//! validator stale at once.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{TestApp, DEMO_PASSWORD};

const ADMIN: &str = "andrew@chinookcorp.com";

async fn etag_of(app: &TestApp, path: &str) -> (String, String) {
    let response = app.get(path).await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    let headers = response.headers().clone();
    assert_eq!(
        headers["cache-control"], "public, no-cache",
        "GET {path} must let caches keep it but revalidate"
    );
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("\"c"), "a strong ETag, got {etag}");
    (etag, response.text().await.unwrap())
}

async fn status_with(app: &TestApp, path: &str, if_none_match: &str) -> u16 {
    app.client
        .get(app.url(path))
        .header("if-none-match", if_none_match)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_repeated_read_has_the_same_body_and_etag_and_a_revalidation_is_a_304() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/v1/tracks?limit=5&sort=name&include=album",
        "/api/v1/albums/156?include=tracks,artist",
        "/api/v1/search?q=love",
        "/api/v1/genres",
        "/api/v1/taxonomies",
        "/api/v1/taxonomies?type=genre",
        "/api/v1/taxonomies/genre/rock",
        "/api/v1/taxonomies/genre/rock/tracks?limit=5&sort=-name",
    ] {
        let (etag, body) = etag_of(&app, path).await;
        let (again, same) = etag_of(&app, path).await;
        assert_eq!(etag, again, "GET {path}");
        assert_eq!(body, same, "GET {path}");
        assert_eq!(status_with(&app, path, &etag).await, 304, "GET {path}");
        // Compressed answers carry the weak form, which must revalidate as well.
        let weak = format!("W/{etag}");
        assert_eq!(status_with(&app, path, &weak).await, 304, "GET {path}");
        assert_eq!(status_with(&app, path, "\"other\", *").await, 304);
        assert_eq!(status_with(&app, path, "\"other\"").await, 200);
    }
    let (first, _) = etag_of(&app, "/api/v1/tracks?limit=5").await;
    let (second, _) = etag_of(&app, "/api/v1/tracks?limit=6").await;
    assert_ne!(first, second, "two answers never share a validator");

    assert!(
        public(&app, "hit").await >= 4.0,
        "repeated reads were served from memory"
    );
}

/// The public answer cache's count of lookups with `result`.
async fn public(app: &TestApp, result: &str) -> f64 {
    let metrics = app.get("/metrics").await.unwrap().text().await.unwrap();
    let result = format!("result=\"{result}\"");
    let line = metrics
        .lines()
        .find(|l| l.contains("layer=\"public\"") && l.contains(&result))
        .expect("the public answer cache counts its lookups");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn concurrent_first_reads_of_one_answer_compute_it_once() {
    let app = TestApp::spawn().await;
    let path = "/api/v1/tracks?limit=50&sort=-name&include=album,artist";
    let bodies = join_all((0..20).map(|_| async {
        let response = app.get(path).await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }))
    .await;
    assert!(bodies.iter().all(|b| b == &bodies[0]));
    assert_eq!(
        public(&app, "miss").await,
        1.0,
        "one computation for 20 requests"
    );
    assert_eq!(public(&app, "hit").await, 19.0);
}

#[tokio::test]
async fn a_catalog_write_makes_older_answers_and_validators_stale() {
    let app = TestApp::spawn().await;
    let path = "/api/v1/artists?limit=3";
    let (etag, body) = etag_of(&app, path).await;
    assert!(body.contains("AC/DC"), "{body}");

    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let response = app
        .client
        .patch(app.url("/api/v1/admin/artists/1"))
        .bearer_auth(&token)
        .json(&json!({"name": "AC/DC Renamed"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());

    assert_eq!(status_with(&app, path, &etag).await, 200);
    let (fresh, body) = etag_of(&app, path).await;
    assert_ne!(fresh, etag);
    assert!(body.contains("AC/DC Renamed"), "{body}");
    let (_, detail) = etag_of(&app, "/api/v1/artists/1").await;
    assert!(detail.contains("AC/DC Renamed"), "{detail}");
}

#[tokio::test]
async fn without_memory_for_answers_reads_are_still_right_and_validated() {
    let app = TestApp::spawn_with(|c| c.answer_cache_bytes = 0).await;
    let path = "/api/v1/tracks?limit=2&sort=-popularity";
    let (etag, body) = etag_of(&app, path).await;
    let (_, again) = etag_of(&app, path).await;
    assert_eq!(body, again);
    assert_eq!(status_with(&app, path, &etag).await, 304);
    let response = app.get("/api/v1/artists/999999").await.unwrap();
    assert_eq!(response.status(), 404);
}
