//! The six Lambda functions, written down once: each one's binary (template.yaml's
//! `Metadata.BuildProperties.Binary`), what its configuration may read ([`Serves`]), and
//! the paths API Gateway sends it. The binaries' `main`s, the tests, the template drift
//! test and the benchmarks all read this table; one binary per function stays, so SAM
//! builds and deploys each on its own.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wxauth_core::Route;
use wxauth_core::config::Serves;
use wxauth_core::oidc::{
    AUTHORIZE_PATH, DISCOVERY_PATH, JWKS_PATH, RESULT_JWKS_PATH, TOKEN_PATH, USERINFO_PATH,
};
use wxauth_core::route::CODE_LOGIN_PATH;

#[derive(Debug, PartialEq, Eq)]
pub struct Function {
    /// The binary's name, also its crate's (`functions/<name>`).
    pub name: &'static str,
    /// Which secrets it may read, and so which routes it answers (`Serves::serves`).
    pub serves: Serves,
    /// The paths API Gateway routes here (template.yaml's events), the first one for any
    /// other path the function is given.
    pub paths: &'static [&'static str],
    /// Whether it also answers WeChat's `MP_verify_….txt` domain check.
    pub mp_verify: bool,
}

/// `GET /auth` and `GET /oauth2/authorize` (and WeChat's `MP_verify_….txt` domain check):
/// start a login. Holds no AppSecret and no key that mints identities.
pub const AUTH: Function = Function {
    name: "auth",
    serves: Serves::StartOnly,
    paths: &["/auth", AUTHORIZE_PATH],
    mp_verify: true,
};

/// `GET /getOpenId`: WeChat sends the user back here after a silent `snsapi_base` login.
pub const BASE_CALLBACK: Function = Function {
    name: "base-callback",
    serves: Serves::Callbacks,
    paths: &["/getOpenId"],
    mp_verify: false,
};

/// `GET /getWxUserInfo` (and its alias `/getUserInfo`): after consenting to
/// `snsapi_userinfo`; `GET /getQrUserInfo`: after a QR login (`snsapi_login`). Both
/// exchange the code and read the profile.
pub const USERINFO_CALLBACK: Function = Function {
    name: "userinfo-callback",
    serves: Serves::Callbacks,
    paths: &["/getWxUserInfo", "/getUserInfo", "/getQrUserInfo"],
    mp_verify: false,
};

/// `POST /oauth2/token`: a relying party redeems an authorization code. Holds the clients'
/// secrets and the OpenID Provider's signing keys (the only function that does), not the
/// WeChat AppSecret.
pub const OIDC_TOKEN: Function = Function {
    name: "oidc-token",
    serves: Serves::OidcToken,
    paths: &[TOKEN_PATH],
    mp_verify: false,
};

/// `GET`/`POST /oauth2/userinfo`, and the public documents a relying party starts from:
/// discovery and the JWKS (and the result tokens' own JWKS). Holds public keys only (to
/// publish them and check access tokens), not the clients' secrets.
pub const OIDC_USERINFO: Function = Function {
    name: "oidc-userinfo",
    serves: Serves::OidcUserInfo,
    paths: &[USERINFO_PATH, DISCOVERY_PATH, JWKS_PATH, RESULT_JWKS_PATH],
    mp_verify: false,
};

/// `POST /login/code`: a Mini Program or a mobile app posts its client SDK's code. Holds
/// the AppSecrets of those apps alone and the result tokens' signing key; not the
/// Official Accounts' or Website Apps' AppSecrets, nor SEALING_KEY.
pub const LOGIN_CODE: Function = Function {
    name: "login-code",
    serves: Serves::CodeLogin,
    paths: &[CODE_LOGIN_PATH],
    mp_verify: false,
};

/// Every function, in template.yaml's order.
pub const FUNCTIONS: [&Function; 6] = [
    &AUTH,
    &BASE_CALLBACK,
    &USERINFO_CALLBACK,
    &OIDC_TOKEN,
    &OIDC_USERINFO,
    &LOGIN_CODE,
];

impl Function {
    /// The function built as binary `name`.
    pub fn named(name: &str) -> Option<&'static Function> {
        FUNCTIONS.into_iter().find(|f| f.name == name)
    }

    /// The function API Gateway sends `path` to (template.yaml's events), if any.
    pub fn for_path(path: &str) -> Option<&'static Function> {
        FUNCTIONS
            .into_iter()
            .find(|f| f.paths.contains(&path))
            .or_else(|| Route::mp_verify(path).map(|_| &AUTH))
    }

    /// The route of an event API Gateway sent here. The path may carry a prefix (a named
    /// stage, a custom domain's base path), and API Gateway sends only this function's
    /// paths here, so the path's end decides.
    pub fn route(&self, event: &ApiGatewayV2httpRequest) -> Route {
        let path = crate::raw_path(event);
        if let Some(own) = self.paths.iter().find(|own| path.ends_with(*own)) {
            return Route::from_path(own);
        }
        let mp_verify = self.mp_verify.then(|| Route::mp_verify(path)).flatten();
        mp_verify.unwrap_or_else(|| Route::from_path(self.paths[0]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_has_one_function_and_its_configuration_serves_it() {
        let mut seen = std::collections::BTreeSet::new();
        for function in FUNCTIONS {
            assert_eq!(Function::named(function.name), Some(function));
            for path in function.paths {
                assert!(seen.insert(*path), "{path} is listed twice");
                assert_eq!(Function::for_path(path), Some(function), "{path}");
                let route = Route::from_path(path);
                assert_ne!(route, Route::NotFound, "{path}");
                assert!(function.serves.serves(&route), "{path}");
                for other in FUNCTIONS.iter().filter(|f| f.serves != function.serves) {
                    assert!(!other.serves.serves(&route), "{} serves {path}", other.name);
                }
            }
        }
        assert_eq!(Function::for_path("/MP_verify_abc.txt"), Some(&AUTH));
        assert_eq!(Function::for_path("/nothing"), None);
        assert_eq!(Function::named("nothing"), None);
        assert!(AUTH.serves.serves(&Route::MpVerify("abc".into())));
    }
}
