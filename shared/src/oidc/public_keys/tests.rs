//! Reading a JWK Set of public keys: what the provider publishes reads back and verifies
//! its signatures; everything else is refused, at each limit and one past it.

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

use super::*;
use crate::oidc::keys::SigningKeys;

fn keys() -> &'static SigningKeys {
    static KEYS: OnceLock<SigningKeys> = OnceLock::new();
    KEYS.get_or_init(|| SigningKeys::from_pem(&SigningKeys::generate_pem()).unwrap())
}

/// The published JWKS, the RSA key first.
fn published_jwks() -> Value {
    keys().jwks()
}

/// A fresh EC P-256 public key as a bare JWK (no kid, alg or use).
fn ec_jwk() -> Value {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])})
}

fn set(keys: Vec<Value>) -> String {
    json!({ "keys": keys }).to_string()
}

fn rsa_member(name: &str) -> Vec<u8> {
    let text = published_jwks()["keys"][0][name]
        .as_str()
        .unwrap()
        .to_owned();
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

#[test]
fn the_published_set_reads_back_and_verifies_what_its_private_keys_sign() {
    let text = published_jwks().to_string();
    let public = PublicKeys::from_jwks(&text).unwrap();
    assert_eq!(public.jwks(), published_jwks());
    assert_eq!(public.algs(), [Alg::RS256, Alg::ES256]);
    for key in keys().iter() {
        let verifying = public.find(key.kid()).unwrap();
        assert_eq!(verifying.alg(), key.alg());
        let signature = key.sign(b"message");
        assert!(verifying.verify(b"message", &signature));
        assert!(!verifying.verify(b"massage", &signature));
    }
    // Derived from the private keys, the same set.
    assert_eq!(keys().public().jwks(), published_jwks());
    // Without kid, alg and use, the same keys (kid computed).
    let bare: Vec<Value> = published_jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let mut k = k.clone();
            for member in ["kid", "alg", "use"] {
                k.as_object_mut().unwrap().remove(member);
            }
            k
        })
        .collect();
    assert_eq!(
        PublicKeys::from_jwks(&set(bare)).unwrap().jwks(),
        published_jwks()
    );
}

#[test]
fn a_set_holds_one_to_sixteen_keys() {
    assert_eq!(
        PublicKeys::from_jwks(&set(vec![])).unwrap_err(),
        PublicKeyError::NoKey
    );
    let sixteen: Vec<Value> = (0..MAX_PUBLIC_KEYS).map(|_| ec_jwk()).collect();
    assert_eq!(
        PublicKeys::from_jwks(&set(sixteen.clone())).unwrap().algs(),
        [Alg::ES256]
    );
    let mut seventeen = sixteen;
    seventeen.push(ec_jwk());
    assert_eq!(
        PublicKeys::from_jwks(&set(seventeen)).unwrap_err(),
        PublicKeyError::TooMany
    );
    for not_a_set in [
        "",
        "[]",
        "{}",
        r#"{"keys":{}}"#,
        "not json",
        r#"{"keys":"x"}"#,
    ] {
        assert_eq!(
            PublicKeys::from_jwks(not_a_set).unwrap_err(),
            PublicKeyError::NotAJwks,
            "{not_a_set}"
        );
    }
}

#[test]
fn private_members_foreign_kids_and_other_uses_are_refused() {
    let refused = |jwk: Value| PublicKeys::from_jwks(&set(vec![ec_jwk(), jwk])).unwrap_err();
    for member in PRIVATE_MEMBERS {
        let mut jwk = ec_jwk();
        jwk[member] = json!("AAAA");
        assert_eq!(refused(jwk), PublicKeyError::PrivateMember(2), "{member}");
    }
    let mut jwk = ec_jwk();
    jwk["kid"] = json!("my-key-1");
    assert_eq!(refused(jwk), PublicKeyError::KidMismatch(2));
    let mut jwk = ec_jwk();
    jwk["kid"] = json!(7);
    assert_eq!(refused(jwk), PublicKeyError::KidMismatch(2));
    let mut jwk = ec_jwk();
    jwk["alg"] = json!("RS256");
    assert_eq!(refused(jwk), PublicKeyError::WrongUse(2));
    let mut jwk = ec_jwk();
    jwk["use"] = json!("enc");
    assert_eq!(refused(jwk), PublicKeyError::WrongUse(2));
    let twice = ec_jwk();
    assert_eq!(
        PublicKeys::from_jwks(&set(vec![twice.clone(), twice])).unwrap_err(),
        PublicKeyError::Duplicate(2, 1)
    );
    for kty in [
        json!({"kty": "oct"}),
        json!({"kty": "OKP", "crv": "Ed25519", "x": "AA"}),
        json!("RSA"),
    ] {
        assert_eq!(refused(kty), PublicKeyError::Unsupported(2));
    }
}

#[test]
fn rsa_moduli_of_2048_bits_and_more_only_in_minimal_form() {
    let (n, e) = (rsa_member("n"), rsa_member("e"));
    assert_eq!(n.len(), 256, "the generated key is RSA 2048");
    let rsa = |n: &[u8], e: &[u8]| {
        PublicKeys::from_jwks(&set(vec![json!({"kty": "RSA", "n": b64(n), "e": b64(e)})]))
    };
    assert!(rsa(&n, &e).is_ok());
    // 2040 bits: one byte short.
    assert_eq!(
        rsa(&n[1..], &e).unwrap_err(),
        PublicKeyError::Unsupported(1)
    );
    // A leading zero byte is not the minimal form (JWA §6.3.1.1).
    let padded = [&[0u8][..], &n].concat();
    assert_eq!(
        rsa(&padded, &e).unwrap_err(),
        PublicKeyError::Unsupported(1)
    );
    assert_eq!(rsa(&n, &[]).unwrap_err(), PublicKeyError::Unsupported(1));
    // Not base64url.
    let bad = PublicKeys::from_jwks(&set(vec![json!({"kty": "RSA", "n": "a+b/", "e": "AQAB"})]));
    assert_eq!(bad.unwrap_err(), PublicKeyError::Unsupported(1));
}

#[test]
fn an_ec_point_off_the_curve_or_of_the_wrong_size_is_refused() {
    let mut off = ec_jwk();
    let mut y = URL_SAFE_NO_PAD.decode(off["y"].as_str().unwrap()).unwrap();
    y[31] ^= 1;
    off["y"] = json!(b64(&y));
    assert_eq!(
        PublicKeys::from_jwks(&set(vec![off])).unwrap_err(),
        PublicKeyError::Unsupported(1)
    );
    let mut short = ec_jwk();
    short["x"] = json!(b64(&[1u8; 31]));
    assert_eq!(
        PublicKeys::from_jwks(&set(vec![short])).unwrap_err(),
        PublicKeyError::Unsupported(1)
    );
    let mut other_curve = ec_jwk();
    other_curve["crv"] = json!("P-384");
    assert_eq!(
        PublicKeys::from_jwks(&set(vec![other_curve])).unwrap_err(),
        PublicKeyError::Unsupported(1)
    );
}

#[test]
fn sets_that_share_a_key_are_told_apart() {
    let one = PublicKeys::from_jwks(&set(vec![ec_jwk()])).unwrap();
    let two = PublicKeys::from_jwks(&set(vec![ec_jwk()])).unwrap();
    assert!(!one.shares_a_key_with(&two));
    assert!(keys().public().shares_a_key_with(&keys().public()));
    assert!(format!("{one:?}").starts_with("PublicKeys { kids: ["));
}
