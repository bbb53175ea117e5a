//! `POST /login/code`: login for Mini Programs and mobile apps. The client SDK hands the
//! app a code (`wx.login()`, OpenSDK `SendAuth`), the app posts it here, and the gateway
//! trades it with WeChat and answers the same signed result token as the redirect mode,
//! for the app's `token_audience`. Nothing of the login is stored: the code is WeChat's to
//! spend once, and WeChat's `session_key` is never read out of its reply. With a
//! `phone_code` a Mini Program's answer adds the verified phone number, for which the
//! app's access token is shared through the table (`crate::app_token`).
//!
//! Its rooms: `request.rs` (the body and the app), `exchange.rs` (WeChat, by kind),
//! `phone.rs` (the phone number), `answer.rs` (the token or the error).

mod answer;
mod exchange;
mod phone;
mod request;

pub use request::MAX_BODY_BYTES;

use crate::app_token::SharedAppToken;
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
            let phone_number = match &read.phone_code {
                None => None,
                Some(phone_code) => {
                    // Required wherever the code login is served (`config::login_keys`).
                    let Some(key) = config.sealing_key.as_ref() else {
                        tracing::error!(app = %app.name, "no SEALING_KEY for the shared app token");
                        return Handled::new(
                            answer::server_error(),
                            Log::plain("server_error").with_app(&app.name),
                        );
                    };
                    let tokens = SharedAppToken {
                        store: gateway.store(),
                        client,
                        key,
                    };
                    match phone::verified_phone(&tokens, client, phone_code, deadline).await {
                        Ok(number) => Some(number),
                        Err(failure) => {
                            tracing::warn!(app = %app.name, error = ?failure, "WeChat did not give the phone number");
                            let (response, outcome) = failure.response();
                            let log = Log {
                                wx_errcode: failure.errcode(),
                                ..Log::for_user(outcome, &signed_in.openid).with_app(&app.name)
                            };
                            return Handled::new(response, log);
                        }
                    }
                }
            };
            let log = Log::for_user("signed_in", &signed_in.openid).with_app(&app.name);
            let answer = SignedInAnswer {
                config,
                app,
                issuer,
                nonce: read.nonce,
                phone_number,
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
