//! Mini Programs and mobile apps: `wx.login()` codes at `/sns/jscode2session`, `SendAuth`
//! codes at `/sns/oauth2/access_token`, each bound to its app, single use, expiring.

use std::time::Duration;

use serde_json::Value;
use wechat_simulator::{Endpoint, Fault, Scope, SimApp};

use crate::support::*;

const MINI: &str = "wx00000000000000cc";
const MINI_SECRET: &str = "mini-secret-0123456789";
const MOBILE: &str = "wx00000000000000dd";
const MOBILE_SECRET: &str = "mobile-secret-0123456789";

fn with_code_apps(bound: bool) -> wechat_simulator::SimulatorConfig {
    let mini = SimApp::miniprogram(MINI, MINI_SECRET);
    let mobile = SimApp::mobile_app(MOBILE, MOBILE_SECRET);
    let (mini, mobile) = if bound {
        (mini.bound(), mobile.bound())
    } else {
        (mini, mobile)
    };
    config().with_app(mini).with_app(mobile)
}

async fn session(base: &str, appid: &str, secret: &str, code: &str) -> Value {
    let query = encode(&[
        ("appid", appid),
        ("secret", secret),
        ("js_code", code),
        ("grant_type", "authorization_code"),
    ]);
    let reply = client()
        .get(format!("{base}/sns/jscode2session?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200, "WeChat answers 200 whatever happened");
    serde_json::from_str(&reply.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_wx_login_code_gives_openid_and_session_key_once() {
    let (sim, running) = start(with_code_apps(false)).await;
    let code = sim.wx_login_code(MINI, "ann");
    let reply = session(&running.base_url, MINI, MINI_SECRET, &code).await;
    assert_eq!(reply["openid"], sim.openid_for_app(MINI, "ann"));
    assert_ne!(
        reply["openid"],
        sim.openid_for("ann"),
        "openids are per app"
    );
    let key = reply["session_key"].as_str().unwrap();
    assert_eq!(key.len(), 24);
    assert!(sim.issued_secrets().iter().any(|s| s == key));
    assert!(reply.get("unionid").is_none(), "not bound");
    let again = session(&running.base_url, MINI, MINI_SECRET, &code).await;
    assert_eq!(again["errcode"], 40163);
}

#[tokio::test]
async fn a_bound_mini_program_gets_the_unionid_every_app_shares() {
    let (sim, running) = start(with_code_apps(true)).await;
    let code = sim.wx_login_code(MINI, "bob");
    let reply = session(&running.base_url, MINI, MINI_SECRET, &code).await;
    assert_eq!(reply["unionid"], sim.unionid_for("bob"));
}

#[tokio::test]
async fn codes_are_bound_to_their_app_and_kind_and_expire() {
    let mut config = with_code_apps(false);
    config.code_ttl = Duration::from_millis(200);
    let (sim, running) = start(config).await;
    // Another app's code, the wrong secret, an Official Account's AppID.
    let code = sim.issue_code("cat", Scope::Base);
    assert_eq!(
        session(&running.base_url, MINI, MINI_SECRET, &code).await["errcode"],
        40029
    );
    let code = sim.wx_login_code(MINI, "cat");
    assert_eq!(
        session(&running.base_url, MINI, "wrong", &code).await["errcode"],
        40125
    );
    assert_eq!(
        session(&running.base_url, APP_ID, SECRET, &code).await["errcode"],
        40013
    );
    // A Mini Program's credentials are not for the web exchange.
    let web = client()
        .get(format!(
            "{}/sns/oauth2/access_token?{}",
            running.base_url,
            encode(&[
                ("appid", MINI),
                ("secret", MINI_SECRET),
                ("code", &code),
                ("grant_type", "authorization_code")
            ])
        ))
        .send()
        .await
        .unwrap();
    let web: Value = serde_json::from_str(&web.text().await.unwrap()).unwrap();
    assert_eq!(web["errcode"], 48001);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        session(&running.base_url, MINI, MINI_SECRET, &code).await["errcode"],
        40029,
        "expired"
    );
}

#[tokio::test]
async fn a_mobile_apps_code_is_exchanged_as_a_web_code_with_its_own_credentials() {
    let (sim, running) = start(with_code_apps(true)).await;
    let code = sim.issue_code_for_app(MOBILE, "dan", Scope::UserInfo);
    let reply = client()
        .get(format!(
            "{}/sns/oauth2/access_token?{}",
            running.base_url,
            encode(&[
                ("appid", MOBILE),
                ("secret", MOBILE_SECRET),
                ("code", &code),
                ("grant_type", "authorization_code")
            ])
        ))
        .send()
        .await
        .unwrap();
    let reply: Value = serde_json::from_str(&reply.text().await.unwrap()).unwrap();
    assert_eq!(reply["openid"], sim.openid_for_app(MOBILE, "dan"));
    assert_eq!(reply["unionid"], sim.unionid_for("dan"));
    assert_eq!(reply["scope"], "snsapi_userinfo");
}

#[tokio::test]
async fn jscode2session_takes_injected_faults() {
    let (sim, running) = start(with_code_apps(false)).await;
    for errcode in [40226, 45011, -1] {
        sim.inject(
            Endpoint::JsCode2Session,
            Fault::Errcode(errcode, "injected".into()),
            1,
        );
        let code = sim.wx_login_code(MINI, "eve");
        let reply = session(&running.base_url, MINI, MINI_SECRET, &code).await;
        assert_eq!(reply["errcode"], errcode);
    }
    assert_eq!(sim.calls(Endpoint::JsCode2Session), 3);
    assert_eq!(sim.calls(Endpoint::AccessToken), 0);
}
