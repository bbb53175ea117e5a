//! `GET /auth` and `GET /oauth2/authorize` (and WeChat's `MP_verify_….txt` domain check):
//! start a login.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wxauth_core::Route;

pub fn route(event: &ApiGatewayV2httpRequest) -> Route {
    let path = wxauth_lambda::raw_path(event);
    // The stage may prefix the path; API Gateway routes only this function's paths here.
    if path.ends_with(wxauth_core::oidc::AUTHORIZE_PATH) {
        return Route::OidcAuthorize;
    }
    Route::mp_verify(path).unwrap_or(Route::Auth)
}
