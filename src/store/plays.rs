//! Plays and the play queue, per account: scrobbles counted per track (with the album, so
//! album lists group without a join), and the queue a player saves to resume elsewhere.

use sqlx::Row;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// Counts one play of `track` (on `album`) at `at` (RFC 3339).
pub async fn scrobble(
    db: &Db,
    account: i64,
    track: i64,
    album: Option<i64>,
    at: &str,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO play_count (account_id, track_id, album_id, plays, last_played) \
         VALUES ($1, $2, $3, 1, $4) \
         ON CONFLICT (account_id, track_id) DO UPDATE SET plays = play_count.plays + 1, \
         last_played = CASE WHEN play_count.last_played > excluded.last_played \
                            THEN play_count.last_played ELSE excluded.last_played END",
    )
    .bind(account)
    .bind(track)
    .bind(album)
    .bind(at)
    .execute(db.writer())
    .await?;
    db.note_write(account).await;
    Ok(())
}

/// Albums by the account's plays: most played (`frequent`) or last played first.
pub async fn played_albums(
    db: &Db,
    account: i64,
    frequent: bool,
    limit: u64,
    offset: u64,
) -> ApiResult<Vec<i64>> {
    let order = if frequent {
        "SUM(plays) DESC, MAX(last_played) DESC"
    } else {
        "MAX(last_played) DESC"
    };
    let sql = format!(
        "SELECT album_id FROM play_count WHERE account_id = $1 AND album_id IS NOT NULL \
         GROUP BY album_id ORDER BY {order}, album_id LIMIT $2 OFFSET $3"
    );
    let sql = sql.as_str();
    Ok(db
        .read(|pool| async move {
            sqlx::query_scalar(sql)
                .bind(account)
                .bind(limit as i64)
                .bind(offset as i64)
                .fetch_all(&pool)
                .await
        })
        .await?)
}

/// A saved play queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayQueue {
    pub tracks: Vec<i64>,
    pub current: Option<i64>,
    pub position_ms: i64,
    pub changed_at: String,
    pub changed_by: String,
}

/// Most entries a saved queue may hold.
pub const MAX_QUEUE: usize = 5_000;

pub async fn save_queue(db: &Db, account: i64, queue: &PlayQueue) -> ApiResult<()> {
    if queue.tracks.len() > MAX_QUEUE {
        return Err(ApiError::Validation(format!(
            "a play queue holds at most {MAX_QUEUE} songs"
        )));
    }
    let mut tx = db.writer().begin().await?;
    sqlx::query("DELETE FROM play_queue WHERE account_id = $1")
        .bind(account)
        .execute(&mut tx)
        .await?;
    if !queue.tracks.is_empty() {
        sqlx::query(
            "INSERT INTO play_queue (account_id, current_track, position_ms, changed_at, changed_by) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account)
        .bind(queue.current)
        .bind(queue.position_ms)
        .bind(&queue.changed_at)
        .bind(&queue.changed_by)
        .execute(&mut tx)
        .await?;
        for (n, chunk) in queue.tracks.chunks(500).enumerate() {
            let values: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, track)| format!("({account}, {}, {track})", n * 500 + i + 1))
                .collect();
            sqlx::query(&format!(
                "INSERT INTO play_queue_entry (account_id, position, track_id) VALUES {}",
                values.join(",")
            ))
            .execute(&mut tx)
            .await?;
        }
    }
    tx.commit().await?;
    db.note_write(account).await;
    Ok(())
}

pub async fn queue(db: &Db, account: i64) -> ApiResult<Option<PlayQueue>> {
    let mut conn = db.read_connection().await?;
    let head = sqlx::query(
        "SELECT current_track, position_ms, changed_at, changed_by FROM play_queue \
         WHERE account_id = $1",
    )
    .bind(account)
    .fetch_optional(&mut conn)
    .await?;
    let Some(head) = head else {
        return Ok(None);
    };
    let tracks: Vec<i64> = sqlx::query_scalar(
        "SELECT track_id FROM play_queue_entry WHERE account_id = $1 ORDER BY position",
    )
    .bind(account)
    .fetch_all(&mut conn)
    .await?;
    Ok(Some(PlayQueue {
        tracks,
        current: head.try_get(0)?,
        position_ms: head.try_get(1)?,
        changed_at: head.try_get(2)?,
        changed_by: head.try_get(3)?,
    }))
}
