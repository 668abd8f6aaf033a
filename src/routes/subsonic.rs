//! The OpenSubsonic API at `/rest/{method}` and `/rest/{method}.view`, by GET or by POST
//! form: parameters in, `subsonic::dispatch`, and the answer out as XML, JSON or JSONP (or
//! as audio and cover bytes for the media methods).

use actix_web::http::{header, StatusCode};
use actix_web::{route, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult};
use crate::media::cover::{self, Format, Limits};
use crate::state::AppState;
use crate::streaming::tracks::{self, Cut};
use crate::streaming::{self as stream};
use crate::subsonic::{self, wire, Failure, Output, Params, Reply};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(rest);
}

fn render(output: &Output, result: Result<wire::Payload, Failure>) -> HttpResponse {
    let rendered = wire::render(output, result);
    HttpResponse::build(StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::OK))
        .content_type(rendered.content_type)
        .body(rendered.body)
}

/// The body, up to `limit` bytes.
async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, Failure> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| Failure::generic("the request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(Failure::generic(format!(
                "the request body is larger than {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

fn client(req: &HttpRequest, state: &AppState) -> String {
    let Some(peer) = req.peer_addr() else {
        return "unknown".into();
    };
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    crate::http::client_ip::resolve(peer.ip(), &forwarded, &state.config.trusted_proxies)
        .to_string()
}

/// Any OpenSubsonic method (see README "Connecting a player" for the list, the ids and the
/// extra song fields). Authenticate with `u` (the account email) and `p`, or `u`, `t` and
/// `s` with an app password, or `apiKey`; `v` and `c` as the spec says. Errors, including
/// unknown methods and wrong credentials, are HTTP 200 with a Subsonic error code, in the
/// requested format (`f=xml` default, `json`, `jsonp` with `callback`); a bug or an outage
/// is code 0 with HTTP 500 or 503. By POST, the parameters may come as an
/// `application/x-www-form-urlencoded` body (the formPost extension).
#[utoipa::path(
    get,
    tag = "subsonic",
    params(("method" = String, Path, description = "The method, e.g. `ping` or `ping.view`")),
    responses(
        (status = 200, description = "A `subsonic-response` envelope (XML, JSON or JSONP), or the audio or image of `stream`, `download` and `getCoverArt`"),
        (status = 206, description = "A range of a stream or download"),
        (status = 416, description = "No asked-for range lies within the audio", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many streams open for this account", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[route("/rest/{method}", method = "GET", method = "POST", method = "HEAD")]
async fn rest(
    req: HttpRequest,
    state: web::Data<AppState>,
    shared: web::Data<SharedState>,
    method: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let body = match read_body(payload, state.config.max_body_bytes).await {
        Ok(body) => body,
        Err(failure) => return Ok(render(&Output::Xml, Err(failure))),
    };
    let query = req.query_string().as_bytes();
    let form = is_form(&req);
    let params = if form {
        Params::parse(&[query, &body])
    } else {
        Params::parse(&[query])
    };
    let output = match wire::output(params.get("f"), params.get("callback")) {
        Ok(output) => output,
        Err(failure) => return Ok(render(&Output::Xml, Err(failure))),
    };
    if !form && !body.is_empty() {
        return Ok(render(
            &output,
            Err(Failure::generic(
                "send parameters in the query or as an application/x-www-form-urlencoded body",
            )),
        ));
    }
    let name = subsonic::dispatch::method_name(&method).to_string();
    let client = client(&req, &state);
    match subsonic::dispatch(&state, &shared.0, &name, &params, &client).await {
        Reply::Answer(result) => Ok(render(&output, result)),
        Reply::Audio {
            track,
            cut,
            account,
        } => {
            let sent = state.metrics.stream_bytes();
            let chunk = state.config.stream_chunk_bytes;
            let served = async {
                let index = state.catalog()?;
                let source = tracks::source(&state.db, &state.media, index, track, cut).await?;
                if cut == Cut::Preview {
                    stream::respond(&req, source, chunk, sent, || async { Ok(()) }).await
                } else {
                    let cap = state.config.max_streams_per_account;
                    stream::respond(&req, source, chunk, sent, || {
                        state.streams.acquire(account.id, cap)
                    })
                    .await
                }
            };
            media_answer(&output, served.await)
        }
        Reply::Cover { album, size } => {
            let served = cover_bytes(&req, &state, album, size).await;
            media_answer(&output, served)
        }
    }
}

/// Media errors that are HTTP's own business (a range outside the file, the stream cap)
/// keep their status; the rest are Subsonic errors in the requested format.
fn media_answer(output: &Output, served: ApiResult<HttpResponse>) -> ApiResult<HttpResponse> {
    match served {
        Ok(response) => Ok(response),
        Err(e @ (ApiError::RangeNotSatisfiable(_) | ApiError::TooManyRequests(..))) => Err(e),
        Err(e) => Ok(render(output, Err(e.into()))),
    }
}

async fn cover_bytes(
    req: &HttpRequest,
    state: &AppState,
    album: i64,
    size: u32,
) -> ApiResult<HttpResponse> {
    let format = Format::negotiate(
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
    let original = cover::original_of(&state.db, album)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no album al-{album}")))?;
    let etag = cover::etag(&cover::variant_hash(&original, size, format));
    let variant = cover::variant(
        &state.media,
        &original,
        size,
        format,
        Limits::of(&state.config),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::VARY, "Accept"))
        .content_type(variant.format.content_type())
        .body(variant.bytes))
}

/// The Subsonic API's process-wide memory, shared by every worker.
#[derive(Clone)]
pub struct SharedState(pub std::sync::Arc<subsonic::Shared>);
