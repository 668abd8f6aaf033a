//! The Subsonic wire format: the `subsonic-response` envelope in XML (the default), JSON or
//! JSONP, and the spec's error codes. Errors travel with HTTP 200 in the requested format, as
//! players expect; only a bug or an outage (code 0) keeps its 5xx status.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The Subsonic REST protocol version this server implements.
pub const API_VERSION: &str = "1.16.1";
/// The `type` of the envelope: the server's name.
pub const SERVER_TYPE: &str = "chinook";

/// A method's answer: the elements the envelope carries beside its own attributes, such as
/// `{"albumList2": {...}}`. Empty for methods that only say "ok".
pub type Payload = Map<String, Value>;

/// The requested format of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Xml,
    Json,
    /// JSON wrapped in a call of this (checked) function name.
    Jsonp(String),
}

/// A Subsonic error: its code, its message, and the HTTP status it goes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u32,
    pub message: String,
    /// 200 for everything a client did; 500 or 503 for a bug or an outage.
    pub status: u16,
    /// Seconds after which a retry may succeed (sent as `Retry-After`): a rate limit or a
    /// read past its deadline.
    pub retry_after: Option<u64>,
}

impl Failure {
    fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: 200,
            retry_after: None,
        }
    }
    /// Code 0, for bad values and whatever else the spec has no code for.
    pub fn generic(message: impl Into<String>) -> Self {
        Self::new(0, message)
    }
    pub fn missing(parameter: &str) -> Self {
        Self::new(10, format!("required parameter `{parameter}` is missing"))
    }
    pub fn client_too_old(message: impl Into<String>) -> Self {
        Self::new(20, message)
    }
    pub fn server_too_old(message: impl Into<String>) -> Self {
        Self::new(30, message)
    }
    pub fn wrong_credentials() -> Self {
        Self::new(40, "wrong username or password")
    }
    pub fn token_unsupported(message: impl Into<String>) -> Self {
        Self::new(41, message)
    }
    pub fn mechanism_unsupported(message: impl Into<String>) -> Self {
        Self::new(42, message)
    }
    pub fn conflicting() -> Self {
        Self::new(
            43,
            "send one way of signing in: apiKey, or u with p, or u with t and s",
        )
    }
    pub fn invalid_key() -> Self {
        Self::new(44, "the API key is unknown or revoked")
    }
    pub fn not_authorized(message: impl Into<String>) -> Self {
        Self::new(50, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(70, message)
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::NotFound(m) => Self::not_found(m),
            ApiError::Forbidden(m) => Self::not_authorized(m),
            ApiError::Unauthorized(_) => Self::wrong_credentials(),
            ApiError::BadRequest(m)
            | ApiError::Validation(m)
            | ApiError::Conflict(m)
            | ApiError::MethodNotAllowed(m)
            | ApiError::PayloadTooLarge(m)
            | ApiError::UnsupportedMediaType(m)
            | ApiError::RequestTimeout(m) => Self::generic(m),
            ApiError::TooManyRequests(m, retry) => Self {
                retry_after: Some(retry),
                ..Self::generic(m)
            },
            ApiError::RangeNotSatisfiable(len) => {
                Self::generic(format!("no range lies within the {len} bytes"))
            }
            // A read past its deadline is the client's to retry: clients expect errors with
            // HTTP 200, and most show any other status as the server being down.
            ApiError::Busy(m, retry) => Self {
                retry_after: Some(retry),
                ..Self::generic(m)
            },
            ApiError::Unavailable(m) => Self {
                status: 503,
                ..Self::generic(m)
            },
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "a Subsonic request failed");
                Self {
                    status: 500,
                    ..Self::generic("internal error; the server logged it")
                }
            }
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        ApiError::from(error).into()
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        if error.chain().any(|c| c.is::<crate::search::Exhausted>()) {
            return ApiError::Busy(
                "the catalog could not answer in time; retry shortly".into(),
                1,
            )
            .into();
        }
        ApiError::Internal(error).into()
    }
}

/// A JSONP callback is only ever a plain (dotted) identifier, so it can inject nothing.
fn safe_callback(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$');
    first_ok
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.'))
}

/// The format `f` asks for; an unknown one, or JSONP without a safe callback, is answered
/// in XML with code 0 (the failure says why).
pub fn output(f: Option<&str>, callback: Option<&str>) -> Result<Output, Failure> {
    match f.map(str::trim) {
        None | Some("") | Some("xml") => Ok(Output::Xml),
        Some("json") => Ok(Output::Json),
        Some("jsonp") => match callback {
            Some(name) if safe_callback(name) => Ok(Output::Jsonp(name.to_string())),
            Some(_) => Err(Failure::generic(
                "callback must be a JavaScript identifier (letters, digits, _, $ and dots, at most 64)",
            )),
            None => Err(Failure::missing("callback")),
        },
        Some(other) => Err(Failure::generic(format!(
            "unknown format f={other}; use xml, json or jsonp"
        ))),
    }
}

/// The envelope as JSON: attributes first, then the payload or the error.
pub fn envelope(result: &Result<Payload, Failure>) -> Value {
    let mut body = Map::new();
    let ok = result.is_ok();
    body.insert(
        "status".into(),
        Value::from(if ok { "ok" } else { "failed" }),
    );
    body.insert("version".into(), Value::from(API_VERSION));
    body.insert("type".into(), Value::from(SERVER_TYPE));
    body.insert(
        "serverVersion".into(),
        Value::from(env!("CARGO_PKG_VERSION")),
    );
    body.insert("openSubsonic".into(), Value::Bool(true));
    match result {
        Ok(payload) => body.extend(payload.clone()),
        Err(failure) => {
            let mut error = Map::new();
            error.insert("code".into(), Value::from(failure.code));
            error.insert("message".into(), Value::from(failure.message.clone()));
            body.insert("error".into(), Value::Object(error));
        }
    }
    let mut root = Map::new();
    root.insert("subsonic-response".into(), Value::Object(body));
    Value::Object(root)
}

/// A rendered answer: its HTTP status, content type and body.
pub struct Rendered {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub content_type: &'static str,
    pub body: String,
}

pub fn render(output: &Output, result: Result<Payload, Failure>) -> Rendered {
    let status = result.as_ref().err().map_or(200, |f| f.status);
    let retry_after = result.as_ref().err().and_then(|f| f.retry_after);
    let value = envelope(&result);
    match output {
        Output::Xml => Rendered {
            status,
            retry_after,
            content_type: "application/xml; charset=utf-8",
            body: super::xml::document(&value),
        },
        Output::Json => Rendered {
            status,
            retry_after,
            content_type: "application/json",
            body: value.to_string(),
        },
        // The leading comment keeps the body from being read as anything but script.
        Output::Jsonp(callback) => Rendered {
            status,
            retry_after,
            content_type: "application/javascript; charset=utf-8",
            body: format!("/**/{callback}({value});"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_must_be_identifiers() {
        assert!(safe_callback("cb"));
        assert!(safe_callback("jQuery.cb_1"));
        for bad in ["", "1cb", "a(b)", "a;alert(1)", "a b", "<x>"] {
            assert!(!safe_callback(bad), "{bad:?}");
        }
        assert!(output(Some("jsonp"), Some("x)")).is_err());
        assert_eq!(output(None, None), Ok(Output::Xml));
    }

    #[test]
    fn failures_carry_code_and_message() {
        let value = envelope(&Err(Failure::not_found("no such album")));
        let body = &value["subsonic-response"];
        assert_eq!(body["status"], "failed");
        assert_eq!(body["error"]["code"], 70);
        assert_eq!(body["openSubsonic"], true);
    }
}
