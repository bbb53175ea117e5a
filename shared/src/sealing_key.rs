//! The key that seals a callback's answer for a repeat of that callback (`SEALING_KEY`):
//! a secret of its own. Under HS256 `TOKEN_SIGNING_KEY` is held by every backend that
//! verifies result tokens, so a key derived from it would let any of them (with read
//! access to the table and the code) open stored answers; and rotating either key no
//! longer touches the other.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The shortest sealing key accepted: 256 bits, AES-256's own key size.
pub const MIN_SEALING_KEY_BYTES: usize = 32;

#[derive(Clone, PartialEq, Eq)]
pub struct SealingKey(Vec<u8>);

/// Why a text is not a sealing key. Never quotes the value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be at least {MIN_SEALING_KEY_BYTES} bytes (it has {0}; the value is not shown)")]
pub struct SealingKeyTooShort(pub usize);

impl SealingKey {
    /// The text's UTF-8 bytes are the key, as with `TOKEN_SIGNING_KEY`.
    pub fn new(text: &str) -> Result<Self, SealingKeyTooShort> {
        if text.len() < MIN_SEALING_KEY_BYTES {
            return Err(SealingKeyTooShort(text.len()));
        }
        Ok(Self(text.as_bytes().to_vec()))
    }

    /// A random key (32 bytes of entropy, written as 43 URL-safe characters): what a single
    /// process uses when none is configured, since only it can open what it sealed.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self(URL_SAFE_NO_PAD.encode(bytes).into_bytes())
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_at_least_32_bytes_and_never_printed() {
        assert_eq!(
            SealingKey::new(&"k".repeat(31)),
            Err(SealingKeyTooShort(31))
        );
        let key = SealingKey::new(&"k".repeat(32)).unwrap();
        assert_eq!(format!("{key:?}"), "SealingKey([redacted])");
        assert!(!SealingKeyTooShort(31).to_string().contains('k'));
        assert_ne!(SealingKey::generate(), SealingKey::generate());
        assert_eq!(SealingKey::generate().as_bytes().len(), 43);
    }
}
