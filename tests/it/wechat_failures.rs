//! Whatever WeChat answers after a valid state, the user is sent back to the return URL
//! with an OAuth error, within the time budget, and nothing leaks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use wechat_simulator::{Endpoint, Fault};
use wxauth_core::Scope;
use wxauth_tests::*;

/// A login whose callback fails; returns the result parameters it redirected with.
async fn failed_login(env: &TestEnv, scope: Scope) -> HashMap<String, String> {
    let authorize = env
        .start_login("https://app.example.com/after?x=1", scope, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "nina", true).await;
    let response = env.follow_callback(&callback).await;
    assert_eq!(response.status(), 302, "{}", body_text(&response));
    let landing = location(&response).unwrap();
    assert!(
        landing.starts_with("https://app.example.com/after?x=1&error="),
        "{landing}"
    );
    let params = result_params(&landing, false);
    assert!(
        !params.contains_key("openid") && !params.contains_key("token"),
        "{landing}"
    );
    assert!(params["error_description"].len() > 10);
    params
}

#[tokio::test]
async fn each_errcode_class_maps_to_its_oauth_error() {
    let env = TestEnv::start().await;
    let cases: &[(i64, &str)] = &[
        (40029, "invalid_grant"),
        (40163, "invalid_grant"),
        (42003, "invalid_grant"),
        (41008, "invalid_grant"),
        (-1, "temporarily_unavailable"),
        (45011, "temporarily_unavailable"),
        (40013, "server_error"),
        (40125, "server_error"),
        (40001, "server_error"),
        (48001, "server_error"),
    ];
    for &(errcode, expected) in cases {
        env.sim.inject(
            Endpoint::AccessToken,
            Fault::Errcode(errcode, format!("simulated {errcode}, rid: 1")),
            1,
        );
        let params = failed_login(&env, Scope::Base).await;
        assert_eq!(params["error"], expected, "errcode {errcode}");
        assert_eq!(params["wx_errcode"], errcode.to_string());
        assert_eq!(params["x"], "1");
    }
    env.assert_no_secret_leaked();
}

#[tokio::test]
async fn userinfo_errors_after_a_good_exchange_are_reported_too() {
    let env = TestEnv::start().await;
    env.sim.inject(
        Endpoint::UserInfo,
        Fault::Errcode(48001, "api unauthorized".into()),
        1,
    );
    let params = failed_login(&env, Scope::UserInfo).await;
    assert_eq!(params["error"], "server_error");
    assert_eq!(params["wx_errcode"], "48001");
    env.sim.inject(
        Endpoint::UserInfo,
        Fault::Status(502, "<html><body>502 Bad Gateway</body></html>".into()),
        1,
    );
    let params = failed_login(&env, Scope::UserInfo).await;
    assert_eq!(params["error"], "temporarily_unavailable");
    assert!(!params.contains_key("wx_errcode"));
}

#[tokio::test]
async fn a_code_used_twice_is_an_invalid_grant_from_wechat_itself() {
    let env = TestEnv::start().await;
    let first = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&first, "omar", true).await;
    let code = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(env.follow_callback(&callback).await.status(), 302);
    // A second login replays the spent code with its own, valid state.
    let second = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let query = encode(&[("code", &code), ("state", &state_of(&second))]);
    let response = env.callback(Scope::Base, &query).await;
    let params = result_params(&location(&response).unwrap(), false);
    assert_eq!(params["error"], "invalid_grant");
    assert_eq!(params["wx_errcode"], "40163");
}

#[tokio::test]
async fn an_expired_code_is_an_invalid_grant() {
    let env = TestEnv::start_with(|s| s.simulator.code_ttl = Duration::from_millis(300)).await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "pat", true).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let params = result_params(
        &location(&env.follow_callback(&callback).await).unwrap(),
        false,
    );
    assert_eq!(params["error"], "invalid_grant");
    assert_eq!(params["wx_errcode"], "42003");
}

#[tokio::test]
async fn a_wrong_app_secret_is_a_server_error_and_is_never_echoed() {
    let env =
        TestEnv::start_with(|s| s.simulator.app_secret = "the-real-secret-is-different".into())
            .await;
    let params = failed_login(&env, Scope::Base).await;
    assert_eq!(params["error"], "server_error");
    assert_eq!(params["wx_errcode"], "40125");
    env.assert_no_secret_leaked();
}

#[tokio::test]
async fn transport_failures_are_temporarily_unavailable() {
    let env = TestEnv::start().await;
    let faults = [
        Fault::Status(
            500,
            "<html><h1>500 Internal Server Error</h1></html>".into(),
        ),
        Fault::Status(503, "".into()),
        Fault::Body("{\"access_token\":\"abc\",\"openid\":".into()),
        Fault::Body("<html>not json</html>".into()),
        Fault::Body(format!(
            "{{\"access_token\":\"{}\"}}",
            "A".repeat(1024 * 1024)
        )),
        Fault::DropConnection,
    ];
    for fault in faults {
        let label = format!("{fault:?}").chars().take(60).collect::<String>();
        // A connection closed without an answer is retried once (below): twice is a failure.
        let times = if matches!(fault, Fault::DropConnection) {
            2
        } else {
            1
        };
        env.sim.inject(Endpoint::AccessToken, fault, times);
        let params = failed_login(&env, Scope::Base).await;
        assert_eq!(params["error"], "temporarily_unavailable", "{label}");
        assert!(!params.contains_key("wx_errcode"), "{label}");
    }
}

#[tokio::test]
async fn a_slow_wechat_cannot_hold_the_callback_past_its_budget() {
    let env = TestEnv::start_with(|s| {
        s.vars.insert("WECHAT_TIMEOUT_MS", "800".into());
    })
    .await;
    env.sim.inject(
        Endpoint::AccessToken,
        Fault::Delay(Duration::from_secs(30)),
        1,
    );
    let started = Instant::now();
    let params = failed_login(&env, Scope::Base).await;
    assert_eq!(params["error"], "temporarily_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // The budget covers both calls of a profile login together.
    env.sim.inject(
        Endpoint::AccessToken,
        Fault::Delay(Duration::from_millis(500)),
        1,
    );
    env.sim.inject(
        Endpoint::UserInfo,
        Fault::Delay(Duration::from_millis(500)),
        1,
    );
    let params = failed_login(&env, Scope::UserInfo).await;
    assert_eq!(params["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn with_the_default_budget_a_callback_answers_within_ten_seconds() {
    let env = TestEnv::start().await;
    env.sim.inject(
        Endpoint::AccessToken,
        Fault::Delay(Duration::from_secs(60)),
        1,
    );
    let started = Instant::now();
    let params = failed_login(&env, Scope::Base).await;
    assert_eq!(params["error"], "temporarily_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_wechat_is_temporarily_unavailable() {
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let env = TestEnv::start_with(|s| {
        s.vars.insert("WECHAT_API_BASE", dead);
    })
    .await;
    let params = failed_login(&env, Scope::Base).await;
    assert_eq!(params["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_retried_once() {
    let env = TestEnv::start().await;
    // A first login leaves a pooled connection; WeChat then closes the one the exchange
    // went out on without answering (an idle close crossing the request), once.
    env.login("omar", "https://app.example.com/", Scope::Base, None)
        .await;
    let before = env.sim.calls(Endpoint::AccessToken);
    env.sim
        .inject(Endpoint::AccessToken, Fault::DropConnection, 1);
    let landing = env
        .login("omar", "https://app.example.com/", Scope::Base, None)
        .await;
    assert_eq!(
        result_params(&landing, false)["openid"],
        env.sim.openid_for("omar")
    );
    // The dropped attempt and the retry (the closed connection cannot be reused).
    assert_eq!(env.sim.calls(Endpoint::AccessToken), before + 2);
}
