//! The OpenID Provider's part of the configuration: its clients, its signing keys, which
//! WeChat identifier becomes `sub`, and how the redirect mode signs its result token (with
//! `TOKEN_SIGNING_KEY`, or with one of the provider's keys). Which process needs the keys
//! follows from what it signs.

use super::Serves;
use super::reader::Reader;
use crate::oidc::clients::OidcClients;
use crate::oidc::keys::{Alg, SigningKeys};

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
    /// With the OpenID Provider's key of this algorithm; verifiers use the JWKS.
    Jws(Alg),
}

/// The OpenID Provider's configuration, where the process reads it.
#[derive(Clone, Debug, Default)]
pub struct OidcConfig {
    /// `None`: no client configured (the OIDC routes answer 404), or not read here.
    pub clients: Option<OidcClients>,
    pub keys: Option<SigningKeys>,
    pub subject: Subject,
}

impl OidcConfig {
    /// OIDC_CLIENTS, OIDC_SIGNING_KEYS, OIDC_SUBJECT and TOKEN_SIGNING_ALG, then what the
    /// process serving `serves` needs of them.
    pub(super) fn read(reader: &mut Reader<'_>, serves: Serves) -> (Self, TokenAlg) {
        let clients = reader.optional("OIDC_CLIENTS", OidcClients::parse);
        let keys = reader.optional("OIDC_SIGNING_KEYS", |v| {
            let keys = SigningKeys::from_pem(v).map_err(|e| e.to_string())?;
            match keys.signer(Alg::RS256) {
                Some(_) => Ok(keys),
                None => Err("must include an RSA key: OpenID Connect requires RS256".to_owned()),
            }
        });
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
            subject,
        };
        config.require_keys(reader, serves, token_alg);
        (config, token_alg)
    }

    /// Reports the keys missing for what this process signs, and a TOKEN_SIGNING_ALG the
    /// keys cannot sign with.
    fn require_keys(&self, reader: &mut Reader<'_>, serves: Serves, token_alg: TokenAlg) {
        // What needs the keys in a process that reads them (a process that does not,
        // such as the start function, has nothing to sign).
        if serves.reads("OIDC_SIGNING_KEYS")
            && self.keys.is_none()
            && !reader.failed("OIDC_SIGNING_KEYS")
        {
            // The callbacks issue codes for the clients, but sign nothing for them.
            if serves == Serves::OidcToken
                || (self.clients.is_some()
                    && serves.reads("OIDC_CLIENTS")
                    && serves != Serves::Callbacks)
            {
                reader.problem(
                    "OIDC_SIGNING_KEYS",
                    "is required with OIDC_CLIENTS (the ID tokens' keys)",
                );
            }
            if let TokenAlg::Jws(alg) = token_alg
                && serves.finishes_logins()
            {
                reader.problem(
                    "OIDC_SIGNING_KEYS",
                    &format!("is required with TOKEN_SIGNING_ALG={}", alg.as_str()),
                );
            }
        }
        if let (Some(keys), TokenAlg::Jws(alg)) = (&self.keys, token_alg)
            && keys.signer(alg).is_none()
        {
            reader.problem(
                "TOKEN_SIGNING_ALG",
                &format!(
                    "is {} but OIDC_SIGNING_KEYS has no key for it",
                    alg.as_str()
                ),
            );
        }
    }
}
