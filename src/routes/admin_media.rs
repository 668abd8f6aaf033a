//! Admin media writes: a track's master audio, uploaded as raw bytes, verified by decoding
//! and rendered at once.

use actix_web::{put, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::catalog::write;
use crate::error::{ApiResult, Problem, WriteProblems};
use crate::http::auth::Admin;
use crate::media::upload;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload_audio);
}

#[derive(Serialize, ToSchema)]
pub struct StoredAudio {
    pub track_id: i64,
    /// The container, sniffed from the bytes and confirmed by decoding, not taken from the
    /// request.
    pub content_type: String,
    pub bytes: u64,
    /// Decoded from the file; the track's `milliseconds` is set to it.
    pub duration_ms: u64,
    pub sample_rate: u32,
    /// The master's new ETag.
    pub etag: String,
    pub updated_at: String,
    /// The renditions made from it.
    pub renditions: Vec<StoredRendition>,
}

#[derive(Serialize, ToSchema)]
pub struct StoredRendition {
    /// `stream`, `preview`, `flac` or `mp3`.
    pub kind: String,
    pub content_type: String,
    pub bytes: u64,
}

/// Replaces a track's master. The body is the file itself, recognised by its bytes and
/// decoded whole: WAV (PCM, A-law, µ-law), MP3, FLAC, Ogg Vorbis, or MP4/M4A with AAC-LC or
/// ALAC, up to `CHINOOK_MAX_AUDIO_BYTES` (413 past it). Anything else (Ogg Opus, a video,
/// HTML...) is a 415; a file that claims a kind it is not, is truncated, states a 0 Hz rate
/// or more data than it holds, or holds no audio is a 422. The stream, preview and download
/// renditions are made before this answers, and the track's duration is set from the file.
/// Listeners mid-stream keep the old file; new requests get the new one and its ETag.
#[utoipa::path(
    tag = "admin",
    params(("id" = i64, Path, description = "The track's id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The audio file"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = StoredAudio),
        (status = 404, description = "No such track", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[put("/admin/tracks/{id}/audio")]
async fn upload_audio(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Payload,
) -> ApiResult<web::Json<StoredAudio>> {
    let track = id.into_inner();
    // Refused while the index warms, before anything is stored: the write that follows
    // could not be read back.
    state.catalog()?;
    let mut entry = write::track(&state.db, track).await?;
    let received = upload::receive(&state.media, track, body, state.config.max_audio_bytes).await?;
    let file = received.file;
    let previous = state.media.save(&state.db, &file).await?;
    if let Some(old) = previous.filter(|old| old.path != file.path) {
        // Unlinking leaves the files readable to whoever has them open.
        if let Ok(path) = state.media.path_of(&old.path) {
            let _ = tokio::fs::remove_file(path).await;
        }
        state.media.remove_renditions(&old).await?;
    }
    entry.milliseconds = i64::try_from(received.duration_ms).unwrap_or(i64::MAX);
    entry.bytes = i64::try_from(file.bytes).ok();
    state
        .write_catalog(async |db| write::update_track(db, track, entry).await)
        .await?;
    Ok(web::Json(StoredAudio {
        track_id: track,
        content_type: file.content_type,
        bytes: file.bytes,
        duration_ms: received.duration_ms,
        sample_rate: received.sample_rate,
        etag: file.etag,
        updated_at: file.updated_at,
        renditions: received
            .renditions
            .into_iter()
            .map(|(rendition, bytes)| StoredRendition {
                kind: rendition.name().to_string(),
                content_type: rendition.content_type().to_string(),
                bytes,
            })
            .collect(),
    }))
}
