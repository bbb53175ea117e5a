//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3) and
//! `GET /.well-known/jwks.json`: what a relying party configures itself from.

use serde_json::{Value, json};

use crate::base_url::BaseUrl;

use super::public_keys::PublicKeys;
use super::{AUTHORIZE_PATH, JWKS_PATH, TOKEN_PATH, userinfo_url};

pub(crate) fn configuration(issuer: &BaseUrl, keys: &PublicKeys) -> Value {
    let algs: Vec<&str> = keys.algs().into_iter().map(|a| a.as_str()).collect();
    json!({
        "issuer": issuer.as_str(),
        "authorization_endpoint": issuer.join(AUTHORIZE_PATH),
        "token_endpoint": issuer.join(TOKEN_PATH),
        "userinfo_endpoint": userinfo_url(issuer),
        "jwks_uri": issuer.join(JWKS_PATH),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "unionid"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
            "openid", "unionid", "name", "picture"
        ],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": true,
    })
}
