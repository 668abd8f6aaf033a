//! Who may hear what: previews are public; full streams and downloads are for customers who
//! bought the track and for staff. Signed URLs carry that right to an `<audio>` element,
//! which cannot send an Authorization header; a per-account cap bounds concurrent streams.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::store::accounts::Account;
use crate::store::{library, Role};

/// Whether `account` may stream and download `track`: staff and admins always; a customer
/// who owns it: bought it, or has it on an imported Chinook invoice.
pub async fn entitled(db: &Db, account: &Account, track: i64) -> ApiResult<bool> {
    match account.role {
        Role::Staff | Role::Admin => Ok(true),
        Role::Customer => match account.customer_id {
            Some(customer) => library::owns(db, customer, track).await,
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

/// Signs and checks stream URLs: HMAC-SHA256 over the track, the account and the expiry.
#[derive(Clone)]
pub struct UrlSigner {
    key: Arc<Vec<u8>>,
}

/// The query a signed stream URL carries.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Signature {
    pub account: i64,
    pub expires: i64,
    pub signature: String,
}

impl UrlSigner {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key: Arc::new(key) }
    }

    fn mac(&self, track: i64, account: i64, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(format!("stream|track={track}|account={account}|expires={expires}").as_bytes());
        mac
    }

    /// The query string of a URL that streams `track` for `account` until `expires` (Unix
    /// seconds).
    pub fn sign(&self, track: i64, account: i64, expires: i64) -> String {
        let tag = self.mac(track, account, expires).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("account={account}&expires={expires}&signature={hex}")
    }

    /// The account a signed URL speaks for, or a 403 when it is tampered with or expired.
    pub fn verify(&self, track: i64, signed: &Signature, now: i64) -> ApiResult<i64> {
        let invalid = || {
            ApiError::Forbidden(
                "this stream URL is not valid for this track; ask for a new one with POST /api/v1/tracks/{id}/stream-url".into(),
            )
        };
        let tag = decode_hex(&signed.signature).ok_or_else(invalid)?;
        // verify_slice compares in constant time.
        self.mac(track, signed.account, signed.expires)
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
/// which happens when the response body is done or the client goes away.
#[derive(Default)]
pub struct StreamLimiter {
    open: Mutex<HashMap<i64, usize>>,
}

pub struct StreamPass {
    limiter: Arc<StreamLimiter>,
    account: i64,
}

impl StreamLimiter {
    pub fn acquire(self: &Arc<Self>, account: i64, cap: usize) -> ApiResult<StreamPass> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(account).or_default();
        if *count >= cap {
            return Err(ApiError::TooManyRequests(
                format!("you have {cap} streams playing already; stop one to start another"),
                5,
            ));
        }
        *count += 1;
        Ok(StreamPass {
            limiter: self.clone(),
            account,
        })
    }

    /// Full streams open across every account.
    pub fn total_open(&self) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.values().sum()
    }

    pub fn open_streams(&self, account: i64) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&account).copied().unwrap_or(0)
    }
}

impl Drop for StreamPass {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.account) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_url_is_accepted_until_it_expires_and_refused_when_changed() {
        let signer = UrlSigner::new(b"a key of thirty-two bytes or more!".to_vec());
        let query = signer.sign(7, 42, 1_000);
        let field = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_string()
        };
        let parsed = Signature {
            account: field("account").parse().unwrap(),
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

    #[test]
    fn the_stream_cap_frees_a_place_when_a_pass_is_dropped() {
        let limiter = Arc::new(StreamLimiter::default());
        let first = limiter.acquire(1, 2).unwrap();
        let _second = limiter.acquire(1, 2).unwrap();
        assert!(limiter.acquire(1, 2).is_err());
        assert!(
            limiter.acquire(2, 2).is_ok(),
            "another account is not affected"
        );
        drop(first);
        assert!(limiter.acquire(1, 2).is_ok());
    }
}
