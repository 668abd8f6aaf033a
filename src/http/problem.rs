//! How an `ApiError` is answered: one exhaustive mapping from each kind to its status,
//! problem type, title and headers, rendered as RFC 9457 `application/problem+json`.
//! Internal causes are logged in full with the request's id and never sent to the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::error::{ApiError, Problem};

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

    /// The problem document this error is answered with.
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
