//! The catalog export: every track exactly once, in id order, as NDJSON or RFC 4180 CSV that
//! parse back into the same rows as SQL has them; admins only.

use futures_util::StreamExt;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};
use crate::staff::{ADMIN, CUSTOMER, MANAGER};

const COLUMNS: [&str; 14] = [
    "id",
    "name",
    "album_id",
    "album",
    "artist_id",
    "artist",
    "genre_id",
    "genre",
    "media_type_id",
    "media_type",
    "composer",
    "milliseconds",
    "bytes",
    "unit_price",
];

/// Every track as SQL has it, in the export's shape.
async fn tracks_from_sql(app: &TestApp) -> Vec<Value> {
    let rows = sqlx::query(
        "SELECT t.track_id, t.name, t.album_id, al.title, al.artist_id, ar.name, t.genre_id, \
                g.name, t.media_type_id, m.name, t.composer, t.milliseconds, t.bytes, \
                t.unit_price_cents \
         FROM track t, media_type m, album al, artist ar, genre g \
         WHERE m.media_type_id = t.media_type_id AND al.album_id = t.album_id \
           AND ar.artist_id = al.artist_id AND g.genre_id = t.genre_id \
         ORDER BY t.track_id",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            let cents: i64 = r.get(13);
            json!({
                "id": r.get::<i64, _>(0), "name": r.get::<String, _>(1),
                "album_id": r.get::<i64, _>(2), "album": r.get::<String, _>(3),
                "artist_id": r.get::<i64, _>(4), "artist": r.get::<String, _>(5),
                "genre_id": r.get::<i64, _>(6), "genre": r.get::<String, _>(7),
                "media_type_id": r.get::<i64, _>(8), "media_type": r.get::<String, _>(9),
                "composer": r.get::<Option<String>, _>(10),
                "milliseconds": r.get::<i64, _>(11), "bytes": r.get::<Option<i64>, _>(12),
                "unit_price": format!("{}.{:02}", cents / 100, cents % 100),
            })
        })
        .collect()
}

/// A row as CSV writes it: every value as text, a missing one empty.
fn as_csv_record(row: &Value) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|c| match &row[*c] {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Parses RFC 4180 CSV: CRLF between records, fields in double quotes may hold commas,
/// line breaks and doubled quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => {
                assert!(
                    field.is_empty(),
                    "a quote inside an unquoted field: {field}"
                );
                quoted = true;
            }
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "records end with CRLF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, '\n') => panic!("a bare LF ends a record"),
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "an unterminated quoted field");
    assert!(
        field.is_empty() && record.is_empty(),
        "the last record lacks its CRLF"
    );
    records
}

async fn export(app: &TestApp, token: &str, format: &str) -> reqwest::Response {
    let path = format!("/api/v1/admin/export?format={format}");
    let response = app.get_authed(&path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    response
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers()[name].to_str().unwrap()
}

#[tokio::test]
async fn ndjson_has_every_track_once_in_id_order_as_sql_has_it() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let response = export(&app, &token, "ndjson").await;
    assert_eq!(header(&response, "content-type"), "application/x-ndjson");
    assert_eq!(
        header(&response, "content-disposition"),
        r#"attachment; filename="chinook-catalog.ndjson""#
    );
    let body = response.text().await.unwrap();
    assert!(body.ends_with('\n'));
    let rows: Vec<Value> = body
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let expected = tracks_from_sql(&app).await;
    assert_eq!(expected.len(), 3503);
    assert_eq!(rows, expected);
    assert_eq!(
        rows[0],
        json!({
            "id": 1, "name": "For Those About To Rock (We Salute You)",
            "album_id": 1, "album": "For Those About To Rock We Salute You",
            "artist_id": 1, "artist": "AC/DC", "genre_id": 1, "genre": "Rock",
            "media_type_id": 1, "media_type": "MPEG audio file",
            "composer": "Angus Young, Malcolm Young, Brian Johnson",
            "milliseconds": 343719, "bytes": 11170334, "unit_price": "0.99"
        })
    );
}

#[tokio::test]
async fn csv_has_a_header_and_parses_back_into_the_same_rows() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let response = export(&app, &token, "csv").await;
    assert_eq!(header(&response, "content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        header(&response, "content-disposition"),
        r#"attachment; filename="chinook-catalog.csv""#
    );
    let body = response.text().await.unwrap();
    let records = parse_csv(&body);
    assert_eq!(records[0], COLUMNS);
    let expected: Vec<Vec<String>> = tracks_from_sql(&app)
        .await
        .iter()
        .map(as_csv_record)
        .collect();
    assert_eq!(records.len() - 1, 3503);
    assert_eq!(records[1..], expected[..]);
    assert!(body.starts_with(
        "id,name,album_id,album,artist_id,artist,genre_id,genre,media_type_id,media_type,\
         composer,milliseconds,bytes,unit_price\r\n\
         1,For Those About To Rock (We Salute You),1,For Those About To Rock We Salute You,1,\
         AC/DC,1,Rock,1,MPEG audio file,\"Angus Young, Malcolm Young, Brian Johnson\",343719,\
         11170334,0.99\r\n"
    ));
}

#[tokio::test]
async fn csv_quotes_commas_quotes_and_line_breaks_as_rfc_4180_says() {
    let app = TestApp::spawn().await;
    sqlx::query("UPDATE track SET composer = $1 WHERE track_id = 3")
        .bind("Line one,\r\nline \"two\"")
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let body = export(&app, &token, "csv").await.text().await.unwrap();
    // Track 125 is `Spanish moss-"A sound portrait"-Spanish moss`.
    assert!(body.contains("\r\n125,\"Spanish moss-\"\"A sound portrait\"\"-Spanish moss\",13,"));
    assert!(body.contains(",\"Line one,\r\nline \"\"two\"\"\","));
    let records = parse_csv(&body);
    assert_eq!(records.len() - 1, 3503);
    let by_id = |id: &str| records.iter().find(|r| r[0] == id).unwrap().clone();
    assert_eq!(by_id("3")[10], "Line one,\r\nline \"two\"");
    assert_eq!(
        by_id("125")[1],
        "Spanish moss-\"A sound portrait\"-Spanish moss"
    );
    assert_eq!(by_id("2918")[1], "\"?\"");
    assert!(records.iter().all(|r| r.len() == COLUMNS.len()));
}

#[tokio::test]
async fn the_export_reads_a_batch_of_a_thousand_tracks_only_when_the_last_one_is_taken() {
    let app = TestApp::spawn().await;
    let db = app.state.db.clone();
    let format = chinook::catalog::export::Format::Ndjson;
    let mut chunks = Box::pin(chinook::catalog::export::export(db, format).await.unwrap());
    let batch = |chunk: bytes::Bytes| -> Vec<Value> {
        let text = String::from_utf8(chunk.to_vec()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let first = batch(chunks.next().await.unwrap().unwrap());
    assert_eq!(first.len(), 1000);
    assert_eq!(first[999]["id"], 1000);
    // Renamed after the first batch was taken: the second batch, read only now, has it.
    sqlx::query("UPDATE track SET name = 'Renamed mid-export' WHERE track_id = 1500")
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let second = batch(chunks.next().await.unwrap().unwrap());
    assert_eq!(second[0]["id"], 1001);
    assert_eq!(second[499]["name"], "Renamed mid-export");
    let mut rest = Vec::new();
    while let Some(chunk) = chunks.next().await {
        rest.push(batch(chunk.unwrap()));
    }
    let sizes: Vec<usize> = rest.iter().map(Vec::len).collect();
    assert_eq!(sizes, [1000, 503]);
}

#[tokio::test]
async fn only_admins_export_and_a_bad_format_is_a_400() {
    let app = TestApp::spawn().await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    for query in ["", "?format=xml", "?format=CSV", "?format=csv&gzip=1"] {
        let path = format!("/api/v1/admin/export{query}");
        let problem = assert_problem(app.get_authed(&path, &admin).await, 400).await;
        assert!(problem["detail"].as_str().unwrap().len() > 10, "{query}");
    }
    let problem = assert_problem(
        app.get_authed("/api/v1/admin/export?format=xml", &admin)
            .await,
        400,
    )
    .await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("ndjson or csv"));
    let path = "/api/v1/admin/export?format=csv";
    for user in [MANAGER, CUSTOMER] {
        let token = app.login(user, DEMO_PASSWORD).await;
        assert_problem(app.get_authed(path, &token).await, 403).await;
    }
    assert_problem(app.get(path).await.unwrap(), 401).await;
}
