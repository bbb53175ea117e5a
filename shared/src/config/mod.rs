//! Configuration from environment variables, read once at cold start. Every problem is
//! reported at once, by variable name, without echoing secret values ([`reader`]). What a
//! process may read is decided by the routes it serves ([`least_privilege`]); the apps, the
//! WeChat API and the OpenID Provider are each read by a step of their own.

mod least_privilege;
mod login_keys;
mod oidc;
mod reader;
mod result_keys;
mod wechat_api;
mod wechat_apps;

use std::fmt;
use std::time::Duration;

use url::Url;

pub use least_privilege::{
    LOGIN_FINISHING_SECRETS, REFERENCE_VARIABLES, Serves, VARIABLES, exposed_secret_warnings,
};
pub use oidc::{OidcConfig, Subject, TokenAlg};
use reader::{Reader, on_off, seconds_in};
pub use result_keys::ResultKeys;
use wechat_api::WeChatApi;
pub use wechat_api::{
    DEFAULT_WECHAT_API_BASE, DEFAULT_WECHAT_API_FALLBACK, DEFAULT_WECHAT_OPEN_BASE,
    DEFAULT_WECHAT_TIMEOUT_MS, MAX_WECHAT_TIMEOUT_MS,
};

use crate::apps::WeChatApps;
use crate::base_url::BaseUrl;
use crate::sealing_key::SealingKey;
use crate::token::SigningKey;
use crate::wechat::{EXTRA_ROOTS_VARIABLE, ExtraRoots};

pub const DEFAULT_STATE_TTL_SECONDS: u64 = 600;

#[derive(Clone, Debug)]
pub struct Config {
    /// The routes this process answers.
    pub serves: Serves,
    /// The WeChat apps, each with its return origins (and its AppSecret where the
    /// callbacks are served).
    pub apps: WeChatApps,
    /// `TOKEN_SIGNING_KEY`, the result tokens' HS256 key, where logins finish
    /// ([`Serves::finishes_logins`]).
    pub signing_key: Option<SigningKey>,
    /// Seals what one process keeps for another (a repeated callback's answer, an app's
    /// shared access token): `SEALING_KEY`, where logins finish.
    pub sealing_key: Option<SealingKey>,
    /// `None` only makes sense for the local server (embedded in-memory store).
    pub state_table: Option<String>,
    pub state_ttl: Duration,
    pub public_base_url: Option<BaseUrl>,
    pub wechat_open_base: Url,
    pub wechat_api_base: Url,
    /// Tried in order when the primary API base fails (see `WeChatClient`).
    pub wechat_api_fallbacks: Vec<Url>,
    /// The whole budget for WeChat calls in one callback.
    pub wechat_timeout: Duration,
    pub mp_verify_token: Option<String>,
    /// Whether a login's state is bound to the starting browser by a cookie (RFC 9700).
    pub browser_binding: bool,
    pub oidc: OidcConfig,
    pub token_alg: TokenAlg,
    /// The result tokens' own keys, with TOKEN_SIGNING_ALG RS256 / ES256.
    pub result_keys: ResultKeys,
    /// Whether a Lambda function opens its connections during init (`warm_up`).
    pub init_warm_up: bool,
    /// Roots the WeChat client trusts besides the compiled-in ones (rarely set).
    pub wechat_extra_roots: Option<ExtraRoots>,
}

/// One problem per variable.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<(&'static str, String)>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for (name, problem) in &self.problems {
            writeln!(f, "  {name}: {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Everything a process serving every route needs, through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::for_routes(Serves::Everything, lookup)
    }

    /// What a process serving `serves` needs, through `lookup`. Empty values count as
    /// unset. A variable the process may not read is never looked up.
    pub fn for_routes(
        serves: Serves,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let readable = |name: &str| {
            serves
                .reads_in(name, &lookup)
                .then(|| lookup(name))
                .flatten()
        };
        let set = |name: &str| readable(name).filter(|v| !v.trim().is_empty());
        let mut reader = Reader::new(&set);
        // The order of the steps is the order of the problems reported.
        let apps = wechat_apps::read(&mut reader, serves);
        let (signing_key, sealing_key) = login_keys::read(&mut reader, serves);
        let (state_table, state_ttl) = read_state(&mut reader);
        let public_base_url = reader.optional("PUBLIC_BASE_URL", public_base_url);
        let wechat = WeChatApi::read(&mut reader);
        let mp_verify_token = reader.optional("MP_VERIFY_TOKEN", |v| {
            let ok = v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric());
            ok.then(|| v.to_owned()).ok_or_else(|| {
                "must be the XXXX of MP_verify_XXXX.txt (letters and digits)".to_owned()
            })
        });
        let browser_binding = reader.optional("BROWSER_BINDING", on_off).unwrap_or(true);
        let init_warm_up = reader.optional("INIT_WARM_UP", on_off).unwrap_or(true);
        let wechat_extra_roots = reader.optional(EXTRA_ROOTS_VARIABLE, ExtraRoots::read);
        let (oidc, token_alg) = OidcConfig::read(&mut reader, serves);
        let result_keys =
            ResultKeys::read(&mut reader, serves, token_alg, oidc.public_keys.as_ref());
        let Some(apps) = wechat_apps::checked(&mut reader, apps) else {
            return Err(reader.into_error());
        };
        Ok(Self {
            serves,
            apps,
            signing_key,
            sealing_key,
            state_table,
            state_ttl,
            public_base_url,
            wechat_open_base: wechat.open_base,
            wechat_api_base: wechat.api_base,
            wechat_api_fallbacks: wechat.api_fallbacks,
            wechat_timeout: wechat.timeout,
            mp_verify_token,
            browser_binding,
            oidc,
            token_alg,
            result_keys,
            init_warm_up,
            wechat_extra_roots,
        })
    }
}

/// Where logins wait for their callback: STATE_TABLE and STATE_TTL_SECONDS.
fn read_state(reader: &mut Reader<'_>) -> (Option<String>, Duration) {
    let state_table = reader.optional("STATE_TABLE", |v| {
        let ok = (3..=255).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        ok.then(|| v.to_owned())
            .ok_or_else(|| "must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)".to_owned())
    });
    let state_ttl = reader
        .optional("STATE_TTL_SECONDS", |v| seconds_in(v, 60, 3600))
        .unwrap_or(Duration::from_secs(DEFAULT_STATE_TTL_SECONDS));
    (state_table, state_ttl)
}

/// The configuration as a whole, and the configurations the other parts' tests start from.
/// PUBLIC_BASE_URL: https, or http on loopback only (wxauth-local, tests): over http the
/// results, codes and binding cookies would cross the network in the clear.
fn public_base_url(v: &str) -> Result<BaseUrl, String> {
    let base = BaseUrl::parse(v).map_err(|e| e.to_string())?;
    let loopback = url::Url::parse(base.as_str()).is_ok_and(|url| wechat_api::is_loopback(&url));
    if base.is_https() || loopback {
        Ok(base)
    } else {
        Err("must be https (http only on loopback: 127.0.0.1, [::1] or localhost)".to_owned())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use super::*;

    pub(crate) fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    pub(crate) const MINIMAL: &[(&str, &str)] = &[
        ("WECHAT_APP_ID", "wx0123456789abcdef"),
        ("WECHAT_APP_SECRET", "s3cr3t-value-that-must-not-leak"),
        ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
        ("SEALING_KEY", "a-sealing-key-of-its-own-0123456789"),
    ];

    pub(crate) fn config_for(serves: Serves, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::for_routes(serves, |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn minimal_configuration_gets_defaults() {
        let c = config(MINIMAL).unwrap();
        assert_eq!(c.apps.default_app().app_id, "wx0123456789abcdef");
        assert_eq!(c.apps.default_app().name, "default");
        assert_eq!(c.state_table, None);
        assert_eq!(c.state_ttl, Duration::from_secs(600));
        assert_eq!(c.wechat_open_base.as_str(), "https://open.weixin.qq.com/");
        assert_eq!(c.wechat_api_base.as_str(), "https://api.weixin.qq.com/");
        assert_eq!(c.wechat_timeout, Duration::from_millis(6500));
        assert_eq!(c.public_base_url, None);
        assert_eq!(c.mp_verify_token, None);
        assert_eq!(
            c.wechat_api_fallbacks,
            [Url::parse("https://api2.weixin.qq.com").unwrap()]
        );
        assert!(c.browser_binding);
        assert!(c.init_warm_up);
        assert!(c.wechat_extra_roots.is_none());
        assert!(c.sealing_key.is_some());
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert!(!format!("{c:?}").contains("0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn every_problem_is_reported_by_name() {
        let err = config(&[
            ("WECHAT_APP_SECRET", "s3cr3t value"),
            (
                "ALLOWED_RETURN_ORIGINS",
                "https://app.example.com/path?query",
            ),
            ("TOKEN_SIGNING_KEY", "short-key-s3cr3t"),
            ("STATE_TTL_SECONDS", "ten"),
            ("PUBLIC_BASE_URL", "gw.example.com"),
            ("WECHAT_API_BASE", "ftp://x"),
            ("WECHAT_TIMEOUT_MS", "60000"),
            ("MP_VERIFY_TOKEN", "../etc"),
            ("STATE_TABLE", "a b"),
        ])
        .unwrap_err();
        let names: Vec<&str> = err.problems.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "WECHAT_APP_ID",
                "WECHAT_APP_SECRET",
                "ALLOWED_RETURN_ORIGINS",
                "TOKEN_SIGNING_KEY",
                "STATE_TABLE",
                "STATE_TTL_SECONDS",
                "PUBLIC_BASE_URL",
                "WECHAT_API_BASE",
                "WECHAT_TIMEOUT_MS",
                "MP_VERIFY_TOKEN",
            ]
        );
        let text = err.to_string();
        assert!(text.contains("WECHAT_APP_ID: is required but not set"));
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn the_public_base_url_is_https_but_on_loopback() {
        let with = |url: &str| {
            let mut vars = MINIMAL.to_vec();
            vars.push(("PUBLIC_BASE_URL", url));
            config(&vars)
        };
        for fine in [
            "https://login.example.com",
            "https://login.example.com/prod",
            "http://127.0.0.1:3000",
            "http://[::1]:3000",
            "http://localhost:3000",
        ] {
            assert!(with(fine).is_ok(), "{fine}");
        }
        for refused in [
            "http://login.example.com",
            "http://10.0.0.1:3000",
            "http://127.0.0.1.nip.io",
        ] {
            let err = with(refused).unwrap_err();
            assert_eq!(err.problems.len(), 1, "{refused}");
            assert_eq!(err.problems[0].0, "PUBLIC_BASE_URL");
            assert!(err.problems[0].1.contains("must be https"), "{refused}");
        }
    }

    #[test]
    fn a_wildcard_over_a_public_suffix_is_a_problem_of_allowed_return_origins() {
        let mut vars = MINIMAL.to_vec();
        vars.retain(|(name, _)| *name != "ALLOWED_RETURN_ORIGINS");
        vars.push((
            "ALLOWED_RETURN_ORIGINS",
            "https://app.example.com,https://*.co.uk",
        ));
        let err = config(&vars).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        let (name, text) = &err.problems[0];
        assert_eq!(*name, "ALLOWED_RETURN_ORIGINS");
        assert!(
            text.contains("`https://*.co.uk`: a wildcard over a public suffix"),
            "{text}"
        );
        vars.pop();
        vars.push(("ALLOWED_RETURN_ORIGINS", "https://*.example.co.uk"));
        assert!(config(&vars).is_ok());
    }

    #[test]
    fn optional_values_are_read() {
        let mut vars = MINIMAL.to_vec();
        vars.extend([
            ("STATE_TABLE", "wxauth-states"),
            ("STATE_TTL_SECONDS", "300"),
            ("PUBLIC_BASE_URL", "https://login.example.com/"),
            ("WECHAT_OPEN_BASE", "http://127.0.0.1:9000/wechat"),
            ("MP_VERIFY_TOKEN", "AbC123"),
            ("WECHAT_TIMEOUT_MS", "1000"),
        ]);
        let c = config(&vars).unwrap();
        assert_eq!(c.state_table.as_deref(), Some("wxauth-states"));
        assert_eq!(c.state_ttl, Duration::from_secs(300));
        assert_eq!(
            c.public_base_url.unwrap().as_str(),
            "https://login.example.com"
        );
        assert_eq!(c.wechat_open_base.as_str(), "http://127.0.0.1:9000/wechat");
        assert_eq!(c.mp_verify_token.as_deref(), Some("AbC123"));
        assert_eq!(c.wechat_timeout, Duration::from_millis(1000));
    }
}
