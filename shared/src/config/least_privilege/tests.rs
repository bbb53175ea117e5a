//! Which process reads which variable, and what it does without them.

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
        .filter(|(name, _)| !LOGIN_FINISHING_SECRETS.contains(name))
        .collect();
    let start = Config::for_routes(Serves::StartOnly, |name| {
        without_secrets
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    assert!(start.sealing_key.is_none());
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
    assert!(with_secrets.sealing_key.is_none());
    for secret in LOGIN_FINISHING_SECRETS {
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
fn the_callbacks_read_the_result_keys_only_to_sign_result_tokens() {
    let oidc_pem = SigningKeys::generate_pem();
    let result_pem = SigningKeys::generate_pem();
    let clients = r#"[{"client_id":"rp","client_secret":"rp-secret-0123456789abcdef0123456789","redirect_uris":["https://app.example.com/cb"]}]"#;
    for (alg, signs) in [
        (None, false),
        (Some("HS256"), false),
        (Some("RS256"), true),
        (Some("ES256"), true),
    ] {
        let mut vars: Vec<(&str, &str)> = MINIMAL.to_vec();
        vars.push(("OIDC_CLIENTS", clients));
        vars.push(("OIDC_SIGNING_KEYS", &oidc_pem));
        vars.push(("RESULT_SIGNING_KEYS", &result_pem));
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
        assert!(c.oidc.keys.is_none(), "{alg:?}: never the ID tokens' keys");
        assert_eq!(c.result_keys.signing.is_some(), signs, "{alg:?}");
        let looked_up = |prefix: &str| read.borrow().iter().any(|n| n.starts_with(prefix));
        assert!(!looked_up("OIDC_SIGNING_KEYS"), "{alg:?}");
        assert_eq!(looked_up("RESULT_SIGNING_KEYS"), signs, "{alg:?}");
        // wxauth-local serves the token endpoint too: it holds both, whatever the alg.
        let local = config_for(Serves::Everything, &vars).unwrap();
        assert!(local.oidc.keys.is_some() && local.result_keys.signing.is_some());
    }
    // Signing result tokens with them, the callbacks need them, with a key of the alg.
    let err = config_for(
        Serves::Callbacks,
        &[MINIMAL, &[("TOKEN_SIGNING_ALG", "ES256")]].concat(),
    )
    .unwrap_err();
    assert_eq!(err.problems[0].0, "RESULT_SIGNING_KEYS", "{err}");
    // The provider's keys do not stand in for them.
    let err = config_for(
        Serves::Callbacks,
        &[
            MINIMAL,
            &[
                ("TOKEN_SIGNING_ALG", "RS256"),
                ("OIDC_SIGNING_KEYS", &oidc_pem),
            ],
        ]
        .concat(),
    )
    .unwrap_err();
    assert_eq!(err.problems[0].0, "RESULT_SIGNING_KEYS", "{err}");
    // Issuing codes, the callbacks need no key (the token function signs ID tokens).
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

#[test]
fn result_tokens_and_id_tokens_never_share_a_key() {
    let pem = SigningKeys::generate_pem();
    let vars = [
        MINIMAL,
        &[
            ("TOKEN_SIGNING_ALG", "RS256"),
            ("OIDC_SIGNING_KEYS", pem.as_str()),
            ("RESULT_SIGNING_KEYS", pem.as_str()),
        ],
    ]
    .concat();
    let err = config_for(Serves::Everything, &vars).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    assert_eq!(err.problems[0].0, "RESULT_SIGNING_KEYS");
    assert!(err.problems[0].1.contains("keys of their own"));
    // Nor in the userinfo function, which is given the two public sets.
    let jwks = SigningKeys::from_pem(&pem).unwrap().jwks().to_string();
    let err = config_for(
        Serves::OidcUserInfo,
        &[
            MINIMAL,
            &[("OIDC_JWKS", jwks.as_str()), ("RESULT_JWKS", jwks.as_str())],
        ]
        .concat(),
    )
    .unwrap_err();
    assert_eq!(err.problems[0].0, "RESULT_JWKS", "{err}");
    // A key of the wrong algorithm for TOKEN_SIGNING_ALG is refused by name.
    let ec_only = SigningKeys::generate_pem();
    let ec_only = &ec_only[ec_only.rfind("-----BEGIN").unwrap()..];
    let err = config_for(
        Serves::Callbacks,
        &[
            MINIMAL,
            &[
                ("TOKEN_SIGNING_ALG", "RS256"),
                ("RESULT_SIGNING_KEYS", ec_only),
            ],
        ]
        .concat(),
    )
    .unwrap_err();
    assert_eq!(err.problems[0].0, "TOKEN_SIGNING_ALG", "{err}");
}

#[test]
fn the_userinfo_function_holds_public_keys_only() {
    let oidc = SigningKeys::from_pem(&SigningKeys::generate_pem()).unwrap();
    let result = SigningKeys::from_pem(&SigningKeys::generate_pem()).unwrap();
    let (oidc_jwks, result_jwks) = (oidc.jwks().to_string(), result.jwks().to_string());
    let pem = SigningKeys::generate_pem();
    let read = std::cell::RefCell::new(Vec::new());
    let vars = [
        MINIMAL,
        &[
            ("OIDC_JWKS", oidc_jwks.as_str()),
            ("RESULT_JWKS", result_jwks.as_str()),
            ("OIDC_SIGNING_KEYS", pem.as_str()),
            ("RESULT_SIGNING_KEYS", pem.as_str()),
        ],
    ]
    .concat();
    let c = Config::for_routes(Serves::OidcUserInfo, |name| {
        read.borrow_mut().push(name.to_owned());
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    assert!(c.oidc.keys.is_none() && c.result_keys.signing.is_none());
    assert_eq!(c.oidc.public_keys.unwrap().jwks(), oidc.jwks());
    assert_eq!(c.result_keys.public.unwrap().jwks(), result.jwks());
    assert!(
        !read.borrow().iter().any(|n| n.contains("SIGNING_KEYS")),
        "no private key is even looked up: {:?}",
        read.borrow()
    );
    // The other functions never read the public sets (they derive them, or need none).
    for serves in [
        Serves::StartOnly,
        Serves::Callbacks,
        Serves::OidcToken,
        Serves::Everything,
    ] {
        for variable in ["OIDC_JWKS", "RESULT_JWKS_REF"] {
            assert!(!serves.reads(variable), "{serves:?} {variable}");
        }
    }
    // OIDC_JWKS must hold the RS256 key OpenID Connect requires.
    let ec = SigningKeys::generate_pem();
    let ec_only = SigningKeys::from_pem(&ec[ec.rfind("-----BEGIN").unwrap()..]).unwrap();
    let ec_jwks = ec_only.jwks().to_string();
    let err = config_for(
        Serves::OidcUserInfo,
        &[MINIMAL, &[("OIDC_JWKS", ec_jwks.as_str())]].concat(),
    )
    .unwrap_err();
    assert_eq!(err.problems[0].0, "OIDC_JWKS", "{err}");
}

#[test]
fn the_code_login_reads_its_apps_secrets_its_keys_and_nothing_else() {
    let result_pem = SigningKeys::generate_pem();
    let apps = r#"[{"name":"mini","kind":"miniprogram","app_id":"wx00000000000000cc","app_secret":"mini-s3cr3t"},
        {"name":"web","kind":"website","app_id":"wx00000000000000bb","app_secret":"web-s3cr3t"}]"#;
    for (alg, signs) in [(None, false), (Some("RS256"), true), (Some("ES256"), true)] {
        let mut vars: Vec<(&str, &str)> = MINIMAL.to_vec();
        vars.push(("WECHAT_APPS", apps));
        vars.push(("RESULT_SIGNING_KEYS", &result_pem));
        vars.push(("OIDC_CLIENTS", "[]"));
        vars.push(("OIDC_SIGNING_KEYS", "x"));
        vars.push(("OIDC_JWKS", "x"));
        vars.push(("RESULT_JWKS", "x"));
        if let Some(alg) = alg {
            vars.push(("TOKEN_SIGNING_ALG", alg));
        }
        let read = std::cell::RefCell::new(Vec::new());
        let c = Config::for_routes(Serves::CodeLogin, |name| {
            read.borrow_mut().push(name.to_owned());
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        // It signs result tokens and seals the shared app token.
        assert!(c.signing_key.is_some(), "{alg:?}");
        assert!(
            c.sealing_key.is_some(),
            "{alg:?}: it seals the shared app token"
        );
        assert_eq!(c.result_keys.signing.is_some(), signs, "{alg:?}");
        // The Mini Program's AppSecret, not the Official Account's nor the Website App's.
        let kept: Vec<&str> = c
            .apps
            .iter()
            .filter(|a| a.secret.is_some())
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(kept, ["mini"], "{alg:?}");
        for never in [
            "WECHAT_APP_SECRET",
            "OIDC_CLIENTS",
            "OIDC_SIGNING_KEYS",
            "OIDC_JWKS",
            "RESULT_JWKS",
        ] {
            assert!(
                !read.borrow().iter().any(|n| n == never),
                "{never} was read"
            );
            assert!(
                !Serves::CodeLogin.reads(&format!("{never}_REF")),
                "{never}_REF"
            );
        }
        assert_eq!(
            read.borrow().iter().any(|n| n == "RESULT_SIGNING_KEYS"),
            signs,
            "{alg:?}"
        );
    }
    // It signs with TOKEN_SIGNING_KEY and seals with SEALING_KEY: without them, it does
    // not start.
    let err = config_for(
        Serves::CodeLogin,
        &[
            ("WECHAT_APPS", apps),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ],
    )
    .unwrap_err();
    let names: Vec<&str> = err.problems.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["TOKEN_SIGNING_KEY", "SEALING_KEY"]);
    // Only its route.
    assert!(Serves::CodeLogin.serves(&Route::CodeLogin));
    for other in [
        Serves::StartOnly,
        Serves::Callbacks,
        Serves::OidcToken,
        Serves::OidcUserInfo,
    ] {
        assert!(!other.serves(&Route::CodeLogin), "{other:?}");
    }
    assert!(!Serves::CodeLogin.serves(&Route::Auth));
    assert!(!Serves::CodeLogin.serves(&Route::Callback(crate::scope::Scope::Base)));
}
