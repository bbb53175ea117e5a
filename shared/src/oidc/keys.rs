//! The OpenID Provider's signing keys: PEM private keys (RSA of at least 2048 bits, or EC
//! P-256) read once at cold start. The first key of each algorithm signs; every key is
//! published in the JWKS, so a key being rotated out still verifies the tokens it signed.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rustls_pki_types::pem::{PemObject, SectionKind};
use serde_json::{Value, json};

use super::public_keys::{PublicKeys, VerifyingKey, published, thumbprint};

pub use super::alg::Alg;

/// Why a PEM text is not a set of signing keys. Never quotes key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "holds no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)"
    )]
    NoKey,
    #[error("is not valid PEM")]
    BadPem,
    #[error("key {0}: a {1} section is not a private key")]
    NotAPrivateKey(usize, String),
    #[error("key {0}: not an RSA key of 2048 to 8192 bits nor an EC P-256 key")]
    Unsupported(usize),
    #[error("key {0} is the same key as key {1}")]
    Duplicate(usize, usize),
}

/// One private key, with its public half as a JWK.
pub struct SigningKey {
    kid: String,
    alg: Alg,
    pair: Pair,
    jwk: Value,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl SigningKey {
    fn new(pair: Pair) -> Self {
        let (alg, public) = match &pair {
            Pair::Rsa(rsa) => {
                let public = rsa.public_key();
                (
                    Alg::RS256,
                    json!({
                        "e": b64(public.exponent().big_endian_without_leading_zero()),
                        "kty": "RSA",
                        "n": b64(public.modulus().big_endian_without_leading_zero()),
                    }),
                )
            }
            Pair::Ec(ec) => {
                // The uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
                let point = ec.public_key().as_ref();
                (
                    Alg::ES256,
                    json!({
                        "crv": "P-256",
                        "kty": "EC",
                        "x": b64(&point[1..33]),
                        "y": b64(&point[33..65]),
                    }),
                )
            }
        };
        let kid = thumbprint(&public);
        let jwk = published(public, &kid, alg);
        Self {
            kid,
            alg,
            pair,
            jwk,
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The public key as published in the JWKS.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// The JWS signature over `message` (for ES256 the 64-byte `r || s` form JWS uses).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Rsa(rsa) => {
                let mut signature = vec![0; rsa.public_modulus_len()];
                rsa.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .expect("RSA signing with a valid key");
                signature
            }
            Pair::Ec(ec) => ec
                .sign(&rng, message)
                .expect("ECDSA signing with a valid key")
                .as_ref()
                .to_vec(),
        }
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.pair {
            Pair::Rsa(rsa) => {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, rsa.public_key().as_ref())
                    .verify(message, signature)
                    .is_ok()
            }
            Pair::Ec(ec) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, ec.public_key())
                .verify(message, signature)
                .is_ok(),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey({} {}, [private part redacted])",
            self.alg.as_str(),
            self.kid
        )
    }
}

/// Every configured key, in the configured order.
#[derive(Clone, Debug)]
pub struct SigningKeys {
    keys: Vec<Arc<SigningKey>>,
}

impl SigningKeys {
    /// One or more PEM private keys, one after another: PKCS#8 (`PRIVATE KEY`), PKCS#1
    /// (`RSA PRIVATE KEY`) or SEC 1 (`EC PRIVATE KEY`).
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let mut keys: Vec<Arc<SigningKey>> = Vec::new();
        for (index, section) in
            <(SectionKind, Vec<u8>)>::pem_slice_iter(text.as_bytes()).enumerate()
        {
            let number = index + 1;
            let (kind, der) = section.map_err(|_| KeyError::BadPem)?;
            let pair = match kind {
                SectionKind::PrivateKey => RsaKeyPair::from_pkcs8(&der)
                    .map(Pair::Rsa)
                    .or_else(|_| {
                        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                            .map(Pair::Ec)
                    })
                    .map_err(|_| KeyError::Unsupported(number))?,
                SectionKind::RsaPrivateKey => RsaKeyPair::from_der(&der)
                    .map(Pair::Rsa)
                    .map_err(|_| KeyError::Unsupported(number))?,
                SectionKind::EcPrivateKey => {
                    EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                        .map(Pair::Ec)
                        .map_err(|_| KeyError::Unsupported(number))?
                }
                other => return Err(KeyError::NotAPrivateKey(number, format!("{other:?}"))),
            };
            if let Pair::Rsa(rsa) = &pair
                && rsa.public_modulus_len() < 256
            {
                return Err(KeyError::Unsupported(number));
            }
            let key = SigningKey::new(pair);
            if let Some(earlier) = keys.iter().position(|k| k.kid == key.kid) {
                return Err(KeyError::Duplicate(number, earlier + 1));
            }
            keys.push(Arc::new(key));
        }
        if keys.is_empty() {
            return Err(KeyError::NoKey);
        }
        Ok(Self { keys })
    }

    /// Fresh keys for the demo and tests: an RSA 2048 key, then an EC P-256 key, as PEM
    /// text that [`SigningKeys::from_pem`] reads back.
    pub fn generate_pem() -> String {
        let rsa = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let rsa: Pkcs8V1Der<'_> = rsa.as_der().expect("RSA key encodes");
        let ec =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .expect("EC key generation");
        format!("{}{}", pem(rsa.as_ref()), pem(ec.as_ref()))
    }

    /// The key that signs ID and access tokens: the first configured one.
    pub fn first(&self) -> &SigningKey {
        &self.keys[0]
    }

    /// The key that signs with `alg`: the first configured one of its kind.
    pub fn signer(&self, alg: Alg) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.alg == alg).map(Arc::as_ref)
    }

    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid).map(Arc::as_ref)
    }

    /// The algorithms these keys sign with, RS256 first.
    pub fn algs(&self) -> Vec<Alg> {
        [Alg::RS256, Alg::ES256]
            .into_iter()
            .filter(|alg| self.signer(*alg).is_some())
            .collect()
    }

    /// The JWK Set document (RFC 7517 §5).
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
    }

    /// The public halves alone, as a process that only verifies holds them.
    pub fn public(&self) -> PublicKeys {
        PublicKeys::from_keys(
            self.keys
                .iter()
                .enumerate()
                .map(|(index, key)| {
                    VerifyingKey::from_jwk(&key.jwk, index + 1)
                        .expect("a signing key's own JWK is a valid public key")
                })
                .collect(),
        )
    }

    pub fn iter(&self) -> impl Iterator<Item = &SigningKey> {
        self.keys.iter().map(Arc::as_ref)
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use sha2::{Digest, Sha256};

    fn generated() -> &'static str {
        static PEM: OnceLock<String> = OnceLock::new();
        PEM.get_or_init(SigningKeys::generate_pem)
    }

    #[test]
    fn generated_keys_read_back_rsa_first() {
        let keys = SigningKeys::from_pem(generated()).unwrap();
        assert_eq!(keys.algs(), [Alg::RS256, Alg::ES256]);
        let rsa = keys.signer(Alg::RS256).unwrap();
        let ec = keys.signer(Alg::ES256).unwrap();
        assert_eq!(rsa.public_jwk()["kty"], "RSA");
        assert_eq!(rsa.public_jwk()["e"], "AQAB");
        assert_eq!(ec.public_jwk()["crv"], "P-256");
        assert_eq!(keys.jwks()["keys"].as_array().unwrap().len(), 2);
        assert!(!format!("{keys:?}").contains("PRIVATE"));
    }

    #[test]
    fn signatures_verify_only_with_their_own_key_and_message() {
        let keys = SigningKeys::from_pem(generated()).unwrap();
        for key in keys.iter() {
            let sig = key.sign(b"header.payload");
            assert!(key.verify(b"header.payload", &sig));
            assert!(!key.verify(b"header.payloaD", &sig));
            let other = keys.iter().find(|k| k.kid() != key.kid()).unwrap();
            assert!(!other.verify(b"header.payload", &sig));
        }
        let ec = keys.signer(Alg::ES256).unwrap();
        assert_eq!(ec.sign(b"x").len(), 64, "JWS wants r || s, not DER");
    }

    #[test]
    fn kid_is_the_rfc_7638_thumbprint() {
        // RFC 7638 §3.1's example key and thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let public = json!({"e": "AQAB", "kty": "RSA", "n": n});
        assert_eq!(
            b64(&Sha256::digest(public.to_string().as_bytes())),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn bad_pem_is_refused_without_echoing_it() {
        assert_eq!(SigningKeys::from_pem("").unwrap_err(), KeyError::NoKey);
        assert_eq!(
            SigningKeys::from_pem("not a key").unwrap_err(),
            KeyError::NoKey
        );
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            SigningKeys::from_pem(garbage).unwrap_err(),
            KeyError::Unsupported(1)
        );
        let twice = format!("{0}{0}", generated());
        assert_eq!(
            SigningKeys::from_pem(&twice).unwrap_err(),
            KeyError::Duplicate(3, 1)
        );
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            SigningKeys::from_pem(cert).unwrap_err(),
            KeyError::NotAPrivateKey(1, _)
        ));
    }
}
