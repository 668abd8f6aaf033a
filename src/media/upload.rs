//! Audio uploads: streamed to a temporary file in the media store with a size limit, typed
//! by sniffing the bytes (never by the client's Content-Type), decoded whole by symphonia to
//! prove they are the audio they claim to be (and rendered into every rendition on the way),
//! then renamed into place under a name that carries the content hash. The old file is
//! unlinked, not rewritten, so anyone streaming it reads on undisturbed.

use std::path::PathBuf;

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::encode::{self, Rendition};
use super::pcm::{BadAudio, Container, Decoded, PcmSource};
use super::{AudioFile, MediaStore};
use crate::error::{ApiError, ApiResult};

/// The containers uploads come in, known by their first bytes.
pub fn sniff(head: &[u8]) -> Option<Container> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"RIFF") && at(8, b"WAVE") {
        Some(Container::Wav)
    } else if at(0, b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        Some(Container::Mp3)
    } else if at(0, b"fLaC") {
        Some(Container::Flac)
    } else if at(0, b"OggS") {
        Some(Container::Ogg)
    } else if at(4, b"ftyp") {
        Some(Container::Mp4)
    } else {
        None
    }
}

/// An upload that proved to be audio, stored with its renditions.
#[derive(Debug, Clone)]
pub struct Received {
    pub file: AudioFile,
    /// Decoded from the file, not taken from a header.
    pub duration_ms: u64,
    pub sample_rate: u32,
    /// The renditions made from it, and their sizes.
    pub renditions: Vec<(Rendition, u64)>,
}

fn refused(e: anyhow::Error) -> ApiError {
    match e.downcast::<BadAudio>() {
        Ok(BadAudio::Unsupported(why)) => ApiError::UnsupportedMediaType(why),
        Ok(BadAudio::Invalid(why)) => ApiError::Validation(why),
        Err(e) => ApiError::Internal(e.context("rendering an upload failed")),
    }
}

/// What decoding an upload made of it.
struct Made {
    renditions: Vec<(Rendition, Vec<u8>)>,
    duration_ms: u64,
    sample_rate: u32,
}

/// Decodes the whole upload, rendering every rendition as it goes. A decoder that panics on
/// a malformed file refuses the file; it does not fail the request.
fn decode_and_render(path: &std::path::Path, container: Container) -> ApiResult<Made> {
    std::panic::catch_unwind(|| decode_and_render_unguarded(path, container)).unwrap_or_else(|_| {
        tracing::warn!(
            container = container.name(),
            "a decoder panicked on an upload"
        );
        Err(ApiError::Validation(format!(
            "the file starts like {} but the decoder could not read it",
            container.name()
        )))
    })
}

fn decode_and_render_unguarded(path: &std::path::Path, container: Container) -> ApiResult<Made> {
    let mut decoded = Decoded::open(path, container).map_err(|e| refused(e.into()))?;
    let renditions = encode::render(&mut decoded, &Rendition::ALL).map_err(refused)?;
    let sample_rate = decoded.spec().sample_rate;
    Ok(Made {
        renditions,
        duration_ms: decoded.decoded_frames() * 1000 / u64::from(sample_rate),
        sample_rate,
    })
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

/// Streams `body` into the store as `track`'s new master and makes its renditions; returns
/// its row (not yet saved).
pub async fn receive<S, E>(
    store: &MediaStore,
    track: i64,
    mut body: S,
    limit: u64,
) -> ApiResult<Received>
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
    let container = sniff(&head).ok_or_else(unsupported)?;
    file.sync_all().await.map_err(io_error)?;
    drop(file);
    let Made {
        renditions: made,
        duration_ms,
        sample_rate,
    } = {
        let temporary = temporary.clone();
        tokio::task::spawn_blocking(move || decode_and_render(&temporary, container))
            .await
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("decoding panicked")))??
    };
    let hash = crate::hex::encode(&hasher.finalize());
    let relative = MediaStore::relative_path(track, &hash, container.extension());
    let path = store.path_of(&relative).map_err(ApiError::Internal)?;
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
    }
    tokio::fs::rename(&temporary, &path)
        .await
        .map_err(io_error)?;
    partial.0 = None;
    let file = AudioFile {
        track_id: track,
        path: relative,
        content_type: container.content_type().to_string(),
        bytes: size,
        etag: format!("\"{}\"", &hash[..32]),
        updated_at: crate::db::timestamp_now(),
    };
    let renditions = made.iter().map(|(r, b)| (*r, b.len() as u64)).collect();
    store
        .keep_renditions(&file, made)
        .await
        .map_err(ApiError::Internal)?;
    Ok(Received {
        file,
        duration_ms,
        sample_rate,
        renditions,
    })
}

fn unsupported() -> ApiError {
    ApiError::UnsupportedMediaType(
        "the upload is not audio this store takes: send WAV, MP3, FLAC, Ogg Vorbis or \
         MP4/M4A (AAC or ALAC) audio"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::{sniff, Container};

    #[test]
    fn audio_is_known_by_its_first_bytes_not_its_name() {
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Some(Container::Wav));
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\0\0\0"), Some(Container::Mp3));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Some(Container::Mp3));
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Some(Container::Flac));
        assert_eq!(sniff(b"OggS\0\x02"), Some(Container::Ogg));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A "), Some(Container::Mp4));
        assert_eq!(sniff(b"<html><body>"), None);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\0"), None);
    }
}
