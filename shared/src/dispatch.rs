//! The one router: a request as the core sees it ([`GatewayRequest`]), which handler
//! answers its route and by which methods, whether this process serves the route at all
//! (`Serves::serves`), and the `handled` log line and metric every request ends with.
//! Handlers build their own responses; a request refused with a [`RequestError`] is
//! rendered here, once.

use std::time::Duration;

use http::{Method, StatusCode};
use tracing::{Instrument, error, info, info_span, warn};

use crate::accept::prefers_html;
use crate::base_url::BaseUrl;
use crate::callback::{CallbackRequest, finish_login};
use crate::code_login::{CodeLoginRequest, code_login};
use crate::config::Config;
use crate::error::RequestError;
use crate::gateway::Gateway;
use crate::handled::{Handled, Log};
use crate::lang::Lang;
use crate::oidc::authorize::{AuthorizeRequest, PostedForm, authorize};
use crate::oidc::discovery;
use crate::oidc::token_endpoint::{TokenRequest, token};
use crate::oidc::userinfo::{UserInfoRequest, userinfo};
use crate::redirect::start::{StartRequest, start_login};
use crate::response::{self, GatewayResponse};
use crate::route::Route;
use crate::timing::measure;

/// A request as the core sees it, whatever carried it.
#[derive(Clone, Debug, Default)]
pub struct GatewayRequest {
    pub method: Method,
    pub route: Route,
    /// The raw (still percent-encoded) query string.
    pub raw_query: Option<String>,
    pub accept: Option<String>,
    /// `Accept-Language`: the language of any page the visitor sees.
    pub accept_language: Option<String>,
    /// `User-Agent`: WeChat's in-app browser or another (`scope=auto`).
    pub user_agent: Option<String>,
    /// The `Cookie` header (or API Gateway's `cookies`, joined with `; `).
    pub cookie_header: Option<String>,
    /// The gateway's external base URL as the adapter derived it from the request; the
    /// configured PUBLIC_BASE_URL wins over it.
    pub derived_base_url: Option<BaseUrl>,
    /// For log correlation (API Gateway's request id on Lambda).
    pub request_id: Option<String>,
    /// The `Authorization` header (the token endpoint's client credentials, userinfo's
    /// bearer token). Never logged.
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The body, decoded (API Gateway may deliver it base64-encoded).
    pub body: Vec<u8>,
}

impl Gateway {
    /// Answers one request, whatever carried it; logs the `handled` line and records the
    /// metric.
    pub async fn handle(&self, request: GatewayRequest) -> GatewayResponse {
        let route = request.route.name();
        let span = info_span!(
            "request",
            request_id = request.request_id.as_deref().unwrap_or("-"),
            route
        );
        async {
            let (answer, times) = measure(dispatch(self, &request)).await;
            let Handled { mut response, log } = match answer {
                Ok(handled) => handled,
                Err(err) => refused(&err, &request),
            };
            if base_url(self.config(), &request).is_ok_and(BaseUrl::is_https) {
                response = response::with_hsts(response);
            }
            let latency_ms = times.total.as_millis() as u64;
            info!(
                status = response.status().as_u16(),
                outcome = log.outcome,
                wx_errcode = log.wx_errcode,
                user = log.user.as_deref(),
                app = log.app.as_deref(),
                latency_ms,
                wechat_us = micros(times.wechat),
                store_us = micros(times.store),
                own_us = micros(times.own()),
                "handled"
            );
            self.metrics().record(route, log.outcome, latency_ms);
            response
        }
        .instrument(span)
        .await
    }
}

/// A refused request: its error page or JSON, logged by how much it needs an operator.
fn refused(err: &RequestError, request: &GatewayRequest) -> Handled {
    // 503: the store is down or throttling and will recover; 500: our own configuration
    // or data is wrong, which needs an operator (and an alarm on the `server_error`
    // metric), so it logs at error level.
    match err.status() {
        StatusCode::SERVICE_UNAVAILABLE => warn!(error = %err, "request failed"),
        status if status.is_server_error() => error!(error = %err, "request failed"),
        _ => info!(error = err.code(), reason = %err, "request refused"),
    }
    let html = prefers_html(request.accept.as_deref())
        .then(|| Lang::from_accept_language(request.accept_language.as_deref()));
    Handled::new(response::error(err, html), Log::refused(err.status()))
}

/// The route's handler, after the checks every route shares: served here, by this method.
async fn dispatch(gateway: &Gateway, request: &GatewayRequest) -> Result<Handled, RequestError> {
    let config = gateway.config();
    let route = &request.route;
    // The OpenID Provider's routes all speak for an issuer: none is answered where the
    // provider cannot tell its own URL.
    if route.is_oidc() {
        base_url(config, request)?;
    }
    if !served_here(config, route) {
        return Err(RequestError::NotFound);
    }
    let (allowed, cors) = methods(route);
    if cors && request.method == Method::OPTIONS {
        return Ok(Handled::new(
            response::preflight(allowed),
            Log::plain("preflight"),
        ));
    }
    if !allowed.split(", ").any(|m| m == request.method.as_str()) {
        return Err(RequestError::MethodNotAllowed(allowed));
    }
    match route {
        Route::Auth => {
            let start = StartRequest {
                raw_query: text(&request.raw_query),
                user_agent: text(&request.user_agent),
                cookie_header: text(&request.cookie_header),
            };
            start_login(gateway, start, base_url(config, request)?).await
        }
        Route::Callback(scope) => {
            let callback = CallbackRequest {
                raw_query: text(&request.raw_query),
                cookie_header: text(&request.cookie_header),
                accept_language: text(&request.accept_language),
            };
            finish_login(gateway, *scope, callback, base_url(config, request)?).await
        }
        Route::MpVerify(name) => match &config.mp_verify_token {
            Some(token) if token == name => Ok(Handled::new(
                response::plain(StatusCode::OK, token.clone()),
                Log::plain("mp_verify"),
            )),
            _ => Err(RequestError::NotFound),
        },
        Route::OidcDiscovery => {
            let issuer = base_url(config, request)?;
            let keys = config.oidc.public_keys.as_ref().expect("served");
            Ok(Handled::new(
                response::public_json(&discovery::configuration(issuer, keys)),
                Log::plain("discovery"),
            ))
        }
        Route::OidcJwks => {
            let keys = config.oidc.public_keys.as_ref().expect("served");
            Ok(Handled::new(
                response::public_json(&keys.jwks()),
                Log::plain("jwks"),
            ))
        }
        Route::ResultJwks => {
            let keys = config.result_keys.public.as_ref().expect("served");
            Ok(Handled::new(
                response::public_json(&keys.jwks()),
                Log::plain("result_jwks"),
            ))
        }
        Route::OidcAuthorize => {
            let authorization = AuthorizeRequest {
                raw_query: text(&request.raw_query),
                user_agent: text(&request.user_agent),
                accept_language: text(&request.accept_language),
                cookie_header: text(&request.cookie_header),
                form: (request.method == Method::POST).then_some(PostedForm {
                    content_type: text(&request.content_type),
                    body: &request.body,
                }),
            };
            authorize(gateway, authorization, base_url(config, request)?).await
        }
        Route::OidcToken => {
            let token_request = TokenRequest {
                content_type: text(&request.content_type),
                authorization: text(&request.authorization),
                body: &request.body,
            };
            Ok(token(gateway, token_request, base_url(config, request)?).await)
        }
        Route::OidcUserInfo => {
            let bearer = UserInfoRequest {
                authorization: text(&request.authorization),
                post: request.method == Method::POST,
                content_type: text(&request.content_type),
                body: &request.body,
            };
            Ok(userinfo(gateway, bearer, base_url(config, request)?).await)
        }
        Route::CodeLogin => {
            let posted = CodeLoginRequest {
                content_type: text(&request.content_type),
                body: &request.body,
            };
            Ok(code_login(gateway, posted, base_url(config, request)?).await)
        }
        Route::NotFound => Err(RequestError::NotFound),
    }
}

/// Whether this process answers `route`: the function it runs as serves it
/// (`Serves::serves`), and the OpenID Provider's routes only where configured, the
/// clients for the authorization and token endpoints, the keys for the documents and
/// userinfo (whose process does not read the clients' secrets, so there the keys alone
/// switch it on).
fn served_here(config: &Config, route: &Route) -> bool {
    let oidc = &config.oidc;
    let provider = match route {
        Route::OidcAuthorize => oidc.clients.is_some(),
        Route::OidcToken => oidc.clients.is_some() && oidc.keys.is_some(),
        Route::OidcDiscovery | Route::OidcJwks | Route::OidcUserInfo => {
            oidc.public_keys.is_some()
                && (oidc.clients.is_some() || !config.serves.reads("OIDC_CLIENTS"))
        }
        Route::ResultJwks => config.result_keys.public.is_some(),
        _ => true,
    };
    provider && (*route == Route::NotFound || config.serves.serves(route))
}

/// The methods a route takes (the `Allow` header's value), and whether other origins'
/// scripts may call it (CORS, answering preflights).
fn methods(route: &Route) -> (&'static str, bool) {
    match route {
        Route::OidcToken => ("POST", true),
        // A Mini Program's wx.request and a mobile app's HTTP client are not browsers: no
        // CORS, and no browser page's script may post a code here.
        Route::CodeLogin => ("POST", false),
        Route::OidcUserInfo => ("GET, POST", true),
        // A form posted by the relying party's page (OpenID Connect Core §3.1.2.1): a
        // top-level navigation, never a script's call, so no CORS.
        Route::OidcAuthorize => ("GET, POST", false),
        Route::OidcDiscovery | Route::OidcJwks | Route::ResultJwks => ("GET", true),
        _ => ("GET", false),
    }
}

/// The gateway's own URL: PUBLIC_BASE_URL, else what the adapter derived from the request.
fn base_url<'a>(
    config: &'a Config,
    request: &'a GatewayRequest,
) -> Result<&'a BaseUrl, RequestError> {
    config
        .public_base_url
        .as_ref()
        .or(request.derived_base_url.as_ref())
        .ok_or(RequestError::NoBaseUrl)
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref()
}

fn micros(d: Duration) -> u64 {
    d.as_micros().try_into().unwrap_or(u64::MAX)
}
