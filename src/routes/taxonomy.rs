//! Taxonomy reads: the types, a type's tree, a term's page, and a term's tracks, all
//! served from the search index.

use actix_web::{get, web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::browse::list::{ListParams, ListQuery};
use crate::catalog::Kind;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use crate::taxonomy::views::{self, TaxonomyTree, TaxonomyTypes, TermPage};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(taxonomies).service(term).service(term_tracks);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TreeParams {
    /// A taxonomy type, e.g. `genre`: answer its tree. Without it, the types are listed.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub taxonomy: Option<String>,
}

/// The two shapes `GET /taxonomies` answers, for the document.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Only describes the response in the OpenAPI document.
enum TaxonomyAnswer {
    Types(TaxonomyTypes),
    Tree(TaxonomyTree),
}

fn no_type(taxonomy: &str) -> ApiError {
    ApiError::NotFound(format!("there is no taxonomy type `{taxonomy}`"))
}

/// The taxonomy types, or with `type=` that type's tree of terms with their counts.
#[utoipa::path(
    tag = "taxonomy",
    params(TreeParams),
    responses(
        (status = 200, description = "Without `type` (or with it empty), the types; with it, that type's tree", body = TaxonomyAnswer, headers(("ETag" = String, description = "Strong validator of this answer at this catalog generation"), ("Cache-Control" = String, description = "`public, no-cache` unless CHINOOK_PUBLIC_MAX_AGE_SECS is set"))),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 400, description = "An unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The type has no terms", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/taxonomies")]
async fn taxonomies(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<TreeParams>,
) -> ApiResult<HttpResponse> {
    let taxonomy = params
        .taxonomy
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let key = format!("taxonomy|{}", taxonomy.as_deref().unwrap_or("*"));
    state
        .public_answer(&req, key, || {
            state.read_catalog(move |index, _| {
                let set = index.term_set()?;
                let body = match taxonomy.as_deref() {
                    None => serde_json::to_vec::<TaxonomyTypes>(&views::types(&set)),
                    Some(taxonomy) => {
                        let counts = index.term_counts()?;
                        let tree = views::tree(&set, &counts, taxonomy)
                            .ok_or_else(|| no_type(taxonomy))?;
                        serde_json::to_vec(&tree)
                    }
                };
                Ok(Bytes::from(body.map_err(anyhow::Error::from)?))
            })
        })
        .await
}

/// A term with its ancestors, its children and counts (with and without descendants).
#[utoipa::path(
    tag = "taxonomy",
    params(
        ("type" = String, Path, description = "The taxonomy type, e.g. `genre`"),
        ("slug" = String, Path, description = "The term's slug, e.g. `heavy-metal`"),
    ),
    responses(
        (status = 200, body = TermPage, headers(("ETag" = String, description = "Strong validator of this answer at this catalog generation"), ("Cache-Control" = String, description = "`public, no-cache` unless CHINOOK_PUBLIC_MAX_AGE_SECS is set"))),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 404, description = "There is no such term", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/taxonomies/{type}/{slug}")]
async fn term(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (taxonomy, slug) = path.into_inner();
    let key = format!("term|{taxonomy}|{slug}");
    state
        .public_answer(&req, key, || {
            state.read_catalog(move |index, _| {
                let set = index.term_set()?;
                let counts = index.term_counts()?;
                let page = views::page(&set, &counts, &taxonomy, &slug).ok_or_else(|| {
                    ApiError::NotFound(format!("there is no {taxonomy} term `{slug}`"))
                })?;
                Ok(Bytes::from(
                    serde_json::to_vec(&page).map_err(anyhow::Error::from)?,
                ))
            })
        })
        .await
}

/// The tracks of a term, those filed below it included unless `descendants=false`; a
/// track list in every other respect (filters, sorts, pages, fields, includes).
#[utoipa::path(
    tag = "taxonomy",
    params(
        ("type" = String, Path, description = "The taxonomy type, e.g. `genre`"),
        ("slug" = String, Path, description = "The term's slug, e.g. `rock`"),
        ListParams,
    ),
    responses(
        (status = 200, description = "A page of tracks, as GET /api/v1/tracks answers", body = Object, headers(("ETag" = String, description = "Strong validator of this answer at this catalog generation"), ("Cache-Control" = String, description = "`public, no-cache` unless CHINOOK_PUBLIC_MAX_AGE_SECS is set"))),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 400, description = "A parameter is invalid; `detail` names it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "There is no such term", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/taxonomies/{type}/{slug}/tracks")]
async fn term_tracks(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: web::Query<ListParams>,
) -> ApiResult<HttpResponse> {
    let (taxonomy, slug) = path.into_inner();
    let mut params = params.into_inner();
    let index = state.catalog()?;
    let set = index.term_set()?;
    let found = set
        .find(&taxonomy, &slug)
        .ok_or_else(|| ApiError::NotFound(format!("there is no {taxonomy} term `{slug}`")))?;
    let descendants = match params.descendants.take().as_deref().map(str::trim) {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "descendants must be true or false, not `{other}`"
            )))
        }
    };
    let scope = if descendants {
        let own = format!("{taxonomy}:{slug}");
        params.taxonomy = Some(match params.taxonomy.take() {
            Some(more) => format!("{own},{more}"),
            None => own,
        });
        Vec::new()
    } else {
        vec![("term_id", found.id.max(0) as u64)]
    };
    let query = ListQuery::parse_within(Kind::Track, &params, &scope, &state.cursor_secret)?;
    let key = format!("term-tracks|{taxonomy}|{slug}|{}", query.cache_key());
    let secret = state.cursor_secret.clone();
    let state: &AppState = &state;
    state
        .public_answer(&req, key, || async move {
            let page = state
                .read_catalog(move |index, budget| query.run(index, &secret, budget))
                .await?;
            Ok(Bytes::from(page))
        })
        .await
}
