//! What a track's stream, preview and download serve: its audio file as `track_audio`
//! names it, cut to a 30-second clip for previews, with a readable file name for downloads.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::io::AsyncReadExt;

use super::Source;
use crate::catalog::Kind;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::media::{self, audio, AudioFile, MediaStore};
use crate::search::CatalogIndex;

/// The longest preview.
pub const PREVIEW_MS: u64 = 30_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The whole file, to play.
    Stream,
    /// At most 30 seconds, for anyone.
    Preview,
    /// The whole file, to keep.
    Download,
}

fn updated(file: &AudioFile) -> SystemTime {
    chrono::DateTime::parse_from_rfc3339(&file.updated_at)
        .ok()
        .and_then(|at| u64::try_from(at.timestamp()).ok())
        .map_or(SystemTime::UNIX_EPOCH, |s| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(s)
        })
}

/// The source of `cut` of a track, or a 404 when there is no such track or it has no audio.
pub async fn source(
    db: &Db,
    store: &MediaStore,
    index: &CatalogIndex,
    track: i64,
    cut: Cut,
) -> ApiResult<Source> {
    let body = index
        .get(Kind::Track, track)?
        .ok_or_else(|| ApiError::NotFound(format!("there is no track with id {track}")))?;
    let entry: serde_json::Value = serde_json::from_str(&body).map_err(anyhow::Error::from)?;
    let file = media::audio_of(db, track)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("track {track} has no audio yet")))?;
    let path = store.path_of(&file.path)?;
    // Checked before anything is promised: a body cannot take back its Content-Length.
    let present = tokio::fs::metadata(&path)
        .await
        .is_ok_and(|m| m.is_file() && m.len() >= file.bytes);
    if !present {
        tracing::error!(track, path = %path.display(), "a track's audio file is missing or short");
        return Err(ApiError::NotFound(format!(
            "the audio of track {track} is missing from the media store"
        )));
    }
    let whole = Source {
        prefix: Bytes::new(),
        path,
        offset: 0,
        file_len: file.bytes,
        content_type: file.content_type.clone(),
        etag: file.etag.clone(),
        last_modified: updated(&file),
        cache_control: "private, no-cache",
        disposition: None,
    };
    match cut {
        Cut::Stream => Ok(whole),
        Cut::Download => Ok(Source {
            disposition: Some(attachment(&download_name(index, &entry, &file)?)),
            ..whole
        }),
        Cut::Preview => preview(whole, &entry).await,
    }
}

/// The first 30 seconds: for a WAV this service wrote, a WAV of its own with a header
/// that tells the right length; otherwise the file's first bytes in proportion to the
/// track's duration, which players decode as the opening of the track.
async fn preview(whole: Source, entry: &serde_json::Value) -> ApiResult<Source> {
    let etag = format!("\"{}-preview\"", whole.etag.trim_matches('"'));
    let mut head = [0u8; audio::HEADER_LEN];
    let canonical = whole.file_len >= audio::HEADER_LEN as u64 && {
        let mut file = tokio::fs::File::open(&whole.path)
            .await
            .map_err(anyhow::Error::from)?;
        file.read_exact(&mut head).await.is_ok() && audio::is_canonical(&head)
    };
    let base = Source {
        etag,
        cache_control: "public, max-age=86400",
        ..whole
    };
    if canonical {
        let samples = (base.file_len - audio::HEADER_LEN as u64).min(audio::data_len(PREVIEW_MS));
        return Ok(Source {
            prefix: Bytes::copy_from_slice(&audio::header(samples as u32)),
            offset: audio::HEADER_LEN as u64,
            file_len: samples,
            ..base
        });
    }
    let milliseconds = entry["milliseconds"].as_u64().unwrap_or(0);
    let file_len = if milliseconds <= PREVIEW_MS {
        base.file_len
    } else {
        (u128::from(base.file_len) * u128::from(PREVIEW_MS) / u128::from(milliseconds)) as u64
    };
    Ok(Source { file_len, ..base })
}

/// "Artist - Album - 01 - Track.ext", its number being its place in the album by id.
fn download_name(
    index: &CatalogIndex,
    track: &serde_json::Value,
    file: &AudioFile,
) -> ApiResult<String> {
    let name = |kind: Kind, id: Option<i64>, field: &str| -> ApiResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        Ok(index
            .get(kind, id)?
            .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok())
            .and_then(|v| v[field].as_str().map(str::to_string)))
    };
    let album_id = track["album_id"].as_i64();
    let artist = name(Kind::Artist, track["artist_id"].as_i64(), "name")?;
    let album = name(Kind::Album, album_id, "title")?;
    let number = match album_id {
        Some(album) => index
            .album_track_ids(album)?
            .iter()
            .position(|id| Some(*id) == track["id"].as_i64())
            .map(|at| format!("{:02}", at + 1)),
        None => None,
    };
    let title = track["name"].as_str().unwrap_or("track").to_string();
    let parts: Vec<String> = [artist, album, number, Some(title)]
        .into_iter()
        .flatten()
        .map(|part| sanitize(&part))
        .filter(|part| !part.is_empty())
        .collect();
    let extension = file.path.rsplit('.').next().unwrap_or("bin");
    Ok(format!("{}.{extension}", parts.join(" - ")))
}

/// A file-name part with nothing a file system or a header could choke on.
fn sanitize(part: &str) -> String {
    let cleaned: String = part
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = cleaned.trim_matches(|c| c == '.' || c == ' ');
    trimmed.chars().take(80).collect()
}

/// `Content-Disposition: attachment` with an ASCII fallback and the UTF-8 name (RFC 6266,
/// RFC 8187).
pub fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii() && c != '%' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(byte as char)
            }
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_sanitized_and_encoded_for_both_kinds_of_client() {
        assert_eq!(sanitize("AC/DC: \"Live\"\n"), "AC_DC_ _Live_");
        assert_eq!(sanitize("..hidden.."), "hidden");
        assert_eq!(
            attachment("Vinícius - 01 - Só.wav"),
            "attachment; filename=\"Vin_cius - 01 - S_.wav\"; filename*=UTF-8''Vin%C3%ADcius%20-%2001%20-%20S%C3%B3.wav"
        );
    }
}
