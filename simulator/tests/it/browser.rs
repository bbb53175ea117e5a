use reqwest::StatusCode;
use wechat_simulator::{Endpoint, WeChatSimulator, consent_url};

use crate::support::*;

#[tokio::test]
async fn base_scope_redirects_at_once_with_code_and_state() {
    let (sim, running) = start(config()).await;
    let client = client();
    let response = client
        .get(authorize_url(
            &running.base_url,
            "snsapi_base",
            CALLBACK,
            Some("xyzABC123"),
        ))
        .header("x-wechat-sim-user", "alice")
        .send()
        .await
        .unwrap();
    let location = location(&response);
    assert!(
        location.starts_with(&format!("{CALLBACK}?code=")),
        "{location}"
    );
    let query = query_map(&location);
    assert_eq!(query.len(), 2);
    assert_eq!(query["state"], "xyzABC123");
    assert_eq!(query["code"].len(), 32);

    let json = exchange(&client, &running.base_url, &query["code"]).await;
    assert_eq!(json["openid"], sim.openid_for("alice"));
    assert_eq!(json["scope"], "snsapi_base");
    // The browser part never touches the API endpoints.
    assert_eq!(sim.calls(Endpoint::AccessToken), 1);
}

#[tokio::test]
async fn callback_keeps_an_existing_query_and_sends_empty_state_when_none_given() {
    let (_sim, running) = start(config()).await;
    let redirect = "https://app.example.com/cb?next=%2Fhome%3Fa%3D1&x=1";
    let response = client()
        .get(authorize_url(
            &running.base_url,
            "snsapi_base",
            redirect,
            None,
        ))
        .send()
        .await
        .unwrap();
    let location = location(&response);
    assert!(
        location.starts_with("https://app.example.com/cb?next=%2Fhome%3Fa%3D1&x=1&code="),
        "{location}"
    );
    let query = query_map(&location);
    assert_eq!(query["next"], "/home?a=1");
    assert_eq!(query["x"], "1");
    assert_eq!(query["state"], "");
    assert!(!query["code"].is_empty());
}

#[tokio::test]
async fn codes_differ_each_time() {
    let (_sim, running) = start(config()).await;
    let client = client();
    let first = base_login(&client, &running.base_url, "alice").await;
    let second = base_login(&client, &running.base_url, "alice").await;
    assert_ne!(first, second);
}

async fn consent_page(base: &str, user: &str) -> reqwest::Response {
    client()
        .get(authorize_url(
            base,
            "snsapi_userinfo",
            CALLBACK,
            Some("st8"),
        ))
        .header("x-wechat-sim-user", user)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn userinfo_scope_shows_a_consent_page_carrying_every_parameter() {
    let (sim, running) = start(config()).await;
    let response = consent_page(&running.base_url, "bob").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(content_type(&response).starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains(APP_ID));
    assert!(html.contains("nickname, avatar, region and sex"));
    assert!(html.contains("action=\"authorize/confirm\""));
    assert!(html.contains(">允许 Allow</button>"));
    assert!(html.contains(">拒绝 Deny</button>"));
    let inputs = form_inputs(&html);
    let expected = [
        ("appid", APP_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "snsapi_userinfo"),
        ("state", "st8"),
        ("sim_user", "bob"),
    ];
    let inputs: Vec<(&str, &str)> = inputs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(inputs, expected);
    assert_eq!(sim.calls(Endpoint::AccessToken), 0);
}

#[tokio::test]
async fn consent_page_escapes_what_it_echoes() {
    let (_sim, running) = start(config()).await;
    let evil = "<script>alert(\"x\")</script>&'";
    let response = consent_page(&running.base_url, evil).await;
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"));
    let inputs = form_inputs(&html);
    assert_eq!(
        inputs.last().unwrap(),
        &("sim_user".to_owned(), evil.to_owned())
    );
}

fn confirm_url(base: &str, state: Option<&str>, user: &str, decision: &str) -> String {
    let mut pairs = vec![
        ("appid", APP_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "snsapi_userinfo"),
        ("sim_user", user),
        ("decision", decision),
    ];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    format!("{base}/connect/oauth2/authorize/confirm?{}", encode(&pairs))
}

#[tokio::test]
async fn allowing_redirects_with_a_userinfo_code_for_the_form_user() {
    let (sim, running) = start(config()).await;
    let client = client();
    let response = client
        .get(confirm_url(
            &running.base_url,
            Some("st8"),
            "carol",
            "allow",
        ))
        .send()
        .await
        .unwrap();
    let query = query_map(&location(&response));
    assert_eq!(query["state"], "st8");
    let json = exchange(&client, &running.base_url, &query["code"]).await;
    assert_eq!(json["scope"], "snsapi_userinfo");
    assert_eq!(json["openid"], sim.openid_for("carol"));
}

#[tokio::test]
async fn denying_redirects_with_state_only() {
    let (_sim, running) = start(config()).await;
    let response = client()
        .get(confirm_url(&running.base_url, Some("st8"), "carol", "deny"))
        .send()
        .await
        .unwrap();
    let location = location(&response);
    assert_eq!(location, format!("{CALLBACK}?state=st8"));
}

#[tokio::test]
async fn consent_url_answers_the_sheet_of_an_authorize_url() {
    let (sim, running) = start(config()).await;
    let client = client();
    let authorize = format!(
        "{}#wechat_redirect",
        authorize_url(&running.base_url, "snsapi_userinfo", CALLBACK, Some("st9"))
    );
    let allowed = client
        .get(consent_url(&authorize, true))
        .header("x-wechat-sim-user", "dan")
        .send()
        .await
        .unwrap();
    let query = query_map(&location(&allowed));
    assert_eq!(query["state"], "st9");
    let json = exchange(&client, &running.base_url, &query["code"]).await;
    assert_eq!(json["openid"], sim.openid_for("dan"));

    let denied = client
        .get(consent_url(&authorize, false))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&denied), format!("{CALLBACK}?state=st9"));
}

#[tokio::test]
async fn confirm_revalidates_and_rejects_unknown_decisions() {
    let (_sim, running) = start(config()).await;
    let client = client();
    let response = client
        .get(confirm_url(
            &running.base_url,
            Some("bad state"),
            "carol",
            "allow",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-wechat-sim-error"], "invalid_state");
    let response = client
        .get(confirm_url(&running.base_url, None, "carol", "maybe"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("location").is_none());
    assert_eq!(response.headers()["x-wechat-sim-error"], "invalid_decision");
}

#[tokio::test]
async fn the_cookie_names_the_user_before_header_and_form_field() {
    let (sim, running) = start(config()).await;
    let client = client();
    let response = client
        .get(confirm_url(&running.base_url, None, "carol", "allow"))
        .header("cookie", "theme=dark; wechat_sim_user=dave")
        .header("x-wechat-sim-user", "erin")
        .send()
        .await
        .unwrap();
    let code = query_map(&location(&response))["code"].clone();
    let json = exchange(&client, &running.base_url, &code).await;
    assert_eq!(json["openid"], sim.openid_for("dave"));

    let response = client
        .get(confirm_url(&running.base_url, None, "carol", "allow"))
        .header("x-wechat-sim-user", "erin")
        .send()
        .await
        .unwrap();
    let code = query_map(&location(&response))["code"].clone();
    let json = exchange(&client, &running.base_url, &code).await;
    assert_eq!(json["openid"], sim.openid_for("erin"));

    // No cookie, header or form field: the demo user.
    let code = {
        let response = client
            .get(authorize_url(
                &running.base_url,
                "snsapi_base",
                CALLBACK,
                None,
            ))
            .send()
            .await
            .unwrap();
        query_map(&location(&response))["code"].clone()
    };
    let json = exchange(&client, &running.base_url, &code).await;
    assert_eq!(json["openid"], sim.openid_for("demo-user"));
}

#[tokio::test]
async fn a_bad_state_is_an_error_page_not_a_callback() {
    let (_sim, running) = start(config()).await;
    let base = &running.base_url;
    let too_long = "a".repeat(129);
    for state in [too_long.as_str(), "has space", "dash-ed", "中文"] {
        let (label, html) =
            error_page(authorize_url(base, "snsapi_base", CALLBACK, Some(state))).await;
        assert_eq!(label, "invalid_state", "state {state:?}");
        assert!(html.contains("错误码 / errcode: invalid_state"));
    }
    let max = "Z9".repeat(64);
    let response = client()
        .get(authorize_url(base, "snsapi_base", CALLBACK, Some(&max)))
        .send()
        .await
        .unwrap();
    assert_eq!(query_map(&location(&response))["state"], max);
}

#[tokio::test]
async fn a_redirect_uri_off_the_registered_domain_is_error_10003() {
    let mut config = config();
    config.registered_callback_domain = Some("app.example.com".into());
    let (sim, running) = start(config).await;
    let base = &running.base_url;
    for uri in [
        "https://evil.example.net/cb",
        "https://sub.app.example.com/cb",
        "https://example.com/cb",
    ] {
        let (label, html) = error_page(authorize_url(base, "snsapi_userinfo", uri, None)).await;
        assert_eq!(label, "10003", "{uri}");
        assert!(html.contains("10003"));
        assert!(html.contains("redirect_uri"));
    }
    // Confirm checks again, so a forged confirm link cannot bypass the domain rule.
    let forged = format!(
        "{base}/connect/oauth2/authorize/confirm?{}",
        encode(&[
            ("appid", APP_ID),
            ("redirect_uri", "https://evil.example.net/cb"),
            ("response_type", "code"),
            ("scope", "snsapi_userinfo"),
            ("decision", "allow"),
        ])
    );
    assert_eq!(error_page(forged).await.0, "10003");
    // The port is not part of WeChat's check.
    let response = client()
        .get(authorize_url(
            base,
            "snsapi_base",
            "http://app.example.com:8080/cb",
            None,
        ))
        .send()
        .await
        .unwrap();
    assert!(location(&response).starts_with("http://app.example.com:8080/cb?code="));
    assert_eq!(sim.calls(Endpoint::AccessToken), 0);
}

#[tokio::test]
async fn other_authorize_errors_name_wechat_codes() {
    let (_sim, running) = start(config()).await;
    let base = &running.base_url;
    let (label, _) = error_page(authorize_url(base, "snsapi_login", CALLBACK, None)).await;
    assert_eq!(label, "10005");
    let wrong_app = authorize_url(base, "snsapi_base", CALLBACK, None).replace(APP_ID, "wxnope");
    assert_eq!(error_page(wrong_app).await.0, "40013");
    let no_app = format!(
        "{base}/connect/oauth2/authorize?{}",
        encode(&[
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "snsapi_base")
        ])
    );
    assert_eq!(error_page(no_app).await.0, "10012");
}

#[tokio::test]
async fn nested_under_a_prefix_the_consent_form_still_resolves() {
    let sim = WeChatSimulator::new(config());
    let app = axum::Router::new().nest("/wechat", sim.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/wechat", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let client = client();
    let page_url = authorize_url(&base, "snsapi_userinfo", CALLBACK, Some("nest1"));
    let response = submit_page_form(
        &client,
        &page_url,
        "frank",
        "/wechat/connect/oauth2/authorize/confirm",
        "allow",
    )
    .await;
    let query = query_map(&location(&response));
    assert_eq!(query["state"], "nest1");
    let json = exchange(&client, &base, &query["code"]).await;
    assert_eq!(json["openid"], sim.openid_for("frank"));
    server.abort();
}
