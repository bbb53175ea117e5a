//! `GET`/`POST /oauth2/userinfo`: the claims about the user an access token was issued
//! for (OpenID Connect Core §5.3). The token is checked as a whole: our signature, type
//! `at+jwt`, issuer, audience (this endpoint), expiry, and its grant still standing in the
//! store, so a revoked grant stops its tokens at once.

use serde::Deserialize;
use serde_json::{Value, json};

use http::StatusCode;
use tracing::info;

use crate::base_url::BaseUrl;
use crate::gateway::Gateway;
use crate::handled::{Handled, Log};
use crate::login_state::now_epoch_seconds;
use crate::query::{is_form, parse_query};
use crate::response;

use super::error::BearerError;
use super::grant::{Grant, GrantId};
use super::jws::{self, ACCESS_TOKEN_TYPE};
use super::userinfo_url;

#[derive(Deserialize)]
struct AccessClaims {
    iss: String,
    sub: String,
    aud: String,
    client_id: String,
    exp: i64,
    jti: String,
}

/// What userinfo reads from the HTTP request: the token comes in the Authorization header
/// (RFC 6750 §2.1) or, by POST, as `access_token` in a form body (§2.2; pyoidc's default).
pub(crate) struct UserInfoRequest<'a> {
    pub authorization: Option<&'a str>,
    /// Whether the request is a POST, the only method whose body may carry the token.
    pub post: bool,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The claims, or the Bearer error (RFC 6750 §3), for any origin's scripts.
pub(crate) async fn userinfo(
    gateway: &Gateway,
    request: UserInfoRequest<'_>,
    issuer: &BaseUrl,
) -> Handled {
    match claims(gateway, &request, issuer).await {
        Ok((body, grant)) => Handled::new(
            response::allow_any_origin(response::json(StatusCode::OK, &body)),
            Log::for_user("userinfo", &grant.openid),
        ),
        Err(err) => {
            info!(error = err.code(), reason = %err, "userinfo request refused");
            Handled::new(
                response::allow_any_origin(err.response()),
                Log::plain("rejected"),
            )
        }
    }
}

/// The access token, from the one place the request put it.
fn bearer_token(request: &UserInfoRequest<'_>) -> Result<String, BearerError> {
    let from_body = form_token(request)?;
    let Some(header) = request.authorization else {
        return from_body.ok_or(BearerError::Missing);
    };
    if from_body.is_some() {
        return Err(BearerError::InvalidRequest(
            "send the access token in one place, not in both the Authorization header and the body",
        ));
    }
    let (scheme, token) = header
        .trim()
        .split_once(' ')
        .ok_or(BearerError::InvalidRequest(
            "the Authorization header must be `Bearer <token>`",
        ))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::InvalidRequest(
            "the Authorization header must be `Bearer <token>`",
        ));
    }
    Ok(token.trim().to_owned())
}

/// `access_token` of a POSTed form body, if the request has one.
fn form_token(request: &UserInfoRequest<'_>) -> Result<Option<String>, BearerError> {
    if !request.post || !is_form(request.content_type) || request.body.is_empty() {
        return Ok(None);
    }
    let bad =
        || BearerError::InvalidRequest("the form body is not a valid form with one access_token");
    let body = std::str::from_utf8(request.body).map_err(|_| bad())?;
    let params = parse_query(Some(body), &["access_token"]).map_err(|_| bad())?;
    Ok(params.get("access_token").cloned())
}

async fn claims(
    gateway: &Gateway,
    request: &UserInfoRequest<'_>,
    issuer: &BaseUrl,
) -> Result<(Value, Grant), BearerError> {
    let keys = gateway
        .config()
        .oidc
        .public_keys
        .as_ref()
        .ok_or(BearerError::Missing)?;
    let token = bearer_token(request)?;
    let token = token.as_str();
    let invalid = BearerError::InvalidToken;
    let claims: AccessClaims = jws::verify(token, keys, ACCESS_TOKEN_TYPE)
        .map_err(|_| invalid("the access token is not one this provider issued"))?;
    if claims.iss != issuer.as_str() || claims.aud != userinfo_url(issuer) {
        return Err(invalid(
            "the access token is for another issuer or audience",
        ));
    }
    let now = now_epoch_seconds();
    if now >= claims.exp {
        return Err(invalid("the access token has expired"));
    }
    let id = GrantId::parse(&claims.jti)
        .ok_or(invalid("the access token is not one this provider issued"))?;
    let status = gateway
        .store()
        .find_grant(&id, now)
        .await?
        .ok_or(invalid("the access token's grant has expired"))?;
    if status.revoked || !status.redeemed {
        return Err(invalid("the access token was revoked"));
    }
    let grant = status.grant;
    if grant.client_id != claims.client_id || grant.sub != claims.sub {
        return Err(invalid("the access token does not match its grant"));
    }
    let mut body = json!({ "sub": grant.sub, "openid": grant.openid });
    for (name, value) in super::identity_claims(&grant, super::ClaimsTarget::UserInfo) {
        body[name] = json!(value);
    }
    Ok((body, grant))
}
