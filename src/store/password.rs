//! Argon2id password hashing (the rules are `text::password`). Hashing is slow by design, so
//! it runs on the blocking pool, never on the async workers.

use std::sync::LazyLock;

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

/// Hashes running at once. Each argon2 hash holds 19 MiB for tens of milliseconds; without a
/// bound, a flood of logins would fill the blocking pool (512 threads) and memory with them.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

// The rules live in `text`, a leaf, so configuration can check the demo password with them.
pub use crate::text::password::{validate, MAX_CHARS, MIN_CHARS};

/// An argon2id PHC string for `password`, with a fresh random salt.
pub async fn hash(password: String) -> anyhow::Result<String> {
    let _permit = HASHING
        .acquire()
        .await
        .context("the hashing limit is closed")?;
    tokio::task::spawn_blocking(move || {
        // The salt comes from the operating system's generator.
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
    })
    .await
    .context("password hashing task failed")?
}

/// Whether `password` matches `stored`. With no stored hash (an unknown account) it checks
/// against a dummy hash, so an unknown email costs as long as a wrong password.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        Argon2::default()
            .hash_password(b"no account has this password")
            .expect("hashing a constant succeeds")
            .to_string()
    });
    let _permit = HASHING
        .acquire()
        .await
        .context("the hashing limit is closed")?;
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY.clone());
        let parsed = PasswordHash::new(&phc)
            .map_err(|e| anyhow::anyhow!("a stored password hash is malformed: {e}"))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .context("password verification task failed")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let stored = hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), Some(stored.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse!".into(), Some(stored)).await.unwrap());
        assert!(!verify("correct horse".into(), None).await.unwrap());
    }

    #[test]
    fn rules_name_what_failed() {
        assert!(validate("short").unwrap_err().contains("at least 8"));
        assert!(validate(&"x".repeat(129))
            .unwrap_err()
            .contains("at most 128"));
        assert!(validate("bad\u{0}password")
            .unwrap_err()
            .contains("control"));
        assert!(validate("          ").unwrap_err().contains("spaces"));
        assert!(validate("ünïcødé-ok").is_ok());
    }
}
