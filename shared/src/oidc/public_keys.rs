//! Public keys alone: what checks a signature and what a JWKS publishes, without the
//! private half. The function that serves userinfo, discovery and the JWKS reads them as a
//! JWK Set (`OIDC_JWKS`, `RESULT_JWKS`: the very documents the provider publishes), so a
//! process that only verifies never holds a key that signs. Elsewhere they are derived
//! from the private keys ([`SigningKeys::public`](super::keys::SigningKeys::public)).

use std::sync::Arc;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::alg::Alg;

/// The most keys one set holds: a signing key, one being rotated in and one out, per
/// algorithm, with room to spare.
pub const MAX_PUBLIC_KEYS: usize = 16;

/// A JWK's members that belong to a private or symmetric key: a set that carries one is
/// refused, since a public variable is no place for them.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a text is not a JWK Set of public signing keys. Never quotes key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PublicKeyError {
    #[error("is not a JWK Set: a JSON object with a \"keys\" array")]
    NotAJwks,
    #[error("holds no key")]
    NoKey,
    #[error("holds more than {MAX_PUBLIC_KEYS} keys")]
    TooMany,
    #[error("key {0} holds a private member: publish only the public half")]
    PrivateMember(usize),
    #[error("key {0}: not an RSA key of 2048 to 8192 bits nor an EC P-256 key")]
    Unsupported(usize),
    #[error("key {0}: its kid is not its RFC 7638 thumbprint, the kid the provider signs with")]
    KidMismatch(usize),
    #[error("key {0}: its alg or use is not the one this provider signs with")]
    WrongUse(usize),
    #[error("key {0} is the same key as key {1}")]
    Duplicate(usize, usize),
}

/// One public key, as published and as it verifies.
pub struct VerifyingKey {
    kid: String,
    alg: Alg,
    jwk: Value,
    key: ParsedPublicKey,
}

impl VerifyingKey {
    /// A public JWK (number: its place in the set, for messages): RSA `n`/`e` or EC P-256
    /// `x`/`y`, `kid` (if given) its thumbprint, `alg` and `use` (if given) fitting.
    pub(crate) fn from_jwk(jwk: &Value, number: usize) -> Result<Self, PublicKeyError> {
        let member = |name: &str| jwk.get(name).and_then(Value::as_str);
        let bytes = |name: &str| {
            member(name)
                .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
                .ok_or(PublicKeyError::Unsupported(number))
        };
        let Some(object) = jwk.as_object() else {
            return Err(PublicKeyError::Unsupported(number));
        };
        if PRIVATE_MEMBERS.iter().any(|m| object.contains_key(*m)) {
            return Err(PublicKeyError::PrivateMember(number));
        }
        let unsupported = |_| PublicKeyError::Unsupported(number);
        let (alg, public, key) = match member("kty") {
            Some("RSA") => {
                let (n, e) = (bytes("n")?, bytes("e")?);
                // 2048 to 8192 bits, in the minimal big-endian form JWA §6.3.1 requires.
                if !(256..=1024).contains(&n.len()) || n[0] == 0 || e.is_empty() || e[0] == 0 {
                    return Err(PublicKeyError::Unsupported(number));
                }
                let key = RsaPublicKeyComponents { n: &n, e: &e }
                    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                    .map_err(unsupported)?;
                let public = json!({ "e": b64(&e), "kty": "RSA", "n": b64(&n) });
                (Alg::RS256, public, key)
            }
            Some("EC") if member("crv") == Some("P-256") => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(PublicKeyError::Unsupported(number));
                }
                let point = [&[4u8][..], &x, &y].concat();
                // Refuses a point that is not on the curve.
                let key =
                    ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).map_err(unsupported)?;
                let public = json!({ "crv": "P-256", "kty": "EC", "x": b64(&x), "y": b64(&y) });
                (Alg::ES256, public, key)
            }
            _ => return Err(PublicKeyError::Unsupported(number)),
        };
        let kid = thumbprint(&public);
        if member("kid").is_some_and(|given| given != kid)
            || jwk.get("kid").is_some_and(|k| !k.is_string())
        {
            return Err(PublicKeyError::KidMismatch(number));
        }
        let fits = |name: &str, expected: &str| jwk.get(name).is_none_or(|v| v == expected);
        if !fits("alg", alg.as_str()) || !fits("use", "sig") {
            return Err(PublicKeyError::WrongUse(number));
        }
        Ok(Self {
            jwk: published(public, &kid, alg),
            kid,
            alg,
            key,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// Whether `signature` is this key's JWS signature over `message` (for ES256 the
    /// 64-byte `r || s` form).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

/// A set of public keys, in the configured order.
#[derive(Clone)]
pub struct PublicKeys {
    keys: Vec<Arc<VerifyingKey>>,
}

impl std::fmt::Debug for PublicKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("PublicKeys").field("kids", &kids).finish()
    }
}

impl PublicKeys {
    /// A JWK Set document (RFC 7517 §5), as `/.well-known/jwks.json` serves it.
    pub fn from_jwks(text: &str) -> Result<Self, PublicKeyError> {
        let document: Value = serde_json::from_str(text).map_err(|_| PublicKeyError::NotAJwks)?;
        let listed = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(PublicKeyError::NotAJwks)?;
        if listed.len() > MAX_PUBLIC_KEYS {
            return Err(PublicKeyError::TooMany);
        }
        let mut keys: Vec<Arc<VerifyingKey>> = Vec::new();
        for (index, jwk) in listed.iter().enumerate() {
            let key = VerifyingKey::from_jwk(jwk, index + 1)?;
            if let Some(earlier) = keys.iter().position(|k| k.kid == key.kid) {
                return Err(PublicKeyError::Duplicate(index + 1, earlier + 1));
            }
            keys.push(Arc::new(key));
        }
        if keys.is_empty() {
            return Err(PublicKeyError::NoKey);
        }
        Ok(Self { keys })
    }

    pub(crate) fn from_keys(keys: Vec<VerifyingKey>) -> Self {
        Self {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }

    pub fn find(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|k| k.kid == kid).map(Arc::as_ref)
    }

    /// The algorithms of these keys, RS256 first.
    pub fn algs(&self) -> Vec<Alg> {
        [Alg::RS256, Alg::ES256]
            .into_iter()
            .filter(|alg| self.keys.iter().any(|k| k.alg == *alg))
            .collect()
    }

    /// Whether one key is in both sets (the result tokens' keys must be their own).
    pub fn shares_a_key_with(&self, other: &PublicKeys) -> bool {
        self.keys.iter().any(|k| other.find(&k.kid).is_some())
    }

    /// The JWK Set document (RFC 7517 §5).
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
    }
}

/// RFC 7638: SHA-256 over the required members in lexicographic order without white space
/// (serde_json's map keeps keys sorted, and `public` holds exactly the required ones).
pub(crate) fn thumbprint(public: &Value) -> String {
    b64(&Sha256::digest(public.to_string().as_bytes()))
}

/// The JWK as published: the required members, `kid`, `alg` and `use`.
pub(crate) fn published(public: Value, kid: &str, alg: Alg) -> Value {
    let mut jwk: Map<String, Value> = match public {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    jwk.insert("kid".into(), json!(kid));
    jwk.insert("alg".into(), json!(alg.as_str()));
    jwk.insert("use".into(), json!("sig"));
    Value::Object(jwk)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests;
