//! Streaming: serving a track's audio (or a clip of it) over HTTP with ranges (RFC 9110),
//! validators and conditional requests, in bounded chunks through tokio-util.
//!
//! Streaming owns its range logic (see `range`): several ranges become a real
//! `multipart/byteranges` answer, which actix-files' `NamedFile` does not give. Bytes are
//! read lazily, a chunk at a time, only as fast as the client takes them; a client that goes
//! away drops the stream, which stops the reads.

pub mod access;
mod file;
pub mod range;
pub mod stall;
pub mod tracks;
pub mod warm;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use prometheus::IntCounter;

use crate::error::{ApiError, ApiResult};
use range::{ByteRange, Multipart, Ranges};

/// What a response serves: optional bytes of its own (a clip's header), then part of a file.
#[derive(Debug, Clone)]
pub struct Source {
    pub prefix: Bytes,
    pub path: PathBuf,
    /// The file, opened before anything is promised, so a file unlinked meanwhile (evicted,
    /// or its master replaced) is still served whole; `None` opens `path` per range.
    pub file: Option<Arc<std::fs::File>>,
    /// Where in the file the served part starts, and how many of its bytes are served.
    pub offset: u64,
    pub file_len: u64,
    pub content_type: String,
    /// Strong and quoted.
    pub etag: String,
    pub last_modified: SystemTime,
    pub cache_control: &'static str,
    /// `Content-Disposition`, for downloads.
    pub disposition: Option<String>,
}

impl Source {
    pub fn len(&self) -> u64 {
        self.prefix.len() as u64 + self.file_len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of one range of the served content, read as the client takes them.
    /// `asked` is whether the client named the range: one that fits in a chunk is then read
    /// and handed over whole (see `file::Chunks::new`).
    fn bytes(
        &self,
        range: ByteRange,
        chunk: usize,
        asked: bool,
    ) -> BoxStream<'static, std::io::Result<Bytes>> {
        let prefix_len = self.prefix.len() as u64;
        let mut parts: Vec<BoxStream<'static, std::io::Result<Bytes>>> = Vec::new();
        if range.start < prefix_len {
            let end = (range.end + 1).min(prefix_len);
            let slice = self.prefix.slice(range.start as usize..end as usize);
            parts.push(stream::once(async move { Ok(slice) }).boxed());
        }
        if range.end >= prefix_len {
            let from = range.start.max(prefix_len) - prefix_len + self.offset;
            let count = range.end + 1 - range.start.max(prefix_len);
            let path = self.path.clone();
            let opened = self.file.clone();
            let file = stream::once(async move {
                let file = match opened {
                    Some(file) => file,
                    None => tokio::task::spawn_blocking(move || std::fs::File::open(path))
                        .await
                        .map_err(std::io::Error::other)?
                        .map(Arc::new)?,
                };
                Ok::<_, std::io::Error>(file::Chunks::new(file, from, count, chunk, asked))
            })
            .try_flatten();
            parts.push(file.boxed());
        }
        stream::iter(parts).flatten().boxed()
    }
}

/// Whether an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 asks here).
fn none_match(value: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    value.trim() == "*" || value.split(',').any(|tag| bare(tag) == bare(etag))
}

fn header_str(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn http_date(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}

/// Whole seconds, as HTTP dates carry them.
fn to_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// Whether the validators say the client's copy is current (a 304).
fn not_modified(req: &HttpRequest, source: &Source) -> bool {
    if let Some(tags) = header_str(req, header::IF_NONE_MATCH) {
        return none_match(tags, &source.etag);
    }
    header_str(req, header::IF_MODIFIED_SINCE)
        .and_then(|date| httpdate::parse_http_date(date).ok())
        .is_some_and(|since| to_seconds(source.last_modified) <= to_seconds(since))
}

/// Whether a `Range` may be honoured: without `If-Range`, or when it names the current
/// representation by strong ETag or exact date.
fn range_still_valid(req: &HttpRequest, source: &Source) -> bool {
    let Some(condition) = header_str(req, header::IF_RANGE) else {
        return true;
    };
    let condition = condition.trim();
    if condition.starts_with('"') {
        return condition == source.etag;
    }
    if condition.starts_with("W/") {
        return false;
    }
    httpdate::parse_http_date(condition)
        .is_ok_and(|date| to_seconds(date) == to_seconds(source.last_modified))
}

fn base(status: StatusCode, source: &Source) -> HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::ETAG, source.etag.clone()))
        .insert_header((header::LAST_MODIFIED, http_date(source.last_modified)))
        .insert_header((header::CACHE_CONTROL, source.cache_control))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::VARY, "Range"));
    if let Some(disposition) = &source.disposition {
        response.insert_header((header::CONTENT_DISPOSITION, disposition.clone()));
    }
    response
}

/// A response body of exactly `length` bytes; for HEAD, the same headers and no body. Each
/// chunk is added to `sent` as it is handed to the connection.
fn finish(
    mut response: HttpResponseBuilder,
    method: &Method,
    length: u64,
    body: BoxStream<'static, std::io::Result<Bytes>>,
    sent: IntCounter,
) -> HttpResponse {
    if method == Method::HEAD {
        // actix sends no body for HEAD but keeps the length a sized body declares; the
        // stream is dropped unread.
        drop(body);
        return response
            .no_chunking(length)
            .streaming(stream::empty::<Result<Bytes, actix_web::Error>>());
    }
    let counted = body.inspect_ok(move |chunk| sent.inc_by(chunk.len() as u64));
    response
        .no_chunking(length)
        .streaming(counted.map_err(actix_web::error::ErrorInternalServerError))
}

/// Answers a GET or HEAD for `source`, honouring validators and ranges. `admit` is asked
/// only when bytes will be sent (not for a 304, a 416 or a HEAD); what it gives is held
/// until the body is done, e.g. a place under the stream cap. The body's bytes are counted
/// in `sent` as they go out.
pub async fn respond<T: Send + 'static, Admitted: Future<Output = ApiResult<T>>>(
    req: &HttpRequest,
    source: Source,
    chunk: usize,
    sent: IntCounter,
    admit: impl FnOnce() -> Admitted,
) -> ApiResult<HttpResponse> {
    let method = req.method().clone();
    if not_modified(req, &source) {
        return Ok(base(StatusCode::NOT_MODIFIED, &source).finish());
    }
    let total = source.len();
    let ranges = match header_str(req, header::RANGE) {
        Some(value) if range_still_valid(req, &source) => range::parse(value, total),
        // A Range header that is not valid UTF-8 is syntactically invalid: the whole file.
        Some(_) | None => Ranges::Full,
    };
    if ranges == Ranges::Unsatisfiable {
        return Err(ApiError::RangeNotSatisfiable(total));
    }
    let keep_alive = if method == Method::HEAD {
        None
    } else {
        Some(admit().await?)
    };
    // HEAD sends no body, so there is nothing to wait for.
    let socket = (method != Method::HEAD)
        .then(|| req.conn_data::<stall::Socket>().cloned())
        .flatten();
    let held = move |body: BoxStream<'static, std::io::Result<Bytes>>| {
        let body = body
            .chain(stream::once(async move {
                drop(keep_alive);
                Ok(Bytes::new())
            }))
            .boxed();
        match socket {
            Some(socket) => stall::cut_when_stalled(body, socket),
            None => body,
        }
    };
    match ranges {
        Ranges::Unsatisfiable => Err(ApiError::RangeNotSatisfiable(total)),
        Ranges::Full => {
            let body = if total == 0 {
                stream::empty().boxed()
            } else {
                source.bytes(
                    ByteRange {
                        start: 0,
                        end: total - 1,
                    },
                    chunk,
                    false,
                )
            };
            let mut response = base(StatusCode::OK, &source);
            response.content_type(source.content_type.clone());
            Ok(finish(response, &method, total, held(body), sent))
        }
        Ranges::Partial(ranges) if ranges.len() == 1 => {
            let range = ranges[0];
            let mut response = base(StatusCode::PARTIAL_CONTENT, &source);
            response
                .content_type(source.content_type.clone())
                .insert_header((header::CONTENT_RANGE, range.content_range(total)));
            let body = source.bytes(range, chunk, true);
            Ok(finish(response, &method, range.len(), held(body), sent))
        }
        Ranges::Partial(ranges) => {
            let boundary = format!("chinook-{:016x}", rand::random::<u64>());
            let multipart = Multipart::new(&ranges, total, &source.content_type, &boundary);
            let length = multipart.content_length();
            let mut parts: Vec<BoxStream<'static, std::io::Result<Bytes>>> = Vec::new();
            for (head, range) in &multipart.parts {
                let head = Bytes::from(head.clone());
                parts.push(stream::once(async move { Ok(head) }).boxed());
                parts.push(source.bytes(*range, chunk, true));
            }
            let closing = Bytes::from(multipart.closing.clone());
            parts.push(stream::once(async move { Ok(closing) }).boxed());
            let mut response = base(StatusCode::PARTIAL_CONTENT, &source);
            response.content_type(multipart.content_type());
            Ok(finish(
                response,
                &method,
                length,
                held(stream::iter(parts).flatten().boxed()),
                sent,
            ))
        }
    }
}
