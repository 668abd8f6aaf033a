//! Lower-case hex for digests, secrets and tags (sha2 0.11's output no longer formats as hex).

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
