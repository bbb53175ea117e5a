//! `GET /getOpenId`: WeChat sends the user back here after a silent `snsapi_base` login.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wxauth_core::{Route, Scope};

pub fn route(_event: &ApiGatewayV2httpRequest) -> Route {
    Route::Callback(Scope::Base)
}
