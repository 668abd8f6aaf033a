//! Admin writes to artists, albums and tracks. Each goes to SQL in one transaction that also
//! logs the index entries it touched (see `search::feed`); the caller then brings the index
//! up to date, so the next read sees the write.
//!
//! Denormalised figures in the index (an artist's album count, an album's track count, the
//! artist and album names searched with a track) are refreshed by touching every entry
//! that shows them.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};
use utoipa::ToSchema;

use super::Kind;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::money::Cents;
use crate::search::feed::CatalogWrite;
use crate::taxonomy::seed::{refile_track, Filing};

/// Longest name or title accepted, in characters.
const MAX_NAME: usize = 200;
/// A day: no track is longer.
const MAX_MILLISECONDS: i64 = 86_400_000;
/// The dearest single item the store will list.
const MAX_PRICE_CENTS: i64 = 100_000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtistInput {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlbumInput {
    pub title: String,
    pub artist_id: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackInput {
    pub name: String,
    #[serde(default)]
    pub album_id: Option<i64>,
    pub media_type_id: i64,
    #[serde(default)]
    pub genre_id: Option<i64>,
    #[serde(default)]
    pub composer: Option<String>,
    pub milliseconds: i64,
    #[serde(default)]
    pub bytes: Option<i64>,
    pub unit_price: Cents,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::Validation(message.into())
}

fn check_name(field: &str, value: &str) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if value.chars().count() > MAX_NAME {
        return Err(invalid(format!(
            "{field} is longer than {MAX_NAME} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(value.to_string())
}

fn not_found(kind: Kind, id: i64) -> ApiError {
    ApiError::NotFound(format!("there is no {} with id {id}", kind.noun()))
}

async fn exists(tx: &mut Transaction<'static, Any>, table: &str, id: i64) -> ApiResult<bool> {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE {table}_id = $1");
    let n: i64 = sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

/// A 422 unless the referenced row exists.
async fn must_exist(
    tx: &mut Transaction<'static, Any>,
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

async fn ids(tx: &mut Transaction<'static, Any>, sql: &str, id: i64) -> ApiResult<Vec<i64>> {
    Ok(sqlx::query_scalar(sql)
        .bind(id)
        .fetch_all(&mut **tx)
        .await?)
}

async fn count(tx: &mut Transaction<'static, Any>, sql: &str, id: i64) -> ApiResult<i64> {
    Ok(sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?)
}

async fn delete_attachments(
    tx: &mut Transaction<'static, Any>,
    kind: &str,
    id: i64,
) -> ApiResult<()> {
    sqlx::query("DELETE FROM term_attachment WHERE entity_kind = $1 AND entity_id = $2")
        .bind(kind)
        .bind(id)
        .execute(&mut **tx)
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
        .fetch_one(&mut *write.tx)
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
        .execute(&mut *write.tx)
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
        .execute(&mut *write.tx)
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
    .fetch_one(&mut *write.tx)
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
        .execute(&mut *write.tx)
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
        .fetch_optional(&mut *write.tx)
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
        .execute(&mut *write.tx)
        .await?;
    write.touch(Kind::Album, id);
    write.touch(Kind::Artist, artist);
    write.commit().await?;
    Ok(())
}

// --- tracks ---

pub async fn track(db: &Db, id: i64) -> ApiResult<TrackInput> {
    let row = sqlx::query(
        "SELECT name, album_id, media_type_id, genre_id, composer, milliseconds, bytes, unit_price_cents \
         FROM track WHERE track_id = $1",
    )
    .bind(id)
    .fetch_optional(db.writer())
    .await?
    .ok_or_else(|| not_found(Kind::Track, id))?;
    let read = || -> Result<TrackInput, sqlx::Error> {
        Ok(TrackInput {
            name: row.try_get(0)?,
            album_id: row.try_get(1)?,
            media_type_id: row.try_get(2)?,
            genre_id: row.try_get(3)?,
            composer: row.try_get(4)?,
            milliseconds: row.try_get(5)?,
            bytes: row.try_get(6)?,
            unit_price: Cents(row.try_get(7)?),
        })
    };
    Ok(read().map_err(anyhow::Error::from)?)
}

/// Checks a track's fields and references; returns the cleaned input.
async fn check_track(
    tx: &mut Transaction<'static, Any>,
    input: TrackInput,
) -> ApiResult<TrackInput> {
    let name = check_name("name", &input.name)?;
    let composer = match input.composer.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => Some(check_name("composer", c)?),
    };
    if !(0..=MAX_MILLISECONDS).contains(&input.milliseconds) {
        return Err(invalid(format!(
            "milliseconds must be from 0 to {MAX_MILLISECONDS}, not {}",
            input.milliseconds
        )));
    }
    if input.bytes.is_some_and(|b| b < 0) {
        return Err(invalid("bytes must not be negative"));
    }
    if !(0..=MAX_PRICE_CENTS).contains(&input.unit_price.0) {
        return Err(invalid(format!(
            "unit_price must be from 0.00 to {}, not {}",
            Cents(MAX_PRICE_CENTS),
            input.unit_price
        )));
    }
    if let Some(album) = input.album_id {
        must_exist(tx, "album_id", "album", "album", album).await?;
    }
    must_exist(
        tx,
        "media_type_id",
        "media_type",
        "media type",
        input.media_type_id,
    )
    .await?;
    if let Some(genre) = input.genre_id {
        must_exist(tx, "genre_id", "genre", "genre", genre).await?;
    }
    Ok(TrackInput {
        name,
        composer,
        ..input
    })
}

fn filing(track: &TrackInput) -> Filing {
    Filing {
        genre_id: track.genre_id,
        media_type_id: track.media_type_id,
        milliseconds: track.milliseconds,
    }
}

/// Touches a track and the album, genre and media type that count it.
fn touch_track(write: &mut CatalogWrite, id: i64, track: &TrackInput) {
    write.touch(Kind::Track, id);
    if let Some(album) = track.album_id {
        write.touch(Kind::Album, album);
    }
    if let Some(genre) = track.genre_id {
        write.touch(Kind::Genre, genre);
    }
    write.touch(Kind::MediaType, track.media_type_id);
}

pub async fn create_track(db: &Db, input: TrackInput) -> ApiResult<i64> {
    let mut write = CatalogWrite::begin(db).await?;
    let track = check_track(&mut write.tx, input).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO track (name, album_id, media_type_id, genre_id, composer, milliseconds, bytes, unit_price_cents) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING track_id",
    )
    .bind(&track.name)
    .bind(track.album_id)
    .bind(track.media_type_id)
    .bind(track.genre_id)
    .bind(&track.composer)
    .bind(track.milliseconds)
    .bind(track.bytes)
    .bind(track.unit_price.0)
    .fetch_one(&mut *write.tx)
    .await?;
    refile_track(&mut write.tx, id, None, &filing(&track)).await?;
    touch_track(&mut write, id, &track);
    write.commit().await?;
    Ok(id)
}

pub async fn update_track(db: &Db, id: i64, input: TrackInput) -> ApiResult<()> {
    let before = track(db, id).await?;
    let mut write = CatalogWrite::begin(db).await?;
    let track = check_track(&mut write.tx, input).await?;
    let updated = sqlx::query(
        "UPDATE track SET name = $1, album_id = $2, media_type_id = $3, genre_id = $4, composer = $5, \
         milliseconds = $6, bytes = $7, unit_price_cents = $8 WHERE track_id = $9",
    )
    .bind(&track.name)
    .bind(track.album_id)
    .bind(track.media_type_id)
    .bind(track.genre_id)
    .bind(&track.composer)
    .bind(track.milliseconds)
    .bind(track.bytes)
    .bind(track.unit_price.0)
    .bind(id)
    .execute(&mut *write.tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(not_found(Kind::Track, id));
    }
    refile_track(&mut write.tx, id, Some(&filing(&before)), &filing(&track)).await?;
    touch_track(&mut write, id, &before);
    touch_track(&mut write, id, &track);
    write.commit().await?;
    Ok(())
}

pub async fn delete_track(db: &Db, id: i64) -> ApiResult<()> {
    let before = track(db, id).await?;
    let mut write = CatalogWrite::begin(db).await?;
    let sold = count(
        &mut write.tx,
        "SELECT COUNT(*) FROM invoice_line WHERE track_id = $1",
        id,
    )
    .await?;
    if sold > 0 {
        return Err(ApiError::Conflict(format!(
            "track {id} is on {sold} invoice line(s); a sold track stays in the catalog"
        )));
    }
    let listed = count(
        &mut write.tx,
        "SELECT COUNT(DISTINCT playlist_id) FROM playlist_track WHERE track_id = $1",
        id,
    )
    .await?;
    if listed > 0 {
        return Err(ApiError::Conflict(format!(
            "track {id} is on {listed} playlist(s); take it off them first"
        )));
    }
    delete_attachments(&mut write.tx, "track", id).await?;
    let deleted = sqlx::query("DELETE FROM track WHERE track_id = $1")
        .bind(id)
        .execute(&mut *write.tx)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(not_found(Kind::Track, id));
    }
    touch_track(&mut write, id, &before);
    write.commit().await?;
    Ok(())
}
