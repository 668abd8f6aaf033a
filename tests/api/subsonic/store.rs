//! The store's rules through Subsonic: owners stream and download in full, everyone else
//! hears the preview; song entries say which; stars, ratings and plays are per account and
//! visible through REST; similar songs are those bought together.

use serde_json::Value;

use super::playlists::number;
use super::{call, code, ids, ok, password, spawn, OTHER, OWNER};
use crate::helpers::{TestApp, DEMO_PASSWORD};

async fn fetch(
    app: &TestApp,
    method: &str,
    email: &str,
    id: &str,
    range: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.get(app.url(&format!("/rest/{method}"))).query(&[
        ("v", "1.16.1"),
        ("c", "t"),
        ("u", email),
        ("p", DEMO_PASSWORD),
        ("id", id),
    ]);
    if let Some(range) = range {
        request = request.header("range", range);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn owners_stream_in_full_and_everyone_else_hears_the_preview() {
    let app = spawn().await;
    // What REST serves is the reference: the same renditions, whichever API asks.
    let token = app.login(OWNER, DEMO_PASSWORD).await;
    let rest = |path: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            let response = app.get_authed(path, &token).await;
            assert_eq!(response.status(), 200, "{path}");
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            (kind, response.bytes().await.unwrap())
        }
    };
    let (stream_type, stream) = rest("/api/v1/tracks/1/stream").await;
    let (_, preview_bytes) = rest("/api/v1/tracks/1/preview").await;
    let (_, flac) = rest("/api/v1/tracks/1/download").await;
    let file = stream.len() as i64;

    let full = fetch(&app, "stream", OWNER, "tr-1", None).await;
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], stream_type.as_str());
    assert_eq!(full.bytes().await.unwrap(), stream);

    let preview = fetch(&app, "stream", OTHER, "tr-1", None).await;
    assert_eq!(preview.status(), 200);
    let clip = preview.bytes().await.unwrap();
    assert_eq!(clip, preview_bytes, "the 30-second preview");
    assert!((clip.len() as i64) <= file);

    let ranged = fetch(&app, "stream.view", OWNER, "tr-1", Some("bytes=100-199")).await;
    assert_eq!(ranged.status(), 206);
    assert_eq!(
        ranged.headers()["content-range"],
        format!("bytes 100-199/{file}").as_str()
    );
    assert_eq!(ranged.bytes().await.unwrap(), stream.slice(100..200));
    let outside = fetch(
        &app,
        "stream",
        OWNER,
        "tr-1",
        Some(&format!("bytes={}-", file + 10)),
    )
    .await;
    assert_eq!(outside.status(), 416);

    // Staff and admins hear everything in full, as through REST.
    let staff = fetch(&app, "stream", "jane@chinookcorp.com", "tr-1", None).await;
    assert_eq!(staff.bytes().await.unwrap(), stream);

    let download = fetch(&app, "download", OWNER, "tr-1", None).await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap(), flac);
    let refused = fetch(&app, "download", OTHER, "tr-1", None).await;
    assert_eq!(refused.status(), 200);
    let text = refused.text().await.unwrap();
    assert!(text.contains("<error code=\"50\""), "{text}");
    // An unknown track is not found, in the requested format.
    let unknown = fetch(&app, "stream", OWNER, "tr-999999", None).await;
    assert!(unknown.text().await.unwrap().contains("<error code=\"70\""));

    let owned = ok(&app, "getSong", &password(OWNER), &[("id", "tr-1")]).await;
    assert_eq!(
        (
            owned["song"]["owned"].clone(),
            owned["song"]["preview"].clone()
        ),
        (Value::Bool(true), Value::Bool(false))
    );
    let not_owned = ok(&app, "getSong", &password(OTHER), &[("id", "tr-1")]).await;
    assert_eq!(not_owned["song"]["owned"], false);
    assert_eq!(not_owned["song"]["preview"], true);
    assert_eq!(not_owned["song"]["unitPrice"], "0.99");

    let cover = app
        .client
        .get(app.url("/rest/getCoverArt"))
        .query(&[
            ("v", "1.16.1"),
            ("c", "t"),
            ("u", OWNER),
            ("p", DEMO_PASSWORD),
            ("id", "al-1"),
            ("size", "100"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cover.status(), 200);
    assert_eq!(cover.headers()["content-type"], "image/jpeg");
    let image = image::load_from_memory(&cover.bytes().await.unwrap()).unwrap();
    assert_eq!(
        image.width(),
        128,
        "the smallest offered size at least as large as asked"
    );
}

#[tokio::test]
async fn stars_ratings_and_plays_are_per_account_and_shown_through_rest() {
    let app = spawn().await;
    let owner = password(OWNER);
    ok(
        &app,
        "star",
        &owner,
        &[("id", "tr-1"), ("albumId", "al-2"), ("artistId", "ar-3")],
    )
    .await;
    ok(
        &app,
        "setRating",
        &owner,
        &[("id", "al-4"), ("rating", "5")],
    )
    .await;
    ok(
        &app,
        "setRating",
        &owner,
        &[("id", "al-2"), ("rating", "3")],
    )
    .await;
    assert_eq!(
        code(&call(&app, "star", &owner, &[("id", "tr-999999")]).await),
        70
    );

    let starred = ok(&app, "getStarred2", &owner, &[]).await;
    assert_eq!(ids(&starred["starred2"]["song"]), ["tr-1"]);
    assert_eq!(ids(&starred["starred2"]["album"]), ["al-2"]);
    assert_eq!(ids(&starred["starred2"]["artist"]), ["ar-3"]);
    assert!(starred["starred2"]["song"][0]["starred"].is_string());
    let theirs = ok(&app, "getStarred2", &password(OTHER), &[]).await;
    assert!(ids(&theirs["starred2"]["song"]).is_empty());
    let starred_albums = ok(&app, "getAlbumList2", &owner, &[("type", "starred")]).await;
    assert_eq!(ids(&starred_albums["albumList2"]["album"]), ["al-2"]);
    let highest = ok(&app, "getAlbumList2", &owner, &[("type", "highest")]).await;
    assert_eq!(ids(&highest["albumList2"]["album"]), ["al-4", "al-2"]);
    assert_eq!(highest["albumList2"]["album"][0]["userRating"], 5);

    let bearer = app.login(OWNER, DEMO_PASSWORD).await;
    let rest: Value = app
        .get_authed("/api/v1/me/annotations", &bearer)
        .await
        .json()
        .await
        .unwrap();
    let seen: Vec<(String, i64, bool, Option<i64>)> = rest["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_string(),
                a["id"].as_i64().unwrap(),
                a["starred_at"].is_string(),
                a["rating"].as_i64(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("album".into(), 2, true, Some(3)),
            ("album".into(), 4, false, Some(5)),
            ("artist".into(), 3, true, None),
            ("track".into(), 1, true, None),
        ]
    );
    ok(&app, "unstar", &owner, &[("id", "tr-1")]).await;
    ok(
        &app,
        "setRating",
        &owner,
        &[("id", "al-4"), ("rating", "0")],
    )
    .await;
    let after = ok(&app, "getStarred2", &owner, &[]).await;
    assert!(ids(&after["starred2"]["song"]).is_empty());

    // Plays: album 1 twice, album 3 once, later; now-playing notices count nothing.
    ok(
        &app,
        "scrobble",
        &owner,
        &[("id", "tr-1"), ("time", "1700000000000")],
    )
    .await;
    ok(
        &app,
        "scrobble",
        &owner,
        &[("id", "tr-6"), ("time", "1700000001000")],
    )
    .await;
    ok(
        &app,
        "scrobble",
        &owner,
        &[("id", "tr-5"), ("time", "1700000002000")],
    )
    .await;
    ok(
        &app,
        "scrobble",
        &owner,
        &[("id", "tr-2"), ("submission", "false")],
    )
    .await;
    let frequent = ok(&app, "getAlbumList2", &owner, &[("type", "frequent")]).await;
    assert_eq!(ids(&frequent["albumList2"]["album"]), ["al-1", "al-3"]);
    let recent = ok(&app, "getAlbumList2", &owner, &[("type", "recent")]).await;
    assert_eq!(ids(&recent["albumList2"]["album"]), ["al-3", "al-1"]);
    let song = ok(&app, "getSong", &owner, &[("id", "tr-1")]).await;
    assert_eq!(song["song"]["playCount"], 1);
    let unplayed = ok(&app, "getSong", &owner, &[("id", "tr-2")]).await;
    assert_eq!(unplayed["song"]["playCount"], 0);

    // The play queue resumes elsewhere.
    let empty = ok(&app, "getPlayQueue", &owner, &[]).await;
    assert!(empty["playQueue"]["entry"].as_array().unwrap().is_empty());
    ok(
        &app,
        "savePlayQueue",
        &owner,
        &[
            ("id", "tr-3"),
            ("id", "tr-1"),
            ("current", "tr-1"),
            ("position", "12000"),
        ],
    )
    .await;
    let queue = ok(&app, "getPlayQueue", &owner, &[]).await;
    assert_eq!(ids(&queue["playQueue"]["entry"]), ["tr-3", "tr-1"]);
    assert_eq!(queue["playQueue"]["current"], "tr-1");
    assert_eq!(queue["playQueue"]["position"], 12000);
    assert_eq!(queue["playQueue"]["changedBy"], "tests");
}

#[tokio::test]
async fn similar_songs_are_those_bought_together() {
    let app = spawn().await;
    let owner = password(OWNER);
    let similar = ok(
        &app,
        "getSimilarSongs2",
        &owner,
        &[("id", "tr-1"), ("count", "100")],
    )
    .await;
    let got: Vec<i64> = similar["similarSongs2"]["song"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| number(&s["id"]))
        .collect();
    let mut expected: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT l2.track_id FROM invoice_line l1 JOIN invoice_line l2 \
         ON l2.invoice_id = l1.invoice_id WHERE l1.track_id = 1 AND l2.track_id <> 1",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap();
    expected.sort_unstable();
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert!(!expected.is_empty());
    assert_eq!(sorted, expected);
    let by_artist = ok(
        &app,
        "getSimilarSongs2",
        &owner,
        &[("id", "ar-1"), ("count", "10")],
    )
    .await;
    assert!(by_artist["similarSongs2"]["song"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["artist"] != "AC/DC"));
    let info = ok(&app, "getArtistInfo2", &owner, &[("id", "ar-1")]).await;
    assert!(info["artistInfo2"].is_object());
    let album_info = ok(&app, "getAlbumInfo2", &owner, &[("id", "al-1")]).await;
    assert!(album_info["albumInfo"].is_object());
    assert_eq!(
        code(&call(&app, "getArtistInfo2", &owner, &[("id", "ar-99999")]).await),
        70
    );
}
