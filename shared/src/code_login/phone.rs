//! The verified phone number of a Mini Program's user: the phone code traded at
//! `getuserphonenumber` with the app's shared access token (`crate::app_token`), once
//! more with a replaced token when WeChat says the first is stale, and every failure told
//! as what the client can do. Neither the token nor the phone code nor the number reaches
//! a log line.

use http::StatusCode;
use tokio::time::Instant;

use super::answer::{UNAVAILABLE_RETRY_SECONDS, error};
use crate::app_token::{AppTokenError, SharedAppToken};
use crate::response::GatewayResponse;
use crate::secret::Secret;
use crate::wechat::{ErrorClass, WeChatClient, WeChatError};

/// Why no phone number came.
#[derive(Debug)]
pub(super) enum PhoneFailure {
    /// The app's access token could not be had.
    Token(AppTokenError),
    /// `getuserphonenumber` refused or failed.
    Lookup(WeChatError),
}

/// The user's phone number in E.164.
pub(super) async fn verified_phone(
    tokens: &SharedAppToken<'_>,
    client: &WeChatClient,
    phone_code: &Secret,
    deadline: Instant,
) -> Result<String, PhoneFailure> {
    let token = tokens
        .current(deadline)
        .await
        .map_err(PhoneFailure::Token)?;
    match client.phone_number(&token, phone_code, deadline).await {
        // WeChat refused the token before it looked at the code: the code is unspent.
        Err(err) if err.is_stale_app_token() => {
            tracing::info!(
                errcode = err.errcode(),
                "WeChat refused the app access token; replacing it once"
            );
            let replaced = tokens
                .replace(&token, deadline)
                .await
                .map_err(PhoneFailure::Token)?;
            client
                .phone_number(&replaced, phone_code, deadline)
                .await
                .map_err(PhoneFailure::Lookup)
        }
        other => other.map_err(PhoneFailure::Lookup),
    }
}

/// 40164: the address the call came from is not on the app's IP allowlist.
const IP_NOT_ALLOWLISTED: i64 = 40164;

impl PhoneFailure {
    /// WeChat's errcode, for the log line.
    pub(super) fn errcode(&self) -> Option<i64> {
        match self {
            Self::Token(AppTokenError::WeChat(err)) | Self::Lookup(err) => err.errcode(),
            Self::Token(_) => None,
        }
    }

    /// The answer the client gets, and the `outcome` its log line records.
    pub(super) fn response(&self) -> (GatewayResponse, &'static str) {
        let unavailable = |description: &str| {
            let response = error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                description,
                Some(UNAVAILABLE_RETRY_SECONDS),
            );
            (response, "temporarily_unavailable")
        };
        let operator = |description: &str| {
            let response = error(StatusCode::BAD_GATEWAY, "server_error", description, None);
            (response, "server_error")
        };
        if self.errcode() == Some(IP_NOT_ALLOWLISTED) {
            return operator(
                "WeChat refused the gateway's IP address: the app's IP allowlist (IP白名单) must list the gateway's egress address; contact the site's operator",
            );
        }
        let err = match self {
            Self::Token(AppTokenError::Store(err)) => {
                let retry = err.is_transient().then_some(UNAVAILABLE_RETRY_SECONDS);
                let response = error(err.status(), err.oauth_error(), err.description(), retry);
                return (response, err.oauth_error());
            }
            Self::Token(AppTokenError::Busy) => {
                return unavailable(
                    "the app's WeChat access token is being fetched; try again shortly",
                );
            }
            Self::Token(AppTokenError::WeChat(err)) => {
                if err.class() == ErrorClass::ServerError {
                    return operator(
                        "WeChat refused the app's access token to the gateway (AppID, AppSecret); contact the site's operator",
                    );
                }
                return unavailable("WeChat is unavailable or busy right now; try again shortly");
            }
            Self::Lookup(err) => err,
        };
        if err.is_rate_limit() {
            let response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                "WeChat limits how often the phone number is asked for; wait before trying again",
                Some(super::answer::RATE_LIMIT_RETRY_SECONDS),
            );
            return (response, "slow_down");
        }
        if err.is_stale_app_token() {
            // Refused twice, with a token fetched just now: WeChat's side, not the client's.
            return unavailable("WeChat refused the app's access token; try again shortly");
        }
        match err.class() {
            ErrorClass::InvalidGrant => {
                let response = error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "WeChat did not accept the phone_code (invalid, already used or expired); ask for the phone number again",
                    None,
                );
                (response, "invalid_grant")
            }
            ErrorClass::TemporarilyUnavailable => {
                unavailable("WeChat is unavailable or busy right now; try again shortly")
            }
            ErrorClass::ServerError => operator(
                "WeChat refused the phone number to this app (a verified, non-individual Mini Program with the feature's quota is needed); contact the site's operator",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    fn api(errcode: i64) -> WeChatError {
        WeChatError::Api {
            errcode,
            errmsg: "x".into(),
        }
    }

    fn told(failure: PhoneFailure) -> (u16, String, Option<String>, String) {
        let (response, outcome) = failure.response();
        let body: serde_json::Value = serde_json::from_str(response.body()).unwrap();
        assert_eq!(body["error"], outcome);
        let retry = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        (
            response.status().as_u16(),
            outcome.to_owned(),
            retry,
            body["error_description"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn every_class_of_phone_failure_has_its_status_and_none_is_a_500_from_wechat() {
        use PhoneFailure::{Lookup, Token};
        let cases = [
            (Lookup(api(40029)), 400, "invalid_grant", None, "phone_code"),
            (Lookup(api(40163)), 400, "invalid_grant", None, "phone_code"),
            (
                Lookup(api(45011)),
                429,
                "slow_down",
                Some("60"),
                "phone number",
            ),
            (
                Lookup(api(-1)),
                503,
                "temporarily_unavailable",
                Some("1"),
                "busy",
            ),
            (
                Lookup(WeChatError::Timeout),
                503,
                "temporarily_unavailable",
                Some("1"),
                "busy",
            ),
            (
                Lookup(WeChatError::HttpStatus(502)),
                503,
                "temporarily_unavailable",
                Some("1"),
                "busy",
            ),
            (
                Lookup(api(40001)),
                503,
                "temporarily_unavailable",
                Some("1"),
                "access token",
            ),
            (
                Lookup(api(42001)),
                503,
                "temporarily_unavailable",
                Some("1"),
                "access token",
            ),
            (
                Lookup(api(40164)),
                502,
                "server_error",
                None,
                "IP allowlist",
            ),
            (Lookup(api(48001)), 502, "server_error", None, "verified"),
            (
                Token(AppTokenError::WeChat(api(40164))),
                502,
                "server_error",
                None,
                "IP allowlist",
            ),
            (
                Token(AppTokenError::WeChat(api(40125))),
                502,
                "server_error",
                None,
                "AppSecret",
            ),
            (
                Token(AppTokenError::WeChat(api(45009))),
                503,
                "temporarily_unavailable",
                Some("1"),
                "busy",
            ),
            (
                Token(AppTokenError::WeChat(WeChatError::Timeout)),
                503,
                "temporarily_unavailable",
                Some("1"),
                "busy",
            ),
            (
                Token(AppTokenError::Busy),
                503,
                "temporarily_unavailable",
                Some("1"),
                "being fetched",
            ),
            (
                Token(AppTokenError::Store(StoreError::Unavailable(
                    "10.0.0.1".into(),
                ))),
                503,
                "temporarily_unavailable",
                Some("1"),
                "store",
            ),
            (
                Token(AppTokenError::Store(StoreError::Misconfigured(
                    "arn:x".into(),
                ))),
                500,
                "server_error",
                None,
                "store",
            ),
        ];
        for (failure, status, code, retry, says) in cases {
            let shown = format!("{failure:?}");
            let (s, c, r, description) = told(failure);
            assert_eq!(
                (s, c.as_str(), r.as_deref()),
                (status, code, retry),
                "{shown}"
            );
            assert!(description.contains(says), "{shown}: {description}");
        }
    }
}
