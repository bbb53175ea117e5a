//! Sealed answers to repeated callbacks: the result of a callback, kept for a repeat of the
//! same callback (WeChat's in-app browser sometimes loads the callback twice; the code is
//! spent after the first).
//!
//! It holds the openid, profile and token, and DynamoDB's TTL deletes items hours late, so
//! it is stored sealed (AES-256-GCM) under a key derived from `SEALING_KEY` (a secret of
//! its own, never the token's signing key), the state and the authorization code. Only a request that presents the same code can open it, and
//! once the code is forgotten the stored bytes are useless.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::login::outcome::ResultFields;
use crate::login_state::StateId;
use crate::sealing_key::SealingKey;

/// How long a repeat of the same callback gets the same answer.
pub const REPLAY_WINDOW_SECONDS: i64 = 60;

pub fn seal(fields: &ResultFields, key: &SealingKey, state: &StateId, code: &str) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).expect("the operating system's random source failed");
    let mut data = serde_json::to_vec(fields).expect("fields serialize");
    aead_key(key, state, code)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(state.as_str().as_bytes()),
            &mut data,
        )
        .expect("AES-GCM sealing of a small buffer cannot fail");
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&data);
    sealed
}

/// The fields, if `code` is the one the outcome was sealed with.
pub fn open(sealed: &[u8], key: &SealingKey, state: &StateId, code: &str) -> Option<ResultFields> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, data) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    let plain = aead_key(key, state, code)
        .open_in_place(nonce, Aad::from(state.as_str().as_bytes()), &mut data)
        .ok()?;
    serde_json::from_slice(plain).ok()
}

fn aead_key(key: &SealingKey, state: &StateId, code: &str) -> LessSafeKey {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"wxauth duplicate-callback outcome v1\0");
    mac.update(state.as_str().as_bytes());
    mac.update(b"\0");
    mac.update(code.as_bytes());
    let derived = mac.finalize().into_bytes();
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &derived).expect("a 32-byte key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_code_opens_the_outcome() {
        let key = SealingKey::new(&"k".repeat(32)).unwrap();
        let state = StateId::generate();
        // An openid of WeChat's length: a two-byte one would turn up by chance in random
        // ciphertext (about once in a thousand runs) and fail the check below.
        let openid = "oQ3vX5xZ1kPwRtY7uIm9nB2cD4eF";
        let fields = vec![
            ("openid".to_owned(), openid.to_owned()),
            ("token".into(), "t".into()),
        ];
        let sealed = seal(&fields, &key, &state, "CODE1");
        assert_eq!(open(&sealed, &key, &state, "CODE1"), Some(fields.clone()));
        assert_eq!(open(&sealed, &key, &state, "CODE2"), None);
        assert_eq!(open(&sealed, &key, &StateId::generate(), "CODE1"), None);
        let other_key = SealingKey::new(&"x".repeat(32)).unwrap();
        assert_eq!(open(&sealed, &other_key, &state, "CODE1"), None);
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(open(&tampered, &key, &state, "CODE1"), None);
        assert_eq!(open(&sealed[..5], &key, &state, "CODE1"), None);
        assert!(
            !sealed.windows(openid.len()).any(|w| w == openid.as_bytes()),
            "the openid is not readable at rest"
        );
    }
}
