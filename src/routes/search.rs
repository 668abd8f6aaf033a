//! Search and autocomplete over tracks, albums and artists.

use actix_web::{get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::catalog::search::{self, SearchPage, SearchParams, Suggestions};
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
        (status = 200, body = SearchPage),
        (status = 400, description = "q is missing, too long or has too many words, or a parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/search")]
async fn search_catalog(
    state: web::Data<AppState>,
    params: web::Query<SearchParams>,
) -> ApiResult<web::Json<SearchPage>> {
    let params = params.into_inner();
    let reader = state.clone();
    let page = state
        .read_catalog(move |index, _| {
            search::search(index, &params, &reader.cursor_secret, &reader.metrics)
        })
        .await?;
    Ok(web::Json(page))
}

/// Names that complete what has been typed so far.
#[utoipa::path(
    tag = "search",
    params(SearchParams),
    responses(
        (status = 200, body = Suggestions),
        (status = 400, description = "q is missing, too long or has too many words", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/search/suggest")]
async fn suggest(
    state: web::Data<AppState>,
    params: web::Query<SearchParams>,
) -> ApiResult<web::Json<Suggestions>> {
    let params = params.into_inner();
    let metrics = state.metrics.clone();
    let suggestions = state
        .read_catalog(move |index, _| search::suggest(index, &params, &metrics))
        .await?;
    Ok(web::Json(suggestions))
}
