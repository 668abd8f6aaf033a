//! `/metrics`: the Prometheus scrape. It needs no token, since it is scraped from inside the
//! cluster; so it carries no secrets and no per-user labels, only routes, statuses and
//! process-wide figures.

use actix_web::{get, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiResult;
use crate::metrics::CONTENT_TYPE;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(metrics);
}

/// Prometheus metrics in the text exposition format: requests by route pattern and status,
/// their latency, database pool connections, search latency, streamed bytes, open streams,
/// index documents and resident memory.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 500, description = "A bug; quote the X-Request-Id",
         body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let text = state.metrics.render()?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}
