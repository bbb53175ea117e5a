//! What WeChat checks on a browser login page's query before showing anything,
//! shared by the Official Account page (`/connect/oauth2/authorize`) and the
//! Website App QR page (`/connect/qrconnect`), and the redirect back to the caller.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::html::{ConsentForm, PageError};
use crate::identity;
use crate::params::Params;
use crate::{Scope, SimAppKind, SimulatorConfig, WeChatSimulator};

const MAX_STATE_BYTES: usize = 128;

/// The two login pages; each serves one kind of app and its scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LoginPage {
    Authorize,
    QrConnect,
}

impl LoginPage {
    fn serves(self, kind: SimAppKind, scope: Scope) -> bool {
        match self {
            LoginPage::Authorize => {
                kind == SimAppKind::OfficialAccount
                    && matches!(scope, Scope::Base | Scope::UserInfo)
            }
            LoginPage::QrConnect => kind == SimAppKind::Website && scope == Scope::Login,
        }
    }

    /// The Open Platform page heads every refusal with 该链接无法访问 ("this link cannot
    /// be opened"); the Official Account page shows the bare reason.
    fn message(self, detail: &str) -> String {
        match self {
            LoginPage::Authorize => detail.to_owned(),
            LoginPage::QrConnect => format!("该链接无法访问 · {detail}"),
        }
    }

    /// A scope the page does not serve, or an app of the other kind (its appid has none of
    /// this page's scopes): WeChat's scope error on either page.
    fn scope_error(self, kind: SimAppKind) -> PageError {
        let detail = match (self, kind) {
            (LoginPage::Authorize, _) => {
                "此公众号并没有这些 scope 的权限 (no permission for this scope)"
            }
            (LoginPage::QrConnect, SimAppKind::Website) => {
                "Scope 参数错误或没有 Scope 权限 (scope must be snsapi_login)"
            }
            (LoginPage::QrConnect, _) => {
                "Scope 参数错误或没有 Scope 权限 (this appid is not a Website App)"
            }
        };
        PageError::coded(10005, "scope_unauthorized", self.message(detail))
    }
}

/// A request that passed every check WeChat makes before showing anything.
pub(super) struct LoginRequest<'a> {
    pub(super) appid: &'a str,
    redirect_uri: &'a str,
    redirect: Url,
    response_type: &'a str,
    pub(super) scope: Scope,
    state: Option<&'a str>,
}

/// Checks in WeChat's order: appid, redirect_uri, response_type, scope, state.
pub(super) fn validate<'a>(
    config: &SimulatorConfig,
    params: &'a Params,
    page: LoginPage,
) -> Result<LoginRequest<'a>, PageError> {
    let appid = params.get("appid").ok_or_else(|| {
        PageError::coded(
            10012,
            "appid_missing",
            page.message("appid 不能为空 (appid is empty)"),
        )
    })?;
    let app = config.app(appid).ok_or_else(|| {
        PageError::coded(
            40013,
            "invalid_appid",
            page.message("appid 参数错误 (invalid appid)"),
        )
    })?;

    let redirect_uri = params.get("redirect_uri").ok_or_else(|| {
        PageError::coded(
            10011,
            "redirect_uri_missing",
            page.message("redirect_uri 不能为空 (redirect_uri is empty)"),
        )
    })?;
    let redirect = Url::parse(redirect_uri)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .ok_or_else(|| {
            PageError::uncoded(
                "invalid_redirect_uri",
                page.message(
                    "redirect_uri 参数错误 (redirect_uri must be an absolute http(s) URL)",
                ),
            )
        })?;
    if let Some(domain) = &config.registered_callback_domain {
        let host = redirect.host_str().unwrap_or_default();
        if !host.eq_ignore_ascii_case(domain.trim()) {
            return Err(PageError::coded(
                10003,
                "redirect_uri_domain_mismatch",
                page.message(
                    "redirect_uri 域名与后台配置不一致 \
                     (redirect_uri domain differs from the registered one)",
                ),
            ));
        }
    }

    let response_type = params.get("response_type").unwrap_or_default();
    if response_type != "code" {
        return Err(PageError::uncoded(
            "invalid_response_type",
            page.message("response_type 参数错误 (response_type must be code)"),
        ));
    }

    let scope = params.get("scope").ok_or_else(|| {
        PageError::coded(
            10010,
            "scope_missing",
            page.message("scope 不能为空 (scope is empty)"),
        )
    })?;
    let scope = Scope::from_wire(scope)
        .filter(|&scope| page.serves(app.kind, scope))
        .ok_or_else(|| page.scope_error(app.kind))?;

    let state = params.get("state");
    let state_ok =
        |s: &str| s.len() <= MAX_STATE_BYTES && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if !state.is_none_or(state_ok) {
        return Err(PageError::uncoded(
            "invalid_state",
            page.message("state 参数错误 (state must be a-zA-Z0-9, at most 128 bytes)"),
        ));
    }

    Ok(LoginRequest {
        appid,
        redirect_uri,
        redirect,
        response_type,
        scope,
        state,
    })
}

impl LoginRequest<'_> {
    /// What the page's form carries over to its `/confirm` step.
    pub(super) fn form<'b>(&'b self, sim_user: &'b str) -> ConsentForm<'b> {
        ConsentForm {
            appid: self.appid,
            redirect_uri: self.redirect_uri,
            response_type: self.response_type,
            scope: self.scope.as_str(),
            state: self.state,
            sim_user,
        }
    }

    /// The confirm step of `page`: the query checked again, so a forged confirm link cannot
    /// skip the page's rules, then the user's answer.
    pub(super) fn confirm(
        sim: &WeChatSimulator,
        headers: &HeaderMap,
        raw: Option<&str>,
        page: LoginPage,
    ) -> Response {
        let params = Params::parse(raw);
        match validate(sim.config(), &params, page) {
            Ok(request) => request.answer(sim, headers, &params),
            Err(error) => error.into_response(),
        }
    }

    /// The user's answer on the confirm step (consent sheet or QR page): a code bound to
    /// this request's app and scope, or a denial; any other `decision` is an error page.
    pub(super) fn answer(
        &self,
        sim: &WeChatSimulator,
        headers: &HeaderMap,
        params: &Params,
    ) -> Response {
        match params.get("decision") {
            Some("allow") => {
                let user = identity::browser_user(headers, params);
                let code = sim.issue_code_for_app(self.appid, &user, self.scope);
                self.callback(Some(&code))
            }
            Some("deny") => self.callback(None),
            _ => PageError::uncoded(
                "invalid_decision",
                "decision 参数错误 (decision must be allow or deny)",
            )
            .into_response(),
        }
    }

    /// WeChat appends to whatever query the redirect_uri already has, and
    /// always sends `state` (empty when none was given). A denial has no code.
    pub(super) fn callback(&self, code: Option<&str>) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimApp;

    fn check(query: &str, domain: Option<&str>, page: LoginPage) -> Result<Scope, PageError> {
        let mut config =
            SimulatorConfig::new("wxapp", "secret").with_app(SimApp::website("wxweb", "s2"));
        config.registered_callback_domain = domain.map(str::to_owned);
        let params = Params::parse(Some(query));
        validate(&config, &params, page).map(|r| r.scope)
    }

    fn authorize(query: &str, domain: Option<&str>) -> Result<Scope, PageError> {
        check(query, domain, LoginPage::Authorize)
    }

    const OK: &str = "appid=wxapp&redirect_uri=https%3A%2F%2Fa.example.com%2Fcb&response_type=code&scope=snsapi_base";
    const QR: &str = "appid=wxweb&redirect_uri=https%3A%2F%2Fa.example.com%2Fcb&response_type=code&scope=snsapi_login";

    #[test]
    fn accepts_a_well_formed_request() {
        assert_eq!(authorize(OK, None), Ok(Scope::Base));
        assert_eq!(authorize(OK, Some("A.Example.com")), Ok(Scope::Base));
        assert_eq!(
            authorize(&format!("{OK}&state={}", "a".repeat(128)), None),
            Ok(Scope::Base)
        );
    }

    #[test]
    fn rejects_with_wechat_codes() {
        let code = |q: &str, d| authorize(q, d).unwrap_err().code;
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
        let kind = |q: &str| authorize(q, None).unwrap_err().kind;
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

    #[test]
    fn each_page_serves_only_its_own_kind_of_app_and_scopes() {
        let qr = |q: &str, d| check(q, d, LoginPage::QrConnect);
        assert_eq!(qr(QR, None), Ok(Scope::Login));
        assert_eq!(qr(QR, Some("a.example.com")), Ok(Scope::Login));
        let code = |r: Result<Scope, PageError>| r.unwrap_err().code;
        // A Website App on the Official Account page, whatever the scope.
        assert_eq!(code(authorize(QR, None)), Some(10005));
        assert_eq!(
            code(authorize(&QR.replace("snsapi_login", "snsapi_base"), None)),
            Some(10005)
        );
        // An Official Account on the QR page, whatever the scope.
        assert_eq!(code(qr(&QR.replace("wxweb", "wxapp"), None)), Some(10005));
        assert_eq!(code(qr(OK, None)), Some(10005));
        assert_eq!(
            code(qr(&QR.replace("snsapi_login", "snsapi_userinfo"), None)),
            Some(10005)
        );
        assert_eq!(code(qr(QR, Some("b.example.com"))), Some(10003));
        assert_eq!(code(qr(&QR.replace("wxweb", "wxnope"), None)), Some(40013));
        let refusal = qr(QR, Some("b.example.com")).unwrap_err().message;
        assert!(refusal.starts_with("该链接无法访问"), "{refusal}");
        let kind = |q: &str| qr(q, None).unwrap_err().kind;
        assert_eq!(kind(&QR.replace("code", "token")), "invalid_response_type");
        assert_eq!(kind(&format!("{QR}&state=a-b")), "invalid_state");
    }
}
