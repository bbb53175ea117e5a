//! The start of every login, whichever route asked for it: a fresh state, the login stored
//! under it, the browser-binding cookie, and the way to WeChat's consent page.

use crate::apps::WeChatApp;
use crate::base_url::BaseUrl;
use crate::error::RequestError;
use crate::gateway::Gateway;
use crate::handled::{Handled, Log};
use crate::login_state::{LoginState, MAX_NONCE_LEN, OidcRequest, StateId, now_epoch_seconds};
use crate::response;
use crate::return_url::ReturnUrl;
use crate::scope::{ResponseMode, Scope};
use crate::wechat::authorize_url;

use super::browser_binding::{self, BindingCookie};

/// The start of a login: where to send the user, and the browser-binding cookies to set
/// (unless binding is off): the new one, and the oldest pending ones expired.
pub struct StartedLogin {
    pub authorize_url: String,
    pub set_cookies: Vec<String>,
    /// The name of the app the login goes through (for the logs).
    pub app: String,
}

impl StartedLogin {
    /// The user on the way to WeChat, with the binding cookie.
    pub(crate) fn into_handled(self) -> Handled {
        let redirect = response::redirect(&self.authorize_url);
        Handled::new(
            response::with_cookies(redirect, &self.set_cookies),
            Log::plain("login_started").with_app(&self.app),
        )
    }
}

/// What a login is started with, whichever route started it.
pub(crate) struct NewLogin<'a> {
    pub app: &'a WeChatApp,
    pub scope: Scope,
    pub return_url: ReturnUrl,
    pub response_mode: ResponseMode,
    pub nonce: Option<String>,
    pub oidc: Option<OidcRequest>,
    /// The browser's `Cookie` header: the binding cookies of its pending logins.
    pub cookie_header: Option<&'a str>,
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
    // The cookie lives as long as the login can still finish, and no longer.
    let set_cookies = match cookie {
        Some(cookie) => {
            let mut set = browser_binding::expire_oldest(new.cookie_header, base_url);
            set.push(cookie.set_cookie(base_url, config.state_ttl.as_secs()));
            set
        }
        None => Vec::new(),
    };
    Ok(StartedLogin {
        authorize_url,
        set_cookies,
        app: new.app.name.clone(),
    })
}
