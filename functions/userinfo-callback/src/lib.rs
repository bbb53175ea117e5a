//! `GET /getWxUserInfo` (and its alias `/getUserInfo`): WeChat sends the user back here
//! after consenting to `snsapi_userinfo`; `GET /getQrUserInfo`: after a QR login
//! (`snsapi_login`). Both exchange the code and read the profile.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wxauth_core::{Route, Scope};

pub fn route(event: &ApiGatewayV2httpRequest) -> Route {
    // The stage may prefix the path; API Gateway routes only this function's paths here.
    if wxauth_lambda::raw_path(event).ends_with(Scope::Login.callback_path()) {
        Route::Callback(Scope::Login)
    } else {
        Route::Callback(Scope::UserInfo)
    }
}
