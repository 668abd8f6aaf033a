//! What a track's stream, preview and download serve: a rendition of its master (stored, or
//! generated when it has none), as a plain file, with a readable file name for downloads.

use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::Source;
use crate::catalog::Kind;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::media::encode::Rendition;
use crate::media::renditions::Master;
use crate::media::{self, AudioFile, MediaStore};
use crate::search::CatalogIndex;

/// The longest preview.
pub const PREVIEW_MS: u64 = media::encode::PREVIEW_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The whole track, to play: MP3.
    Stream,
    /// At most 30 seconds, for anyone: MP3.
    Preview,
    /// The whole track, to keep: lossless FLAC.
    Download,
    /// The whole track, to keep: MP3 at 320 kbit/s.
    DownloadMp3,
    /// The whole track, to play: MP3 at 320 kbit/s (a Subsonic player allowed the rate).
    StreamHigh,
    /// The whole track as its stored master, untouched; a generated master has no file, so
    /// its lossless FLAC stands in.
    Master,
}

impl Cut {
    /// The rendition served; `Master` serves a stored master's own file instead.
    fn rendition(self) -> Rendition {
        match self {
            Cut::Stream => Rendition::Stream,
            Cut::Preview => Rendition::Preview,
            Cut::Download | Cut::Master => Rendition::Flac,
            Cut::DownloadMp3 | Cut::StreamHigh => Rendition::Mp3,
        }
    }
}

/// The download formats, as `?format=` names them.
pub fn download_cut(format: Option<&str>) -> ApiResult<Cut> {
    match format {
        None | Some("flac") => Ok(Cut::Download),
        Some("mp3") => Ok(Cut::DownloadMp3),
        Some(other) => Err(ApiError::BadRequest(format!(
            "format must be flac or mp3, not {other:?}"
        ))),
    }
}

fn updated(file: &AudioFile) -> SystemTime {
    chrono::DateTime::parse_from_rfc3339(&file.updated_at)
        .ok()
        .and_then(|at| u64::try_from(at.timestamp()).ok())
        .map_or(SystemTime::UNIX_EPOCH, |s| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(s)
        })
}

/// The master a track's renditions come from: its stored file, or its generated song.
pub async fn master_of(
    db: &Db,
    store: &MediaStore,
    track: i64,
    milliseconds: u64,
) -> ApiResult<Master> {
    Ok(match store.master(db, track).await? {
        Some(file) => Master::Stored(file),
        None => store.generated(track, milliseconds),
    })
}

/// The source of `cut` of a track, or a 404 when there is no such track. Every track has
/// audio: a rendition missing from disk is rendered before this returns.
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
    let milliseconds = entry["milliseconds"].as_u64().unwrap_or(0);
    let master = master_of(db, store, track, milliseconds).await?;
    if let (Cut::Master, Master::Stored(file)) = (cut, &master) {
        return master_source(store, file).await;
    }
    let rendition = cut.rendition();
    let rendered = store.rendition(&master, rendition).await?;
    let last_modified = match &master {
        // A stored master's renditions are as new as it is, wherever they were made.
        Master::Stored(file) => updated(file),
        Master::Generated { .. } => rendered.modified,
    };
    let disposition = match cut {
        Cut::Download | Cut::DownloadMp3 => Some(attachment(&download_name(
            index,
            &entry,
            rendition.extension(),
        )?)),
        Cut::Stream | Cut::Preview | Cut::StreamHigh | Cut::Master => None,
    };
    Ok(Source {
        prefix: Bytes::new(),
        path: rendered.path,
        file: Some(rendered.file),
        offset: 0,
        file_len: rendered.bytes,
        content_type: rendition.content_type().to_string(),
        etag: rendered.etag,
        last_modified,
        cache_control: if cut == Cut::Preview {
            "public, max-age=86400"
        } else {
            "private, no-cache"
        },
        disposition,
    })
}

/// A stored master's own file, opened before anything is promised (as renditions are), so a
/// master replaced meanwhile is still served whole.
async fn master_source(store: &MediaStore, file: &AudioFile) -> ApiResult<Source> {
    let path = store.path_of(&file.path)?;
    let opened = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            let opened = std::fs::File::open(&path)?;
            let len = opened.metadata()?.len();
            Ok::<_, std::io::Error>((opened, len))
        })
        .await
        .map_err(anyhow::Error::from)?
    };
    let (opened, file_len) = opened
        .map_err(|e| anyhow::anyhow!("the stored master {} cannot be opened: {e}", file.path))?;
    Ok(Source {
        prefix: Bytes::new(),
        path,
        file: Some(std::sync::Arc::new(opened)),
        offset: 0,
        file_len,
        content_type: file.content_type.clone(),
        etag: file.etag.clone(),
        last_modified: updated(file),
        cache_control: "private, no-cache",
        disposition: None,
    })
}

/// "Artist - Album - 01 - Track.ext", its number being its place in the album by id.
fn download_name(
    index: &CatalogIndex,
    track: &serde_json::Value,
    extension: &str,
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
