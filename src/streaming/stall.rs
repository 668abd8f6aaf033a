//! The send timeout (`CHINOOK_SEND_TIMEOUT_SECS`): a response whose reader takes nothing for
//! that long has its connection shut down, which ends the response and frees whatever it
//! held (its place under the stream cap).
//!
//! actix asks a body for its next chunk only when the socket has room for it, so a body
//! that has not been asked for a while belongs to a reader who stopped reading. But then
//! nothing of the response runs at all, so a watchdog task per response does the waiting,
//! and shuts the socket down through a duplicate of its descriptor taken when the
//! connection opened: a duplicate can never name another connection's socket, as the
//! original number could once actix closes it.

use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use tokio_util::sync::{CancellationToken, DropGuard};

/// A connection's socket and its send timeout, kept in the connection's data.
#[derive(Clone)]
pub struct Socket {
    fd: Arc<OwnedFd>,
    timeout: Duration,
}

impl Socket {
    /// Duplicates `socket`'s descriptor; `None` when the process is out of descriptors (the
    /// connection then simply has no send timeout).
    pub fn of(socket: &impl AsRawFd, timeout: Duration) -> Option<Self> {
        // SAFETY: the descriptor is open for the duration of this call: `socket` owns it.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(socket.as_raw_fd()) };
        let fd = borrowed.try_clone_to_owned().ok()?;
        Some(Self {
            fd: Arc::new(fd),
            timeout,
        })
    }

    fn shut_down(&self) {
        // SAFETY: `fd` is our own open descriptor; shutdown only changes the socket's state.
        unsafe { libc::shutdown(self.fd.as_raw_fd(), libc::SHUT_RDWR) };
    }
}

/// `body`, cut off by shutting `socket` down once it goes unasked for `socket`'s timeout.
pub fn cut_when_stalled(
    body: BoxStream<'static, std::io::Result<Bytes>>,
    socket: Socket,
) -> BoxStream<'static, std::io::Result<Bytes>> {
    let started = Instant::now();
    let asked = Arc::new(AtomicU64::new(0));
    let done = CancellationToken::new();
    tokio::spawn(watch(socket, started, asked.clone(), done.clone()));
    Watched {
        body,
        started,
        asked,
        _done: done.drop_guard(),
    }
    .boxed()
}

/// Milliseconds since `started`.
fn since(started: Instant) -> u64 {
    started.elapsed().as_millis() as u64
}

async fn watch(socket: Socket, started: Instant, asked: Arc<AtomicU64>, done: CancellationToken) {
    let timeout = socket.timeout.as_millis() as u64;
    loop {
        let idle = since(started).saturating_sub(asked.load(Ordering::Relaxed));
        if idle >= timeout {
            tracing::info!(
                timeout_secs = socket.timeout.as_secs(),
                "a reader took nothing for the send timeout; closing its connection"
            );
            socket.shut_down();
            return;
        }
        tokio::select! {
            _ = done.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(timeout - idle)) => {}
        }
    }
}

struct Watched {
    body: BoxStream<'static, std::io::Result<Bytes>>,
    started: Instant,
    asked: Arc<AtomicU64>,
    /// Stops the watchdog when the response ends, however it ends.
    _done: DropGuard,
}

impl Stream for Watched {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.asked.store(since(self.started), Ordering::Relaxed);
        self.body.poll_next_unpin(cx)
    }
}
