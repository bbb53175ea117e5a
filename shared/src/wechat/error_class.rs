//! WeChat's errcodes, and every other way a call can fail, mapped to the OAuth error
//! the front end is told: the code is spent (start again), WeChat is busy (try again), or
//! the gateway's own configuration is wrong (an operator must act).

use super::error::WeChatError;

/// How a failure is reported back to the front end (the OAuth `error` value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The code is invalid, used, expired or missing: start a new login.
    InvalidGrant,
    /// WeChat is busy, slow or unreachable: the same login may work in a moment.
    TemporarilyUnavailable,
    /// The gateway's own configuration (app id, secret, permissions) is wrong.
    ServerError,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidGrant => "invalid_grant",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::ServerError => "server_error",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::InvalidGrant => {
                "WeChat did not accept the authorization code (invalid, already used or expired); start the login again"
            }
            Self::TemporarilyUnavailable => {
                "WeChat is unavailable or busy right now; try the login again shortly"
            }
            Self::ServerError => {
                "the login gateway is misconfigured for WeChat (app id, secret or permissions); contact the site's operator"
            }
        }
    }
}

impl WeChatError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Api { errcode, .. } => match errcode {
                40029 | 40163 | 42003 | 41008 => ErrorClass::InvalidGrant,
                -1 | 45011 | 45009 => ErrorClass::TemporarilyUnavailable,
                _ => ErrorClass::ServerError,
            },
            Self::HttpStatus(status) if *status >= 500 || *status == 429 => {
                ErrorClass::TemporarilyUnavailable
            }
            Self::HttpStatus(_) => ErrorClass::ServerError,
            Self::MalformedCode => ErrorClass::InvalidGrant,
            Self::Timeout
            | Self::Connect(_)
            | Self::Transport(_)
            | Self::Malformed(_)
            | Self::TooLarge(_) => ErrorClass::TemporarilyUnavailable,
        }
    }
}

/// Two answers a client that calls the gateway itself (`POST /login/code`) can act on apart
/// from the three classes above; a redirect's front end gets their class.
impl WeChatError {
    /// 45011: too many logins of one user in a short while (about 100 a minute): wait
    /// before the next, rather than retry at once.
    pub fn is_rate_limit(&self) -> bool {
        self.errcode() == Some(45011)
    }

    /// 40226: WeChat blocked a high-risk user; nothing the client does changes it.
    pub fn is_blocked_user(&self) -> bool {
        self.errcode() == Some(40226)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(errcode: i64) -> WeChatError {
        WeChatError::Api {
            errcode,
            errmsg: "x".into(),
        }
    }

    #[test]
    fn errcodes_map_to_oauth_errors() {
        for code in [40029, 40163, 42003, 41008] {
            assert_eq!(api(code).class(), ErrorClass::InvalidGrant, "{code}");
        }
        for code in [-1, 45011] {
            assert_eq!(
                api(code).class(),
                ErrorClass::TemporarilyUnavailable,
                "{code}"
            );
        }
        for code in [40013, 40125, 40001, 48001, 40003, 99999] {
            assert_eq!(api(code).class(), ErrorClass::ServerError, "{code}");
        }
        assert_eq!(api(40163).errcode(), Some(40163));
    }

    #[test]
    fn the_rate_limit_and_a_blocked_user_are_told_apart() {
        assert!(api(45011).is_rate_limit());
        assert!(!api(45009).is_rate_limit());
        assert!(api(40226).is_blocked_user());
        assert!(!api(40029).is_blocked_user());
        assert!(!WeChatError::Timeout.is_rate_limit());
        assert!(!WeChatError::Timeout.is_blocked_user());
    }

    #[test]
    fn transport_failures_are_temporary() {
        for e in [
            WeChatError::Timeout,
            WeChatError::Connect("refused".into()),
            WeChatError::Transport("reset".into()),
            WeChatError::HttpStatus(500),
            WeChatError::HttpStatus(502),
            WeChatError::HttpStatus(429),
            WeChatError::Malformed("eof".into()),
            WeChatError::TooLarge(1),
        ] {
            assert_eq!(e.class(), ErrorClass::TemporarilyUnavailable, "{e:?}");
            assert_eq!(e.errcode(), None);
        }
        assert_eq!(
            WeChatError::HttpStatus(404).class(),
            ErrorClass::ServerError
        );
    }
}
