//! The media store: a directory of audio files (read-only in production), and the
//! `track_audio` rows that say which file is each track's master. A file is always found
//! through its row or its master, never through a path a client sent. A track without a
//! stored master has a generated one: every track has audio.

pub mod cover;
pub mod encode;
pub mod flight;
pub mod masters;
pub mod pcm;
pub mod renditions;
pub mod synth;
pub mod upload;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::config::SeedAudio;
use crate::db::Db;
use anyhow::Context;
pub use masters::audio_of;
use renditions::Renditions;

/// A track's audio file, as its row describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFile {
    pub track_id: i64,
    /// Relative to the media store.
    pub path: String,
    pub content_type: String,
    pub bytes: u64,
    /// Strong, quoted: `"<hash>"`.
    pub etag: String,
    /// RFC 3339.
    pub updated_at: String,
}

#[derive(Clone)]
pub struct MediaStore {
    root: PathBuf,
    renditions: Arc<Renditions>,
    generated_max_ms: u64,
    /// Cover variants being made, one render per variant however many ask.
    covers: Arc<flight::Flights<Vec<u8>>>,
    /// Which stored master each track has, remembered.
    masters: masters::Masters,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStore")
            .field("root", &self.root)
            .field("cache", &self.renditions.dir())
            .finish()
    }
}

/// The defaults of a store made without settings (the CLI's seeding).
pub const DEFAULT_CACHE_BYTES: u64 = 1 << 30;
pub const DEFAULT_GENERATED_MAX_SECS: u64 = 120;

impl MediaStore {
    /// A store whose on-demand renditions are cached in `<root>/cache`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let cache = root.join("cache");
        Self::with_cache(root, cache, DEFAULT_CACHE_BYTES, DEFAULT_GENERATED_MAX_SECS)
    }

    /// A store whose on-demand renditions are cached in `cache_dir`, at most `cache_bytes`,
    /// and whose generated songs last at most `generated_max_secs`.
    pub fn with_cache(
        root: impl Into<PathBuf>,
        cache_dir: PathBuf,
        cache_bytes: u64,
        generated_max_secs: u64,
    ) -> Self {
        Self {
            root: root.into(),
            renditions: Arc::new(Renditions::new(cache_dir, cache_bytes)),
            generated_max_ms: generated_max_secs.saturating_mul(1000),
            covers: Arc::default(),
            masters: masters::Masters::new(masters::DEFAULT_TTL),
        }
    }

    /// Cover variants rendered by this process so far.
    pub fn cover_renders(&self) -> u64 {
        self.covers.runs()
    }

    /// The master of a track without a stored one: its song, as long as the track (at least a
    /// second) up to the configured cap.
    pub fn generated(&self, track: i64, milliseconds: u64) -> renditions::Master {
        renditions::Master::Generated {
            track,
            milliseconds: milliseconds.clamp(1000, self.generated_max_ms.max(1000)),
        }
    }

    /// The cache of renditions made on demand.
    pub fn cache(&self) -> &Renditions {
        &self.renditions
    }

    /// Free and total bytes of the volume the store is on, for `/health`. `statvfs` can
    /// block on a network volume, so it runs on the blocking pool.
    pub async fn volume_space(&self) -> anyhow::Result<VolumeSpace> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || volume_space(&root)).await?
    }

    /// The file of a stored relative path. Paths come from `track_audio`, which only this
    /// module writes; anything that could leave the store is refused all the same.
    pub fn path_of(&self, relative: &str) -> anyhow::Result<PathBuf> {
        let path = Path::new(relative);
        let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
        anyhow::ensure!(plain, "the stored media path {relative:?} leaves the store");
        Ok(self.root.join(path))
    }

    /// Where a track's file with this content hash lives: spread over a thousand
    /// directories, and named by the hash so new content never overwrites old.
    pub fn relative_path(track: i64, hash: &str, extension: &str) -> String {
        let short = hash.get(..16).unwrap_or(hash);
        format!(
            "audio/{:03}/{track}-{short}.{extension}",
            track.rem_euclid(1000)
        )
    }

    /// Writes `content` as a new file for `track` and returns its row (not yet saved). The
    /// name carries the content hash, so the file a listener has open is never rewritten.
    pub async fn write(
        &self,
        track: i64,
        content: Vec<u8>,
        content_type: &str,
        extension: &str,
    ) -> anyhow::Result<AudioFile> {
        let hash = crate::hex::sha256(&content);
        let relative = Self::relative_path(track, &hash, extension);
        let path = self.path_of(&relative)?;
        let bytes = content.len() as u64;
        tokio::task::spawn_blocking(move || write_atomically(&path, &content))
            .await
            .context("writing a media file panicked")??;
        Ok(AudioFile {
            track_id: track,
            path: relative,
            content_type: content_type.to_string(),
            bytes,
            etag: format!("\"{}\"", &hash[..32]),
            updated_at: crate::db::timestamp_now(),
        })
    }
}

/// Writes beside under a name of its own and renames, so a reader never sees half a file
/// (nor a crash leaves one) and two writers of the same content never write into each
/// other's file.
pub(crate) fn write_atomically(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .context("a kept file's path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let partial = dir.join(format!(".{}.partial", uuid::Uuid::new_v4().simple()));
    std::fs::write(&partial, content)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        anyhow::Error::new(e).context(format!("cannot rename to {}", path.display()))
    })
}

/// Stores generated masters (FLAC) for the tracks `which` names that have no stored master,
/// each as long as the track up to `max_secs`, so they live in the media store rather than
/// the cache (a media volume prepared ahead, say). Like an upload, each comes with its
/// renditions, made in the same pass and kept in the media store: every instance that
/// shares the store streams them at once, rather than rendering its own copy on a first
/// request. Every track has generated audio without this. Returns how many masters were
/// written.
pub async fn seed_audio(
    db: &Db,
    store: &MediaStore,
    which: SeedAudio,
    max_secs: u64,
) -> anyhow::Result<u64> {
    let limit = match which {
        SeedAudio::None => return Ok(0),
        SeedAudio::First(n) => i64::try_from(n).unwrap_or(i64::MAX),
        SeedAudio::All => i64::MAX,
    };
    let tracks: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT t.track_id, t.milliseconds FROM track t \
         WHERE NOT EXISTS (SELECT 1 FROM track_audio a WHERE a.track_id = t.track_id) \
           AND t.track_id IN (SELECT track_id FROM track ORDER BY track_id LIMIT $1) \
         ORDER BY t.track_id",
    )
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    let mut written = 0;
    for (track, milliseconds) in tracks {
        let length = (milliseconds.max(0) as u64).min(max_secs * 1000);
        let made = tokio::task::spawn_blocking(move || {
            let mut song = synth::Synth::new(track, length);
            encode::render(&mut song, &encode::Rendition::ALL)
        })
        .await
        .context("generating audio panicked")??;
        let flac = made
            .iter()
            .find(|(rendition, _)| *rendition == encode::Rendition::Flac)
            .map(|(_, bytes)| bytes.clone())
            .context("the encoder made no FLAC")?;
        let file = store.write(track, flac, "audio/flac", "flac").await?;
        store.keep_renditions(&file, made).await?;
        store.save(db, &file).await?;
        written += 1;
    }
    Ok(written)
}

/// Space on the media volume. `free_bytes` is what an unprivileged writer may still use.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct VolumeSpace {
    pub free_bytes: u64,
    pub total_bytes: u64,
}

fn volume_space(root: &Path) -> anyhow::Result<VolumeSpace> {
    use std::os::unix::ffi::OsStrExt;
    // The store's folder appears with its first file; until then, the volume it will be on.
    let path = root
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("."));
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c_path` is a NUL-terminated string and `stats` is a valid place for the
    // kernel to fill; it is read only when the call succeeds.
    let stats = unsafe {
        if libc::statvfs(c_path.as_ptr(), stats.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        stats.assume_init()
    };
    let block = stats.f_frsize as u64;
    Ok(VolumeSpace {
        free_bytes: stats.f_bavail as u64 * block,
        total_bytes: stats.f_blocks as u64 * block,
    })
}
