//! HTTP plumbing shared by every route: request ids, request metrics, security headers,
//! authentication, and turning extractor failures into problem+json.

pub mod auth;
pub mod client_ip;
pub mod extractors;
pub mod json;
pub mod metrics;
pub mod page;
pub mod ratelimit;
pub mod read_your_writes;
pub mod request_id;

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
