//! Audio uploads: streamed to a temporary file in the media store with a size limit, typed
//! by sniffing the bytes (never by the client's Content-Type), then renamed into place under
//! a name that carries the content hash. The old file is unlinked, not rewritten, so anyone
//! streaming it reads on undisturbed.

use std::path::PathBuf;

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{AudioFile, MediaStore};
use crate::error::{ApiError, ApiResult};

/// The audio formats browsers play, known by their first bytes: (content type, extension).
pub fn sniff(head: &[u8]) -> Option<(&'static str, &'static str)> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"RIFF") && at(8, b"WAVE") {
        Some(("audio/wav", "wav"))
    } else if at(0, b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        Some(("audio/mpeg", "mp3"))
    } else if at(0, b"fLaC") {
        Some(("audio/flac", "flac"))
    } else if at(0, b"OggS") {
        Some(("audio/ogg", "ogg"))
    } else if at(4, b"ftyp") {
        Some(("audio/mp4", "m4a"))
    } else {
        None
    }
}

/// Bytes needed to recognise every format `sniff` knows.
const SNIFF_LEN: usize = 12;

fn io_error(e: std::io::Error) -> ApiError {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            ApiError::Unavailable("the media store is read-only on this instance".into())
        }
        _ => ApiError::Internal(anyhow::Error::new(e).context("writing an upload failed")),
    }
}

/// Removes the temporary file unless the upload was kept.
struct Partial(Option<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Streams `body` into the store as `track`'s new audio; returns its row (not yet saved).
pub async fn receive<S, E>(
    store: &MediaStore,
    track: i64,
    mut body: S,
    limit: u64,
) -> ApiResult<AudioFile>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let temporary = store
        .path_of(&format!("audio/incoming/{}.partial", uuid::Uuid::new_v4()))
        .map_err(ApiError::Internal)?;
    if let Some(dir) = temporary.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
    }
    let mut partial = Partial(Some(temporary.clone()));
    let mut file = tokio::fs::File::create(&temporary)
        .await
        .map_err(io_error)?;
    let mut hasher = Sha256::new();
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_LEN);
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::BadRequest(format!("the upload broke off before it ended: {e}"))
        })?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(ApiError::PayloadTooLarge(format!(
                "audio uploads may be at most {limit} bytes"
            )));
        }
        if head.len() < SNIFF_LEN {
            let take = (SNIFF_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == SNIFF_LEN && sniff(&head).is_none() {
                return Err(unsupported());
            }
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(io_error)?;
    }
    if size == 0 {
        return Err(ApiError::Validation("the upload is empty".into()));
    }
    let (content_type, extension) = sniff(&head).ok_or_else(unsupported)?;
    file.sync_all().await.map_err(io_error)?;
    drop(file);
    let hash = crate::hex::encode(&hasher.finalize());
    let relative = MediaStore::relative_path(track, &hash, extension);
    let path = store.path_of(&relative).map_err(ApiError::Internal)?;
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
    }
    tokio::fs::rename(&temporary, &path)
        .await
        .map_err(io_error)?;
    partial.0 = None;
    Ok(AudioFile {
        track_id: track,
        path: relative,
        content_type: content_type.to_string(),
        bytes: size,
        etag: format!("\"{}\"", &hash[..32]),
        updated_at: crate::db::timestamp_now(),
    })
}

fn unsupported() -> ApiError {
    ApiError::UnsupportedMediaType(
        "the upload is not audio this store serves: send WAV, MP3, FLAC, Ogg or MP4 audio".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn audio_is_known_by_its_first_bytes_not_its_name() {
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ").unwrap().0, "audio/wav");
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\0\0\0").unwrap().0, "audio/mpeg");
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]).unwrap().0, "audio/mpeg");
        assert_eq!(sniff(b"fLaC\0\0\0\x22").unwrap().0, "audio/flac");
        assert_eq!(sniff(b"OggS\0\x02").unwrap().0, "audio/ogg");
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A ").unwrap().0, "audio/mp4");
        assert_eq!(sniff(b"<html><body>"), None);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\0"), None);
    }
}
