/// The web-authorization scopes: two for an official account, one for a Website App.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `snsapi_base`: silent, yields only the openid.
    Base,
    /// `snsapi_userinfo`: shows a consent sheet, unlocks `/sns/userinfo`.
    UserInfo,
    /// `snsapi_login`: a Website App's QR login (`/connect/qrconnect`), unlocks `/sns/userinfo`.
    Login,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Base => "snsapi_base",
            Scope::UserInfo => "snsapi_userinfo",
            Scope::Login => "snsapi_login",
        }
    }

    /// Parses the wire name; anything else is a scope no app has permission for.
    /// Which page accepts which scope is the page's business.
    pub fn from_wire(value: &str) -> Option<Self> {
        match value {
            "snsapi_base" => Some(Scope::Base),
            "snsapi_userinfo" => Some(Scope::UserInfo),
            "snsapi_login" => Some(Scope::Login),
            _ => None,
        }
    }

    /// Whether a token of this scope may read `/sns/userinfo` and, for a bound app,
    /// carries `unionid` in the exchange reply.
    pub(crate) fn reads_profile(self) -> bool {
        matches!(self, Scope::UserInfo | Scope::Login)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
