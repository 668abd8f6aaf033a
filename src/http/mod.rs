//! HTTP plumbing shared by every route: request ids, request metrics, security headers,
//! authentication, time and connection budgets, turning extractor failures into problem+json, and the edge (TLS, HSTS,
//! compression, CORS) for a binary that faces clients itself.

pub mod auth;
pub mod budget;
pub mod client_ip;
pub mod compression;
pub mod cors;
pub mod draining;
pub mod extractors;
pub mod json;
pub mod metrics;
pub mod problem;
pub mod ratelimit;
pub mod read_your_writes;
pub mod request_id;
pub mod session_cookie;
pub mod tls;

use actix_web::middleware::DefaultHeaders;

/// Headers every response carries.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        ))
}
