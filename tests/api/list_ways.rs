//! A list reads the index one of two ways, walking the order or ranking a filter's matches;
//! whichever it takes, and however many segments the index has, it agrees with SQL.

use std::collections::HashSet;

use chinook::catalog::Kind;
use chinook::model::sort_key;
use chinook::search::{Budget, ListRequest, ListTuning, SortField};
use serde_json::json;

use crate::helpers::{chinook, TestApp, TestDatabase, DEMO_PASSWORD};
use crate::lists::{all_pages, ids, ordered, tracks_from_sql, TrackRow};
use crate::taxonomy::{tracks_of_genres, ROCK};

const ADMIN: &str = "andrew@chinookcorp.com";

type Filter = fn(&TrackRow, &HashSet<i64>) -> bool;

/// Filters and what SQL keeps of them; the set holds the tracks of the rock term's genres.
const FILTERS: [(&str, Filter); 9] = [
    ("genre=1", |r, _| r.genre_id == Some(1)),
    ("media_type=2", |r, _| r.media_type_id == 2),
    ("min_ms=200000&max_price=1", |r, _| {
        r.milliseconds >= 200_000 && r.cents <= 100
    }),
    ("genre=1&media_type=1&min_ms=250000", |r, _| {
        r.genre_id == Some(1) && r.media_type_id == 1 && r.milliseconds >= 250_000
    }),
    ("taxonomy=genre:rock&max_ms=300000", |r, rock| {
        rock.contains(&r.id) && r.milliseconds <= 300_000
    }),
    // A genre of few tracks is read from its own matches, its range checked per track.
    ("genre=24&min_ms=150000", |r, _| {
        r.genre_id == Some(24) && r.milliseconds >= 150_000
    }),
    // A range few tracks fall in (the long ones), whichever way is asked for.
    ("min_ms=1000000", |r, _| r.milliseconds >= 1_000_000),
    // Two ranges, the second the narrower: a scan reads that one's tracks first.
    ("min_price=0.99&min_ms=1000000", |r, _| {
        r.cents >= 99 && r.milliseconds >= 1_000_000
    }),
    // The narrower range starts at 0, where tracks without a length would rank too.
    ("max_price=2&max_ms=100000", |r, _| {
        r.cents <= 200 && r.milliseconds <= 100_000
    }),
];

/// Each way a filtered list can take, forced by its tuning.
const WAYS: [(&str, ListTuning); 4] = [
    (
        "walks",
        ListTuning {
            scan_at_most: 0,
            walk_at_most: usize::MAX,
            walk_per_scan: 0,
        },
    ),
    (
        "scans",
        ListTuning {
            scan_at_most: u64::MAX,
            walk_at_most: 0,
            walk_per_scan: 0,
        },
    ),
    (
        "walks, then gives up and scans",
        ListTuning {
            scan_at_most: 0,
            walk_at_most: 150,
            walk_per_scan: 0,
        },
    ),
    (
        "walks as far as the filter's width allows, then scans",
        ListTuning {
            scan_at_most: 0,
            walk_at_most: usize::MAX,
            walk_per_scan: 1,
        },
    ),
];

fn expected(rows: &[TrackRow], keep: impl Fn(&TrackRow) -> bool, sort: &str) -> Vec<i64> {
    let rows: Vec<&TrackRow> = rows.iter().filter(|r| keep(r)).collect();
    let descending = sort.starts_with('-');
    let key = |r: &&TrackRow| -> (u64, String, i64) {
        match sort.trim_start_matches('-') {
            "name" => (0, sort_key(&r.name), r.id),
            "milliseconds" => (r.milliseconds as u64, String::new(), r.id),
            "unit_price" => (r.cents as u64, String::new(), r.id),
            "popularity" => (r.units as u64, String::new(), r.id),
            _ => (r.id as u64, String::new(), r.id),
        }
    };
    let mut keyed: Vec<((u64, String, i64), i64)> = rows.iter().map(|r| (key(r), r.id)).collect();
    keyed.sort();
    if descending {
        keyed.reverse();
    }
    keyed.into_iter().map(|(_, id)| id).collect()
}

/// Renames and reprices a track through the admin API: a segment of its own, and the old
/// document left deleted behind.
async fn change_track(app: &TestApp, token: &str, id: i64, name: &str, price: &str) {
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/admin/tracks/{id}")))
        .bearer_auth(token)
        .json(&json!({"name": name, "unit_price": price}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn every_sort_and_filter_agrees_with_sql_whichever_way_and_across_segments() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    // Each write commits a segment of its own and leaves the old document deleted behind.
    for (id, name, price) in [
        (1, "Zzz Last Of All", "1.49"),
        (2, "Aaa First", "0.49"),
        (3500, "Mm Middle", "2.99"),
    ] {
        change_track(&app, &token, id, name, price).await;
    }
    let index = app.state.catalog().unwrap();
    assert!(index.segments() > 1, "the writes made segments");
    let rows = tracks_from_sql(&app).await;
    let rock: HashSet<i64> = tracks_of_genres(&app, ROCK).await.into_iter().collect();

    let sorts = [
        "id",
        "-id",
        "name",
        "-name",
        "milliseconds",
        "-milliseconds",
        "unit_price",
        "-unit_price",
        "popularity",
        "-popularity",
    ];
    for sort in sorts {
        let listed = all_pages(&app, &format!("/api/v1/tracks?sort={sort}&fields=id")).await;
        assert_eq!(ids(&listed), expected(&rows, |_| true, sort), "sort={sort}");
    }
    for (way, tuning) in WAYS {
        index.set_list_tuning(tuning);
        for (filter, keep) in FILTERS {
            // -milliseconds and -unit_price with genre=1 walk that genre's own order.
            for sort in [
                "name",
                "-name",
                "-popularity",
                "milliseconds",
                "-milliseconds",
                "-unit_price",
                "-id",
            ] {
                let path = format!("/api/v1/tracks?{filter}&sort={sort}&fields=id");
                let listed = all_pages(&app, &path).await;
                let wanted = expected(&rows, |r| keep(r, &rock), sort);
                assert_eq!(ids(&listed), wanted, "{way}: {path}");
            }
        }
    }
    // The name order of every other kind, both ways round, against the SQL order.
    index.set_list_tuning(ListTuning::default());
    let names = |r: &TrackRow| sort_key(&r.name);
    assert_eq!(
        ids(&all_pages(&app, "/api/v1/tracks?sort=-name&fields=id").await),
        ordered(&rows, names, true)
    );
}

#[tokio::test]
async fn a_far_offset_of_an_unfiltered_list_is_found_by_counting_terms_across_segments_and_deletions(
) {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    // Renames move entries within the name order and leave deleted documents behind, each in
    // a segment of its own.
    for (id, name) in [
        (7, "Aaa Moved First"),
        (2000, "Zzz Moved Last"),
        (3000, "Mmm Middle"),
    ] {
        change_track(&app, &token, id, name, "1.99").await;
    }
    let index = app.state.catalog().unwrap();
    assert!(index.segments() > 1, "the writes made segments");
    for (sort, descending, param) in [
        (SortField::Name, false, "name"),
        (SortField::Name, true, "-name"),
        (SortField::Id, false, "id"),
        (SortField::Id, true, "-id"),
        (SortField::Price, true, "-unit_price"),
        (SortField::Milliseconds, false, "milliseconds"),
    ] {
        let whole = ids(&all_pages(&app, &format!("/api/v1/tracks?sort={param}&fields=id")).await);
        let request = ListRequest {
            limit: 5,
            ..ListRequest::unfiltered(Kind::Track, sort, descending)
        };
        for n in [1, 2, 999, 1500, 2001, 3499, 3502, 3503, 10_000] {
            // No position is the list's start.
            let (position, cursor) = match index.position(&request, n).unwrap() {
                Some((position, cursor)) => (position, Some(cursor)),
                None => (0, None),
            };
            let last = whole.len() as u64 - 1;
            // Short of `n` by at most the other segments' entries between two of the largest
            // one's: with two build segments, about one.
            assert!(
                position <= n.min(last) && n.min(last) - position <= 64,
                "sort={param}: {n} was placed at {position}"
            );
            let page = index
                .list(
                    &ListRequest {
                        after: cursor,
                        ..request.clone()
                    },
                    &Budget::unlimited(),
                )
                .unwrap();
            let listed: Vec<i64> = page
                .items
                .iter()
                .map(|item| {
                    serde_json::from_str::<serde_json::Value>(item).unwrap()["id"]
                        .as_i64()
                        .unwrap()
                })
                .collect();
            let at = position as usize;
            let wanted = &whole[at..(at + 5).min(whole.len())];
            assert_eq!(
                listed, wanted,
                "sort={param}: the entries from position {position}"
            );
        }
    }
    let filtered = ListRequest {
        equal: vec![("genre_id", 1)],
        limit: 5,
        ..ListRequest::unfiltered(Kind::Track, SortField::Name, false)
    };
    assert_eq!(
        index.position(&filtered, 100).unwrap(),
        None,
        "a filtered list is walked"
    );
}

/// A synthetic catalog seeded by the real command: its names repeat (so ties fall to the
/// id), its prices and popularity spread otherwise than Chinook's, it is built into
/// segments of its own, and the renames below add more and leave deleted documents behind.
#[tokio::test]
async fn a_synthetic_catalog_in_several_segments_lists_as_sql_does() {
    let database = TestDatabase::empty().await;
    let seeded = chinook(&database)
        .args(["seed", "--synthetic", "--tracks", "6000"])
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let app = TestApp::spawn_on(database, |_| {}).await;
    let admin: String = sqlx::query_scalar(
        "SELECT email FROM account WHERE role = 'admin' ORDER BY account_id LIMIT 1",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    let token = app.login(&admin, DEMO_PASSWORD).await;
    for (id, name, price) in [
        (1, "Zzz Last Of All", "1.49"),
        (3000, "Aaa First", "0.49"),
        (5999, "Mm Middle", "2.99"),
    ] {
        change_track(&app, &token, id, name, price).await;
    }
    let index = app.state.catalog().unwrap();
    assert!(index.segments() > 1, "the writes made segments");
    let rows = tracks_from_sql(&app).await;
    assert_eq!(rows.len(), 6000);
    let names: HashSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert!(names.len() < rows.len(), "some names repeat");
    let rock: HashSet<i64> = tracks_of_genres(&app, ROCK).await.into_iter().collect();
    for (filter, keep) in FILTERS {
        let kept = rows.iter().filter(|r| keep(r, &rock)).count();
        assert!(kept > 0 && kept < rows.len(), "{filter} keeps {kept}");
    }

    for sort in [
        "name",
        "-name",
        "-popularity",
        "unit_price",
        "-milliseconds",
    ] {
        let listed = all_pages(&app, &format!("/api/v1/tracks?sort={sort}&fields=id")).await;
        assert_eq!(ids(&listed), expected(&rows, |_| true, sort), "sort={sort}");
    }
    // The plain walk and the scan; the mixed ways are the Chinook test's.
    for (way, tuning) in &WAYS[..2] {
        index.set_list_tuning(*tuning);
        for (filter, keep) in FILTERS {
            for sort in ["name", "-name", "-popularity", "-milliseconds"] {
                let path = format!("/api/v1/tracks?{filter}&sort={sort}&fields=id");
                let listed = all_pages(&app, &path).await;
                let wanted = expected(&rows, |r| keep(r, &rock), sort);
                assert_eq!(ids(&listed), wanted, "{way}: {path}");
            }
        }
    }
}
