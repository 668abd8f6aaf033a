//! Writes to a long playlist touch only the entries that change: inserting at the front,
//! moving one entry and removing one leave every other entry's stored key as it was, so the
//! work does not grow with the playlist's length.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;

use super::{track_ids, Store};

/// Every entry's stored key, by track (the playlist's tracks are distinct).
async fn keys(store: &Store, id: i64) -> BTreeMap<i64, i64> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT track_id, position FROM playlist_track WHERE playlist_id = $1")
            .bind(id)
            .fetch_all(store.app.state.db.writer())
            .await
            .unwrap();
    rows.into_iter().collect()
}

/// The keys `after` has for tracks other than `except` that differ from `before`.
fn changed(before: &BTreeMap<i64, i64>, after: &BTreeMap<i64, i64>, except: &[i64]) -> usize {
    before
        .iter()
        .filter(|(track, key)| !except.contains(track) && after.get(track) != Some(key))
        .count()
}

#[tokio::test]
async fn inserting_moving_and_removing_in_a_long_playlist_rewrite_no_other_entry() {
    let store = Store::open().await;
    let id = store.create(&store.luis, "Long", "private").await;
    let path = format!("/api/v1/me/playlists/{id}/tracks");
    for chunk in (1..=2000).collect::<Vec<i64>>().chunks(1000) {
        store
            .add(&store.luis, id, json!({"track_ids": chunk}))
            .await;
    }

    let before = keys(&store, id).await;
    let body = store
        .add(&store.luis, id, json!({"track_ids": [3000], "position": 1}))
        .await;
    let order = track_ids(&body);
    assert_eq!(order[..3], [3000, 1, 2]);
    assert_eq!(order.len(), 2001);
    let after = keys(&store, id).await;
    assert_eq!(
        changed(&before, &after, &[3000]),
        0,
        "insert at 1 moved others"
    );

    // Move track 3000 from the front to the end.
    let mut moved = order[1..].to_vec();
    moved.push(3000);
    let body = store
        .expect(
            200,
            Method::PUT,
            &path,
            &store.luis,
            Some(json!({"track_ids": moved})),
        )
        .await;
    assert_eq!(track_ids(&body), moved);
    let again = keys(&store, id).await;
    assert_eq!(changed(&after, &again, &[3000]), 0, "a move rewrote others");

    // Remove position 1 (track 1).
    let body = store
        .expect(200, Method::DELETE, &format!("{path}/1"), &store.luis, None)
        .await;
    assert_eq!(track_ids(&body), moved[1..]);
    let last = keys(&store, id).await;
    assert_eq!(changed(&again, &last, &[1]), 0, "a removal rewrote others");
}

#[tokio::test]
async fn inserting_at_one_spot_again_and_again_keeps_the_order_when_the_gap_runs_out() {
    let store = Store::open().await;
    let id = store.create(&store.luis, "Front", "private").await;
    store
        .add(&store.luis, id, json!({"track_ids": [1, 2]}))
        .await;
    // Far more inserts at one spot than halving one gap allows: the playlist is renumbered.
    let mut expected = vec![1, 2];
    for track in 10..50 {
        store
            .add(
                &store.luis,
                id,
                json!({"track_ids": [track], "position": 2}),
            )
            .await;
        expected.insert(1, track);
    }
    assert_eq!(track_ids(&store.own(&store.luis, id).await), expected);
}
