//! The pages a visitor may see, in their language (Accept-Language), through the Lambda
//! adapter: a refused callback explains itself in plain words and, when the login is still
//! in the table, offers "重新登录 / Log in again" back to the page that started it.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use wechat_simulator::Scope as SimScope;
use wxauth_core::login_state::{LoginState, StateId, now_epoch_seconds};
use wxauth_core::store::DynamoStateStore;
use wxauth_core::{AllowedOrigins, ResponseMode, ReturnUrl, Scope, StateStore};
use wxauth_tests::*;

const RETURN_URL: &str = "https://app.example.com/shop/cart?item=7#/pay";
const WAY_BACK: &str = "href=\"https://app.example.com/shop/cart?item=7#/pay\"";

/// A callback as a phone's browser sends it: HTML wanted, in `language`, with the cookies
/// of this environment's browser unless `other_browser`.
async fn callback_page(
    env: &TestEnv,
    scope: Scope,
    query: &str,
    language: &str,
    other_browser: bool,
) -> ApiGatewayV2httpResponse {
    let mut event = api_gateway_event(
        &env.stage,
        scope.callback_path(),
        query,
        Some("text/html,*/*;q=0.8"),
    );
    event
        .headers
        .insert("accept-language", language.parse().unwrap());
    if !other_browser {
        let cookies = env.cookies_for(scope.callback_path());
        event.cookies = (!cookies.is_empty()).then_some(cookies);
    }
    env.invoke_event(&env.gateway, scope.callback_path(), event)
        .await
}

fn page(response: &ApiGatewayV2httpResponse) -> String {
    assert_eq!(response.status(), 400, "{}", body_text(response));
    assert_eq!(response.headers["content-type"], "text/html; charset=utf-8");
    assert!(location(response).is_none());
    body_text(response)
}

#[tokio::test]
async fn an_expired_login_offers_the_way_back_in_chinese() {
    let env = TestEnv::start().await;
    let store = DynamoStateStore::new(env.dynamo.clone(), env.table.clone());
    let origins = AllowedOrigins::parse("https://app.example.com").unwrap();
    let login = LoginState {
        state: StateId::generate(),
        app: "default".into(),
        scope: Scope::Base,
        return_url: ReturnUrl::parse(RETURN_URL, &origins).unwrap(),
        response_mode: ResponseMode::Query,
        expires_at: now_epoch_seconds() - 1,
        browser_binding: None,
        nonce: None,
        oidc: None,
    };
    store.put_new(&login).await.unwrap();
    let code = env.sim.issue_code("mia", SimScope::Base);
    let query = encode(&[("code", &code), ("state", login.state.as_str())]);
    let body = page(&callback_page(&env, Scope::Base, &query, "zh-CN,zh;q=0.9", false).await);
    assert!(body.contains("<html lang=\"zh-CN\">"), "{body}");
    assert!(body.contains("已经过期"), "{body}");
    assert!(body.contains(&format!("{WAY_BACK}>重新登录</a>")), "{body}");
    let body = page(&callback_page(&env, Scope::Base, &query, "en-GB,en;q=0.9", false).await);
    assert!(
        body.contains("<html lang=\"en\">") && body.contains("has expired"),
        "{body}"
    );
    assert!(
        body.contains(&format!("{WAY_BACK}>Log in again</a>")),
        "{body}"
    );
}

#[tokio::test]
async fn another_browser_and_a_finished_login_are_explained_with_the_way_back() {
    let env = TestEnv::start().await;
    let authorize = env.start_login(RETURN_URL, Scope::Base, None).await;
    let callback = env.wechat_authorize(&authorize, "noa", true).await;
    let query = query_of(&callback);
    // Opened in another app (no binding cookie): explained, nothing spent.
    let body = page(&callback_page(&env, Scope::Base, &query, "zh-CN", true).await);
    assert!(body.contains("另一个浏览器或应用"), "{body}");
    assert!(body.contains(WAY_BACK), "{body}");
    // The real browser finishes it; a different code for the same state later is no
    // repeat: "already completed", with the way back.
    assert_eq!(env.follow_callback(&callback).await.status(), 302);
    let other_code = env.sim.issue_code("noa", SimScope::Base);
    let state = state_of(&authorize);
    let again = encode(&[("code", &other_code), ("state", &state)]);
    let body = page(&callback_page(&env, Scope::Base, &again, "zh-CN", false).await);
    assert!(body.contains("这次登录已经完成"), "{body}");
    assert!(body.contains(WAY_BACK), "{body}");
    // JSON clients still get the English contract.
    let json = env.callback(Scope::Base, &again).await;
    assert_refused(&json, "invalid_state", "already completed");
}

#[tokio::test]
async fn an_unknown_login_is_explained_without_a_link() {
    let env = TestEnv::start().await;
    let code = env.sim.issue_code("ola", SimScope::Base);
    let query = encode(&[
        ("code", &code),
        ("state", "NeverIssued0123456789abcdefABCDEF"),
    ]);
    let body = page(&callback_page(&env, Scope::Base, &query, "zh-CN", false).await);
    assert!(body.contains("找不到这次登录"), "{body}");
    assert!(!body.contains("class=\"button\""), "{body}");
    // No language we speak: English.
    let body = page(&callback_page(&env, Scope::Base, &query, "fr-FR,de;q=0.5", false).await);
    assert!(
        body.contains("<html lang=\"en\">") && body.contains("We do not know this login"),
        "{body}"
    );
}

#[tokio::test]
async fn form_post_pages_speak_the_visitors_language() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/cb", Scope::Base, Some("form_post"))
        .await;
    let callback = env.wechat_authorize(&authorize, "pia", true).await;
    let response = callback_page(&env, Scope::Base, &query_of(&callback), "zh-CN", false).await;
    assert_eq!(response.status(), 200);
    let body = body_text(&response);
    assert!(
        body.contains("<html lang=\"zh-CN\">") && body.contains("正在登录"),
        "{body}"
    );
}
