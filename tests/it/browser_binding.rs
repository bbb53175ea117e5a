//! The state is bound to the browser that started the login (RFC 9700): a callback without
//! that browser's cookie is refused before WeChat is asked.

use wechat_simulator::Endpoint;
use wxauth_core::Scope;
use wxauth_tests::*;

#[tokio::test]
async fn auth_sets_a_scoped_http_only_cookie() {
    let env = TestEnv::start_with(|s| s.stage = "prod".into()).await;
    let response = env
        .auth(&encode(&[
            ("url", "https://app.example.com/"),
            ("scope", "snsapi_userinfo"),
        ]))
        .await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.cookies.len(), 1);
    let cookie = &response.cookies[0];
    let state = state_of(&location(&response).unwrap());
    // Over https the name carries `__Secure-`: the browser keeps it only as set here.
    assert!(
        cookie.starts_with(&format!("__Secure-wxauth_{state}=")),
        "{cookie}"
    );
    for attribute in [
        "; Path=/prod/getWxUserInfo",
        "; Max-Age=600",
        "; HttpOnly",
        "; SameSite=Lax",
        "; Secure",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
}

#[tokio::test]
async fn a_victim_lured_onto_an_attackers_callback_is_not_logged_in() {
    let env = TestEnv::start().await;
    // The attacker starts a login and stops at WeChat's redirect back…
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "attacker", true).await;
    // …and makes the victim's browser (no cookie for that state) open it.
    let query = query_of(&callback);
    let response = env
        .invoke_with_cookies(&env.gateway, "/getOpenId", &query, None, vec![])
        .await;
    assert_refused(&response, "invalid_state", "another browser");
    assert_eq!(
        env.sim.calls(Endpoint::AccessToken),
        0,
        "nothing sent to WeChat"
    );

    // A forged cookie of the right name does not help either.
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "attacker", true).await;
    let query = query_of(&callback);
    let forged = format!(
        "__Secure-wxauth_{}=Forged0123456789Forged0123456789",
        state_of(&authorize)
    );
    let response = env
        .invoke_with_cookies(&env.gateway, "/getOpenId", &query, None, vec![forged])
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 0);
}

#[tokio::test]
async fn logins_started_in_parallel_tabs_each_complete() {
    let env = TestEnv::start().await;
    let tabs = [
        "https://app.example.com/tab1",
        "https://app.example.com/tab2",
        "https://app.example.com/tab3",
    ];
    let mut authorizes = Vec::new();
    for tab in tabs {
        authorizes.push(env.start_login(tab, Scope::Base, None).await);
    }
    // Finished in another order than started.
    for (i, authorize) in authorizes.iter().enumerate().rev() {
        let callback = env.wechat_authorize(authorize, "xena", true).await;
        let response = env.follow_callback(&callback).await;
        assert_eq!(response.status(), 302, "{}", body_text(&response));
        let landing = location(&response).unwrap();
        assert!(
            landing.starts_with(&format!("{}?openid=", tabs[i])),
            "{landing}"
        );
    }
}

#[tokio::test]
async fn binding_can_be_turned_off_explicitly() {
    let env = TestEnv::start_with(|s| {
        s.vars.insert("BROWSER_BINDING", "off".into());
    })
    .await;
    let authorize_response = env
        .auth(&encode(&[
            ("url", "https://app.example.com/"),
            ("scope", "snsapi_base"),
        ]))
        .await;
    assert!(
        authorize_response.cookies.is_empty(),
        "no cookie when binding is off"
    );
    let callback = env
        .wechat_authorize(&location(&authorize_response).unwrap(), "yuri", true)
        .await;
    let query = query_of(&callback);
    let response = env
        .invoke_with_cookies(&env.gateway, "/getOpenId", &query, None, vec![])
        .await;
    assert_eq!(response.status(), 302);
    assert!(location(&response).unwrap().contains("openid="));
}

#[tokio::test]
async fn a_wrong_browser_or_route_does_not_spend_the_real_login() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "zoe", true).await;
    let query = query_of(&callback);
    // Someone who learnt the callback URL opens it: without the cookie, with a forged
    // one, and on the other route.
    let none = env
        .invoke_with_cookies(&env.gateway, "/getOpenId", &query, None, vec![])
        .await;
    assert_refused(&none, "invalid_state", "another browser");
    let forged = format!(
        "__Secure-wxauth_{}=Forged0123456789Forged0123456789",
        state_of(&authorize)
    );
    let forged = env
        .invoke_with_cookies(&env.gateway, "/getOpenId", &query, None, vec![forged])
        .await;
    assert_refused(&forged, "invalid_state", "another browser");
    let other_route = env.callback(Scope::UserInfo, &query).await;
    assert_refused(&other_route, "invalid_state", "other callback");
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 0);

    // Nothing was consumed: the browser that started the login still finishes it.
    let response = env.follow_callback(&callback).await;
    assert_eq!(response.status(), 302, "{}", body_text(&response));
    let landing = location(&response).unwrap();
    assert_eq!(
        result_params(&landing, false)["openid"],
        env.sim.openid_for("zoe")
    );
}

#[tokio::test]
async fn without_binding_a_repeated_callback_is_not_answered_again() {
    let env = TestEnv::start_with(|s| {
        s.vars.insert("BROWSER_BINDING", "off".into());
    })
    .await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "uma", true).await;
    let query = query_of(&callback);
    let first = env
        .invoke_with_cookies(&env.gateway, "/getOpenId", &query, None, vec![])
        .await;
    assert_eq!(first.status(), 302);
    // Replaying the sealed answer to whoever holds the URL would make the callback URL a
    // bearer token for the replay window: with no browser to check, a repeat is refused.
    let again = env
        .invoke_with_cookies(&env.gateway, "/getOpenId", &query, None, vec![])
        .await;
    assert_refused(&again, "invalid_state", "already completed");
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 1);
}
