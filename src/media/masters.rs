//! Which stored master each track has (`track_audio`), remembered so that a warm stream
//! request asks the database nothing. Saving a master through the store forgets the track's
//! entry here at once, and announces the change so that other instances forget theirs
//! (`streaming::warm` carries announcements over Redis). An entry lives at most
//! `CHINOOK_AUTH_CACHE_SECS`, which bounds a peer's lag when Redis is down.

use std::time::Duration;

use sqlx::Row;
use tokio::sync::broadcast;

use super::{AudioFile, MediaStore};
use crate::db::{Db, Pool};
use crate::memo::Memo;

/// Tracks remembered, at most.
const ENTRIES: u64 = 100_000;

/// How long an entry lives when the store is made without settings.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

/// A change to announce: one track's master, or (after missed announcements) all of them.
pub type Change = Option<i64>;

#[derive(Clone)]
pub struct Masters {
    memo: Memo<i64, Option<AudioFile>>,
    changes: broadcast::Sender<Change>,
}

impl Masters {
    pub fn new(ttl: Duration) -> Self {
        Self {
            memo: Memo::new(ENTRIES, ttl),
            changes: broadcast::channel(1024).0,
        }
    }
}

impl MediaStore {
    /// The same store, remembering masters for at most `ttl`.
    pub fn remembering_masters_for(mut self, ttl: Duration) -> Self {
        self.masters = Masters::new(ttl);
        self
    }

    /// A track's stored master, or `None` when it plays its generated song.
    pub async fn master(&self, db: &Db, track: i64) -> anyhow::Result<Option<AudioFile>> {
        self.masters
            .memo
            // From the primary: a replica behind a save would have its old row kept.
            .get_or(track, || read(db.primary(), track), |_| true)
            .await
    }

    /// Records `file` as its track's master, returning the row it replaced. The track's
    /// remembered master is forgotten here and on every other instance.
    pub async fn save(&self, db: &Db, file: &AudioFile) -> anyhow::Result<Option<AudioFile>> {
        let previous = read(db.primary(), file.track_id).await?;
        sqlx::query(
            "INSERT INTO track_audio (track_id, path, content_type, bytes, etag, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (track_id) DO UPDATE SET path = excluded.path, \
               content_type = excluded.content_type, bytes = excluded.bytes, \
               etag = excluded.etag, updated_at = excluded.updated_at",
        )
        .bind(file.track_id)
        .bind(&file.path)
        .bind(&file.content_type)
        .bind(file.bytes as i64)
        .bind(&file.etag)
        .bind(&file.updated_at)
        .execute(db.writer())
        .await?;
        self.master_changed(file.track_id);
        Ok(previous)
    }

    /// The track's master row changed (it was saved, or the track deleted): forgotten here
    /// now, and announced to the other instances.
    pub fn master_changed(&self, track: i64) {
        self.forget_master(Some(track));
        // No subscriber (the command line, a test store) is no error.
        let _ = self.masters.changes.send(Some(track));
    }

    /// Forgets what another instance announced: one track, or every track.
    pub fn forget_master(&self, change: Change) {
        match change {
            Some(track) => self.masters.memo.invalidate(&track),
            None => self.masters.memo.clear(),
        }
    }

    /// This instance's changes, for whoever tells the others.
    pub fn master_changes(&self) -> broadcast::Receiver<Change> {
        self.masters.changes.subscribe()
    }
}

/// The audio file of a track, when it has one, from the database.
pub async fn audio_of(db: &Db, track: i64) -> anyhow::Result<Option<AudioFile>> {
    read(db.reader(), track).await
}

async fn read(pool: &Pool, track: i64) -> anyhow::Result<Option<AudioFile>> {
    let row = sqlx::query(
        "SELECT path, content_type, bytes, etag, updated_at FROM track_audio WHERE track_id = $1",
    )
    .bind(track)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let bytes: i64 = row.try_get(2)?;
    Ok(Some(AudioFile {
        track_id: track,
        path: row.try_get(0)?,
        content_type: row.try_get(1)?,
        bytes: bytes.max(0) as u64,
        etag: row.try_get(3)?,
        updated_at: row.try_get(4)?,
    }))
}
