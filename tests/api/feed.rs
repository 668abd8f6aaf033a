//! Several instances on one database: a catalog write on one reaches every other's index
//! through the change feed (LISTEN/NOTIFY on PostgreSQL, polling the change log on SQLite).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{TestApp, DEMO_PASSWORD};

const ADMIN: &str = "andrew@chinookcorp.com";

async fn admin_post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "POST {path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Searches `app` until `query` finds a result named `name`, and returns how long it took;
/// panics after `limit`.
async fn time_until_found(app: &TestApp, query: &str, name: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (status, body) = app
            .get_json(&format!("/api/v1/search?q={query}&type=artist"))
            .await;
        assert_eq!(status, 200);
        let found = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|hit| hit["item"]["name"] == name);
        if found {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "`{name}` was not searchable on the other instance after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_write_on_one_instance_is_searchable_on_another_within_a_second() {
    let first = TestApp::spawn().await;
    let second = first.spawn_peer().await;
    let token = first.login(ADMIN, DEMO_PASSWORD).await;

    admin_post(
        &first,
        &token,
        "/api/v1/admin/artists",
        json!({"name": "Quuxophone Ensemble"}),
    )
    .await;
    // The writer's own index has it before the response.
    let (_, body) = first
        .get_json("/api/v1/search?q=quuxophone&type=artist")
        .await;
    assert_eq!(body["data"][0]["item"]["name"], "Quuxophone Ensemble");
    let on_second = time_until_found(
        &second,
        "quuxophone",
        "Quuxophone Ensemble",
        Duration::from_secs(1),
    )
    .await;
    println!("visible on the other instance after {on_second:?}");
}

#[tokio::test]
async fn taxonomy_changes_reach_the_other_instance_too() {
    let first = TestApp::spawn().await;
    let second = first.spawn_peer().await;
    let token = first.login(ADMIN, DEMO_PASSWORD).await;

    admin_post(
        &first,
        &token,
        "/api/v1/admin/taxonomies/mood",
        json!({"name": "Brooding"}),
    )
    .await;
    admin_post(
        &first,
        &token,
        "/api/v1/admin/taxonomies/mood/brooding/attach",
        json!({"tracks": [1, 2, 3]}),
    )
    .await;

    let started = Instant::now();
    loop {
        let (status, body) = second
            .get_json("/api/v1/tracks?taxonomy=mood:brooding&fields=id")
            .await;
        if status == 200 {
            let ids: Vec<i64> = body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap())
                .collect();
            if ids == [1, 2, 3] {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the other instance still answers {status} without the term's tracks"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_instance_that_was_down_catches_up_from_the_change_log_at_start() {
    let first = TestApp::spawn().await;
    let second = first.spawn_peer().await;
    let token = first.login(ADMIN, DEMO_PASSWORD).await;
    let second_dir = second.data_dir().to_path_buf();
    let database = second.stop_keeping_database().await;

    admin_post(
        &first,
        &token,
        "/api/v1/admin/artists",
        json!({"name": "Missed While Down"}),
    )
    .await;

    // Same data directory, so the persisted index is reused and then brought up to date.
    assert!(second_dir.join("index/chinook-index.json").is_file());
    let second = TestApp::spawn_on(database, |_| {}).await;
    let (_, health) = second.get_json("/health").await;
    assert_eq!(health["index"]["report"]["origin"], "reused", "{health}");
    assert!(
        health["index"]["latest_change"].as_i64().unwrap() > 0,
        "{health}"
    );
    assert_eq!(
        health["index"]["applied_change"], health["index"]["latest_change"],
        "{health}"
    );
    let (status, body) = second
        .get_json("/api/v1/search?q=missed+while+down&type=artist")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"][0]["item"]["name"], "Missed While Down");
}
