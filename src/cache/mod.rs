//! What instances share through Redis when it is configured, each with an in-process form
//! used without it and while Redis fails: rate limits, cached answers, stream leases (in
//! `streaming::access`) and change announcements (in `search::feed`). Every Redis call goes
//! through one circuit breaker (`breaker`), so an outage costs at most one short timeout
//! before everything runs in-process, and no request fails because of it. Whole public
//! catalog answers (`public`) are this process's only: the change feed's generation keys them.

pub mod answers;
pub mod breaker;
pub mod connection;
pub mod public;
pub mod ratelimit;

pub use answers::Answers;
pub use connection::Redis;
pub use public::PublicAnswers;
pub use ratelimit::RateLimiter;
