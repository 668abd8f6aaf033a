//! Where a track's renditions come from, and the cache that keeps the ones made on demand.
//!
//! Every rendition is a plain file named by what it was made from: the master's content
//! hash (stored masters) or the track, its length and the generator's version (generated
//! masters), with the encoder settings' version. New content always gets a new name, so a
//! file a listener has open is never rewritten, and a name is also a strong ETag.
//!
//! Renditions of uploads are made at upload and kept in the media store for good. Everything
//! else (generated songs, renditions of masters stored before renditions existed) is made on
//! first request, one render per file however many ask at once, into a cache directory with
//! a size cap that evicts the least recently used files. A response opens its file before it
//! promises anything, so an eviction never cuts a listener off: the unlinked file stays
//! readable through the open descriptor.

mod cache;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;

use super::encode::{self, Rendition};
use super::pcm::{Decoded, PcmSource};
use super::synth::{self, Synth};
use super::AudioFile;

pub use cache::Renditions;

/// Bumped whenever encoder settings change, so old files are never served as new ones.
pub const ENCODING_VERSION: u32 = 1;

/// A rendition's file, opened.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub rendition: Rendition,
    pub file: Arc<std::fs::File>,
    pub path: PathBuf,
    pub bytes: u64,
    /// Strong and quoted.
    pub etag: String,
    pub modified: SystemTime,
}

/// What a rendition is made from.
#[derive(Debug, Clone)]
pub enum Master {
    /// The track's song, this long.
    Generated { track: i64, milliseconds: u64 },
    /// A file in the media store, as its `track_audio` row names it.
    Stored(AudioFile),
}

impl Master {
    fn track(&self) -> i64 {
        match self {
            Master::Generated { track, .. } => *track,
            Master::Stored(file) => file.track_id,
        }
    }

    /// The file's name stem, which is also its ETag.
    fn stem(&self, rendition: Rendition) -> String {
        let kind = rendition.name();
        match self {
            Master::Generated {
                track,
                milliseconds,
            } => format!(
                "{track}-{milliseconds}ms-g{}-{kind}-e{ENCODING_VERSION}",
                synth::VERSION
            ),
            Master::Stored(file) => {
                let hash = file.etag.trim_matches('"');
                let short = hash.get(..16).unwrap_or(hash);
                format!("{}-{short}-{kind}-e{ENCODING_VERSION}", file.track_id)
            }
        }
    }

    /// Where the rendition lives, relative to the media store or the cache.
    pub fn relative_path(&self, rendition: Rendition) -> String {
        let folder = match self {
            Master::Generated { .. } => "generated",
            Master::Stored(_) => "renditions",
        };
        format!(
            "{folder}/{:03}/{}.{}",
            self.track().rem_euclid(1000),
            self.stem(rendition),
            rendition.extension()
        )
    }
}

fn open(path: &Path) -> std::io::Result<Option<(std::fs::File, u64, SystemTime)>> {
    match std::fs::File::open(path) {
        Ok(file) => {
            let meta = file.metadata()?;
            Ok(Some((file, meta.len(), meta.modified()?)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl super::MediaStore {
    /// `rendition` of `master`: from the media store when it was made at upload, otherwise
    /// from the cache, rendered first when the cache lacks it.
    pub async fn rendition(
        &self,
        master: &Master,
        rendition: Rendition,
    ) -> anyhow::Result<Rendered> {
        let relative = master.relative_path(rendition);
        let etag = format!("\"{}\"", master.stem(rendition));
        if let Master::Stored(_) = master {
            let path = self.path_of(&relative)?;
            let opened = {
                let path = path.clone();
                tokio::task::spawn_blocking(move || open(&path)).await??
            };
            if let Some((file, bytes, modified)) = opened {
                return Ok(Rendered {
                    rendition,
                    file: Arc::new(file),
                    path,
                    bytes,
                    etag,
                    modified,
                });
            }
        }
        let make: Box<dyn FnOnce() -> anyhow::Result<Vec<u8>> + Send> = match master {
            Master::Generated {
                track,
                milliseconds,
            } => {
                let (track, milliseconds) = (*track, *milliseconds);
                Box::new(move || render_one(&mut Synth::new(track, milliseconds), rendition))
            }
            Master::Stored(file) => {
                let path = self.path_of(&file.path)?;
                Box::new(move || render_one(&mut Decoded::open_stored(&path)?, rendition))
            }
        };
        self.renditions
            .get_or_render(relative, rendition, etag, make)
            .await
    }

    /// Keeps renditions made at upload in the media store, where they are never evicted.
    pub async fn keep_renditions(
        &self,
        master: &AudioFile,
        made: Vec<(Rendition, Vec<u8>)>,
    ) -> anyhow::Result<()> {
        let master = Master::Stored(master.clone());
        for (rendition, content) in made {
            let path = self.path_of(&master.relative_path(rendition))?;
            tokio::task::spawn_blocking(move || super::write_atomically(&path, &content))
                .await
                .context("writing a rendition panicked")??;
        }
        Ok(())
    }

    /// Removes every rendition of a master that was replaced. Listeners who have one open
    /// read on: an unlinked file lives until its last descriptor closes.
    pub async fn remove_renditions(&self, master: &AudioFile) -> anyhow::Result<()> {
        let master = Master::Stored(master.clone());
        let keys: Vec<String> = Rendition::ALL
            .iter()
            .map(|r| master.relative_path(*r))
            .collect();
        for key in &keys {
            if let Ok(path) = self.path_of(key) {
                let _ = tokio::fs::remove_file(path).await;
            }
        }
        self.renditions.forget(keys).await
    }
}

fn render_one(source: &mut dyn PcmSource, rendition: Rendition) -> anyhow::Result<Vec<u8>> {
    let mut made = encode::render(source, &[rendition])?;
    made.pop()
        .map(|(_, bytes)| bytes)
        .context("the encoder made nothing")
}
