//! Listening: a track's full stream and download (for those entitled), its public preview,
//! and signed stream URLs for players that cannot send an Authorization header.

use actix_web::{post, route, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::auth::Authenticated;
use crate::state::AppState;
use crate::store::accounts::{self, Account};
use crate::streaming::access::{self, Signature};
use crate::streaming::tracks::{self, Cut};
use crate::streaming::{self as stream};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(stream_track)
        .service(preview)
        .service(download)
        .service(stream_url);
}

/// The alias `/stream/track/{id}`, outside `/api/v1`.
pub fn configure_alias(cfg: &mut ServiceConfig) {
    cfg.service(stream_alias);
}

/// A signed URL's query; without it, the request must carry a bearer token.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// From a signed URL: the account it was issued to.
    pub account: Option<i64>,
    /// From a signed URL: the session it was issued in (32 hex digits); logging out of that
    /// session revokes the URL.
    pub session: Option<String>,
    /// From a signed URL: when it stops working (Unix seconds).
    pub expires: Option<i64>,
    /// From a signed URL: its HMAC-SHA256, hex.
    pub signature: Option<String>,
}

/// A download's query: a signed URL's fields, as for streams, and the format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// `flac` (lossless, the default) or `mp3` (320 kbit/s).
    pub format: Option<String>,
    /// From a signed URL: the account it was issued to.
    pub account: Option<i64>,
    /// From a signed URL: the session it was issued in (32 hex digits).
    pub session: Option<String>,
    /// From a signed URL: when it stops working (Unix seconds).
    pub expires: Option<i64>,
    /// From a signed URL: its HMAC-SHA256, hex.
    pub signature: Option<String>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The account a request speaks for: a signed URL's, or the bearer token's.
async fn caller(
    state: &AppState,
    track: i64,
    query: &StreamQuery,
    bearer: Result<Authenticated, ApiError>,
) -> ApiResult<Account> {
    match (
        query.account,
        &query.session,
        query.expires,
        &query.signature,
    ) {
        (Some(account), Some(session), Some(expires), Some(signature)) => {
            let signed = Signature {
                account,
                session: session.clone(),
                expires,
                signature: signature.clone(),
            };
            let account = state.signer.verify(track, &signed, now())?;
            state
                .warm
                .session_account(&state.db, account, session)
                .await?
                .ok_or_else(|| {
                    ApiError::Forbidden(
                        "the session this URL was issued in has ended (logged out or expired); \
                         sign in and ask for a new one"
                            .into(),
                    )
                })
        }
        (None, None, None, None) => Ok(bearer?.account),
        // Part of a signature is a credential that does not verify, as a wrong one is.
        _ => Err(ApiError::Unauthorized(
            "a signed URL needs account, session, expires and signature together".into(),
        )),
    }
}

/// The full stream or download for an entitled caller, holding a place under the cap.
async fn entitled_source(
    req: &HttpRequest,
    state: &AppState,
    track: i64,
    query: &StreamQuery,
    bearer: Result<Authenticated, ApiError>,
    cut: Cut,
) -> ApiResult<HttpResponse> {
    let index = state.catalog()?;
    let account = caller(state, track, query, bearer).await?;
    if !access::entitled(&state.db, &state.warm, &account, track).await? {
        return Err(access::not_entitled(track));
    }
    let source = tracks::source(&state.db, &state.media, index, track, cut).await?;
    let cap = state.config.max_streams_per_account;
    let sent = state.metrics.stream_bytes();
    stream::respond(req, source, state.config.stream_chunk_bytes, sent, || {
        state.streams.acquire(account.id, cap)
    })
    .await
}

/// The whole track as its stream rendition (MP3, 128 kbit/s CBR, stereo, with a LAME Info
/// frame giving its length), with ranges, for its owners, staff and admins.
///
/// Limits: each answer holds one of the account's `CHINOOK_MAX_STREAMS_PER_ACCOUNT` places
/// (3) until its body ends or the client goes away, and `CHINOOK_STREAM_LINGER_SECS` (10 s)
/// more; past the cap, a 429. A reader that takes nothing for `CHINOOK_SEND_TIMEOUT_SECS`
/// (30 s) has its connection closed and its place freed. Caching: the rendition is made on
/// first request (one render however many ask) and kept as a file with an exact length and
/// a strong ETag; a generated track's renditions live in the media cache, kept within
/// `CHINOOK_MEDIA_CACHE_BYTES` (1 GiB) by evicting the least recently used, an uploaded
/// master's are never evicted.
#[utoipa::path(
    get,
    tag = "streaming",
    params(("id" = i64, Path, description = "The track's id"), StreamQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The whole stream rendition, MP3 at 128 kbit/s (no Range, an invalid one, or one declined)", content_type = "audio/mpeg"),
        (status = 206, description = "One range, or several as multipart/byteranges"),
        (status = 304, description = "The client's copy is current (If-None-Match / If-Modified-Since)"),
        (status = 400, description = "A partial signed-URL query, or a malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token and no signed URL", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not entitled, or an expired or tampered URL", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such track", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "No range lies within the file; Content-Range: bytes */LEN", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many streams open for this account; Retry-After says when to try", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[route("/tracks/{id}/stream", method = "GET", method = "HEAD")]
async fn stream_track(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<StreamQuery>,
    bearer: Result<Authenticated, ApiError>,
) -> ApiResult<HttpResponse> {
    entitled_source(&req, &state, id.into_inner(), &query, bearer, Cut::Stream).await
}

/// The same as `/api/v1/tracks/{id}/stream`.
#[utoipa::path(
    get,
    tag = "streaming",
    params(("id" = i64, Path, description = "The track's id"), StreamQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "As /api/v1/tracks/{id}/stream", content_type = "audio/mpeg"),
        (status = 206, description = "As /api/v1/tracks/{id}/stream"),
        (status = 400, description = "As /api/v1/tracks/{id}/stream", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "As /api/v1/tracks/{id}/stream", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "As /api/v1/tracks/{id}/stream", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "As /api/v1/tracks/{id}/stream", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "As /api/v1/tracks/{id}/stream", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "As /api/v1/tracks/{id}/stream", body = Problem, content_type = "application/problem+json"),
    )
)]
#[route("/stream/track/{id}", method = "GET", method = "HEAD")]
async fn stream_alias(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<StreamQuery>,
    bearer: Result<Authenticated, ApiError>,
) -> ApiResult<HttpResponse> {
    entitled_source(&req, &state, id.into_inner(), &query, bearer, Cut::Stream).await
}

/// The whole track as an attachment named "Artist - Album - 01 - Track.flac" (or `.mp3`):
/// `format=flac` (the default) is lossless FLAC, 16-bit at the master's rate; `format=mp3`
/// is MP3 at 320 kbit/s CBR. Limits and caching as for `/api/v1/tracks/{id}/stream`.
#[utoipa::path(
    get,
    tag = "streaming",
    params(("id" = i64, Path, description = "The track's id"), DownloadQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file, with Content-Disposition: attachment", content(
            ("audio/flac"),
            ("audio/mpeg"),
        )),
        (status = 206, description = "A range of it, to resume a download"),
        (status = 400, description = "A malformed id or query, or a format other than flac or mp3", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not entitled", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such track", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "No range lies within the file", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many streams open for this account", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[route("/tracks/{id}/download", method = "GET", method = "HEAD")]
async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<DownloadQuery>,
    bearer: Result<Authenticated, ApiError>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let cut = tracks::download_cut(query.format.as_deref())?;
    let signed = StreamQuery {
        account: query.account,
        session: query.session,
        expires: query.expires,
        signature: query.signature,
    };
    entitled_source(&req, &state, id.into_inner(), &signed, bearer, cut).await
}

/// At most the first 30 seconds, for anyone, with ranges and validators of its own: MP3 at
/// 128 kbit/s, rendered from the track's master. Every track has one. Made on first request
/// and cached as the stream rendition is; not under the per-account cap, but under the send
/// timeout.
#[utoipa::path(
    get,
    tag = "streaming",
    params(("id" = i64, Path, description = "The track's id")),
    responses(
        (status = 200, description = "The clip", content_type = "audio/mpeg"),
        (status = 206, description = "A range of the clip"),
        (status = 304, description = "The client's copy is current"),
        (status = 400, description = "A malformed id, or a query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such track", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "No range lies within the clip", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[route("/tracks/{id}/preview", method = "GET", method = "HEAD")]
async fn preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    _: web::Query<NoQuery>,
) -> ApiResult<HttpResponse> {
    let index = state.catalog()?;
    let source = tracks::source(
        &state.db,
        &state.media,
        index,
        id.into_inner(),
        Cut::Preview,
    )
    .await?;
    let sent = state.metrics.stream_bytes();
    stream::respond(
        &req,
        source,
        state.config.stream_chunk_bytes,
        sent,
        || async { Ok(()) },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoQuery {}

#[derive(Serialize, ToSchema)]
pub struct StreamUrl {
    /// A path with a signed query, usable without a bearer token until `expires_at`.
    pub url: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// A signed URL for an `<audio>` element: it streams this track for the caller until it
/// expires (`CHINOOK_STREAM_URL_TTL_SECS`).
#[utoipa::path(
    tag = "streaming",
    params(("id" = i64, Path, description = "The track's id")),
    security(("bearer" = [])),
    responses(
        (status = 201, body = StreamUrl),
        (status = 400, description = "A malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not entitled to the track", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such track", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tracks/{id}/stream-url")]
async fn stream_url(
    caller: Authenticated,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let track = id.into_inner();
    let index = state.catalog()?;
    if index.get(crate::catalog::Kind::Track, track)?.is_none() {
        return Err(ApiError::NotFound(format!(
            "there is no track with id {track}"
        )));
    }
    if !access::entitled(&state.db, &state.warm, &caller.account, track).await? {
        return Err(access::not_entitled(track));
    }
    let expires = now() + state.config.stream_url_ttl.as_secs() as i64;
    let session = accounts::session_id(&caller.token);
    let query = state
        .signer
        .sign(track, caller.account.id, &session, expires);
    let expires_at = chrono::DateTime::from_timestamp(expires, 0)
        .map(crate::db::timestamp)
        .unwrap_or_default();
    Ok(HttpResponse::Created().json(StreamUrl {
        url: format!("/api/v1/tracks/{track}/stream?{query}"),
        expires_at,
    }))
}
