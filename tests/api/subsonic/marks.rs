//! What the account's marks on a page cost: one SQL statement for the page (ownership,
//! stored audio, stars, ratings and plays of its songs, albums and artists together), the
//! same for a page of ten as for a page of fifty, and what that statement finds is right.

use serde_json::Value;

use super::{ok, password, spawn, OWNER};
use crate::helpers::{request_statements, TestApp};

/// The statements one call runs, and its answer.
async fn cost(app: &TestApp, method: &str, extra: &[(&str, &str)]) -> (u64, Value) {
    let before = request_statements(app);
    let body = ok(app, method, &password(OWNER), extra).await;
    (request_statements(app) - before, body)
}

#[tokio::test]
async fn a_pages_marks_cost_one_statement_whatever_its_size_and_kinds() {
    let app = spawn().await;
    let owner = password(OWNER);
    // Marks of every kind on album 1 and its songs, so each branch of the statement finds rows.
    ok(
        &app,
        "star",
        &owner,
        &[("id", "tr-1"), ("albumId", "al-1"), ("artistId", "ar-1")],
    )
    .await;
    ok(
        &app,
        "setRating",
        &owner,
        &[("id", "tr-6"), ("rating", "4")],
    )
    .await;
    ok(
        &app,
        "setRating",
        &owner,
        &[("id", "al-1"), ("rating", "5")],
    )
    .await;
    ok(
        &app,
        "scrobble",
        &owner,
        &[("id", "tr-1"), ("time", "1700000000000")],
    )
    .await;

    // A warm-up of each, so what is kept per catalog version is kept; then the costs.
    for (method, extra) in [
        ("ping", vec![]),
        ("getAlbum", vec![("id", "al-1")]),
        (
            "getAlbumList2",
            vec![("type", "alphabeticalByName"), ("size", "10")],
        ),
        (
            "getAlbumList2",
            vec![("type", "alphabeticalByName"), ("size", "50")],
        ),
    ] {
        ok(&app, method, &owner, &extra).await;
    }
    let (auth, _) = cost(&app, "ping", &[]).await;
    let (album, body) = cost(&app, "getAlbum", &[("id", "al-1")]).await;
    assert_eq!(
        album - auth,
        1,
        "getAlbum: {album} statements, {auth} of them signing in"
    );

    let songs = body["album"]["song"].as_array().unwrap();
    assert_eq!(songs.len(), 10);
    let song = |id: &str| songs.iter().find(|s| s["id"] == id).unwrap();
    assert!(song("tr-1")["starred"].is_string());
    assert_eq!(song("tr-1")["playCount"], 1);
    assert_eq!(song("tr-1")["owned"], true);
    assert_eq!(song("tr-6")["userRating"], 4);
    assert!(song("tr-6").get("starred").is_none());
    assert!(body["album"]["starred"].is_string());
    assert_eq!(body["album"]["userRating"], 5);

    let (ten, small) = cost(
        &app,
        "getAlbumList2",
        &[("type", "alphabeticalByName"), ("size", "10")],
    )
    .await;
    let (fifty, large) = cost(
        &app,
        "getAlbumList2",
        &[("type", "alphabeticalByName"), ("size", "50")],
    )
    .await;
    assert_eq!(small["albumList2"]["album"].as_array().unwrap().len(), 10);
    assert_eq!(large["albumList2"]["album"].as_array().unwrap().len(), 50);
    assert_eq!(ten, fifty, "a page of 50 costs what a page of 10 does");
    assert!(
        fifty - auth <= 1,
        "getAlbumList2: {fifty} statements, {auth} signing in"
    );
}
