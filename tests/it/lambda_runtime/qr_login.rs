//! A QR login through a Website App whose AppSecret the callbacks read from SSM, by the
//! `app_secret_ref` of WECHAT_APPS.

use lambda_runtime_emulator::aws_secrets::SecretsDouble;
use wechat_simulator::SimulatorConfig;
use wxauth_tests::{APP_ID, APP_SECRET, DOMAIN, SIGNING_KEY, encode, exclusive, result_params};

use super::{Browser, FUNCTIONS, Stack, verify};

const WEB_APP_ID: &str = "wx00000000000000bb";
const WEB_SECRET: &str = "WEBSECRET-from-ssm-must-never-leak";

/// The apps' secrets where WECHAT_APPS's `app_secret_ref`s point (template.yaml's default
/// WeChatAppSecretsPrefix).
fn fill_app_secrets(double: &SecretsDouble) {
    double.put_parameter("/wxauth/apps/mp", APP_SECRET);
    double.put_parameter("/wxauth/apps/web", WEB_SECRET);
}

/// QR login and scope=auto through the function binaries, configured by WECHAT_APPS alone with
/// both AppSecrets in SSM: only the callbacks read them, at init; a desktop browser logs
/// in by QR code on /getQrUserInfo (userinfo-callback) with the Website App's secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_login_with_app_secrets_from_ssm_through_the_function_binaries() {
    let _exclusive = exclusive().await;
    let mut wechat = SimulatorConfig::new(APP_ID, APP_SECRET)
        .with_app(wechat_simulator::SimApp::website(WEB_APP_ID, WEB_SECRET).bound());
    wechat.bound_to_open_platform = true;
    let apps = serde_json::json!([
        {"name": "mp", "kind": "official_account", "app_id": APP_ID,
         "app_secret_ref": "ssm:/wxauth/apps/mp", "qr_app": "web"},
        {"name": "web", "kind": "website", "app_id": WEB_APP_ID,
         "app_secret_ref": "ssm:/wxauth/apps/web"},
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
    for name in FUNCTIONS {
        let mut calls = stack.secrets[name].0.calls();
        calls.sort();
        let expected: &[&str] = match name {
            "base-callback" | "userinfo-callback" => &[
                "AmazonSSM.GetParameter /wxauth/apps/mp",
                "AmazonSSM.GetParameter /wxauth/apps/web",
            ],
            _ => &[],
        };
        assert_eq!(calls, expected, "{name}");
    }

    let desktop = Browser::named("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15");
    let auth = format!(
        "{}/auth?{}",
        stack.api.base_url(),
        encode(&[("url", "https://app.example.com/"), ("scope", "auto")])
    );
    let (landed, _) = stack
        .through_wechat(&desktop, &auth, "ivy", "/getQrUserInfo")
        .await;
    let params = result_params(&landed, false);
    assert_eq!(
        params["openid"],
        stack.sim.openid_for_app(WEB_APP_ID, "ivy")
    );
    assert_eq!(params["unionid"], stack.sim.unionid_for("ivy"));
    let claims = verify(&params["token"], &format!("https://{DOMAIN}/prod"));
    assert_eq!(claims["appid"], WEB_APP_ID);
    assert_eq!(claims["scope"], "snsapi_login");

    // Inside WeChat the same request goes to the Official Account (its secret from SSM).
    let (landed, _) = stack
        .through_wechat(&Browser::new(), &auth, "ivy", "/getOpenId")
        .await;
    let inside = result_params(&landed, false);
    assert_eq!(inside["openid"], stack.sim.openid_for("ivy"));

    let logs = stack.logs();
    for secret in [APP_SECRET, WEB_SECRET, SIGNING_KEY] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}
