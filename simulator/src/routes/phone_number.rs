//! `POST api.weixin.qq.com/wxa/business/getuserphonenumber?access_token=…`: a Mini
//! Program's phone code (`WeChatSimulator::phone_code`) → the user's number, with a
//! watermark naming the app. The token must be the Mini Program's own and still accepted
//! (40001 otherwise); the code works once (40163), for that Mini Program only, for
//! `code_ttl` (40029 after).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::codes::Redemption;
use crate::params::Params;
use crate::reply::{self, ApiError};
use crate::{Endpoint, SimAppKind, WeChatSimulator};

pub(super) async fn phone_number(
    State(sim): State<WeChatSimulator>,
    RawQuery(raw): RawQuery,
    body: String,
) -> Response {
    if let Some(faulted) = sim.begin_api_call(Endpoint::PhoneNumber).await {
        return faulted;
    }
    match lookup(&sim, &Params::parse(raw.as_deref()), &body) {
        Ok(reply) => reply::success(&reply),
        Err(error) => error.into_response(),
    }
}

fn lookup(sim: &WeChatSimulator, params: &Params, body: &str) -> Result<Value, ApiError> {
    let token = params
        .get("access_token")
        .ok_or(ApiError::ACCESS_TOKEN_MISSING)?;
    let app_id = sim
        .app_of_token(token)
        .ok_or(ApiError::INVALID_CREDENTIAL)?;
    let app = sim.config().app(&app_id).ok_or(ApiError::INVALID_APPID)?;
    if app.kind != SimAppKind::MiniProgram {
        return Err(ApiError::API_UNAUTHORIZED);
    }
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(body) else {
        return Err(ApiError::DATA_FORMAT);
    };
    let code = fields
        .get("code")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .ok_or(ApiError::MISSING_CODE)?;
    let user = match sim.redeem_phone_code(code, &app_id) {
        Redemption::Granted { user, .. } => user,
        Redemption::Unknown | Redemption::Expired => return Err(ApiError::INVALID_CODE),
        Redemption::AlreadyUsed => return Err(ApiError::CODE_BEEN_USED),
    };
    let national = sim.phone_number_of(&user);
    Ok(json!({
        "errcode": 0,
        "errmsg": "ok",
        "phone_info": {
            "phoneNumber": national,
            "purePhoneNumber": national,
            "countryCode": "86",
            "watermark": {"timestamp": now_epoch_seconds(), "appid": app_id},
        },
    }))
}

fn now_epoch_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
