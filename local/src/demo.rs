//! Demo mode (neither WECHAT_APP_ID nor WECHAT_APPS): the configuration that points the
//! gateway at the simulated WeChat served by the same server under `/wechat`, with two
//! apps: the Official Account `mp` (the default) paired with the Website App `web`, so
//! `scope=auto` and QR login work as in a real two-app deployment.

use std::collections::HashMap;

use wechat_simulator::{SimApp, SimulatorConfig, WeChatSimulator};
use wxauth_core::SigningKey;
use wxauth_core::oidc::keys::SigningKeys;

/// The demo's own OpenID Connect client: public (PKCE), redirecting to the demo's
/// relying-party page.
pub const DEMO_CLIENT_ID: &str = "wxauth-demo";
pub(crate) const DEMO_OIDC_CALLBACK: &str = "/demo/oidc/callback";

/// The demo's Official Account AppID (as WeChat's: `wx` and 16 characters).
pub const DEMO_APP_ID: &str = "wxd3m0000000000000";
/// The demo's Website App AppID (QR login outside WeChat).
pub const DEMO_WEB_APP_ID: &str = "wxd3m0000000000web";

/// Where the simulated WeChat is mounted.
pub(crate) const SIMULATOR_PREFIX: &str = "/wechat";

/// Variables the demo sets itself; values given in the environment are ignored.
const OVERRIDDEN: [&str; 4] = [
    "WECHAT_APP_SECRET",
    "TOKEN_SIGNING_KEY",
    "WECHAT_OPEN_BASE",
    "WECHAT_API_BASE",
];

/// Demo mode when no app is configured: WECHAT_APP_ID and WECHAT_APPS unset (an empty
/// value counts as unset, as in `Config`).
pub(crate) fn wanted(lookup: &impl Fn(&str) -> Option<String>) -> bool {
    ["WECHAT_APP_ID", "WECHAT_APPS"]
        .iter()
        .all(|name| lookup(name).is_none_or(|v| v.trim().is_empty()))
}

/// The names (never the values) of variables the demo overrides that were set anyway.
pub(crate) fn ignored_variables(lookup: &impl Fn(&str) -> Option<String>) -> Vec<&'static str> {
    OVERRIDDEN
        .into_iter()
        .filter(|name| lookup(name).is_some_and(|v| !v.trim().is_empty()))
        .collect()
}

pub(crate) struct Demo {
    pub(crate) simulator: WeChatSimulator,
    pub(crate) signing_key: SigningKey,
    /// The key as text: printed at start so tokens can be checked elsewhere too.
    pub(crate) signing_key_text: String,
    overlay: HashMap<&'static str, String>,
    own_origins: String,
    demo_client: serde_json::Value,
    /// Generated at start (RSA 2048, then EC P-256) unless OIDC_SIGNING_KEYS is given.
    oidc_keys: String,
    /// The result tokens' own keys, generated the first time TOKEN_SIGNING_ALG asks for
    /// them (RS256 / ES256) and no RESULT_SIGNING_KEYS is given.
    result_keys: std::sync::OnceLock<String>,
}

/// The demo's apps allow every response mode.
const ALL_MODES: &str = "query,fragment,form_post";

impl Demo {
    pub(crate) fn new(port: u16) -> Self {
        let (signing_key, signing_key_text) = SigningKey::generate();
        // 32 random bytes as 43 URL-safe characters: as good an AppSecret as any.
        let (_, app_secret) = SigningKey::generate();
        let (_, web_secret) = SigningKey::generate();
        let wechat = format!("http://127.0.0.1:{port}{SIMULATOR_PREFIX}");

        // Both bound to one Open Platform account: logins show the unionid that ties a
        // visitor's QR login to their login inside WeChat. Every response mode, fragment
        // too (off by default in a deployment), so the browser helper's can be tried.
        let mut simulator_config = SimulatorConfig::new(DEMO_APP_ID, app_secret.clone())
            .with_app(SimApp::website(DEMO_WEB_APP_ID, web_secret.clone()).bound());
        simulator_config.bound_to_open_platform = true;
        let apps = serde_json::json!([
            {"name": "mp", "kind": "official_account", "app_id": DEMO_APP_ID,
             "app_secret": app_secret, "qr_app": "web", "response_modes": ALL_MODES},
            {"name": "web", "kind": "website", "app_id": DEMO_WEB_APP_ID,
             "app_secret": web_secret, "response_modes": ALL_MODES},
        ]);

        let overlay = HashMap::from([
            ("WECHAT_APPS", apps.to_string()),
            ("TOKEN_SIGNING_KEY", signing_key_text.clone()),
            ("WECHAT_OPEN_BASE", wechat.clone()),
            ("WECHAT_API_BASE", wechat),
        ]);
        let demo_client = serde_json::json!({
            "client_id": DEMO_CLIENT_ID,
            "name": "wxauth demo",
            "redirect_uris": [
                format!("http://127.0.0.1:{port}{DEMO_OIDC_CALLBACK}"),
                format!("http://localhost:{port}{DEMO_OIDC_CALLBACK}"),
            ],
        });
        Self {
            simulator: WeChatSimulator::new(simulator_config),
            signing_key,
            signing_key_text,
            overlay,
            own_origins: format!("http://127.0.0.1:{port},http://localhost:{port}"),
            demo_client,
            oidc_keys: SigningKeys::generate_pem(),
            result_keys: std::sync::OnceLock::new(),
        }
    }

    /// The demo's values over the real environment, so `Config` validates the demo the
    /// same way as a deployment. ALLOWED_RETURN_ORIGINS keeps whatever the user gave.
    pub(crate) fn lookup(
        &self,
        name: &str,
        real: &impl Fn(&str) -> Option<String>,
    ) -> Option<String> {
        if name == "ALLOWED_RETURN_ORIGINS" {
            return Some(match real(name).filter(|v| !v.trim().is_empty()) {
                Some(extra) => format!("{},{}", self.own_origins, extra.trim()),
                None => self.own_origins.clone(),
            });
        }
        if name == "OIDC_CLIENTS" {
            // The user's clients, if any, and the demo's own. A value that is not a JSON
            // array is passed on as it is, for the configuration to report.
            let given = real(name).filter(|v| !v.trim().is_empty());
            let mut clients = match given.as_deref().map(serde_json::from_str) {
                None => Vec::new(),
                Some(Ok(serde_json::Value::Array(clients))) => clients,
                Some(_) => return given,
            };
            clients.push(self.demo_client.clone());
            return Some(serde_json::Value::Array(clients).to_string());
        }
        if name == "OIDC_SIGNING_KEYS" {
            return real(name)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| Some(self.oidc_keys.clone()));
        }
        if name == "RESULT_SIGNING_KEYS" {
            let signs_with_keys = real("TOKEN_SIGNING_ALG")
                .is_some_and(|alg| matches!(alg.trim(), "RS256" | "ES256"));
            return real(name).filter(|v| !v.trim().is_empty()).or_else(|| {
                signs_with_keys.then(|| {
                    self.result_keys
                        .get_or_init(SigningKeys::generate_pem)
                        .clone()
                })
            });
        }
        if name == "WECHAT_APP_SECRET" {
            // The demo's apps carry their own secrets.
            return None;
        }
        self.overlay.get(name).cloned().or_else(|| real(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn demo_mode_is_chosen_when_no_app_is_configured() {
        assert!(wanted(&env(&[])));
        assert!(wanted(&env(&[
            ("WECHAT_APP_ID", "  "),
            ("WECHAT_APPS", "")
        ])));
        assert!(!wanted(&env(&[("WECHAT_APP_ID", "wx0123456789abcdef")])));
        assert!(!wanted(&env(&[("WECHAT_APPS", "[]")])));
    }

    #[test]
    fn demo_values_win_and_origins_are_added_to() {
        let real = env(&[
            (
                "TOKEN_SIGNING_KEY",
                "user-key-that-the-demo-must-not-use-0000",
            ),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
            ("STATE_TTL_SECONDS", "120"),
        ]);
        let demo = Demo::new(4321);
        assert_eq!(
            demo.lookup("ALLOWED_RETURN_ORIGINS", &real).unwrap(),
            "http://127.0.0.1:4321,http://localhost:4321,https://app.example.com"
        );
        assert_eq!(
            demo.lookup("TOKEN_SIGNING_KEY", &real).unwrap(),
            demo.signing_key_text
        );
        assert_eq!(
            demo.lookup("WECHAT_API_BASE", &real).unwrap(),
            "http://127.0.0.1:4321/wechat"
        );
        assert_eq!(demo.lookup("STATE_TTL_SECONDS", &real).unwrap(), "120");
        assert_eq!(ignored_variables(&real), ["TOKEN_SIGNING_KEY"]);
        assert_eq!(demo.lookup("WECHAT_APP_SECRET", &real), None);
        let apps = demo.lookup("WECHAT_APPS", &real).unwrap();
        assert!(apps.contains(&demo.simulator.config().app_secret));
        assert!(apps.contains(DEMO_WEB_APP_ID));
    }
}
