//! The state is bound to the browser that started the login (RFC 9700): a callback without
//! that browser's cookie is refused before WeChat is asked. The cookie is `__Host-` over
//! https, and a browser keeps at most `MAX_PENDING_LOGINS` of them.

use wechat_simulator::{Endpoint, SimulatorConfig, WeChatSimulator};
use wxauth_core::Scope;
use wxauth_core::login::browser_binding::MAX_PENDING_LOGINS;
use wxauth_tests::*;

/// The attributes of a `Set-Cookie` header after its `name=value`.
fn attributes(set_cookie: &str) -> Vec<&str> {
    set_cookie.split("; ").skip(1).collect()
}

#[tokio::test]
async fn auth_sets_a_host_only_http_only_cookie_the_callback_shortens() {
    // A stage path in the base URL: `__Host-` demands Path=/ all the same.
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
    let authorize = location(&response).unwrap();
    let state = state_of(&authorize);
    // Over https the name carries `__Host-`: the browser keeps it only as set here, for
    // this host alone.
    let name = format!("__Host-wxauth_{state}");
    assert!(cookie.starts_with(&format!("{name}=")), "{cookie}");
    assert_eq!(
        attributes(cookie),
        [
            "Path=/",
            "Max-Age=600",
            "HttpOnly",
            "SameSite=Lax",
            "Secure"
        ]
    );

    // The callback under /prod receives it and keeps it only for a repeat.
    let callback = env.wechat_authorize(&authorize, "vera", true).await;
    let finished = env.follow_callback(&callback).await;
    assert_eq!(finished.status(), 302, "{}", body_text(&finished));
    assert_eq!(finished.cookies.len(), 1);
    let refreshed = &finished.cookies[0];
    assert!(refreshed.starts_with(&format!("{name}=")), "{refreshed}");
    assert_eq!(
        attributes(refreshed),
        ["Path=/", "Max-Age=60", "HttpOnly", "SameSite=Lax", "Secure"]
    );
}

#[tokio::test]
async fn a_cookie_planted_for_a_sibling_subdomain_is_not_the_binding() {
    let env = TestEnv::start().await;
    // The attacker starts a login in their own browser and learns its cookie…
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let state = state_of(&authorize);
    let attackers = env.cookies_for("/getOpenId");
    let value = attackers[0]
        .strip_prefix(&format!("__Host-wxauth_{state}="))
        .expect("the attacker's binding cookie");
    let callback = env.wechat_authorize(&authorize, "attacker", true).await;
    let query = query_of(&callback);
    // …and, from a page on a sibling subdomain (or over plain http), sets it in the
    // victim's browser for the parent domain: `__Secure-` allows `Domain=`, a bare name
    // allows anything. `__Host-` allows neither, so these are not the binding.
    for planted in [
        format!("__Secure-wxauth_{state}={value}"),
        format!("wxauth_{state}={value}"),
    ] {
        let response = env
            .invoke_with_cookies(&env.gateway, "/getOpenId", &query, None, vec![planted])
            .await;
        assert_refused(&response, "invalid_state", "another browser");
    }
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 0);
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
        "__Host-wxauth_{}=Forged0123456789Forged0123456789",
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
        "__Host-wxauth_{}=Forged0123456789Forged0123456789",
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

/// Starts `count` logins in the one browser; their WeChat authorize URLs, oldest first.
async fn start_logins(env: &TestEnv, count: usize) -> Vec<String> {
    let mut authorizes = Vec::new();
    for i in 0..count {
        let tab = format!("https://app.example.com/tab{i}");
        authorizes.push(env.start_login(&tab, Scope::Base, None).await);
    }
    authorizes
}

fn binding_cookies(env: &TestEnv) -> Vec<String> {
    let names = env.cookie_names();
    names
        .into_iter()
        .filter(|n| n.starts_with("__Host-wxauth_"))
        .collect()
}

/// Follows a login's callback in the browser and checks it lands on its own tab.
async fn finishes(env: &TestEnv, authorize: &str, tab: usize) {
    let callback = env.wechat_authorize(authorize, "xena", true).await;
    let response = env.follow_callback(&callback).await;
    assert_eq!(response.status(), 302, "{}", body_text(&response));
    let landing = location(&response).unwrap();
    let expected = format!("https://app.example.com/tab{tab}?openid=");
    assert!(landing.starts_with(&expected), "{landing}");
}

#[tokio::test]
async fn as_many_logins_as_the_cap_all_finish() {
    let env = TestEnv::start().await;
    let authorizes = start_logins(&env, MAX_PENDING_LOGINS).await;
    // The last `/auth` saw one fewer than the cap: nothing was expired.
    assert_eq!(binding_cookies(&env).len(), MAX_PENDING_LOGINS);
    for (tab, authorize) in authorizes.iter().enumerate().rev() {
        finishes(&env, authorize, tab).await;
    }
}

#[tokio::test]
async fn one_login_past_the_cap_expires_the_oldest_pending_one() {
    let env = TestEnv::start().await;
    let authorizes = start_logins(&env, MAX_PENDING_LOGINS).await;
    let oldest = format!("__Host-wxauth_{}", state_of(&authorizes[0]));
    let response = env
        .auth(&encode(&[
            ("url", "https://app.example.com/tab8"),
            ("scope", "snsapi_base"),
        ]))
        .await;
    assert_eq!(response.status(), 302);
    // The oldest expired (no value echoed), then the new one.
    assert_eq!(response.cookies.len(), 2, "{:?}", response.cookies);
    assert_eq!(
        response.cookies[0],
        format!("{oldest}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure")
    );
    let newest = format!("__Host-wxauth_{}=", state_of(&location(&response).unwrap()));
    assert!(response.cookies[1].starts_with(&newest));
    let pending = binding_cookies(&env);
    assert_eq!(pending.len(), MAX_PENDING_LOGINS);
    assert!(!pending.contains(&oldest));

    // The oldest login fails its binding (and can start over); the others all finish.
    let callback = env.wechat_authorize(&authorizes[0], "xena", true).await;
    let refused = env.follow_callback(&callback).await;
    assert_refused(&refused, "invalid_state", "another browser");
    finishes(&env, &location(&response).unwrap(), 8).await;
    for (tab, authorize) in authorizes.iter().enumerate().skip(1) {
        finishes(&env, authorize, tab).await;
    }
}

#[tokio::test]
async fn an_openid_connect_login_caps_pending_logins_too() {
    let env = TestEnv::start_with(|s| {
        let clients = serde_json::json!([
            {"client_id": "spa", "redirect_uris": ["http://127.0.0.1:8080/cb"]},
        ]);
        s.vars.insert("OIDC_CLIENTS", clients.to_string());
        s.vars
            .insert("OIDC_SIGNING_KEYS", crate::oidc::keys_pem().to_owned());
    })
    .await;
    let authorizes = start_logins(&env, MAX_PENDING_LOGINS).await;
    let query = encode(&[
        ("client_id", "spa"),
        ("redirect_uri", "http://127.0.0.1:8080/cb"),
        ("response_type", "code"),
        ("scope", "openid"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ]);
    let response = env
        .invoke_on(&env.gateway, "/oauth2/authorize", &query, None)
        .await;
    assert_eq!(response.status(), 302, "{}", body_text(&response));
    assert_eq!(response.cookies.len(), 2, "{:?}", response.cookies);
    let oldest = format!("__Host-wxauth_{}=;", state_of(&authorizes[0]));
    assert!(
        response.cookies[0].starts_with(&oldest),
        "{:?}",
        response.cookies
    );
    assert!(response.cookies[0].contains("; Max-Age=0;"));
    assert_eq!(binding_cookies(&env).len(), MAX_PENDING_LOGINS);
}

/// Over plain http (wxauth-local on loopback) the cookie cannot be `Secure`, so its name is
/// bare; `Path=/` as over https. Two tabs of one browser each finish their own login.
#[tokio::test]
async fn over_http_the_bare_cookie_binds_parallel_tabs() {
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
    let mut tabs = Vec::new();
    for tab in [
        "https://app.example.com/tab1",
        "https://app.example.com/tab2",
    ] {
        let query = encode(&[("url", tab), ("scope", "snsapi_base")]);
        let start = browser
            .get(format!("{}/auth?{query}", server.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 302);
        let authorize = start.headers()["location"].to_str().unwrap().to_owned();
        let set_cookie = start.headers()["set-cookie"].to_str().unwrap().to_owned();
        let name = format!("wxauth_{}=", state_of(&authorize));
        assert!(set_cookie.starts_with(&name), "{set_cookie}");
        assert_eq!(
            attributes(&set_cookie),
            ["Path=/", "Max-Age=600", "HttpOnly", "SameSite=Lax"]
        );
        tabs.push((tab, authorize, cookie_pair(&set_cookie)));
    }
    // The browser sends both cookies to every callback (Path=/), in creation order.
    let cookies = format!("{}; {}", tabs[0].2, tabs[1].2);
    for (tab, authorize, _) in tabs.iter().rev() {
        let wechat = browser
            .get(
                authorize
                    .split_once('#')
                    .map_or(authorize.as_str(), |(u, _)| u),
            )
            .header("x-wechat-sim-user", "wen")
            .send()
            .await
            .unwrap();
        let callback = wechat.headers()["location"].to_str().unwrap().to_owned();
        let finished = browser
            .get(&callback)
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(finished.status(), 302);
        let landing = finished.headers()["location"].to_str().unwrap().to_owned();
        assert!(landing.starts_with(&format!("{tab}?openid=")), "{landing}");
    }
}
