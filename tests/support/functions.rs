//! Which function binary serves what: the function API Gateway routes a path to, and
//! what each binary's `main` tells `wxauth_lambda::run` it serves.

/// The function API Gateway routes a path to (template.yaml's events).
pub fn function_for(path: &str) -> wxauth_lambda::RouteFor {
    match path {
        "/getOpenId" => base_callback::route,
        "/getWxUserInfo" | "/getUserInfo" | "/getQrUserInfo" => userinfo_callback::route,
        "/oauth2/token" => oidc_token::route,
        "/oauth2/userinfo" | "/.well-known/openid-configuration" | "/.well-known/jwks.json" => {
            oidc_userinfo::route
        }
        _ => auth::route,
    }
}

/// What a function binary serves, as its `main` tells `wxauth_lambda::run`.
pub fn serves_of_binary(binary: &str) -> wxauth_core::config::Serves {
    use wxauth_core::config::Serves;
    match binary {
        "auth" => Serves::StartOnly,
        "oidc-token" => Serves::OidcToken,
        "oidc-userinfo" => Serves::OidcUserInfo,
        "base-callback" | "userinfo-callback" => Serves::Callbacks,
        other => panic!("no function binary {other}"),
    }
}
