//! `wxauth-local` over HTTP, with its state in DynamoDB Local and WeChat simulated on its
//! own port: the same gateway as the Lambda functions, behind a plain server.

use wechat_simulator::{SimulatorConfig, WeChatSimulator};
use wxauth_tests::*;

#[tokio::test]
async fn a_login_through_the_local_server_keeps_state_in_dynamodb() {
    let sim = WeChatSimulator::new(SimulatorConfig::new(APP_ID, APP_SECRET));
    let sim_server = sim.serve_on_loopback().await.unwrap();
    let dynamo = dynamo_client().await;
    let table = create_state_table(&dynamo).await;
    let vars = test_vars(&sim_server.base_url, &table);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = wxauth_local::start(|name| vars.get(name).cloned(), listener)
        .await
        .expect("wxauth-local starts");
    let browser = browser();

    let start = browser
        .get(format!(
            "{}/auth?{}",
            server.base_url,
            encode(&[
                ("url", "https://app.example.com/x"),
                ("scope", "snsapi_userinfo")
            ])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    assert_eq!(start.headers()["cache-control"], "no-store");
    // Plain http on loopback: no Strict-Transport-Security (it would mean nothing here).
    assert!(start.headers().get("strict-transport-security").is_none());
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let binding = cookie_pair(start.headers()["set-cookie"].to_str().unwrap());
    assert!(
        authorize.contains(&encode(&[(
            "redirect_uri",
            &format!("{}/getWxUserInfo", server.base_url)
        )])),
        "the callback is derived from the Host header: {authorize}"
    );
    let stored = dynamo.scan().table_name(&table).send().await.unwrap();
    assert_eq!(stored.count(), 1, "the login waits in DynamoDB");

    // WeChat: the consent sheet, then back to the local server's callback.
    assert!(authorize.starts_with(&sim_server.base_url), "{authorize}");
    let consent = browser
        .get(wechat_simulator::consent_url(&authorize, true))
        .header("x-wechat-sim-user", "rosa")
        .send()
        .await
        .unwrap();
    let callback = consent.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&format!("{}/getWxUserInfo?", server.base_url)));

    let finished = browser
        .get(&callback)
        .header("cookie", &binding)
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), 302);
    let landing = finished.headers()["location"].to_str().unwrap().to_owned();
    let params = result_params(&landing, false);
    assert_eq!(params["openid"], sim.openid_for("rosa"));
    assert_eq!(params["nickname"], "rosa");
    let stored = dynamo.scan().table_name(&table).send().await.unwrap();
    let consumed = &stored.items()[0];
    assert!(
        consumed.contains_key("consumed_at"),
        "the state was consumed"
    );
    assert!(!format!("{consumed:?}").contains(&params["openid"]));

    // The callback URL without the browser's cookie (someone else's browser).
    let replay = browser.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), 400);
    assert!(replay.headers().get("location").is_none());
    let body = replay.text().await.unwrap();
    assert!(!body.contains(APP_SECRET));
}

/// wxauth-local routes by path: `/getUserInfo` (the seed gateway's name) reaches the
/// profile callback too, and the binding cookie (`Path=/`) with it.
#[tokio::test]
async fn the_get_user_info_alias_completes_a_profile_login() {
    let sim = WeChatSimulator::new(SimulatorConfig::new(APP_ID, APP_SECRET));
    let sim_server = sim.serve_on_loopback().await.unwrap();
    let dynamo = dynamo_client().await;
    let table = create_state_table(&dynamo).await;
    let vars = test_vars(&sim_server.base_url, &table);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = wxauth_local::start(|name| vars.get(name).cloned(), listener)
        .await
        .expect("wxauth-local starts");
    let browser = browser();
    let start = browser
        .get(format!(
            "{}/auth?{}",
            server.base_url,
            encode(&[
                ("url", "https://app.example.com/x"),
                ("scope", "snsapi_userinfo")
            ])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let binding = cookie_pair(start.headers()["set-cookie"].to_str().unwrap());
    let consent = browser
        .get(wechat_simulator::consent_url(&authorize, true))
        .header("x-wechat-sim-user", "sven")
        .send()
        .await
        .unwrap();
    let callback = consent.headers()["location"].to_str().unwrap().to_owned();
    let query = callback
        .strip_prefix(&format!("{}/getWxUserInfo?", server.base_url))
        .expect("WeChat returns to the redirect_uri it was given");

    let finished = browser
        .get(format!("{}/getUserInfo?{query}", server.base_url))
        .header("cookie", &binding)
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), 302);
    let landing = finished.headers()["location"].to_str().unwrap().to_owned();
    let params = result_params(&landing, false);
    assert_eq!(params["openid"], sim.openid_for("sven"));
    assert_eq!(params["nickname"], "sven");
    let key = wxauth_core::token::SigningKey::new(SIGNING_KEY).unwrap();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let claims =
        wxauth_core::token::verify(&params["token"], &key, Some("https://app.example.com"), now)
            .expect("the token verifies");
    assert_eq!(claims.sub, params["openid"]);
    assert_eq!(claims.scope, "snsapi_userinfo");
}
