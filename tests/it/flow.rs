//! Both login flows end to end: the auth function, WeChat (simulator, real HTTP), the
//! callback functions, DynamoDB Local.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use wechat_simulator::{Endpoint, SimUser};
use wxauth_core::Scope;
use wxauth_tests::*;

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    iat: i64,
    exp: i64,
    scope: String,
    unionid: Option<String>,
    nickname: Option<String>,
    headimgurl: Option<String>,
    is_snapshotuser: Option<u8>,
}

/// Verifies a token as a front end's backend would, with an independent JWT library.
fn verify(token: &str, env: &TestEnv, audience: &str) -> Claims {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[env.base_url()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let verified = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(SIGNING_KEY.as_bytes()),
        &validation,
    )
    .expect("the token verifies");
    // jsonwebtoken does not check `typ` itself; a backend pins it.
    assert_eq!(
        verified.header.typ.as_deref(),
        Some(wxauth_core::token::RESULT_TOKEN_TYPE)
    );
    verified.claims
}

#[tokio::test]
async fn silent_login_returns_openid_and_a_verifiable_token() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/landing?from=ad", Scope::Base, None)
        .await;
    let expected_redirect = encode(&[("redirect_uri", &format!("https://{DOMAIN}/getOpenId"))]);
    assert!(
        authorize.starts_with(&format!(
            "{}/connect/oauth2/authorize?appid={APP_ID}&{expected_redirect}&response_type=code&scope=snsapi_base&state=",
            env.sim_server.base_url
        )),
        "{authorize}"
    );
    assert!(authorize.ends_with("#wechat_redirect"));
    let state = state_of(&authorize);
    assert_eq!(state.len(), 32);
    assert!(state.bytes().all(|b| b.is_ascii_alphanumeric()));

    let callback = env.wechat_authorize(&authorize, "alice", true).await;
    let response = env.follow_callback(&callback).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    // Over https every answer, a refusal too, keeps browsers to https for the gateway.
    let refused = env.auth("scope=snsapi_base").await;
    for answer in [&response, &refused] {
        assert_eq!(
            answer.headers()["strict-transport-security"],
            "max-age=31536000"
        );
    }
    let landing = location(&response).unwrap();
    assert!(
        landing.starts_with("https://app.example.com/landing?from=ad&openid="),
        "{landing}"
    );

    let params = result_params(&landing, false);
    let openid = env.sim.openid_for("alice");
    assert_eq!(params["openid"], openid);
    assert_eq!(params["from"], "ad");
    let mut names: Vec<&str> = params.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        ["from", "openid", "token"],
        "no empty or absent fields"
    );

    let claims = verify(&params["token"], &env, "https://app.example.com");
    assert_eq!(claims.sub, openid);
    assert_eq!(claims.iss, format!("https://{DOMAIN}"));
    assert_eq!(claims.aud, "https://app.example.com");
    assert_eq!(claims.scope, "snsapi_base");
    assert_eq!(claims.exp - claims.iat, 300);
    assert!(claims.unionid.is_none() && claims.nickname.is_none());
    assert!(claims.headimgurl.is_none() && claims.is_snapshotuser.is_none());
    // Typed as a result token, never an ID token, with a random jti of its own.
    let header = jsonwebtoken::decode_header(&params["token"]).unwrap();
    assert_eq!(header.typ.as_deref(), Some("wxauth-result+jwt"));
    let jti = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(&params["token"])
        .unwrap()
        .claims["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(jti.len(), 22);
    let again = env
        .login(
            "alice",
            "https://app.example.com/landing",
            Scope::Base,
            None,
        )
        .await;
    let again = &result_params(&again, false)["token"];
    let again_jti = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(again)
        .unwrap()
        .claims["jti"]
        .clone();
    assert_ne!(again_jti, jti.as_str(), "each token has its own jti");
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 2);
    assert_eq!(
        env.sim.calls(Endpoint::UserInfo),
        0,
        "base logins never fetch a profile"
    );
    env.assert_no_secret_leaked();
}

#[tokio::test]
async fn profile_login_returns_the_profile_with_unionid_when_bound() {
    let env = TestEnv::start_with(|s| s.simulator.bound_to_open_platform = true).await;
    env.sim.put_user(SimUser {
        nickname: "小明 & <b>Co</b> #1".into(),
        sex: 1,
        sex_as_string: true,
        province: "广东".into(),
        city: "深圳".into(),
        country: "中国".into(),
        headimgurl: "https://thirdwx.qlogo.cn/mmopen/abc/132".into(),
        ..SimUser::named("bob")
    });
    let landing = env
        .login("bob", "https://app.example.com/me", Scope::UserInfo, None)
        .await;
    let params = result_params(&landing, false);
    assert_eq!(params["openid"], env.sim.openid_for("bob"));
    assert_eq!(params["unionid"], env.sim.unionid_for("bob"));
    assert_eq!(params["nickname"], "小明 & <b>Co</b> #1");
    assert_eq!(params["sex"], "1");
    assert_eq!(params["province"], "广东");
    assert_eq!(params["city"], "深圳");
    assert_eq!(params["country"], "中国");
    assert_eq!(
        params["headimgurl"],
        "https://thirdwx.qlogo.cn/mmopen/abc/132"
    );
    assert!(!params.contains_key("is_snapshotuser"));

    let claims = verify(&params["token"], &env, "https://app.example.com");
    assert_eq!(claims.scope, "snsapi_userinfo");
    assert_eq!(claims.unionid.as_deref(), Some(params["unionid"].as_str()));
    assert_eq!(claims.nickname.as_deref(), Some("小明 & <b>Co</b> #1"));
    assert_eq!(
        claims.headimgurl.as_deref(),
        Some(params["headimgurl"].as_str())
    );
    assert_eq!(env.sim.calls(Endpoint::UserInfo), 1);
    env.assert_no_secret_leaked();
}

#[tokio::test]
async fn absent_profile_fields_are_left_out() {
    let env = TestEnv::start().await;
    // A user with an empty avatar and region, as WeChat sends for many accounts.
    env.sim.put_user(SimUser::named("carol"));
    let landing = env
        .login("carol", "https://app.example.com/", Scope::UserInfo, None)
        .await;
    let params = result_params(&landing, false);
    for absent in [
        "unionid",
        "headimgurl",
        "province",
        "city",
        "country",
        "is_snapshotuser",
    ] {
        assert!(!params.contains_key(absent), "{absent} in {landing}");
    }
    assert!(!landing.contains("null"));
    assert_eq!(params["nickname"], "carol");
    assert_eq!(params["sex"], "0");
}

#[tokio::test]
async fn snapshot_visitors_are_flagged() {
    let env = TestEnv::start().await;
    env.sim.put_user(SimUser {
        snapshot: true,
        ..SimUser::named("virtual")
    });
    let landing = env
        .login("virtual", "https://app.example.com/", Scope::UserInfo, None)
        .await;
    let params = result_params(&landing, false);
    assert_eq!(params["is_snapshotuser"], "1");
    let claims = verify(&params["token"], &env, "https://app.example.com");
    assert_eq!(claims.is_snapshotuser, Some(1));
}

#[tokio::test]
async fn fragment_mode_merges_into_hash_routes() {
    let env = TestEnv::start_with(all_response_modes).await;
    let cases = [
        (
            "https://app.example.com/",
            "https://app.example.com/#openid=",
        ),
        (
            "https://app.example.com/#/home",
            "https://app.example.com/#/home?openid=",
        ),
        (
            "https://app.example.com/spa?v=2#/home?x=1",
            "https://app.example.com/spa?v=2#/home?x=1&openid=",
        ),
    ];
    for (return_url, expected_prefix) in cases {
        let landing = env
            .login("dave", return_url, Scope::Base, Some("fragment"))
            .await;
        assert!(landing.starts_with(expected_prefix), "{landing}");
        let params = result_params(&landing, true);
        assert_eq!(params["openid"], env.sim.openid_for("dave"));
        verify(&params["token"], &env, "https://app.example.com");
        assert!(
            url::Url::parse(&landing).unwrap().query() != Some(""),
            "{landing}"
        );
    }
}

#[tokio::test]
async fn injected_result_parameters_do_not_survive() {
    let env = TestEnv::start().await;
    // Distinctive values: a short one such as "V2" turns up by chance inside a real token.
    let crafted = "https://app.example.com/cb?openid=VICTIM&keep=1&error=x&token=forged.token.value&nickname=Mallory#openid=FRAGMENT-VICTIM";
    let landing = env.login("erin", crafted, Scope::Base, None).await;
    let params = result_params(&landing, false);
    assert_eq!(params["openid"], env.sim.openid_for("erin"));
    assert_eq!(params["keep"], "1");
    assert!(!params.contains_key("error"));
    assert!(!params.contains_key("nickname"));
    assert!(
        !landing.contains("VICTIM") && !landing.contains("forged.token"),
        "{landing}"
    );
}

#[tokio::test]
async fn refusal_redirects_with_access_denied_and_no_call_to_wechat() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/?x=1", Scope::UserInfo, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "frank", false).await;
    assert!(!callback.contains("code="), "{callback}");
    let response = env.follow_callback(&callback).await;
    assert_eq!(response.status(), 302);
    let landing = location(&response).unwrap();
    let params = result_params(&landing, false);
    assert_eq!(params["error"], "access_denied");
    assert!(params.contains_key("error_description"));
    assert_eq!(params["x"], "1");
    assert!(!params.contains_key("openid") && !params.contains_key("token"));
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 0);
}

#[tokio::test]
async fn a_named_stage_is_part_of_the_callback_url_and_the_issuer() {
    let env = TestEnv::start_with(|s| s.stage = "prod".into()).await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    assert!(
        authorize.contains(&encode(&[(
            "redirect_uri",
            &format!("https://{DOMAIN}/prod/getOpenId")
        )])),
        "{authorize}"
    );
    let callback = env.wechat_authorize(&authorize, "gina", true).await;
    let landing = location(&env.follow_callback(&callback).await).unwrap();
    let claims = verify(
        &result_params(&landing, false)["token"],
        &env,
        "https://app.example.com",
    );
    assert_eq!(claims.iss, format!("https://{DOMAIN}/prod"));
}

#[tokio::test]
async fn public_base_url_overrides_the_derived_one() {
    let env = TestEnv::start_with(|s| {
        s.vars
            .insert("PUBLIC_BASE_URL", "https://login.example.com/wx".into());
    })
    .await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::UserInfo, None)
        .await;
    assert!(
        authorize.contains(&encode(&[(
            "redirect_uri",
            "https://login.example.com/wx/getWxUserInfo"
        )])),
        "{authorize}"
    );
}

#[tokio::test]
async fn wildcard_origins_and_token_audience() {
    let env = TestEnv::start().await;
    let landing = env
        .login(
            "hank",
            "https://tea.shop.example.com/order/7",
            Scope::Base,
            None,
        )
        .await;
    let params = result_params(&landing, false);
    let claims = verify(&params["token"], &env, "https://tea.shop.example.com");
    assert_eq!(claims.aud, "https://tea.shop.example.com");
}

#[tokio::test]
async fn mp_verify_file_is_served_only_for_its_token() {
    let env = TestEnv::start_with(|s| {
        s.vars.insert("MP_VERIFY_TOKEN", "Ab12Cd34".into());
    })
    .await;
    let ok = env
        .invoke_on(&env.gateway, "/MP_verify_Ab12Cd34.txt", "", None)
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(body_text(&ok), "Ab12Cd34");
    assert!(
        ok.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let other = env
        .invoke_on(&env.gateway, "/MP_verify_other.txt", "", None)
        .await;
    assert_eq!(other.status(), 404);

    let without = TestEnv::start().await;
    let none = without
        .invoke_on(&without.gateway, "/MP_verify_Ab12Cd34.txt", "", None)
        .await;
    assert_eq!(none.status(), 404);
}

/// `/getUserInfo`, the seed gateway's name for the profile callback, is the same route as
/// `/getWxUserInfo`: a login started normally (redirect_uri `/getWxUserInfo`) completes
/// when its callback arrives on the alias. Browser binding is off here: with it on, a
/// browser does not present the binding cookie at the alias (next test).
#[tokio::test]
async fn a_profile_login_completes_through_the_get_user_info_alias() {
    let env = TestEnv::start_with(|s| {
        s.vars.insert("BROWSER_BINDING", "off".into());
    })
    .await;
    let authorize = env
        .start_login("https://app.example.com/me", Scope::UserInfo, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "ivy", true).await;
    assert!(
        callback.starts_with(&format!("https://{DOMAIN}/getWxUserInfo?")),
        "{callback}"
    );
    let response = env
        .invoke_on(&env.gateway, "/getUserInfo", &query_of(&callback), None)
        .await;
    assert_eq!(response.status(), 302, "{}", body_text(&response));
    let landing = location(&response).unwrap();
    assert!(
        landing.starts_with("https://app.example.com/me?"),
        "{landing}"
    );
    let params = result_params(&landing, false);
    let claims = verify(&params["token"], &env, "https://app.example.com");
    assert_eq!(claims.sub, env.sim.openid_for("ivy"));
    assert_eq!(params["openid"], claims.sub);
    assert_eq!(claims.scope, "snsapi_userinfo");
    assert_eq!(claims.nickname.as_deref(), Some("ivy"));
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 1);
    assert_eq!(env.sim.calls(Endpoint::UserInfo), 1);
    env.assert_no_secret_leaked();
}

/// The alias is the profile route only: the binding cookie (`Path=/`) reaches it, so a
/// profile login completes there; a silent login's state is refused there as the other
/// route's, without spending the login, which completes where WeChat sent the browser.
#[tokio::test]
async fn the_alias_refuses_what_the_profile_callback_would_and_spends_nothing() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::UserInfo, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "jack", true).await;
    let at_alias = env
        .invoke_on(&env.gateway, "/getUserInfo", &query_of(&callback), None)
        .await;
    assert_eq!(at_alias.status(), 302, "{}", body_text(&at_alias));
    let landing = location(&at_alias).unwrap();
    let claims = verify(
        &result_params(&landing, false)["token"],
        &env,
        "https://app.example.com",
    );
    assert_eq!(claims.sub, env.sim.openid_for("jack"));

    let started = env
        .auth(&encode(&[
            ("url", "https://app.example.com/"),
            ("scope", "snsapi_base"),
        ]))
        .await;
    let callback = env
        .wechat_authorize(&location(&started).unwrap(), "kate", true)
        .await;
    // The login's own binding cookie, presented at the alias anyway.
    let cookie = cookie_pair(&started.cookies[0]);
    let at_alias = env
        .invoke_with_cookies(
            &env.gateway,
            "/getUserInfo",
            &query_of(&callback),
            None,
            vec![cookie],
        )
        .await;
    assert_refused(&at_alias, "invalid_state", "other callback");
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 1);
    let landing = location(&env.follow_callback(&callback).await).unwrap();
    assert!(landing.contains("openid="), "{landing}");
}
