//! What a customer sets up for Subsonic players under `/me/subsonic`: API keys (created,
//! listed, revoked) and the app password for token auth; and `/me/annotations`, the stars
//! and ratings given through any client.

use actix_web::{delete, get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::auth::Authenticated;
use crate::http::json::Json;
use crate::paging::{PageParams, PageRequest, Paged};
use crate::state::AppState;
use crate::store::annotations::{self, Annotation};
use crate::store::player_credentials::{
    self as credentials, ApiKey, AppPassword, NewApiKey, NewAppPassword, SealKey,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_keys)
        .service(create_key)
        .service(revoke_key)
        .service(app_password)
        .service(create_app_password)
        .service(delete_app_password)
        .service(list_annotations);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct KeyRequest {
    /// What the key is for, e.g. the player's name; 1 to 80 characters, with the name
    /// rules of the README (no control or bidirectional characters, not only blanks).
    #[schema(example = "Symfonium on my phone")]
    name: String,
}

/// Your live Subsonic API keys (never the keys themselves), oldest first.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<ApiKey>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/subsonic/api-keys")]
async fn list_keys(state: web::Data<AppState>, caller: Authenticated) -> ApiResult<HttpResponse> {
    let keys = credentials::list_keys(&state.db, caller.account.id).await?;
    Ok(HttpResponse::Ok().json(keys))
}

/// A new API key for a Subsonic player (the `apiKey` parameter). The key is in this answer
/// only: it is stored as a hash.
#[utoipa::path(
    tag = "accounts",
    request_body = KeyRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = NewApiKey),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has 20 live keys already", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The name is missing or too long", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/subsonic/api-keys")]
async fn create_key(
    state: web::Data<AppState>,
    caller: Authenticated,
    Json(body): Json<KeyRequest>,
) -> ApiResult<HttpResponse> {
    let key = credentials::create_key(&state.db, caller.account.id, &body.name).await?;
    Ok(HttpResponse::Created().json(key))
}

/// Revokes one of your API keys; players using it get code 44 from then on.
#[utoipa::path(
    tag = "accounts",
    params(("id" = i64, Path, description = "The key's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "A malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "You have no live key with this id", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/subsonic/api-keys/{id}")]
async fn revoke_key(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    credentials::revoke_key(&state.db, caller.account.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn seal_key(state: &AppState) -> ApiResult<SealKey> {
    let key = state.config.app_password_key.as_ref().ok_or_else(|| {
        ApiError::Conflict(
            "this server keeps no app passwords (CHINOOK_APP_PASSWORD_KEY is not set); \
             use an API key"
                .into(),
        )
    })?;
    SealKey::from_hex(key.expose())
        .map_err(|e| anyhow::anyhow!("CHINOOK_APP_PASSWORD_KEY passed its check but {e}").into())
}

/// Whether you have an app password, and since when; never the password itself.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = AppPassword),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "You have no app password", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/subsonic/app-password")]
async fn app_password(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> ApiResult<HttpResponse> {
    let made = credentials::app_password_made(&state.db, caller.account.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("you have no app password".into()))?;
    Ok(HttpResponse::Ok().json(made))
}

/// Makes your app password for Subsonic players, replacing any earlier one. Players use it
/// as the password, including for token auth (`t` and `s`), which never works with the
/// account password. It is shown in this answer only.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 201, body = NewAppPassword),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The server has no key to encrypt app passwords with", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/subsonic/app-password")]
async fn create_app_password(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> ApiResult<HttpResponse> {
    let key = seal_key(&state)?;
    let made = credentials::set_app_password(&state.db, &key, caller.account.id).await?;
    Ok(HttpResponse::Created().json(made))
}

/// Deletes your app password; token auth answers code 41 again.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "You have no app password", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/subsonic/app-password")]
async fn delete_app_password(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> ApiResult<HttpResponse> {
    if !credentials::delete_app_password(&state.db, caller.account.id).await? {
        return Err(ApiError::NotFound("you have no app password".into()));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Your stars and ratings of tracks, albums and artists, from any client (the store front or
/// a Subsonic player), by kind then id.
#[utoipa::path(
    tag = "accounts",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Paged<Annotation>),
        (status = 400, description = "`limit` or `cursor` is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/annotations")]
async fn list_annotations(
    state: web::Data<AppState>,
    caller: Authenticated,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let account = caller.account.id;
    let page: PageRequest<(String, i64)> = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        format!("annotations|{account}"),
        &state.cursor_secret,
    )?;
    let rows =
        annotations::annotations(&state.db, account, page.after.clone(), page.fetch()).await?;
    let paged: Paged<Annotation> = page.finish(
        rows,
        |last| (last.kind.as_str().to_string(), last.id),
        &state.cursor_secret,
    );
    Ok(HttpResponse::Ok().json(paged))
}
