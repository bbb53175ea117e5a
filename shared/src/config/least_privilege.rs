//! Least privilege, in one place: every variable wxauth reads ([`VARIABLES`], and the
//! `_REF` forms the Lambda adapter resolves, [`REFERENCE_VARIABLES`]), which of them each
//! process may read ([`Serves`], by the routes it answers), and the warning given when a
//! deployment hands a secret to functions that never use it ([`exposed_secret_warnings`]).

use crate::route::Route;

/// Every environment variable wxauth reads (besides the AWS SDK's own).
pub const VARIABLES: [&str; 22] = [
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
    "OIDC_SUBJECT",
    "TOKEN_SIGNING_ALG",
    "INIT_WARM_UP",
    // Its file is read here too (wechat::ExtraRoots) and handed to WeChatClient.
    "WECHAT_API_EXTRA_CA_FILE",
];

/// `(reference variable, the variable it stands for)`: where a secret is named instead of
/// given, resolved by the Lambda functions at cold start (`wxauth_lambda::secret_refs`).
pub const REFERENCE_VARIABLES: [(&str, &str); 6] = [
    ("WECHAT_APP_SECRET_REF", "WECHAT_APP_SECRET"),
    ("WECHAT_APPS_REF", "WECHAT_APPS"),
    ("TOKEN_SIGNING_KEY_REF", "TOKEN_SIGNING_KEY"),
    ("SEALING_KEY_REF", "SEALING_KEY"),
    ("OIDC_CLIENTS_REF", "OIDC_CLIENTS"),
    ("OIDC_SIGNING_KEYS_REF", "OIDC_SIGNING_KEYS"),
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
    /// Whether a process serving `self` answers `route` at all; any other route is a 404
    /// there. The Lambda functions' route tables follow this.
    pub fn serves(self, route: &Route) -> bool {
        matches!(
            (self, route),
            (Self::Everything, _)
                | (Self::Callbacks, Route::Callback(_))
                | (
                    Self::StartOnly,
                    Route::Auth | Route::OidcAuthorize | Route::MpVerify(_)
                )
                | (Self::OidcToken, Route::OidcToken)
                | (
                    Self::OidcUserInfo,
                    Route::OidcUserInfo | Route::OidcDiscovery | Route::OidcJwks
                )
        )
    }

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
pub const CALLBACK_ONLY_SECRETS: [&str; 6] = [
    "WECHAT_APP_SECRET",
    "TOKEN_SIGNING_KEY",
    "SEALING_KEY",
    "WECHAT_APP_SECRET_REF",
    "TOKEN_SIGNING_KEY_REF",
    "SEALING_KEY_REF",
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
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::tests::{MINIMAL, config_for};
    use crate::oidc::keys::SigningKeys;

    fn warnings_for(vars: &[(&str, &str)]) -> Vec<String> {
        exposed_secret_warnings(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn inline_app_secrets_and_plain_client_secrets_are_named_never_shown() {
        let apps = r#"[{"name":"mp","app_secret":"mp-s3cr3t"},{"name":"web","app_secret_ref":"ssm:/w"},{"name":"h5","app_secret":"h5-s3cr3t"}]"#;
        let clients = r#"[{"client_id":"shop","client_secret":"shop-s3cr3t-0123456789abcdef0123"},{"client_id":"spa","redirect_uris":[]},{"client_id":"crm","client_secret_sha256":"ab"}]"#;
        let found = warnings_for(&[("WECHAT_APPS", apps), ("OIDC_CLIENTS", clients)]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("WECHAT_APPS gives app_secret inline (apps: mp, h5)"));
        assert!(found[1].starts_with("OIDC_CLIENTS gives client_secret in plain (clients: shop)"));
        for text in &found {
            assert!(!text.contains("s3cr3t"), "{text}");
        }
    }

    #[test]
    fn references_digests_and_unparsable_values_give_no_warning() {
        for vars in [
            vec![],
            vec![(
                "WECHAT_APPS",
                r#"[{"name":"mp","app_secret_ref":"ssm:/mp"}]"#,
            )],
            vec![("WECHAT_APPS", r#"[{"name":"mp","app_secret":""}]"#)],
            vec![(
                "OIDC_CLIENTS",
                r#"[{"client_id":"c","client_secret_sha256":"00"}]"#,
            )],
            vec![("WECHAT_APPS", "not json"), ("OIDC_CLIENTS", "{}")],
        ] {
            assert_eq!(warnings_for(&vars), Vec::<String>::new(), "{vars:?}");
        }
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
}
