//! `GET`/`POST /oauth2/userinfo`, and the public documents a relying party starts from:
//! `/.well-known/openid-configuration` and `/.well-known/jwks.json`. Holds the signing
//! keys (to publish them and check access tokens), not the clients' secrets.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wxauth_core::Route;
use wxauth_core::oidc::{DISCOVERY_PATH, JWKS_PATH};

pub fn route(event: &ApiGatewayV2httpRequest) -> Route {
    // The stage may prefix the path; API Gateway routes only this function's paths here.
    let path = wxauth_lambda::raw_path(event);
    if path.ends_with(DISCOVERY_PATH) {
        Route::OidcDiscovery
    } else if path.ends_with(JWKS_PATH) {
        Route::OidcJwks
    } else {
        Route::OidcUserInfo
    }
}
