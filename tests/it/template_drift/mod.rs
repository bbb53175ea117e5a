//! template.yaml cannot drift from the code: its routes, functions, binaries, environment
//! variables, table, IAM and timeouts are read (through `wxauth_tests::template`, with
//! CloudFormation tags such as `!Ref` parsed as tagged values) and checked against the
//! crates, the configuration parser and the routing functions themselves. The functions'
//! environments are evaluated for real parameter sets (Ref, If, Condition …) and fed to
//! `Config::from_lookup`.
//!
//! One file per theme; the parameter sets and the function start-up they share are here.

mod builds;
mod environment;
mod limits;
mod outputs;
mod parameters;
mod roles;
mod routes;
mod table_keys;

use std::collections::BTreeMap;

use wxauth_core::config::Serves;
use wxauth_core::secret::Secret;
use wxauth_core::{Config, ConfigError};
use wxauth_lambda::secret_refs::{Reference, ResolvedSecrets, app_references_for, references_for};
use wxauth_tests::template::{Evaluator, Value, scalar};

fn plain_parameters<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("WeChatAppId", "wx0123456789abcdef"),
        ("WeChatAppSecret", "app-secret-value"),
        ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
        (
            "AllowedReturnOrigins",
            "https://app.example.com,https://*.shop.example.com",
        ),
    ];
    p.extend_from_slice(extra);
    p
}

/// A confidential client (client_secret_post / _basic) and a public one (PKCE).
const OIDC_CLIENTS: &str = r#"[
  {"client_id": "shop-backend", "client_secret": "shop-backend-secret-0123456789abcdef",
   "redirect_uris": ["https://app.example.com/oidc/callback"], "name": "Shop"},
  {"client_id": "spa", "redirect_uris": ["https://app.example.com/spa/callback"]}
]"#;

/// RSA 2048 and EC P-256 private keys, PEM, made once for the whole test binary.
fn oidc_signing_keys() -> &'static str {
    static KEYS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEYS.get_or_init(wxauth_core::oidc::keys::SigningKeys::generate_pem)
}

/// The public JWK Set of [`oidc_signing_keys`], as `wxauth-local jwks` prints it.
fn oidc_jwks() -> &'static str {
    static JWKS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JWKS.get_or_init(|| wxauth_local::public_jwks(oidc_signing_keys()).unwrap())
}

/// The result tokens' own keys (RS256 / ES256), and their public set.
fn result_signing_keys() -> &'static str {
    static KEYS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEYS.get_or_init(wxauth_core::oidc::keys::SigningKeys::generate_pem)
}

fn result_jwks() -> &'static str {
    static JWKS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JWKS.get_or_init(|| wxauth_local::public_jwks(result_signing_keys()).unwrap())
}

/// [`plain_parameters`] with the OpenID Provider on: `clients`, the keys and their public
/// set, plain.
fn oidc_parameters<'a>(extra: &[(&'a str, &'a str)], clients: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut p = plain_parameters(&[
        ("OidcClients", clients),
        ("OidcSigningKeys", oidc_signing_keys()),
        ("OidcJwks", oidc_jwks()),
    ]);
    p.extend_from_slice(extra);
    p
}

/// Three apps with their AppSecrets inline: an Official Account and its Website App (QR
/// login), with their own return origins, and a Mini Program (the code login).
const APPS_INLINE: &str = r#"[
  {"name": "mp", "kind": "official_account", "app_id": "wx00000000000000aa",
   "app_secret": "mp-app-secret-value", "allowed_return_origins": "https://app.example.com",
   "qr_app": "web"},
  {"name": "web", "kind": "website", "app_id": "wx00000000000000bb",
   "app_secret": "web-app-secret-value", "allowed_return_origins": "https://www.example.com"},
  {"name": "mini", "kind": "miniprogram", "app_id": "wx00000000000000cc",
   "app_secret": "mini-app-secret-value"}
]"#;

/// The same apps and a mobile app with their AppSecrets referenced under the default
/// `WeChatAppSecretsPrefix` (`/wxauth/apps`), in both services; the first takes its
/// origins from AllowedReturnOrigins.
const APPS_BY_REF: &str = r#"[
  {"name": "mp", "kind": "official_account", "app_id": "wx00000000000000aa",
   "app_secret_ref": "ssm:/wxauth/apps/mp", "qr_app": "web"},
  {"name": "web", "kind": "website", "app_id": "wx00000000000000bb",
   "app_secret_ref": "secretsmanager:wxauth/apps/web#app_secret",
   "allowed_return_origins": "https://www.example.com"},
  {"name": "mini", "kind": "miniprogram", "app_id": "wx00000000000000cc",
   "app_secret_ref": "ssm:/wxauth/apps/mini", "token_audience": "https://api.example.com"},
  {"name": "ios", "kind": "mobile_app", "app_id": "wx00000000000000dd",
   "app_secret_ref": "secretsmanager:wxauth/apps/ios#app_secret"}
]"#;

/// Several apps and no default one: `apps` as WeChatApps, AllowedReturnOrigins as the
/// fallback, the signing key plain.
fn apps_parameters<'a>(apps: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("WeChatApps", apps),
        ("AllowedReturnOrigins", "https://app.example.com"),
        ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
    ];
    p.extend_from_slice(extra);
    p
}

/// How a function built for `serves` starts with `env`: the references it reads (the
/// variables' and then the apps' `app_secret_ref`s, as the Lambda adapter reads them),
/// each standing for a [`test_value`], and the configuration it parses with them.
fn start(
    serves: Serves,
    env: &BTreeMap<String, String>,
) -> (Vec<Reference>, Result<Config, ConfigError>) {
    let lookup = |name: &str| env.get(name).cloned();
    let values = |refs: &[Reference]| -> ResolvedSecrets {
        refs.iter()
            .map(|r| (r.variable.clone(), Secret::new(test_value(&r.variable))))
            .collect()
    };
    let mut read = match references_for(serves, lookup) {
        Ok(refs) => refs,
        Err(e) => return (Vec::new(), Err(e)),
    };
    match app_references_for(serves, lookup, &values(&read)) {
        Ok(app_refs) => read.extend(app_refs),
        Err(e) => return (read, Err(e)),
    }
    let resolved = values(&read);
    let config = Config::for_routes(serves, resolved.overlay(lookup));
    (read, config)
}

/// The AssertDescription of every rule assertion the parameters break.
fn broken_rules(t: &Value, ev: &Evaluator<'_>) -> Vec<String> {
    let mut broken = Vec::new();
    for (name, rule) in t["Rules"].as_mapping().unwrap() {
        assert!(rule.get("RuleCondition").is_none(), "{name:?}");
        for assertion in rule["Assertions"].as_sequence().unwrap() {
            if !ev.truth(&assertion["Assert"]) {
                broken.push(scalar(&assertion["AssertDescription"]));
            }
        }
    }
    broken
}

/// `params` without `name`.
fn without<'a>(params: Vec<(&'a str, &'a str)>, name: &str) -> Vec<(&'a str, &'a str)> {
    params.into_iter().filter(|(n, _)| *n != name).collect()
}

/// A valid value for a secret variable, standing for what a reference reads.
fn test_value(variable: &str) -> String {
    match variable {
        "WECHAT_APP_SECRET" => "app-secret-value".into(),
        "TOKEN_SIGNING_KEY" => "0123456789abcdef0123456789abcdef".into(),
        "SEALING_KEY" => "a-sealing-key-of-its-own-0123456789abcdef".into(),
        "OIDC_CLIENTS" => OIDC_CLIENTS.into(),
        "OIDC_SIGNING_KEYS" => oidc_signing_keys().into(),
        "OIDC_JWKS" => oidc_jwks().into(),
        "RESULT_SIGNING_KEYS" => result_signing_keys().into(),
        "RESULT_JWKS" => result_jwks().into(),
        "WECHAT_APPS" => APPS_BY_REF.into(),
        app if app.starts_with("WECHAT_APPS[") => format!(
            "secret-of-{}",
            app.trim_start_matches("WECHAT_APPS[")
                .trim_end_matches("].app_secret")
        ),
        other => panic!("no test value for {other}"),
    }
}
