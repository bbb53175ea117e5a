use std::collections::HashMap;

use reqwest::{Client, StatusCode, redirect};
use serde_json::Value;
use wechat_simulator::{RunningSimulator, Scope, SimulatorConfig, WeChatSimulator};

pub const APP_ID: &str = "wx5f1b2c3d4e5f6a7b";
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";
pub const CALLBACK: &str = "https://app.example.com/wechat/callback";

pub fn config() -> SimulatorConfig {
    SimulatorConfig::new(APP_ID, SECRET)
}

pub async fn start(config: SimulatorConfig) -> (WeChatSimulator, RunningSimulator) {
    let sim = WeChatSimulator::new(config);
    let running = sim.serve_on_loopback().await.expect("bind loopback");
    (sim, running)
}

pub fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The authorize URL exactly as WeChat documents it (the fragment never leaves the browser).
pub fn authorize_url(base: &str, scope: &str, redirect_uri: &str, state: Option<&str>) -> String {
    login_page_url(
        base,
        "/connect/oauth2/authorize",
        APP_ID,
        scope,
        redirect_uri,
        state,
    )
}

/// A login page's URL (`page`: the Official Account's authorize page or the Website App's
/// QR page) with its parameters in WeChat's documented order.
pub fn login_page_url(
    base: &str,
    page: &str,
    appid: &str,
    scope: &str,
    redirect_uri: &str,
    state: Option<&str>,
) -> String {
    let mut pairs = vec![
        ("appid", appid),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", scope),
    ];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    format!("{base}{page}?{}#wechat_redirect", encode(&pairs))
}

pub fn query_map(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .expect("absolute url")
        .query_pairs()
        .into_owned()
        .collect()
}

pub fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::FOUND, "expected a 302");
    response
        .headers()
        .get("location")
        .expect("Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Browser part of a snsapi_base login for `user`; returns the code WeChat hands the callback.
pub async fn base_login(client: &Client, base: &str, user: &str) -> String {
    let response = client
        .get(authorize_url(base, "snsapi_base", CALLBACK, Some("s1")))
        .header("x-wechat-sim-user", user)
        .send()
        .await
        .unwrap();
    query_map(&location(&response))["code"].clone()
}

/// A login-page error: HTTP 200 HTML, no redirect; returns (x-wechat-sim-error, page).
pub async fn error_page(url: String) -> (String, String) {
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("location").is_none());
    assert!(content_type(&response).starts_with("text/html"));
    let label = response.headers()["x-wechat-sim-error"]
        .to_str()
        .unwrap()
        .to_owned();
    (label, response.text().await.unwrap())
}

pub fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Calls the exchange endpoint and returns (HTTP status, content type, JSON body).
pub async fn exchange_raw(
    client: &Client,
    base: &str,
    pairs: &[(&str, &str)],
) -> (StatusCode, String, Value) {
    let response = client
        .get(format!("{base}/sns/oauth2/access_token?{}", encode(pairs)))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = content_type(&response);
    let body = response.text().await.unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (status, content_type, json)
}

pub async fn exchange(client: &Client, base: &str, code: &str) -> Value {
    let (status, _, json) = exchange_raw(
        client,
        base,
        &[
            ("appid", APP_ID),
            ("secret", SECRET),
            ("code", code),
            ("grant_type", "authorization_code"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    json
}

pub async fn userinfo(client: &Client, base: &str, token: &str, openid: &str) -> Value {
    let response = client
        .get(format!(
            "{base}/sns/userinfo?{}",
            encode(&[
                ("access_token", token),
                ("openid", openid),
                ("lang", "zh_CN")
            ])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(content_type(&response), "text/plain");
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

/// A token for `user` with `scope`, skipping the browser.
pub async fn token_for(
    sim: &WeChatSimulator,
    client: &Client,
    base: &str,
    user: &str,
    scope: Scope,
) -> (String, String) {
    let json = exchange(client, base, &sim.issue_code(user, scope)).await;
    (
        json["access_token"].as_str().unwrap().to_owned(),
        json["openid"].as_str().unwrap().to_owned(),
    )
}

pub fn errcode(json: &Value) -> i64 {
    json["errcode"]
        .as_i64()
        .unwrap_or_else(|| panic!("no errcode in {json}"))
}

/// `errmsg` always ends with a request id, like WeChat's.
pub fn assert_error(json: &Value, code: i64, msg: &str) {
    assert_eq!(errcode(json), code, "{json}");
    let errmsg = json["errmsg"].as_str().unwrap();
    assert!(
        errmsg.starts_with(&format!("{msg}, rid: ")),
        "unexpected errmsg {errmsg:?}"
    );
    assert_eq!(json.as_object().unwrap().len(), 2, "{json}");
}

/// The hidden and text inputs of the consent form, decoded as a browser would.
pub fn form_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input ")
        .skip(1)
        .map(|tag| {
            let tag = &tag[..tag.find('>').unwrap()];
            (attr(tag, "name"), attr(tag, "value"))
        })
        .collect()
}

pub fn attr(tag: &str, name: &str) -> String {
    let start = tag
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + name.len()
        + 2;
    let end = start + tag[start..].find('"').unwrap();
    unescape(&tag[start..end])
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Opens the login page at `page_url` as `user` and submits its form (`decision`) the way a
/// browser would: the action resolved against the page's URL, which must land on
/// `confirm_path`. Returns WeChat's answer to the submission.
pub async fn submit_page_form(
    client: &Client,
    page_url: &str,
    user: &str,
    confirm_path: &str,
    decision: &str,
) -> reqwest::Response {
    let html = client
        .get(page_url)
        .header("x-wechat-sim-user", user)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = &html[html.find("<form ").unwrap()..];
    let action = attr(&form[..form.find('>').unwrap()], "action");
    let mut target = url::Url::parse(page_url).unwrap().join(&action).unwrap();
    assert_eq!(target.path(), confirm_path);
    {
        let mut query = target.query_pairs_mut();
        for (name, value) in form_inputs(&html) {
            query.append_pair(&name, &value);
        }
        query.append_pair("decision", decision);
    }
    client.get(target).send().await.unwrap()
}
