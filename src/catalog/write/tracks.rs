//! Admin writes to tracks: their fields are checked, their references must exist, and the
//! seeded taxonomies keep filing them by their genre, media type and length.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::db::Tx;
use utoipa::ToSchema;

use super::{check_name, count, delete_attachments, invalid, must_exist, not_found};
use crate::catalog::changes::CatalogWrite;
use crate::catalog::taxonomy::seed::{refile_track, Filing};
use crate::catalog::Kind;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::money::Cents;

/// A day: no track is longer.
const MAX_MILLISECONDS: i64 = 86_400_000;
/// The dearest single item the store will list.
const MAX_PRICE_CENTS: i64 = 100_000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackInput {
    pub name: String,
    #[serde(default, deserialize_with = "crate::ids::optional_whole_number")]
    pub album_id: Option<i64>,
    #[serde(deserialize_with = "crate::ids::whole_number")]
    pub media_type_id: i64,
    #[serde(default, deserialize_with = "crate::ids::optional_whole_number")]
    pub genre_id: Option<i64>,
    #[serde(default)]
    pub composer: Option<String>,
    #[serde(deserialize_with = "crate::ids::whole_number")]
    pub milliseconds: i64,
    #[serde(default, deserialize_with = "crate::ids::optional_whole_number")]
    pub bytes: Option<i64>,
    pub unit_price: Cents,
}

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
async fn check_track(tx: &mut Tx<'static>, input: TrackInput) -> ApiResult<TrackInput> {
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
    .fetch_one(&mut write.tx)
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
    .execute(&mut write.tx)
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
    // The file stays: the media store may be read-only here, and another instance may be
    // streaming it.
    sqlx::query("DELETE FROM track_audio WHERE track_id = $1")
        .bind(id)
        .execute(&mut write.tx)
        .await?;
    let deleted = sqlx::query("DELETE FROM track WHERE track_id = $1")
        .bind(id)
        .execute(&mut write.tx)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(not_found(Kind::Track, id));
    }
    touch_track(&mut write, id, &before);
    write.commit().await?;
    Ok(())
}
