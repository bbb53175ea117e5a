//! Several WeChat apps in one deployment, and QR login outside WeChat: WECHAT_APPS with an
//! Official Account paired to a Website App, `/auth?app=`, `scope=snsapi_login` and
//! `scope=auto`, through the real handlers, the simulator and DynamoDB Local.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use wechat_simulator::SimUser;
use wxauth_core::Scope;
use wxauth_tests::*;

const DESKTOP: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const IN_WECHAT: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160117 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN";

async fn env_with_two_apps() -> TestEnv {
    TestEnv::start_with(two_apps).await
}

fn claims(token: &str, env: &TestEnv, audience: &str) -> serde_json::Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[env.base_url()]);
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_secret(SIGNING_KEY.as_bytes()),
        &validation,
    )
    .expect("the token verifies")
    .claims
}

/// Follows a started login through WeChat as `user` and returns where the user lands.
async fn finish(
    env: &TestEnv,
    started: &aws_lambda_events::apigw::ApiGatewayV2httpResponse,
    user: &str,
) -> String {
    assert_eq!(started.status(), 302, "{}", body_text(started));
    let callback = env
        .wechat_authorize(&location(started).unwrap(), user, true)
        .await;
    let back = env.follow_callback(&callback).await;
    assert_eq!(back.status(), 302, "{}", body_text(&back));
    location(&back).unwrap()
}

#[tokio::test]
async fn outside_wechat_scope_auto_logs_in_by_qr_code_with_the_website_app() {
    let env = env_with_two_apps().await;
    env.sim.put_user(SimUser {
        nickname: "小红".into(),
        ..SimUser::named("carol")
    });
    let query = encode(&[
        ("url", "https://www.example.com/account"),
        ("scope", "auto"),
    ]);
    let started = env.auth_from(&query, DESKTOP).await;
    assert_eq!(started.status(), 302, "{}", body_text(&started));
    let authorize = location(&started).unwrap();
    let redirect = encode(&[("redirect_uri", &format!("https://{DOMAIN}/getQrUserInfo"))]);
    assert!(
        authorize.starts_with(&format!(
            "{}/connect/qrconnect?appid={WEB_APP_ID}&{redirect}&response_type=code&scope=snsapi_login&state=",
            env.sim_server.base_url
        )),
        "{authorize}"
    );
    assert!(authorize.ends_with("#wechat_redirect"));
    // The browser-binding cookie is the QR login's own, as for any other login.
    let binding = format!("__Host-wxauth_{}=", state_of(&authorize));
    assert!(
        started.cookies.iter().any(|c| c.starts_with(&binding)),
        "{:?}",
        started.cookies
    );

    let landing = finish(&env, &started, "carol").await;
    assert!(
        landing.starts_with("https://www.example.com/account?openid="),
        "{landing}"
    );
    let params = result_params(&landing, false);
    let web_openid = env.sim.openid_for_app(WEB_APP_ID, "carol");
    assert_eq!(params["openid"], web_openid);
    assert_ne!(
        params["openid"],
        env.sim.openid_for("carol"),
        "openids are per app"
    );
    assert_eq!(params["unionid"], env.sim.unionid_for("carol"));
    assert_eq!(params["nickname"], "小红");
    let claims = claims(&params["token"], &env, "https://www.example.com");
    assert_eq!(claims["sub"], web_openid.as_str());
    assert_eq!(claims["appid"], WEB_APP_ID);
    assert_eq!(claims["scope"], "snsapi_login");
    // Every response of the test (the callback's too): neither app's secret.
    env.assert_no_secret_leaked();
}

#[tokio::test]
async fn inside_wechat_scope_auto_uses_the_official_account_and_the_unionid_ties_both() {
    let env = env_with_two_apps().await;
    let query = encode(&[
        ("url", "https://app.example.com/me"),
        ("scope", "auto"),
        ("auto_scope", "snsapi_userinfo"),
    ]);
    let started = env.auth_from(&query, IN_WECHAT).await;
    let authorize = location(&started).unwrap();
    assert!(
        authorize.contains(&format!("/connect/oauth2/authorize?appid={APP_ID}&")),
        "{authorize}"
    );
    assert!(authorize.contains("&scope=snsapi_userinfo&"), "{authorize}");
    let inside = result_params(&finish(&env, &started, "dave").await, false);
    assert_eq!(inside["openid"], env.sim.openid_for("dave"));
    let token = claims(&inside["token"], &env, "https://app.example.com");
    assert_eq!(token["appid"], APP_ID);
    assert_eq!(token["scope"], "snsapi_userinfo");

    // Without auto_scope, the silent snsapi_base.
    let query = encode(&[("url", "https://app.example.com/me"), ("scope", "auto")]);
    let started = env.auth_from(&query, IN_WECHAT).await;
    assert!(location(&started).unwrap().contains("&scope=snsapi_base&"));

    // The same person on a desktop: another openid, the same unionid.
    let query = encode(&[("url", "https://www.example.com/"), ("scope", "auto")]);
    let outside = result_params(
        &finish(&env, &env.auth_from(&query, DESKTOP).await, "dave").await,
        false,
    );
    assert_ne!(outside["openid"], inside["openid"]);
    assert_eq!(outside["unionid"], inside["unionid"]);
}

#[tokio::test]
async fn app_names_an_app_and_its_scopes_and_origins_are_its_own() {
    let env = env_with_two_apps().await;
    // A QR login asked for by name works from any browser.
    let query = encode(&[
        ("url", "https://www.example.com/"),
        ("scope", "snsapi_login"),
        ("app", "web"),
    ]);
    let landing = finish(&env, &env.auth_from(&query, IN_WECHAT).await, "erin").await;
    assert_eq!(
        result_params(&landing, false)["openid"],
        env.sim.openid_for_app(WEB_APP_ID, "erin")
    );
    // The default app is the first of WECHAT_APPS.
    let query = encode(&[
        ("url", "https://app.example.com/"),
        ("scope", "snsapi_base"),
    ]);
    let landing = finish(&env, &env.auth(&query).await, "erin").await;
    assert_eq!(
        result_params(&landing, false)["openid"],
        env.sim.openid_for("erin")
    );

    let refused =
        |query: Vec<(&'static str, &'static str)>, error: &'static str, because: &'static str| {
            let env = &env;
            async move {
                let response = env.auth_from(&encode(&query), DESKTOP).await;
                assert_refused(&response, error, because);
            }
        };
    refused(
        vec![
            ("url", "https://www.example.com/"),
            ("scope", "snsapi_base"),
            ("app", "web"),
        ],
        "invalid_scope",
        "snsapi_base is not a scope of this app",
    )
    .await;
    refused(
        vec![
            ("url", "https://app.example.com/"),
            ("scope", "snsapi_login"),
        ],
        "invalid_scope",
        "snsapi_login is not a scope of this app",
    )
    .await;
    refused(
        vec![
            ("url", "https://app.example.com/"),
            ("scope", "snsapi_base"),
            ("app", "nope"),
        ],
        "invalid_request",
        "app is not one of the WeChat apps",
    )
    .await;
    refused(
        vec![
            ("url", "https://www.example.com/"),
            ("scope", "auto"),
            ("app", "web"),
        ],
        "invalid_scope",
        "this app is a website app",
    )
    .await;
    refused(
        vec![
            ("url", "https://app.example.com/"),
            ("scope", "snsapi_base"),
            ("auto_scope", "snsapi_base"),
        ],
        "invalid_scope",
        "auto_scope must be",
    )
    .await;
    refused(
        vec![
            ("url", "https://app.example.com/"),
            ("scope", "auto"),
            ("auto_scope", "snsapi_login"),
        ],
        "invalid_scope",
        "auto_scope must be",
    )
    .await;
    // Each app's own return origins: www.example.com is the Website App's only.
    refused(
        vec![
            ("url", "https://www.example.com/"),
            ("scope", "snsapi_base"),
        ],
        "invalid_request",
        "is not allowed by ALLOWED_RETURN_ORIGINS",
    )
    .await;
    // scope=auto outside WeChat checks the origin against the app it chose.
    refused(
        vec![("url", "https://app.example.com/"), ("scope", "auto")],
        "invalid_request",
        "is not allowed by ALLOWED_RETURN_ORIGINS",
    )
    .await;
}

#[tokio::test]
async fn an_official_account_without_qr_app_refuses_scope_auto_outside_wechat_only() {
    let env = TestEnv::start().await;
    let query = encode(&[("url", "https://app.example.com/"), ("scope", "auto")]);
    let response = env.auth_from(&query, DESKTOP).await;
    assert_refused(&response, "invalid_scope", "no qr_app");
    let started = env.auth_from(&query, IN_WECHAT).await;
    assert_eq!(started.status(), 302, "{}", body_text(&started));
    // The single-app variables are the default app: its logins carry its AppID.
    let params = result_params(&finish(&env, &started, "frank").await, false);
    assert_eq!(
        claims(&params["token"], &env, "https://app.example.com")["appid"],
        APP_ID
    );
}

#[tokio::test]
async fn a_qr_login_completes_only_on_its_own_callback_and_a_refusal_comes_back() {
    let env = env_with_two_apps().await;
    let query = encode(&[("url", "https://www.example.com/"), ("scope", "auto")]);
    let started = env.auth_from(&query, DESKTOP).await;
    let callback = env
        .wechat_authorize(&location(&started).unwrap(), "gina", true)
        .await;
    let callback_query = query_of(&callback);
    // Delivered to the Official Account's callback instead: refused, the login kept.
    let wrong = env.callback(Scope::UserInfo, &callback_query).await;
    assert_eq!(wrong.status(), 400, "{}", body_text(&wrong));
    let right = env.callback(Scope::Login, &callback_query).await;
    assert_eq!(right.status(), 302, "{}", body_text(&right));
    assert!(result_params(&location(&right).unwrap(), false).contains_key("token"));

    // Refused on the phone: back with access_denied and no identity.
    let started = env.auth_from(&query, DESKTOP).await;
    let declined = env
        .wechat_authorize(&location(&started).unwrap(), "gina", false)
        .await;
    assert!(!declined.contains("code="), "{declined}");
    let back = env.follow_callback(&declined).await;
    let params = result_params(&location(&back).unwrap(), false);
    assert_eq!(params["error"], "access_denied");
    assert!(!params.contains_key("openid"));
}

#[tokio::test]
async fn a_login_whose_app_was_removed_meanwhile_is_refused_without_calling_wechat() {
    let env = env_with_two_apps().await;
    let query = encode(&[
        ("url", "https://www.example.com/"),
        ("scope", "snsapi_login"),
        ("app", "web"),
    ]);
    let started = env.auth_from(&query, DESKTOP).await;
    let callback = env
        .wechat_authorize(&location(&started).unwrap(), "hank", true)
        .await;
    // A new deployment without the Website App (another execution environment).
    let mut vars = env.vars().clone();
    vars.insert(
        "WECHAT_APPS",
        serde_json::json!([{"name": "mp", "kind": "official_account", "app_id": APP_ID,
                            "app_secret": APP_SECRET}])
        .to_string(),
    );
    let env = env.with_gateway_vars(vars).await;
    let exchanges = env.sim.calls(wechat_simulator::Endpoint::AccessToken);
    let response = env.follow_callback(&callback).await;
    assert_refused(&response, "invalid_state", "no longer configured");
    assert_eq!(
        env.sim.calls(wechat_simulator::Endpoint::AccessToken),
        exchanges
    );
}
