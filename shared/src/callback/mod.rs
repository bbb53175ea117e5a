//! WeChat's callbacks (`GET /getOpenId`, `/getWxUserInfo`, `/getQrUserInfo`): consume the
//! state, trade the code with WeChat, and send the user back with the answer of the mode
//! that started the login: the redirect mode's result (`redirect/result.rs`) or the
//! OpenID Provider's code (`oidc/issue_code.rs`).
//!
//! A repeat of the same callback (same state, same code, same browser) within
//! [`REPLAY_WINDOW_SECONDS`] gets the same answer without asking WeChat again
//! ([`repeat`]).

mod recheck;
mod repeat;
pub mod sealed_answer;

use tracing::warn;

use crate::base_url::BaseUrl;
use crate::error::{RequestError, StateProblem};
use crate::gateway::Gateway;
use crate::handled::{Handled, Log};
use crate::lang::Lang;
use crate::login::browser_binding;
use crate::login::deadline::CallbackDeadline;
use crate::login::outcome::{AtWeChat, Outcome, ResultFields};
use crate::login_state::{Consumed, LoginState, StateId, now_epoch_seconds};
use crate::oidc::issue_code::ProviderAnswer;
use crate::query::parse_query;
use crate::redirect::result::RedirectAnswer;
use crate::response;
use crate::scope::Scope;
use crate::store::{BrowserCheck, Claim};

use recheck::{restartable, return_still_allowed, why_not_consumed};
use repeat::Repeat;
use sealed_answer::{REPLAY_WINDOW_SECONDS, seal};

/// What a callback request carries that matters here.
pub struct CallbackRequest<'a> {
    pub raw_query: Option<&'a str>,
    pub cookie_header: Option<&'a str>,
    /// The language of a `form_post` page.
    pub accept_language: Option<&'a str>,
}

pub(crate) async fn finish_login(
    gateway: &Gateway,
    scope: Scope,
    request: CallbackRequest<'_>,
    base_url: &BaseUrl,
) -> Result<Handled, RequestError> {
    let deadline = CallbackDeadline::starting_now();
    // A process that only starts logins holds no secrets and serves no callback.
    let (clients, sealing_key) = gateway.finisher().ok_or(RequestError::NotFound)?;
    let params = parse_query(request.raw_query, &["code", "state"])?;
    let state = params.get("state").ok_or(RequestError::Missing("state"))?;
    let state = StateId::parse(state).ok_or(StateProblem::Malformed)?;
    let code = params.get("code").map(String::as_str);
    let cookie = browser_binding::find_cookie(request.cookie_header, &state, base_url);
    let cookie_hash = cookie.map(browser_binding::hash);
    let config = gateway.config();
    let claim = Claim {
        scope,
        now: now_epoch_seconds(),
        browser: match (&cookie_hash, config.browser_binding) {
            (_, false) => BrowserCheck::Off,
            (Some(hash), true) => BrowserCheck::Hash(hash),
            (None, true) => BrowserCheck::NoCookie,
        },
    };
    let now = claim.now;
    let answered = |login: LoginState, fields: ResultFields, outcome: Outcome| Answered {
        login,
        fields,
        outcome,
    };

    let consumed = deadline
        .store(
            gateway
                .store()
                .consume(&state, &claim, now + REPLAY_WINDOW_SECONDS),
        )
        .await?;
    let login = match consumed {
        Consumed::Unknown => return Err(StateProblem::Unknown.into()),
        // Nothing was consumed: the real browser can still finish this login.
        Consumed::Kept(login) => {
            let problem = why_not_consumed(&login, &claim);
            return Err(restartable(config, problem, &login));
        }
        Consumed::Used {
            login,
            consumed_at,
            outcome,
        } => {
            let mut repeat = Repeat {
                login,
                consumed_at,
                outcome,
            };
            let fields = repeat
                .answer(gateway, sealing_key, &claim, code, &deadline)
                .await?;
            let repeated = answered(repeat.login, fields, Outcome::Repeated);
            return Ok(repeated.into_handled(cookie, base_url, request.accept_language));
        }
        Consumed::Fresh(login) => login,
    };
    // The app may have been removed from the configuration since the login started.
    let Some((app, wechat)) = config.apps.get(&login.app).zip(clients.for_app(&login.app)) else {
        record(gateway, &deadline, &state, &[]).await;
        return Err(StateProblem::AppRemoved.into());
    };
    // Checked when the login started, and again now.
    if !return_still_allowed(config, &login) {
        // An empty outcome tells a repeat there is nothing to wait for.
        record(gateway, &deadline, &state, &[]).await;
        return Err(StateProblem::ReturnUrlNotAllowed.into());
    }

    let at_wechat = match code {
        None => AtWeChat::Declined,
        Some(code) => {
            let wechat_deadline = deadline.for_wechat(config.wechat_timeout);
            match wechat.sign_in(scope, code, wechat_deadline).await {
                Ok(signed_in) => AtWeChat::SignedIn(signed_in),
                Err(err) => AtWeChat::Failed(err),
            }
        }
    };
    let (fields, outcome) = match &login.oidc {
        None => RedirectAnswer {
            config,
            login: &login,
            app_id: &app.app_id,
            issuer: base_url,
            now,
        }
        .answer(at_wechat),
        Some(oidc) => {
            ProviderAnswer {
                gateway,
                deadline: &deadline,
                login: &login,
                oidc,
                issuer: base_url,
                now,
            }
            .answer(at_wechat)
            .await
        }
    };
    let sealed = seal(&fields, sealing_key, &state, code.unwrap_or(""));
    record(gateway, &deadline, &state, &sealed).await;
    let finished = answered(login, fields, outcome);
    Ok(finished.into_handled(cookie, base_url, request.accept_language))
}

/// A callback's answer: where the user goes back to, with what.
struct Answered {
    login: LoginState,
    fields: ResultFields,
    outcome: Outcome,
}

impl Answered {
    fn into_handled(
        self,
        cookie: Option<&str>,
        base_url: &BaseUrl,
        accept_language: Option<&str>,
    ) -> Handled {
        let login = &self.login;
        let lang = Lang::from_accept_language(accept_language);
        let mut response =
            response::result(&login.return_url, login.response_mode, &self.fields, lang);
        if let (Outcome::SignedIn { .. } | Outcome::Refused | Outcome::Failed(_), Some(cookie)) =
            (&self.outcome, cookie)
        {
            // Keep the binding cookie only as long as a repeat may still come.
            let refreshed = browser_binding::refresh_cookie(
                &login.state,
                cookie,
                base_url,
                REPLAY_WINDOW_SECONDS as u64,
            );
            response = response::with_cookies(response, &[refreshed]);
        }
        Handled::new(response, Log::from(&self.outcome).with_app(&login.app))
    }
}

/// Keeps a callback's sealed outcome for a repeat of it, within the callback's deadline.
/// A failure costs only that repeat (it will be refused): this answer is still right.
async fn record(gateway: &Gateway, deadline: &CallbackDeadline, state: &StateId, sealed: &[u8]) {
    let recorded = deadline
        .store(gateway.store().record_outcome(state, sealed))
        .await;
    if let Err(err) = recorded {
        warn!(error = %err, "could not keep the outcome for a repeated callback");
    }
}
