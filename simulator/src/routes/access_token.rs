//! `api.weixin.qq.com/sns/oauth2/access_token`: code → web access token + openid.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::codes::Redemption;
use crate::params::Params;
use crate::reply::{self, ApiError};
use crate::{Endpoint, SimAppKind, WeChatSimulator};

#[derive(Serialize)]
struct TokenReply {
    access_token: String,
    expires_in: u64,
    refresh_token: String,
    openid: String,
    scope: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_snapshotuser: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unionid: Option<String>,
}

pub(super) async fn access_token(
    State(sim): State<WeChatSimulator>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(faulted) = sim.begin_api_call(Endpoint::AccessToken).await {
        return faulted;
    }
    match exchange(&sim, &Params::parse(raw.as_deref())) {
        Ok(body) => reply::success(&body),
        Err(error) => error.into_response(),
    }
}

/// Checks run in WeChat's order: credentials first, then grant_type, then the code.
/// The credentials name the app (any registered one); the code must have been issued to it.
fn exchange(sim: &WeChatSimulator, params: &Params) -> Result<TokenReply, ApiError> {
    let appid = params.get("appid").ok_or(ApiError::APPID_MISSING)?;
    let app = sim.config().app(appid).ok_or(ApiError::INVALID_APPID)?;
    let secret = params.get("secret").ok_or(ApiError::APPSECRET_MISSING)?;
    if secret != app.app_secret {
        return Err(ApiError::INVALID_APPSECRET);
    }
    // A Mini Program's codes come from wx.login and go to /sns/jscode2session.
    if app.kind == SimAppKind::MiniProgram {
        return Err(ApiError::API_UNAUTHORIZED);
    }
    let code = params.get("code").ok_or(ApiError::MISSING_CODE)?;
    if params.get("grant_type") != Some("authorization_code") {
        return Err(ApiError::INVALID_GRANT_TYPE);
    }
    let (user, scope) = match sim.redeem_code(code, &app.app_id) {
        Redemption::Granted { user, scope } => (user, scope),
        Redemption::Unknown => return Err(ApiError::INVALID_CODE),
        Redemption::AlreadyUsed => return Err(ApiError::CODE_BEEN_USED),
        Redemption::Expired => return Err(ApiError::CODE_EXPIRED),
    };
    let profile = sim.profile(&user);
    let openid = sim.openid_for_app(&app.app_id, &user);
    let access_token = sim.issue_access_token(&app.app_id, &user, &openid, scope);
    Ok(TokenReply {
        access_token,
        expires_in: sim.config().access_token_ttl.as_secs(),
        refresh_token: crate::ids::random_token(66),
        openid,
        scope: scope.as_str(),
        is_snapshotuser: profile.snapshot.then_some(1),
        // snsapi_base never reveals the unionid, whatever the binding.
        unionid: (scope.reads_profile() && app.bound_to_open_platform)
            .then(|| sim.unionid_for(&user)),
    })
}
