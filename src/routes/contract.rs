//! Makes the OpenAPI document exact where derived parameter types cannot be: each list
//! declares only the parameters its kind takes (from the tables the list parser checks), and
//! ids, pages, enumerations and headers carry the bounds and forms the server enforces.

use serde_json::{json, Value};

use crate::browse::list::{known_fields, known_includes, sort_names, FILTER_KINDS, MAX_TERMS};
use crate::catalog::Kind;
use crate::paging::MAX_LIMIT;
use crate::store::accounts::MAX_FIELD_CHARS;
use crate::taxonomy::MAX_SLUG;
use crate::text::{BLANK_PATTERN, NAME_PATTERN};

/// The catalog lists and details, by path, with the kind they serve.
const CATALOG: [(&str, Kind); 6] = [
    ("artists", Kind::Artist),
    ("albums", Kind::Album),
    ("tracks", Kind::Track),
    ("genres", Kind::Genre),
    ("media-types", Kind::MediaType),
    ("playlists", Kind::Playlist),
];

/// Most suggestions one request takes (`GET /search/suggest`).
const MAX_SUGGESTIONS: u64 = 20;

pub fn tighten(doc: &mut utoipa::openapi::OpenApi) {
    let mut value = serde_json::to_value(&*doc).expect("the OpenAPI document serialises");
    if let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in item.iter_mut() {
                if let Some(parameters) = operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
                {
                    tighten_parameters(path, method, parameters);
                }
                let filters_by_term = operation["parameters"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["name"] == "taxonomy"));
                if filters_by_term {
                    if let Some(responses) = operation
                        .get_mut("responses")
                        .and_then(Value::as_object_mut)
                    {
                        responses.entry("404").or_insert_with(|| {
                            json!({
                                "description": "`taxonomy` names a term that does not exist",
                                "content": {"application/problem+json": {
                                    "schema": {"$ref": "#/components/schemas/Problem"}}}
                            })
                        });
                    }
                }
            }
        }
    }
    fields_are_optional(&mut value);
    registration(&mut value);
    id_lists(&mut value);
    bodies(&mut value);
    *doc = serde_json::from_value(value).expect("the tightened document is OpenAPI");
}

/// `schema` as `anyOf` the `branches`, keeping its description.
fn alternatives(schema: &Value, branches: [Value; 2]) -> Value {
    let mut alternatives = json!({"anyOf": branches});
    if let Some(description) = schema.get("description") {
        alternatives["description"] = description.clone();
    }
    alternatives
}

/// Every request body's list of ids (`track_ids`, `album_ids`, ...) holds ids, which start
/// at 1 like every id in a path.
fn id_lists(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for schema in schemas.values_mut() {
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (name, property) in properties.iter_mut() {
            let integers = property["type"] == "array" && property["items"]["type"] == "integer";
            if name.ends_with("_ids") && integers {
                if let Some(items) = property.get_mut("items").and_then(Value::as_object_mut) {
                    items.insert("minimum".into(), json!(1));
                }
            }
        }
    }
}

fn id_schema() -> Value {
    json!({"type": "integer", "format": "int64", "minimum": 1})
}

/// A comma-separated list of names, as `fields=id,name` sends it.
fn names_schema(names: &[&str]) -> Value {
    json!({"type": "array", "items": {"type": "string", "enum": names}, "minItems": 1})
}

/// The kind a catalog path serves, and whether it is a list (else a detail by id).
fn catalog_kind(path: &str) -> Option<(Kind, bool)> {
    if path == "/api/v1/taxonomies/{type}/{slug}/tracks" {
        return Some((Kind::Track, true));
    }
    let rest = path.strip_prefix("/api/v1/")?;
    let (name, detail) = match rest.strip_suffix("/{id}") {
        Some(name) => (name, true),
        None => (rest, false),
    };
    CATALOG
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, kind)| (*kind, !detail))
}

fn tighten_parameters(path: &str, method: &str, parameters: &mut Vec<Value>) {
    let catalog = if method == "get" {
        catalog_kind(path)
    } else {
        None
    };
    let term_tracks = path.ends_with("/{slug}/tracks");
    let search = path.starts_with("/api/v1/search");
    let suggest = path == "/api/v1/search/suggest";
    parameters.retain(|p| {
        let name = p["name"].as_str().unwrap_or_default();
        if let Some((kind, list)) = catalog {
            if name == "descendants" {
                return term_tracks;
            }
            if name == "include" {
                return !known_includes(kind).is_empty();
            }
            if let Some((_, kinds)) = FILTER_KINDS.iter().find(|(f, _)| *f == name) {
                return list && kinds.contains(&kind);
            }
        }
        // Suggestions have no pages and embed nothing.
        !(suggest && (name == "cursor" || name == "include"))
    });
    for parameter in parameters.iter_mut() {
        let Some(parameter) = parameter.as_object_mut() else {
            continue;
        };
        let name = parameter["name"].as_str().unwrap_or_default().to_owned();
        let place = parameter["in"].as_str().unwrap_or_default().to_owned();
        let schema = match (place.as_str(), name.as_str()) {
            ("path", "id" | "invoice_id" | "position") => Some(id_schema()),
            ("path", "type" | "slug") => Some(json!({
                "type": "string", "minLength": 1, "maxLength": MAX_SLUG,
                "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"
            })),
            ("query", "limit") => {
                let most = if suggest {
                    MAX_SUGGESTIONS
                } else {
                    MAX_LIMIT as u64
                };
                Some(json!({"type": "integer", "minimum": 1, "maximum": most}))
            }
            ("query", "cursor") => Some(json!({"type": "string", "minLength": 1})),
            ("query", "genre" | "genre_id" | "album_id" | "artist_id" | "media_type") => {
                Some(id_schema())
            }
            ("query", "min_ms" | "max_ms") => {
                Some(json!({"type": "integer", "minimum": 0, "maximum": u64::MAX}))
            }
            ("query", "min_price" | "max_price") => Some(json!({
                "type": "string", "pattern": "^[0-9]{1,9}(\\.[0-9]{1,2})?$"
            })),
            ("query", "taxonomy") => {
                parameter.insert("style".into(), json!("form"));
                parameter.insert("explode".into(), json!(false));
                Some(json!({
                    "type": "array", "minItems": 1, "maxItems": MAX_TERMS,
                    "items": {"type": "string", "maxLength": MAX_SLUG,
                              "pattern": "^[a-z0-9]+(-[a-z0-9]+)*:[a-z0-9]+(-[a-z0-9]+)*$"}
                }))
            }
            ("query", "descendants") => Some(json!({"type": "boolean"})),
            ("query", "q") if search => Some(json!({
                "type": "string", "minLength": 1, "pattern": "[^\\W_]"
            })),
            ("query", "q") if path == "/api/v1/me/library" => Some(json!({
                "type": "string", "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*$"
            })),
            ("query", "type") if search => {
                parameter.insert("style".into(), json!("form"));
                parameter.insert("explode".into(), json!(false));
                Some(names_schema(&["track", "album", "artist"]))
            }
            ("query", "include") if search => {
                parameter.insert("style".into(), json!("form"));
                parameter.insert("explode".into(), json!(false));
                Some(names_schema(&["album", "artist"]))
            }
            ("query", "sort") => catalog.map(|(kind, _)| {
                let mut names: Vec<String> = Vec::new();
                for name in sort_names(kind) {
                    names.push((*name).to_owned());
                    names.push(format!("-{name}"));
                }
                json!({"type": "string", "enum": names})
            }),
            ("query", "fields") => catalog.map(|(kind, _)| {
                parameter.insert("style".into(), json!("form"));
                parameter.insert("explode".into(), json!(false));
                names_schema(known_fields(kind))
            }),
            ("query", "include") => catalog.map(|(kind, _)| {
                parameter.insert("style".into(), json!("form"));
                parameter.insert("explode".into(), json!(false));
                names_schema(known_includes(kind))
            }),
            ("query", "size") if path.ends_with("/cover") => {
                Some(json!({"type": "integer", "enum": [64, 128, 300, 600]}))
            }
            ("query", "format") if path.ends_with("/cover") => {
                Some(json!({"type": "string", "enum": ["webp", "jpeg"]}))
            }
            ("query", "format") if path.ends_with("/download") => {
                Some(json!({"type": "string", "enum": ["flac", "mp3"]}))
            }
            ("header", "Idempotency-Key") => Some(json!({
                "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"
            })),
            _ => None,
        };
        if let Some(schema) = schema {
            parameter.insert("schema".into(), schema);
        }
        if search && name == "q" {
            parameter.insert("required".into(), json!(true));
        }
    }
}

/// A list page's entries hold only the fields `fields=` asks for, so none is required.
fn fields_are_optional(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let pages = [
        "ArtistPage",
        "AlbumPage",
        "TrackPage",
        "GenrePage",
        "MediaTypePage",
        "PlaylistPage",
    ];
    for page in pages {
        let Some(entry) = schemas
            .get(page)
            .and_then(|p| p.pointer("/properties/data/items/$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        else {
            continue;
        };
        let Some(mut entry) = schemas.get(entry).cloned() else {
            continue;
        };
        if let Some(entry) = entry.as_object_mut() {
            entry.remove("required");
            entry.insert(
                "description".into(),
                json!("The fields `fields=` asks for; all of them without it"),
            );
        }
        if let Some(items) = schemas
            .get_mut(page)
            .and_then(|p| p.pointer_mut("/properties/data/items"))
        {
            *items = entry;
        }
    }
}

/// A sign-up's fields as `store::accounts` checks them: names with a visible character and
/// no control or bidirectional characters, optional ones blank or the same.
fn registration(doc: &mut Value) {
    let Some(properties) = doc
        .pointer_mut("/components/schemas/Registration/properties")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let blank_or_name = format!("{BLANK_PATTERN}|{NAME_PATTERN}");
    for (field, schema) in properties.iter_mut() {
        let Some(schema) = schema.as_object_mut() else {
            continue;
        };
        match field.as_str() {
            "email" => {
                schema.insert("format".into(), json!("email"));
                schema.insert("maxLength".into(), json!(254));
            }
            "first_name" | "last_name" => {
                schema.insert("pattern".into(), json!(NAME_PATTERN));
                schema.insert("maxLength".into(), json!(MAX_FIELD_CHARS));
            }
            "password" => {}
            _ => {
                schema.insert("pattern".into(), json!(blank_or_name));
                schema.insert("maxLength".into(), json!(MAX_FIELD_CHARS));
            }
        }
    }
}

/// Most characters in a playlist's name.
const MAX_PLAYLIST_NAME: usize = 200;

/// Request and response bodies whose derived schemas say less than the server checks or
/// sends: a playlist's name, a merge patch's fields, an order's items, a facet's value.
fn bodies(doc: &mut Value) {
    let name = json!({
        "type": "string", "minLength": 1, "maxLength": MAX_PLAYLIST_NAME, "pattern": NAME_PATTERN
    });
    if let Some(schema) = doc.pointer_mut("/components/schemas/PlaylistInput/properties/name") {
        *schema = name.clone();
    }
    if let Some(schema) = doc.pointer_mut("/components/schemas/KeyRequest/properties/name") {
        *schema =
            json!({"type": "string", "minLength": 1, "maxLength": 80, "pattern": NAME_PATTERN});
    }
    if let Some(schema) = doc.pointer_mut(
        "/paths/~1api~1v1~1me~1playlists~1{id}/patch/requestBody/content/application~1json/schema",
    ) {
        *schema = json!({
            "type": "object",
            // A merge patch: `null` puts the visibility back to its default.
            "properties": {"name": name, "visibility": {"oneOf": [
                {"$ref": "#/components/schemas/Visibility"}, {"type": "null"}
            ]}},
            "additionalProperties": false
        });
    }
    // An order names at least one id; as whole alternatives, since generators that read an
    // object's `properties` and `required` pass over an `anyOf` beside them.
    if let Some(order) = doc.pointer_mut("/components/schemas/Order") {
        let some = |field: &str| {
            let mut branch = order.clone();
            branch["required"] = json!([field]);
            branch["properties"][field]["minItems"] = json!(1);
            branch
        };
        let (tracks, albums) = (some("track_ids"), some("album_ids"));
        *order = alternatives(order, [tracks, albums]);
    }
    if let Some(addition) = doc.pointer_mut("/components/schemas/TrackAddition") {
        addition["properties"]["track_ids"]["minItems"] = json!(1);
        addition["properties"]["track_ids"]["maxItems"] = json!(1000);
        addition["properties"]["position"]["minimum"] = json!(1);
        // Without `allow_duplicates: true` the ids are distinct.
        let mut distinct = addition.clone();
        distinct["properties"]["track_ids"]["uniqueItems"] = json!(true);
        distinct["properties"]["allow_duplicates"] = json!({"type": "boolean", "enum": [false]});
        let mut repeats = addition.clone();
        repeats["properties"]["allow_duplicates"] = json!({"type": "boolean", "enum": [true]});
        let mut required = repeats["required"].as_array().cloned().unwrap_or_default();
        required.push(json!("allow_duplicates"));
        repeats["required"] = Value::Array(required);
        *addition = alternatives(addition, [distinct, repeats]);
    }
    if let Some(value) = doc.pointer_mut("/components/schemas/FacetCount/properties/value") {
        *value = json!({
            "type": ["integer", "string"],
            "description": "A genre or media type id, or a price such as `\"0.99\"`."
        });
    }
}
