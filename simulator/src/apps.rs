//! The WeChat apps a simulator knows: the primary Official Account plus any
//! extra Official Accounts, Open Platform Website Apps, Mini Programs or mobile apps a
//! test registers.

/// Which console an app was registered in, which decides the login pages it may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimAppKind {
    /// 公众号 (mp.weixin.qq.com): `/connect/oauth2/authorize`, scopes snsapi_base / snsapi_userinfo.
    OfficialAccount,
    /// 网站应用 (open.weixin.qq.com): `/connect/qrconnect`, scope snsapi_login.
    Website,
    /// 小程序 (mp.weixin.qq.com): no login page; `wx.login()` codes
    /// (`WeChatSimulator::wx_login_code`) exchanged at `/sns/jscode2session`.
    MiniProgram,
    /// 移动应用 (open.weixin.qq.com): no login page; OpenSDK `SendAuth` codes
    /// (`WeChatSimulator::issue_code_for_app` with `Scope::UserInfo`) exchanged at
    /// `/sns/oauth2/access_token`.
    MobileApp,
}

/// One registered app with its own AppID/AppSecret. openids are per app; the
/// unionid is shared by every app bound to the (single, simulated) Open Platform account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimApp {
    pub app_id: String,
    pub app_secret: String,
    pub kind: SimAppKind,
    /// Bound apps get `unionid` in snsapi_userinfo / snsapi_login exchanges and in `/sns/userinfo`.
    pub bound_to_open_platform: bool,
}

impl SimApp {
    /// An unbound Official Account.
    pub fn official_account(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self::new(app_id, app_secret, SimAppKind::OfficialAccount)
    }

    /// An unbound Website App (QR login).
    pub fn website(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self::new(app_id, app_secret, SimAppKind::Website)
    }

    /// An unbound Mini Program.
    pub fn miniprogram(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self::new(app_id, app_secret, SimAppKind::MiniProgram)
    }

    /// An unbound mobile app (OpenSDK).
    pub fn mobile_app(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self::new(app_id, app_secret, SimAppKind::MobileApp)
    }

    /// The same app, bound to the Open Platform account.
    pub fn bound(self) -> Self {
        Self {
            bound_to_open_platform: true,
            ..self
        }
    }

    fn new(app_id: impl Into<String>, app_secret: impl Into<String>, kind: SimAppKind) -> Self {
        Self {
            app_id: app_id.into(),
            app_secret: app_secret.into(),
            kind,
            bound_to_open_platform: false,
        }
    }
}
