//! `POST /oauth2/token`: a relying party redeems an authorization code. Holds the clients'
//! secrets and the OpenID Provider's signing keys, not the WeChat AppSecret.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wxauth_core::Route;

pub fn route(_event: &ApiGatewayV2httpRequest) -> Route {
    Route::OidcToken
}
