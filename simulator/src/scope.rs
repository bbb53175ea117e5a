/// The two web-authorization scopes an official account can request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `snsapi_base`: silent, yields only the openid.
    Base,
    /// `snsapi_userinfo`: shows a consent sheet, unlocks `/sns/userinfo`.
    UserInfo,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Base => "snsapi_base",
            Scope::UserInfo => "snsapi_userinfo",
        }
    }

    /// Parses the wire name; anything else is a scope the account has no permission for.
    pub fn from_wire(value: &str) -> Option<Self> {
        match value {
            "snsapi_base" => Some(Scope::Base),
            "snsapi_userinfo" => Some(Scope::UserInfo),
            _ => None,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
