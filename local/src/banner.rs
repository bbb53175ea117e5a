//! The few lines printed at start: where to go, what runs, where logins are kept.

pub(crate) struct Banner {
    pub(crate) base_url: String,
    pub(crate) demo: Option<DemoBanner>,
    /// The WeChat apps, as `name (kind AppID)`; not secret: AppIDs are in every authorize URL.
    pub(crate) apps: Vec<String>,
    pub(crate) wechat_open_base: String,
    pub(crate) public_base_url: Option<String>,
    pub(crate) store: String,
}

pub(crate) struct DemoBanner {
    /// The demo's own, freshly generated key: the only secret ever printed.
    pub(crate) signing_key: String,
    pub(crate) ignored: Vec<&'static str>,
}

impl Banner {
    pub(crate) fn render(&self) -> String {
        let base = &self.base_url;
        let mut lines = Vec::new();
        match &self.demo {
            Some(demo) => {
                lines.push(format!("wxauth-local demo: open {base}/ in your browser"));
                lines.push(format!(
                    "  mode:  demo, against a simulated WeChat at {base}/wechat \
                     (set WECHAT_APP_ID and friends, or WECHAT_APPS, to use real WeChat apps)"
                ));
                lines.push(format!("  store: {}", self.store));
                lines.push(format!(
                    "  demo token signing key (TOKEN_SIGNING_KEY, to verify result tokens): {}",
                    demo.signing_key
                ));
                if !demo.ignored.is_empty() {
                    lines.push(format!(
                        "  ignored in demo mode: {}",
                        demo.ignored.join(", ")
                    ));
                }
            }
            None => {
                lines.push(format!("wxauth-local: gateway at {base}"));
                let (noun, apps) = match self.apps.len() {
                    1 => ("app", self.apps.join("")),
                    _ => ("apps", self.apps.join(", ")),
                };
                lines.push(format!(
                    "  mode:  configured, WeChat {noun} {apps} at {}",
                    self.wechat_open_base.trim_end_matches('/')
                ));
                lines.push(format!("  store: {}", self.store));
                if let Some(public) = &self.public_base_url {
                    lines.push(format!("  public URL (PUBLIC_BASE_URL): {public}"));
                }
                lines.push(format!(
                    "  start a login: {base}/auth?url=<your return URL>&scope=snsapi_base"
                ));
            }
        }
        lines.join("\n")
    }
}
