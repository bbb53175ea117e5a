//! `wxauth-local jwks`: the public JWK Set of PEM private keys read on stdin, the value
//! the userinfo function is given as `OIDC_JWKS` (of `OIDC_SIGNING_KEYS`) or `RESULT_JWKS`
//! (of `RESULT_SIGNING_KEYS`), so that it never holds the private keys. It prints what the
//! provider itself publishes for those keys, and nothing of the private halves.

use wxauth_core::oidc::keys::SigningKeys;

/// The command's name on the command line.
pub const JWKS_COMMAND: &str = "jwks";

/// The JWK Set (one line of JSON) of the keys in `pem`, or why there is none (never
/// quoting the input).
pub fn public_jwks(pem: &str) -> Result<String, String> {
    let keys = SigningKeys::from_pem(pem).map_err(|e| format!("the PEM on stdin {e}"))?;
    Ok(keys.public().jwks().to_string())
}

#[cfg(test)]
mod tests {
    use wxauth_core::oidc::public_keys::PublicKeys;

    use super::*;

    #[test]
    fn prints_the_public_set_of_the_keys_and_no_private_part() {
        let pem = SigningKeys::generate_pem();
        let jwks = public_jwks(&pem).unwrap();
        let keys = SigningKeys::from_pem(&pem).unwrap();
        assert_eq!(
            PublicKeys::from_jwks(&jwks).unwrap().jwks(),
            keys.jwks(),
            "it reads back as OIDC_JWKS"
        );
        assert!(!jwks.contains("\"d\""));
        let err = public_jwks("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
            .unwrap_err();
        assert!(err.starts_with("the PEM on stdin "), "{err}");
        assert!(!err.contains("AAAA"));
    }
}
