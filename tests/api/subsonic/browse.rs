//! Browsing, lists and search answer what SQL says: album song order, genre counts, the
//! artist index, folder directories, album lists walked by offset, and a full empty-query
//! sync of every song.

use std::collections::{BTreeMap, HashSet};

use super::{ids, ok, password, spawn, OWNER};
use crate::helpers::TestApp;

async fn scalar_ids(app: &TestApp, sql: &str) -> Vec<i64> {
    sqlx::query_scalar(sql)
        .fetch_all(app.state.db.reader())
        .await
        .unwrap()
}

fn numbers(ids: &[String]) -> Vec<i64> {
    ids.iter()
        .map(|id| id.split_once('-').unwrap().1.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn albums_list_their_songs_in_album_order() {
    let app = spawn().await;
    let auth = password(OWNER);
    for album in [1, 2, 23, 141] {
        let id = format!("al-{album}");
        let answer = ok(&app, "getAlbum", &auth, &[("id", &id)]).await;
        let songs = &answer["album"]["song"];
        let expected = scalar_ids(
            &app,
            &format!("SELECT track_id FROM track WHERE album_id = {album} ORDER BY track_id"),
        )
        .await;
        assert_eq!(numbers(&ids(songs)), expected, "album {album}");
        assert_eq!(
            answer["album"]["songCount"].as_u64().unwrap() as usize,
            expected.len()
        );
        for (i, song) in songs.as_array().unwrap().iter().enumerate() {
            assert_eq!(song["track"], i + 1);
            assert_eq!(song["albumId"], id.as_str());
            assert_eq!(song["isDir"], false);
        }
        let seconds: i64 = sqlx::query_scalar(&format!(
            "SELECT CAST(SUM(milliseconds) / 1000 AS BIGINT) FROM track WHERE album_id = {album}"
        ))
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
        let duration = answer["album"]["duration"].as_i64().unwrap();
        assert!(
            (duration - seconds).abs() <= 1,
            "album {album}: {duration} vs {seconds}"
        );
    }
    let song = ok(&app, "getSong", &auth, &[("id", "tr-1")]).await;
    assert_eq!(
        song["song"]["title"],
        "For Those About To Rock (We Salute You)"
    );
    assert_eq!(song["song"]["artist"], "AC/DC");
    assert_eq!(song["song"]["genre"], "Rock");
}

#[tokio::test]
async fn genres_count_songs_and_albums_as_sql_does() {
    let app = spawn().await;
    let answer = ok(&app, "getGenres", &password(OWNER), &[]).await;
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT g.name, COUNT(t.track_id), COUNT(DISTINCT t.album_id) FROM genre g \
         JOIN track t ON t.genre_id = g.genre_id GROUP BY g.name",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap();
    let expected: BTreeMap<String, (i64, i64)> =
        rows.into_iter().map(|(n, s, a)| (n, (s, a))).collect();
    let got: BTreeMap<String, (i64, i64)> = answer["genres"]["genre"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["songCount"].as_i64().unwrap() > 0)
        .map(|g| {
            (
                g["value"].as_str().unwrap().to_string(),
                (
                    g["songCount"].as_i64().unwrap(),
                    g["albumCount"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn the_artist_index_and_directories_cover_the_catalog() {
    let app = spawn().await;
    let auth = password(OWNER);
    let artists = ok(&app, "getArtists", &auth, &[]).await;
    let mut listed = Vec::new();
    for letter in artists["artists"]["index"].as_array().unwrap() {
        listed.extend(numbers(&ids(&letter["artist"])));
    }
    listed.sort_unstable();
    assert_eq!(
        listed,
        scalar_ids(&app, "SELECT artist_id FROM artist ORDER BY artist_id").await
    );
    let indexes = ok(&app, "getIndexes", &auth, &[]).await;
    assert_eq!(indexes["indexes"]["index"], artists["artists"]["index"]);
    // Nothing changed since: the artists are left out.
    let modified = indexes["indexes"]["lastModified"].as_i64().unwrap();
    let since = (modified + 1).to_string();
    let unchanged = ok(&app, "getIndexes", &auth, &[("ifModifiedSince", &since)]).await;
    assert!(unchanged["indexes"]["index"].as_array().unwrap().is_empty());

    // Folder-style: artist → albums → songs.
    let dir = ok(&app, "getMusicDirectory", &auth, &[("id", "ar-22")]).await;
    let albums = numbers(&ids(&dir["directory"]["child"]));
    let mut sorted = albums.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        scalar_ids(
            &app,
            "SELECT album_id FROM album WHERE artist_id = 22 ORDER BY album_id"
        )
        .await
    );
    assert!(dir["directory"]["child"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["isDir"] == true));
    let album = format!("al-{}", albums[0]);
    let songs = ok(&app, "getMusicDirectory", &auth, &[("id", &album)]).await;
    assert_eq!(
        numbers(&ids(&songs["directory"]["child"])),
        scalar_ids(
            &app,
            &format!(
                "SELECT track_id FROM track WHERE album_id = {} ORDER BY track_id",
                albums[0]
            )
        )
        .await
    );
    let artist = ok(&app, "getArtist", &auth, &[("id", "ar-22")]).await;
    assert_eq!(artist["artist"]["name"], "Led Zeppelin");
    assert_eq!(
        artist["artist"]["albumCount"].as_u64().unwrap() as usize,
        albums.len()
    );
}

/// Every album of a list type, walked in pages by offset.
async fn walk(app: &TestApp, kind: &str, size: usize) -> Vec<i64> {
    let auth = password(OWNER);
    let mut all = Vec::new();
    loop {
        let offset = all.len().to_string();
        let size = size.to_string();
        let page = ok(
            app,
            "getAlbumList2",
            &auth,
            &[("type", kind), ("size", &size), ("offset", &offset)],
        )
        .await;
        let got = numbers(&ids(&page["albumList2"]["album"]));
        if got.is_empty() {
            return all;
        }
        all.extend(got);
    }
}

#[tokio::test]
async fn album_lists_page_by_offset_through_every_album_once() {
    let app = spawn().await;
    let every = scalar_ids(&app, "SELECT album_id FROM album ORDER BY album_id").await;
    let newest = walk(&app, "newest", 50).await;
    let mut descending = every.clone();
    descending.reverse();
    assert_eq!(newest, descending);
    for kind in ["alphabeticalByName", "alphabeticalByArtist"] {
        let walked = walk(&app, kind, 40).await;
        assert_eq!(walked.len(), every.len(), "{kind}");
        let unique: HashSet<i64> = walked.iter().copied().collect();
        assert_eq!(unique.len(), every.len(), "{kind} repeats albums");
        // A jump straight to a far offset (no recorded cursor on a fresh app) agrees.
        let fresh = spawn().await;
        let far = ok(
            &fresh,
            "getAlbumList2",
            &password(OWNER),
            &[("type", kind), ("size", "7"), ("offset", "301")],
        )
        .await;
        assert_eq!(
            numbers(&ids(&far["albumList2"]["album"])),
            walked[301..308].to_vec(),
            "{kind}"
        );
    }
    let jazz = ok(
        &app,
        "getAlbumList2",
        &password(OWNER),
        &[("type", "byGenre"), ("genre", "jazz"), ("size", "500")],
    )
    .await;
    assert_eq!(
        numbers(&ids(&jazz["albumList2"]["album"])),
        scalar_ids(&app, "SELECT DISTINCT t.album_id FROM track t JOIN genre g ON g.genre_id = t.genre_id WHERE g.name = 'Jazz' ORDER BY t.album_id").await
    );
    let random = ok(
        &app,
        "getAlbumList2",
        &password(OWNER),
        &[("type", "random"), ("size", "20")],
    )
    .await;
    let random: HashSet<i64> = numbers(&ids(&random["albumList2"]["album"]))
        .into_iter()
        .collect();
    assert_eq!(random.len(), 20);
    let years = ok(
        &app,
        "getAlbumList2",
        &password(OWNER),
        &[("type", "byYear"), ("fromYear", "1990"), ("toYear", "2000")],
    )
    .await;
    assert!(years["albumList2"]["album"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn an_empty_query_syncs_every_song_in_pages() {
    let app = spawn().await;
    let auth = password(OWNER);
    let mut songs = Vec::new();
    loop {
        let offset = songs.len().to_string();
        let page = ok(
            &app,
            "search3",
            &auth,
            &[
                ("query", "\"\""),
                ("songCount", "500"),
                ("songOffset", &offset),
                ("artistCount", "0"),
                ("albumCount", "0"),
            ],
        )
        .await;
        let got = numbers(&ids(&page["searchResult3"]["song"]));
        if got.is_empty() {
            break;
        }
        songs.extend(got);
    }
    assert_eq!(
        songs,
        scalar_ids(&app, "SELECT track_id FROM track ORDER BY track_id").await
    );
    let artists = ok(
        &app,
        "search3",
        &auth,
        &[
            ("query", ""),
            ("artistCount", "500"),
            ("albumCount", "0"),
            ("songCount", "0"),
        ],
    )
    .await;
    assert_eq!(
        numbers(&ids(&artists["searchResult3"]["artist"])),
        scalar_ids(&app, "SELECT artist_id FROM artist ORDER BY artist_id").await
    );
}

#[tokio::test]
async fn search_tolerates_typos() {
    let app = spawn().await;
    let found = ok(&app, "search3", &password(OWNER), &[("query", "metalica")]).await;
    let artists: Vec<&str> = found["searchResult3"]["artist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(artists.contains(&"Metallica"), "{artists:?}");
    let by_genre = ok(
        &app,
        "getSongsByGenre",
        &password(OWNER),
        &[("genre", "Blues"), ("count", "500")],
    )
    .await;
    assert_eq!(
        numbers(&ids(&by_genre["songsByGenre"]["song"])),
        scalar_ids(&app, "SELECT t.track_id FROM track t JOIN genre g ON g.genre_id = t.genre_id WHERE g.name = 'Blues' ORDER BY t.track_id").await
    );
    let top = ok(
        &app,
        "getTopSongs",
        &password(OWNER),
        &[("artist", "Iron Maiden"), ("count", "5")],
    )
    .await;
    assert_eq!(top["topSongs"]["song"].as_array().unwrap().len(), 5);
    assert!(top["topSongs"]["song"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["artist"] == "Iron Maiden"));
}
