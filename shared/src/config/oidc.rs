//! The OpenID Provider's part of the configuration: its clients, its signing keys (or, in
//! the function that only verifies and publishes, their public halves), which WeChat
//! identifier becomes `sub`, and how the redirect mode signs its result token (with
//! `TOKEN_SIGNING_KEY`, or with a key of `RESULT_SIGNING_KEYS`: see `result_keys.rs`).
//! Which process needs which keys follows from what it signs.

use super::Serves;
use super::reader::Reader;
use crate::oidc::clients::OidcClients;
use crate::oidc::keys::{Alg, SigningKeys};
use crate::oidc::public_keys::PublicKeys;

/// Which WeChat identifier becomes the OpenID Connect `sub`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Subject {
    /// The openid: one per user and Official Account.
    #[default]
    OpenId,
    /// The unionid: one per user across the apps bound to one Open Platform account. A
    /// login without one is refused (`access_denied`).
    UnionId,
}

/// How the redirect mode signs its result token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenAlg {
    /// With TOKEN_SIGNING_KEY (verifiers hold the same key).
    #[default]
    Hs256,
    /// With the key of this algorithm in `RESULT_SIGNING_KEYS`; verifiers use the result
    /// tokens' own JWKS.
    Jws(Alg),
}

/// The OpenID Provider's configuration, where the process reads it.
#[derive(Clone, Debug, Default)]
pub struct OidcConfig {
    /// `None`: no client configured (the OIDC routes answer 404), or not read here.
    pub clients: Option<OidcClients>,
    /// The private keys that sign ID and access tokens: read by the token function and
    /// wxauth-local only.
    pub keys: Option<SigningKeys>,
    /// Their public halves, which check access tokens and make the JWKS: `OIDC_JWKS` in the
    /// userinfo function, elsewhere derived from `keys`.
    pub public_keys: Option<PublicKeys>,
    pub subject: Subject,
}

impl OidcConfig {
    /// OIDC_CLIENTS, OIDC_SIGNING_KEYS (or OIDC_JWKS), OIDC_SUBJECT and TOKEN_SIGNING_ALG,
    /// then what the process serving `serves` needs of them.
    pub(super) fn read(reader: &mut Reader<'_>, serves: Serves) -> (Self, TokenAlg) {
        let clients = reader.optional("OIDC_CLIENTS", OidcClients::parse);
        let keys = reader.optional("OIDC_SIGNING_KEYS", |v| {
            let keys = SigningKeys::from_pem(v).map_err(|e| e.to_string())?;
            match keys.signer(Alg::RS256) {
                Some(_) => Ok(keys),
                None => Err("must include an RSA key: OpenID Connect requires RS256".to_owned()),
            }
        });
        let published = reader.optional("OIDC_JWKS", |v| {
            let keys = PublicKeys::from_jwks(v).map_err(|e| e.to_string())?;
            match keys.algs().contains(&Alg::RS256) {
                true => Ok(keys),
                false => Err("must include an RSA key: OpenID Connect requires RS256".to_owned()),
            }
        });
        let public_keys = published.or_else(|| keys.as_ref().map(SigningKeys::public));
        let subject = reader
            .optional("OIDC_SUBJECT", |v| match v {
                "openid" => Ok(Subject::OpenId),
                "unionid" => Ok(Subject::UnionId),
                _ => Err("must be openid or unionid".to_owned()),
            })
            .unwrap_or_default();
        let token_alg = reader
            .optional("TOKEN_SIGNING_ALG", |v| match v {
                "HS256" => Ok(TokenAlg::Hs256),
                "RS256" => Ok(TokenAlg::Jws(Alg::RS256)),
                "ES256" => Ok(TokenAlg::Jws(Alg::ES256)),
                _ => Err("must be HS256, RS256 or ES256".to_owned()),
            })
            .unwrap_or_default();
        let config = Self {
            clients,
            keys,
            public_keys,
            subject,
        };
        config.require_keys(reader, serves);
        (config, token_alg)
    }

    /// Reports the keys missing for what this process signs.
    fn require_keys(&self, reader: &mut Reader<'_>, serves: Serves) {
        // The token function always signs; wxauth-local does with clients. The callbacks
        // issue codes for the clients but sign nothing for them, and the userinfo function
        // only verifies (OIDC_JWKS switches it on).
        let signs =
            serves == Serves::OidcToken || (serves == Serves::Everything && self.clients.is_some());
        if signs && self.keys.is_none() && !reader.failed("OIDC_SIGNING_KEYS") {
            reader.problem(
                "OIDC_SIGNING_KEYS",
                "is required with OIDC_CLIENTS (the ID tokens' keys)",
            );
        }
    }
}
