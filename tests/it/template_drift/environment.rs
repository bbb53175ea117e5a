//! The functions' environments, evaluated for many parameter sets: every variable is one
//! the code reads, each function gets only what it reads and all it requires, the whole
//! fits in Lambda's 4 KB, and the configuration parser takes it.

use std::collections::{BTreeMap, BTreeSet};

use wxauth_core::config::REFERENCE_VARIABLES;
use wxauth_core::config::{LOGIN_FINISHING_SECRETS, Serves, Subject, TokenAlg, VARIABLES};
use wxauth_core::oidc::keys::Alg;
use wxauth_core::{Config, apps};
use wxauth_tests::serves_of_binary;
use wxauth_tests::template::{self, Evaluator, created_functions, resources};

use super::{
    APPS_BY_REF, APPS_INLINE, OIDC_CLIENTS, apps_parameters, broken_rules, oidc_parameters,
    plain_parameters, result_jwks, result_signing_keys, start, test_value,
};

/// Variables a function may have besides the configuration's: the log filter.
const OTHER_VARIABLES: [&str; 1] = ["RUST_LOG"];

/// Names the configuration parser requires of a function, asked of the parser itself:
/// with `apps` as WECHAT_APPS, or with nothing at all.
fn required_variables(serves: Serves, apps: Option<&str>) -> BTreeSet<&'static str> {
    let Err(err) = Config::for_routes(serves, |name| {
        (name == "WECHAT_APPS")
            .then(|| apps.map(str::to_owned))
            .flatten()
    }) else {
        return BTreeSet::new();
    };
    err.problems
        .iter()
        .filter(|(_, p)| p.contains("required"))
        .map(|(n, _)| *n)
        .collect()
}

/// The reference a function's environment gives for the plain variable `plain`.
fn reference_of(env: &BTreeMap<String, String>, plain: &str) -> Option<String> {
    REFERENCE_VARIABLES
        .iter()
        .find(|(_, p)| *p == plain)
        .and_then(|(reference, _)| env.get(*reference).cloned())
}

#[test]
fn every_environment_variable_is_one_the_code_reads_and_the_configuration_parses() {
    let t = template::load();
    let known: BTreeSet<&str> = VARIABLES
        .iter()
        .copied()
        .chain(REFERENCE_VARIABLES.iter().map(|(r, _)| *r))
        .chain(OTHER_VARIABLES)
        .collect();
    assert!(required_variables(Serves::Callbacks, None).contains("WECHAT_APP_SECRET"));
    assert!(!required_variables(Serves::StartOnly, None).contains("WECHAT_APP_SECRET"));
    assert!(required_variables(Serves::OidcToken, None).contains("OIDC_SIGNING_KEYS"));
    // With a list of apps, the default app's variables are not needed.
    assert_eq!(
        required_variables(Serves::Callbacks, Some(APPS_INLINE)),
        BTreeSet::from(["SEALING_KEY", "TOKEN_SIGNING_KEY"])
    );
    assert!(required_variables(Serves::StartOnly, Some(APPS_INLINE)).is_empty());
    assert_eq!(
        required_variables(Serves::CodeLogin, Some(APPS_INLINE)),
        BTreeSet::from(["SEALING_KEY", "TOKEN_SIGNING_KEY"])
    );

    // The longest list WeChatApps takes (MaxLength), beside plain values for everything
    // else but the PEM keys: every function's environment must still fit in 4 KB.
    let max_apps: usize = t["Parameters"]["WeChatApps"]["MaxLength"]
        .as_u64()
        .expect("WeChatApps has a MaxLength") as usize;
    let longest_apps = {
        let closing = APPS_INLINE.rfind(']').unwrap();
        let padding = " ".repeat(max_apps - APPS_INLINE.chars().count());
        format!("{}{padding}]", &APPS_INLINE[..closing])
    };
    assert_eq!(longest_apps.chars().count(), max_apps);

    let cases: Vec<Vec<(&str, &str)>> = vec![
        plain_parameters(&[]),
        plain_parameters(&[
            ("PublicBaseUrl", "https://login.example.com"),
            ("MpVerifyToken", "AbC123"),
            ("StateTtlSeconds", "3600"),
        ]),
        // The OpenID Provider, with every OIDC parameter away from its default.
        oidc_parameters(
            &[
                ("CodeLogin", "true"),
                ("OidcSubject", "unionid"),
                ("TokenSigningAlg", "ES256"),
                ("ResultSigningKeys", result_signing_keys()),
                ("ResultJwks", result_jwks()),
            ],
            OIDC_CLIENTS,
        ),
        // No clients, but result tokens signed with RS256: their JWKS is published.
        plain_parameters(&[
            ("ResultSigningKeys", result_signing_keys()),
            ("ResultJwks", result_jwks()),
            ("TokenSigningAlg", "RS256"),
        ]),
        // Several apps beside the default one, the Mini Program's code login on.
        plain_parameters(&[("WeChatApps", APPS_INLINE), ("CodeLogin", "true")]),
        // Several apps alone, each with its own origins (no AllowedReturnOrigins).
        vec![
            ("WeChatApps", APPS_INLINE),
            ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
        ],
        // Their AppSecrets by reference, the list itself by reference.
        apps_parameters(APPS_BY_REF, &[("OidcClients", OIDC_CLIENTS)])
            .into_iter()
            .chain([
                ("OidcSigningKeysRef", "ssm:/wxauth/oidc-signing-keys"),
                ("OidcJwksRef", "ssm:/wxauth/oidc-jwks"),
                ("CodeLogin", "true"),
            ])
            .collect(),
        vec![
            ("WeChatAppsRef", "ssm:/wxauth/apps-list"),
            ("AllowedReturnOrigins", "https://app.example.com"),
            ("TokenSigningKeyRef", "ssm:/wxauth/token-signing-key"),
            ("CodeLogin", "true"),
        ],
        // The size limit.
        plain_parameters(&[
            ("WeChatApps", longest_apps.as_str()),
            ("PublicBaseUrl", "https://login.example.com"),
            ("MpVerifyToken", "AbC123"),
            ("OidcClients", OIDC_CLIENTS),
            ("OidcSigningKeysRef", "ssm:/wxauth/oidc-signing-keys"),
            ("OidcJwksRef", "ssm:/wxauth/oidc-jwks"),
            ("TokenSigningAlg", "RS256"),
            ("ResultSigningKeysRef", "ssm:/wxauth/result-signing-keys"),
            ("ResultJwksRef", "ssm:/wxauth/result-jwks"),
            ("CodeLogin", "true"),
        ]),
    ];
    let mut seen = BTreeSet::new();
    for params in &cases {
        let ev = Evaluator::new(&t, params);
        assert_eq!(broken_rules(&t, &ev), Vec::<String>::new(), "{params:?}");
        let parameter = |name: &str| ev.parameters[name].clone();
        let given = |name: &str| !parameter(name).is_empty();
        let clients_given = given("OidcClients") || given("OidcClientsRef");
        let keys_given = given("OidcSigningKeys") || given("OidcSigningKeysRef");
        let jwks_given = given("OidcJwks") || given("OidcJwksRef");
        let result_keys_given = given("ResultSigningKeys") || given("ResultSigningKeysRef");
        let result_jwks_given = given("ResultJwks") || given("ResultJwksRef");
        let asymmetric = parameter("TokenSigningAlg") != "HS256";
        // The apps every function knows: the default one, then the list's.
        let list = match (given("WeChatApps"), given("WeChatAppsRef")) {
            (true, _) => Some(parameter("WeChatApps")),
            (_, true) => Some(test_value("WECHAT_APPS")),
            _ => None,
        };
        let mut app_names = Vec::new();
        if given("WeChatAppId") {
            app_names.push(apps::DEFAULT_APP.to_owned());
        }
        if let Some(list) = &list {
            let list: serde_json::Value = serde_json::from_str(list).unwrap();
            for app in list.as_array().unwrap() {
                app_names.push(app["name"].as_str().unwrap().to_owned());
            }
        }
        let functions = created_functions(&t, &ev);
        for (id, binary) in &functions {
            seen.insert(binary.clone());
            let serves = serves_of_binary(binary);
            let env = ev.environment(&resources(&t)[id]);
            for name in env.keys() {
                assert!(
                    known.contains(name.as_str()),
                    "{id} sets {name}, which the code never reads"
                );
                // Least privilege: a function is given only what it reads (the auth
                // function no secret of the callbacks, userinfo not the clients …).
                assert!(
                    serves.reads_in(name, |n| env.get(n).cloned()),
                    "{id} is given {name}, which it does not read"
                );
            }
            let has = |name: &str| env.contains_key(name) || reference_of(&env, name).is_some();
            for name in &required_variables(serves, list.as_ref().map(|_| APPS_INLINE)) {
                // The userinfo function needs one public set at least: either will do.
                let either = *name == "OIDC_JWKS" && has("RESULT_JWKS");
                assert!(has(name) || either, "{id} lacks the required {name}");
            }
            if serves == Serves::StartOnly {
                for secret in LOGIN_FINISHING_SECRETS {
                    assert!(!env.contains_key(secret), "{id} is given {secret}");
                }
            }
            // The Lambda functions keep logins in DynamoDB: STATE_TABLE is the table.
            assert_eq!(env["STATE_TABLE"], "StateTable-physical-id", "{id}");
            // Lambda refuses an environment over 4 KB (names and values together): plain
            // values, an RSA and an EC key included, must fit.
            let size: usize = env.iter().map(|(k, v)| k.len() + v.len()).sum();
            assert!(size <= 4096, "{id}: the environment takes {size} bytes");
            let config = start(serves, &env)
                .1
                .unwrap_or_else(|e| panic!("{id} ({binary}) would not start:\n{e}"));
            assert!(config.state_table.is_some());
            // Every function parses every app (its configuration needs them); only the
            // callbacks hold the browser apps' AppSecrets, only the code login the others'.
            let names: Vec<&str> = config.apps.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, app_names, "{id}");
            for app in config.apps.iter() {
                assert_eq!(
                    app.secret.is_some(),
                    serves.keeps_app_secret(app.kind),
                    "{id}: the AppSecret of app {}",
                    app.name
                );
            }
            assert_eq!(
                config.sealing_key.is_some(),
                matches!(serves, Serves::Callbacks | Serves::CodeLogin)
            );
            let signs = matches!(serves, Serves::Callbacks | Serves::CodeLogin);
            assert_eq!(config.signing_key.is_some(), signs, "{id}: the signing key");
            // Each holds the OpenID Provider's clients and keys exactly where it uses them.
            assert_eq!(
                config.oidc.clients.is_some(),
                clients_given && serves.reads("OIDC_CLIENTS"),
                "{id}: the clients"
            );
            assert_eq!(
                config.oidc.keys.is_some(),
                keys_given && serves.reads_in("OIDC_SIGNING_KEYS", |n| env.get(n).cloned()),
                "{id}: the keys"
            );
            // The public sets exactly where they are published, the result tokens' keys
            // exactly where result tokens are signed with them.
            assert_eq!(
                config.oidc.public_keys.is_some(),
                (serves == Serves::OidcUserInfo && jwks_given)
                    || (serves == Serves::OidcToken && keys_given),
                "{id}: the ID tokens' public keys"
            );
            assert_eq!(
                config.result_keys.signing.is_some(),
                signs && result_keys_given && asymmetric,
                "{id}: the result tokens' keys"
            );
            assert_eq!(
                config.result_keys.public.is_some(),
                (serves == Serves::OidcUserInfo && result_jwks_given)
                    || (signs && result_keys_given && asymmetric),
                "{id}: the result tokens' public keys"
            );
            if signs {
                // They sign no ID token: they never hold the provider's keys.
                assert!(config.oidc.keys.is_none(), "{id}: the keys");
                let alg = match parameter("TokenSigningAlg").as_str() {
                    "HS256" => TokenAlg::Hs256,
                    other => TokenAlg::Jws(Alg::parse(other).unwrap()),
                };
                assert_eq!(config.token_alg, alg, "{id}");
            }
            if serves == Serves::Callbacks {
                // What only the callbacks use reaches them as configured.
                let subject = match parameter("OidcSubject").as_str() {
                    "openid" => Subject::OpenId,
                    "unionid" => Subject::UnionId,
                    other => panic!("OidcSubject {other}"),
                };
                assert_eq!(config.oidc.subject, subject, "{id}");
            }
        }
        // The OpenID Provider's functions exist exactly when they have something to
        // serve: the token endpoint with clients, the documents and userinfo with public
        // keys to publish.
        let has = |binary: &str| functions.values().any(|b| b == binary);
        assert_eq!(has("oidc-token"), clients_given, "{params:?}");
        assert_eq!(
            has("oidc-userinfo"),
            clients_given || asymmetric,
            "{params:?}"
        );
        // The code login exactly when asked for (the template cannot see the apps' kinds).
        assert_eq!(
            has("login-code"),
            parameter("CodeLogin") == "true",
            "{params:?}"
        );
        assert!(has("auth") && has("base-callback") && has("userinfo-callback"));
    }
    assert_eq!(seen.len(), 6, "some function was never checked: {seen:?}");
}
