//! Compact JWS (RFC 7515) signed and checked with the provider's keys. Only RS256 and
//! ES256 exist here: a token naming `none`, `HS256` or a `kid` we do not hold is refused
//! before any signature is computed, so a public key can never be used as an HMAC secret.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::keys::SigningKey;
use super::public_keys::PublicKeys;

/// `typ` of ID tokens (plain JWT) and access tokens (RFC 9068), so that neither can stand
/// in for the other.
pub const ID_TOKEN_TYPE: &str = "JWT";
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwsError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("the header names an algorithm, key or type this provider does not use")]
    WrongHeader,
    #[error("the signature does not verify")]
    BadSignature,
}

pub fn sign(key: &SigningKey, typ: &str, claims: &impl Serialize) -> String {
    let header = json!({ "alg": key.alg().as_str(), "kid": key.kid(), "typ": typ });
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()));
    format!("{input}.{signature}")
}

/// The claims of a token one of `keys` signed with its own algorithm and of type `typ`.
/// Expiry and audience are the caller's to check.
pub fn verify<T: DeserializeOwned>(
    token: &str,
    keys: &PublicKeys,
    typ: &str,
) -> Result<T, JwsError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JwsError::Malformed)
    };
    let header: Value =
        serde_json::from_slice(&decode(header)?).map_err(|_| JwsError::Malformed)?;
    let key = header
        .get("kid")
        .and_then(Value::as_str)
        .and_then(|kid| keys.find(kid))
        .ok_or(JwsError::WrongHeader)?;
    let alg_fits = header.get("alg").and_then(Value::as_str) == Some(key.alg().as_str());
    let typ_fits = header.get("typ").and_then(Value::as_str) == Some(typ);
    // `crit` names extensions the verifier must understand; we understand none.
    if !alg_fits || !typ_fits || header.get("crit").is_some() {
        return Err(JwsError::WrongHeader);
    }
    let signed = &token[..token.len() - signature.len() - 1];
    if !key.verify(signed.as_bytes(), &decode(signature)?) {
        return Err(JwsError::BadSignature);
    }
    serde_json::from_slice(&decode(payload)?).map_err(|_| JwsError::Malformed)
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::oidc::keys::{Alg, SigningKeys};

    fn keys() -> &'static SigningKeys {
        static KEYS: OnceLock<SigningKeys> = OnceLock::new();
        KEYS.get_or_init(|| SigningKeys::from_pem(&SigningKeys::generate_pem()).unwrap())
    }

    /// What a verifying process holds: the public halves alone.
    fn public() -> &'static PublicKeys {
        static PUBLIC: OnceLock<PublicKeys> = OnceLock::new();
        PUBLIC.get_or_init(|| keys().public())
    }

    fn forge(header: Value, payload: Value, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    #[test]
    fn tokens_round_trip_with_either_algorithm() {
        for alg in [Alg::RS256, Alg::ES256] {
            let key = keys().signer(alg).unwrap();
            let token = sign(key, ID_TOKEN_TYPE, &json!({"sub": "o1"}));
            let claims: Value = verify(&token, public(), ID_TOKEN_TYPE).unwrap();
            assert_eq!(claims["sub"], "o1");
            assert_eq!(
                verify::<Value>(&token, public(), ACCESS_TOKEN_TYPE),
                Err(JwsError::WrongHeader)
            );
        }
    }

    #[test]
    fn none_hmac_and_foreign_keys_are_refused() {
        let rsa = keys().signer(Alg::RS256).unwrap();
        let kid = rsa.kid();
        let payload = json!({"sub": "victim"});
        // alg none with our kid.
        let none = forge(
            json!({"alg": "none", "kid": kid, "typ": "JWT"}),
            payload.clone(),
            b"",
        );
        assert_eq!(
            verify::<Value>(&none, public(), "JWT"),
            Err(JwsError::WrongHeader)
        );
        // HS256 "signed" with the public key's JSON as the secret: refused by the header.
        let hs = forge(
            json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
            payload.clone(),
            b"x",
        );
        assert_eq!(
            verify::<Value>(&hs, public(), "JWT"),
            Err(JwsError::WrongHeader)
        );
        // An ES256 header on the RSA key.
        let es = forge(
            json!({"alg": "ES256", "kid": kid, "typ": "JWT"}),
            payload.clone(),
            b"x",
        );
        assert_eq!(
            verify::<Value>(&es, public(), "JWT"),
            Err(JwsError::WrongHeader)
        );
        let unknown = forge(
            json!({"alg": "RS256", "kid": "other", "typ": "JWT"}),
            payload.clone(),
            b"x",
        );
        assert_eq!(
            verify::<Value>(&unknown, public(), "JWT"),
            Err(JwsError::WrongHeader)
        );
        let crit = forge(
            json!({"alg": "RS256", "kid": kid, "typ": "JWT", "crit": ["b64"]}),
            payload,
            b"x",
        );
        assert_eq!(
            verify::<Value>(&crit, public(), "JWT"),
            Err(JwsError::WrongHeader)
        );
    }

    #[test]
    fn a_changed_payload_or_signature_fails() {
        let key = keys().signer(Alg::ES256).unwrap();
        let token = sign(key, "JWT", &json!({"sub": "o1"}));
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let other = format!(
            "{head}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(r#"{"sub":"o2"}"#)
        );
        assert_eq!(
            verify::<Value>(&other, public(), "JWT"),
            Err(JwsError::BadSignature)
        );
        assert_eq!(
            verify::<Value>("a.b", public(), "JWT"),
            Err(JwsError::Malformed)
        );
        assert_eq!(
            verify::<Value>("a.b.c.d", public(), "JWT"),
            Err(JwsError::Malformed)
        );
        assert_eq!(
            verify::<Value>("!.b.c", public(), "JWT"),
            Err(JwsError::Malformed)
        );
    }
}

#[cfg(test)]
mod properties {
    use std::sync::OnceLock;

    use proptest::prelude::*;

    use super::*;
    use crate::oidc::keys::{Alg, SigningKeys};

    fn keys() -> &'static SigningKeys {
        static KEYS: OnceLock<SigningKeys> = OnceLock::new();
        KEYS.get_or_init(|| SigningKeys::from_pem(&SigningKeys::generate_pem()).unwrap())
    }

    /// What a verifying process holds: the public halves alone.
    fn public() -> &'static PublicKeys {
        static PUBLIC: OnceLock<PublicKeys> = OnceLock::new();
        PUBLIC.get_or_init(|| keys().public())
    }

    proptest! {
        /// Arbitrary text is never taken for a token.
        #[test]
        fn arbitrary_text_never_verifies(token in "[A-Za-z0-9_.-]{0,300}") {
            prop_assert!(verify::<Value>(&token, public(), ID_TOKEN_TYPE).is_err());
        }

        /// Changing any one character of a signed token breaks it.
        #[test]
        fn any_single_change_breaks_a_token(position in 0usize..1000, replacement in "[A-Za-z0-9_-]") {
            let key = keys().signer(Alg::ES256).unwrap();
            let token = sign(key, ID_TOKEN_TYPE, &json!({"sub": "o1", "n": 1}));
            let position = position % token.len();
            let mut bytes = token.clone().into_bytes();
            let replacement = replacement.as_bytes()[0];
            prop_assume!(bytes[position] != replacement && bytes[position] != b'.');
            bytes[position] = replacement;
            let changed = String::from_utf8(bytes).unwrap();
            // A base64url character's low bits may fall outside the decoded bytes: then the
            // change is invisible to every decoder, and the token is still the same token.
            let same_bytes = changed.split('.').zip(token.split('.')).all(|(a, b)| {
                URL_SAFE_NO_PAD.decode(a).ok() == URL_SAFE_NO_PAD.decode(b).ok()
            });
            prop_assume!(!same_bytes);
            prop_assert!(verify::<Value>(&changed, public(), ID_TOKEN_TYPE).is_err());
        }
    }
}
