//! The Website App browser side: `open.weixin.qq.com/connect/qrconnect` (the desktop
//! page with the QR code) and its confirm step, which stands in for the phone that
//! scans the code and confirms or refuses. Errors are HTML pages with HTTP 200, as on
//! the authorize page; the caller's redirect_uri is never called back.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::login_request::{LoginPage, LoginRequest, validate};
use crate::WeChatSimulator;
use crate::identity;
use crate::params::Params;
use crate::qr_page;

pub(super) async fn qrconnect(
    State(sim): State<WeChatSimulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let request = match validate(sim.config(), &params, LoginPage::QrConnect) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let user = identity::browser_user(&headers, &params);
    qr_page::qr_page(&request.form(&user))
}

pub(super) async fn confirm(
    State(sim): State<WeChatSimulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    LoginRequest::confirm(&sim, &headers, raw.as_deref(), LoginPage::QrConnect)
}
