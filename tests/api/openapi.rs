//! The OpenAPI document covers every route, and every route in it is served.

use serde_json::Value;

use crate::helpers::TestApp;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[tokio::test]
async fn the_document_is_openapi_3_1_and_served() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::spawn().await;
    let (_, doc) = app.get_json("/api/openapi.json").await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 9, "{:?}", paths.keys().collect::<Vec<_>>());
    for (path, item) in paths {
        let concrete = path.replace("{id}", "1");
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let response = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let unrouted = body["type"] == "/problems/method-not-allowed"
                || (status == 404
                    && body["detail"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("there is no resource")));
            assert!(
                !unrouted,
                "{method} {path} is documented but not routed: {body}"
            );
        }
    }
}

#[tokio::test]
async fn every_operation_documents_its_errors() {
    let doc = serde_json::to_value(chinook::routes::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let operation = &item[*method];
            let responses = operation["responses"].as_object().unwrap();
            let documented = |code: &str| responses.contains_key(code);
            if operation.get("requestBody").is_some() {
                for code in ["400", "413", "415", "422"] {
                    assert!(documented(code), "{method} {path} lacks {code}");
                }
            }
            if path.starts_with("/api/v1/") {
                for code in ["500", "503"] {
                    assert!(documented(code), "{method} {path} lacks {code}");
                }
            }
            if operation.get("security").is_some() {
                assert!(documented("401"), "{method} {path} lacks 401");
            }
            for (code, response) in responses {
                if code.starts_with('4') || code.starts_with('5') {
                    let problem = &response["content"]["application/problem+json"];
                    let health = path.starts_with("/health");
                    assert!(
                        problem.is_object() || health,
                        "{method} {path} {code} is not a problem"
                    );
                }
            }
        }
    }
}

/// Every handler in `src/routes` carries `#[utoipa::path]`, so none escapes the document.
#[test]
fn every_handler_in_the_source_is_documented() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let is_route = [
                "#[get(",
                "#[post(",
                "#[put(",
                "#[patch(",
                "#[delete(",
                "#[route(",
            ]
            .iter()
            .any(|m| trimmed.starts_with(m));
            if is_route {
                let before = lines[..i].iter().rev().take_while(|l| {
                    !l.trim().is_empty() && !l.trim_start().starts_with("async fn")
                });
                let documented = before
                    .clone()
                    .any(|l| l.trim_start().starts_with("#[utoipa::path"));
                assert!(
                    documented,
                    "{}:{} has a route without #[utoipa::path]",
                    path.display(),
                    i + 1
                );
            }
        }
        assert!(
            !source.contains(".route("),
            "{}: register routes with .service()",
            path.display()
        );
    }
}

#[tokio::test]
async fn the_docs_page_loads_its_script_and_the_document() {
    let app = TestApp::spawn().await;
    let page = app.get("/docs").await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"spec-url="/api/openapi.json""#));
    let script = app.get("/docs/rapidoc-min.js").await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.bytes().await.unwrap().len() > 100_000);
}

/// The schema a `$ref` names, from the document's components.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// The JSON schema of one operation's response (or of its request body, for `"request"`).
fn body_schema<'a>(doc: &'a Value, path: &str, method: &str, status: &str) -> &'a Value {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is documented");
    let content = if status == "request" {
        &operation["requestBody"]["content"]["application/json"]
    } else {
        &operation["responses"][status]["content"]["application/json"]
    };
    assert!(
        content.is_object(),
        "{method} {path} {status} has a JSON body"
    );
    resolve(doc, &content["schema"])
}

fn properties(schema: &Value) -> Vec<String> {
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn the_player_credential_endpoints_are_documented_with_their_schemas() {
    let doc = serde_json::to_value(chinook::routes::openapi()).unwrap();
    let keys = "/api/v1/me/subsonic/api-keys";
    let request = body_schema(&doc, keys, "post", "request");
    assert_eq!(properties(request), ["name"]);
    assert_eq!(request["required"], serde_json::json!(["name"]));
    let made = body_schema(&doc, keys, "post", "201");
    assert_eq!(properties(made), ["created_at", "id", "key", "name"]);
    let listed = body_schema(&doc, keys, "get", "200");
    assert_eq!(listed["type"], "array");
    let key = resolve(&doc, &listed["items"]);
    assert_eq!(
        properties(key),
        ["created_at", "id", "name"],
        "never the key"
    );
    let revoke = &doc["paths"]["/api/v1/me/subsonic/api-keys/{id}"]["delete"];
    assert!(revoke["responses"]["204"].is_object() && revoke["responses"]["404"].is_object());

    let app_password = "/api/v1/me/subsonic/app-password";
    let made = body_schema(&doc, app_password, "post", "201");
    assert_eq!(properties(made), ["created_at", "password"]);
    let status = body_schema(&doc, app_password, "get", "200");
    assert_eq!(properties(status), ["created_at"], "never the password");
    let remove = &doc["paths"][app_password]["delete"];
    assert!(remove["responses"]["204"].is_object() && remove["responses"]["404"].is_object());
    for (path, method) in [
        (keys, "get"),
        (keys, "post"),
        ("/api/v1/me/subsonic/api-keys/{id}", "delete"),
        (app_password, "get"),
        (app_password, "post"),
        (app_password, "delete"),
    ] {
        let operation = &doc["paths"][path][method];
        assert_eq!(
            operation["security"][0]["bearer"],
            serde_json::json!([]),
            "{method} {path}"
        );
        assert!(operation["responses"]["401"].is_object(), "{method} {path}");
    }
}

fn parameter<'a>(doc: &'a Value, path: &str, name: &str) -> Option<&'a Value> {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
}

/// A parameter is declared only where the server takes it, with the form it checks.
#[test]
fn each_list_declares_only_the_parameters_its_kind_takes() {
    let doc = serde_json::to_value(chinook::routes::openapi()).unwrap();
    for list in [
        "artists",
        "albums",
        "tracks",
        "genres",
        "media-types",
        "playlists",
    ] {
        let path = format!("/api/v1/{list}");
        assert!(parameter(&doc, &path, "descendants").is_none(), "{path}");
        assert_eq!(
            parameter(&doc, &path, "limit").unwrap()["schema"]["minimum"],
            1
        );
    }
    let term_tracks = "/api/v1/taxonomies/{type}/{slug}/tracks";
    assert_eq!(
        parameter(&doc, term_tracks, "descendants").unwrap()["schema"]["type"],
        "boolean"
    );
    assert!(parameter(&doc, "/api/v1/albums", "genre").is_none());
    assert!(parameter(&doc, "/api/v1/albums", "artist_id").is_some());
    assert!(parameter(&doc, "/api/v1/genres", "include").is_none());
    let sorts = &parameter(&doc, "/api/v1/albums", "sort").unwrap()["schema"]["enum"];
    assert!(sorts.as_array().unwrap().contains(&Value::from("-name")));
    assert!(!sorts
        .as_array()
        .unwrap()
        .contains(&Value::from("popularity")));
    let id = &parameter(&doc, "/api/v1/tracks/{id}", "id").unwrap()["schema"];
    assert_eq!(
        (id["type"].as_str(), id["minimum"].as_i64()),
        (Some("integer"), Some(1))
    );
    assert!(parameter(&doc, "/api/v1/search/suggest", "cursor").is_none());
    assert_eq!(
        parameter(&doc, "/api/v1/search", "q").unwrap()["required"],
        true
    );
}

#[test]
fn the_idempotency_key_and_the_taxonomy_answer_are_declared() {
    let doc = serde_json::to_value(chinook::routes::openapi()).unwrap();
    let key = doc["paths"]["/api/v1/purchases"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap();
    assert_eq!(key["required"], true);
    assert_eq!(key["schema"]["maxLength"], 255);
    assert_eq!(key["schema"]["pattern"], "^[!-~]+$");
    let answer = &doc["paths"]["/api/v1/taxonomies"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"]["$ref"];
    let name = answer.as_str().unwrap().rsplit('/').next().unwrap();
    let shapes = doc["components"]["schemas"][name]["oneOf"]
        .as_array()
        .unwrap();
    assert_eq!(shapes.len(), 2, "{shapes:?}");
}

/// What the document declares, the server does: a types list without `type`, and a term
/// filter naming nothing is the 404 the lists declare.
#[tokio::test]
async fn the_server_answers_the_shapes_it_declares() {
    let app = TestApp::spawn().await;
    let (status, types) = app.get_json("/api/v1/taxonomies").await;
    assert_eq!(status, 200);
    assert!(types["data"][0]["term_count"].is_u64(), "{types}");
    let (status, _) = app
        .get_json("/api/v1/tracks?taxonomy=genre:no-such-term")
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json("/api/v1/tracks?include=").await;
    assert_eq!(status, 400);
}
