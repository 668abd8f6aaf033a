//! Request ids: taken from `X-Request-Id` when the caller sends a sane one, generated
//! otherwise, echoed back, and attached to every log line of the request through its span.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Ids are echoed into headers and logs, so only short printable ones are accepted.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// A new id: this process's random 64-bit prefix, the worker thread's number and that
/// thread's count of requests, in hex (`5f0c93a1d2e4b7c8-3-1a`). Unique across processes
/// without a call into the kernel's random source per request, which a UUID v4 costs; an id
/// names a request in logs, it is not a secret.
fn generate() -> String {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static THREADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    thread_local! {
        static NEXT: Cell<(u64, u64)> = Cell::new((
            THREADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            0,
        ));
    }
    let prefix = *PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let (thread, count) = NEXT.with(|next| {
        let (thread, count) = next.get();
        next.set((thread, count + 1));
        (thread, count)
    });
    format!("{prefix:016x}-{thread:x}-{count:x}")
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(generate);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let header = HeaderValue::from_str(&id).expect("accepted ids are valid header values");
    response.headers_mut().insert(HEADER, header);
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        )
    });
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::{acceptable, generate};

    #[test]
    fn generated_ids_are_distinct_and_acceptable_as_ids() {
        let ids: std::collections::HashSet<String> = (0..1000)
            .map(|_| generate())
            .chain(
                std::thread::spawn(|| (0..1000).map(|_| generate()).collect::<Vec<_>>())
                    .join()
                    .unwrap(),
            )
            .collect();
        assert_eq!(ids.len(), 2000);
        assert!(ids.iter().all(|id| acceptable(id)));
    }

    #[test]
    fn only_short_printable_ids_are_taken() {
        assert!(acceptable("3f2b-11ee.abc_1:2"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable("new\nline"));
        assert!(!acceptable(&"a".repeat(129)));
    }
}
