//! Many instances, as pods run them: two apps on one primary, one replica and one Redis, each
//! with its own data directory and index, sharing the media volume. What one instance writes,
//! the other serves, in the catalog, in search and in what a customer may stream; and the two
//! draw on one rate-limit allowance.

use std::time::{Duration, Instant};

use chinook::config::{Rate, RateLimits};
use serde_json::{json, Value};

use super::harness::{
    app_configured, app_with, eventually, peer_with, replica_pool, Replica, LUIS,
};
use crate::helpers::{TestApp, DEMO_PASSWORD};

const ADMIN: &str = "andrew@chinookcorp.com";

/// Polls `path` on `app` as `token`'s holder until `found` accepts its JSON body, for up to
/// 10 s.
async fn until_served_to(
    app: &TestApp,
    token: &str,
    path: &str,
    found: impl Fn(&Value) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let response = app.get_authed(path, token).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status == 200 && found(&body) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{path} never served what was written on the other instance: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_catalog_write_on_one_instance_is_served_by_the_other_in_catalog_and_search() {
    let Some(replica) = Replica::take().await else {
        return;
    };
    crate::helpers::require_redis();
    // Anonymous callers get a burst of 6 in all; the admin's polling below has its own.
    let first = app_configured(&replica, Duration::from_secs(10), |config| {
        config.rate_limits = Some(RateLimits {
            anonymous: Rate::parse("6/min burst 6").unwrap(),
            account: Rate::parse("100000/min").unwrap(),
            login: Rate::parse("100/min").unwrap(),
            writes: Rate::parse("100000/min").unwrap(),
            subsonic: Rate::parse("100000/min").unwrap(),
        });
    })
    .await;
    let second = peer_with(&first).await;
    assert!(
        first.state.config.redis_url.is_some()
            && first.state.config.redis_prefix == second.state.config.redis_prefix,
        "both instances share one Redis and its keys"
    );
    let token = first.login(ADMIN, DEMO_PASSWORD).await;

    let created = first
        .client
        .post(first.url("/api/v1/admin/artists"))
        .bearer_auth(&token)
        .json(&json!({"name": "Zyzzyva Quartet"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();

    let in_catalog = until_served_to(&second, &token, &format!("/api/v1/artists/{id}"), |body| {
        body["name"] == "Zyzzyva Quartet"
    })
    .await;
    let in_search = until_served_to(
        &second,
        &token,
        "/api/v1/search?q=zyzzyva&type=artist",
        |body| {
            body["data"]
                .as_array()
                .is_some_and(|hits| hits.iter().any(|hit| hit["item"]["id"] == id))
        },
    )
    .await;
    println!("the other instance served it after {in_catalog:?} (catalog), {in_search:?} (search)");

    // Six anonymous requests, three through each instance, use up one shared burst.
    for app in [&first, &second, &first, &second, &first, &second] {
        let (status, _) = app.get_json("/api/v1/genres").await;
        assert_eq!(status, 200);
    }
    for app in [&first, &second] {
        let refused = app.get("/api/v1/genres").await.unwrap();
        assert_eq!(refused.status(), 429, "the allowance is shared");
    }
}

#[tokio::test]
async fn a_purchase_made_through_one_instance_streams_through_the_other() {
    let Some(replica) = Replica::take().await else {
        return;
    };
    let first = app_with(&replica, Duration::from_secs(10)).await;
    let second = peer_with(&first).await;
    let db = &first.state.db;
    let customer: i64 = sqlx::query_scalar("SELECT customer_id FROM customer WHERE email = $1")
        .bind(LUIS)
        .fetch_one(db.writer())
        .await
        .unwrap();
    let track: i64 = sqlx::query_scalar(
        "SELECT MIN(track_id) FROM track WHERE track_id NOT IN \
         (SELECT track_id FROM customer_track WHERE customer_id = $1)",
    )
    .bind(customer)
    .fetch_one(db.writer())
    .await
    .unwrap();
    crate::streaming::give_audio(&first, track, 1_000).await;
    let token = first.login(LUIS, DEMO_PASSWORD).await;
    let stream = format!("/api/v1/tracks/{track}/stream");

    let before = second.get_authed(&stream, &token).await;
    assert_eq!(before.status(), 403, "not owned yet");
    // The replica has the track's audio but replays nothing from here on, so it cannot know
    // of the purchase.
    let on_replica = replica_pool(&replica, &first).await;
    eventually("the replica has the track's audio", || async {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM track_audio WHERE track_id = $1")
            .bind(track)
            .fetch_one(&on_replica)
            .await
            .ok()?;
        (n == 1).then_some(())
    })
    .await;
    replica.pause_replay().await;

    let bought = first
        .client
        .post(first.url("/api/v1/purchases"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "bought-on-the-first")
        .json(&json!({"track_ids": [track]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bought.status(), 201);

    // The other instance has no record of this account's write and its replica has not
    // replayed it; a customer who has just paid must still not be refused.
    let streamed = second.get_authed(&stream, &token).await;
    assert_eq!(
        streamed.status(),
        200,
        "the purchase streams on the other instance"
    );
    let bytes = streamed.bytes().await.unwrap();
    let index = first.state.catalog().unwrap();
    let cut = chinook::streaming::tracks::Cut::Stream;
    let source =
        chinook::streaming::tracks::source(&first.state.db, &first.state.media, index, track, cut)
            .await
            .unwrap();
    let on_disk = std::fs::read(&source.path).unwrap();
    assert_eq!(bytes.len() as u64, source.file_len);
    assert_eq!(bytes, on_disk, "every byte of the stream rendition");
    replica.sql("SELECT pg_wal_replay_resume()").await;
}
