//! `POST api.weixin.qq.com/cgi-bin/stable_token`: an app's own access token, for any app
//! kind, from `{grant_type: client_credential, appid, secret, force_refresh}` as JSON.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::reply::{self, ApiError};
use crate::{Endpoint, WeChatSimulator};

#[derive(Serialize)]
struct TokenReply {
    access_token: String,
    expires_in: u64,
}

pub(super) async fn stable_token(State(sim): State<WeChatSimulator>, body: String) -> Response {
    if let Some(faulted) = sim.begin_api_call(Endpoint::StableToken).await {
        return faulted;
    }
    match fetch(&sim, &body) {
        Ok(reply) => reply::success(&reply),
        Err(error) => error.into_response(),
    }
}

fn fetch(sim: &WeChatSimulator, body: &str) -> Result<TokenReply, ApiError> {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(body) else {
        return Err(ApiError::DATA_FORMAT);
    };
    let field = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if field("grant_type") != Some("client_credential") {
        return Err(ApiError::INVALID_GRANT_TYPE);
    }
    let appid = field("appid").ok_or(ApiError::APPID_MISSING)?;
    let app = sim.config().app(appid).ok_or(ApiError::INVALID_APPID)?;
    if field("secret").ok_or(ApiError::APPSECRET_MISSING)? != app.app_secret {
        return Err(ApiError::INVALID_APPSECRET);
    }
    let force = match fields.get("force_refresh") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return Err(ApiError::DATA_FORMAT),
    };
    let (access_token, expires_in) = sim.fetch_app_token(&app.app_id, force);
    Ok(TokenReply {
        access_token,
        expires_in,
    })
}
