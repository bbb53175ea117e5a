//! Identifier minting: random secrets (codes, tokens, request ids) and the
//! deterministic openid/unionid derivation.

use sha2::{Digest, Sha256};

const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_bytes(buf: &mut [u8]) {
    // A test double without OS randomness cannot hand out unguessable codes;
    // failing loudly beats silently predictable secrets.
    getrandom::fill(buf).expect("OS random number generator unavailable");
}

/// Unpadded url-safe base64 (the alphabet real openids are drawn from).
pub(crate) fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let emit = chunk.len() + 1;
        for i in 0..emit {
            out.push(URL_SAFE[((n >> (18 - 6 * i)) & 0x3f) as usize] as char);
        }
    }
    out
}

/// Random alphanumeric string, like WeChat's 32-character codes.
pub(crate) fn random_alnum(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        random_bytes(&mut buf);
        // Rejection sampling keeps every character equally likely.
        for &b in buf.iter().filter(|&&b| b < 248) {
            if out.len() == len {
                break;
            }
            out.push(ALNUM[usize::from(b % 62)] as char);
        }
    }
    out
}

/// Random url-safe token of `bytes` bytes of entropy.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    random_bytes(&mut buf);
    base64url(&buf)
}

/// A `session_key`: 16 random bytes in standard (padded) base64, 24 characters, as WeChat's.
pub(crate) fn session_key() -> String {
    const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut buf = [0u8; 16];
    random_bytes(&mut buf);
    let url_safe = base64url(&buf);
    let mut key: String = url_safe
        .bytes()
        .map(|b| {
            let index = URL_SAFE.iter().position(|c| *c == b).unwrap_or(0);
            STANDARD[index] as char
        })
        .collect();
    key.push_str("==");
    key
}

/// WeChat appends `rid: …` to every errmsg so support can trace the request.
pub(crate) fn request_id() -> String {
    let mut buf = [0u8; 12];
    random_bytes(&mut buf);
    let hex: String = buf.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}", &hex[0..8], &hex[8..16], &hex[16..24])
}

/// A user's mainland mobile number (national part, 11 digits starting with 1), the same
/// for every app: WeChat's verified number belongs to the person.
pub(crate) fn phone_number(user_name: &str) -> String {
    let digest = Sha256::digest(format!("phone:{user_name}").as_bytes());
    let tail: String = digest[..8]
        .iter()
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    format!("138{tail}")
}

fn derive(prefix: char, material: &str) -> String {
    let digest = Sha256::digest(material.as_bytes());
    let mut id = String::with_capacity(28);
    id.push(prefix);
    id.extend(base64url(&digest).chars().take(27));
    id
}

/// openids are per (app, user): the same person has a different openid in every app.
pub(crate) fn openid(app_id: &str, user_name: &str) -> String {
    derive('o', &format!("{app_id}:{user_name}"))
}

/// unionids are per user across all apps of one Open Platform account.
pub(crate) fn unionid(user_name: &str) -> String {
    derive('u', &format!("unionid:{user_name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_known_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn openid_is_28_chars_per_app_and_stable() {
        let a = openid("wx1", "alice");
        assert_eq!(a.len(), 28);
        assert!(a.starts_with('o'));
        assert_eq!(a, openid("wx1", "alice"));
        assert_ne!(a, openid("wx2", "alice"));
        assert_ne!(a, openid("wx1", "bob"));
        let u = unionid("alice");
        assert_eq!(u.len(), 28);
        assert!(u.starts_with('u'));
    }

    #[test]
    fn random_values_have_the_requested_shape() {
        let code = random_alnum(32);
        assert_eq!(code.len(), 32);
        assert!(code.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(code, random_alnum(32));
        assert_eq!(random_token(66).len(), 88);
        let key = session_key();
        assert_eq!(key.len(), 24);
        assert!(key.ends_with("=="));
        assert_ne!(key, session_key());
        let rid = request_id();
        assert_eq!(rid.len(), 26);
        assert!(rid.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
    }
}
