//! Playlists through Subsonic: entries equal to SQL, the owner's to change, and another
//! account's private playlist not found, not listed and not changeable.

use serde_json::Value;

use super::{call, code, ids, ok, password, spawn, OTHER, OWNER};
use crate::helpers::TestApp;

async fn playlist_entries(app: &TestApp, id: i64) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "SELECT track_id FROM playlist_track WHERE playlist_id = {id} ORDER BY position"
    ))
    .fetch_all(app.state.db.reader())
    .await
    .unwrap()
}

pub(super) fn number(id: &Value) -> i64 {
    id.as_str()
        .unwrap()
        .split_once('-')
        .unwrap()
        .1
        .parse()
        .unwrap()
}

#[tokio::test]
async fn playlists_are_the_owners_and_private_ones_stay_private() {
    let app = spawn().await;
    let owner = password(OWNER);
    let other = password(OTHER);
    let made = ok(
        &app,
        "createPlaylist",
        &owner,
        &[
            ("name", "Road trip"),
            ("songId", "tr-5"),
            ("songId", "tr-1"),
            ("songId", "tr-5"),
        ],
    )
    .await;
    let id = number(&made["playlist"]["id"]);
    let pl = format!("pl-{id}");
    assert_eq!(made["playlist"]["public"], false);
    assert_eq!(playlist_entries(&app, id).await, vec![5, 1, 5]);
    let got = ok(&app, "getPlaylist", &owner, &[("id", &pl)]).await;
    let entries: Vec<i64> = got["playlist"]["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| number(&e["id"]))
        .collect();
    assert_eq!(entries, playlist_entries(&app, id).await);

    ok(
        &app,
        "updatePlaylist",
        &owner,
        &[
            ("playlistId", &pl),
            ("songIndexToRemove", "0"),
            ("songIdToAdd", "tr-2"),
            ("name", "Trip"),
        ],
    )
    .await;
    assert_eq!(playlist_entries(&app, id).await, vec![1, 5, 2]);

    // Another customer: not found, not listed, not theirs to change.
    assert_eq!(
        code(&call(&app, "getPlaylist", &other, &[("id", &pl)]).await),
        70
    );
    assert_eq!(
        code(&call(&app, "deletePlaylist", &other, &[("id", &pl)]).await),
        70
    );
    assert_eq!(
        code(
            &call(
                &app,
                "updatePlaylist",
                &other,
                &[("playlistId", &pl), ("name", "mine")]
            )
            .await
        ),
        70
    );
    let theirs = ok(&app, "getPlaylists", &other, &[]).await;
    assert!(!ids(&theirs["playlists"]["playlist"]).contains(&pl));
    let store_playlists: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM playlist WHERE customer_id IS NULL")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(
        theirs["playlists"]["playlist"].as_array().unwrap().len() as i64,
        store_playlists
    );
    let music = ok(&app, "getPlaylist", &other, &[("id", "pl-1")]).await;
    assert_eq!(
        music["playlist"]["entry"].as_array().unwrap().len(),
        playlist_entries(&app, 1).await.len()
    );
    assert_eq!(
        music["playlist"]["songCount"].as_u64().unwrap() as usize,
        playlist_entries(&app, 1).await.len()
    );
    // The store's playlists are nobody's to change.
    assert_eq!(
        code(&call(&app, "deletePlaylist", &owner, &[("id", "pl-1")]).await),
        70
    );

    let mine = ok(&app, "getPlaylists", &owner, &[]).await;
    let listed = mine["playlists"]["playlist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == pl.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["name"], "Trip");
    assert_eq!(listed["owner"], OWNER);
    assert_eq!(listed["songCount"], 3);
    ok(&app, "deletePlaylist", &owner, &[("id", &pl)]).await;
    assert_eq!(
        code(&call(&app, "getPlaylist", &owner, &[("id", &pl)]).await),
        70
    );
    // Staff own no playlists.
    assert_eq!(
        code(
            &call(
                &app,
                "createPlaylist",
                &password("jane@chinookcorp.com"),
                &[("name", "x")]
            )
            .await
        ),
        50
    );
}
