//! The logins (the table left empty): a Mini Program's and a mobile app's, with the token
//! verified by an independent JWT library, every class of WeChat failure, every refusal
//! before WeChat, and no `session_key` in any response, header or log line at trace level.

use wechat_simulator::{Endpoint, Fault, Scope};
use wxauth_core::wechat::MAX_CODE_LEN;
use wxauth_tests::*;

use super::{MINI_AUDIENCE, MINI_ID, MINI_SECRET, MOBILE_ID, world};

#[tokio::test]
async fn a_mini_programs_code_gives_the_openid_and_a_token_for_its_backend_and_no_session_key() {
    let (captured, _guard) = CapturedLogs::start("trace");
    let w = world(&["mini"], 1).await;
    let code = w.sim.wx_login_code(MINI_ID, "mei");
    let answer = w.form(&[("code", &code), ("nonce", "n-0S6_WzA2Mj")]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.headers["content-type"], "application/json");
    assert_eq!(answer.headers["cache-control"], "no-store");
    assert!(answer.headers.get("access-control-allow-origin").is_none());
    let body = answer.json();
    let openid = w.sim.openid_for_app(MINI_ID, "mei");
    assert_eq!(body["openid"], openid);
    assert_eq!(body["unionid"], w.sim.unionid_for("mei"));
    assert_eq!(body["appid"], MINI_ID);
    assert_eq!(body["expires_in"], 300);
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["appid", "expires_in", "openid", "token", "unionid"]);
    let claims = w.verify(body["token"].as_str().unwrap(), MINI_AUDIENCE);
    assert_eq!(claims["sub"], openid);
    assert_eq!(claims["appid"], MINI_ID);
    assert_eq!(claims["scope"], "jscode2session");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["unionid"], w.sim.unionid_for("mei"));
    assert_eq!(claims["jti"].as_str().map(str::len), Some(22));
    // The same login as JSON; the code, used already, is WeChat's invalid_grant.
    let replay = w
        .post(
            "application/json",
            serde_json::json!({"code": code, "app": "mini"}).to_string(),
        )
        .await;
    assert_eq!(replay.status, 400);
    assert_eq!(replay.json()["error"], "invalid_grant");
    let fresh = w.sim.wx_login_code(MINI_ID, "mei");
    let json = w
        .post(
            "application/json",
            serde_json::json!({"code": fresh}).to_string(),
        )
        .await;
    assert_eq!(json.status, 200, "{}", json.text);
    let keys = w.sim.issued_session_keys();
    assert_eq!(keys.len(), 2, "WeChat sent a session_key each time");
    for answer in [&answer, &replay, &json] {
        w.assert_nothing_secret_in(answer);
    }
    assert_eq!(w.items().await.len(), 0, "the route stores nothing");
    let logs = captured.text();
    assert!(logs.contains("\"route\":\"code-login\""), "{logs}");
    for secret in w
        .sim
        .issued_secrets()
        .into_iter()
        .chain([MINI_SECRET.to_owned()])
    {
        assert!(!logs.contains(&secret), "{secret} in the logs");
    }
}

#[tokio::test]
async fn a_mobile_apps_code_gives_the_profile_and_a_token_for_its_app_id() {
    let w = world(&["ios"], 1).await;
    let code = w.sim.issue_code_for_app(MOBILE_ID, "lin", Scope::UserInfo);
    let answer = w.form(&[("code", &code)]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["openid"], w.sim.openid_for_app(MOBILE_ID, "lin"));
    assert_eq!(body["unionid"], w.sim.unionid_for("lin"));
    assert_eq!(body["nickname"], "lin");
    let claims = w.verify(body["token"].as_str().unwrap(), MOBILE_ID);
    assert_eq!(claims["scope"], "snsapi_userinfo");
    assert_eq!(claims["nickname"], "lin");
    assert!(!claims.contains_key("nonce"));
    assert_eq!(w.sim.calls(Endpoint::UserInfo), 1);
    w.assert_nothing_secret_in(&answer);
    assert_eq!(w.items().await.len(), 0);
}

#[tokio::test]
async fn every_class_of_wechat_failure_has_its_status_and_none_is_a_500() {
    let w = world(&["mini", "ios"], 1).await;
    let cases: [(Fault, u16, &str, Option<&str>); 7] = [
        (
            Fault::Errcode(40029, "invalid code".into()),
            400,
            "invalid_grant",
            None,
        ),
        (
            Fault::Errcode(40163, "code been used".into()),
            400,
            "invalid_grant",
            None,
        ),
        (
            Fault::Errcode(45011, "api minute-quota reach limit".into()),
            429,
            "slow_down",
            Some("60"),
        ),
        (
            Fault::Errcode(40226, "high risk user".into()),
            403,
            "access_denied",
            None,
        ),
        (
            Fault::Errcode(-1, "system error".into()),
            503,
            "temporarily_unavailable",
            Some("1"),
        ),
        (
            Fault::Status(502, "<html>502</html>".into()),
            503,
            "temporarily_unavailable",
            Some("1"),
        ),
        (
            Fault::DropConnection,
            503,
            "temporarily_unavailable",
            Some("1"),
        ),
    ];
    for (fault, status, error, retry_after) in cases {
        let shown = format!("{fault:?}");
        for (app, endpoint) in [
            ("mini", Endpoint::JsCode2Session),
            ("ios", Endpoint::AccessToken),
        ] {
            // Once more than the one retry a dropped connection gets.
            w.sim.inject(endpoint, fault.clone(), 2);
            let code = match app {
                "mini" => w.sim.wx_login_code(MINI_ID, "sam"),
                _ => w.sim.issue_code_for_app(MOBILE_ID, "sam", Scope::UserInfo),
            };
            let answer = w.form(&[("code", &code), ("app", app)]).await;
            w.sim.clear_faults();
            assert_eq!(answer.status, status, "{app} {shown}: {}", answer.text);
            assert_eq!(answer.json()["error"], error, "{app} {shown}");
            assert_eq!(
                answer
                    .headers
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap()),
                retry_after,
                "{app} {shown}"
            );
        }
    }
    // WeChat refusing the gateway's own credentials: an operator's problem, still not a 500.
    w.sim.inject(
        Endpoint::JsCode2Session,
        Fault::Errcode(40125, "invalid appsecret".into()),
        1,
    );
    let code = w.sim.wx_login_code(MINI_ID, "sam");
    let answer = w.form(&[("code", &code), ("app", "mini")]).await;
    assert_eq!(
        (answer.status, answer.json()["error"].clone()),
        (502, "server_error".into())
    );
    assert_eq!(w.items().await.len(), 0);
}

#[tokio::test]
async fn a_request_wechat_cannot_answer_is_refused_before_wechat_is_asked() {
    let w = world(&["mini", "ios"], 1).await;
    let longest = "c".repeat(MAX_CODE_LEN);
    let too_long = format!("{longest}c");
    let over_cap = format!(
        "code=a&app=mini&pad={}",
        "x".repeat(wxauth_core::CODE_LOGIN_MAX_BODY_BYTES)
    );
    let refusals: Vec<(&str, String, &str)> = vec![
        (
            "application/x-www-form-urlencoded",
            encode(&[("app", "mini")]),
            "`code` parameter is required",
        ),
        (
            "application/x-www-form-urlencoded",
            encode(&[("code", &too_long), ("app", "mini")]),
            "1 to 512 printable ASCII",
        ),
        (
            "application/x-www-form-urlencoded",
            encode(&[("code", "abc")]),
            "app is required",
        ),
        (
            "application/x-www-form-urlencoded",
            encode(&[("code", "abc"), ("app", "nope")]),
            "not one of the WeChat apps",
        ),
        (
            "application/x-www-form-urlencoded",
            encode(&[("code", "abc"), ("app", "default")]),
            "official_account app",
        ),
        (
            "application/x-www-form-urlencoded",
            encode(&[
                ("code", "abc"),
                ("app", "mini"),
                ("nonce", &"n".repeat(257)),
            ]),
            "nonce must be",
        ),
        (
            "application/x-www-form-urlencoded",
            encode(&[("code", "abc"), ("app", "ios"), ("phone_code", "p")]),
            "phone_code is for Mini Programs",
        ),
        (
            "application/x-www-form-urlencoded",
            over_cap,
            "the body is longer than 4096 bytes",
        ),
        (
            "text/plain",
            "code=abc&app=mini".to_owned(),
            "must be application/x-www-form-urlencoded",
        ),
        (
            "application/json",
            "{\"code\":1,\"app\":\"mini\"}".to_owned(),
            "`code` must be a string",
        ),
    ];
    for (content_type, body, expected) in refusals {
        let answer = w.post(content_type, body.clone()).await;
        assert_eq!(answer.status, 400, "{body:.80}: {}", answer.text);
        let json = answer.json();
        assert_eq!(json["error"], "invalid_request", "{body:.80}");
        let description = json["error_description"].as_str().unwrap();
        assert!(description.contains(expected), "{body:.80}: {description}");
    }
    assert_eq!(w.sim.calls(Endpoint::JsCode2Session), 0);
    assert_eq!(w.sim.calls(Endpoint::AccessToken), 0);
    // A code at the limit goes to WeChat, which knows no such code.
    let answer = w.form(&[("code", &longest), ("app", "mini")]).await;
    assert_eq!(
        (answer.status, answer.json()["error"].clone()),
        (400, "invalid_grant".into())
    );
    assert_eq!(w.sim.calls(Endpoint::JsCode2Session), 1);
    // Other methods, and the browser routes for a code-login app.
    let get = w
        .http
        .get(format!("{}/login/code", w.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let auth = w
        .http
        .get(format!(
            "{}/auth?{}",
            w.base_url(),
            encode(&[
                ("url", "https://app.example.com/x"),
                ("scope", "snsapi_base"),
                ("app", "mini")
            ])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(auth.status(), 400);
    assert!(auth.headers().get("location").is_none());
    assert_eq!(w.items().await.len(), 0);
}
