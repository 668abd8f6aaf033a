//! Cross-origin access for browser clients on other origins: only the configured origins,
//! never `*` together with credentials (the configuration refuses that), and CORS refusals
//! answered as problem+json like every other bad request.

use actix_cors::{Cors, CorsError};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Condition, Next};
use actix_web::ResponseError;

use crate::config::{CorsOrigins, CorsPolicy};
use crate::error::ApiError;

/// Headers browsers may send cross-origin, beyond the always-allowed simple ones.
const ALLOWED_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "accept",
    "range",
    "if-none-match",
    "if-modified-since",
    "if-range",
    "idempotency-key",
    "x-request-id",
];

/// Response headers scripts on other origins may read.
const EXPOSED_HEADERS: &[&str] = &[
    "content-range",
    "accept-ranges",
    "content-length",
    "etag",
    "location",
    "retry-after",
    "x-request-id",
];

/// The CORS middleware for the policy; a pass-through when no origin is configured.
pub fn layer(policy: &CorsPolicy) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers(ALLOWED_HEADERS.iter().copied())
        .expose_headers(EXPOSED_HEADERS.iter().copied())
        .max_age(600)
        // A request from an unlisted origin is served without CORS headers, so the browser
        // withholds the answer; clients that are not browsers are not CORS's business.
        .block_on_origin_mismatch(false);
    let enabled = match &policy.origins {
        CorsOrigins::None => false,
        CorsOrigins::Any => {
            cors = cors.allow_any_origin().send_wildcard();
            true
        }
        CorsOrigins::List(origins) => {
            for origin in origins {
                cors = cors.allowed_origin(origin);
            }
            true
        }
    };
    if policy.credentials {
        cors = cors.supports_credentials();
    }
    Condition::new(enabled, cors)
}

/// Turns the CORS middleware's plain-text refusals (a preflight for a method or header that
/// is not allowed) into problem+json.
pub async fn problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let refusal = res
        .response()
        .error()
        .and_then(|e| e.as_error::<CorsError>())
        .map(|e| ApiError::BadRequest(format!("CORS: {e}")));
    Ok(match refusal {
        Some(problem) => res.into_response(problem.error_response()),
        None => res.map_into_boxed_body(),
    })
}
