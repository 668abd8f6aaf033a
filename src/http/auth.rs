//! The `Authenticated` extractor, a request's bearer token (or the store front's session
//! cookie, `session_cookie`) resolved to its account, and the role-checking extractors built
//! on it (`Admin`, `Staff`, `Customer`).
//!
//! Checks go in one order everywhere: who is calling (401), whether they may (403), then the
//! path, query and body. The `middleware` resolves a bearer token before routing, so these
//! extractors answer at once and their refusal comes before any other extractor's: actix
//! polls a handler's extractors together, and a body parsed while the token was still being
//! looked up used to answer 422 to a customer probing the admin API.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};

use crate::error::ApiError;
use crate::http::session_cookie;
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::Role;

/// A signed-in caller. Handlers that take it answer 401 to everyone else.
#[derive(Clone)]
pub struct Authenticated {
    pub account: Account,
    /// The bearer token the request carried (or its session cookie's), for logout.
    pub token: String,
}

pub fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let missing = || {
        ApiError::Unauthorized(
            "sign in first: send `Authorization: Bearer <token>` with a token from \
             POST /api/v1/auth/login"
                .into(),
        )
    };
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(missing());
    }
    Ok(token.to_string())
}

/// A bearer token the middleware found unknown, expired or revoked: the 401 it gets.
#[derive(Clone)]
struct Refused(String);

/// Signing in speaks for nobody yet, so a cookie left from an earlier session is ignored
/// there rather than asked for its CSRF proof (a lost logout must not lock the store out).
const SIGN_IN: [&str; 2] = ["/api/v1/auth/login", "/api/v1/auth/register"];

/// The session token a request carries: its bearer token, else its session cookie (`true`).
fn carried(req: &HttpRequest) -> Option<(String, bool)> {
    match bearer_token(req) {
        Ok(token) => Some((token, false)),
        Err(_) if SIGN_IN.contains(&req.path()) => None,
        Err(_) => session_cookie::cookie(req, session_cookie::SESSION).map(|token| (token, true)),
    }
}

fn csrf_refusal() -> ApiError {
    ApiError::Forbidden(format!(
        "this request is signed in by the session cookie, so it must send the session's CSRF \
         token (the `{}` cookie, or `csrf_token` from sign-in) in the `X-CSRF-Token` header",
        session_cookie::CSRF
    ))
}

/// Resolves the bearer token (or session cookie) of an API request, if it has one, before
/// anything else reads the request: the account goes into the request's extensions (for the
/// extractors and the rate limiter), and so does a refusal. A lookup that failed for another
/// reason (the database is down) is left to the extractor, which answers with that error.
///
/// A cookie is sent by the browser whoever made the page, so a request it authenticates with
/// an unsafe method must also prove it came from the store front's own scripts (its CSRF
/// token), or it is a 403 before anything else runs.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let path = req.path();
    if path.starts_with("/api/") || path.starts_with("/stream/") {
        if let (Some((token, by_cookie)), Some(state)) = (
            carried(req.request()),
            req.app_data::<web::Data<AppState>>().cloned(),
        ) {
            match state.warm.authenticate(&state.db, &token).await {
                Ok(_) if by_cookie && !session_cookie::csrf_holds(req.request(), &token) => {
                    return Ok(req
                        .into_response(csrf_refusal().error_response())
                        .map_into_right_body());
                }
                Ok(account) => {
                    req.extensions_mut()
                        .insert(Authenticated { account, token });
                }
                Err(ApiError::Unauthorized(why)) => {
                    req.extensions_mut().insert(Refused(why));
                }
                Err(_) => {}
            }
        }
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(known) = req.extensions().get::<Authenticated>().cloned() {
            crate::db::request::acting_as(known.account.id);
            return Box::pin(async move { Ok(known) });
        }
        if let Some(Refused(why)) = req.extensions().get::<Refused>().cloned() {
            return Box::pin(async move { Err(ApiError::Unauthorized(why)) });
        }
        // Reached when the middleware's lookup failed for a reason other than the token (or
        // outside /api/): a cookie still needs its CSRF proof here.
        let token = match carried(req) {
            Some((token, true)) if !session_cookie::csrf_holds(req, &token) => Err(csrf_refusal()),
            Some((token, _)) => Ok(token),
            None => bearer_token(req),
        };
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| anyhow::anyhow!("application state is missing"))?;
            let account = state.warm.authenticate(&state.db, &token).await?;
            crate::db::request::acting_as(account.id);
            Ok(Authenticated { account, token })
        })
    }
}

type Narrowed<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// A role-checking extractor: the signed-in caller, then `allow` decides (401 comes from
/// `Authenticated`, the 403 from `allow`).
fn narrowed<T: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    allow: fn(Authenticated) -> Result<T, ApiError>,
) -> Narrowed<T> {
    let caller = Authenticated::from_request(req, payload);
    Box::pin(async move { allow(caller.await?) })
}

/// A signed-in admin. Handlers that take it answer 401 to the anonymous and 403 to
/// everyone else.
pub struct Admin(pub Authenticated);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Narrowed<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        narrowed(req, payload, |caller| match caller.account.role {
            Role::Admin => Ok(Admin(caller)),
            Role::Staff | Role::Customer => {
                Err(ApiError::Forbidden("only admins may do this".into()))
            }
        })
    }
}

/// A signed-in customer, with their customer id. Handlers that take it answer 401 to the
/// anonymous and 403 to staff and admins, who buy nothing and own no library.
pub struct Customer {
    pub caller: Authenticated,
    pub customer_id: i64,
}

impl FromRequest for Customer {
    type Error = ApiError;
    type Future = Narrowed<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        narrowed(req, payload, |caller| {
            match (caller.account.role, caller.account.customer_id) {
                (Role::Customer, Some(customer_id)) => Ok(Customer {
                    caller,
                    customer_id,
                }),
                (Role::Customer | Role::Staff | Role::Admin, _) => Err(ApiError::Forbidden(
                    "only customer accounts buy, have invoices, a library and playlists of their own".into(),
                )),
            }
        })
    }
}

/// A signed-in employee: staff or admin. Handlers that take it answer 401 to the anonymous
/// and 403 to customers.
pub struct Staff(pub Authenticated);

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Narrowed<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        narrowed(req, payload, |caller| match caller.account.role {
            Role::Staff | Role::Admin => Ok(Staff(caller)),
            Role::Customer => Err(ApiError::Forbidden(
                "only employees (staff and admins) may see this".into(),
            )),
        })
    }
}
