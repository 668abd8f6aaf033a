//! Writes to customers' own playlists. Each runs in a `CatalogWrite`, which serialises it
//! with every other catalog write (so two changes to one playlist never lose each other's
//! entries) and logs the playlist for the index: a public playlist's document follows, and
//! one made private leaves the index.
//!
//! Checks that need no database come first; then ownership, so another customer's playlist
//! is a 404 whatever the body says; then the tracks themselves.

use std::collections::BTreeSet;

use super::order::{common_prefix, insert, named, not_a_rearrangement, remove, repeated};
use super::{
    entries, owned, view, OwnPlaylist, PlaylistInput, TrackAddition, TrackOrder, MAX_PLAYLISTS,
    MAX_PLAYLIST_TRACKS, MAX_TRACKS_AT_ONCE,
};
use crate::catalog::write::check_name;
use crate::catalog::Kind;
use crate::db::{Connected, Counted, Db};
use crate::error::{ApiError, ApiResult};
use crate::search::feed::CatalogWrite;

/// Rows written per `INSERT`: three binds each, well under both backends' limits.
const ROWS_PER_INSERT: usize = 500;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::Validation(message.into())
}

pub async fn create(db: &Db, customer: i64, input: PlaylistInput) -> ApiResult<OwnPlaylist> {
    let name = check_name("name", &input.name)?;
    let mut write = CatalogWrite::begin(db).await?;
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM playlist WHERE customer_id = $1")
        .bind(customer)
        .fetch_one(&mut write.tx)
        .await?;
    if have >= MAX_PLAYLISTS {
        return Err(ApiError::Conflict(format!(
            "you have {have} playlists, the most one account may have; delete one first"
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO playlist (name, customer_id, visibility) VALUES ($1, $2, $3) \
         RETURNING playlist_id",
    )
    .bind(&name)
    .bind(customer)
    .bind(input.visibility.as_str())
    .fetch_one(&mut write.tx)
    .await?;
    write.touch(Kind::Playlist, id);
    write.commit().await?;
    Ok(OwnPlaylist {
        id,
        name,
        visibility: input.visibility,
        track_count: 0,
        track_ids: Vec::new(),
    })
}

/// Renames a playlist or changes its visibility.
pub async fn update(
    db: &Db,
    customer: i64,
    id: i64,
    input: PlaylistInput,
) -> ApiResult<OwnPlaylist> {
    let name = check_name("name", &input.name)?;
    let mut write = CatalogWrite::begin(db).await?;
    owned(&mut write.tx, customer, id).await?;
    sqlx::query("UPDATE playlist SET name = $1, visibility = $2 WHERE playlist_id = $3")
        .bind(&name)
        .bind(input.visibility.as_str())
        .bind(id)
        .execute(&mut write.tx)
        .await?;
    finish(write, customer, id).await
}

pub async fn delete(db: &Db, customer: i64, id: i64) -> ApiResult<()> {
    let mut write = CatalogWrite::begin(db).await?;
    owned(&mut write.tx, customer, id).await?;
    sqlx::query("DELETE FROM playlist_track WHERE playlist_id = $1")
        .bind(id)
        .execute(&mut write.tx)
        .await?;
    sqlx::query("DELETE FROM playlist WHERE playlist_id = $1")
        .bind(id)
        .execute(&mut write.tx)
        .await?;
    write.touch(Kind::Playlist, id);
    write.commit().await?;
    Ok(())
}

pub async fn add_tracks(
    db: &Db,
    customer: i64,
    id: i64,
    addition: TrackAddition,
) -> ApiResult<OwnPlaylist> {
    let tracks = addition.track_ids;
    if tracks.is_empty() {
        return Err(invalid("track_ids must name at least one track"));
    }
    if tracks.len() > MAX_TRACKS_AT_ONCE {
        return Err(invalid(format!(
            "track_ids names {} tracks; at most {MAX_TRACKS_AT_ONCE} can be added at once",
            tracks.len()
        )));
    }
    if !addition.allow_duplicates {
        let twice = repeated(&tracks);
        if !twice.is_empty() {
            return Err(invalid(format!(
                "track_ids names {} more than once; send \"allow_duplicates\": true to add them anyway",
                named(&twice)
            )));
        }
    }
    let mut write = CatalogWrite::begin(db).await?;
    owned(&mut write.tx, customer, id).await?;
    let current = entries(&mut write.tx, id).await?;
    let end = current.len() as i64 + 1;
    let position = addition.position.unwrap_or(end);
    if !(1..=end).contains(&position) {
        return Err(invalid(format!(
            "position must be from 1 to {end} (the playlist has {} tracks), not {position}",
            current.len()
        )));
    }
    let unknown = unknown_tracks(&mut write.tx, &tracks).await?;
    if !unknown.is_empty() {
        return Err(invalid(format!(
            "track_ids {} match no track",
            named(&unknown)
        )));
    }
    if !addition.allow_duplicates {
        let present: BTreeSet<i64> = current.iter().copied().collect();
        let already: Vec<i64> = tracks
            .iter()
            .copied()
            .filter(|t| present.contains(t))
            .collect();
        if !already.is_empty() {
            return Err(ApiError::Conflict(format!(
                "playlist {id} already has track(s) {}; send \"allow_duplicates\": true to add them again",
                named(&already)
            )));
        }
    }
    if current.len() + tracks.len() > MAX_PLAYLIST_TRACKS {
        return Err(ApiError::Conflict(format!(
            "playlist {id} has {} tracks and a playlist holds at most {MAX_PLAYLIST_TRACKS}; \
             {} more do not fit",
            current.len(),
            tracks.len()
        )));
    }
    let new = insert(&current, position as usize, &tracks);
    rewrite(&mut write.tx, id, &current, &new).await?;
    finish(write, customer, id).await
}

/// Takes the entry at `position` off the playlist; the entries after it move up.
pub async fn remove_track(
    db: &Db,
    customer: i64,
    id: i64,
    position: i64,
) -> ApiResult<OwnPlaylist> {
    let mut write = CatalogWrite::begin(db).await?;
    owned(&mut write.tx, customer, id).await?;
    let current = entries(&mut write.tx, id).await?;
    let len = current.len() as i64;
    if !(1..=len).contains(&position) {
        let has = match len {
            0 => "it is empty".to_string(),
            1 => "its only position is 1".to_string(),
            n => format!("its positions are 1 to {n}"),
        };
        return Err(ApiError::NotFound(format!(
            "playlist {id} has no position {position}; {has}"
        )));
    }
    let new = remove(&current, position as usize);
    rewrite(&mut write.tx, id, &current, &new).await?;
    finish(write, customer, id).await
}

/// Puts the playlist's entries in a new order.
pub async fn reorder(db: &Db, customer: i64, id: i64, order: TrackOrder) -> ApiResult<OwnPlaylist> {
    let new = order.track_ids;
    if new.len() > MAX_PLAYLIST_TRACKS {
        return Err(invalid(format!(
            "track_ids names {} tracks; a playlist holds at most {MAX_PLAYLIST_TRACKS}",
            new.len()
        )));
    }
    let mut write = CatalogWrite::begin(db).await?;
    owned(&mut write.tx, customer, id).await?;
    let current = entries(&mut write.tx, id).await?;
    if let Some(problem) = not_a_rearrangement(&current, &new) {
        return Err(invalid(problem));
    }
    rewrite(&mut write.tx, id, &current, &new).await?;
    finish(write, customer, id).await
}

/// Logs the playlist for the index, reads it back as its owner sees it, and commits.
async fn finish(mut write: CatalogWrite, customer: i64, id: i64) -> ApiResult<OwnPlaylist> {
    write.touch(Kind::Playlist, id);
    let playlist = view(&mut write.tx, customer, id).await?;
    write.commit().await?;
    Ok(playlist)
}

/// The distinct ids in `tracks` that name no track, ascending.
async fn unknown_tracks(conn: &mut Counted<impl Connected>, tracks: &[i64]) -> ApiResult<Vec<i64>> {
    let wanted: BTreeSet<i64> = tracks.iter().copied().collect();
    let mut unknown: BTreeSet<i64> = wanted.iter().copied().filter(|t| *t <= 0).collect();
    let candidates: Vec<i64> = wanted.into_iter().filter(|t| *t > 0).collect();
    for chunk in candidates.chunks(ROWS_PER_INSERT) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT track_id FROM track WHERE track_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        let found: BTreeSet<i64> = query.fetch_all(&mut *conn).await?.into_iter().collect();
        unknown.extend(chunk.iter().filter(|t| !found.contains(t)));
    }
    Ok(unknown.into_iter().collect())
}

/// Makes the playlist's stored entries `new`, given that they are `current`: entries before
/// the first difference stay, the rest are written again at their new positions. Deleting
/// the tail first means no two rows ever claim one position.
async fn rewrite(
    conn: &mut Counted<impl Connected>,
    playlist: i64,
    current: &[i64],
    new: &[i64],
) -> ApiResult<()> {
    let keep = common_prefix(current, new);
    if keep == current.len() && keep == new.len() {
        return Ok(());
    }
    sqlx::query("DELETE FROM playlist_track WHERE playlist_id = $1 AND position > $2")
        .bind(playlist)
        .bind(keep as i64)
        .execute(&mut *conn)
        .await?;
    let tail: Vec<(i64, i64)> = new
        .iter()
        .enumerate()
        .skip(keep)
        .map(|(at, track)| (at as i64 + 1, *track))
        .collect();
    for chunk in tail.chunks(ROWS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO playlist_track (playlist_id, position, track_id) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (position, track) in chunk {
            query = query.bind(playlist).bind(*position).bind(*track);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
