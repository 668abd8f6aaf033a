//! Album covers: the public cover at a fixed size in WebP or JPEG, and the admin upload.

use actix_web::http::header;
use actix_web::{put, route, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult, Problem, WriteProblems};
use crate::http::auth::Admin;
use crate::media::cover::{self, Format, Limits};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(album_cover).service(upload_cover);
}

/// Clients keep a cover an hour, then revalidate with its ETag (a 304 when it is current).
/// Not `immutable`: the URL stays the same when an admin replaces the cover.
const CACHE_CONTROL: &str = "public, max-age=3600";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverQuery {
    /// Pixels square: 64, 128, 300 or 600. Default 300.
    pub size: Option<String>,
    /// `webp` (lossy) or `jpeg`. Wins over `Accept`; without either, WebP.
    pub format: Option<String>,
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 says for it).
fn matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// An album's cover, square, at `size` pixels, as lossy WebP (libwebp, quality 80) or JPEG
/// (quality 85). `format` picks one. Without it, WebP, the smaller at comparable quality,
/// when there is no `Accept` or it names `image/webp` at least as high as JPEG (as every
/// current browser does); JPEG when `Accept` prefers `image/jpeg` or has only wildcards
/// (`*/*`, `image/*`), as old clients that cannot decode WebP send. The original is the
/// admin's upload, or a pattern drawn from the album's id and title, the same on every
/// instance. A size not yet made is rendered once however many ask for it at once.
#[utoipa::path(
    get,
    tag = "covers",
    params(("id" = i64, Path, description = "The album's id"), CoverQuery),
    responses(
        (status = 200, description = "The cover; ETag, Cache-Control and Vary: Accept set", content(
            ("image/webp"),
            ("image/jpeg"),
        )),
        (status = 304, description = "The client's copy is current (If-None-Match)"),
        (status = 400, description = "A size or format not offered (the detail names those that are), or a malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such album", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[route("/albums/{id}/cover", method = "GET", method = "HEAD")]
async fn album_cover(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<CoverQuery>,
) -> ApiResult<HttpResponse> {
    let size = cover::parse_size(query.size.as_deref())?;
    let format = match query.format.as_deref() {
        Some(raw) => cover::parse_format(raw)?,
        None => Format::negotiate(
            req.headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok()),
        ),
    };
    let album = id.into_inner();
    let original = cover::original_of(&state.db, album)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no album with id {album}")))?;
    let etag = cover::etag(&cover::variant_hash(&original, size, format));
    let fresh = matches(&req, &etag);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .insert_header((header::VARY, "Accept"));
    if fresh {
        return Ok(response.finish());
    }
    let limits = Limits::of(&state.config);
    let variant = cover::variant(&state.media, &original, size, format, limits).await?;
    Ok(response
        .content_type(variant.format.content_type())
        .body(variant.bytes))
}

#[derive(Serialize, ToSchema)]
pub struct StoredCover {
    pub album_id: i64,
    /// Sniffed from the bytes, not taken from the request.
    pub content_type: String,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    pub updated_at: String,
}

/// Replaces an album's cover. The body is the image itself: a PNG, JPEG or WebP file,
/// recognised by its bytes, at most `CHINOOK_COVER_MAX_BYTES` (413 past it), at most
/// `CHINOOK_COVER_MAX_DIMENSION` pixels wide and high, and decodable within
/// `CHINOOK_COVER_MAX_ALLOC_BYTES` (422 otherwise). Anything that is not such an image is a
/// 415; one that does not decode completely (truncated, even with a JPEG end-of-image
/// marker stuck on, or corrupt) is a 422. Non-square images are centre-cropped when
/// served. The cover's URLs answer with new ETags at once.
#[utoipa::path(
    tag = "admin",
    params(("id" = i64, Path, description = "The album's id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The image file (PNG, JPEG or WebP)"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = StoredCover),
        (status = 404, description = "No such album", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[put("/admin/albums/{id}/cover")]
async fn upload_cover(
    _: Admin,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Payload,
) -> ApiResult<web::Json<StoredCover>> {
    let album = id.into_inner();
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM album WHERE album_id = $1")
        .bind(album)
        .fetch_one(state.db.writer())
        .await?;
    if exists == 0 {
        return Err(ApiError::NotFound(format!(
            "there is no album with id {album}"
        )));
    }
    let limits = Limits::of(&state.config);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let bytes = cover::receive(body, declared, limits.max_bytes).await?;
    let stored = cover::replace(&state.db, &state.media, album, bytes, limits).await?;
    Ok(web::Json(StoredCover {
        album_id: stored.album_id,
        content_type: stored.content_type,
        bytes: stored.bytes,
        width: stored.width,
        height: stored.height,
        updated_at: stored.updated_at,
    }))
}
