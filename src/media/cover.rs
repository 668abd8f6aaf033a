//! Album cover art: each album's original (an admin's upload, or a cover generated from its
//! id and title), and the resized WebP and JPEG variants served from it, cached in the media
//! store under names that carry a hash of the original, the size and the format.
//!
//! Uploads are decoded under explicit limits (bytes, pixels, decoder memory) checked from the
//! header before any pixel is decoded, so a decompression bomb costs milliseconds, not memory.

pub mod art;

use std::io::Cursor;
use std::path::Path;

use anyhow::Context;
use futures_util::{Stream, StreamExt};
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, RgbImage};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::MediaStore;
use crate::config::Config;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// The sizes a cover is served at, in pixels square.
pub const SIZES: [u32; 4] = [64, 128, 300, 600];

/// The size served when a request names none.
pub const DEFAULT_SIZE: u32 = 300;

/// JPEG quality of the variants: visually clean at cover sizes, a few tens of kB.
const JPEG_QUALITY: u8 = 85;

/// Part of every variant's hash: bump it when resizing or encoding changes, so no cache keeps
/// serving variants made the old way.
const VARIANT_VERSION: &[u8] = b"chinook cover variant v1";

/// The formats a variant is encoded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Webp,
    Jpeg,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Webp, Format::Jpeg];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "webp" => Some(Self::Webp),
            "jpeg" | "jpg" => Some(Self::Jpeg),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Webp => "webp",
            Self::Jpeg => "jpeg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Webp => "image/webp",
            Self::Jpeg => "image/jpeg",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Webp => "webp",
            Self::Jpeg => "jpg",
        }
    }

    /// WebP when the client names it in `Accept` (with a non-zero quality), else JPEG, which
    /// every client decodes. `*/*` and `image/*` alone do not count as asking for WebP: old
    /// clients send them without being able to decode it.
    pub fn negotiate(accept: Option<&str>) -> Self {
        let accepts_webp = accept.unwrap_or_default().split(',').any(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|param| {
                let param = param.trim().replace(' ', "");
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            media.eq_ignore_ascii_case("image/webp") && !refused
        });
        if accepts_webp {
            Self::Webp
        } else {
            Self::Jpeg
        }
    }
}

/// `size` as a request gave it: one of `SIZES`, or a 400 naming them.
pub fn parse_size(raw: Option<&str>) -> ApiResult<u32> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_SIZE);
    };
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|size| SIZES.contains(size))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "size `{raw}` is not offered: use one of 64, 128, 300 or 600"
            ))
        })
}

/// `format` as a request gave it, or a 400 naming the formats offered.
pub fn parse_format(raw: &str) -> ApiResult<Format> {
    Format::parse(raw).ok_or_else(|| {
        ApiError::BadRequest(format!("format `{raw}` is not offered: use webp or jpeg"))
    })
}

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
            let bytes = encode(&flatten(fit(image, size)), format)?;
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
                let (image, _) = decode(&bytes, limits)
                    .map_err(|e| anyhow::anyhow!("a stored cover no longer decodes: {e}"))?;
                Ok(image)
            }
        }
    }
}

/// The image on white: JPEG has no transparency, and a cover is shown on a page. It runs on
/// the resized variant, so it touches at most 600×600 pixels.
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// The centred square of `image`, resized to `size` with Lanczos3.
fn fit(image: DynamicImage, size: u32) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    let side = width.min(height);
    // `DynamicImage`'s methods are compiled (and optimised) in the image crate; the generic
    // `imageops::resize` would be instantiated here, unoptimised in debug builds and tests.
    let square = image.crop_imm((width - side) / 2, (height - side) / 2, side, side);
    if side == size {
        return square;
    }
    square.resize_exact(size, size, FilterType::Lanczos3)
}

fn encode(image: &RgbImage, format: Format) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    match format {
        Format::Jpeg => {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
                .encode_image(image)
                .context("encoding a JPEG cover")?;
        }
        Format::Webp => {
            // The image crate encodes lossless WebP only.
            image::codecs::webp::WebPEncoder::new_lossless(&mut out)
                .encode(
                    image.as_raw(),
                    image.width(),
                    image.height(),
                    image::ExtendedColorType::Rgb8,
                )
                .context("encoding a WebP cover")?;
        }
    }
    Ok(out)
}

/// Writes beside under a name of its own and renames, so a reader never sees half a file and
/// two requests making the same variant at once never write into each other's file.
fn write_atomically(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("a cover path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let partial = dir.join(format!(".{}.partial", uuid::Uuid::new_v4().simple()));
    std::fs::write(&partial, content)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        anyhow::Error::new(e).context(format!("cannot rename to {}", path.display()))
    })
}

/// Why an upload is refused.
fn unsupported() -> ApiError {
    ApiError::UnsupportedMediaType(
        "the upload is not an image this store takes: send a PNG, JPEG or WebP file".into(),
    )
}

/// Decodes an upload under `limits`, checking its declared size from the header first.
/// Every failure is the client's: 415 for what is not a PNG, JPEG or WebP at all, 422 for
/// one that is too large, truncated or corrupt.
fn decode(bytes: &[u8], limits: Limits) -> ApiResult<(DynamicImage, ImageFormat)> {
    // `bounded` off reads the header only: its width and height are checked here, so the
    // error can say what the image declared.
    let reader = |bounded: bool| -> ApiResult<ImageReader<Cursor<&[u8]>>> {
        let mut reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| ApiError::Validation(format!("the image cannot be read: {e}")))?;
        match reader.format() {
            Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) => {}
            _ => return Err(unsupported()),
        }
        let mut decoder_limits = limits.decoder_limits();
        if !bounded {
            decoder_limits.max_image_width = None;
            decoder_limits.max_image_height = None;
        }
        reader.limits(decoder_limits);
        Ok(reader)
    };
    let header = reader(false)?;
    let kind = header.format().ok_or_else(unsupported)?;
    let format = match kind {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        _ => "WebP",
    };
    let invalid = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => ApiError::Validation(format!(
            "the {format} needs more than the {} bytes of memory covers may take to decode",
            limits.max_alloc
        )),
        image::ImageError::Unsupported(e) => ApiError::UnsupportedMediaType(format!(
            "this {format} uses a feature the store cannot decode: {e}"
        )),
        other => ApiError::Validation(format!("the {format} is truncated or corrupt: {other}")),
    };
    let (width, height) = header.into_dimensions().map_err(invalid)?;
    let max = limits.max_dimension;
    if width > max || height > max {
        return Err(ApiError::Validation(format!(
            "the {format} declares {width}×{height} pixels, but covers may be at most {max}×{max}"
        )));
    }
    if width == 0 || height == 0 {
        return Err(ApiError::Validation(format!("the {format} has no pixels")));
    }
    if kind == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(ApiError::Validation(
            "the JPEG is truncated: no end-of-image marker follows its last scan".into(),
        ));
    }
    let image = reader(true)?.decode().map_err(invalid)?;
    Ok((image, kind))
}

/// Whether the JPEG's last scan is followed by its end-of-image marker. The decoder fills in
/// what a truncated JPEG lacks with grey rather than failing, so this is checked apart.
/// Inside scan data a 0xFF byte is always followed by 0x00 or a restart marker, so neither
/// marker can appear there by chance.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|pair| pair == [0xFF, marker]);
    match (last(0xDA), last(0xD9)) {
        (Some(scan), Some(end)) => end > scan,
        _ => false,
    }
}

/// Reads an upload's body into memory, refusing it as soon as it passes `limit` bytes.
pub async fn receive<S, E>(mut body: S, declared: Option<u64>, limit: u64) -> ApiResult<Vec<u8>>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let too_large = || ApiError::PayloadTooLarge(format!("covers may be at most {limit} bytes"));
    // A declared length over the limit is refused before a byte is read.
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::BadRequest(format!("the upload broke off before it ended: {e}"))
        })?;
        if bytes.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err(ApiError::Validation(
            "the upload is empty: send the image file as the body".into(),
        ));
    }
    Ok(bytes)
}

/// An uploaded cover, as stored.
#[derive(Debug, Clone)]
pub struct StoredCover {
    pub album_id: i64,
    pub content_type: String,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    /// The content hash of the original (hex); variant ETags derive from it.
    pub hash: String,
    pub updated_at: String,
}

/// Validates `bytes` as `album`'s new cover, stores the file, records it, and removes the
/// files of the cover it replaces. The caller has checked that the album exists.
pub async fn replace(
    db: &Db,
    store: &MediaStore,
    album: i64,
    bytes: Vec<u8>,
    limits: Limits,
) -> ApiResult<StoredCover> {
    let (bytes, format, width, height) = tokio::task::spawn_blocking(move || {
        let (image, format) = decode(&bytes, limits)?;
        Ok::<_, ApiError>((bytes, format, image.width(), image.height()))
    })
    .await
    .map_err(|e| {
        ApiError::Internal(anyhow::Error::new(e).context("decoding a cover panicked"))
    })??;

    let hash = hex(&Sha256::digest(&bytes));
    let short = &hash[..16];
    let extension = match format {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpg",
        _ => "webp",
    };
    let relative = format!(
        "covers/originals/{:03}/{album}-{short}.{extension}",
        album.rem_euclid(1000)
    );
    let path = store.path_of(&relative)?;
    let size = bytes.len() as u64;
    tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
        .await
        .context("writing a cover panicked")?
        .map_err(store_error)?;

    let previous = original_of(db, album).await?;
    let cover = StoredCover {
        album_id: album,
        content_type: format.to_mime_type().to_string(),
        bytes: size,
        width,
        height,
        hash,
        updated_at: crate::db::timestamp_now(),
    };
    sqlx::query(
        "INSERT INTO album_cover (album_id, path, content_type, bytes, width, height, hash, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (album_id) DO UPDATE SET path = excluded.path, \
           content_type = excluded.content_type, bytes = excluded.bytes, width = excluded.width, \
           height = excluded.height, hash = excluded.hash, updated_at = excluded.updated_at",
    )
    .bind(album)
    .bind(&relative)
    .bind(&cover.content_type)
    .bind(size as i64)
    .bind(i64::from(width))
    .bind(i64::from(height))
    .bind(&cover.hash)
    .bind(&cover.updated_at)
    .execute(db.writer())
    .await?;

    if let Some(old) = previous.filter(|old| old.hash() != cover.hash) {
        forget(store, &old).await;
    }
    Ok(cover)
}

/// Removes an old original's file and cached variants, best-effort: its names are never
/// served again (new content, new hash), so a file left behind only costs disk.
async fn forget(store: &MediaStore, old: &Original) {
    let mut paths = Vec::new();
    if let Original::Uploaded { path, .. } = old {
        paths.push(path.clone());
    }
    for size in SIZES {
        for format in Format::ALL {
            paths.push(variant_path(&variant_hash(old, size, format), format));
        }
    }
    for relative in paths {
        if let Ok(path) = store.path_of(&relative) {
            let _ = tokio::fs::remove_file(path).await;
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

fn store_error(e: anyhow::Error) -> ApiError {
    if is_read_only(&e) {
        ApiError::Unavailable("the media store is read-only on this instance".into())
    } else {
        ApiError::Internal(e.context("storing a cover failed"))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webp_is_served_only_to_clients_that_name_it() {
        assert_eq!(Format::negotiate(None), Format::Jpeg);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Jpeg);
        assert_eq!(Format::negotiate(Some("image/*")), Format::Jpeg);
        assert_eq!(
            Format::negotiate(Some("image/avif,image/webp,*/*;q=0.8")),
            Format::Webp
        );
        assert_eq!(Format::negotiate(Some("image/WebP; q=0.5")), Format::Webp);
        assert_eq!(
            Format::negotiate(Some("image/webp;q=0, image/jpeg")),
            Format::Jpeg
        );
    }

    #[test]
    fn sizes_and_formats_outside_the_offer_are_refused_by_name() {
        assert_eq!(parse_size(None).unwrap(), DEFAULT_SIZE);
        assert_eq!(parse_size(Some("128")).unwrap(), 128);
        for bad in ["100", "0", "-64", "big", "600px"] {
            let err = parse_size(Some(bad)).unwrap_err().to_string();
            assert!(err.contains("64, 128, 300 or 600"), "{err}");
        }
        assert_eq!(parse_format("JPEG").unwrap(), Format::Jpeg);
        let err = parse_format("png").unwrap_err().to_string();
        assert!(err.contains("webp or jpeg"), "{err}");
    }
}
