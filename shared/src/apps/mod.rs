//! The WeChat apps one deployment logs in with. The single-app variables (`WECHAT_APP_ID`,
//! `WECHAT_APP_SECRET`, `ALLOWED_RETURN_ORIGINS`) make the Official Account named
//! [`DEFAULT_APP`]; `WECHAT_APPS` adds named apps, Official Accounts (in WeChat) and
//! Website Apps (QR login outside it), each with its own AppID, AppSecret and return
//! origins, and Mini Programs and mobile apps, which log in with a client SDK's code
//! (`POST /login/code`) instead of a browser. A login remembers its app by name, so its
//! callback exchanges the code with the AppSecret of the app that issued it.
//!
//! This file is the model and what a name or an AppID may be; reading `WECHAT_APPS` is
//! [`parse`], an app's AppSecret (inline or by reference) [`app_secret`], a code-login
//! app's own fields [`code_rules`].

mod app_secret;
mod code_rules;
mod parse;
mod return_rules;

use std::collections::HashSet;
use std::fmt;

pub use app_secret::{secret_refs, secret_variable, valid_secret};
pub use code_rules::{CodeLogin, MAX_TOKEN_AUDIENCE_LEN};
pub use parse::{AppsInput, parse_apps};

use crate::allowed_origins::AllowedOrigins;
use crate::response_modes::ResponseModes;
use crate::scope::Scope;
use crate::secret::Secret;

/// The name of the app the single-app variables configure.
pub const DEFAULT_APP: &str = "default";
/// More apps than any team runs; keeps a configuration mistake from building thousands of
/// clients.
pub const MAX_APPS: usize = 32;
pub const MAX_APP_NAME_LEN: usize = 32;

/// What kind of WeChat app, which decides the scopes it can log in with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppKind {
    /// 公众号 (mp.weixin.qq.com): `snsapi_base` / `snsapi_userinfo`, inside WeChat.
    OfficialAccount,
    /// 网站应用 (open.weixin.qq.com): `snsapi_login`, by QR code outside WeChat.
    Website,
    /// 小程序 (mp.weixin.qq.com): a `wx.login()` code, exchanged at `/sns/jscode2session`.
    MiniProgram,
    /// 移动应用 (open.weixin.qq.com): an OpenSDK `SendAuth` code, exchanged at
    /// `/sns/oauth2/access_token` with the mobile app's own credentials.
    MobileApp,
}

impl AppKind {
    /// The kind `WECHAT_APPS` names `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::OfficialAccount,
            Self::Website,
            Self::MiniProgram,
            Self::MobileApp,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OfficialAccount => "official_account",
            Self::Website => "website",
            Self::MiniProgram => "miniprogram",
            Self::MobileApp => "mobile_app",
        }
    }

    /// Whether WeChat lets this kind of app ask for `scope` in a browser login (`/auth`,
    /// `/oauth2/authorize`): the code-login kinds never do.
    pub fn allows(self, scope: Scope) -> bool {
        match self {
            Self::OfficialAccount => matches!(scope, Scope::Base | Scope::UserInfo),
            Self::Website => scope == Scope::Login,
            Self::MiniProgram | Self::MobileApp => false,
        }
    }

    /// Whether its logins come as a client SDK's code to `POST /login/code` rather than
    /// through a browser and a callback.
    pub fn logs_in_with_code(self) -> bool {
        matches!(self, Self::MiniProgram | Self::MobileApp)
    }
}

impl fmt::Display for AppKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One WeChat app.
#[derive(Clone, Debug)]
pub struct WeChatApp {
    pub name: String,
    pub kind: AppKind,
    pub app_id: String,
    /// Only in a process that serves the callbacks (see `config::Serves`).
    pub secret: Option<Secret>,
    /// The return URLs this app's logins may go back to.
    pub allowed_origins: AllowedOrigins,
    /// The response modes its redirect-mode logins may use.
    pub response_modes: ResponseModes,
    /// For an Official Account: the Website App that `scope=auto` sends visitors outside
    /// WeChat to.
    pub qr_app: Option<String>,
    /// For a Mini Program or a mobile app: its token's audience and scope.
    pub code_login: Option<CodeLogin>,
}

/// Every configured app; never empty, the first is the default (`/auth` without `app`).
#[derive(Clone, Debug)]
pub struct WeChatApps(Vec<WeChatApp>);

impl WeChatApps {
    /// Checks what involves several apps: unique names and AppIDs, `qr_app` naming a
    /// Website App. Problems are sentences about the apps, one each.
    pub fn new(apps: Vec<WeChatApp>) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        if apps.is_empty() {
            problems.push("no WeChat app is configured".to_owned());
        }
        let mut names = HashSet::new();
        let mut app_ids = HashSet::new();
        for app in &apps {
            if !names.insert(app.name.as_str()) {
                problems.push(format!("app `{}`: the name is used twice", app.name));
            }
            if !app_ids.insert(app.app_id.as_str()) {
                problems.push(format!(
                    "app `{}`: AppID {} belongs to another app already",
                    app.name, app.app_id
                ));
            }
        }
        for app in &apps {
            let Some(qr) = &app.qr_app else { continue };
            match apps.iter().find(|a| &a.name == qr) {
                None => problems.push(format!(
                    "app `{}`: qr_app `{qr}` is not a configured app",
                    app.name
                )),
                Some(target) if target.kind != AppKind::Website => problems.push(format!(
                    "app `{}`: qr_app `{qr}` must be a website app (it is {})",
                    app.name, target.kind
                )),
                Some(_) => {}
            }
        }
        if problems.is_empty() {
            Ok(Self(apps))
        } else {
            Err(problems)
        }
    }

    /// The app of `/auth` without `app`: the single-app variables' when set, else the
    /// first of WECHAT_APPS that logs in through a browser (a Mini Program listed first
    /// does not take `/auth` over). Only when there is none, the first app, which `/auth`
    /// and `/oauth2/authorize` then refuse.
    pub fn default_app(&self) -> &WeChatApp {
        self.0
            .iter()
            .find(|app| !app.kind.logs_in_with_code())
            .unwrap_or(&self.0[0])
    }

    /// The app of `POST /login/code` without `app`: the only Mini Program or mobile app.
    /// `None` when there is none or several (the request must name one).
    pub fn only_code_app(&self) -> Option<&WeChatApp> {
        let mut code_apps = self.0.iter().filter(|app| app.kind.logs_in_with_code());
        let only = code_apps.next()?;
        code_apps.next().is_none().then_some(only)
    }

    pub fn get(&self, name: &str) -> Option<&WeChatApp> {
        self.0.iter().find(|app| app.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &WeChatApp> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An app name: short and plain, as it appears in `/auth?app=` and in logs.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_APP_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An AppID as WeChat issues them (`wx` and 16 hex digits), loosely: letters, digits, `_`,
/// `-`, at most 64.
pub fn valid_app_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> AllowedOrigins {
        AllowedOrigins::parse("https://app.example.com").unwrap()
    }

    #[test]
    fn names_are_checked_at_the_boundary() {
        assert!(valid_name(&"a".repeat(MAX_APP_NAME_LEN)));
        assert!(!valid_name(&"a".repeat(MAX_APP_NAME_LEN + 1)));
        assert!(!valid_name(""));
        assert!(!valid_name("a.b"));
        assert!(valid_name("Web_App-2"));
    }

    #[test]
    fn apps_must_not_clash_and_qr_app_must_be_a_website_app() {
        let app = |name: &str, kind, app_id: &str, qr: Option<&str>| WeChatApp {
            name: name.into(),
            kind,
            app_id: app_id.into(),
            secret: None,
            allowed_origins: origins(),
            qr_app: qr.map(str::to_owned),
            response_modes: ResponseModes::default(),
            code_login: None,
        };
        use AppKind::*;
        let problems = WeChatApps::new(vec![
            app("a", OfficialAccount, "wx1", Some("b")),
            app("b", OfficialAccount, "wx2", Some("missing")),
            app("a", Website, "wx1", None),
        ])
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "app `a`: the name is used twice",
                "app `a`: AppID wx1 belongs to another app already",
                "app `a`: qr_app `b` must be a website app (it is official_account)",
                "app `b`: qr_app `missing` is not a configured app",
            ]
        );
        assert!(WeChatApps::new(Vec::new()).is_err());
    }

    #[test]
    fn kinds_allow_their_own_scopes() {
        assert!(AppKind::OfficialAccount.allows(Scope::Base));
        assert!(AppKind::OfficialAccount.allows(Scope::UserInfo));
        assert!(!AppKind::OfficialAccount.allows(Scope::Login));
        assert!(AppKind::Website.allows(Scope::Login));
        assert!(!AppKind::Website.allows(Scope::Base));
        assert!(!AppKind::Website.allows(Scope::UserInfo));
        for kind in [AppKind::MiniProgram, AppKind::MobileApp] {
            assert!(kind.logs_in_with_code());
            for scope in [Scope::Base, Scope::UserInfo, Scope::Login] {
                assert!(!kind.allows(scope), "{kind} {scope:?}");
            }
        }
        assert!(!AppKind::OfficialAccount.logs_in_with_code());
        assert!(!AppKind::Website.logs_in_with_code());
    }

    #[test]
    fn the_default_app_logs_in_through_a_browser_and_the_only_code_app_is_unique() {
        let app = |name: &str, kind: AppKind| WeChatApp {
            name: name.into(),
            kind,
            app_id: format!("wx-{name}"),
            secret: None,
            allowed_origins: AllowedOrigins::none(),
            qr_app: None,
            response_modes: ResponseModes::default(),
            code_login: None,
        };
        let apps = WeChatApps::new(vec![
            app("mini", AppKind::MiniProgram),
            app("mp", AppKind::OfficialAccount),
        ])
        .unwrap();
        assert_eq!(apps.default_app().name, "mp");
        assert_eq!(apps.only_code_app().unwrap().name, "mini");
        let apps = WeChatApps::new(vec![
            app("mini", AppKind::MiniProgram),
            app("ios", AppKind::MobileApp),
        ])
        .unwrap();
        assert_eq!(apps.default_app().name, "mini");
        assert!(
            apps.only_code_app().is_none(),
            "two: the request must name one"
        );
        let apps = WeChatApps::new(vec![app("mp", AppKind::OfficialAccount)]).unwrap();
        assert!(apps.only_code_app().is_none());
    }
}
