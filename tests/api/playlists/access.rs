//! Who may see and change a playlist: its owner alone under `/me`, anyone through the
//! catalog once it is public, nobody but the store for the imported ones.

use reqwest::Method;
use serde_json::json;

use super::{catalog_order, Store};
use crate::helpers::{assert_problem, DEMO_PASSWORD};
use crate::taxonomy::{all_pages, ids};

#[tokio::test]
async fn a_private_playlist_is_a_404_to_everyone_else_in_the_catalog_and_under_me() {
    let store = Store::open().await;
    let id = store.create(&store.luis, "Secret", "private").await;
    store.add(&store.luis, id, json!({"track_ids": [1]})).await;

    for path in [
        format!("/api/v1/playlists/{id}"),
        format!("/api/v1/playlists/{id}/tracks"),
    ] {
        let anonymous = store.call(Method::GET, &path, None, None).await;
        assert_problem(anonymous, 404).await;
        let signed_in = store
            .call(Method::GET, &path, Some(&store.leonie), None)
            .await;
        assert_problem(signed_in, 404).await;
    }
    let own = format!("/api/v1/me/playlists/{id}");
    let problem = assert_problem(
        store
            .call(Method::GET, &own, Some(&store.leonie), None)
            .await,
        404,
    )
    .await;
    assert_eq!(
        problem["detail"],
        format!("you have no playlist with id {id}")
    );
    assert_problem(store.call(Method::GET, &own, None, None).await, 401).await;

    let listed = all_pages(&store.app, "/api/v1/playlists").await;
    assert!(!ids(&listed).contains(&id));
    let theirs = store
        .expect(
            200,
            Method::GET,
            "/api/v1/me/playlists",
            &store.leonie,
            None,
        )
        .await;
    assert_eq!(theirs["data"], json!([]));
    let mine = store
        .expect(200, Method::GET, "/api/v1/me/playlists", &store.luis, None)
        .await;
    assert_eq!(
        mine["data"],
        json!([{"id": id, "name": "Secret", "visibility": "private", "track_count": 1}])
    );
}

#[tokio::test]
async fn another_customer_can_change_nothing_of_a_playlist_not_even_a_public_one() {
    let store = Store::open().await;
    let id = store.create(&store.luis, "Mine", "public").await;
    store
        .add(&store.luis, id, json!({"track_ids": [1, 2]}))
        .await;
    let before = store.own(&store.luis, id).await;

    let own = format!("/api/v1/me/playlists/{id}");
    let tracks = format!("{own}/tracks");
    for (method, path, body) in [
        (Method::GET, own.clone(), None),
        (
            Method::PATCH,
            own.clone(),
            Some(json!({"name": "Hijacked"})),
        ),
        (Method::DELETE, own.clone(), None),
        (
            Method::POST,
            tracks.clone(),
            Some(json!({"track_ids": [3]})),
        ),
        (
            Method::PUT,
            tracks.clone(),
            Some(json!({"track_ids": [2, 1]})),
        ),
        (Method::DELETE, format!("{tracks}/1"), None),
    ] {
        let response = store
            .call(method.clone(), &path, Some(&store.leonie), body)
            .await;
        let problem = assert_problem(response, 404).await;
        assert_eq!(
            problem["detail"],
            format!("you have no playlist with id {id}"),
            "{method} {path}"
        );
    }
    assert_eq!(store.own(&store.luis, id).await, before);
    let (_, detail) = store.public(&format!("/api/v1/playlists/{id}")).await;
    assert_eq!(detail["name"], "Mine");
    assert_eq!(catalog_order(&store, id).await, [1, 2]);
}

#[tokio::test]
async fn the_imported_playlists_stay_public_store_playlists_that_no_customer_can_change() {
    let store = Store::open().await;
    let listed = all_pages(&store.app, "/api/v1/playlists").await;
    assert_eq!(ids(&listed), (1..=18).collect::<Vec<i64>>());
    let expected: Vec<i64> = sqlx::query_scalar(
        "SELECT track_id FROM playlist_track WHERE playlist_id = 17 ORDER BY position",
    )
    .fetch_all(store.app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(catalog_order(&store, 17).await, expected);

    let mine = store
        .expect(200, Method::GET, "/api/v1/me/playlists", &store.luis, None)
        .await;
    assert_eq!(mine["data"], json!([]), "store playlists are nobody's");
    let rename = Some(json!({"name": "Mine now"}));
    let response = store
        .call(
            Method::PATCH,
            "/api/v1/me/playlists/17",
            Some(&store.luis),
            rename,
        )
        .await;
    assert_problem(response, 404).await;
    let response = store
        .call(
            Method::DELETE,
            "/api/v1/me/playlists/1",
            Some(&store.luis),
            None,
        )
        .await;
    assert_problem(response, 404).await;
    assert_eq!(
        store.public("/api/v1/playlists/17").await.1["name"],
        "Heavy Metal Classic"
    );
}

#[tokio::test]
async fn staff_and_admins_have_no_playlists_and_the_anonymous_must_sign_in() {
    let store = Store::open().await;
    for email in ["jane@chinookcorp.com", "andrew@chinookcorp.com"] {
        let token = store.app.login(email, DEMO_PASSWORD).await;
        let list = store
            .call(Method::GET, "/api/v1/me/playlists", Some(&token), None)
            .await;
        assert_problem(list, 403).await;
        let body = Some(json!({"name": "Staff picks"}));
        let create = store
            .call(Method::POST, "/api/v1/me/playlists", Some(&token), body)
            .await;
        assert_problem(create, 403).await;
    }
    let body = Some(json!({"name": "Anyone's"}));
    let anonymous = store
        .call(Method::POST, "/api/v1/me/playlists", None, body)
        .await;
    assert_problem(anonymous, 401).await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM playlist")
        .fetch_one(store.app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(count, 18, "no refused request made a playlist");
}
