//! PKCE (RFC 7636), S256 only, both halves: the challenge an authorization request
//! brings, and the verifier the token endpoint turns into the challenge it must match.
//! The match itself is part of the store's one conditional redemption (`store/`), so a
//! stolen code without its verifier is refused without being spent.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// An S256 challenge is base64url without padding of 32 bytes.
const S256_CHALLENGE_LEN: usize = 43;

/// The challenge of an authorization request, checked: `None` when the request brings
/// none (allowed only to a client that does not require PKCE); otherwise what to tell the
/// relying party.
pub(crate) fn challenge_of_request(
    method: Option<&str>,
    challenge: Option<&str>,
    required: bool,
) -> Result<Option<String>, &'static str> {
    match (method, challenge) {
        (Some("S256"), Some(_)) | (None, None) => {}
        (None | Some(_), Some(_)) => return Err("code_challenge_method must be S256"),
        (Some(_), None) => return Err("code_challenge_method without code_challenge"),
    }
    if challenge.is_some_and(|c| !is_pkce_value(c) || c.len() != S256_CHALLENGE_LEN) {
        return Err("code_challenge must be the 43-character base64url SHA-256 of the verifier");
    }
    if required && challenge.is_none() {
        return Err("this client must send a PKCE code_challenge (S256)");
    }
    Ok(challenge.map(str::to_owned))
}

/// `BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2), for a verifier of the
/// allowed form (43-128 unreserved characters).
pub fn s256_challenge(verifier: &str) -> Option<String> {
    is_pkce_value(verifier).then(|| URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
}

/// 43 to 128 characters of `[A-Za-z0-9-._~]`: the form of both verifiers and challenges.
pub fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").as_deref(),
            Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        );
        assert!(s256_challenge(&"a".repeat(42)).is_none());
        assert!(s256_challenge(&"a".repeat(43)).is_some());
        assert!(s256_challenge(&"a".repeat(128)).is_some());
        assert!(s256_challenge(&"a".repeat(129)).is_none());
        assert!(s256_challenge(&format!("{}+", "a".repeat(42))).is_none());
    }

    #[test]
    fn an_authorization_request_brings_an_s256_challenge_or_none() {
        let good = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(
            challenge_of_request(Some("S256"), Some(good), true),
            Ok(Some(good.to_owned()))
        );
        assert_eq!(challenge_of_request(None, None, false), Ok(None));
        for (method, challenge) in [
            (None, Some(good)),
            (Some("plain"), Some(good)),
            (Some("s256"), Some(good)),
            (Some("S256"), None),
            (Some("S256"), Some(&good[1..])),
            (Some("S256"), Some(&*format!("{good}a"))),
        ] {
            assert!(
                challenge_of_request(method, challenge, false).is_err(),
                "{method:?} {challenge:?}"
            );
        }
        assert!(challenge_of_request(None, None, true).is_err());
    }
}
