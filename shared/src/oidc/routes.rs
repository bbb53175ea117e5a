//! The OpenID Provider's routes: which are served here, which methods they take, and how
//! each endpoint's answer becomes a response and a log line.

use http::Method;
use tracing::info;

use crate::base_url::BaseUrl;
use crate::config::Serves;
use crate::error::RequestError;
use crate::gateway::{Gateway, GatewayRequest, Log};
use crate::response::{self, GatewayResponse};
use crate::route::Route;

use super::authorize::{Authorized, authorize};
use super::discovery;
use super::token_endpoint::{TokenRequest, token};
use super::userinfo::userinfo;

pub(crate) async fn respond(
    gateway: &Gateway,
    request: &GatewayRequest,
    issuer: &BaseUrl,
) -> Result<(GatewayResponse, Log), RequestError> {
    let config = gateway.config();
    let oidc = &config.oidc;
    // Served only where configured: the clients for the authorization and token
    // endpoints; the keys for the documents and userinfo (whose process does not read
    // the clients' secrets, so there the keys alone switch it on).
    let served = match request.route {
        Route::OidcAuthorize => oidc.clients.is_some(),
        Route::OidcToken => oidc.clients.is_some() && oidc.keys.is_some(),
        _ => {
            oidc.keys.is_some() && (oidc.clients.is_some() || !config.serves.reads("OIDC_CLIENTS"))
        }
    };
    if !served {
        return Err(RequestError::NotFound);
    }
    let (allowed, cors) = match request.route {
        Route::OidcToken => ("POST", true),
        Route::OidcUserInfo => ("GET, POST", true),
        Route::OidcAuthorize => ("GET", false),
        _ => ("GET", true),
    };
    if cors && request.method == Method::OPTIONS {
        return Ok((response::preflight(allowed), Log::plain("preflight")));
    }
    if !allowed.split(", ").any(|m| m == request.method.as_str()) {
        return Err(RequestError::MethodNotAllowed(allowed));
    }
    let keys = oidc.keys.as_ref();
    match request.route {
        Route::OidcDiscovery => Ok((
            response::public_json(&discovery::configuration(issuer, keys.expect("served"))),
            Log::plain("discovery"),
        )),
        Route::OidcJwks => Ok((
            response::public_json(&discovery::jwks(keys.expect("served"))),
            Log::plain("jwks"),
        )),
        Route::OidcAuthorize => {
            let user_agent = request.user_agent.as_deref();
            match authorize(gateway, request.raw_query.as_deref(), user_agent, issuer).await? {
                Authorized::Started(started) => {
                    let response = response::redirect(&started.authorize_url);
                    let log = Log::plain("login_started").with_app(&started.app);
                    let cookies: Vec<String> = started.set_cookie.into_iter().collect();
                    Ok((response::with_cookies(response, &cookies), log))
                }
                Authorized::Refused(refused) => {
                    info!(error = refused.error, "authorization request refused");
                    let lang =
                        crate::lang::Lang::from_accept_language(request.accept_language.as_deref());
                    let response = response::result(
                        &refused.redirect_uri,
                        refused.response_mode,
                        &refused.fields,
                        lang,
                    );
                    Ok((response, Log::plain("rejected")))
                }
            }
        }
        Route::OidcToken => {
            let token_request = TokenRequest {
                content_type: request.content_type.as_deref(),
                authorization: request.authorization.as_deref(),
                body: &request.body,
            };
            match token(gateway, token_request, issuer).await {
                Ok(issued) => Ok((
                    response::allow_any_origin(response::json(http::StatusCode::OK, &issued.body)),
                    Log::for_user("token_issued", &issued.grant.openid),
                )),
                Err(err) => {
                    info!(error = err.code(), reason = %err, "token request refused");
                    Ok((
                        response::allow_any_origin(err.response()),
                        Log::plain(outcome_of(err.status())),
                    ))
                }
            }
        }
        Route::OidcUserInfo => {
            match userinfo(gateway, request.authorization.as_deref(), issuer).await {
                Ok((body, grant)) => Ok((
                    response::allow_any_origin(response::json(http::StatusCode::OK, &body)),
                    Log::for_user("userinfo", &grant.openid),
                )),
                Err(err) => {
                    info!(error = err.code(), reason = %err, "userinfo request refused");
                    Ok((
                        response::allow_any_origin(err.response()),
                        Log::plain("rejected"),
                    ))
                }
            }
        }
        _ => Err(RequestError::NotFound),
    }
}

fn outcome_of(status: http::StatusCode) -> &'static str {
    match status {
        http::StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "server_error",
        _ => "rejected",
    }
}

/// Whether a process serving `serves` answers `route` at all (the Lambda functions'
/// route tables follow this).
pub fn serves_route(serves: Serves, route: &Route) -> bool {
    matches!(
        (serves, route),
        (Serves::Everything, _)
            | (Serves::Callbacks, Route::Callback(_))
            | (
                Serves::StartOnly,
                Route::Auth | Route::OidcAuthorize | Route::MpVerify(_)
            )
            | (Serves::OidcToken, Route::OidcToken)
            | (
                Serves::OidcUserInfo,
                Route::OidcUserInfo | Route::OidcDiscovery | Route::OidcJwks
            )
    )
}
