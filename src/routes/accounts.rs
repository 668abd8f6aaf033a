//! Accounts: register, log in, log out, and `GET /me`.
//!
//! Logging in or registering with `?session=cookie` keeps the token in an HttpOnly cookie
//! (`http::session_cookie`) for the store front; without it the answer carries the bearer
//! token, as API clients expect.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiResult, Problem};
use crate::http::auth::Authenticated;
use crate::http::json::Json;
use crate::http::session_cookie;
use crate::state::AppState;
use crate::store::accounts::{self, Profile, Registration, Session};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(logout)
        .service(me);
}

/// Where the new session's token goes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum SessionMode {
    /// In the answer, as a bearer token.
    #[default]
    Bearer,
    /// In an HttpOnly, SameSite=Strict cookie (Secure over TLS); the answer has the CSRF
    /// token that unsafe requests must send in `X-CSRF-Token`.
    Cookie,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SessionQuery {
    /// `cookie` for browsers: the token goes into the HttpOnly `chinook_session` cookie and
    /// is left out of the answer. `bearer` (the default) answers with the token.
    #[param(inline)]
    session: Option<SessionMode>,
}

/// Answers `session` as asked: as it is, or with its token moved into the cookies.
fn started(
    req: &HttpRequest,
    state: &AppState,
    mut answer: HttpResponseBuilder,
    mode: Option<SessionMode>,
    session: Session,
) -> (HttpResponseBuilder, Session) {
    if mode.unwrap_or_default() == SessionMode::Bearer {
        return (answer, session);
    }
    let token = session.token.unwrap_or_default();
    for cookie in session_cookie::start(req, &token, state.config.token_ttl.as_secs()) {
        answer.append_header((header::SET_COOKIE, cookie));
    }
    answer.insert_header((header::CACHE_CONTROL, "no-store"));
    let session = Session {
        token: None,
        token_type: "Cookie",
        csrf_token: Some(session_cookie::csrf_token(&token)),
        expires_at: session.expires_at,
    };
    (answer, session)
}

#[derive(Serialize, ToSchema)]
struct Registered {
    account: Profile,
    session: Session,
}

/// Creates a customer account and signs it in.
#[utoipa::path(
    tag = "accounts",
    params(SessionQuery),
    request_body = Registration,
    responses(
        (status = 201, body = Registered, description = "Registered and signed in; with `session=cookie`, `Set-Cookie` carries the session"),
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
async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SessionQuery>,
    form: Json<Registration>,
) -> ApiResult<HttpResponse> {
    let account = accounts::register(&state.db, form.into_inner()).await?;
    // The new account's first reads must find it, replicas or not.
    crate::db::request::acting_as(account.id);
    let session = accounts::issue_token(&state.db, account.id, state.config.token_ttl).await?;
    let profile = accounts::profile(&state.db, &account).await?;
    let (mut answer, session) = started(
        &req,
        &state,
        HttpResponse::Created(),
        query.session,
        session,
    );
    Ok(answer.json(Registered {
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

/// Exchanges email and password for a bearer token, or with `session=cookie` for a session
/// cookie and its CSRF token.
#[utoipa::path(
    tag = "accounts",
    params(SessionQuery),
    request_body = Credentials,
    responses(
        (status = 200, body = Session, description = "Signed in; with `session=cookie`, `Set-Cookie` carries the session"),
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
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SessionQuery>,
    Json(credentials): Json<Credentials>,
) -> ApiResult<HttpResponse> {
    let session = accounts::login(
        &state.db,
        &credentials.email,
        &credentials.password,
        state.config.token_ttl,
    )
    .await?;
    let (mut answer, session) = started(&req, &state, HttpResponse::Ok(), query.session, session);
    Ok(answer.json(session))
}

/// Revokes the session the request carries (its bearer token or session cookie), with every
/// signed stream URL issued in it, and clears the session cookies.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session is revoked; `Set-Cookie` clears the session cookies"),
        (status = 401, description = "No valid bearer token or session cookie", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Signed in by cookie, without the session's `X-CSRF-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
) -> ApiResult<HttpResponse> {
    accounts::logout(&state.db, &caller.token).await?;
    state.warm.logged_out(&caller.token).await;
    let mut answer = HttpResponse::NoContent();
    for cookie in session_cookie::end(&req) {
        answer.append_header((header::SET_COOKIE, cookie));
    }
    Ok(answer.finish())
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
