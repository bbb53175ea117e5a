//! The keys of result tokens signed with RS256 or ES256 (`TOKEN_SIGNING_ALG`): keys of their
//! own, never the ID tokens' (`OIDC_SIGNING_KEYS`). So the callbacks, which sign result
//! tokens, hold no key that mints ID tokens for the relying parties, and a key that signs
//! one kind of token can never make the other verify. The processes that finish logins
//! read the private keys (`RESULT_SIGNING_KEYS`); the userinfo function publishes their
//! public halves (`RESULT_JWKS`) at their own JWKS address.

use super::reader::Reader;
use super::{Serves, TokenAlg};
use crate::oidc::keys::SigningKeys;
use crate::oidc::public_keys::PublicKeys;

/// Where a process holds them: the private keys where logins finish (with RS256/ES256), the
/// public halves where they are published (and wherever the private keys are).
#[derive(Clone, Debug, Default)]
pub struct ResultKeys {
    pub signing: Option<SigningKeys>,
    pub public: Option<PublicKeys>,
}

impl ResultKeys {
    /// RESULT_SIGNING_KEYS or RESULT_JWKS, as far as this process reads them; `oidc_public`
    /// are the ID tokens' public keys, which may share none with these.
    pub(super) fn read(
        reader: &mut Reader<'_>,
        serves: Serves,
        token_alg: TokenAlg,
        oidc_public: Option<&PublicKeys>,
    ) -> Self {
        let signing = reader.optional("RESULT_SIGNING_KEYS", |v| {
            SigningKeys::from_pem(v).map_err(|e| e.to_string())
        });
        let published = reader.optional("RESULT_JWKS", |v| {
            PublicKeys::from_jwks(v).map_err(|e| e.to_string())
        });
        if let TokenAlg::Jws(alg) = token_alg
            && serves.finishes_logins()
            && !reader.failed("RESULT_SIGNING_KEYS")
        {
            match &signing {
                None => reader.problem(
                    "RESULT_SIGNING_KEYS",
                    &format!(
                        "is required with TOKEN_SIGNING_ALG={} (result tokens have keys of their own)",
                        alg.as_str()
                    ),
                ),
                Some(keys) if keys.signer(alg).is_none() => reader.problem(
                    "TOKEN_SIGNING_ALG",
                    &format!(
                        "is {} but RESULT_SIGNING_KEYS has no key for it",
                        alg.as_str()
                    ),
                ),
                Some(_) => {}
            }
        }
        let (variable, public) = match published {
            Some(public) => ("RESULT_JWKS", Some(public)),
            None => (
                "RESULT_SIGNING_KEYS",
                signing.as_ref().map(SigningKeys::public),
            ),
        };
        if let (Some(ours), Some(theirs)) = (&public, oidc_public)
            && ours.shares_a_key_with(theirs)
        {
            reader.problem(
                variable,
                "shares a key with the ID tokens' keys (OIDC_SIGNING_KEYS / OIDC_JWKS): result tokens need keys of their own",
            );
        }
        // The userinfo function exists to publish public keys: one set at least.
        if serves == Serves::OidcUserInfo
            && oidc_public.is_none()
            && public.is_none()
            && !reader.failed("OIDC_JWKS")
            && !reader.failed("RESULT_JWKS")
        {
            reader.problem(
                "OIDC_JWKS",
                "is required: this function publishes the ID tokens' public keys (OIDC_JWKS), the result tokens' (RESULT_JWKS), or both",
            );
        }
        Self { signing, public }
    }
}
