//! wxauth as an OpenID Provider: discovery, JWKS, the authorization code flow with PKCE
//! (`pkce.rs`), and userinfo, on top of the same WeChat login as the redirect mode.
//! WeChat still calls back on `/getOpenId` / `/getWxUserInfo`; the stored login says
//! whether it answers an authorization request, and then the callback issues a code
//! (`issue_code.rs`) instead of the result.

pub mod alg;
pub(crate) mod authorize;
pub mod claims_request;
pub mod clients;
pub(crate) mod discovery;
pub(crate) mod error;
pub(crate) mod error_redirect;
pub mod grant;
pub(crate) mod issue_code;
pub mod jws;
pub mod keys;
pub mod pkce;
pub mod public_keys;
pub(crate) mod token_endpoint;
pub(crate) mod userinfo;

use crate::base_url::BaseUrl;

use grant::Grant;

pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// The public keys of result tokens signed with RS256 / ES256 (`RESULT_SIGNING_KEYS`): a set
/// of their own, so no ID-token verifier that trusts `JWKS_PATH` trusts them.
pub const RESULT_JWKS_PATH: &str = "/.well-known/result-jwks.json";
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const USERINFO_PATH: &str = "/oauth2/userinfo";

/// The longest relying-party `state` echoed back.
pub const MAX_CLIENT_STATE_LEN: usize = 1024;

/// ID tokens are for the relying party's login, right now.
pub const ID_TOKEN_LIFETIME_SECONDS: i64 = 600;
/// Access tokens only reach userinfo; short, and revocable through their grant.
pub const ACCESS_TOKEN_LIFETIME_SECONDS: i64 = 600;

/// The access tokens' audience: the one endpoint that accepts them.
pub fn userinfo_url(issuer: &BaseUrl) -> String {
    issuer.join(USERINFO_PATH)
}

/// Where claims about the user go: each has its own request in `claims` (§5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClaimsTarget {
    IdToken,
    UserInfo,
}

/// The claims about the user beyond `sub` and `openid` (which the `openid` scope gives),
/// each only where a scope or the `claims` parameter asked for it: `name` and `picture`
/// with `profile`, or requested for this target; the unionid with `profile` or `unionid`,
/// as `sub`, or requested for this target. The grant holds only what was released, so an
/// absent value is simply left out.
pub(crate) fn identity_claims(grant: &Grant, to: ClaimsTarget) -> Vec<(&'static str, String)> {
    let asked = match to {
        ClaimsTarget::IdToken => grant.claims.id_token,
        ClaimsTarget::UserInfo => grant.claims.userinfo,
    };
    let profile = grant.scope.has_profile();
    let mut claims = Vec::new();
    if let Some(unionid) = &grant.unionid {
        let by_scope = profile || grant.unionid_scope || *unionid == grant.sub;
        if by_scope || asked.unionid {
            claims.push(("unionid", unionid.clone()));
        }
    }
    if let Some(name) = grant.name.as_ref().filter(|_| profile || asked.name) {
        claims.push(("name", name.clone()));
    }
    if let Some(picture) = grant.picture.as_ref().filter(|_| profile || asked.picture) {
        claims.push(("picture", picture.clone()));
    }
    claims
}
