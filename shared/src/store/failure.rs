//! How a store failure is told to whoever asked, the same on every route: the redirect
//! mode's error page and JSON, the OpenID Provider's error redirects, token and userinfo
//! answers. The store's own words (hosts, ARNs, table names) stay in the logs.

use http::StatusCode;

use super::StoreError;

impl StoreError {
    /// 503 for a store that will recover (retry shortly); 500 for one our deployment
    /// cannot use, which needs an operator.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The OAuth `error` code (RFC 6749 §4.1.2.1 and §5.2 name both).
    pub fn oauth_error(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "temporarily_unavailable",
            _ => "server_error",
        }
    }

    /// The `error_description` a client is told.
    pub fn description(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "the login store is unavailable right now; try again shortly",
            Self::Misconfigured(_) => {
                "wxauth cannot use its login store; its operator must fix the deployment"
            }
            _ => "the login store returned an unexpected item",
        }
    }

    /// Whether a client may retry soon (`Retry-After`).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_are_told_without_the_stores_words() {
        let cases = [
            (
                StoreError::Unavailable("connection refused to 10.0.0.1".into()),
                503,
                "temporarily_unavailable",
            ),
            (
                StoreError::Misconfigured("AccessDeniedException: arn:aws:iam::1:role/r".into()),
                500,
                "server_error",
            ),
            (
                StoreError::Corrupt("table wxauth-states".into()),
                500,
                "server_error",
            ),
            (StoreError::AlreadyExists, 500, "server_error"),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status().as_u16(), status, "{err:?}");
            assert_eq!(err.oauth_error(), code, "{err:?}");
            assert_eq!(err.is_transient(), status == 503, "{err:?}");
            for private in ["10.0.0.1", "arn:", "wxauth-states"] {
                assert!(!err.description().contains(private), "{err:?}");
            }
        }
    }
}
