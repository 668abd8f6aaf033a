//! The `playlist_track` rows behind the writes: which tracks exist or are entries already,
//! the entries' stored keys, and writing entries in batches.

use std::collections::BTreeSet;

use crate::catalog::playlists::order::fresh_keys;
use crate::db::{Connected, Counted};
use crate::error::ApiResult;

/// Rows written per `INSERT`: three binds each, well under both backends' limits.
const ROWS_PER_INSERT: usize = 500;

/// The distinct ids in `tracks` that name no track, ascending.
pub(super) async fn unknown_tracks(
    conn: &mut Counted<impl Connected>,
    tracks: &[i64],
) -> ApiResult<Vec<i64>> {
    let found = matching(conn, None, tracks).await?;
    let wanted: BTreeSet<i64> = tracks.iter().copied().collect();
    Ok(wanted.into_iter().filter(|t| !found.contains(t)).collect())
}

/// Which of `tracks` exist: as tracks, or with `playlist`, as that playlist's entries.
pub(super) async fn matching(
    conn: &mut Counted<impl Connected>,
    playlist: Option<i64>,
    tracks: &[i64],
) -> ApiResult<BTreeSet<i64>> {
    let candidates: BTreeSet<i64> = tracks.iter().copied().filter(|t| *t > 0).collect();
    let candidates: Vec<i64> = candidates.into_iter().collect();
    let first = usize::from(playlist.is_some()) + 1;
    let mut found = BTreeSet::new();
    for chunk in candidates.chunks(ROWS_PER_INSERT) {
        let placeholders: Vec<String> = (0..chunk.len())
            .map(|i| format!("${}", first + i))
            .collect();
        let sql = match playlist {
            Some(_) => format!(
                "SELECT track_id FROM playlist_track WHERE playlist_id = $1 AND track_id IN ({})",
                placeholders.join(", ")
            ),
            None => format!(
                "SELECT track_id FROM track WHERE track_id IN ({})",
                placeholders.join(", ")
            ),
        };
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        if let Some(playlist) = playlist {
            query = query.bind(playlist);
        }
        for id in chunk {
            query = query.bind(*id);
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

/// How many entries the playlist has.
pub(super) async fn length(conn: &mut Counted<impl Connected>, playlist: i64) -> ApiResult<usize> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM playlist_track WHERE playlist_id = $1")
        .bind(playlist)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n as usize)
}

/// The stored keys of up to `count` entries from the `skip`-th (from 0), in order.
pub(super) async fn keys_at(
    conn: &mut Counted<impl Connected>,
    playlist: i64,
    skip: i64,
    count: i64,
) -> ApiResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT position FROM playlist_track WHERE playlist_id = $1 \
         ORDER BY position LIMIT $2 OFFSET $3",
    )
    .bind(playlist)
    .bind(count)
    .bind(skip)
    .fetch_all(&mut *conn)
    .await?)
}

/// Every entry's stored key and track, in order.
pub(in crate::catalog::playlists) async fn keyed(
    conn: &mut Counted<impl Connected>,
    playlist: i64,
) -> ApiResult<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT position, track_id FROM playlist_track WHERE playlist_id = $1 ORDER BY position",
    )
    .bind(playlist)
    .fetch_all(&mut *conn)
    .await?)
}

/// Replaces every entry keyed above `low` with `tail`, at fresh keys after `low`. Deleting
/// first means no two rows ever claim one key.
pub(super) async fn rewrite_from(
    conn: &mut Counted<impl Connected>,
    playlist: i64,
    low: i64,
    tail: &[i64],
) -> ApiResult<()> {
    sqlx::query("DELETE FROM playlist_track WHERE playlist_id = $1 AND position > $2")
        .bind(playlist)
        .bind(low)
        .execute(&mut *conn)
        .await?;
    let rows: Vec<(i64, i64)> = fresh_keys(tail.len())
        .map(|key| low + key)
        .zip(tail.iter().copied())
        .collect();
    put(conn, playlist, &rows).await
}

/// Writes `rows` (key, track) as the playlist's entries.
pub(super) async fn put(
    conn: &mut Counted<impl Connected>,
    playlist: i64,
    rows: &[(i64, i64)],
) -> ApiResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO playlist_track (playlist_id, position, track_id) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (position, track) in chunk {
            query = query.bind(playlist).bind(*position).bind(*track);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
