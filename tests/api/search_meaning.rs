//! Search finds what people mean: names typed joined or split, `&`/`and`/`n'` alike, the best
//! partial match when no entry has every word, "did you mean", and ties ranked by id.

use serde_json::Value;

use crate::helpers::TestApp;

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

fn first(results: &Value) -> (String, String) {
    let hit = &results["data"][0];
    (
        hit["type"].as_str().unwrap_or_default().to_string(),
        hit["item"]["name"].as_str().unwrap_or_default().to_string(),
    )
}

fn hits(results: &Value) -> Vec<(String, i64)> {
    results["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["type"].as_str().unwrap().to_string(),
                h["item"]["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_name_typed_without_its_spaces_or_punctuation_is_found() {
    let app = TestApp::spawn().await;
    for (typed, artist) in [
        ("acdc", "AC/DC"),
        ("ledzeppelin", "Led Zeppelin"),
        ("gunsnroses", "Guns N' Roses"),
        ("deeppurple", "Deep Purple"),
    ] {
        let results = search(&app, &[("q", typed)]).await;
        assert_eq!(first(&results), ("artist".into(), artist.into()), "{typed}");
        assert_eq!(results["dropped_words"], serde_json::json!([]), "{typed}");
        assert!(results["did_you_mean"].is_null(), "{typed}: {results}");
    }
}

#[tokio::test]
async fn a_name_typed_as_two_words_is_found() {
    let app = TestApp::spawn().await;
    for (typed, artist) in [("white snake", "Whitesnake"), ("motor head", "Motörhead")] {
        let results = search(&app, &[("q", typed), ("type", "artist")]).await;
        assert_eq!(first(&results), ("artist".into(), artist.into()), "{typed}");
    }
}

#[tokio::test]
async fn ampersand_and_and_n_apostrophe_are_the_same_word() {
    let app = TestApp::spawn().await;
    let spellings = [
        "guns n' roses",
        "guns & roses",
        "guns and roses",
        "Guns N Roses",
    ];
    let mut answers = Vec::new();
    for typed in spellings {
        let results = search(&app, &[("q", typed), ("limit", "50")]).await;
        assert_eq!(first(&results), ("artist".into(), "Guns N' Roses".into()));
        assert_eq!(
            results["matched_words"],
            serde_json::json!(["guns", "and", "roses"])
        );
        answers.push((results["total"].clone(), hits(&results)));
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );
    // The same holds inside names: "Rock & Roll" and "Rock 'N' Roll Music" answer both.
    let results = search(&app, &[("q", "rock n roll"), ("type", "track")]).await;
    let names: Vec<&str> = results["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["item"]["name"].as_str())
        .collect();
    assert!(names.contains(&"Rock & Roll"), "{names:?}");
    assert!(names.contains(&"Rock 'N' Roll Music"), "{names:?}");
}

#[tokio::test]
async fn when_no_entry_has_every_word_the_word_matching_least_is_dropped() {
    let app = TestApp::spawn().await;
    let whole = search(&app, &[("q", "metallica")]).await;
    let partial = search(&app, &[("q", "metallica xyzzyq")]).await;
    assert_eq!(partial["matched_words"], serde_json::json!(["metallica"]));
    assert_eq!(partial["dropped_words"], serde_json::json!(["xyzzyq"]));
    assert_eq!(partial["total"], whole["total"]);
    assert_eq!(hits(&partial), hits(&whole));
    // Of two words that each match, the rarer goes: "iron" matches more than "xyzzyq".
    let results = search(&app, &[("q", "iron maiden qqqqzzz")]).await;
    assert_eq!(
        results["matched_words"],
        serde_json::json!(["iron", "maiden"])
    );
    assert_eq!(results["dropped_words"], serde_json::json!(["qqqqzzz"]));
    // A query whose words all match says so and drops nothing.
    let results = search(&app, &[("q", "iron maiden")]).await;
    assert_eq!(results["dropped_words"], serde_json::json!([]));
    assert!(results["total"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_corrected_query_says_what_it_was_read_as() {
    let app = TestApp::spawn().await;
    for (typed, meant) in [
        ("metalica", "metallica"),
        ("black sabath", "black sabbath"),
        ("red hot chili pepers", "red hot chili peppers"),
        ("ledzepelin", "led zeppelin"),
    ] {
        let results = search(&app, &[("q", typed)]).await;
        assert_eq!(results["did_you_mean"], meant, "{typed}");
    }
    for exact in ["metallica", "black sabbath", "metall"] {
        let results = search(&app, &[("q", exact)]).await;
        assert!(results["did_you_mean"].is_null(), "{exact}: {results}");
    }
}

#[tokio::test]
async fn equal_scores_rank_by_type_then_id_on_every_page() {
    let app = TestApp::spawn().await;
    let code = |kind: &str| match kind {
        "artist" => 1,
        "album" => 2,
        _ => 3,
    };
    let mut ranked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("q", "love"), ("limit", "100")];
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor));
        }
        let page = search(&app, &query).await;
        for hit in page["data"].as_array().unwrap() {
            let score = hit["score"].as_f64().unwrap();
            let kind = code(hit["type"].as_str().unwrap());
            ranked.push((score, kind, hit["item"]["id"].as_i64().unwrap()));
        }
        match page["page"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert!(ranked.len() > 100, "several pages: {}", ranked.len());
    let mut ties = 0;
    for pair in ranked.windows(2) {
        let ((s1, k1, i1), (s2, k2, i2)) = (pair[0], pair[1]);
        assert!(s1 >= s2, "scores descend: {pair:?}");
        if s1 == s2 {
            ties += 1;
            assert!(
                (k1, i1) < (k2, i2),
                "a tie ranks by type, then id: {pair:?}"
            );
        }
    }
    assert!(ties > 0, "the query has ties to check");
}
