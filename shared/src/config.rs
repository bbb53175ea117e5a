//! Configuration from environment variables, read once at cold start. Every problem is
//! reported at once, by variable name, without echoing secret values.

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::allowed_origins::AllowedOrigins;
use crate::apps::{
    AppKind, AppsInput, DEFAULT_APP, WeChatApp, WeChatApps, parse_apps, valid_app_id, valid_secret,
};
use crate::base_url::BaseUrl;
use crate::oidc::clients::OidcClients;
use crate::oidc::keys::{Alg, SigningKeys};
use crate::secret::Secret;
use crate::token::{MIN_KEY_BYTES, SigningKey};
use crate::wechat::{EXTRA_ROOTS_VARIABLE, ExtraRoots};

pub const DEFAULT_STATE_TTL_SECONDS: u64 = 600;
pub const DEFAULT_WECHAT_TIMEOUT_MS: u64 = 6500;
/// A callback must answer within 10 s whatever WeChat does; the store takes up to 3 s.
pub const MAX_WECHAT_TIMEOUT_MS: u64 = 6500;
pub const DEFAULT_WECHAT_OPEN_BASE: &str = "https://open.weixin.qq.com";
pub const DEFAULT_WECHAT_API_BASE: &str = "https://api.weixin.qq.com";
/// WeChat's disaster-recovery API domain, tried when the default API base fails.
pub const DEFAULT_WECHAT_API_FALLBACK: &str = "https://api2.weixin.qq.com";

/// Every environment variable wxauth reads (besides the AWS SDK's own).
pub const VARIABLES: [&str; 20] = [
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "WECHAT_APPS",
    "ALLOWED_RETURN_ORIGINS",
    "TOKEN_SIGNING_KEY",
    "STATE_TABLE",
    "STATE_TTL_SECONDS",
    "PUBLIC_BASE_URL",
    "WECHAT_OPEN_BASE",
    "WECHAT_API_BASE",
    "WECHAT_API_FALLBACK_BASES",
    "WECHAT_TIMEOUT_MS",
    "BROWSER_BINDING",
    "MP_VERIFY_TOKEN",
    "OIDC_CLIENTS",
    "OIDC_SIGNING_KEYS",
    "OIDC_SUBJECT",
    "TOKEN_SIGNING_ALG",
    "INIT_WARM_UP",
    // Its file is read here too (wechat::ExtraRoots) and handed to WeChatClient.
    "WECHAT_API_EXTRA_CA_FILE",
];

/// Which routes a process answers decides which secrets it may hold: least privilege, so
/// the function that starts logins (the one every visitor reaches first) never holds the
/// AppSecret or a key that mints identities, and the OpenID Provider's functions hold
/// only what their endpoint uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serves {
    /// `/auth`, `/oauth2/authorize` and the MP_verify file. Reads neither
    /// [`CALLBACK_ONLY_SECRETS`] nor `OIDC_SIGNING_KEYS` (or their `_REF`s), even when set.
    StartOnly,
    /// `/oauth2/token`: the clients and the signing keys, not the WeChat AppSecret nor
    /// `TOKEN_SIGNING_KEY`.
    OidcToken,
    /// `/oauth2/userinfo`, discovery and the JWKS: the signing keys only (to publish them
    /// and check access tokens), not the clients' secrets.
    OidcUserInfo,
    /// WeChat's callbacks (`/getOpenId`, `/getWxUserInfo`, `/getQrUserInfo`): the AppSecrets
    /// and `TOKEN_SIGNING_KEY`; the OpenID Provider's keys only where they sign the result
    /// token (`TOKEN_SIGNING_ALG` RS256 or ES256): a callback issues a code for an OpenID
    /// Connect login, and the token endpoint signs what the code is redeemed for.
    Callbacks,
    /// Every route: wxauth-local.
    Everything,
}

impl Serves {
    /// Whether this process may read `variable` (one of [`VARIABLES`] or a `_REF`) in some
    /// environment; [`Serves::reads_in`] says whether it does in a given one.
    pub fn reads(self, variable: &str) -> bool {
        let name = variable.strip_suffix("_REF").unwrap_or(variable);
        match self {
            Self::Everything | Self::Callbacks => true,
            Self::StartOnly => {
                !CALLBACK_ONLY_SECRETS.contains(&variable) && name != "OIDC_SIGNING_KEYS"
            }
            Self::OidcToken => !CALLBACK_ONLY_SECRETS.contains(&variable),
            Self::OidcUserInfo => {
                !CALLBACK_ONLY_SECRETS.contains(&variable) && name != "OIDC_CLIENTS"
            }
        }
    }

    /// Whether this process reads `variable` in the environment `lookup` reads: the
    /// callbacks read the OpenID Provider's keys only when `TOKEN_SIGNING_ALG` makes them
    /// sign the result token.
    pub fn reads_in(self, variable: &str, lookup: impl Fn(&str) -> Option<String>) -> bool {
        let name = variable.strip_suffix("_REF").unwrap_or(variable);
        self.reads(variable)
            && (self != Self::Callbacks
                || name != "OIDC_SIGNING_KEYS"
                || lookup("TOKEN_SIGNING_ALG")
                    .is_some_and(|alg| matches!(alg.trim(), "RS256" | "ES256")))
    }

    /// Whether this process finishes logins (and so holds the AppSecrets and
    /// `TOKEN_SIGNING_KEY`).
    pub fn finishes_logins(self) -> bool {
        matches!(self, Self::Callbacks | Self::Everything)
    }
}

/// The secrets only the callbacks use (with their `_REF` forms).
pub const CALLBACK_ONLY_SECRETS: [&str; 4] = [
    "WECHAT_APP_SECRET",
    "TOKEN_SIGNING_KEY",
    "WECHAT_APP_SECRET_REF",
    "TOKEN_SIGNING_KEY_REF",
];

/// Which WeChat identifier becomes the OpenID Connect `sub`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Subject {
    /// The openid: one per user and Official Account.
    #[default]
    OpenId,
    /// The unionid: one per user across the apps bound to one Open Platform account. A
    /// login without one is refused (`access_denied`).
    UnionId,
}

/// How the redirect mode signs its result token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenAlg {
    /// With TOKEN_SIGNING_KEY (verifiers hold the same key).
    #[default]
    Hs256,
    /// With the OpenID Provider's key of this algorithm; verifiers use the JWKS.
    Jws(Alg),
}

/// The OpenID Provider's configuration, where the process reads it.
#[derive(Clone, Debug, Default)]
pub struct OidcConfig {
    /// `None`: no client configured (the OIDC routes answer 404), or not read here.
    pub clients: Option<OidcClients>,
    pub keys: Option<SigningKeys>,
    pub subject: Subject,
}

/// What finishing a login takes that starting one does not (besides the apps' AppSecrets,
/// which the apps hold).
#[derive(Clone, Debug)]
pub struct CallbackSecrets {
    pub signing_key: SigningKey,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The routes this process answers.
    pub serves: Serves,
    /// The WeChat apps, each with its return origins (and its AppSecret where the
    /// callbacks are served).
    pub apps: WeChatApps,
    /// `None` in a process that only starts logins ([`Serves::StartOnly`]).
    pub callback: Option<CallbackSecrets>,
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
    /// unset.
    pub fn for_routes(
        serves: Serves,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let lookup = |name: &str| {
            serves
                .reads_in(name, &lookup)
                .then(|| lookup(name))
                .flatten()
        };
        let mut reader = Reader {
            lookup: &|name| lookup(name).filter(|v| !v.trim().is_empty()),
            problems: Vec::new(),
        };
        // The single-app variables configure the default app unless WECHAT_APPS alone
        // configures the apps.
        let single_app =
            (reader.lookup)("WECHAT_APP_ID").is_some() || (reader.lookup)("WECHAT_APPS").is_none();
        let app_id = reader.required_if(single_app, "WECHAT_APP_ID", |v| {
            valid_app_id(v)
                .then(|| v.to_owned())
                .ok_or_else(|| "must be the Official Account's AppID (letters and digits, as wx0123456789abcdef)".to_owned())
        });
        let callback_only = serves.finishes_logins();
        let app_secret =
            reader.required_if(single_app && callback_only, "WECHAT_APP_SECRET", |v| {
                if valid_secret(v) {
                    Ok(Secret::new(v))
                } else {
                    Err("must be printable ASCII without spaces (the value is not shown)".into())
                }
            });
        if !single_app && (reader.lookup)("WECHAT_APP_SECRET").is_some() {
            reader.problem(
                "WECHAT_APP_SECRET",
                "is set but WECHAT_APP_ID is not (each app of WECHAT_APPS has its own app_secret)",
            );
        }
        let parse_origins = |v: &str| AllowedOrigins::parse(v).map_err(|e| e.to_string());
        let allowed_origins = if single_app {
            reader.required("ALLOWED_RETURN_ORIGINS", parse_origins)
        } else {
            reader.optional("ALLOWED_RETURN_ORIGINS", parse_origins)
        };
        let listed_apps = match (reader.lookup)("WECHAT_APPS") {
            None => Vec::new(),
            Some(json) => {
                let input = AppsInput {
                    fallback_origins: allowed_origins.as_ref(),
                    fallback_refused: reader.failed("ALLOWED_RETURN_ORIGINS"),
                    with_secrets: callback_only,
                    resolved: reader.lookup,
                };
                parse_apps(json.trim(), &input).unwrap_or_else(|problems| {
                    for problem in problems {
                        reader.problem("WECHAT_APPS", &problem);
                    }
                    Vec::new()
                })
            }
        };
        let signing_key = reader.required_if(callback_only, "TOKEN_SIGNING_KEY", |v| {
            SigningKey::new(v.as_bytes()).map_err(|_| {
                format!(
                    "must be at least {MIN_KEY_BYTES} bytes (it has {}; the value is not shown)",
                    v.len()
                )
            })
        });
        let state_table = reader.optional("STATE_TABLE", |v| {
            let ok = (3..=255).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            ok.then(|| v.to_owned()).ok_or_else(|| {
                "must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)".to_owned()
            })
        });
        let state_ttl = reader
            .optional("STATE_TTL_SECONDS", |v| seconds_in(v, 60, 3600))
            .unwrap_or(Duration::from_secs(DEFAULT_STATE_TTL_SECONDS));
        let public_base_url = reader.optional("PUBLIC_BASE_URL", |v| {
            BaseUrl::parse(v).map_err(|e| e.to_string())
        });
        let wechat_open_base = reader
            .optional("WECHAT_OPEN_BASE", wechat_base_url)
            .unwrap_or_else(|| Url::parse(DEFAULT_WECHAT_OPEN_BASE).expect("valid default"));
        let custom_api_base = reader.optional("WECHAT_API_BASE", wechat_base_url);
        // WeChat's own fallback only makes sense behind WeChat's own API domain.
        let default_fallbacks = match custom_api_base {
            None => vec![Url::parse(DEFAULT_WECHAT_API_FALLBACK).expect("valid default")],
            Some(_) => Vec::new(),
        };
        let wechat_api_base = custom_api_base
            .unwrap_or_else(|| Url::parse(DEFAULT_WECHAT_API_BASE).expect("valid default"));
        let wechat_api_fallbacks = reader
            .optional("WECHAT_API_FALLBACK_BASES", |v| {
                if v == "none" {
                    return Ok(Vec::new());
                }
                v.split(',')
                    .map(str::trim)
                    .filter(|b| !b.is_empty())
                    .map(|b| wechat_base_url(b).map_err(|e| format!("`{b}`: {e}")))
                    .collect()
            })
            .unwrap_or(default_fallbacks);
        let wechat_timeout = reader
            .optional("WECHAT_TIMEOUT_MS", |v| {
                let ms: u64 = v
                    .parse()
                    .map_err(|_| "must be a whole number of milliseconds".to_owned())?;
                if (100..=MAX_WECHAT_TIMEOUT_MS).contains(&ms) {
                    Ok(Duration::from_millis(ms))
                } else {
                    Err(format!("must be between 100 and {MAX_WECHAT_TIMEOUT_MS}"))
                }
            })
            .unwrap_or(Duration::from_millis(DEFAULT_WECHAT_TIMEOUT_MS));
        let mp_verify_token = reader.optional("MP_VERIFY_TOKEN", |v| {
            let ok = v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric());
            ok.then(|| v.to_owned()).ok_or_else(|| {
                "must be the XXXX of MP_verify_XXXX.txt (letters and digits)".to_owned()
            })
        });
        let browser_binding = reader
            .optional("BROWSER_BINDING", |v| match v {
                "on" => Ok(true),
                "off" => Ok(false),
                _ => Err("must be on or off".to_owned()),
            })
            .unwrap_or(true);

        let init_warm_up = reader
            .optional("INIT_WARM_UP", |v| match v {
                "on" => Ok(true),
                "off" => Ok(false),
                _ => Err("must be on or off".to_owned()),
            })
            .unwrap_or(true);

        let wechat_extra_roots = reader.optional(EXTRA_ROOTS_VARIABLE, ExtraRoots::read);

        let oidc_clients = reader.optional("OIDC_CLIENTS", OidcClients::parse);
        let oidc_keys = reader.optional("OIDC_SIGNING_KEYS", |v| {
            let keys = SigningKeys::from_pem(v).map_err(|e| e.to_string())?;
            match keys.signer(Alg::RS256) {
                Some(_) => Ok(keys),
                None => Err("must include an RSA key: OpenID Connect requires RS256".to_owned()),
            }
        });
        let subject = reader
            .optional("OIDC_SUBJECT", |v| match v {
                "openid" => Ok(Subject::OpenId),
                "unionid" => Ok(Subject::UnionId),
                _ => Err("must be openid or unionid".to_owned()),
            })
            .unwrap_or_default();
        let token_alg = reader
            .optional("TOKEN_SIGNING_ALG", |v| match v {
                "HS256" => Ok(TokenAlg::Hs256),
                "RS256" => Ok(TokenAlg::Jws(Alg::RS256)),
                "ES256" => Ok(TokenAlg::Jws(Alg::ES256)),
                _ => Err("must be HS256, RS256 or ES256".to_owned()),
            })
            .unwrap_or_default();
        // What needs the keys in a process that reads them (a process that does not,
        // such as the start function, has nothing to sign).
        if serves.reads("OIDC_SIGNING_KEYS")
            && oidc_keys.is_none()
            && !reader.failed("OIDC_SIGNING_KEYS")
        {
            // The callbacks issue codes for the clients, but sign nothing for them.
            if serves == Serves::OidcToken
                || (oidc_clients.is_some()
                    && serves.reads("OIDC_CLIENTS")
                    && serves != Serves::Callbacks)
            {
                reader.problem(
                    "OIDC_SIGNING_KEYS",
                    "is required with OIDC_CLIENTS (the ID tokens' keys)",
                );
            }
            if let TokenAlg::Jws(alg) = token_alg
                && serves.finishes_logins()
            {
                reader.problem(
                    "OIDC_SIGNING_KEYS",
                    &format!("is required with TOKEN_SIGNING_ALG={}", alg.as_str()),
                );
            }
        }
        if let (Some(keys), TokenAlg::Jws(alg)) = (&oidc_keys, token_alg)
            && keys.signer(alg).is_none()
        {
            reader.problem(
                "TOKEN_SIGNING_ALG",
                &format!(
                    "is {} but OIDC_SIGNING_KEYS has no key for it",
                    alg.as_str()
                ),
            );
        }

        let mut apps = Vec::new();
        if let (Some(app_id), Some(allowed_origins)) = (app_id, &allowed_origins) {
            apps.push(WeChatApp {
                name: DEFAULT_APP.to_owned(),
                kind: AppKind::OfficialAccount,
                app_id,
                secret: app_secret,
                allowed_origins: allowed_origins.clone(),
                qr_app: None,
            });
        }
        apps.extend(listed_apps);
        let apps = if reader.problems.is_empty() {
            WeChatApps::new(apps).map_err(|problems| {
                for problem in problems {
                    reader.problem("WECHAT_APPS", &problem);
                }
            })
        } else {
            Err(())
        };

        let (Ok(apps), true) = (apps, reader.problems.is_empty()) else {
            return Err(ConfigError {
                problems: reader.problems,
            });
        };
        // Every `required` value is Some when there were no problems.
        let callback = signing_key.map(|signing_key| CallbackSecrets { signing_key });
        Ok(Self {
            serves,
            apps,
            callback,
            state_table,
            state_ttl,
            public_base_url,
            wechat_open_base,
            wechat_api_base,
            wechat_api_fallbacks,
            wechat_timeout,
            mp_verify_token,
            browser_binding,
            oidc: OidcConfig {
                clients: oidc_clients,
                keys: oidc_keys,
                subject,
            },
            token_alg,
            init_warm_up,
            wechat_extra_roots,
        })
    }
}

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<(&'static str, String)>,
}

impl Reader<'_> {
    fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match (self.lookup)(name) {
            None => {
                self.problems.push((name, "is required but not set".into()));
                None
            }
            Some(v) => self.parse(name, v.trim(), parse),
        }
    }

    /// Required when `needed`, not read at all otherwise.
    fn required_if<T>(
        &mut self,
        needed: bool,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        if needed {
            self.required(name, parse)
        } else {
            None
        }
    }

    fn optional<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let v = (self.lookup)(name)?;
        self.parse(name, v.trim(), parse)
    }

    fn problem(&mut self, name: &'static str, problem: &str) {
        self.problems.push((name, problem.to_owned()));
    }

    /// Whether `name` was set but refused (its problem is reported already).
    fn failed(&self, name: &str) -> bool {
        self.problems.iter().any(|(n, _)| *n == name)
    }

    fn parse<T>(
        &mut self,
        name: &'static str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(value) {
            Ok(v) => Some(v),
            Err(problem) => {
                self.problems.push((name, problem));
                None
            }
        }
    }
}

fn seconds_in(v: &str, min: u64, max: u64) -> Result<Duration, String> {
    let n: u64 = v
        .parse()
        .map_err(|_| "must be a whole number of seconds".to_owned())?;
    if (min..=max).contains(&n) {
        Ok(Duration::from_secs(n))
    } else {
        Err(format!("must be between {min} and {max}"))
    }
}

/// A WeChat base URL. Plain http only on loopback (the simulator, a local proxy): the
/// code exchange sends the AppSecret in the query, which must never cross a network in
/// clear text.
fn wechat_base_url(v: &str) -> Result<Url, String> {
    let url = BaseUrl::parse(v)
        .map_err(|e| e.to_string())
        .and_then(|b| Url::parse(b.as_str()).map_err(|e| e.to_string()))?;
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(format!(
            "`{v}`: use https (http only to 127.0.0.1, [::1] or localhost): the AppSecret would travel in clear text"
        ));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    const MINIMAL: &[(&str, &str)] = &[
        ("WECHAT_APP_ID", "wx0123456789abcdef"),
        ("WECHAT_APP_SECRET", "s3cr3t-value-that-must-not-leak"),
        ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
    ];

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
        assert!(c.callback.is_some());
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert!(!format!("{c:?}").contains("0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn an_extra_roots_file_that_cannot_be_used_is_a_configuration_error() {
        let dir = std::env::temp_dir().join(format!("wxauth-config-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let missing = dir.join("missing.pem");
        for (path, says) in [(&empty, "holds no certificate"), (&missing, "cannot read")] {
            let mut vars = MINIMAL.to_vec();
            let path = path.to_str().unwrap();
            vars.push(("WECHAT_API_EXTRA_CA_FILE", path));
            let err = config(&vars).unwrap_err();
            assert_eq!(err.problems.len(), 1, "{err}");
            let (name, problem) = &err.problems[0];
            assert_eq!(*name, "WECHAT_API_EXTRA_CA_FILE");
            assert!(problem.contains(says), "{problem}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_start_function_neither_needs_nor_reads_the_secrets() {
        let without_secrets: Vec<(&str, &str)> = MINIMAL
            .iter()
            .copied()
            .filter(|(name, _)| !CALLBACK_ONLY_SECRETS.contains(name))
            .collect();
        let start = Config::for_routes(Serves::StartOnly, |name| {
            without_secrets
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        assert!(start.callback.is_none());
        // Set anyway, they are not read: the process never holds them.
        let read = std::cell::RefCell::new(Vec::new());
        let with_secrets = Config::for_routes(Serves::StartOnly, |name| {
            read.borrow_mut().push(name.to_owned());
            MINIMAL
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        assert!(with_secrets.callback.is_none());
        for secret in CALLBACK_ONLY_SECRETS {
            assert!(
                !read.borrow().iter().any(|n| n == secret),
                "{secret} was read"
            );
        }
        // The callbacks need both.
        let err = Config::for_routes(Serves::Everything, |name| {
            without_secrets
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap_err();
        let names: Vec<&str> = err.problems.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["WECHAT_APP_SECRET", "TOKEN_SIGNING_KEY"]);
    }

    #[test]
    fn the_callbacks_read_the_provider_keys_only_to_sign_result_tokens() {
        let pem = SigningKeys::generate_pem();
        let clients = r#"[{"client_id":"rp","client_secret":"rp-secret-0123456789abcdef0123456789","redirect_uris":["https://app.example.com/cb"]}]"#;
        for (alg, signs) in [
            (None, false),
            (Some("HS256"), false),
            (Some("RS256"), true),
            (Some("ES256"), true),
        ] {
            let mut vars: Vec<(&str, &str)> = MINIMAL.to_vec();
            vars.push(("OIDC_CLIENTS", clients));
            vars.push(("OIDC_SIGNING_KEYS", &pem));
            if let Some(alg) = alg {
                vars.push(("TOKEN_SIGNING_ALG", alg));
            }
            let read = std::cell::RefCell::new(Vec::new());
            let c = Config::for_routes(Serves::Callbacks, |name| {
                read.borrow_mut().push(name.to_owned());
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            })
            .unwrap();
            assert!(c.oidc.clients.is_some(), "{alg:?}: they issue the codes");
            assert_eq!(c.oidc.keys.is_some(), signs, "{alg:?}");
            let read_keys = read
                .borrow()
                .iter()
                .any(|n| n.starts_with("OIDC_SIGNING_KEYS"));
            assert_eq!(read_keys, signs, "{alg:?}: the keys were looked up");
            // wxauth-local serves the token endpoint too: it holds them whatever the alg.
            let local = config_for(Serves::Everything, &vars).unwrap();
            assert!(local.oidc.keys.is_some(), "{alg:?}");
        }
        // Signing result tokens with them, the callbacks need them.
        let err = config_for(
            Serves::Callbacks,
            &[MINIMAL, &[("TOKEN_SIGNING_ALG", "ES256")]].concat(),
        )
        .unwrap_err();
        assert_eq!(err.problems[0].0, "OIDC_SIGNING_KEYS", "{err}");
        // Issuing codes, they do not (the token function signs the ID tokens).
        assert!(
            config_for(
                Serves::Callbacks,
                &[MINIMAL, &[("OIDC_CLIENTS", clients)]].concat()
            )
            .is_ok()
        );
        assert!(
            config_for(
                Serves::Everything,
                &[MINIMAL, &[("OIDC_CLIENTS", clients)]].concat()
            )
            .is_err()
        );
    }

    fn config_for(serves: Serves, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::for_routes(serves, |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn every_problem_is_reported_by_name() {
        let err = config(&[
            ("WECHAT_APP_SECRET", "s3cr3t value"),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com/path"),
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

    #[test]
    fn wechat_bases_are_https_except_on_loopback() {
        for ok in [
            "https://api.weixin.qq.com",
            "http://127.0.0.1:9000",
            "http://127.1.2.3:9000/wechat",
            "http://[::1]:9000",
            "http://localhost:9000",
        ] {
            let mut vars = MINIMAL.to_vec();
            vars.extend([("WECHAT_API_BASE", ok), ("WECHAT_OPEN_BASE", ok)]);
            vars.push(("WECHAT_API_FALLBACK_BASES", ok));
            assert!(config(&vars).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.weixin.qq.com",
            "http://10.0.0.1:9000",
            "http://localhost.example.com",
        ] {
            let mut vars = MINIMAL.to_vec();
            vars.extend([("WECHAT_API_BASE", bad), ("WECHAT_OPEN_BASE", bad)]);
            vars.push(("WECHAT_API_FALLBACK_BASES", bad));
            let err = config(&vars).unwrap_err();
            let names: Vec<&str> = err.problems.iter().map(|(n, _)| *n).collect();
            assert_eq!(
                names,
                [
                    "WECHAT_OPEN_BASE",
                    "WECHAT_API_BASE",
                    "WECHAT_API_FALLBACK_BASES"
                ],
                "{bad}"
            );
            assert!(err.to_string().contains("clear text"), "{err}");
        }
    }

    #[test]
    fn fallbacks_and_binding_are_configurable() {
        let mut vars = MINIMAL.to_vec();
        vars.push(("WECHAT_API_BASE", "http://127.0.0.1:9000"));
        let c = config(&vars).unwrap();
        assert!(
            c.wechat_api_fallbacks.is_empty(),
            "no WeChat fallback behind a custom base"
        );
        vars.push((
            "WECHAT_API_FALLBACK_BASES",
            "https://sh.api.weixin.qq.com, https://sz.api.weixin.qq.com",
        ));
        vars.push(("BROWSER_BINDING", "off"));
        let c = config(&vars).unwrap();
        assert_eq!(c.wechat_api_fallbacks.len(), 2);
        assert!(!c.browser_binding);
        let mut none = MINIMAL.to_vec();
        none.push(("WECHAT_API_FALLBACK_BASES", "none"));
        assert!(config(&none).unwrap().wechat_api_fallbacks.is_empty());
        let mut bad = MINIMAL.to_vec();
        bad.push(("BROWSER_BINDING", "false"));
        bad.push(("INIT_WARM_UP", "yes"));
        bad.push(("WECHAT_API_FALLBACK_BASES", "api2.weixin.qq.com"));
        let names: Vec<&str> = config(&bad)
            .unwrap_err()
            .problems
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            names,
            [
                "WECHAT_API_FALLBACK_BASES",
                "BROWSER_BINDING",
                "INIT_WARM_UP"
            ]
        );
    }

    const APPS: &str = r#"[
        {"name":"mp","kind":"official_account","app_id":"wx00000000000000aa","app_secret":"mp-s3cr3t-value","qr_app":"web"},
        {"name":"web","kind":"website","app_id":"wx00000000000000bb","app_secret":"web-s3cr3t-value","allowed_return_origins":"https://www.example.com"}
    ]"#;

    #[test]
    fn wechat_apps_alone_configure_the_apps_and_the_first_is_the_default() {
        let c = config(&[
            ("WECHAT_APPS", APPS),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
            ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap();
        assert_eq!(c.apps.len(), 2);
        assert_eq!(c.apps.default_app().name, "mp");
        assert_eq!(c.apps.get("web").unwrap().kind, AppKind::Website);
        assert!(c.apps.iter().all(|a| a.secret.is_some()));
        assert!(!format!("{c:?}").contains("s3cr3t"));
        // Without ALLOWED_RETURN_ORIGINS each app needs its own.
        let err = config(&[
            ("WECHAT_APPS", APPS),
            ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert!(
            err.problems[0]
                .1
                .starts_with("app `mp`: needs allowed_return_origins")
        );
    }

    #[test]
    fn the_single_app_variables_stay_the_default_app_beside_wechat_apps() {
        let mut vars = MINIMAL.to_vec();
        vars.push(("WECHAT_APPS", APPS));
        let c = config(&vars).unwrap();
        let names: Vec<&str> = c.apps.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["default", "mp", "web"]);
        assert_eq!(c.apps.default_app().app_id, "wx0123456789abcdef");
        // A name or AppID used twice is refused.
        let mut clash = MINIMAL.to_vec();
        clash.push((
            "WECHAT_APPS",
            r#"[{"name":"default","kind":"website","app_id":"wx0123456789abcdef","app_secret":"x"}]"#,
        ));
        let err = config(&clash).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("WECHAT_APPS: app `default`: the name is used twice"),
            "{text}"
        );
        assert!(text.contains("belongs to another app already"), "{text}");
    }

    #[test]
    fn an_app_secret_without_its_app_id_is_refused() {
        let err = config(&[
            ("WECHAT_APPS", APPS),
            ("WECHAT_APP_SECRET", "left-over-s3cr3t"),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
            ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap_err();
        let names: Vec<&str> = err.problems.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["WECHAT_APP_SECRET"]);
        assert!(!err.to_string().contains("s3cr3t"));
    }

    #[test]
    fn the_start_function_keeps_no_app_secret_of_wechat_apps() {
        let vars = [
            ("WECHAT_APPS", APPS),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ];
        let c = Config::for_routes(Serves::StartOnly, |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        assert!(c.apps.iter().all(|a| a.secret.is_none()));
        assert!(c.callback.is_none());
    }

    #[test]
    fn wechat_apps_problems_come_one_per_line_with_the_others() {
        let err = config(&[
            ("WECHAT_APPS", r#"[{"name":"a","kind":"x"},{"name":"b"}]"#),
            ("STATE_TTL_SECONDS", "ten"),
        ])
        .unwrap_err();
        let names: Vec<&str> = err.problems.iter().map(|(n, _)| *n).collect();
        assert!(
            names.iter().filter(|n| **n == "WECHAT_APPS").count() >= 4,
            "{err}"
        );
        assert!(names.contains(&"TOKEN_SIGNING_KEY"), "{err}");
        assert!(names.contains(&"STATE_TTL_SECONDS"), "{err}");
        assert!(!names.contains(&"WECHAT_APP_ID"), "{err}");
    }
}
