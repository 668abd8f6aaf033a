//! The `Authenticated` extractor, a request's bearer token resolved to its account, and the
//! role-checking extractors built on it (`Admin`, `Staff`, `Customer`).
//!
//! Checks go in one order everywhere: who is calling (401), whether they may (403), then the
//! path, query and body. The `middleware` resolves a bearer token before routing, so these
//! extractors answer at once and their refusal comes before any other extractor's: actix
//! polls a handler's extractors together, and a body parsed while the token was still being
//! looked up used to answer 422 to a customer probing the admin API.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::Role;

/// A signed-in caller. Handlers that take it answer 401 to everyone else.
#[derive(Clone)]
pub struct Authenticated {
    pub account: Account,
    /// The bearer token the request carried, for logout.
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

/// Resolves the bearer token of an API request, if it has one, before anything else reads the
/// request: the account goes into the request's extensions (for the extractors and the rate
/// limiter), and so does a refusal. A lookup that failed for another reason (the database is
/// down) is left to the extractor, which answers with that error.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    if path.starts_with("/api/") || path.starts_with("/stream/") {
        if let (Ok(token), Some(state)) = (
            bearer_token(req.request()),
            req.app_data::<web::Data<AppState>>().cloned(),
        ) {
            match state.warm.authenticate(&state.db, &token).await {
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
    next.call(req).await
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
        let token = bearer_token(req);
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
