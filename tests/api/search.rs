//! Search: typos, accents, prefixes, ranking, filters, facets, pages and hostile input.

use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::{assert_problem, TestApp};

async fn search(app: &TestApp, query: &[(&str, &str)]) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/search"))
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn name(hit: &Value) -> String {
    let item = &hit["item"];
    item["name"]
        .as_str()
        .or(item["title"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_typo_still_finds_metallica() {
    let app = TestApp::spawn().await;
    let results = search(&app, &[("q", "metalica")]).await;
    assert_eq!(results["data"][0]["type"], "artist");
    assert_eq!(name(&results["data"][0]), "Metallica");
    // Two edits are forgiven from eight letters on.
    let results = search(&app, &[("q", "metalllicaa"), ("type", "artist")]).await;
    assert_eq!(name(&results["data"][0]), "Metallica");
}

#[tokio::test]
async fn accents_and_case_are_folded() {
    let app = TestApp::spawn().await;
    let results = search(&app, &[("q", "vinicius de moraes"), ("type", "artist")]).await;
    assert!(
        results["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| name(h) == "Vinícius De Moraes"),
        "{results}"
    );
    let results = search(&app, &[("q", "JOAO gilberto"), ("type", "artist")]).await;
    assert_eq!(name(&results["data"][0]), "João Gilberto");
}

#[tokio::test]
async fn the_last_word_completes_as_a_prefix() {
    let app = TestApp::spawn().await;
    let results = search(&app, &[("q", "metall"), ("type", "artist")]).await;
    assert!(results["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| name(h) == "Metallica"));
    let suggestions = app.get_json("/api/v1/search/suggest?q=metal").await.1;
    let names: Vec<&str> = suggestions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Metallica"), "{names:?}");
    assert!(names.len() <= 8);
}

#[tokio::test]
async fn a_track_name_match_ranks_first_and_is_highlighted() {
    let app = TestApp::spawn().await;
    let results = search(&app, &[("q", "for those about to rock")]).await;
    let first = &results["data"][0];
    assert_eq!(first["type"], "track");
    assert_eq!(first["item"]["id"], 1);
    assert!(
        first["highlight"].as_str().unwrap().contains("<b>Rock</b>"),
        "{first}"
    );
}

#[tokio::test]
async fn a_highlight_is_the_whole_name_with_what_is_around_the_matches() {
    let app = TestApp::spawn().await;
    let results = search(&app, &[("q", "rock in rio"), ("type", "album")]).await;
    let hit = results["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|hit| hit["item"]["title"] == "Rock In Rio [CD1]")
        .unwrap_or_else(|| panic!("the album is found: {results}"));
    assert_eq!(
        hit["highlight"], "<b>Rock</b> <b>In</b> <b>Rio</b> [CD1]",
        "{hit}"
    );
}

#[tokio::test]
async fn type_and_catalog_filters_narrow_the_results() {
    let app = TestApp::spawn().await;
    let artists = search(&app, &[("q", "rock"), ("type", "artist")]).await;
    assert!(artists["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["type"] == "artist"));
    let tracks = search(
        &app,
        &[
            ("q", "love"),
            ("genre", "1"),
            ("max_price", "0.99"),
            ("limit", "100"),
        ],
    )
    .await;
    let hits = tracks["data"].as_array().unwrap();
    assert!(!hits.is_empty());
    for hit in hits {
        assert_eq!(hit["type"], "track");
        assert_eq!(hit["item"]["genre_id"], 1);
        assert_eq!(hit["item"]["unit_price"], "0.99");
    }
}

#[tokio::test]
async fn facets_count_the_whole_result_and_pages_cover_it_once() {
    let app = TestApp::spawn().await;
    let first = search(&app, &[("q", "love"), ("type", "track"), ("limit", "10")]).await;
    let total = first["total"].as_u64().unwrap() as usize;
    assert!(total > 10, "{total}");
    let genre_sum: u64 = first["facets"]["genre"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    assert_eq!(genre_sum as usize, total);
    let price_sum: u64 = first["facets"]["unit_price"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    assert_eq!(price_sum as usize, total);
    assert!(first["facets"]["genre"][0]["name"].is_string());

    let mut seen = HashSet::new();
    let mut page = first;
    loop {
        for hit in page["data"].as_array().unwrap() {
            assert!(
                seen.insert(hit["item"]["id"].as_i64().unwrap()),
                "a hit came twice"
            );
        }
        let Some(cursor) = page["page"]["next_cursor"].as_str() else {
            break;
        };
        page = search(
            &app,
            &[
                ("q", "love"),
                ("type", "track"),
                ("limit", "10"),
                ("cursor", cursor),
            ],
        )
        .await;
    }
    assert_eq!(seen.len(), total);
}

#[tokio::test]
async fn hostile_queries_are_searched_as_text_or_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let encode = |q: &str| url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>();
    // Parentheses are legal in a query string, so the nesting goes over the wire as is.
    let nested = format!("{}rock{}", "(".repeat(10_000), ")".repeat(10_000));
    let mut queries: Vec<String> = [
        "title:rock AND name:roll OR NOT -jazz",
        "\"unbalanced quote",
        "rock\"\"\"\"",
        ".*[a-z]+(?:x|y){2,}\\\\",
        "*",
        "rock^10 roll~",
        "\u{0}\u{1b}[31mred\u{7}",
        "'; DROP TABLE track; --",
        "ロック",
        &"rock~2 ".repeat(500),
        &"a".repeat(20_000),
    ]
    .iter()
    .map(|q| encode(q))
    .collect();
    queries.push(nested);
    for q in &queries {
        let response = app.get(&format!("/api/v1/search?q={q}")).await.unwrap();
        let status = response.status().as_u16();
        let shown: String = q.chars().take(40).collect();
        if status == 400 {
            let problem = assert_problem(response, 400).await;
            assert!(
                problem["detail"].as_str().unwrap().starts_with("q "),
                "{shown}: {problem}"
            );
        } else {
            assert_eq!(status, 200, "{shown}");
        }
    }
    // Still serving.
    assert_eq!(
        search(&app, &[("q", "metallica")]).await["data"][0]["type"],
        "artist"
    );
}

#[tokio::test]
async fn bad_search_parameters_are_400() {
    let app = TestApp::spawn().await;
    for (path, says) in [
        ("/api/v1/search", "q is required"),
        ("/api/v1/search?q=", "at least one letter"),
        ("/api/v1/search?q=%20%2C%2C", "at least one letter"),
        ("/api/v1/search?q=rock&type=song", "type `song`"),
        ("/api/v1/search?q=rock&limit=0", "limit"),
        ("/api/v1/search?q=rock&cursor=forged.cursor", "cursor"),
        ("/api/v1/search?q=rock&genre=metal", "genre"),
        ("/api/v1/search?q=rock&sort=name", "unknown field `sort`"),
        ("/api/v1/search/suggest?q=rock&limit=50", "limit"),
    ] {
        let problem = assert_problem(app.get(path).await.unwrap(), 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{path}: {problem}"
        );
    }
}

#[tokio::test]
async fn hits_embed_their_album_and_artist_when_asked_and_an_unknown_include_is_a_400() {
    let app = TestApp::spawn().await;
    let body = search(
        &app,
        &[("q", "balls to the wall"), ("include", "album,artist")],
    )
    .await;
    let hits = body["data"].as_array().unwrap();
    let track = hits
        .iter()
        .find(|h| h["type"] == "track" && h["item"]["id"] == 2)
        .expect("track 2 is found");
    assert_eq!(track["item"]["album"]["title"], "Balls to the Wall");
    assert_eq!(track["item"]["album"]["id"], track["item"]["album_id"]);
    assert_eq!(track["item"]["artist"]["name"], "Accept");
    let album = hits
        .iter()
        .find(|h| h["type"] == "album" && h["item"]["id"] == 2)
        .expect("album 2 is found");
    assert_eq!(album["item"]["artist"]["name"], "Accept");
    assert!(
        album["item"].get("album").is_none(),
        "an album has no album"
    );

    let plain = search(&app, &[("q", "balls to the wall")]).await;
    assert!(plain["data"][0]["item"].get("artist").is_none());

    let wrong = app
        .get("/api/v1/search?q=wall&include=genre")
        .await
        .unwrap();
    let problem = assert_problem(wrong, 400).await;
    assert!(problem["detail"].as_str().unwrap().contains("genre"));
    let suggest = app
        .get("/api/v1/search/suggest?q=wall&include=album")
        .await
        .unwrap();
    assert_problem(suggest, 400).await;
}
