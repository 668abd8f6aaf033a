//! Admin writes to taxonomies: terms (create, change, move, delete) and their attachments.
//! Each answers with the term's page as the index now serves it.

use actix_web::http::header;
use actix_web::{delete, patch, post, web, HttpResponse};
use serde_json::{Map, Value};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::catalog::taxonomy::write::{self, Attachments, TermInput};
use crate::error::{ApiError, ApiResult, Problem, WriteProblems};
use crate::http::auth::Admin;
use crate::http::json::{merge_patch, Json};
use crate::state::AppState;
use crate::taxonomy::views::{self, TermPage};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_term)
        .service(update_term)
        .service(delete_term)
        .service(attach)
        .service(detach);
}

/// The term's page, as `GET /api/v1/taxonomies/{type}/{slug}` answers it.
fn page(state: &AppState, taxonomy: &str, slug: &str) -> ApiResult<TermPage> {
    let index = state.catalog()?;
    let (set, counts) = (index.term_set()?, index.term_counts()?);
    views::page(&set, &counts, taxonomy, slug).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "{taxonomy}:{slug} was written but is not in the index"
        ))
    })
}

/// Creates a term in a taxonomy; a new type comes into being with its first term.
#[utoipa::path(
    tag = "admin",
    params(("type" = String, Path, description = "The taxonomy type, e.g. `mood`")),
    request_body = TermInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names it", body = TermPage),
        (status = 409, description = "The slug is taken in this type", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/admin/taxonomies/{type}")]
async fn create_term(
    _: Admin,
    state: web::Data<AppState>,
    taxonomy: web::Path<String>,
    body: Json<TermInput>,
) -> ApiResult<HttpResponse> {
    let taxonomy = taxonomy.into_inner();
    let slug = state
        .write_catalog(async |db| write::create(db, &taxonomy, body.into_inner()).await)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/taxonomies/{taxonomy}/{slug}"),
        ))
        .json(page(&state, &taxonomy, &slug)?))
}

/// Changes a term: a JSON merge patch of its fields. A new `parent` moves it (with
/// everything below it); a move that would make a cycle is a 409.
#[utoipa::path(
    tag = "admin",
    params(
        ("type" = String, Path, description = "The taxonomy type"),
        ("slug" = String, Path, description = "The term's current slug"),
    ),
    request_body(content = Object, description = "Fields of TermInput to change; `\"parent\": null` makes the term a root"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TermPage),
        (status = 404, description = "No such term", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new slug is taken, or the move would make a cycle", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[patch("/admin/taxonomies/{type}/{slug}")]
async fn update_term(
    _: Admin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    patch: Json<Map<String, Value>>,
) -> ApiResult<web::Json<TermPage>> {
    let (taxonomy, slug) = path.into_inner();
    let current = write::term(&state.db, &taxonomy, &slug).await?;
    let changed: TermInput = merge_patch(&current, patch.into_inner())?;
    let slug = state
        .write_catalog(async |db| write::update(db, &taxonomy, &slug, changed).await)
        .await?;
    Ok(web::Json(page(&state, &taxonomy, &slug)?))
}

/// Deletes a term and its attachments. A term with children is a 409: move or delete them
/// first.
#[utoipa::path(
    tag = "admin",
    params(
        ("type" = String, Path, description = "The taxonomy type"),
        ("slug" = String, Path, description = "The term's slug"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such term", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The term has children", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[delete("/admin/taxonomies/{type}/{slug}")]
async fn delete_term(
    _: Admin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (taxonomy, slug) = path.into_inner();
    state
        .write_catalog(async |db| write::delete(db, &taxonomy, &slug).await)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn change_attachments(
    state: &AppState,
    path: (String, String),
    body: Attachments,
    filing: bool,
) -> ApiResult<web::Json<TermPage>> {
    let (taxonomy, slug) = path;
    state
        .write_catalog(async |db| write::attachments(db, &taxonomy, &slug, body, filing).await)
        .await?;
    Ok(web::Json(page(state, &taxonomy, &slug)?))
}

/// Files tracks, albums and artists under a term. Attaching twice is harmless.
#[utoipa::path(
    tag = "admin",
    params(
        ("type" = String, Path, description = "The taxonomy type"),
        ("slug" = String, Path, description = "The term's slug"),
    ),
    request_body = Attachments,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The term with its new counts", body = TermPage),
        (status = 404, description = "No such term", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/admin/taxonomies/{type}/{slug}/attach")]
async fn attach(
    _: Admin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: Json<Attachments>,
) -> ApiResult<web::Json<TermPage>> {
    change_attachments(&state, path.into_inner(), body.into_inner(), true).await
}

/// Takes tracks, albums and artists out from under a term.
#[utoipa::path(
    tag = "admin",
    params(
        ("type" = String, Path, description = "The taxonomy type"),
        ("slug" = String, Path, description = "The term's slug"),
    ),
    request_body = Attachments,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The term with its new counts", body = TermPage),
        (status = 404, description = "No such term", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/admin/taxonomies/{type}/{slug}/detach")]
async fn detach(
    _: Admin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: Json<Attachments>,
) -> ApiResult<web::Json<TermPage>> {
    change_attachments(&state, path.into_inner(), body.into_inner(), false).await
}
