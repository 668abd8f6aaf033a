//! The rate limit every API request passes before it is routed: login and registration per
//! client IP (strictest), requests with a valid bearer token per account, anything else per
//! client IP. Only the API (`/api/...` and the `/stream/...` alias) is limited: health
//! probes and `/metrics` must never be refused to an orchestrator or a scraper, and the store
//! front's page and assets and `/docs` are compiled-in files that one page load fetches
//! many of. An account's writes also draw on a smaller allowance of their own, so that one
//! account cannot keep the single database writer busy for everyone else. Every limited answer carries `RateLimit-*` headers; a refusal is a 429 problem
//! with `Retry-After`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};

use crate::cache::ratelimit::{Class, Decision};
use crate::error::ApiError;
use crate::http::auth::Authenticated;
use crate::http::client_ip;
use crate::state::AppState;

/// Only the API and streams are limited. Cover images are exempt too: one page of the store
/// front shows dozens, each is a file read of a size cut once and kept, and counting them
/// would refuse a visitor's first page.
fn exempt(req: &ServiceRequest) -> bool {
    let path = req.path();
    let cover = matches!(*req.method(), Method::GET | Method::HEAD)
        && path.starts_with("/api/v1/albums/")
        && path.ends_with("/cover");
    cover || !(path.starts_with("/api/") || path.starts_with("/stream/"))
}

/// A request that may change something: it counts against the account's write allowance.
fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_login(req: &ServiceRequest) -> bool {
    req.method() == Method::POST
        && matches!(req.path(), "/api/v1/auth/login" | "/api/v1/auth/register")
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    if state.limiter.is_none() || exempt(&req) {
        return next.call(req).await.map(|r| r.map_into_left_body());
    }
    let (class, who) = classify(&req, &state);
    let limiter = state.limiter.as_ref().expect("checked above");
    let mut decision = limiter.check(class, &who).await;
    let mut refused = class;
    if decision.allowed && class == Class::Account && is_write(req.method()) {
        let writes = limiter.check(Class::Write, &who).await;
        if !writes.allowed {
            (decision, refused) = (writes, Class::Write);
        }
    }
    if !decision.allowed {
        let class = refused;
        state.metrics.rate_limited(class.label());
        let retry = seconds_up(decision.retry_after).max(1);
        let refusal = ApiError::TooManyRequests(
            format!(
                "too many {} from this {}; retry in {retry} s",
                match class {
                    Class::Write => "writes",
                    _ => "requests",
                },
                match class {
                    Class::Account | Class::Write => "account",
                    Class::Anonymous | Class::Login => "address",
                }
            ),
            retry,
        );
        let mut response = refusal.error_response();
        add_headers(response.headers_mut(), &decision);
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut response = next.call(req).await?;
    add_headers(response.headers_mut(), &decision);
    Ok(response.map_into_left_body())
}

/// Which limit a request counts against, and whose allowance it draws on. An invalid token
/// counts as anonymous, so made-up tokens cannot mint fresh allowances.
fn classify(req: &ServiceRequest, state: &AppState) -> (Class, String) {
    let address = || {
        client_ip::of(req, &state.config.trusted_proxies)
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    if is_login(req) {
        return (Class::Login, address());
    }
    // `http::auth::middleware` resolved the token before this ran.
    let account = req
        .extensions()
        .get::<Authenticated>()
        .map(|a| a.account.id);
    match account {
        Some(id) => (Class::Account, id.to_string()),
        None => (Class::Anonymous, address()),
    }
}

fn seconds_up(duration: std::time::Duration) -> u64 {
    duration.as_micros().div_ceil(1_000_000) as u64
}

fn add_headers(headers: &mut HeaderMap, decision: &Decision) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("ratelimit-limit", decision.limit.to_string());
    set("ratelimit-remaining", decision.remaining.to_string());
    set("ratelimit-reset", seconds_up(decision.reset).to_string());
    set(
        "ratelimit-policy",
        format!(
            "{};w={}",
            decision.limit,
            seconds_up(decision.window).max(1)
        ),
    );
}
