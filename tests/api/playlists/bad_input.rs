//! Bad input to playlist endpoints never hurts: each gets a 4xx problem that says what was
//! wrong, and the playlist is as it was.

use reqwest::Method;
use serde_json::json;

use super::{track_ids, Store};
use crate::helpers::assert_problem;

/// Sends a raw body with a content type to `path` as Luís.
async fn raw(
    store: &Store,
    method: Method,
    path: &str,
    content_type: &str,
    body: &str,
) -> reqwest::Response {
    store
        .app
        .client
        .request(method, store.app.url(path))
        .bearer_auth(&store.luis)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .expect("the request is answered")
}

/// Asserts a problem with `status` whose detail contains `says`.
async fn refused(response: reqwest::Response, status: u16, says: &str) {
    let url = response.url().path().to_string();
    let problem = assert_problem(response, status).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(says),
        "{url}: `{detail}` does not say `{says}`"
    );
}

#[tokio::test]
async fn bad_bodies_get_a_4xx_that_says_what_was_wrong_and_change_nothing() {
    let store = Store::open().await;
    let id = store.create(&store.luis, "Careful", "private").await;
    store
        .add(&store.luis, id, json!({"track_ids": [1, 2, 3]}))
        .await;
    let before = store.own(&store.luis, id).await;

    let create = "/api/v1/me/playlists";
    let own = format!("/api/v1/me/playlists/{id}");
    let tracks = format!("{own}/tracks");
    let too_many: Vec<i64> = (1..=1001).collect();
    let long_name = "x".repeat(201);
    let cases: Vec<(Method, &str, &str, u16, &str)> = vec![
        (Method::POST, create, r#"{"name": "#, 400, "not valid JSON"),
        (
            Method::POST,
            create,
            r#""just a name""#,
            422,
            "does not fit",
        ),
        (Method::POST, create, r#"{"name": 5}"#, 422, "field `name`"),
        (Method::POST, create, r#"{}"#, 422, "missing field `name`"),
        (
            Method::POST,
            create,
            r#"{"name": ""}"#,
            422,
            "name must not be empty",
        ),
        (
            Method::POST,
            create,
            r#"{"name": "   "}"#,
            422,
            "name must not be empty",
        ),
        (
            Method::POST,
            create,
            r#"{"name": "a\u0007b"}"#,
            422,
            "control characters",
        ),
        (
            Method::POST,
            create,
            r#"{"name": "x", "visibility": "secret"}"#,
            422,
            "field `visibility`",
        ),
        (
            Method::POST,
            create,
            r#"{"name": "x", "owner": 2}"#,
            422,
            "unknown field `owner`",
        ),
        (
            Method::PATCH,
            &own,
            r#"{"name": null}"#,
            422,
            "missing field `name`",
        ),
        (
            Method::PATCH,
            &own,
            r#"{"visibility": 1}"#,
            422,
            "field `visibility`",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": "1"}"#,
            422,
            "field `track_ids`",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": [1.5]}"#,
            422,
            "field `track_ids[0]`",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": [18446744073709551615]}"#,
            422,
            "field `track_ids[0]`",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": [1e30]}"#,
            422,
            "field `track_ids[0]`",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": []}"#,
            422,
            "at least one track",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": [4, 99999, -5, 0, 100000]}"#,
            422,
            "track ids are whole numbers from 1, not -5, 0",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": [4, 100000, 99999]}"#,
            404,
            "track_ids 99999, 100000 match no track",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": [4], "position": 0}"#,
            422,
            "position must be from 1 to 4",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": [4], "position": 5}"#,
            409,
            "not 5",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": [4], "position": -9223372036854775808}"#,
            422,
            "position must be from 1 to 4",
        ),
        (
            Method::POST,
            &tracks,
            r#"{"track_ids": [4], "allow_duplicates": "yes"}"#,
            422,
            "field `allow_duplicates`",
        ),
        (
            Method::PUT,
            &tracks,
            r#"{"track_ids": [3, 2]}"#,
            409,
            "leaves out 1",
        ),
        (
            Method::PUT,
            &tracks,
            r#"{"track_ids": [3, 2, 1, 1]}"#,
            409,
            "adds 1",
        ),
        (
            Method::PUT,
            &tracks,
            r#"{"track_ids": [3, 2, 9]}"#,
            409,
            "leaves out 1, and it adds 9",
        ),
        (
            Method::PUT,
            &tracks,
            r#"{"order": [3, 2, 1]}"#,
            422,
            "unknown field `order`",
        ),
    ];
    for (method, path, body, status, says) in cases {
        let response = raw(&store, method.clone(), path, "application/json", body).await;
        let got = response.status().as_u16();
        assert_eq!(got, status, "{method} {path} {body}");
        refused(response, status, says).await;
    }

    let many = json!({"track_ids": too_many}).to_string();
    refused(
        raw(&store, Method::POST, &tracks, "application/json", &many).await,
        422,
        "at most 1000",
    )
    .await;
    let long = json!({"name": long_name}).to_string();
    refused(
        raw(&store, Method::POST, create, "application/json", &long).await,
        422,
        "longer than 200",
    )
    .await;
    refused(
        raw(&store, Method::PATCH, &own, "application/json", &long).await,
        422,
        "longer than 200",
    )
    .await;
    let form = raw(
        &store,
        Method::POST,
        &tracks,
        "text/plain",
        r#"{"track_ids": [4]}"#,
    )
    .await;
    assert_problem(form, 415).await;

    assert_eq!(store.own(&store.luis, id).await, before);
    let mine = store
        .expect(200, Method::GET, create, &store.luis, None)
        .await;
    assert_eq!(
        mine["data"].as_array().unwrap().len(),
        1,
        "no bad request made a playlist"
    );
}

#[tokio::test]
async fn bad_ids_and_positions_in_paths_are_a_400_or_a_404() {
    let store = Store::open().await;
    let id = store.create(&store.luis, "Three", "private").await;
    store
        .add(&store.luis, id, json!({"track_ids": [1, 2, 3]}))
        .await;

    for (path, status, says) in [
        (
            "/api/v1/me/playlists/abc".to_string(),
            400,
            "invalid path parameter",
        ),
        (
            "/api/v1/me/playlists/99999999999999999999".to_string(),
            400,
            "invalid path parameter",
        ),
        (
            "/api/v1/me/playlists/-1".to_string(),
            404,
            "no playlist with id -1",
        ),
        (
            "/api/v1/me/playlists/0".to_string(),
            404,
            "no playlist with id 0",
        ),
        (
            "/api/v1/playlists/-1/tracks".to_string(),
            404,
            "no playlist with id -1",
        ),
        (
            "/api/v1/playlists/1/tracks?limit=0".to_string(),
            400,
            "limit must be",
        ),
        (
            "/api/v1/playlists/1/tracks?cursor=forged".to_string(),
            400,
            "cursor",
        ),
        (
            "/api/v1/playlists/1/tracks?sort=name".to_string(),
            400,
            "sort",
        ),
        (
            "/api/v1/me/playlists?limit=101".to_string(),
            400,
            "limit must be",
        ),
    ] {
        let response = store
            .call(Method::GET, &path, Some(&store.luis), None)
            .await;
        refused(response, status, says).await;
    }
    let tracks = format!("/api/v1/me/playlists/{id}/tracks");
    for (position, status, says) in [
        ("0", 404, "no position 0; its positions are 1 to 3"),
        ("4", 404, "no position 4"),
        ("-2", 404, "no position -2"),
        ("first", 400, "invalid path parameter"),
        ("99999999999999999999", 400, "invalid path parameter"),
    ] {
        let path = format!("{tracks}/{position}");
        let response = store
            .call(Method::DELETE, &path, Some(&store.luis), None)
            .await;
        refused(response, status, says).await;
    }
    assert_eq!(track_ids(&store.own(&store.luis, id).await), [1, 2, 3]);
}

#[tokio::test]
async fn a_full_playlist_and_a_full_account_are_a_409_with_the_cap() {
    let store = Store::open().await;
    let id = store.create(&store.luis, "Full", "private").await;
    let db = store.app.state.db.writer();
    // 5,000 entries, written directly: the cap is what is tested, not the way there.
    let rows: Vec<String> = (1..=5000)
        .map(|p| format!("({id}, {p}, {})", (p % 3000) + 1))
        .collect();
    sqlx::query(&format!(
        "INSERT INTO playlist_track (playlist_id, position, track_id) VALUES {}",
        rows.join(", ")
    ))
    .execute(db)
    .await
    .unwrap();
    let body = Some(json!({"track_ids": [3501], "allow_duplicates": true}));
    let path = format!("/api/v1/me/playlists/{id}/tracks");
    let response = store
        .call(Method::POST, &path, Some(&store.luis), body)
        .await;
    refused(response, 409, "at most 5000").await;

    let playlists: Vec<String> = (1..1000)
        .map(|n| format!("('Filler {n}', 1, 'private')"))
        .collect();
    sqlx::query(&format!(
        "INSERT INTO playlist (name, customer_id, visibility) VALUES {}",
        playlists.join(", ")
    ))
    .execute(db)
    .await
    .unwrap();
    let response = store
        .call(
            Method::POST,
            "/api/v1/me/playlists",
            Some(&store.luis),
            Some(json!({"name": "One too many"})),
        )
        .await;
    refused(response, 409, "1000 playlists").await;
    let theirs = store
        .create(&store.leonie, "Leonie's first", "private")
        .await;
    assert!(theirs > id, "another customer's cap is their own");
}

#[tokio::test]
async fn the_caps_are_settings_and_the_409_names_the_configured_one() {
    let store = Store::open_with(|config| {
        config.playlist_caps.playlists = 2;
        config.playlist_caps.entries = 3;
    })
    .await;
    let first = store.create(&store.luis, "One", "private").await;
    store.create(&store.luis, "Two", "public").await;
    let response = store
        .call(
            Method::POST,
            "/api/v1/me/playlists",
            Some(&store.luis),
            Some(json!({"name": "Three"})),
        )
        .await;
    refused(response, 409, "at most 2").await;
    store.create(&store.leonie, "Leonie's own", "private").await;

    let path = format!("/api/v1/me/playlists/{first}/tracks");
    let response = store
        .call(
            Method::POST,
            &path,
            Some(&store.luis),
            Some(json!({"track_ids": [1, 2, 3]})),
        )
        .await;
    assert_eq!(response.status(), 200, "three entries fit a cap of three");
    let response = store
        .call(
            Method::POST,
            &path,
            Some(&store.luis),
            Some(json!({"track_ids": [4]})),
        )
        .await;
    refused(response, 409, "at most 3; 1 more do not fit").await;
    let response = store
        .call(
            Method::PUT,
            &path,
            Some(&store.luis),
            Some(json!({"track_ids": [3, 2, 1, 4]})),
        )
        .await;
    refused(response, 422, "a playlist holds at most 3").await;
    assert_eq!(track_ids(&store.own(&store.luis, first).await), [1, 2, 3]);
}

#[tokio::test]
async fn ids_written_as_whole_floats_are_ids_and_fractions_are_refused() {
    let store = Store::open().await;
    let id = store.create(&store.luis, "Floats", "private").await;
    // JSON Schema counts 2.0 as the integer 2, so a client writing floats is not wrong.
    let added = store
        .add(&store.luis, id, json!({"track_ids": [2.0, 3]}))
        .await;
    assert_eq!(track_ids(&added), [2, 3]);
    let tracks = format!("/api/v1/me/playlists/{id}/tracks");
    refused(
        raw(
            &store,
            Method::POST,
            &tracks,
            "application/json",
            r#"{"track_ids": [4.5]}"#,
        )
        .await,
        422,
        "not a whole number",
    )
    .await;
    assert_eq!(track_ids(&store.own(&store.luis, id).await), [2, 3]);
}
