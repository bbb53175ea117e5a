/// A WeChat user's public profile as `/sns/userinfo` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimUser {
    /// The simulator's handle for the person; openid/unionid are derived from it.
    pub name: String,
    pub nickname: String,
    /// 0 unknown, 1 male, 2 female.
    pub sex: u8,
    /// Some users' `sex` arrives as the JSON string `"1"` instead of the number 1.
    pub sex_as_string: bool,
    pub province: String,
    pub city: String,
    pub country: String,
    /// Empty when the user has no avatar.
    pub headimgurl: String,
    /// A snapshot-mode (朋友圈快照页) virtual visitor: the exchange reply carries `is_snapshotuser: 1`.
    pub snapshot: bool,
}

impl SimUser {
    /// The profile every name gets until `put_user` replaces it.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            nickname: name.to_owned(),
            sex: 0,
            sex_as_string: false,
            province: String::new(),
            city: String::new(),
            country: String::new(),
            headimgurl: String::new(),
            snapshot: false,
        }
    }
}
