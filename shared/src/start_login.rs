//! `GET /auth`: check where the user wants to go back to, remember it under a fresh state,
//! and send the user to WeChat's consent page. `/oauth2/authorize` starts its logins the
//! same way ([`begin`]).

use crate::app_choice::{ScopeRequest, choose};
use crate::apps::WeChatApp;
use crate::base_url::BaseUrl;
use crate::browser_binding::BindingCookie;
use crate::error::RequestError;
use crate::gateway::Gateway;
use crate::login_state::{LoginState, MAX_NONCE_LEN, OidcRequest, StateId, now_epoch_seconds};
use crate::query::parse_query;
use crate::return_url::ReturnUrl;
use crate::scope::{ResponseMode, Scope};
use crate::wechat::authorize_url;

/// The start of a login: where to send the user, and the browser-binding cookie to set
/// (unless binding is off).
pub struct StartedLogin {
    pub authorize_url: String,
    pub set_cookie: Option<String>,
    /// The name of the app the login goes through (for the logs).
    pub app: String,
}

/// What a login is started with, whichever route started it.
pub(crate) struct NewLogin<'a> {
    pub app: &'a WeChatApp,
    pub scope: Scope,
    pub return_url: ReturnUrl,
    pub response_mode: ResponseMode,
    pub nonce: Option<String>,
    pub oidc: Option<OidcRequest>,
}

/// What `/auth` reads besides its query.
pub struct StartRequest<'a> {
    pub raw_query: Option<&'a str>,
    /// Decides `scope=auto`.
    pub user_agent: Option<&'a str>,
}

pub async fn start_login(
    gateway: &Gateway,
    request: StartRequest<'_>,
    base_url: &BaseUrl,
) -> Result<StartedLogin, RequestError> {
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
        ],
    )?;
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
    };
    begin(gateway, login, base_url).await
}

/// A nonce is carried into a token as it came: 1 to [`MAX_NONCE_LEN`] printable ASCII
/// characters.
pub(crate) fn is_nonce(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_NONCE_LEN
        && value.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

/// Stores the login under a fresh state and builds the way to WeChat.
pub(crate) async fn begin(
    gateway: &Gateway,
    new: NewLogin<'_>,
    base_url: &BaseUrl,
) -> Result<StartedLogin, RequestError> {
    let config = gateway.config();
    let state = StateId::generate();
    let cookie = config
        .browser_binding
        .then(|| BindingCookie::generate(&state, base_url));
    let login = LoginState {
        state,
        app: new.app.name.clone(),
        scope: new.scope,
        return_url: new.return_url,
        response_mode: new.response_mode,
        expires_at: now_epoch_seconds() + config.state_ttl.as_secs() as i64,
        browser_binding: cookie.as_ref().map(BindingCookie::hash),
        nonce: new.nonce,
        oidc: new.oidc,
    };
    gateway.store().put_new(&login).await?;
    let authorize_url = authorize_url(
        &config.wechat_open_base,
        &new.app.app_id,
        &base_url.join(new.scope.callback_path()),
        new.scope,
        &login.state,
    );
    let set_cookie = cookie.map(|c| c.set_cookie(base_url, new.scope, config.state_ttl.as_secs()));
    Ok(StartedLogin {
        authorize_url,
        set_cookie,
        app: new.app.name.clone(),
    })
}
