//! The app token sealed at rest (AES-256-GCM), under a key derived from `SEALING_KEY` and
//! the AppID, with the item's key as associated data: the token is a bearer credential for
//! the app's whole server API, and whoever can read the table (a backup, an export, a role
//! with `GetItem`) should not hold it. Every process sharing the table must share
//! `SEALING_KEY`, as the callbacks already must.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::stored::app_token_key;
use crate::sealing_key::SealingKey;
use crate::secret::Secret;

pub fn seal(token: &Secret, key: &SealingKey, app_id: &str) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).expect("the operating system's random source failed");
    let mut data = token.expose().as_bytes().to_vec();
    aead_key(key, app_id)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(app_token_key(app_id).as_bytes()),
            &mut data,
        )
        .expect("AES-GCM sealing of a small buffer cannot fail");
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&data);
    sealed
}

/// The token, if it was sealed for this app under this key.
pub fn open(sealed: &[u8], key: &SealingKey, app_id: &str) -> Option<Secret> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, data) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    let plain = aead_key(key, app_id)
        .open_in_place(
            nonce,
            Aad::from(app_token_key(app_id).as_bytes()),
            &mut data,
        )
        .ok()?;
    String::from_utf8(plain.to_vec()).ok().map(Secret::new)
}

fn aead_key(key: &SealingKey, app_id: &str) -> LessSafeKey {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"wxauth app access token v1\0");
    mac.update(app_id.as_bytes());
    let derived = mac.finalize().into_bytes();
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &derived).expect("a 32-byte key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_key_and_app_open_the_token() {
        let key = SealingKey::new(&"k".repeat(32)).unwrap();
        let token = Secret::new("ACCESS_TOKEN_of_the_app_0123456789");
        let sealed = seal(&token, &key, "wxA");
        assert!(
            !sealed
                .windows(token.expose().len())
                .any(|w| w == token.expose().as_bytes())
        );
        assert_eq!(open(&sealed, &key, "wxA"), Some(token));
        assert_eq!(open(&sealed, &key, "wxB"), None);
        let other = SealingKey::new(&"o".repeat(32)).unwrap();
        assert_eq!(open(&sealed, &other, "wxA"), None);
        assert_eq!(open(&sealed[..NONCE_LEN], &key, "wxA"), None);
        assert_eq!(open(b"short", &key, "wxA"), None);
    }
}
