//! What a callback checks again about a stored login before it answers: that its return
//! URL is still allowed (the allowlist may have been narrowed since `/auth`, and a stored
//! URL is only as trustworthy as the table it came from), and why a login the store kept
//! could not be consumed.

use crate::config::Config;
use crate::error::{RequestError, StateProblem};
use crate::login_state::LoginState;
use crate::store::Claim;

/// Whether the login's return URL may still be used: for the redirect mode its origin is
/// on the allowlist, for an OpenID Connect login the client still registers it.
pub(crate) fn return_still_allowed(config: &Config, login: &LoginState) -> bool {
    match &login.oidc {
        None => return_url_still_allowed(config, login),
        Some(oidc) => config
            .oidc
            .clients
            .as_ref()
            .and_then(|clients| clients.get(&oidc.client_id))
            .and_then(|client| client.redirect_uri(&oidc.redirect_uri))
            .is_some_and(|registered| registered == &login.return_url),
    }
}

/// Whether the login's app (still configured) allows its return URL (its origin, and its
/// path where the entry names one) and its response mode.
fn return_url_still_allowed(config: &Config, login: &LoginState) -> bool {
    config.apps.get(&login.app).is_some_and(|app| {
        app.allowed_origins.allows(login.return_url.url())
            && app.response_modes.allows(login.response_mode)
    })
}

/// A refused state, with the way back to the page that started the login when that is a
/// redirect-mode login whose return URL is still allowed (a relying party's redirect URI
/// is no page to start again from).
pub(crate) fn restartable(
    config: &Config,
    problem: StateProblem,
    login: &LoginState,
) -> RequestError {
    let allowed = return_url_still_allowed(config, login);
    if login.oidc.is_none() && allowed && problem != StateProblem::ReturnUrlNotAllowed {
        RequestError::Restartable {
            problem,
            restart: Box::new(login.return_url.clone()),
        }
    } else {
        problem.into()
    }
}

/// Why a login the store kept could not be consumed by this claim.
pub(crate) fn why_not_consumed(login: &LoginState, claim: &Claim<'_>) -> StateProblem {
    if login.is_expired(claim.now) {
        StateProblem::Expired
    } else if login.scope != claim.scope {
        StateProblem::WrongRoute
    } else {
        StateProblem::OtherBrowser
    }
}
