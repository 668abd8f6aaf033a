//! Every request's time and place budget. A request body must arrive within
//! `body_timeout` plus the time its bytes take at `body_min_rate`, or the request is answered
//! 408 and its connection closed; connections are capped per client address and overall,
//! and the ones over a cap are answered 503 and closed at their first request. Headers have
//! their own timeout in actix (`client_request_timeout`).

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_http::ConnectionType;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Extensions, Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::http::client_ip::Cidr;
use crate::state::AppState;

/// How far a request's body got, shared between the payload it reads and the middleware.
#[derive(Clone, Copy, PartialEq)]
enum Progress {
    Reading,
    Done,
    TimedOut,
}

/// The request's payload, cut off when its bytes come too slowly.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
    started: Instant,
    received: u64,
    timeout: Duration,
    min_rate: u64,
    progress: Rc<Cell<Progress>>,
}

impl Deadline {
    /// A body may take `timeout`, plus the time its bytes so far would take at `min_rate`.
    fn deadline(&self) -> Instant {
        let earned = Duration::from_secs_f64(self.received as f64 / self.min_rate as f64);
        self.started + self.timeout + earned
    }
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.progress.get() == Progress::TimedOut {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                let deadline = this.deadline();
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) => {
                this.progress.set(Progress::Done);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.progress.set(Progress::TimedOut);
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body came too slowly",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

fn timed_out(timeout: Duration) -> ApiError {
    ApiError::RequestTimeout(format!(
        "the request body did not arrive in time (the budget is {} s plus the time its \
         bytes take at the minimum rate); send it whole, without pauses",
        timeout.as_secs()
    ))
}

/// Refuses requests on connections over a cap, and puts the body on its deadline. A
/// response sent before its body was read whole closes the connection: what is left of the
/// body would otherwise be read as the next request, or keep the connection held.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    if let Some(refusal) = req
        .conn_data::<Slot>()
        .and_then(|slot| slot.refusal.clone())
    {
        let mut response = ApiError::Unavailable(refusal).error_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        response
            .head_mut()
            .set_connection_type(ConnectionType::Close);
        return Ok(req.into_response(response).map_into_right_body());
    }
    if !has_body(&req) {
        return next.call(req).await.map(|r| r.map_into_left_body());
    }
    let timeout = state.config.body_timeout;
    let progress = Rc::new(Cell::new(Progress::Reading));
    let started = Instant::now();
    let deadline = Deadline {
        inner: req.take_payload(),
        sleep: Box::pin(tokio::time::sleep_until(started + timeout)),
        started,
        received: 0,
        timeout,
        min_rate: state.config.body_min_rate.max(1),
        progress: progress.clone(),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(deadline),
    });
    let response = next.call(req).await?;
    match progress.get() {
        Progress::Done => Ok(response.map_into_left_body()),
        Progress::TimedOut => {
            let (req, _) = response.into_parts();
            let mut response = timed_out(timeout).error_response();
            response
                .head_mut()
                .set_connection_type(ConnectionType::Close);
            Ok(ServiceResponse::new(req, response).map_into_right_body())
        }
        Progress::Reading => {
            let mut response = response;
            response
                .response_mut()
                .head_mut()
                .set_connection_type(ConnectionType::Close);
            Ok(response.map_into_left_body())
        }
    }
}

/// Open connections, per client address and in all.
pub struct Connections {
    per_client: usize,
    total: usize,
    trusted: Vec<Cidr>,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
    /// The most open at once since memory was last handed back.
    high_water: usize,
}

/// A connection's place, held in its extensions until it closes. One over a cap holds no
/// place: it only carries the refusal its first request gets.
pub struct Slot {
    owner: Option<(Arc<Connections>, IpAddr)>,
    refusal: Option<String>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some((connections, ip)) = self.owner.take() {
            let mut open = connections.open.lock().expect("not poisoned");
            open.total -= 1;
            if let Some(count) = open.per_ip.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    open.per_ip.remove(&ip);
                }
            }
        }
    }
}

impl Connections {
    /// A proxy in `trusted` carries many clients, so only the overall cap applies to it.
    pub fn new(per_client: usize, total: usize, trusted: Vec<Cidr>) -> Arc<Self> {
        Arc::new(Self {
            per_client,
            total,
            trusted,
            open: Mutex::new(Open::default()),
        })
    }

    /// Takes a place for a connection from `ip`, or says why there is none.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Slot {
        let mut open = self.open.lock().expect("not poisoned");
        let proxy = self.trusted.iter().any(|cidr| cidr.contains(ip));
        let from_ip = open.per_ip.get(&ip).copied().unwrap_or(0);
        let refusal = if open.total >= self.total {
            Some(format!(
                "the server has {} connections open, its limit; retry shortly",
                self.total
            ))
        } else if !proxy && from_ip >= self.per_client {
            Some(format!(
                "your address has {} connections open, the limit per client; reuse them",
                self.per_client
            ))
        } else {
            None
        };
        if refusal.is_some() {
            return Slot {
                owner: None,
                refusal,
            };
        }
        open.total += 1;
        open.high_water = open.high_water.max(open.total);
        *open.per_ip.entry(ip).or_insert(0) += 1;
        Slot {
            owner: Some((self.clone(), ip)),
            refusal: None,
        }
    }

    pub fn open(&self) -> usize {
        self.open.lock().expect("not poisoned").total
    }

    /// Whether a crowd of connections has gone since the last call: at least `crowd` were
    /// open at once, and three quarters of them have closed. Resets the mark when it says so.
    fn crowd_gone(&self, crowd: usize) -> bool {
        let mut open = self.open.lock().expect("not poisoned");
        let gone = open.high_water >= crowd && open.total <= open.high_water / 4;
        if gone {
            open.high_water = open.total;
        }
        gone
    }

    /// Hands the memory of a crowd of connections back to the system once it has gone. An
    /// allocator keeps freed memory in its per-thread arenas: after 10,000 slow connections
    /// closed, 260 MB stayed resident in glibc's until `malloc_trim` released it.
    pub async fn release_memory_after_crowds(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            if self.crowd_gone(1000) {
                let trimmed = tokio::task::spawn_blocking(trim).await;
                tracing::info!(
                    released = trimmed.unwrap_or(false),
                    "a crowd of connections closed; memory handed back"
                );
            }
        }
    }

    /// For `HttpServer::on_connect`: gives the connection its slot.
    pub fn on_connect(self: &Arc<Self>, peer: Option<IpAddr>, extensions: &mut Extensions) {
        if let Some(ip) = peer {
            extensions.insert(self.admit(ip));
        }
    }
}

/// Returns free heap pages to the system, mimalloc's (Rust's allocations) and then the
/// system allocator's (C code's); true when the system allocator released some.
fn trim() -> bool {
    // SAFETY: mi_collect only frees and decommits the allocator's own unused pages.
    unsafe { libmimalloc_sys::mi_collect(true) };
    system_trim()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn system_trim() -> bool {
    // SAFETY: malloc_trim only walks the allocator's own free lists, under its own locks.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn system_trim() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_per_address_and_in_all_and_given_back() {
        let connections = Connections::new(2, 3, vec![Cidr::parse("10.0.0.1").unwrap()]);
        let (a, b, proxy): (IpAddr, IpAddr, IpAddr) = (
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            "10.0.0.1".parse().unwrap(),
        );
        let first = connections.admit(a);
        let second = connections.admit(a);
        let third = connections.admit(a);
        assert!(first.refusal.is_none() && second.refusal.is_none());
        assert!(third.refusal.as_deref().unwrap().contains("per client"));
        let other = connections.admit(b);
        assert!(other.refusal.is_none());
        assert!(connections
            .admit(b)
            .refusal
            .as_deref()
            .unwrap()
            .contains("its limit"));
        assert_eq!(connections.open(), 3);
        assert!(!connections.crowd_gone(3), "all three are still open");
        drop((first, second, other));
        assert_eq!(connections.open(), 0);
        assert!(connections.crowd_gone(3));
        assert!(!connections.crowd_gone(3), "the mark was reset");
        let held: Vec<Slot> = (0..3).map(|_| connections.admit(proxy)).collect();
        assert!(held.iter().all(|slot| slot.refusal.is_none()));
    }
}
