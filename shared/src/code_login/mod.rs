//! `POST /login/code`: login for Mini Programs and mobile apps. The client SDK hands the
//! app a code (`wx.login()`, OpenSDK `SendAuth`), the app posts it here, and the gateway
//! trades it with WeChat and answers the same signed result token as the redirect mode,
//! for the app's `token_audience`. Nothing is stored: the code is WeChat's to spend once,
//! and WeChat's `session_key` is never read out of its reply.
//!
//! Its rooms: `request.rs` (the body and the app), `exchange.rs` (WeChat, by kind),
//! `answer.rs` (the token or the error).

mod answer;
mod exchange;
mod request;

pub use request::MAX_BODY_BYTES;

use crate::base_url::BaseUrl;
use crate::gateway::Gateway;
use crate::handled::{Handled, Log};
use crate::login::deadline::CALLBACK_BUDGET;
use crate::login_state::now_epoch_seconds;
use answer::SignedInAnswer;

/// What the route reads of the request.
pub(crate) struct CodeLoginRequest<'a> {
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

pub(crate) async fn code_login(
    gateway: &Gateway,
    request: CodeLoginRequest<'_>,
    issuer: &BaseUrl,
) -> Handled {
    let config = gateway.config();
    let read = match request::read(&config.apps, request.content_type, request.body) {
        Ok(read) => read,
        Err(description) => {
            tracing::info!(reason = %description, "code login refused");
            return Handled::new(
                answer::invalid_request(&description),
                Log::plain("rejected"),
            );
        }
    };
    let app = read.app;
    let Some(client) = gateway
        .wechat_clients()
        .and_then(|clients| clients.for_app(&app.name))
    else {
        // Served only where these apps' AppSecrets are (`Serves::serves`,
        // `Serves::keeps_app_secret`); an app without its client here is the
        // configuration's fault.
        tracing::error!(app = %app.name, "no WeChat client for a code-login app");
        return Handled::new(
            answer::server_error(),
            Log::plain("server_error").with_app(&app.name),
        );
    };
    let deadline = tokio::time::Instant::now() + CALLBACK_BUDGET;
    match exchange::exchange(client, app, &read.code, deadline).await {
        Ok(signed_in) => {
            let log = Log::for_user("signed_in", &signed_in.openid).with_app(&app.name);
            let answer = SignedInAnswer {
                config,
                app,
                issuer,
                nonce: read.nonce,
                now: now_epoch_seconds(),
            };
            Handled::new(answer.response(signed_in), log)
        }
        Err(err) => {
            tracing::warn!(app = %app.name, error = %err, "WeChat did not log the user in");
            let (response, outcome) = answer::failure(&err);
            let log = Log {
                wx_errcode: err.errcode(),
                ..Log::plain(outcome).with_app(&app.name)
            };
            Handled::new(response, log)
        }
    }
}
