//! `GET /getWxUserInfo`: WeChat sends the user back here after consenting to
//! `snsapi_userinfo`.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wxauth_core::{Route, Scope};

pub fn route(_event: &ApiGatewayV2httpRequest) -> Route {
    Route::Callback(Scope::UserInfo)
}
