//! `GET /auth`: check where the user wants to go back to, remember it under a fresh state,
//! and send the user to WeChat's consent page.

use crate::base_url::BaseUrl;
use crate::browser_binding::BindingCookie;
use crate::error::RequestError;
use crate::gateway::Gateway;
use crate::login_state::{LoginState, StateId, now_epoch_seconds};
use crate::query::parse_query;
use crate::return_url::ReturnUrl;
use crate::scope::{ResponseMode, Scope};
use crate::wechat::authorize_url;

/// The start of a login: where to send the user, and the browser-binding cookie to set
/// (unless binding is off).
pub struct StartedLogin {
    pub authorize_url: String,
    pub set_cookie: Option<String>,
}

pub async fn start_login(
    gateway: &Gateway,
    raw_query: Option<&str>,
    base_url: &BaseUrl,
) -> Result<StartedLogin, RequestError> {
    let config = gateway.config();
    let params = parse_query(raw_query, &["url", "scope", "response_mode"])?;
    let url = params.get("url").ok_or(RequestError::Missing("url"))?;
    let return_url = ReturnUrl::parse(url, &config.allowed_origins)?;
    let scope = params.get("scope").ok_or(RequestError::Missing("scope"))?;
    let scope = Scope::parse(scope).ok_or(RequestError::Scope)?;
    let response_mode = match params.get("response_mode") {
        None => ResponseMode::default(),
        Some(mode) => ResponseMode::parse(mode).ok_or(RequestError::ResponseMode)?,
    };
    let state = StateId::generate();
    let cookie = config
        .browser_binding
        .then(|| BindingCookie::generate(&state, base_url));
    let login = LoginState {
        state,
        scope,
        return_url,
        response_mode,
        expires_at: now_epoch_seconds() + config.state_ttl.as_secs() as i64,
        browser_binding: cookie.as_ref().map(BindingCookie::hash),
    };
    gateway.store().put_new(&login).await?;
    let authorize_url = authorize_url(
        &config.wechat_open_base,
        &config.app_id,
        &base_url.join(scope.callback_path()),
        scope,
        &login.state,
    );
    let set_cookie = cookie.map(|c| c.set_cookie(base_url, scope, config.state_ttl.as_secs()));
    Ok(StartedLogin {
        authorize_url,
        set_cookie,
    })
}
