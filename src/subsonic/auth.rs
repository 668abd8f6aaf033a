//! Who a Subsonic request speaks for. Exactly one mechanism per request: `apiKey` (the
//! apiKeyAuthentication extension), `u` with `p` (the account password, plain or `enc:`
//! hex, checked as at login and under the login rate limit, or the app password), or `u`
//! with `t` and `s` (md5 of the account's app password and the salt; code 41 until it has
//! one, since the account password is never stored reversibly).

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{Failure, Params};
use crate::cache::ratelimit::Class;
use crate::state::AppState;
use crate::store::accounts::{self, Account};
use crate::store::password;
use crate::store::player_credentials::{self as credentials, SealKey};

/// Passwords verified lately, keyed by a hash of the stored hash and the password sent, so
/// a changed password misses at once. Players send `p` with every request; this is what
/// keeps that from costing an argon2 check (and a login allowance) each time.
pub struct Verified(moka::sync::Cache<String, i64>);

impl Default for Verified {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
        )
    }
}

fn verified_key(stored_hash: &str, password: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(stored_hash.as_bytes());
    hasher.update([0]);
    hasher.update(password.as_bytes());
    crate::hex::encode(&hasher.finalize())
}

/// `p` as sent: clear text, or `enc:` and hex of its UTF-8 bytes.
pub fn decode_password(raw: &str) -> Result<String, Failure> {
    let Some(hex) = raw.strip_prefix("enc:") else {
        return Ok(raw.to_string());
    };
    let bad = || Failure::wrong_credentials();
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    String::from_utf8(bytes).map_err(|_| bad())
}

/// Draws one sign-in attempt from the caller's login allowance.
async fn attempt(state: &AppState, client: &str) -> Result<(), Failure> {
    let Some(limiter) = &state.limiter else {
        return Ok(());
    };
    let decision = limiter.check(Class::Login, client).await;
    if decision.allowed {
        return Ok(());
    }
    state.metrics.rate_limited(Class::Login.label());
    let retry = decision.retry_after.as_secs().max(1);
    Err(Failure::generic(format!(
        "too many sign-in attempts from this address; retry in {retry} s"
    )))
}

/// Draws one request from the account's Subsonic allowance (`CHINOOK_RATE_LIMIT_SUBSONIC`).
/// Over it, the answer is code 0 with HTTP 200 and `Retry-After`: players show any other
/// status as the server being down, while they show an error message as it is.
pub async fn within_allowance(state: &AppState, account: &Account) -> Result<(), Failure> {
    let Some(limiter) = &state.limiter else {
        return Ok(());
    };
    let decision = limiter
        .check(Class::Subsonic, &account.id.to_string())
        .await;
    if decision.allowed {
        return Ok(());
    }
    state.metrics.rate_limited(Class::Subsonic.label());
    let retry = decision.retry_after.as_micros().div_ceil(1_000_000).max(1) as u64;
    Err(Failure {
        retry_after: Some(retry),
        ..Failure::generic(format!(
            "too many requests from this account; retry in {retry} s"
        ))
    })
}

fn seal_key(state: &AppState) -> Option<SealKey> {
    state
        .config
        .app_password_key
        .as_ref()
        .and_then(|key| SealKey::from_hex(key.expose()).ok())
}

/// The account the request's credentials prove, or the Subsonic error that says why not.
/// `client` is the caller's address, for the login limit.
pub async fn authenticate(
    state: &AppState,
    shared: &super::Shared,
    params: &Params,
    client: &str,
) -> Result<Account, Failure> {
    let has = |name| params.has(name);
    if let Some(key) = params.get("apiKey") {
        if has("u") || has("p") || has("t") || has("s") {
            return Err(Failure::conflicting());
        }
        return match credentials::by_key(&state.db, key).await? {
            Some(account) => Ok(account),
            None => {
                attempt(state, client).await?;
                Err(Failure::invalid_key())
            }
        };
    }
    let user = params.required("u")?;
    match (params.get("p"), params.get("t"), params.get("s")) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(Failure::conflicting()),
        (Some(raw), None, None) => {
            let password = decode_password(raw)?;
            password_sign_in(state, shared, user, &password, client).await
        }
        (None, Some(token), Some(salt)) => token_sign_in(state, user, token, salt, client).await,
        (None, Some(_), None) => Err(Failure::missing("s")),
        (None, None, Some(_)) => Err(Failure::missing("t")),
        (None, None, None) => Err(Failure::missing("p")),
    }
}

async fn password_sign_in(
    state: &AppState,
    shared: &super::Shared,
    user: &str,
    password: &str,
    client: &str,
) -> Result<Account, Failure> {
    let found = credentials::password_of(&state.db, user).await?;
    if let Some((id, stored)) = &found {
        let key = verified_key(stored, password);
        if shared.verified.0.get(&key) == Some(*id) {
            return known(state, *id).await;
        }
        // The app password works as `p` too, for players that only send passwords.
        if let Some(seal) = seal_key(state) {
            if let Some(app) = credentials::app_password(&state.db, &seal, *id).await? {
                if credentials::constant_eq(app.as_bytes(), password.as_bytes()) {
                    return known(state, *id).await;
                }
            }
        }
    }
    attempt(state, client).await?;
    let plausible = password.chars().count() <= password::MAX_CHARS;
    let stored = found.as_ref().map(|(_, hash)| hash.clone());
    let verified = plausible && password::verify(password.to_string(), stored).await?;
    match found {
        Some((id, stored)) if verified => {
            shared
                .verified
                .0
                .insert(verified_key(&stored, password), id);
            known(state, id).await
        }
        _ => Err(Failure::wrong_credentials()),
    }
}

async fn token_sign_in(
    state: &AppState,
    user: &str,
    token: &str,
    salt: &str,
    client: &str,
) -> Result<Account, Failure> {
    let Some(seal) = seal_key(state) else {
        return Err(Failure::token_unsupported(
            "token authentication needs an app password, and this server has no key for them \
             (CHINOOK_APP_PASSWORD_KEY); use an API key (apiKey) or the password (p)",
        ));
    };
    let Some(account) = credentials::by_email(&state.db, user).await? else {
        attempt(state, client).await?;
        return Err(Failure::wrong_credentials());
    };
    let Some(app) = credentials::app_password(&state.db, &seal, account.id).await? else {
        return Err(Failure::token_unsupported(
            "token authentication works with an app password only: make one on the store's \
             account page (POST /api/v1/me/subsonic/app-password), or use an API key",
        ));
    };
    if credentials::token_matches(&app, salt, token) {
        return Ok(account);
    }
    attempt(state, client).await?;
    Err(Failure::wrong_credentials())
}

async fn known(state: &AppState, id: i64) -> Result<Account, Failure> {
    accounts::by_id(&state.db, id)
        .await?
        .ok_or_else(Failure::wrong_credentials)
}

#[cfg(test)]
mod tests {
    use super::decode_password;

    #[test]
    fn enc_passwords_are_hex_utf8() {
        assert_eq!(decode_password("enc:736573616d65").unwrap(), "sesame");
        assert_eq!(decode_password("sesame").unwrap(), "sesame");
        assert_eq!(decode_password("enc:7").unwrap_err().code, 40);
        assert_eq!(decode_password("enc:zz").unwrap_err().code, 40);
    }
}
