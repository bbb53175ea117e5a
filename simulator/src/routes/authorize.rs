//! The browser side: `open.weixin.qq.com/connect/oauth2/authorize` and the
//! consent sheet's confirm step. Problems here are shown to the user as HTML
//! (HTTP 200, like WeChat); the caller's redirect_uri is never called back.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::html::{self, ConsentForm, PageError};
use crate::identity;
use crate::params::Params;
use crate::{Scope, SimulatorConfig, WeChatSimulator};

const MAX_STATE_BYTES: usize = 128;

/// A request that passed every check WeChat makes before showing anything.
struct AuthorizeRequest<'a> {
    appid: &'a str,
    redirect_uri: &'a str,
    redirect: Url,
    response_type: &'a str,
    scope: Scope,
    state: Option<&'a str>,
}

fn validate<'a>(
    config: &SimulatorConfig,
    params: &'a Params,
) -> Result<AuthorizeRequest<'a>, PageError> {
    let appid = params.get("appid").ok_or_else(|| {
        PageError::coded(10012, "appid_missing", "appid 不能为空 (appid is empty)")
    })?;
    if appid != config.app_id {
        return Err(PageError::coded(
            40013,
            "invalid_appid",
            "appid 参数错误 (invalid appid)",
        ));
    }

    let redirect_uri = params.get("redirect_uri").ok_or_else(|| {
        PageError::coded(
            10011,
            "redirect_uri_missing",
            "redirect_uri 不能为空 (redirect_uri is empty)",
        )
    })?;
    let redirect = Url::parse(redirect_uri)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .ok_or_else(|| {
            PageError::uncoded(
                "invalid_redirect_uri",
                "redirect_uri 参数错误 (redirect_uri must be an absolute http(s) URL)",
            )
        })?;
    if let Some(domain) = &config.registered_callback_domain {
        let host = redirect.host_str().unwrap_or_default();
        if !host.eq_ignore_ascii_case(domain.trim()) {
            return Err(PageError::coded(
                10003,
                "redirect_uri_domain_mismatch",
                "redirect_uri 域名与后台配置不一致 \
                 (redirect_uri domain differs from the registered one)",
            ));
        }
    }

    let response_type = params.get("response_type").unwrap_or_default();
    if response_type != "code" {
        return Err(PageError::uncoded(
            "invalid_response_type",
            "response_type 参数错误 (response_type must be code)",
        ));
    }

    let scope = params.get("scope").ok_or_else(|| {
        PageError::coded(10010, "scope_missing", "scope 不能为空 (scope is empty)")
    })?;
    let scope = Scope::from_wire(scope).ok_or_else(|| {
        PageError::coded(
            10005,
            "scope_unauthorized",
            "此公众号并没有这些 scope 的权限 (no permission for this scope)",
        )
    })?;

    let state = params.get("state");
    let state_ok =
        |s: &str| s.len() <= MAX_STATE_BYTES && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if !state.is_none_or(state_ok) {
        return Err(PageError::uncoded(
            "invalid_state",
            "state 参数错误 (state must be a-zA-Z0-9, at most 128 bytes)",
        ));
    }

    Ok(AuthorizeRequest {
        appid,
        redirect_uri,
        redirect,
        response_type,
        scope,
        state,
    })
}

impl AuthorizeRequest<'_> {
    /// WeChat appends to whatever query the redirect_uri already has, and
    /// always sends `state` (empty when none was given). A denial has no code.
    fn callback(&self, code: Option<&str>) -> Response {
        let mut url = self.redirect.clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(code) = code {
                query.append_pair("code", code);
            }
            query.append_pair("state", self.state.unwrap_or_default());
        }
        found(url.as_str())
    }
}

fn found(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) async fn authorize(
    State(sim): State<WeChatSimulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let request = match validate(sim.config(), &params) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let user = identity::browser_user(&headers, &params);
    match request.scope {
        Scope::Base => {
            let code = sim.issue_code(&user, Scope::Base);
            request.callback(Some(&code))
        }
        Scope::UserInfo => html::consent_page(&ConsentForm {
            appid: request.appid,
            redirect_uri: request.redirect_uri,
            response_type: request.response_type,
            scope: request.scope.as_str(),
            state: request.state,
            sim_user: &user,
        }),
    }
}

pub(super) async fn confirm(
    State(sim): State<WeChatSimulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let request = match validate(sim.config(), &params) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    match params.get("decision") {
        Some("allow") => {
            let user = identity::browser_user(&headers, &params);
            let code = sim.issue_code(&user, request.scope);
            request.callback(Some(&code))
        }
        Some("deny") => request.callback(None),
        _ => PageError::uncoded(
            "invalid_decision",
            "decision 参数错误 (decision must be allow or deny)",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, domain: Option<&str>) -> Result<Scope, PageError> {
        let mut config = SimulatorConfig::new("wxapp", "secret");
        config.registered_callback_domain = domain.map(str::to_owned);
        let params = Params::parse(Some(query));
        validate(&config, &params).map(|r| r.scope)
    }

    const OK: &str = "appid=wxapp&redirect_uri=https%3A%2F%2Fa.example.com%2Fcb&response_type=code&scope=snsapi_base";

    #[test]
    fn accepts_a_well_formed_request() {
        assert_eq!(check(OK, None), Ok(Scope::Base));
        assert_eq!(check(OK, Some("A.Example.com")), Ok(Scope::Base));
        assert_eq!(
            check(&format!("{OK}&state={}", "a".repeat(128)), None),
            Ok(Scope::Base)
        );
    }

    #[test]
    fn rejects_with_wechat_codes() {
        let code = |q: &str, d| check(q, d).unwrap_err().code;
        assert_eq!(code("redirect_uri=x", None), Some(10012));
        assert_eq!(code(&OK.replace("wxapp", "wxother"), None), Some(40013));
        assert_eq!(
            code(&OK.replace("snsapi_base", "snsapi_login"), None),
            Some(10005)
        );
        assert_eq!(
            code(&OK.replace("&scope=snsapi_base", ""), None),
            Some(10010)
        );
        assert_eq!(code(OK, Some("example.com")), Some(10003));
        let kind = |q: &str| check(q, None).unwrap_err().kind;
        assert_eq!(
            kind(&format!("{OK}&state={}", "a".repeat(129))),
            "invalid_state"
        );
        assert_eq!(kind(&format!("{OK}&state=a-b")), "invalid_state");
        assert_eq!(kind(&OK.replace("code", "token")), "invalid_response_type");
        assert_eq!(
            kind(&OK.replace("https%3A%2F%2Fa.example.com%2Fcb", "javascript%3Aalert(1)")),
            "invalid_redirect_uri"
        );
    }
}
