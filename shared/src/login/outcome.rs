//! How a login ended at WeChat's callback: what WeChat said ([`AtWeChat`]), and what the
//! callback made of it ([`Outcome`], for the log line and the metric).

use tracing::warn;

use crate::wechat::{SignedIn, WeChatError};

/// What WeChat said about the user, as the callback learnt it.
// One per callback, moved once into the mode's answer: a box would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum AtWeChat {
    /// The callback came without a code: the user declined.
    Declined,
    SignedIn(SignedIn),
    Failed(WeChatError),
}

/// How a callback with a valid state ended; the user is sent back in every case.
#[derive(Debug)]
pub enum Outcome {
    SignedIn {
        openid: String,
    },
    Refused,
    Failed(WeChatError),
    /// A repeat of a callback already answered: the same answer again.
    Repeated,
    /// An OpenID Connect login that signed in at WeChat but got no code: the outcome
    /// names why (`no_unionid`, `unavailable`, `server_error`).
    NotIssued(&'static str),
}

/// The result parameters of a finished login, in order: what goes back to the return URL
/// or the relying party's redirect URI.
pub type ResultFields = Vec<(String, String)>;

/// Result fields from name/value pairs.
pub(crate) fn fields(pairs: &[(&str, &str)]) -> ResultFields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Logs WeChat's refusal to sign a user in, once for either mode, and gives the
/// `wx_errcode` field that goes back with the error when WeChat named one.
pub(crate) fn logged_failure(err: &WeChatError) -> Option<(String, String)> {
    let class = err.class();
    warn!(error = %err, class = class.as_str(), "WeChat sign-in failed");
    err.errcode()
        .map(|errcode| ("wx_errcode".to_owned(), errcode.to_string()))
}
