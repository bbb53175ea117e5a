//! What an authorization request may carry beyond the query string's code flow: the same
//! request posted as a form (OpenID Connect Core §3.1.2.1), the `claims` parameter (§5.5),
//! and ID tokens holding only the claims their scopes or `claims` asked for.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use wxauth_core::oidc::claims_request::MAX_CLAIMS_PARAMETER_BYTES;
use wxauth_core::query::MAX_QUERY_BYTES;
use wxauth_tests::*;

use crate::oidc::{
    RP_REDIRECT, authorization_response, authorize, provider, provider_with, redeem_and_verify,
    rp_request, userinfo,
};

const FORM: &str = "application/x-www-form-urlencoded";

/// The authorization request posted by the relying party's page.
async fn post_authorize(
    env: &TestEnv,
    query: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> aws_lambda_events::apigw::ApiGatewayV2httpResponse {
    env.post_from_browser("/oauth2/authorize", query, content_type, body)
        .await
}

/// The error the relying party is told at its redirect URI.
fn refused_at_the_relying_party(
    env: &TestEnv,
    response: &aws_lambda_events::apigw::ApiGatewayV2httpResponse,
) -> HashMap<String, String> {
    assert_eq!(response.status(), 302, "{}", body_text(response));
    let location = location(response).unwrap();
    assert!(location.starts_with(RP_REDIRECT), "{location}");
    let answer = result_params(&location, false);
    assert_eq!(answer["iss"], env.issuer());
    answer
}

/// A 400 page, nothing sent anywhere.
fn refused_on_the_page(response: &aws_lambda_events::apigw::ApiGatewayV2httpResponse) -> String {
    assert_eq!(response.status(), 400, "{}", body_text(response));
    assert!(location(response).is_none());
    body_text(response)
}

/// WeChat, the callback, and the code at the redirect URI, after the authorization
/// response `to_wechat` sent the browser on.
async fn code_after(
    env: &TestEnv,
    to_wechat: &aws_lambda_events::apigw::ApiGatewayV2httpResponse,
    user: &str,
) -> String {
    assert_eq!(to_wechat.status(), 302, "{}", body_text(to_wechat));
    let url = location(to_wechat).unwrap();
    let callback = env.wechat_authorize(&url, user, true).await;
    let back = env.follow_callback(&callback).await;
    let answer = result_params(&location(&back).unwrap(), false);
    assert_eq!(answer["state"], "rp-state-1");
    answer["code"].clone()
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn an_authorization_request_by_post_signs_in_as_by_get() {
    let env = provider().await;
    env.sim.put_user(wechat_simulator::SimUser {
        nickname: "Carol".into(),
        ..wechat_simulator::SimUser::named("carol")
    });
    let body = encode(&rp_request(&[]));
    let response = post_authorize(
        &env,
        "",
        Some("application/x-www-form-urlencoded; charset=UTF-8"),
        body.as_bytes(),
    )
    .await;
    assert!(
        location(&response)
            .unwrap()
            .contains("scope=snsapi_userinfo")
    );
    let code = code_after(&env, &response, "carol").await;
    let (tokens, claims) = redeem_and_verify(&env, &code).await;
    assert_eq!(tokens["scope"], "openid profile");
    assert_eq!(claims["sub"], env.sim.openid_for("carol").as_str());
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["name"], "Carol");

    // The parameters may be split between the query and the body, none given twice.
    let all = rp_request(&[]);
    let (query, body) = all.split_at(2);
    let response = post_authorize(&env, &encode(query), Some(FORM), encode(body).as_bytes()).await;
    assert_eq!(response.status(), 302, "{}", body_text(&response));
    assert!(
        location(&response)
            .unwrap()
            .starts_with(&env.sim_server.base_url)
    );

    // A body exactly at the cap, padded with a parameter nobody reads, is read.
    let mut padded = format!("{}&pad=", encode(&rp_request(&[])));
    padded.push_str(&"p".repeat(MAX_QUERY_BYTES - padded.len()));
    assert_eq!(padded.len(), MAX_QUERY_BYTES);
    let response = post_authorize(&env, "", Some(FORM), padded.as_bytes()).await;
    assert_eq!(response.status(), 302, "{}", body_text(&response));
    assert!(
        location(&response)
            .unwrap()
            .starts_with(&env.sim_server.base_url)
    );
    env.assert_no_secret_leaked();
}

#[tokio::test]
async fn a_post_is_refused_as_a_get_is_and_for_its_body() {
    let env = provider().await;
    // Before the client and its redirect URI are known: a page, never a redirect.
    for (params, why) in [
        (rp_request(&[("client_id", "nobody")]), "registered"),
        (
            rp_request(&[("redirect_uri", "https://evil.example.com/cb")]),
            "registered",
        ),
        (rp_request(&[("client_id", "")]), "client_id"),
    ] {
        let response = post_authorize(&env, "", Some(FORM), encode(&params).as_bytes()).await;
        let page = refused_on_the_page(&response);
        assert!(page.contains(why), "{params:?}: {page}");
    }
    let body = encode(&rp_request(&[]));
    for (content_type, body, why) in [
        (
            None,
            body.clone().into_bytes(),
            "application/x-www-form-urlencoded",
        ),
        (
            Some("application/json"),
            body.clone().into_bytes(),
            "application/x-www-form-urlencoded",
        ),
        (
            Some("multipart/form-data; boundary=x"),
            body.clone().into_bytes(),
            "application/x-www-form-urlencoded",
        ),
        (
            Some(FORM),
            [body.as_bytes(), b"&pad=\xff"].concat(),
            "UTF-8",
        ),
    ] {
        let response = post_authorize(&env, "", content_type, &body).await;
        let page = refused_on_the_page(&response);
        assert!(page.contains(why), "{content_type:?}: {page}");
    }
    // One byte past the cap.
    let mut padded = format!("{body}&pad=");
    padded.push_str(&"p".repeat(MAX_QUERY_BYTES + 1 - padded.len()));
    let response = post_authorize(&env, "", Some(FORM), padded.as_bytes()).await;
    assert!(refused_on_the_page(&response).contains("longer"));

    // After: back at the redirect URI with state and iss, exactly as for a GET.
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (rp_request(&[("scope", "profile")]), "invalid_scope"),
        (
            rp_request(&[("response_type", "token")]),
            "unsupported_response_type",
        ),
        (rp_request(&[("response_type", "")]), "invalid_request"),
        (
            rp_request(&[("code_challenge_method", "plain")]),
            "invalid_request",
        ),
        (
            rp_request(&[("response_mode", "fragment")]),
            "invalid_request",
        ),
        (
            rp_request(&[("request", "eyJ.x.y")]),
            "request_not_supported",
        ),
        (rp_request(&[("claims", "{")]), "invalid_request"),
    ];
    for (params, error) in cases {
        let get = refused_at_the_relying_party(&env, &authorize(&env, &params).await);
        let post = post_authorize(&env, "", Some(FORM), encode(&params).as_bytes()).await;
        let post = refused_at_the_relying_party(&env, &post);
        assert_eq!(post["error"], error, "{params:?}");
        assert_eq!(post["state"], "rp-state-1", "{params:?}");
        assert_eq!(get, post, "{params:?}");
    }
    // A parameter repeated inside the body.
    let repeated = format!("{body}&scope=openid");
    let response = post_authorize(&env, "", Some(FORM), repeated.as_bytes()).await;
    let answer = refused_at_the_relying_party(&env, &response);
    assert_eq!(answer["error"], "invalid_request");
    assert!(answer["error_description"].contains("`scope`"));
}

#[tokio::test]
async fn a_parameter_in_both_the_query_and_the_body_is_refused() {
    let env = provider().await;
    let body = encode(&rp_request(&[]));
    // The client or the redirect URI twice: the page, never a redirect, even when both
    // copies agree.
    for query in [
        "client_id=rp".to_owned(),
        encode(&[("redirect_uri", RP_REDIRECT)]),
    ] {
        let response = post_authorize(&env, &query, Some(FORM), body.as_bytes()).await;
        let page = refused_on_the_page(&response);
        assert!(page.contains("more than once"), "{query}: {page}");
    }
    // Any other: the relying party is told which.
    for (name, value) in [
        ("state", "rp-state-1"),
        ("scope", "openid"),
        ("nonce", "other"),
        ("response_type", "code"),
    ] {
        let query = encode(&[(name, value)]);
        let response = post_authorize(&env, &query, Some(FORM), body.as_bytes()).await;
        let answer = refused_at_the_relying_party(&env, &response);
        assert_eq!(answer["error"], "invalid_request", "{name}");
        assert!(
            answer["error_description"].contains(&format!("`{name}`")),
            "{answer:?}"
        );
        assert!(
            !answer.contains_key("state"),
            "{name}: a doubtful state is not echoed"
        );
    }
}

#[tokio::test]
async fn an_essential_name_asks_wechat_for_the_profile_and_each_claim_goes_where_asked() {
    let env = provider_with(|s| s.simulator.bound_to_open_platform = true).await;
    env.sim.put_user(wechat_simulator::SimUser {
        nickname: "小明".into(),
        headimgurl: "https://thirdwx.qlogo.cn/mmopen/dave/132".into(),
        ..wechat_simulator::SimUser::named("dave")
    });
    let discovery = env
        .oidc_request("GET", "/.well-known/openid-configuration", "", &[], None)
        .await;
    assert_eq!(json_body(&discovery)["claims_parameter_supported"], true);
    let claims =
        r#"{"id_token":{"name":{"essential":true},"email":null},"userinfo":{"picture":null}}"#;
    let params = rp_request(&[("scope", "openid"), ("claims", claims)]);
    let response = authorize(&env, &params).await;
    let to_wechat = location(&response).unwrap();
    assert!(to_wechat.contains("scope=snsapi_userinfo"), "{to_wechat}");
    let code = code_after(&env, &response, "dave").await;
    let (tokens, id_token) = redeem_and_verify(&env, &code).await;
    // The scopes granted are still `openid`: the claims came by `claims`.
    assert_eq!(tokens["scope"], "openid");
    assert_eq!(id_token["name"], "小明");
    assert!(
        id_token.get("picture").is_none() && id_token.get("unionid").is_none(),
        "{id_token}"
    );
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let info = json_body(&userinfo(&env, &bearer).await);
    assert_eq!(info["picture"], "https://thirdwx.qlogo.cn/mmopen/dave/132");
    assert_eq!(
        keys(&info),
        BTreeSet::from(["sub", "openid", "picture"]),
        "{info}"
    );

    // The unionid by `claims`, for userinfo only.
    let params = rp_request(&[
        ("scope", "openid"),
        ("claims", r#"{"userinfo":{"unionid":{"essential":true}}}"#),
    ]);
    let response = authorize(&env, &params).await;
    let code = code_after(&env, &response, "dave").await;
    let (tokens, id_token) = redeem_and_verify(&env, &code).await;
    assert!(id_token.get("unionid").is_none(), "{id_token}");
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let info = json_body(&userinfo(&env, &bearer).await);
    assert_eq!(info["unionid"], env.sim.unionid_for("dave").as_str());
    assert_eq!(
        keys(&info),
        BTreeSet::from(["sub", "openid", "unionid"]),
        "{info}"
    );

    // Claims nobody can give, or none at all: a silent snsapi_base login.
    for claims in [
        r#"{"id_token":{"email":{"essential":true}}}"#,
        "{}",
        r#"{"userinfo":null}"#,
    ] {
        let response = authorize(
            &env,
            &rp_request(&[("scope", "openid"), ("claims", claims)]),
        )
        .await;
        assert!(
            location(&response).unwrap().contains("scope=snsapi_base"),
            "{claims}"
        );
    }
}

#[tokio::test]
async fn a_malformed_claims_parameter_is_refused_at_the_redirect_uri() {
    let env = provider().await;
    let too_long = format!(r#"{{"x":"{}"}}"#, "a".repeat(MAX_CLAIMS_PARAMETER_BYTES));
    for claims in [
        "{",
        "",
        "[]",
        "null",
        r#"{"id_token":["name"]}"#,
        r#"{"id_token":{"name":true}}"#,
        r#"{"userinfo":{"name":{"essential":"yes"}}}"#,
        r#"{"userinfo":{"name":{"values":"a"}}}"#,
        too_long.as_str(),
    ] {
        let params = rp_request(&[("scope", "openid"), ("claims", claims)]);
        // `rp_request` leaves out an empty value: send that one as it is.
        let query = if claims.is_empty() {
            format!("{}&claims=", encode(&params))
        } else {
            encode(&params)
        };
        let response = env
            .invoke_on(&env.gateway, "/oauth2/authorize", &query, None)
            .await;
        let answer = refused_at_the_relying_party(&env, &response);
        assert_eq!(answer["error"], "invalid_request", "{claims}");
        assert_eq!(answer["state"], "rp-state-1", "{claims}");
        assert!(answer["error_description"].contains("claims"), "{answer:?}");
    }
}

#[tokio::test]
async fn scope_openid_alone_gives_an_id_token_without_claims_about_the_person() {
    let env = provider_with(|s| s.simulator.bound_to_open_platform = true).await;
    env.sim.put_user(wechat_simulator::SimUser {
        nickname: "Erin".into(),
        headimgurl: "https://thirdwx.qlogo.cn/mmopen/erin/132".into(),
        ..wechat_simulator::SimUser::named("erin")
    });
    let params = rp_request(&[("scope", "openid")]);
    let answer = authorization_response(&env, "erin", &params, true).await;
    let (tokens, claims) = redeem_and_verify(&env, &answer["code"]).await;
    assert_eq!(
        keys(&claims),
        BTreeSet::from([
            "iss",
            "sub",
            "aud",
            "iat",
            "exp",
            "auth_time",
            "nonce",
            "at_hash",
            "openid"
        ]),
        "{claims}"
    );
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let info = json_body(&userinfo(&env, &bearer).await);
    assert_eq!(keys(&info), BTreeSet::from(["sub", "openid"]), "{info}");
}
