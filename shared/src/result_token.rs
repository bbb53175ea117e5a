//! Signing a result token with the algorithm the configuration chose (`TOKEN_SIGNING_ALG`):
//! HS256 with `TOKEN_SIGNING_KEY`, or RS256/ES256 with a key of `RESULT_SIGNING_KEYS`, the
//! result tokens' own (never the ID tokens'). The
//! redirect mode and `POST /login/code` sign the same token.

use crate::config::{Config, TokenAlg};
use crate::oidc::jws;
use crate::token::{RESULT_TOKEN_TYPE, ResultClaims, sign};

pub(crate) fn sign_result(config: &Config, claims: &ResultClaims) -> String {
    match config.token_alg {
        TokenAlg::Hs256 => {
            let key = config
                .signing_key
                .as_ref()
                .expect("checked at start: a process that finishes logins has TOKEN_SIGNING_KEY");
            sign(claims, key)
        }
        TokenAlg::Jws(alg) => {
            let key = config
                .result_keys
                .signing
                .as_ref()
                .and_then(|keys| keys.signer(alg))
                .expect("checked at start: TOKEN_SIGNING_ALG has its key");
            jws::sign(key, RESULT_TOKEN_TYPE, claims)
        }
    }
}
