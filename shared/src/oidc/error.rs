//! How the token and userinfo endpoints fail, each mapped once to its response: RFC 6749
//! §5.2 JSON for the token endpoint, RFC 6750 §3 `WWW-Authenticate` for userinfo.

use http::{HeaderValue, StatusCode, header};

use crate::response::{self, GatewayResponse};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum TokenRequestError {
    #[error("{0}")]
    InvalidRequest(String),
    /// `basic`: the client tried HTTP Basic, so the answer names that scheme.
    #[error("{reason}")]
    InvalidClient { reason: &'static str, basic: bool },
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error("grant_type must be authorization_code")]
    UnsupportedGrantType,
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl TokenRequestError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
            Self::Store(err) => err.status(),
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient { .. } => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::Store(err) => err.oauth_error(),
        }
    }

    fn description(&self) -> String {
        match self {
            Self::Store(err) => err.description().into(),
            other => other.to_string(),
        }
    }

    pub fn response(&self) -> GatewayResponse {
        let body = serde_json::json!({
            "error": self.code(),
            "error_description": self.description(),
        });
        let mut r = response::json(self.status(), &body);
        if let Self::InvalidClient { basic: true, .. } = self {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"wxauth\", charset=\"UTF-8\""),
            );
        }
        if let Self::Store(err) = self
            && err.is_transient()
        {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// No token at all: the challenge carries no error code (RFC 6750 §3.1).
    #[error("no access token")]
    Missing,
    #[error("{0}")]
    InvalidRequest(&'static str),
    #[error("{0}")]
    InvalidToken(&'static str),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl BearerError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing_token",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidToken(_) => "invalid_token",
            Self::Store(err) => err.oauth_error(),
        }
    }

    pub fn response(&self) -> GatewayResponse {
        let (status, challenge) = match self {
            Self::Missing => (
                StatusCode::UNAUTHORIZED,
                "Bearer realm=\"wxauth\"".to_owned(),
            ),
            Self::InvalidRequest(reason) => (
                StatusCode::BAD_REQUEST,
                format!(
                    "Bearer realm=\"wxauth\", error=\"invalid_request\", error_description=\"{reason}\""
                ),
            ),
            Self::InvalidToken(reason) => (
                StatusCode::UNAUTHORIZED,
                format!(
                    "Bearer realm=\"wxauth\", error=\"invalid_token\", error_description=\"{reason}\""
                ),
            ),
            Self::Store(err) => {
                let body = serde_json::json!({"error": err.oauth_error()});
                let mut r = response::json(err.status(), &body);
                if err.is_transient() {
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                }
                return r;
            }
        };
        let body = match self {
            Self::Missing => {
                serde_json::json!({"error": "invalid_token", "error_description": "no access token"})
            }
            other => {
                serde_json::json!({"error": other.code(), "error_description": other.to_string()})
            }
        };
        let mut r = response::json(status, &body);
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        r
    }
}
