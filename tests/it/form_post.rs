//! `response_mode=form_post`: the result arrives as a POST, never in a URL.

use wechat_simulator::SimUser;
use wxauth_core::Scope;
use wxauth_tests::*;

/// The hidden inputs of a form_post page, unescaped.
fn form_fields(page: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let (value, _) = rest.split_once("\">").unwrap();
            (unescape(name), unescape(value))
        })
        .collect()
}

#[tokio::test]
async fn the_result_is_posted_with_escaped_values_and_a_nonce_script() {
    let env = TestEnv::start().await;
    env.sim.put_user(SimUser {
        nickname: "\"><script>alert('x')</script>".into(),
        ..SimUser::named("zoe")
    });
    let authorize = env
        .start_login(
            "https://app.example.com/cb?openid=VICTIM&keep=1",
            Scope::UserInfo,
            Some("form_post"),
        )
        .await;
    let callback = env.wechat_authorize(&authorize, "zoe", true).await;
    let response = env.follow_callback(&callback).await;
    assert_eq!(response.status(), 200);
    assert!(location(&response).is_none());
    let page = body_text(&response);
    assert!(
        page.contains("<form method=\"post\" action=\"https://app.example.com/cb?keep=1\">"),
        "{page}"
    );
    assert!(!page.contains("VICTIM"));
    assert!(!page.contains("<script>alert"), "the nickname is escaped");
    let fields = form_fields(&page);
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("openid"), Some(env.sim.openid_for("zoe").as_str()));
    assert_eq!(get("nickname"), Some("\"><script>alert('x')</script>"));
    assert!(get("token").is_some());

    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(page.contains(&format!("<script nonce=\"{nonce}\">")));
    assert!(csp.contains("default-src 'none'"));
    assert!(csp.contains("form-action https://app.example.com"));
    assert!(page.contains("<noscript>"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    // `origin`: the relying party sees a real Origin header (not `null`) and no path or
    // query of this page.
    assert_eq!(response.headers()["referrer-policy"], "origin");
}

#[tokio::test]
async fn errors_are_posted_too() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login(
            "https://app.example.com/cb",
            Scope::UserInfo,
            Some("form_post"),
        )
        .await;
    let refusal = env.wechat_authorize(&authorize, "ann", false).await;
    let response = env.follow_callback(&refusal).await;
    assert_eq!(response.status(), 200);
    let fields = form_fields(&body_text(&response));
    assert!(fields.contains(&("error".into(), "access_denied".into())));
    assert!(!fields.iter().any(|(n, _)| n == "openid"));
}
