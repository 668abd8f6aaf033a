//! Cover uploads: reading the body under its byte limit, validating it, storing the original
//! and recording it, and removing what the replaced cover left.

use anyhow::Context;
use futures_util::{Stream, StreamExt};
use image::ImageFormat;
use sha2::{Digest, Sha256};

use super::decode::decode;
use super::MediaStore;
use super::{
    hex, is_read_only, original_of, variant_hash, variant_path, write_atomically, Format, Limits,
    Original, SIZES,
};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};

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

fn store_error(e: anyhow::Error) -> ApiError {
    if is_read_only(&e) {
        ApiError::Unavailable("the media store is read-only on this instance".into())
    } else {
        ApiError::Internal(e.context("storing a cover failed"))
    }
}
