//! Everything that can go wrong talking to WeChat's API, as one error type. How each
//! failure (a WeChat errcode among them) is classed for the front end is in
//! `error_class.rs`.

/// Everything that can go wrong talking to WeChat's API.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WeChatError {
    /// WeChat answered `{"errcode":N,"errmsg":…}` (with HTTP 200, as it does).
    #[error("WeChat error {errcode}: {errmsg}")]
    Api { errcode: i64, errmsg: String },
    #[error("WeChat did not answer in time")]
    Timeout,
    /// No connection could be made: the request provably never reached WeChat.
    #[error("could not connect to WeChat: {0}")]
    Connect(String),
    /// The request may have reached WeChat but the exchange broke.
    #[error("the connection to WeChat failed: {0}")]
    Transport(String),
    #[error("WeChat answered with HTTP status {0}")]
    HttpStatus(u16),
    #[error("WeChat's reply could not be understood: {0}")]
    Malformed(String),
    #[error("WeChat's reply was larger than {0} bytes")]
    TooLarge(usize),
    /// The callback's `code` cannot be a WeChat code; WeChat was not asked.
    #[error("the authorization code is malformed")]
    MalformedCode,
}

impl WeChatError {
    /// WeChat's own error code, when it gave one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Self::Api { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }
}
