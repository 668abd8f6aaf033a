//! Admin media writes: a track's audio, uploaded as raw bytes.

use actix_web::{put, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult, Problem, WriteProblems};
use crate::http::auth::Admin;
use crate::media::{self, upload};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload_audio);
}

#[derive(Serialize, ToSchema)]
pub struct StoredAudio {
    pub track_id: i64,
    /// Sniffed from the bytes, not taken from the request.
    pub content_type: String,
    pub bytes: u64,
    /// The stream's new ETag.
    pub etag: String,
    pub updated_at: String,
}

/// Replaces a track's audio. The body is the file itself (WAV, MP3, FLAC, Ogg or MP4
/// audio, recognised by its bytes), streamed to disk up to `CHINOOK_MAX_AUDIO_BYTES`.
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
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM track WHERE track_id = $1")
        .bind(track)
        .fetch_one(state.db.writer())
        .await?;
    if exists == 0 {
        return Err(ApiError::NotFound(format!(
            "there is no track with id {track}"
        )));
    }
    let file = upload::receive(&state.media, track, body, state.config.max_audio_bytes).await?;
    let previous = media::save(&state.db, &file).await?;
    if let Some(old) = previous.filter(|old| old.path != file.path) {
        // Unlinking leaves the file readable to whoever has it open.
        if let Ok(path) = state.media.path_of(&old.path) {
            let _ = tokio::fs::remove_file(path).await;
        }
    }
    Ok(web::Json(StoredAudio {
        track_id: track,
        content_type: file.content_type,
        bytes: file.bytes,
        etag: file.etag,
        updated_at: file.updated_at,
    }))
}
