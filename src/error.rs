//! The one error type of the HTTP API, rendered as RFC 9457 `application/problem+json`.
//!
//! Domain code returns `ApiError`; handlers pass it through with `?`. Internal causes are
//! logged in full with the request's id and never sent to the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
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

impl ApiError {
    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("/problems/bad-request", "Bad request"),
            Self::Validation(_) => ("/problems/validation", "Invalid input"),
            Self::Unauthorized(_) => ("/problems/unauthorized", "Not signed in"),
            Self::Forbidden(_) => ("/problems/forbidden", "Not allowed"),
            Self::NotFound(_) => ("/problems/not-found", "Not found"),
            Self::MethodNotAllowed(_) => ("/problems/method-not-allowed", "Method not allowed"),
            Self::RequestTimeout(_) => ("/problems/request-timeout", "Request timeout"),
            Self::Conflict(_) => ("/problems/conflict", "Conflict"),
            Self::PayloadTooLarge(_) => ("/problems/payload-too-large", "Request body too large"),
            Self::UnsupportedMediaType(_) => {
                ("/problems/unsupported-media-type", "Unsupported media type")
            }
            Self::RangeNotSatisfiable(_) => {
                ("/problems/range-not-satisfiable", "Range not satisfiable")
            }
            Self::TooManyRequests(..) => ("/problems/too-many-requests", "Too many requests"),
            Self::Busy(..) => ("/problems/busy", "Too busy to answer in time"),
            Self::Unavailable(_) => ("/problems/unavailable", "Service unavailable"),
            Self::Internal(_) => ("/problems/internal", "Internal server error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest(d)
            | Self::Validation(d)
            | Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::MethodNotAllowed(d)
            | Self::RequestTimeout(d)
            | Self::Conflict(d)
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d)
            | Self::TooManyRequests(d, _)
            | Self::Busy(d, _)
            | Self::Unavailable(d) => d.clone(),
            Self::RangeNotSatisfiable(length) => {
                format!("no requested range starts within the {length} bytes of the file")
            }
            Self::Internal(_) => "The server failed to handle this request. It has been logged; \
                 quote the X-Request-Id header when reporting it."
                .into(),
        }
    }

    pub fn problem(&self) -> Problem {
        let (kind, title) = self.kind_and_title();
        Problem {
            kind: kind.into(),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy(..) | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            // `{:#}` prints the whole chain of causes on one line.
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::RangeNotSatisfiable(length) => {
                response.insert_header((header::CONTENT_RANGE, format!("bytes */{length}")));
            }
            Self::TooManyRequests(_, seconds) | Self::Busy(_, seconds) => {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            Self::BadRequest(_)
            | Self::Validation(_)
            | Self::Forbidden(_)
            | Self::NotFound(_)
            | Self::MethodNotAllowed(_)
            | Self::RequestTimeout(_)
            | Self::Conflict(_)
            | Self::PayloadTooLarge(_)
            | Self::UnsupportedMediaType(_)
            | Self::Unavailable(_)
            | Self::Internal(_) => {}
        }
        response.json(self.problem())
    }
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
