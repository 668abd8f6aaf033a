//! Catalog details come from the search index and agree with SQL; the index is persisted,
//! reused when current and rebuilt when not.

use futures_util::StreamExt;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{assert_problem, TestApp, TestDatabase};

/// Fetches every path concurrently and returns the bodies in order.
async fn fetch_all(app: &TestApp, paths: Vec<String>) -> Vec<(String, u16, Value)> {
    futures_util::stream::iter(paths)
        .map(|path| async move {
            let (status, body) = app.get_json(&path).await;
            (path, status, body)
        })
        .buffered(16)
        .collect()
        .await
}

async fn expect_all(app: &TestApp, expected: Vec<(String, Value)>) {
    assert!(!expected.is_empty());
    let paths = expected.iter().map(|(p, _)| p.clone()).collect();
    for ((path, status, body), (_, want)) in fetch_all(app, paths).await.into_iter().zip(expected) {
        assert_eq!(status, 200, "{path}");
        assert_eq!(body, want, "{path}");
    }
}

#[tokio::test]
async fn every_artist_album_and_group_agrees_with_sql() {
    let app = TestApp::spawn().await;
    let pool = app.state.db.reader();

    let artists = sqlx::query(
        "SELECT a.artist_id, a.name, (SELECT COUNT(*) FROM album b WHERE b.artist_id = a.artist_id) FROM artist a",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(artists.len(), 275);
    let expected = artists
        .iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let album_count: i64 = r.get(2);
            (
                format!("/api/v1/artists/{id}"),
                json!({"id": id, "name": r.get::<String, _>(1), "album_count": album_count}),
            )
        })
        .collect();
    expect_all(&app, expected).await;

    let albums = sqlx::query(
        "SELECT a.album_id, a.title, a.artist_id, (SELECT COUNT(*) FROM track t WHERE t.album_id = a.album_id) FROM album a",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(albums.len(), 347);
    let expected = albums
        .iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let body = json!({"id": id, "title": r.get::<String, _>(1), "artist_id": r.get::<i64, _>(2), "track_count": r.get::<i64, _>(3)});
            (format!("/api/v1/albums/{id}"), body)
        })
        .collect();
    expect_all(&app, expected).await;

    for (table, path, expected_rows) in [
        ("genre", "genres", 25),
        ("media_type", "media-types", 5),
        ("playlist", "playlists", 18),
    ] {
        let count = match table {
            "playlist" => {
                "(SELECT COUNT(*) FROM playlist_track e WHERE e.playlist_id = g.playlist_id)"
                    .to_string()
            }
            _ => format!("(SELECT COUNT(*) FROM track t WHERE t.{table}_id = g.{table}_id)"),
        };
        let sql = format!("SELECT g.{table}_id, g.name, {count} FROM {table} g");
        let rows = sqlx::query(&sql).fetch_all(pool).await.unwrap();
        assert_eq!(rows.len(), expected_rows);
        let expected = rows
            .iter()
            .map(|r| {
                let id: i64 = r.get(0);
                (format!("/api/v1/{path}/{id}"), json!({"id": id, "name": r.get::<String, _>(1), "track_count": r.get::<i64, _>(2)}))
            })
            .collect();
        expect_all(&app, expected).await;
    }
}

#[tokio::test]
async fn every_track_agrees_with_sql_including_units_sold() {
    let app = TestApp::spawn().await;
    let rows = sqlx::query(
        "SELECT t.track_id, t.name, t.album_id, t.media_type_id, t.genre_id, t.composer, t.milliseconds, t.bytes, \
                t.unit_price_cents, (SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM invoice_line l WHERE l.track_id = t.track_id), \
                (SELECT a.artist_id FROM album a WHERE a.album_id = t.album_id) \
         FROM track t ORDER BY t.track_id",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(rows.len(), 3503);
    let expected = rows
        .iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let cents: i64 = r.get(8);
            let body = json!({
                "id": id,
                "name": r.get::<String, _>(1),
                "album_id": r.get::<Option<i64>, _>(2),
                "artist_id": r.get::<Option<i64>, _>(10),
                "media_type_id": r.get::<i64, _>(3),
                "genre_id": r.get::<Option<i64>, _>(4),
                "composer": r.get::<Option<String>, _>(5),
                "milliseconds": r.get::<i64, _>(6),
                "bytes": r.get::<Option<i64>, _>(7),
                "unit_price": format!("{}.{:02}", cents / 100, cents % 100),
                "popularity": r.get::<i64, _>(9),
            });
            (format!("/api/v1/tracks/{id}"), body)
        })
        .collect();
    expect_all(&app, expected).await;
}

#[tokio::test]
async fn track_1_is_for_those_about_to_rock() {
    let app = TestApp::spawn().await;
    let (status, track) = app.get_json("/api/v1/tracks/1").await;
    assert_eq!(status, 200);
    assert_eq!(track["name"], "For Those About To Rock (We Salute You)");
    assert_eq!(track["unit_price"], "0.99");
}

#[tokio::test]
async fn missing_and_malformed_ids_are_problems() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/v1/tracks/0",
        "/api/v1/tracks/-1",
        "/api/v1/tracks/3504",
        "/api/v1/artists/9223372036854775807",
        "/api/v1/media-types/6",
    ] {
        let problem = assert_problem(app.get(path).await.unwrap(), 404).await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .starts_with("there is no"),
            "{path}"
        );
    }
    for path in [
        "/api/v1/tracks/abc",
        "/api/v1/tracks/1.5",
        "/api/v1/albums/99999999999999999999999",
        "/api/v1/genres/%20",
    ] {
        assert_problem(app.get(path).await.unwrap(), 400).await;
    }
}

async fn index_origin(app: &TestApp) -> String {
    let (status, health) = app.get_json("/health").await;
    assert_eq!(status, 200, "{health}");
    assert!(health["index"]["report"]["documents"].as_u64().unwrap() >= 4173);
    health["index"]["report"]["origin"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_index_is_reused_when_current_and_rebuilt_when_not() {
    let app = TestApp::spawn_on(TestDatabase::chinook_unindexed().await, |_| {}).await;
    assert_eq!(index_origin(&app).await, "built");

    let database = app.stop_keeping_database().await;
    let app = TestApp::spawn_on(database, |_| {}).await;
    assert_eq!(index_origin(&app).await, "reused");

    // A catalog write moves the version on; the next start rebuilds.
    sqlx::query("UPDATE catalog_meta SET value = '2' WHERE key = 'catalog_version'")
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let database = app.stop_keeping_database().await;
    let app = TestApp::spawn_on(database, |_| {}).await;
    assert_eq!(index_origin(&app).await, "built");

    // So does a new schema version.
    let stamp_path = app.state.config.data_dir.join("index/chinook-index.json");
    let mut stamp: Value = serde_json::from_slice(&std::fs::read(&stamp_path).unwrap()).unwrap();
    stamp["schema_version"] = json!(0);
    std::fs::write(&stamp_path, stamp.to_string()).unwrap();
    let database = app.stop_keeping_database().await;
    let app = TestApp::spawn_on(database, |_| {}).await;
    assert_eq!(index_origin(&app).await, "built");
    let (status, _) = app.get_json("/api/v1/tracks/1").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_damaged_index_is_rebuilt() {
    let app = TestApp::spawn().await;
    let data_dir = app.state.config.data_dir.clone();
    let database = app.stop_keeping_database().await;
    std::fs::write(data_dir.join("index/meta.json"), b"{ not tantivy").unwrap();
    let app = TestApp::spawn_on(database, |_| {}).await;
    assert_eq!(index_origin(&app).await, "built");
    let (status, track) = app.get_json("/api/v1/tracks/3503").await;
    assert_eq!(status, 200);
    assert_eq!(track["id"], 3503);
}
