//! Lower-case hex for digests, secrets and tags (sha2 0.11's output no longer formats as hex),
//! and keys read back from hex.

use sha2::{Digest, Sha256};

pub fn encode(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The SHA-256 of `data`, as 64 hex digits.
pub fn sha256(data: impl AsRef<[u8]>) -> String {
    encode(&Sha256::digest(data.as_ref()))
}

/// A 32-byte key written as 64 hex digits (surrounding spaces ignored), as settings give keys.
pub fn decode_key(hex: &str) -> Result<[u8; 32], String> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("must be 64 hex digits (32 bytes)".into());
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lower_case_and_sha256_matches_the_standard_vector() {
        assert_eq!(super::encode(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_eq!(
            super::sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
