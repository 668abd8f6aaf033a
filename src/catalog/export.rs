//! The whole catalog as a download: every track with its album, artist, genre and media type,
//! as NDJSON or CSV. Tracks are read from SQL in keyset batches by id and each batch is
//! encoded and handed over only when the client has taken the one before, so memory stays
//! at one batch however large the catalog, and a client that goes away stops the reads.

use std::io::Write;

use bytes::Bytes;
use futures_util::stream::{self, Stream};
use serde::{Serialize, Serializer};

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::money::Cents;

/// Tracks read per query: large enough that a million tracks take a thousand round trips,
/// small enough that a batch (about 200 kB encoded) is nothing to hold.
pub const BATCH: i64 = 1000;

/// The columns of the export, in CSV order; NDJSON objects use the same names.
pub const COLUMNS: [&str; 14] = [
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Csv,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> ApiResult<Self> {
        match raw.map(str::trim) {
            Some("ndjson") => Ok(Self::Ndjson),
            Some("csv") => Ok(Self::Csv),
            Some(other) => Err(ApiError::BadRequest(format!(
                "format must be ndjson or csv, not `{other}`"
            ))),
            None => Err(ApiError::BadRequest(
                "format is required: ndjson or csv".into(),
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Ndjson => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
        }
    }
}

/// One track as exported.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    album_id: Option<i64>,
    album: Option<String>,
    artist_id: Option<i64>,
    artist: Option<String>,
    genre_id: Option<i64>,
    genre: Option<String>,
    media_type_id: i64,
    media_type: String,
    composer: Option<String>,
    milliseconds: i64,
    bytes: Option<i64>,
    #[serde(rename = "unit_price", serialize_with = "as_decimal")]
    unit_price_cents: i64,
}

fn as_decimal<S: Serializer>(cents: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    Cents(*cents).serialize(serializer)
}

/// The tracks after `after` by id, at most `BATCH` of them.
async fn batch(db: &Db, after: i64) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.track_id AS id, t.name, t.album_id, al.title AS album, al.artist_id, \
                ar.name AS artist, t.genre_id, g.name AS genre, t.media_type_id, \
                m.name AS media_type, t.composer, t.milliseconds, t.bytes, t.unit_price_cents \
         FROM track t \
         LEFT JOIN album al ON al.album_id = t.album_id \
         LEFT JOIN artist ar ON ar.artist_id = al.artist_id \
         LEFT JOIN genre g ON g.genre_id = t.genre_id \
         JOIN media_type m ON m.media_type_id = t.media_type_id \
         WHERE t.track_id > $1 \
         ORDER BY t.track_id LIMIT $2",
    )
    .bind(after)
    .bind(BATCH)
    .fetch_all(db.reader())
    .await
}

/// Appends one CSV field, quoted as RFC 4180 says when it holds a comma, a quote or a line
/// break (quotes inside are doubled). A missing value is an empty field.
fn csv_field(out: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\r', '\n']) {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

fn csv_number(out: &mut Vec<u8>, n: Option<i64>) {
    if let Some(n) = n {
        write!(out, "{n}").expect("writing to a Vec cannot fail");
    }
}

fn csv_row(out: &mut Vec<u8>, row: &Row) {
    let text = |out: &mut Vec<u8>, value: &Option<String>| {
        csv_field(out, value.as_deref().unwrap_or(""));
    };
    csv_number(out, Some(row.id));
    out.push(b',');
    csv_field(out, &row.name);
    out.push(b',');
    csv_number(out, row.album_id);
    out.push(b',');
    text(out, &row.album);
    out.push(b',');
    csv_number(out, row.artist_id);
    out.push(b',');
    text(out, &row.artist);
    out.push(b',');
    csv_number(out, row.genre_id);
    out.push(b',');
    text(out, &row.genre);
    out.push(b',');
    csv_number(out, Some(row.media_type_id));
    out.push(b',');
    csv_field(out, &row.media_type);
    out.push(b',');
    text(out, &row.composer);
    out.push(b',');
    csv_number(out, Some(row.milliseconds));
    out.push(b',');
    csv_number(out, row.bytes);
    out.push(b',');
    out.extend_from_slice(Cents(row.unit_price_cents).to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn encode(format: Format, rows: &[Row], header: bool) -> Bytes {
    let mut out = Vec::with_capacity(rows.len() * 200 + 200);
    match format {
        Format::Ndjson => {
            for row in rows {
                serde_json::to_writer(&mut out, row).expect("export rows serialise");
                out.push(b'\n');
            }
        }
        Format::Csv => {
            if header {
                out.extend_from_slice(COLUMNS.join(",").as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            for row in rows {
                csv_row(&mut out, row);
            }
        }
    }
    Bytes::from(out)
}

/// Where the export stands between two chunks: the last track id sent, or done.
struct Position {
    db: Db,
    format: Format,
    after: Option<i64>,
}

/// Starts an export: the first batch is read before anything is sent, so a database that is
/// down is a proper error response; the rest is a stream of one chunk per batch, each read
/// only when the client has taken the previous one. An error after the first batch can only
/// cut the response short, which the client sees as an incomplete transfer.
pub async fn export(
    db: Db,
    format: Format,
) -> ApiResult<impl Stream<Item = Result<Bytes, ApiError>> + 'static> {
    let first = batch(&db, 0).await?;
    let after = match first.last() {
        Some(last) if first.len() as i64 == BATCH => Some(last.id),
        _ => None,
    };
    let head = stream::once(std::future::ready(Ok(encode(format, &first, true))));
    let rest = stream::unfold(Position { db, format, after }, |position| async move {
        let after = position.after?;
        match batch(&position.db, after).await {
            Ok(rows) if rows.is_empty() => None,
            Ok(rows) => {
                let chunk = encode(position.format, &rows, false);
                let after = match rows.last() {
                    Some(last) if rows.len() as i64 == BATCH => Some(last.id),
                    _ => None,
                };
                Some((Ok(chunk), Position { after, ..position }))
            }
            Err(e) => {
                let error = ApiError::from(e);
                tracing::error!(error = %error, after, "the catalog export stopped");
                Some((
                    Err(error),
                    Position {
                        after: None,
                        ..position
                    },
                ))
            }
        }
    });
    Ok(stream::StreamExt::chain(head, rest))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    fn field(text: &str) -> String {
        let mut out = Vec::new();
        csv_field(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(field("Balls to the Wall"), "Balls to the Wall");
        assert_eq!(field("AC/DC, live"), "\"AC/DC, live\"");
        assert_eq!(field("12\" Mix"), "\"12\"\" Mix\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field(""), "");
    }
}
