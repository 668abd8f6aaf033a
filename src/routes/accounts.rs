//! Accounts: register, log in, log out, and `GET /me`.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiResult, Problem};
use crate::http::auth::Authenticated;
use crate::http::json::Json;
use crate::state::AppState;
use crate::store::accounts::{self, Profile, Registration, Session};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(logout)
        .service(me);
}

#[derive(Serialize, ToSchema)]
struct Registered {
    account: Profile,
    session: Session,
}

/// Creates a customer account and signs it in.
#[utoipa::path(
    tag = "accounts",
    request_body = Registration,
    responses(
        (status = 201, body = Registered),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email has an account already", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within its time budget; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid; `detail` names it", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
async fn register(state: web::Data<AppState>, form: Json<Registration>) -> ApiResult<HttpResponse> {
    let account = accounts::register(&state.db, form.into_inner()).await?;
    // The new account's first reads must find it, replicas or not.
    crate::db::request::acting_as(account.id);
    let session = accounts::issue_token(&state.db, account.id, state.config.token_ttl).await?;
    let profile = accounts::profile(&state.db, &account).await?;
    Ok(HttpResponse::Created().json(Registered {
        account: profile,
        session,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Credentials {
    #[schema(example = "luisg@embraer.com.br")]
    email: String,
    #[schema(example = "chinook-demo")]
    password: String,
}

/// Exchanges email and password for a bearer token.
#[utoipa::path(
    tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 200, body = Session),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password (one answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within its time budget; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or of the wrong type", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
async fn login(
    state: web::Data<AppState>,
    Json(credentials): Json<Credentials>,
) -> ApiResult<web::Json<Session>> {
    let session = accounts::login(
        &state.db,
        &credentials.email,
        &credentials.password,
        state.config.token_ttl,
    )
    .await?;
    Ok(web::Json(session))
}

/// Revokes the bearer token the request carries.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token is revoked"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
async fn logout(state: web::Data<AppState>, caller: Authenticated) -> ApiResult<HttpResponse> {
    accounts::logout(&state.db, &caller.token).await?;
    state.warm.logged_out(&caller.token).await;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in person: account, role, and customer or employee record.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Profile),
        (status = 404, description = "The account was deleted", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
async fn me(state: web::Data<AppState>, caller: Authenticated) -> ApiResult<web::Json<Profile>> {
    Ok(web::Json(
        accounts::profile(&state.db, &caller.account).await?,
    ))
}
