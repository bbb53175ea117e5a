//! Website App QR login (`/connect/qrconnect`, scope snsapi_login) end to end, and
//! how codes and tokens stay bound to the app that issued them.

use reqwest::{Client, StatusCode};
use serde_json::Value;
use wechat_simulator::{
    DEFAULT_USER, Endpoint, Scope, SimApp, SimUser, SimulatorConfig, WeChatSimulator, consent_url,
    qr_scan_url,
};

use crate::support::*;

const WEB_ID: &str = "wxa1b2c3d4e5f60718";
const WEB_SECRET: &str = "fedcba9876543210fedcba9876543210";

/// The primary Official Account plus a Website App, each bound or not.
fn two_apps(official_bound: bool, website_bound: bool) -> SimulatorConfig {
    let website = SimApp::website(WEB_ID, WEB_SECRET);
    let mut config = config().with_app(if website_bound {
        website.bound()
    } else {
        website
    });
    config.bound_to_open_platform = official_bound;
    config
}

/// The QR login URL exactly as the Open Platform documents it.
fn qr_url(base: &str, appid: &str, scope: &str, redirect_uri: &str, state: Option<&str>) -> String {
    login_page_url(
        base,
        "/connect/qrconnect",
        appid,
        scope,
        redirect_uri,
        state,
    )
}

fn website_qr_url(base: &str, state: &str) -> String {
    qr_url(base, WEB_ID, "snsapi_login", CALLBACK, Some(state))
}

async fn exchange_as(client: &Client, base: &str, appid: &str, secret: &str, code: &str) -> Value {
    let (status, _, json) = exchange_raw(
        client,
        base,
        &[
            ("appid", appid),
            ("secret", secret),
            ("code", code),
            ("grant_type", "authorization_code"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    json
}

/// Plays "scan and confirm" as `user`; returns the code the desktop page is sent back with.
async fn scan_and_confirm(client: &Client, base: &str, user: &str) -> String {
    let response = client
        .get(qr_scan_url(&website_qr_url(base, "qr1"), true))
        .header("x-wechat-sim-user", user)
        .send()
        .await
        .unwrap();
    let query = query_map(&location(&response));
    assert_eq!(query["state"], "qr1");
    query["code"].clone()
}

fn keys(json: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn the_qr_page_shows_a_code_and_both_buttons_carrying_every_parameter() {
    let (sim, running) = start(two_apps(false, false)).await;
    let response = client()
        .get(website_qr_url(&running.base_url, "st1"))
        .header("x-wechat-sim-user", "amy")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(content_type(&response).starts_with("text/html"));
    assert!(response.headers().get("x-wechat-sim-error").is_none());
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("name=\"viewport\""));
    assert!(html.contains(WEB_ID));
    assert!(
        html.contains("<svg ") && html.contains("<path d=\"M"),
        "no QR drawing"
    );
    assert!(html.contains("action=\"qrconnect/confirm\""));
    assert!(html.contains("value=\"allow\" class=\"allow\">扫码并确认登录"));
    assert!(html.contains("value=\"deny\" class=\"deny\">拒绝"));
    // Self-contained: nothing for the browser to fetch or run.
    for external in ["src=", "<link", "<script", "url(", "@import"] {
        assert!(!html.contains(external), "{external} in the QR page");
    }
    let inputs = form_inputs(&html);
    let inputs: Vec<(&str, &str)> = inputs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        inputs,
        [
            ("appid", WEB_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "snsapi_login"),
            ("state", "st1"),
            ("sim_user", "amy"),
        ]
    );
    // Another login draws another pattern.
    let other = client()
        .get(website_qr_url(&running.base_url, "st2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let drawing = |page: &str| page[page.find("<svg ").unwrap()..].to_owned();
    assert_ne!(drawing(&html), drawing(&other));
    assert_eq!(sim.calls(Endpoint::AccessToken), 0);
}

#[tokio::test]
async fn scanning_and_confirming_yields_a_website_code_for_the_website_openid() {
    let (sim, running) = start(two_apps(false, true)).await;
    let client = client();
    let base = &running.base_url;
    let response = client
        .get(qr_scan_url(&website_qr_url(base, "xyz789"), true))
        .header("x-wechat-sim-user", "bea")
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
    assert_eq!(query["state"], "xyz789");
    assert_eq!(query["code"].len(), 32);

    let json = exchange_as(&client, base, WEB_ID, WEB_SECRET, &query["code"]).await;
    assert_eq!(
        keys(&json),
        [
            "access_token",
            "expires_in",
            "openid",
            "refresh_token",
            "scope",
            "unionid"
        ]
    );
    assert_eq!(json["scope"], "snsapi_login");
    assert_eq!(json["openid"], sim.openid_for_app(WEB_ID, "bea"));
    assert_ne!(json["openid"], sim.openid_for("bea"));
    assert_eq!(json["unionid"], sim.unionid_for("bea"));
}

#[tokio::test]
async fn bound_apps_share_the_unionid_but_not_the_openid() {
    let (sim, running) = start(two_apps(true, true)).await;
    let client = client();
    let base = &running.base_url;

    let web = exchange_as(
        &client,
        base,
        WEB_ID,
        WEB_SECRET,
        &scan_and_confirm(&client, base, "cho").await,
    )
    .await;
    let consent = consent_url(
        &authorize_url(base, "snsapi_userinfo", CALLBACK, Some("oa1")),
        true,
    );
    let response = client
        .get(consent)
        .header("x-wechat-sim-user", "cho")
        .send()
        .await
        .unwrap();
    let official = exchange(&client, base, &query_map(&location(&response))["code"]).await;

    assert_eq!(official["scope"], "snsapi_userinfo");
    assert_eq!(web["unionid"], sim.unionid_for("cho"));
    assert_eq!(web["unionid"], official["unionid"]);
    assert_ne!(web["openid"], official["openid"]);
    assert_eq!(official["openid"], sim.openid_for("cho"));
}

#[tokio::test]
async fn binding_is_per_app() {
    // The Official Account is bound, the Website App is not: no unionid for the latter.
    let (sim, running) = start(two_apps(true, false)).await;
    let client = client();
    let base = &running.base_url;
    let code = scan_and_confirm(&client, base, "dee").await;
    let json = exchange_as(&client, base, WEB_ID, WEB_SECRET, &code).await;
    assert_eq!(json["openid"], sim.openid_for_app(WEB_ID, "dee"));
    assert!(json.get("unionid").is_none(), "{json}");
    let token = json["access_token"].as_str().unwrap();
    let profile = userinfo(&client, base, token, json["openid"].as_str().unwrap()).await;
    assert_eq!(profile["nickname"], "dee");
    assert!(profile.get("unionid").is_none(), "{profile}");

    let code = sim.issue_code("dee", Scope::UserInfo);
    assert_eq!(
        exchange(&client, base, &code).await["unionid"],
        sim.unionid_for("dee")
    );
}

#[tokio::test]
async fn refusing_on_the_phone_sends_the_state_back_without_a_code() {
    let (sim, running) = start(two_apps(false, false)).await;
    let client = client();
    let base = &running.base_url;
    let response = client
        .get(qr_scan_url(&website_qr_url(base, "no1"), false))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), format!("{CALLBACK}?state=no1"));

    // A redirect_uri with its own query keeps it; code and state are appended.
    let redirect = "https://app.example.com/cb?next=%2Fhome%3Fa%3D1&x=1";
    let page = qr_url(base, WEB_ID, "snsapi_login", redirect, Some("st3"));
    let denied = client.get(qr_scan_url(&page, false)).send().await.unwrap();
    assert_eq!(location(&denied), format!("{redirect}&state=st3"));
    let allowed = client.get(qr_scan_url(&page, true)).send().await.unwrap();
    let location = location(&allowed);
    assert!(
        location.starts_with(&format!("{redirect}&code=")),
        "{location}"
    );
    let query = query_map(&location);
    assert_eq!(query["next"], "/home?a=1");
    assert_eq!(query["state"], "st3");
    assert!(!query["code"].is_empty());
    assert_eq!(sim.calls(Endpoint::AccessToken), 0);
}

#[tokio::test]
async fn qrconnect_refuses_what_is_not_a_website_login() {
    let mut config = two_apps(false, false);
    config.registered_callback_domain = Some("app.example.com".into());
    let (_sim, running) = start(config).await;
    let base = &running.base_url;
    let cases = [
        // The Official Account's appid, even with the right scope.
        (
            qr_url(base, APP_ID, "snsapi_login", CALLBACK, None),
            "10005",
        ),
        (
            qr_url(base, WEB_ID, "snsapi_userinfo", CALLBACK, None),
            "10005",
        ),
        (qr_url(base, WEB_ID, "snsapi_base", CALLBACK, None), "10005"),
        (
            qr_url(
                base,
                WEB_ID,
                "snsapi_login",
                "https://evil.example.net/cb",
                None,
            ),
            "10003",
        ),
        (
            qr_url(base, "wxnope", "snsapi_login", CALLBACK, None),
            "40013",
        ),
        (
            website_qr_url(base, "s1").replace("response_type=code", "response_type=token"),
            "invalid_response_type",
        ),
        (website_qr_url(base, "a-b"), "invalid_state"),
    ];
    for (url, expected) in cases {
        let (label, html) = error_page(url.clone()).await;
        assert_eq!(label, expected, "{url}");
        assert!(html.contains("该链接无法访问"), "{url}");
        assert!(html.contains(expected), "{url}");
    }
    // The confirm step checks again: a forged link cannot mint a code.
    let forged = qr_url(
        base,
        WEB_ID,
        "snsapi_login",
        "https://evil.example.net/cb",
        None,
    );
    assert_eq!(error_page(qr_scan_url(&forged, true)).await.0, "10003");
    let forged = qr_url(base, APP_ID, "snsapi_login", CALLBACK, None);
    assert_eq!(error_page(qr_scan_url(&forged, true)).await.0, "10005");
    let undecided = qr_scan_url(&website_qr_url(base, "s1"), true).replace("allow", "maybe");
    assert_eq!(error_page(undecided).await.0, "invalid_decision");
}

#[tokio::test]
async fn the_official_account_page_refuses_a_website_app() {
    let (sim, running) = start(two_apps(false, false)).await;
    let base = &running.base_url;
    for scope in ["snsapi_base", "snsapi_userinfo", "snsapi_login"] {
        let url = authorize_url(base, scope, CALLBACK, None).replace(APP_ID, WEB_ID);
        assert!(url.contains(WEB_ID));
        let (label, html) = error_page(url.clone()).await;
        assert_eq!(label, "10005", "{url}");
        assert!(html.contains("scope"), "{url}");
        // Its consent step refuses too.
        assert_eq!(error_page(consent_url(&url, true)).await.0, "10005");
    }
    // The Official Account itself is still served.
    let response = client()
        .get(authorize_url(base, "snsapi_base", CALLBACK, None))
        .send()
        .await
        .unwrap();
    let code = query_map(&location(&response))["code"].clone();
    assert_eq!(
        exchange(&client(), base, &code).await["openid"],
        sim.openid_for(DEFAULT_USER)
    );
}

#[tokio::test]
async fn codes_are_bound_to_the_app_they_were_issued_to() {
    let (sim, running) = start(two_apps(true, true)).await;
    let client = client();
    let base = &running.base_url;

    // A website code presented with the Official Account's credentials: 40029, and spent.
    let code = scan_and_confirm(&client, base, "eve").await;
    assert_error(&exchange(&client, base, &code).await, 40029, "invalid code");
    assert_error(
        &exchange_as(&client, base, WEB_ID, WEB_SECRET, &code).await,
        40163,
        "code been used",
    );

    // An Official Account code presented with the Website App's credentials: likewise.
    let code = sim.issue_code("eve", Scope::UserInfo);
    assert_error(
        &exchange_as(&client, base, WEB_ID, WEB_SECRET, &code).await,
        40029,
        "invalid code",
    );
    assert_error(
        &exchange(&client, base, &code).await,
        40163,
        "code been used",
    );

    // Each app's secret is its own; refusals before the code check do not spend it.
    let code = sim.issue_code_for_app(WEB_ID, "eve", Scope::Login);
    assert_error(
        &exchange_as(&client, base, WEB_ID, SECRET, &code).await,
        40125,
        "invalid appsecret",
    );
    assert_error(
        &exchange_as(&client, base, APP_ID, WEB_SECRET, &code).await,
        40125,
        "invalid appsecret",
    );
    let json = exchange_as(&client, base, WEB_ID, WEB_SECRET, &code).await;
    assert_eq!(json["openid"], sim.openid_for_app(WEB_ID, "eve"));
    assert_eq!(json["scope"], "snsapi_login");
}

#[tokio::test]
async fn a_login_token_reads_the_profile_under_the_website_openid() {
    let (sim, running) = start(two_apps(false, true)).await;
    let client = client();
    let base = &running.base_url;
    sim.put_user(SimUser {
        nickname: "方 Fang".into(),
        sex: 1,
        city: "杭州".into(),
        ..SimUser::named("fang")
    });
    let code = sim.issue_code_for_app(WEB_ID, "fang", Scope::Login);
    let json = exchange_as(&client, base, WEB_ID, WEB_SECRET, &code).await;
    let token = json["access_token"].as_str().unwrap();
    let openid = sim.openid_for_app(WEB_ID, "fang");
    let profile = userinfo(&client, base, token, &openid).await;
    assert_eq!(profile["openid"], openid);
    assert_eq!(profile["nickname"], "方 Fang");
    assert_eq!(profile["sex"], 1);
    assert_eq!(profile["city"], "杭州");
    assert_eq!(profile["unionid"], sim.unionid_for("fang"));
    // The same person's openid in the other app does not go with this token.
    assert_error(
        &userinfo(&client, base, token, &sim.openid_for("fang")).await,
        40003,
        "invalid openid",
    );
}

#[tokio::test]
async fn nested_under_a_prefix_the_qr_form_still_resolves() {
    let sim = WeChatSimulator::new(two_apps(false, false));
    let app = axum::Router::new().nest("/wechat", sim.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/wechat", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let client = client();
    let page_url = website_qr_url(&base, "nest2");
    let response = submit_page_form(
        &client,
        &page_url,
        "gus",
        "/wechat/connect/qrconnect/confirm",
        "allow",
    )
    .await;
    let query = query_map(&location(&response));
    assert_eq!(query["state"], "nest2");
    let json = exchange_as(&client, &base, WEB_ID, WEB_SECRET, &query["code"]).await;
    assert_eq!(json["openid"], sim.openid_for_app(WEB_ID, "gus"));
    server.abort();
}
