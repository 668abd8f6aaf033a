//! Search and autocomplete over tracks, albums and artists.

use actix_web::{get, web, HttpRequest, HttpResponse};
use bytes::Bytes;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::browse::search::{self, SearchPage, SearchParams, Suggestions};
use crate::error::{ApiResult, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(search_catalog).service(suggest);
}

/// Full-text search with typo tolerance, highlights and facet counts.
#[utoipa::path(
    tag = "search",
    params(SearchParams),
    responses(
        (status = 200, body = SearchPage, headers(("ETag" = String, description = "Strong validator of this answer at this catalog generation"), ("Cache-Control" = String, description = "`public, no-cache` unless CHINOOK_PUBLIC_MAX_AGE_SECS is set"))),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 400, description = "q is missing, too long or has too many words, or a parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/search")]
async fn search_catalog(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<SearchParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let key = format!("search|{params:?}");
    let reader = state.clone();
    state
        .public_answer(&req, key, || async {
            let page = state
                .read_catalog(move |index, _| {
                    search::search(index, &params, &reader.cursor_secret, &reader.metrics)
                })
                .await?;
            json_bytes(&page)
        })
        .await
}

/// Names that complete what has been typed so far.
#[utoipa::path(
    tag = "search",
    params(SearchParams),
    responses(
        (status = 200, body = Suggestions, headers(("ETag" = String, description = "Strong validator of this answer at this catalog generation"), ("Cache-Control" = String, description = "`public, no-cache` unless CHINOOK_PUBLIC_MAX_AGE_SECS is set"))),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 400, description = "q is missing, too long or has too many words", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/search/suggest")]
async fn suggest(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<SearchParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let key = format!("suggest|{params:?}");
    let metrics = state.metrics.clone();
    state
        .public_answer(&req, key, || async {
            let suggestions = state
                .read_catalog(move |index, _| search::suggest(index, &params, &metrics))
                .await?;
            json_bytes(&suggestions)
        })
        .await
}

fn json_bytes(answer: &impl serde::Serialize) -> ApiResult<Bytes> {
    Ok(serde_json::to_vec(answer)
        .map_err(anyhow::Error::from)?
        .into())
}
