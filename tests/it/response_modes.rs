//! Which response modes a redirect-mode login may use: `query,form_post` unless
//! RESPONSE_MODES (or an app's `response_modes`) lists others; a mode not allowed is a 400
//! with nothing stored and WeChat never asked, and a narrowed list applies again at the
//! callback.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use wechat_simulator::Endpoint;
use wxauth_core::Scope;
use wxauth_tests::*;

async fn started(env: &TestEnv, mode: &str) -> ApiGatewayV2httpResponse {
    env.auth(&encode(&[
        ("url", "https://app.example.com/"),
        ("scope", "snsapi_base"),
        ("response_mode", mode),
    ]))
    .await
}

#[tokio::test]
async fn fragment_is_refused_unless_listed_and_nothing_is_stored() {
    let env = TestEnv::start().await;
    let refused = started(&env, "fragment").await;
    assert_refused(
        &refused,
        "invalid_request",
        "response_mode fragment is not allowed",
    );
    assert!(location(&refused).is_none());
    assert_eq!(env.stored_items().await, 0);
    for allowed in ["query", "form_post"] {
        assert_eq!(started(&env, allowed).await.status(), 302, "{allowed}");
    }
    // Without response_mode the default mode, query, is used and allowed.
    let response = env
        .auth(&encode(&[
            ("url", "https://app.example.com/"),
            ("scope", "snsapi_base"),
        ]))
        .await;
    assert_eq!(response.status(), 302);
    assert_eq!(env.stored_items().await, 3);
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 0);
}

#[tokio::test]
async fn the_last_mode_listed_is_the_only_one_left() {
    let env = TestEnv::start_with(|s| {
        s.vars.insert("RESPONSE_MODES", "form_post".into());
    })
    .await;
    assert_eq!(started(&env, "form_post").await.status(), 302);
    for refused in ["query", "fragment"] {
        assert_refused(
            &started(&env, refused).await,
            "invalid_request",
            "it allows form_post",
        );
    }
    // The default mode is query, which this list leaves out.
    let response = env
        .auth(&encode(&[
            ("url", "https://app.example.com/"),
            ("scope", "snsapi_base"),
        ]))
        .await;
    assert_refused(
        &response,
        "invalid_request",
        "response_mode query is not allowed",
    );
}

#[tokio::test]
async fn each_app_of_wechat_apps_has_its_own_modes() {
    let env = TestEnv::start_with(|s| {
        two_apps(s);
        let apps = serde_json::json!([
            {"name": "mp", "kind": "official_account", "app_id": APP_ID,
             "app_secret": APP_SECRET, "qr_app": "web", "response_modes": "query,fragment"},
            {"name": "web", "kind": "website", "app_id": WEB_APP_ID, "app_secret": WEB_SECRET,
             "allowed_return_origins": "https://www.example.com"},
        ]);
        s.vars.insert("WECHAT_APPS", apps.to_string());
    })
    .await;
    let landing = env
        .login(
            "fay",
            "https://app.example.com/#/home",
            Scope::Base,
            Some("fragment"),
        )
        .await;
    assert!(
        landing.starts_with("https://app.example.com/#/home?openid="),
        "{landing}"
    );
    // The Website App names none: the default, without fragment.
    let refused = env
        .auth(&encode(&[
            ("url", "https://www.example.com/"),
            ("scope", "snsapi_login"),
            ("app", "web"),
            ("response_mode", "fragment"),
        ]))
        .await;
    assert_refused(&refused, "invalid_request", "it allows query,form_post");
}

#[tokio::test]
async fn a_mode_taken_off_the_list_is_refused_at_the_callback() {
    let env = TestEnv::start_with(all_response_modes).await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, Some("fragment"))
        .await;
    let callback = env.wechat_authorize(&authorize, "gus", true).await;
    let mut vars = env.vars().clone();
    vars.remove("RESPONSE_MODES");
    let env = env.with_gateway_vars(vars).await;
    let response = env.follow_callback(&callback).await;
    assert_refused(&response, "invalid_state", "no longer");
    assert_eq!(
        env.sim.calls(Endpoint::AccessToken),
        0,
        "WeChat was not asked"
    );
}

#[tokio::test]
async fn auth_has_no_back_channel_mode_and_says_where_it_is() {
    let env = TestEnv::start_with(all_response_modes).await;
    // Whatever the value: ignored, `code` would still have put the token in the URL.
    for value in ["code", "token", "id_token", ""] {
        let refused = env
            .auth(&encode(&[
                ("url", "https://app.example.com/"),
                ("scope", "snsapi_base"),
                ("response_type", value),
            ]))
            .await;
        assert_refused(&refused, "invalid_request", "use the OpenID Provider");
        assert!(location(&refused).is_none(), "{value:?}");
    }
    assert_eq!(env.stored_items().await, 0);
}
