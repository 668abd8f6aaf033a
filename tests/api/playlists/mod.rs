//! Customers' own playlists: made, filled, reordered and shared by their owner alone, kept in
//! exactly the order given, private until made public, and seen by the catalog (and its
//! index) the moment a write answers.

mod access;
mod bad_input;
mod long;

use std::time::{Duration, Instant};

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};
use crate::taxonomy::{all_pages, ids};
use chinook::config::Config;
use reqwest::Method;
use serde_json::{json, Value};

pub const LUIS: &str = "luisg@embraer.com.br";
pub const LEONIE: &str = "leonekohler@surfeu.de";

/// The app with two customers signed in.
pub struct Store {
    pub app: TestApp,
    pub luis: String,
    pub leonie: String,
}

impl Store {
    pub async fn open() -> Self {
        Self::open_with(|_| {}).await
    }

    pub async fn open_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let app = TestApp::spawn_with(adjust).await;
        let luis = app.login(LUIS, DEMO_PASSWORD).await;
        let leonie = app.login(LEONIE, DEMO_PASSWORD).await;
        Self { app, luis, leonie }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.app.client.request(method, self.app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("the request is answered")
    }

    /// A request that must answer `status`; returns its body (`Null` when empty).
    pub async fn expect(
        &self,
        status: u16,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let response = self.call(method.clone(), path, Some(token), body).await;
        let got = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Creates a playlist for `token` and returns its id.
    pub async fn create(&self, token: &str, name: &str, visibility: &str) -> i64 {
        let body = json!({"name": name, "visibility": visibility});
        let created = self
            .expect(201, Method::POST, "/api/v1/me/playlists", token, Some(body))
            .await;
        created["id"].as_i64().unwrap()
    }

    pub async fn add(&self, token: &str, id: i64, body: Value) -> Value {
        let path = format!("/api/v1/me/playlists/{id}/tracks");
        self.expect(200, Method::POST, &path, token, Some(body))
            .await
    }

    /// The owner's view of a playlist.
    pub async fn own(&self, token: &str, id: i64) -> Value {
        let path = format!("/api/v1/me/playlists/{id}");
        self.expect(200, Method::GET, &path, token, None).await
    }

    /// What anyone sees at a catalog path: (status, body).
    pub async fn public(&self, path: &str) -> (u16, Value) {
        self.app.get_json(path).await
    }
}

pub fn track_ids(body: &Value) -> Vec<i64> {
    body["track_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect()
}

/// The track ids of a public playlist, in order, as the catalog serves them.
pub async fn catalog_order(store: &Store, id: i64) -> Vec<i64> {
    let tracks = all_pages(&store.app, &format!("/api/v1/playlists/{id}/tracks")).await;
    for (at, track) in tracks.iter().enumerate() {
        assert_eq!(track["position"], at + 1, "{track}");
    }
    ids(&tracks)
}

#[tokio::test]
async fn a_customer_builds_a_playlist_and_the_catalog_shows_its_exact_order_once_public() {
    let store = Store::open().await;
    let created = store
        .call(
            Method::POST,
            "/api/v1/me/playlists",
            Some(&store.luis),
            Some(json!({"name": "  Road trip  "})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/me/playlists/{id}"));
    assert_eq!(
        created,
        json!({"id": id, "name": "Road trip", "visibility": "private", "track_count": 0, "track_ids": []})
    );

    store
        .add(&store.luis, id, json!({"track_ids": [3, 1, 2]}))
        .await;
    store
        .add(&store.luis, id, json!({"track_ids": [5, 4], "position": 2}))
        .await;
    let with_repeat = store
        .add(
            &store.luis,
            id,
            json!({"track_ids": [1], "allow_duplicates": true}),
        )
        .await;
    assert_eq!(track_ids(&with_repeat), [3, 5, 4, 1, 2, 1]);

    let path = format!("/api/v1/me/playlists/{id}/tracks");
    let reordered = store
        .expect(
            200,
            Method::PUT,
            &path,
            &store.luis,
            Some(json!({"track_ids": [1, 2, 1, 3, 4, 5]})),
        )
        .await;
    assert_eq!(track_ids(&reordered), [1, 2, 1, 3, 4, 5]);
    let removed = store
        .expect(200, Method::DELETE, &format!("{path}/4"), &store.luis, None)
        .await;
    assert_eq!(track_ids(&removed), [1, 2, 1, 4, 5]);
    assert_eq!(removed["track_count"], 5);
    assert_eq!(store.own(&store.luis, id).await, removed);

    // Private: the catalog knows nothing of it.
    let (status, _) = store.public(&format!("/api/v1/playlists/{id}")).await;
    assert_eq!(status, 404);

    let shared = store
        .expect(
            200,
            Method::PATCH,
            &format!("/api/v1/me/playlists/{id}"),
            &store.luis,
            Some(json!({"visibility": "public"})),
        )
        .await;
    assert_eq!(shared["name"], "Road trip", "a patch keeps what it omits");
    assert_eq!(shared["visibility"], "public");
    let (status, detail) = store.public(&format!("/api/v1/playlists/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        detail,
        json!({"id": id, "name": "Road trip", "track_count": 5})
    );
    assert_eq!(catalog_order(&store, id).await, [1, 2, 1, 4, 5]);
    let (_, newest) = store
        .public("/api/v1/playlists?sort=-id&limit=1&include=tracks")
        .await;
    assert_eq!(newest["data"][0]["id"], id);
    assert_eq!(
        ids(newest["data"][0]["tracks"].as_array().unwrap()),
        [1, 2, 1, 4, 5]
    );
}

#[tokio::test]
async fn the_catalog_and_its_index_follow_every_write_at_once() {
    let store = Store::open().await;
    let id = store.create(&store.luis, "Shared", "public").await;
    let detail = format!("/api/v1/playlists/{id}");
    assert_eq!(store.public(&detail).await.1["track_count"], 0);
    assert_eq!(all_pages(&store.app, "/api/v1/playlists").await.len(), 19);

    store
        .add(&store.luis, id, json!({"track_ids": [10, 20, 30]}))
        .await;
    assert_eq!(store.public(&detail).await.1["track_count"], 3);
    assert_eq!(catalog_order(&store, id).await, [10, 20, 30]);

    let own = format!("/api/v1/me/playlists/{id}");
    let rename = json!({"name": "Renamed"});
    store
        .expect(200, Method::PATCH, &own, &store.luis, Some(rename))
        .await;
    assert_eq!(store.public(&detail).await.1["name"], "Renamed");

    let private = json!({"visibility": "private"});
    store
        .expect(200, Method::PATCH, &own, &store.luis, Some(private))
        .await;
    assert_eq!(store.public(&detail).await.0, 404);
    assert_eq!(
        store.public(&format!("{detail}/tracks")).await.0,
        404,
        "a private playlist's tracks are as unknown as the playlist"
    );
    assert_eq!(all_pages(&store.app, "/api/v1/playlists").await.len(), 18);

    let public = json!({"visibility": "public"});
    store
        .expect(200, Method::PATCH, &own, &store.luis, Some(public))
        .await;
    assert_eq!(store.public(&detail).await.1["name"], "Renamed");

    store
        .expect(204, Method::DELETE, &own, &store.luis, None)
        .await;
    assert_eq!(store.public(&detail).await.0, 404);
    assert_eq!(
        store
            .expect(404, Method::GET, &own, &store.luis, None)
            .await["status"],
        404
    );
    let entries: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM playlist_track WHERE playlist_id = $1")
            .bind(id)
            .fetch_one(store.app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(entries, 0, "a deleted playlist leaves no entries behind");
}

#[tokio::test]
async fn a_track_already_on_the_playlist_is_a_409_unless_duplicates_are_asked_for() {
    let store = Store::open().await;
    let id = store.create(&store.luis, "Repeats", "private").await;
    store
        .add(&store.luis, id, json!({"track_ids": [1, 2]}))
        .await;

    let path = format!("/api/v1/me/playlists/{id}/tracks");
    let again = Some(json!({"track_ids": [3, 2]}));
    let problem = assert_problem(
        store
            .call(Method::POST, &path, Some(&store.luis), again)
            .await,
        409,
    )
    .await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("already has track(s) 2;"), "{detail}");
    assert!(detail.contains("allow_duplicates"), "{detail}");

    let twice = Some(json!({"track_ids": [7, 7]}));
    let problem = assert_problem(
        store
            .call(Method::POST, &path, Some(&store.luis), twice)
            .await,
        422,
    )
    .await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("names 7 more than once"));
    assert_eq!(track_ids(&store.own(&store.luis, id).await), [1, 2]);

    let asked = json!({"track_ids": [2, 7, 7], "allow_duplicates": true, "position": 1});
    let added = store.add(&store.luis, id, asked).await;
    assert_eq!(track_ids(&added), [2, 7, 7, 1, 2]);
}

#[tokio::test]
async fn a_customers_playlists_come_in_pages_whose_cursors_are_theirs_alone() {
    let store = Store::open().await;
    let mut made = Vec::new();
    for name in ["One", "Two", "Three"] {
        made.push(store.create(&store.luis, name, "private").await);
    }
    let first = store
        .expect(
            200,
            Method::GET,
            "/api/v1/me/playlists?limit=2",
            &store.luis,
            None,
        )
        .await;
    assert_eq!(ids(first["data"].as_array().unwrap()), made[..2]);
    let cursor = first["page"]["next_cursor"].as_str().unwrap();
    let next = format!("/api/v1/me/playlists?limit=2&cursor={cursor}");
    let second = store
        .expect(200, Method::GET, &next, &store.luis, None)
        .await;
    assert_eq!(ids(second["data"].as_array().unwrap()), made[2..]);
    assert!(second["page"]["next_cursor"].is_null());

    let borrowed = store
        .call(Method::GET, &next, Some(&store.leonie), None)
        .await;
    assert_problem(borrowed, 400).await;
}

#[tokio::test]
async fn another_instance_follows_a_shared_playlist_through_the_change_feed() {
    let store = Store::open().await;
    let peer = store.app.spawn_peer().await;
    let id = store.create(&store.luis, "Everywhere", "public").await;
    store
        .add(&store.luis, id, json!({"track_ids": [9, 8]}))
        .await;

    let started = Instant::now();
    loop {
        let (status, body) = peer.get_json(&format!("/api/v1/playlists/{id}")).await;
        if status == 200 && body["track_count"] == 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the peer still answers {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, page) = peer
        .get_json(&format!("/api/v1/playlists/{id}/tracks"))
        .await;
    assert_eq!(ids(page["data"].as_array().unwrap()), [9, 8]);
}
