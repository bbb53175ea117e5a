//! What `POST /login/code` answers: the openid, the unionid, the AppID and a signed result
//! token (with the profile for a mobile app that reads it, the verified phone number for
//! a Mini Program asked for it), or a JSON error whose status
//! says what the client can do: start again (400 `invalid_grant`), wait (429 `slow_down`),
//! retry shortly (503 `temporarily_unavailable`), give up for this user (403
//! `access_denied`), or tell an operator (502 `server_error`: WeChat refused the gateway's
//! own credentials; nothing WeChat says is a 500).

use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use super::exchange::CodeSignedIn;
use crate::apps::WeChatApp;
use crate::base_url::BaseUrl;
use crate::config::Config;
use crate::response::{self, GatewayResponse};
use crate::result_token::sign_result;
use crate::token::{ResultClaims, TOKEN_LIFETIME_SECONDS, new_token_id};
use crate::wechat::{ErrorClass, WeChatError};

/// How long a client should wait after WeChat's rate limit (about 100 logins a minute per
/// user), and after WeChat was busy or slow.
pub(super) const RATE_LIMIT_RETRY_SECONDS: &str = "60";
pub(super) const UNAVAILABLE_RETRY_SECONDS: &str = "1";

/// The signed-in answer (200).
pub(super) struct SignedInAnswer<'a> {
    pub config: &'a Config,
    pub app: &'a WeChatApp,
    pub issuer: &'a BaseUrl,
    pub nonce: Option<String>,
    /// E.164, when the request brought a phone code and WeChat verified the number.
    pub phone_number: Option<String>,
    pub now: i64,
}

impl SignedInAnswer<'_> {
    pub(super) fn response(self, signed_in: CodeSignedIn) -> GatewayResponse {
        let code_login = self
            .app
            .code_login
            .as_ref()
            .expect("a code-login app has its rules (apps/code_rules.rs)");
        let profile = signed_in.profile.unwrap_or_default();
        let claims = ResultClaims {
            iss: self.issuer.as_str().to_owned(),
            aud: code_login.token_audience.clone(),
            sub: signed_in.openid.clone(),
            iat: self.now,
            exp: self.now + TOKEN_LIFETIME_SECONDS,
            jti: new_token_id(),
            scope: code_login.scope_claim().to_owned(),
            appid: self.app.app_id.clone(),
            unionid: signed_in.unionid.clone(),
            nickname: profile.nickname.clone(),
            headimgurl: profile.headimgurl.clone(),
            is_snapshotuser: None,
            nonce: self.nonce,
            phone_number_verified: self.phone_number.is_some().then_some(true),
            phone_number: self.phone_number.clone(),
        };
        let token = sign_result(self.config, &claims);
        let mut body = json!({
            "openid": signed_in.openid,
            "appid": self.app.app_id,
            "token": token,
            "expires_in": TOKEN_LIFETIME_SECONDS,
        });
        let optional = [
            ("unionid", signed_in.unionid.map(Value::from)),
            ("nickname", profile.nickname.map(Value::from)),
            ("sex", profile.sex.map(Value::from)),
            ("province", profile.province.map(Value::from)),
            ("city", profile.city.map(Value::from)),
            ("country", profile.country.map(Value::from)),
            ("headimgurl", profile.headimgurl.map(Value::from)),
            (
                "phone_number_verified",
                self.phone_number.is_some().then_some(Value::Bool(true)),
            ),
            ("phone_number", self.phone_number.map(Value::from)),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                body[name] = value;
            }
        }
        response::json(StatusCode::OK, &body)
    }
}

/// The refusal of a request WeChat was not asked about (400 `invalid_request`).
pub(super) fn invalid_request(description: &str) -> GatewayResponse {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
        None,
    )
}

/// The gateway cannot ask WeChat for this app (its configuration is wrong): 500.
pub(super) fn server_error() -> GatewayResponse {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "the login gateway is misconfigured for this app; contact the site's operator",
        None,
    )
}

/// WeChat's failure as the client is told it, and the `outcome` its log line records.
pub(super) fn failure(err: &WeChatError) -> (GatewayResponse, &'static str) {
    if err.is_rate_limit() {
        let response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "slow_down",
            "WeChat limits how often one user logs in; wait before trying again",
            Some(RATE_LIMIT_RETRY_SECONDS),
        );
        return (response, "slow_down");
    }
    if err.is_blocked_user() {
        let response = error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "WeChat refused to log this user in (a blocked high-risk account)",
            None,
        );
        return (response, "access_denied");
    }
    let class = err.class();
    let (status, retry_after) = match class {
        ErrorClass::InvalidGrant => (StatusCode::BAD_REQUEST, None),
        ErrorClass::TemporarilyUnavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            Some(UNAVAILABLE_RETRY_SECONDS),
        ),
        ErrorClass::ServerError => (StatusCode::BAD_GATEWAY, None),
    };
    let response = error(status, class.as_str(), class.description(), retry_after);
    (response, class.as_str())
}

pub(super) fn error(
    status: StatusCode,
    code: &str,
    description: &str,
    retry_after: Option<&'static str>,
) -> GatewayResponse {
    let mut response = response::json(
        status,
        &json!({"error": code, "error_description": description}),
    );
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(errcode: i64) -> WeChatError {
        WeChatError::Api {
            errcode,
            errmsg: "x".into(),
        }
    }

    fn told(err: WeChatError) -> (u16, String, Option<String>) {
        let (response, _) = failure(&err);
        let body: Value = serde_json::from_str(response.body()).unwrap();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        (
            response.status().as_u16(),
            body["error"].as_str().unwrap().to_owned(),
            retry,
        )
    }

    #[test]
    fn every_class_of_wechat_failure_has_its_status_and_none_is_a_500() {
        let cases = [
            (api(40029), 400, "invalid_grant", None),
            (api(40163), 400, "invalid_grant", None),
            (api(45011), 429, "slow_down", Some("60")),
            (api(40226), 403, "access_denied", None),
            (api(-1), 503, "temporarily_unavailable", Some("1")),
            (
                WeChatError::HttpStatus(502),
                503,
                "temporarily_unavailable",
                Some("1"),
            ),
            (
                WeChatError::Timeout,
                503,
                "temporarily_unavailable",
                Some("1"),
            ),
            (
                WeChatError::Malformed("x".into()),
                503,
                "temporarily_unavailable",
                Some("1"),
            ),
            (api(40125), 502, "server_error", None),
            (api(40013), 502, "server_error", None),
            (WeChatError::HttpStatus(404), 502, "server_error", None),
        ];
        for (err, status, code, retry) in cases {
            let shown = format!("{err:?}");
            assert_eq!(
                told(err),
                (status, code.to_owned(), retry.map(str::to_owned)),
                "{shown}"
            );
        }
    }
}
