use std::time::Duration;

use crate::apps::{SimApp, SimAppKind};

/// How the simulated WeChat is set up: the primary official account (公众号) as
/// configured in WeChat's admin console, plus any extra apps (`with_app`).
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// The primary Official Account's AppID; `openid_for` and `issue_code` mean this app.
    pub app_id: String,
    pub app_secret: String,
    /// When the account is bound to an Open Platform account WeChat adds `unionid`
    /// to snsapi_userinfo exchanges and to `/sns/userinfo`.
    pub bound_to_open_platform: bool,
    pub code_ttl: Duration,
    pub access_token_ttl: Duration,
    /// How long an app's own access token (`/cgi-bin/stable_token`) lives.
    pub app_token_ttl: Duration,
    /// WeChat's 网页授权域名 (for a Website App, its 授权回调域): a bare host that the
    /// `redirect_uri` host must equal exactly (subdomains do not match, the port is not
    /// checked). `None` accepts any host. One domain serves every registered app.
    pub registered_callback_domain: Option<String>,
    /// Apps besides the primary one. An entry whose `app_id` equals the primary's is
    /// ignored: the primary's own fields always describe that AppID.
    pub extra_apps: Vec<SimApp>,
}

impl SimulatorConfig {
    /// WeChat's real lifetimes: codes live 5 minutes, access tokens 2 hours.
    pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(300);
    pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(7200);

    pub fn new(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            app_secret: app_secret.into(),
            bound_to_open_platform: false,
            code_ttl: Self::DEFAULT_CODE_TTL,
            access_token_ttl: Self::DEFAULT_ACCESS_TOKEN_TTL,
            app_token_ttl: Self::DEFAULT_ACCESS_TOKEN_TTL,
            registered_callback_domain: None,
            extra_apps: Vec::new(),
        }
    }

    /// Registers one more app (e.g. `SimApp::website(..).bound()`).
    pub fn with_app(mut self, app: SimApp) -> Self {
        self.extra_apps.push(app);
        self
    }

    /// The primary Official Account as a `SimApp`, read from the fields above.
    pub fn primary_app(&self) -> SimApp {
        SimApp {
            app_id: self.app_id.clone(),
            app_secret: self.app_secret.clone(),
            kind: SimAppKind::OfficialAccount,
            bound_to_open_platform: self.bound_to_open_platform,
        }
    }

    /// The registered app with this AppID (the primary first), if any.
    pub fn app(&self, app_id: &str) -> Option<SimApp> {
        if app_id == self.app_id {
            return Some(self.primary_app());
        }
        self.extra_apps
            .iter()
            .find(|app| app.app_id == app_id)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_are_found_by_appid_and_the_primary_wins_a_clash() {
        let mut config = SimulatorConfig::new("wxoa", "s1")
            .with_app(SimApp::website("wxweb", "s2").bound())
            .with_app(SimApp::website("wxoa", "shadow"));
        config.bound_to_open_platform = true;
        let primary = config.app("wxoa").unwrap();
        assert_eq!(primary.kind, SimAppKind::OfficialAccount);
        assert_eq!(primary.app_secret, "s1");
        assert!(primary.bound_to_open_platform);
        let web = config.app("wxweb").unwrap();
        assert_eq!(web.kind, SimAppKind::Website);
        assert_eq!(web.app_secret, "s2");
        assert!(web.bound_to_open_platform);
        assert!(config.app("wxnope").is_none());
        assert!(!SimApp::official_account("a", "b").bound_to_open_platform);
    }
}
