//! The one error type: what went wrong, in words, by kind. Domain code returns `ApiError`;
//! handlers pass it through with `?`, and `http::problem`, the one mapping, renders it as RFC
//! 9457 `application/problem+json`. This module knows nothing of HTTP frameworks.

use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What was wrong with this request, in words.
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: unparsable JSON, a bad query parameter, a bad header.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request is well-formed but its content is invalid.
    #[error("validation failed: {0}")]
    Validation(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    /// The request's body did not arrive within its time budget.
    #[error("request timeout: {0}")]
    RequestTimeout(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// No asked-for range lies within the file of this many bytes.
    #[error("range not satisfiable for {0} bytes")]
    RangeNotSatisfiable(u64),
    /// A limit was reached; retry after this many seconds.
    #[error("too many requests: {0}")]
    TooManyRequests(String, u64),
    /// The work this request needs could not be done in time; retry after this many
    /// seconds.
    #[error("busy: {0}")]
    Busy(String, u64),
    /// A dependency is down or the service is starting or stopping.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an outage. The cause is logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => {
                tracing::warn!("database pool timed out");
                Self::Unavailable("The database is busy or unreachable; try again shortly.".into())
            }
            // PostgreSQL refuses text it cannot store (a NUL byte): the input's fault. Inputs
            // are checked before they reach SQL; this keeps a missed one from being a 500.
            sqlx::Error::Database(e)
                if matches!(e.code().as_deref(), Some("22021") | Some("22P05")) =>
            {
                Self::BadRequest("the request holds text with a character that cannot be stored (such as a NUL byte)".into())
            }
            other => Self::Internal(anyhow::Error::new(other).context("database query failed")),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The problems every admin write may answer besides its own, for the OpenAPI document:
/// body, authentication and availability errors.
pub struct WriteProblems;

impl utoipa::IntoResponses for WriteProblems {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
                .into()
        };
        [
            (
                "400",
                "The body is not JSON, or a path parameter is malformed",
            ),
            ("401", "Not signed in"),
            ("403", "Signed in, but not as an admin"),
            (
                "408",
                "The body did not arrive within its time budget; the connection is closed",
            ),
            ("413", "The body is too large"),
            ("415", "The body is not sent as JSON"),
            (
                "422",
                "A field is invalid or refers to nothing; `detail` says which",
            ),
            ("500", "A bug or an outage; quote the X-Request-Id"),
            (
                "503",
                "The catalog index is warming up, or the database is unreachable",
            ),
        ]
        .into_iter()
        .map(|(code, description)| (code.to_string(), problem(description)))
        .collect()
    }
}
