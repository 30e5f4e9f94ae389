//! Secrets: random (256 bits), with a readable prefix, stored only as SHA-256 hashes and
//! compared in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A new secret `prefix` + 43 base62 characters (256 random bits).
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let mut n = bytes;
    let mut out = Vec::with_capacity(43);
    // Base62 of a 256-bit number, by repeated division.
    for _ in 0..43 {
        let mut rem = 0u32;
        for b in n.iter_mut() {
            let acc = (rem << 8) | u32::from(*b);
            *b = (acc / 62) as u8;
            rem = acc % 62;
        }
        out.push(ALPHABET[rem as usize]);
    }
    format!("{prefix}{}", String::from_utf8(out).unwrap_or_default())
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Does `secret` hash to `stored`? Constant time in the compared bytes.
pub fn verify(secret: &str, stored: &str) -> bool {
    hash(secret).as_bytes().ct_eq(stored.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_unique_and_verify_by_hash() {
        let a = generate("lia_");
        let b = generate("lia_");
        assert!(a.starts_with("lia_") && a.len() == 47);
        assert_ne!(a, b);
        assert!(verify(&a, &hash(&a)));
        assert!(!verify(&b, &hash(&a)));
    }
}
