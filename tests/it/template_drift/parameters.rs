//! The template's parameters and Rules against the configuration parser: the Rules refuse
//! exactly what some function would refuse, and the parameters' bounds and choices are
//! the parser's.

use std::collections::BTreeSet;

use wxauth_core::Config;
use wxauth_core::config::Serves;
use wxauth_tests::serves_of_binary;
use wxauth_tests::template::{self, Evaluator, created_functions, resources, scalar};

use super::{
    APPS_INLINE, OIDC_CLIENTS, apps_parameters, broken_rules, oidc_jwks, oidc_parameters,
    oidc_signing_keys, plain_parameters, result_jwks, result_signing_keys, start, without,
};

#[test]
fn the_rules_refuse_what_the_functions_would_refuse() {
    let t = template::load();
    let keys_ref = "ssm:/wxauth/oidc-signing-keys";
    let clients_ref = "ssm:/wxauth/oidc-clients";
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            plain_parameters(&[("OidcClients", OIDC_CLIENTS), ("OidcJwks", oidc_jwks())]),
            "OidcClients (or OidcClientsRef) needs OidcSigningKeys or OidcSigningKeysRef.",
        ),
        (
            plain_parameters(&[("OidcClientsRef", clients_ref), ("OidcJwks", oidc_jwks())]),
            "OidcClients (or OidcClientsRef) needs OidcSigningKeys or OidcSigningKeysRef.",
        ),
        (
            without(oidc_parameters(&[], OIDC_CLIENTS), "OidcJwks"),
            "OidcClients (or OidcClientsRef) needs OidcJwks or OidcJwksRef.",
        ),
        (
            oidc_parameters(&[("OidcJwksRef", "ssm:/wxauth/oidc-jwks")], OIDC_CLIENTS),
            "Set only one of OidcJwks and OidcJwksRef.",
        ),
        (
            plain_parameters(&[("TokenSigningAlg", "ES256"), ("ResultJwks", result_jwks())]),
            "TokenSigningAlg RS256 or ES256 needs ResultSigningKeys or ResultSigningKeysRef.",
        ),
        // The provider's keys do not stand in for the result tokens' own.
        (
            plain_parameters(&[
                ("TokenSigningAlg", "RS256"),
                ("ResultJwks", result_jwks()),
                ("OidcSigningKeys", oidc_signing_keys()),
            ]),
            "TokenSigningAlg RS256 or ES256 needs ResultSigningKeys or ResultSigningKeysRef.",
        ),
        (
            plain_parameters(&[
                ("TokenSigningAlg", "ES256"),
                ("ResultSigningKeys", result_signing_keys()),
            ]),
            "TokenSigningAlg RS256 or ES256 needs ResultJwks or ResultJwksRef.",
        ),
        (
            plain_parameters(&[
                ("TokenSigningAlg", "ES256"),
                ("ResultSigningKeys", result_signing_keys()),
                ("ResultSigningKeysRef", "ssm:/wxauth/result-signing-keys"),
                ("ResultJwks", result_jwks()),
            ]),
            "Set only one of ResultSigningKeys and ResultSigningKeysRef.",
        ),
        (
            plain_parameters(&[
                ("TokenSigningAlg", "ES256"),
                ("ResultSigningKeys", result_signing_keys()),
                ("ResultJwks", result_jwks()),
                ("ResultJwksRef", "ssm:/wxauth/result-jwks"),
            ]),
            "Set only one of ResultJwks and ResultJwksRef.",
        ),
        (
            oidc_parameters(&[("OidcClientsRef", clients_ref)], OIDC_CLIENTS),
            "Set only one of OidcClients and OidcClientsRef.",
        ),
        (
            oidc_parameters(&[("OidcSigningKeysRef", keys_ref)], OIDC_CLIENTS),
            "Set only one of OidcSigningKeys and OidcSigningKeysRef.",
        ),
        // The apps and the default app's secrets.
        (
            vec![
                ("AllowedReturnOrigins", "https://app.example.com"),
                ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
            ],
            "Set WeChatAppId (one Official Account), or WeChatApps or WeChatAppsRef (several apps), or both.",
        ),
        (
            apps_parameters(APPS_INLINE, &[("WeChatAppsRef", "ssm:/wxauth/apps-list")]),
            "Set only one of WeChatApps and WeChatAppsRef.",
        ),
        (
            apps_parameters(APPS_INLINE, &[("WeChatAppSecret", "app-secret-value")]),
            "WeChatAppSecret and WeChatAppSecretRef belong to WeChatAppId (each app of WeChatApps has its own app_secret or app_secret_ref).",
        ),
        (
            apps_parameters(
                APPS_INLINE,
                &[("WeChatAppSecretRef", "ssm:/wxauth/app-secret")],
            ),
            "WeChatAppSecret and WeChatAppSecretRef belong to WeChatAppId (each app of WeChatApps has its own app_secret or app_secret_ref).",
        ),
        (
            without(plain_parameters(&[]), "AllowedReturnOrigins"),
            "WeChatAppId needs AllowedReturnOrigins.",
        ),
        // Even when every app of the list has its own.
        (
            without(
                plain_parameters(&[("WeChatApps", APPS_INLINE)]),
                "AllowedReturnOrigins",
            ),
            "WeChatAppId needs AllowedReturnOrigins.",
        ),
        (
            without(
                plain_parameters(&[("WeChatApps", APPS_INLINE)]),
                "WeChatAppSecret",
            ),
            "Set WeChatAppSecret or WeChatAppSecretRef (WeChatAppId needs one).",
        ),
        (
            plain_parameters(&[("WeChatAppSecretRef", "ssm:/wxauth/app-secret")]),
            "Set only one of WeChatAppSecret and WeChatAppSecretRef.",
        ),
        (
            without(plain_parameters(&[]), "TokenSigningKey"),
            "Set TokenSigningKey or TokenSigningKeyRef.",
        ),
        (
            plain_parameters(&[("TokenSigningKeyRef", "ssm:/wxauth/token-signing-key")]),
            "Set only one of TokenSigningKey and TokenSigningKeyRef.",
        ),
    ];
    // Every assertion of the Rules is shown to stop something here.
    let all_rules: BTreeSet<String> = t["Rules"]
        .as_mapping()
        .unwrap()
        .values()
        .flat_map(|rule| rule["Assertions"].as_sequence().unwrap().clone())
        .map(|assertion| scalar(&assertion["AssertDescription"]))
        .collect();
    let tested: BTreeSet<String> = cases.iter().map(|(_, r)| (*r).to_owned()).collect();
    assert_eq!(
        tested, all_rules,
        "rules without a case here, or cases of no rule"
    );
    for (params, rule) in &cases {
        let ev = Evaluator::new(&t, params);
        assert_eq!(broken_rules(&t, &ev), [rule.to_owned()], "{params:?}");
        // What the rule stops would not have worked: some function created with these
        // parameters refuses its configuration or its references.
        // (A reference stands for a value: `start` gives it one to see the parse.)
        let refused = created_functions(&t, &ev).into_iter().any(|(id, binary)| {
            let env = ev.environment(&resources(&t)[&id]);
            start(serves_of_binary(&binary), &env).1.is_err()
        });
        assert!(
            refused,
            "the rule `{rule}` stops a deployment that would work"
        );
    }
}

#[test]
fn parameter_bounds_are_the_configuration_parsers_bounds() {
    let t = template::load();
    let p = &t["Parameters"]["StateTtlSeconds"];
    let (min, max) = (scalar(&p["MinValue"]), scalar(&p["MaxValue"]));
    let parses = |ttl: &str| {
        let mut params = plain_parameters(&[]);
        params.push(("StateTtlSeconds", ttl));
        let ev = Evaluator::new(&t, &params);
        let env = ev.environment(&resources(&t)["AuthFunction"]);
        Config::for_routes(Serves::StartOnly, |name| env.get(name).cloned()).is_ok()
    };
    assert!(
        parses(&min) && parses(&max),
        "the template allows what the code refuses"
    );
    let below = (min.parse::<u64>().unwrap() - 1).to_string();
    let above = (max.parse::<u64>().unwrap() + 1).to_string();
    assert!(
        !parses(&below) && !parses(&above),
        "the code allows more than the template"
    );
    assert_eq!(
        scalar(&p["Default"]),
        wxauth_core::config::DEFAULT_STATE_TTL_SECONDS.to_string()
    );
    // The OpenID Provider's choices are exactly the values the parser takes.
    for (parameter, variable, default) in [
        ("OidcSubject", "OIDC_SUBJECT", "openid"),
        ("TokenSigningAlg", "TOKEN_SIGNING_ALG", "HS256"),
    ] {
        let p = &t["Parameters"][parameter];
        assert_eq!(scalar(&p["Default"]), default, "{parameter}");
        for value in p["AllowedValues"].as_sequence().expect("AllowedValues") {
            let value = scalar(value);
            let vars = [
                ("WECHAT_APP_ID", "wx0123456789abcdef"),
                ("WECHAT_APP_SECRET", "app-secret-value"),
                ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
                ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
                ("OIDC_SIGNING_KEYS", oidc_signing_keys()),
                ("RESULT_SIGNING_KEYS", result_signing_keys()),
                (variable, value.as_str()),
            ];
            let lookup = |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            };
            assert!(
                Config::for_routes(Serves::Everything, lookup).is_ok(),
                "{parameter}={value} is refused by the code"
            );
        }
    }
    // ResponseModes: its values are exactly the lists the parser takes without spaces or
    // empty entries (every order of every non-empty set, each mode once), and its default
    // is the parser's default.
    let p = &t["Parameters"]["ResponseModes"];
    assert_eq!(
        scalar(&p["Default"]),
        wxauth_core::response_modes::ResponseModes::default().to_string()
    );
    let allowed: BTreeSet<String> = p["AllowedValues"]
        .as_sequence()
        .expect("AllowedValues")
        .iter()
        .map(scalar)
        .collect();
    let names = ["query", "fragment", "form_post"];
    let mut lists = BTreeSet::new();
    for a in names {
        lists.insert(a.to_owned());
        for b in names {
            lists.insert(format!("{a},{b}"));
            for c in names {
                lists.insert(format!("{a},{b},{c}"));
            }
        }
    }
    let parsed: BTreeSet<String> = lists
        .into_iter()
        .filter(|list| wxauth_core::response_modes::ResponseModes::parse(list).is_ok())
        .collect();
    assert_eq!(allowed, parsed);
    assert_eq!(allowed.len(), 15);
}
