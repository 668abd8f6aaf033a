//! Taxonomies as the public reads them: the seeded genre, format and length trees, their
//! counts, term pages, term filters on lists and search, and search facets per term, all
//! compared with SQL over the same data.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{assert_problem, TestApp};

/// Follows `next_cursor` to the end and returns every entry.
pub async fn all_pages(app: &TestApp, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{separator}limit=100");
    for _ in 0..1000 {
        let (status, body) = app.get_json(&url).await;
        assert_eq!(status, 200, "{url}: {body}");
        let data = body["data"].as_array().unwrap();
        out.extend(data.iter().cloned());
        match body["page"]["next_cursor"].as_str() {
            Some(cursor) => url = format!("{path}{separator}limit=100&cursor={cursor}"),
            None => return out,
        }
    }
    panic!("{path} never ended");
}

pub fn ids(entries: &[Value]) -> Vec<i64> {
    entries.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

/// `ids` sorted, for comparing sets of entries.
pub fn sorted_ids(entries: &[Value]) -> Vec<i64> {
    let mut ids = ids(entries);
    ids.sort_unstable();
    ids
}

pub async fn sql_ids(app: &TestApp, sql: &str) -> Vec<i64> {
    sqlx::query_scalar(sql)
        .fetch_all(app.state.db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The tracks of the named genres, by id.
pub async fn tracks_of_genres(app: &TestApp, genres: &[&str]) -> Vec<i64> {
    let names: Vec<String> = genres
        .iter()
        .map(|g| format!("'{}'", g.replace('\'', "''")))
        .collect();
    sql_ids(
        app,
        &format!(
            "SELECT t.track_id FROM track t JOIN genre g ON g.genre_id = t.genre_id \
             WHERE g.name IN ({}) ORDER BY t.track_id",
            names.join(", ")
        ),
    )
    .await
}

/// The Chinook genres filed under Rock, Rock itself included.
pub const ROCK: &[&str] = &[
    "Rock",
    "Metal",
    "Heavy Metal",
    "Alternative & Punk",
    "Alternative",
    "Rock And Roll",
];

/// A type's tree as `GET /api/v1/taxonomies?type=` serves it.
pub async fn tree(app: &TestApp, taxonomy: &str) -> Vec<Value> {
    let (status, body) = app
        .get_json(&format!("/api/v1/taxonomies?type={taxonomy}"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["type"], taxonomy);
    body["data"].as_array().unwrap().clone()
}

/// Every node of a tree, depth first, with its parent's slug.
pub fn flatten(nodes: &[Value]) -> Vec<(Value, Option<String>)> {
    fn walk(nodes: &[Value], parent: Option<&str>, out: &mut Vec<(Value, Option<String>)>) {
        for node in nodes {
            out.push((node.clone(), parent.map(str::to_string)));
            walk(
                node["children"].as_array().unwrap(),
                node["slug"].as_str(),
                out,
            );
        }
    }
    let mut out = Vec::new();
    walk(nodes, None, &mut out);
    out
}

/// Slug → parent slug, for every term of a tree.
pub fn parents(nodes: &[Value]) -> BTreeMap<String, Option<String>> {
    flatten(nodes)
        .into_iter()
        .map(|(node, parent)| (node["slug"].as_str().unwrap().to_string(), parent))
        .collect()
}

/// Slug → the slugs of the term and every term below it.
fn subtrees(nodes: &[Value]) -> HashMap<String, BTreeSet<String>> {
    let parents = parents(nodes);
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    for slug in parents.keys() {
        let mut at = Some(slug.clone());
        while let Some(term) = at {
            out.entry(term.clone()).or_default().insert(slug.clone());
            at = parents[&term].clone();
        }
    }
    out
}

fn count(node: &Value, kind: &str, which: &str) -> u64 {
    node["counts"][kind][which]
        .as_u64()
        .unwrap_or_else(|| panic!("no counts.{kind}.{which} in {node}"))
}

/// Track count per value of a track column, from SQL.
async fn tracks_per(app: &TestApp, column: &str) -> HashMap<i64, u64> {
    sqlx::query(&format!(
        "SELECT {column}, COUNT(*) FROM track WHERE {column} IS NOT NULL GROUP BY {column}"
    ))
    .fetch_all(app.state.db.reader())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1) as u64))
    .collect()
}

#[tokio::test]
async fn the_seeded_taxonomy_types_are_listed_with_their_term_counts() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_json("/api/v1/taxonomies").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"data": [
            {"type": "format", "term_count": 8},
            {"type": "genre", "term_count": 26},
            {"type": "length", "term_count": 4},
        ]})
    );
    let in_sql: Vec<(String, i64)> =
        sqlx::query("SELECT type, COUNT(*) FROM taxonomy_term GROUP BY type ORDER BY type")
            .fetch_all(app.state.db.reader())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    let served: Vec<(String, i64)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["type"].as_str().unwrap().to_string(),
                t["term_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(served, in_sql);
}

#[tokio::test]
async fn the_genre_tree_files_every_chinook_genre_where_the_design_puts_it() {
    let app = TestApp::spawn().await;
    let roots = tree(&app, "genre").await;
    let nodes = flatten(&roots);
    assert_eq!(nodes.len(), 26);
    let parents = parents(&roots);
    let expected_parents = [
        ("metal", "rock"),
        ("heavy-metal", "metal"),
        ("alternative-and-punk", "rock"),
        ("alternative", "rock"),
        ("rock-and-roll", "rock"),
        ("bossa-nova", "latin"),
        ("easy-listening", "pop"),
        ("opera", "classical"),
        ("tv-shows", "tv-and-film"),
        ("drama", "tv-and-film"),
        ("comedy", "tv-and-film"),
        ("science-fiction", "tv-and-film"),
        ("sci-fi-and-fantasy", "tv-and-film"),
    ];
    for (child, parent) in expected_parents {
        assert_eq!(parents[child].as_deref(), Some(parent), "{child}");
    }
    let placed: BTreeSet<&str> = expected_parents.iter().map(|(c, _)| *c).collect();
    for (slug, parent) in &parents {
        if !placed.contains(slug.as_str()) {
            assert_eq!(parent, &None, "{slug} should be a root");
        }
    }

    // Every genre is a term named like it, with its id in meta; the group is no genre.
    let genres: Vec<(i64, String)> = sqlx::query("SELECT genre_id, name FROM genre")
        .fetch_all(app.state.db.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(genres.len(), 25);
    for (genre_id, name) in &genres {
        let matching: Vec<&Value> = nodes
            .iter()
            .map(|(n, _)| n)
            .filter(|n| n["meta"]["genre_id"] == *genre_id)
            .collect();
        assert_eq!(matching.len(), 1, "genre {genre_id}");
        assert_eq!(matching[0]["name"], name.as_str());
    }
    let by_slug: HashMap<&str, &Value> = nodes
        .iter()
        .map(|(n, _)| (n["slug"].as_str().unwrap(), n))
        .collect();
    assert_eq!(
        by_slug["alternative-and-punk"]["name"],
        "Alternative & Punk"
    );
    assert_eq!(by_slug["r-and-b-soul"]["name"], "R&B/Soul");
    assert_eq!(by_slug["rock-and-roll"]["name"], "Rock And Roll");
    let group = by_slug["tv-and-film"];
    assert_eq!(group["name"], "TV & Film");
    assert_eq!(group["meta"], json!({}));
    assert_eq!(group["parent_id"], Value::Null);
    assert_eq!(count(group, "tracks", "direct"), 0);

    // Paths, parent ids and the other fields agree with the node's place and with SQL.
    /// slug, name, parent_id, sort_order, description
    type TermRow = (String, String, Option<i64>, i64, Option<String>);
    let rows: HashMap<i64, TermRow> = sqlx::query(
        "SELECT term_id, slug, name, parent_id, sort_order, description FROM taxonomy_term \
         WHERE type = 'genre'",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))))
    .collect();
    for (node, parent) in &nodes {
        let slug = node["slug"].as_str().unwrap();
        assert_eq!(node["type"], "genre");
        let (sql_slug, sql_name, sql_parent, sql_order, sql_description) =
            &rows[&node["id"].as_i64().unwrap()];
        assert_eq!(slug, sql_slug);
        assert_eq!(node["name"], sql_name.as_str());
        assert_eq!(node["sort_order"], *sql_order);
        assert_eq!(node["description"], json!(sql_description));
        match parent {
            None => {
                assert_eq!(node["parent_id"], Value::Null);
                assert_eq!(node["path"], slug);
            }
            Some(parent) => {
                assert_eq!(node["parent_id"], by_slug[parent.as_str()]["id"]);
                assert_eq!(node["parent_id"], json!(sql_parent));
                assert_eq!(
                    node["path"],
                    format!(
                        "{}/{slug}",
                        by_slug[parent.as_str()]["path"].as_str().unwrap()
                    )
                );
            }
        }
    }
    assert_eq!(by_slug["heavy-metal"]["path"], "rock/metal/heavy-metal");

    // Roots and siblings come in (sort_order, name) order.
    let mut sibling_lists = vec![roots.clone()];
    for (node, _) in &nodes {
        sibling_lists.push(node["children"].as_array().unwrap().clone());
    }
    for siblings in sibling_lists {
        let keys: Vec<(i64, String)> = siblings
            .iter()
            .map(|n| {
                (
                    n["sort_order"].as_i64().unwrap(),
                    n["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
}

#[tokio::test]
async fn genre_counts_agree_with_the_tracks_of_each_genre_in_sql() {
    let app = TestApp::spawn().await;
    let roots = tree(&app, "genre").await;
    let per_genre = tracks_per(&app, "genre_id").await;
    let nodes = flatten(&roots);
    let by_slug: HashMap<String, Value> = nodes
        .iter()
        .map(|(n, _)| (n["slug"].as_str().unwrap().to_string(), n.clone()))
        .collect();
    let direct_of = |node: &Value| -> u64 {
        node["meta"]["genre_id"]
            .as_i64()
            .map(|g| per_genre.get(&g).copied().unwrap_or(0))
            .unwrap_or(0)
    };
    for (slug, below) in subtrees(&roots) {
        let node = &by_slug[&slug];
        assert_eq!(count(node, "tracks", "direct"), direct_of(node), "{slug}");
        let with: u64 = below.iter().map(|s| direct_of(&by_slug[s])).sum();
        assert_eq!(count(node, "tracks", "with_descendants"), with, "{slug}");
        // Nothing but tracks is filed under a seeded genre.
        for kind in ["albums", "artists"] {
            assert_eq!(count(node, kind, "direct"), 0, "{slug} {kind}");
            assert_eq!(count(node, kind, "with_descendants"), 0, "{slug} {kind}");
        }
    }
    // Rock with what is below it, counted straight from SQL.
    let rock = tracks_of_genres(&app, ROCK).await;
    assert_eq!(
        count(&by_slug["rock"], "tracks", "with_descendants"),
        rock.len() as u64
    );
    let direct_rock: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM track t JOIN genre g ON g.genre_id = t.genre_id WHERE g.name = 'Rock'",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(
        count(&by_slug["rock"], "tracks", "direct"),
        direct_rock as u64
    );
    // Each track is filed once, so the roots add up to the whole catalog.
    let total: u64 = roots
        .iter()
        .map(|r| count(r, "tracks", "with_descendants"))
        .sum();
    let tracks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM track WHERE genre_id IS NOT NULL")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(total, tracks as u64);
}

#[tokio::test]
async fn formats_and_lengths_file_every_track_once_as_sql_says() {
    let app = TestApp::spawn().await;
    let all_tracks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM track")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();

    let roots = tree(&app, "format").await;
    let root_slugs: Vec<&str> = roots.iter().map(|r| r["slug"].as_str().unwrap()).collect();
    assert_eq!(root_slugs, ["audio", "video"]);
    let parents = parents(&roots);
    assert_eq!(parents["aac"].as_deref(), Some("audio"));
    let per_media_type = tracks_per(&app, "media_type_id").await;
    let media_types: Vec<(i64, String)> = sqlx::query("SELECT media_type_id, name FROM media_type")
        .fetch_all(app.state.db.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let nodes = flatten(&roots);
    assert_eq!(nodes.len(), 3 + media_types.len());
    for (media_type_id, name) in &media_types {
        let (node, parent) = nodes
            .iter()
            .find(|(n, _)| n["meta"]["media_type_id"] == *media_type_id)
            .unwrap_or_else(|| panic!("no format term for media type {media_type_id}"));
        assert_eq!(node["name"], name.as_str());
        let lower = name.to_lowercase();
        let expected_parent = if lower.contains("video") {
            "video"
        } else if lower.contains("aac") {
            "aac"
        } else {
            "audio"
        };
        assert_eq!(parent.as_deref(), Some(expected_parent), "{name}");
        let tracks = per_media_type.get(media_type_id).copied().unwrap_or(0);
        assert_eq!(count(node, "tracks", "direct"), tracks, "{name}");
        assert_eq!(count(node, "tracks", "with_descendants"), tracks, "{name}");
    }
    let sum: u64 = roots
        .iter()
        .map(|r| count(r, "tracks", "with_descendants"))
        .sum();
    assert_eq!(sum, all_tracks as u64);

    let bands = tree(&app, "length").await;
    let slugs: Vec<&str> = bands.iter().map(|b| b["slug"].as_str().unwrap()).collect();
    assert_eq!(
        slugs,
        [
            "under-3-minutes",
            "3-to-6-minutes",
            "6-to-10-minutes",
            "over-10-minutes"
        ]
    );
    let mut sum = 0;
    for (band, (from, to)) in bands.iter().zip([
        (0, 180_000),
        (180_000, 360_000),
        (360_000, 600_000),
        (600_000, i64::MAX),
    ]) {
        assert!(band["children"].as_array().unwrap().is_empty());
        let in_sql: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM track WHERE milliseconds >= $1 AND milliseconds < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
        assert_eq!(count(band, "tracks", "direct"), in_sql as u64, "{band}");
        sum += in_sql;
    }
    assert_eq!(sum, all_tracks);
}

#[tokio::test]
async fn a_term_page_shows_its_ancestors_children_and_counts_as_the_tree_does() {
    let app = TestApp::spawn().await;
    let nodes = flatten(&tree(&app, "genre").await);
    let node = |slug: &str| {
        nodes
            .iter()
            .find(|(n, _)| n["slug"] == slug)
            .map(|(n, _)| n.clone())
            .unwrap()
    };
    let without_children = |mut node: Value| {
        node.as_object_mut().unwrap().remove("children");
        node
    };
    let without_counts = |mut node: Value| {
        node.as_object_mut().unwrap().remove("counts");
        without_children(node)
    };

    let (status, page) = app.get_json("/api/v1/taxonomies/genre/heavy-metal").await;
    assert_eq!(status, 200);
    assert_eq!(page["path"], "rock/metal/heavy-metal");
    assert_eq!(
        page["ancestors"],
        json!([without_counts(node("rock")), without_counts(node("metal"))])
    );
    assert_eq!(page["children"], json!([]));
    let mut fields = page.clone();
    fields.as_object_mut().unwrap().remove("ancestors");
    assert_eq!(
        without_children(fields),
        without_children(node("heavy-metal"))
    );

    let (status, page) = app.get_json("/api/v1/taxonomies/genre/rock").await;
    assert_eq!(status, 200);
    assert_eq!(page["ancestors"], json!([]));
    assert_eq!(page["counts"], node("rock")["counts"]);
    let children: Vec<Value> = node("rock")["children"]
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .map(without_children)
        .collect();
    assert_eq!(page["children"], json!(children));
    let child_slugs: BTreeSet<&str> = page["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        child_slugs,
        BTreeSet::from([
            "alternative",
            "alternative-and-punk",
            "metal",
            "rock-and-roll"
        ])
    );

    for path in [
        "/api/v1/taxonomies/genre/polka",
        "/api/v1/taxonomies/mood/calm",
        "/api/v1/taxonomies/genre/Rock",
        "/api/v1/taxonomies/genre/polka/tracks",
        "/api/v1/taxonomies?type=mood",
    ] {
        assert_problem(app.get(path).await.unwrap(), 404).await;
    }
}

#[tokio::test]
async fn a_terms_tracks_include_its_descendants_unless_told_otherwise() {
    let app = TestApp::spawn().await;
    let rock = tracks_of_genres(&app, ROCK).await;
    let listed = all_pages(&app, "/api/v1/taxonomies/genre/rock/tracks?fields=id").await;
    assert_eq!(ids(&listed), rock, "in id order, every rock track once");

    let direct = tracks_of_genres(&app, &["Rock"]).await;
    for path in [
        "/api/v1/taxonomies/genre/rock/tracks?descendants=false&fields=id",
        "/api/v1/tracks?genre=1&fields=id",
    ] {
        assert_eq!(ids(&all_pages(&app, path).await), direct, "{path}");
    }
    let explicit = all_pages(
        &app,
        "/api/v1/taxonomies/genre/rock/tracks?descendants=true&fields=id",
    )
    .await;
    assert_eq!(ids(&explicit), rock);

    // The group has no tracks of its own, only those of the genres below it.
    let tv = tracks_of_genres(
        &app,
        &[
            "TV Shows",
            "Drama",
            "Comedy",
            "Science Fiction",
            "Sci Fi & Fantasy",
        ],
    )
    .await;
    assert!(!tv.is_empty());
    let listed = all_pages(&app, "/api/v1/taxonomies/genre/tv-and-film/tracks").await;
    assert_eq!(ids(&listed), tv);
    let (status, page) = app
        .get_json("/api/v1/taxonomies/genre/tv-and-film/tracks?descendants=false")
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["data"], json!([]));
    assert_eq!(page["page"]["next_cursor"], Value::Null);

    // Every other list parameter works as on /tracks.
    let (status, page) = app
        .get_json(
            "/api/v1/taxonomies/genre/metal/tracks?sort=-milliseconds&limit=5&fields=id,name&include=album",
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["page"]["limit"], 5);
    let expected: Vec<i64> = sqlx::query_scalar(
        "SELECT t.track_id FROM track t JOIN genre g ON g.genre_id = t.genre_id \
         WHERE g.name IN ('Metal', 'Heavy Metal') ORDER BY t.milliseconds DESC, t.track_id DESC LIMIT 5",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap();
    let data = page["data"].as_array().unwrap();
    assert_eq!(ids(data), expected);
    for track in data {
        let mut keys: Vec<&String> = track.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["album", "id", "name"]);
    }
    let (_, same_on_tracks) = app
        .get_json(
            "/api/v1/tracks?taxonomy=genre:metal&sort=-milliseconds&limit=5&fields=id,name&include=album",
        )
        .await;
    assert_eq!(page["data"], same_on_tracks["data"]);

    let cheap_long = all_pages(
        &app,
        "/api/v1/taxonomies/genre/rock/tracks?taxonomy=length:over-10-minutes&max_price=0.99&fields=id",
    )
    .await;
    let expected = sql_ids(
        &app,
        "SELECT t.track_id FROM track t JOIN genre g ON g.genre_id = t.genre_id \
         WHERE g.name IN ('Rock', 'Metal', 'Heavy Metal', 'Alternative & Punk', 'Alternative', 'Rock And Roll') \
         AND t.milliseconds >= 600000 AND t.unit_price_cents <= 99 ORDER BY t.track_id",
    )
    .await;
    assert!(!expected.is_empty());
    assert_eq!(ids(&cheap_long), expected);

    for bad in ["maybe", "1", "yes", ""] {
        let response = app
            .get(&format!(
                "/api/v1/taxonomies/genre/rock/tracks?descendants={bad}"
            ))
            .await
            .unwrap();
        let problem = assert_problem(response, 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("descendants"),
            "{bad}: {problem}"
        );
    }
}

#[tokio::test]
async fn the_taxonomy_filter_on_tracks_takes_in_descendants_and_combines_with_other_filters() {
    let app = TestApp::spawn().await;
    let rock = tracks_of_genres(&app, ROCK).await;
    assert!(rock.len() > 100, "more than one page");
    let listed = all_pages(&app, "/api/v1/tracks?taxonomy=genre:rock&fields=id").await;
    assert_eq!(ids(&listed), rock);

    let cases: [(&str, &str); 5] = [
        (
            "taxonomy=genre:rock,length:over-10-minutes",
            "SELECT t.track_id FROM track t JOIN genre g ON g.genre_id = t.genre_id \
             WHERE g.name IN ('Rock', 'Metal', 'Heavy Metal', 'Alternative & Punk', 'Alternative', 'Rock And Roll') \
             AND t.milliseconds >= 600000 ORDER BY t.track_id",
        ),
        (
            "taxonomy=genre:tv-and-film&min_price=1.99",
            "SELECT t.track_id FROM track t JOIN genre g ON g.genre_id = t.genre_id \
             WHERE g.name IN ('TV Shows', 'Drama', 'Comedy', 'Science Fiction', 'Sci Fi & Fantasy') \
             AND t.unit_price_cents >= 199 ORDER BY t.track_id",
        ),
        (
            "taxonomy=format:aac,genre:latin",
            "SELECT t.track_id FROM track t JOIN genre g ON g.genre_id = t.genre_id \
             JOIN media_type m ON m.media_type_id = t.media_type_id \
             WHERE g.name IN ('Latin', 'Bossa Nova') AND m.name LIKE '%AAC%' ORDER BY t.track_id",
        ),
        (
            "taxonomy=format:video&genre=19",
            "SELECT t.track_id FROM track t JOIN media_type m ON m.media_type_id = t.media_type_id \
             WHERE t.genre_id = 19 AND m.name LIKE '%video%' ORDER BY t.track_id",
        ),
        (
            "taxonomy=genre:jazz,genre:rock",
            "SELECT track_id FROM track WHERE 1 = 0",
        ),
    ];
    for (query, sql) in cases {
        let expected = sql_ids(&app, sql).await;
        let listed = all_pages(&app, &format!("/api/v1/tracks?{query}&fields=id")).await;
        assert_eq!(ids(&listed), expected, "{query}");
        assert!(
            !expected.is_empty() || query.contains("jazz"),
            "{query} should find something"
        );
    }

    // A sort other than id pages through the same set.
    let by_name = all_pages(
        &app,
        "/api/v1/tracks?taxonomy=genre:rock&sort=-name&fields=id",
    )
    .await;
    assert_eq!(sorted_ids(&by_name), rock);

    // Albums and artists have no seeded terms, so the filter leaves none of them.
    for path in [
        "/api/v1/albums?taxonomy=genre:rock",
        "/api/v1/artists?taxonomy=genre:rock",
    ] {
        let (status, page) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}: {page}");
        assert_eq!(page["data"], json!([]), "{path}");
    }
}

/// The ids of the terms each track is filed under directly, from SQL.
async fn attached_terms(app: &TestApp) -> HashMap<i64, Vec<i64>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in
        sqlx::query("SELECT entity_id, term_id FROM term_attachment WHERE entity_kind = 'track'")
            .fetch_all(app.state.db.reader())
            .await
            .unwrap()
    {
        out.entry(row.get(0)).or_default().push(row.get(1));
    }
    out
}

async fn search(app: &TestApp, query: &[(&str, &str)]) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/search"))
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query:?}");
    response.json().await.unwrap()
}

/// Every hit of a search, following its cursors.
async fn all_hits(app: &TestApp, query: &[(&str, &str)]) -> (Value, Vec<Value>) {
    let mut query: Vec<(&str, String)> = query.iter().map(|(k, v)| (*k, v.to_string())).collect();
    query.push(("limit", "100".into()));
    let borrowed = |q: &[(&str, String)]| -> Vec<(String, String)> {
        q.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    };
    let first = app
        .client
        .get(app.url("/api/v1/search"))
        .query(&borrowed(&query))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let mut hits: Vec<Value> = first["data"].as_array().unwrap().clone();
    let mut cursor = first["page"]["next_cursor"].as_str().map(str::to_string);
    while let Some(next) = cursor {
        let mut paged = borrowed(&query);
        paged.push(("cursor".into(), next));
        let page: Value = app
            .client
            .get(app.url("/api/v1/search"))
            .query(&paged)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        hits.extend(page["data"].as_array().unwrap().iter().cloned());
        cursor = page["page"]["next_cursor"].as_str().map(str::to_string);
    }
    (first, hits)
}

/// A facet tree as (type, slug) → (count, parent slug).
fn facet_counts(facets: &Value) -> BTreeMap<(String, String), (u64, Option<String>)> {
    fn walk(
        taxonomy: &str,
        nodes: &[Value],
        parent: Option<&str>,
        out: &mut BTreeMap<(String, String), (u64, Option<String>)>,
    ) {
        for node in nodes {
            let slug = node["slug"].as_str().unwrap();
            assert!(node["name"].is_string(), "{node}");
            let count = node["count"].as_u64().unwrap();
            let children = node["children"].as_array().unwrap();
            let below: u64 = children.iter().map(|c| c["count"].as_u64().unwrap()).sum();
            assert!(
                count >= below,
                "{taxonomy}:{slug} counts less than below it"
            );
            out.insert(
                (taxonomy.to_string(), slug.to_string()),
                (count, parent.map(str::to_string)),
            );
            walk(taxonomy, children, Some(slug), out);
        }
    }
    let mut out = BTreeMap::new();
    for (taxonomy, nodes) in facets.as_object().unwrap() {
        walk(taxonomy, nodes.as_array().unwrap(), None, &mut out);
    }
    out
}

#[tokio::test]
async fn search_facets_count_every_hit_under_its_terms_and_their_ancestors() {
    let app = TestApp::spawn().await;
    let (first, hits) = all_hits(&app, &[("q", "love"), ("type", "track")]).await;
    let total = first["total"].as_u64().unwrap();
    assert_eq!(hits.len() as u64, total);
    assert!(total > 100, "{total}");

    // Term id → (type, slug, parent id), from the public trees.
    let mut terms: HashMap<i64, (String, String, Option<i64>)> = HashMap::new();
    for taxonomy in ["genre", "format", "length"] {
        for (node, _) in flatten(&tree(&app, taxonomy).await) {
            terms.insert(
                node["id"].as_i64().unwrap(),
                (
                    taxonomy.to_string(),
                    node["slug"].as_str().unwrap().to_string(),
                    node["parent_id"].as_i64(),
                ),
            );
        }
    }
    let attached = attached_terms(&app).await;
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for hit in &hits {
        let mut lineage = BTreeSet::new();
        for term in attached
            .get(&hit["item"]["id"].as_i64().unwrap())
            .cloned()
            .unwrap_or_default()
        {
            let mut at = Some(term);
            while let Some(id) = at {
                lineage.insert(id);
                at = terms[&id].2;
            }
        }
        for id in lineage {
            let (taxonomy, slug, _) = &terms[&id];
            *expected
                .entry((taxonomy.clone(), slug.clone()))
                .or_default() += 1;
        }
    }
    let served = facet_counts(&first["facets"]["taxonomy"]);
    let served_counts: BTreeMap<(String, String), u64> =
        served.iter().map(|(k, (n, _))| (k.clone(), *n)).collect();
    assert_eq!(served_counts, expected);
    // Facet parents are the terms' parents.
    for ((taxonomy, slug), (_, parent)) in &served {
        let (_, _, parent_id) = terms
            .values()
            .find(|(t, s, _)| t == taxonomy && s == slug)
            .unwrap();
        assert_eq!(parent.as_deref(), parent_id.map(|p| terms[&p].1.as_str()));
    }
    // Each hit is in exactly one genre, one format and one length band.
    for taxonomy in ["genre", "format", "length"] {
        let roots: u64 = first["facets"]["taxonomy"][taxonomy]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["count"].as_u64().unwrap())
            .sum();
        assert_eq!(roots, total, "{taxonomy}");
    }
    // A leaf genre's facet is its genre's plain facet.
    let heavy_metal = first["facets"]["genre"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["value"] == 13)
        .map(|f| f["count"].as_u64().unwrap());
    assert_eq!(
        heavy_metal,
        served_counts
            .get(&("genre".to_string(), "heavy-metal".to_string()))
            .copied()
    );

    // Filtering by a term finds exactly the hits its facet counted.
    let rock_count = served_counts[&("genre".to_string(), "rock".to_string())];
    let (filtered, rock_hits) = all_hits(
        &app,
        &[("q", "love"), ("type", "track"), ("taxonomy", "genre:rock")],
    )
    .await;
    assert_eq!(filtered["total"].as_u64().unwrap(), rock_count);
    let rock_genres: BTreeSet<i64> = sql_ids(
        &app,
        "SELECT genre_id FROM genre WHERE name IN ('Rock', 'Metal', 'Heavy Metal', 'Alternative & Punk', 'Alternative', 'Rock And Roll')",
    )
    .await
    .into_iter()
    .collect();
    let mut expected_ids: Vec<i64> = hits
        .iter()
        .filter(|h| rock_genres.contains(&h["item"]["genre_id"].as_i64().unwrap()))
        .map(|h| h["item"]["id"].as_i64().unwrap())
        .collect();
    expected_ids.sort_unstable();
    let mut rock_ids: Vec<i64> = rock_hits
        .iter()
        .map(|h| h["item"]["id"].as_i64().unwrap())
        .collect();
    rock_ids.sort_unstable();
    assert_eq!(rock_ids, expected_ids);
    let rock_facets =
        facet_counts(&json!({ "genre": filtered["facets"]["taxonomy"]["genre"].clone() }));
    let roots: Vec<&String> = rock_facets
        .iter()
        .filter(|(_, (_, parent))| parent.is_none())
        .map(|((_, slug), _)| slug)
        .collect();
    assert_eq!(roots, ["rock"], "only rock has results under a rock filter");
}

#[tokio::test]
async fn search_and_suggest_take_the_taxonomy_filter() {
    let app = TestApp::spawn().await;
    let heavy_metal: BTreeSet<String> = sqlx::query_scalar(
        "SELECT t.name FROM track t JOIN genre g ON g.genre_id = t.genre_id WHERE g.name = 'Heavy Metal'",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap()
    .into_iter()
    .collect();
    let (status, suggestions) = app
        .get_json("/api/v1/search/suggest?q=th&taxonomy=genre:heavy-metal")
        .await;
    assert_eq!(status, 200, "{suggestions}");
    let data = suggestions["data"].as_array().unwrap();
    assert!(!data.is_empty(), "{suggestions}");
    for suggestion in data {
        assert_eq!(suggestion["type"], "track", "{suggestion}");
        assert!(
            heavy_metal.contains(suggestion["name"].as_str().unwrap()),
            "{suggestion} is no heavy metal track"
        );
    }
    // Without the filter, the same text suggests other things too.
    let (_, unfiltered) = app.get_json("/api/v1/search/suggest?q=th").await;
    assert_ne!(unfiltered["data"], suggestions["data"]);

    // Both terms must match: a term and its own ancestor narrow to the term.
    let both = search(
        &app,
        &[
            ("q", "the"),
            ("type", "track"),
            ("taxonomy", "genre:rock,genre:metal"),
        ],
    )
    .await;
    let metal = search(
        &app,
        &[("q", "the"), ("type", "track"), ("taxonomy", "genre:metal")],
    )
    .await;
    assert_eq!(both["total"], metal["total"]);
    assert!(metal["total"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn malformed_taxonomy_filters_are_400_and_unknown_terms_404_naming_them() {
    let app = TestApp::spawn().await;
    for (path, says) in [
        ("/api/v1/tracks?taxonomy=rock", "type:slug"),
        ("/api/v1/tracks?taxonomy=Genre:Rock", "type:slug"),
        ("/api/v1/tracks?taxonomy=genre:", "type:slug"),
        ("/api/v1/tracks?taxonomy=genre:rock:metal", "type:slug"),
        ("/api/v1/tracks?taxonomy=genre:polka", "genre:polka"),
        ("/api/v1/tracks?taxonomy=mood:calm", "mood:calm"),
        ("/api/v1/albums?taxonomy=genre:polka", "genre:polka"),
        ("/api/v1/artists?taxonomy=Genre:Rock", "type:slug"),
        ("/api/v1/genres?taxonomy=genre:rock", "taxonomy"),
        ("/api/v1/media-types?taxonomy=format:audio", "taxonomy"),
        ("/api/v1/playlists?taxonomy=genre:rock", "taxonomy"),
        ("/api/v1/tracks?descendants=false", "descendants"),
        ("/api/v1/search?q=love&taxonomy=rock", "type:slug"),
        ("/api/v1/search?q=love&taxonomy=genre:polka", "genre:polka"),
        (
            "/api/v1/search/suggest?q=love&taxonomy=Genre:Rock",
            "type:slug",
        ),
        (
            "/api/v1/search/suggest?q=love&taxonomy=genre:polka",
            "genre:polka",
        ),
        (
            "/api/v1/taxonomies/genre/rock/tracks?taxonomy=genre:polka",
            "genre:polka",
        ),
        ("/api/v1/taxonomies/genre/rock/tracks?limit=101", "limit"),
        ("/api/v1/taxonomies/genre/rock/tracks?sort=colour", "colour"),
        ("/api/v1/taxonomies?type=genre&depth=2", "depth"),
    ] {
        // A well-formed term that does not exist names nothing, as an unknown id does.
        let unknown = ["genre:polka", "mood:calm"].contains(&says);
        let status = if unknown { 404 } else { 400 };
        let problem = assert_problem(app.get(path).await.unwrap(), status).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{path}: {problem}"
        );
    }
}
