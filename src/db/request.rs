//! What the router knows about the HTTP request a query runs for: which account it acts for,
//! and whether it has written yet. Held in a task-local for the request's duration, so every
//! read (`Db::reader`, `Db::read`) honours read-your-writes without each caller passing the
//! account along; queries outside a request (start-up, background tasks) act for no one.

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static REQUEST: RequestReads;
}

#[derive(Default)]
struct RequestReads {
    account: Cell<Option<i64>>,
    wrote: Cell<bool>,
}

/// How a request's reads are to be routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Acting {
    /// Outside a request, or anonymous and read-only so far.
    Anyone,
    /// A signed-in account that has not written in this request.
    Account(i64),
    /// The request has written: its later reads must see that write.
    Wrote,
}

/// Runs `request` with a fresh context; returns its output and, when it wrote on behalf of
/// an account, that account, so the caller can record the write's position.
pub async fn scope<F: Future>(request: F) -> (F::Output, Option<i64>) {
    REQUEST
        .scope(RequestReads::default(), async move {
            let output = request.await;
            let wrote_as = REQUEST.with(|r| r.account.get().filter(|_| r.wrote.get()));
            (output, wrote_as)
        })
        .await
}

/// Marks the current request as acting for `account` (its authentication, or a registration
/// that has just created it).
pub fn acting_as(account: i64) {
    let _ = REQUEST.try_with(|r| r.account.set(Some(account)));
}

/// Marks the current request as having written.
pub(super) fn wrote() {
    let _ = REQUEST.try_with(|r| r.wrote.set(true));
}

pub(super) fn acting() -> Acting {
    REQUEST
        .try_with(|r| match (r.wrote.get(), r.account.get()) {
            (true, _) => Acting::Wrote,
            (false, Some(id)) => Acting::Account(id),
            (false, None) => Acting::Anyone,
        })
        .unwrap_or(Acting::Anyone)
}
