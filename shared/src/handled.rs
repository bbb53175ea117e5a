//! What a handler hands back to the router: its response, and what the request's
//! `handled` log line and metric say about how it ended (`dispatch` writes both).

use sha2::{Digest, Sha256};

use crate::login::outcome::Outcome;
use crate::response::GatewayResponse;

/// A request a handler answered, refusals it renders itself included.
pub(crate) struct Handled {
    pub response: GatewayResponse,
    pub log: Log,
}

impl Handled {
    pub(crate) fn new(response: GatewayResponse, log: Log) -> Self {
        Self { response, log }
    }
}

/// What one request's log line and metric say about its outcome.
pub(crate) struct Log {
    pub(crate) outcome: &'static str,
    pub(crate) wx_errcode: Option<i64>,
    /// A hash of the openid: enough to follow one user through the logs, not to name them.
    pub(crate) user: Option<String>,
    /// The app of the login the request started or finished: with several apps in one
    /// deployment, an operator follows each apart.
    pub(crate) app: Option<String>,
}

impl Log {
    pub(crate) fn for_user(outcome: &'static str, openid: &str) -> Self {
        Self {
            user: Some(openid_hash(openid)),
            ..Self::plain(outcome)
        }
    }

    pub(crate) fn plain(outcome: &'static str) -> Self {
        Self {
            outcome,
            wx_errcode: None,
            user: None,
            app: None,
        }
    }

    pub(crate) fn with_app(self, app: &str) -> Self {
        Self {
            app: Some(app.to_owned()),
            ..self
        }
    }

    /// A refusal's outcome by its status: 503 the store will recover, another 5xx needs an
    /// operator, anything else was the client's.
    pub(crate) fn refused(status: http::StatusCode) -> Self {
        Self::plain(match status {
            http::StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            s if s.is_server_error() => "server_error",
            _ => "rejected",
        })
    }
}

impl From<&Outcome> for Log {
    fn from(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::SignedIn { openid } => Self::for_user("signed_in", openid),
            Outcome::Refused => Self::plain("refused"),
            Outcome::Repeated => Self::plain("repeated"),
            Outcome::NotIssued(why) => Self::plain(why),
            Outcome::Failed(err) => Self {
                wx_errcode: err.errcode(),
                ..Self::plain(err.class().as_str())
            },
        }
    }
}

/// The first 16 hex digits of SHA-256 over the openid.
pub fn openid_hash(openid: &str) -> String {
    Sha256::digest(openid.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
