//! Album cover art: each album's original (an admin's upload, or a cover generated from its
//! id and title), and the resized lossy WebP and JPEG variants served from it, cached in the media
//! store under names that carry a hash of the original, the size and the format.
//!
//! Uploads are decoded under explicit limits (bytes, pixels, decoder memory) checked from the
//! header before any pixel is decoded, so a decompression bomb costs milliseconds, not memory.

pub mod art;
mod decode;
mod encode;
mod format;
mod upload;

pub use format::{parse_format, parse_size, Format};
pub use upload::{receive, replace, StoredCover};

use anyhow::Context;
use image::DynamicImage;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{write_atomically, MediaStore};
use crate::config::Config;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// The sizes a cover is served at, in pixels square.
pub const SIZES: [u32; 4] = [64, 128, 300, 600];

/// The size served when a request names none.
pub const DEFAULT_SIZE: u32 = 300;

/// Part of every variant's hash: bump it when resizing or encoding changes, so no cache keeps
/// serving variants made the old way.
const VARIANT_VERSION: &[u8] = b"chinook cover variant v2";

/// The decoding limits of uploads, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest upload, in bytes.
    pub max_bytes: u64,
    /// Largest width and height, in pixels.
    pub max_dimension: u32,
    /// Most memory the decoder may allocate, in bytes.
    pub max_alloc: u64,
}

impl Limits {
    pub fn of(config: &Config) -> Self {
        Self {
            max_bytes: config.cover_max_bytes,
            max_dimension: config.cover_max_dimension,
            max_alloc: config.cover_max_alloc_bytes,
        }
    }

    fn decoder_limits(&self) -> image::Limits {
        // `image::Limits` is non-exhaustive: start from its defaults, set every limit we own.
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_dimension);
        limits.max_image_height = Some(self.max_dimension);
        limits.max_alloc = Some(self.max_alloc);
        limits
    }
}

/// What an album's cover is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Original {
    /// An admin's upload: its file in the media store and its content hash (hex).
    Uploaded { path: String, hash: String },
    /// Drawn from the album's id and title; `hash` is the drawing's seed (hex).
    Generated { seed: [u8; 32], hash: String },
}

impl Original {
    pub fn generated(album: i64, title: &str) -> Self {
        let seed = art::seed(album, title);
        Self::Generated {
            hash: hex(&seed),
            seed,
        }
    }

    pub fn hash(&self) -> &str {
        match self {
            Self::Uploaded { hash, .. } | Self::Generated { hash, .. } => hash,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An album's cover original, or `None` when there is no such album.
pub async fn original_of(db: &Db, album: i64) -> anyhow::Result<Option<Original>> {
    let row = sqlx::query(
        "SELECT a.title, c.path, c.hash FROM album a \
         LEFT JOIN album_cover c ON c.album_id = a.album_id WHERE a.album_id = $1",
    )
    .bind(album)
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let title: String = row.try_get(0)?;
    let path: Option<String> = row.try_get(1)?;
    let hash: Option<String> = row.try_get(2)?;
    Ok(Some(match (path, hash) {
        (Some(path), Some(hash)) => Original::Uploaded { path, hash },
        _ => Original::generated(album, &title),
    }))
}

/// One encoded variant's identity: a hash of its original, size and format. It is the
/// variant's file name and, quoted, its strong ETag.
pub fn variant_hash(original: &Original, size: u32, format: Format) -> String {
    let digest = Sha256::new()
        .chain_update(VARIANT_VERSION)
        .chain_update(original.hash().as_bytes())
        .chain_update(size.to_le_bytes())
        .chain_update(format.name().as_bytes())
        .finalize();
    hex(&digest[..16])
}

fn variant_path(hash: &str, format: Format) -> String {
    let shard = hash.get(..2).unwrap_or("00");
    format!("covers/variants/{shard}/{hash}.{}", format.extension())
}

/// An encoded cover, ready to send.
#[derive(Debug, Clone)]
pub struct Variant {
    pub bytes: Vec<u8>,
    pub format: Format,
    /// Strong, quoted.
    pub etag: String,
}

pub fn etag(hash: &str) -> String {
    format!("\"{hash}\"")
}

/// The variant of `original` at `size` in `format`: from the cache, or made and cached.
/// A store that cannot be written (read-only in production) only costs the cache.
pub async fn variant(
    store: &MediaStore,
    original: &Original,
    size: u32,
    format: Format,
    limits: Limits,
) -> ApiResult<Variant> {
    let hash = variant_hash(original, size, format);
    let path = store
        .path_of(&variant_path(&hash, format))
        .map_err(ApiError::Internal)?;
    let etag = etag(&hash);
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            return Ok(Variant {
                bytes,
                format,
                etag,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(error = %e, path = %path.display(), "cannot read a cached cover"),
    }
    let source = match original {
        Original::Uploaded { path, .. } => Source::File(store.path_of(path)?),
        Original::Generated { seed, .. } => Source::Drawn(*seed),
    };
    // Concurrent first requests for one variant share one render.
    let render = || async move {
        tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
            let image = source.load(limits)?;
            let bytes = encode::render(image, size, format)?;
            if let Err(e) = write_atomically(&path, &bytes) {
                // A read-only store is a deployment choice, not news at every request.
                if is_read_only(&e) {
                    tracing::debug!(error = format!("{e:#}"), "cannot cache a cover variant");
                } else {
                    tracing::warn!(error = format!("{e:#}"), "cannot cache a cover variant");
                }
            }
            Ok(bytes)
        })
        .await
        .context("making a cover variant panicked")?
    };
    let bytes = store.covers.run(&hash, render).await?;
    Ok(Variant {
        bytes,
        format,
        etag,
    })
}

/// Where a variant's pixels come from.
enum Source {
    File(std::path::PathBuf),
    Drawn([u8; 32]),
}

impl Source {
    fn load(self, limits: Limits) -> anyhow::Result<DynamicImage> {
        match self {
            Self::Drawn(seed) => Ok(DynamicImage::ImageRgb8(art::render(&seed))),
            Self::File(path) => {
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read the cover {}", path.display()))?;
                // Stored originals passed these limits on upload; they are kept all the same.
                let (image, _) = decode::decode(&bytes, limits)
                    .map_err(|e| anyhow::anyhow!("a stored cover no longer decodes: {e}"))?;
                Ok(image)
            }
        }
    }
}

fn is_read_only(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            )
        })
    })
}

/// Warms the variant cache for the first `albums` albums by id that have no uploaded
/// cover: the `DEFAULT_SIZE` variant in both formats. Covers of the albums past the limit
/// are drawn on their first request; they are the same either way. Returns how many albums
/// were warmed.
pub async fn seed_covers(db: &Db, store: &MediaStore, albums: u64) -> anyhow::Result<u64> {
    if albums == 0 {
        return Ok(0);
    }
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT a.album_id, a.title FROM album a \
         WHERE NOT EXISTS (SELECT 1 FROM album_cover c WHERE c.album_id = a.album_id) \
         ORDER BY a.album_id LIMIT $1",
    )
    .bind(i64::try_from(albums).unwrap_or(i64::MAX))
    .fetch_all(db.reader())
    .await?;
    let limits = Limits {
        max_bytes: 0,
        max_dimension: art::SIZE,
        max_alloc: u64::MAX,
    };
    let mut warmed = 0;
    for (album, title) in rows {
        let original = Original::generated(album, &title);
        for format in Format::ALL {
            variant(store, &original, DEFAULT_SIZE, format, limits)
                .await
                .map_err(|e| anyhow::anyhow!("drawing the cover of album {album}: {e}"))?;
        }
        warmed += 1;
    }
    Ok(warmed)
}
