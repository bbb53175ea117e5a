use std::time::Duration;

/// How the simulated official account (公众号) is set up in WeChat's admin console.
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    pub app_id: String,
    pub app_secret: String,
    /// When the account is bound to an Open Platform account WeChat adds `unionid`
    /// to snsapi_userinfo exchanges and to `/sns/userinfo`.
    pub bound_to_open_platform: bool,
    pub code_ttl: Duration,
    pub access_token_ttl: Duration,
    /// WeChat's 网页授权域名: a bare host that the `redirect_uri` host must equal
    /// exactly (subdomains do not match, the port is not checked). `None` accepts any host.
    pub registered_callback_domain: Option<String>,
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
            registered_callback_domain: None,
        }
    }
}
