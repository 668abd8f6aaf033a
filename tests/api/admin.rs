//! Admin writes: artists, albums, tracks and taxonomy terms are created, changed, moved and
//! deleted by admins only, refused with a reason when they would break something, and seen
//! by the very next read on the same instance.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};
use crate::taxonomy::{all_pages, ids, sql_ids, tracks_of_genres, tree, ROCK};

const ADMIN: &str = "andrew@chinookcorp.com";
const CUSTOMER: &str = "luisg@embraer.com.br";

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("the request is answered")
}

/// The app with an admin signed in.
struct Admin {
    app: TestApp,
    token: String,
}

impl Admin {
    async fn spawn() -> Self {
        let app = TestApp::spawn().await;
        let token = app.login(ADMIN, DEMO_PASSWORD).await;
        Self { app, token }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        send(&self.app, method, path, Some(&self.token), body.as_ref()).await
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> reqwest::Response {
        self.call(Method::PATCH, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> reqwest::Response {
        self.call(Method::DELETE, path, None).await
    }

    /// A write that must succeed with `status`; returns its body (`Null` when empty).
    async fn ok(&self, response: reqwest::Response, status: u16) -> Value {
        let url = response.url().path().to_string();
        let got = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "{url}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.app.get_json(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    async fn status_of(&self, path: &str) -> u16 {
        self.app.get(path).await.unwrap().status().as_u16()
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.app.state.db.reader())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    async fn search(&self, query: &[(&str, &str)]) -> Value {
        let response = self
            .app
            .client
            .get(self.app.url("/api/v1/search"))
            .query(query)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{query:?}");
        response.json().await.unwrap()
    }

    async fn search_ids(&self, q: &str, kind: &str) -> Vec<i64> {
        let response = self
            .app
            .client
            .get(self.app.url("/api/v1/search"))
            .query(&[("q", q), ("type", kind), ("limit", "100")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let mut found: Vec<i64> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["item"]["id"].as_i64().unwrap())
            .collect();
        found.sort_unstable();
        found
    }
}

fn detail(problem: &Value) -> &str {
    problem["detail"].as_str().unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn every_admin_write_is_401_without_a_token_and_403_for_a_customer() {
    let app = TestApp::spawn().await;
    let customer = app.login(CUSTOMER, DEMO_PASSWORD).await;
    let term = json!({"name": "Calm"});
    let attach = json!({"tracks": [1]});
    let writes: Vec<(Method, &str, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/v1/admin/artists",
            Some(json!({"name": "X"})),
        ),
        (
            Method::PATCH,
            "/api/v1/admin/artists/1",
            Some(json!({"name": "X"})),
        ),
        (Method::DELETE, "/api/v1/admin/artists/275", None),
        (
            Method::POST,
            "/api/v1/admin/albums",
            Some(json!({"title": "X", "artist_id": 1})),
        ),
        (
            Method::PATCH,
            "/api/v1/admin/albums/1",
            Some(json!({"title": "X"})),
        ),
        (Method::DELETE, "/api/v1/admin/albums/1", None),
        (
            Method::POST,
            "/api/v1/admin/tracks",
            Some(
                json!({"name": "X", "media_type_id": 1, "milliseconds": 1000, "unit_price": "0.99"}),
            ),
        ),
        (
            Method::PATCH,
            "/api/v1/admin/tracks/1",
            Some(json!({"name": "X"})),
        ),
        (Method::DELETE, "/api/v1/admin/tracks/3503", None),
        (
            Method::POST,
            "/api/v1/admin/taxonomies/mood",
            Some(term.clone()),
        ),
        (
            Method::PATCH,
            "/api/v1/admin/taxonomies/genre/metal",
            Some(json!({"parent": null})),
        ),
        (
            Method::DELETE,
            "/api/v1/admin/taxonomies/genre/heavy-metal",
            None,
        ),
        (
            Method::POST,
            "/api/v1/admin/taxonomies/genre/rock/attach",
            Some(attach.clone()),
        ),
        (
            Method::POST,
            "/api/v1/admin/taxonomies/genre/rock/detach",
            Some(attach),
        ),
    ];
    for (method, path, body) in &writes {
        for (token, status) in [
            (None, 401),
            (Some("not-a-token"), 401),
            (Some(customer.as_str()), 403),
        ] {
            let response = send(&app, method.clone(), path, token, body.as_ref()).await;
            let problem = assert_problem(response, status).await;
            if status == 403 {
                assert!(detail(&problem).contains("admin"), "{problem}");
            }
        }
    }
    // Nothing was written.
    let (_, artist) = app.get_json("/api/v1/artists/1").await;
    assert_eq!(artist["name"], "AC/DC");
    let (_, track) = app.get_json("/api/v1/tracks/1").await;
    assert_eq!(track["name"], "For Those About To Rock (We Salute You)");
    assert_eq!(app.get_json("/api/v1/tracks/3503").await.0, 200);
    let (_, types) = app.get_json("/api/v1/taxonomies").await;
    assert_eq!(types["data"].as_array().unwrap().len(), 3);
    let (_, heavy_metal) = app.get_json("/api/v1/taxonomies/genre/heavy-metal").await;
    assert_eq!(heavy_metal["path"], "rock/metal/heavy-metal");
    let (_, rock) = app.get_json("/api/v1/taxonomies/genre/rock").await;
    assert_eq!(rock["counts"]["tracks"]["direct"], 1297);
}

#[tokio::test]
async fn a_created_artist_is_found_renamed_and_deleted_with_every_read_agreeing() {
    let admin = Admin::spawn().await;
    let response = admin
        .post(
            "/api/v1/admin/artists",
            json!({"name": "  Zephyrine Quartet "}),
        )
        .await;
    let path = location(&response);
    let created = admin.ok(response, 201).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(path, format!("/api/v1/artists/{id}"));
    assert_eq!(created["name"], "Zephyrine Quartet", "the name is trimmed");
    assert_eq!(created["album_count"], 0);
    assert_eq!(admin.get(&path).await, created);
    let stored: String = sqlx::query_scalar("SELECT name FROM artist WHERE artist_id = $1")
        .bind(id)
        .fetch_one(admin.app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(stored, "Zephyrine Quartet");
    assert_eq!(admin.search_ids("zephyrine", "artist").await, [id]);
    let listed = all_pages(&admin.app, "/api/v1/artists?fields=id").await;
    assert_eq!(listed.len(), 276);
    assert!(ids(&listed).contains(&id));

    let renamed = admin
        .patch(
            &path.replace("/api/v1", "/api/v1/admin"),
            json!({"name": "Borealis Trio"}),
        )
        .await;
    let renamed = admin.ok(renamed, 200).await;
    assert_eq!(renamed["id"], id);
    assert_eq!(renamed["name"], "Borealis Trio");
    assert_eq!(admin.get(&path).await, renamed);
    assert_eq!(admin.search_ids("borealis", "artist").await, [id]);
    assert!(admin.search_ids("zephyrine", "artist").await.is_empty());

    let response = admin.delete(&format!("/api/v1/admin/artists/{id}")).await;
    assert_eq!(admin.ok(response, 204).await, Value::Null);
    assert_problem(admin.app.get(&path).await.unwrap(), 404).await;
    assert!(admin.search_ids("borealis", "artist").await.is_empty());
    assert_eq!(
        all_pages(&admin.app, "/api/v1/artists?fields=id")
            .await
            .len(),
        275
    );
    for response in [
        admin.delete(&format!("/api/v1/admin/artists/{id}")).await,
        admin
            .patch(
                &format!("/api/v1/admin/artists/{id}"),
                json!({"name": "Again"}),
            )
            .await,
    ] {
        assert_problem(response, 404).await;
    }
}

#[tokio::test]
async fn an_artist_with_albums_or_an_album_with_tracks_is_not_deleted() {
    let admin = Admin::spawn().await;
    let problem = assert_problem(admin.delete("/api/v1/admin/artists/1").await, 409).await;
    assert!(detail(&problem).contains("album"), "{problem}");
    let problem = assert_problem(admin.delete("/api/v1/admin/albums/1").await, 409).await;
    assert!(detail(&problem).contains("track"), "{problem}");
    assert_eq!(admin.get("/api/v1/artists/1").await["album_count"], 2);
    assert_eq!(admin.get("/api/v1/albums/1").await["track_count"], 10);
    assert_eq!(
        admin
            .count("SELECT COUNT(*) FROM album WHERE artist_id = 1")
            .await,
        2
    );
    for path in ["/api/v1/admin/albums/99999", "/api/v1/admin/tracks/99999"] {
        assert_problem(admin.delete(path).await, 404).await;
    }
    let problem = assert_problem(
        admin
            .patch("/api/v1/admin/albums/99999", json!({"title": "X"}))
            .await,
        404,
    )
    .await;
    assert!(detail(&problem).contains("99999"), "{problem}");
}

#[tokio::test]
async fn albums_are_created_under_an_artist_move_between_artists_and_counts_follow() {
    let admin = Admin::spawn().await;
    let first = admin
        .ok(
            admin
                .post("/api/v1/admin/artists", json!({"name": "Quillon Ensemble"}))
                .await,
            201,
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let response = admin
        .post(
            "/api/v1/admin/albums",
            json!({"title": "Tessellated Dawn", "artist_id": first}),
        )
        .await;
    let path = location(&response);
    let album = admin.ok(response, 201).await;
    let id = album["id"].as_i64().unwrap();
    assert_eq!(path, format!("/api/v1/albums/{id}"));
    assert_eq!(album["title"], "Tessellated Dawn");
    assert_eq!(album["artist_id"], first);
    assert_eq!(album["track_count"], 0);
    assert_eq!(admin.get(&path).await, album);
    assert_eq!(
        admin.get(&format!("/api/v1/artists/{first}")).await["album_count"],
        1
    );
    let by_artist = admin
        .get(&format!("/api/v1/albums?artist_id={first}"))
        .await;
    assert_eq!(ids(by_artist["data"].as_array().unwrap()), [id]);
    assert_eq!(admin.search_ids("tessellated", "album").await, [id]);

    // Unknown artists are named, on create and on change, and nothing is written.
    let albums = admin.count("SELECT COUNT(*) FROM album").await;
    for response in [
        admin
            .post(
                "/api/v1/admin/albums",
                json!({"title": "Orphan", "artist_id": 99999}),
            )
            .await,
        admin
            .patch(
                &format!("/api/v1/admin/albums/{id}"),
                json!({"artist_id": 99999}),
            )
            .await,
    ] {
        let problem = assert_problem(response, 422).await;
        assert!(detail(&problem).contains("artist_id 99999"), "{problem}");
    }
    for (body, says) in [
        (json!({"title": "", "artist_id": 1}), "title"),
        (json!({"title": "No artist"}), "artist_id"),
        (json!({"title": "X", "artist_id": 1, "year": 1999}), "year"),
        (json!({"title": "X", "artist_id": "one"}), "artist_id"),
    ] {
        let problem = assert_problem(admin.post("/api/v1/admin/albums", body).await, 422).await;
        assert!(detail(&problem).contains(says), "{problem}");
    }
    assert_eq!(admin.count("SELECT COUNT(*) FROM album").await, albums);
    assert_eq!(admin.get(&path).await["artist_id"], first);

    // Given to AC/DC, it counts there and no longer with its first artist.
    let moved = admin
        .ok(
            admin
                .patch(
                    &format!("/api/v1/admin/albums/{id}"),
                    json!({"artist_id": 1, "title": "Tessellated Dusk"}),
                )
                .await,
            200,
        )
        .await;
    assert_eq!(moved["artist_id"], 1);
    assert_eq!(moved["title"], "Tessellated Dusk");
    assert_eq!(admin.get("/api/v1/artists/1").await["album_count"], 3);
    assert_eq!(
        admin.get(&format!("/api/v1/artists/{first}")).await["album_count"],
        0
    );
    assert_eq!(admin.search_ids("tessellated dusk", "album").await, [id]);

    // Now the first artist can go, and the empty album too.
    let response = admin
        .delete(&format!("/api/v1/admin/artists/{first}"))
        .await;
    admin.ok(response, 204).await;
    let response = admin.delete(&format!("/api/v1/admin/albums/{id}")).await;
    admin.ok(response, 204).await;
    assert_problem(admin.app.get(&path).await.unwrap(), 404).await;
    assert_eq!(admin.get("/api/v1/artists/1").await["album_count"], 2);
    assert!(admin.search_ids("tessellated", "album").await.is_empty());
}

fn new_track() -> Value {
    json!({
        "name": "Glimmerwave Overture",
        "album_id": 1,
        "media_type_id": 1,
        "genre_id": 1,
        "composer": "Ida Vexley",
        "milliseconds": 245_000,
        "bytes": 8_000_000,
        "unit_price": "0.99",
    })
}

#[tokio::test]
async fn a_created_track_is_counted_found_changed_and_deleted() {
    let admin = Admin::spawn().await;
    let rock_tracks = admin.get("/api/v1/genres/1").await["track_count"]
        .as_i64()
        .unwrap();
    let jazz_tracks = admin.get("/api/v1/genres/2").await["track_count"]
        .as_i64()
        .unwrap();
    let response = admin.post("/api/v1/admin/tracks", new_track()).await;
    let path = location(&response);
    let track = admin.ok(response, 201).await;
    let id = track["id"].as_i64().unwrap();
    assert_eq!(path, format!("/api/v1/tracks/{id}"));
    for field in [
        "name",
        "album_id",
        "media_type_id",
        "genre_id",
        "composer",
        "milliseconds",
        "unit_price",
    ] {
        assert_eq!(track[field], new_track()[field], "{field}");
    }
    assert_eq!(admin.get(&path).await, track);
    let (name, cents): (String, i64) =
        sqlx::query_as("SELECT name, unit_price_cents FROM track WHERE track_id = $1")
            .bind(id)
            .fetch_one(admin.app.state.db.reader())
            .await
            .unwrap();
    assert_eq!((name.as_str(), cents), ("Glimmerwave Overture", 99));

    assert_eq!(admin.get("/api/v1/albums/1").await["track_count"], 11);
    assert_eq!(
        admin.get("/api/v1/genres/1").await["track_count"],
        rock_tracks + 1
    );
    assert_eq!(admin.search_ids("glimmerwave", "track").await, [id]);
    assert_eq!(admin.search_ids("vexley", "track").await, [id]);
    let on_album = all_pages(&admin.app, "/api/v1/tracks?album_id=1&fields=id").await;
    assert_eq!(on_album.len(), 11);
    assert!(ids(&on_album).contains(&id));

    // A merge patch: fields present change, `null` clears, the rest stays.
    let changed = admin
        .ok(
            admin
                .patch(
                    &format!("/api/v1/admin/tracks/{id}"),
                    json!({"unit_price": "1.99", "genre_id": 2, "composer": null}),
                )
                .await,
            200,
        )
        .await;
    assert_eq!(changed["unit_price"], "1.99");
    assert_eq!(changed["genre_id"], 2);
    assert_eq!(changed["composer"], Value::Null);
    assert_eq!(changed["name"], "Glimmerwave Overture");
    assert_eq!(changed["milliseconds"], 245_000);
    assert_eq!(admin.get(&path).await, changed);
    assert_eq!(
        admin.get("/api/v1/genres/1").await["track_count"],
        rock_tracks
    );
    assert_eq!(
        admin.get("/api/v1/genres/2").await["track_count"],
        jazz_tracks + 1
    );
    assert!(admin.search_ids("vexley", "track").await.is_empty());
    let dear = all_pages(
        &admin.app,
        "/api/v1/tracks?genre=2&min_price=1.99&fields=id",
    )
    .await;
    assert!(ids(&dear).contains(&id));

    let response = admin.delete(&format!("/api/v1/admin/tracks/{id}")).await;
    admin.ok(response, 204).await;
    assert_problem(admin.app.get(&path).await.unwrap(), 404).await;
    assert!(admin.search_ids("glimmerwave", "track").await.is_empty());
    assert_eq!(admin.get("/api/v1/albums/1").await["track_count"], 10);
    assert_eq!(
        admin.get("/api/v1/genres/2").await["track_count"],
        jazz_tracks
    );
    assert_eq!(
        admin
            .count(&format!("SELECT COUNT(*) FROM track WHERE track_id = {id}"))
            .await,
        0
    );
}

#[tokio::test]
async fn an_invalid_track_is_422_saying_why_and_nothing_is_written() {
    let admin = Admin::spawn().await;
    let tracks = admin.count("SELECT COUNT(*) FROM track").await;
    let with = |field: &str, value: Value| {
        let mut body = new_track();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = new_track();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            with("album_id", json!(99999)),
            "album_id 99999 matches no album",
        ),
        (with("media_type_id", json!(99)), "media_type_id 99"),
        (with("genre_id", json!(999)), "genre_id 999"),
        (with("milliseconds", json!(-1)), "milliseconds"),
        (with("unit_price", json!("0.999")), "unit_price"),
        (with("unit_price", json!("-1.00")), "unit_price"),
        (with("unit_price", json!("cheap")), "unit_price"),
        (with("bytes", json!(-5)), "bytes"),
        (with("name", json!("   ")), "name"),
        (with("name", json!("bell\u{7}")), "name"),
        (with("colour", json!("red")), "colour"),
        (without("name"), "name"),
        (without("milliseconds"), "milliseconds"),
        (without("unit_price"), "unit_price"),
    ];
    for (body, says) in &cases {
        let response = admin.post("/api/v1/admin/tracks", body.clone()).await;
        let problem = assert_problem(response, 422).await;
        assert!(detail(&problem).contains(says), "{body}: {problem}");
    }
    // The same checks hold for a change, which leaves the track as it was.
    let before = admin.get("/api/v1/tracks/1").await;
    for (patch, says) in [
        (
            json!({"album_id": 99999}),
            "album_id 99999 matches no album",
        ),
        (json!({"milliseconds": -1}), "milliseconds"),
        (json!({"unit_price": "0.999"}), "unit_price"),
        (json!({"name": null}), "name"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let response = admin.patch("/api/v1/admin/tracks/1", patch.clone()).await;
        let problem = assert_problem(response, 422).await;
        assert!(detail(&problem).contains(says), "{patch}: {problem}");
    }
    assert_eq!(admin.get("/api/v1/tracks/1").await, before);
    assert_eq!(admin.count("SELECT COUNT(*) FROM track").await, tracks);
    assert_problem(
        admin
            .patch("/api/v1/admin/tracks/99999", json!({"name": "X"}))
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn a_sold_or_listed_track_stays_in_the_catalog() {
    let admin = Admin::spawn().await;
    let problem = assert_problem(admin.delete("/api/v1/admin/tracks/1").await, 409).await;
    assert!(detail(&problem).contains("invoice"), "{problem}");
    let listed_unsold = sql_ids(
        &admin.app,
        "SELECT MIN(p.track_id) FROM playlist_track p \
         WHERE NOT EXISTS (SELECT 1 FROM invoice_line l WHERE l.track_id = p.track_id)",
    )
    .await[0];
    let response = admin
        .delete(&format!("/api/v1/admin/tracks/{listed_unsold}"))
        .await;
    let problem = assert_problem(response, 409).await;
    assert!(detail(&problem).contains("playlist"), "{problem}");
    for id in [1, listed_unsold] {
        assert_eq!(admin.status_of(&format!("/api/v1/tracks/{id}")).await, 200);
    }
    assert_eq!(
        admin
            .count("SELECT COUNT(*) FROM track WHERE track_id = 1")
            .await,
        1
    );
}

#[tokio::test]
async fn renaming_an_artist_changes_what_its_tracks_are_found_by() {
    let admin = Admin::spawn().await;
    let acdc_tracks = sql_ids(
        &admin.app,
        "SELECT t.track_id FROM track t JOIN album a ON a.album_id = t.album_id \
         WHERE a.artist_id = 1 ORDER BY t.track_id",
    )
    .await;
    assert_eq!(acdc_tracks.len(), 18);
    assert!(admin.search_ids("quetzalrock", "track").await.is_empty());
    let renamed = admin
        .ok(
            admin
                .patch("/api/v1/admin/artists/1", json!({"name": "Quetzalrock"}))
                .await,
            200,
        )
        .await;
    assert_eq!(renamed["name"], "Quetzalrock");
    assert_eq!(renamed["album_count"], 2);
    assert_eq!(admin.search_ids("quetzalrock", "track").await, acdc_tracks);
    assert_eq!(admin.search_ids("quetzalrock", "artist").await, [1]);
    assert_eq!(admin.search_ids("quetzalrock", "album").await, [1, 4]);
    assert!(!admin.search_ids("ac dc", "artist").await.contains(&1));
    let tracks = admin
        .get("/api/v1/tracks?album_id=1&include=artist,album&fields=id")
        .await;
    for track in tracks["data"].as_array().unwrap() {
        assert_eq!(track["artist"]["name"], "Quetzalrock", "{track}");
        assert_eq!(track["album"]["artist_id"], 1);
    }
}

// --- taxonomy terms ---

#[tokio::test]
async fn a_new_taxonomy_type_comes_into_being_with_its_first_term() {
    let admin = Admin::spawn().await;
    assert_problem(
        admin.app.get("/api/v1/taxonomies?type=mood").await.unwrap(),
        404,
    )
    .await;
    let response = admin
        .post(
            "/api/v1/admin/taxonomies/mood",
            json!({"name": "Calm & Quiet"}),
        )
        .await;
    assert_eq!(
        location(&response),
        "/api/v1/taxonomies/mood/calm-and-quiet"
    );
    let calm = admin.ok(response, 201).await;
    assert_eq!(calm["type"], "mood");
    assert_eq!(calm["slug"], "calm-and-quiet");
    assert_eq!(calm["name"], "Calm & Quiet");
    assert_eq!(calm["parent_id"], Value::Null);
    assert_eq!(calm["path"], "calm-and-quiet");
    assert_eq!(calm["meta"], json!({}));
    assert_eq!(calm["sort_order"], 0);
    assert_eq!(calm["ancestors"], json!([]));
    assert_eq!(calm["children"], json!([]));
    assert_eq!(calm["counts"]["tracks"]["with_descendants"], 0);
    assert_eq!(
        admin.get("/api/v1/taxonomies/mood/calm-and-quiet").await,
        calm
    );
    assert_eq!(
        admin.get("/api/v1/taxonomies").await,
        json!({"data": [
            {"type": "format", "term_count": 8},
            {"type": "genre", "term_count": 26},
            {"type": "length", "term_count": 4},
            {"type": "mood", "term_count": 1},
        ]})
    );

    let response = admin
        .post(
            "/api/v1/admin/taxonomies/mood",
            json!({
                "name": "Ambient",
                "slug": "ambient-drift",
                "description": "Slow and spacious",
                "parent": "calm-and-quiet",
                "sort_order": 3,
                "meta": {"bpm": [60, 90], "colour": "blue"},
            }),
        )
        .await;
    assert_eq!(location(&response), "/api/v1/taxonomies/mood/ambient-drift");
    let ambient = admin.ok(response, 201).await;
    assert_eq!(ambient["path"], "calm-and-quiet/ambient-drift");
    assert_eq!(ambient["parent_id"], calm["id"]);
    assert_eq!(ambient["description"], "Slow and spacious");
    assert_eq!(ambient["sort_order"], 3);
    assert_eq!(ambient["meta"], json!({"bpm": [60, 90], "colour": "blue"}));
    assert_eq!(ambient["ancestors"][0]["slug"], "calm-and-quiet");
    let roots = tree(&admin.app, "mood").await;
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0]["children"][0]["slug"], "ambient-drift");
    let (meta, parent): (String, Option<i64>) = sqlx::query_as(
        "SELECT meta, parent_id FROM taxonomy_term WHERE type = 'mood' AND slug = 'ambient-drift'",
    )
    .fetch_one(admin.app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&meta).unwrap(),
        ambient["meta"]
    );
    assert_eq!(parent, calm["id"].as_i64());
}

#[tokio::test]
async fn an_invalid_or_duplicate_term_is_refused_and_nothing_is_written() {
    let admin = Admin::spawn().await;
    let terms = admin.count("SELECT COUNT(*) FROM taxonomy_term").await;
    for (path, body, status, says) in [
        (
            "/api/v1/admin/taxonomies/genre",
            json!({"name": "Rock"}),
            409,
            "rock",
        ),
        (
            "/api/v1/admin/taxonomies/genre",
            json!({"name": "Krautrock", "slug": "heavy-metal"}),
            409,
            "heavy-metal",
        ),
        (
            "/api/v1/admin/taxonomies/genre",
            json!({"name": "Krautrock", "parent": "polka"}),
            422,
            "polka",
        ),
        (
            "/api/v1/admin/taxonomies/genre",
            json!({"name": "Krautrock", "parent": "audio"}),
            422,
            "audio",
        ),
        (
            "/api/v1/admin/taxonomies/genre",
            json!({"name": "Krautrock", "slug": "Kraut Rock"}),
            422,
            "slug",
        ),
        (
            "/api/v1/admin/taxonomies/genre",
            json!({"name": "Krautrock", "slug": "kraut--rock"}),
            422,
            "slug",
        ),
        (
            "/api/v1/admin/taxonomies/Mood",
            json!({"name": "Calm"}),
            422,
            "Mood",
        ),
        (
            "/api/v1/admin/taxonomies/mood_x",
            json!({"name": "Calm"}),
            422,
            "mood_x",
        ),
        (
            "/api/v1/admin/taxonomies/mood",
            json!({"name": "Calm", "meta": "calm"}),
            422,
            "meta",
        ),
        (
            "/api/v1/admin/taxonomies/mood",
            json!({"name": "Calm", "meta": [1, 2]}),
            422,
            "meta",
        ),
        (
            "/api/v1/admin/taxonomies/mood",
            json!({"name": ""}),
            422,
            "name",
        ),
        (
            "/api/v1/admin/taxonomies/mood",
            json!({"name": "!!!"}),
            422,
            "slug",
        ),
        (
            "/api/v1/admin/taxonomies/mood",
            json!({"slug": "calm"}),
            422,
            "name",
        ),
        (
            "/api/v1/admin/taxonomies/mood",
            json!({"name": "Calm", "colour": "blue"}),
            422,
            "colour",
        ),
        (
            "/api/v1/admin/taxonomies/mood",
            json!({"name": "Calm", "sort_order": "first"}),
            422,
            "sort_order",
        ),
    ] {
        let problem = assert_problem(admin.post(path, body.clone()).await, status).await;
        assert!(detail(&problem).contains(says), "{path} {body}: {problem}");
    }
    assert_eq!(
        admin.count("SELECT COUNT(*) FROM taxonomy_term").await,
        terms
    );
    assert_eq!(
        admin.get("/api/v1/taxonomies").await["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn moving_a_term_takes_its_subtree_along_and_the_filters_follow() {
    let admin = Admin::spawn().await;
    let metal = tracks_of_genres(&admin.app, &["Metal", "Heavy Metal"]).await;
    let rock_only = tracks_of_genres(
        &admin.app,
        &["Rock", "Alternative & Punk", "Alternative", "Rock And Roll"],
    )
    .await;

    // Metal becomes a root, Heavy Metal still below it.
    let page = admin
        .ok(
            admin
                .patch(
                    "/api/v1/admin/taxonomies/genre/metal",
                    json!({"parent": null}),
                )
                .await,
            200,
        )
        .await;
    assert_eq!(page["parent_id"], Value::Null);
    assert_eq!(page["path"], "metal");
    assert_eq!(page["ancestors"], json!([]));
    assert_eq!(page["children"][0]["slug"], "heavy-metal");
    assert_eq!(page["counts"]["tracks"]["with_descendants"], metal.len());
    let heavy = admin.get("/api/v1/taxonomies/genre/heavy-metal").await;
    assert_eq!(heavy["path"], "metal/heavy-metal");
    let rock = admin.get("/api/v1/taxonomies/genre/rock").await;
    assert_eq!(
        rock["counts"]["tracks"]["with_descendants"],
        rock_only.len()
    );
    assert!(rock["children"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["slug"] != "metal"));
    let roots: Vec<String> = tree(&admin.app, "genre")
        .await
        .iter()
        .map(|r| r["slug"].as_str().unwrap().to_string())
        .collect();
    assert!(roots.contains(&"metal".to_string()), "{roots:?}");
    assert_eq!(
        ids(&all_pages(&admin.app, "/api/v1/tracks?taxonomy=genre:rock&fields=id").await),
        rock_only
    );
    assert_eq!(
        ids(&all_pages(&admin.app, "/api/v1/taxonomies/genre/rock/tracks?fields=id").await),
        rock_only
    );
    assert_eq!(
        ids(&all_pages(&admin.app, "/api/v1/tracks?taxonomy=genre:metal&fields=id").await),
        metal
    );
    let sql_parent: Option<i64> = sqlx::query_scalar(
        "SELECT parent_id FROM taxonomy_term WHERE type = 'genre' AND slug = 'metal'",
    )
    .fetch_one(admin.app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(sql_parent, None);

    // Then under Jazz: Jazz now takes in Metal and Heavy Metal.
    let page = admin
        .ok(
            admin
                .patch(
                    "/api/v1/admin/taxonomies/genre/metal",
                    json!({"parent": "jazz"}),
                )
                .await,
            200,
        )
        .await;
    assert_eq!(page["path"], "jazz/metal");
    let heavy = admin.get("/api/v1/taxonomies/genre/heavy-metal").await;
    assert_eq!(heavy["path"], "jazz/metal/heavy-metal");
    let ancestors: Vec<&str> = heavy["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(ancestors, ["jazz", "metal"]);
    let jazz_and_metal = tracks_of_genres(&admin.app, &["Jazz", "Metal", "Heavy Metal"]).await;
    assert_eq!(
        ids(&all_pages(&admin.app, "/api/v1/tracks?taxonomy=genre:jazz&fields=id").await),
        jazz_and_metal
    );
    assert_eq!(
        admin.get("/api/v1/taxonomies/genre/jazz").await["counts"]["tracks"]["with_descendants"],
        jazz_and_metal.len()
    );
    // Search filters and facets follow the move too.
    let found = admin
        .search(&[("q", "the"), ("type", "track"), ("taxonomy", "genre:jazz")])
        .await;
    let jazz_facet = &found["facets"]["taxonomy"]["genre"];
    assert_eq!(jazz_facet.as_array().unwrap().len(), 1, "{jazz_facet}");
    assert_eq!(jazz_facet[0]["slug"], "jazz");
    assert_eq!(jazz_facet[0]["count"], found["total"]);
    assert!(jazz_facet[0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["slug"] == "metal"));
}

#[tokio::test]
async fn a_term_cannot_move_under_itself_or_anything_below_it() {
    let admin = Admin::spawn().await;
    let before = tree(&admin.app, "genre").await;
    for (slug, parent, status) in [
        ("rock", "rock", 409),
        ("rock", "metal", 409),
        ("rock", "heavy-metal", 409),
        ("metal", "heavy-metal", 409),
        ("metal", "polka", 422),
    ] {
        let response = admin
            .patch(
                &format!("/api/v1/admin/taxonomies/genre/{slug}"),
                json!({"parent": parent}),
            )
            .await;
        let problem = assert_problem(response, status).await;
        assert!(
            detail(&problem).contains(parent),
            "{slug} → {parent}: {problem}"
        );
    }
    assert_eq!(tree(&admin.app, "genre").await, before);
    let rock = tracks_of_genres(&admin.app, ROCK).await;
    assert_eq!(
        ids(&all_pages(&admin.app, "/api/v1/tracks?taxonomy=genre:rock&fields=id").await),
        rock
    );
    assert_problem(
        admin
            .patch(
                "/api/v1/admin/taxonomies/genre/polka",
                json!({"name": "Polka"}),
            )
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn changing_a_terms_slug_name_order_and_meta_shows_everywhere() {
    let admin = Admin::spawn().await;
    let metal = tracks_of_genres(&admin.app, &["Metal", "Heavy Metal"]).await;
    let problem = assert_problem(
        admin
            .patch(
                "/api/v1/admin/taxonomies/genre/metal",
                json!({"slug": "jazz"}),
            )
            .await,
        409,
    )
    .await;
    assert!(detail(&problem).contains("jazz"), "{problem}");
    for patch in [
        json!({"slug": "Metal!"}),
        json!({"meta": 3}),
        json!({"name": ""}),
    ] {
        let response = admin
            .patch("/api/v1/admin/taxonomies/genre/metal", patch.clone())
            .await;
        assert_problem(response, 422).await;
    }

    let page = admin
        .ok(
            admin
                .patch(
                    "/api/v1/admin/taxonomies/genre/metal",
                    json!({
                        "slug": "metallic",
                        "name": "Metallic",
                        "description": "Loud",
                        "sort_order": -1,
                        "meta": {"genre_id": 3, "era": "1980s"},
                    }),
                )
                .await,
            200,
        )
        .await;
    assert_eq!(page["slug"], "metallic");
    assert_eq!(page["name"], "Metallic");
    assert_eq!(page["description"], "Loud");
    assert_eq!(page["path"], "rock/metallic");
    assert_eq!(page["meta"], json!({"genre_id": 3, "era": "1980s"}));
    assert_eq!(page["counts"]["tracks"]["with_descendants"], metal.len());
    assert_eq!(
        admin.get("/api/v1/taxonomies/genre/heavy-metal").await["path"],
        "rock/metallic/heavy-metal"
    );
    assert_problem(
        admin
            .app
            .get("/api/v1/taxonomies/genre/metal")
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_eq!(
        ids(&all_pages(
            &admin.app,
            "/api/v1/tracks?taxonomy=genre:metallic&fields=id"
        )
        .await),
        metal
    );
    assert_problem(
        admin
            .app
            .get("/api/v1/tracks?taxonomy=genre:metal")
            .await
            .unwrap(),
        // A well-formed filter naming no term is a 404 (the term is gone).
        404,
    )
    .await;
    // A sort order below the others puts it first among Rock's children.
    let rock = admin.get("/api/v1/taxonomies/genre/rock").await;
    assert_eq!(rock["children"][0]["slug"], "metallic");
    // The search facet carries the new name.
    let found = admin
        .search(&[
            ("q", "metallica"),
            ("type", "track"),
            ("taxonomy", "genre:metallic"),
        ])
        .await;
    assert!(found["total"].as_u64().unwrap() > 0, "{found}");
    let metallic = &found["facets"]["taxonomy"]["genre"][0]["children"][0];
    assert_eq!(metallic["slug"], "metallic", "{found}");
    assert_eq!(metallic["name"], "Metallic");
}

#[tokio::test]
async fn a_term_with_children_is_not_deleted_and_a_leaf_is() {
    let admin = Admin::spawn().await;
    let problem = assert_problem(
        admin.delete("/api/v1/admin/taxonomies/genre/rock").await,
        409,
    )
    .await;
    assert!(detail(&problem).contains("child"), "{problem}");
    assert_problem(
        admin.delete("/api/v1/admin/taxonomies/genre/metal").await,
        409,
    )
    .await;

    let heavy_metal = tracks_of_genres(&admin.app, &["Heavy Metal"]).await;
    assert!(!heavy_metal.is_empty());
    let response = admin
        .delete("/api/v1/admin/taxonomies/genre/heavy-metal")
        .await;
    assert_eq!(admin.ok(response, 204).await, Value::Null);
    assert_problem(
        admin
            .app
            .get("/api/v1/taxonomies/genre/heavy-metal")
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_problem(
        admin
            .app
            .get("/api/v1/tracks?taxonomy=genre:heavy-metal")
            .await
            .unwrap(),
        // A well-formed filter naming no term is a 404 (the term is gone).
        404,
    )
    .await;
    let metal = admin.get("/api/v1/taxonomies/genre/metal").await;
    assert_eq!(metal["children"], json!([]));
    let metal_only = tracks_of_genres(&admin.app, &["Metal"]).await;
    assert_eq!(
        metal["counts"]["tracks"]["with_descendants"],
        metal_only.len()
    );
    let rock_without = tracks_of_genres(
        &admin.app,
        &[
            "Rock",
            "Metal",
            "Alternative & Punk",
            "Alternative",
            "Rock And Roll",
        ],
    )
    .await;
    assert_eq!(
        ids(&all_pages(&admin.app, "/api/v1/tracks?taxonomy=genre:rock&fields=id").await),
        rock_without
    );
    assert_eq!(
        admin.get("/api/v1/taxonomies").await["data"][1]["term_count"],
        25
    );
    assert_eq!(
        admin
            .count(
                "SELECT COUNT(*) FROM taxonomy_term WHERE type = 'genre' AND slug = 'heavy-metal'"
            )
            .await,
        0
    );
    // Its tracks stay in the catalog, filed under nothing of the genre type now.
    let first = heavy_metal[0];
    assert_eq!(
        admin.status_of(&format!("/api/v1/tracks/{first}")).await,
        200
    );
    assert_eq!(
        admin
            .count(&format!(
                "SELECT COUNT(*) FROM term_attachment a JOIN taxonomy_term t ON t.term_id = a.term_id \
                 WHERE t.type = 'genre' AND a.entity_kind = 'track' AND a.entity_id = {first}"
            ))
            .await,
        0
    );
    assert_problem(
        admin
            .delete("/api/v1/admin/taxonomies/genre/heavy-metal")
            .await,
        404,
    )
    .await;
    // With its child gone, Metal can go too.
    let response = admin.delete("/api/v1/admin/taxonomies/genre/metal").await;
    admin.ok(response, 204).await;
}

#[tokio::test]
async fn attaching_and_detaching_changes_counts_filters_and_facets() {
    let admin = Admin::spawn().await;
    admin
        .ok(
            admin
                .post("/api/v1/admin/taxonomies/mood", json!({"name": "Calm"}))
                .await,
            201,
        )
        .await;
    admin
        .ok(
            admin
                .post(
                    "/api/v1/admin/taxonomies/mood",
                    json!({"name": "Ambient", "parent": "calm"}),
                )
                .await,
            201,
        )
        .await;
    let page = admin
        .ok(
            admin
                .post(
                    "/api/v1/admin/taxonomies/mood/ambient/attach",
                    json!({"tracks": [1, 2, 3, 2], "albums": [1], "artists": [1]}),
                )
                .await,
            200,
        )
        .await;
    assert_eq!(page["slug"], "ambient");
    assert_eq!(
        page["counts"],
        json!({
            "tracks": {"direct": 3, "with_descendants": 3},
            "albums": {"direct": 1, "with_descendants": 1},
            "artists": {"direct": 1, "with_descendants": 1},
        })
    );
    let calm = admin.get("/api/v1/taxonomies/mood/calm").await;
    assert_eq!(
        calm["counts"]["tracks"],
        json!({"direct": 0, "with_descendants": 3})
    );
    assert_eq!(
        calm["counts"]["albums"],
        json!({"direct": 0, "with_descendants": 1})
    );
    assert_eq!(calm["children"][0]["counts"], page["counts"]);
    for (path, expected) in [
        ("/api/v1/tracks?taxonomy=mood:calm", vec![1, 2, 3]),
        ("/api/v1/tracks?taxonomy=mood:ambient&album_id=1", vec![1]),
        (
            "/api/v1/tracks?taxonomy=mood:ambient,length:over-10-minutes",
            vec![],
        ),
        ("/api/v1/albums?taxonomy=mood:calm", vec![1]),
        ("/api/v1/artists?taxonomy=mood:ambient", vec![1]),
        ("/api/v1/taxonomies/mood/calm/tracks", vec![1, 2, 3]),
        (
            "/api/v1/taxonomies/mood/calm/tracks?descendants=false",
            vec![],
        ),
    ] {
        assert_eq!(ids(&all_pages(&admin.app, path).await), expected, "{path}");
    }
    let attached = sql_ids(
        &admin.app,
        "SELECT a.entity_id FROM term_attachment a JOIN taxonomy_term t ON t.term_id = a.term_id \
         WHERE t.type = 'mood' AND a.entity_kind = 'track' ORDER BY a.entity_id",
    )
    .await;
    assert_eq!(attached, [1, 2, 3]);
    let found = admin.search(&[("q", "salute"), ("type", "track")]).await;
    let hits: Vec<i64> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["item"]["id"].as_i64().unwrap())
        .collect();
    assert!(
        hits.contains(&1) && !hits.contains(&2) && !hits.contains(&3),
        "{hits:?}"
    );
    assert_eq!(
        found["facets"]["taxonomy"]["mood"],
        json!([{"slug": "calm", "name": "Calm", "count": 1, "children": [
            {"slug": "ambient", "name": "Ambient", "count": 1, "children": []}
        ]}])
    );

    // Unknown ids are listed and nothing changes, not even the ids that exist.
    let response = admin
        .post(
            "/api/v1/admin/taxonomies/mood/ambient/attach",
            json!({"tracks": [4, 999999], "albums": [99999]}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert!(detail(&problem).contains("999999"), "{problem}");
    assert!(detail(&problem).contains("albums 99999"), "{problem}");
    for body in [
        json!({}),
        json!({"tracks": []}),
        json!({"songs": [1]}),
        json!({"tracks": ["one"]}),
    ] {
        let response = admin
            .post("/api/v1/admin/taxonomies/mood/ambient/attach", body.clone())
            .await;
        assert_problem(response, 422).await;
    }
    assert_problem(
        admin
            .post(
                "/api/v1/admin/taxonomies/mood/polka/attach",
                json!({"tracks": [1]}),
            )
            .await,
        404,
    )
    .await;
    let unchanged = admin.get("/api/v1/taxonomies/mood/ambient").await;
    assert_eq!(unchanged["counts"], page["counts"]);
    assert_eq!(
        ids(&all_pages(&admin.app, "/api/v1/tracks?taxonomy=mood:ambient").await),
        [1, 2, 3]
    );

    // Attaching again is harmless; detaching takes out only what is named.
    let page = admin
        .ok(
            admin
                .post(
                    "/api/v1/admin/taxonomies/mood/ambient/attach",
                    json!({"tracks": [3, 4]}),
                )
                .await,
            200,
        )
        .await;
    assert_eq!(page["counts"]["tracks"]["direct"], 4);
    let page = admin
        .ok(
            admin
                .post(
                    "/api/v1/admin/taxonomies/mood/ambient/detach",
                    json!({"tracks": [1, 2], "artists": [1]}),
                )
                .await,
            200,
        )
        .await;
    assert_eq!(page["counts"]["tracks"]["direct"], 2);
    assert_eq!(page["counts"]["artists"]["direct"], 0);
    assert_eq!(page["counts"]["albums"]["direct"], 1);
    assert_eq!(
        ids(&all_pages(&admin.app, "/api/v1/tracks?taxonomy=mood:calm").await),
        [3, 4]
    );
    let (_, artists) = admin
        .app
        .get_json("/api/v1/artists?taxonomy=mood:calm")
        .await;
    assert_eq!(artists["data"], json!([]));
    let found = admin.search(&[("q", "salute"), ("type", "track")]).await;
    assert!(found["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["item"]["id"] == 1));
    assert!(
        found["facets"]["taxonomy"].get("mood").is_none(),
        "track 1 is no longer calm: {found}"
    );
}

/// Known gap, reported: admin track writes do not keep the seeded `genre`, `format` and
/// `length` attachments in step with the track's columns, so the taxonomy filter and the
/// plain filter disagree after a write.
#[tokio::test]
async fn a_written_track_is_filed_under_the_seeded_terms_its_columns_name() {
    let admin = Admin::spawn().await;
    let created = admin
        .ok(admin.post("/api/v1/admin/tracks", new_track()).await, 201)
        .await;
    let id = created["id"].as_i64().unwrap();
    for filter in [
        "genre:rock",
        "format:mpeg-audio-file",
        "length:3-to-6-minutes",
    ] {
        let listed = all_pages(
            &admin.app,
            &format!("/api/v1/tracks?taxonomy={filter}&fields=id"),
        )
        .await;
        assert!(
            ids(&listed).contains(&id),
            "new track {id} not under {filter}"
        );
    }
    admin
        .ok(
            admin
                .patch(
                    "/api/v1/admin/tracks/1",
                    json!({"genre_id": 2, "milliseconds": 700_000}),
                )
                .await,
            200,
        )
        .await;
    for (filter, expected) in [
        ("genre:rock", false),
        ("genre:jazz", true),
        ("length:3-to-6-minutes", false),
        ("length:over-10-minutes", true),
    ] {
        let listed = all_pages(
            &admin.app,
            &format!("/api/v1/tracks?taxonomy={filter}&fields=id"),
        )
        .await;
        assert_eq!(
            ids(&listed).contains(&1),
            expected,
            "track 1 under {filter}"
        );
    }
}
