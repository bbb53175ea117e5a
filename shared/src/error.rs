//! Why a request to the gateway failed, mapped once to an HTTP status and an OAuth-style
//! error code. Failures after a valid state are not errors here: they go back to the front
//! end as a redirect (see `callback`).

use http::StatusCode;

use crate::query::QueryError;
use crate::return_url::{ReturnUrl, ReturnUrlError};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{0}")]
    Query(#[from] QueryError),
    #[error("the `{0}` parameter is required")]
    Missing(&'static str),
    #[error("{0}")]
    ReturnUrl(#[from] ReturnUrlError),
    #[error("scope must be snsapi_base, snsapi_userinfo, snsapi_login or auto")]
    Scope,
    #[error("auto_scope must be snsapi_base or snsapi_userinfo, and goes only with scope=auto")]
    AutoScope,
    #[error("app is not one of the WeChat apps this gateway is configured with")]
    UnknownApp,
    #[error("{scope} is not a scope of this app (it is a WeChat {kind} app)")]
    ScopeNotForApp {
        scope: crate::scope::Scope,
        kind: crate::apps::AppKind,
    },
    #[error(
        "scope=auto chooses between an official_account app and its qr_app; this app is a website app"
    )]
    AutoNeedsOfficialAccount,
    #[error(
        "this visitor is outside WeChat, and the app has no qr_app (a website app for QR login) to send them to"
    )]
    NoQrApp,
    #[error("response_mode must be query, fragment or form_post")]
    ResponseMode,
    /// Holds the modes the app allows (`RESPONSE_MODES`, the app's `response_modes`).
    #[error(
        "response_mode {mode} is not allowed for this app (it allows {allowed}; fragment must be listed in RESPONSE_MODES or the app's response_modes)"
    )]
    ResponseModeNotAllowed { mode: &'static str, allowed: String },
    #[error("nonce must be 1 to 256 printable ASCII characters")]
    Nonce,
    /// `/auth` has no back-channel mode of its own: the OpenID Provider is that.
    #[error(
        "response_type is not a parameter of /auth: for a code your backend redeems, use the OpenID Provider (/oauth2/authorize)"
    )]
    ResponseTypeOnAuth,
    /// An authorization request by POST whose body is not a form this provider reads.
    #[error("{0}")]
    FormBody(&'static str),
    #[error("client_id is not a client registered with this provider")]
    UnknownClient,
    #[error("redirect_uri is not registered for this client (it must match exactly)")]
    RedirectUriNotRegistered,
    #[error("{0}")]
    State(#[from] StateProblem),
    /// A refused state whose login is still in the table: its page can offer the way back
    /// to the return URL (redirect-mode logins only; the allowlist checked again).
    #[error("{problem}")]
    Restartable {
        problem: StateProblem,
        restart: Box<ReturnUrl>,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the gateway cannot tell its own URL; set PUBLIC_BASE_URL")]
    NoBaseUrl,
    #[error("no such route")]
    NotFound,
    /// Holds the `Allow` header's value.
    #[error("this route accepts only {0}")]
    MethodNotAllowed(&'static str),
}

/// Why a callback's `state` is refused. Each leads to a 400 and no call to WeChat.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateProblem {
    #[error("the state parameter is not one this gateway issues")]
    Malformed,
    #[error("this login is unknown or was already completed; start the login again")]
    Unknown,
    #[error("this login was already completed; start the login again")]
    Completed,
    #[error("this login has expired; start the login again")]
    Expired,
    #[error("this login was started for the other callback")]
    WrongRoute,
    #[error(
        "this login was started in another browser (its cookie is missing); start the login again here"
    )]
    OtherBrowser,
    #[error(
        "this login's return URL is no longer in ALLOWED_RETURN_ORIGINS, or its response mode no longer in RESPONSE_MODES"
    )]
    ReturnUrlNotAllowed,
    #[error("this login's WeChat app is no longer configured; start the login again")]
    AppRemoved,
}

impl RequestError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Store(err) => err.status(),
            Self::NoBaseUrl => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The `error` field of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Query(_)
            | Self::Missing(_)
            | Self::ReturnUrl(_)
            | Self::ResponseMode
            | Self::ResponseModeNotAllowed { .. }
            | Self::Nonce
            | Self::ResponseTypeOnAuth
            | Self::FormBody(_)
            | Self::UnknownApp
            | Self::RedirectUriNotRegistered => "invalid_request",
            Self::UnknownClient => "unauthorized_client",
            Self::Scope
            | Self::AutoScope
            | Self::ScopeNotForApp { .. }
            | Self::AutoNeedsOfficialAccount
            | Self::NoQrApp => "invalid_scope",
            Self::State(_) | Self::Restartable { .. } => "invalid_state",
            Self::Store(err) => err.oauth_error(),
            Self::NoBaseUrl => "server_error",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
        }
    }

    /// What the client is told. Internal details (store errors) stay in the logs.
    pub fn description(&self) -> String {
        match self {
            Self::Store(err) => err.description().into(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_status_and_code() {
        let cases: Vec<(RequestError, u16, &str)> = vec![
            (RequestError::Missing("url"), 400, "invalid_request"),
            (RequestError::Scope, 400, "invalid_scope"),
            (RequestError::AutoScope, 400, "invalid_scope"),
            (RequestError::NoQrApp, 400, "invalid_scope"),
            (RequestError::UnknownApp, 400, "invalid_request"),
            (RequestError::ResponseTypeOnAuth, 400, "invalid_request"),
            (StateProblem::Expired.into(), 400, "invalid_state"),
            (
                StoreError::Unavailable("connection refused to 10.0.0.1".into()).into(),
                503,
                "temporarily_unavailable",
            ),
            (StoreError::Corrupt("x".into()).into(), 500, "server_error"),
            (
                StoreError::Misconfigured("AccessDeniedException: arn:aws:iam::1:role/r".into())
                    .into(),
                500,
                "server_error",
            ),
            (RequestError::NotFound, 404, "not_found"),
            (
                RequestError::MethodNotAllowed("GET"),
                405,
                "method_not_allowed",
            ),
            (RequestError::UnknownClient, 400, "unauthorized_client"),
            (
                RequestError::RedirectUriNotRegistered,
                400,
                "invalid_request",
            ),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status().as_u16(), status, "{err:?}");
            assert_eq!(err.code(), code, "{err:?}");
        }
        let store = RequestError::from(StoreError::Unavailable("10.0.0.1 refused".into()));
        assert!(!store.description().contains("10.0.0.1"));
        let denied = RequestError::from(StoreError::Misconfigured("arn:aws:iam::1:role/r".into()));
        assert!(!denied.description().contains("arn:"));
    }
}
