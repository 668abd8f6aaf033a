//! Writes to customers' own playlists. Each runs in a `CatalogWrite`, which serialises it
//! with every other catalog write (so two changes to one playlist never lose each other's
//! entries) and logs the playlist for the index: a public playlist's document follows, and
//! one made private leaves the index.
//!
//! Checks that need no database come first; then ownership, so another customer's playlist
//! is a 404 whatever the body says; then the tracks themselves.
//!
//! Stored positions are sparse sort keys (see `order`): adding, removing or moving one entry
//! writes only the rows that change, whatever the playlist's length, so a long playlist does
//! not hold the single writer for longer than a short one.

mod rows;

use super::order::{
    common_prefix, insert, keys_between, named, not_a_rearrangement, repeated, single_move,
};
use super::{
    entries, owned, view, OwnPlaylist, PlaylistInput, TrackAddition, TrackOrder, MAX_TRACKS_AT_ONCE,
};
use crate::catalog::changes::CatalogWrite;
use crate::catalog::write::check_name;
use crate::catalog::Kind;
use crate::config::PlaylistCaps;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
pub(super) use rows::keyed;
use rows::{keys_at, length, matching, put, rewrite_from, unknown_tracks};

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::Validation(message.into())
}

pub async fn create(
    db: &Db,
    caps: PlaylistCaps,
    customer: i64,
    input: PlaylistInput,
) -> ApiResult<OwnPlaylist> {
    let name = check_name("name", &input.name)?;
    let mut write = CatalogWrite::begin(db).await?;
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM playlist WHERE customer_id = $1")
        .bind(customer)
        .fetch_one(&mut write.tx)
        .await?;
    if have >= caps.playlists {
        return Err(ApiError::Conflict(format!(
            "you have {have} playlists and an account may have at most {}; delete one first",
            caps.playlists
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
    caps: PlaylistCaps,
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
    if let Some(problem) = crate::ids::below_one("track ids", &tracks) {
        return Err(invalid(problem));
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
    let have = length(&mut write.tx, id).await?;
    let end = have as i64 + 1;
    let position = addition.position.unwrap_or(end);
    if !(1..=end).contains(&position) {
        let problem = format!(
            "position must be from 1 to {end} (the playlist has {have} tracks), not {position}"
        );
        // Past the end depends on the playlist's length now: a conflict with its state. Below
        // 1 is malformed whatever the playlist holds.
        return Err(if position < 1 {
            invalid(problem)
        } else {
            ApiError::Conflict(problem)
        });
    }
    let unknown = unknown_tracks(&mut write.tx, &tracks).await?;
    if !unknown.is_empty() {
        // Well-formed ids the catalog lacks: the resource they name is not found.
        return Err(ApiError::NotFound(format!(
            "track_ids {} match no track",
            named(&unknown)
        )));
    }
    if !addition.allow_duplicates {
        let present = matching(&mut write.tx, Some(id), &tracks).await?;
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
    if have + tracks.len() > caps.entries {
        return Err(ApiError::Conflict(format!(
            "playlist {id} has {have} tracks and a playlist holds at most {}; {} more do not fit",
            caps.entries,
            tracks.len()
        )));
    }
    // The keys either side of the new entries: the one before `position` and the one at it.
    let before = (position - 2).max(0);
    let around = keys_at(&mut write.tx, id, before, 2).await?;
    let (low, high) = if position == 1 {
        (0, around.first().copied())
    } else {
        (around[0], around.get(1).copied())
    };
    match keys_between(low, high, tracks.len()) {
        Some(keys) => {
            let rows: Vec<(i64, i64)> = keys.into_iter().zip(tracks).collect();
            put(&mut write.tx, id, &rows).await?;
        }
        None => {
            let current = entries(&mut write.tx, id).await?;
            let new = insert(&current, position as usize, &tracks);
            rewrite_from(&mut write.tx, id, 0, &new).await?;
        }
    }
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
    let len = length(&mut write.tx, id).await? as i64;
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
    let key = keys_at(&mut write.tx, id, position - 1, 1).await?[0];
    sqlx::query("DELETE FROM playlist_track WHERE playlist_id = $1 AND position = $2")
        .bind(id)
        .bind(key)
        .execute(&mut write.tx)
        .await?;
    finish(write, customer, id).await
}

/// Puts the playlist's entries in a new order.
pub async fn reorder(
    db: &Db,
    caps: PlaylistCaps,
    customer: i64,
    id: i64,
    order: TrackOrder,
) -> ApiResult<OwnPlaylist> {
    let new = order.track_ids;
    if new.len() > caps.entries {
        return Err(invalid(format!(
            "track_ids names {} tracks; a playlist holds at most {}",
            new.len(),
            caps.entries
        )));
    }
    let mut write = CatalogWrite::begin(db).await?;
    owned(&mut write.tx, customer, id).await?;
    let rows = keyed(&mut write.tx, id).await?;
    let current: Vec<i64> = rows.iter().map(|(_, track)| *track).collect();
    // A well-formed order that does not match the entries the playlist has now conflicts
    // with its state (409), as the document says, rather than being malformed.
    if let Some(problem) = not_a_rearrangement(&current, &new) {
        return Err(ApiError::Conflict(problem));
    }
    if let Some((from, to)) = single_move(&current, &new) {
        // One entry moved: it takes a key between its new neighbours, which keep theirs.
        let mut others = rows.clone();
        let (key, _) = others.remove(from);
        let low = if to == 0 { 0 } else { others[to - 1].0 };
        if let Some(fresh) = keys_between(low, others.get(to).map(|r| r.0), 1) {
            sqlx::query(
                "UPDATE playlist_track SET position = $1 WHERE playlist_id = $2 AND position = $3",
            )
            .bind(fresh[0])
            .bind(id)
            .bind(key)
            .execute(&mut write.tx)
            .await?;
            return finish(write, customer, id).await;
        }
    }
    let keep = common_prefix(&current, &new);
    if keep < new.len() {
        let low = if keep == 0 { 0 } else { rows[keep - 1].0 };
        rewrite_from(&mut write.tx, id, low, &new[keep..]).await?;
    }
    finish(write, customer, id).await
}

/// Logs the playlist for the index, reads it back as its owner sees it, and commits.
async fn finish(mut write: CatalogWrite, customer: i64, id: i64) -> ApiResult<OwnPlaylist> {
    write.touch(Kind::Playlist, id);
    let playlist = view(&mut write.tx, customer, id).await?;
    write.commit().await?;
    Ok(playlist)
}
