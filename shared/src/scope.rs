//! WeChat's authorization scopes and how results are handed back.

use std::fmt;

/// `snsapi_base` (silent, openid only) or `snsapi_userinfo` (consent, profile too), both
/// an Official Account's inside WeChat; `snsapi_login` is a Website App's QR login
/// outside WeChat (scan and confirm on the phone, profile too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Base,
    UserInfo,
    Login,
}

impl Scope {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "snsapi_base" => Some(Self::Base),
            "snsapi_userinfo" => Some(Self::UserInfo),
            "snsapi_login" => Some(Self::Login),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Base => "snsapi_base",
            Self::UserInfo => "snsapi_userinfo",
            Self::Login => "snsapi_login",
        }
    }

    /// Whether WeChat hands out the profile (`/sns/userinfo`) for this scope.
    pub fn has_profile(self) -> bool {
        matches!(self, Self::UserInfo | Self::Login)
    }

    /// The gateway path WeChat sends the user back to for this scope.
    pub fn callback_path(self) -> &'static str {
        match self {
            Self::Base => "/getOpenId",
            Self::UserInfo => "/getWxUserInfo",
            Self::Login => "/getQrUserInfo",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the result parameters go in the return URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// `?openid=…` — the classic form.
    #[default]
    Query,
    /// `#openid=…` / `#/route?openid=…` — for hash-router single-page apps; also keeps the
    /// values out of server access logs.
    Fragment,
    /// A page that POSTs the values to the return URL: nothing lands in URLs, browser
    /// history or access logs.
    FormPost,
}

impl ResponseMode {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "query" => Some(Self::Query),
            "fragment" => Some(Self::Fragment),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Fragment => "fragment",
            Self::FormPost => "form_post",
        }
    }
}
