//! What instances share through Redis when it is configured, each with an in-process form
//! used without it and while Redis fails: rate limits, cached answers, stream leases (in
//! `streaming::access`) and change announcements (in `search::feed`). Every Redis call goes
//! through one circuit breaker (`breaker`), so an outage costs at most one short timeout
//! before everything runs in-process, and no request fails because of it.

pub mod answers;
pub mod breaker;
pub mod connection;
pub mod ratelimit;

pub use answers::Answers;
pub use connection::Redis;
pub use ratelimit::RateLimiter;
