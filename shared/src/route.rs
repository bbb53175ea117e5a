//! The gateway's routes, independent of how a request reached it.

use crate::oidc;
use crate::scope::Scope;

/// Where a Mini Program or mobile app posts its code.
pub const CODE_LOGIN_PATH: &str = "/login/code";

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Route {
    /// `GET /auth`: start a login.
    Auth,
    /// `GET /getOpenId` or `GET /getWxUserInfo` (also `GET /getUserInfo`, the seed
    /// gateway's name for it), and `GET /getQrUserInfo` after a QR login: WeChat sends the
    /// user back here.
    Callback(Scope),
    /// `GET /MP_verify_{name}.txt`: WeChat's domain-ownership check; holds `{name}`.
    MpVerify(String),
    /// `GET /.well-known/openid-configuration`.
    OidcDiscovery,
    /// `GET /.well-known/jwks.json`.
    OidcJwks,
    /// `GET /.well-known/result-jwks.json`: the result tokens' own public keys.
    ResultJwks,
    /// `GET /oauth2/authorize`.
    OidcAuthorize,
    /// `POST /oauth2/token`.
    OidcToken,
    /// `GET`/`POST /oauth2/userinfo`.
    OidcUserInfo,
    /// `POST /login/code`: a Mini Program's or mobile app's code.
    CodeLogin,
    #[default]
    NotFound,
}

impl Route {
    /// The route for a path relative to the gateway's root.
    pub fn from_path(path: &str) -> Self {
        match path {
            "/auth" => Self::Auth,
            "/getOpenId" => Self::Callback(Scope::Base),
            // `/getUserInfo`: the seed gateway's name for the same callback.
            "/getWxUserInfo" | "/getUserInfo" => Self::Callback(Scope::UserInfo),
            "/getQrUserInfo" => Self::Callback(Scope::Login),
            oidc::DISCOVERY_PATH => Self::OidcDiscovery,
            oidc::JWKS_PATH => Self::OidcJwks,
            oidc::RESULT_JWKS_PATH => Self::ResultJwks,
            oidc::AUTHORIZE_PATH => Self::OidcAuthorize,
            oidc::TOKEN_PATH => Self::OidcToken,
            oidc::USERINFO_PATH => Self::OidcUserInfo,
            CODE_LOGIN_PATH => Self::CodeLogin,
            _ => Self::mp_verify(path).unwrap_or(Self::NotFound),
        }
    }

    /// The domain-verification route if the path's last segment is `MP_verify_{name}.txt`.
    /// API Gateway may prefix the path with a stage, so only the last segment counts.
    pub fn mp_verify(path: &str) -> Option<Self> {
        let last = path.rsplit('/').next()?;
        let name = last.strip_prefix("MP_verify_")?.strip_suffix(".txt")?;
        Some(Self::MpVerify(name.to_owned()))
    }

    /// The OpenID Provider's routes.
    pub fn is_oidc(&self) -> bool {
        matches!(
            self,
            Self::OidcDiscovery
                | Self::OidcJwks
                | Self::OidcAuthorize
                | Self::OidcToken
                | Self::OidcUserInfo
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Callback(Scope::Base) => "base-callback",
            Self::Callback(Scope::UserInfo) => "userinfo-callback",
            Self::Callback(Scope::Login) => "qr-callback",
            Self::MpVerify(_) => "mp-verify",
            Self::OidcDiscovery => "oidc-discovery",
            Self::OidcJwks => "oidc-jwks",
            Self::ResultJwks => "result-jwks",
            Self::OidcAuthorize => "oidc-authorize",
            Self::OidcToken => "oidc-token",
            Self::OidcUserInfo => "oidc-userinfo",
            Self::CodeLogin => "code-login",
            Self::NotFound => "not-found",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_routes() {
        assert_eq!(Route::from_path("/auth"), Route::Auth);
        assert_eq!(Route::from_path("/getOpenId"), Route::Callback(Scope::Base));
        assert_eq!(
            Route::from_path("/getWxUserInfo"),
            Route::Callback(Scope::UserInfo)
        );
        assert_eq!(
            Route::from_path("/getUserInfo"),
            Route::Callback(Scope::UserInfo)
        );
        assert_eq!(Route::from_path("/getuserinfo"), Route::NotFound);
        assert_eq!(
            Route::from_path("/getQrUserInfo"),
            Route::Callback(Scope::Login)
        );
        assert_eq!(
            Route::from_path("/MP_verify_abc123.txt"),
            Route::MpVerify("abc123".into())
        );
        assert_eq!(
            Route::from_path("/prod/MP_verify_abc123.txt"),
            Route::MpVerify("abc123".into())
        );
        assert_eq!(
            Route::from_path("/.well-known/openid-configuration"),
            Route::OidcDiscovery
        );
        assert_eq!(Route::from_path("/.well-known/jwks.json"), Route::OidcJwks);
        assert_eq!(
            Route::from_path("/.well-known/result-jwks.json"),
            Route::ResultJwks
        );
        assert_eq!(Route::from_path("/oauth2/authorize"), Route::OidcAuthorize);
        assert_eq!(Route::from_path("/oauth2/token"), Route::OidcToken);
        assert_eq!(Route::from_path("/oauth2/userinfo"), Route::OidcUserInfo);
        assert_eq!(Route::from_path("/oauth2/token/"), Route::NotFound);
        assert_eq!(Route::from_path("/login/code"), Route::CodeLogin);
        assert_eq!(Route::from_path("/login/code/"), Route::NotFound);
        assert_eq!(Route::from_path("/auth/"), Route::NotFound);
        assert_eq!(Route::from_path("/AUTH"), Route::NotFound);
        assert_eq!(Route::from_path("/MP_verify_x.txt.bak"), Route::NotFound);
    }
}
