//! `api.weixin.qq.com/sns/jscode2session`: a Mini Program's `wx.login()` code → openid,
//! `session_key` and (for a Mini Program bound to the Open Platform) unionid.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::codes::Redemption;
use crate::params::Params;
use crate::reply::{self, ApiError};
use crate::{Endpoint, SimAppKind, WeChatSimulator};

#[derive(Serialize)]
struct SessionReply {
    openid: String,
    session_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    unionid: Option<String>,
}

pub(super) async fn jscode2session(
    State(sim): State<WeChatSimulator>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(faulted) = sim.begin_api_call(Endpoint::JsCode2Session).await {
        return faulted;
    }
    match exchange(&sim, &Params::parse(raw.as_deref())) {
        Ok(body) => reply::success(&body),
        Err(error) => error.into_response(),
    }
}

/// As `/sns/oauth2/access_token`: credentials first, then grant_type, then the code, which
/// must have been issued to this Mini Program. Only a Mini Program's AppID is served here.
fn exchange(sim: &WeChatSimulator, params: &Params) -> Result<SessionReply, ApiError> {
    let appid = params.get("appid").ok_or(ApiError::APPID_MISSING)?;
    let app = sim.config().app(appid).ok_or(ApiError::INVALID_APPID)?;
    if app.kind != SimAppKind::MiniProgram {
        return Err(ApiError::INVALID_APPID);
    }
    let secret = params.get("secret").ok_or(ApiError::APPSECRET_MISSING)?;
    if secret != app.app_secret {
        return Err(ApiError::INVALID_APPSECRET);
    }
    let code = params.get("js_code").ok_or(ApiError::MISSING_CODE)?;
    if params.get("grant_type") != Some("authorization_code") {
        return Err(ApiError::INVALID_GRANT_TYPE);
    }
    let user = match sim.redeem_code(code, &app.app_id) {
        Redemption::Granted { user, .. } => user,
        Redemption::Unknown | Redemption::Expired => return Err(ApiError::INVALID_CODE),
        Redemption::AlreadyUsed => return Err(ApiError::CODE_BEEN_USED),
    };
    Ok(SessionReply {
        openid: sim.openid_for_app(&app.app_id, &user),
        session_key: sim.issue_session_key(),
        // A Mini Program's unionid comes with every login once it is bound (no scope).
        unionid: app.bound_to_open_platform.then(|| sim.unionid_for(&user)),
    })
}
