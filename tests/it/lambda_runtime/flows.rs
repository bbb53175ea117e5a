//! Both redirect flows and the OpenID Connect flow through the five binaries, on a named
//! stage and on `$default`, each function's DynamoDB calls and their keys against its
//! role, and a warm callback function's one connection to WeChat.

use std::collections::BTreeSet;

use lambda_runtime_emulator::aws_proxy::Call;
use wechat_simulator::Endpoint;
use wxauth_tests::table_rights::{DESCRIBE_TABLE, table_statements};
use wxauth_tests::template;
use wxauth_tests::{APP_SECRET, DOMAIN, SIGNING_KEY, exclusive, result_params};

use super::oidc::openid_connect_flows;
use super::{
    Browser, CLIENT_ID, CLIENT_SECRET, FUNCTIONS, MP_VERIFY_TOKEN, Stack, location, verify,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_flows_through_the_function_binaries_on_a_named_stage() {
    let _exclusive = exclusive().await;
    let stack = Stack::deploy("prod", |_| {}).await;
    let browser = Browser::new();
    // The stage is part of every public URL the functions derive.
    assert_eq!(
        stack.api.public_base_url(),
        format!("https://{DOMAIN}/prod")
    );

    let (landed, base_callback) = stack
        .login_via(
            &browser,
            "alice",
            "snsapi_base",
            "https://app.example.com/me?from=menu",
        )
        .await;
    let again = browser.get(&base_callback).await;
    assert_eq!(again.status(), 302);
    assert_eq!(location(&again), landed);
    assert!(
        landed.starts_with("https://app.example.com/me?from=menu&"),
        "{landed}"
    );
    let params = result_params(&landed, false);
    let openid = stack.sim.openid_for("alice");
    assert_eq!(params["openid"], openid);
    let claims = verify(&params["token"], &format!("https://{DOMAIN}/prod"));
    assert_eq!(claims["sub"], openid.as_str());
    assert_eq!(claims["scope"], "snsapi_base");

    let (landed, callback) = stack
        .login_via(
            &browser,
            "bob",
            "snsapi_userinfo",
            "https://app.example.com/profile",
        )
        .await;
    let params = result_params(&landed, false);
    // WeChat's in-app browser loading the callback twice gets the first answer again.
    let again = browser.get(&callback).await;
    assert_eq!(again.status(), 302);
    assert_eq!(location(&again), landed);
    assert_eq!(params["openid"], stack.sim.openid_for("bob"));
    assert!(params.contains_key("nickname"), "{params:?}");
    let claims = verify(&params["token"], &format!("https://{DOMAIN}/prod"));
    assert_eq!(claims["scope"], "snsapi_userinfo");

    // WeChat's domain file, served by the auth function on its own route.
    let response = browser
        .get(&format!(
            "{}/MP_verify_{MP_VERIFY_TOKEN}.txt",
            stack.api.base_url()
        ))
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(response.text().await.unwrap(), MP_VERIFY_TOKEN);

    // Bad input is the function's 400, not an API Gateway error.
    let response = browser
        .get(&format!(
            "{}/auth?scope=snsapi_base&url=https%3A%2F%2Fevil.example%2F",
            stack.api.base_url()
        ))
        .await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_request");

    // A path without the stage has no route (API Gateway's own 404).
    let response = browser
        .get(&format!("http://{}/auth", stack.api.addr))
        .await;
    assert_eq!(response.status(), 404);

    openid_connect_flows(&stack, &browser).await;

    let logs = stack.logs();
    for secret in [APP_SECRET, SIGNING_KEY, CLIENT_SECRET] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    assert!(
        !logs.contains("PRIVATE KEY"),
        "a signing key reached the logs"
    );
    assert!(logs.contains("\"route\":\"auth\""), "{logs}");
    assert!(logs.contains("\"route\":\"oidc-token\""), "{logs}");
    // A plain client_secret sits in the auth and callback functions' environments too: each
    // function given it says so once, at init, naming the client.
    let warning = format!("OIDC_CLIENTS gives client_secret in plain (clients: {CLIENT_ID})");
    let warned: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(&warning) && l.contains("\"level\":\"WARN\""))
        .collect();
    assert_eq!(
        warned.len(),
        4,
        "auth, both callbacks and the token function: {logs}"
    );
    eprintln!("init (debug binaries, plain secrets): {:?}", stack.init);

    // The same callbacks opened in another browser (no binding cookie) are refused after
    // only reading the login: nothing can be consumed without the cookie.
    for callback in [&base_callback, &callback] {
        let response = Browser::new().get(callback).await;
        assert_eq!(response.status(), 400, "{callback}");
    }

    // Least privilege, checked against behaviour: each function made exactly the DynamoDB
    // calls its role in template.yaml grants, on the keys it grants them (these flows reach every store call: a new
    // login, a consumed state, a recorded outcome, a repeated callback, a read without
    // the browser's cookie, a grant stored by each callback, redeemed, replayed and
    // revoked, and read by userinfo). The code login's are checked where it logs in
    // (code_login.rs): this stack has no Mini Program.
    for name in FUNCTIONS.iter().filter(|name| **name != "login-code") {
        assert_eq!(
            stack.dynamodb[name].iam_actions("dynamodb"),
            granted_dynamodb_actions(name),
            "{name}: the DynamoDB calls it made differ from what its role grants"
        );
        calls_name_only_the_keys_the_role_allows(name, &stack.dynamodb[name].calls());
    }
}

/// Each of `calls` (made by the function built from `binary`) is allowed by its role as
/// IAM evaluates the conditions on `dynamodb:LeadingKeys`; each item call names one key
/// and is allowed by a statement that restricts the keys; and every action of every
/// statement on the table is used on a key that statement allows (the role grants no
/// items the function never touches).
pub(super) fn calls_name_only_the_keys_the_role_allows(binary: &str, calls: &[Call]) {
    let t = template::cached();
    let role = template::role_of(template::function_building(t, binary));
    let statements = table_statements(t, role);
    for call in calls {
        let action = call.iam_action("dynamodb");
        let keys: Vec<&str> = call.leading_keys.iter().map(String::as_str).collect();
        let allowing: Vec<_> = statements
            .iter()
            .filter(|s| s.allows(&action, &keys))
            .collect();
        assert!(
            !allowing.is_empty(),
            "{role} does not allow {binary}'s {action} on {keys:?}"
        );
        if action != DESCRIBE_TABLE {
            assert_eq!(keys.len(), 1, "{binary}: {action}");
            assert!(
                allowing.iter().all(|s| s.is_conditioned()),
                "{role} allows {action} on any key"
            );
        }
    }
    for s in &statements {
        for action in &s.actions {
            assert!(
                calls
                    .iter()
                    .any(|c| c.iam_action("dynamodb") == *action && {
                        let keys: Vec<&str> = c.leading_keys.iter().map(String::as_str).collect();
                        s.allows(action, &keys)
                    }),
                "{role} allows {action} on keys {binary} never names ({:?})",
                s.conditions
            );
        }
    }
}

/// The `dynamodb:*` actions template.yaml grants the role of the function built from
/// `binary`.
pub(super) fn granted_dynamodb_actions(binary: &str) -> BTreeSet<String> {
    let t = template::cached();
    let role = template::role_of(template::function_building(t, binary));
    let mut actions = BTreeSet::new();
    for policy in t["Resources"][role]["Properties"]["Policies"]
        .as_sequence()
        .unwrap()
    {
        for statement in policy["PolicyDocument"]["Statement"].as_sequence().unwrap() {
            for action in statement["Action"].as_sequence().unwrap() {
                let action = action.as_str().unwrap();
                if action.starts_with("dynamodb:") {
                    actions.insert(action.to_owned());
                }
            }
        }
    }
    actions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_stage_has_no_path_prefix() {
    let _exclusive = exclusive().await;
    let stack = Stack::deploy("$default", |_| {}).await;
    assert_eq!(stack.api.public_base_url(), format!("https://{DOMAIN}"));
    let landed = stack
        .login(
            &Browser::new(),
            "carol",
            "snsapi_base",
            "https://app.example.com/",
        )
        .await;
    let params = result_params(&landed, false);
    verify(&params["token"], &format!("https://{DOMAIN}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_callback_function_keeps_one_connection_to_wechat() {
    let _exclusive = exclusive().await;
    let stack = Stack::deploy("$default", |_| {}).await;
    // Each callback function opened its connection during init (wxauth_core::warm_up).
    assert_eq!(stack.wechat_api.connections_accepted(), 2);
    let browser = Browser::new();
    // The code exchange and the profile call follow each other at once: the second must
    // find the first's connection back in the pool, login after login.
    for i in 0..40 {
        let landed = stack
            .login(
                &browser,
                &format!("user{i}"),
                "snsapi_userinfo",
                "https://app.example.com/",
            )
            .await;
        assert!(result_params(&landed, false).contains_key("nickname"));
    }
    assert_eq!(stack.sim.calls(Endpoint::UserInfo), 40);
    assert_eq!(stack.wechat_api.connections_accepted(), 2);
    let logs = stack.logs();
    assert!(logs.contains("connections warmed up"), "{logs}");

    // Without warm-up nothing is opened at init; the first login opens the connection.
    let cold = Stack::deploy("$default", |env| {
        env.insert("INIT_WARM_UP".into(), "off".into());
    })
    .await;
    assert_eq!(cold.wechat_api.connections_accepted(), 0);
    for name in FUNCTIONS {
        assert!(
            !cold.dynamodb[name]
                .iam_actions("dynamodb")
                .contains("dynamodb:DescribeTable"),
            "{name}"
        );
    }
    cold.login(
        &browser,
        "late",
        "snsapi_userinfo",
        "https://app.example.com/",
    )
    .await;
    assert_eq!(cold.wechat_api.connections_accepted(), 1);
    assert!(!cold.logs().contains("connections warmed up"));
}
