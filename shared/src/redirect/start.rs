//! `GET /auth`: check where the user wants to go back to, remember it under a fresh state,
//! and send the user to WeChat's consent page.

use crate::base_url::BaseUrl;
use crate::error::RequestError;
use crate::gateway::Gateway;
use crate::handled::Handled;
use crate::login::app_choice::{ScopeRequest, choose};
use crate::login::begin::{NewLogin, begin, is_nonce};
use crate::query::parse_query;
use crate::return_url::ReturnUrl;
use crate::scope::{ResponseMode, Scope};

/// What `/auth` reads besides its query.
pub struct StartRequest<'a> {
    pub raw_query: Option<&'a str>,
    /// Decides `scope=auto`.
    pub user_agent: Option<&'a str>,
    /// The binding cookies of the browser's pending logins, to keep their number down.
    pub cookie_header: Option<&'a str>,
}

pub(crate) async fn start_login(
    gateway: &Gateway,
    request: StartRequest<'_>,
    base_url: &BaseUrl,
) -> Result<Handled, RequestError> {
    let config = gateway.config();
    let params = parse_query(
        request.raw_query,
        &[
            "url",
            "scope",
            "response_mode",
            "nonce",
            "app",
            "auto_scope",
            "response_type",
        ],
    )?;
    // Silently ignored, `response_type=code` would still put the token in the URL.
    if params.contains_key("response_type") {
        return Err(RequestError::ResponseTypeOnAuth);
    }
    let url = params.get("url").ok_or(RequestError::Missing("url"))?;
    let scope = params.get("scope").ok_or(RequestError::Missing("scope"))?;
    let auto_scope = params.get("auto_scope").map(String::as_str);
    let scope = match (scope.as_str(), auto_scope) {
        ("auto", None) => ScopeRequest::Auto {
            in_wechat: Scope::Base,
        },
        ("auto", Some(inside)) => match Scope::parse(inside) {
            Some(in_wechat @ (Scope::Base | Scope::UserInfo)) => ScopeRequest::Auto { in_wechat },
            _ => return Err(RequestError::AutoScope),
        },
        (_, Some(_)) => return Err(RequestError::AutoScope),
        (fixed, None) => ScopeRequest::Fixed(Scope::parse(fixed).ok_or(RequestError::Scope)?),
    };
    let app = params.get("app").map(String::as_str);
    let (app, scope) = choose(&config.apps, app, scope, request.user_agent)?;
    // Each app has its own return origins: a Website App's site is often not the
    // Official Account's.
    let return_url = ReturnUrl::parse(url, &app.allowed_origins)?;
    let response_mode = match params.get("response_mode") {
        None => ResponseMode::default(),
        Some(mode) => ResponseMode::parse(mode).ok_or(RequestError::ResponseMode)?,
    };
    if !app.response_modes.allows(response_mode) {
        return Err(RequestError::ResponseModeNotAllowed {
            mode: response_mode.as_str(),
            allowed: app.response_modes.to_string(),
        });
    }
    let nonce = params.get("nonce").cloned();
    if nonce.as_deref().is_some_and(|n| !is_nonce(n)) {
        return Err(RequestError::Nonce);
    }
    let login = NewLogin {
        app,
        scope,
        return_url,
        response_mode,
        nonce,
        oidc: None,
        cookie_header: request.cookie_header,
    };
    Ok(begin(gateway, login, base_url).await?.into_handled())
}
