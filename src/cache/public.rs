//! Public catalog answers (lists, details, search, suggest, taxonomy views) kept whole in this process's
//! memory, with HTTP validators, so a repeated read costs a lookup and a revalidation
//! costs nothing but the comparison.
//!
//! An answer is keyed by the normalized request and the index generation (the last change
//! of the change feed the index holds). The feed moves the generation on every instance, so
//! a write makes every older answer unreachable without deleting anything; the memory is
//! bounded by bytes and the oldest generations' answers are evicted first, being the least
//! recently used. The generation is read before the answer is computed from a searcher that
//! holds at least that change, so an answer is never older than its key claims.
//!
//! The strong ETag names the generation and the request, and `Cache-Control` lets any
//! cache keep the answer but revalidate it (or, with `CHINOOK_PUBLIC_MAX_AGE_SECS`, serve it
//! for that long first): catalog data changes at any moment, and a revalidation is a 304
//! that computes nothing.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use prometheus::IntCounterVec;

use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct PublicAnswers {
    memory: Option<moka::future::Cache<(i64, Arc<str>), Bytes>>,
    cache_control: HeaderValue,
    requests: IntCounterVec,
}

impl PublicAnswers {
    /// Answers kept in at most `bytes` (none when 0), served with a `max_age` of freshness.
    pub fn new(bytes: u64, max_age: Duration, requests: IntCounterVec) -> Self {
        for result in ["hit", "miss", "not_modified"] {
            requests.with_label_values(&["public", result]);
        }
        let memory = (bytes > 0).then(|| {
            moka::future::Cache::builder()
                .max_capacity(bytes)
                // Key and body bytes, plus a bound on the entry's bookkeeping.
                .weigher(|(_, key): &(i64, Arc<str>), body: &Bytes| {
                    u32::try_from(key.len() + body.len() + 128).unwrap_or(u32::MAX)
                })
                .build()
        });
        let cache_control = match max_age.as_secs() {
            0 => HeaderValue::from_static("public, no-cache"),
            secs => HeaderValue::from_str(&format!(
                "public, max-age={secs}, stale-while-revalidate={secs}"
            ))
            .unwrap_or(HeaderValue::from_static("public, no-cache")),
        };
        Self {
            memory,
            cache_control,
            requests,
        }
    }

    fn count(&self, result: &str) {
        self.requests.with_label_values(&["public", result]).inc();
    }

    /// The answer to `key` at index generation `generation`: a 304 when the client holds it
    /// already, else the kept body, else `compute`'s, which is then kept. Concurrent misses
    /// of one key compute it once; a failure is not kept.
    pub async fn respond<F, Fut>(
        &self,
        req: &HttpRequest,
        generation: i64,
        key: String,
        compute: F,
    ) -> ApiResult<HttpResponse>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<Bytes>>,
    {
        let etag = etag(generation, &key);
        if holds(req, &etag) {
            self.count("not_modified");
            return Ok(self
                .headers(&mut HttpResponse::NotModified(), &etag)
                .finish());
        }
        let body = match &self.memory {
            None => compute().await?,
            Some(memory) => {
                let mut computed = false;
                let kept = memory
                    .try_get_with((generation, Arc::from(key)), async {
                        computed = true;
                        compute().await
                    })
                    .await
                    .map_err(|shared| shared_failure(&shared))?;
                self.count(if computed { "miss" } else { "hit" });
                kept
            }
        };
        Ok(self
            .headers(&mut HttpResponse::Ok(), &etag)
            .content_type("application/json")
            .body(body))
    }

    fn headers<'a>(
        &self,
        response: &'a mut actix_web::HttpResponseBuilder,
        etag: &str,
    ) -> &'a mut actix_web::HttpResponseBuilder {
        response
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, self.cache_control.clone()))
    }
}

/// `"c<generation>-<hash of the request>"`: the request is part of it so that one validator
/// never stands for two different answers, whatever URL a cache files it under.
fn etag(generation: i64, key: &str) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    format!("\"c{generation}-{:016x}\"", hasher.finish())
}

/// Whether `If-None-Match` names `etag`, by the weak comparison RFC 9110 §13.1.2 asks for:
/// the compression middleware weakens the validators of the bodies it encodes.
fn holds(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The failure of a computation other requests were waiting on, for each of them: the same
/// answer, with an internal cause shared by reference (it is logged where it is rendered).
fn shared_failure(shared: &Arc<ApiError>) -> ApiError {
    match shared.as_ref() {
        ApiError::BadRequest(m) => ApiError::BadRequest(m.clone()),
        ApiError::Validation(m) => ApiError::Validation(m.clone()),
        ApiError::Unauthorized(m) => ApiError::Unauthorized(m.clone()),
        ApiError::Forbidden(m) => ApiError::Forbidden(m.clone()),
        ApiError::NotFound(m) => ApiError::NotFound(m.clone()),
        ApiError::MethodNotAllowed(m) => ApiError::MethodNotAllowed(m.clone()),
        ApiError::RequestTimeout(m) => ApiError::RequestTimeout(m.clone()),
        ApiError::Conflict(m) => ApiError::Conflict(m.clone()),
        ApiError::PayloadTooLarge(m) => ApiError::PayloadTooLarge(m.clone()),
        ApiError::UnsupportedMediaType(m) => ApiError::UnsupportedMediaType(m.clone()),
        ApiError::RangeNotSatisfiable(size) => ApiError::RangeNotSatisfiable(*size),
        ApiError::TooManyRequests(m, after) => ApiError::TooManyRequests(m.clone(), *after),
        ApiError::Busy(m, after) => ApiError::Busy(m.clone(), *after),
        ApiError::Unavailable(m) => ApiError::Unavailable(m.clone()),
        ApiError::Internal(cause) => ApiError::Internal(anyhow::anyhow!("{cause:#}")),
    }
}
