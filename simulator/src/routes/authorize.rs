//! The Official Account browser side: `open.weixin.qq.com/connect/oauth2/authorize`
//! and the consent sheet's confirm step. Problems here are shown to the user as HTML
//! (HTTP 200, like WeChat); the caller's redirect_uri is never called back.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::login_request::{LoginPage, LoginRequest, validate};
use crate::html;
use crate::identity;
use crate::params::Params;
use crate::{Scope, WeChatSimulator};

pub(super) async fn authorize(
    State(sim): State<WeChatSimulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let request = match validate(sim.config(), &params, LoginPage::Authorize) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let user = identity::browser_user(&headers, &params);
    match request.scope {
        Scope::Base => {
            let code = sim.issue_code_for_app(request.appid, &user, Scope::Base);
            request.callback(Some(&code))
        }
        // `validate` lets only the two Official Account scopes through to this page.
        Scope::UserInfo | Scope::Login => html::consent_page(&request.form(&user)),
    }
}

pub(super) async fn confirm(
    State(sim): State<WeChatSimulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    LoginRequest::confirm(&sim, &headers, raw.as_deref(), LoginPage::Authorize)
}
