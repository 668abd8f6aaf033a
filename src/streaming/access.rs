//! Who may hear what: previews are public; full streams and downloads are for customers who
//! bought the track and for staff. Signed URLs carry that right to an `<audio>` element,
//! which cannot send an Authorization header, for as long as the session that asked for
//! them lasts; a per-account cap bounds concurrent streams.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::warm::Warm;
use crate::cache::Redis;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::store::accounts::Account;
use crate::store::Role;

/// Whether `account` may stream and download `track`: staff and admins always; a customer
/// who owns it: bought it, or has it on an imported Chinook invoice.
pub async fn entitled(db: &Db, warm: &Warm, account: &Account, track: i64) -> ApiResult<bool> {
    match account.role {
        Role::Staff | Role::Admin => Ok(true),
        Role::Customer => match account.customer_id {
            Some(customer) => warm.owns(db, customer, track).await,
            None => Ok(false),
        },
    }
}

/// The refusal for a signed-in person without the right: the same words whether or not the
/// track exists, so it confirms nothing.
pub fn not_entitled(track: i64) -> ApiError {
    ApiError::Forbidden(format!(
        "track {track} is not in your library: buy it to stream or download it (previews are free)"
    ))
}

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks stream URLs: HMAC-SHA256 over the track, the account, the session and
/// the expiry.
#[derive(Clone)]
pub struct UrlSigner {
    key: Arc<Vec<u8>>,
}

/// The query a signed stream URL carries.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Signature {
    pub account: i64,
    /// The session (`accounts::session_id`) the URL was issued to; logging out revokes it.
    pub session: String,
    pub expires: i64,
    pub signature: String,
}

impl UrlSigner {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key: Arc::new(key) }
    }

    fn mac(&self, track: i64, account: i64, session: &str, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(
            format!("stream|track={track}|account={account}|session={session}|expires={expires}")
                .as_bytes(),
        );
        mac
    }

    /// The query string of a URL that streams `track` for `account`, while `session` lasts
    /// and until `expires` (Unix seconds).
    pub fn sign(&self, track: i64, account: i64, session: &str, expires: i64) -> String {
        let tag = self
            .mac(track, account, session, expires)
            .finalize()
            .into_bytes();
        let hex = crate::hex::encode(&tag);
        format!("account={account}&session={session}&expires={expires}&signature={hex}")
    }

    /// The account a signed URL speaks for, or a 403 when it is tampered with or expired. The
    /// caller still checks that its session is live.
    pub fn verify(&self, track: i64, signed: &Signature, now: i64) -> ApiResult<i64> {
        let invalid = || {
            ApiError::Forbidden(
                "this stream URL is not valid for this track; ask for a new one with POST /api/v1/tracks/{id}/stream-url".into(),
            )
        };
        let tag = decode_hex(&signed.signature).ok_or_else(invalid)?;
        // verify_slice compares in constant time.
        self.mac(track, signed.account, &signed.session, signed.expires)
            .verify_slice(&tag)
            .map_err(|_| invalid())?;
        if signed.expires <= now {
            return Err(ApiError::Forbidden(
                "this stream URL has expired; ask for a new one with POST /api/v1/tracks/{id}/stream-url".into(),
            ));
        }
        Ok(signed.account)
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Full streams open per account, capped. A `StreamPass` holds a place until it is dropped,
/// which happens when the response body is done or the client goes away, and then for the
/// limiter's linger time more: the last bytes of a body may sit in socket buffers for a
/// while, and a short file must count as long as a long one.
///
/// With Redis the places are leases shared by every instance: a sorted set per account of
/// lease ids scored by their expiry, taken atomically by a Lua script, renewed while the
/// stream plays and removed when it ends. An instance that crashes leaves its leases to
/// expire by themselves. Without Redis, or while its breaker is open, the cap is kept per
/// instance. Either way this instance counts its own open streams (`active_streams`).
#[derive(Default)]
pub struct StreamLimiter {
    open: Mutex<HashMap<i64, usize>>,
    redis: Option<Arc<Redis>>,
    lease_ttl: Duration,
    linger: Duration,
}

pub struct StreamPass {
    limiter: Arc<StreamLimiter>,
    account: i64,
    lease: Option<Lease>,
}

/// A place held in Redis, and the task that keeps renewing it.
struct Lease {
    key: String,
    id: String,
    renewer: tokio::task::JoinHandle<()>,
}

/// Drops expired leases, then takes one if fewer than the cap remain. KEYS[1] the account's
/// set; ARGV lease id, cap, TTL in ms. Returns 1 when taken.
static ACQUIRE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
",
    )
});

/// Pushes a held lease's expiry on; a lease that already expired stays gone (returns 0).
static RENEW: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl = tonumber(ARGV[2])
local added = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + ttl, ARGV[1])
if added == 1 then redis.call('PEXPIRE', KEYS[1], ttl) end
return added
",
    )
});

fn too_many(cap: usize) -> ApiError {
    ApiError::TooManyRequests(
        format!("you have {cap} streams playing already; stop one to start another"),
        5,
    )
}

impl StreamLimiter {
    /// A limiter that shares its places through `redis` when given one.
    pub fn new(redis: Option<Arc<Redis>>, lease_ttl: Duration) -> Self {
        Self {
            open: Mutex::default(),
            redis,
            lease_ttl,
            linger: Duration::ZERO,
        }
    }

    /// The same limiter, keeping each place `linger` longer than its stream.
    pub fn lingering(self, linger: Duration) -> Self {
        Self { linger, ..self }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<i64, usize>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub async fn acquire(self: &Arc<Self>, account: i64, cap: usize) -> ApiResult<StreamPass> {
        if let Some(redis) = &self.redis {
            let key = redis.key(&format!("streams:{account}"));
            let id = uuid::Uuid::new_v4().simple().to_string();
            let ttl = self.lease_ttl.as_millis() as u64;
            let taken = redis
                .call("stream lease", |mut c| {
                    let (key, id) = (key.clone(), id.clone());
                    async move {
                        ACQUIRE
                            .key(key)
                            .arg(id)
                            .arg(cap)
                            .arg(ttl)
                            .invoke_async::<i64>(&mut c)
                            .await
                    }
                })
                .await;
            match taken {
                Some(1) => {
                    *self.counts().entry(account).or_default() += 1;
                    let renewer = tokio::spawn(renew(
                        redis.clone(),
                        key.clone(),
                        id.clone(),
                        self.lease_ttl,
                    ));
                    return Ok(StreamPass {
                        limiter: self.clone(),
                        account,
                        lease: Some(Lease { key, id, renewer }),
                    });
                }
                Some(_) => return Err(too_many(cap)),
                // Redis is out: this instance's own count decides.
                None => {}
            }
        }
        let mut open = self.counts();
        let count = open.entry(account).or_default();
        if *count >= cap {
            return Err(too_many(cap));
        }
        *count += 1;
        Ok(StreamPass {
            limiter: self.clone(),
            account,
            lease: None,
        })
    }

    /// Full streams open on this instance across every account.
    pub fn total_open(&self) -> usize {
        self.counts().values().sum()
    }

    /// Full streams of `account` open on this instance.
    pub fn open_streams(&self, account: i64) -> usize {
        self.counts().get(&account).copied().unwrap_or(0)
    }
}

/// Keeps a lease alive until aborted, renewing it three times per TTL.
async fn renew(redis: Arc<Redis>, key: String, id: String, ttl: Duration) {
    let millis = ttl.as_millis() as u64;
    loop {
        tokio::time::sleep(ttl / 3).await;
        let (key, id) = (key.clone(), id.clone());
        redis
            .call("stream lease renewal", |mut c| async move {
                RENEW
                    .key(key)
                    .arg(id)
                    .arg(millis)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await;
    }
}

impl Drop for StreamPass {
    fn drop(&mut self) {
        let linger = self.limiter.linger;
        let (limiter, account, lease) = (self.limiter.clone(), self.account, self.lease.take());
        if !linger.is_zero() {
            // Without a runtime (the process is ending) nothing needs the place any more.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    tokio::time::sleep(linger).await;
                    release(&limiter, account, lease);
                });
                return;
            }
        }
        release(&limiter, account, lease);
    }
}

/// Gives a place back: this instance's count, and the lease in Redis.
fn release(limiter: &Arc<StreamLimiter>, account: i64, lease: Option<Lease>) {
    {
        let mut open = limiter.counts();
        if let Some(count) = open.get_mut(&account) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&account);
            }
        }
    }
    let Some(lease) = lease else { return };
    lease.renewer.abort();
    let Some(redis) = limiter.redis.clone() else {
        return;
    };
    // Without a runtime (the process is ending) the lease expires by itself.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            redis
                .call("stream lease release", |mut c| async move {
                    redis::cmd("ZREM")
                        .arg(lease.key)
                        .arg(lease.id)
                        .query_async::<i64>(&mut c)
                        .await
                })
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_url_is_accepted_until_it_expires_and_refused_when_changed() {
        let signer = UrlSigner::new(b"a key of thirty-two bytes or more!".to_vec());
        let query = signer.sign(7, 42, &"ab".repeat(16), 1_000);
        let field = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_string()
        };
        let parsed = Signature {
            account: field("account").parse().unwrap(),
            session: field("session"),
            expires: field("expires").parse().unwrap(),
            signature: field("signature"),
        };
        assert_eq!(signer.verify(7, &parsed, 999).unwrap(), 42);
        assert!(signer.verify(7, &parsed, 1_000).is_err(), "expired");
        assert!(signer.verify(8, &parsed, 999).is_err(), "another track");
        let other_account = Signature {
            account: 43,
            ..parsed.clone()
        };
        assert!(signer.verify(7, &other_account, 999).is_err());
        let other_session = Signature {
            session: "cd".repeat(16),
            ..parsed.clone()
        };
        assert!(signer.verify(7, &other_session, 999).is_err());
        let later = Signature {
            expires: 2_000,
            ..parsed.clone()
        };
        assert!(signer.verify(7, &later, 999).is_err());
        let mut flipped = parsed.clone();
        flipped.signature.replace_range(
            0..1,
            if flipped.signature.starts_with('0') {
                "1"
            } else {
                "0"
            },
        );
        assert!(signer.verify(7, &flipped, 999).is_err());
    }

    #[tokio::test]
    async fn the_stream_cap_frees_a_place_when_a_pass_is_dropped() {
        let limiter = Arc::new(StreamLimiter::default());
        let first = limiter.acquire(1, 2).await.unwrap();
        let _second = limiter.acquire(1, 2).await.unwrap();
        assert!(limiter.acquire(1, 2).await.is_err());
        assert!(
            limiter.acquire(2, 2).await.is_ok(),
            "another account is not affected"
        );
        drop(first);
        assert!(limiter.acquire(1, 2).await.is_ok());
    }
}
