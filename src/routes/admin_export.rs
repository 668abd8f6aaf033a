//! The catalog export for admins: every track, streamed as NDJSON or CSV.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::catalog::export::{self, Format};
use crate::error::{ApiResult, Problem};
use crate::http::auth::Admin;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export_catalog);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ExportParams {
    /// `ndjson` (one JSON object a line) or `csv` (RFC 4180, with a header row). Required.
    format: Option<String>,
}

/// The whole catalog, one track a row by id, with its album, artist, genre and media type,
/// composer, milliseconds, bytes and unit price: NDJSON objects or CSV rows with the same
/// names (`id,name,album_id,album,artist_id,artist,genre_id,genre,media_type_id,media_type,
/// composer,milliseconds,bytes,unit_price`). Streamed as the client reads it, in constant
/// memory; it is not a snapshot, so tracks written meanwhile may or may not appear, each at
/// most once. In CSV a missing value is an empty field.
#[utoipa::path(
    tag = "admin",
    params(ExportParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The catalog, as an attachment named chinook-catalog.ndjson or .csv", content(
            (String = "application/x-ndjson"),
            (String = "text/csv; charset=utf-8"),
        )),
        (status = 400, description = "format is missing or neither ndjson nor csv", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Signed in, but not as an admin", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/export")]
async fn export_catalog(
    _: Admin,
    state: web::Data<AppState>,
    params: web::Query<ExportParams>,
) -> ApiResult<HttpResponse> {
    let format = Format::parse(params.format.as_deref())?;
    let body = export::export(state.db.clone(), format).await?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"chinook-catalog.{}\"",
                format.extension()
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}
