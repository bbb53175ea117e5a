//! `POST /oauth2/token`: a relying party trades an authorization code for an ID token and
//! an access token (RFC 6749 §4.1.3, OpenID Connect Core §3.1.3).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use http::StatusCode;
use tracing::info;

use crate::base_url::BaseUrl;
use crate::gateway::Gateway;
use crate::handled::{Handled, Log};
use crate::login_state::now_epoch_seconds;
use crate::query::{QueryError, is_form, parse_query};
use crate::response;

use super::clients::OidcClient;
use super::error::TokenRequestError;
use super::grant::{Grant, GrantId, Redeemed, Redemption};
use super::jws::{self, ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE};
use super::pkce::s256_challenge;
use super::{ACCESS_TOKEN_LIFETIME_SECONDS, ID_TOKEN_LIFETIME_SECONDS, userinfo_url};

/// What the token endpoint reads from the HTTP request.
pub(crate) struct TokenRequest<'a> {
    pub content_type: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
}

/// The token response, or the error (RFC 6749 §5.2), for any origin's scripts.
pub(crate) async fn token(
    gateway: &Gateway,
    request: TokenRequest<'_>,
    issuer: &BaseUrl,
) -> Handled {
    match redeem(gateway, request, issuer).await {
        Ok((body, grant)) => Handled::new(
            response::allow_any_origin(response::json(StatusCode::OK, &body)),
            Log::for_user("token_issued", &grant.openid),
        ),
        Err(err) => {
            info!(error = err.code(), reason = %err, "token request refused");
            Handled::new(
                response::allow_any_origin(err.response()),
                Log::refused(err.status()),
            )
        }
    }
}

/// The token response and the grant it came from (for the log line).
async fn redeem(
    gateway: &Gateway,
    request: TokenRequest<'_>,
    issuer: &BaseUrl,
) -> Result<(Value, Grant), TokenRequestError> {
    let invalid = |text: &str| TokenRequestError::InvalidRequest(text.to_owned());
    if !is_form(request.content_type) {
        return Err(invalid(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let body = std::str::from_utf8(request.body).map_err(|_| invalid("the body is not UTF-8"))?;
    let params = parse_query(
        Some(body),
        &[
            "grant_type",
            "code",
            "redirect_uri",
            "code_verifier",
            "client_id",
            "client_secret",
        ],
    )
    .map_err(|err| match err {
        QueryError::TooLong => invalid("the body is too long"),
        other => TokenRequestError::InvalidRequest(other.to_string()),
    })?;
    let client = authenticate(gateway, &request, &params)?;

    match params.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {}
        None => return Err(invalid("the `grant_type` parameter is required")),
        Some(_) => return Err(TokenRequestError::UnsupportedGrantType),
    }
    let code = params
        .get("code")
        .ok_or_else(|| invalid("the `code` parameter is required"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| invalid("the `redirect_uri` parameter is required"))?;
    let challenge = match params.get("code_verifier") {
        None => None,
        Some(verifier) => Some(s256_challenge(verifier).ok_or_else(|| {
            invalid("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
        })?),
    };
    // The authorization endpoint already refused such a client's requests without a
    // challenge; this holds also for a code issued before `require_pkce` was turned on (the
    // auth and token functions take a new configuration at different moments).
    if client.requires_pkce() && challenge.is_none() {
        return Err(TokenRequestError::InvalidGrant(
            "the code_verifier is missing",
        ));
    }
    let id = GrantId::of_code(code).ok_or(TokenRequestError::InvalidGrant(
        "the code is not one this provider issues",
    ))?;
    let now = now_epoch_seconds();
    let redemption = Redemption {
        client_id: &client.client_id,
        redirect_uri,
        code_challenge: challenge.as_deref(),
        now,
    };
    let keep_until = now + ACCESS_TOKEN_LIFETIME_SECONDS;
    let grant = match gateway
        .store()
        .redeem_grant(&id, &redemption, keep_until)
        .await?
    {
        Redeemed::Fresh(grant) => grant,
        Redeemed::Kept(grant) => {
            return Err(TokenRequestError::InvalidGrant(why_not(
                &grant,
                &redemption,
            )));
        }
        Redeemed::Replayed => {
            return Err(TokenRequestError::InvalidGrant(
                "the code was used before; the tokens issued from it are revoked",
            ));
        }
        Redeemed::Unknown => {
            return Err(TokenRequestError::InvalidGrant(
                "the code is unknown or has expired",
            ));
        }
    };
    let body = issue(gateway, &grant, &id, issuer, now);
    Ok((body, grant))
}

/// Client authentication: HTTP Basic (`client_secret_basic`), the body
/// (`client_secret_post`), or none for a public client; never two methods at once.
fn authenticate<'g>(
    gateway: &'g Gateway,
    request: &TokenRequest<'_>,
    params: &std::collections::HashMap<&'static str, String>,
) -> Result<&'g OidcClient, TokenRequestError> {
    let clients =
        gateway
            .config()
            .oidc
            .clients
            .as_ref()
            .ok_or(TokenRequestError::InvalidClient {
                reason: "no client is configured",
                basic: false,
            })?;
    let basic = match request.authorization {
        None => None,
        Some(header) => Some(basic_credentials(header)?),
    };
    let unknown = |basic| TokenRequestError::InvalidClient {
        reason: "client authentication failed",
        basic,
    };
    match (basic, params.get("client_secret")) {
        (Some(_), Some(_)) => Err(TokenRequestError::InvalidRequest(
            "use one client authentication method, not both Basic and client_secret".into(),
        )),
        (Some(basic), None) => {
            if params
                .get("client_id")
                .is_some_and(|body_id| *body_id != basic.id)
            {
                return Err(TokenRequestError::InvalidRequest(
                    "client_id differs from the Basic credentials".into(),
                ));
            }
            let client = clients.get(&basic.id).ok_or(unknown(true))?;
            // RFC 6749 §2.3.1 form-urlencodes the secret inside Basic; some libraries
            // (Authlib 1.9) send it as it is. Either form of the one secret proves it.
            let proven = client.secret_matches(&basic.secret)
                || client.secret_matches(&basic.secret_as_sent);
            proven.then_some(client).ok_or(unknown(true))
        }
        (None, Some(secret)) => {
            let id = params.get("client_id").ok_or(unknown(false))?;
            let client = clients.get(id).ok_or(unknown(false))?;
            client
                .secret_matches(secret)
                .then_some(client)
                .ok_or(unknown(false))
        }
        (None, None) => {
            let id = params
                .get("client_id")
                .ok_or(TokenRequestError::InvalidClient {
                    reason: "client authentication is required",
                    basic: false,
                })?;
            let client = clients.get(id).ok_or(unknown(false))?;
            if client.is_public() {
                Ok(client)
            } else {
                Err(TokenRequestError::InvalidClient {
                    reason: "this client must authenticate (client_secret_basic or client_secret_post)",
                    basic: false,
                })
            }
        }
    }
}

/// The credentials of `Authorization: Basic …`.
#[derive(Debug, PartialEq, Eq)]
struct BasicCredentials {
    /// Form-urldecoded, as RFC 6749 §2.3.1 encodes it.
    id: String,
    secret: String,
    /// The secret's bytes as they came, for clients that do not encode it.
    secret_as_sent: String,
}

/// The client id and secret of `Authorization: Basic …`, each form-urlencoded before the
/// base64 (RFC 6749 §2.3.1).
fn basic_credentials(header: &str) -> Result<BasicCredentials, TokenRequestError> {
    let bad = || TokenRequestError::InvalidClient {
        reason: "the Authorization header is not valid Basic credentials",
        basic: true,
    };
    let (scheme, encoded) = header.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |part: &str| {
        parse_query(Some(&format!("v={part}")), &["v"])
            .ok()
            .and_then(|mut m| m.remove("v"))
    };
    Ok(BasicCredentials {
        id: unescape(id).ok_or_else(bad)?,
        // A raw secret may hold a `%` that is no escape: then only its raw form can match.
        secret: unescape(secret).unwrap_or_else(|| secret.to_owned()),
        secret_as_sent: secret.to_owned(),
    })
}

/// Why a grant the store kept did not fit the request.
fn why_not(grant: &Grant, redemption: &Redemption<'_>) -> &'static str {
    if redemption.now >= grant.code_expires_at {
        "the code has expired"
    } else if grant.client_id != redemption.client_id {
        "the code was issued to another client"
    } else if grant.redirect_uri != redemption.redirect_uri {
        "redirect_uri differs from the authorization request's"
    } else if grant.code_challenge.is_none() {
        "a code_verifier came for a request without code_challenge"
    } else if redemption.code_challenge.is_none() {
        "the code_verifier is missing"
    } else {
        "the code_verifier does not match the code_challenge"
    }
}

fn issue(gateway: &Gateway, grant: &Grant, id: &GrantId, issuer: &BaseUrl, now: i64) -> Value {
    let keys = gateway
        .config()
        .oidc
        .keys
        .as_ref()
        .expect("checked at start: keys come with clients");
    let signer = keys.first();
    let access_claims = json!({
        "iss": issuer.as_str(),
        "sub": grant.sub,
        "aud": userinfo_url(issuer),
        "client_id": grant.client_id,
        "scope": grant.scope_text(),
        "iat": now,
        "exp": now + ACCESS_TOKEN_LIFETIME_SECONDS,
        "jti": id.as_str(),
    });
    let access_token = jws::sign(signer, ACCESS_TOKEN_TYPE, &access_claims);
    // What the protocol needs, and `openid` (the WeChat openid, which the `openid` scope
    // gives); claims about the user only as `identity_claims` releases them.
    let mut id_claims = json!({
        "iss": issuer.as_str(),
        "sub": grant.sub,
        "aud": grant.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME_SECONDS,
        "auth_time": grant.auth_time,
        "at_hash": at_hash(&access_token),
        "openid": grant.openid,
    });
    if let Some(nonce) = &grant.nonce {
        id_claims["nonce"] = json!(nonce);
    }
    for (name, value) in super::identity_claims(grant, super::ClaimsTarget::IdToken) {
        id_claims[name] = json!(value);
    }
    let id_token = jws::sign(signer, ID_TOKEN_TYPE, &id_claims);
    json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_LIFETIME_SECONDS,
        "id_token": id_token,
        "scope": grant.scope_text(),
    })
}

/// The left half of the access token's SHA-256, base64url (OpenID Connect Core §3.1.3.6);
/// SHA-256 for both RS256 and ES256.
pub(crate) fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_urlencoded_inside_base64() {
        let header = format!("Basic {}", STANDARD.encode("my%3Aclient:s%2Bcret%25x"));
        let credentials = basic_credentials(&header).unwrap();
        assert_eq!(credentials.id, "my:client");
        assert_eq!(credentials.secret, "s+cret%x");
        assert_eq!(credentials.secret_as_sent, "s%2Bcret%25x");
        // Sent without encoding (Authlib): the raw form is kept; a lone `%` is no error.
        let raw = basic_credentials(&format!("Basic {}", STANDARD.encode("rp:a+b%zz"))).unwrap();
        assert_eq!(
            (raw.secret.as_str(), raw.secret_as_sent.as_str()),
            ("a+b%zz", "a+b%zz")
        );
        for bad in [
            "Bearer abc",
            "Basic",
            "Basic !!!",
            &format!("Basic {}", STANDARD.encode("no-colon")),
        ] {
            assert!(
                matches!(
                    basic_credentials(bad),
                    Err(TokenRequestError::InvalidClient { basic: true, .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn at_hash_is_the_left_half_of_sha_256() {
        // OpenID Connect Core's example (A.3): access token and at_hash.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn form_urlencode(text: &str) -> String {
        form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }

    proptest! {
        /// Any id and secret, encoded as RFC 6749 §2.3.1 says, come back exactly.
        #[test]
        fn basic_credentials_round_trip(id in "\\PC{0,40}", secret in "\\PC{0,80}") {
            let encoded = STANDARD.encode(format!("{}:{}", form_urlencode(&id), form_urlencode(&secret)));
            let credentials = basic_credentials(&format!("Basic {encoded}")).unwrap();
            prop_assert_eq!((credentials.id, credentials.secret), (id, secret));
        }

        /// Whatever the header, the answer is credentials or invalid_client, never a panic.
        #[test]
        fn any_authorization_header_is_read_or_refused(header in "\\PC{0,200}") {
            match basic_credentials(&header) {
                Ok(_) | Err(TokenRequestError::InvalidClient { basic: true, .. }) => {}
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
