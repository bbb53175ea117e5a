//! API-endpoint replies. WeChat answers every API call, success or failure,
//! with HTTP 200 and `Content-Type: text/plain`; clients must parse the JSON
//! body and look for `errcode` themselves.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ids;

/// A WeChat API error: code plus the errmsg text that precedes `, rid: …`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) code: i64,
    pub(crate) msg: &'static str,
}

impl ApiError {
    pub(crate) const SYSTEM_ERROR: Self = Self::new(-1, "system error");
    pub(crate) const INVALID_CREDENTIAL: Self = Self::new(
        40001,
        "invalid credential, access_token is invalid or not latest",
    );
    pub(crate) const INVALID_GRANT_TYPE: Self = Self::new(40002, "invalid grant_type");
    pub(crate) const INVALID_OPENID: Self = Self::new(40003, "invalid openid");
    pub(crate) const INVALID_APPID: Self = Self::new(40013, "invalid appid");
    pub(crate) const INVALID_CODE: Self = Self::new(40029, "invalid code");
    pub(crate) const INVALID_APPSECRET: Self = Self::new(40125, "invalid appsecret");
    pub(crate) const CODE_BEEN_USED: Self = Self::new(40163, "code been used");
    pub(crate) const ACCESS_TOKEN_MISSING: Self = Self::new(41001, "access_token missing");
    pub(crate) const APPID_MISSING: Self = Self::new(41002, "appid missing");
    pub(crate) const APPSECRET_MISSING: Self = Self::new(41004, "appsecret missing");
    pub(crate) const MISSING_CODE: Self = Self::new(41008, "missing code");
    pub(crate) const MISSING_OPENID: Self = Self::new(41009, "missing openid");
    pub(crate) const ACCESS_TOKEN_EXPIRED: Self = Self::new(42001, "access_token expired");
    pub(crate) const CODE_EXPIRED: Self = Self::new(42003, "code expired");
    pub(crate) const API_UNAUTHORIZED: Self = Self::new(48001, "api unauthorized");
    pub(crate) const DATA_FORMAT: Self = Self::new(47001, "data format error");

    const fn new(code: i64, msg: &'static str) -> Self {
        Self { code, msg }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        errcode_verbatim(
            self.code,
            &format!("{}, rid: {}", self.msg, ids::request_id()),
        )
    }
}

pub(crate) fn text_plain(body: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

pub(crate) fn errcode_verbatim(code: i64, msg: &str) -> Response {
    text_plain(serde_json::json!({ "errcode": code, "errmsg": msg }).to_string())
}

pub(crate) fn success<T: Serialize>(value: &T) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => text_plain(body),
        Err(_) => ApiError::SYSTEM_ERROR.into_response(),
    }
}
