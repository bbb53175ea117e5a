//! Least privilege, in one place: every variable wxauth reads ([`VARIABLES`], and the
//! `_REF` forms the Lambda adapter resolves, [`REFERENCE_VARIABLES`]), which of them each
//! process may read ([`Serves`], by the routes it answers), and the warning given when a
//! deployment hands a secret to functions that never use it ([`exposed_secret_warnings`]).

use crate::apps::AppKind;
use crate::route::Route;

/// Every environment variable wxauth reads (besides the AWS SDK's own).
pub const VARIABLES: [&str; 25] = [
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "WECHAT_APPS",
    "ALLOWED_RETURN_ORIGINS",
    "RESPONSE_MODES",
    "TOKEN_SIGNING_KEY",
    "SEALING_KEY",
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
    "OIDC_JWKS",
    "OIDC_SUBJECT",
    "TOKEN_SIGNING_ALG",
    "RESULT_SIGNING_KEYS",
    "RESULT_JWKS",
    "INIT_WARM_UP",
    // Its file is read here too (wechat::ExtraRoots) and handed to WeChatClient.
    "WECHAT_API_EXTRA_CA_FILE",
];

/// `(reference variable, the variable it stands for)`: where a secret is named instead of
/// given, resolved by the Lambda functions at cold start (`wxauth_lambda::secret_refs`).
pub const REFERENCE_VARIABLES: [(&str, &str); 9] = [
    ("WECHAT_APP_SECRET_REF", "WECHAT_APP_SECRET"),
    ("WECHAT_APPS_REF", "WECHAT_APPS"),
    ("TOKEN_SIGNING_KEY_REF", "TOKEN_SIGNING_KEY"),
    ("SEALING_KEY_REF", "SEALING_KEY"),
    ("OIDC_CLIENTS_REF", "OIDC_CLIENTS"),
    ("OIDC_SIGNING_KEYS_REF", "OIDC_SIGNING_KEYS"),
    ("RESULT_SIGNING_KEYS_REF", "RESULT_SIGNING_KEYS"),
    // Public, but long: a reference keeps them out of a function's 4 KB environment.
    ("OIDC_JWKS_REF", "OIDC_JWKS"),
    ("RESULT_JWKS_REF", "RESULT_JWKS"),
];

/// Which routes a process answers decides which secrets it may hold: least privilege, so
/// the function that starts logins (the one every visitor reaches first) never holds the
/// AppSecret or a key that mints identities, the OpenID Provider's functions hold only
/// what their endpoint uses, and the callbacks and the code login each hold only the
/// AppSecrets of the apps they log in with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serves {
    /// `/auth`, `/oauth2/authorize` and the MP_verify file. Reads neither
    /// [`LOGIN_FINISHING_SECRETS`] nor any key (or their `_REF`s), even when set.
    StartOnly,
    /// `/oauth2/token`: the clients and the provider's signing keys, not the WeChat
    /// AppSecret nor the result tokens' keys.
    OidcToken,
    /// `/oauth2/userinfo`, discovery and both JWKS: public keys only (`OIDC_JWKS`,
    /// `RESULT_JWKS`), to check access tokens and publish them; no private key and not the
    /// clients' secrets.
    OidcUserInfo,
    /// WeChat's callbacks (`/getOpenId`, `/getWxUserInfo`, `/getQrUserInfo`): the AppSecrets
    /// of the browser apps (Official Accounts, Website Apps), `TOKEN_SIGNING_KEY`,
    /// `SEALING_KEY`, and `RESULT_SIGNING_KEYS` where they sign the result token with it
    /// (`TOKEN_SIGNING_ALG` RS256 or ES256). Never the provider's keys: a callback issues a
    /// code for an OpenID Connect login, and the token endpoint signs what the code is
    /// redeemed for.
    Callbacks,
    /// `POST /login/code`: the AppSecrets of the Mini Programs and mobile apps alone (never
    /// `WECHAT_APP_SECRET`, the default Official Account's), `TOKEN_SIGNING_KEY` and, as the
    /// callbacks, `RESULT_SIGNING_KEYS` to sign the result token, and `SEALING_KEY`, which
    /// seals the apps' shared access token; not the OpenID Provider's clients or keys.
    CodeLogin,
    /// Every route: wxauth-local (which derives the public keys from the private ones).
    Everything,
}

impl Serves {
    /// Whether a process serving `self` answers `route` at all; any other route is a 404
    /// there. The Lambda functions' route tables follow this.
    pub fn serves(self, route: &Route) -> bool {
        matches!(
            (self, route),
            (Self::Everything, _)
                | (Self::Callbacks, Route::Callback(_))
                | (Self::CodeLogin, Route::CodeLogin)
                | (
                    Self::StartOnly,
                    Route::Auth | Route::OidcAuthorize | Route::MpVerify(_)
                )
                | (Self::OidcToken, Route::OidcToken)
                | (
                    Self::OidcUserInfo,
                    Route::OidcUserInfo
                        | Route::OidcDiscovery
                        | Route::OidcJwks
                        | Route::ResultJwks
                )
        )
    }

    /// Whether this process may read `variable` (one of [`VARIABLES`] or a `_REF`) in some
    /// environment; [`Serves::reads_in`] says whether it does in a given one.
    pub fn reads(self, variable: &str) -> bool {
        let name = variable.strip_suffix("_REF").unwrap_or(variable);
        let public_keys = matches!(name, "OIDC_JWKS" | "RESULT_JWKS");
        let finishing = LOGIN_FINISHING_SECRETS.contains(&variable);
        match self {
            Self::Everything => !public_keys,
            Self::Callbacks => !public_keys && name != "OIDC_SIGNING_KEYS",
            Self::CodeLogin => {
                !public_keys
                    && !matches!(
                        name,
                        "WECHAT_APP_SECRET" | "OIDC_CLIENTS" | "OIDC_SIGNING_KEYS"
                    )
            }
            Self::StartOnly => !finishing && !public_keys && name != "OIDC_SIGNING_KEYS",
            Self::OidcToken => !finishing && !public_keys,
            Self::OidcUserInfo => {
                !finishing && !matches!(name, "OIDC_CLIENTS" | "OIDC_SIGNING_KEYS")
            }
        }
    }

    /// Whether this process reads `variable` in the environment `lookup` reads: the
    /// callbacks and the code login read the result tokens' keys only when
    /// `TOKEN_SIGNING_ALG` makes them sign with them.
    pub fn reads_in(self, variable: &str, lookup: impl Fn(&str) -> Option<String>) -> bool {
        let name = variable.strip_suffix("_REF").unwrap_or(variable);
        self.reads(variable)
            && (!matches!(self, Self::Callbacks | Self::CodeLogin)
                || name != "RESULT_SIGNING_KEYS"
                || lookup("TOKEN_SIGNING_ALG")
                    .is_some_and(|alg| matches!(alg.trim(), "RS256" | "ES256")))
    }

    /// Whether this process finishes logins (and so holds `TOKEN_SIGNING_KEY` and the
    /// AppSecrets of [`Serves::keeps_app_secret`]'s kinds).
    pub fn finishes_logins(self) -> bool {
        matches!(self, Self::Callbacks | Self::CodeLogin | Self::Everything)
    }

    /// Whether this process keeps the AppSecret (inline, or read by its `app_secret_ref`)
    /// of an app of `kind`: the callbacks those of the apps that log in through a browser,
    /// the code login those of the apps that post a code, so neither holds a secret it has
    /// no use for.
    pub fn keeps_app_secret(self, kind: AppKind) -> bool {
        match self {
            Self::Everything => true,
            Self::Callbacks => !kind.logs_in_with_code(),
            Self::CodeLogin => kind.logs_in_with_code(),
            Self::StartOnly | Self::OidcToken | Self::OidcUserInfo => false,
        }
    }
}

/// The secrets of the processes that finish logins ([`Serves::finishes_logins`]: the
/// callbacks and the code login), with their `_REF` forms. No other process reads any of
/// them; which of them each of those reads is [`Serves::reads`] (the code login neither
/// `WECHAT_APP_SECRET` nor `SEALING_KEY`).
pub const LOGIN_FINISHING_SECRETS: [&str; 8] = [
    "WECHAT_APP_SECRET",
    "TOKEN_SIGNING_KEY",
    "SEALING_KEY",
    "RESULT_SIGNING_KEYS",
    "WECHAT_APP_SECRET_REF",
    "TOKEN_SIGNING_KEY_REF",
    "SEALING_KEY_REF",
    "RESULT_SIGNING_KEYS_REF",
];

// --- Secrets exposed to functions that never use them ---------------------------------
//
// Every function reads `WECHAT_APPS` (to know the apps) and three read `OIDC_CLIENTS` (to
// know the clients and their redirect URIs), so an `app_secret` written inline in the
// first, or a `client_secret` in plain in the second, sits in the environment of functions
// that have no use for it, where anyone allowed to read the function's configuration reads
// it. It works, and is fine for tests and local runs; a deployment is told once per cold
// start, with what to give instead. Names only, never values.

/// One warning per variable whose plain value (not one read through its `_REF`) holds such
/// secrets, naming the apps or clients. A value that does not parse gives none: the
/// configuration reports it.
pub fn exposed_secret_warnings(lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut warnings = Vec::new();
    let inline_apps = entries_with(lookup("WECHAT_APPS"), "name", "app_secret");
    if !inline_apps.is_empty() {
        warnings.push(format!(
            "WECHAT_APPS gives app_secret inline (apps: {}): every function's environment holds \
             it, the auth and OpenID Provider functions included; give app_secret_ref instead \
             (docs/apps.md)",
            inline_apps.join(", ")
        ));
    }
    let plain_clients = entries_with(lookup("OIDC_CLIENTS"), "client_id", "client_secret");
    if !plain_clients.is_empty() {
        warnings.push(format!(
            "OIDC_CLIENTS gives client_secret in plain (clients: {}): the auth and callback \
             functions hold it too; give client_secret_sha256 instead (docs/oidc.md)",
            plain_clients.join(", ")
        ));
    }
    warnings
}

/// The `id_field` of each entry of the JSON array `json` whose `secret_field` is a
/// non-empty string.
fn entries_with(json: Option<String>, id_field: &str, secret_field: &str) -> Vec<String> {
    let Some(serde_json::Value::Array(entries)) = json.and_then(|j| serde_json::from_str(&j).ok())
    else {
        return Vec::new();
    };
    entries
        .iter()
        .filter(|e| {
            e.get(secret_field)
                .and_then(|s| s.as_str())
                .is_some_and(|s| !s.is_empty())
        })
        .map(|e| {
            e.get(id_field)
                .and_then(|n| n.as_str())
                .unwrap_or("?")
                .to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests;
