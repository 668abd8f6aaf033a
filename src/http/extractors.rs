//! Extractor settings whose failures become problem+json: JSON bodies (with the size limit),
//! query strings and path parameters.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::web;

use crate::error::ApiError;

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| json_error(err, limit).into())
}

fn json_error(err: JsonPayloadError, limit: usize) -> ApiError {
    match err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge(format!("the request body is larger than {limit} bytes"))
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
            "send the body as JSON with `Content-Type: application/json`".into(),
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::Validation(format!("the JSON body does not fit: {e}"))
        }
        JsonPayloadError::Deserialize(e) => {
            ApiError::BadRequest(format!("the body is not valid JSON: {e}"))
        }
        // Reading the payload failed (a dropped connection, a bad chunk) or a future variant.
        other => ApiError::BadRequest(format!("the request body could not be read: {other}")),
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let detail = match err {
            QueryPayloadError::Deserialize(e) => format!("invalid query string: {e}"),
            other => format!("invalid query string: {other}"),
        };
        ApiError::BadRequest(detail).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        let detail = match err {
            PathError::Deserialize(e) => format!("invalid path parameter: {e}"),
            other => format!("invalid path parameter: {other}"),
        };
        ApiError::BadRequest(detail).into()
    })
}

/// A free-text query parameter, trimmed: at most `max` characters and no control characters
/// (a NUL is more than some databases will store, so it must never reach a query). `None`
/// when it is absent or blank.
pub fn text_param(name: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(ApiError::BadRequest(format!(
            "{name} is at most {max} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "{name} must not contain control characters"
        )));
    }
    Ok(Some(value.to_string()))
}
