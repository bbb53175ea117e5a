//! `GET /auth` (and WeChat's `MP_verify_….txt` domain check): starts a login.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wxauth_core::Route;

pub fn route(event: &ApiGatewayV2httpRequest) -> Route {
    Route::mp_verify(wxauth_lambda::raw_path(event)).unwrap_or(Route::Auth)
}
