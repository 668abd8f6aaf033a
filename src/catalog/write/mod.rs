//! Admin writes to artists, albums and tracks. Each goes to SQL in one transaction that also
//! logs the index entries it touched (see `search::feed`); the caller then brings the index
//! up to date, so the next read sees the write.
//!
//! Denormalised figures in the index (an artist's album count, an album's track count, the
//! artist and album names searched with a track) are refreshed by touching every entry
//! that shows them.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::db::Tx;
use utoipa::ToSchema;

use super::Kind;
use crate::catalog::changes::CatalogWrite;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// Longest name or title accepted, in characters.
const MAX_NAME: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtistInput {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlbumInput {
    pub title: String,
    #[serde(deserialize_with = "crate::ids::whole_number")]
    pub artist_id: i64,
}

pub(super) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::Validation(message.into())
}

pub(crate) fn check_name(field: &str, value: &str) -> ApiResult<String> {
    // The length is of the value as sent, the whitespace it is trimmed of included, as the
    // OpenAPI document's `maxLength` says.
    let long = value.chars().count() > MAX_NAME;
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if long {
        return Err(invalid(format!(
            "{field} is longer than {MAX_NAME} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    if let Some(problem) = crate::text::name_problem(field, value) {
        return Err(invalid(problem));
    }
    Ok(value.to_string())
}

pub(super) fn not_found(kind: Kind, id: i64) -> ApiError {
    ApiError::NotFound(format!("there is no {} with id {id}", kind.noun()))
}

pub(super) async fn exists(tx: &mut Tx<'static>, table: &str, id: i64) -> ApiResult<bool> {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE {table}_id = $1");
    let n: i64 = sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    Ok(n > 0)
}

/// A 422 unless the referenced row exists.
pub(super) async fn must_exist(
    tx: &mut Tx<'static>,
    field: &str,
    table: &str,
    noun: &str,
    id: i64,
) -> ApiResult<()> {
    if exists(tx, table, id).await? {
        Ok(())
    } else {
        Err(invalid(format!("{field} {id} matches no {noun}")))
    }
}

pub(super) async fn ids(tx: &mut Tx<'static>, sql: &str, id: i64) -> ApiResult<Vec<i64>> {
    Ok(sqlx::query_scalar(sql).bind(id).fetch_all(&mut *tx).await?)
}

pub(super) async fn count(tx: &mut Tx<'static>, sql: &str, id: i64) -> ApiResult<i64> {
    Ok(sqlx::query_scalar(sql).bind(id).fetch_one(&mut *tx).await?)
}

pub(super) async fn delete_attachments(tx: &mut Tx<'static>, kind: &str, id: i64) -> ApiResult<()> {
    sqlx::query("DELETE FROM term_attachment WHERE entity_kind = $1 AND entity_id = $2")
        .bind(kind)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

// --- artists ---

pub async fn artist(db: &Db, id: i64) -> ApiResult<ArtistInput> {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM artist WHERE artist_id = $1")
        .bind(id)
        .fetch_optional(db.writer())
        .await?;
    name.map(|name| ArtistInput { name })
        .ok_or_else(|| not_found(Kind::Artist, id))
}

pub async fn create_artist(db: &Db, input: ArtistInput) -> ApiResult<i64> {
    let name = check_name("name", &input.name)?;
    let mut write = CatalogWrite::begin(db).await?;
    let id: i64 = sqlx::query_scalar("INSERT INTO artist (name) VALUES ($1) RETURNING artist_id")
        .bind(name)
        .fetch_one(&mut write.tx)
        .await?;
    write.touch(Kind::Artist, id);
    write.commit().await?;
    Ok(id)
}

pub async fn update_artist(db: &Db, id: i64, input: ArtistInput) -> ApiResult<()> {
    let name = check_name("name", &input.name)?;
    let mut write = CatalogWrite::begin(db).await?;
    let updated = sqlx::query("UPDATE artist SET name = $1 WHERE artist_id = $2")
        .bind(name)
        .bind(id)
        .execute(&mut write.tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(not_found(Kind::Artist, id));
    }
    // The artist's name is searched with its albums and their tracks.
    let albums = ids(
        &mut write.tx,
        "SELECT album_id FROM album WHERE artist_id = $1",
        id,
    )
    .await?;
    let tracks = ids(
        &mut write.tx,
        "SELECT t.track_id FROM track t JOIN album a ON a.album_id = t.album_id WHERE a.artist_id = $1",
        id,
    )
    .await?;
    write.touch(Kind::Artist, id);
    write.touch_all(Kind::Album, albums);
    write.touch_all(Kind::Track, tracks);
    write.commit().await?;
    Ok(())
}

pub async fn delete_artist(db: &Db, id: i64) -> ApiResult<()> {
    let mut write = CatalogWrite::begin(db).await?;
    if !exists(&mut write.tx, "artist", id).await? {
        return Err(not_found(Kind::Artist, id));
    }
    let albums = count(
        &mut write.tx,
        "SELECT COUNT(*) FROM album WHERE artist_id = $1",
        id,
    )
    .await?;
    if albums > 0 {
        return Err(ApiError::Conflict(format!(
            "artist {id} still has {albums} album(s); delete them or give them another artist first"
        )));
    }
    delete_attachments(&mut write.tx, "artist", id).await?;
    sqlx::query("DELETE FROM artist WHERE artist_id = $1")
        .bind(id)
        .execute(&mut write.tx)
        .await?;
    write.touch(Kind::Artist, id);
    write.commit().await?;
    Ok(())
}

// --- albums ---

pub async fn album(db: &Db, id: i64) -> ApiResult<AlbumInput> {
    let row = sqlx::query("SELECT title, artist_id FROM album WHERE album_id = $1")
        .bind(id)
        .fetch_optional(db.writer())
        .await?
        .ok_or_else(|| not_found(Kind::Album, id))?;
    Ok(AlbumInput {
        title: row.try_get(0).map_err(anyhow::Error::from)?,
        artist_id: row.try_get(1).map_err(anyhow::Error::from)?,
    })
}

pub async fn create_album(db: &Db, input: AlbumInput) -> ApiResult<i64> {
    let title = check_name("title", &input.title)?;
    let mut write = CatalogWrite::begin(db).await?;
    must_exist(
        &mut write.tx,
        "artist_id",
        "artist",
        "artist",
        input.artist_id,
    )
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO album (title, artist_id) VALUES ($1, $2) RETURNING album_id",
    )
    .bind(title)
    .bind(input.artist_id)
    .fetch_one(&mut write.tx)
    .await?;
    write.touch(Kind::Album, id);
    write.touch(Kind::Artist, input.artist_id);
    write.commit().await?;
    Ok(id)
}

pub async fn update_album(db: &Db, id: i64, input: AlbumInput) -> ApiResult<()> {
    let title = check_name("title", &input.title)?;
    let before = album(db, id).await?;
    let mut write = CatalogWrite::begin(db).await?;
    must_exist(
        &mut write.tx,
        "artist_id",
        "artist",
        "artist",
        input.artist_id,
    )
    .await?;
    let updated = sqlx::query("UPDATE album SET title = $1, artist_id = $2 WHERE album_id = $3")
        .bind(title)
        .bind(input.artist_id)
        .bind(id)
        .execute(&mut write.tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(not_found(Kind::Album, id));
    }
    // Its tracks carry its title, artist id and artist name.
    let tracks = ids(
        &mut write.tx,
        "SELECT track_id FROM track WHERE album_id = $1",
        id,
    )
    .await?;
    write.touch(Kind::Album, id);
    write.touch(Kind::Artist, before.artist_id);
    write.touch(Kind::Artist, input.artist_id);
    write.touch_all(Kind::Track, tracks);
    write.commit().await?;
    Ok(())
}

pub async fn delete_album(db: &Db, id: i64) -> ApiResult<()> {
    let mut write = CatalogWrite::begin(db).await?;
    let artist: Option<i64> = sqlx::query_scalar("SELECT artist_id FROM album WHERE album_id = $1")
        .bind(id)
        .fetch_optional(&mut write.tx)
        .await?;
    let artist = artist.ok_or_else(|| not_found(Kind::Album, id))?;
    let tracks = count(
        &mut write.tx,
        "SELECT COUNT(*) FROM track WHERE album_id = $1",
        id,
    )
    .await?;
    if tracks > 0 {
        return Err(ApiError::Conflict(format!(
            "album {id} still has {tracks} track(s); delete them or move them to another album first"
        )));
    }
    delete_attachments(&mut write.tx, "album", id).await?;
    sqlx::query("DELETE FROM album WHERE album_id = $1")
        .bind(id)
        .execute(&mut write.tx)
        .await?;
    write.touch(Kind::Album, id);
    write.touch(Kind::Artist, artist);
    write.commit().await?;
    Ok(())
}

mod tracks;

pub use tracks::{create_track, delete_track, track, update_track, TrackInput};
