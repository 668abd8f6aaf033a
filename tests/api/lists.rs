//! Catalog lists agree with SQL for every sort, filter and include on the Chinook data.

use std::collections::HashMap;

use chinook::model::sort_key;
use serde_json::Value;
use sqlx::Row;

use crate::helpers::{assert_problem, TestApp};

/// Follows `next_cursor` to the end and returns every entry.
pub(crate) async fn all_pages(app: &TestApp, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{separator}limit=100");
    for _ in 0..1000 {
        let (status, body) = app.get_json(&url).await;
        assert_eq!(status, 200, "{url}: {body}");
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= 100);
        out.extend(data.iter().cloned());
        match body["page"]["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(data.len(), 100, "only full pages have a next page");
                url = format!("{path}{separator}limit=100&cursor={cursor}");
            }
            None => return out,
        }
    }
    panic!("{path} never ended");
}

pub(crate) fn ids(entries: &[Value]) -> Vec<i64> {
    entries.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

pub(crate) struct TrackRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) album_id: Option<i64>,
    pub(crate) artist_id: Option<i64>,
    pub(crate) genre_id: Option<i64>,
    pub(crate) media_type_id: i64,
    pub(crate) milliseconds: i64,
    pub(crate) cents: i64,
    pub(crate) units: i64,
}

pub(crate) async fn tracks_from_sql(app: &TestApp) -> Vec<TrackRow> {
    sqlx::query(
        "SELECT t.track_id, t.name, t.album_id, a.artist_id, t.genre_id, t.media_type_id, t.milliseconds, t.unit_price_cents, \
                (SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM invoice_line l WHERE l.track_id = t.track_id) \
         FROM track t LEFT JOIN album a ON a.album_id = t.album_id",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap()
    .iter()
    .map(|r| TrackRow {
        id: r.get(0),
        name: r.get(1),
        album_id: r.get(2),
        artist_id: r.get(3),
        genre_id: r.get(4),
        media_type_id: r.get(5),
        milliseconds: r.get(6),
        cents: r.get(7),
        units: r.get(8),
    })
    .collect()
}

/// Ids ordered by `(value, id)`, reversed for a descending sort.
pub(crate) fn ordered<K: Ord + Clone>(
    rows: &[TrackRow],
    key: impl Fn(&TrackRow) -> K,
    descending: bool,
) -> Vec<i64> {
    let mut keyed: Vec<(K, i64)> = rows.iter().map(|r| (key(r), r.id)).collect();
    keyed.sort();
    if descending {
        keyed.reverse();
    }
    keyed.into_iter().map(|(_, id)| id).collect()
}

#[tokio::test]
async fn every_track_sort_pages_through_the_whole_catalog_in_sql_order() {
    let app = TestApp::spawn().await;
    let rows = tracks_from_sql(&app).await;
    assert_eq!(rows.len(), 3503);
    let cases: Vec<(&str, Vec<i64>)> = vec![
        ("id", ordered(&rows, |r| r.id, false)),
        ("-id", ordered(&rows, |r| r.id, true)),
        ("name", ordered(&rows, |r| sort_key(&r.name), false)),
        ("-name", ordered(&rows, |r| sort_key(&r.name), true)),
        ("milliseconds", ordered(&rows, |r| r.milliseconds, false)),
        ("-milliseconds", ordered(&rows, |r| r.milliseconds, true)),
        ("unit_price", ordered(&rows, |r| r.cents, false)),
        ("-unit_price", ordered(&rows, |r| r.cents, true)),
        ("popularity", ordered(&rows, |r| r.units, false)),
        ("-popularity", ordered(&rows, |r| r.units, true)),
    ];
    for (sort, expected) in cases {
        let listed = all_pages(&app, &format!("/api/v1/tracks?sort={sort}&fields=id")).await;
        assert_eq!(ids(&listed), expected, "sort={sort}");
    }
}

#[tokio::test]
async fn track_filters_alone_and_combined_agree_with_sql() {
    let app = TestApp::spawn().await;
    let rows = tracks_from_sql(&app).await;
    type Filter = Box<dyn Fn(&TrackRow) -> bool>;
    let cases: Vec<(&str, Filter)> = vec![
        ("genre=1", Box::new(|r| r.genre_id == Some(1))),
        ("album_id=1", Box::new(|r| r.album_id == Some(1))),
        ("artist_id=22", Box::new(|r| r.artist_id == Some(22))),
        ("media_type=2", Box::new(|r| r.media_type_id == 2)),
        ("min_price=1.99", Box::new(|r| r.cents >= 199)),
        ("max_price=0.99", Box::new(|r| r.cents <= 99)),
        (
            "min_ms=300000&max_ms=400000",
            Box::new(|r| (300_000..=400_000).contains(&r.milliseconds)),
        ),
        (
            "genre=1&media_type=1&min_ms=200000&max_price=1",
            Box::new(|r| {
                r.genre_id == Some(1)
                    && r.media_type_id == 1
                    && r.milliseconds >= 200_000
                    && r.cents <= 100
            }),
        ),
        ("genre=999", Box::new(|_| false)),
    ];
    for (query, keep) in cases {
        let expected: Vec<i64> = {
            let mut ids: Vec<i64> = rows.iter().filter(|r| keep(r)).map(|r| r.id).collect();
            ids.sort();
            ids
        };
        let listed = all_pages(&app, &format!("/api/v1/tracks?{query}&fields=id")).await;
        assert_eq!(ids(&listed), expected, "{query}");
    }
}

#[tokio::test]
async fn every_kind_lists_everything_in_name_order() {
    let app = TestApp::spawn().await;
    for (path, table, id, name, count) in [
        ("artists", "artist", "artist_id", "name", 275),
        ("albums", "album", "album_id", "title", 347),
        ("genres", "genre", "genre_id", "name", 25),
        ("media-types", "media_type", "media_type_id", "name", 5),
        ("playlists", "playlist", "playlist_id", "name", 18),
    ] {
        let sql = format!("SELECT {id}, {name} FROM {table}");
        let mut expected: Vec<(String, i64)> = sqlx::query(&sql)
            .fetch_all(app.state.db.reader())
            .await
            .unwrap()
            .iter()
            .map(|r| (sort_key(&r.get::<String, _>(1)), r.get(0)))
            .collect();
        expected.sort();
        let listed = all_pages(&app, &format!("/api/v1/{path}?sort=name")).await;
        assert_eq!(listed.len(), count, "{path}");
        assert_eq!(
            ids(&listed),
            expected.into_iter().map(|(_, id)| id).collect::<Vec<_>>(),
            "{path}"
        );
    }
    let albums = all_pages(&app, "/api/v1/albums?artist_id=90").await;
    let expected: Vec<i64> =
        sqlx::query_scalar("SELECT album_id FROM album WHERE artist_id = 90 ORDER BY album_id")
            .fetch_all(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(ids(&albums), expected);
}

#[tokio::test]
async fn includes_embed_the_related_entries() {
    let app = TestApp::spawn().await;
    let (_, page) = app
        .get_json("/api/v1/tracks?album_id=1&include=album,artist,genre,media_type")
        .await;
    for track in page["data"].as_array().unwrap() {
        let (_, album) = app.get_json("/api/v1/albums/1").await;
        assert_eq!(track["album"], album);
        let (_, artist) = app.get_json("/api/v1/artists/1").await;
        assert_eq!(track["artist"], artist);
        assert_eq!(track["genre"]["id"], track["genre_id"]);
        assert_eq!(track["media_type"]["id"], track["media_type_id"]);
    }

    // An album's tracks, in track order.
    let (_, page) = app
        .get_json("/api/v1/albums?artist_id=1&include=tracks")
        .await;
    for album in page["data"].as_array().unwrap() {
        let expected: Vec<i64> =
            sqlx::query_scalar("SELECT track_id FROM track WHERE album_id = $1 ORDER BY track_id")
                .bind(album["id"].as_i64().unwrap())
                .fetch_all(app.state.db.reader())
                .await
                .unwrap();
        assert_eq!(ids(album["tracks"].as_array().unwrap()), expected);
    }

    // An artist's albums.
    let (_, page) = app
        .get_json("/api/v1/artists?include=albums&limit=30")
        .await;
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for artist in page["data"].as_array().unwrap() {
        counts.insert(
            artist["id"].as_i64().unwrap(),
            artist["albums"].as_array().unwrap().len(),
        );
        assert_eq!(
            artist["albums"].as_array().unwrap().len() as i64,
            artist["album_count"].as_i64().unwrap()
        );
    }
    assert_eq!(counts[&1], 2);

    // A playlist's tracks, in playlist order, at most 100 of them: the rest are paged
    // through /playlists/{id}/tracks.
    let (_, page) = app
        .get_json("/api/v1/playlists?include=tracks&fields=id,name")
        .await;
    for playlist in page["data"].as_array().unwrap() {
        let expected: Vec<i64> = sqlx::query_scalar(
            "SELECT track_id FROM playlist_track WHERE playlist_id = $1 ORDER BY position",
        )
        .bind(playlist["id"].as_i64().unwrap())
        .fetch_all(app.state.db.reader())
        .await
        .unwrap();
        let embedded = expected.len().min(100);
        assert_eq!(
            ids(playlist["tracks"].as_array().unwrap()),
            expected[..embedded],
            "{}",
            playlist["name"]
        );
    }
}

#[tokio::test]
async fn fields_select_what_is_returned() {
    let app = TestApp::spawn().await;
    let (_, page) = app.get_json("/api/v1/tracks?fields=id,name&limit=3").await;
    for track in page["data"].as_array().unwrap() {
        let keys: Vec<&String> = track.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "name"]);
    }
    let (_, page) = app
        .get_json("/api/v1/tracks?fields=name&include=album&limit=1")
        .await;
    let keys: Vec<&String> = page["data"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["album", "name"]);
}

#[tokio::test]
async fn cursors_are_opaque_and_tamper_proof() {
    let app = TestApp::spawn().await;
    let (_, page) = app.get_json("/api/v1/tracks?limit=5&sort=name").await;
    let cursor = page["page"]["next_cursor"].as_str().unwrap().to_string();
    let (status, next) = app
        .get_json(&format!("/api/v1/tracks?limit=5&sort=name&cursor={cursor}"))
        .await;
    assert_eq!(status, 200);
    assert_ne!(next["data"][0]["id"], page["data"][0]["id"]);

    let (body, tag) = cursor.split_once('.').unwrap();
    let mut forged = body.as_bytes().to_vec();
    forged[5] = if forged[5] == b'A' { b'B' } else { b'A' };
    let forged = format!("{}.{tag}", String::from_utf8(forged).unwrap());
    for bad in [
        forged.as_str(),
        "garbage",
        "",
        "a.b",
        &cursor[..cursor.len() - 2],
    ] {
        let response = app
            .get(&format!("/api/v1/tracks?limit=5&sort=name&cursor={bad}"))
            .await
            .unwrap();
        let problem = assert_problem(response, 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("cursor"),
            "{bad}: {problem}"
        );
    }
    // A cursor only fits the list that issued it.
    let response = app
        .get(&format!(
            "/api/v1/tracks?limit=5&sort=-name&cursor={cursor}"
        ))
        .await
        .unwrap();
    let problem = assert_problem(response, 400).await;
    assert!(problem["detail"].as_str().unwrap().contains("another sort"));
    let response = app
        .get(&format!("/api/v1/albums?limit=5&sort=name&cursor={cursor}"))
        .await
        .unwrap();
    assert_problem(response, 400).await;
}

/// A minimum above its maximum is a range that holds nothing, not a malformed request: the
/// document cannot say that one parameter bounds another.
#[tokio::test]
async fn an_inverted_range_is_an_empty_page() {
    let app = TestApp::spawn().await;
    let (status, page) = app.get_json("/api/v1/tracks?min_ms=5&max_ms=4").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"], serde_json::json!([]));
    let (status, page) = app.get_json("/api/v1/tracks?min_ms=4&max_ms=5000000").await;
    assert_eq!(status, 200, "{page}");
    assert!(!page["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_list_parameters_are_400_naming_them() {
    let app = TestApp::spawn().await;
    for (query, says) in [
        ("/api/v1/tracks?limit=0", "limit"),
        ("/api/v1/tracks?limit=101", "limit"),
        ("/api/v1/tracks?limit=ten", "limit"),
        ("/api/v1/tracks?limit=-1", "limit"),
        ("/api/v1/tracks?sort=colour", "sorted by `colour`"),
        ("/api/v1/albums?sort=popularity", "sorted by `popularity`"),
        ("/api/v1/albums?genre=1", "filtered by genre"),
        ("/api/v1/artists?min_price=1", "filtered by min_price"),
        ("/api/v1/tracks?genre=rock", "genre"),
        ("/api/v1/tracks?min_price=cheap", "min_price"),
        ("/api/v1/tracks?min_price=0.999", "min_price"),
        ("/api/v1/tracks?genre=0", "from 1"),
        ("/api/v1/tracks?fields=id,colour", "no field `colour`"),
        ("/api/v1/tracks?include=composer", "include `composer`"),
        ("/api/v1/genres?include=tracks", "include nothing"),
        ("/api/v1/tracks?colour=red", "unknown field `colour`"),
        ("/api/v1/tracks?limit=1&limit=2", "limit"),
    ] {
        let problem = assert_problem(app.get(query).await.unwrap(), 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{query}: {problem}"
        );
    }
}
