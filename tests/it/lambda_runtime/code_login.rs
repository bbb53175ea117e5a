//! `POST /login/code` through the login-code binary: a Mini Program's and a mobile app's
//! login with their AppSecrets read from SSM by that function alone (the callbacks read
//! only the Official Account's), the tokens verified by an independent JWT library, no
//! `session_key` in any answer or log line, a verified phone number with the app's access
//! token fetched once and shared through the table, and no other item touched.

use std::collections::BTreeSet;

use lambda_runtime_emulator::aws_secrets::SecretsDouble;
use wechat_simulator::{Scope, SimApp, SimulatorConfig};
use wxauth_tests::{APP_ID, APP_SECRET, DOMAIN, SEALING_KEY, SIGNING_KEY, encode, exclusive};

use super::flows::{calls_name_only_the_keys_the_role_allows, granted_dynamodb_actions};
use super::{FUNCTIONS, Stack, verify_for};

const MINI_ID: &str = "wx00000000000000cc";
const MINI_SECRET: &str = "MINISECRET-from-ssm-must-never-leak";
const MINI_AUDIENCE: &str = "https://api.example.com";
const MOBILE_ID: &str = "wx00000000000000dd";
const MOBILE_SECRET: &str = "MOBILESECRET-from-ssm-must-never-leak";

/// Every app's AppSecret where WECHAT_APPS's `app_secret_ref`s point.
fn fill_app_secrets(double: &SecretsDouble) {
    double.put_parameter("/wxauth/apps/mp", APP_SECRET);
    double.put_parameter("/wxauth/apps/mini", MINI_SECRET);
    double.put_parameter("/wxauth/apps/ios", MOBILE_SECRET);
}

/// The result token, verified as the app's backend does: HS256, its own audience.
fn verify(token: &str, audience: &str) -> serde_json::Value {
    verify_for(token, &format!("https://{DOMAIN}/prod"), audience)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mini_program_and_mobile_app_logins_through_the_login_code_function() {
    let _exclusive = exclusive().await;
    let mut wechat = SimulatorConfig::new(APP_ID, APP_SECRET)
        .with_app(SimApp::miniprogram(MINI_ID, MINI_SECRET).bound())
        .with_app(SimApp::mobile_app(MOBILE_ID, MOBILE_SECRET).bound());
    wechat.bound_to_open_platform = true;
    let apps = serde_json::json!([
        {"name": "mp", "kind": "official_account", "app_id": APP_ID,
         "app_secret_ref": "ssm:/wxauth/apps/mp"},
        {"name": "mini", "kind": "miniprogram", "app_id": MINI_ID,
         "app_secret_ref": "ssm:/wxauth/apps/mini", "token_audience": MINI_AUDIENCE},
        {"name": "ios", "kind": "mobile_app", "app_id": MOBILE_ID,
         "app_secret_ref": "ssm:/wxauth/apps/ios"},
    ])
    .to_string();
    let stack = Stack::deploy_on(
        "prod",
        |env| {
            env.remove("WECHAT_APP_ID");
            env.remove("WECHAT_APP_SECRET");
            env.insert("WECHAT_APPS".into(), apps);
        },
        Some(fill_app_secrets),
        wechat,
        None,
    )
    .await;
    // Each function read, at init, the AppSecrets of the apps it logs in with, and no
    // other: a callback never a Mini Program's, the code login never the Official
    // Account's.
    for name in FUNCTIONS {
        let mut calls = stack.secrets[name].0.calls();
        calls.sort();
        let expected: &[&str] = match name {
            "base-callback" | "userinfo-callback" => &["AmazonSSM.GetParameter /wxauth/apps/mp"],
            "login-code" => &[
                "AmazonSSM.GetParameter /wxauth/apps/ios",
                "AmazonSSM.GetParameter /wxauth/apps/mini",
            ],
            _ => &[],
        };
        assert_eq!(calls, expected, "{name}");
    }
    let http = reqwest::Client::new();
    let url = format!("{}/login/code", stack.api.base_url());

    // A Mini Program: wx.login()'s code, posted as JSON.
    let code = stack.sim.wx_login_code(MINI_ID, "mei");
    let response = http
        .post(&url)
        .header("content-type", "application/json")
        .body(serde_json::json!({"code": code, "app": "mini", "nonce": "n-1"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut answers = vec![format!("{:?}", response.headers())];
    let text = response.text().await.unwrap();
    answers.push(text.clone());
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    let openid = stack.sim.openid_for_app(MINI_ID, "mei");
    assert_eq!(body["openid"], openid);
    assert_eq!(body["unionid"], stack.sim.unionid_for("mei"));
    let claims = verify(body["token"].as_str().unwrap(), MINI_AUDIENCE);
    assert_eq!(claims["sub"], openid);
    assert_eq!(claims["appid"], MINI_ID);
    assert_eq!(claims["scope"], "jscode2session");
    assert_eq!(claims["nonce"], "n-1");

    // A mobile app: SendAuth's code, posted as a form, with the profile.
    let code = stack
        .sim
        .issue_code_for_app(MOBILE_ID, "lin", Scope::UserInfo);
    let response = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[("code", &code), ("app", "ios")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    answers.push(format!("{:?}", response.headers()));
    let text = response.text().await.unwrap();
    answers.push(text.clone());
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["openid"], stack.sim.openid_for_app(MOBILE_ID, "lin"));
    assert!(body["nickname"].is_string(), "{body}");
    let claims = verify(body["token"].as_str().unwrap(), MOBILE_ID);
    assert_eq!(claims["appid"], MOBILE_ID);
    assert_eq!(claims["scope"], "snsapi_userinfo");

    // The Official Account logs in with a code only through its callbacks: here it is
    // refused before WeChat is asked.
    let response = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[("code", "abc"), ("app", "mp")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // A Mini Program's verified phone number: the app's access token fetched once and
    // shared through the table (`apptoken:` items), sealed under SEALING_KEY.
    for user in ["mei", "ming"] {
        let code = stack.sim.wx_login_code(MINI_ID, user);
        let phone_code = stack.sim.phone_code(MINI_ID, user);
        let response = http
            .post(&url)
            .header("content-type", "application/json")
            .body(
                serde_json::json!({"code": code, "app": "mini", "phone_code": phone_code})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        answers.push(text.clone());
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            body["phone_number"]
                .as_str()
                .is_some_and(|n| n.starts_with('+')),
            "{body}"
        );
        let claims = verify(body["token"].as_str().unwrap(), MINI_AUDIENCE);
        assert_eq!(claims["phone_number"], body["phone_number"]);
        assert_eq!(claims["phone_number_verified"], true);
    }
    assert_eq!(
        stack.sim.stable_token_fetches(MINI_ID),
        1,
        "one fetch, shared"
    );

    // Its DynamoDB calls are exactly what its role grants, on the keys it grants them:
    // the app token's item, never a login or a grant.
    assert_eq!(
        stack.dynamodb["login-code"].iam_actions("dynamodb"),
        granted_dynamodb_actions("login-code")
    );
    assert_eq!(
        granted_dynamodb_actions("login-code"),
        BTreeSet::from(
            [
                "dynamodb:DescribeTable",
                "dynamodb:GetItem",
                "dynamodb:UpdateItem"
            ]
            .map(String::from)
        )
    );
    calls_name_only_the_keys_the_role_allows("login-code", &stack.dynamodb["login-code"].calls());
    let logs = stack.logs();
    assert!(logs.contains("\"route\":\"code-login\""), "{logs}");
    let session_keys = stack.sim.issued_session_keys();
    assert_eq!(
        session_keys.len(),
        3,
        "WeChat sent the Mini Program's session_keys"
    );
    for key in &session_keys {
        assert!(
            !logs.contains(key.as_str()),
            "the session_key reached the logs"
        );
        for answer in &answers {
            assert!(
                !answer.contains(key.as_str()),
                "the session_key was answered"
            );
        }
    }
    for secret in [
        APP_SECRET,
        MINI_SECRET,
        MOBILE_SECRET,
        SIGNING_KEY,
        SEALING_KEY,
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}
