//! `api.weixin.qq.com/sns/userinfo`: profile of the user behind a snsapi_userinfo or
//! snsapi_login token.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::params::Params;
use crate::reply::{self, ApiError};
use crate::tokens::TokenLookup;
use crate::{Endpoint, WeChatSimulator};

#[derive(Serialize)]
struct UserInfoReply {
    openid: String,
    nickname: String,
    /// A number for most users, a string for some (see `SimUser::sex_as_string`).
    sex: Value,
    province: String,
    city: String,
    country: String,
    headimgurl: String,
    privilege: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unionid: Option<String>,
}

pub(super) async fn userinfo(
    State(sim): State<WeChatSimulator>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(faulted) = sim.begin_api_call(Endpoint::UserInfo).await {
        return faulted;
    }
    match lookup(&sim, &Params::parse(raw.as_deref())) {
        Ok(body) => reply::success(&body),
        Err(error) => error.into_response(),
    }
}

/// The token is judged before the openid: a dead or base-scope token fails
/// whatever openid accompanies it. `lang` is accepted and ignored.
fn lookup(sim: &WeChatSimulator, params: &Params) -> Result<UserInfoReply, ApiError> {
    let token = params
        .get("access_token")
        .ok_or(ApiError::ACCESS_TOKEN_MISSING)?;
    let grant = match sim.lookup_access_token(token) {
        TokenLookup::Valid(grant) => grant,
        TokenLookup::Unknown => return Err(ApiError::INVALID_CREDENTIAL),
        TokenLookup::Expired => return Err(ApiError::ACCESS_TOKEN_EXPIRED),
    };
    if !grant.scope.reads_profile() {
        return Err(ApiError::API_UNAUTHORIZED);
    }
    let openid = params.get("openid").ok_or(ApiError::MISSING_OPENID)?;
    if openid != grant.openid {
        return Err(ApiError::INVALID_OPENID);
    }
    let user = sim.profile(&grant.user);
    let sex = if user.sex_as_string {
        Value::String(user.sex.to_string())
    } else {
        Value::from(user.sex)
    };
    Ok(UserInfoReply {
        openid: grant.openid,
        nickname: user.nickname,
        sex,
        province: user.province,
        city: user.city,
        country: user.country,
        headimgurl: user.headimgurl,
        privilege: Vec::new(),
        // The token's own app decides: a bound Website App's token carries the unionid
        // even when the primary Official Account is unbound.
        unionid: sim
            .config()
            .app(&grant.app_id)
            .is_some_and(|app| app.bound_to_open_platform)
            .then(|| sim.unionid_for(&grant.user)),
    })
}
