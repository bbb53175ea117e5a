//! The result token: a JWT (HS256) that lets the front end's backend trust the openid it
//! received through the browser. Its header's `typ` is `wxauth-result+jwt`, never `JWT`, so
//! it cannot pass for an ID token, and each carries a random `jti` a backend can remember
//! until `exp` to refuse it a second time.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long a result token is valid: long enough for the front end to hand it to its
/// backend, short enough that a leaked URL is soon worthless.
pub const TOKEN_LIFETIME_SECONDS: i64 = 300;

/// The result token's `typ` header (RFC 8725 §3.11: explicit typing).
pub const RESULT_TOKEN_TYPE: &str = "wxauth-result+jwt";

/// A fresh `jti`: 128 random bits, base64url.
pub fn new_token_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The shortest key HS256 should get (RFC 7518 §3.2: at least the hash size).
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    pub fn new(key: impl Into<Vec<u8>>) -> Result<Self, TokenError> {
        let key = key.into();
        if key.len() < MIN_KEY_BYTES {
            return Err(TokenError::KeyTooShort);
        }
        Ok(Self(key))
    }

    /// A random key, written as 43 URL-safe characters (32 bytes of entropy); the text
    /// itself is the key, so it can be pasted into TOKEN_SIGNING_KEY as printed.
    pub fn generate() -> (Self, String) {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        let text = URL_SAFE_NO_PAD.encode(bytes);
        (Self(text.clone().into_bytes()), text)
    }

    /// The raw key, for deriving other keys from it.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

/// The token's claims. Optional ones are left out when WeChat did not provide them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultClaims {
    /// The gateway's base URL.
    pub iss: String,
    /// The return URL's origin: the only site the token is meant for.
    pub aud: String,
    /// The openid.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// Random and unique to this token ([`new_token_id`]).
    #[serde(default)]
    pub jti: String,
    pub scope: String,
    /// The AppID of the WeChat app the user logged in with: an openid means something only
    /// together with it (each app gives the same person another openid).
    #[serde(default)]
    pub appid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headimgurl: Option<String>,
    /// `1` for a snapshot-page virtual visitor, else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_snapshotuser: Option<u8>,
    /// The `nonce` the front end passed to `/auth`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// A Mini Program user's phone number as WeChat verified it, E.164 (`+8613800138000`):
    /// only after a `POST /login/code` with a `phone_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// `true` with `phone_number` (OpenID Connect's claim name), else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the signing key must be at least {MIN_KEY_BYTES} bytes")]
    KeyTooShort,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is not signed with HS256")]
    WrongAlgorithm,
    #[error("the token's typ is not wxauth-result+jwt")]
    WrongType,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued for another audience")]
    WrongAudience,
}

const HEADER: &str = r#"{"alg":"HS256","typ":"wxauth-result+jwt"}"#;

pub fn sign(claims: &ResultClaims, key: &SigningKey) -> String {
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut mac = key.mac();
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Checks signature, algorithm, expiry and (when given) audience, as a front end's backend
/// must. Used by the demo page; backends use any JWT library (see README).
pub fn verify(
    token: &str,
    key: &SigningKey,
    expected_audience: Option<&str>,
    now: i64,
) -> Result<ResultClaims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed)
    };
    let header: serde_json::Value =
        serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Malformed)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(TokenError::WrongAlgorithm);
    }
    if header.get("typ").and_then(|t| t.as_str()) != Some(RESULT_TOKEN_TYPE) {
        return Err(TokenError::WrongType);
    }
    let mut mac = key.mac();
    mac.update(&token.as_bytes()[..token.len() - signature.len() - 1]);
    mac.verify_slice(&decode(signature)?)
        .map_err(|_| TokenError::BadSignature)?;
    let claims: ResultClaims =
        serde_json::from_slice(&decode(payload)?).map_err(|_| TokenError::Malformed)?;
    if now >= claims.exp {
        return Err(TokenError::Expired);
    }
    if expected_audience.is_some_and(|aud| aud != claims.aud) {
        return Err(TokenError::WrongAudience);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::new("k".repeat(32)).unwrap()
    }

    fn claims() -> ResultClaims {
        ResultClaims {
            iss: "https://gw.example.com/prod".into(),
            aud: "https://app.example.com".into(),
            sub: "oOPENID".into(),
            iat: 1_700_000_000,
            exp: 1_700_000_000 + TOKEN_LIFETIME_SECONDS,
            jti: new_token_id(),
            scope: "snsapi_base".into(),
            appid: "wx0123456789abcdef".into(),
            unionid: None,
            nickname: Some("小明".into()),
            headimgurl: None,
            is_snapshotuser: None,
            nonce: None,
            phone_number: None,
            phone_number_verified: None,
        }
    }

    #[test]
    fn signed_tokens_verify_and_carry_only_present_claims() {
        let claims = claims();
        let token = sign(&claims, &key());
        let payload = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(json["sub"], "oOPENID");
        let header = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
        assert_eq!(header["typ"], RESULT_TOKEN_TYPE);
        assert_eq!(json["jti"].as_str().map(str::len), Some(22));
        assert_eq!(json["nickname"], "小明");
        assert!(json.get("unionid").is_none());
        assert!(json.get("headimgurl").is_none());
        assert!(json.get("phone_number").is_none());
        assert!(json.get("phone_number_verified").is_none());
        let verified = verify(
            &token,
            &key(),
            Some("https://app.example.com"),
            1_700_000_001,
        );
        assert_eq!(verified, Ok(claims));
    }

    #[test]
    fn verification_rejects_what_it_must() {
        let token = sign(&claims(), &key());
        let other = SigningKey::new("x".repeat(32)).unwrap();
        assert_eq!(
            verify(&token, &other, None, 0),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(&token, &key(), None, 1_700_000_000 + TOKEN_LIFETIME_SECONDS),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(&token, &key(), Some("https://evil.com"), 0),
            Err(TokenError::WrongAudience)
        );
        let mut tampered = claims();
        tampered.sub = "oVICTIM".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered).unwrap());
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(
            verify(&forged, &key(), None, 0),
            Err(TokenError::BadSignature)
        );
        // The same claims under an ID token's `typ`, signed with the right key: refused.
        let as_id_token = {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
                parts[1]
            );
            let mut mac = key().mac();
            mac.update(input.as_bytes());
            format!(
                "{input}.{}",
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            )
        };
        assert_eq!(
            verify(&as_id_token, &key(), None, 0),
            Err(TokenError::WrongType)
        );
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            parts[1]
        );
        assert_eq!(
            verify(&none_alg, &key(), None, 0),
            Err(TokenError::WrongAlgorithm)
        );
        for junk in ["", "a.b", "a.b.c.d", "!!.??.##"] {
            assert_eq!(
                verify(junk, &key(), None, 0),
                Err(TokenError::Malformed),
                "{junk}"
            );
        }
    }

    #[test]
    fn keys_are_long_enough_and_redacted() {
        assert_eq!(SigningKey::new("short"), Err(TokenError::KeyTooShort));
        let (key, text) = SigningKey::generate();
        assert_eq!(text.len(), 43);
        assert_eq!(SigningKey::new(text.clone()).unwrap(), key);
        assert!(!format!("{key:?}").contains(&text));
    }
}
