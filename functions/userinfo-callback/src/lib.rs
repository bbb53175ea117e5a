//! `GET /getWxUserInfo`: WeChat sends the user back here after consenting to
//! `snsapi_userinfo`.

use lambda_http::Request;
use wxauth_core::{Route, Scope};

pub fn route(_event: &Request) -> Route {
    Route::Callback(Scope::UserInfo)
}
